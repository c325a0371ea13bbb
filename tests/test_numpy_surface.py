"""The nanojax.numpy surface: eager results equal NumPy's, gradients equal finite differences.

Every function API.md lists is checked twice: (a) called eagerly it returns a
plain ``numpy.ndarray`` / NumPy scalar equal to what NumPy returns, and (b)
under ``nj.grad`` of a scalar reduction of it, the gradient matches
``nj.numerical_grad``. Plain NumPy code (``np.tanh``, ``x @ W``, ``x.sum()``)
is differentiated unchanged.
"""

import warnings

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import nn

RNG = np.random.default_rng(0)
X23 = RNG.normal(size=(2, 3))
X234 = RNG.normal(size=(2, 3, 4))
POS23 = RNG.uniform(0.5, 2.0, size=(2, 3))
V3 = RNG.normal(size=3)


# ----- helpers ------------------------------------------------------------------

def assert_plain_numpy(out, expected):
    """``out`` is a NumPy array or scalar (no wrapper type) equal to ``expected``."""
    assert isinstance(out, (np.ndarray, np.generic)), type(out)
    expected = np.asarray(expected)
    assert np.shape(out) == expected.shape
    assert np.asarray(out).dtype == expected.dtype
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def weights_like(shape, seed=1):
    """Fixed random weights, so a weighted sum sees every output's gradient."""
    return np.random.default_rng(seed).normal(size=shape)


def scalarize(f):
    """``sum(f(*args) * w)`` with fixed random weights ``w``: a scalar of f."""
    def scalar(*args):
        out = f(*args)
        return jnp.sum(jnp.multiply(out, weights_like(jnp.shape(out))))
    return scalar


def assert_grad_matches_numerical(f, *args, argnums=0, rtol=1e-5, atol=1e-6):
    g = nj.grad(f, argnums=argnums)(*args)
    n = nj.numerical_grad(f, argnums=argnums)(*args)
    gs = g if isinstance(argnums, tuple) else (g,)
    ns = n if isinstance(argnums, tuple) else (n,)
    for gi, ni in zip(gs, ns):
        assert isinstance(gi, (np.ndarray, np.generic)), type(gi)
        assert np.shape(gi) == np.shape(ni)
        np.testing.assert_allclose(gi, ni, rtol=rtol, atol=atol)


# ----- creation -------------------------------------------------------------------

CREATION = [
    ("array", lambda m: m.array([[1.0, 2.0], [3.0, 4.0]])),
    ("array_int", lambda m: m.array([1, 2, 3])),
    ("array_dtype", lambda m: m.array([1, 2], dtype=np.float32)),
    ("asarray", lambda m: m.asarray([0.5, 1.5])),
    ("zeros", lambda m: m.zeros((2, 3))),
    ("ones", lambda m: m.ones(4)),
    ("zeros_like", lambda m: m.zeros_like(X23)),
    ("ones_like", lambda m: m.ones_like(np.arange(3))),
    ("full", lambda m: m.full((2, 2), 7.5)),
    ("arange", lambda m: m.arange(5)),
    ("arange_float", lambda m: m.arange(0.0, 1.0, 0.25)),
    ("linspace", lambda m: m.linspace(0.0, 1.0, 5)),
    ("eye", lambda m: m.eye(3)),
]


@pytest.mark.parametrize("name,make", CREATION, ids=[c[0] for c in CREATION])
def test_creation_returns_the_numpy_array(name, make):
    assert_plain_numpy(make(jnp), make(np))


def test_array_copies_and_asarray_does_not():
    x = np.arange(3.0)
    assert jnp.array(x) is not x and not np.shares_memory(jnp.array(x), x)
    assert np.shares_memory(jnp.asarray(x), x)


def test_creation_from_traced_list_is_differentiable():
    def f(a, b):
        return jnp.sum(jnp.multiply(jnp.array([a, b, a]), np.array([1.0, 2.0, 3.0])))
    assert nj.grad(f, argnums=(0, 1))(0.5, -1.0) == (4.0, 2.0)


def test_full_with_traced_fill_value_is_differentiable():
    g = nj.grad(lambda v: jnp.sum(jnp.full((2, 3), v)))(1.5)
    assert g == 6.0


# ----- elementwise math -----------------------------------------------------------

UNARY = [  # name, domain of inputs
    ("exp", X23), ("log", POS23), ("log1p", POS23), ("tanh", X23), ("sqrt", POS23),
    ("square", X23), ("abs", X23), ("negative", X23), ("sin", X23), ("cos", X23),
]


