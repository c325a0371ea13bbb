"""How fast is nanojax's ``grad`` next to the same gradient written by hand?

Run from the repository root::

    .venv/bin/python benchmarks/bench_grad.py           # about 10-30 s
    .venv/bin/python benchmarks/bench_grad.py --quick   # a smoke run (tests use it)

Cases, each checked for the same numbers before it is timed:

(a) ``grad`` of a 2-layer MLP loss (CS231n's spiral, 300x2 batch, hidden 100,
    3 classes, ReLU, softmax cross-entropy plus L2) written with ``jnp``,
    against CS231n's hand-written NumPy backprop. Goal: at most 1.5x.
(b) The guide's scalar SVM: 400 SGD steps, one ``grad`` per step on Python
    floats, against the guide's hand-derived update. Goal: at most 100x.
(c) ``import nanojax`` on top of ``import numpy``. Goal: at most 50 ms.
(d) JAX (jit and eager) and autograd on (a) and (b), when they are installed.

Times are the best of several repeats (``timeit``), all in one process, with
glibc's default malloc unless ``--raise-malloc-thresholds``. The figures a
user sees (each implementation in a fresh process, medians) are
``bench_steps.py``'s. The script exits with a
non-zero status if a correctness check fails; a missed speed goal is only
reported. Nothing runs on import.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import math
import os
import platform
import random
import subprocess
import sys
import timeit
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

REG = 1e-3                       # L2 strength of the MLP loss
SVM_DATA = [[1.2, 0.7], [-0.3, -0.5], [3.0, 0.1], [-0.1, -1.0], [-1.0, 1.1], [2.1, -3.0]]
SVM_LABELS = [1, -1, 1, -1, -1, 1]
SVM_START = (1.0, -2.0, -1.0)    # a, b, c
SVM_STEPS = 400
SVM_STEP_SIZE = 0.01

MLP_GOAL = 1.5                   # x hand NumPy
SVM_GOAL = 100.0                 # x hand Python
IMPORT_GOAL_MS = 50.0            # ms beyond numpy

ROOT = Path(__file__).resolve().parents[1]


class CheckFailed(Exception):
    """A correctness check failed: the timings would be meaningless."""


# ----- Formatting ----------------------------------------------------------------

def sig2(x: float) -> str:
    """``x`` to 2 significant digits, without exponent notation."""
    if x == 0 or not math.isfinite(x):
        return str(x)
    rounded = float(f"{x:.2g}")
    decimals = max(0, 1 - math.floor(math.log10(abs(rounded))))
    return f"{rounded:.{decimals}f}"


def fmt_time(seconds: float) -> str:
    """A duration with a unit and 3 significant digits (``27.0 us``, ``840 us``)."""
    seconds = float(f"{seconds:.3g}")
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if seconds >= scale or unit == "ns":
            value = float(f"{seconds / scale:.3g}")
            decimals = max(0, 2 - math.floor(math.log10(value))) if value > 0 else 0
            return f"{value:.{decimals}f} {unit}"
    raise AssertionError("unreachable")


# ----- Timing ----------------------------------------------------------------------

def pin_malloc() -> bool:
    """Keep glibc from handing large NumPy temporaries back to the kernel.

    By default glibc serves a 240 KB temporary (a 300x100 float64 array) from
    fresh mmap'd or re-grown heap pages, and pays a page fault per 4 KB page
    on first touch; whether it does depends on the allocation history of the
    process, which made the same code time at 140 us or 215 us from one run
    to the next. Raising the mmap and trim thresholds keeps freed memory in
    the heap, so the numbers measure the code. Returns False where there is
    no glibc (the default allocator is then measured as it is).
    """
    import ctypes
    import ctypes.util

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, 32 * 1024 * 1024)
                and mallopt(m_trim_threshold, 256 * 1024 * 1024))


def best_time(fn: Callable[[], Any], repeat: int, target: float, *,
              per: int = 1, number: int | None = None) -> float:
    """Best seconds per call of ``fn`` over ``repeat`` runs, divided by ``per``.

    Each run calls ``fn`` ``number`` times (by default as many as fit in
    ``target`` seconds, judged from one calibration call).
    """
    timer = timeit.Timer(fn)
    if number is None:
        first = timer.timeit(1)
        number = max(1, int(target / max(first, 1e-9)))
    runs = timer.repeat(repeat=repeat, number=number)
    return min(runs) / number / per


# ----- (a) The MLP on CS231n's spiral ------------------------------------------------

def make_spiral(points_per_class: int = 100, classes: int = 3, seed: int = 0):
    """CS231n's spiral data set: ``X`` (N*K, 2) floats and ``y`` (N*K,) ints."""
    rng = np.random.default_rng(seed)
    n = points_per_class
    X = np.zeros((n * classes, 2))
    y = np.zeros(n * classes, dtype=np.int64)
    for j in range(classes):
        rows = slice(n * j, n * (j + 1))
        r = np.linspace(0.0, 1.0, n)
        t = np.linspace(j * 4, (j + 1) * 4, n) + rng.standard_normal(n) * 0.2
        X[rows] = np.c_[r * np.sin(t), r * np.cos(t)]
        y[rows] = j
    return X, y


