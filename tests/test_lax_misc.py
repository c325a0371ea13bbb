"""The rest of lax's names: gather/scatter, reduce, associative_scan, the implicit solves.

``lax.gather`` and the scatters are checked against direct loops over
XLA's semantics (written here, one output or update element at a time)
over many random dimension-number configurations, batching axes and
out-of-bounds indices included, in every mode; then for gradients, vmap
against a Python loop, and jit bit for bit. ``lax.reduce`` is checked on
recognized and arbitrary computations and several operands;
``associative_scan`` against running NumPy reductions on pytrees;
``custom_root`` (Newton's square root) and ``custom_linear_solve``
(conjugate gradients) against their analytic gradients.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import lax

GDN, SDN, Mode = lax.GatherDimensionNumbers, lax.ScatterDimensionNumbers, lax.GatherScatterMode


# ----- XLA's semantics, one element at a time ---------------------------------------------

def _start(x_shape, index_vector, index_map, operand_batching, index_batching, batch_index,
           sizes, clip):
    """The window's full start in the operand, and whether it fits."""
    start = [0] * len(x_shape)
    for k, d in enumerate(index_map):
        start[d] = int(index_vector[k])
    for od, idd in zip(operand_batching, index_batching):
        start[od] = batch_index[idd]
    fits = all(0 <= start[d] <= x_shape[d] - sizes[d] for d in index_map)
    if clip:
        start = [min(max(s, 0), n - w) if d in index_map else s
                 for d, (s, n, w) in enumerate(zip(start, x_shape, sizes))]
    return start, fits


def gather_reference(x, idx, dn, slice_sizes, mode, fill):
    rank = x.ndim
    kept = [d for d in range(rank)
            if d not in dn.collapsed_slice_dims and d not in dn.operand_batching_dims]
    out_rank = idx.ndim - 1 + len(kept)
    batch_positions = [p for p in range(out_rank) if p not in dn.offset_dims]
    out_shape = [0] * out_rank
    for p, n in zip(batch_positions, idx.shape[:-1]):
        out_shape[p] = n
    for p, d in zip(dn.offset_dims, kept):
        out_shape[p] = slice_sizes[d]
    out = np.empty(out_shape, x.dtype)
    for where in np.ndindex(*out_shape):
        batch_index = tuple(where[p] for p in batch_positions)
        start, fits = _start(x.shape, idx[batch_index], dn.start_index_map,
                             dn.operand_batching_dims, dn.start_indices_batching_dims,
                             batch_index, slice_sizes, mode != "fill")
        full = list(start)
        for p, d in zip(dn.offset_dims, kept):
            full[d] += where[p]
        out[where] = x[tuple(full)] if fits or mode != "fill" else fill
    return out


def scatter_reference(x, idx, u, dn, mode, add):
    out = x.copy()
    rank = x.ndim
    kept = [d for d in range(rank)
            if d not in dn.inserted_window_dims and d not in dn.operand_batching_dims]
    scatter_positions = [p for p in range(u.ndim) if p not in dn.update_window_dims]
    sizes = [1] * rank
    for d, p in zip(kept, dn.update_window_dims):
        sizes[d] = u.shape[p]
    for where in np.ndindex(*u.shape):
        batch_index = tuple(where[p] for p in scatter_positions)
        start, fits = _start(x.shape, idx[batch_index], dn.scatter_dims_to_operand_dims,
                             dn.operand_batching_dims, dn.scatter_indices_batching_dims,
                             batch_index, sizes, mode == "clip")
        if not fits and mode != "clip":
            continue
        full = list(start)
        for d, p in zip(kept, dn.update_window_dims):
            full[d] += where[p]
        if add:
            out[tuple(full)] += u[where]
        else:
            out[tuple(full)] = u[where]
    return out


# ----- Random configurations -----------------------------------------------------------

def _batch_shape(rng, x_shape, operand_batching):
    """Index batch axes, some of them paired with the operand's batching axes."""
    n = len(operand_batching) + int(rng.integers(0, 3))
    shape = [int(rng.integers(1, 4)) for _ in range(n)]
    paired = tuple(int(p) for p in rng.permutation(n)[:len(operand_batching)])
    for p, od in zip(paired, operand_batching):
        shape[p] = x_shape[od]
    return shape, paired