@pytest.mark.parametrize("name,x", UNARY, ids=[u[0] for u in UNARY])
def test_unary_eager_matches_numpy(name, x):
    assert_plain_numpy(getattr(jnp, name)(x), getattr(np, name)(x))


@pytest.mark.parametrize("name,x", UNARY, ids=[u[0] for u in UNARY])
def test_unary_on_python_float_returns_numpy_scalar(name, x):
    v = float(np.ravel(x)[0])
    assert_plain_numpy(getattr(jnp, name)(v), getattr(np, name)(v))


@pytest.mark.parametrize("name,x", UNARY, ids=[u[0] for u in UNARY])
def test_unary_grad_matches_numerical(name, x):
    assert_grad_matches_numerical(scalarize(getattr(jnp, name)), x)


def test_sign_is_eager_numpy_and_has_zero_gradient():
    assert_plain_numpy(jnp.sign(X23), np.sign(X23))
    g = nj.grad(lambda x: jnp.sum(jnp.multiply(jnp.sign(x), x)))(X23)
    np.testing.assert_allclose(g, np.sign(X23))   # sign(x) is a constant factor


BINARY = [  # name, x, y (including broadcasting)
    ("add", X23, V3), ("subtract", X23, V3), ("multiply", X23, V3),
    ("divide", X23, POS23), ("power", POS23, X23), ("maximum", X23, V3),
    ("minimum", X23, V3), ("add_scalar", X23, 2.5), ("divide_col", X23, POS23[:, :1]),
]


def _binary(name):
    return name.split("_")[0]


@pytest.mark.parametrize("name,x,y", BINARY, ids=[b[0] for b in BINARY])
def test_binary_eager_matches_numpy(name, x, y):
    assert_plain_numpy(getattr(jnp, _binary(name))(x, y), getattr(np, _binary(name))(x, y))


@pytest.mark.parametrize("name,x,y", BINARY, ids=[b[0] for b in BINARY])
def test_binary_grad_matches_numerical_in_both_arguments(name, x, y):
    f = scalarize(getattr(jnp, _binary(name)))
    assert_grad_matches_numerical(f, x, y, argnums=(0, 1))


def test_power_with_integer_exponent_grad():
    assert_grad_matches_numerical(scalarize(lambda x: jnp.power(x, 3)), X23)
    assert_grad_matches_numerical(scalarize(lambda x: x ** 3), X23)


def test_clip_eager_and_grad():
    assert_plain_numpy(jnp.clip(X23, -0.5, 0.5), np.clip(X23, -0.5, 0.5))
    assert_plain_numpy(jnp.clip(X23, None, 0.0), np.clip(X23, None, 0.0))
    g = nj.grad(lambda x: jnp.sum(jnp.clip(x, -0.5, 0.5)))(X23)
    np.testing.assert_array_equal(g, (np.abs(X23) < 0.5).astype(float))


def test_where_eager_and_grad_in_both_branches():
    cond = X23 > 0
    assert_plain_numpy(jnp.where(cond, X23, POS23), np.where(cond, X23, POS23))
    f = scalarize(lambda a, b: jnp.where(a > 0, a, b))
    gx, gy = nj.grad(f, argnums=(0, 1))(X23, POS23)
    w = weights_like(X23.shape)
    np.testing.assert_allclose(gx, np.where(cond, w, 0.0))
    np.testing.assert_allclose(gy, np.where(cond, 0.0, w))


COMPARISONS = ["equal", "not_equal", "less", "less_equal", "greater", "greater_equal"]


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparison_eager_matches_numpy(name):
    y = np.where(RNG.random(X23.shape) < 0.3, X23, 0.0)   # some exact ties
    assert_plain_numpy(getattr(jnp, name)(X23, y), getattr(np, name)(X23, y))


@pytest.mark.parametrize("name", COMPARISONS)
def test_comparison_under_grad_gives_a_constant_mask(name):
    mask = getattr(np, name)(X23, 0.0)

    def f(x):
        m = getattr(jnp, name)(x, 0.0)
        assert m.dtype == np.bool_
        return jnp.sum(jnp.where(m, x, 0.0))
    np.testing.assert_array_equal(nj.grad(f)(X23), mask.astype(float))


# ----- reductions ---------------------------------------------------------------

