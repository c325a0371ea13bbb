"""What does a training step cost a user, each implementation in a fresh process?

Run from the repository root::

    .venv/bin/python benchmarks/bench_steps.py             # a few minutes
    .venv/bin/python benchmarks/bench_steps.py --quick     # a smoke run (tests use it)
    .venv/bin/python benchmarks/bench_steps.py --only spiral_step,hessian --json out.json

bench_grad.py and bench_transforms.py time everything in one process, with
glibc's malloc thresholds raised and the best of several runs: good for
seeing what the code costs, not what a user sees. Here the driver spawns
``bench_steps.py --worker WORKLOAD IMPL`` once for every (workload,
implementation), with glibc's default malloc (no ``MALLOC_*``,
``GLIBC_TUNABLES`` or ``LD_PRELOAD`` in the child's environment) and
``--blas-threads`` BLAS threads (default 1). The worker builds the data,
checks the numbers against the hand version (``np.allclose``), calls the
step 3 times to warm up, and reports the median and minimum of 7 runs, each
run looping the step often enough to take about 0.1 s, in microseconds per
step. Every worker runs ``--rounds`` times (default 3), the rounds one after
another, and the table shows the median over rounds: a shared machine's slow
spells then fall on every implementation alike. Garbage collection stays on, as in a user's loop.

Workloads:

1. ``spiral_step``: one MLP training step (loss, grad, SGD update with
   LR 1.0) on CS231n's spiral, 300x2, hidden 100, 3 classes, float64:
   bench_transforms' ``hand_step`` against ``make_step`` eager and jitted.
2. ``mnist_step``: the same step, MNIST-sized: 128x784 random inputs,
   hidden 512, 10 classes.
3. ``svm_step``: the guide's scalar SVM, per SGD step over 400 seeded picks:
   the hand update against ``jit(grad)`` and eager ``grad`` of the hinge
   loss with ``jnp.maximum``. Reported twice: each implementation in its own
   process, and all of them alternating in one process (``svm_step_alt``:
   hand, jit, eager, hand, ... 7 rounds, the median of each), which is
   where the goals apply: a scalar step is short enough for the process's
   state (caches, allocator, CPU frequency) to move it, and alternating
   exposes every implementation to the same.
4. ``per_example``: per-example gradients of a logistic loss, 300x50,
   ``jit(vmap(grad(loss), in_axes=(None, 0, 0)))`` against its closed form
   ``(-t * sigmoid(-t * X @ w))[:, None] * X``; also eager ``vmap(grad)``.
5. ``hessian``: ``jit(hessian(loss))`` of the mean logistic loss of a 20-d
   ``w`` on 100 points against its closed form ``X.T @ diag(s) @ X / n``,
   ``s = sigmoid * (1 - sigmoid)``; also eager ``hessian``.
6. ``scaling``: the spiral step at (batch, hidden) = (300, 100),
   (3000, 100), (30000, 100), (300, 1000), (300, 10000): where BLAS and
   memory traffic take over from Python overhead.

JAX (``jax.jit``, float64) and autograd (eager) run workloads 1-5 when
they are importable; their rows are skipped with a note otherwise.

For the hand version and nanojax's jit, the worker also measures the
tracemalloc peak of one step after warm-up (NumPy reports its data buffers
to tracemalloc) and, for jit, the largest live set of the step's jaxpr (see
``largest_live_set``): a peak far above the live set means temporaries that
the jaxpr does not need. Since jit keeps a workspace between calls, which a
later step's peak does not see, the table also shows "held": the NumPy
buffers the check and warm-up calls left alive, and (peak + held) / live.

A second table runs the array workloads again with glibc's mmap and trim
thresholds raised, which keeps freed buffers in the heap instead of
returning them to the kernel (not what users get; ``--no-raised`` skips it).

Goals, as the ratio of medians to the hand version in the default-malloc,
own-process table: spiral_step jit <= 1.0, eager <= 1.5; mnist_step jit
<= 1.0, eager <= 1.05; svm_step_alt jit <= 5, eager <= 60; per_example jit
<= 2; hessian jit <= 2.5; and peak / live set <= 1.5 for nanojax's jit on
the array workloads. A missed goal is only reported; a failed correctness
check (or a crash of the hand version or of nanojax) exits with status 1.
Nothing runs on import.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_grad as common  # shared data, hand code and checks
import bench_transforms as steps  # the MLP training step, hand and nanojax

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]

WORKLOADS = ("spiral_step", "mnist_step", "svm_step", "per_example", "hessian", "scaling")
ARRAY_WORKLOADS = ("spiral_step", "mnist_step", "per_example", "hessian")
SCALING_SIZES = ((300, 100), (3000, 100), (30000, 100), (300, 1000), (300, 10000))
SPIRAL_SIZE = (300, 100)
MNIST_BATCH, MNIST_FEATURES, MNIST_HIDDEN, MNIST_CLASSES = 128, 784, 512, 10
PER_EXAMPLE_SHAPE = (300, 50)
HESSIAN_SHAPE = (100, 20)

IMPLS = ("hand", "nanojax_jit", "nanojax_eager", "jax_jit", "autograd")
SCALING_IMPLS = ("hand", "nanojax_jit", "nanojax_eager")
OPTIONAL_MODULE = {"jax_jit": "jax", "autograd": "autograd"}
IMPL_LABELS = {"nanojax_jit": "nanojax jit", "nanojax_eager": "nanojax eager",
               "jax_jit": "jax jit", "autograd": "autograd"}
HAND_LABELS = {"spiral_step": "hand NumPy step (CS231n)", "mnist_step": "hand NumPy step",
               "svm_step": "hand update (the guide)", "per_example": "closed form, NumPy",
               "hessian": "closed form X.T diag(s) X", "scaling": "hand NumPy step"}

REPEAT = 7                # runs per implementation; the median is reported
RUN_SECONDS = 0.1         # each run loops the step about this long
WARMUP_CALLS = 3

TIME_GOALS = {  # (workload, impl) -> the most median / hand median allowed
    ("spiral_step", "nanojax_jit"): 1.0, ("spiral_step", "nanojax_eager"): 1.5,
    ("mnist_step", "nanojax_jit"): 1.0, ("mnist_step", "nanojax_eager"): 1.05,
    ("svm_step_alt", "nanojax_jit"): 5.0, ("svm_step_alt", "nanojax_eager"): 60.0,
    ("per_example", "nanojax_jit"): 2.0, ("hessian", "nanojax_jit"): 2.5,
}
PEAK_LIVE_GOAL = 1.5      # tracemalloc peak / largest live set, nanojax jit, array workloads

BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
RAISED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "268435456"}
RAISED_TITLE = ("glibc mmap/trim thresholds raised (MALLOC_MMAP_THRESHOLD_=33554432, "
                "MALLOC_TRIM_THRESHOLD_=268435456) — not what users get")
DEFAULT_ALLOCATOR = ("glibc default malloc (no MALLOC_*, GLIBC_TUNABLES or LD_PRELOAD "
                     "in the workers' environment)")


# ----- The children's environment ----------------------------------------------------

def _changes_the_allocator(name: str) -> bool:
    # Every glibc malloc tunable set through the environment is MALLOC_<NAME>_
    # (MALLOC_ARENA_MAX, MALLOC_TOP_PAD_, ...); GLIBC_TUNABLES and LD_PRELOAD
    # can set them or swap in another allocator (jemalloc, tcmalloc).
    return name.startswith("MALLOC_") or name in ("GLIBC_TUNABLES", "LD_PRELOAD")


def child_env(raised: bool, blas_threads: int) -> dict:
    """The environment of a worker: this one with the allocator left at glibc's
    defaults (or with the raised thresholds), ``blas_threads`` BLAS threads, and
    the repository's ``src`` first on ``PYTHONPATH`` so nanojax imports uninstalled."""
    env = {k: v for k, v in os.environ.items() if not _changes_the_allocator(k)}
    if raised:
        env.update(RAISED_MALLOC)
    for name in BLAS_THREAD_VARS:
        env[name] = str(blas_threads)
    src = str(ROOT / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


# ----- What a worker measures -----------------------------------------------------------

def blas_threads_in_effect() -> tuple[int | None, str]:
    """The BLAS thread count and where it came from: threadpoolctl, or the environment."""
    try:
        import threadpoolctl
    except ImportError:
        value = os.environ.get("OPENBLAS_NUM_THREADS")
        return (int(value) if value and value.isdigit() else None,
                "OPENBLAS_NUM_THREADS (threadpoolctl not installed)")
    counts = [p["num_threads"] for p in threadpoolctl.threadpool_info()
              if p.get("user_api") == "blas"]
    return (max(counts) if counts else None), "threadpoolctl"


def _aval_bytes(aval: Any) -> int:
    return math.prod(aval.shape) * np.dtype(aval.dtype).itemsize


def largest_live_set(closed_jaxpr: Any) -> int:
    """The most bytes of intermediates alive at once while the jaxpr runs in its order.

    An intermediate is a variable an equation defines (not an input, a
    constant or a literal). It is live from the equation that defines it to
    the last equation that reads it, so an equation's inputs and outputs are
    live together; an output of the jaxpr stays live to the end once defined,
    and a value nothing reads is live at the equation that makes it. The
    largest live set is the maximum over equations of the bytes live there:
    what running the equations in this order holds beyond its arguments when
    every value has a buffer of its own. A run can hold less: writing a result
    into the buffer of an operand read for the last time (as nanojax's jit
    does) or making a view (a reshape) shares a buffer this counts twice. Only
    the top level counts: a nested jaxpr in an equation's params counts as
    that equation's outputs.
    """
    from nanojax.core import Var

    jaxpr = closed_jaxpr.jaxpr
    born: dict[Any, int] = {}   # intermediate -> the index of the equation defining it
    dies: dict[Any, int] = {}   # intermediate -> the index of the last equation it is live at
    for i, eqn in enumerate(jaxpr.eqns):
        for v in eqn.invars:
            if isinstance(v, Var) and v in born:
                dies[v] = i
        for v in eqn.outvars:
            if isinstance(v, Var):
                born[v] = dies[v] = i
    for v in jaxpr.outvars:
        if isinstance(v, Var) and v in born:
            dies[v] = len(jaxpr.eqns) - 1
    change = [0] * (len(jaxpr.eqns) + 1)   # bytes coming alive minus bytes dying, per equation
    for v, i in born.items():
        change[i] += _aval_bytes(v.aval)
        change[dies[v] + 1] -= _aval_bytes(v.aval)
    live = largest = 0
    for delta in change:
        live += delta
        largest = max(largest, live)
    return largest


def traced_peak(one_step: Callable[[], Any]) -> int:
    """Bytes the tracemalloc peak rises by during one call of ``one_step``,
    its result included (it is alive when the peak is read)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = one_step()
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    del result
    return peak


def calibrate(run: Callable[[], Any], quick: bool) -> int:
    """How many calls of ``run`` make one run of about ``RUN_SECONDS``."""
    if quick:
        return 1
    start = time.perf_counter()
    run()
    return max(1, round(RUN_SECONDS / max(time.perf_counter() - start, 1e-9)))


def one_run(run: Callable[[], Any], number: int) -> float:
    """Seconds for ``number`` calls. Not timeit: it turns off garbage collection,
    which a user's training loop does not, and eager tracing makes garbage."""
    start = time.perf_counter()
    for _ in range(number):
        run()
    return time.perf_counter() - start


def summarise(runs: list[float], number: int, steps_per_call: int) -> dict:
    per_step = [r / number / steps_per_call * 1e6 for r in runs]
    return {"median_us": statistics.median(per_step), "min_us": min(per_step),
            "runs": len(runs), "number": number}


# ----- The implementations ----------------------------------------------------------------

@dataclass
class Case:
    """One implementation of one workload, ready to check and time."""
    impl: str
    label: str
    run: Callable[[], Any]                       # one timed call
    steps_per_call: int = 1                      # the SVM's call is 400 steps
    verify: Callable[[], None] = lambda: None    # raises CheckFailed unless run is right
    check: str | None = None                     # the check's line once it passed
    one_step: Callable[[], Any] | None = None    # for the tracemalloc peak
    jaxpr: Callable[[], Any] | None = None       # the jitted step's ClosedJaxpr


def _label(workload: str, impl: str) -> str:
    return HAND_LABELS[workload] if impl == "hand" else IMPL_LABELS[impl]


def _nanojax() -> tuple[Any, Any]:
    import nanojax
    import nanojax.numpy
    return nanojax, nanojax.numpy


def _jax() -> tuple[Any, Any]:
    import jax
    import jax.numpy
    jax.config.update("jax_enable_x64", True)   # float64, as NumPy and nanojax compute
    return jax, jax.numpy


def _autograd() -> tuple[Any, Any]:
    import autograd
    import autograd.numpy
    return autograd, autograd.numpy


def made_function(impl: str, make: Callable[[Any, Any], Callable],
                  make_autograd: Callable[[Any, Any], Callable]) -> Callable:
    """The step as ``impl`` runs it: ``make(lib, numpy_of_lib)`` for nanojax and
    JAX (their APIs match), jitted or not; ``make_autograd`` for autograd."""
    if impl == "nanojax_jit":
        nj, jnp = _nanojax()
        return nj.jit(make(nj, jnp))
    if impl == "nanojax_eager":
        return make(*_nanojax())
    if impl == "jax_jit":
        jax, jjnp = _jax()
        return jax.jit(make(jax, jjnp))
    if impl == "autograd":
        return make_autograd(*_autograd())
    raise ValueError(f"unknown implementation {impl!r}")


def timed_call(impl: str, fn: Callable, args: tuple) -> Callable[[], Any]:
    """One call of ``fn(*args)``, waiting for JAX's asynchronous dispatch to finish."""
    if impl == "jax_jit":
        jax, jjnp = _jax()
        args = jax.tree_util.tree_map(jjnp.asarray, args)   # on the device once, not per call
        return lambda: jax.block_until_ready(fn(*args))
    return lambda: fn(*args)


@dataclass
class ArrayProblem:
    """An array workload: the step's arguments, the hand step and how each library makes it."""
    args: tuple
    hand: Callable
    make: Callable[[Any, Any], Callable]
    make_autograd: Callable[[Any, Any], Callable]
    check: Callable[[str, Any], None]     # raises CheckFailed unless the output is the hand one's
    what: str                             # what the check line says matched


def array_case(workload: str, impl: str, problem: ArrayProblem) -> Case:
    label = _label(workload, impl)
    args = problem.args
    if impl == "hand":
        run = lambda: problem.hand(*args)  # noqa: E731 - the step, as the others
        return Case(impl, label, run, one_step=run)
    fn = made_function(impl, problem.make, problem.make_autograd)
    run = timed_call(impl, fn, args)
    case = Case(impl, label, run, verify=lambda: problem.check(label, run()),
                check=f"{workload}: {label} {problem.what}")
    if impl == "nanojax_jit":
        case.one_step, case.jaxpr = run, lambda: fn.lower(*args).jaxpr
    return case


def check_close(what: str) -> Callable[[Any], Callable[[str, Any], None]]:
    def against(expected: np.ndarray) -> Callable[[str, Any], None]:
        def check(name: str, got: Any) -> None:
            got = np.asarray(got)
            if got.shape != expected.shape or not np.allclose(got, expected):
                raise common.CheckFailed(f"{name}: {what} differ from the closed form")
        return check
    return against


# ----- 1, 2, 6: the MLP training step -------------------------------------------------

def init_mlp_sized(inputs: int, hidden: int, classes: int, seed: int = 1) -> dict:
    """bench_grad's ``init_mlp`` for any input width (the same arrays for 2 inputs)."""
    rng = np.random.default_rng(seed)
    return {"W1": 0.01 * rng.standard_normal((inputs, hidden)), "b1": np.zeros(hidden),
            "W2": 0.01 * rng.standard_normal((hidden, classes)), "b2": np.zeros(classes)}


def make_mnist_like(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random MNIST-sized data: pixel-like values in [0, 1) and labels 0..9."""
    rng = np.random.default_rng(seed)
    X = rng.random((MNIST_BATCH, MNIST_FEATURES))
    return X, rng.integers(0, MNIST_CLASSES, MNIST_BATCH)


def make_autograd_step(autograd: Any, anp: Any) -> Callable:
    # where(h > 0, h, 0): relu'(0) = 0 as in the hand mask; autograd's maximum
    # splits the gradient at ties, and the spiral's first point ties (bench_grad).
    grad_fn = autograd.grad(common.make_mlp_loss(anp, lambda h: anp.where(h > 0, h, 0.0)))

    def step(params, X, y):
        grads = grad_fn(params, X, y)
        return {k: params[k] - steps.LR * grads[k] for k in params}
    return step


def mlp_problem(X: np.ndarray, y: np.ndarray, params: dict) -> ArrayProblem:
    expected = steps.hand_step(params, X, y)
    return ArrayProblem(
        (params, X, y), steps.hand_step, steps.make_step, make_autograd_step,
        lambda name, got: steps.check_params(name, got, expected),
        "equals the hand step (np.allclose on the updated W1, b1, W2, b2)")


def spiral_problem(size: tuple[int, int] = SPIRAL_SIZE) -> ArrayProblem:
    batch, hidden = size
    X, y = common.make_spiral(points_per_class=batch // 3)
    return mlp_problem(X, y, common.init_mlp(hidden))


def mnist_problem() -> ArrayProblem:
    X, y = make_mnist_like()
    return mlp_problem(X, y, init_mlp_sized(MNIST_FEATURES, MNIST_HIDDEN, MNIST_CLASSES))


# ----- 4, 5: the logistic loss ---------------------------------------------------------

def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def make_logistic_loss(xp: Any) -> Callable:
    """``log(1 + exp(-t * x @ w))`` for labels ``t`` in {-1, +1}: one example's loss
    for a row ``x``, the vector of all of them for a matrix. ``log1p(exp(.))``, not
    ``logaddexp(0, .)``: nanojax.numpy has no ``logaddexp``; the margins here are small."""
    def loss(w, x, t):
        return xp.log1p(xp.exp(-t * (x @ w)))
    return loss


def logistic_data(shape: tuple[int, int], seed: int) -> tuple[np.ndarray, ...]:
    """``w``, ``X`` and labels ``t`` in {-1, +1} (from ``y`` in {0, 1})."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal(shape)
    y = (rng.random(shape[0]) < 0.5).astype(np.float64)
    return 0.1 * rng.standard_normal(shape[1]), X, 2.0 * y - 1.0


def per_example_closed_form(w: np.ndarray, X: np.ndarray, t: np.ndarray) -> np.ndarray:
    return (-t * sigmoid(-t * (X @ w)))[:, None] * X


def per_example_problem() -> ArrayProblem:
    w, X, t = logistic_data(PER_EXAMPLE_SHAPE, seed=2)

    def make(lib, xp):
        return lib.vmap(lib.grad(make_logistic_loss(xp)), in_axes=(None, 0, 0))

    def make_autograd(autograd, anp):
        # autograd has no vmap: the Jacobian of the vector of losses, one VJP per example.
        return autograd.jacobian(make_logistic_loss(anp))
    expected = per_example_closed_form(w, X, t)
    return ArrayProblem((w, X, t), per_example_closed_form, make, make_autograd,
                        check_close("per-example gradients")(expected),
                        "equals the closed form (np.allclose on the 300x50 gradients)")


def hessian_closed_form(X: np.ndarray, t: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    def hessian(w):
        p = sigmoid(X @ w)           # t * t = 1: the curvature does not depend on the label
        s = p * (1.0 - p)
        return X.T @ (s[:, None] * X) / X.shape[0]
    return hessian


def hessian_problem() -> ArrayProblem:
    w, X, t = logistic_data(HESSIAN_SHAPE, seed=3)

    def mean_loss(xp):
        loss = make_logistic_loss(xp)
        return lambda w: xp.mean(loss(w, X, t))
    expected = hessian_closed_form(X, t)(w)
    return ArrayProblem((w,), hessian_closed_form(X, t),
                        lambda lib, xp: lib.hessian(mean_loss(xp)),
                        lambda autograd, anp: autograd.hessian(mean_loss(anp)),
                        check_close("Hessians")(expected),
                        "equals the closed form (np.allclose on the 20x20 Hessian)")


# ----- 3: the guide's scalar SVM -------------------------------------------------------

def svm_case(impl: str) -> Case:
    picks = common.svm_picks()
    label = _label("svm_step", impl)
    if impl == "hand":
        return Case(impl, label, lambda: common.svm_hand(picks), common.SVM_STEPS,
                    one_step=lambda: common.svm_hand(picks[:1]))
    grad_fn = made_function(
        impl, lambda lib, xp: lib.grad(common.make_svm_loss_max(xp.maximum), argnums=(0, 1, 2)),
        lambda autograd, anp: autograd.grad(common.make_svm_loss_max(anp.maximum), (0, 1, 2)))
    run = timed_call(impl, lambda: common.svm_with_grad(grad_fn, picks), ())

    def verify() -> None:
        common.check_svm(label, run(), common.svm_hand(picks))
    case = Case(impl, label, run, common.SVM_STEPS, verify,
                f"svm_step: {label} ends at the hand update's (a, b, c) to 1e-9")
    if impl == "nanojax_jit":
        x, y = common.SVM_DATA[picks[0]]
        first = (*common.SVM_START, x, y, common.SVM_LABELS[picks[0]])
        case.one_step = lambda: grad_fn(*first)
        case.jaxpr = lambda: grad_fn.lower(*first).jaxpr
    return case


def build_case(workload: str, impl: str, size: tuple[int, int] | None) -> Case:
    if workload == "svm_step":
        return svm_case(impl)
    problems: dict[str, Callable[[], ArrayProblem]] = {
        "spiral_step": spiral_problem, "mnist_step": mnist_problem,
        "per_example": per_example_problem, "hessian": hessian_problem,
        "scaling": lambda: spiral_problem(size or SPIRAL_SIZE)}
    return array_case(workload, impl, problems[workload]())


def implementations(workload: str) -> list[str]:
    """The implementations of ``workload`` whose libraries are importable here."""
    impls = SCALING_IMPLS if workload == "scaling" else IMPLS
    return [i for i in impls if i not in OPTIONAL_MODULE
            or common._available(OPTIONAL_MODULE[i])]


# ----- The worker ----------------------------------------------------------------------

def numpy_buffer_bytes() -> int:
    """Bytes of NumPy data buffers tracemalloc has seen allocated and not yet freed."""
    numpy_only = tracemalloc.DomainFilter(True, np.lib.tracemalloc_domain)
    return sum(t.size for t in tracemalloc.take_snapshot().filter_traces([numpy_only]).traces)


def check_and_warm(case: Case) -> int | None:
    """Run the check and the warm-up calls. For a case with memory figures, return
    the bytes of NumPy buffers made by them and still alive after (results
    dropped): a jitted function keeps its workspace and constants between calls,
    memory the peak of a later step does not show. Only NumPy's buffers count:
    the first jit in a process also imports modules and fills caches."""
    traced = case.one_step is not None
    if traced:
        tracemalloc.start()
    try:
        case.verify()
        for _ in range(WARMUP_CALLS):
            case.run()
        return numpy_buffer_bytes() if traced else None
    finally:
        tracemalloc.stop()


def measure(case: Case, number: int, held: int | None) -> dict:
    """The memory figures of a case already timed (tracemalloc would slow the timing)."""
    result: dict[str, Any] = {"impl": case.impl, "label": case.label, "check": case.check,
                              "number": number}
    if case.one_step is not None:
        result["peak_bytes"], result["held_bytes"] = traced_peak(case.one_step), held
    if case.jaxpr is not None:
        result["live_bytes"] = largest_live_set(case.jaxpr())
    return result


def time_alone(case: Case, quick: bool) -> dict:
    held = check_and_warm(case)
    number = calibrate(case.run, quick)
    runs = [one_run(case.run, number) for _ in range(1 if quick else REPEAT)]
    return {**summarise(runs, number, case.steps_per_call), **measure(case, number, held)}


def time_alternating(cases: list[Case], quick: bool) -> list[dict]:
    """All ``cases`` in this process, one run of each in turn per round, so that
    whatever drifts in the process (caches, heap, clock) reaches them all."""
    held = [check_and_warm(c) for c in cases]
    numbers = [calibrate(c.run, quick) for c in cases]
    runs: list[list[float]] = [[] for _ in cases]
    for _ in range(1 if quick else REPEAT):
        for case, number, own in zip(cases, numbers, runs):
            own.append(one_run(case.run, number))
    return [{**summarise(own, n, c.steps_per_call), **measure(c, n, h)}
            for c, n, h, own in zip(cases, numbers, held, runs)]


def worker(workload: str, impl: str, size: tuple[int, int] | None, quick: bool) -> int:
    """Measure one (workload, implementation), or ``alternate`` all of the SVM's;
    print one JSON line. Exit 1 if a check fails, 2 if the implementation crashes."""
    threads, source = blas_threads_in_effect()
    out: dict[str, Any] = {
        "workload": "svm_step_alt" if impl == "alternate" else workload, "impl": impl,
        "size": list(size) if size else None, "blas_threads": threads, "blas_source": source,
        "allocator": "raised" if "MALLOC_MMAP_THRESHOLD_" in os.environ else "default"}
    status = 0
    try:
        if impl == "alternate":
            cases = [svm_case(i) for i in implementations("svm_step")]
            out["results"] = time_alternating(cases, quick)
        else:
            out["results"] = [time_alone(build_case(workload, impl, size), quick)]
    except common.CheckFailed as err:
        out["failed"], status = str(err), 1
    except Exception as err:  # noqa: BLE001 - reported to the driver, which decides if it fails
        traceback.print_exc()
        out["crashed"], status = f"{type(err).__name__}: {err}", 2
    print(json.dumps(out))
    return status


# ----- The driver ----------------------------------------------------------------------

@dataclass
class Job:
    workload: str
    impl: str
    size: tuple[int, int] | None = None

    @property
    def name(self) -> str:
        size = f" {self.size[0]}x{self.size[1]}" if self.size else ""
        return f"{self.workload}{size} {self.impl}"


def jobs_for(workloads: Iterable[str], quick: bool) -> list[Job]:
    jobs: list[Job] = []
    for workload in workloads:
        if workload == "scaling":
            sizes = SCALING_SIZES[:1] if quick else SCALING_SIZES
            jobs += [Job(workload, i, s) for s in sizes for i in implementations(workload)]
            continue
        jobs += [Job(workload, i) for i in implementations(workload)]
        if workload == "svm_step":
            jobs.append(Job(workload, "alternate"))
    return jobs


def spawn(job: Job, env: dict, quick: bool) -> dict:
    """Run one worker; its JSON line, or what went wrong if it printed none."""
    cmd = [sys.executable, str(SCRIPT), "--worker", job.workload, job.impl]
    if job.size:
        cmd += ["--size", f"{job.size[0]},{job.size[1]}"]
    if quick:
        cmd.append("--quick")
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
    return {"workload": job.workload, "impl": job.impl, "results": [],
            "crashed": f"exit status {proc.returncode}, no result: {tail}"}


def run_jobs(jobs: list[Job], env: dict, quick: bool, rounds: int = 1) -> list[dict]:
    """Every job once per round, the rounds one after another, merged by ``merge_rounds``.

    A shared machine has slow spells of seconds: a worker of about a second
    can land in one while the hand version's does not. Interleaved rounds
    put every implementation in every spell alike.
    """
    per_round = []
    for r in range(rounds):
        outputs = []
        for n, job in enumerate(jobs, 1):
            if sys.stderr.isatty():   # progress for a person waiting; silent under tests, pipes
                print(f"[round {r + 1}/{rounds}, {n}/{len(jobs)}] {job.name}", file=sys.stderr,
                      flush=True)
            out = spawn(job, env, quick)
            out["size"] = list(job.size) if job.size else None
            outputs.append(out)
        per_round.append(outputs)
    return merge_rounds(per_round)


def merge_rounds(per_round: list[list[dict]]) -> list[dict]:
    """One output per job: the median over rounds of each median, the least minimum."""
    merged = per_round[0]
    for k, out in enumerate(merged):
        runs = [r[k] for r in per_round if r[k].get("results")]
        for i, result in enumerate(out.get("results", [])):
            same = [o["results"][i] for o in runs if len(o["results"]) > i]
            result["median_us"] = statistics.median(s["median_us"] for s in same)
            result["min_us"] = min(s["min_us"] for s in same)
            result["rounds"] = len(same)
    return merged


def row_key(out: dict) -> str:
    size = out.get("size")
    return f"{out['workload']} {size[0]}x{size[1]}" if size else out["workload"]


def flat_results(outputs: list[dict]) -> list[dict]:
    """One record per implementation, with its ratio to the hand version and its goals."""
    records = [{"workload": row_key(o), "base": o["workload"], **r}
               for o in outputs for r in o.get("results", [])]
    hand = {r["workload"]: r["median_us"] for r in records if r["impl"] == "hand"}
    for r in records:
        if r["workload"] in hand:
            r["ratio"] = r["median_us"] / hand[r["workload"]]
        r["goal"] = TIME_GOALS.get((r["base"], r["impl"]))
        if "peak_bytes" in r and r.get("live_bytes"):
            r["peak_live"] = r["peak_bytes"] / r["live_bytes"]
            r["footprint_live"] = (r["peak_bytes"] + r["held_bytes"]) / r["live_bytes"]
            if r["base"] in (*ARRAY_WORKLOADS, "scaling"):
                r["peak_live_goal"] = PEAK_LIVE_GOAL
    return records


def _status(value: float | None, goal: float | None) -> str:
    if value is None or goal is None:
        return ""
    return "ok" if value <= goal else "MISSED"


def fmt_us(us: float) -> str:
    return f"{us:.2f}" if us < 10 else f"{us:.1f}" if us < 1000 else f"{us:.0f}"


def fmt_ratio(r: float) -> str:
    return f"{r:.2f}x" if r < 10 else f"{r:.1f}x" if r < 100 else f"{r:.0f}x"


def fmt_goal(goal: float) -> str:
    text = f"{goal:.1f}" if goal == round(goal, 1) else f"{goal:g}"   # 1.0, 1.5, 1.05
    return f"<= {text}"


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return ""
    if n < 1024:
        return f"{n} B"
    return f"{n / 1024:.1f} KiB" if n < 1024 ** 2 else f"{n / 1024 ** 2:.2f} MiB"


TITLES = ("workload", "implementation", "us/step", "min", "ratio", "goal", "status",
          "peak", "live set", "peak/live", "goal", "status", "held", "(peak+held)/live")


def table_row(r: dict, with_goals: bool) -> tuple[str, ...]:
    ratio, goal = r.get("ratio"), r["goal"] if with_goals else None
    peak_live, footprint = r.get("peak_live"), r.get("footprint_live")
    live_goal = r.get("peak_live_goal") if with_goals else None
    return (r["workload"], r["label"], fmt_us(r["median_us"]), fmt_us(r["min_us"]),
            fmt_ratio(ratio) if ratio is not None else "",
            fmt_goal(goal) + "x" if goal else "", _status(ratio, goal),
            fmt_bytes(r.get("peak_bytes")), fmt_bytes(r.get("live_bytes")),
            f"{peak_live:.2f}" if peak_live is not None else "",
            fmt_goal(live_goal) if live_goal else "", _status(peak_live, live_goal),
            fmt_bytes(r.get("held_bytes")), f"{footprint:.2f}" if footprint is not None else "")


def print_table(records: list[dict], with_goals: bool) -> None:
    rows = [TITLES, *(table_row(r, with_goals) for r in records)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(TITLES))]
    for n, row in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def blas_summary(outputs: list[dict]) -> tuple[str, str]:
    """The BLAS thread count the workers saw (all the same, one hopes), and its source."""
    counts = sorted({str(o.get("blas_threads")) for o in outputs if "blas_threads" in o})
    sources = sorted({o["blas_source"] for o in outputs if "blas_source" in o})
    return ", ".join(counts) or "unknown", ", ".join(sources)


def problems_of(outputs: list[dict]) -> tuple[list[str], list[str]]:
    """(failures, notes): a failed check or a crash of the hand version or nanojax fails
    the run; a crash of an optional library (jax, autograd) is only a note."""
    failures, notes = [], []
    for o in outputs:
        where = f"{row_key(o)} {o['impl']}"
        if "failed" in o:
            failures.append(f"FAILED check: {where}: {o['failed']}")
        elif "crashed" in o:
            if o["impl"] in OPTIONAL_MODULE:
                notes.append(f"{where} crashed, its row is left out: {o['crashed']}")
            else:
                failures.append(f"FAILED: {where} crashed: {o['crashed']}")
    return failures, notes


def check_lines(outputs: list[dict]) -> list[str]:
    seen: dict[str, None] = {}
    for o in outputs:
        for r in o.get("results", []):
            if r.get("check"):
                seen[f"check: {r['check']}: ok"] = None
    return list(seen)


def standing_notes(workloads: list[str], blas_source: str) -> list[str]:
    notes = [f"{module} is not installed: its rows are skipped (pip install {module})"
             for module in ("jax", "autograd") if not common._available(module)]
    if "svm_step" in workloads:
        notes.append(f"svm_step times are per SGD step over {common.SVM_STEPS} steps; "
                     "svm_step_alt: all implementations alternating in one process "
                     f"({REPEAT} rounds, median each); the svm goals apply there")
    notes += [
        "ratio: median / the hand version's median, same workload and size",
        ("peak: tracemalloc peak of one step after warm-up, its result included; live set: "
         "the largest live set of the jitted step's jaxpr (intermediates and outputs, "
         "not inputs or constants); held: NumPy buffers made by the check and warm-up "
         "calls and still alive after them, results dropped (a jitted function's kept "
         "workspace and constants), which the peak of a later step leaves out"),
        "jax runs on XLA's own CPU thread pool, which the BLAS thread variables do not limit",
        f"BLAS threads read from {blas_source}"]
    if "per_example" in workloads and common._available("autograd"):
        notes.append("per_example autograd: autograd.jacobian of the vector of losses "
                     "(autograd has no vmap)")
    return notes


def header(outputs: list[dict], allocator: str, quick: bool) -> str:
    threads, _ = blas_summary(outputs)
    rounds = max((r.get("rounds", 1) for o in outputs for r in o.get("results", [])), default=1)
    mode = ("quick smoke run, 1 run of 1 call, timings are not meaningful" if quick
            else f"median of {REPEAT} runs per process, median over {rounds} interleaved "
                 "processes")
    return (f"nanojax step benchmarks: python {platform.python_version()}, numpy "
            f"{np.__version__}, BLAS threads: {threads}, allocator: {allocator}, {mode}, "
            "each implementation in its own process")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true",
                   help="one run of one call, scaling at one size, no raised table: a smoke test")
    p.add_argument("--only", type=lambda s: s.split(","), default=list(WORKLOADS),
                   metavar="WORKLOAD[,WORKLOAD]", help=f"a subset of {', '.join(WORKLOADS)}")
    p.add_argument("--no-raised", action="store_true",
                   help="skip the table with glibc's malloc thresholds raised")
    p.add_argument("--blas-threads", type=int, default=1, metavar="N",
                   help="OPENBLAS/OMP/MKL_NUM_THREADS of the workers (default 1)")
    p.add_argument("--rounds", type=int, default=3, metavar="N",
                   help="run every worker N times, interleaved; report the median (default 3)")
    p.add_argument("--json", type=Path, metavar="PATH", help="also write all results here")
    p.add_argument("--worker", nargs=2, metavar=("WORKLOAD", "IMPL"), help=argparse.SUPPRESS)
    p.add_argument("--size", type=lambda s: tuple(int(n) for n in s.split(",")),
                   metavar="B,H", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    unknown = [w for w in args.only if w not in WORKLOADS]
    if unknown:
        p.error(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
    return args


def report(title: str, outputs: list[dict], with_goals: bool) -> list[dict]:
    records = flat_results(outputs)
    if title:
        print(title + "\n")
    print_table(records, with_goals)
    return records


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker(*args.worker, args.size, args.quick)
    workloads = [w for w in WORKLOADS if w in args.only]
    rounds = 1 if args.quick else args.rounds
    default = run_jobs(jobs_for(workloads, args.quick), child_env(False, args.blas_threads),
                       args.quick, rounds)
    raised_workloads = [w for w in workloads if w in ARRAY_WORKLOADS]
    raised: list[dict] = []
    if not (args.quick or args.no_raised) and raised_workloads:
        raised = run_jobs(jobs_for(raised_workloads, False),
                          child_env(True, args.blas_threads), False, rounds)

    failures, notes = problems_of(default + raised)
    checks = check_lines(default + raised)
    title = header(default, DEFAULT_ALLOCATOR, args.quick)
    print(title + "\n")
    print("\n".join(checks) + "\n")
    tables = {"default": report("", default, with_goals=True)}
    if raised:
        print()
        tables["raised"] = report(RAISED_TITLE, raised, with_goals=False)
    notes += standing_notes(workloads, blas_summary(default)[1])
    print()
    for note in notes:
        print(f"note: {note}")
    for failure in failures:
        print(failure)
    if args.json:
        args.json.write_text(json.dumps(
            {"header": title, "checks": checks,
             "tables": tables, "notes": notes, "failures": failures}, indent=1))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
