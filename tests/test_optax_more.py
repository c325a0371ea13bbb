"""The rest of optax's names in nanojax.optim: optimizers against NumPy re-implementations,
wrappers, schedules and losses (values, gradients, errors), eager and under jit."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
import nanojax.optax as optax
from nanojax import optim
from nanojax.tree_util import tree_map

RNG = np.random.default_rng(1)
P = {"w": RNG.normal(size=(3, 2)), "b": RNG.normal(size=2)}
G = [{"w": RNG.normal(size=(3, 2)), "b": RNG.normal(size=2)} for _ in range(8)]


def _steps(opt, grads=G, params=P):
    state = opt.init(params)
    for g in grads:
        u, state = opt.update(g, state, params)
        params = optim.apply_updates(params, u)
    return params


# ----- NumPy re-implementations, one leaf at a time --------------------------------------------

def _adam_like(x, gs, lr, b1, b2, eps, second, nesterov=False, wd=0.0, correct_nu=True,
               init=0.0, amsgrad=False):
    m = np.full_like(x, init)
    v = np.full_like(x, init)
    v_max = np.zeros_like(x)
    for t, g in enumerate(gs, 1):
        m = b1 * m + (1 - b1) * g
        v = second(g, m, v)
        m_hat = m / (1 - b1 ** t)
        if nesterov:
            m_hat = b1 * m / (1 - b1 ** (t + 1)) + (1 - b1) * g / (1 - b1 ** t)
        v_hat = v / (1 - b2 ** t) if correct_nu else v
        if amsgrad:
            v_max = np.maximum(v_max, v_hat)
            v_hat = v_max
        x = x - lr * (m_hat / eps(v_hat) + wd * x)
    return x


def _sq(b2):
    return lambda g, m, v: b2 * v + (1 - b2) * g * g


def _nadam_np(x, gs):
    return _adam_like(x, gs, 0.1, 0.9, 0.999, lambda v: np.sqrt(v) + 1e-8, _sq(0.999), True)


def _nadamw_np(x, gs):
    return _adam_like(x, gs, 0.1, 0.9, 0.999, lambda v: np.sqrt(v) + 1e-8, _sq(0.999), True,
                      wd=0.3)


def _adabelief_np(x, gs):
    return _adam_like(x, gs, 0.1, 0.9, 0.999, lambda v: np.sqrt(v) + 1e-16,
                      lambda g, m, v: 0.999 * v + 0.001 * (g - m) ** 2 + 1e-16)


def _amsgrad_np(x, gs):
    return _adam_like(x, gs, 0.1, 0.9, 0.999, lambda v: np.sqrt(v) + 1e-8, _sq(0.999),
                      amsgrad=True)


def _adamax_np(x, gs):
    return _adam_like(x, gs, 0.1, 0.9, 0.999, lambda v: v,
                      lambda g, m, v: np.maximum(np.abs(g) + 1e-8, 0.999 * v), correct_nu=False)


def _yogi_np(x, gs):
    return _adam_like(x, gs, 0.1, 0.9, 0.999, lambda v: np.sqrt(v) + 1e-3,
                      lambda g, m, v: v - 0.001 * np.sign(v - g * g) * g * g, init=1e-6)


def _radam_np(x, gs, lr=0.1, b1=0.9, b2=0.8, eps=1e-8, threshold=5.0):
    m = v = np.zeros_like(x)
    ro_inf = 2 / (1 - b2) - 1
    for t, g in enumerate(gs, 1):
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        ro = ro_inf - 2 * t * b2 ** t / (1 - b2 ** t)
        if ro >= threshold:
            r = np.sqrt((ro - 4) * (ro - 2) * ro_inf / ((ro_inf - 4) * (ro_inf - 2) * ro))
            x = x - lr * r * m_hat / (np.sqrt(v_hat) + eps)
        else:
            x = x - lr * m_hat
    return x


def _adagrad_np(x, gs, lr=0.1, init=0.1, eps=1e-7):
    s = np.full_like(x, init)
    for g in gs:
        s = s + g * g
        x = x - lr * g / np.sqrt(s + eps)
    return x


def _adadelta_np(x, gs, lr=0.5, rho=0.9, eps=1e-6):
    e_g = e_x = np.zeros_like(x)
    for g in gs:
        e_g = rho * e_g + (1 - rho) * g * g
        u = np.sqrt(e_x + eps) / np.sqrt(e_g + eps) * g
        e_x = rho * e_x + (1 - rho) * u * u
        x = x - lr * u
    return x


def _novograd_np(x, gs, lr=0.1, b1=0.9, b2=0.25, eps=1e-6, wd=0.1):
    m, nu = np.zeros_like(x), 0.0
    for t, g in enumerate(gs, 1):
        nu = np.sum(g * g) if t == 1 else b2 * nu + (1 - b2) * np.sum(g * g)
        step = g / (np.sqrt(nu) + eps) + wd * x
        m = step if t == 1 else b1 * m + step
        x = x - lr * m
    return x


def _lamb_np(x, gs, lr=0.1, b1=0.9, b2=0.999, eps=1e-6, wd=0.2):
    m = v = np.zeros_like(x)
    for t, g in enumerate(gs, 1):
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        u = (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps) + wd * x
        x = x - lr * np.linalg.norm(x) / np.linalg.norm(u) * u
    return x


def _lars_np(x, gs, lr=0.1, wd=0.2, tc=0.001, momentum=0.9):
    tr = np.zeros_like(x)
    for g in gs:
        u = g + wd * x
        u = u * tc * np.linalg.norm(x) / np.linalg.norm(u)
        tr = -lr * u + momentum * tr
        x = x + tr
    return x


def _rmsprop_np(x, gs, centered, bias_correction, lr=0.1, decay=0.9, eps=1e-8):
    m = v = np.zeros_like(x)
    for t, g in enumerate(gs, 1):
        m, v = decay * m + (1 - decay) * g, decay * v + (1 - decay) * g * g
        c = 1 - decay ** t if bias_correction else 1.0
        var = v / c - (m / c) ** 2 if centered else v / c
        x = x - lr * g / (np.sqrt(var) + eps)
    return x


def _signum_np(x, gs, lr=0.1, beta=0.9):
    e = np.zeros_like(x)
    for g in gs:
        e = beta * e + (1 - beta) * g
        x = x - lr * np.sign(e)
    return x


def _adafactor_np(x, gs, lr=0.1):
    """optax.adafactor(lr, min_dim_size_to_factor=2): factored for 2-D leaves."""
    v_row = v_col = v = None
    for t, g in enumerate(gs):
        rate = 1 - (t + 1.0) ** -0.8
        g2 = g * g + 1e-30
        if x.ndim == 2:     # (3, 2): factor over d1 = 1 (size 2), d0 = 0 (size 3)
            v_row = (1 - rate) * g2.mean(0) if v_row is None else \
                rate * v_row + (1 - rate) * g2.mean(0)
            v_col = (1 - rate) * g2.mean(1) if v_col is None else \
                rate * v_col + (1 - rate) * g2.mean(1)
            row_factor = (v_row / v_row.mean(keepdims=True)) ** -0.5
            u = g * row_factor[None, :] * v_col[:, None] ** -0.5
        else:
            v = (1 - rate) * g2 if v is None else rate * v + (1 - rate) * g2
            u = g * v ** -0.5
        u = u / max(1.0, np.sqrt(np.mean(u * u)))
        u = lr * u * max(np.sqrt(np.mean(x * x)), 1e-3)
        x = x - u
    return x


OPTIMIZERS = [
    ("nadam", lambda: optax.nadam(0.1), _nadam_np),
    ("nadamw", lambda: optax.nadamw(0.1, weight_decay=0.3), _nadamw_np),
    ("adabelief", lambda: optax.adabelief(0.1), _adabelief_np),
    ("amsgrad", lambda: optax.amsgrad(0.1), _amsgrad_np),
    ("adamax", lambda: optax.adamax(0.1), _adamax_np),
    ("yogi", lambda: optax.yogi(0.1), _yogi_np),
    ("radam", lambda: optax.radam(0.1, b2=0.8), _radam_np),
    ("adagrad", lambda: optax.adagrad(0.1), _adagrad_np),
    ("adadelta", lambda: optax.adadelta(0.5), _adadelta_np),
    ("novograd", lambda: optax.novograd(0.1, weight_decay=0.1), _novograd_np),
    ("lamb", lambda: optax.lamb(0.1, weight_decay=0.2), _lamb_np),
    ("lars", lambda: optax.lars(0.1, weight_decay=0.2), _lars_np),
    # (centered with bias correction divides by 0 on the first step, in optax too)
    ("rmsprop-centered", lambda: optax.rmsprop(0.1, centered=True, eps_in_sqrt=False),
     functools.partial(_rmsprop_np, centered=True, bias_correction=False)),
    ("rmsprop-bias-correction", lambda: optax.rmsprop(0.1, eps_in_sqrt=False,
                                                      bias_correction=True),
     functools.partial(_rmsprop_np, centered=False, bias_correction=True)),
    ("signum", lambda: optax.signum(0.1), _signum_np),
    ("adafactor", lambda: optax.adafactor(0.1, min_dim_size_to_factor=2), _adafactor_np),
]


@pytest.mark.parametrize("make, ref", [o[1:] for o in OPTIMIZERS], ids=[o[0] for o in OPTIMIZERS])
def test_optimizer_steps_match_numpy(make, ref):
    got = _steps(make())
    for k in P:
        np.testing.assert_allclose(got[k], ref(P[k], [g[k] for g in G]), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("make", [o[1] for o in OPTIMIZERS], ids=[o[0] for o in OPTIMIZERS])
def test_jit_update_is_bit_identical_to_eager(make):
    opt = make()
    state = opt.init(P)
    for g in G[:3]:
        eager_u, eager_state = opt.update(g, state, P)
        jit_u, jit_state = nj.jit(opt.update)(g, state, P)
        for k in P:
            np.testing.assert_array_equal(jit_u[k], eager_u[k])
        state = eager_state
    tree_map(np.testing.assert_array_equal, jit_state, eager_state)


def test_adam_and_adamw_take_nesterov_as_nadam():
    np.testing.assert_array_equal(_steps(optax.adam(0.1, nesterov=True))["w"],
                                  _steps(optax.nadam(0.1))["w"])


def test_noisy_sgd_adds_annealed_gaussian_noise_from_its_key():
    key = nj.random.PRNGKey(3)
    opt = optax.noisy_sgd(0.1, eta=0.5, gamma=0.55, key=key)
    state = opt.init(P)
    k = key
    for count, g in enumerate(G[:2], 1):
        u, state = opt.update(g, state)
        k, sample = nj.random.split(k)
        kb, kw = nj.random.split(sample, 2)      # one key per leaf, in leaf order (b, w)
        std = np.sqrt(0.5 / count ** 0.55)
        np.testing.assert_allclose(u["w"], -0.1 * (g["w"] + std * nj.random.normal(kw, (3, 2))))
        np.testing.assert_allclose(u["b"], -0.1 * (g["b"] + std * nj.random.normal(kb, (2,))))
    same = optax.noisy_sgd(0.1, eta=0.5, key=3)            # an int key is a seed
    np.testing.assert_array_equal(same.update(G[0], same.init(P))[0]["w"],
                                  opt.update(G[0], opt.init(P))[0]["w"])


# ----- Wrappers ------------------------------------------------------------------------------

def test_masked_applies_inner_only_where_marked():
    opt = optax.masked(optax.adam(0.1), {"w": True, "b": False})
    state = opt.init(P)
    u, state = opt.update(G[0], state, P)
    adam_u, _ = optax.adam(0.1).update(G[0], optax.adam(0.1).init(P), P)
    np.testing.assert_array_equal(u["w"], adam_u["w"])
    np.testing.assert_array_equal(u["b"], G[0]["b"])
    assert isinstance(state.inner_state[0].mu["b"], optax.MaskedNode)
    callable_mask = optax.masked(optax.scale(2.0), lambda p: {"w": False, "b": True})
    u, _ = callable_mask.update(G[0], callable_mask.init(P))
    np.testing.assert_array_equal(u["b"], 2.0 * G[0]["b"])
    with pytest.raises(ValueError, match=r"nanojax.optim.masked: the mask must have"):
        optax.masked(optax.scale(2.0), {"w": True}).init(P)


def test_adamw_mask_now_goes_through_masked():
    opt = optax.adamw(0.1, weight_decay=1.0, mask={"w": True, "b": False})
    zero = tree_map(np.zeros_like, P)
    u, _ = opt.update(zero, opt.init(P), P)
    np.testing.assert_allclose(u["w"], -0.1 * P["w"])
    np.testing.assert_array_equal(u["b"], 0.0)


def test_multi_transform_gives_each_group_its_optimizer():
    opt = optax.multi_transform({"a": optax.adam(0.1), "s": optax.sgd(0.5)},
                                {"w": "a", "b": "s"})
    got = _steps(opt, G[:3])
    np.testing.assert_allclose(got["w"], _steps(optax.adam(0.1), G[:3])["w"])
    np.testing.assert_allclose(got["b"], P["b"] - 0.5 * sum(g["b"] for g in G[:3]))
    with pytest.raises(ValueError, match=r"nanojax.optim.partition: some params have no"):
        optax.multi_transform({"a": optax.sgd(0.1)}, {"w": "a", "b": "z"}).init(P)


def test_multisteps_accumulates_k_gradients_then_steps():
    opt = optax.MultiSteps(optax.sgd(1.0), every_k_schedule=3)
    state = opt.init(P)
    step = nj.jit(opt.update)
    for i, g in enumerate(G[:6]):
        u, state = step(g, state)
        if i % 3 == 2:
            mean = sum(h["w"] for h in G[i - 2:i + 1]) / 3
            np.testing.assert_allclose(u["w"], -mean, rtol=1e-12)
            assert bool(opt.has_updated(state))
        else:
            np.testing.assert_array_equal(u["w"], 0.0)
            assert not bool(opt.has_updated(state))
    assert int(state.gradient_step) == 2
    summed = optax.MultiSteps(optax.sgd(1.0), 2, use_grad_mean=False)
    s = summed.init(P)
    _, s = summed.update(G[0], s)
    u, _ = summed.update(G[1], s)
    np.testing.assert_allclose(u["w"], -(G[0]["w"] + G[1]["w"]))


def test_multisteps_skips_non_finite_gradients():
    opt = optax.MultiSteps(optax.sgd(1.0), 2, should_skip_update_fn=optax.skip_not_finite)
    state = opt.init(P)
    bad = {"w": np.full((3, 2), np.nan), "b": np.zeros(2)}
    u, state = opt.update(bad, state)
    assert int(state.mini_step) == 0 and int(state.skip_state["num_not_finite"]) == 6
    np.testing.assert_array_equal(u["w"], 0.0)
    _, state = opt.update(G[0], state)
    u, state = opt.update(G[1], state)
    np.testing.assert_allclose(u["w"], -(G[0]["w"] + G[1]["w"]) / 2)
    large = functools.partial(optax.skip_large_updates, max_squared_norm=1e-6)
    skipper = optax.MultiSteps(optax.sgd(1.0), 1, should_skip_update_fn=large)
    u, _ = skipper.update(G[0], skipper.init(P))
    np.testing.assert_array_equal(u["w"], 0.0)


def test_apply_if_finite_skips_until_too_many_errors():
    opt = optax.apply_if_finite(optax.sgd(1.0, momentum=0.5), max_consecutive_errors=1)
    state = opt.init(P)
    bad = {"w": np.full((3, 2), np.inf), "b": np.zeros(2)}
    u, state = opt.update(bad, state)
    np.testing.assert_array_equal(u["w"], 0.0)
    np.testing.assert_array_equal(state.inner_state[0].trace["w"], 0.0)
    assert not bool(state.last_finite) and int(state.notfinite_count) == 1
    u, state = nj.jit(opt.update)(bad, state)       # the second in a row goes through
    assert np.all(np.isinf(u["w"])) and int(state.total_notfinite) == 2
    u, state = opt.update(G[0], state)
    assert int(state.notfinite_count) == 0 and bool(state.last_finite)


def test_inject_hyperparams_keeps_numbers_and_schedules_in_the_state():
    schedule = optax.linear_schedule(0.1, 0.0, 4)
    opt = optax.inject_hyperparams(optax.adam)(learning_rate=schedule, b1=0.8)
    np.testing.assert_allclose(_steps(opt, G[:4])["w"],
                               _steps(optax.adam(schedule, b1=0.8), G[:4])["w"], rtol=1e-12)
    state = opt.init(P)
    assert float(state.hyperparams["b1"]) == 0.8
    eager = opt.update(G[0], state, P)
    jitted = nj.jit(opt.update)(G[0], state, P)
    np.testing.assert_array_equal(jitted[0]["w"], eager[0]["w"])
    assert float(eager[1].hyperparams["learning_rate"]) == 0.1
    # A training loop may change a hyperparameter in the state.
    state = state._replace(hyperparams={**state.hyperparams, "learning_rate": np.float64(0.0)})
    u, _ = optax.inject_hyperparams(optax.sgd)(0.5).update(G[0], optax.inject_hyperparams(
        optax.sgd)(0.5).init(P))
    np.testing.assert_allclose(u["w"], -0.5 * G[0]["w"])
    with pytest.raises(ValueError, match=r"nanojax.optim.inject_hyperparams: static_args"):
        optax.inject_hyperparams(optax.sgd, static_args="nope")


def test_chain_passes_extra_args_to_transforms_that_take_them():
    seen = {}

    def update(updates, state, params=None, **extra):
        seen.update(extra)
        return updates, state
    takes = optax.GradientTransformationExtraArgs(lambda p: optax.EmptyState(), update)
    opt = optax.chain(optax.scale(2.0), takes)
    u, _ = opt.update(1.0, opt.init(0.0), None, value=3.0)
    assert u == 2.0 and seen == {"value": 3.0}
    assert isinstance(opt, optax.GradientTransformation)


def test_trust_ratio_needs_params():
    with pytest.raises(ValueError, match=r"nanojax.optim.scale_by_trust_ratio needs params"):
        optax.scale_by_trust_ratio().update(G[0], optax.EmptyState())


def test_small_transforms():
    u, _ = optax.identity().update(G[0], optax.EmptyState())
    # The same arrays, handed back as nanojax's arrays (views: no copy).
    assert all(np.shares_memory(u[k], G[0][k]) for k in G[0]) if isinstance(G[0], dict) \
        else np.shares_memory(u, G[0])
    e = optax.ema(0.5)
    s = e.init(P)
    u1, s = e.update(G[0], s)
    u2, s = e.update(G[1], s)
    np.testing.assert_allclose(u1["w"], G[0]["w"])            # debiased
    np.testing.assert_allclose(u2["w"], (0.25 * G[0]["w"] + 0.5 * G[1]["w"]) / 0.75)
    z, zs = optax.zero_nans().update({"a": np.array([np.nan, 1.0])}, None)
    np.testing.assert_array_equal(z["a"], [0.0, 1.0])
    assert bool(zs.found_nan["a"])
    c, _ = optax.centralize().update(G[0], optax.EmptyState())
    np.testing.assert_allclose(c["w"], G[0]["w"] - G[0]["w"].mean(1, keepdims=True))
    np.testing.assert_array_equal(c["b"], G[0]["b"])
    k, _ = optax.keep_params_nonnegative().update({"x": np.array([-2.0, -2.0])},
                                                  optax.EmptyState(), {"x": np.array([1.0, 3.0])})
    np.testing.assert_array_equal(k["x"], [-1.0, -2.0])
    ae = optax.apply_every(2)
    s = ae.init(P)
    u1, s = ae.update(G[0], s)
    u2, s = ae.update(G[1], s)
    np.testing.assert_array_equal(u1["w"], 0.0)
    np.testing.assert_allclose(u2["w"], G[0]["w"] + G[1]["w"])
    u, _ = optax.clip_by_block_rms(0.5).update(G[0], optax.EmptyState())
    rms = np.sqrt(np.mean(G[0]["w"] ** 2))
    np.testing.assert_allclose(u["w"], G[0]["w"] / max(1.0, rms / 0.5))
    u, _ = optax.scale_by_param_block_norm().update(G[0], optax.EmptyState(), P)
    np.testing.assert_allclose(u["w"], G[0]["w"] * np.linalg.norm(P["w"]))


def test_add_decayed_weights_takes_a_schedule():
    t = optax.add_decayed_weights(lambda count: 0.1 * (count + 1))
    s = t.init(P)
    u, s = t.update(G[0], s, P)
    u, s = t.update(G[0], s, P)
    np.testing.assert_allclose(u["w"], G[0]["w"] + 0.2 * P["w"])


def test_incremental_and_periodic_update():
    new, old = {"w": np.ones(2)}, {"w": np.zeros(2)}
    np.testing.assert_array_equal(optax.incremental_update(new, old, 0.1)["w"], 0.1)
    assert optax.periodic_update(new, old, 3, 2) is old
    got = nj.jit(lambda s: optax.periodic_update(new, old, s, 2))(4)
    np.testing.assert_array_equal(got["w"], 1.0)
    with pytest.raises(ValueError, match=r"nanojax.optim: new_tensors and params"):
        optax.incremental_update({"a": 1.0}, {"b": 1.0}, 0.5)


# ----- Schedules -------------------------------------------------------------------------------

@pytest.mark.parametrize("schedule, expected", [
    (optax.piecewise_interpolate_schedule("linear", 2.0, {4: 0.5, 8: 0.0}),
     {0: 2.0, 2: 1.5, 4: 1.0, 6: 0.5, 8: 0.0, 100: 0.0}),
    (optax.piecewise_interpolate_schedule("cosine", 2.0, {4: 0.5}),
     {0: 2.0, 2: 1.5, 4: 1.0, 9: 1.0}),
    (optax.linear_onecycle_schedule(100, 1.0),
     {0: 0.04, 15: 0.52, 30: 1.0, 85: 0.04, 100: 4e-6, 200: 4e-6}),
    (optax.cosine_onecycle_schedule(100, 1.0), {0: 0.04, 15: 0.52, 30: 1.0, 100: 4e-6}),
    (optax.warmup_constant_schedule(0.0, 1.0, 10), {0: 0.0, 5: 0.5, 10: 1.0, 50: 1.0}),
    (optax.warmup_exponential_decay_schedule(0.0, 1.0, 10, 10, 0.5, staircase=True),
     {5: 0.5, 10: 1.0, 19: 1.0, 20: 0.5, 30: 0.25}),
    (optax.sgdr_schedule([dict(init_value=0.0, peak_value=1.0, warmup_steps=2,
                               decay_steps=10)] * 2),
     {0: 0.0, 2: 1.0, 10: 0.0, 11: 0.5, 12: 1.0}),
])
def test_schedule_values(schedule, expected):
    for count, value in expected.items():
        np.testing.assert_allclose(float(schedule(count)), value, atol=1e-12,
                                   err_msg=f"count {count}")
        assert float(nj.jit(schedule)(count)) == float(schedule(count))


def test_schedule_errors():
    with pytest.raises(ValueError, match=r"nanojax.optim.piecewise_interpolate_schedule: "
                                         r"interpolate_type"):
        optax.piecewise_interpolate_schedule("cubic", 1.0)
    with pytest.raises(ValueError, match=r"non-negative"):
        optax.piecewise_interpolate_schedule("linear", 1.0, {3: -1.0})
    with pytest.raises(ValueError, match=r"nanojax.optim.linear_onecycle_schedule: the number"):
        optax.linear_onecycle_schedule(0, 1.0)


# ----- Losses ---------------------------------------------------------------------------------

LOGITS = RNG.normal(size=(4, 3))
PROBS = np.exp(LOGITS) / np.exp(LOGITS).sum(-1, keepdims=True)
TARGET_PROBS = RNG.dirichlet(np.ones(3), size=4)
BINARY = (RNG.random((4, 3)) > 0.5).astype(float)
PM1 = 2 * BINARY - 1


def _focal_np(x, y, gamma=2.0, alpha=None):
    p = 1 / (1 + np.exp(-x))
    ce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * (1 - p_t) ** gamma
    return loss if alpha is None else (alpha * y + (1 - alpha) * (1 - y)) * loss


LOSSES = [
    ("smooth_labels", lambda x: optax.smooth_labels(x, 0.1), (TARGET_PROBS,),
     lambda y: 0.9 * y + 0.1 / 3),
    ("safe_softmax_cross_entropy", lambda x: optax.safe_softmax_cross_entropy(x, TARGET_PROBS),
     (LOGITS,), lambda x: -(TARGET_PROBS * np.log(PROBS)).sum(-1)),
    ("cosine_similarity", lambda a, b: optax.cosine_similarity(a, b), (LOGITS, TARGET_PROBS),
     lambda a, b: (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)),
    ("cosine_distance", lambda a, b: optax.cosine_distance(a, b), (LOGITS, TARGET_PROBS),
     lambda a, b: 1 - (a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1)),
    ("sigmoid_focal_loss", lambda x: optax.sigmoid_focal_loss(x, BINARY), (LOGITS,),
     lambda x: _focal_np(x, BINARY)),
    ("sigmoid_focal_loss-alpha",
     lambda x: optax.sigmoid_focal_loss(x, BINARY, alpha=0.25, gamma=1.5), (LOGITS,),
     lambda x: _focal_np(x, BINARY, 1.5, 0.25)),
    ("multiclass_hinge_loss", lambda s: optax.multiclass_hinge_loss(s, np.array([0, 2, 1, 1])),
     (LOGITS,), lambda s: (s + 1 - np.eye(3)[[0, 2, 1, 1]]).max(-1) - s[range(4), [0, 2, 1, 1]]),
    ("log_cosh", lambda a, b: optax.log_cosh(a, b), (LOGITS, TARGET_PROBS),
     lambda a, b: np.log(np.cosh(a - b))),
    ("kl_divergence", lambda lp: optax.kl_divergence(lp, TARGET_PROBS), (np.log(PROBS),),
     lambda lp: (TARGET_PROBS * (np.log(TARGET_PROBS) - lp)).sum(-1)),
    ("hinge_loss", lambda x: optax.hinge_loss(x, PM1), (LOGITS,),
     lambda x: np.maximum(0, 1 - x * PM1)),
    ("perceptron_loss", lambda x: optax.perceptron_loss(x, PM1), (LOGITS,),
     lambda x: np.maximum(0, -x * PM1)),
    ("squared_error", lambda a, b: optax.squared_error(a, b), (LOGITS, TARGET_PROBS),
     lambda a, b: (a - b) ** 2),
]
SMOOTH = {"smooth_labels", "safe_softmax_cross_entropy", "cosine_similarity", "cosine_distance",
          "sigmoid_focal_loss", "sigmoid_focal_loss-alpha", "log_cosh", "kl_divergence",
          "squared_error"}


@pytest.mark.parametrize("name, fn, args, ref", LOSSES, ids=[x[0] for x in LOSSES])
def test_loss_matches_numpy_eager_jit_and_vmap(name, fn, args, ref):
    want = ref(*args)
    got = fn(*args)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert np.asarray(got).dtype == np.float64
    np.testing.assert_array_equal(nj.jit(fn)(*args), got)
    if name not in ("smooth_labels",) and np.ndim(want) == 1 and len(args) == 2:
        np.testing.assert_allclose(nj.vmap(fn)(*args), want, rtol=1e-12)


@pytest.mark.parametrize("name, fn, args", [x[:3] for x in LOSSES if x[0] in SMOOTH],
                         ids=[x[0] for x in LOSSES if x[0] in SMOOTH])
def test_loss_gradients_match_finite_differences(name, fn, args):
    nj.check_grads(lambda *a: jnp.sum(fn(*a)), args, order=2, modes=("fwd", "rev"))


def test_safe_softmax_cross_entropy_is_finite_with_masked_logits():
    logits = np.array([[0.0, -np.inf, 1.0]])
    labels = np.array([[0.5, 0.0, 0.5]])
    value = optax.safe_softmax_cross_entropy(logits, labels)
    grad = nj.grad(lambda x: jnp.sum(optax.safe_softmax_cross_entropy(x, labels)))(logits)
    assert np.isfinite(value).all() and np.isfinite(grad).all()
    np.testing.assert_allclose(grad[0, [0, 2]], np.exp([0.0, 1.0]) / (1 + np.e) - 0.5)


def test_sigmoid_focal_loss_is_stable_for_large_logits():
    got = optax.sigmoid_focal_loss(np.array([100.0, -100.0]), np.array([1.0, 1.0]))
    assert np.isfinite(got).all() and got[0] < 1e-80
    np.testing.assert_allclose(got[1], 100.0, rtol=1e-12)


def test_loss_errors():
    with pytest.raises(TypeError, match=r"nanojax.optim.smooth_labels: labels must be floating"):
        optax.smooth_labels(np.array([[0, 1]]), 0.1)
    with pytest.raises(TypeError, match=r"nanojax.optim.kl_divergence: log_predictions"):
        optax.kl_divergence(np.array([1, 2]), np.array([0.5, 0.5]))
    with pytest.raises(ValueError, match=r"nanojax.optim.perceptron_loss: predictor_outputs"):
        optax.perceptron_loss(np.ones(3), np.ones(2))


# ----- Errors of the transforms ------------------------------------------------------------------

@pytest.mark.parametrize("make, match", [
    (lambda: optax.MultiSteps(optax.sgd(0.1), 0), "nanojax.optim.MultiSteps: every_k_schedule"),
    (lambda: optax.MultiSteps(3, 2), "nanojax.optim.MultiSteps: opt must be"),
    (lambda: optax.apply_every(0), "nanojax.optim.apply_every: k must be"),
    (lambda: optax.yogi(0.1, b1=1.5), r"nanojax.optim.scale_by_yogi: b1 must be in \[0, 1\)"),
    (lambda: optax.ema(2.0), r"nanojax.optim.ema: decay must be in \[0, 1\]"),
    (lambda: optax.add_noise(0.1, 0.5, key=1, seed=2), "nanojax.optim.add_noise: give key"),
    (lambda: optax.lamb(0.1).update(G[0], optax.lamb(0.1).init(P)),
     "nanojax.optim.add_decayed_weights needs params"),
    (lambda: optax.adafactor().update(G[0], optax.adafactor().init(P)),
     "nanojax.optim.scale_by_factored_rms needs params"),
    (lambda: optax.clip_by_block_rms("a"), "nanojax.optim.clip_by_block_rms: threshold"),
], ids=["multisteps-k", "multisteps-opt", "apply-every", "yogi-b1", "ema-decay", "noise-key",
        "lamb-params", "adafactor-params", "block-rms"])
def test_bad_settings_raise_clear_errors(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_every_new_name_is_exported_by_the_optax_alias():
    for name in ["masked", "adafactor", "MultiSteps", "linear_onecycle_schedule",
                 "incremental_update", "adabelief", "GradientTransformationExtraArgs",
                 "inject_hyperparams", "multi_transform", "ema",
                 "warmup_exponential_decay_schedule", "nadamw", "add_noise", "adamax", "yogi",
                 "radam", "piecewise_interpolate_schedule", "novograd", "lars", "lamb",
                 "amsgrad", "adagrad", "adadelta", "identity", "nadam",
                 "warmup_constant_schedule", "smooth_labels", "safe_softmax_cross_entropy",
                 "noisy_sgd", "cosine_similarity", "clip_by_block_rms", "zero_nans",
                 "sigmoid_focal_loss", "sgdr_schedule", "multiclass_hinge_loss", "log_cosh",
                 "kl_divergence", "hinge_loss", "cosine_onecycle_schedule", "cosine_distance",
                 "apply_if_finite"]:
        assert getattr(optax, name) is getattr(optim, name)


# ----- More transforms, optimizers and losses -----------------------------------------------------

def _adan_np(x, gs, lr=0.1, b1=0.98, b2=0.92, b3=0.99, eps=1e-8, eps_root=1e-8):
    m = v = n = prev = np.zeros_like(x)
    for t, g in enumerate(gs, 1):
        diff = np.zeros_like(g) if t == 1 else g - prev
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * diff
        n = b3 * n + (1 - b3) * (g + (1 - b2) * diff) ** 2
        step = m / (1 - b1 ** t) + (1 - b2) * v / (1 - b2 ** t)
        x = x - lr * step / (np.sqrt(n / (1 - b3 ** t) + eps_root) + eps)
        prev = g
    return x


def _optimistic_np(x, gs, lr=0.1, alpha=1.0, beta=0.5):
    prev = None
    for g in gs:
        prev = g if prev is None else prev
        x = x - lr * ((alpha + beta) * g - beta * prev)
        prev = g
    return x


@pytest.mark.parametrize("make, ref", [
    (lambda: optax.adan(0.1), _adan_np),
    (lambda: optax.optimistic_gradient_descent(0.1, beta=0.5), _optimistic_np),
], ids=["adan", "optimistic"])
def test_more_optimizers_match_numpy_and_jit(make, ref):
    got = _steps(make())
    for k in P:
        np.testing.assert_allclose(got[k], ref(P[k], [g[k] for g in G]), rtol=1e-10)
    opt = make()
    state = opt.init(P)
    _, state = opt.update(G[0], state, P)
    eager = opt.update(G[1], state, P)[0]
    np.testing.assert_array_equal(nj.jit(opt.update)(G[1], state, P)[0]["w"], eager["w"])


def test_named_chain_and_conditional_transforms():
    opt = optax.named_chain(("adam", optax.scale_by_adam()), ("lr", optax.scale(-0.1)))
    u, state = opt.update(G[0], opt.init(P))
    adam = optax.adam(0.1)
    np.testing.assert_array_equal(u["w"], adam.update(G[0], adam.init(P))[0]["w"])
    assert set(state) == {"adam", "lr"}
    with pytest.raises(ValueError, match=r"nanojax.optim.named_chain: the names must be unique"):
        optax.named_chain(("a", optax.identity()), ("a", optax.identity()))
    every_other = lambda step: step % 2 == 0          # noqa: E731
    ct = optax.conditionally_transform(optax.sgd(1.0, momentum=0.5), every_other)
    cm = optax.conditionally_mask(optax.sgd(1.0, momentum=0.5), every_other)
    s_t, s_m = ct.init(P), cm.init(P)
    for i, g in enumerate(G[:3]):
        ut, s_t = nj.jit(ct.update)(g, s_t)
        um, s_m = cm.update(g, s_m)
        if i == 1:
            np.testing.assert_array_equal(ut["w"], g["w"])
            np.testing.assert_array_equal(um["w"], 0.0)
    np.testing.assert_allclose(ut["w"], -(G[2]["w"] + 0.5 * G[0]["w"]))   # step 1 kept no trace
    np.testing.assert_array_equal(um["w"], ut["w"])


def test_more_losses_match_numpy():
    lp, t = np.log(PROBS), TARGET_PROBS
    np.testing.assert_allclose(optax.kl_divergence_with_log_targets(lp, np.log(t)),
                               (t * (np.log(t) - lp)).sum(-1), rtol=1e-12)
    np.testing.assert_allclose(optax.generalized_kl_divergence(lp, 2 * t),
                               (2 * t * (np.log(2 * t) - lp)).sum(-1)
                               + (PROBS - 2 * t).sum(-1), rtol=1e-12)
    assert optax.convex_kl_divergence is optax.generalized_kl_divergence
    y = np.array([0, 2, 1, 1])
    np.testing.assert_allclose(optax.multiclass_perceptron_loss(LOGITS, y),
                               LOGITS.max(-1) - LOGITS[range(4), y])
    np.testing.assert_allclose(optax.poly_loss_cross_entropy(LOGITS, t, epsilon=1.5),
                               -(t * np.log(PROBS)).sum(-1) + 1.5 * (t * (1 - PROBS)).sum(-1),
                               rtol=1e-12)
    nj.check_grads(lambda x: jnp.sum(optax.poly_loss_cross_entropy(x, t)), (LOGITS,), order=2)


def _ctc_brute_force(logits, logit_pad, labels, label_pad, blank=0):
    """-log of the total probability of every path that collapses to the labels."""
    import itertools
    out = []
    for b in range(logits.shape[0]):
        frames = logits[b][logit_pad[b] == 0]
        logp = frames - np.log(np.exp(frames).sum(-1, keepdims=True))
        target = [int(c) for c, p in zip(labels[b], label_pad[b]) if p == 0]
        total = 0.0
        for path in itertools.product(range(logits.shape[2]), repeat=len(frames)):
            collapsed = [c for i, c in enumerate(path) if c != blank
                         and (i == 0 or path[i - 1] != c)]
            if collapsed == target:
                total += np.exp(sum(logp[i, c] for i, c in enumerate(path)))
        out.append(-np.log(total))
    return np.array(out)


CTC_LOGITS = RNG.normal(size=(3, 5, 3))
CTC_LOGIT_PAD = np.array([[0, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 1, 1]], float)
CTC_LABELS = np.array([[1, 1, 2], [2, 1, 0], [1, 0, 0]])
CTC_LABEL_PAD = np.array([[0, 0, 0], [0, 0, 1], [0, 1, 1]], float)


def test_ctc_loss_matches_brute_force_over_alignments():
    want = _ctc_brute_force(CTC_LOGITS, CTC_LOGIT_PAD, CTC_LABELS, CTC_LABEL_PAD)
    got = optax.ctc_loss(CTC_LOGITS, CTC_LOGIT_PAD, CTC_LABELS, CTC_LABEL_PAD)
    np.testing.assert_allclose(got, want, rtol=1e-10)
    jitted = nj.jit(optax.ctc_loss)(CTC_LOGITS, CTC_LOGIT_PAD, CTC_LABELS, CTC_LABEL_PAD)
    np.testing.assert_array_equal(jitted, got)
    # An empty label sequence: every frame blank.
    empty = optax.ctc_loss(CTC_LOGITS[:1], CTC_LOGIT_PAD[:1], CTC_LABELS[:1], np.ones((1, 3)))
    logp = CTC_LOGITS[0] - np.log(np.exp(CTC_LOGITS[0]).sum(-1, keepdims=True))
    np.testing.assert_allclose(empty, [-logp[:, 0].sum()], rtol=1e-10)


def test_ctc_loss_gradient_matches_finite_differences():
    nj.check_grads(lambda x: jnp.sum(optax.ctc_loss(x, CTC_LOGIT_PAD, CTC_LABELS,
                                                    CTC_LABEL_PAD)),
                   (CTC_LOGITS,), order=1, modes=("rev",))


def test_ctc_loss_errors():
    with pytest.raises(ValueError, match=r"nanojax.optim.ctc_loss: expected logits of shape"):
        optax.ctc_loss(CTC_LOGITS[0], CTC_LOGIT_PAD, CTC_LABELS, CTC_LABEL_PAD)
    with pytest.raises(ValueError, match=r"nanojax.optim.ctc_loss: expected logit_paddings"):
        optax.ctc_loss(CTC_LOGITS, CTC_LOGIT_PAD[:, :3], CTC_LABELS, CTC_LABEL_PAD)


def test_optax_submodules_hold_optax_names():
    from nanojax.optax.schedules import linear_schedule
    import nanojax.optax.losses as losses
    assert linear_schedule is optim.linear_schedule
    assert losses.ctc_loss is optim.ctc_loss and optax.losses is losses
    assert optax.transforms.masked is optim.masked
    for module in (optax.losses, optax.schedules, optax.transforms):
        assert all(getattr(module, name) is getattr(optim, name) for name in module.__all__)


@pytest.mark.parametrize("make, field", [
    (lambda: optax.adam(0.1, mu_dtype=np.float32), "mu"),
    (lambda: optax.nadamw(0.1, mu_dtype=np.float32), "mu"),
    (lambda: optax.amsgrad(0.1, mu_dtype="float32"), "mu"),
    (lambda: optax.lion(0.1, mu_dtype=np.float32), "mu"),
    (lambda: optax.sgd(0.1, momentum=0.9, accumulator_dtype=np.float32), "trace"),
    (lambda: optax.chain(optax.ema(0.9, accumulator_dtype=np.float32)), "ema"),
], ids=["adam", "nadamw", "amsgrad", "lion", "sgd", "ema"])
def test_moment_dtypes_are_kept(make, field):
    opt = make()
    state = opt.init(P)
    for _ in range(2):
        u, state = opt.update(G[0], state, P)
        moment = getattr(state[0], field)
        assert moment["w"].dtype == np.float32 and u["w"].dtype == np.float64
    jitted = nj.jit(opt.update)(G[1], state, P)[1]
    assert getattr(jitted[0], field)["w"].dtype == np.float32
    with pytest.raises(TypeError, match=r"nanojax.optim.scale_by_adam: mu_dtype must be a dtype"):
        optax.adam(0.1, mu_dtype="nope")


def test_lion_modes():
    g = {"x": np.array([3.0, 0.05, -20.0])}
    for mode, want in [("hard", np.sign), ("smooth", lambda x: np.tanh(2.0 * x)),
                       ("refined", lambda x: np.where(np.abs(x) < 1, x, np.sign(x)))]:
        t = optax.scale_by_lion(mode=mode, smooth_beta=2.0)
        u, _ = t.update(g, t.init(g))
        np.testing.assert_allclose(u["x"], want(0.1 * g["x"]))
    with pytest.raises(ValueError, match=r"nanojax.optim.scale_by_lion: mode must be"):
        optax.scale_by_lion(mode="soft")


def test_softmax_cross_entropies_take_optax_axis_and_where():
    where = np.array([[True, True, False]] * 4)
    masked_p = np.where(where, np.exp(LOGITS), 0.0)
    masked_p /= masked_p.sum(-1, keepdims=True)
    t = np.where(where, TARGET_PROBS, 0.0)
    want = -(t[:, :2] * np.log(masked_p[:, :2])).sum(-1)
    np.testing.assert_allclose(optax.softmax_cross_entropy(LOGITS, t, where=where), want,
                               rtol=1e-12)
    np.testing.assert_allclose(optax.softmax_cross_entropy(LOGITS.T, t.T, axis=0),
                               -(t * np.log(PROBS)).sum(-1), rtol=1e-12)
    y = np.array([0, 1, 1, 0])
    np.testing.assert_allclose(
        optax.softmax_cross_entropy_with_integer_labels(LOGITS, y, where=where),
        -np.log(masked_p[range(4), y]), rtol=1e-12)
    np.testing.assert_allclose(optax.softmax_cross_entropy_with_integer_labels(LOGITS.T, y, 0),
                               -np.log(PROBS[range(4), y]), rtol=1e-12)
    none_left = optax.softmax_cross_entropy_with_integer_labels(LOGITS[:1], y[:1],
                                                                where=np.zeros((1, 3), bool))
    np.testing.assert_array_equal(none_left, [0.0])
    nj.check_grads(lambda x: jnp.sum(optax.softmax_cross_entropy_with_integer_labels(
        x, y, where=where)), (LOGITS,), order=1)
    with pytest.raises(TypeError, match=r"with_integer_labels: axis must be an int"):
        optax.softmax_cross_entropy_with_integer_labels(LOGITS, y, axis=(0, 1))


@pytest.mark.parametrize("factory, kwargs, static", [
    (optax.sgd, dict(learning_rate=0.1, momentum=0.9), ()),
    (optax.adamw, dict(learning_rate=0.1, weight_decay=0.01), ()),
    (optax.rmsprop, dict(learning_rate=0.1), ()),
    (optax.clip_by_global_norm, dict(max_norm=1.0), ()),
    (optax.lamb, dict(learning_rate=0.1), ()),
    (optax.adafactor, dict(learning_rate=0.1, min_dim_size_to_factor=2),
     ("min_dim_size_to_factor",)),
], ids=["sgd", "adamw", "rmsprop", "clip", "lamb", "adafactor"])
def test_inject_hyperparams_matches_the_plain_optimizer_eager_and_jit(factory, kwargs, static):
    opt = optax.inject_hyperparams(factory, static_args=static)(**kwargs)
    plain = factory(**kwargs)
    state = opt.init(P)
    eager, _ = opt.update(G[0], state, P)
    np.testing.assert_allclose(eager["w"], plain.update(G[0], plain.init(P), P)[0]["w"],
                               rtol=1e-15)
    np.testing.assert_array_equal(nj.jit(opt.update)(G[0], state, P)[0]["w"], eager["w"])


def test_polyak_sgd_uses_the_loss_passed_as_value():
    loss = lambda p: jnp.sum(jnp.square(p["w"] - 1.0)) + jnp.sum(jnp.square(p["b"]))  # noqa: E731
    opt = optax.polyak_sgd(max_learning_rate=10.0)
    state, params = opt.init(P), P
    for _ in range(3):
        value, grad = nj.value_and_grad(loss)(params)
        u, state = opt.update(grad, state, params, value=value)
        sq = sum(np.sum(g ** 2) for g in grad.values())
        np.testing.assert_allclose(u["w"], -min(float(value) / sq, 10.0) * grad["w"])
        params = optim.apply_updates(params, u)
    with pytest.raises(TypeError, match=r"nanojax.optim.scale_by_polyak needs the loss"):
        opt.update(G[0], state, P)
    zero, _ = optax.scale_by_polyak().update({"w": np.zeros(2)}, optax.EmptyState(), value=1.0)
    np.testing.assert_array_equal(zero["w"], 0.0)


def test_fromage_normalize_and_optimistic_adam():
    u, _ = optax.normalize_by_update_norm(2.0).update(G[0], optax.EmptyState())
    np.testing.assert_allclose(optim.global_norm(u), 2.0 * optim.global_norm(G[0])
                               / (optim.global_norm(G[0]) + 1e-6))
    lr = 0.1
    m = 1 / np.sqrt(1 + lr ** 2)
    u, _ = optax.fromage(lr).update(G[0], optax.fromage(lr).init(P), P)
    ratio = np.linalg.norm(P["w"]) / np.linalg.norm(G[0]["w"])
    np.testing.assert_allclose(u["w"], -lr * m * ratio * G[0]["w"] + (m - 1) * P["w"])
    sched, _ = optax.fromage(lambda c: lr).update(G[0], optax.fromage(lambda c: lr).init(P), P)
    np.testing.assert_allclose(sched["w"], u["w"])
    o = optax.optimistic_adam_v2(0.1)
    u, _ = o.update(G[0], o.init(P))
    first, _ = optax.scale_by_adam(nesterov=True).update(G[0], optax.scale_by_adam().init(P))
    np.testing.assert_allclose(u["w"], -0.1 * first["w"])