def _split_axes(rng, rank):
    batching = tuple(d for d in range(rank) if rng.random() < 0.2)
    rest = [d for d in range(rank) if d not in batching]
    dropped = tuple(d for d in rest if rng.random() < 0.5)
    index_map = tuple(int(d) for d in rng.permutation(rest)[:int(rng.integers(0, len(rest) + 1))])
    return batching, dropped, index_map


def _indices(rng, batch_shape, index_map, x_shape):
    hi = [x_shape[d] for d in index_map]
    idx = np.stack([rng.integers(-1, h + 1, batch_shape) for h in hi], -1) if hi else \
        np.zeros(tuple(batch_shape) + (0,), np.int64)
    return idx.astype(rng.choice([np.int32, np.int64]))


def gather_config(seed):
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 4))
    x_shape = tuple(int(rng.integers(2, 5)) for _ in range(rank))
    batching, collapsed, index_map = _split_axes(rng, rank)
    batch_shape, paired = _batch_shape(rng, x_shape, batching)
    kept = [d for d in range(rank) if d not in batching and d not in collapsed]
    sizes = tuple(1 if d in batching or d in collapsed else int(rng.integers(1, x_shape[d] + 1))
                  for d in range(rank))
    out_rank = len(batch_shape) + len(kept)
    offset = tuple(sorted(int(p) for p in rng.permutation(out_rank)[:len(kept)]))
    dn = GDN(offset, collapsed, index_map, batching, paired)
    x = rng.standard_normal(x_shape)
    return x, _indices(rng, batch_shape, index_map, x_shape), dn, sizes


def scatter_config(seed):
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 4))
    x_shape = tuple(int(rng.integers(2, 5)) for _ in range(rank))
    batching, inserted, index_map = _split_axes(rng, rank)
    batch_shape, paired = _batch_shape(rng, x_shape, batching)
    kept = [d for d in range(rank) if d not in batching and d not in inserted]
    u_rank = len(batch_shape) + len(kept)
    window_dims = tuple(sorted(int(p) for p in rng.permutation(u_rank)[:len(kept)]))
    u_shape = [0] * u_rank
    for p, n in zip([p for p in range(u_rank) if p not in window_dims], batch_shape):
        u_shape[p] = n
    for p, d in zip(window_dims, kept):
        u_shape[p] = int(rng.integers(1, x_shape[d] + 1))
    dn = SDN(window_dims, inserted, index_map, batching, paired)
    x, u = rng.standard_normal(x_shape), rng.standard_normal(u_shape)
    return x, _indices(rng, batch_shape, index_map, x_shape), u, dn


SEEDS = range(60)
_GATHER_MODES = [(None, "clip"), ("clip", "clip"), ("promise_in_bounds", "clip"),
                 (Mode.FILL_OR_DROP, "fill")]


@pytest.mark.parametrize("seed", SEEDS)
def test_gather_matches_xla_semantics_in_every_mode(seed: int) -> None:
    x, idx, dn, sizes = gather_config(seed)
    for mode, ref_mode in _GATHER_MODES:
        got = lax.gather(x, idx, dn, sizes, mode=mode)
        want = gather_reference(x, idx, dn, sizes, ref_mode, np.nan)
        np.testing.assert_array_equal(got, want, err_msg=f"{dn} {sizes} mode={mode}")
        staged = nj.jit(lambda x, i, mode=mode: lax.gather(x, i, dn, sizes, mode=mode))(x, idx)
        assert staged.tobytes() == np.asarray(got).tobytes()


