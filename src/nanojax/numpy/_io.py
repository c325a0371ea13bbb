"""Arrays from outside and to text or files: ``fromiter``, ``frombuffer``,
``fromstring``, ``from_dlpack``, ``fromfile``, ``savez``, ``array_str``,
``array_repr``.

These read or write concrete numbers, so they are NumPy's calls on concrete
values; an array made from outside memory is copied, so the result owns its
memory (a later write to the buffer does not change it). ``fromfile`` is
refused as JAX refuses it: reading a file is a side effect that a traced
function would perform once, at trace time.

Examples:
    >>> import numpy as np
    >>> import nanojax.numpy as jnp
    >>> jnp.fromstring("1, 2, 3", dtype=int, sep=",")
    array([1, 2, 3])
    >>> jnp.fromiter((k * k for k in range(4)), dtype=float)
    array([0., 1., 4., 9.])
    >>> jnp.array_str(np.array([1.5, 2.0]))
    '[1.5 2. ]'
"""

from __future__ import annotations

import itertools
import operator
from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax.core import Tracer
from nanojax.numpy._args import error, has_tracer

__all__ = ["array_repr", "array_str", "from_dlpack", "frombuffer", "fromfile", "fromiter",
           "fromstring", "savez"]


def _numpy(name: str, np_fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return np_fn(*args, **kwargs)
    except (TypeError, ValueError) as err:
        raise error(name, type(err), str(err)) from None


def fromiter(iterable: Any, dtype: Any, count: Any = -1, *, like: None = None) -> Any:
    """A 1-D array of ``dtype`` from the first ``count`` items of ``iterable`` (all of
    them when ``count`` is -1); the items may be traced values."""
    if like is not None:
        raise error("fromiter", NotImplementedError, "like= is not supported")
    count = operator.index(count)
    items = list(iterable if count < 0 else itertools.islice(iterable, count))
    if 0 <= count != len(items):
        raise error("fromiter", ValueError, f"iterator too short: Expected {count} but "
                    f"iterator had only {len(items)} items.")
    if has_tracer(items):
        return jnp.astype(jnp.stack([jnp.asarray(v) for v in items]), dtype)
    return _numpy("fromiter", np.fromiter, items, dtype, len(items))


def frombuffer(buffer: Any, dtype: Any = float, count: Any = -1, offset: Any = 0) -> Any:
    """A 1-D array of the bytes of ``buffer`` read as ``dtype``: a copy (NumPy's is a
    read-only view of the buffer)."""
    return _numpy("frombuffer", np.frombuffer, buffer, dtype=dtype, count=count,
                  offset=offset).copy()


def fromstring(string: str, dtype: Any = float, count: Any = -1, *, sep: str) -> Any:
    """A 1-D array of the numbers written in ``string``, separated by ``sep`` (as
    JAX, ``sep`` is required: NumPy's binary mode is ``frombuffer``)."""
    if sep == "":
        raise error("fromstring", ValueError, "sep='' (binary mode) is not supported; use "
                    "frombuffer for bytes")
    return _numpy("fromstring", np.fromstring, string, dtype=dtype, count=count, sep=sep)


def from_dlpack(x: Any, /, *, device: Any = None, copy: Any = None) -> Any:
    """The array behind a DLPack-capable object ``x`` (a NumPy array, a CPU tensor of
    another library), copied into memory of its own."""
    if isinstance(x, Tracer):
        raise error("from_dlpack", TypeError, "x is a traced value, which has no memory to "
                    "share")
    if device is not None and getattr(device, "platform", device) != "cpu":
        raise error("from_dlpack", ValueError, f"device {device!r} is not available; "
                    "nanojax runs on the CPU only")
    if copy is False:
        raise error("from_dlpack", ValueError, "copy=False is not supported: a nanojax "
                    "array owns its memory")
    return np.array(_numpy("from_dlpack", np.from_dlpack, x))


def fromfile(*args: Any, **kwargs: Any) -> Any:
    """Not available, as in JAX: reading a file is a side effect. Use
    ``jnp.asarray(np.fromfile(...))`` outside the transformed function."""
    raise NotImplementedError(
        "nanojax.numpy.fromfile is not implemented, as in JAX: it may be impure, so it is "
        "unsafe under jit and the other transformations (the file would be read once, at "
        "trace time); use jnp.asarray(np.fromfile(...)) outside the transformed function")


def _concrete(name: str, x: Any) -> Any:
    if has_tracer(x):
        raise error(name, TypeError, "the array is a traced value, which has no numbers yet; "
                    "use it on the result of the transformed function instead")
    return x


def savez(file: Any, *args: Any, **kwds: Any) -> None:
    """``numpy.savez``: several concrete arrays into one uncompressed ``.npz`` file."""
    for value in (*args, *kwds.values()):
        _concrete("savez", value)
    np.savez(file, *args, **kwds)


def array_str(a: Any, max_line_width: Any = None, precision: Any = None,
              suppress_small: Any = None) -> str:
    """``numpy.array_str`` of a concrete array: its values as ``print`` shows them."""
    return _numpy("array_str", np.array_str, np.asarray(_concrete("array_str", a)),
                  max_line_width, precision, suppress_small)


def array_repr(arr: Any, max_line_width: Any = None, precision: Any = None,
               suppress_small: Any = None) -> str:
    """``numpy.array_repr`` of a concrete array: ``array([...], dtype=...)``."""
    return _numpy("array_repr", np.array_repr, np.asarray(_concrete("array_repr", arr)),
                  max_line_width, precision, suppress_small)
