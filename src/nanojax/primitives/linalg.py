"""Linear algebra: the factorizations and solves that need a NumPy (LAPACK) routine.

Every primitive takes a stack of matrices (``(..., m, n)``, as NumPy's
``linalg`` does), so its batch rule only moves the batch axis to the front.
The derivative rules are JAX's (``jax/_src/lax/linalg.py``), each reverse
rule the transpose of its forward rule, written with the primitives
themselves (these included) so that derivatives of derivatives work:

- ``cholesky``: ``dL = L Phi(L^-1 dA L^-T)``, Phi the lower triangle with
  its diagonal halved; the input is taken to be symmetric (the public
  functions symmetrize it).
- ``triangular_solve``: both operands; only the triangle that is read has
  a derivative.
- ``inv``, ``solve``, ``det``, ``slogdet``: ``d(A^-1) = -A^-1 dA A^-1`` and
  ``d log|det A| = tr(A^-1 dA)``.
- ``eigh`` (distinct eigenvalues), ``svd`` (distinct nonzero singular
  values), ``qr`` (``m >= n``), ``lu`` (partial pivoting, written here:
  NumPy has no LU).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nanojax.core import Primitive, ShapedArray
from nanojax.primitives.base import _register, dtype_of, move_to_front, shape_of

__all__ = ["cholesky_p", "triangular_solve_p", "inv_p", "solve_p", "det_p", "slogdet_p",
           "eigh_p", "svd_p", "qr_p", "lu_p"]


# ----- Shape checks shared by the blocks ---------------------------------------

def _matrix_aval(name: str, x: ShapedArray, square: bool = True) -> tuple[int, int]:
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: expects floating-point matrices, got dtype {x.dtype}")
    if x.ndim < 2:
        raise ValueError(f"{name}: expects a matrix or a stack of matrices (at least 2 "
                         f"dimensions), got shape {x.shape}")
    m, n = x.shape[-2:]
    if square and m != n:
        raise ValueError(f"{name}: expects square matrices, but the last two dimensions "
                         f"of shape {x.shape} differ")
    return m, n


def _same_batch(name: str, a: ShapedArray, b: ShapedArray) -> None:
    if b.dtype.kind != "f" or b.dtype != a.dtype:
        raise TypeError(f"{name}: both operands must have the same floating-point dtype, "
                        f"got {a.dtype} and {b.dtype}")
    if b.ndim != a.ndim or b.shape[:-2] != a.shape[:-2]:
        raise ValueError(f"{name}: the operands must be stacks of the same batch shape, got "
                         f"shapes {a.shape} and {b.shape}")


def _batch_all(prim_of: Any) -> Any:
    """The batch rule of a linalg primitive: every batch axis to the front, one bind.

    The primitives take stacks of matrices, so the batch axis is one more
    stack axis; an unbatched operand is broadcast along it.
    """
    def rule(size, vals, dims, **params):
        prim = prim_of()
        moved = [move_to_front(v, d, size) for v, d in zip(vals, dims)]
        out = prim.bind(*moved, **params)
        return (out, [0] * len(out)) if prim.multiple_results else (out, 0)
    return rule


# ----- Matrix helpers the rules are written with (stacks: leading axes are batch) ---

def _mT(x):
    nd = len(shape_of(x))
    return transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


def _mm(a, b):
    """``a @ b`` for stacks of the same batch shape."""
    nd = len(shape_of(a))
    batch = tuple(range(nd - 2))
    return dot_general(a, b, (((nd - 1,), (nd - 2,)), (batch, batch)))


def _band(x, k, lower):
    """The lower (``tril(x, k)``) or upper (``triu(x, k)``) triangle of each matrix."""
    m, n = shape_of(x)[-2:]
    mask = np.tril(np.ones((m, n), bool), k) if lower else np.triu(np.ones((m, n), bool), k)
    return select_n(mask, 0.0, x)


def _eye_like(x):
    m, n = shape_of(x)[-2:]
    return np.eye(m, n, dtype=dtype_of(x))


def _diag(x):
    """The diagonal of each (square) matrix: ``(..., n, n) -> (..., n)``."""
    nd = len(shape_of(x))
    return reduce_sum(mul(x, _eye_like(x)), (nd - 1,))


def _diag_embed(v):
    """``(..., n) -> (..., n, n)`` with ``v`` on the diagonal."""
    shape = shape_of(v)
    return mul(_col(v), np.eye(shape[-1], dtype=dtype_of(v)))


def _row(v):
    """``(..., n) -> (..., 1, n)``: a vector as one row, to scale columns."""
    shape = shape_of(v)
    return reshape(v, shape[:-1] + (1, shape[-1]))


def _col(v):
    """``(..., n) -> (..., n, 1)``: a vector as one column, to scale rows."""
    shape = shape_of(v)
    return reshape(v, shape + (1,))


def _trace(x):
    nd = len(shape_of(x))
    return reduce_sum(mul(x, _eye_like(x)), (nd - 2, nd - 1))


def _sym(x):
    return mul(add(x, _mT(x)), 0.5)


def _slice_last2(x, rows, cols):
    nd = len(shape_of(x))
    return gather(x, indexer=Indexer.from_static((slice(None),) * (nd - 2) + (rows, cols)))


def _zeros(x, rows, cols):
    return np.zeros(shape_of(x)[:-2] + (rows, cols), dtype_of(x))


def _tri_solve(a, b, *, left_side=True, lower=True, transpose_a=False, unit_diagonal=False):
    return triangular_solve_p.bind(a, b, left_side=left_side, lower=lower,
                                   transpose_a=transpose_a, conjugate_a=False,
                                   unit_diagonal=unit_diagonal)


# ----- cholesky ------------------------------------------------------------------------

def _cholesky_impl(a):
    try:
        return np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        # As JAX: a matrix that is not positive definite factors to NaNs
        # (only those of a stack that fail; the others are factored).
        a = np.asarray(a)
        flat = a.reshape((-1,) + a.shape[-2:])
        out = np.empty_like(flat)
        for i, m in enumerate(flat):
            try:
                out[i] = np.linalg.cholesky(m)
            except np.linalg.LinAlgError:
                out[i] = np.nan
        return out.reshape(a.shape)


def _cholesky_aval(a):
    _matrix_aval("cholesky", a)
    return ShapedArray(a.shape, a.dtype)


def _phi(x):
    """The lower triangle with its diagonal halved."""
    halves = np.where(np.eye(shape_of(x)[-1], dtype=bool), 0.5, 1.0).astype(dtype_of(x))
    return mul(_band(x, 0, True), halves)


def _cholesky_jvp(primals, tangents, L):
    (da,) = tangents
    if da is None:
        return None
    # L^-1 dA L^-T, from two triangular solves.
    inner = _tri_solve(L, _tri_solve(L, da, left_side=False, transpose_a=True))
    return _mm(L, _phi(inner))


def _cholesky_vjp(g, L, a):
    # The transpose of the jvp: L^-T Phi(L^T g) L^-1.
    inner = _phi(_mm(_mT(L), g))
    return _tri_solve(L, _tri_solve(L, inner, transpose_a=True), left_side=False)


cholesky_p: Primitive = _register(Primitive(
    "cholesky", _cholesky_impl, _cholesky_aval, jvp=_cholesky_jvp, vjp_args=(_cholesky_vjp,),
    batch=_batch_all(lambda: cholesky_p), may_alias=False, residuals="ans"))


# ----- triangular_solve ----------------------------------------------------------------

def _triangle(a, lower, unit_diagonal):
    t = np.tril(a) if lower else np.triu(a)
    if unit_diagonal:
        n = t.shape[-1]
        t[..., np.arange(n), np.arange(n)] = 1
    return t


def _triangular_solve_impl(a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    t = _triangle(np.asarray(a), lower, unit_diagonal)
    if transpose_a:
        t = np.swapaxes(t, -1, -2)
    if left_side:
        return np.linalg.solve(t, b)
    # x t = b  is  t^T x^T = b^T.
    x = np.linalg.solve(np.swapaxes(t, -1, -2), np.swapaxes(b, -1, -2))
    return np.ascontiguousarray(np.swapaxes(x, -1, -2))


def _triangular_solve_aval(a, b, *, left_side, **_):
    name = "triangular_solve"
    _matrix_aval(name, a)
    _matrix_aval(name, b, square=False)
    _same_batch(name, a, b)
    n = a.shape[-1]
    if (b.shape[-2] if left_side else b.shape[-1]) != n:
        side = "rows" if left_side else "columns"
        raise ValueError(f"{name}: with left_side={left_side}, b must have {n} {side} to match "
                         f"a of shape {a.shape}, got b of shape {b.shape}")
    return ShapedArray(b.shape, b.dtype)


def _tri_mask(x, lower, unit_diagonal):
    return _band(x, -1 if unit_diagonal else 0, True) if lower else \
        _band(x, 1 if unit_diagonal else 0, False)


def _tri_solve_jvp(primals, tangents, x, *, left_side, lower, transpose_a, conjugate_a,
                   unit_diagonal):
    a, _ = primals
    ta, tb = tangents
    params = dict(left_side=left_side, lower=lower, transpose_a=transpose_a,
                  unit_diagonal=unit_diagonal)
    rhs = tb
    if ta is not None:
        # Only the triangle that is read moves: d(op(A)^-1 B) = -op(A)^-1 op(dA) X.
        dop = _tri_mask(ta, lower, unit_diagonal)
        dop = _mT(dop) if transpose_a else dop
        term = neg(_mm(dop, x) if left_side else _mm(x, dop))
        rhs = term if rhs is None else add(rhs, term)
    return None if rhs is None else _tri_solve(a, rhs, **params)


def _tri_solve_vjp_b(g, x, a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    return _tri_solve(a, g, left_side=left_side, lower=lower, transpose_a=not transpose_a,
                      unit_diagonal=unit_diagonal)


def _tri_solve_vjp_a(g, x, a, b, *, left_side, lower, transpose_a, conjugate_a, unit_diagonal):
    gb = _tri_solve_vjp_b(g, x, a, b, left_side=left_side, lower=lower,
                          transpose_a=transpose_a, conjugate_a=conjugate_a,
                          unit_diagonal=unit_diagonal)
    if left_side:
        outer = _mm(x, _mT(gb)) if transpose_a else _mm(gb, _mT(x))
    else:
        outer = _mm(_mT(gb), x) if transpose_a else _mm(_mT(x), gb)
    return neg(_tri_mask(outer, lower, unit_diagonal))


triangular_solve_p: Primitive = _register(Primitive(
    "triangular_solve", _triangular_solve_impl, _triangular_solve_aval, jvp=_tri_solve_jvp,
    vjp_args=(_tri_solve_vjp_a, _tri_solve_vjp_b),
    batch=_batch_all(lambda: triangular_solve_p), may_alias=False, residuals=None))


# ----- inv, solve, det, slogdet ------------------------------------------------------------

def _square_aval(name):
    def abstract_eval(a):
        _matrix_aval(name, a)
        return ShapedArray(a.shape, a.dtype)
    return abstract_eval


def _singular(name):
    def impl(*args):
        try:
            return getattr(np.linalg, name)(*args)
        except np.linalg.LinAlgError:
            raise np.linalg.LinAlgError(
                f"nanojax.numpy.linalg.{name}: the matrix is singular (its rows are linearly "
                "dependent), so it has no inverse; use jnp.linalg.pinv or jnp.linalg.lstsq "
                "for a least-squares answer") from None
    return impl


def _inv_jvp(primals, tangents, x):
    (da,) = tangents
    return None if da is None else neg(_mm(x, _mm(da, x)))


inv_p: Primitive = _register(Primitive(
    "inv", _singular("inv"), _square_aval("inv"), jvp=_inv_jvp,
    vjp_args=(lambda g, x, a: neg(_mm(_mT(x), _mm(g, _mT(x)))),),
    batch=_batch_all(lambda: inv_p), may_alias=False, residuals="ans"))


def _solve_aval(a, b):
    _matrix_aval("solve", a)
    _matrix_aval("solve", b, square=False)
    _same_batch("solve", a, b)
    if b.shape[-2] != a.shape[-1]:
        raise ValueError(f"solve: b must have {a.shape[-1]} rows to match a of shape "
                         f"{a.shape}, got b of shape {b.shape}")
    return ShapedArray(b.shape, b.dtype)


def _solve_jvp(primals, tangents, x):
    a, _ = primals
    ta, tb = tangents
    rhs = tb
    if ta is not None:
        term = neg(_mm(ta, x))
        rhs = term if rhs is None else add(rhs, term)
    return None if rhs is None else solve_p.bind(a, rhs)


solve_p: Primitive = _register(Primitive(
    "solve", _singular("solve"), _solve_aval, jvp=_solve_jvp,
    vjp_args=(lambda g, x, a, b: neg(_mm(solve_p.bind(_mT(a), g), _mT(x))),
              lambda g, x, a, b: solve_p.bind(_mT(a), g)),
    batch=_batch_all(lambda: solve_p), may_alias=False))


def _det_aval(a):
    _matrix_aval("det", a)
    return ShapedArray(a.shape[:-2], a.dtype)


def _det_jvp(primals, tangents, d):
    a, (da,) = primals[0], tangents
    return None if da is None else mul(d, _trace(solve_p.bind(a, da)))


def _scaled_inverse_transpose(scale, a):
    """``scale[..., None, None] * inv(a)^T``: the pull of det or log|det|."""
    return mul(_col(_col(scale)), _mT(inv_p.bind(a)))


det_p: Primitive = _register(Primitive(
    "det", np.linalg.det, _det_aval, jvp=_det_jvp,
    vjp_args=(lambda g, d, a: _scaled_inverse_transpose(mul(g, d), a),),
    batch=_batch_all(lambda: det_p), may_alias=False))


def _slogdet_aval(a):
    _matrix_aval("slogdet", a)
    return [ShapedArray(a.shape[:-2], a.dtype)] * 2


def _slogdet_jvp(primals, tangents, ans):
    a, (da,) = primals[0], tangents
    # The sign is piecewise constant: it has no tangent.
    return None if da is None else [None, _trace(solve_p.bind(a, da))]


slogdet_p: Primitive = _register(Primitive(
    "slogdet", lambda a: list(np.linalg.slogdet(a)), _slogdet_aval, jvp=_slogdet_jvp,
    vjp_args=(lambda g, ans, a: _scaled_inverse_transpose(g[1], a),),
    batch=_batch_all(lambda: slogdet_p), multiple_results=True, may_alias=False))


# ----- eigh --------------------------------------------------------------------------------

def _eigh_impl(a, *, lower):
    w, v = np.linalg.eigh(a, UPLO="L" if lower else "U")
    return [v, w]


def _eigh_aval(a, *, lower):
    _matrix_aval("eigh", a)
    return [ShapedArray(a.shape, a.dtype), ShapedArray(a.shape[:-1], a.dtype)]


def _gaps_inverse(w):
    """``F[i, j] = 1 / (w[j] - w[i])`` off the diagonal, 0 on it."""
    eye = np.eye(shape_of(w)[-1], dtype=dtype_of(w))
    return sub(div(1.0, add(sub(_row(w), _col(w)), eye)), eye)


def _eigh_jvp(primals, tangents, ans, *, lower):
    (da,) = tangents
    if da is None:
        return None
    v, w = ans
    vt_da_v = _mm(_mT(v), _mm(da, v))
    return [_mm(v, mul(_gaps_inverse(w), vt_da_v)), _diag(vt_da_v)]


def _eigh_vjp(g, ans, a, *, lower):
    (gv, gw), (v, w) = g, ans
    inner = add(_diag_embed(gw), mul(_gaps_inverse(w), _mm(_mT(v), gv)))
    return _mm(v, _mm(inner, _mT(v)))


eigh_p: Primitive = _register(Primitive(
    "eigh", _eigh_impl, _eigh_aval, jvp=_eigh_jvp, vjp_args=(_eigh_vjp,),
    batch=_batch_all(lambda: eigh_p), multiple_results=True, may_alias=False))


# ----- svd ---------------------------------------------------------------------------------

def _svd_impl(a, *, full_matrices, compute_uv):
    if not compute_uv:
        return [np.linalg.svd(a, compute_uv=False)]
    u, s, vt = np.linalg.svd(a, full_matrices=full_matrices)
    return [s, u, vt]


def _svd_aval(a, *, full_matrices, compute_uv):
    m, n = _matrix_aval("svd", a, square=False)
    batch, k = a.shape[:-2], min(m, n)
    s = ShapedArray(batch + (k,), a.dtype)
    if not compute_uv:
        return [s]
    um, vn = (m, n) if full_matrices else (k, k)
    return [s, ShapedArray(batch + (m, um), a.dtype), ShapedArray(batch + (vn, n), a.dtype)]


def _thin_svd(a, full_matrices, compute_uv, ans):
    """``(s, u, vt)`` of the thin SVD, the forward pass's own where it has them."""
    m, n = shape_of(a)[-2:]
    if compute_uv and full_matrices and m != n:
        raise NotImplementedError(
            "svd: derivatives with full_matrices=True are defined only for square matrices "
            "(as in JAX); use full_matrices=False")
    if compute_uv:
        return ans
    return svd_p.bind(a, full_matrices=False, compute_uv=True)


