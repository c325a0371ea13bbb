"""``nanojax.numpy.linalg``: NumPy's linear algebra, differentiable, on stacks of matrices.

The factorizations and solves are primitives wrapping NumPy's LAPACK
calls, with JAX's derivative rules (see ``nanojax.primitives.linalg``);
everything else (``pinv``, ``lstsq``, ``matrix_power``, the norms...) is
written from them. Plain arrays take the same steps as traced ones, so
``jit`` gives eager's bits. Integer inputs are promoted to float64, as in
NumPy; complex ones are refused.

Examples:
    >>> import numpy as np
    >>> import nanojax as nj
    >>> import nanojax.numpy as jnp
    >>> print(jnp.linalg.norm(jnp.array([3.0, 4.0])))
    5.0
    >>> nj.grad(jnp.linalg.norm)(jnp.array([3.0, 4.0]))      # x / |x|
    array([0.6, 0.8])
    >>> a = np.array([[2.0, 1.0], [1.0, 3.0]])
    >>> print(round(float(jnp.linalg.det(a)), 12))
    5.0
    >>> nj.grad(lambda a: jnp.linalg.slogdet(a).logabsdet)(a)    # inv(a).T
    array([[ 0.6, -0.2],
           [-0.2,  0.4]])

A derivative through ``eigh`` or ``svd`` assumes distinct eigenvalues or
singular values (as JAX's): where two meet, it is infinite.
"""

from __future__ import annotations

import builtins
from typing import Any, NamedTuple

import numpy as np

import nanojax.numpy as jnp
from nanojax import lax_linalg as L
from nanojax import primitives as P
from nanojax.core import Tracer
from nanojax.numpy._args import axis_index, call_numpy, error, operand

__all__ = ["EighResult", "QRResult", "SVDResult", "SlogdetResult", "cholesky", "det", "eigh",
           "eigvalsh", "inv", "lstsq", "matrix_power", "matrix_rank", "multi_dot", "norm",
           "pinv", "qr", "slogdet", "solve", "svd", "svdvals", "tensorinv", "tensorsolve"]
__all__ += ["EigResult", "cond", "cross", "diagonal", "eig", "eigvals", "matmul", "matrix_norm",
            "matrix_transpose", "outer", "tensordot", "trace", "vecdot", "vector_norm"]


class EighResult(NamedTuple):
    eigenvalues: Any
    eigenvectors: Any


class EigResult(NamedTuple):
    eigenvalues: Any
    eigenvectors: Any


class QRResult(NamedTuple):
    Q: Any
    R: Any


class SlogdetResult(NamedTuple):
    sign: Any
    logabsdet: Any


class SVDResult(NamedTuple):
    U: Any
    S: Any
    Vh: Any


def _name(fn: str) -> str:
    return f"nanojax.numpy.linalg.{fn}"


def _matrix(fn: str, a: Any, square: bool = True) -> Any:
    return L.float_matrix(_name(fn), a, square=square)


# ----- Factorizations --------------------------------------------------------------

def cholesky(a: Any, *, upper: bool = False, symmetrize_input: bool = True) -> Any:
    """The Cholesky factor of each symmetric positive definite matrix: ``a = L @ L.T``.

    ``L`` is lower triangular (``upper=True``: ``U = L.T``, ``a = U.T @ U``).
    As in JAX, the matrix factored is ``(a + a.T) / 2`` (with
    ``symmetrize_input=False``: the lower triangle, as NumPy reads it), and
    one that is not positive definite gives NaNs rather than an error.

    >>> cholesky(np.array([[4.0, 2.0], [2.0, 2.0]]))
    array([[2., 0.],
           [1., 1.]])
    """
    a = _matrix("cholesky", a)
    a = L.symmetrize(a) if symmetrize_input else L.symmetric_from_lower(a)
    factor = P.cholesky_p.bind(a)
    return L.mT(factor) if upper else factor


def eigh(a: Any, UPLO: str | None = None, symmetrize_input: bool = True) -> EighResult:
    """``(eigenvalues, eigenvectors)`` of symmetric matrices, the eigenvalues ascending.

    ``UPLO`` says which triangle is read (``"L"``, the default, or ``"U"``);
    with ``symmetrize_input`` (JAX's default) the matrix is first made
    symmetric, ``(a + a.T) / 2``, so both triangles count.
    """
    lower = _uplo("eigh", UPLO)
    a = _matrix("eigh", a)
    if symmetrize_input:
        a = L.symmetrize(a)
    v, w = P.eigh_p.bind(a, lower=lower)
    return EighResult(w, v)


