"""Cumulative reductions (``lax.cumprod``/``cummax``/``cummin``/``cumlogsumexp`` and the
``jnp`` running sums and products) and ``lax.sort`` of several operands."""

from __future__ import annotations

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import lax

RNG = np.random.default_rng(3)
X = RNG.normal(size=(4, 5))


def _reference(name, x, axis, reverse):
    fn = {"cumsum": np.cumsum, "cumprod": np.cumprod,
          "cummax": np.maximum.accumulate, "cummin": np.minimum.accumulate,
          "cumlogsumexp": np.logaddexp.accumulate}[name]
    if reverse:
        return np.flip(fn(np.flip(x, axis), axis=axis), axis)
    return fn(x, axis=axis)


NAMES = ["cumprod", "cummax", "cummin", "cumlogsumexp"]
AXES = [(0, False), (1, False), (0, True), (1, True)]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("axis, reverse", AXES)
def test_values_match_numpy_eagerly_under_jit_and_vmap(name, axis, reverse):
    fn = getattr(lax, name)
    want = _reference(name, X, axis, reverse)
    eager = fn(X, axis=axis, reverse=reverse)
    np.testing.assert_allclose(eager, want, rtol=1e-15)
    jitted = nj.jit(lambda x: fn(x, axis, reverse))(X)
    np.testing.assert_array_equal(jitted, eager)
    # vmap over the other axis, against a loop over it
    other = 1 - axis
    batched = nj.vmap(lambda r: fn(r, 0, reverse), in_axes=other, out_axes=other)(X)
    loop = np.stack([fn(np.take(X, i, other), 0, reverse) for i in range(X.shape[other])],
                    axis=other)
    np.testing.assert_array_equal(batched, loop)


@pytest.mark.parametrize("name", NAMES)
def test_gradients_under_jit_and_vmap_match_eager_and_a_loop(name):
    fn = getattr(lax, name)
    g = nj.grad(lambda x: jnp.sum(fn(x, 1) * np.arange(5.0)))
    eager = g(X)
    np.testing.assert_array_equal(nj.jit(g)(X), eager)
    per_row = nj.vmap(nj.grad(lambda r: jnp.sum(fn(r, 0) * np.arange(5.0))))(X)
    np.testing.assert_allclose(per_row, eager, rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64])
@pytest.mark.parametrize("name", ["cumprod", "cummax", "cummin"])
def test_dtypes_follow_numpy(name, dtype):
    x = (RNG.normal(size=6) * 3).astype(dtype)
    got = getattr(lax, name)(x)
    want = _reference(name, x, 0, False)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    assert nj.make_jaxpr(getattr(lax, name))(x).out_avals[0].dtype == want.dtype


def _cumprod_jacobian(x):
    # d y_i / d x_j = prod_{k <= i, k != j} x_k for j <= i: products, no division.
    n = len(x)
    jac = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1):
            jac[i, j] = np.prod([x[k] for k in range(i + 1) if k != j])
    return jac


@pytest.mark.parametrize("x", [np.array([2.0, 0.0, 3.0, 0.5]), np.array([0.0, 1.5, 0.0, 2.0]),
                               np.array([0.0, 0.0, 0.0])])
def test_cumprod_derivatives_are_exact_with_zeros(x):
    want = _cumprod_jacobian(x)
    np.testing.assert_array_equal(nj.jacrev(lax.cumprod)(x), want)
    np.testing.assert_array_equal(nj.jacfwd(lax.cumprod)(x), want)
    np.testing.assert_array_equal(nj.jacfwd(jnp.cumprod)(x), want)
    # second order too: a polynomial, so central differences are exact up to rounding
    nj.check_grads(lambda x: lax.cumprod(x) * np.arange(1.0, len(x) + 1), (x,), order=2,
                   modes=("fwd", "rev"))
    nj.check_grads(lambda x: lax.cumprod(x, reverse=True), (x,), order=2, modes=("fwd", "rev"))


def test_cummax_pulls_on_the_running_maximum():
    x = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    want = np.array([[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 0, 1, 0],
                     [0, 0, 0, 1, 0]], dtype=float)
    np.testing.assert_array_equal(nj.jacrev(lax.cummax)(x), want)
    np.testing.assert_array_equal(nj.jacfwd(lax.cummin)(-x), want)


def test_cummax_ties_split_along_jaxs_scan_tree():
    # JAX differentiates the odd-even associative scan of max, each tie halving:
    # y2 = max(max(x0, x1), x2), so x2 gets 1/2 and x0, x1 a quarter each.
    jac = nj.jacfwd(lax.cummax)(np.ones(3))
    np.testing.assert_array_equal(jac, [[1, 0, 0], [0.5, 0.5, 0], [0.25, 0.25, 0.5]])
    np.testing.assert_array_equal(nj.jacrev(lax.cummax)(np.ones(3)), jac)
    # every row still sums to one: the pull is shared, never lost or doubled
    np.testing.assert_allclose(nj.jacrev(lax.cummin)(np.zeros(6)).sum(axis=1), np.ones(6))


