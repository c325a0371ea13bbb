"""nanojax.optim: each transform against its hand formula, then the optimizers.

In the style of optax's alias tests and JAX's optimizer tests: a table of
optimizers must converge on a parabola and on Rosenbrock's banana, eagerly
and under ``jit``; ``update`` keeps the state's tree structure and dtypes;
nothing mutates its inputs; bad arguments fail early with clear messages.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import optim
from nanojax.tree_util import tree_leaves, tree_map, tree_structure

PARAMS = {"w": np.array([[1.0, -2.0], [0.5, 3.0]]), "b": np.array([0.1, -0.2])}
GRADS = [{"w": np.array([[0.3, -1.0], [2.0, 0.5]]), "b": np.array([1.0, -0.5])},
         {"w": np.array([[-0.1, 0.4], [1.5, -2.0]]), "b": np.array([0.2, 0.7])},
         {"w": np.array([[0.8, 0.0], [-0.6, 1.1]]), "b": np.array([-1.3, 0.4])},
         {"w": np.array([[0.2, -0.9], [0.1, 0.3]]), "b": np.array([0.5, 0.5])}]


def run_updates(opt: optim.GradientTransformation, params: Any = PARAMS,
                grads_seq: list = GRADS) -> list:
    """The updates ``opt`` produces for a sequence of gradients."""
    state, out = opt.init(params), []
    for g in grads_seq:
        updates, state = opt.update(g, state, params)
        out.append(updates)
    return out


def assert_trees_close(got: Any, want: Any, **kw) -> None:
    assert tree_structure(got) == tree_structure(want)
    for g, w in zip(tree_leaves(got), tree_leaves(want)):
        np.testing.assert_allclose(g, w, **kw)


# ----- Each optimizer against its hand formula ---------------------------------------

def test_sgd_is_minus_learning_rate_times_gradient() -> None:
    (updates,) = run_updates(optim.sgd(0.1), grads_seq=GRADS[:1])
    assert_trees_close(updates, tree_map(lambda g: -0.1 * g, GRADS[0]))
    new = optim.apply_updates(PARAMS, updates)
    assert_trees_close(new, tree_map(lambda p, g: p - 0.1 * g, PARAMS, GRADS[0]))


@pytest.mark.parametrize("nesterov", [False, True], ids=["momentum", "nesterov"])
def test_sgd_with_momentum_matches_the_hand_formula(nesterov: bool) -> None:
    lr, m = 0.1, 0.9
    got = run_updates(optim.sgd(lr, momentum=m, nesterov=nesterov))
    trace = tree_map(np.zeros_like, PARAMS)
    for g, u in zip(GRADS, got):
        trace = tree_map(lambda g, t: g + m * t, g, trace)
        step = tree_map(lambda g, t: g + m * t, g, trace) if nesterov else trace
        assert_trees_close(u, tree_map(lambda s: -lr * s, step), rtol=1e-12)


def test_adam_matches_the_textbook_formulas() -> None:
    lr, b1, b2, eps = 0.01, 0.8, 0.95, 1e-6
    got = run_updates(optim.adam(lr, b1=b1, b2=b2, eps=eps))
    m = v = tree_map(np.zeros_like, PARAMS)
    for t, (g, u) in enumerate(zip(GRADS, got), start=1):
        m = tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, g)
        v = tree_map(lambda v, g: b2 * v + (1 - b2) * g ** 2, v, g)
        m_hat = tree_map(lambda m: m / (1 - b1 ** t), m)
        v_hat = tree_map(lambda v: v / (1 - b2 ** t), v)
        want = tree_map(lambda mh, vh: -lr * mh / (np.sqrt(vh) + eps), m_hat, v_hat)
        assert_trees_close(u, want, rtol=1e-12)


def test_adams_first_step_is_learning_rate_times_the_sign() -> None:
    (u,) = run_updates(optim.adam(0.01), grads_seq=GRADS[:1])
    assert_trees_close(u, tree_map(lambda g: -0.01 * np.sign(g), GRADS[0]), rtol=1e-6)


def test_sgd_with_a_schedule_uses_the_rate_of_each_step() -> None:
    schedule = lambda count: 0.1 / (count + 1)        # noqa: E731
    got = run_updates(optim.sgd(schedule))
    for step, (g, u) in enumerate(zip(GRADS, got)):
        assert_trees_close(u, tree_map(lambda g: -0.1 / (step + 1) * g, g), rtol=1e-12)


def test_clip_by_global_norm_shrinks_only_above_the_limit() -> None:
    clip = optim.clip_by_global_norm(1.0)
    big = {"a": np.array([3.0, 0.0]), "b": 4.0}            # norm 5
    clipped, _ = clip.update(big, clip.init(big))
    assert_trees_close(clipped, {"a": np.array([0.6, 0.0]), "b": 0.8})
    assert np.isclose(optim.global_norm(clipped), 1.0)
    small = {"a": np.array([0.3, 0.0]), "b": 0.4}
    assert_trees_close(clip.update(small, clip.init(small))[0], small)
    zeros = {"a": np.zeros(2), "b": 0.0}
    assert_trees_close(clip.update(zeros, clip.init(zeros))[0], zeros)


def test_add_decayed_weights_adds_the_scaled_params() -> None:
    t = optim.add_decayed_weights(0.01)
    u, _ = t.update(GRADS[0], t.init(PARAMS), PARAMS)
    assert_trees_close(u, tree_map(lambda g, p: g + 0.01 * p, GRADS[0], PARAMS))


def test_chain_applies_its_transforms_in_order() -> None:
    opt = optim.chain(optim.clip_by_global_norm(1.0), optim.scale(-2.0))
    u, state = opt.update([3.0, 4.0], opt.init([0.0, 0.0]))
    assert_trees_close(u, [-1.2, -1.6])
    assert state == (optim.EmptyState(), optim.EmptyState())


def test_states_are_namedtuples_that_print_their_fields() -> None:
    opt = optim.chain(optim.trace(0.9), optim.scale_by_adam(),
                      optim.scale_by_learning_rate(optim.constant_schedule(0.1)))
    state = opt.init({"w": np.zeros(2)})
    text = repr(state)
    for fragment in ("TraceState(trace=", "ScaleByAdamState(count=", "mu=", "nu=",
                     "ScaleByScheduleState(count="):
        assert fragment in text


# ----- Schedules -----------------------------------------------------------------------

SCHEDULES = [
    pytest.param(optim.constant_schedule(0.3), [0, 1, 1000], [0.3, 0.3, 0.3], id="constant"),
    pytest.param(optim.exponential_decay(1.0, 10, 0.5), [0, 5, 10, 20],
                 [1.0, 0.5 ** 0.5, 0.5, 0.25], id="exponential"),
    pytest.param(optim.exponential_decay(1.0, 10, 0.5, staircase=True), [0, 9, 10, 19, 25],
                 [1.0, 1.0, 0.5, 0.5, 0.25], id="exponential-staircase"),
    pytest.param(optim.piecewise_constant_schedule(0.1, {50: 0.5, 10: 0.1}), [0, 9, 10, 49, 50],
                 [0.1, 0.1, 0.01, 0.01, 0.005], id="piecewise-constant"),
    pytest.param(optim.cosine_decay_schedule(2.0, 100), [0, 50, 100, 150], [2.0, 1.0, 0.0, 0.0],
                 id="cosine"),
    pytest.param(optim.cosine_decay_schedule(1.0, 100, alpha=0.2), [0, 25, 100],
                 [1.0, 0.2 + 0.8 * (1 + np.cos(np.pi / 4)) / 2, 0.2], id="cosine-alpha"),
]


@pytest.mark.parametrize("schedule, counts, values", SCHEDULES)
def test_schedule_values(schedule: Callable, counts: list, values: list) -> None:
    for count, value in zip(counts, values):
        assert np.isclose(schedule(count), value, rtol=1e-12, atol=1e-15), count
        assert np.isclose(schedule(np.int32(count)), value, rtol=1e-12, atol=1e-15), count


@pytest.mark.parametrize("schedule, counts, values", SCHEDULES)
def test_schedule_under_jit_matches_eager(schedule: Callable, counts: list,
                                          values: list) -> None:
    jitted = nj.jit(lambda count: jnp.asarray(schedule(count)) * 1.0)
    for count, value in zip(counts, values):
        assert np.isclose(jitted(np.int32(count)), value, rtol=1e-12, atol=1e-15), count


# ----- Convergence: a parabola and Rosenbrock, eager and jitted ----------------------------

def parabola(params: dict) -> Any:
    return jnp.sum((params["x"] - np.array([1.0, -2.0])) ** 2) + (params["y"] - 0.5) ** 2


def rosenbrock(p: Any) -> Any:
    return (1.0 - p[0]) ** 2 + 100.0 * (p[1] - p[0] * p[0]) ** 2


PARABOLA_START = {"x": np.zeros(2), "y": 0.0}
PARABOLA_MIN = {"x": np.array([1.0, -2.0]), "y": 0.5}

# (name, optimizer for the parabola, for Rosenbrock, Rosenbrock's number of steps)
OPTIMIZERS = [
    ("sgd", optim.sgd(0.1), optim.sgd(2e-3), 5000),
    ("sgd-momentum", optim.sgd(0.1, momentum=0.5), optim.sgd(1e-3, momentum=0.9), 1500),
    ("sgd-nesterov", optim.sgd(0.1, momentum=0.5, nesterov=True),
     optim.sgd(1e-3, momentum=0.9, nesterov=True), 1500),
    ("adam", optim.adam(0.1), optim.adam(0.02), 1000),
    ("adam-cosine", optim.adam(optim.cosine_decay_schedule(0.1, 300)),
     optim.adam(optim.cosine_decay_schedule(0.05, 1000, alpha=0.01)), 1000),
    ("sgd-step-decay-clipped",
     optim.chain(optim.clip_by_global_norm(1.0),
                 optim.sgd(optim.exponential_decay(0.2, 100, 0.5, staircase=True))),
     optim.chain(optim.clip_by_global_norm(10.0), optim.sgd(1e-3, momentum=0.9)), 1500),
]


def minimize(loss: Callable, params: Any, opt: optim.GradientTransformation, steps: int,
             jit: bool) -> Any:
    def step(params, state):
        grads = nj.grad(loss)(params)
        updates, state = opt.update(grads, state, params)
        return optim.apply_updates(params, updates), state

    step = nj.jit(step) if jit else step
    state = opt.init(params)
    for _ in range(steps):
        params, state = step(params, state)
    return params


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
@pytest.mark.parametrize("name, opt, _, __", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_optimizer_finds_the_bottom_of_a_parabola(name, opt, _, __, jit: bool) -> None:
    found = minimize(parabola, PARABOLA_START, opt, 300, jit)
    assert_trees_close(found, PARABOLA_MIN, atol=1e-2)


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
@pytest.mark.parametrize("name, _, opt, steps", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_optimizer_finds_the_bottom_of_rosenbrocks_valley(name, _, opt, steps,
                                                          jit: bool) -> None:
    found = minimize(rosenbrock, np.array([0.0, 0.0]), opt, steps, jit)
    np.testing.assert_allclose(found, [1.0, 1.0], atol=2e-2)


@pytest.mark.parametrize("name, opt, _, __", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_jitted_update_step_equals_eager(name, opt, _, __) -> None:
    step = nj.jit(lambda p, s, g: opt.update(g, s, p))
    state_e = state_j = opt.init(PARAMS)
    for g in GRADS:
        u_e, state_e = opt.update(g, state_e, PARAMS)
        u_j, state_j = step(PARAMS, state_j, g)
        assert_trees_close(u_j, u_e, rtol=1e-12, atol=1e-15)
        assert_trees_close(state_j, state_e, rtol=1e-12, atol=1e-15)


# ----- Properties of every optimizer ------------------------------------------------------

@pytest.mark.parametrize("name, opt, _, __", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_update_keeps_the_state_structure_and_dtypes(name, opt, _, __) -> None:
    state = opt.init(PARAMS)
    new_state = state
    for g in GRADS:
        new_state = opt.update(g, new_state, PARAMS)[1]
    assert tree_structure(new_state) == tree_structure(state)
    for old, new in zip(tree_leaves(state), tree_leaves(new_state)):
        assert np.shape(old) == np.shape(new) and np.result_type(old) == np.result_type(new)


@pytest.mark.parametrize("name, opt, _, __", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_nothing_mutates_its_inputs(name, opt, _, __) -> None:
    params, grads = copy.deepcopy(PARAMS), copy.deepcopy(GRADS[0])
    state = opt.init(params)
    state_before = copy.deepcopy(state)
    updates, new_state = opt.update(grads, state, params)
    updates_before = copy.deepcopy(updates)
    optim.apply_updates(params, updates)
    opt.update(GRADS[1], new_state, params)
    assert_trees_close(params, PARAMS, rtol=0, atol=0)
    assert_trees_close(grads, GRADS[0], rtol=0, atol=0)
    assert_trees_close(state, state_before, rtol=0, atol=0)
    assert_trees_close(updates, updates_before, rtol=0, atol=0)


def test_apply_updates_keeps_each_leafs_dtype() -> None:
    params = {"w": np.ones(3, np.float32), "s": 1.0}
    new = optim.apply_updates(params, {"w": np.full(3, 0.5), "s": 0.25})
    assert new["w"].dtype == np.float32 and np.isclose(new["s"], 1.25)


def test_one_optimizer_drives_independent_runs() -> None:
    opt = optim.adam(0.1)
    a = opt.update(GRADS[0], opt.init(PARAMS), PARAMS)
    opt.update(GRADS[1], opt.init(PARAMS), PARAMS)
    b = opt.update(GRADS[0], opt.init(PARAMS), PARAMS)
    assert_trees_close(a, b, rtol=0, atol=0)


# ----- Bad inputs ---------------------------------------------------------------------

@pytest.mark.parametrize("make", [optim.sgd, optim.adam], ids=["sgd", "adam"])
@pytest.mark.parametrize("lr", [0.0, -0.1])
def test_non_positive_learning_rate_raises(make: Callable, lr: float) -> None:
    with pytest.raises(ValueError, match="learning_rate must be positive"):
        make(lr)


def test_learning_rate_of_the_wrong_type_raises() -> None:
    with pytest.raises(TypeError, match="number or a schedule"):
        optim.sgd("0.1")


def test_params_with_a_different_structure_from_grads_raise_naming_both() -> None:
    opt = optim.sgd(0.1, momentum=0.9)
    state = opt.init(PARAMS)
    wrong = {"w": PARAMS["w"], "bias": PARAMS["b"]}
    with pytest.raises(ValueError) as info:
        opt.update(GRADS[0], state, wrong)
    message = str(info.value)
    assert str(tree_structure(GRADS[0])) in message and str(tree_structure(wrong)) in message


def test_apply_updates_with_a_different_structure_raises_naming_both() -> None:
    with pytest.raises(ValueError, match=r"updates.*\(\*, \*\).*params.*\[\*, \*\]"):
        optim.apply_updates([1.0, 2.0], (0.1, 0.2))


BAD_ARGUMENTS = [
    pytest.param(lambda: optim.sgd(0.1, nesterov=True), "needs a momentum", id="nesterov"),
    pytest.param(lambda: optim.sgd(0.1, momentum=1.5), "decay", id="momentum-above-one"),
    pytest.param(lambda: optim.adam(0.1, b1=1.0), "b1", id="adam-b1"),
    pytest.param(lambda: optim.adam(0.1, b2=-0.1), "b2", id="adam-b2"),
    pytest.param(lambda: optim.clip_by_global_norm(-1.0), "max_norm", id="clip"),
    pytest.param(lambda: optim.exponential_decay(0.1, 0, 0.5), "steps", id="exponential"),
    pytest.param(lambda: optim.cosine_decay_schedule(0.1, 0), "steps", id="cosine"),
    pytest.param(lambda: optim.add_decayed_weights(0.1).update(1.0, optim.EmptyState()),
                 "needs params", id="decay-without-params"),
    pytest.param(lambda: optim.adam(0.1).update(1.0, optim.sgd(0.1).init(1.0)),
                 "state from this optimizer's init", id="state-of-another-optimizer"),
]


@pytest.mark.parametrize("call, fragment", BAD_ARGUMENTS)
def test_bad_arguments_raise_value_error(call: Callable, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        call()


def test_clip_to_zero_norm_zeroes_the_updates_as_in_optax() -> None:
    # optax's getting-started: inject_hyperparams(clip_by_global_norm) with max_norm
    # falling linearly from 1 to 0 over 99 steps.
    tx = optim.inject_hyperparams(optim.clip_by_global_norm)(
        max_norm=optim.linear_schedule(1.0, 0.0, transition_steps=99))
    state = tx.init(None)
    assert state.hyperparams["max_norm"] == 1.0
    for _ in range(100):
        _, state = tx.update(None, state)
    assert state.hyperparams["max_norm"] == 0.0
    zeroed, _ = optim.clip_by_global_norm(0.0).update({"w": jnp.array([3.0, 4.0])},
                                                       optim.EmptyState())
    np.testing.assert_array_equal(zeroed["w"], [0.0, 0.0])


def test_freeze_and_selective_transform_hold_the_masked_params() -> None:
    # optax's freezing_parameters example: param1 frozen, param0 trained towards 0.
    loss = lambda p: jnp.sum(p["param0"] ** 2 + p["param1"] ** 2)      # noqa: E731
    mask = {"param0": False, "param1": True}
    for opt in (optim.chain(optim.adam(0.1), optim.freeze(mask)),
                optim.selective_transform(optim.adam(0.1), freeze_mask=mask)):
        params = {"param0": jnp.array([10.0]), "param1": jnp.array([10.0])}
        state = opt.init(params)

        @nj.jit
        def step(p, s, opt=opt):
            updates, s = opt.update(nj.grad(loss)(p), s, p)
            return optim.apply_updates(p, updates), s
        for _ in range(200):
            params, state = step(params, state)
        assert float(params["param1"][0]) == 10.0
        assert abs(float(params["param0"][0])) < 1.0
    # selective_transform keeps no adam state for the frozen leaf; a prefix mask works too
    tx = optim.selective_transform(optim.adam(0.1), freeze_mask={"enc": True, "dec": False})
    params = {"enc": {"w": jnp.ones(2), "b": 0.0}, "dec": jnp.ones(3)}
    u, _ = tx.update(params, tx.init(params), params)
    np.testing.assert_array_equal(u["enc"]["w"], [0.0, 0.0])
    assert float(u["enc"]["b"]) == 0.0 and np.all(np.asarray(u["dec"]) < 0)
    u, _ = optim.freeze(True).update(params, optim.freeze(True).init(params))
    assert all(float(np.max(np.abs(leaf))) == 0.0 for leaf in nj.tree_util.tree_leaves(u))


def test_flatten_gives_the_inner_transforms_updates() -> None:
    params = {"w": jnp.arange(3.0), "b": jnp.array(0.5), "k": jnp.ones((2, 2))}
    grads = nj.tree_util.tree_map(lambda p: jnp.sin(p) + 1.0, params)
    # (elementwise transforms only: lamb's per-leaf trust ratio sees one leaf when flat)
    for inner in (optim.adam(0.1), optim.sgd(0.1, momentum=0.9), optim.rmsprop(0.01)):
        flat_tx = optim.flatten(inner)
        u_flat, s_flat = flat_tx.update(grads, flat_tx.init(params), params)
        u_tree, _ = inner.update(grads, inner.init(params), params)
        for a, b in zip(nj.tree_util.tree_leaves(u_flat), nj.tree_util.tree_leaves(u_tree)):
            np.testing.assert_allclose(a, b, rtol=1e-12)
        assert all(np.ndim(x) <= 1 for x in nj.tree_util.tree_leaves(s_flat))
