"""How close is lax.conv_general_dilated to a hand-written NumPy im2col convolution?

Run from the repository root::

    .venv/bin/python benchmarks/bench_conv.py            # about a minute
    .venv/bin/python benchmarks/bench_conv.py --quick    # a smoke run (tests use it)

As ``bench_steps.py`` does, the driver spawns ``bench_conv.py --worker CASE
IMPL`` once for every (case, implementation), with glibc's default malloc
(no ``MALLOC_*``, ``GLIBC_TUNABLES`` or ``LD_PRELOAD`` in the child's
environment) and ``--blas-threads`` BLAS threads (default 1:
``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS``). The
worker builds seeded data, checks the implementation against the hand
version (``np.allclose``), calls it 3 times to warm up, and reports the
median and minimum of 7 runs, each looping the call for about 0.1 s. Every
worker runs ``--rounds`` times (default 3), one after another, and the table
shows the median over rounds.

Cases, each a 3x3 convolution with SAME padding, stride 1, NHWC/HWIO layout,
float64, at two sizes (``small``: 8 images of 16x16, 8 to 16 channels;
``medium``: 32 images of 32x32, 16 to 32 channels):

1. ``fwd``: the convolution. The hand version pads the input, copies the
   nine shifted views into a patch matrix (im2col) and does one matmul:
   the limit for NumPy. nanojax eager and ``jit``; JAX ``jit``.
2. ``grad``: the value and both gradients of ``sum(conv(x, w) * ct)``. The
   hand version is the forward above, then ``dw = cols.T @ ct`` and
   ``dcols = ct @ w.T`` folded back onto the padded input (col2im, nine
   slice additions). nanojax: eager ``value_and_grad``, and under ``jit``.

The goal: nanojax within 2x of the hand version (ratio <= 2.0); a missed
goal is reported, not an error. A failed check exits with status 1.
Nothing runs on import.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]

SIZES = {"small": (8, 16, 16, 8, 16), "medium": (32, 32, 32, 16, 32)}   # N, H, W, C, O
CASES = tuple(f"{kind}_{size}" for size in SIZES for kind in ("fwd", "grad"))
IMPLS = ("hand", "nanojax_eager", "nanojax_jit", "jax_jit")
LABELS = {"hand": "hand NumPy im2col", "nanojax_eager": "nanojax eager",
          "nanojax_jit": "nanojax jit", "jax_jit": "jax jit"}
LAYOUT = ("NHWC", "HWIO", "NHWC")
GOAL = 2.0
REPEAT, RUN_SECONDS, WARMUP_CALLS = 7, 0.1, 3
BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


class CheckFailed(Exception):
    pass


# ----- The hand-written limit ------------------------------------------------------

def hand_patches(x: np.ndarray, k: int) -> np.ndarray:
    """im2col for a k x k SAME window: (N, H, W, k, k, C), from nine shifted slices."""
    n, h, w, c = x.shape
    lo = (k - 1) // 2
    padded = np.zeros((n, h + k - 1, w + k - 1, c))
    padded[:, lo:lo + h, lo:lo + w] = x
    cols = np.empty((n, h, w, k, k, c))
    for i in range(k):
        for j in range(k):
            cols[:, :, :, i, j, :] = padded[:, i:i + h, j:j + w, :]
    return cols


def hand_fwd(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    n, h, wd, c = x.shape
    k, o = w.shape[0], w.shape[-1]
    cols = hand_patches(x, k)
    return (cols.reshape(n * h * wd, k * k * c) @ w.reshape(k * k * c, o)).reshape(n, h, wd, o)


def hand_grad(x: np.ndarray, w: np.ndarray, ct: np.ndarray) -> tuple:
    n, h, wd, c = x.shape
    k, o = w.shape[0], w.shape[-1]
    lo = (k - 1) // 2
    cols = hand_patches(x, k).reshape(n * h * wd, k * k * c)
    out = cols @ w.reshape(k * k * c, o)
    ct2 = ct.reshape(n * h * wd, o)
    value = float(np.sum(out * ct2))
    dw = (cols.T @ ct2).reshape(w.shape)
    dcols = (ct2 @ w.reshape(k * k * c, o).T).reshape(n, h, wd, k, k, c)
    dpadded = np.zeros((n, h + k - 1, wd + k - 1, c))
    for i in range(k):
        for j in range(k):
            dpadded[:, i:i + h, j:j + wd, :] += dcols[:, :, :, i, j, :]
    return value, (dpadded[:, lo:lo + h, lo:lo + wd], dw)


# ----- The implementations -----------------------------------------------------------

def data(size: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, h, w, c, o = SIZES[size]
    rng = np.random.default_rng(0)
    return (rng.standard_normal((n, h, w, c)), rng.standard_normal((3, 3, c, o)) / 12,
            rng.standard_normal((n, h, w, o)))


def make(lib: Any, lax: Any, jnp: Any, kind: str, jit: bool) -> Callable:
    def conv(x: Any, w: Any) -> Any:
        return lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=LAYOUT)
    if kind == "fwd":
        fn: Callable = conv
    else:
        def loss(x: Any, w: Any, ct: Any) -> Any:
            return jnp.sum(conv(x, w) * ct)
        fn = lib.value_and_grad(loss, argnums=(0, 1))
    return lib.jit(fn) if jit else fn


def implementation(impl: str, case: str) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """(one timed call, the hand version's result to check it against)."""
    kind, size = case.split("_")
    x, w, ct = data(size)
    args = (x, w) if kind == "fwd" else (x, w, ct)
    hand: Callable = hand_fwd if kind == "fwd" else hand_grad
    if impl == "hand":
        return (lambda: hand(*args)), (lambda: hand(*args))
    if impl.startswith("nanojax"):
        import nanojax
        import nanojax.numpy
        fn = make(nanojax, nanojax.lax, nanojax.numpy, kind, impl == "nanojax_jit")
        return (lambda: fn(*args)), (lambda: hand(*args))
    import jax
    jax.config.update("jax_enable_x64", True)
    fn = make(jax, jax.lax, jax.numpy, kind, True)
    on_device = tuple(jax.numpy.asarray(a) for a in args)
    return (lambda: jax.block_until_ready(fn(*on_device))), (lambda: hand(*args))


def leaves(tree: Any) -> list:
    if isinstance(tree, (tuple, list)):
        return [leaf for t in tree for leaf in leaves(t)]
    return [np.asarray(tree)]


def blas_threads() -> str:
    try:
        import threadpoolctl
    except ImportError:
        return f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')} (OPENBLAS_NUM_THREADS)"
    counts = [p["num_threads"] for p in threadpoolctl.threadpool_info()
              if p.get("user_api") == "blas"]
    return f"{max(counts) if counts else 'unknown'} (threadpoolctl)"


def worker(case: str, impl: str, quick: bool) -> int:
    try:
        run, reference = implementation(impl, case)
        got, want = leaves(run()), leaves(reference())
        if len(got) != len(want) or not all(
                g.shape == e.shape and np.allclose(g, e, rtol=1e-9, atol=1e-9)
                for g, e in zip(got, want)):
            raise CheckFailed(f"{case}: {LABELS[impl]} differs from the hand version")
        for _ in range(0 if quick else WARMUP_CALLS):
            run()
        number = 1
        if not quick:
            start = time.perf_counter()
            run()
            number = max(1, round(RUN_SECONDS / max(time.perf_counter() - start, 1e-9)))
        runs = []
        for _ in range(1 if quick else REPEAT):
            start = time.perf_counter()
            for _ in range(number):
                run()
            runs.append((time.perf_counter() - start) / number * 1e6)
        result = {"median_us": statistics.median(runs), "min_us": min(runs),
                  "blas": blas_threads()}
    except CheckFailed as err:
        result = {"failed": str(err)}
    except Exception as err:  # noqa: BLE001 - reported by the driver
        result = {"crashed": f"{type(err).__name__}: {err}"}
    print(json.dumps(result))
    return 0


# ----- The driver ---------------------------------------------------------------------

def child_env(blas: int) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("MALLOC_") or k in ("GLIBC_TUNABLES", "LD_PRELOAD"))}
    for name in BLAS_THREAD_VARS:
        env[name] = str(blas)
    src = str(ROOT / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def spawn(case: str, impl: str, quick: bool, env: dict) -> dict:
    cmd = [sys.executable, str(SCRIPT), "--worker", case, impl] + (["--quick"] if quick else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"crashed": (proc.stderr.strip().splitlines() or ["no output"])[-1]}


def fmt_us(us: float) -> str:
    return f"{us:.0f}" if us >= 100 else f"{us:.1f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small size, one run of one call")
    p.add_argument("--rounds", type=int, default=3, help="processes per worker (median)")
    p.add_argument("--blas-threads", type=int, default=1, metavar="N")
    p.add_argument("--worker", nargs=2, metavar=("CASE", "IMPL"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker(*args.worker, args.quick)

    cases = [c for c in CASES if not args.quick or c.endswith("small")]
    impls = [i for i in IMPLS if i != "jax_jit" or available("jax")]
    rounds = 1 if args.quick else args.rounds
    env = child_env(args.blas_threads)
    results: dict[tuple[str, str], list[dict]] = {}
    for _ in range(rounds):                       # rounds interleave the processes
        for case in cases:
            for impl in impls:
                results.setdefault((case, impl), []).append(spawn(case, impl, args.quick, env))

    failures, notes, rows = [], [], []
    blas = sorted({r["blas"] for rs in results.values() for r in rs if "blas" in r})
    for case in cases:
        medians = {}
        for impl in impls:
            rs = results[(case, impl)]
            bad = next((r for r in rs if "failed" in r or "crashed" in r), None)
            if bad is not None:
                text = bad.get("failed") or bad["crashed"]
                (notes if impl == "jax_jit" and "crashed" in bad else failures).append(
                    f"{case} {LABELS[impl]}: {text}")
                continue
            medians[impl] = (statistics.median(r["median_us"] for r in rs),
                             statistics.median(r["min_us"] for r in rs))
        hand = medians.get("hand", (float("nan"),))[0]
        for impl, (median, low) in medians.items():
            ratio = median / hand
            goal = "" if impl in ("hand", "jax_jit") else (
                f"<= {GOAL:.1f}x " + ("ok" if ratio <= GOAL else "MISSED"))
            rows.append((case, LABELS[impl], fmt_us(median), fmt_us(low), f"{ratio:.2f}x", goal))

    mode = ("quick smoke run, 1 run of 1 call: timings are not meaningful" if args.quick else
            f"median of {REPEAT} runs per process, median over {rounds} processes")
    print(f"nanojax conv benchmark: python {platform.python_version()}, numpy {np.__version__}, "
          f"BLAS threads: {', '.join(blas) or 'unknown'}, glibc default malloc, {mode}, "
          "each implementation in its own process\n")
    for case in cases:
        print(f"check: {case}: every implementation matches the hand version (np.allclose)"
              if not any(f.startswith(case + " ") for f in failures) else f"check: {case}: FAILED")
    print()
    titles = ("case", "implementation", "median us", "min us", "ratio", "goal")
    widths = [max(len(r[i]) for r in rows + [titles]) for i in range(len(titles))]
    for n, row in enumerate([titles] + rows):
        print("  ".join(c.ljust(wd) for c, wd in zip(row, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * wd for wd in widths))
    print()
    if not available("jax"):
        print("note: jax is not installed: its rows are skipped (pip install jax)")
    print("note: ratio: median / the hand im2col version's median, same case; "
          "fwd: 3x3 SAME conv, NHWC/HWIO, float64; grad: value and both gradients")
    for sizes_name, (n, h, w, c, o) in SIZES.items():
        print(f"note: {sizes_name}: {n} images of {h}x{w}, {c} to {o} channels")
    for note in notes:
        print(f"note: {note}")
    for failure in failures:
        print(f"FAILED {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
