"""optax's everyday names in nanojax.optim (and nanojax.optax): values against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import nanojax as nj
import nanojax.optax as optax
from nanojax import optim

RNG = np.random.default_rng(0)
P = {"w": RNG.normal(size=(3, 2)), "b": RNG.normal(size=2)}
G = [{"w": RNG.normal(size=(3, 2)), "b": RNG.normal(size=2)} for _ in range(3)]


def _steps(opt):
    params, state = P, opt.init(P)
    for g in G:
        u, state = opt.update(g, state, params)
        params = optim.apply_updates(params, u)
    return params


def _adamw_numpy(x, gs, lr=0.1, wd=0.5, b1=0.9, b2=0.999, eps=1e-8):
    m = v = 0.0
    for t, g in enumerate(gs, 1):
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        x = x - lr * ((m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps) + wd * x)
    return x


def _lion_numpy(x, gs, lr=0.1, wd=0.2, b1=0.9, b2=0.99):
    m = 0.0
    for g in gs:
        x = x - lr * (np.sign((1 - b1) * g + b1 * m) + wd * x)
        m = b2 * m + (1 - b2) * g
    return x


def _rmsprop_numpy(x, gs, lr=0.1, decay=0.9, eps=1e-8, momentum=0.5):
    nu = t = 0.0
    for g in gs:
        nu = decay * nu + (1 - decay) * g * g
        t = -lr * g / np.sqrt(nu + eps) + momentum * t
        x = x + t
    return x


@pytest.mark.parametrize("opt, ref", [
    (optim.adamw(0.1, weight_decay=0.5), _adamw_numpy),
    (optim.lion(0.1, weight_decay=0.2), _lion_numpy),
    (optim.rmsprop(0.1, momentum=0.5), _rmsprop_numpy),
], ids=["adamw", "lion", "rmsprop"])
def test_optimizers_match_numpy_and_jit(opt, ref):
    got = _steps(opt)
    for k in P:
        np.testing.assert_allclose(got[k], ref(P[k], [g[k] for g in G]), rtol=1e-12)
    state = opt.init(P)
    eager = opt.update(G[0], state, P)[0]
    jitted = nj.jit(opt.update)(G[0], state, P)[0]
    np.testing.assert_array_equal(jitted["w"], eager["w"])


def test_adamw_mask_decays_only_marked_leaves():
    opt = optim.adamw(0.1, weight_decay=1.0, mask=lambda p: {"w": True, "b": False})
    zero = {"w": np.zeros((3, 2)), "b": np.zeros(2)}
    u, _ = opt.update(zero, opt.init(P), P)
    np.testing.assert_allclose(u["w"], -0.1 * P["w"])
    np.testing.assert_array_equal(u["b"], 0.0)


def test_clip_and_set_to_zero():
    u, _ = optim.clip(0.5).update(G[0], optim.EmptyState())
    np.testing.assert_array_equal(u["w"], np.clip(G[0]["w"], -0.5, 0.5))
    z, _ = optim.set_to_zero().update(G[0], optim.EmptyState())
    assert not np.any(z["w"]) and z["w"].shape == (3, 2)


def test_schedules():
    assert [float(optim.linear_schedule(1.0, 0.0, 4, transition_begin=2)(c))
            for c in (0, 2, 4, 6, 9)] == [1.0, 1.0, 0.5, 0.0, 0.0]
    s = optim.warmup_cosine_decay_schedule(0.0, 2.0, 4, 14, end_value=0.2)
    got = [float(s(c)) for c in (0, 2, 4, 9, 14, 30)]
    np.testing.assert_allclose(got, [0.0, 1.0, 2.0, 0.2 + 1.8 * 0.5, 0.2, 0.2], atol=1e-12)
    assert float(nj.jit(s)(9)) == pytest.approx(got[3])
    e = optim.exponential_decay(1.0, 10, 0.5, transition_begin=5, end_value=0.3)
    np.testing.assert_allclose([float(e(c)) for c in (0, 5, 15, 100)], [1.0, 1.0, 0.5, 0.3])
    assert float(optim.cosine_decay_schedule(1.0, 10, exponent=2.0)(5)) == pytest.approx(0.25)
    with pytest.raises(ValueError, match=r"nanojax\.optim\.join_schedules"):
        optim.join_schedules([optim.constant_schedule(1.0)], [3])


LOGITS = RNG.normal(size=(4, 3))
LABELS = np.array([0, 2, 1, 2])
ONE_HOT = np.eye(3)[LABELS]


def _log_softmax(x):
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


@pytest.mark.parametrize("fn, args, ref", [
    (optim.softmax_cross_entropy, (LOGITS, ONE_HOT), -(ONE_HOT * _log_softmax(LOGITS)).sum(-1)),
    (optim.softmax_cross_entropy_with_integer_labels, (LOGITS, LABELS),
     -_log_softmax(LOGITS)[np.arange(4), LABELS]),
    (optim.sigmoid_binary_cross_entropy, (LOGITS, ONE_HOT),
     -(ONE_HOT * np.log(1 / (1 + np.exp(-LOGITS)))
       + (1 - ONE_HOT) * np.log(1 - 1 / (1 + np.exp(-LOGITS))))),
    (optim.l2_loss, (LOGITS, ONE_HOT), 0.5 * (LOGITS - ONE_HOT) ** 2),
    (optim.huber_loss, (2 * LOGITS, ONE_HOT),
     np.where(np.abs(2 * LOGITS - ONE_HOT) <= 1, 0.5 * (2 * LOGITS - ONE_HOT) ** 2,
              np.abs(2 * LOGITS - ONE_HOT) - 0.5)),
], ids=["softmax_ce", "softmax_ce_int", "sigmoid_bce", "l2", "huber"])
def test_losses_match_numpy_and_differentiate(fn, args, ref):
    np.testing.assert_allclose(fn(*args), ref, rtol=1e-12)
    nj.check_grads(lambda x: fn(x, args[1]).sum(), (args[0],), order=2, modes=("fwd", "rev"))
    np.testing.assert_array_equal(nj.jit(fn)(*args), fn(*args))
    batched = nj.vmap(fn)(*args)
    np.testing.assert_allclose(batched, np.stack([fn(a, b) for a, b in zip(*args)]),
                               rtol=1e-12)


def test_optax_alias_module_is_optim():
    assert set(optax.__all__) == set(optim.__all__)
    assert all(getattr(optax, n) is getattr(optim, n) for n in optim.__all__)