def eigvalsh(a: Any, UPLO: str | None = "L", symmetrize_input: bool = True) -> Any:
    """The eigenvalues of symmetric matrices, ascending (see ``eigh``)."""
    return eigh(a, UPLO, symmetrize_input).eigenvalues


def _uplo(fn: str, uplo: Any) -> bool:
    if uplo not in (None, "L", "U"):
        raise error(_name(fn), ValueError, f"UPLO must be 'L' or 'U', got {uplo!r}")
    return uplo != "U"


def svd(a: Any, full_matrices: bool = True, compute_uv: bool = True,
        hermitian: bool = False) -> Any:
    """``(U, S, Vh)`` with ``a = U @ diag(S) @ Vh``, ``S`` descending; or ``S`` alone.

    With ``hermitian`` (symmetric ``a``) it is computed from ``eigh``, as
    in JAX. Derivatives of ``U`` and ``Vh`` need ``full_matrices=False``
    unless the matrices are square.
    """
    a = _matrix("svd", a, square=bool(hermitian))
    if hermitian:
        return _svd_hermitian(a, compute_uv)
    outs = P.svd_p.bind(a, full_matrices=bool(full_matrices), compute_uv=bool(compute_uv))
    if not compute_uv:
        return outs[0]
    s, u, vt = outs
    return SVDResult(u, s, vt)


def _svd_hermitian(a: Any, compute_uv: bool) -> Any:
    v, w = P.eigh_p.bind(L.symmetrize(a), lower=True)
    s = jnp.abs(w)
    order = jnp.flip(jnp.argsort(s, axis=-1), axis=-1)       # descending
    s = jnp.take_along_axis(s, order, axis=-1)
    if not compute_uv:
        return s
    u = jnp.take_along_axis(v, jnp.expand_dims(order, -2), axis=-1)
    signs = jnp.take_along_axis(jnp.sign(w), order, axis=-1)
    return SVDResult(u, s, L.mT(u * jnp.expand_dims(signs, -2)))


def svdvals(x: Any, /) -> Any:
    """The singular values of each matrix, descending."""
    return svd(x, compute_uv=False)


def qr(a: Any, mode: str = "reduced") -> Any:
    """``(Q, R)`` with ``a = Q @ R``; ``mode`` is ``"reduced"``, ``"complete"`` or ``"r"``.

    Derivatives need at least as many rows as columns (``"complete"``:
    square matrices), as in JAX.
    """
    if mode not in ("reduced", "complete", "r"):
        raise error(_name("qr"), ValueError, f"mode must be 'reduced', 'complete' or 'r', "
                    f"got {mode!r}")
    a = _matrix("qr", a, square=False)
    q, r = P.qr_p.bind(a, full_matrices=mode == "complete")
    return r if mode == "r" else QRResult(q, r)


# ----- Inverses, solves, determinants ------------------------------------------------

def inv(a: Any) -> Any:
    """The inverse of each square matrix (a singular one raises ``LinAlgError``)."""
    return P.inv_p.bind(_matrix("inv", a))


def solve(a: Any, b: Any) -> Any:
    """``x`` with ``a @ x = b``: ``b`` is a vector if it is 1-D, else a stack of matrices.

    As NumPy 2 does, the batch dimensions of ``a`` and ``b`` broadcast.
    """
    name = _name("solve")
    a = _matrix("solve", a)
    b = L.float_array(name, b)
    n = a.shape[-1]
    vector = len(b.shape) == 1
    if len(b.shape) == 0 or b.shape[-2 if not vector else -1] != n:
        raise error(name, ValueError, f"b of shape {tuple(b.shape)} does not match a of shape "
                    f"{tuple(a.shape)}: b must be a vector of length {n} or have {n} rows")
    a, b = L.same_dtype(a, b)
    if vector:
        b = jnp.reshape(b, (n, 1))
    batch = _broadcast_batch(name, a, b)
    x = P.solve_p.bind(jnp.broadcast_to(a, batch + tuple(a.shape[-2:])),
                       jnp.broadcast_to(b, batch + tuple(b.shape[-2:])))
    return jnp.reshape(x, batch + (n,)) if vector else x