def test_cumlogsumexp_is_stable_for_large_values():
    x = np.array([1000.0, 1000.0, -1000.0, 1001.0])
    y = lax.cumlogsumexp(x)
    np.testing.assert_allclose(y, np.logaddexp.accumulate(x), rtol=1e-15)
    jac = nj.jacrev(lax.cumlogsumexp)(x)
    assert np.all(np.isfinite(jac))
    want = np.tril(np.exp(x[None, :] - y[:, None]))      # d y_i / d x_j = exp(x_j - y_i)
    # exp(x - y) near 1000 carries ~1000 ulps of rounding in the reference itself
    np.testing.assert_allclose(jac, want, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(nj.jacfwd(lax.cumlogsumexp)(x), want, rtol=1e-12, atol=1e-300)


def test_cumlogsumexp_of_minus_infinity_stays_minus_infinity():
    x = np.array([-np.inf, -np.inf, 0.0])
    np.testing.assert_array_equal(lax.cumlogsumexp(x), [-np.inf, -np.inf, 0.0])
    np.testing.assert_array_equal(nj.jit(lax.cumlogsumexp)(x), [-np.inf, -np.inf, 0.0])


def test_empty_axis():
    for name in NAMES:
        assert getattr(lax, name)(np.zeros((0, 3))).shape == (0, 3)
        assert nj.grad(lambda x: jnp.sum(getattr(lax, name)(x)))(np.zeros((0, 3))).shape \
            == (0, 3)


@pytest.mark.parametrize("call, kind, fragment", [
    (lambda: lax.cumprod(X, axis=2), ValueError, "nanojax.lax.cumprod: axis 2 is out of range"),
    (lambda: lax.cummax(X, axis=1.0), TypeError, "nanojax.lax.cummax: axis must be an int"),
    (lambda: lax.cumlogsumexp(np.arange(3)), TypeError,
     "nanojax.lax.cumlogsumexp: takes floating-point operands"),
    (lambda: lax.cummin(np.array([True, False])), TypeError, "nanojax.lax.cummin: takes real"),
    (lambda: lax.cumprod([1.0, 2.0]), TypeError, "nanojax.lax.cumprod: takes arrays"),
    (lambda: nj.jit(lambda x: lax.cumprod(x, axis=3))(X), ValueError,
     "nanojax.lax.cumprod: axis 3"),
])
def test_errors_name_the_function(call, kind, fragment):
    with pytest.raises(kind) as info:
        call()
    assert fragment in str(info.value)


# ----- jnp's running sums and products ---------------------------------------------------

def test_jnp_cumulative_functions_match_numpy():
    a = np.array([[1.0, np.nan, 2.0], [3.0, 4.0, np.nan]])
    ints = np.array([[1, 2, 3], [4, 5, 6]])
    for got, want in [
        (jnp.cumprod(ints), np.cumprod(ints)), (jnp.cumprod(ints, axis=1), np.cumprod(ints, 1)),
        (jnp.cumprod(ints, dtype=np.float32), np.cumprod(ints, dtype=np.float32)),
        (jnp.cumprod(np.array([True, True, False])), np.cumprod([True, True, False])),
        (jnp.nancumsum(a, axis=1), np.nancumsum(a, axis=1)), (jnp.nancumsum(a), np.nancumsum(a)),
        (jnp.nancumprod(a, axis=0), np.nancumprod(a, axis=0)),
        (jnp.cumulative_sum(ints, axis=1), np.cumsum(ints, axis=1)),
        (jnp.cumulative_sum(ints, axis=0, include_initial=True),
         np.concatenate([np.zeros((1, 3), int), np.cumsum(ints, axis=0)])),
        (jnp.cumulative_prod(np.array([2.0, 3.0]), include_initial=True), [1.0, 2.0, 6.0]),
    ]:
        assert np.asarray(got).dtype == np.asarray(want).dtype
        np.testing.assert_array_equal(got, want)
    traced = nj.jit(lambda x: jnp.cumulative_prod(x, axis=1, include_initial=True))(X)
    np.testing.assert_array_equal(traced, jnp.cumulative_prod(X, axis=1, include_initial=True))
    nj.check_grads(lambda x: jnp.nancumprod(x, axis=0), (X,), order=2, modes=("fwd", "rev"))


def test_jnp_cumulative_sum_needs_an_axis_for_more_than_one_dimension():
    with pytest.raises(ValueError, match=r"nanojax\.numpy\.cumulative_sum: axis must be given"):
        jnp.cumulative_sum(X)


def test_lexsort_matches_numpy():
    keys = RNG.integers(0, 3, size=(3, 12))
    np.testing.assert_array_equal(jnp.lexsort(keys), np.lexsort(keys))
    np.testing.assert_array_equal(jnp.lexsort(tuple(keys)), np.lexsort(keys))
    np.testing.assert_array_equal(nj.jit(jnp.lexsort)(keys.astype(float)), np.lexsort(keys))


# ----- lax.sort of several operands ------------------------------------------------------

def test_sort_orders_by_the_keys_in_order_and_carries_the_rest():
    k0 = RNG.integers(0, 3, size=20)
    k1 = RNG.integers(0, 3, size=20)
    v = RNG.normal(size=20)
    order = np.lexsort((np.arange(20), k1, k0))           # stable: original order last
    for fn in (lax.sort, nj.jit(lax.sort, static_argnames=("num_keys",))):
        out = fn((k0, k1, v), num_keys=2)
        assert isinstance(out, tuple) and len(out) == 3
        for got, want in zip(out, (k0[order], k1[order], v[order])):
            np.testing.assert_array_equal(got, want)
    one_key = lax.sort((k0, v))
    np.testing.assert_array_equal(one_key[1], v[np.argsort(k0, kind="stable")])


def test_sort_puts_nans_last_and_treats_signed_zeros_alike():
    keys = np.array([0.0, np.nan, -1.0, -0.0, np.inf, -np.inf])
    values = np.arange(6.0)
    k, v = lax.sort_key_val(keys, values)
    np.testing.assert_array_equal(v, [5.0, 2.0, 0.0, 3.0, 4.0, 1.0])
    np.testing.assert_array_equal(lax.sort(keys), k)


def test_sort_along_a_dimension_and_under_vmap():
    x = RNG.normal(size=(3, 4))
    np.testing.assert_array_equal(lax.sort(x, dimension=0), np.sort(x, axis=0))
    k, v = nj.vmap(lambda a, b: lax.sort_key_val(a, b))(x, X[:3, :4])
    order = np.argsort(x, axis=1, kind="stable")
    np.testing.assert_array_equal(v, np.take_along_axis(X[:3, :4], order, 1))
    np.testing.assert_array_equal(k, np.sort(x, axis=1))


def test_sort_gradients_flow_to_every_float_operand():
    keys = RNG.permutation(6).astype(float)
    nj.check_grads(lambda k, v: lax.sort((k, v))[1] * np.arange(6.0) + lax.sort((k, v))[0],
                   (keys, RNG.normal(size=6)), order=2, modes=("fwd", "rev"))
    gk, gv = nj.grad(lambda k, v: lax.sort_key_val(k, v)[1][0], argnums=(0, 1))(
        keys, np.arange(6.0))
    np.testing.assert_array_equal(gk, np.zeros(6))         # the permutation is a constant
    np.testing.assert_array_equal(gv, (keys == keys.min()).astype(float))


@pytest.mark.parametrize("call, kind, fragment", [
    (lambda: lax.sort([]), TypeError, "needs at least one operand"),
    (lambda: lax.sort([np.ones(3)], num_keys=2), ValueError, "num_keys=2 must be between 1"),
    (lambda: lax.sort(np.ones(3), num_keys=2), ValueError, "must be 1 for a single operand"),
    (lambda: lax.sort((np.ones(3), np.ones(2))), ValueError, "the same shape"),
    (lambda: lax.sort(np.ones(3), dimension=1), ValueError, "dimension 1 is out of range"),
    (lambda: lax.sort(np.array(1.0)), ValueError, "dimension -1 is out of range"),
    (lambda: lax.sort_key_val(np.ones(3), np.ones(3), dimension=0.5), TypeError,
     "dimension must be an int"),
    (lambda: lax.sort(np.ones(2) + 1j), TypeError, "complex"),
])
def test_sort_errors_name_the_function(call, kind, fragment):
    with pytest.raises(kind) as info:
        call()
    assert str(info.value).startswith("nanojax.lax.sort")
    assert fragment in str(info.value)


def test_numpy_cumulative_functions_on_traced_values_record_the_gates():
    x = np.array([2.0, 0.0, 3.0])
    np.testing.assert_array_equal(nj.grad(lambda x: np.cumprod(x)[-1])(x), [0.0, 6.0, 0.0])
    names = {e.primitive.name for e in nj.make_jaxpr(lambda x: np.nancumsum(x))(x).eqns}
    assert "cumsum" in names