REDUCTIONS = ["sum", "mean", "max", "min", "prod", "var", "std"]
AXES = [None, 0, 1, -1, (0, 2), (0, 1, 2)]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES, ids=str)
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_eager_matches_numpy(name, axis, keepdims):
    got = getattr(jnp, name)(X234, axis=axis, keepdims=keepdims)
    assert_plain_numpy(got, getattr(np, name)(X234, axis=axis, keepdims=keepdims))


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)], ids=str)
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_grad_matches_numerical(name, axis, keepdims):
    f = scalarize(lambda x: getattr(jnp, name)(x, axis=axis, keepdims=keepdims))
    assert_grad_matches_numerical(f, X234)


@pytest.mark.parametrize("name", REDUCTIONS)
def test_reduction_under_grad_has_numpy_shape(name):
    def f(x):
        out = getattr(jnp, name)(x, axis=1, keepdims=True)
        assert out.shape == (2, 1, 4)
        return jnp.sum(out)
    nj.grad(f)(X234)


def test_var_std_with_ddof_grad():
    assert_plain_numpy(jnp.var(X23, ddof=1), np.var(X23, ddof=1))
    assert_plain_numpy(jnp.std(X23, axis=0, ddof=1), np.std(X23, axis=0, ddof=1))
    assert_grad_matches_numerical(lambda x: jnp.std(x, ddof=1), X23)


def test_max_gradient_splits_ties_equally():
    g = nj.grad(lambda x: jnp.max(x))(np.array([1.0, 3.0, 3.0, 2.0]))
    np.testing.assert_array_equal(g, [0.0, 0.5, 0.5, 0.0])


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argreduction_eager_and_under_grad_match_numpy(name, axis, keepdims):
    expected = getattr(np, name)(X234, axis=axis, keepdims=keepdims)
    assert_plain_numpy(getattr(jnp, name)(X234, axis=axis, keepdims=keepdims), expected)

    def f(x):
        idx = getattr(jnp, name)(x, axis=axis, keepdims=keepdims)
        return jnp.sum(x), idx
    _, idx = nj.grad(f, has_aux=True)(X234)
    assert np.shape(idx) == expected.shape
    np.testing.assert_array_equal(idx, expected)


def test_gradient_through_argmax_index_is_one_hot():
    x = np.array([0.3, 2.0, -1.0, 0.5])
    g = nj.grad(lambda v: v[jnp.argmax(v)] * 3.0)(x)
    np.testing.assert_array_equal(g, [0.0, 3.0, 0.0, 0.0])


# ----- linear algebra -------------------------------------------------------------

DOT_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
              ((2, 3, 4), (4,)), ((2, 3, 4), (4, 5))]


@pytest.mark.parametrize("sa,sb", DOT_SHAPES, ids=str)
def test_dot_eager_and_grad(sa, sb):
    a, b = RNG.normal(size=sa), RNG.normal(size=sb)
    assert_plain_numpy(jnp.dot(a, b), np.dot(a, b))
    assert_grad_matches_numerical(scalarize(jnp.dot), a, b, argnums=(0, 1))


MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                 ((2, 3, 4), (2, 4, 5)), ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)),
                 ((2, 1, 3, 4), (5, 4, 2)), ((2, 3, 4), (4,)), ((4,), (2, 4, 3))]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES, ids=str)
def test_matmul_eager_and_grad_with_broadcast_batch_dims(sa, sb):
    a, b = RNG.normal(size=sa), RNG.normal(size=sb)
    assert_plain_numpy(jnp.matmul(a, b), np.matmul(a, b))
    assert_grad_matches_numerical(scalarize(jnp.matmul), a, b, argnums=(0, 1))
    assert_grad_matches_numerical(scalarize(lambda x, y: x @ y), a, b, argnums=(0, 1))


def test_rmatmul_with_numpy_array_on_the_left():
    W = RNG.normal(size=(4, 3))
    assert_grad_matches_numerical(scalarize(lambda x: W @ x), X23.T.copy())


def test_outer_eager_and_grad():
    a, b = V3, RNG.normal(size=4)
    assert_plain_numpy(jnp.outer(a, b), np.outer(a, b))
    assert_grad_matches_numerical(scalarize(jnp.outer), a, b, argnums=(0, 1))


