"""Eager speed with nanojax's arrays: what ``x.at[i].set(v)`` everywhere costs.

Every array nanojax hands out is an ``ArrayImpl`` (a ``numpy.ndarray``
subclass with JAX's methods). NumPy takes a slower path for subclasses, so
this measures, side by side, hand-written NumPy (the limit), nanojax, and,
when ``NANOJAX_BASELINE_SRC`` names the ``src`` directory of a checkout from
before ``ArrayImpl`` (commit 058fc3b, the last one), that nanojax, each in a process of its
own:

    git worktree add /tmp/before 058fc3b
    NANOJAX_BASELINE_SRC=/tmp/before/src python benchmarks/bench_eager.py

Cases: ``tiny_ops`` (eight jnp calls on 10-element arrays: per-call
overhead), ``numpy_on_result`` (the user's own NumPy code on arrays nanojax
returned, 100 elements), ``mlp_forward`` (jnp MLP 784-256-10, batch 64),
``grad_step`` (eager ``grad`` of that MLP's loss plus an SGD update),
``jit_step`` (the same step jitted) and ``at_set`` (``x.at[idx].set(v)``
on 1000 entries against NumPy's copy-and-assign).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness

BASELINE = os.environ.get("NANOJAX_BASELINE_SRC")
CASES = ("tiny_ops", "numpy_on_result", "mlp_forward", "grad_step", "jit_step", "at_set")
IMPLS = ("numpy", "nanojax") + (("before",) if BASELINE else ())
LABELS = {"numpy": "hand NumPy", "nanojax": "nanojax", "before": "nanojax before ArrayImpl"}


def _import(impl: str) -> tuple[Any, Any]:
    if impl == "before":
        sys.path.insert(0, BASELINE or "")
    import nanojax as nj
    import nanojax.numpy as jnp
    return nj, jnp


def _mlp_data(rng: np.random.Generator) -> tuple[dict, np.ndarray, np.ndarray]:
    params = {"W1": rng.normal(size=(784, 256)) * 0.05, "b1": np.zeros(256),
              "W2": rng.normal(size=(256, 10)) * 0.05, "b2": np.zeros(10)}
    return params, rng.normal(size=(64, 784)), rng.normal(size=(64, 10))


def _numpy_step(p: dict, x: np.ndarray, y: np.ndarray) -> dict:
    h = np.tanh(x @ p["W1"] + p["b1"])
    out = h @ p["W2"] + p["b2"]
    d_out = 2.0 * (out - y) / out.size
    d_h = (d_out @ p["W2"].T) * (1.0 - h * h)
    grads = {"W2": h.T @ d_out, "b2": d_out.sum(0), "W1": x.T @ d_h, "b1": d_h.sum(0)}
    return {k: p[k] - 0.1 * grads[k] for k in p}


def implementation(impl: str, case: str, quick: bool) -> tuple[Any, Any]:
    rng = np.random.default_rng(0)
    if case == "tiny_ops":
        a, b = rng.normal(size=10), rng.normal(size=10)

        def hand() -> Any:
            y = np.sin(a) * 2.0 + b
            z = np.maximum(y, 0.0) - np.exp(-y)
            return np.sum(z * z) + np.mean(np.abs(a))
        if impl == "numpy":
            return hand, hand
        nj, jnp = _import(impl)
        ja, jb = jnp.asarray(a), jnp.asarray(b)

        def run() -> Any:
            y = jnp.add(jnp.multiply(jnp.sin(ja), 2.0), jb)
            z = jnp.subtract(jnp.maximum(y, 0.0), jnp.exp(jnp.negative(y)))
            return jnp.sum(jnp.multiply(z, z)) + jnp.mean(jnp.abs(ja))
        return run, hand
    if case == "numpy_on_result":
        a = rng.normal(size=100)

        def user_code(x: Any) -> Any:
            y = np.tanh(x) * 0.5 + x
            return (y * y - x).sum()
        if impl == "numpy":
            return (lambda: user_code(a)), (lambda: user_code(a))
        nj, jnp = _import(impl)
        ja = jnp.asarray(a)
        return (lambda: user_code(ja)), (lambda: user_code(a))
    if case in ("mlp_forward", "grad_step", "jit_step"):
        params, x, y = _mlp_data(rng)
        if case == "mlp_forward":
            def hand_fwd() -> Any:
                return np.tanh(x @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]
            if impl == "numpy":
                return hand_fwd, hand_fwd
            nj, jnp = _import(impl)
            jp = {k: jnp.asarray(v) for k, v in params.items()}
            jx = jnp.asarray(x)

            def fwd() -> Any:
                return jnp.tanh(jx @ jp["W1"] + jp["b1"]) @ jp["W2"] + jp["b2"]
            return fwd, hand_fwd
        if impl == "numpy":
            return (lambda: _numpy_step(params, x, y)["W1"]), \
                (lambda: _numpy_step(params, x, y)["W1"])
        nj, jnp = _import(impl)

        def loss(p: dict, x: Any, y: Any) -> Any:
            out = jnp.tanh(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
            return jnp.mean((out - y) ** 2)

        def step(p: dict, x: Any, y: Any) -> dict:
            g = nj.grad(loss)(p, x, y)
            return nj.tree_util.tree_map(lambda w, d: w - 0.1 * d, p, g)
        if case == "jit_step":
            step = nj.jit(step)
        jp = {k: jnp.asarray(v) for k, v in params.items()}
        jx, jy = jnp.asarray(x), jnp.asarray(y)
        return (lambda: step(jp, jx, jy)["W1"]), (lambda: _numpy_step(params, x, y)["W1"])
    if case == "at_set":
        a = rng.normal(size=1000)
        idx = rng.integers(0, 1000, size=50)

        def hand_set() -> Any:
            out = a.copy()
            out[idx] = 1.0
            return out
        if impl == "numpy":
            return hand_set, hand_set
        nj, jnp = _import(impl)
        ja = jnp.asarray(a)
        if impl == "before":          # .at was only jnp.at(x) on plain arrays
            return (lambda: jnp.at(ja)[idx].set(1.0)), hand_set
        return (lambda: ja.at[idx].set(1.0)), hand_set
    raise ValueError(case)


SUITE = harness.Suite(
    title="Eager calls on nanojax's arrays (ArrayImpl) against hand NumPy",
    script=Path(__file__).resolve(), cases=CASES, impls=IMPLS, labels=LABELS,
    implementation=implementation, goal=1.5,
    notes=(("'nanojax before ArrayImpl' is commit 058fc3b, when nanojax returned plain "
            "ndarrays (set NANOJAX_BASELINE_SRC to its src/ to include it)."),),
    quick_cases=("tiny_ops", "at_set"))


if __name__ == "__main__":
    sys.exit(harness.main(SUITE))