def _broadcast_batch(name: str, a: Any, b: Any) -> tuple[int, ...]:
    try:
        return tuple(np.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2])))
    except ValueError:
        raise error(name, ValueError, f"the batch dimensions of shapes {tuple(a.shape)} and "
                    f"{tuple(b.shape)} do not broadcast") from None


def det(a: Any) -> Any:
    """The determinant of each square matrix."""
    return P.det_p.bind(_matrix("det", a))


def slogdet(a: Any) -> SlogdetResult:
    """``(sign, logabsdet)``: the determinant as ``sign * exp(logabsdet)``, without overflow.

    The sign has no derivative; ``logabsdet``'s is ``inv(a).T``.
    """
    sign, logabsdet = P.slogdet_p.bind(_matrix("slogdet", a))
    return SlogdetResult(sign, logabsdet)


def pinv(a: Any, rtol: Any = None, hermitian: bool = False, *, rcond: Any = None) -> Any:
    """The Moore-Penrose pseudo-inverse, from the SVD, as JAX computes it.

    Singular values at or below ``rtol`` times the largest are dropped;
    ``rtol`` (NumPy's older name: ``rcond``) defaults to
    ``10 * max(m, n) * eps``, JAX's default.
    """
    a = _matrix("pinv", a, square=bool(hermitian))
    m, n = a.shape[-2:]
    if rtol is None:
        rtol = rcond
    if rtol is None:
        rtol = 10.0 * builtins.max(m, n) * np.finfo(a.dtype).eps
    if m == 0 or n == 0:
        return np.zeros(tuple(a.shape[:-2]) + (n, m), a.dtype)
    if hermitian:
        u, s, vh = _svd_hermitian(a, True)
    else:
        u, s, vh = svd(a, full_matrices=False)
    cutoff = jnp.expand_dims(jnp.asarray(rtol), -1) * s[..., :1]
    s = jnp.where(s > cutoff, s, np.inf)
    return jnp.matmul(L.mT(vh), L.mT(u) / jnp.expand_dims(s, -1))


def matrix_power(a: Any, n: int) -> Any:
    """``a`` multiplied by itself ``n`` times (by repeated squaring); ``n < 0``: of ``inv(a)``."""
    name = _name("matrix_power")
    a = operand(a, name)
    if isinstance(n, Tracer) or not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise error(name, TypeError, f"the exponent must be a Python int, got {n!r:.50}")
    shape = tuple(jnp.shape(a))
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise error(name, ValueError, f"expects square matrices (at least 2 dimensions), "
                    f"got an array of shape {shape}")
    if n == 0:
        return np.broadcast_to(np.eye(shape[-1], dtype=P.dtype_of(a)), shape).copy()
    if n < 0:
        a, n = inv(a), -n
    result, power = None, a
    while True:
        if n & 1:
            result = power if result is None else jnp.matmul(result, power)
        n >>= 1
        if not n:
            return result
        power = jnp.matmul(power, power)


def matrix_rank(A: Any, tol: Any = None, hermitian: bool = False, *,
                rtol: Any = None) -> Any:
    """The number of singular values above ``tol`` (default: ``max(m, n) * eps`` times
    the largest, or ``rtol`` times it), as NumPy computes it."""
    name = _name("matrix_rank")
    A = L.float_array(name, A)
    if len(A.shape) < 2:
        return jnp.astype(jnp.any(A != 0), np.int64)
    s = svd(A, compute_uv=False, hermitian=hermitian)
    if tol is None:
        if rtol is None:
            rtol = builtins.max(A.shape[-2:]) * np.finfo(A.dtype).eps
        tol = jnp.max(s, axis=-1, keepdims=True) * jnp.expand_dims(jnp.asarray(rtol), -1)
    else:
        tol = jnp.expand_dims(jnp.asarray(tol), -1)
    return jnp.sum(s > tol, axis=-1)