EINSUMS = [
    ("ij,jk->ik", (2, 3), (3, 4)),
    ("ij,kj->ik", (2, 3), (4, 3)),
    ("ij,jk->ki", (2, 3), (3, 4)),
    ("ij,ij->", (2, 3), (2, 3)),
    ("ij,ij->i", (2, 3), (2, 3)),
    ("i,j->ij", (3,), (4,)),
    ("ij,j->i", (2, 3), (3,)),
    ("bij,bjk->bik", (2, 3, 4), (2, 4, 5)),
    ("bij,bjk->bki", (2, 3, 4), (2, 4, 5)),
    ("ijk,kl->il", (2, 3, 4), (4, 5)),       # j summed out of the first operand
    ("ij,kl->ik", (2, 3), (4, 5)),           # j and l summed out
    ("ij,jk", (2, 3), (3, 4)),               # implicit output
]


@pytest.mark.parametrize("spec,sa,sb", EINSUMS, ids=[e[0] for e in EINSUMS])
def test_einsum_two_operands_eager_and_grad(spec, sa, sb):
    a, b = RNG.normal(size=sa), RNG.normal(size=sb)
    assert_plain_numpy(jnp.einsum(spec, a, b), np.einsum(spec, a, b))
    f = scalarize(lambda x, y: jnp.einsum(spec, x, y))
    assert_grad_matches_numerical(f, a, b, argnums=(0, 1))


@pytest.mark.parametrize("spec", ["ij->ji", "ij->", "ijk->ki", "ij->i"])
def test_einsum_one_operand_transposes_and_sums(spec):
    x = X234 if len(spec.split("->")[0]) == 3 else X23
    assert_plain_numpy(jnp.einsum(spec, x), np.einsum(spec, x))
    assert_grad_matches_numerical(scalarize(lambda v: jnp.einsum(spec, v)), x)


# ----- shape operations ----------------------------------------------------------

SHAPE_OPS = [
    ("reshape_-1", lambda m, x: m.reshape(x, (-1, 2))),
    ("reshape_flat", lambda m, x: m.reshape(x, -1)),
    ("reshape_3d", lambda m, x: m.reshape(x, (4, 3, 2))),
    ("transpose", lambda m, x: m.transpose(x)),
    ("transpose_axes", lambda m, x: m.transpose(x, (1, 2, 0))),
    ("transpose_neg_axes", lambda m, x: m.transpose(x, (-1, 0, 1))),
    (".T", lambda m, x: x.T),
    ("expand_dims_0", lambda m, x: m.expand_dims(x, 0)),
    ("expand_dims_-1", lambda m, x: m.expand_dims(x, -1)),
    ("expand_dims_tuple", lambda m, x: m.expand_dims(x, (0, 2))),
    ("squeeze_all", lambda m, x: m.squeeze(m.expand_dims(x, (0, 2)))),
    ("squeeze_axis", lambda m, x: m.squeeze(m.expand_dims(x, 1), axis=1)),
    ("broadcast_to", lambda m, x: m.broadcast_to(x[0], (5, 3, 4))),
    ("broadcast_to_ones", lambda m, x: m.broadcast_to(x[:, :1, :], (2, 3, 4))),
    ("concatenate_0", lambda m, x: m.concatenate([x, x * 2.0], axis=0)),
    ("concatenate_-1", lambda m, x: m.concatenate([x, x[..., :2]], axis=-1)),
    ("stack_0", lambda m, x: m.stack([x, x * 3.0])),
    ("stack_1", lambda m, x: m.stack([x, x * 3.0], axis=1)),
    ("stack_-1", lambda m, x: m.stack([x[0], x[1]], axis=-1)),
]


@pytest.mark.parametrize("name,fn", SHAPE_OPS, ids=[s[0] for s in SHAPE_OPS])
def test_shape_op_eager_matches_numpy(name, fn):
    assert_plain_numpy(fn(jnp, X234), fn(np, X234))


@pytest.mark.parametrize("name,fn", SHAPE_OPS, ids=[s[0] for s in SHAPE_OPS])
def test_shape_op_grad_matches_numerical_and_numpy_shape(name, fn):
    expected_shape = np.shape(fn(np, X234))

    def g(x):
        out = fn(jnp, x)
        assert out.shape == expected_shape
        return out
    assert_grad_matches_numerical(scalarize(g), X234)


def test_reshape_and_transpose_methods_on_tracers():
    def f(x):
        assert x.reshape(4, 6).shape == (4, 6)
        assert x.reshape((-1,)).shape == (24,)
        assert x.transpose(2, 0, 1).shape == (4, 2, 3)
        return jnp.sum(x.reshape(6, -1).T * weights_like((4, 6)))
    expected = weights_like((4, 6)).T.reshape(2, 3, 4)
    np.testing.assert_allclose(nj.grad(f)(X234), expected)


