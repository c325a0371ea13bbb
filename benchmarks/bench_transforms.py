"""How fast are nanojax's ``jit`` and ``vmap`` next to hand-written code?

Run from the repository root::

    .venv/bin/python benchmarks/bench_transforms.py           # about 20 s
    .venv/bin/python benchmarks/bench_transforms.py --quick   # a smoke run (tests use it)

Cases, each checked for the same numbers before it is timed:

(a) One training step of the 2-layer MLP on CS231n's spiral (300 points,
    2-D, hidden 100, 3 classes): loss, ``grad``, SGD update. Eager and under
    ``jit``, against the hand-written NumPy step. Goals: jit within 1.1x,
    eager within 1.5x.
(b) The first call of the jitted step: tracing, simplifying, generating and
    compiling code, then running once. Goal: under 20 ms.
(c) Per-example gradients of the same net, ``vmap(grad(loss))`` over the 300
    examples, against their closed form written with NumPy broadcasting.
(d) The guide's scalar SVM step under ``jit(grad)`` against the guide's
    hand-derived update. Goal: within 10x (JAX's jit: about 160x, its
    per-call dispatch dominates).
(e) JAX (jit) and autograd on (a) and (d), when they are installed.
"""

from __future__ import annotations

import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_grad as common  # shared data, hand code and report

LR = 1.0                      # CS231n's step size for the spiral net
JIT_GOAL, EAGER_GOAL, SVM_JIT_GOAL, FIRST_CALL_GOAL_MS = 1.1, 1.5, 10.0, 20.0


# ----- (a) The training step -------------------------------------------------------

def hand_step(params: dict, X: np.ndarray, y: np.ndarray) -> dict:
    grads = common.mlp_grad_hand(params, X, y)
    return {k: params[k] - LR * grads[k] for k in params}


def make_step(nj: Any, jnp: Any) -> Callable:
    grad_fn = nj.grad(common.make_mlp_loss(jnp, nj.nn.relu))

    def step(params, X, y):
        grads = grad_fn(params, X, y)
        return nj.tree_util.tree_map(lambda p, g: p - LR * g, params, grads)
    return step


def check_params(name: str, got: dict, expected: dict) -> None:
    for k in expected:
        if not np.allclose(np.asarray(got[k]), expected[k]):
            raise common.CheckFailed(f"{name}: updated {k} differs from the hand step")


def bench_step(rep: common.Report, repeat: int, target: float, number: int | None,
               quick: bool) -> float:
    import nanojax as nj
    import nanojax.numpy as jnp

    X, y = common.make_spiral()
    params = common.init_mlp()
    expected = hand_step(params, X, y)
    step = make_step(nj, jnp)
    jitted = nj.jit(step)

    first = jitted(params, X, y)
    check_params("eager step", step(params, X, y), expected)
    check_params("jitted step", first, expected)
    rep.check("MLP step: eager and jitted nanojax equal the hand NumPy step")

    hand = common.best_time(lambda: hand_step(params, X, y), repeat, target, number=number)
    rep.timing("mlp_step", "hand NumPy step", hand, hand)
    t_eager = common.best_time(lambda: step(params, X, y), repeat, target, number=number)
    rep.timing("mlp_step", "nanojax eager", t_eager, hand, EAGER_GOAL)
    t_jit = common.best_time(lambda: jitted(params, X, y), repeat, target, number=number)
    rep.timing("mlp_step", "nanojax jit", t_jit, hand, JIT_GOAL)

    # (b) A fresh jit of a fresh function: nothing cached.
    fresh = nj.jit(make_step(nj, jnp))
    start = time.perf_counter()
    fresh(params, X, y)
    latency = time.perf_counter() - start
    status = "" if quick else ("ok" if latency * 1e3 <= FIRST_CALL_GOAL_MS else "MISSED")
    rep.row("first_call", "nanojax jit: trace+compile+run", common.fmt_time(latency), "",
            f"<= {FIRST_CALL_GOAL_MS:.0f} ms", status)
    return hand


# ----- (c) Per-example gradients ---------------------------------------------------

