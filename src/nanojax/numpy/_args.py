"""What ``nanojax.numpy`` accepts as arguments, and the errors for the rest.

Every error a ``jnp`` function raises starts with its public name
(``nanojax.numpy.sum: ...``) and keeps the exception type NumPy raises for
the same mistake, so code that catches NumPy's errors catches ours, eagerly
and under every transformation alike.

The eager path stays one check plus the NumPy call: plain arrays and numbers
pass a type test, and NumPy's own errors are only re-worded once raised.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from nanojax.core import Tracer

# Types that need no look at all: NumPy takes them as numbers or arrays.
PLAIN = frozenset({np.ndarray, float, int, bool, complex, np.float64, np.float32,
                   np.float16, np.int64, np.int32, np.int16, np.int8, np.uint64, np.uint32,
                   np.uint16, np.uint8, np.bool_, np.complex128, np.complex64})
NUMERIC_KINDS = frozenset("biufc")


def public(name: str) -> str:
    """``nanojax.numpy.sum`` for ``sum``; names from elsewhere (``nn.relu``, ``lax.add``)
    keep theirs."""
    if name.startswith(("nn.", "lax.")):
        return f"nanojax.{name}"
    return f"nanojax.numpy.{name}"


def reworded(name: str, err: Exception) -> Exception:
    """NumPy's error ``err`` as ours: the same type, the message led by our name."""
    message = f"{public(name)}: {err}"
    try:
        new = type(err)(message)
        if str(new) == message:
            return new
    except Exception:                     # an error type with a richer constructor
        pass
    for base in (IndexError, ValueError, TypeError):
        if isinstance(err, base):
            return base(message)
    return err


def describe(x: Any) -> str:
    return f"{type(x).__name__} ({x!r:.50})"


def check_numeric(name: str, x: Any) -> None:
    """Refuse what NumPy would quietly wrap as an object or string array."""
    if isinstance(x, Tracer) or (type(x) in PLAIN and type(x) is not np.ndarray):
        return
    if isinstance(x, (np.ndarray, np.generic)):
        if x.dtype.kind not in NUMERIC_KINDS:
            raise TypeError(f"{public(name)}: arrays of {x.dtype} are not numeric data; "
                            "pass numbers, or arrays or lists of numbers")
        return
    if isinstance(x, (int, float, complex)):       # subclasses: IntEnum, say
        return
    if isinstance(x, (list, tuple)):
        if any(isinstance(e, Tracer) for e in x):
            return
        try:
            kind = np.asarray(x).dtype.kind
        except (TypeError, ValueError):
            return              # ragged: NumPy's own call will say what is wrong
        if kind in NUMERIC_KINDS:
            return
    raise TypeError(f"{public(name)}: expected an array or a number, got {describe(x)}")


def check_operands(name: str, args: Sequence[Any]) -> None:
    for a in args:
        if type(a) not in PLAIN or type(a) is np.ndarray and a.dtype.kind not in NUMERIC_KINDS:
            check_numeric(name, a)


def call_numpy(name: str, np_fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """The eager call: NumPy itself, after refusing what it would quietly accept."""
    for a in args:
        if type(a) not in PLAIN or type(a) is np.ndarray and a.dtype.kind not in NUMERIC_KINDS:
            check_numeric(name, a)
    try:
        return np_fn(*args, **kwargs)
    except (TypeError, ValueError, IndexError) as err:
        raise reworded(name, err) from None


def bind_elementwise(name: str, prim: Any, x: Any, y: Any) -> Any:
    """``prim.bind(x, y)``, with NumPy's broadcasting error named for ``name``."""
    try:
        return prim.bind(x, y)
    except ValueError:
        sx, sy = np.shape(x) if not isinstance(x, Tracer) else x.shape, \
            np.shape(y) if not isinstance(y, Tracer) else y.shape
        try:
            np.broadcast_shapes(sx, sy)
        except ValueError:
            raise ValueError(f"{public(name)}: operands could not be broadcast together "
                             f"with shapes {sx} {sy}") from None
        raise


def is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def axes(name: str, axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple of ints) as sorted non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    items = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    if not all(map(is_int, items)):
        raise TypeError(f"{public(name)}: axis must be None, an int or a tuple of ints, "
                        f"got {describe(axis)}")
    try:
        return tuple(sorted(normalize_axis_tuple(items, ndim)))
    except (ValueError, IndexError) as err:      # AxisError or "repeated axis"
        raise reworded(name, err) from None


def axis_index(name: str, axis: Any, ndim: int) -> int:
    """One axis (an int), as a non-negative position."""
    if not is_int(axis):
        raise TypeError(f"{public(name)}: axis must be an int, got {describe(axis)}")
    return axes(name, axis, ndim)[0]


def dummy(shape: tuple, dtype: Any = np.bool_) -> np.ndarray:
    """A zero-stride stand-in for an array: NumPy checks it, it costs no memory."""
    return np.broadcast_to(np.zeros((), dtype), shape)