def test_concatenate_and_stack_mix_traced_and_constant_arrays():
    c = np.ones((2, 3))
    f = scalarize(lambda x: jnp.concatenate([c, x, c], axis=1))
    assert_grad_matches_numerical(f, X23)
    f = scalarize(lambda x: jnp.stack([c, x]))
    assert_grad_matches_numerical(f, X23)


# ----- indexing -------------------------------------------------------------------

INDICES = [
    ("int", 1), ("neg_int", -1), ("tuple_ints", (1, 2)), ("slice", slice(1, 3)),
    ("step_slice", slice(None, None, 2)), ("reverse", slice(None, None, -1)),
    ("neg_slice", (slice(None), slice(-2, None))), ("none", None),
    ("none_mid", (slice(None), None, 1)), ("ellipsis", (Ellipsis, 0)),
    ("ellipsis_mid", (0, Ellipsis, -1)), ("int_array", np.array([0, 1, 0])),
    ("int_array_axis1", (slice(None), np.array([2, 0, 2]))),
    ("int_list", [1, 0]), ("two_int_arrays", (np.array([0, 1, 1]), np.array([2, 0, 2]))),
    ("array_and_slice", (np.array([1, 0]), slice(1, None))),
    ("neg_int_array", np.array([-1, -2])),
    ("bool_mask", np.array([True, False])),
]
XI = RNG.normal(size=(2, 3, 4))


@pytest.mark.parametrize("name,idx", INDICES, ids=[i[0] for i in INDICES])
def test_getitem_eager_matches_numpy(name, idx):
    assert_plain_numpy(jnp.getitem(XI, idx), XI[idx])


@pytest.mark.parametrize("name,idx", INDICES, ids=[i[0] for i in INDICES])
def test_getitem_grad_matches_numerical(name, idx):
    expected_shape = XI[idx].shape

    def f(x):
        out = x[idx]
        assert out.shape == expected_shape
        return out
    assert_grad_matches_numerical(scalarize(f), XI)


def test_repeated_integer_index_accumulates_gradient():
    g = nj.grad(lambda x: jnp.sum(x[np.array([0, 0, 2, 0])]))(np.zeros(3))
    np.testing.assert_array_equal(g, [3.0, 0.0, 1.0])


def test_boolean_mask_from_traced_comparison_under_grad():
    x = np.array([-1.0, 2.0, -3.0, 4.0])
    g = nj.grad(lambda v: jnp.sum(v[v > 0] ** 2))(x)
    np.testing.assert_allclose(g, [0.0, 4.0, 0.0, 8.0])


def test_2d_boolean_mask_under_grad():
    mask = X23 > 0
    f = scalarize(lambda v: v[mask])
    assert_grad_matches_numerical(f, X23)


def test_traced_integer_index_under_grad():
    # an integer index that is itself computed inside the function
    g = nj.grad(lambda x: x[jnp.argmin(x)] + x[jnp.argmax(x)])(V3)
    expected = np.zeros(3)
    expected[np.argmin(V3)] += 1.0
    expected[np.argmax(V3)] += 1.0
    np.testing.assert_array_equal(g, expected)


# ----- functional updates: .at[] -------------------------------------------------

AT_CASES = [  # idx, value
    (1, 10.0), (-1, np.array([1.0, 2.0, 3.0, 4.0])), ((0, slice(1, 3)), 5.0),
    (np.array([0, 1]), np.ones((3, 4))), ((Ellipsis, 0), np.arange(6.0).reshape(2, 3)),
]


def _np_update(x, idx, v, op):
    out = x.copy()
    if op == "set":
        out[idx] = v
    else:
        np.add.at(out, idx, v)
    return out


@pytest.mark.parametrize("op", ["set", "add"])
@pytest.mark.parametrize("idx,v", AT_CASES, ids=[str(i) for i in range(len(AT_CASES))])
def test_at_on_numpy_array_returns_new_array_and_keeps_input(op, idx, v):
    x = XI.copy()
    out = getattr(jnp.at(x)[idx], op)(v)
    assert_plain_numpy(out, _np_update(XI, idx, v, op))
    np.testing.assert_array_equal(x, XI)