def _inverse_or_zero(s):
    zero = convert_element_type(eq(s, 0.0), dtype_of(s))
    return sub(div(1.0, add(s, zero)), zero)


def _svd_gaps_inverse(s):
    """``F[i, j] = 1 / (s[j]^2 - s[i]^2)``, 0 where the two are equal (the diagonal)."""
    diffs = mul(add(_row(s), _col(s)), sub(_row(s), _col(s)))
    zero = convert_element_type(eq(diffs, 0.0), dtype_of(s))
    return sub(div(1.0, add(diffs, zero)), zero)


def _svd_jvp(primals, tangents, ans, *, full_matrices, compute_uv):
    (a,), (da,) = primals, tangents
    if da is None:
        return None
    s, u, vt = _thin_svd(a, full_matrices, compute_uv, ans)
    v = _mT(vt)
    ds_mat = _mm(_mT(u), _mm(da, v))
    ds = _diag(ds_mat)
    if not compute_uv:
        return [ds]
    m, n = shape_of(a)[-2:]
    f = _svd_gaps_inverse(s)
    dss = mul(ds_mat, _row(s))            # dS S
    sds = mul(_col(s), ds_mat)            # S dS
    du = _mm(u, mul(f, add(dss, _mT(dss))))
    dv = _mm(v, mul(f, add(sds, _mT(sds))))
    s_inv = _row(_inverse_or_zero(s))
    if m > n:          # the part of dA outside U's span: (I - U U^T) dA V S^-1
        dav = _mm(da, v)
        du = add(du, mul(sub(dav, _mm(u, _mm(_mT(u), dav))), s_inv))
    if n > m:
        dau = _mm(_mT(da), u)
        dv = add(dv, mul(sub(dau, _mm(v, _mm(_mT(v), dau))), s_inv))
    return [ds, du, _mT(dv)]


