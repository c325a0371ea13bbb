"""Profile nanojax's ``grad`` on the cases of ``bench_grad.py`` (cProfile).

    .venv/bin/python benchmarks/profile_grad.py            # all cases, top 25 by tottime
    .venv/bin/python benchmarks/profile_grad.py mlp --top 40
    .venv/bin/python benchmarks/profile_grad.py --tape     # also each gate's backward time

Cases: ``mlp`` (grad of the MLP loss), ``svm-max`` and ``svm-if`` (400 SGD
steps of the guide's SVM with ``jnp.maximum`` / a Python ``if``).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path


def _bench_module():
    """``bench_grad`` beside this file (imported on first use, not on import)."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import bench_grad
    return bench_grad


def case_functions() -> dict[str, tuple[Callable[[], object], int]]:
    """Name -> (a function running the case once, how many times to run it)."""
    B = _bench_module()
    import nanojax as nj
    import nanojax.numpy as jnp

    X, y = B.make_spiral()
    params = B.init_mlp()
    mlp_grad = nj.grad(B.make_mlp_loss(jnp, nj.nn.relu))
    picks = B.svm_picks()
    svm_max = nj.grad(B.make_svm_loss_max(jnp.maximum), argnums=(0, 1, 2))
    svm_if = nj.grad(B.svm_loss_if, argnums=(0, 1, 2))
    return {"mlp": (lambda: mlp_grad(params, X, y), 300),
            "svm-max": (lambda: B.svm_with_grad(svm_max, picks), 20),
            "svm-if": (lambda: B.svm_with_grad(svm_if, picks), 20)}


def profile(name: str, fn: Callable[[], object], times: int, top: int) -> None:
    fn()                                    # warm caches (lru_cache of dtypes etc.)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(times):
        fn()
    prof.disable()
    print(f"===== {name}: {times} runs, top {top} by tottime =====")
    stats = pstats.Stats(prof)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)


def tape_breakdown(top: int) -> None:
    """Per-gate forward and backward seconds for the MLP, by monkeypatching impls."""
    import nanojax as nj
    import nanojax.numpy as jnp
    from nanojax import primitives as P

    B = _bench_module()
    X, y = B.make_spiral()
    params = B.init_mlp()
    g = nj.grad(B.make_mlp_loss(jnp, nj.nn.relu))
    spent: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    saved = {}
    for prim in P.ALL_PRIMITIVES.values():
        saved[prim] = prim.impl

        def timed(*args, _impl=prim.impl, _name=prim.name, **params):
            t0 = time.perf_counter()
            out = _impl(*args, **params)
            spent[_name] += time.perf_counter() - t0
            calls[_name] += 1
            return out
        prim.impl = timed
    try:
        runs = 200
        for _ in range(runs):
            g(params, X, y)
    finally:
        for prim, impl in saved.items():
            prim.impl = impl
    total = sum(spent.values())
    print(f"===== MLP: NumPy time inside each primitive's impl, per grad call "
          f"(forward + backward), {total / runs * 1e6:.0f} us in all =====")
    for name, s in sorted(spent.items(), key=lambda kv: -kv[1])[:top]:
        print(f"{name:>20}: {s / runs * 1e6:8.1f} us  {calls[name] / runs:5.1f} calls")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("cases", nargs="*", default=["mlp", "svm-max", "svm-if"])
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--tape", action="store_true", help="time each primitive's impl (MLP)")
    p.add_argument("--raise-malloc-thresholds", action="store_true",
                   help="raise glibc's mmap and trim thresholds (see bench_grad.pin_malloc)")
    args = p.parse_args(argv)
    if args.raise_malloc_thresholds:
        _bench_module().pin_malloc()
    cases = case_functions()
    for name in args.cases:
        fn, times = cases[name]
        profile(name, fn, times, args.top)
    if args.tape:
        tape_breakdown(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