@pytest.mark.parametrize("op", ["set", "add"])
@pytest.mark.parametrize("idx,v", AT_CASES, ids=[str(i) for i in range(len(AT_CASES))])
def test_at_on_tracer_value_and_grad_in_array_and_update(op, idx, v):
    v = np.asarray(v, dtype=float) + 0.25

    def upd(x, u):      # x.at exists on tracers only, as JAX's does on jax.Arrays
        return getattr(x.at[idx], op)(u)

    def upd_portable(x, u):
        return getattr(jnp.at(x)[idx], op)(u)

    _, aux = nj.grad(lambda x, u: (jnp.sum(upd(x, u)), upd(x, u)), has_aux=True)(XI, v)
    np.testing.assert_allclose(aux, _np_update(XI, idx, v, op))
    g = nj.grad(scalarize(upd), argnums=(0, 1))(XI, v)
    n = nj.numerical_grad(scalarize(upd_portable), argnums=(0, 1))(XI, v)
    for gi, ni in zip(g, n):
        np.testing.assert_allclose(gi, ni, rtol=1e-5, atol=1e-6)
    g2 = nj.grad(scalarize(upd_portable), argnums=(0, 1))(XI, v)
    for gi, g2i in zip(g, g2):
        np.testing.assert_array_equal(gi, g2i)


def test_at_add_with_repeated_indices_accumulates():
    x = np.zeros(3)
    out = jnp.at(x)[np.array([0, 0, 2])].add(1.0)
    np.testing.assert_array_equal(out, [2.0, 0.0, 1.0])
    g = nj.grad(lambda u: jnp.sum(jnp.at(x)[np.array([0, 0, 2])].add(u) ** 2))(1.0)
    assert g == 2 * 2.0 * 2 + 2 * 1.0   # u feeds x[0] twice and x[2] once


def test_at_get_matches_indexing():
    assert_plain_numpy(jnp.at(XI)[0, 1:].get(), XI[0, 1:])
    g = nj.grad(lambda x: jnp.sum(x.at[1].get()))(X23)
    np.testing.assert_array_equal(g, [[0.0] * 3, [1.0] * 3])


# ----- plain NumPy code, differentiated unchanged ----------------------------------

W34 = RNG.normal(size=(3, 4))
B4 = RNG.normal(size=4)


def numpy_mlp_loss(x):
    h = np.tanh(x @ W34 + B4)                       # x @ W, np.tanh, broadcasting
    h = np.maximum(h, 0.1 * h)                      # leaky relu via np.maximum
    z = np.dot(h, W34.T)                            # np.dot with a .T constant
    s = np.exp(-np.square(z)).sum()                 # np.exp, np.square, x.sum()
    r = np.mean(x.T.reshape(-1) ** 2)               # x.T, x.reshape, np.mean
    return s + r + np.sum(np.log1p(np.abs(x)))


def test_plain_numpy_function_eager_value():
    v = numpy_mlp_loss(X23)
    assert isinstance(v, (np.ndarray, np.generic)) and np.shape(v) == ()


def test_plain_numpy_function_grad_matches_numerical():
    assert_grad_matches_numerical(numpy_mlp_loss, X23)


PLAIN_NUMPY = [
    ("np.tanh", lambda x: np.tanh(x)), ("np.exp", lambda x: np.exp(x)),
    ("np.dot", lambda x: np.dot(x, W34)), ("x.sum", lambda x: x.sum(axis=0)),
    ("np.maximum", lambda x: np.maximum(x, 0.2)), ("np.mean", lambda x: np.mean(x, axis=1)),
    ("x.T", lambda x: x.T), ("x @ W", lambda x: x @ W34), ("W.T @ x.T", lambda x: W34.T @ x.T),
    ("x.reshape", lambda x: x.reshape(3, 2)), ("np.sum", lambda x: np.sum(x, keepdims=True)),
    ("np.sqrt", lambda x: np.sqrt(x * x + 1.0)), ("np.where", lambda x: np.where(x > 0, x, -x)),
    ("np.concatenate", lambda x: np.concatenate([x, x ** 2])),
    ("np.einsum", lambda x: np.einsum("ij,jk->ik", x, W34)),
    ("np.max", lambda x: np.max(x, axis=0)), ("np.var", lambda x: np.var(x)),
    ("x.max", lambda x: x.max(axis=1)), ("x.mean", lambda x: x.mean()),
    ("np.clip", lambda x: np.clip(x, -0.5, 0.5)), ("np.outer", lambda x: np.outer(x[0], x[1])),
    ("np.transpose", lambda x: np.transpose(x)), ("np.stack", lambda x: np.stack([x, x], 1)),
]


@pytest.mark.parametrize("name,f", PLAIN_NUMPY, ids=[p[0] for p in PLAIN_NUMPY])
def test_plain_numpy_call_differentiates(name, f):
    assert_grad_matches_numerical(scalarize(f), X23)