@pytest.mark.parametrize("seed", SEEDS)
def test_scatters_match_xla_semantics_in_every_mode(seed: int) -> None:
    x, idx, u, dn = scatter_config(seed)
    for mode, ref_mode in [(None, "drop"), ("clip", "clip"), ("promise_in_bounds", "drop")]:
        for fn, add in [(lax.scatter_add, True), (lax.scatter, False)]:
            got = fn(x, idx, u, dn, mode=mode)
            np.testing.assert_allclose(got, scatter_reference(x, idx, u, dn, ref_mode, add),
                                       rtol=1e-13, atol=1e-13, err_msg=f"{dn} mode={mode}")
            staged = nj.jit(lambda x, i, u, fn=fn, mode=mode: fn(x, i, u, dn, mode=mode))(
                x, idx, u)
            assert staged.tobytes() == np.asarray(got).tobytes()
    np.testing.assert_array_equal(x, scatter_config(seed)[0])       # the operand untouched


def test_gather_fill_values_follow_the_dtype() -> None:
    dn = GDN((), (0,), (0,))
    for dtype, fill in [(np.float32, np.nan), (np.int32, np.iinfo(np.int32).min),
                        (np.uint8, 255), (np.bool_, True)]:
        x = np.zeros(3, dtype)
        got = lax.gather(x, np.array([[5], [1]]), dn, (1,), mode="fill")
        assert got.dtype == dtype
        np.testing.assert_array_equal(got, np.array([fill, 0], dtype))
    got = lax.gather(np.ones(3), np.array([[-1]]), dn, (1,), mode="fill", fill_value=-7.0)
    np.testing.assert_array_equal(got, [-7.0])


def _take_rows(x, i):
    return lax.gather(x, i, GDN((1,), (0,), (0,)), (1, x.shape[1]))


_ROWS = SDN((1,), (0,), (0,))


def test_gather_and_scatter_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(0)
    x, u = rng.standard_normal((4, 3)), rng.standard_normal((3, 3))
    i = np.array([[2], [0], [2]])
    nj.check_grads(lambda x: _take_rows(x, i), (x,), order=2, modes=("fwd", "rev"))
    nj.check_grads(lambda x, u: lax.scatter_add(x, i, u, _ROWS), (x, u), order=2,
                   modes=("fwd", "rev"))
    unique = np.array([[3], [0], [1]])
    nj.check_grads(lambda x, u: lax.scatter(x, unique, u, _ROWS), (x, u), order=2,
                   modes=("fwd", "rev"))
    # A dropped window gets no gradient; a filled one passes none back to x.
    out_of_bounds = np.array([[7], [1], [-1]])
    g = nj.grad(lambda u: jnp.sum(lax.scatter_add(x, out_of_bounds, u, _ROWS) ** 2))(u)
    np.testing.assert_array_equal(g[[0, 2]], 0.0)
    g = nj.grad(lambda x: jnp.sum(lax.gather(x, out_of_bounds, GDN((1,), (0,), (0,)), (1, 3),
                                             mode="fill", fill_value=0.0)))(x)
    np.testing.assert_array_equal(g, np.eye(4)[[1]].T @ np.ones((1, 3)))


def test_gather_and_scatter_vmap_match_a_python_loop() -> None:
    x, idx, dn, sizes = gather_config(3)
    xs = np.stack([x, 2 * x, -x])
    idxs = np.stack([idx, idx[::-1], np.zeros_like(idx)])
    got = nj.vmap(lambda x, i: lax.gather(x, i, dn, sizes))(xs, idxs)
    np.testing.assert_array_equal(got, np.stack([lax.gather(a, i, dn, sizes)
                                                 for a, i in zip(xs, idxs)]))
    x, idx, u, sdn = scatter_config(5)
    us = np.stack([u, 2 * u])
    idxs = np.stack([idx, idx[::-1]])
    got = nj.vmap(lambda i, u: lax.scatter_add(x, i, u, sdn))(idxs, us)
    np.testing.assert_allclose(got, np.stack([lax.scatter_add(x, i, v, sdn)
                                              for i, v in zip(idxs, us)]), rtol=1e-14)


def test_gather_reads_the_operand_with_one_gather_gate() -> None:
    x = np.arange(12.0).reshape(3, 4)
    jaxpr = nj.make_jaxpr(lambda x, i: _take_rows(x, i))(x, np.array([[1]]))
    reads = [e for e in jaxpr.eqns if e.invars[0].aval.dtype == np.float64]
    assert [e.primitive.name for e in reads] == ["reshape", "gather"]


