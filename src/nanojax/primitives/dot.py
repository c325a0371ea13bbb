"""dot_general: every contraction of two arrays, NumPy's own calls where they fit."""

from __future__ import annotations

import numpy as np

from nanojax.core import Lowering, Primitive, ShapedArray
from nanojax.primitives.base import _proto, _register, _sum_jvps, move_to_front, shape_of

# ----- dot_general: every contraction of two arrays ---------------------------

def _free_dims(ndim, contract, batch):
    return tuple(i for i in range(ndim) if i not in contract and i not in batch)


def _dot_general_impl(lhs, rhs, *, dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers
    lhs, rhs = np.asarray(lhs), np.asarray(rhs)
    ln, rn = lhs.ndim, rhs.ndim
    if not lb and len(lc) == 1 and 0 < ln <= 2 and 0 < rn <= 2:
        # Matrix/vector products: transposed views go to BLAS as they are.
        a = lhs.T if ln == 2 and lc[0] == 0 else lhs
        b = rhs.T if rn == 2 and rc[0] == 1 else rhs
        return np.matmul(a, b)
    # NumPy's own function where the layout is its: the same loops and BLAS
    # calls, so a traced np.dot or a @ b gives eager NumPy's bits.
    if not lb and lc == (ln - 1,) and rc == (max(rn - 2, 0),) and ln and rn:
        return np.dot(lhs, rhs)
    n = len(lb)
    if (n and lb == rb == tuple(range(n)) and ln == rn == n + 2 and lc == (n + 1,)
            and rc == (n,)):
        return np.matmul(lhs, rhs)
    lf, rf = _free_dims(lhs.ndim, lc, lb), _free_dims(rhs.ndim, rc, rb)
    if not lc:
        # Nothing to sum: a broadcast product (vmap's per-example outer
        # products), one multiply instead of a matmul per batch element.
        lhs = np.transpose(lhs, lb + lf).reshape(
            tuple(lhs.shape[d] for d in lb + lf) + (1,) * len(rf))
        rhs = np.transpose(rhs, rb + rf)
        rhs = rhs.reshape(rhs.shape[:len(rb)] + (1,) * len(lf) + rhs.shape[len(rb):])
        return np.multiply(lhs, rhs)
    batch = tuple(lhs.shape[d] for d in lb)
    l_free, r_free = tuple(lhs.shape[d] for d in lf), tuple(rhs.shape[d] for d in rf)
    k = int(np.prod([lhs.shape[d] for d in lc], dtype=np.int64))
    m = int(np.prod(l_free, dtype=np.int64))
    n = int(np.prod(r_free, dtype=np.int64))
    b = int(np.prod(batch, dtype=np.int64))
    l3 = np.transpose(lhs, lb + lf + lc).reshape(b, m, k)
    r3 = np.transpose(rhs, rb + rc + rf).reshape(b, k, n)
    return np.matmul(l3, r3).reshape(batch + l_free + r_free)


def _dot_general_aval(lhs, rhs, *, dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers
    ok = (len(lc) == len(rc) and len(lb) == len(rb)
          and all(0 <= d < lhs.ndim for d in lc + lb) and all(0 <= d < rhs.ndim for d in rc + rb)
          and all(lhs.shape[a] == rhs.shape[b] for a, b in zip(lc + lb, rc + rb)))
    if not ok:
        raise ValueError(f"dot_general: shapes {lhs.shape} and {rhs.shape} do not "
                         f"match for contracting dims {lc}/{rc} and batch dims {lb}/{rb}")
    shape = (tuple(lhs.shape[d] for d in lb)
             + tuple(lhs.shape[d] for d in _free_dims(lhs.ndim, lc, lb))
             + tuple(rhs.shape[d] for d in _free_dims(rhs.ndim, rc, rb)))
    return ShapedArray(shape, np.result_type(_proto(lhs), _proto(rhs)))


def _dot_transpose(g, y, x_ndim, y_ndim, x_contract, y_contract, x_batch, y_batch, g_x_free,
                   g_y_free):
    """The cotangent of the x side of dot_general(x, y) (x may be lhs or rhs)."""
    y_free = _free_dims(y_ndim, y_contract, y_batch)
    nb = len(x_batch)
    # dot_general(g, y) has axes: batch, x's free axes (in order), then y's
    # contracting axes in increasing order, which pair with x's contracting
    # axes; dot_general(y, g) has the last two groups swapped. Take the order
    # that needs no transpose when there is one (A.T @ g, not (g.T @ A).T).
    x_free = _free_dims(x_ndim, x_contract, x_batch)
    x_c_order = [x_contract[list(y_contract).index(c)] for c in sorted(y_contract)]
    g_first = list(x_batch) + list(x_free) + x_c_order
    y_first = list(x_batch) + x_c_order + list(x_free)
    if y_first == sorted(y_first) and g_first != sorted(g_first):
        return dot_general(y, g, ((y_free, g_y_free), (y_batch, tuple(range(nb)))))
    res = dot_general(g, y, ((g_y_free, y_free), (tuple(range(nb)), y_batch)))
    perm = tuple(sorted(range(x_ndim), key=g_first.__getitem__))
    return transpose(res, perm) if perm != tuple(range(x_ndim)) else res


def _dot_general_vjp(g, ans, lhs, rhs, *, dimension_numbers, only=None):
    (lc, rc), (lb, rb) = dimension_numbers
    ln, rn = len(shape_of(lhs)), len(shape_of(rhs))
    nb = len(lb)
    n_lfree = ln - len(lc) - nb
    g_lfree = tuple(range(nb, nb + n_lfree))
    g_rfree = tuple(range(nb + n_lfree, len(shape_of(ans))))
    d_lhs = None if only == 1 else _dot_transpose(g, rhs, ln, rn, lc, rc, lb, rb, g_lfree, g_rfree)
    d_rhs = None if only == 0 else _dot_transpose(g, lhs, rn, ln, rc, lc, rb, lb, g_rfree, g_lfree)
    return d_lhs if only == 0 else d_rhs if only == 1 else (d_lhs, d_rhs)


def _dot_general_jvp(primals, tangents, ans, *, dimension_numbers):
    (lhs, rhs), (tl, tr) = primals, tangents
    return _sum_jvps([None if tl is None else dot_general(tl, rhs, dimension_numbers),
                      None if tr is None else dot_general(lhs, tr, dimension_numbers)])


def _dot_general_batch(size, vals, dims, *, dimension_numbers):
    # Both batched: the batch axis becomes one more batch dimension. One side
    # batched: it is a free dimension of that side, and lands where those do.
    (lhs, rhs), (ld, rd) = vals, dims
    (lc, rc), (lb, rb) = dimension_numbers

    def shift(ds):
        return tuple(d + 1 for d in ds)
    if ld is not None and rd is not None:
        lhs, rhs = move_to_front(lhs, ld, size), move_to_front(rhs, rd, size)
        return dot_general(lhs, rhs, ((shift(lc), shift(rc)),
                                      ((0,) + shift(lb), (0,) + shift(rb)))), 0
    if ld is not None:
        lhs = move_to_front(lhs, ld, size)
        return dot_general(lhs, rhs, ((shift(lc), rc), (shift(lb), rb))), len(lb)
    rhs = move_to_front(rhs, rd, size)
    n_lhs_free = len(shape_of(lhs)) - len(lc) - len(lb)
    return dot_general(lhs, rhs, ((lc, shift(rc)), (lb, shift(rb)))), len(lb) + n_lhs_free


def _matmul_operands(ins, params, in_avals):
    """``a`` and ``b`` (transposed views where needed) of a product that is ``a @ b``."""
    (lc, rc), (lb, _) = params["dimension_numbers"]
    ln, rn = (a.ndim for a in in_avals)
    if not lb and len(lc) == 1 and 1 <= ln <= 2 and 1 <= rn <= 2:
        lhs = f"{ins[0]}.T" if ln == 2 and lc[0] == 0 else ins[0]
        rhs = f"{ins[1]}.T" if rn == 2 and rc[0] == 1 else ins[1]
        return lhs, rhs
    return None


def _lower_dot_general(w, ins, params, in_avals, out_aval):
    """Matrix and vector products as ``a @ b``, transposed views and all (as the impl).

    An outer product (nothing contracted or batched) is ``multiply.outer``:
    the impl's broadcast multiply, one product per entry, without its reshapes.
    """
    (lc, _), (lb, _) = params["dimension_numbers"]
    if not lc and not lb:
        return f"_np.multiply.outer({ins[0]}, {ins[1]})", False
    operands = _matmul_operands(ins, params, in_avals)
    return None if operands is None else (f"{operands[0]} @ {operands[1]}", False)


def _dot_general_into(params, in_avals, out_aval):
    if out_aval.shape == () or _matmul_operands(("a", "b"), params, in_avals) is None:
        return None

    def form(w, ins, out):
        lhs, rhs = _matmul_operands(ins, params, in_avals)
        return f"_np.matmul({lhs}, {rhs}, out={out})"
    return form


dot_general_p = _register(Primitive(
    "dot_general", _dot_general_impl, _dot_general_aval,
    vjp_args=(lambda *a, **p: _dot_general_vjp(*a, **p, only=0),
              lambda *a, **p: _dot_general_vjp(*a, **p, only=1)),
    jvp=_dot_general_jvp, batch=_dot_general_batch, may_alias=False,
    lowering=Lowering(custom=_lower_dot_general, into=_dot_general_into),
    layout=lambda params, in_avals, operands_c: (      # np.matmul makes C order
        _matmul_operands(("a", "b"), params, in_avals) is not None), residuals="operands"))


# ----- The function rules are written with (a thin bind) ------------------------

def dot_general(x, y, dims): return dot_general_p.bind(x, y, dimension_numbers=dims)


from nanojax.primitives.shapes import transpose  # noqa: E402