# ----- nanojax.nn ----------------------------------------------------------------

def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


NN = [
    ("relu", lambda x: nn.relu(x), lambda x: np.maximum(x, 0.0)),
    ("sigmoid", lambda x: nn.sigmoid(x), lambda x: 1.0 / (1.0 + np.exp(-x))),
    ("tanh", lambda x: nn.tanh(x), np.tanh),
    ("softplus", lambda x: nn.softplus(x), lambda x: np.log1p(np.exp(x))),
    ("softmax", lambda x: nn.softmax(x), _softmax),
    ("softmax_axis0", lambda x: nn.softmax(x, axis=0), lambda x: _softmax(x, 0)),
    ("log_softmax", lambda x: nn.log_softmax(x), lambda x: np.log(_softmax(x))),
    ("logsumexp", lambda x: nn.logsumexp(x), lambda x: np.log(np.sum(np.exp(x)))),
    ("logsumexp_axis1", lambda x: nn.logsumexp(x, axis=1),
     lambda x: np.log(np.sum(np.exp(x), axis=1))),
    ("logsumexp_keepdims", lambda x: nn.logsumexp(x, axis=0, keepdims=True),
     lambda x: np.log(np.sum(np.exp(x), axis=0, keepdims=True))),
]


@pytest.mark.parametrize("name,f,ref", NN, ids=[n[0] for n in NN])
def test_nn_value_matches_reference(name, f, ref):
    out = f(X23)
    assert isinstance(out, (np.ndarray, np.generic))
    np.testing.assert_allclose(out, ref(X23), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,f,ref", NN, ids=[n[0] for n in NN])
def test_nn_grad_matches_numerical(name, f, ref):
    assert_grad_matches_numerical(scalarize(f), X23)


def test_relu_gradient_at_zero_is_zero():
    np.testing.assert_array_equal(nj.grad(lambda x: jnp.sum(nn.relu(x)))(
        np.array([-1.0, 0.0, 2.0])), [0.0, 0.0, 1.0])


@pytest.mark.parametrize("x", [np.array([1000.0, 1000.0]), np.array([-1000.0, 1000.0]),
                               np.array([1000.0, 999.0, -1000.0])], ids=str)
def test_logsumexp_and_softmax_do_not_overflow_on_large_inputs(x):
    ref = x.max() + np.log(np.sum(np.exp(x - x.max())))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            v = nn.logsumexp(x)
            g = nj.grad(nn.logsumexp)(x)
            p = nn.softmax(x)
            ls = nn.log_softmax(x)
    np.testing.assert_allclose(v, ref, rtol=1e-12)
    np.testing.assert_allclose(g, _softmax(x), rtol=1e-12)
    np.testing.assert_allclose(p, _softmax(x), rtol=1e-12)
    assert np.all(np.isfinite(ls))


@pytest.mark.parametrize("x", [1000.0, -1000.0])
def test_sigmoid_and_softplus_are_finite_for_large_inputs(x):
    with np.errstate(over="raise", invalid="raise"):
        assert nn.sigmoid(x) == pytest.approx(1.0 if x > 0 else 0.0, abs=1e-300)
        assert nn.softplus(x) == pytest.approx(max(x, 0.0), abs=1e-300)
        assert nj.grad(nn.softplus)(x) == pytest.approx(1.0 if x > 0 else 0.0, abs=1e-300)
        assert nj.grad(nn.sigmoid)(x) == pytest.approx(0.0, abs=1e-300)
        big = np.array([x, -x, 0.0])
        np.testing.assert_allclose(nn.sigmoid(big), [float(x > 0), float(x < 0), 0.5])


def test_one_hot_values_and_dtype():
    out = nn.one_hot(np.array([0, 2, 1]), 3)
    assert_plain_numpy(out, np.eye(3)[[0, 2, 1]])
    assert nn.one_hot([1], 4, dtype=np.float32).dtype == np.float32


def test_one_hot_used_in_a_differentiated_loss():
    labels = np.array([0, 2])
    loss = lambda z: -jnp.sum(nn.one_hot(labels, 3) * nn.log_softmax(z))  # noqa: E731
    g = nj.grad(loss)(X23)
    np.testing.assert_allclose(g, _softmax(X23) - np.eye(3)[labels], atol=1e-12)


# ----- Python lists and scalars wherever arrays go --------------------------------------

L3 = [1.0, 2.0, 3.0]
M23 = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]

