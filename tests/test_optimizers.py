"""nanojax.example_libraries.optimizers: JAX's triples against hand-written NumPy steps."""

from __future__ import annotations

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import lax
from nanojax.example_libraries import optimizers as opt

RNG = np.random.default_rng(0)
PARAMS = {"w": RNG.normal(size=(3, 2)), "b": RNG.normal(size=2)}
GRADS = [{"w": RNG.normal(size=(3, 2)), "b": RNG.normal(size=2)} for _ in range(3)]


def _numpy_run(step):
    """Three steps of ``step(i, g, state) -> state`` on each leaf, state = a list [x, ...]."""
    out = {}
    for k, x in PARAMS.items():
        state = [x.copy(), np.zeros_like(x), np.zeros_like(x)]
        for i, g in enumerate(GRADS):
            state = step(i, g[k], state)
        out[k] = state[0]
    return out


def _sgd(i, g, s):
    return [s[0] - 0.1 * g]


def _momentum(i, g, s, nesterov=False):
    v = 0.9 * s[1] + g
    return [s[0] - 0.1 * ((0.9 * v + g) if nesterov else v), v]


def _adagrad(i, g, s):
    g_sq = s[1] + g ** 2
    m = 0.1 * g / np.sqrt(g_sq) + 0.9 * s[2]
    return [s[0] - 0.1 * m, g_sq, m]


def _rmsprop(i, g, s):
    avg = 0.9 * s[1] + 0.1 * g ** 2
    return [s[0] - 0.1 * g / np.sqrt(avg + 1e-8), avg]


def _rmsprop_momentum(i, g, s):
    avg = 0.9 * s[1] + 0.1 * g ** 2
    mom = 0.9 * s[2] + 0.1 * g / np.sqrt(avg + 1e-8)
    return [s[0] - mom, avg, mom]


def _adam(i, g, s):
    m, v = 0.1 * g + 0.9 * s[1], 0.001 * g ** 2 + 0.999 * s[2]
    mhat, vhat = m / (1 - 0.9 ** (i + 1)), v / (1 - 0.999 ** (i + 1))
    return [s[0] - 0.1 * mhat / (np.sqrt(vhat) + 1e-8), m, v]


def _adamax(i, g, s):
    m, u = 0.1 * g + 0.9 * s[1], np.maximum(0.999 * s[2], np.abs(g))
    return [s[0] - 0.1 / (1 - 0.9 ** (i + 1)) * m / (u + 1e-8), m, u]


OPTIMIZERS = {
    "sgd": (opt.sgd(0.1), _sgd),
    "momentum": (opt.momentum(0.1, mass=0.9), _momentum),
    "nesterov": (opt.nesterov(0.1, 0.9), lambda i, g, s: _momentum(i, g, s, True)),
    "adagrad": (opt.adagrad(0.1), _adagrad),
    "rmsprop": (opt.rmsprop(0.1), _rmsprop),
    "rmsprop_momentum": (opt.rmsprop_momentum(0.1), _rmsprop_momentum),
    "adam": (opt.adam(0.1), _adam),
    "adamax": (opt.adamax(0.1), _adamax),
}


def _run(triple, update=None):
    init, update_fn, get_params = triple
    state = init(PARAMS)
    for i, g in enumerate(GRADS):
        state = (update or update_fn)(i, g, state)
    return get_params(state)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_three_steps_match_numpy(name):
    triple, step = OPTIMIZERS[name]
    got, want = _run(triple), _numpy_run(step)
    for k in PARAMS:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", list(OPTIMIZERS) + ["sm3"])
def test_jit_step_is_bit_identical_to_eager(name):
    triple = opt.sm3(0.1) if name == "sm3" else OPTIMIZERS[name][0]
    eager, jitted = _run(triple), _run(triple, nj.jit(triple[1]))
    for k in PARAMS:
        np.testing.assert_array_equal(jitted[k], eager[k])


def test_sm3_on_a_vector_is_adagrad_with_momentum():
    x, g = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    got = _run_leaf(opt.sm3(0.1), x, [g, g])
    want = _run_leaf(opt.adagrad(0.1), x, [g, g])
    np.testing.assert_allclose(got, want, rtol=1e-12)


