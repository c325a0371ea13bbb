"""jax.numpy's structural, searching, set and product functions against NumPy.

One table: each row is a function written once for a module ``m`` (NumPy
or ``nanojax.numpy``), the float arrays it takes, and whether it has a
gradient. Every row is checked eagerly against NumPy (values, dtypes,
shapes), under ``jit`` (bit-identical to eager), on traced values under
``vmap`` (against a loop), and, if differentiable, against central
differences in both modes, to second order.
"""

import warnings

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax.errors import ConcretizationTypeError

RNG = np.random.default_rng(7)
A23 = RNG.normal(size=(2, 3))
A33 = RNG.normal(size=(3, 3))
A234 = RNG.normal(size=(2, 3, 4))
V3 = RNG.normal(size=3)
V4 = RNG.normal(size=4)
W3 = RNG.normal(size=3)
M34 = RNG.normal(size=(3, 4))
REP = np.array([3.0, 1.0, 2.0, 3.0, 1.0, 0.0])      # repeated values, for sets
OTHER = np.array([1.0, 5.0, 0.0, 7.0])
SORTED = np.array([-1.0, 0.0, 0.5, 2.0])


def row(name, fn, *args, grad=True, np_fn=None, jit=True):
    """``fn(m, *args)`` for m in (np, jnp); ``np_fn`` when NumPy spells it otherwise."""
    return pytest.param(fn, np_fn, args, grad, jit, id=name)


