"""Polynomial roots and long division: ``roots`` and ``polydiv``, with JAX's keywords.

``roots`` is the eigenvalues of the companion matrix (as NumPy's). Dropping
leading zero coefficients changes the output's length, so it needs concrete
values: under ``jit`` pass ``strip_zeros=False``, and each leading zero
then stands for a root at infinity, reported as NaN (as in JAX).
``polydiv`` is long division with the remainder kept at ``u``'s length (JAX's
shape, so that it traces); ``trim_leading_zeros=True`` drops its leading
near-zeros as NumPy does (concrete values only).

Examples:
    >>> import numpy as np
    >>> import nanojax.numpy as jnp
    >>> jnp.roots(np.array([1.0, -3.0, 2.0]))
    array([2., 1.])
    >>> jnp.roots(np.array([0.0, 1.0, -3.0, 2.0]), strip_zeros=False)
    array([ 1. +0.j,  2. +0.j, nan+nanj])
    >>> q, r = jnp.polydiv(np.array([1.0, 0.0, -1.0]), np.array([1.0, 1.0]))
    >>> q, r
    (array([ 1., -1.]), array([0., 0., 0.]))
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax.core import Tracer
from nanojax.numpy._args import call_numpy, error, has_tracer, operand

__all__ = ["polydiv", "roots"]


def _coefficients(name: str, p: Any) -> Any:
    p = operand(p, name)
    kind = jnp.result_type(p).kind
    if kind == "c" and isinstance(p, Tracer):
        raise error(name, TypeError, "complex traced coefficients are not supported")
    if kind not in "iubfc":
        raise error(name, TypeError, f"expected numeric coefficients, got {jnp.result_type(p)}")
    p = jnp.atleast_1d(p)
    if jnp.ndim(p) != 1:
        raise error(name, ValueError, f"Input must be a rank-1 array, got shape {jnp.shape(p)}")
    return p if kind in "fc" else jnp.astype(p, np.float64)


def _companion_eigenvalues(p: Any) -> Any:
    """The roots of ``p`` (no leading zero): eigenvalues of its companion matrix."""
    n = p.shape[0]
    first_row = jnp.reshape(-p[1:] / p[0], (1, n - 1))
    below = np.eye(n - 2, n - 1, dtype=jnp.result_type(p))
    return jnp.linalg.eigvals(jnp.concatenate([first_row, below], axis=0))


def roots(p: Any, *, strip_zeros: bool = True) -> Any:
    """The roots of the polynomial with coefficients ``p`` (highest power first), complex.

    ``strip_zeros=True`` (NumPy's behaviour) needs concrete ``p``; with
    ``strip_zeros=False`` the output has ``len(p) - 1`` entries, a NaN for each
    leading zero, and the function traces under ``jit`` and ``vmap``. Not
    differentiable (nanojax has no complex derivatives).
    """
    name = "roots"
    if strip_zeros:
        if has_tracer(p):
            raise error(name, TypeError, "p is traced, and stripping its leading zeros "
                        "changes the output's shape; pass strip_zeros=False to trace roots")
        return call_numpy(name, np.roots, p)
    p = _coefficients(name, p)
    n = p.shape[0]
    complex_dtype = np.result_type(jnp.result_type(p), np.complex64)
    if n < 2:
        return np.zeros(0, complex_dtype)
    is_zero = p == 0
    leading = jnp.where(jnp.all(is_zero), n, jnp.argmin(is_zero))
    # An all-zero p would make a matrix of NaNs; any finite p gives the same NaN answer.
    p = jnp.where(leading == n, 1.0, p)
    # Leading zeros rotated to the end become trailing zeros: roots at 0, which the
    # stable sort moves last and NaN then replaces.
    rotated = jnp.take(p, (np.arange(n) + leading) % n)
    found = _companion_eigenvalues(rotated)
    found = jnp.take(found, jnp.argsort(jnp.astype(found == 0, np.int8), stable=True))
    keep = np.arange(n - 1) < (n - 1) - leading
    return jnp.where(keep, found, np.array(complex(np.nan, np.nan), complex_dtype))


def polydiv(u: Any, v: Any, *, trim_leading_zeros: bool = False) -> tuple[Any, Any]:
    """``(q, r)`` with ``u = q * v + r``: the quotient and remainder of two polynomials.

    ``r`` has ``len(u)`` coefficients (its leading ones zero up to rounding)
    unless ``trim_leading_zeros``, which needs concrete values.
    """
    name = "polydiv"
    u, v = _coefficients(name, u), _coefficients(name, v)
    dtype = jnp.result_type(u, v)
    u, v = jnp.astype(u, dtype), jnp.astype(v, dtype)
    m, n = u.shape[0] - 1, v.shape[0] - 1
    scale = 1.0 / v[0]
    quotient = []
    r = u
    for k in range(m - n + 1):
        d = scale * r[k]
        quotient.append(d)
        r = jnp.concatenate([r[:k], r[k:k + n + 1] - d * v, r[k + n + 1:]])
    q = jnp.stack(quotient) if quotient else np.zeros(1, dtype)
    if trim_leading_zeros:
        if has_tracer(r):
            raise error(name, TypeError, "trim_leading_zeros=True needs concrete values (the "
                        "remainder's length depends on them)")
        r = np.asarray(r)
        tol = np.sqrt(np.finfo(dtype).eps)
        big = np.flatnonzero(np.abs(r) >= tol)
        r = r[big[0]:] if big.size else r[-1:]
    return q, r