def _run_leaf(triple, x, grads):
    init, update, get_params = triple
    state = init(x)
    for i, g in enumerate(grads):
        state = update(i, g, state)
    return get_params(state)


def test_sm3_keeps_one_accumulator_per_axis_and_scalars_work():
    init, update, get_params = opt.sm3(0.1)
    state = update(0, np.ones((3, 4)), init(np.zeros((3, 4))))
    assert [v.shape for v in state.packed_state[0][2:]] == [(3,), (4,)]
    assert get_params(update(0, 2.0, init(1.0))) == pytest.approx(1.0 - 0.1 * 0.1)


def test_training_inside_fori_loop_under_jit_as_mnist_vae_does():
    init, update, get_params = opt.momentum(0.05, mass=0.9)
    def loss(p):
        return jnp.sum((p["w"] - 1.0) ** 2) + jnp.sum(p["b"] ** 2)

    @nj.jit
    def run(state):
        return lax.fori_loop(0, 50, lambda i, s: update(i, nj.grad(loss)(get_params(s)), s),
                             state)
    final = get_params(run(init(PARAMS)))
    assert float(loss(final)) < 1e-2 * float(loss(PARAMS))
    state = init(PARAMS)
    for i in range(50):
        state = update(i, nj.grad(loss)(get_params(state)), state)
    np.testing.assert_allclose(final["w"], get_params(state)["w"], rtol=1e-12)


def test_step_size_schedules():
    assert opt.constant(0.3)(100) == 0.3
    assert float(opt.exponential_decay(1.0, 10, 0.5)(30)) == pytest.approx(0.125)
    assert float(opt.inverse_time_decay(1.0, 10, 1.0)(5)) == pytest.approx(1 / 1.5)
    assert float(opt.polynomial_decay(1.0, 10, 0.0, power=2.0)(5)) == pytest.approx(0.25)
    s = opt.piecewise_constant([5, 10], [1.0, 0.1, 0.01])
    assert [float(s(i)) for i in (5, 6, 10, 11)] == [1.0, 0.1, 0.1, 0.01]
    assert float(nj.jit(s)(7)) == 0.1
    sched = opt.make_schedule(lambda i: 1.0 / (i + 1))
    assert opt.make_schedule(0.5)(3) == 0.5 and sched(1) == 0.5
    got = _run(opt.sgd(sched))
    want = {k: PARAMS[k] - sum(g[k] / (i + 1) for i, g in enumerate(GRADS)) for k in PARAMS}
    np.testing.assert_allclose(got["w"], want["w"], rtol=1e-12)


def test_utilities_and_serialization_round_trip():
    tree = {"a": np.array([3.0]), "b": np.array(4.0)}
    assert float(opt.l2_norm(tree)) == 5.0
    clipped = opt.clip_grads(tree, 1.0)
    np.testing.assert_allclose(clipped["a"], [0.6])
    assert opt.clip_grads(tree, 10.0)["b"] == 4.0
    init, update, get_params = opt.adam(0.1)
    state = update(0, GRADS[0], init(PARAMS))
    marked = opt.unpack_optimizer_state(state)
    assert isinstance(marked["w"], opt.JoinPoint)
    back = opt.pack_optimizer_state(marked)
    assert back.tree_def == state.tree_def and back.subtree_defs == state.subtree_defs
    np.testing.assert_array_equal(get_params(update(1, GRADS[1], back))["w"],
                                  get_params(update(1, GRADS[1], state))["w"])


@pytest.mark.parametrize("call, error, words", [
    (lambda: opt.sgd(0.1)[1](0, {"w": 1.0}, opt.sgd(0.1)[0]({"v": 1.0})), TypeError,
     "does not match the parameter tree"),
    (lambda: opt.sgd("fast"), TypeError, "step_size must be a scalar or a schedule"),
    (lambda: opt.sgd(0.1)[2]({"w": 1.0}), TypeError, "OptimizerState"),
    (lambda: opt.piecewise_constant([1, 2], [1.0]), ValueError, "one entry fewer"),
    (lambda: opt.pack_optimizer_state({"w": 1.0}), TypeError, "JoinPoint"),
])
def test_bad_input_gets_a_sentence_naming_optimizers(call, error, words):
    with pytest.raises(error, match=r"nanojax\.example_libraries\.optimizers") as info:
        call()
    assert words in str(info.value)
