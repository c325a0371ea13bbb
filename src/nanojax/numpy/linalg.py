"""``nanojax.numpy.linalg``: the vector and matrix norms, from primitives.

Examples:
    >>> import nanojax as nj
    >>> import nanojax.numpy as jnp
    >>> print(jnp.linalg.norm(jnp.array([3.0, 4.0])))
    5.0
    >>> nj.grad(jnp.linalg.norm)(jnp.array([3.0, 4.0]))      # x / |x|
    array([0.6, 0.8])
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax.core import Tracer
from nanojax.numpy._args import call_numpy

__all__ = ["norm"]


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A002
    """The 2-norm of a vector, or the Frobenius norm of a matrix or of all of ``x``.

    ``ord`` may be None, 2 (vectors), or "fro" (matrices); other norms raise.
    Like JAX's, its gradient at exactly zero is NaN (the 2-norm has a kink there).
    """
    if not isinstance(x, Tracer):
        return call_numpy("linalg.norm", np.linalg.norm, x, ord=ord, axis=axis,
                          keepdims=keepdims)
    ndim = len(jnp.shape(x))
    axes = tuple(range(ndim)) if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
    vector_2 = ord in (None, 2) and len(axes) == 1
    frobenius = ord in (None, "fro") and (len(axes) == 2 or axis is None)
    if not (vector_2 or frobenius):
        raise NotImplementedError(f"nanojax.numpy.linalg.norm: ord={ord!r} over {len(axes)} "
                                  "axes is not supported on traced values; use the 2-norm "
                                  "or Frobenius norm, or write it with jnp")
    if axis is None:
        # NumPy's steps, so eager and traced agree to the bit: the flat
        # array's dot product with itself (BLAS sums in its own order).
        flat = jnp.ravel(x)
        out = jnp.sqrt(jnp.dot(flat, flat))
        return jnp.reshape(out, (1,) * ndim) if keepdims else out
    return jnp.sqrt(jnp.sum(x * x, axis=axes, keepdims=keepdims))
