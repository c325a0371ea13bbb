"""``nanojax.scipy.linalg``: SciPy's linear algebra as JAX offers it, differentiable.

Written on the primitives of ``nanojax.lax.linalg`` (no SciPy needed).
SciPy's conventions hold: ``cholesky`` returns the *upper* factor unless
``lower=True``, a factorization reads only the triangle it is told to
(and so differentiates only through it), and ``lu_factor``'s pivots are
JAX's (int32, 0-based row swaps).

Gaussian-process regression, the negative log marginal likelihood of
data ``y`` under an RBF kernel, differentiated with respect to the log
hyperparameters (``examples/gaussian_process.py`` trains it):

    >>> import numpy as np
    >>> import nanojax as nj
    >>> import nanojax.numpy as jnp
    >>> from nanojax.scipy.linalg import cholesky, solve_triangular
    >>> x = np.linspace(0.0, 3.0, 8)
    >>> y = np.sin(2.0 * x)
    >>> def nll(log_params):
    ...     lengthscale, signal, noise = jnp.exp(log_params)
    ...     k = signal * jnp.exp(-0.5 * ((x[:, None] - x[None, :]) / lengthscale) ** 2)
    ...     l = cholesky(k + noise * jnp.eye(len(x)), lower=True)
    ...     alpha = solve_triangular(l, y, lower=True)
    ...     return (0.5 * jnp.dot(alpha, alpha) + jnp.sum(jnp.log(jnp.diagonal(l)))
    ...             + 0.5 * len(x) * np.log(2 * np.pi))
    >>> g = nj.grad(nll)(np.log(np.array([1.0, 1.0, 0.1])))
    >>> np.allclose(g, nj.numerical_grad(nll)(np.log(np.array([1.0, 1.0, 0.1]))))
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax import lax_linalg as L
from nanojax import primitives as P
from nanojax.core import Tracer
from nanojax.numpy._args import error

__all__ = ["cho_factor", "cho_solve", "cholesky", "det", "expm", "inv", "lu", "lu_factor",
           "lu_solve", "solve", "solve_triangular"]


def _name(fn: str) -> str:
    return f"nanojax.scipy.linalg.{fn}"


def _lower_of(a: Any, lower: bool) -> Any:
    """The symmetric matrix SciPy factors: the ``lower`` (or upper) triangle of ``a``, mirrored."""
    return L.symmetric_from_lower(a if lower else L.mT(a))


def cholesky(a: Any, lower: bool = False, overwrite_a: bool = False,
             check_finite: bool = True) -> Any:
    """The Cholesky factor of ``a``: upper (``a = U.T @ U``) by default, as in SciPy.

    Only the triangle named by ``lower`` is read. A matrix that is not
    positive definite factors to NaNs (as in JAX), rather than raising.

    >>> cholesky(np.array([[4.0, 2.0], [2.0, 2.0]]))
    array([[2., 1.],
           [0., 1.]])
    """
    a = L.float_matrix(_name("cholesky"), a)
    factor = P.cholesky_p.bind(_lower_of(a, lower))
    return factor if lower else L.mT(factor)


def cho_factor(a: Any, lower: bool = False, overwrite_a: bool = False,
               check_finite: bool = True) -> tuple[Any, bool]:
    """``(c, lower)`` for ``cho_solve``: ``c`` is the factor, zeros in its other triangle."""
    a = L.float_matrix(_name("cho_factor"), a)
    factor = P.cholesky_p.bind(_lower_of(a, lower))
    return (factor if lower else L.mT(factor)), bool(lower)


def _rhs(name: str, a: Any, b: Any) -> tuple[Any, Any, bool]:
    """``b`` as a stack of matrices matching ``a``'s batch (vector: one column), and a flag
    saying it was a vector (``b.ndim == a.ndim - 1``, as JAX reads it)."""
    b = L.float_array(name, b)
    n = a.shape[-1]
    vector = len(b.shape) == len(a.shape) - 1
    if len(b.shape) == 0 or b.shape[-1 if vector else -2] != n:
        raise error(name, ValueError, f"b of shape {tuple(b.shape)} does not match a of shape "
                    f"{tuple(a.shape)}: it needs {n} rows")
    a, b = L.same_dtype(a, b)
    if vector:
        b = jnp.expand_dims(b, -1)
    try:
        batch = tuple(np.broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2])))
    except ValueError:
        raise error(name, ValueError, f"the batch dimensions of shapes {tuple(a.shape)} and "
                    f"{tuple(b.shape)} do not broadcast") from None
    a = jnp.broadcast_to(a, batch + tuple(a.shape[-2:]))
    b = jnp.broadcast_to(b, batch + tuple(b.shape[-2:]))
    return a, b, vector


def _trans(name: str, trans: Any) -> bool:
    if trans in (0, "N"):
        return False
    if trans in (1, 2, "T", "C"):              # real matrices: C is T
        return True
    raise error(name, ValueError, f"trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}")


def solve_triangular(a: Any, b: Any, trans: Any = 0, lower: bool = False,
                     unit_diagonal: bool = False, overwrite_b: bool = False,
                     debug: Any = None, check_finite: bool = True) -> Any:
    """``x`` with ``op(a) @ x = b``, reading only the ``lower`` (default: upper) triangle of ``a``.

    ``trans`` 0/'N': ``op(a) = a``; 1/'T' (or 2/'C'): its transpose. ``b``
    is a vector or a matrix (or stacks of them, batch axes broadcasting).
    """
    name = _name("solve_triangular")
    a = L.float_matrix(name, a)
    a, b, vector = _rhs(name, a, b)
    x = P.triangular_solve_p.bind(a, b, left_side=True, lower=bool(lower),
                                  transpose_a=_trans(name, trans), conjugate_a=False,
                                  unit_diagonal=bool(unit_diagonal))
    return x[..., 0] if vector else x


def cho_solve(c_and_lower: tuple[Any, bool], b: Any, overwrite_b: bool = False,
              check_finite: bool = True) -> Any:
    """``x`` with ``a @ x = b``, from ``cho_factor(a)``: two triangular solves."""
    name = _name("cho_solve")
    c, lower = c_and_lower
    c = L.float_matrix(name, c)
    c, b, vector = _rhs(name, c, b)
    params = dict(left_side=True, lower=bool(lower), conjugate_a=False, unit_diagonal=False)
    # lower: L L^T x = b; upper: U^T U x = b.
    y = P.triangular_solve_p.bind(c, b, transpose_a=not lower, **params)
    x = P.triangular_solve_p.bind(c, y, transpose_a=bool(lower), **params)
    return x[..., 0] if vector else x


def lu_factor(a: Any, overwrite_a: bool = False, check_finite: bool = True) -> tuple[Any, Any]:
    """``(lu, piv)``: the packed LU factors and the row swaps (int32, 0-based), as in JAX."""
    a = L.float_matrix(_name("lu_factor"), a, square=False)
    lu_, pivots, _ = P.lu_p.bind(a)
    return lu_, pivots


def _permutation_matrix(perm: Any, dtype: Any) -> Any:
    """``P`` with ``P @ b == b[perm]`` (one-hot rows; indices carry no derivative)."""
    m = perm.shape[-1]
    return P.convert_element_type(P.eq(jnp.expand_dims(perm, -1), np.arange(m, dtype=np.int32)),
                                  dtype)


def lu_solve(lu_and_piv: tuple[Any, Any], b: Any, trans: Any = 0, overwrite_b: bool = False,
             check_finite: bool = True) -> Any:
    """``x`` with ``op(a) @ x = b``, from ``lu_factor(a)`` (``trans``: see ``solve_triangular``)."""
    name = _name("lu_solve")
    lu_, piv = lu_and_piv
    lu_ = L.float_matrix(name, lu_)
    perm = L.lu_pivots_to_permutation(piv, lu_.shape[-1])
    lu_, b, vector = _rhs(name, lu_, b)
    p = _permutation_matrix(jnp.broadcast_to(perm, tuple(lu_.shape[:-1])), lu_.dtype)
    params = dict(left_side=True, conjugate_a=False)
    if not _trans(name, trans):
        # P a = L U:  a x = b  is  L U x = P b.
        y = P.triangular_solve_p.bind(lu_, jnp.matmul(p, b), lower=True, transpose_a=False,
                                      unit_diagonal=True, **params)
        x = P.triangular_solve_p.bind(lu_, y, lower=False, transpose_a=False,
                                      unit_diagonal=False, **params)
    else:
        # a^T x = b  is  U^T L^T P x = b.
        y = P.triangular_solve_p.bind(lu_, b, lower=False, transpose_a=True,
                                      unit_diagonal=False, **params)
        y = P.triangular_solve_p.bind(lu_, y, lower=True, transpose_a=True,
                                      unit_diagonal=True, **params)
        x = jnp.matmul(L.mT(p), y)
    return x[..., 0] if vector else x


def lu(a: Any, permute_l: bool = False, overwrite_a: bool = False, check_finite: bool = True
       ) -> tuple[Any, ...]:
    """``(p, l, u)`` with ``a = p @ l @ u``; with ``permute_l``, ``(p @ l, u)``.

    ``l`` is unit lower triangular (m x k) and ``u`` upper (k x n), k = min(m, n).
    """
    a = L.float_matrix(_name("lu"), a, square=False)
    lu_, _, perm = P.lu_p.bind(a)
    m, n = a.shape[-2:]
    k = min(m, n)
    l_ = L.tril(lu_[..., :, :k], -1) + np.eye(m, k, dtype=a.dtype)
    u = L.triu(lu_[..., :k, :])
    p = L.mT(_permutation_matrix(perm, a.dtype))
    return (jnp.matmul(p, l_), u) if permute_l else (p, l_, u)


def solve(a: Any, b: Any, lower: bool = False, overwrite_a: bool = False,
          overwrite_b: bool = False, check_finite: bool = True, assume_a: str = "gen") -> Any:
    """``x`` with ``a @ x = b``. ``assume_a="pos"`` solves by Cholesky (reading the ``lower``
    or upper triangle); ``"gen"``, ``"sym"`` and ``"her"`` by LU, as JAX does."""
    name = _name("solve")
    if assume_a not in ("gen", "sym", "her", "pos"):
        raise error(name, ValueError, f"assume_a must be 'gen', 'sym', 'her' or 'pos', got "
                    f"{assume_a!r}")
    a = L.float_matrix(name, a)
    if assume_a == "pos":
        return cho_solve(cho_factor(a, lower=lower), b)
    a, b2, vector = _rhs(name, a, b)
    x = P.solve_p.bind(a, b2)
    return x[..., 0] if vector else x


def inv(a: Any, overwrite_a: bool = False, check_finite: bool = True) -> Any:
    """The inverse of each square matrix (see ``nanojax.numpy.linalg.inv``)."""
    return P.inv_p.bind(L.float_matrix(_name("inv"), a))


def det(a: Any, overwrite_a: bool = False, check_finite: bool = True) -> Any:
    """The determinant of each square matrix (see ``nanojax.numpy.linalg.det``)."""
    return P.det_p.bind(L.float_matrix(_name("det"), a))


# ----- expm: scaling and squaring with a Pade approximant ---------------------------

# The degree-13 Pade coefficients and the largest 1-norm each degree is
# accurate to in float64 (Higham 2005, "The scaling and squaring method for
# the matrix exponential revisited").
_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0,
           1187353796428800.0, 129060195264000.0, 10559470521600.0, 670442572800.0,
           33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def expm(A: Any, *, upper_triangular: bool = False, max_squarings: int = 16) -> Any:
    """The matrix exponential, by scaling and squaring with the degree-13 Pade approximant.

    ``A / 2**s`` (``s`` from the 1-norm, so that it is below 5.37) gets the
    approximant, which is then squared ``s`` times. Written with ``jnp``, so
    it differentiates; under ``jit`` (where ``s`` is not known) it squares
    ``max_squarings`` times and keeps the ``s``-th square, as JAX does.

    >>> np.allclose(expm(np.array([[0.0, 1.0], [-1.0, 0.0]])),
    ...             [[np.cos(1), np.sin(1)], [-np.sin(1), np.cos(1)]])
    True
    """
    name = _name("expm")
    A = L.float_matrix(name, A)
    n = A.shape[-1]
    norm1 = jnp.max(jnp.sum(jnp.abs(A), axis=-2), axis=-1)
    # ceil(log2(norm1 / theta)), capped: the count of i with 2**i below the ratio.
    ratio = norm1 / _THETA13
    squarings = sum(jnp.astype(ratio > 2.0 ** i, A.dtype) for i in range(int(max_squarings)))
    scale = jnp.expand_dims(jnp.expand_dims(2.0 ** squarings, -1), -1)
    scaled = A / scale
    eye = np.eye(n, dtype=A.dtype)
    a2 = jnp.matmul(scaled, scaled)
    a4 = jnp.matmul(a2, a2)
    a6 = jnp.matmul(a4, a2)
    b = _PADE13
    u = jnp.matmul(scaled, jnp.matmul(a6, b[13] * a6 + b[11] * a4 + b[9] * a2)
                   + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye)
    v = (jnp.matmul(a6, b[12] * a6 + b[10] * a4 + b[8] * a2)
         + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye)
    result = P.solve_p.bind(v - u, v + u)
    # Square each matrix its own number of times: as many steps as the
    # largest count (all max_squarings under jit, where it is not known),
    # each kept only where the matrix needs it.
    known = _concrete(squarings)
    steps = int(max_squarings) if known is None else int(np.max(known, initial=0))
    for i in range(steps):
        result = jnp.where(jnp.expand_dims(jnp.expand_dims(squarings > i, -1), -1),
                           jnp.matmul(result, result), result)
    return result


def _concrete(x: Any) -> Any:
    """``x``'s value if it is known here (eagerly, or under grad), else None."""
    if not isinstance(x, Tracer):
        return x
    try:
        return x.to_concrete_value("expm's number of squarings")
    except Exception:  # noqa: BLE001 - abstract under jit/vmap: not known
        return None


from nanojax.array import export as _export_arrays  # noqa: E402

_export_arrays(globals())   # the public face hands out arrays with JAX's methods
