"""``eig``: the eigenvalues and right eigenvectors of general square matrices.

NumPy's LAPACK call, its results always complex (as JAX's: NumPy gives a
real array when every eigenvalue happens to be real, which would make the
output type depend on the values). nanojax does not differentiate complex
numbers, so both derivative rules refuse with a sentence.
"""

from __future__ import annotations

import numpy as np

from nanojax.core import Primitive, ShapedArray
from nanojax.primitives.base import _register, move_to_front

__all__ = ["eig_p"]


def _complex_of(dtype: np.dtype) -> np.dtype:
    return np.dtype(np.complex64) if dtype == np.float32 else np.dtype(np.complex128)


def _eig_impl(a, *, compute_right_eigenvectors):
    dtype = _complex_of(np.result_type(a))
    if not compute_right_eigenvectors:
        return [np.linalg.eigvals(a).astype(dtype)]
    w, v = np.linalg.eig(a)
    return [w.astype(dtype), v.astype(dtype)]


def _eig_aval(a, *, compute_right_eigenvectors):
    dtype = _complex_of(a.dtype)
    w = ShapedArray(a.shape[:-1], dtype)
    return [w, ShapedArray(a.shape, dtype)] if compute_right_eigenvectors else [w]


def _refuse(*_, **__):
    raise TypeError("nanojax.numpy.linalg.eig: eigenvalues of a general matrix are complex, "
                    "and nanojax does not differentiate complex numbers; for symmetric "
                    "matrices use eigh, which differentiates")


def _eig_batch(size, vals, dims, **params):
    out = eig_p.bind(move_to_front(vals[0], dims[0], size), **params)
    return out, [0] * len(out)


eig_p: Primitive = _register(Primitive(
    "eig", _eig_impl, _eig_aval, jvp=_refuse, vjp_args=(_refuse,),
    batch=_eig_batch, multiple_results=True, may_alias=False))
