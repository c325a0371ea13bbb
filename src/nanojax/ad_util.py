"""Values both derivative interpreters hand back: zeros, constants, matched dtypes.

The tape (``tape.py``) and forward mode (``forward.py``) both return a
derivative per input or output, made to look like the value it belongs to,
and both let a gate with no derivative leave the trace as a NumPy value.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nanojax import primitives as P
from nanojax.core import ZERO, Tracer
from nanojax.dtypes import PY_TO_NUMPY

__all__ = ["as_constant", "zeros_like", "match_input"]


def as_constant(ans: Any) -> Any:
    """A gate's constant result (no derivative): a Python number as NumPy's scalar.

    Under JAX it would be a traced array; here it leaves the trace, but it
    keeps array methods (``(x > 0).astype(float)``, ``(x ** 0).reshape(1)``).
    """
    to_numpy = PY_TO_NUMPY.get(type(ans))
    return ans if to_numpy is None else to_numpy(ans)


_FLOAT_ZERO = np.float64(0.0)      # NumPy scalars are immutable: one can be shared


def zeros_like(x: Any) -> Any:
    """A materialized zero shaped and typed like ``x`` (a NumPy scalar for a scalar)."""
    if type(x) is float or type(x) is np.float64:
        return _FLOAT_ZERO
    shape, dtype = P.shape_of(x), P.dtype_of(x)
    return np.zeros(shape, dtype) if shape else np.zeros((), dtype)[()]


def match_input(ct: Any, x: Any) -> Any:
    """A derivative for ``x``: its dtype, in writeable memory, a zero materialized."""
    if ct is ZERO:
        return zeros_like(x)
    if type(ct) is np.float64 and (type(x) is float or type(x) is np.float64):
        return ct                                   # the scalar circuits' common case
    dtype = P.dtype_of(x)
    if not isinstance(ct, Tracer):
        if isinstance(ct, np.ndarray):
            if ct.dtype != dtype or not ct.flags.writeable:
                ct = ct.astype(dtype)
        elif type(ct) is not dtype.type:
            ct = dtype.type(ct)
    elif ct.dtype != dtype:
        ct = P.convert_element_type(ct, dtype)
    return ct