def lstsq(a: Any, b: Any, rcond: Any = None, *, numpy_resid: bool = False
          ) -> tuple[Any, Any, Any, Any]:
    """``(x, residuals, rank, s)``: the least-squares solution of ``a @ x = b``, from the SVD.

    As in JAX: the residuals (the squared norm of each column of ``b - a @ x``)
    are always returned, unless ``numpy_resid`` asks for NumPy's empty array
    where the rank is deficient or ``m <= n``; singular values below
    ``rcond`` (default ``eps * max(m, n)``) times the largest are dropped.
    """
    name = _name("lstsq")
    a = L.float_matrix(name, a, square=False)
    b = L.float_array(name, b)
    if len(a.shape) != 2 or len(b.shape) not in (1, 2):
        raise error(name, ValueError, f"a must be 2-D and b 1-D or 2-D, got shapes "
                    f"{tuple(a.shape)} and {tuple(b.shape)}")
    m, n = a.shape
    if b.shape[0] != m:
        raise error(name, ValueError, f"a of shape {tuple(a.shape)} and b of shape "
                    f"{tuple(b.shape)} must have the same number of rows")
    a, b = L.same_dtype(a, b)
    vector = len(b.shape) == 1
    b2 = jnp.reshape(b, (m, 1)) if vector else b
    if rcond is None:
        rcond = np.finfo(a.dtype).eps * builtins.max(m, n)
    elif not isinstance(rcond, Tracer) and rcond < 0:
        rcond = np.finfo(a.dtype).eps
    if a.size == 0:
        s = np.zeros(0, a.dtype)
        rank: Any = np.int64(0)
        x: Any = np.zeros((n, b2.shape[1]), a.dtype)
    else:
        u, s, vt = svd(a, full_matrices=False)
        mask = s >= jnp.asarray(rcond) * s[0]
        rank = jnp.sum(mask)
        s_inv = jnp.where(mask, 1.0 / jnp.where(mask, s, 1.0), 0.0)
        x = jnp.matmul(L.mT(vt), jnp.expand_dims(s_inv, -1) * jnp.matmul(L.mT(u), b2))
    if numpy_resid and (isinstance(rank, Tracer) or int(rank) < n or m <= n):
        resid: Any = np.zeros(0, a.dtype)
    else:
        diff = b2 - jnp.matmul(a, x)
        resid = jnp.sum(diff * diff, axis=0)
    return (jnp.reshape(x, (n,)) if vector else x), resid, rank, s


def tensorinv(a: Any, ind: int = 2) -> Any:
    """The inverse of ``a`` seen as a matrix from its first ``ind`` axes to the rest (NumPy's)."""
    name = _name("tensorinv")
    a = L.float_array(name, a)
    shape = tuple(a.shape)
    if not isinstance(ind, (int, np.integer)) or ind <= 0:
        raise error(name, ValueError, f"ind must be a positive int, got {ind!r}")
    rows, cols = shape[:ind], shape[ind:]
    size = int(np.prod(rows, dtype=np.int64))
    if int(np.prod(cols, dtype=np.int64)) != size:
        raise error(name, ValueError, f"the first {ind} axes of shape {shape} hold {size} "
                    f"entries and the others {int(np.prod(cols, dtype=np.int64))}: not square")
    return jnp.reshape(inv(jnp.reshape(a, (size, size))), cols + rows)


def tensorsolve(a: Any, b: Any, axes: Any = None) -> Any:
    """``x`` with ``tensordot(a, x, x.ndim) == b`` (NumPy's): a solve of reshaped arrays."""
    name = _name("tensorsolve")
    a = L.float_array(name, a)
    b = L.float_array(name, b)
    nd = len(a.shape)
    if axes is not None:
        axes = [ax % nd for ax in axes]
        order = [i for i in range(nd) if i not in axes] + list(axes)
        a = jnp.transpose(a, order)
    b_shape = tuple(b.shape)
    x_shape = tuple(a.shape)[len(b_shape):]
    rows = int(np.prod(b_shape, dtype=np.int64))
    cols = int(np.prod(x_shape, dtype=np.int64))
    if tuple(a.shape)[:len(b_shape)] != b_shape or rows != cols:
        raise error(name, ValueError, f"a of shape {tuple(a.shape)} does not make a square "
                    f"system with b of shape {b_shape}")
    return jnp.reshape(solve(jnp.reshape(a, (rows, cols)), jnp.ravel(b)), x_shape)


