"""What ``nanojax.numpy`` accepts as arguments, and the errors for the rest.

Every error a ``jnp`` function raises starts with its public name
(``nanojax.numpy.sum: ...``) and keeps the exception type NumPy raises for
the same mistake, so code that catches NumPy's errors catches ours, eagerly
and under every transformation alike.

The eager path stays one check plus the NumPy call: plain arrays and numbers
pass a type test, and NumPy's own errors are only re-worded once raised.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from nanojax.array import ArrayImpl, to_user
from nanojax.errors import ShapeMismatchError
from nanojax.core import Tracer

# Types that need no look at all: NumPy takes them as numbers or arrays.
PLAIN = frozenset({np.ndarray, ArrayImpl, float, int, bool, complex, np.float64, np.float32,
                   np.float16, np.int64, np.int32, np.int16, np.int8, np.uint64, np.uint32,
                   np.uint16, np.uint8, np.bool_, np.complex128, np.complex64})
# The arrays among them: their dtype still needs a look (strings, objects).
ARRAYS = frozenset({np.ndarray, ArrayImpl})
NUMERIC_KINDS = frozenset("biufc")


def public(name: str) -> str:
    """``nanojax.numpy.sum`` for ``sum``; names from elsewhere (``nn.relu``, ``lax.add``)
    keep theirs."""
    if name.startswith(("nn.", "lax.", "scipy.")):
        return f"nanojax.{name}"
    return f"nanojax.numpy.{name}"


# What NumPy's (and nanojax's own) messages say when operand shapes do not fit together.
_SHAPE_MISMATCH = ("could not be broadcast", "do not broadcast together",
                   "cannot broadcast an operand", "mismatch in its core dimension")


def reworded(name: str, err: Exception) -> Exception:
    """NumPy's error ``err`` as ours: the same type, the message led by our name."""
    message = f"{public(name)}: {err}"
    if type(err) is ValueError and any(words in str(err) for words in _SHAPE_MISMATCH):
        return ShapeMismatchError(message)      # a TypeError too, as JAX raises
    try:
        new = type(err)(message)
        if str(new) == message:
            return new
    except Exception:  # noqa: BLE001 - an error type with a richer constructor
        pass
    for base in (IndexError, ValueError, TypeError):
        if isinstance(err, base):
            return base(message)
    return err


def describe(x: Any) -> str:
    return f"{type(x).__name__} ({x!r:.50})"


def check_numeric(name: str, x: Any) -> None:
    """Refuse what NumPy would quietly wrap as an object or string array."""
    if isinstance(x, Tracer) or (type(x) in PLAIN and type(x) not in ARRAYS):
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
        if type(a) not in PLAIN or (type(a) in ARRAYS and a.dtype.kind not in NUMERIC_KINDS):
            check_numeric(name, a)