def _svd_vjp(g, ans, a, *, full_matrices, compute_uv):
    s, u, vt = _thin_svd(a, full_matrices, compute_uv, ans)
    gs = g[0]
    core = _diag_embed(gs)
    if compute_uv:
        m, n = shape_of(a)[-2:]
        gu, gv = g[1], _mT(g[2])
        v = _mT(vt)
        f = _svd_gaps_inverse(s)
        utgu, vtgv = _mm(_mT(u), gu), _mm(_mT(v), gv)
        core = add(core, add(mul(mul(f, sub(utgu, _mT(utgu))), _row(s)),
                             mul(_col(s), mul(f, sub(vtgv, _mT(vtgv))))))
    ga = _mm(u, _mm(core, vt))
    if compute_uv:
        s_inv = _inverse_or_zero(s)
        if m > n:      # (I - U U^T) gU S^-1 V^T
            ga = add(ga, _mm(mul(sub(gu, _mm(u, utgu)), _row(s_inv)), vt))
        if n > m:      # U S^-1 gV^T (I - V V^T)
            ga = add(ga, _mm(u, mul(_col(s_inv), _mT(sub(gv, _mm(v, vtgv))))))
    return ga


svd_p: Primitive = _register(Primitive(
    "svd", _svd_impl, _svd_aval, jvp=_svd_jvp, vjp_args=(_svd_vjp,),
    batch=_batch_all(lambda: svd_p), multiple_results=True, may_alias=False))