def init_mlp(hidden: int = 100, classes: int = 3, seed: int = 1) -> dict:
    """CS231n's initialisation: small random weights, zero biases."""
    rng = np.random.default_rng(seed)
    return {"W1": 0.01 * rng.standard_normal((2, hidden)), "b1": np.zeros(hidden),
            "W2": 0.01 * rng.standard_normal((hidden, classes)), "b2": np.zeros(classes)}


def mlp_grad_hand(params: dict, X: np.ndarray, y: np.ndarray) -> dict:
    """CS231n's backprop for the 2-layer net, gradient only."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    n = X.shape[0]
    hidden = np.maximum(0, X @ W1 + b1)
    scores = hidden @ W2 + b2
    exp_scores = np.exp(scores)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    dscores = probs
    dscores[np.arange(n), y] -= 1
    dscores /= n
    dW2 = hidden.T @ dscores + REG * W2
    db2 = np.sum(dscores, axis=0)
    dhidden = dscores @ W2.T
    dhidden[hidden <= 0] = 0
    dW1 = X.T @ dhidden + REG * W1
    db1 = np.sum(dhidden, axis=0)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def make_mlp_loss(xp: Any, relu: Callable) -> Callable:
    """The MLP loss written against a NumPy-like module ``xp``.

    Cross-entropy as ``logsumexp(scores) - scores[correct]``, which is
    ``-log(softmax(scores)[correct])`` without forming the probabilities.
    """
    def mlp_loss(params, X, y):
        W1, W2 = params["W1"], params["W2"]
        hidden = relu(X @ W1 + params["b1"])
        scores = hidden @ W2 + params["b2"]
        lse = xp.log(xp.sum(xp.exp(scores), axis=1))
        data_loss = xp.mean(lse - scores[xp.arange(X.shape[0]), y])
        reg_loss = 0.5 * REG * (xp.sum(W1 * W1) + xp.sum(W2 * W2))
        return data_loss + reg_loss
    return mlp_loss


def check_mlp(name: str, grads: dict, expected: dict) -> None:
    for key in expected:
        got = np.asarray(grads[key])
        if got.shape != expected[key].shape or not np.allclose(got, expected[key]):
            raise CheckFailed(f"{name}: gradient of {key} differs from the hand backprop")


# ----- (b) The guide's scalar SVM ------------------------------------------------------

def svm_picks(steps: int = SVM_STEPS, seed: int = 0) -> list[int]:
    """The data point of each step, from a seeded ``random.Random``, shared by all."""
    rng = random.Random(seed)
    return [rng.randrange(len(SVM_DATA)) for _ in range(steps)]


def svm_hand(picks: Iterable[int]) -> tuple[float, float, float]:
    """The guide's hand-derived update: pull +1/-1 when the margin is violated."""
    a, b, c = SVM_START
    data, labels = SVM_DATA, SVM_LABELS
    for i in picks:
        x, y = data[i]
        label = labels[i]
        score = a * x + b * y + c
        pull = 0.0
        if label == 1 and score < 1:
            pull = 1.0
        if label == -1 and score > -1:
            pull = -1.0
        a += SVM_STEP_SIZE * (x * pull - a)
        b += SVM_STEP_SIZE * (y * pull - b)
        c += SVM_STEP_SIZE * pull
    return a, b, c


def make_svm_loss_max(maximum: Callable) -> Callable:
    """Hinge loss plus L2, with ``maximum`` from jnp / jax.numpy / autograd.numpy."""
    def svm_loss(a, b, c, x, y, label):
        return maximum(0.0, 1 - label * (a * x + b * y + c)) + 0.5 * (a * a + b * b)
    return svm_loss


def svm_loss_if(a, b, c, x, y, label):
    """The same loss with a Python ``if`` on the margin instead of ``maximum``."""
    margin = 1 - label * (a * x + b * y + c)
    hinge = margin if margin > 0 else 0.0
    return hinge + 0.5 * (a * a + b * b)