STRUCTURE_ROWS = [
    row("hsplit", lambda m, x: m.hsplit(x, 3), A23),
    row("vsplit", lambda m, x: m.vsplit(x, [1]), A23),
    row("dsplit", lambda m, x: m.dsplit(x, 2), A234),
    row("rollaxis", lambda m, x: m.rollaxis(x, 2, 0), A234),
    row("rollaxis-start", lambda m, x: m.rollaxis(x, 0, 3), A234),
    row("permute_dims", lambda m, x: m.permute_dims(x, (2, 0, 1)), A234),
    row("matrix_transpose", lambda m, x: m.matrix_transpose(x), A234),
    row("atleast_1d", lambda m, x: m.atleast_1d(x[0, 0]), A23),
    row("atleast_2d", lambda m, x, y: m.atleast_2d(x, y[0, 0]), V3, A23),
    row("atleast_3d", lambda m, x, y: m.atleast_3d(x, y), V3, A23),
    row("column_stack", lambda m, x, y: m.column_stack([x, y]), V3, A23.T),
    row("row_stack", lambda m, x, y: m.vstack([x, y]), V3, A23),
    row("dstack", lambda m, x, y: m.dstack([x, y]), A23, A23),
    row("block", lambda m, x, y: m.block([[x, x], [y, y]]), A23, A23),
    row("concat", lambda m, x, y: m.concat([x, y], axis=1), A23, A23),
    row("unstack", lambda m, x: m.unstack(x, axis=1), A23),
    row("broadcast_arrays", lambda m, x, y: list(m.broadcast_arrays(x, y)), V3, A23),
    row("fliplr", lambda m, x: m.fliplr(x), A23),
    row("flipud", lambda m, x: m.flipud(x), A23),
    *(row(f"rot90-k{k}", lambda m, x, k=k: m.rot90(x, k, axes=(1, 2)), A234)
      for k in (1, 2, 3, -1)),
    row("resize", lambda m, x: m.resize(x, (4, 2)), A23),
    row("resize-longer", lambda m, x: m.resize(x, (3, 3)), V4),
    row("trim_zeros", lambda m, x: m.trim_zeros(m.multiply(x, np.array([0., 1., 0., 1., 0.]))),
        np.array([1.0, 2.0, 3.0, 4.0, 5.0]), jit=False),
    row("insert", lambda m, x: m.insert(x, 1, 5.0), V3),
    row("insert-axis", lambda m, x, v: m.insert(x, [0, 2], v, axis=1), A23, np.ones((2, 1))),
    row("insert-traced-values", lambda m, x, v: m.insert(x, 2, v), V3, W3),
    row("delete", lambda m, x: m.delete(x, [0, 2], axis=1), A23),
    row("delete-flat", lambda m, x: m.delete(x, slice(1, 4)), A23),
    row("append", lambda m, x, y: m.append(x, y), V3, A23),
    row("append-axis", lambda m, x, y: m.append(x, y, axis=0), A23, A23),
    row("meshgrid-xy", lambda m, x, y: list(m.meshgrid(x, y)), V3, V4),
    row("meshgrid-ij-sparse", lambda m, x, y: list(m.meshgrid(x, y, indexing="ij",
                                                              sparse=True)), V3, V4),
    row("meshgrid-3", lambda m, x, y: list(m.meshgrid(x, y, x)), V3, V4),
    row("ix_", lambda m, x, y: list(m.ix_(x, y)), V3, V4),
    row("diag-vector", lambda m, x: m.diag(x, 1), V3),
    row("diag-vector-below", lambda m, x: m.diag(x, -2), V3),
    row("diag-matrix", lambda m, x: m.diag(x, -1), A33),
    row("diagflat", lambda m, x: m.diagflat(x), A23),
    row("fill_diagonal", lambda m, x, v: m.fill_diagonal(x, v[:2], inplace=False), M34, V3,
        np_fn=lambda x, v: _np_fill_diagonal(x, v[:2])),
    row("fill_diagonal-wrap", lambda m, x: m.fill_diagonal(x, 2.0, wrap=True, inplace=False),
        np.ones((7, 3)), np_fn=lambda x: _np_fill_diagonal(x, 2.0, True)),
    row("tril", lambda m, x: m.tril(x), M34),
    row("tril-k", lambda m, x: m.tril(x, -1), A234),
    row("triu", lambda m, x: m.triu(x, 1), M34),
    row("vander", lambda m, x: m.vander(x), V3),
    row("vander-increasing", lambda m, x: m.vander(x, 5, increasing=True), V3),
    row("put", lambda m, x, v: m.put(x, np.array([0, 4]), v[:2], inplace=False), A23, V3,
        np_fn=lambda x, v: _np_put(x, np.array([0, 4]), v[:2])),
    row("put-cycled-clip", lambda m, x: m.put(x, np.array([0, 1, 9]), 7.0, mode="clip",
                                              inplace=False), A23,
        np_fn=lambda x: _np_put(x, np.array([0, 1, 9]), 7.0, mode="clip")),
    row("put_along_axis", lambda m, x, v: m.put_along_axis(
        x, np.array([[0], [2]]), v[:2, None], 1, inplace=False), A23, V3,
        np_fn=lambda x, v: _np_put_along_axis(x, np.array([[0], [2]]), v[:2, None], 1)),
    row("place", lambda m, x, v: m.place(x, x > 0, v, inplace=False), A23, V3[:2],
        np_fn=lambda x, v: _np_place(x, x > 0, v), jit=False),
    row("extract", lambda m, x: m.extract(x > 0, x), A23, jit=False),
    row("compress", lambda m, x: m.compress(np.array([True, False, True]), x, axis=1), A23),
    row("choose", lambda m, x, y: m.choose(np.array([[0, 1, 0], [1, 1, 0]]), [x, y]), A23,
        V3),
    row("choose-wrap", lambda m, x, y: m.choose(np.array([0, 3, -1]), [x, y], mode="wrap"),
        V3, W3),
    row("select", lambda m, x, y: m.select([x > 0, y > 0], [x, y], 0.5), A23, V3),
    row("piecewise", lambda m, x: m.piecewise(x, [x < 0, x > 0.5], [lambda t: -t, 1.0,
                                                                     lambda t: t * t]), V4),
    row("logspace", lambda m, x: m.logspace(x[0], x[1], 5), np.array([0.5, 2.0])),
    row("logspace-base", lambda m, x: m.logspace(x[0], x[1], 4, endpoint=False, base=2.0),
        np.array([0.5, 2.0])),
    row("full_like-shape", lambda m, x: m.full_like(x, x[0, 0], shape=(2, 2)), A23),
]