# ----- reduce ----------------------------------------------------------------------

X = np.random.default_rng(1).standard_normal((4, 5, 3))


@pytest.mark.parametrize("computation, init, numpy_fn", [
    (lax.add, 0.0, np.sum), (jnp.add, 1.5, lambda x, axis: np.sum(x, axis) + 1.5),
    (lax.mul, 1.0, np.prod), (np.maximum, -np.inf, np.max), (lax.min, 0.0,
                                                            lambda x, axis: np.minimum(
                                                                np.min(x, axis), 0.0)),
    (lambda a, b: a + b, 0.0, np.sum), (lambda a, b: jnp.maximum(a, b), 0.5,
                                        lambda x, axis: np.maximum(np.max(x, axis), 0.5))])
@pytest.mark.parametrize("dims", [(0,), (1, 2), (0, 1, 2), ()])
def test_reduce_matches_numpy(computation, init, numpy_fn, dims) -> None:
    got = lax.reduce(X, init, computation, dims)
    np.testing.assert_allclose(got, numpy_fn(X, axis=dims), rtol=1e-13, atol=1e-14)
    assert nj.jit(lambda x: lax.reduce(x, init, computation, dims))(X).tobytes() == \
        np.asarray(got).tobytes()


def test_reduce_of_a_recognized_computation_is_its_gate() -> None:
    for fn, gate in [(lax.add, "reduce_sum"), (np.multiply, "reduce_prod"),
                     (jnp.maximum, "reduce_max"), (lax.min, "reduce_min")]:
        init = {"reduce_prod": 1.0, "reduce_max": -np.inf, "reduce_min": np.inf}.get(gate, 0.0)
        (eqn,) = nj.make_jaxpr(lambda x: lax.reduce(x, init, fn, (0,)))(X).eqns
        assert eqn.primitive.name == gate


def test_reduce_of_several_operands_is_a_variadic_argmax() -> None:
    ties = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [5.0, 1.0, 4.0, 5.0]])
    positions = np.broadcast_to(np.arange(4), ties.shape).copy()

    def pick(a, b):
        take_a = a[0] >= b[0]              # ties keep the earlier index, as argmax does
        return lax.select(take_a, a[0], b[0]), lax.select(take_a, a[1], b[1])

    for fn in (lambda v: lax.reduce((v, positions), (-np.inf, 0), pick, (1,)),
               nj.jit(lambda v: lax.reduce((v, positions), (-np.inf, 0), pick, (1,)))):
        values, where = fn(ties)
        np.testing.assert_array_equal(values, ties.max(1))
        np.testing.assert_array_equal(where, ties.argmax(1))


def test_reduce_calls_an_arbitrary_computation_log_n_times() -> None:
    calls = []

    def add(a, b):
        calls.append(1)
        return a + b
    np.testing.assert_allclose(lax.reduce(np.arange(1000.0), 0.0, add, (0,)), 499500.0)
    assert len(calls) == 10 + 1            # ceil(log2(1000)) halvings, then the init


def test_reduce_of_non_commutative_computation_keeps_the_order() -> None:
    # Matrix products are associative, not commutative: the tree keeps the order.
    mats = np.random.default_rng(2).standard_normal((7, 2, 2))
    a, b, c, d = (mats[:, i, j] for i, j in itertools.product(range(2), repeat=2))

    def matmul(p, q):
        return (p[0] * q[0] + p[1] * q[2], p[0] * q[1] + p[1] * q[3],
                p[2] * q[0] + p[3] * q[2], p[2] * q[1] + p[3] * q[3])
    got = lax.reduce((a, b, c, d), (1.0, 0.0, 0.0, 1.0), matmul, (0,))
    want = np.linalg.multi_dot(list(mats))
    np.testing.assert_allclose(np.array(got).reshape(2, 2), want, rtol=1e-12)


