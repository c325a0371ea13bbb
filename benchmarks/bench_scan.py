"""How close is an RNN over lax.scan to hand-written backpropagation through time?

Run from the repository root::

    .venv/bin/python benchmarks/bench_scan.py            # about a minute
    .venv/bin/python benchmarks/bench_scan.py --quick    # a smoke run (tests use it)

The shared driver (``harness.py``) runs each implementation in its own
process, default malloc, one BLAS thread, and prints medians and ratios.

The case: a vanilla RNN ``h = tanh(W h + U x + b)``, ``y = v . h``, 32 hidden
units, 8 inputs, float64, over ``T`` steps (``T`` = 100, and 1000 for the
jitted scan), and the loss ``mean((y - target)^2)`` with its gradients with
respect to ``W, U, b, v``:

- ``hand``: NumPy, the forward loop keeping each step's state, then the
  backward loop by hand: the limit;
- nanojax ``jit(value_and_grad)`` of the ``lax.scan`` version, and its eager
  ``value_and_grad``; the same RNN as a Python loop under ``jit`` (unrolled
  into one gate per step);
- JAX's ``jit(value_and_grad)`` of the ``lax.scan`` version, when installed.

Each nanojax implementation also reports how long ``jit(...).lower`` (trace,
simplify, generate, compile) takes for 10 and for 1000 steps: the scan's code
does not grow with the trip count, the unrolled loop's does. The goal: the
jitted scan within 2x of the hand version.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

SCRIPT = Path(__file__).resolve()
sys.path.insert(0, str(SCRIPT.parent))
import harness  # noqa: E402  (benchmarks/harness.py: the shared driver)

HIDDEN, INPUTS = 32, 8
CASES = ("T100", "T1000")
IMPLS = ("hand", "nanojax_jit", "nanojax_eager", "nanojax_unrolled", "jax_jit")
LABELS = {"hand": "hand NumPy BPTT", "nanojax_jit": "nanojax jit(scan)",
          "nanojax_eager": "nanojax eager scan", "nanojax_unrolled": "nanojax jit(Python loop)",
          "jax_jit": "jax jit(scan)"}
GOAL = 2.0


def data(steps: int) -> tuple[dict, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    params = {"W": 0.3 * rng.standard_normal((HIDDEN, HIDDEN)) / np.sqrt(HIDDEN),
              "U": rng.standard_normal((HIDDEN, INPUTS)) / np.sqrt(INPUTS),
              "b": np.zeros(HIDDEN), "v": rng.standard_normal(HIDDEN) / np.sqrt(HIDDEN)}
    xs = rng.standard_normal((steps, INPUTS))
    return params, xs, np.sin(np.cumsum(xs[:, 0]) / 4)


def hand(params: dict, xs: np.ndarray, target: np.ndarray) -> tuple:
    W, U, b, v = params["W"], params["U"], params["b"], params["v"]
    steps = len(xs)
    hs = np.empty((steps + 1, HIDDEN))
    hs[0] = 0.0
    for t in range(steps):
        hs[t + 1] = np.tanh(W @ hs[t] + U @ xs[t] + b)
    ys = hs[1:] @ v
    err = ys - target
    loss = float(np.mean(err ** 2))
    dy = 2.0 * err / steps
    dv = hs[1:].T @ dy
    dW, dU, db = np.zeros_like(W), np.zeros_like(U), np.zeros_like(b)
    dh = np.zeros(HIDDEN)
    for t in range(steps - 1, -1, -1):
        dh = dh + dy[t] * v
        da = dh * (1.0 - hs[t + 1] ** 2)
        dW += np.outer(da, hs[t])
        dU += np.outer(da, xs[t])
        db += da
        dh = W.T @ da
    return loss, {"W": dW, "U": dU, "b": db, "v": dv}


def scan_loss(lax: Any, jnp: Any) -> Callable:
    def loss(params: dict, xs: Any, target: Any) -> Any:
        W, U, b, v = params["W"], params["U"], params["b"], params["v"]

        def step(h: Any, x: Any) -> Any:
            h = jnp.tanh(W @ h + U @ x + b)
            return h, jnp.dot(v, h)
        _, ys = lax.scan(step, jnp.zeros(HIDDEN), xs)
        return jnp.mean((ys - target) ** 2)
    return loss


def loop_loss(jnp: Any) -> Callable:
    def loss(params: dict, xs: Any, target: Any) -> Any:
        W, U, b, v = params["W"], params["U"], params["b"], params["v"]
        h, ys = jnp.zeros(HIDDEN), []
        for t in range(xs.shape[0]):
            h = jnp.tanh(W @ h + U @ xs[t] + b)
            ys.append(jnp.dot(v, h))
        return jnp.mean((jnp.stack(ys) - target) ** 2)
    return loss


def steps_of(case: str, quick: bool) -> int:
    return 10 if quick else int(case[1:])


def nanojax_fn(impl: str) -> Callable:
    import nanojax
    import nanojax.numpy as jnp
    if impl == "nanojax_unrolled":
        return nanojax.jit(nanojax.value_and_grad(loop_loss(jnp)))
    fn = nanojax.value_and_grad(scan_loss(nanojax.lax, jnp))
    return nanojax.jit(fn) if impl == "nanojax_jit" else fn


def implementation(impl: str, case: str, quick: bool) -> tuple[Callable[[], Any],
                                                               Callable[[], Any]]:
    """(one timed call, the hand version's result to check it against)."""
    args = data(steps_of(case, quick))
    if impl == "hand":
        return (lambda: hand(*args)), (lambda: hand(*args))
    if impl.startswith("nanojax"):
        fn = nanojax_fn(impl)
        return (lambda: fn(*args)), (lambda: hand(*args))
    import jax
    jax.config.update("jax_enable_x64", True)
    jfn = jax.jit(jax.value_and_grad(scan_loss(jax.lax, jax.numpy)))
    on_device = jax.tree_util.tree_map(jax.numpy.asarray, args)
    return (lambda: jax.block_until_ready(jfn(*on_device))), (lambda: hand(*args))


def compile_times(impl: str, case: str, quick: bool) -> dict | None:
    """How long ``jit(...).lower`` takes for 10 and 1000 steps (100 for the unrolled loop)."""
    if impl not in ("nanojax_jit", "nanojax_unrolled") or case != CASES[0]:
        return None
    long = 100 if impl == "nanojax_unrolled" or quick else 1000
    out = {}
    for steps in (10, long):
        args = data(steps)
        times = []
        for _ in range(1 if quick else 5):
            fn = nanojax_fn(impl)
            start = time.perf_counter()
            fn.lower(*args)
            times.append(time.perf_counter() - start)
        out[steps] = sorted(times)[len(times) // 2] * 1e3
    return {"jit lower (trace+simplify+generate+compile), median":
            ", ".join(f"{n} steps {ms:.1f} ms" for n, ms in out.items())
            + f" (ratio {out[long] / out[10]:.2f}x)"}


SUITE = harness.Suite(
    title="nanojax scan benchmark", script=SCRIPT, cases=CASES, impls=IMPLS, labels=LABELS,
    implementation=implementation, goal=GOAL, quick_cases=("T100",),
    optional={"jax_jit": "jax"}, extra=compile_times,
    skip=frozenset({("T1000", "nanojax_eager"), ("T1000", "nanojax_unrolled")}),
    goal_for=("nanojax_jit",),
    notes=((f"an RNN of {HIDDEN} tanh units on {INPUTS} inputs, float64; each call is the loss "
           "and its gradients w.r.t. W, U, b, v; ratio: median / the hand BPTT's median"),
           "eager scan and the unrolled loop run at T=100 only"))


if __name__ == "__main__":
    sys.exit(harness.main(SUITE))