# ----- qr ----------------------------------------------------------------------------------

def _qr_impl(a, *, full_matrices):
    q, r = np.linalg.qr(a, mode="complete" if full_matrices else "reduced")
    return [q, r]


def _qr_aval(a, *, full_matrices):
    m, n = _matrix_aval("qr", a, square=False)
    batch, k = a.shape[:-2], min(m, n)
    qn, rm = (m, m) if full_matrices else (k, k)
    return [ShapedArray(batch + (m, qn), a.dtype), ShapedArray(batch + (rm, n), a.dtype)]


def _qr_check(a, full_matrices):
    m, n = shape_of(a)[-2:]
    if m < n or (full_matrices and m != n):
        raise NotImplementedError(
            f"qr: derivatives are defined for matrices with at least as many rows as columns, "
            f"and with full_matrices=True only for square ones (as in JAX); got a matrix of "
            f"shape {(m, n)} with full_matrices={full_matrices}")


def _qr_jvp(primals, tangents, ans, *, full_matrices):
    (a,), (da,) = primals, tangents
    if da is None:
        return None
    _qr_check(a, full_matrices)
    q, r = ans
    da_rinv = _tri_solve(r, da, left_side=False, lower=False)        # dA R^-1
    c = _mm(_mT(q), da_rinv)
    low = _band(c, -1, True)
    omega = sub(low, _mT(low))                                       # skew-symmetric
    return [add(_mm(q, sub(omega, c)), da_rinv), _mm(sub(c, omega), r)]