def multi_dot(arrays: Any, *, out: Any = None) -> Any:
    """The product of a chain of matrices, multiplied in the cheapest order (as NumPy picks).

    The first array may be a vector (a row) and the last one too (a column).
    """
    name = _name("multi_dot")
    if out is not None:
        raise error(name, TypeError, "out= is not supported (results are new arrays)")
    arrays = [operand(x, name) for x in arrays]
    if len(arrays) < 2:
        raise error(name, ValueError, "expects at least two arrays")
    first, last = len(jnp.shape(arrays[0])), len(jnp.shape(arrays[-1]))
    if first == 1:
        arrays[0] = jnp.reshape(arrays[0], (1, -1))
    if last == 1:
        arrays[-1] = jnp.reshape(arrays[-1], (-1, 1))
    for x in arrays:
        if len(jnp.shape(x)) != 2:
            raise error(name, ValueError, f"expects 2-D arrays (the first and last may be "
                        f"1-D), got one of shape {tuple(jnp.shape(x))}")
    result = _chain(arrays, _chain_order([jnp.shape(x) for x in arrays]), 0, len(arrays) - 1)
    if first == 1 and last == 1:
        return jnp.reshape(result, ())
    if first == 1 or last == 1:
        return jnp.reshape(result, (-1,))
    return result


def _chain_order(shapes: list) -> dict:
    """The cheapest split of each sub-chain ``i..j`` (dynamic programming, as NumPy's)."""
    dims = [s[0] for s in shapes] + [shapes[-1][1]]
    n = len(shapes)
    cost = {(i, i): 0 for i in range(n)}
    split: dict = {}
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i, j], split[i, j] = builtins.min(
                (cost[i, k] + cost[k + 1, j] + dims[i] * dims[k + 1] * dims[j + 1], k)
                for k in range(i, j))
    return split


def _chain(arrays: list, split: dict, i: int, j: int) -> Any:
    if i == j:
        return arrays[i]
    k = split[i, j]
    return jnp.matmul(_chain(arrays, split, i, k), _chain(arrays, split, k + 1, j))


# ----- Norms -------------------------------------------------------------------------

def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A002
    """NumPy's vector and matrix norms, every ``ord``, over ``axis`` (None, an int or a pair).

    Vectors: ``None``/2 (Euclidean), ``inf``, ``-inf``, 0 (the count of
    nonzeros), 1, and any other ``p``: ``sum(|x|**p)**(1/p)``. Matrices: ``None``/
    ``"fro"``, ``"nuc"`` (the sum of singular values), ``inf``/``-inf`` (max/min
    row sum), 1/-1 (max/min column sum), 2/-2 (the largest/smallest singular
    value). Traced values take NumPy's own steps, so ``jit`` gives its bits.
    Like JAX's, the 2-norm's gradient at exactly zero is NaN (it has a kink
    there).
    """
    if not isinstance(x, Tracer):
        return call_numpy("linalg.norm", np.linalg.norm, x, ord=ord, axis=axis,
                          keepdims=keepdims)
    name = _name("norm")
    x = L.float_array(name, x)
    ndim = len(x.shape)
    if axis is None and (ord is None or (ord in ("f", "fro") and ndim == 2)
                         or (_is(ord, 2) and ndim == 1)):
        # NumPy's steps, so eager and traced agree to the bit: the flat
        # array's dot product with itself (BLAS sums in its own order).
        flat = jnp.ravel(x)
        out = jnp.sqrt(jnp.dot(flat, flat))
        return jnp.reshape(out, (1,) * ndim) if keepdims else out
    if axis is None:
        axes = tuple(range(ndim))
    elif isinstance(axis, tuple):
        axes = axis
    elif isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
        axes = (int(axis),)
    else:
        raise error(name, TypeError, f"axis must be None, an int or a tuple of ints, got "
                    f"{axis!r:.50}")
    axes = tuple(axis_index("linalg.norm", a, ndim) for a in axes)
    if len(axes) == 1:
        return _vector_norm(name, x, ord, axes, keepdims)
    if len(axes) == 2:
        if axes[0] == axes[1]:
            raise error(name, ValueError, f"duplicate axes given: {axis!r}")
        out = _matrix_norm(name, x, ord, axes)
        if keepdims:
            shape = list(x.shape)
            shape[axes[0]] = shape[axes[1]] = 1
            out = jnp.reshape(out, tuple(shape))
        return out
    raise error(name, ValueError, f"norms are over 1 axis (vectors) or 2 (matrices), got "
                f"axis={axis!r} for an array of {ndim} dimensions")


def _is(ord: Any, value: float) -> bool:  # noqa: A002
    return not isinstance(ord, str) and ord is not None and ord == value