def svm_with_grad(grad_fn: Callable, picks: Iterable[int]) -> tuple:
    """SGD with ``grad_fn(a, b, c, x, y, label) -> (da, db, dc)``."""
    a, b, c = SVM_START
    data, labels = SVM_DATA, SVM_LABELS
    for i in picks:
        x, y = data[i]
        da, db, dc = grad_fn(a, b, c, x, y, labels[i])
        a = a - SVM_STEP_SIZE * da
        b = b - SVM_STEP_SIZE * db
        c = c - SVM_STEP_SIZE * dc
    return a, b, c


def picking(seed: int = 0) -> Iterator[int]:
    """The guide's loop picks its point at every step: the picks as a generator."""
    rng = random.Random(seed)
    return (rng.randrange(len(SVM_DATA)) for _ in range(SVM_STEPS))


def time_svm(rep: Report, case: str, name: str, grad_fn: Callable,
             picks: Callable[[], Iterable[int]], hand: float, repeat: int, target: float,
             number: int | None, goal: float | None = SVM_GOAL, report: bool = True) -> None:
    """Check that SGD with ``grad_fn`` ends where the hand update does; time a step.

    A failed check always raises; ``report=False`` leaves out its "ok" line
    (for a second timing of a gradient already checked).
    """
    check_svm(name, svm_with_grad(grad_fn, picks()), svm_hand(picks()))
    if report:
        rep.check(f"SVM: {name} ends at the hand update's (a, b, c) to 1e-9")
    t = best_time(lambda: svm_with_grad(grad_fn, picks()), repeat, target, per=SVM_STEPS,
                  number=number)
    rep.timing(case, name, t, hand, goal)


def check_svm(name: str, got: tuple, expected: tuple) -> None:
    diff = max(abs(float(g) - e) for g, e in zip(got, expected))
    if not diff <= 1e-9:
        raise CheckFailed(f"{name}: final (a, b, c) = {tuple(float(g) for g in got)} "
                          f"differs from the hand update's {expected} by {diff:.3g}")


# ----- (c) Import time -----------------------------------------------------------------

_IMPORT_PROBE = (
    "import time\n"
    "t0 = time.perf_counter()\n"
    "import numpy\n"
    "t1 = time.perf_counter()\n"
    "import nanojax, nanojax.numpy\n"
    "t2 = time.perf_counter()\n"
    "print(t1 - t0, t2 - t1)\n")