def call_numpy(name: str, np_fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """The eager call: NumPy itself, after refusing what it would quietly accept."""
    for a in args:
        if type(a) not in PLAIN or (type(a) in ARRAYS and a.dtype.kind not in NUMERIC_KINDS):
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
            raise ShapeMismatchError(f"{public(name)}: operands could not be broadcast together "
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


def error(name: str, kind: type[Exception], message: str) -> Exception:
    """The one shape of every error here: ``kind`` with ``<public name>: message``."""
    return kind(f"{name if name.startswith('nanojax.') else public(name)}: {message}")


# ----- Operands of traced calls --------------------------------------------------

def has_tracer(x: Any) -> bool:
    """Whether ``x``, or an element of a list or tuple ``x``, is traced."""
    if isinstance(x, Tracer):
        return True
    if isinstance(x, (list, tuple)):
        return any(has_tracer(e) for e in x)
    return False


def checked_asarray(name: str, x: Any) -> np.ndarray:
    check_numeric(name, x)
    return np.asarray(x)


def operand(x: Any, name: str) -> Any:
    """A valid array operand for a traced call: a tracer, an array or a number."""
    if isinstance(x, Tracer):
        return x
    kind = type(x)
    if kind is np.ndarray or kind is ArrayImpl:
        if x.dtype.kind not in NUMERIC_KINDS:
            check_numeric(name, x)
        return x
    if kind in PLAIN:
        return x
    if isinstance(x, np.ma.MaskedArray):
        raise error(name, TypeError, "masked arrays are not supported (the mask would be "
                    "ignored); pass x.filled(value) or a plain array")
    if isinstance(x, np.ndarray):
        check_numeric(name, x)
        return np.asarray(x)                 # np.matrix and friends: a plain ndarray
    if isinstance(x, (list, tuple)):
        if has_tracer(x):
            from nanojax.numpy._creation import asarray      # stacks the traced elements
            return asarray(x)
        return checked_asarray(name, x)
    check_numeric(name, x)
    return x


# ----- The one shape of a jnp function ---------------------------------------------

def numpy_or_traced(np_fn: Callable | None = None, *, arrays: int = 1, name: str | None = None,
                    eager: Callable = call_numpy, numpy_order: bool = True) -> Callable:
    """Decorate the traced body of a jnp function: with no traced value among its
    first ``arrays`` arguments the call is NumPy's own, ``eager(name, np_fn, ...)``
    (``call_numpy``: NumPy after its checks, errors in our name).

    The plain eager call (positional arguments NumPy takes in the same order,
    keywords among ours) goes straight through after one type test, so plain
    NumPy code pays nothing for being traceable. Without ``numpy_order``
    (a reduction, say, whose NumPy twin puts ``dtype`` and ``out`` between
    our parameters) the arguments after the array reach ``eager`` by keyword.
    """
    def decorate(traced: Callable) -> Callable:
        fname = name or traced.__name__
        numpy_fn = np_fn if np_fn is not None else getattr(np, fname)
        # The parameters, read off the code object (inspect.signature would cost
        # import time for every jnp function); jnp functions take no *args.
        code = traced.__code__
        names = list(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])
        positional = code.co_posonlyargcount
        lead = max(positional, arrays)
        keywords = frozenset(names[positional:])
        plain = len(names) if numpy_order else lead     # positional arguments passed as is

        def checked(args: tuple, kwargs: dict) -> Any:
            # Every call but the plain eager one: a traced value, a bad signature,
            # or arguments to hand over by keyword.
            if len(args) > len(names) or (kwargs and not kwargs.keys() <= keywords):
                try:
                    inspect.signature(traced).bind(*args, **kwargs)
                except TypeError as err:                           # Python's sentence
                    raise error(fname, TypeError, str(err)) from None
            if has_tracer(args[:arrays]) or any(
                    has_tracer(kwargs.get(n)) for n in names[len(args):arrays]):
                return traced(*args, **kwargs)
            if len(args) > plain:
                kwargs = dict(zip(names[lead:], args[lead:]), **kwargs)
                args = args[:lead]
            return numpy_call(args, kwargs)

        if eager is call_numpy:
            def numpy_call(args: tuple, kwargs: dict) -> Any:
                # call_numpy's work, but only the array arguments are checked as
                # arrays: the others (a shape, an order) are NumPy's to judge.
                for a in args[:arrays]:
                    if type(a) not in PLAIN or (type(a) in ARRAYS
                                                and a.dtype.kind not in NUMERIC_KINDS):
                        check_numeric(fname, a)
                try:
                    return numpy_fn(*args, **kwargs)
                except (TypeError, ValueError, IndexError) as err:
                    raise reworded(fname, err) from None
        else:
            def numpy_call(args: tuple, kwargs: dict) -> Any:
                return eager(fname, numpy_fn, *args, **kwargs)

        # Each hands its result out as nanojax's array (ArrayImpl: NumPy's, with
        # JAX's .at) by one type test and a view, written inline: no frame more.
        if arrays == 1 and eager is not call_numpy:
            def fn(*args: Any, **kwargs: Any) -> Any:
                if (args and not isinstance(args[0], Tracer) and len(args) <= plain
                        and (not kwargs or kwargs.keys() <= keywords)):
                    out = eager(fname, numpy_fn, *args, **kwargs)      # one frame fewer
                else:
                    out = checked(args, kwargs)
                kind = type(out)
                if kind is np.ndarray:
                    return out.view(ArrayImpl)
                return to_user(out) if kind is tuple or kind is list else out
        elif arrays == 1:
            def fn(*args: Any, **kwargs: Any) -> Any:
                if (args and not isinstance(args[0], Tracer) and len(args) <= plain
                        and (not kwargs or kwargs.keys() <= keywords)):
                    out = numpy_call(args, kwargs)
                else:
                    out = checked(args, kwargs)
                kind = type(out)
                if kind is np.ndarray:
                    return out.view(ArrayImpl)
                return to_user(out) if kind is tuple or kind is list else out
        else:
            def fn(*args: Any, **kwargs: Any) -> Any:
                if (arrays <= len(args) <= plain and not kwargs
                        and not has_tracer(args[:arrays])):
                    out = numpy_call(args, kwargs)
                else:
                    out = checked(args, kwargs)
                kind = type(out)
                if kind is np.ndarray:
                    return out.view(ArrayImpl)
                return to_user(out) if kind is tuple or kind is list else out
        functools.update_wrapper(fn, traced)
        fn._hands_out_arrays = True  # type: ignore[attr-defined]  # export leaves it be
        return fn
    return decorate