def _qr_vjp(g, ans, a, *, full_matrices):
    _qr_check(a, full_matrices)
    (gq, gr), (q, r) = g, ans
    m_ = sub(_mm(gr, _mT(r)), _mm(_mT(q), gq))
    # The upper triangle of M, mirrored below the diagonal.
    n_ = add(_band(m_, 0, False), _mT(_band(m_, 1, False)))
    return _tri_solve(r, add(gq, _mm(q, n_)), left_side=False, lower=False, transpose_a=True)


qr_p: Primitive = _register(Primitive(
    "qr", _qr_impl, _qr_aval, jvp=_qr_jvp, vjp_args=(_qr_vjp,),
    batch=_batch_all(lambda: qr_p), multiple_results=True, may_alias=False))


# ----- lu ----------------------------------------------------------------------------------

def _lu_impl(a):
    """LU with partial pivoting, LAPACK's getrf, vectorized over the stack.

    One Python step per column, each on the whole stack: the pivot is the
    first entry of largest magnitude at or below the diagonal, its row is
    swapped up, and the rows below are eliminated with one rank-1 update.
    A zero pivot (a singular matrix) eliminates nothing, as in LAPACK.
    """
    a = np.asarray(a)
    batch, (m, n) = a.shape[:-2], a.shape[-2:]
    k = min(m, n)
    lu = np.array(a.reshape((-1, m, n)))
    count = lu.shape[0]
    perm = np.tile(np.arange(m, dtype=np.int32), (count, 1))
    pivots = np.zeros((count, k), np.int32)
    rows = np.arange(count)
    for j in range(k):
        p = j + np.argmax(np.abs(lu[:, j:, j]), axis=1)
        pivots[:, j] = p
        lu[rows, j], lu[rows, p] = lu[rows, p], lu[rows, j].copy()
        perm[rows, j], perm[rows, p] = perm[rows, p], perm[rows, j].copy()
        pivot = lu[:, j, j]
        lu[:, j + 1:, j] /= np.where(pivot == 0, 1, pivot)[:, None]
        lu[:, j + 1:, j + 1:] -= lu[:, j + 1:, j:j + 1] * lu[:, j:j + 1, j + 1:]
    return [lu.reshape(a.shape), pivots.reshape(batch + (k,)), perm.reshape(batch + (m,))]


