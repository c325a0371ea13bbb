"""``nanojax.lax.linalg``: the linear-algebra primitives under JAX's names.

Each function checks its operands (a float matrix or a stack of them; ints
and bools are promoted to float64 as NumPy's ``linalg`` does; complex
matrices are refused) and binds one primitive, so its errors name it the
same eagerly and under a transformation. ``nanojax.numpy.linalg`` and
``nanojax.scipy.linalg`` are written on these.

Examples:
    >>> import numpy as np
    >>> from nanojax import lax
    >>> a = np.array([[4.0, 2.0], [2.0, 3.0]])
    >>> l = lax.linalg.cholesky(a)
    >>> np.allclose(l @ l.T, a)
    True
    >>> lax.linalg.triangular_solve(l, np.array([[2.0], [1.0]]), left_side=True, lower=True)
    array([[1.],
           [0.]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nanojax import primitives as P
from nanojax.core import Tracer
from nanojax.numpy._args import check_numeric, error, operand

__all__ = ["cholesky", "eigh", "lu", "lu_pivots_to_permutation", "qr", "svd",
           "triangular_solve"]

_F64 = np.dtype(np.float64)


# ----- Operands --------------------------------------------------------------------

def float_array(name: str, x: Any, *, lists: bool = True) -> Any:
    """``x`` as a float array: ints and bools become float64 (NumPy's rule), complex is refused.

    ``lists``: accept lists and tuples of numbers (jnp and scipy do; lax does not).
    """
    if not lists and isinstance(x, (list, tuple)):
        raise error(name, TypeError, "takes arrays, not a list or tuple; pass np.asarray of "
                    "it, or use nanojax.numpy.linalg")
    x = operand(x, name)
    if not isinstance(x, (Tracer, np.ndarray)):
        check_numeric(name, x)
        x = np.asarray(x)
    kind = x.dtype.kind
    if kind == "c":
        raise error(name, TypeError, f"complex matrices are not supported yet (got dtype "
                    f"{x.dtype}); pass real arrays")
    if kind in "biu":
        return P.convert_element_type(x, _F64) if isinstance(x, Tracer) else \
            np.asarray(x, _F64)
    if kind != "f" or x.dtype.itemsize < 4:
        raise error(name, TypeError, f"arrays of dtype {x.dtype} are not supported (as in "
                    "NumPy's linalg); use float32 or float64")
    return x


def float_matrix(name: str, x: Any, *, square: bool = True, lists: bool = True) -> Any:
    """``float_array``, checked to be a matrix or a stack of them (square ones by default)."""
    x = float_array(name, x, lists=lists)
    shape = tuple(x.shape)
    if len(shape) < 2:
        raise error(name, ValueError, f"expects a matrix or a stack of matrices (at least 2 "
                    f"dimensions), got an array of shape {shape}")
    if square and shape[-1] != shape[-2]:
        raise error(name, ValueError, f"expects square matrices, but the last two "
                    f"dimensions of shape {shape} differ")
    return x


def same_dtype(a: Any, b: Any) -> tuple[Any, Any]:
    """Both operands in their common float dtype (float32 with float64 is float64)."""
    dtype = np.result_type(a.dtype, b.dtype)
    return P.convert_element_type(a, dtype), P.convert_element_type(b, dtype)


def mT(x: Any) -> Any:
    """Each matrix of a stack transposed."""
    nd = len(x.shape)
    return P.transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


def tril(x: Any, k: int = 0) -> Any:
    m, n = x.shape[-2:]
    return P.select_n(np.tril(np.ones((m, n), bool), k), 0.0, x)


def triu(x: Any, k: int = 0) -> Any:
    m, n = x.shape[-2:]
    return P.select_n(np.triu(np.ones((m, n), bool), k), 0.0, x)


def symmetrize(x: Any) -> Any:
    """``(x + x^T) / 2``: JAX's ``symmetrize_input``."""
    return P.mul(P.add(x, mT(x)), 0.5)


def symmetric_from_lower(x: Any) -> Any:
    """The symmetric matrix whose lower triangle is ``x``'s: what LAPACK reads of it.

    Exact (it adds zeros), so the factorization of it has LAPACK's own bits,
    and its derivative is that of the function as it behaves: the upper
    triangle has none.
    """
    return P.add(tril(x), mT(tril(x, -1)))


# ----- The primitives --------------------------------------------------------------

def cholesky(x: Any, *, symmetrize_input: bool = True) -> Any:
    """The lower Cholesky factor ``L`` of each symmetric positive definite matrix, ``x = L L^T``.

    With ``symmetrize_input`` the factored matrix is ``(x + x^T) / 2``, as in
    JAX; otherwise its lower triangle (mirrored), as LAPACK reads it. A
    matrix that is not positive definite factors to NaNs, as in JAX.
    """
    x = float_matrix("nanojax.lax.linalg.cholesky", x, lists=False)
    x = symmetrize(x) if symmetrize_input else symmetric_from_lower(x)
    return P.cholesky_p.bind(x)


def triangular_solve(a: Any, b: Any, *, left_side: bool = False, lower: bool = False,
                     transpose_a: bool = False, conjugate_a: bool = False,
                     unit_diagonal: bool = False) -> Any:
    """``x`` with ``op(a) @ x = b`` (``left_side``) or ``x @ op(a) = b``, ``a`` triangular.

    ``op(a)`` is ``a`` or its transpose (``transpose_a``); only the ``lower``
    (or upper) triangle of ``a`` is read, and with ``unit_diagonal`` its
    diagonal is taken to be ones. As in JAX, ``left_side`` is False by
    default and ``a`` and ``b`` have the same batch dimensions.
    """
    name = "nanojax.lax.linalg.triangular_solve"
    a = float_matrix(name, a, lists=False)
    b = float_matrix(name, b, square=False, lists=False)
    if b.shape[:-2] != a.shape[:-2]:
        raise error(name, ValueError, f"a and b must have the same batch dimensions, got "
                    f"shapes {tuple(a.shape)} and {tuple(b.shape)}")
    n = a.shape[-1]
    if (b.shape[-2] if left_side else b.shape[-1]) != n:
        raise error(name, ValueError, f"with left_side={left_side}, b of shape "
                    f"{tuple(b.shape)} must have {n} {'rows' if left_side else 'columns'} "
                    f"to match a of shape {tuple(a.shape)}")
    a, b = same_dtype(a, b)
    return P.triangular_solve_p.bind(a, b, left_side=bool(left_side), lower=bool(lower),
                                     transpose_a=bool(transpose_a),
                                     conjugate_a=bool(conjugate_a),
                                     unit_diagonal=bool(unit_diagonal))


def eigh(x: Any, *, lower: bool = True, symmetrize_input: bool = True) -> tuple[Any, Any]:
    """``(v, w)``: eigenvectors (columns) and ascending eigenvalues of symmetric matrices.

    Derivatives assume distinct eigenvalues (as JAX's do).
    """
    x = float_matrix("nanojax.lax.linalg.eigh", x, lists=False)
    if symmetrize_input:
        x = symmetrize(x)
    v, w = P.eigh_p.bind(x, lower=bool(lower))
    return v, w


def svd(x: Any, *, full_matrices: bool = True, compute_uv: bool = True) -> Any:
    """``(u, s, vh)`` with ``x = u @ diag(s) @ vh`` (``s`` descending), or ``s`` alone.

    Derivatives assume distinct nonzero singular values, and need
    ``full_matrices=False`` unless the matrices are square (as in JAX).
    """
    x = float_matrix("nanojax.lax.linalg.svd", x, square=False, lists=False)
    outs = P.svd_p.bind(x, full_matrices=bool(full_matrices), compute_uv=bool(compute_uv))
    if not compute_uv:
        return outs[0]
    s, u, vt = outs
    return u, s, vt


def qr(x: Any, *, full_matrices: bool = True) -> tuple[Any, Any]:
    """``(q, r)``: orthonormal columns and an upper triangle with ``x = q @ r``.

    Derivatives need at least as many rows as columns (and square matrices
    with ``full_matrices=True``), as in JAX.
    """
    x = float_matrix("nanojax.lax.linalg.qr", x, square=False, lists=False)
    q, r = P.qr_p.bind(x, full_matrices=bool(full_matrices))
    return q, r


def lu(x: Any) -> tuple[Any, Any, Any]:
    """``(lu, pivots, permutation)``: LU with partial pivoting, as JAX's.

    ``lu`` packs the unit-lower ``L`` (below the diagonal) and ``U``;
    ``pivots[i]`` is the row swapped with row ``i`` at step ``i`` (int32,
    0-based, as LAPACK's minus one) and ``permutation`` the rows they put in
    order: ``x[..., permutation, :] == L @ U``.
    """
    x = float_matrix("nanojax.lax.linalg.lu", x, square=False, lists=False)
    lu_, pivots, permutation = P.lu_p.bind(x)
    return lu_, pivots, permutation


def lu_pivots_to_permutation(pivots: Any, permutation_size: int) -> Any:
    """The permutation (int32) that the row swaps ``pivots`` make of ``range(permutation_size)``.

    Written with comparisons and selects on whole stacks, one step per
    pivot, so it works on traced pivots too.
    """
    name = "nanojax.lax.linalg.lu_pivots_to_permutation"
    pivots = operand(pivots, name)
    if not isinstance(pivots, (Tracer, np.ndarray)):
        pivots = np.asarray(pivots)
    if pivots.dtype.kind not in "iu" or len(pivots.shape) < 1:
        raise error(name, TypeError, f"pivots must be an integer array of at least 1 "
                    f"dimension, got dtype {pivots.dtype} and shape {tuple(pivots.shape)}")
    m = int(permutation_size)
    k = pivots.shape[-1]
    if k > m:
        raise error(name, ValueError, f"{k} pivots do not fit a permutation of size {m}")
    batch = tuple(pivots.shape[:-1])
    positions = np.arange(m, dtype=np.int32)
    perm: Any = np.broadcast_to(positions, batch + (m,))
    pivots = P.convert_element_type(pivots, np.int32)
    for i in range(k):
        j = P.reshape(P.gather(pivots, indexer=P.Indexer.from_static(
            (Ellipsis, slice(i, i + 1)))), batch + (1,))
        at_j = P.eq(positions, j)
        at_i = positions == i
        row_i = P.reduce_sum(P.select_n(at_i, 0, perm), (len(batch),))
        row_j = P.reduce_sum(P.select_n(at_j, 0, perm), (len(batch),))
        perm = P.select_n(at_i, P.select_n(at_j, perm, P.reshape(row_i, batch + (1,))),
                          P.reshape(row_j, batch + (1,)))
    return P.convert_element_type(perm, np.int32)
