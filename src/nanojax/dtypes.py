"""Python scalar types and the NumPy types they stand for: one table for everyone.

A Python number is a valid array value: ``3.0`` is an f64 scalar, ``3`` an
i64, ``True`` a bool, as NumPy makes them. Scalar circuits run fastest on
Python floats, so the interpreters keep them as they are and ask these tables
what they stand for. This module imports nothing of nanojax's, so the data
model (``core``) can read it as well as the transformations (``api_util``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["F64", "I64", "BOOL", "C128", "PY_SCALAR_DTYPES", "PY_TO_NUMPY", "PY_NUMBERS",
           "FLOAT_SCALARS", "SCALAR_TYPES", "NUMERIC_KINDS", "float0"]

F64, I64, BOOL, C128 = (np.dtype(np.float64), np.dtype(np.int64), np.dtype(np.bool_),
                        np.dtype(np.complex128))

# The dtype NumPy gives each Python number (all but bool are weakly typed).
PY_SCALAR_DTYPES = {float: F64, int: I64, bool: BOOL, complex: C128}
# Each Python number's NumPy scalar type, for a result that must be NumPy's.
PY_TO_NUMPY = {float: np.float64, int: np.int64, bool: np.bool_, complex: np.complex128}
PY_NUMBERS = frozenset(PY_SCALAR_DTYPES)
# Float64 scalars, whose shape and dtype need no asking: the scalar hot path.
FLOAT_SCALARS = frozenset({float, np.float64})
# Argument types whose abstract value the type alone fixes (jit's cache key).
SCALAR_TYPES = PY_NUMBERS | {np.float64, np.float32, np.int64, np.int32, np.bool_,
                             np.complex128}
# dtype.kind of the numbers: bool, signed and unsigned int, float, complex.
NUMERIC_KINDS = frozenset("biufc")
# JAX's dtype of the gradient of an integer input (``grad(..., allow_int=True)``):
# no values at all, zero bytes per element.
float0 = np.dtype([("float0", np.void, 0)])
