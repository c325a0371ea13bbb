"""Dtypes and the functions about them, NumPy's own; and NumPy's printing
options and ``save``/``load``.

The functions that look at values (``result_type``, ``finfo``, ``isscalar``,
``iterable``...) take traced values too: a tracer stands for its dtype and
shape. JAX's dtypes that NumPy has no type for (``bfloat16``, the float8s,
``int4``) are refused by name with a sentence, not a bare AttributeError.

Examples:
    >>> import nanojax.numpy as jnp
    >>> jnp.result_type(jnp.float32, 1.0), jnp.issubdtype(jnp.int32, jnp.integer)
    (dtype('float32'), True)
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np
from numpy import (bool_, can_cast, cdouble, character, complex64, complex128,
                   complexfloating, csingle, double, flexible, floating, generic,
                   get_printoptions, inexact, int_, integer, number, printoptions,
                   set_printoptions, signedinteger, single, uint, uint16, uint32, uint64,
                   unsignedinteger)

from nanojax.core import Tracer

__all__ = [
    "bool", "can_cast", "cdouble", "character", "complex128", "complex64", "complex_",
    "complexfloating", "csingle", "double", "finfo", "flexible", "float_", "floating",
    "generic", "get_printoptions", "iinfo", "inexact", "int_", "integer", "isdtype",
    "isscalar", "issubdtype", "iterable", "load", "number", "printoptions", "promote_types",
    "result_type", "save", "set_printoptions", "signedinteger", "single", "uint", "uint16",
    "uint32", "uint64", "unsignedinteger",
]

bool = bool_  # noqa: A001 - JAX's name for NumPy's bool_
float_ = np.float64
complex_ = np.complex128

# JAX's dtypes that NumPy has no type for (ml_dtypes provides them to JAX).
_ABSENT = ("bfloat16", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2", "float8_e5m2fnuz",
           "float8_e4m3b11fnuz", "float8_e3m4", "float8_e4m3", "float8_e8m0fnu", "float4_e2m1fn",
           "int2", "int4", "uint2", "uint4")


def __getattr__(name: str) -> Any:
    """``jnp.bfloat16`` and the other dtypes NumPy lacks: a sentence saying so."""
    if name in _ABSENT:
        raise AttributeError(f"nanojax.numpy.{name}: nanojax computes with NumPy, which has "
                             f"no {name} type; use float32 or float64")
    raise AttributeError(f"module 'nanojax.numpy' has no attribute {name!r}")


def _dtype_like(x: Any) -> Any:
    """A traced value as its dtype; anything else as it is (NumPy judges it)."""
    return x.dtype if isinstance(x, Tracer) else x


def _of_value(x: Any) -> Any:
    """An array's (or tracer's) dtype; a dtype or type as it is."""
    return x.dtype if isinstance(x, (np.ndarray, np.generic, Tracer)) else x


def _named(name: str, fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except (TypeError, ValueError) as err:
        raise type(err)(f"nanojax.numpy.{name}: {err}") from None


def result_type(*arrays_and_dtypes: Any) -> np.dtype:
    """The dtype NumPy's promotion gives these arrays, numbers and dtypes."""
    return _named("result_type", np.result_type, *map(_dtype_like, arrays_and_dtypes))


def promote_types(type1: Any, type2: Any) -> np.dtype:
    """The smallest dtype both convert to safely."""
    return _named("promote_types", np.promote_types, type1, type2)


def issubdtype(arg1: Any, arg2: Any) -> builtins.bool:
    """Whether ``arg1`` is ``arg2`` or below it in NumPy's type tree."""
    return _named("issubdtype", np.issubdtype, _dtype_like(arg1), _dtype_like(arg2))


def isdtype(dtype: Any, kind: Any) -> builtins.bool:
    """The array API's test: ``kind`` a dtype, a name ('real floating', 'integral'...)
    or a tuple of them."""
    return _named("isdtype", np.isdtype, np.dtype(_dtype_like(dtype)), kind)


def finfo(dtype: Any) -> np.finfo:
    """Machine limits of a float dtype (or of a float array's, traced too)."""
    return _named("finfo", np.finfo, _of_value(dtype))


def iinfo(int_type: Any) -> np.iinfo:
    """Machine limits of an integer dtype (or of an integer array's)."""
    return _named("iinfo", np.iinfo, _of_value(int_type))


def isscalar(element: Any) -> builtins.bool:
    """As JAX: a Python or NumPy scalar, or a zero-dimensional array (traced too)."""
    if isinstance(element, (np.ndarray, Tracer)):
        return element.ndim == 0
    return builtins.bool(np.isscalar(element))


def iterable(y: Any) -> builtins.bool:
    """Whether ``iter(y)`` works: a traced value is, if it has a dimension."""
    if isinstance(y, Tracer):
        return y.ndim > 0
    return builtins.bool(np.iterable(y))


def save(file: Any, arr: Any, allow_pickle: Any = True) -> None:
    """``numpy.save`` of a concrete array (a traced value has no numbers to save)."""
    if isinstance(arr, Tracer):
        raise TypeError("nanojax.numpy.save: the array is a traced value, which has no "
                        "numbers yet; save the result of the transformed function instead")
    np.save(file, np.asarray(arr), allow_pickle=allow_pickle)


def load(file: Any, mmap_mode: Any = None, allow_pickle: Any = False, **kwargs: Any) -> Any:
    """``numpy.load``: an array (or an ``NpzFile`` of them)."""
    return np.load(file, mmap_mode=mmap_mode, allow_pickle=allow_pickle, **kwargs)