def _lu_aval(a):
    m, n = _matrix_aval("lu", a, square=False)
    batch = a.shape[:-2]
    i32 = np.dtype(np.int32)
    return [ShapedArray(a.shape, a.dtype), ShapedArray(batch + (min(m, n),), i32),
            ShapedArray(batch + (m,), i32)]


def _lu_factors(lu):
    """Unit-lower ``l`` (m x m) and upper ``u`` (n x n) of a packed LU, padded square."""
    m, n = shape_of(lu)[-2:]
    k = min(m, n)
    lower = _band(_slice_last2(lu, slice(None), slice(0, k)), -1, True)
    if m > k:
        lower = concatenate([lower, _zeros(lu, m, m - k)], len(shape_of(lu)) - 1)
    upper = _band(_slice_last2(lu, slice(0, k), slice(None)), 0, False)
    u_eye = np.diag(np.r_[np.zeros(k), np.ones(n - k)]).astype(dtype_of(lu))
    if n > k:
        upper = concatenate([upper, _zeros(lu, n - k, n)], len(shape_of(lu)) - 2)
    return add(lower, np.eye(m, dtype=dtype_of(lu))), add(upper, u_eye)


def _permutation_matrix(perm, dtype):
    """``P`` with ``P @ a == a[perm]``: one-hot rows (a constant: indices have no derivative)."""
    m = shape_of(perm)[-1]
    return convert_element_type(eq(_col(perm), np.arange(m, dtype=np.int32)), dtype)