def import_times(repeats: int, cached: bool = True) -> tuple[float, float]:
    """Best (numpy, nanojax-after-numpy) import seconds over fresh interpreters.

    With ``cached``, bytecode is written to (and read from) a temporary
    ``PYTHONPYCACHEPREFIX`` after a warm-up import, as on a normal install,
    even where ``PYTHONDONTWRITEBYTECODE`` is set; without it, nanojax is
    compiled from source on every import (numpy's bytecode is installed).
    """
    import tempfile

    env = dict(os.environ)
    src = str(ROOT / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    with tempfile.TemporaryDirectory(prefix="nanojax-pycache-") as cache:
        if cached:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = cache
        else:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        cmd = [sys.executable, "-c", _IMPORT_PROBE]
        if cached:
            subprocess.run(cmd, env=env, check=True, capture_output=True)   # warm-up
        best_np = best_nj = math.inf
        for _ in range(repeats):
            out = subprocess.run(cmd, env=env, check=True, capture_output=True,
                                 text=True).stdout.split()
            best_np, best_nj = min(best_np, float(out[0])), min(best_nj, float(out[1]))
    return best_np, best_nj


# ----- The report ---------------------------------------------------------------------

class Report:
    """Rows of the table, checks and notes, printed at the end."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str, str]] = []
        self.checks: list[str] = []
        self.notes: list[str] = []

    def timing(self, case: str, impl: str, seconds: float, base: float | None = None,
               goal: float | None = None) -> None:
        ratio = status = goal_s = ""
        if base is not None:
            r = seconds / base
            ratio = sig2(r) + "x"
            if goal is not None:
                goal_s = f"<= {sig2(goal)}x"
                status = "ok" if r <= goal else "MISSED"
        self.rows.append((case, impl, fmt_time(seconds), ratio, goal_s, status))

    def row(self, *cells: str) -> None:
        self.rows.append(tuple(cells))  # type: ignore[arg-type]

    def check(self, text: str) -> None:
        self.checks.append(f"check: {text}: ok")

    def print(self, header: str) -> None:
        print(header)
        print()
        for line in self.checks:
            print(line)
        print()
        titles = ("case", "implementation", "time", "ratio", "goal", "status")
        widths = [max(len(r[i]) for r in [titles, *self.rows]) for i in range(len(titles))]
        print("  ".join(t.ljust(w) for t, w in zip(titles, widths)).rstrip())
        print("  ".join("-" * w for w in widths))
        for r in self.rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if self.notes:
            print()
            for note in self.notes:
                print(f"note: {note}")


# ----- The cases ---------------------------------------------------------------------

def bench_mlp(rep: Report, repeat: int, target: float, number: int | None) -> float:
    import nanojax as nj
    import nanojax.numpy as jnp

    X, y = make_spiral()
    params = init_mlp()
    expected = mlp_grad_hand(params, X, y)
    nj_grad = nj.grad(make_mlp_loss(jnp, nj.nn.relu))
    check_mlp("nanojax grad", nj_grad(params, X, y), expected)
    rep.check("MLP: nanojax grad equals the hand backprop (np.allclose on W1, b1, W2, b2)")

    hand = best_time(lambda: mlp_grad_hand(params, X, y), repeat, target, number=number)
    rep.timing("mlp_grad", "hand NumPy backprop (CS231n)", hand, hand)
    t = best_time(lambda: nj_grad(params, X, y), repeat, target, number=number)
    rep.timing("mlp_grad", "nanojax grad", t, hand, MLP_GOAL)
    return hand


def bench_svm(rep: Report, repeat: int, target: float, number: int | None) -> float:
    import nanojax as nj
    import nanojax.numpy as jnp

    picks = svm_picks()
    hand = best_time(lambda: svm_hand(picks), repeat, target, per=SVM_STEPS, number=number)
    rep.timing("svm_step", "hand update (the guide)", hand, hand)
    g_max = nj.grad(make_svm_loss_max(jnp.maximum), argnums=(0, 1, 2))
    for name, g in (("nanojax grad, jnp.maximum", g_max),
                    ("nanojax grad, Python if", nj.grad(svm_loss_if, argnums=(0, 1, 2)))):
        time_svm(rep, "svm_step", name, g, lambda: picks, hand, repeat, target, number)

    # The guide's loop picks a point at every step; with the pick inside the
    # loop on both sides, the ratio is the one a reader of the guide sees.
    hand_loop = best_time(lambda: svm_hand(picking()), repeat, target, per=SVM_STEPS,
                          number=number)
    rep.timing("svm_loop", "hand update, picking each step", hand_loop, hand_loop)
    time_svm(rep, "svm_loop", "nanojax grad, jnp.maximum", g_max, picking, hand_loop,
             repeat, target, number, report=False)
    return hand


def bench_import(rep: Report, repeats: int) -> None:
    numpy_s, nanojax_s = import_times(repeats, cached=True)
    _, compiling_s = import_times(repeats, cached=False)
    rep.row("import", "import numpy", fmt_time(numpy_s), "", "", "")
    ok = nanojax_s * 1e3 <= IMPORT_GOAL_MS
    rep.row("import", "import nanojax (beyond numpy)", fmt_time(nanojax_s), "",
            f"<= {IMPORT_GOAL_MS:.0f} ms", "ok" if ok else "MISSED")
    rep.row("import", "  same, compiling without .pyc", fmt_time(compiling_s), "", "", "")


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def bench_jax(rep: Report, mlp_hand: float, svm_hand_s: float, repeat: int, target: float,
              number: int | None) -> None:
    jax = importlib.import_module("jax")
    jax.config.update("jax_enable_x64", True)       # compare in float64, as NumPy does
    jjnp = importlib.import_module("jax.numpy")

    X, y = make_spiral()
    params = init_mlp()
    expected = mlp_grad_hand(params, X, y)
    loss = make_mlp_loss(jjnp, jax.nn.relu)
    jparams = {k: jjnp.asarray(v) for k, v in params.items()}
    jX, jy = jjnp.asarray(X), jjnp.asarray(y)
    for name, g in (("jax jit(grad)", jax.jit(jax.grad(loss))), ("jax grad (eager)",
                                                                jax.grad(loss))):
        check_mlp(name, g(jparams, jX, jy), expected)
        rep.check(f"MLP: {name} equals the hand backprop")
        t = best_time(lambda: jax.block_until_ready(g(jparams, jX, jy)), repeat, target,
                      number=number)
        rep.timing("mlp_grad", name, t, mlp_hand, MLP_GOAL)

    picks = svm_picks()
    svm_max = make_svm_loss_max(jjnp.maximum)
    for name, g in (("jax jit(grad), jnp.maximum", jax.jit(jax.grad(svm_max, (0, 1, 2)))),
                    ("jax grad (eager), jnp.maximum", jax.grad(svm_max, (0, 1, 2))),
                    ("jax grad (eager), Python if", jax.grad(svm_loss_if, (0, 1, 2)))):
        time_svm(rep, "svm_step", name, g, lambda: picks, svm_hand_s, repeat, target, number)


def bench_autograd(rep: Report, mlp_hand: float, svm_hand_s: float, repeat: int,
                   target: float, number: int | None) -> None:
    autograd = importlib.import_module("autograd")
    anp = importlib.import_module("autograd.numpy")

    X, y = make_spiral()
    params = init_mlp()
    expected = mlp_grad_hand(params, X, y)
    # where(h > 0, h, 0): autograd's maximum splits the gradient at ties, and
    # the spiral's first point (0, 0) makes every hidden unit tie at init.
    g = autograd.grad(make_mlp_loss(anp, lambda h: anp.where(h > 0, h, 0.0)))
    check_mlp("autograd grad", g(params, X, y), expected)
    rep.check("MLP: autograd grad equals the hand backprop")
    t = best_time(lambda: g(params, X, y), repeat, target, number=number)
    rep.timing("mlp_grad", "autograd grad", t, mlp_hand, MLP_GOAL)

    picks = svm_picks()
    for name, loss in (("autograd grad, np.maximum", make_svm_loss_max(anp.maximum)),
                       ("autograd grad, Python if", svm_loss_if)):
        time_svm(rep, "svm_step", name, autograd.grad(loss, (0, 1, 2)), lambda: picks,
                 svm_hand_s, repeat, target, number)


def bench_others(rep: Report, mlp_hand: float, svm_hand_s: float, repeat: int,
                 target: float, number: int | None) -> None:
    """(d) JAX and autograd, each only if importable; never a reason to fail."""
    for module, fn in (("jax", bench_jax), ("autograd", bench_autograd)):
        if not _available(module):
            rep.notes.append(f"{module} is not installed: its rows are skipped "
                             f"(pip install {module} to compare)")
            continue
        try:
            fn(rep, mlp_hand, svm_hand_s, repeat, target, number)
        except CheckFailed:
            raise
        except Exception as err:  # noqa: BLE001 - a broken optional install must not hide ours
            rep.notes.append(f"{module} failed: {type(err).__name__}: {err}")


# ----- main -------------------------------------------------------------------------

def parse_args(argv: list[str] | None, description: str = __doc__) -> argparse.Namespace:
    """The flags both benchmark scripts take."""
    p = argparse.ArgumentParser(description=description.splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="one run of each case: a smoke test, not a measurement")
    p.add_argument("--repeat", type=int, default=5, help="best of this many runs (default 5)")
    p.add_argument("--no-others", action="store_true", help="skip jax and autograd")
    p.add_argument("--raise-malloc-thresholds", action="store_true",
                   help="raise glibc's mmap and trim thresholds first (not what users get: "
                        "it hides the page faults of freshly allocated temporaries)")
    return p.parse_args(argv)


def _ensure_nanojax_importable() -> None:
    if not _available("nanojax"):
        sys.path.insert(0, str(ROOT / "src"))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _ensure_nanojax_importable()
    if args.quick:
        repeat, target, number, import_repeats = 1, 0.0, 1, 1
    else:
        repeat, target, number, import_repeats = args.repeat, 0.2, None, 5

    rep = Report()
    if args.raise_malloc_thresholds and not args.quick and pin_malloc():
        rep.notes.append("glibc malloc thresholds RAISED (mmap 32 MB, trim 256 MB), so large "
                         "temporaries reuse heap memory: not what users get")
    try:
        mlp_hand = bench_mlp(rep, repeat, target, number)
        svm_hand_s = bench_svm(rep, repeat, target, number)
        bench_import(rep, import_repeats)
        if args.no_others:
            rep.notes.append("jax and autograd skipped (--no-others)")
        else:
            bench_others(rep, mlp_hand, svm_hand_s, repeat, target, number)
    except CheckFailed as err:
        rep.print("nanojax grad benchmarks")
        print(f"\nFAILED check: {err}")
        return 1

    rep.notes.append(f"svm_step times are per SGD step over {SVM_STEPS} steps; the "
                     "picks are drawn once from random.Random(0) for every implementation")
    mode = "quick smoke run, timings are not meaningful" if args.quick else f"best of {repeat}"
    rep.print(f"nanojax grad benchmarks ({mode}; python {platform.python_version()}, "
              f"numpy {np.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