def test_reduce_gradients_match_finite_differences() -> None:
    x = X[:, :3, 0]
    nj.check_grads(lambda x: lax.reduce(x, 0.0, lambda a, b: a * b, (0,)), (x,), order=2,
                   modes=("fwd", "rev"))
    nj.check_grads(lambda x: lax.reduce(x, 2.0, lax.mul, (1,)), (x,), order=2,
                   modes=("fwd", "rev"))


def test_reduce_over_an_empty_axis_is_the_init_value() -> None:
    got = lax.reduce(np.zeros((0, 3)), 7.0, lambda a, b: a + b, (0,))
    np.testing.assert_array_equal(got, [7.0, 7.0, 7.0])


def test_reduce_vmap_matches_a_python_loop() -> None:
    fn = nj.vmap(lambda x: lax.reduce(x, 0.0, lambda a, b: jnp.maximum(a, b) + 0.0, (1,)))
    np.testing.assert_array_equal(fn(X), np.stack([np.maximum(x.max(1), 0.0) for x in X]))


# ----- associative_scan ----------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13])
@pytest.mark.parametrize("reverse", [False, True])
def test_associative_scan_matches_running_reductions(n: int, reverse: bool) -> None:
    x = np.random.default_rng(n).standard_normal((3, n))

    def running(fn, x):
        out = fn(x[:, ::-1], axis=1)[:, ::-1] if reverse else fn(x, axis=1)
        return out

    pair = lax.associative_scan(lambda a, b: {"sum": a["sum"] + b["sum"],
                                              "max": lax.max(a["max"], b["max"])},
                                {"sum": x, "max": x}, reverse=reverse, axis=-1)
    np.testing.assert_allclose(pair["sum"], running(np.cumsum, x), rtol=1e-13, atol=1e-14)
    np.testing.assert_array_equal(pair["max"], running(np.maximum.accumulate, x))
    staged = nj.jit(lambda x: lax.associative_scan(lax.add, x, reverse, 1))(x)
    assert staged.tobytes() == lax.associative_scan(lax.add, x, reverse, 1).tobytes()


def test_associative_scan_calls_fn_o_log_n_times_and_owns_its_result() -> None:
    calls = []

    def add(a, b):
        calls.append(1)
        return a + b
    np.testing.assert_allclose(lax.associative_scan(add, np.ones(1024)), np.arange(1, 1025))
    assert len(calls) <= 2 * 10
    x = np.ones((1, 2))
    out = lax.associative_scan(lax.add, x)
    out[0, 0] = 5.0
    assert x[0, 0] == 1.0


def test_associative_scan_gradient_and_vmap() -> None:
    x = np.random.default_rng(4).uniform(0.5, 1.5, (5, 2))
    nj.check_grads(lambda x: lax.associative_scan(lax.mul, x), (x,), order=2,
                   modes=("fwd", "rev"))
    got = nj.vmap(lambda r: lax.associative_scan(lax.mul, r), in_axes=1, out_axes=1)(x)
    np.testing.assert_allclose(got, np.cumprod(x, 0), rtol=1e-14)


def test_the_cumulative_reductions_share_the_one_scan() -> None:
    import nanojax.lax_associative_scan as shared
    import nanojax.primitives.cumulative as cumulative
    assert not hasattr(cumulative, "_scan") and not hasattr(cumulative, "_interleave")
    x = np.array([[3.0, 1.0, 4.0, 1.0, 5.0]])
    np.testing.assert_array_equal(cumulative.associative_scan(lax.max, x, 1),
                                  shared.scan_leaves(lambda a, b: [lax.max(a[0], b[0])],
                                                     [x], 1)[0])


# ----- custom_root and custom_linear_solve ---------------------------------------------

def _newton(f, y):
    for _ in range(40):
        y = y - f(y) / (2.0 * y)
    return y


def newton_sqrt(x):
    return lax.custom_root(lambda y: y * y - x, jnp.ones_like(x), _newton,
                           lambda g, y: y / g(1.0))


