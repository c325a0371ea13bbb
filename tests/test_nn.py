"""nanojax.nn against NumPy references and finite differences.

One table of activations (name, function, NumPy reference, input domain),
crossed with shapes: values and dtypes against the reference, gradients by
``check_grads(order=2)``, jit bit-identical to eager, vmap equal to a loop,
grad under jit equal to grad. Then the normalisers with ``where=``,
``one_hot``, attention against a direct NumPy computation, and the
initializers' shapes, variances and orthogonality.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import nn
from nanojax.nn import initializers as init

_erf = np.vectorize(math.erf)


def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _np_softplus(x):
    return np.logaddexp(x, 0.0)


def _np_relu6(x):
    return np.minimum(np.maximum(x, 0), 6)


ALPHA, SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

# (name, fn, reference, domain away from kinks): domains draw from rng.
ACTIVATIONS = [
    ("relu6", nn.relu6, _np_relu6, lambda r, s: r.uniform(0.2, 5.8, s) * r.choice([-1, 1], s)),
    ("log_sigmoid", nn.log_sigmoid, lambda x: -np.logaddexp(0.0, -x), None),
    ("silu", nn.silu, lambda x: x * _np_sigmoid(x), None),
    ("swish", nn.swish, lambda x: x * _np_sigmoid(x), None),
    ("gelu-tanh", nn.gelu,
     lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))), None),
    ("gelu-exact", lambda x: nn.gelu(x, approximate=False),
     lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2))), None),
    ("elu", nn.elu, lambda x: np.where(x > 0, x, np.expm1(x)), "nonzero"),
    ("elu-alpha", lambda x: nn.elu(x, 0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x)),
     "nonzero"),
    ("celu", lambda x: nn.celu(x, 2.0),
     lambda x: np.maximum(x, 0) + 2.0 * np.expm1(np.minimum(x, 0) / 2.0), "nonzero"),
    ("selu", nn.selu, lambda x: SCALE * np.where(x > 0, x, ALPHA * np.expm1(x)), "nonzero"),
    ("leaky_relu", nn.leaky_relu, lambda x: np.where(x >= 0, x, 0.01 * x), "nonzero"),
    ("leaky_relu-slope", lambda x: nn.leaky_relu(x, 0.2), lambda x: np.where(x >= 0, x, 0.2 * x),
     "nonzero"),
    ("hard_tanh", nn.hard_tanh, lambda x: np.clip(x, -1, 1),
     lambda r, s: r.choice([0.5, 2.0], s) * r.choice([-1, 1], s) + r.uniform(-.3, .3, s)),
    ("hard_sigmoid", nn.hard_sigmoid, lambda x: _np_relu6(x + 3) / 6,
     lambda r, s: r.choice([-4.0, 0.0, 4.0], s) + r.uniform(-.5, .5, s)),
    ("hard_silu", nn.hard_silu, lambda x: x * _np_relu6(x + 3) / 6,
     lambda r, s: r.choice([-4.0, 0.0, 4.0], s) + r.uniform(-.5, .5, s)),
    ("hard_swish", nn.hard_swish, lambda x: x * _np_relu6(x + 3) / 6,
     lambda r, s: r.choice([-4.0, 0.0, 4.0], s) + r.uniform(-.5, .5, s)),
    ("soft_sign", nn.soft_sign, lambda x: x / (np.abs(x) + 1), "nonzero"),
    ("squareplus", nn.squareplus, lambda x: (x + np.sqrt(x * x + 4)) / 2, None),
    ("squareplus-b", lambda x: nn.squareplus(x, 1.0), lambda x: (x + np.sqrt(x * x + 1)) / 2,
     None),
    ("mish", nn.mish, lambda x: x * np.tanh(_np_softplus(x)), None),
    ("softplus", nn.softplus, _np_softplus, None),
    ("sparse_plus", nn.sparse_plus,
     lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4)),
     lambda r, s: r.choice([-2.0, 0.0, 2.0], s) + r.uniform(-.5, .5, s)),
    ("sparse_sigmoid", nn.sparse_sigmoid, lambda x: np.clip((x + 1) / 2, 0, 1),
     lambda r, s: r.choice([-2.0, 0.0, 2.0], s) + r.uniform(-.5, .5, s)),
    ("log1mexp", nn.log1mexp, lambda x: np.log(1 - np.exp(-x)),
     lambda r, s: r.uniform(0.1, 3.0, s)),
    ("identity", nn.identity, lambda x: x, None),
    ("sigmoid", nn.sigmoid, _np_sigmoid, None),
]
SHAPES = [(), (4,), (2, 3)]


def _draw(domain, shape, seed=0):
    rng = np.random.default_rng(seed)
    if domain is None:
        x = rng.standard_normal(shape) * 2
    elif domain == "nonzero":
        x = rng.uniform(0.2, 2.0, shape) * rng.choice([-1, 1], shape)
    else:
        x = domain(rng, shape)
    return np.asarray(x, np.float64)


ACT_CASES = [pytest.param(fn, ref, dom, shape, id=f"{name}-{'x'.join(map(str, shape)) or 's'}")
             for name, fn, ref, dom in ACTIVATIONS for shape in SHAPES]
ACT_FNS = [pytest.param(fn, ref, dom, id=name) for name, fn, ref, dom in ACTIVATIONS]


@pytest.mark.parametrize("fn, ref, dom, shape", ACT_CASES)
def test_activation_matches_numpy(fn: Callable, ref: Callable, dom, shape) -> None:
    x = _draw(dom, shape)
    got = fn(x)
    np.testing.assert_allclose(got, ref(x), rtol=1e-13, atol=1e-15)
    assert np.shape(got) == shape and np.asarray(got).dtype == np.float64


@pytest.mark.parametrize("fn, ref, dom", ACT_FNS)
def test_activation_keeps_float32_and_takes_ints_and_lists(fn: Callable, ref: Callable,
                                                           dom) -> None:
    x = _draw(dom, (5,)).astype(np.float32)
    assert np.asarray(fn(x)).dtype == np.float32
    np.testing.assert_allclose(fn(x), ref(x.astype(np.float64)), rtol=2e-6, atol=2e-6)
    ints = np.array([1, 2, 3])
    np.testing.assert_allclose(fn(ints), ref(ints.astype(np.float64)), rtol=1e-13)
    np.testing.assert_allclose(fn([1.0, 2.0]), ref(np.array([1.0, 2.0])), rtol=1e-13)


@pytest.mark.parametrize("fn, ref, dom, shape", ACT_CASES)
def test_activation_gradients_match_finite_differences(fn, ref, dom, shape) -> None:
    nj.check_grads(fn, (_draw(dom, shape),), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("fn, ref, dom", ACT_FNS)
def test_activation_under_jit_vmap_and_grad(fn: Callable, ref: Callable, dom) -> None:
    x = _draw(dom, (3, 4), seed=1)
    np.testing.assert_array_equal(nj.jit(fn)(x), fn(x))
    np.testing.assert_allclose(nj.vmap(fn)(x), np.stack([fn(r) for r in x]), rtol=1e-15)
    g = nj.grad(lambda v: jnp.sum(fn(v)))
    np.testing.assert_allclose(nj.jit(g)(x), g(x), rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(nj.vmap(nj.grad(fn))(x[0]), g(x[0]), rtol=1e-14)


def test_kink_conventions_follow_jax() -> None:
    # relu6: gradient 0 at both kinks; hard_tanh, leaky_relu, elu: the inner side at the kink.
    assert float(nj.grad(nn.relu6)(0.0)) == 0.0 and float(nj.grad(nn.relu6)(6.0)) == 0.0
    assert float(nj.grad(nn.hard_tanh)(1.0)) == 1.0 and float(nj.grad(nn.hard_tanh)(1.5)) == 0
    assert float(nj.grad(nn.leaky_relu)(0.0)) == 1.0
    assert float(nj.grad(nn.elu)(0.0)) == 1.0
    assert np.isnan(nn.relu6(np.nan)) and np.isnan(nn.gelu(np.nan))


def test_glu_splits_its_axis_in_halves() -> None:
    x = np.random.default_rng(2).standard_normal((3, 6))
    np.testing.assert_allclose(nn.glu(x), x[:, :3] * _np_sigmoid(x[:, 3:]), rtol=1e-14)
    np.testing.assert_allclose(nn.glu(x.T, axis=0), (x[:, :3] * _np_sigmoid(x[:, 3:])).T,
                               rtol=1e-14)
    nj.check_grads(nn.glu, (x,), order=2, modes=("fwd", "rev"))
    with pytest.raises(ValueError, match=re.escape("nanojax.nn.glu: axis -1 has size 5")):
        nn.glu(np.ones((2, 5)))


# ----- softmax, log_softmax, logsumexp, standardize -------------------------------------

def _np_softmax(x, axis=-1, where=None):
    x = np.asarray(x, float)
    if where is None:
        where = np.ones(x.shape, bool)
    m = np.max(np.where(where, x, -np.inf), axis=axis, keepdims=True)
    e = np.where(where, np.exp(x - m), 0.0)
    return e / e.sum(axis=axis, keepdims=True)


X34 = np.random.default_rng(3).standard_normal((3, 4))
MASK = np.array([[True, False, True, True], [False, True, True, False],
                 [True, True, True, True]])


@pytest.mark.parametrize("axis", [-1, 0, None, (0, 1)])
def test_softmax_and_log_softmax_along_axes(axis) -> None:
    np.testing.assert_allclose(nn.softmax(X34, axis=axis), _np_softmax(X34, axis), rtol=1e-14)
    np.testing.assert_allclose(nn.log_softmax(X34, axis=axis), np.log(_np_softmax(X34, axis)),
                               rtol=1e-13)


def test_softmax_where_gives_masked_entries_no_mass() -> None:
    got = nn.softmax(X34, where=MASK)
    np.testing.assert_allclose(got, _np_softmax(X34, where=MASK), rtol=1e-14)
    np.testing.assert_allclose(got.sum(-1), 1.0)
    logp = nn.log_softmax(X34, where=MASK)
    assert np.all(logp[~MASK] == -np.inf)
    with np.errstate(divide="ignore"):
        want = np.log(_np_softmax(X34, where=MASK))
    np.testing.assert_allclose(logp[MASK], want[MASK], rtol=1e-13)
    np.testing.assert_array_equal(nn.softmax(X34, where=MASK, initial=-np.inf), got)
    f = lambda x: jnp.sum(nn.softmax(x, where=MASK) * np.arange(4.0))  # noqa: E731
    nj.check_grads(f, (X34,), order=2, modes=("fwd", "rev"))
    np.testing.assert_array_equal(nj.jit(lambda x: nn.softmax(x, where=MASK))(X34), got)


def _np_logsumexp(a, axis=None, b=None, where=None):
    terms = np.exp(a) * (1.0 if b is None else b)
    if where is not None:
        terms = np.where(where, terms, 0.0)
    total = np.sum(terms, axis=axis)
    return np.log(np.abs(total)), np.sign(total)


@pytest.mark.parametrize("axis", [None, 0, -1, (0, 1)])
def test_logsumexp_with_b_where_and_sign(axis) -> None:
    b = np.random.default_rng(4).standard_normal((3, 4))
    want, sign = _np_logsumexp(X34, axis, b)
    got, got_sign = nn.logsumexp(X34, axis=axis, b=b, return_sign=True)
    np.testing.assert_allclose(got, want, rtol=1e-13)
    np.testing.assert_array_equal(got_sign, sign)
    plain = nn.logsumexp(X34, axis=axis, b=b)
    np.testing.assert_array_equal(np.isnan(plain), sign < 0)
    masked = nn.logsumexp(X34, axis=axis, where=MASK)
    np.testing.assert_allclose(masked, _np_logsumexp(X34, axis, where=MASK)[0], rtol=1e-13)
    kept = nn.logsumexp(X34, axis=axis, keepdims=True)
    assert np.ndim(kept) == 2


def test_logsumexp_is_stable_and_differentiable() -> None:
    x = np.array([1000.0, 1000.0, -np.inf])
    assert float(nn.logsumexp(x)) == pytest.approx(1000 + np.log(2))
    with np.errstate(divide="ignore"):      # log(0), as NumPy warns about it too
        assert float(nn.logsumexp(np.full(3, -np.inf))) == -np.inf
        val, sign = nn.logsumexp(np.array([-np.inf]), return_sign=True)
    assert val == -np.inf and sign == 0.0
    b = np.array([[1.0, 2.0, 0.5, 1.0]] * 3)
    nj.check_grads(lambda a: nn.logsumexp(a, axis=1, b=b), (X34,), order=2,
                   modes=("fwd", "rev"))
    nj.check_grads(lambda a: nn.logsumexp(a, where=MASK), (X34,), order=2,
                   modes=("fwd", "rev"))


def test_standardize_matches_numpy() -> None:
    want = (X34 - X34.mean(-1, keepdims=True)) / np.sqrt(X34.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(nn.standardize(X34), want, rtol=1e-12)
    col = (X34 - X34.mean(0)) / np.sqrt(X34.var(0) + 1e-3)
    np.testing.assert_allclose(nn.standardize(X34, axis=0, epsilon=1e-3), col, rtol=1e-12)
    np.testing.assert_allclose(nn.standardize(X34, mean=0.0, variance=1.0),
                               X34 / np.sqrt(1 + 1e-5), rtol=1e-14)
    row = X34[0][MASK[0]]
    masked = nn.standardize(X34, where=MASK)[0][MASK[0]]
    np.testing.assert_allclose(masked, (row - row.mean()) / np.sqrt(row.var() + 1e-5),
                               rtol=1e-12)
    nj.check_grads(nn.standardize, (X34,), order=2, modes=("fwd", "rev"))


# ----- one_hot ------------------------------------------------------------------------------

def test_one_hot_like_jax() -> None:
    got = nn.one_hot(np.array([0, 2, -1, 3, 1]), 3)
    np.testing.assert_array_equal(got, np.eye(3)[[0, 2]].tolist() + [[0] * 3] * 2
                                  + [[0, 1, 0]])
    assert got.dtype == np.float64
    floats = nn.one_hot(np.array([1.0, 1.5, 2.0]), 3)       # 1.5 is no class: zeros
    np.testing.assert_array_equal(floats, [[0, 1, 0], [0, 0, 0], [0, 0, 1]])
    labels = np.array([[0, 1], [2, 0]])
    np.testing.assert_array_equal(nn.one_hot(labels, 3, axis=0),
                                  np.moveaxis(np.eye(3)[labels], -1, 0))
    np.testing.assert_array_equal(nn.one_hot(labels, 3, axis=1),
                                  np.moveaxis(np.eye(3)[labels], -1, 1))
    assert nn.one_hot(labels, 3, dtype=np.int32).dtype == np.int32
    np.testing.assert_array_equal(nj.jit(lambda y: nn.one_hot(y, 3))(labels), np.eye(3)[labels])
    np.testing.assert_array_equal(nj.vmap(lambda y: nn.one_hot(y, 3))(labels), np.eye(3)[labels])


@pytest.mark.parametrize("call, error, fragment", [
    pytest.param(lambda: nn.one_hot([0, 1], 2.5), TypeError, "num_classes must be",
                 id="float-classes"),
    pytest.param(lambda: nn.one_hot([0, 1], 3, axis=3), ValueError, "axis 3 is out of bounds",
                 id="axis"),
    pytest.param(lambda: nn.one_hot(np.array(["a"]), 3), TypeError, "not numeric",
                 id="strings"),
    pytest.param(lambda: nn.dot_product_attention(np.ones((2, 3, 4)), np.ones((2, 3, 5)),
                                                  np.ones((2, 3, 5))), ValueError,
                 "key and value must be", id="attention-head-dim"),
    pytest.param(lambda: nn.dot_product_attention(np.ones((1, 2, 3, 4)), np.ones((1, 2, 2, 4)),
                                                  np.ones((1, 2, 2, 4))), ValueError,
                 "K dividing", id="attention-groups"),
    pytest.param(lambda: nn.dot_product_attention(np.ones((2, 3, 4)), np.ones((2, 3, 4)),
                                                  np.ones((2, 3, 4)), implementation="cudnn"),
                 ValueError, "implementation must be", id="attention-cudnn"),
    pytest.param(lambda: init.glorot_normal()(nj.random.key(0), (5,)), ValueError,
                 "at least 2D", id="fans-of-1d"),
    pytest.param(lambda: init.variance_scaling(1.0, "fan_max", "normal"), ValueError,
                 "mode must be", id="bad-mode"),
    pytest.param(lambda: init.variance_scaling(1.0, "fan_in", "cauchy"), ValueError,
                 "distribution must be", id="bad-distribution"),
    pytest.param(lambda: init.orthogonal()(nj.random.key(0), (4,)), ValueError,
                 "at least 2", id="orthogonal-1d"),
    pytest.param(lambda: init.delta_orthogonal()(nj.random.key(0), (3, 3, 4, 2)), ValueError,
                 "input channels <= output", id="delta-orthogonal-channels"),
])
def test_bad_input_raises_a_clear_error(call: Callable, error: type, fragment: str) -> None:
    with pytest.raises(error, match=re.escape(fragment)):
        call()


# ----- dot_product_attention -------------------------------------------------------------

def _np_attention(q, k, v, bias=None, mask=None, scale=None, causal=False):
    _, t, n, h = q.shape
    kh = k.shape[2]
    k = np.repeat(k, n // kh, axis=2)
    v = np.repeat(v, n // kh, axis=2)
    logits = np.einsum("btnh,bsnh->bnts", q, k) * (1 / np.sqrt(h) if scale is None else scale)
    if bias is not None:
        logits = logits + bias
    keep = np.ones(logits.shape, bool)
    if mask is not None:
        keep &= mask
    if causal:
        keep &= np.tril(np.ones((t, k.shape[1]), bool))
    logits = np.where(keep, logits, np.finfo(np.float64).min)
    w = np.exp(logits - logits.max(-1, keepdims=True))
    w /= w.sum(-1, keepdims=True)
    return np.einsum("bnts,bsnh->btnh", w, v)


def test_dot_product_attention_matches_numpy() -> None:
    rng = np.random.default_rng(5)
    q, k, v = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((2, 6, 2, 5)), \
        rng.standard_normal((2, 6, 2, 5))
    bias = rng.standard_normal((1, 4, 3, 6))
    mask = rng.random((2, 1, 3, 6)) < 0.7
    np.testing.assert_allclose(nn.dot_product_attention(q, k, v), _np_attention(q, k, v),
                               rtol=1e-12)
    np.testing.assert_allclose(nn.dot_product_attention(q, k, v, bias, mask, scale=0.3),
                               _np_attention(q, k, v, bias, mask, 0.3), rtol=1e-12)
    q3 = rng.standard_normal((2, 6, 4, 5))
    np.testing.assert_allclose(nn.dot_product_attention(q3, k, v, is_causal=True),
                               _np_attention(q3, k, v, causal=True), rtol=1e-12)
    np.testing.assert_allclose(nn.dot_product_attention(q[0], k[0], v[0]),
                               _np_attention(q, k, v)[0], rtol=1e-12)
    lengths = np.array([6, 2])
    kv_mask = np.arange(6)[None, None, None, :] < lengths[:, None, None, None]
    np.testing.assert_allclose(nn.dot_product_attention(q, k, v, key_value_seq_lengths=lengths),
                               _np_attention(q, k, v, mask=kv_mask), rtol=1e-12)
    small_bias, small_mask = bias[..., :2, :3], mask[..., :2, :3]
    f = lambda q, k, v: jnp.sum(  # noqa: E731
        nn.dot_product_attention(q, k, v, small_bias, small_mask) ** 2)
    small = (q[:, :2], k[:, :3], v[:, :3])
    nj.check_grads(f, tuple(a.copy() for a in small), order=1, modes=("fwd", "rev"))
    np.testing.assert_array_equal(nj.jit(nn.dot_product_attention)(q, k, v),
                                  nn.dot_product_attention(q, k, v))


# ----- initializers -----------------------------------------------------------------------

KEY = nj.random.key(0)


def test_constant_zeros_ones() -> None:
    np.testing.assert_array_equal(init.zeros(KEY, (2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(init.ones(KEY, (4,), np.float32), np.ones(4, np.float32))
    assert init.ones(KEY, (4,), np.float32).dtype == np.float32
    np.testing.assert_array_equal(init.constant(-0.5)(KEY, (2, 2)), np.full((2, 2), -0.5))
    assert init.constant(3, np.int32)(KEY, (2,)).dtype == np.int32


@pytest.mark.parametrize("name, factory, variance", [
    ("glorot_uniform", init.glorot_uniform, lambda fi, fo: 2 / (fi + fo)),
    ("glorot_normal", init.glorot_normal, lambda fi, fo: 2 / (fi + fo)),
    ("xavier_normal", init.xavier_normal, lambda fi, fo: 2 / (fi + fo)),
    ("lecun_uniform", init.lecun_uniform, lambda fi, fo: 1 / fi),
    ("lecun_normal", init.lecun_normal, lambda fi, fo: 1 / fi),
    ("he_uniform", init.he_uniform, lambda fi, fo: 2 / fi),
    ("he_normal", init.he_normal, lambda fi, fo: 2 / fi),
    ("kaiming_uniform", init.kaiming_uniform, lambda fi, fo: 2 / fi),
])
def test_variance_scaling_families_have_their_variance(name, factory, variance) -> None:
    # A conv kernel HWIO (3, 3, 40, 60): receptive field 9, fan_in 360, fan_out 540.
    w = factory()(KEY, (3, 3, 40, 60))
    assert w.shape == (3, 3, 40, 60) and w.dtype == np.float64
    assert abs(w.var() / variance(360, 540) - 1) < 0.03
    if "uniform" in name:
        assert np.abs(w).max() <= np.sqrt(3 * variance(360, 540))
    else:                                               # truncated at 2 standard deviations
        assert np.abs(w).max() <= 2 * np.sqrt(variance(360, 540)) / .87962566103423978
    assert factory(dtype=np.float32)(KEY, (30, 20)).dtype == np.float32
    np.testing.assert_array_equal(nj.jit(lambda k: factory()(k, (4, 3)))(KEY),
                                  factory()(KEY, (4, 3)))


def test_variance_scaling_fan_axes_and_modes() -> None:
    # OIHW kernel: in_axis=1, out_axis=0; batch_axis counts in neither fan.
    w = init.variance_scaling(1.0, "fan_in", "normal", in_axis=1, out_axis=0)(KEY, (50, 20, 3, 3))
    assert abs(w.var() * 180 - 1) < 0.05
    w = init.variance_scaling(2.0, "fan_out", "uniform", batch_axis=0)(KEY, (4, 100, 300))
    assert abs(w.var() * 300 / 2 - 1) < 0.05
    w = init.variance_scaling(1.0, "fan_geo_avg", "normal")(KEY, (100, 400))
    assert abs(w.var() * 200 - 1) < 0.05
    w = init.normal(0.5)(KEY, (10_000,))
    assert abs(w.std() - 0.5) < 0.02
    u = init.uniform(2.0)(KEY, (10_000,))
    assert u.min() >= 0 and u.max() < 2.0 and abs(u.mean() - 1.0) < 0.03
    tn = init.truncated_normal(1.0)(KEY, (10_000,))
    assert np.abs(tn).max() <= 2.0 and abs(tn.std() - .87962566103423978) < 0.02


@pytest.mark.parametrize("shape, column_axis", [((5, 5), -1), ((8, 3), -1), ((3, 8), -1),
                                                ((2, 3, 4), -1), ((6, 4), 0)])
def test_orthogonal_has_orthonormal_columns_or_rows(shape, column_axis) -> None:
    w = init.orthogonal(scale=2.0, column_axis=column_axis)(KEY, shape)
    assert w.shape == shape
    m = np.moveaxis(w, column_axis, -1).reshape(-1, shape[column_axis]) / 2.0
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(gram, np.eye(min(m.shape)), atol=1e-12)


def test_delta_orthogonal_is_an_orthogonal_matrix_at_the_centre() -> None:
    w = init.delta_orthogonal()(KEY, (3, 3, 4, 6))
    centre = w[1, 1]
    np.testing.assert_allclose(centre @ centre.T, np.eye(4), atol=1e-12)
    w[1, 1] = 0
    assert not w.any()