LIST_CALLS = [
    ("add", lambda m, t: m.add(t, L3), lambda t: np.ones(3)),
    ("operator_radd", lambda m, t: L3 + t if m is jnp else np.add(L3, t), lambda t: np.ones(3)),
    ("dot", lambda m, t: m.dot(t, L3), lambda t: np.array(L3)),
    ("matmul", lambda m, t: m.matmul(M23, t), lambda t: np.sum(M23, axis=0)),
    ("outer", lambda m, t: m.outer(t, L3), lambda t: np.full(3, 6.0)),
    ("einsum", lambda m, t: m.einsum("i,i->", t, L3), lambda t: np.array(L3)),
    ("where", lambda m, t: m.where(t > 0, t, L3), lambda t: (t > 0).astype(float)),
    ("concatenate", lambda m, t: m.concatenate([t, L3]), lambda t: np.ones(3)),
    ("stack", lambda m, t: m.stack([t, L3]), lambda t: np.ones(3)),
    ("clip", lambda m, t: m.clip(t, [0.0, 0.0, 0.0], L3), lambda t: (t > 0).astype(float)),
]


@pytest.mark.parametrize("name,call,grad", LIST_CALLS, ids=[c[0] for c in LIST_CALLS])
def test_python_lists_are_accepted_eagerly_and_under_grad(name, call, grad):
    assert_plain_numpy(call(jnp, V3), call(np, V3))
    np.testing.assert_allclose(nj.grad(lambda t: jnp.sum(call(jnp, t)))(V3), grad(V3))


@pytest.mark.parametrize("name", ["sum", "mean", "max", "var", "argmax", "exp", "tanh"])
def test_python_list_input_eagerly_returns_numpy(name):
    assert_plain_numpy(getattr(jnp, name)(L3), getattr(np, name)(L3))


def test_indexing_with_python_list_under_grad():
    np.testing.assert_array_equal(nj.grad(lambda t: jnp.sum(t[[0, 2, 2]]))(V3), [1.0, 0.0, 2.0])


# ----- tests of values, logic and norms (composites of comparisons and selects) ------

_SPECIAL = np.array([1.5, np.nan, np.inf, -np.inf, -2.0, 0.0])


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite", "logical_not"])
def test_value_tests_match_numpy_eagerly_and_under_jit_and_vmap(name):
    fn, ref = getattr(jnp, name), getattr(np, name)
    expected = ref(_SPECIAL)
    np.testing.assert_array_equal(fn(_SPECIAL), expected)
    np.testing.assert_array_equal(nj.jit(fn)(_SPECIAL), expected)
    np.testing.assert_array_equal(nj.vmap(fn)(_SPECIAL), expected)


@pytest.mark.parametrize("name", ["logical_and", "logical_or"])
def test_logical_pairs_match_numpy_under_jit(name):
    a, b = _SPECIAL > 0, np.isfinite(_SPECIAL)
    np.testing.assert_array_equal(nj.jit(getattr(jnp, name))(a, b), getattr(np, name)(a, b))


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_any_and_all_match_numpy_under_jit(axis):
    x = np.array([[True, False, True], [True, True, True]])
    for name in ("any", "all"):
        got = nj.jit(lambda v: getattr(jnp, name)(v, axis=axis))(x)
        np.testing.assert_array_equal(got, getattr(np, name)(x, axis=axis))


def test_plain_numpy_any_and_isnan_work_on_traced_values():
    rows = np.array([[1.0, np.nan], [1.0, 2.0]])
    np.testing.assert_array_equal(nj.vmap(lambda v: np.any(np.isnan(v)))(rows), [True, False])


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_norm_and_its_gradient_match_finite_differences(axis):
    W = np.array([[3.0, -4.0, 1.0], [0.5, 2.0, -1.0]])
    np.testing.assert_allclose(nj.jit(lambda v: jnp.linalg.norm(v, axis=axis))(W),
                               np.linalg.norm(W, axis=axis))
    loss = lambda v: jnp.sum(jnp.linalg.norm(v, axis=axis))  # noqa: E731
    np.testing.assert_allclose(nj.grad(loss)(W), nj.numerical_grad(loss)(W), rtol=1e-6)


def test_norm_rejects_an_order_numpy_rejects_on_traced_values():
    with pytest.raises(ValueError, match="invalid norm order 'fro' for vectors"):
        nj.grad(lambda v: jnp.linalg.norm(v, ord="fro", axis=0))(np.ones(3))