def test_custom_root_gradient_is_the_analytic_one() -> None:
    x = np.array([0.5, 2.0, 9.0])
    np.testing.assert_allclose(newton_sqrt(x), np.sqrt(x), rtol=1e-15)
    want = 1.0 / (2.0 * np.sqrt(x))
    for grad in (nj.vmap(nj.grad(newton_sqrt)), nj.jit(nj.vmap(nj.grad(newton_sqrt)))):
        np.testing.assert_allclose(grad(x), want, rtol=1e-14)
    second = nj.grad(nj.grad(newton_sqrt))(4.0)
    np.testing.assert_allclose(second, -0.25 * 4.0 ** -1.5, rtol=1e-12)


def test_custom_root_does_not_differentiate_the_solver() -> None:
    # Bisection on Python floats has no derivative at all: the implicit one
    # is taken at the root it returns, 1 / (3 y^2) for y^3 = x.
    def bisect(f, y):
        lo, hi = 0.0, 10.0
        for _ in range(80):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if float(f(np.float64(mid))) < 0 else (lo, mid)
        return np.float64(0.5 * (lo + hi))
    g = nj.grad(lambda x: lax.custom_root(lambda y: y ** 3 - x, 1.0, bisect,
                                          lambda g, y: y / g(1.0)))(8.0)
    np.testing.assert_allclose(g, 1.0 / (3.0 * 4.0), rtol=1e-12)


def test_custom_root_with_aux_and_pytrees() -> None:
    def solve(f, y):
        return {"y": _newton(lambda v: f({"y": v})["y"], y["y"])}, 3.0

    def tangent_solve(g, y):
        return {"y": y["y"] / g({"y": 1.0})["y"]}

    def root(x):
        sol, aux = lax.custom_root(lambda t: {"y": t["y"] ** 2 - x}, {"y": 1.0}, solve,
                                   tangent_solve, has_aux=True)
        return sol["y"] * aux             # aux is not differentiated: a constant 3
    np.testing.assert_allclose(root(4.0), 6.0)
    np.testing.assert_allclose(nj.grad(root)(4.0), 3.0 / (2.0 * 2.0), rtol=1e-12)


def _cg(matvec, b, iterations=25):
    x = jnp.zeros_like(b)
    r = b - matvec(x)
    p, rs = r, jnp.dot(r, r)
    for _ in range(iterations):
        ap = matvec(p)
        alpha = rs / jnp.dot(p, ap)
        x, r = x + alpha * p, r - alpha * ap
        rs_new = jnp.dot(r, r)
        p, rs = r + (rs_new / rs) * p, rs_new
    return x


_M = np.random.default_rng(5).standard_normal((5, 5))
SPD, RHS = _M @ _M.T + 5.0 * np.eye(5), np.random.default_rng(6).standard_normal(5)


@pytest.mark.parametrize("how", ["symmetric", "transpose_solve"])
def test_custom_linear_solve_gradient_matches_jnp_linalg_solve(how: str) -> None:
    def loss(a, b):
        kw = {"symmetric": True} if how == "symmetric" else {"transpose_solve": _cg}
        x = lax.custom_linear_solve(lambda v: a @ v, b, _cg, **kw)
        return jnp.sum(jnp.sin(x))

    def exact(a, b):
        return jnp.sum(jnp.sin(jnp.linalg.solve(a, b)))
    for grad in (nj.grad(loss, argnums=(0, 1)), nj.jit(nj.grad(loss, argnums=(0, 1)))):
        for got, want in zip(grad(SPD, RHS), nj.grad(exact, argnums=(0, 1))(SPD, RHS)):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_custom_linear_solve_of_a_non_symmetric_matrix_uses_transpose_solve() -> None:
    a = SPD + np.triu(np.ones((5, 5)), 1)

    def dense(matvec, b):
        return jnp.linalg.solve(nj.jacfwd(matvec)(b), b)

    def loss(a, b):
        return jnp.sum(lax.custom_linear_solve(lambda v: a @ v, b, dense, dense) ** 2)

    def exact(a, b):
        return jnp.sum(jnp.linalg.solve(a, b) ** 2)
    for got, want in zip(nj.grad(loss, argnums=(0, 1))(a, RHS),
                         nj.grad(exact, argnums=(0, 1))(a, RHS)):
        np.testing.assert_allclose(got, want, rtol=1e-10)