def per_example_hand(params: dict, X: np.ndarray, y: np.ndarray) -> dict:
    """Each example's gradient of its own cross-entropy, by broadcasting."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    hidden = np.maximum(0, X @ W1 + b1)
    scores = hidden @ W2 + b2
    probs = np.exp(scores - scores.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    dscores = probs
    dscores[np.arange(len(y)), y] -= 1
    dhidden = (dscores @ W2.T) * (hidden > 0)
    return {"W1": X[:, :, None] * dhidden[:, None, :], "b1": dhidden,
            "W2": hidden[:, :, None] * dscores[:, None, :], "b2": dscores}


def make_example_loss(nj: Any, jnp: Any) -> Callable:
    def example_loss(params, x, label):
        hidden = nj.nn.relu(x @ params["W1"] + params["b1"])
        scores = hidden @ params["W2"] + params["b2"]
        return nj.nn.logsumexp(scores) - scores[label]
    return example_loss


def bench_per_example(rep: common.Report, repeat: int, target: float,
                      number: int | None) -> None:
    import nanojax as nj
    import nanojax.numpy as jnp

    X, y = common.make_spiral()
    params = common.init_mlp()
    expected = per_example_hand(params, X, y)
    per_example = nj.vmap(nj.grad(make_example_loss(nj, jnp)), in_axes=(None, 0, 0))
    jitted = nj.jit(per_example)
    for name, fn in (("vmap(grad)", per_example), ("jit(vmap(grad))", jitted)):
        got = fn(params, X, y)
        for k in expected:
            if not np.allclose(got[k], expected[k]):
                raise common.CheckFailed(f"{name}: per-example gradient of {k} differs")
    rep.check("per-example gradients: vmap(grad) and jit(vmap(grad)) equal the closed form")
    hand = common.best_time(lambda: per_example_hand(params, X, y), repeat, target,
                            number=number)
    rep.timing("per_example", "closed form, NumPy broadcasting", hand, hand)
    rep.timing("per_example", "nanojax vmap(grad)", common.best_time(
        lambda: per_example(params, X, y), repeat, target, number=number), hand)
    rep.timing("per_example", "nanojax jit(vmap(grad))", common.best_time(
        lambda: jitted(params, X, y), repeat, target, number=number), hand)


# ----- (d) The guide's SVM step under jit -----------------------------------------

def bench_svm_jit(rep: common.Report, repeat: int, target: float,
                  number: int | None) -> float:
    import nanojax as nj
    import nanojax.numpy as jnp

    picks = common.svm_picks()
    hand = common.best_time(lambda: common.svm_hand(picks), repeat, target,
                            per=common.SVM_STEPS, number=number)
    rep.timing("svm_step", "hand update (the guide)", hand, hand)
    grad_fn = nj.jit(nj.grad(common.make_svm_loss_max(jnp.maximum), argnums=(0, 1, 2)))
    common.time_svm(rep, "svm_step", "nanojax jit(grad)", grad_fn, lambda: picks, hand,
                    repeat, target, number, SVM_JIT_GOAL)
    return hand


# ----- (e) Others, when installed ----------------------------------------------------

def bench_others(rep: common.Report, step_hand: float, svm_hand: float, repeat: int,
                 target: float, number: int | None) -> None:
    if common._available("jax"):
        import jax
        import jax.numpy as jjnp
        jax.config.update("jax_enable_x64", True)
        X, y = common.make_spiral()
        params = {k: jjnp.asarray(v) for k, v in common.init_mlp().items()}
        step = jax.jit(make_step(jax, jjnp))
        jax.block_until_ready(step(params, X, y))
        rep.timing("mlp_step", "jax jit", common.best_time(
            lambda: jax.block_until_ready(step(params, X, y)), repeat, target,
            number=number), step_hand)
        picks = common.svm_picks()
        svm_grad = jax.jit(jax.grad(common.make_svm_loss_max(jjnp.maximum), argnums=(0, 1, 2)))
        common.time_svm(rep, "svm_step", "jax jit(grad)", svm_grad, lambda: picks, svm_hand,
                        repeat, target, number, goal=None)
    else:
        rep.notes.append("jax is not installed: its rows are skipped (pip install jax)")
    if common._available("autograd"):
        import autograd
        import autograd.numpy as anp
        X, y = common.make_spiral()
        params = common.init_mlp()
        relu = lambda z: anp.where(z > 0, z, 0.0)  # noqa: E731 - relu'(0) = 0, as the hand mask
        grad_fn = autograd.grad(common.make_mlp_loss(anp, relu))

        def step() -> dict:
            grads = grad_fn(params, X, y)
            return {k: params[k] - LR * grads[k] for k in params}
        rep.timing("mlp_step", "autograd", common.best_time(step, repeat, target,
                                                            number=number), step_hand)
    else:
        rep.notes.append("autograd is not installed: its rows are skipped (pip install autograd)")


def main(argv: list[str] | None = None) -> int:
    args = common.parse_args(argv, __doc__)
    common._ensure_nanojax_importable()
    repeat, target, number = (1, 0.0, 1) if args.quick else (args.repeat, 0.2, None)
    rep = common.Report()
    if args.raise_malloc_thresholds and not args.quick and common.pin_malloc():
        rep.notes.append("glibc malloc thresholds RAISED so large temporaries reuse heap "
                         "memory (see bench_grad.py): not what users get")
    try:
        step_hand = bench_step(rep, repeat, target, number, args.quick)
        bench_per_example(rep, repeat, target, number)
        svm_hand = bench_svm_jit(rep, repeat, target, number)
        if not args.no_others:
            bench_others(rep, step_hand, svm_hand, repeat, target, number)
    except common.CheckFailed as err:
        rep.print("nanojax jit/vmap benchmarks")
        print(f"\nFAILED check: {err}")
        return 1
    mode = "quick smoke run, timings are not meaningful" if args.quick else f"best of {repeat}"
    rep.print(f"nanojax jit/vmap benchmarks ({mode}; python {platform.python_version()}, "
              f"numpy {np.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