PRODUCT_ROWS = [
    row("tensordot-int", lambda m, x, y: m.tensordot(x, y, 1), A23, M34),
    row("tensordot-0", lambda m, x, y: m.tensordot(x, y, 0), V3, W3),
    row("tensordot-2", lambda m, x, y: m.tensordot(x, y), A234, RNG.normal(size=(3, 4, 2))),
    row("tensordot-pair", lambda m, x, y: m.tensordot(x, y, axes=([0, 2], [1, 0])),
        A234, RNG.normal(size=(4, 2, 5))),
    row("vdot", lambda m, x, y: m.vdot(x, y), A23, A23.T.copy()),
    row("inner", lambda m, x, y: m.inner(x, y), A23, M34.T.copy()),
    row("inner-scalar", lambda m, x, y: m.inner(x[0], y), V3, A23),
    row("kron", lambda m, x, y: m.kron(x, y), A23, V3),
    row("kron-2d", lambda m, x, y: m.kron(x, y), A23, A33),
    row("cross", lambda m, x, y: m.cross(x, y), A23, A23[::-1].copy()),
    row("cross-axes", lambda m, x, y: m.cross(x, y, axisa=0, axisb=1, axisc=0), M34,
        RNG.normal(size=(4, 3))),
    row("cross-2x3", lambda m, x, y: m.cross(x, y), RNG.normal(size=(3, 2)), A33),
    row("cross-3x2", lambda m, x, y: m.cross(x, y), A33, RNG.normal(size=(3, 2))),
    row("cross-2x2", lambda m, x, y: m.cross(x, y), RNG.normal(size=(3, 2)),
        RNG.normal(size=(2,))),
    row("matvec", lambda m, x, y: m.matvec(x, y), A234, V4),
    row("vecmat", lambda m, x, y: m.vecmat(x, y), V3, A234[0:1].transpose(0, 1, 2).copy()),
    row("vecdot", lambda m, x, y: m.vecdot(x, y), A23, V3),
    row("vecdot-axis", lambda m, x, y: m.vecdot(x, y, axis=0), A23, A23),
    row("trace", lambda m, x: m.trace(x, 1, 0, 2), A234),
]

SEARCH_ROWS = [
    row("searchsorted", lambda m, a, v: m.searchsorted(a, v), SORTED, A23, grad=False),
    row("searchsorted-right", lambda m, a, v: m.searchsorted(a, v, side="right"),
        np.array([0.0, 1.0, 1.0, 2.0, np.nan]), np.array([1.0, -1.0, 3.0, np.nan, 2.0]),
        grad=False),
    row("searchsorted-sorter", lambda m, a, v: m.searchsorted(a, v, sorter=np.argsort(a)),
        V4, W3, grad=False),
    row("digitize", lambda m, x, b: m.digitize(x, b), A23, SORTED, grad=False),
    row("digitize-right-decreasing", lambda m, x, b: m.digitize(x, b[::-1], right=True),
        np.array([2.0, 0.5, -3.0, 0.0]), SORTED, grad=False),
    row("isin", lambda m, x, y: m.isin(x, y), REP, OTHER, grad=False),
    row("isin-invert", lambda m, x, y: m.isin(x, y, invert=True), REP.reshape(2, 3), OTHER,
        grad=False),
    row("partition", lambda m, x: m.sort(x, axis=0), A23,
        np_fn=lambda x: np.sort(x, axis=0)),
    # Repeated values: finite differences split them, so the gradient is pinned apart.
    row("unique", lambda m, x: m.unique(x), REP, jit=False, grad=False),
    row("unique-all", lambda m, x: list(m.unique(x, True, True, True)), REP, jit=False,
        grad=False),
    row("unique-axis", lambda m, x: m.unique(x, axis=0),
        np.array([[1.0, 2.0], [0.0, 1.0], [1.0, 2.0]]), jit=False, grad=False),
    row("union1d", lambda m, x, y: m.union1d(x, y), REP, OTHER, jit=False, grad=False),
    row("intersect1d", lambda m, x, y: m.intersect1d(x, y), REP, OTHER, jit=False,
        grad=False),
    row("setdiff1d", lambda m, x, y: m.setdiff1d(x, y), REP, OTHER, jit=False, grad=False),
    row("setxor1d", lambda m, x, y: m.setxor1d(x, y), REP, OTHER, jit=False, grad=False),
]