def _vector_norm(name: str, x: Any, ord: Any, axes: tuple, keepdims: bool) -> Any:  # noqa: A002
    if ord is None or _is(ord, 2):
        return jnp.sqrt(jnp.sum(x * x, axis=axes, keepdims=keepdims))
    if isinstance(ord, str):
        raise error(name, ValueError, f"invalid norm order {ord!r} for vectors")
    if _is(ord, np.inf):
        return jnp.max(jnp.abs(x), axis=axes, keepdims=keepdims)
    if _is(ord, -np.inf):
        return jnp.min(jnp.abs(x), axis=axes, keepdims=keepdims)
    if _is(ord, 0):
        return jnp.sum(jnp.astype(x != 0, x.dtype), axis=axes, keepdims=keepdims)
    if _is(ord, 1):
        return jnp.sum(jnp.abs(x), axis=axes, keepdims=keepdims)
    # NumPy: |x| ** ord (a float power, as its in-place **= makes it), summed,
    # then ** (1 / ord) in the result's dtype.
    p = np.asarray(ord, dtype=x.dtype)
    total = jnp.sum(P.pow_p.bind(jnp.abs(x), p), axis=axes, keepdims=keepdims)
    return P.pow_p.bind(total, np.reciprocal(p))


def _matrix_norm(name: str, x: Any, ord: Any, axes: tuple) -> Any:  # noqa: A002
    row, col = axes
    if ord is None or ord in ("f", "fro"):
        return jnp.sqrt(jnp.sum(x * x, axis=axes))
    if ord == "nuc" or _is(ord, 2) or _is(ord, -2):
        moved = jnp.moveaxis(x, axes, (-2, -1))
        s = svd(moved, compute_uv=False)
        if ord == "nuc":
            return jnp.sum(s, axis=-1)
        return jnp.max(s, axis=-1) if _is(ord, 2) else jnp.min(s, axis=-1)
    for value, summed, kept, pick in ((1, row, col, jnp.max), (-1, row, col, jnp.min),
                                      (np.inf, col, row, jnp.max),
                                      (-np.inf, col, row, jnp.min)):
        if _is(ord, value):
            # NumPy's order: the sums of |x| along one axis, then their max or min.
            return pick(jnp.sum(jnp.abs(x), axis=summed), axis=kept - (kept > summed))
    raise error(name, ValueError, f"invalid norm order {ord!r} for matrices")



# ----- The Array API names (the scipy-stats branch's section) ----------------------------

def matrix_norm(x: Any, /, *, keepdims: bool = False, ord: Any = "fro") -> Any:  # noqa: A002
    """The norm of each matrix on the last two axes (``norm(x, ord, axis=(-2, -1))``).

    >>> print(matrix_norm(np.array([[3.0, 0.0], [0.0, 4.0]])))
    5.0
    """
    if len(np.shape(x) if not isinstance(x, Tracer) else x.shape) < 2:
        raise error(_name("matrix_norm"), ValueError, "x must have at least 2 dimensions, got "
                    f"shape {np.shape(x) if not isinstance(x, Tracer) else x.shape}")
    return norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


def vector_norm(x: Any, /, *, axis: Any = None, keepdims: bool = False,
                ord: Any = 2) -> Any:  # noqa: A002
    """The vector norm over ``axis`` (all axes, the array taken as one vector, when None).

    >>> print(vector_norm(np.array([[3.0], [4.0]])))
    5.0
    """
    if axis is None:
        x = operand(x, "linalg.vector_norm")
        shape = np.shape(x) if not isinstance(x, Tracer) else x.shape
        out = norm(jnp.ravel(x), ord=ord)
        return jnp.reshape(out, (1,) * len(shape)) if keepdims else out
    return norm(x, ord=ord, axis=axis, keepdims=keepdims)


def vecdot(x1: Any, x2: Any, /, *, axis: int = -1, precision: Any = None,
           preferred_element_type: Any = None) -> Any:
    """The dot product of vectors along ``axis``, other axes broadcast (``jnp.vecdot``)."""
    return jnp.vecdot(x1, x2, axis=axis, precision=precision,
                      preferred_element_type=preferred_element_type)


def trace(x: Any, /, *, offset: int = 0, dtype: Any = None) -> Any:
    """The trace of each matrix on the last two axes.

    >>> print(trace(np.arange(4.0).reshape(2, 2)))
    3.0
    """
    out = jnp.trace(x, offset=offset, axis1=-2, axis2=-1)
    return out if dtype is None else jnp.astype(out, dtype)