def _lu_jvp(primals, tangents, ans):
    (da,) = tangents
    if da is None:
        return None
    lu, _, perm = ans
    lo, up = _lu_factors(lu)
    x = _mm(_permutation_matrix(perm, dtype_of(lu)), da)
    lau = _tri_solve(up, _tri_solve(lo, x, unit_diagonal=True), left_side=False, lower=False)
    return [add(_mm(lo, _band(lau, -1, True)), _mm(_band(lau, 0, False), up)), None, None]


def _lu_vjp(g, ans, a):
    lu, _, perm = ans
    lo, up = _lu_factors(lu)
    h = add(_band(_mm(_mT(lo), g[0]), -1, True), _band(_mm(g[0], _mT(up)), 0, False))
    y = _tri_solve(up, _tri_solve(lo, h, transpose_a=True, unit_diagonal=True),
                   left_side=False, lower=False, transpose_a=True)
    return _mm(_mT(_permutation_matrix(perm, dtype_of(lu))), y)


lu_p: Primitive = _register(Primitive(
    "lu", _lu_impl, _lu_aval, jvp=_lu_jvp, vjp_args=(_lu_vjp,),
    batch=_batch_all(lambda: lu_p), multiple_results=True, may_alias=False))


from nanojax.primitives.dot import dot_general  # noqa: E402
from nanojax.primitives.elementwise import (add, convert_element_type, div, eq,  # noqa: E402
                                            mul, neg, select_n, sub)
from nanojax.primitives.indexing import Indexer, gather  # noqa: E402
from nanojax.primitives.reductions import reduce_sum  # noqa: E402
from nanojax.primitives.shapes import concatenate, reshape, transpose  # noqa: E402