ROWS = STRUCTURE_ROWS + PRODUCT_ROWS + SEARCH_ROWS


def _np_fill_diagonal(x, v, wrap=False):
    out = x.copy()
    np.fill_diagonal(out, v, wrap)
    return out


def _np_put(x, ind, v, mode="raise"):
    out = x.copy()
    np.put(out, ind, v, mode)
    return out


def _np_put_along_axis(x, ind, v, axis):
    out = x.copy()
    np.put_along_axis(out, ind, v, axis)
    return out


def _np_place(x, mask, v):
    out = x.copy()
    np.place(out, mask, v)
    return out


def _leaves(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _assert_same(out, expected, exact=False):
    out, expected = _leaves(out), _leaves(expected)
    assert len(out) == len(expected)
    for o, e in zip(out, expected):
        assert isinstance(o, (np.ndarray, np.generic)), type(o)
        e = np.asarray(e)
        assert np.shape(o) == e.shape, (np.shape(o), e.shape)
        assert np.asarray(o).dtype == e.dtype, (np.asarray(o).dtype, e.dtype)
        if exact:
            np.testing.assert_array_equal(o, e)
        else:
            np.testing.assert_allclose(o, e, rtol=1e-12, atol=1e-12)


def _reference(fn, np_fn, args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)        # NumPy's 2-vector cross
        return np_fn(*args) if np_fn is not None else fn(np, *args)


@pytest.mark.parametrize("fn, np_fn, args, grad, jit", ROWS)
def test_eager_matches_numpy(fn, np_fn, args, grad, jit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        _assert_same(fn(jnp, *args), _reference(fn, np_fn, args))


@pytest.mark.parametrize("fn, np_fn, args, grad, jit", ROWS)
def test_jit_is_bit_identical_to_eager(fn, np_fn, args, grad, jit):
    if not jit:
        pytest.skip("the result's length depends on the values")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        eager = fn(jnp, *args)
        _assert_same(nj.jit(lambda *a: fn(jnp, *a))(*args), eager, exact=True)


@pytest.mark.parametrize("fn, np_fn, args, grad, jit", ROWS)
def test_traced_under_grad_matches_numpy(fn, np_fn, args, grad, jit):
    """Each row on traced values (the value seen inside grad), then its gradient."""
    seen = []

    def f(*xs):
        out = fn(jnp, *xs)
        seen.append(out)
        return sum(jnp.sum(jnp.astype(o, np.float64) * np.cos(np.arange(np.size(o))).reshape(
            np.shape(o))) for o in _leaves(out))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        nj.grad(f, argnums=tuple(range(len(args))))(*args)
        if grad:
            nj.check_grads(f, args, order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("fn, np_fn, args, grad, jit",
                         [r for r in ROWS if r.values[4]][::3])
def test_vmap_matches_a_loop(fn, np_fn, args, grad, jit):
    batch = tuple(np.stack([a, a * 0.5 + 0.25, a - 1.5]) for a in args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        out = nj.vmap(lambda *a: fn(jnp, *a))(*batch)
        loop = [fn(jnp, *(b[i] for b in batch)) for i in range(3)]
    for k, o in enumerate(_leaves(out)):
        np.testing.assert_allclose(o, np.stack([_leaves(lp)[k] for lp in loop]), rtol=1e-12,
                                   atol=1e-12)


# ----- size= under jit ---------------------------------------------------------

X_NZ = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]])


@pytest.mark.parametrize("size", [0, 2, 3, 5])
def test_nonzero_with_size_under_jit_cuts_or_pads(size):
    want = [np.concatenate([i, np.full(max(0, size - len(i)), -1)])[:size]
            for i in np.nonzero(X_NZ)]
    for f in (lambda x: jnp.nonzero(x, size=size, fill_value=-1), ):
        _assert_same(nj.jit(f)(X_NZ), want, exact=True)
        _assert_same(f(X_NZ), want, exact=True)
    got = nj.jit(lambda x: jnp.argwhere(x, size=size, fill_value=-1))(X_NZ)
    np.testing.assert_array_equal(got, np.stack(want, axis=-1).reshape(size, 2))
    flat = nj.jit(lambda x: jnp.flatnonzero(x, size=size))(X_NZ)
    np.testing.assert_array_equal(flat, np.concatenate([np.flatnonzero(X_NZ),
                                                        np.zeros(5, int)])[:size])
    one = nj.jit(lambda x: jnp.where(x > 0, size=size, fill_value=(7, 8)))(X_NZ)
    base = np.nonzero(X_NZ > 0)
    for got_i, b, f in zip(one, base, (7, 8)):
        np.testing.assert_array_equal(got_i, np.concatenate([b, np.full(5, f)])[:size])


def test_nonzero_without_size_under_jit_says_to_pass_size():
    with pytest.raises(ConcretizationTypeError, match="size"):
        nj.jit(lambda x: jnp.nonzero(x))(X_NZ)
    with pytest.raises(ConcretizationTypeError, match="size"):
        nj.jit(lambda x: jnp.unique(x))(REP)
    with pytest.raises(ConcretizationTypeError, match="size"):
        nj.jit(lambda x: jnp.setdiff1d(x, OTHER))(REP)


@pytest.mark.parametrize("size", [2, 4, 7])
def test_unique_with_size_under_jit_matches_numpy(size):
    x = np.array([3.0, np.nan, 1.0, 3.0, np.nan, 0.0, 1.0])
    values, index, inverse, counts = np.unique(x, True, True, True)
    n = len(values)

    def fit(a, f):
        return np.concatenate([a, np.full(max(0, size - n), f)])[:size]
    got = nj.jit(lambda x: jnp.unique(x, True, True, True, size=size))(x)
    np.testing.assert_array_equal(got[0], fit(values, values[0]))
    np.testing.assert_array_equal(got[1], fit(index, 0))
    np.testing.assert_array_equal(got[3], fit(counts, 0))
    np.testing.assert_array_equal(got[2], np.minimum(inverse, size - 1))   # clipped
    eager = jnp.unique(x, True, True, True, size=size)
    for g, e in zip(got, eager):
        np.testing.assert_array_equal(g, e)
    named = nj.jit(lambda x: jnp.unique_all(x, size=size, fill_value=-9.0))(x)
    np.testing.assert_array_equal(named.values, fit(values, -9.0))
    np.testing.assert_array_equal(nj.jit(lambda x: jnp.unique_counts(x, size=size).counts)(x),
                                  fit(counts, 0))


@pytest.mark.parametrize("name", ["union1d", "intersect1d", "setdiff1d", "setxor1d"])
def test_set_operations_with_size_under_jit(name):
    want = getattr(np, name)(REP, OTHER)
    got = nj.jit(lambda a, b: getattr(jnp, name)(a, b, size=6, fill_value=-1.0))(REP, OTHER)
    np.testing.assert_array_equal(got, np.concatenate([want, np.full(6, -1.0)])[:6])
    eager = getattr(jnp, name)(REP, OTHER, size=6, fill_value=-1.0)
    np.testing.assert_array_equal(eager, got)


def test_unique_values_are_differentiable():
    g = nj.grad(lambda x: jnp.sum(jnp.unique(x) * np.arange(4.0)))(REP)
    np.testing.assert_array_equal(g, [3.0, 1.0, 2.0, 0.0, 0.0, 0.0])   # first occurrences
    g = nj.grad(lambda x: jnp.sum(jnp.unique(x, size=5) * np.arange(5.0)))(REP)
    np.testing.assert_array_equal(g, [3.0, 1.0, 2.0, 0.0, 0.0, 4.0])   # pad: the minimum


def test_searchsorted_digitize_and_unravel_under_jit():
    v = np.array([-2.0, 0.0, 0.7, 3.0])
    for side in ("left", "right"):
        np.testing.assert_array_equal(
            nj.jit(lambda a, v: jnp.searchsorted(a, v, side=side, method="compare_all"))(
                SORTED, v), np.searchsorted(SORTED, v, side=side))
    idx = np.array([0, 5, 11])
    got = nj.jit(lambda i: jnp.unravel_index(i, (3, 4)))(idx)
    for g, w in zip(got, np.unravel_index(idx, (3, 4))):
        np.testing.assert_array_equal(g, w)
    back = nj.jit(lambda i, j: jnp.ravel_multi_index((i, j), (3, 4), mode="clip"))(
        np.array([0, 2, 5]), np.array([1, 3, 0]))
    np.testing.assert_array_equal(back, np.ravel_multi_index(([0, 2, 5], [1, 3, 0]), (3, 4),
                                                             mode="clip"))


def test_index_helpers_equal_numpy():
    for ours, theirs in [
            (jnp.indices((2, 3)), np.indices((2, 3))),
            (jnp.diag_indices(3), np.diag_indices(3)),
            (jnp.diag_indices_from(A33), np.diag_indices_from(A33)),
            (jnp.tril_indices(3, -1), np.tril_indices(3, -1)),
            (jnp.triu_indices(3, 1, 4), np.triu_indices(3, 1, 4)),
            (jnp.tril_indices_from(M34), np.tril_indices_from(M34)),
            (jnp.triu_indices_from(M34, 1), np.triu_indices_from(M34, 1)),
            (jnp.mask_indices(3, jnp.triu, 1), np.mask_indices(3, np.triu, 1)),
            (jnp.tri(3, 4, 1), np.tri(3, 4, 1)),
            (jnp.r_[A23[0], 0.0, 1.0], np.r_[A23[0], 0.0, 1.0]),
            (jnp.c_[V3, W3], np.c_[V3, W3]),
            (jnp.empty_like(A23, shape=(4,)), np.zeros(4)),
            (jnp.zeros_like(A23, dtype=int, shape=3), np.zeros(3, int)),
            (jnp.geomspace(1.0, 1000.0, 4), np.geomspace(1.0, 1000.0, 4)),
            (jnp.argpartition(V4, 1), np.argsort(V4, kind="stable")),
            (jnp.sort_complex(V4), np.sort_complex(V4))]:
        _assert_same(ours, theirs)
    assert jnp.broadcast_shapes((3, 1), (4,)) == (3, 4)
    assert jnp.einsum_path("ij,jk->ik", A23, M34) == np.einsum_path("ij,jk->ik", A23, M34)


def test_r_and_c_take_traced_values():
    f = nj.jit(lambda x: jnp.r_[x, 0.0, 1:3])
    np.testing.assert_array_equal(f(V3), np.r_[V3, 0.0, 1:3])
    g = nj.jit(lambda x, y: jnp.c_[x, y])
    np.testing.assert_array_equal(g(V3, W3), np.c_[V3, W3])
    np.testing.assert_array_equal(nj.jit(lambda x: jnp.r_["0,2", x, x])(V3), np.r_["0,2", V3, V3])


def test_geomspace_and_logspace_with_traced_ends():
    got = nj.jit(lambda a: jnp.geomspace(a, 1000.0, 4))(2.0)
    np.testing.assert_allclose(got, np.geomspace(2.0, 1000.0, 4), rtol=1e-14)
    assert got[0] == 2.0 and got[-1] == 1000.0
    np.testing.assert_allclose(nj.jit(lambda a: jnp.geomspace(-a, -8.0, 3))(2.0),
                               np.geomspace(-2.0, -8.0, 3), rtol=1e-14)
    nj.check_grads(lambda a: jnp.sum(jnp.geomspace(a, 10.0, 5)), (2.0,), order=2)


# ----- errors -------------------------------------------------------------------

@pytest.mark.parametrize("call, kind, words", [
    (lambda: jnp.fill_diagonal(A33, 1.0), ValueError, "inplace=False"),
    (lambda: jnp.put(A33, [0], 1.0), ValueError, "inplace=False"),
    (lambda: jnp.put_along_axis(A33, np.zeros((3, 1), int), 1.0, 1), ValueError,
     "inplace=False"),
    (lambda: jnp.place(A33, A33 > 0, 1.0), ValueError, "inplace=False"),
    (lambda: nj.jit(lambda x: jnp.vsplit(x, 2))(V4), ValueError, "vsplit"),
    (lambda: nj.jit(lambda x: jnp.tensordot(x, x, 3))(A23), ValueError, "tensordot"),
    (lambda: nj.jit(lambda x: jnp.tensordot(x, x, ([0], [1])))(A23), ValueError,
     "shape-mismatch"),
    (lambda: nj.jit(lambda x: jnp.cross(x, x))(A234), ValueError, "dimension must be 2 or 3"),
    (lambda: nj.jit(lambda x: jnp.diag(x))(A234), ValueError, "1- or 2-d"),
    (lambda: nj.jit(lambda x: jnp.put(x, np.array([7]), 1.0, inplace=False))(A23), IndexError,
     "out of bounds"),
    (lambda: nj.jit(lambda x: jnp.insert(x, 9, 1.0))(V3), IndexError, "insert"),
    (lambda: nj.jit(lambda x: jnp.partition(x, 5))(V3), ValueError, "kth"),
    (lambda: nj.jit(lambda x: jnp.searchsorted(x, 1.0, side="middle"))(V3), ValueError,
     "side"),
    (lambda: nj.jit(lambda x: jnp.meshgrid(x, indexing="yx"))(V3), ValueError, "indexing"),
    (lambda: nj.jit(lambda x: jnp.select([x > 0], [x, x]))(V3), ValueError, "same length"),
    (lambda: nj.jit(lambda x: jnp.trim_zeros(x))(V3), ConcretizationTypeError, "trim_zeros"),
    (lambda: nj.jit(lambda x: jnp.sort_complex(x))(V3), NotImplementedError, "complex"),
    (lambda: nj.jit(lambda x: jnp.nonzero(x[0]))(V3), ValueError, "0d"),
])
def test_bad_input_raises_a_named_error(call, kind, words):
    with pytest.raises(kind, match=words) as info:
        call()
    assert str(info.value).startswith("nanojax.numpy.")


# ----- .at[] with JAX's operations and keywords -------------------------------------

X5 = np.arange(5.0) + 0.3
REPEATED = np.array([1, 1, 3])
U3 = np.array([2.0, -3.0, 0.5])


def _np_at(op, x, idx, v):
    out = x.copy()
    {"multiply": np.multiply, "divide": np.divide, "power": np.power, "min": np.minimum,
     "max": np.maximum, "add": np.add, "subtract": np.subtract}[op].at(out, idx, v)
    return out


@pytest.mark.parametrize("op", ["multiply", "divide", "power", "min", "max", "add",
                                "subtract"])
def test_at_operations_apply_every_repeated_update_like_ufunc_at(op):
    want = _np_at(op, X5, REPEATED, U3)
    np.testing.assert_allclose(getattr(jnp.at(X5)[REPEATED], op)(U3), want, rtol=1e-14)
    got = nj.jit(lambda x, u: getattr(x.at[REPEATED], op)(u))(X5, U3)
    np.testing.assert_array_equal(got, getattr(jnp.at(X5)[REPEATED], op)(U3))
    nj.check_grads(lambda x, u: jnp.sum(jnp.sin(getattr(jnp.at(x)[REPEATED], op)(u))),
                   (X5, U3), order=2, modes=("fwd", "rev"))
    batched = nj.vmap(lambda x: getattr(x.at[REPEATED], op)(U3))(np.stack([X5, X5 * 2]))
    np.testing.assert_allclose(batched, np.stack([_np_at(op, X5, REPEATED, U3),
                                                  _np_at(op, X5 * 2, REPEATED, U3)]))


def test_at_apply_and_traced_indices():
    np.testing.assert_array_equal(jnp.at(X5)[1:3].apply(np.square),
                                  np.r_[X5[0], X5[1:3] ** 2, X5[3:]])
    got = nj.jit(lambda x, i: x.at[i].multiply(2.0, unique_indices=True,
                                               indices_are_sorted=True))(X5, np.array([0, 2]))
    np.testing.assert_array_equal(got, X5 * np.array([2, 1, 2, 1, 1]))


def test_at_modes_clip_and_fill():
    idx = np.array([0, 7, -1, -9])
    np.testing.assert_array_equal(jnp.at(X5)[idx].get(mode="clip"), X5[[0, 4, 4, 0]])
    got = nj.jit(lambda x: x.at[idx].get(mode="fill", fill_value=-1.0))(X5)
    np.testing.assert_array_equal(got, [X5[0], -1.0, X5[4], -1.0])
    dropped = nj.jit(lambda x: x.at[idx].set(9.0, mode="drop"))(X5)
    np.testing.assert_array_equal(dropped, np.r_[9.0, X5[1:4], 9.0])
    np.testing.assert_array_equal(jnp.at(X5)[idx].add(1.0, mode="fill"),
                                  X5 + np.array([1, 0, 0, 0, 1]))
    g = nj.grad(lambda x: jnp.sum(x.at[idx].get(mode="fill", fill_value=0.0)))(X5)
    np.testing.assert_array_equal(g, [1, 0, 0, 0, 1])
    m = nj.jit(lambda x: x.at[:, np.array([1, 5])].get(mode="clip"))(A23)
    np.testing.assert_array_equal(m, A23[:, [1, 2]])
    with pytest.raises(ValueError, match="mode"):
        jnp.at(X5)[0].get(mode="wrap")


def test_methods_of_traced_values():
    x = np.array([3.0, 1.0, 2.0])
    got = nj.jit(lambda x: (x.sort(), x.argsort(), x.nonzero(size=2), x.searchsorted(2.0),
                            x.cumprod(), x.ptp(), x.clip(min=1.5), x.copy(),
                            x.sort(descending=True)))(x)
    want = (np.sort(x), np.argsort(x), (np.array([0, 1]),), np.searchsorted(np.sort(x), 2.0),
            np.cumprod(x), np.ptp(x), np.clip(x, 1.5, None), x, np.sort(x)[::-1])
    got = list(got)
    got[3] = nj.jit(lambda x: x.sort().searchsorted(2.0))(x)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g[0] if isinstance(g, tuple) else g,
                                      w[0] if isinstance(w, tuple) else w)
    with pytest.raises(NotImplementedError, match="view"):
        nj.jit(lambda x: x.view(np.int64))(x)


def test_clip_takes_jax_keywords_and_array_bounds():
    lo, hi = np.array([0.0, 1.5, -1.0]), 2.5
    x = np.array([3.0, 1.0, -2.0])
    want = np.clip(x, lo, hi)
    np.testing.assert_array_equal(jnp.clip(x, min=lo, max=hi), want)
    np.testing.assert_array_equal(jnp.clip(x, a_min=lo, a_max=hi), want)
    np.testing.assert_array_equal(nj.jit(lambda x, lo: jnp.clip(x, min=lo, max=hi))(x, lo), want)
    np.testing.assert_array_equal(jnp.clip(x, max=hi), np.minimum(x, hi))
    with pytest.raises(TypeError, match="not both"):
        jnp.clip(x, min=0.0, a_max=1.0)