def tensordot(x1: Any, x2: Any, /, *, axes: Any = 2, precision: Any = None,
              preferred_element_type: Any = None) -> Any:
    """``jnp.tensordot`` with the Array API's keyword-only ``axes``."""
    return jnp.tensordot(x1, x2, axes, precision=precision,
                         preferred_element_type=preferred_element_type)


def outer(x1: Any, x2: Any, /) -> Any:
    """The outer product of two 1-D arrays (which, unlike ``jnp.outer``, must be 1-D)."""
    for x in (x1, x2):
        shape = x.shape if isinstance(x, Tracer) else np.shape(operand(x, "linalg.outer"))
        if len(shape) != 1:
            raise error(_name("outer"), ValueError, f"the arguments must be 1-D, got shape "
                        f"{tuple(shape)}")
    return jnp.outer(x1, x2)


def matrix_transpose(x: Any, /) -> Any:
    """The last two axes swapped."""
    return jnp.matrix_transpose(x)


def matmul(x1: Any, x2: Any, /, *, precision: Any = None,
           preferred_element_type: Any = None) -> Any:
    """``x1 @ x2`` (``jnp.matmul``)."""
    out = jnp.matmul(x1, x2)
    return out if preferred_element_type is None else jnp.astype(out, preferred_element_type)


def diagonal(x: Any, /, *, offset: int = 0) -> Any:
    """The diagonal of each matrix on the last two axes."""
    return jnp.diagonal(x, offset=offset, axis1=-2, axis2=-1)


def cross(x1: Any, x2: Any, /, *, axis: int = -1) -> Any:
    """The cross product of 3-vectors along ``axis`` (both must have 3 entries there)."""
    for x in (x1, x2):
        shape = x.shape if isinstance(x, Tracer) else np.shape(operand(x, "linalg.cross"))
        ax = axis_index("linalg.cross", axis, len(shape)) if len(shape) else None
        if ax is None or shape[ax] != 3:
            raise error(_name("cross"), ValueError, f"the arguments must have 3 entries along "
                        f"axis {axis}, got shape {tuple(shape)}")
    return jnp.cross(x1, x2, axis=axis)


def cond(x: Any, p: Any = None) -> Any:
    """The condition number: ``s_max / s_min`` (``p`` None or 2), else
    ``norm(x, p) * norm(inv(x), p)``; inf for a singular matrix.

    >>> print(cond(np.array([[2.0, 0.0], [0.0, 0.5]])))
    4.0
    """
    if p is None or _is(p, 2) or _is(p, -2):
        s = svd(x, compute_uv=False)
        big, small = s[..., 0], s[..., -1]
        return small / big if _is(p, -2) else big / small
    x = _matrix("cond", x)
    # NumPy's convention: a singular matrix has an infinite condition number.
    ok = jnp.isfinite(jnp.sum(jnp.abs(x), axis=(-2, -1)))
    singular = jnp.abs(det(x)) == 0
    safe = jnp.where(jnp.expand_dims(singular, (-2, -1)), jnp.eye(x.shape[-1], dtype=x.dtype), x)
    out = norm(x, ord=p, axis=(-2, -1)) * norm(inv(safe), ord=p, axis=(-2, -1))
    return jnp.where(jnp.logical_and(singular, ok), np.inf, out)


def eig(a: Any) -> EigResult:
    """``(eigenvalues, eigenvectors)`` of general square matrices, complex (as in JAX),
    ``a @ v[:, i] = w[i] * v[:, i]``.

    Values only: works eagerly and under ``jit`` and ``vmap``, but refuses
    differentiation (nanojax has no complex derivatives; ``eigh`` has them).

    >>> w, v = eig(np.array([[0.0, -1.0], [1.0, 0.0]]))     # a rotation: +-i
    >>> w
    array([0.+1.j, 0.-1.j])
    """
    w, v = P.eig_p.bind(_matrix("eig", a), compute_right_eigenvectors=True)
    return EigResult(w, v)


def eigvals(a: Any) -> Any:
    """The eigenvalues of general square matrices, complex (see ``eig``)."""
    (w,) = P.eig_p.bind(_matrix("eigvals", a), compute_right_eigenvectors=False)
    return w


from nanojax.array import export as _export_arrays  # noqa: E402

_export_arrays(globals())   # the public face hands out arrays with JAX's methods
