"""Speed of nanojax.random's threefry engine, against the old Philox engine and JAX.

Cases: 1e3, 1e5 and 1e6 normals and uniforms from one key, and splitting a key
into 1000 keys. Implementations:

- ``threefry``: nanojax.random now (eager calls, float64);
- ``philox (old)``: what nanojax.random did before, NumPy's Philox generator keyed
  by the key (``Generator(Philox(key=...)).standard_normal``), timed without
  nanojax's dispatch, so it is a lower bound of the old cost;
- ``jax``: ``jax.jit`` of the same call with ``jax_enable_x64`` (only when JAX is
  installed; first call excluded, result blocked on).

Each implementation runs in a process of its own, started by ``harness.py``'s
environment: glibc's default malloc (no ``MALLOC_*``, ``GLIBC_TUNABLES`` or
``LD_PRELOAD``) and 1 BLAS thread. Each time is the median of 7 runs of a loop
lasting about 0.1 s; the ratio is to ``threefry`` (below 1: faster than threefry).
Run:  python benchmarks/bench_random.py [--quick]
"""

from __future__ import annotations

import os
import sys

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "src"))
import nanojax.random as nr  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


def _time(fn: Callable[[], object], run_seconds: float, repeat: int) -> float:
    fn()
    fn()
    times = []
    for _ in range(repeat):
        n, start = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            elapsed = time.perf_counter() - start
            if elapsed >= run_seconds:
                break
        times.append(elapsed / n)
    return statistics.median(times)


def _philox(key: np.ndarray) -> np.random.Generator:
    seed64 = (int(key[0]) << 32) | int(key[1])
    return np.random.Generator(np.random.Philox(key=seed64 << 64))


def cases(quick: bool) -> list[tuple[str, dict[str, Callable[[], object]]]]:
    key = nr.PRNGKey(0)
    sizes = (1000, 100_000) if quick else (1000, 100_000, 1_000_000)
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.random as jr
        jkey = jr.PRNGKey(0)
    except ImportError:
        jax = None
    out = []
    for n in sizes:
        for dist in ("normal", "uniform"):
            impls: dict[str, Callable[[], object]] = {
                "threefry": (lambda n=n, d=dist: getattr(nr, d)(key, (n,))),
                "philox (old)": (lambda n=n, d=dist: (
                    _philox(key).standard_normal(n) if d == "normal" else
                    _philox(key).random(n))),
            }
            if jax is not None:
                f = jax.jit(lambda k, n=n, d=dist: getattr(jr, d)(k, (n,)))
                impls["jax"] = (lambda f=f: f(jkey).block_until_ready())
            out.append((f"{dist} {n:.0e}", impls))
    split = {"threefry": (lambda: nr.split(key, 1000)),
             "philox (old)": (lambda: _philox(key).integers(0, 2 ** 32, size=(1000, 2),
                                                             dtype=np.uint32))}
    if jax is not None:
        g = jax.jit(lambda k: jr.split(k, 1000))
        split["jax"] = (lambda: g(jkey).block_until_ready())
    out.append(("split 1000", split))
    return out


def worker(label: str, quick: bool) -> int:
    """Time one implementation's cases here; print them as JSON (case -> seconds)."""
    run_seconds, repeat = (0.02, 3) if quick else (0.1, 7)
    times = {name: _time(impls[label], run_seconds, repeat)
             for name, impls in cases(quick) if label in impls}
    print(json.dumps(times))
    return 0


def main() -> int:
    quick = "--quick" in sys.argv
    if "--worker" in sys.argv:
        return worker(sys.argv[sys.argv.index("--worker") + 1], quick)
    labels = list(dict.fromkeys(label for _, impls in cases(quick) for label in impls))
    env = harness.child_env(1)
    times = {}
    for label in labels:                     # each implementation in a process of its own
        cmd = [sys.executable, __file__, "--worker", label] + (["--quick"] if quick else [])
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
        times[label] = json.loads(done.stdout.strip().splitlines()[-1])
    print("BLAS threads: 1 (OPENBLAS/OMP/MKL_NUM_THREADS), glibc's default malloc, one "
          "process per implementation; times are medians; ratio = time / threefry's")
    print(f"{'case':16s} {'implementation':14s} {'time':>12s} {'ratio':>8s}")
    for name, _ in cases(quick):
        base = times["threefry"][name]
        for label in labels:
            if name in times[label]:
                t = times[label][name]
                print(f"{name:16s} {label:14s} {t * 1e6:10.1f}us {t / base:7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