def test_implicit_solves_refuse_what_they_cannot_do() -> None:
    with pytest.raises(TypeError, match=r"^nanojax\.lax\.custom_linear_solve: reverse-mode"):
        nj.grad(lambda a: jnp.sum(lax.custom_linear_solve(lambda v: a @ v, RHS, _cg)))(SPD)
    with pytest.raises(TypeError, match="forward-mode"):
        nj.jvp(newton_sqrt, (2.0,), (1.0,))
    with pytest.raises(TypeError, match=r"^nanojax\.lax\.custom_root: f must return"):
        lax.custom_root(lambda y: jnp.sum(y), np.ones(2), _newton, lambda g, y: y)


# ----- The small names ---------------------------------------------------------------

def test_small_names_follow_jax() -> None:
    assert lax.broadcast_shapes((2, 1), (3,), ()) == (2, 3)
    out = lax.full_like(np.ones((2, 3), np.float32), 2)
    assert out.dtype == np.float32 and out.flags.writeable
    np.testing.assert_array_equal(out, np.full((2, 3), 2.0))
    assert lax.full_like(np.ones(2), 1, dtype=np.int32, shape=(4,)).dtype == np.int32
    x = np.arange(24.0).reshape(2, 3, 4)
    assert lax.collapse(x, 0, 2).shape == (6, 4)
    assert lax.collapse(x, -2).shape == (2, 12)
    a, b = np.ones((2, 3, 4)), np.ones((2, 4, 5))
    np.testing.assert_array_equal(lax.batch_matmul(a, b), a @ b)
    tree = {"a": x, "b": (x[0],)}
    for fn in (lax.optimization_barrier, lambda t: lax.with_sharding_constraint(t, object())):
        out = fn(tree)
        np.testing.assert_array_equal(out["a"], x)
        out["a"][0, 0, 0] = -1.0
        assert x[0, 0, 0] == 0.0                  # a copy, not the argument
    g = nj.grad(lambda x: jnp.sum(lax.optimization_barrier((x, 2 * x))[1]))(x)
    np.testing.assert_array_equal(g, np.full_like(x, 2.0))


def _error(fn: Any, *args: Any) -> Exception:
    with pytest.raises((TypeError, ValueError)) as info:
        fn(*args)
    return info.value


def test_gather_errors_name_the_function_and_the_problem() -> None:
    x = np.ones((3, 4))
    cases = [
        (lambda: lax.gather(x, np.ones((2, 1)), GDN((1,), (0,), (0,)), (1, 4)), "integers"),
        (lambda: lax.gather(x, np.zeros((2, 1), int), (1, (0,), (0,)), (1, 4)),
         "GatherDimensionNumbers"),
        (lambda: lax.gather(x, np.zeros((2, 1), int), GDN((1,), (0,), (0,)), (2, 4)),
         "slice size 1"),
        (lambda: lax.gather(x, np.zeros((2, 1), int), GDN((1,), (0,), (0,)), (1, 5)),
         "slice_sizes"),
        (lambda: lax.gather(x, np.zeros((2, 2), int), GDN((1,), (0,), (0,)), (1, 4)),
         "start_index_map"),
        (lambda: lax.gather(x, np.zeros((2, 1), int), GDN((1, 2), (0,), (0,)), (1, 4)),
         "offset_dims"),
        (lambda: lax.gather(x, np.zeros((2, 1), int), GDN((1,), (0,), (0,)), (1, 4),
                            mode="wrap"), "mode"),
        (lambda: lax.scatter_add(x, np.zeros((2, 1), int), np.ones((3, 4)), _ROWS),
         "index batch axes"),
        (lambda: lax.scatter(x, np.zeros((2, 1), int), np.ones((2, 4), np.float32), _ROWS),
         "same dtype"),
        (lambda: lax.scatter_add(x, np.zeros((2, 1), int), np.ones((2, 5)), _ROWS),
         "larger than the operand")]
    for fn, words in cases:
        err = _error(fn)
        assert str(err).startswith("nanojax.lax."), str(err)
        assert words in str(err), str(err)
