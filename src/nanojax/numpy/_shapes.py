"""Functions that move elements without computing: reshape, transpose,
squeeze, broadcast, concatenate, stack, and the shape queries."""

from __future__ import annotations

import builtins
from typing import Any
from collections.abc import Sequence

import numpy as np

from nanojax import primitives as P
from nanojax.core import Tracer
from nanojax.numpy import _args
from nanojax.numpy._args import has_tracer as _has_tracer
from nanojax.numpy._args import numpy_or_traced
from nanojax.numpy._args import operand as _operand
from nanojax.numpy._args import public as _public
from nanojax.numpy._args import reworded as _reworded


def _shape_arg(name: str, shape_: Any) -> tuple[int, ...]:
    items = (shape_,) if _args.is_int(shape_) else shape_
    try:
        out = tuple(items)
    except TypeError:
        out = None
    if out is None or not builtins.all(map(_args.is_int, out)):
        raise TypeError(f"{_public(name)}: a shape must be an int or a tuple of ints, got "
                        f"{_args.describe(shape_)}")
    return tuple(int(s) for s in out)


@numpy_or_traced()
def reshape(a: Any, shape: Any, order: str = "C") -> Any:
    """``numpy.reshape`` (one dimension may be -1)."""
    if order != "C":
        raise NotImplementedError("nanojax.numpy.reshape: only order='C' is supported on "
                                  "traced values")
    sizes = _shape_arg("reshape", shape)
    if sizes.count(-1) > 1:
        raise ValueError("nanojax.numpy.reshape: can only specify one unknown dimension")
    if builtins.any(s < -1 for s in sizes):
        raise ValueError(f"nanojax.numpy.reshape: negative dimensions are not allowed, got "
                         f"{sizes}")
    known = int(np.prod([s for s in sizes if s != -1], dtype=np.int64))
    if -1 in sizes:
        if known == 0 or a.size % known:
            raise ValueError(f"nanojax.numpy.reshape: cannot reshape an array of shape "
                             f"{a.shape} (size {a.size}) into shape {sizes}")
        sizes = tuple(a.size // known if s == -1 else s for s in sizes)
    elif known != a.size:
        raise ValueError(f"nanojax.numpy.reshape: cannot reshape an array of shape {a.shape} "
                         f"(size {a.size}) into shape {sizes}")
    return P.reshape(a, sizes)


@numpy_or_traced()
def ravel(a: Any) -> Any:
    """The elements of ``a`` as a 1-D array, contiguous (a copy if need be), as np.ravel."""
    return P.contiguous_p.bind(reshape(a, (-1,)))


@numpy_or_traced()
def transpose(a: Any, axes: Any = None) -> Any:
    """``numpy.transpose``: reverse the axes, or permute them by ``axes``."""
    if axes is None:
        return P.transpose(a, tuple(reversed(range(a.ndim))))
    perm = tuple(axes) if isinstance(axes, (tuple, list)) else (axes,)
    if len(perm) != a.ndim:
        raise ValueError(f"nanojax.numpy.transpose: axes {tuple(perm)} don't match an array "
                         f"of {a.ndim} dimensions")
    _args.axes("transpose", perm, a.ndim)        # NumPy's errors: out of range, repeated
    return P.transpose(a, tuple(int(i) % a.ndim for i in perm))


@numpy_or_traced()
def swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    """``a`` with two axes interchanged."""
    i = _args.axis_index("swapaxes", axis1, a.ndim)
    j = _args.axis_index("swapaxes", axis2, a.ndim)
    perm = list(range(a.ndim))
    perm[i], perm[j] = perm[j], perm[i]
    return P.transpose(a, tuple(perm))


@numpy_or_traced()
def moveaxis(a: Any, source: Any, destination: Any) -> Any:
    """``a`` with axes moved from ``source`` to ``destination`` (ints or tuples)."""
    src = [_args.axis_index("moveaxis", s, a.ndim) for s in np.atleast_1d(source).tolist()]
    dst = [_args.axis_index("moveaxis", d, a.ndim)
           for d in np.atleast_1d(destination).tolist()]
    if len(src) != len(dst):
        raise ValueError("nanojax.numpy.moveaxis: `source` and `destination` arguments must "
                         "have the same number of elements")
    order = [i for i in range(a.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return P.transpose(a, tuple(order))


@numpy_or_traced()
def expand_dims(a: Any, axis: Any) -> Any:
    """Insert axes of size 1 at the positions ``axis`` (int or tuple)."""
    positions = (axis,) if _args.is_int(axis) else axis
    out_ndim = a.ndim + len(tuple(positions))
    new = _args.axes("expand_dims", positions, out_ndim)
    sizes = list(a.shape)
    for i in new:
        sizes.insert(i, 1)
    kept = tuple(i for i in range(out_ndim) if i not in new)
    return P.broadcast_in_dim(a, tuple(sizes), kept)


@numpy_or_traced()
def squeeze(a: Any, axis: Any = None) -> Any:
    """Remove axes of size 1 (all of them, or those in ``axis``)."""
    if axis is None:
        dims = tuple(i for i, d in enumerate(a.shape) if d == 1)
    else:
        dims = _args.axes("squeeze", axis, a.ndim)
        if builtins.any(a.shape[d] != 1 for d in dims):
            raise ValueError("nanojax.numpy.squeeze: cannot select an axis to squeeze out "
                             f"which has size not equal to one (shape {a.shape}, axis "
                             f"{axis})")
    return P.squeeze(a, dims)


@numpy_or_traced()
def broadcast_to(a: Any, shape: Any) -> Any:
    """``numpy.broadcast_to``."""
    sizes = _shape_arg("broadcast_to", shape)
    try:
        np.broadcast_to(_args.dummy(a.shape), sizes)         # NumPy's rules and error
    except ValueError as err:
        raise _reworded("broadcast_to", err) from None
    return P.broadcast_to(a, sizes)


def _join_operands_eagerly(name: str, arrays: Any) -> None:
    if not isinstance(arrays, (list, tuple)) and not (
            isinstance(arrays, np.ndarray) and arrays.ndim > 0):
        raise TypeError(f"{_public(name)}: expected a sequence of arrays, got "
                        f"{_args.describe(arrays)}")
    _args.check_operands(name, list(arrays))


def _join_operands(name: str, arrays: Any) -> list:
    if isinstance(arrays, Tracer) or not isinstance(arrays, (list, tuple)):
        raise TypeError(f"{_public(name)}: expected a sequence of arrays, got "
                        f"{_args.describe(arrays)}")
    if not arrays:
        raise ValueError(f"{_public(name)}: need at least one array to {name}")
    out = [_operand(a, name) for a in arrays]
    return [np.asarray(a) if not isinstance(a, (Tracer, np.ndarray)) else a for a in out]


def concatenate(arrays: Sequence[Any], axis: int | None = 0) -> Any:
    """Join arrays along an existing axis (flattened first when ``axis`` is None)."""
    if not _has_tracer(arrays):
        _join_operands_eagerly("concatenate", arrays)
        try:
            return np.concatenate(arrays, axis=axis)
        except (TypeError, ValueError) as err:
            raise _reworded("concatenate", err) from None
    arrays = _join_operands("concatenate", arrays)
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    ndim_ = len(P.shape_of(arrays[0]))
    if ndim_ == 0:
        raise ValueError("nanojax.numpy.concatenate: zero-dimensional arrays cannot be "
                         "concatenated")
    ax = _args.axis_index("concatenate", axis, ndim_)
    for a in arrays:
        s, s0 = P.shape_of(a), P.shape_of(arrays[0])
        if len(s) != ndim_ or builtins.any(x != y for i, (x, y) in enumerate(zip(s, s0))
                                           if i != ax):
            raise ValueError("nanojax.numpy.concatenate: all the input array dimensions "
                             f"except for the concatenation axis must match exactly, got "
                             f"shapes {[P.shape_of(b) for b in arrays]} along axis {ax}")
    return P.concatenate(arrays, ax)


def stack(arrays: Sequence[Any], axis: int = 0) -> Any:
    """Join arrays along a new axis."""
    if not _has_tracer(arrays):
        _join_operands_eagerly("stack", arrays)
        try:
            return np.stack(arrays, axis=axis)
        except (TypeError, ValueError) as err:
            raise _reworded("stack", err) from None
    arrays = _join_operands("stack", arrays)
    shapes = {P.shape_of(a) for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"nanojax.numpy.stack: all input arrays must have the same shape, "
                         f"got {sorted(shapes)}")
    ax = _args.axis_index("stack", axis, len(P.shape_of(arrays[0])) + 1)
    return P.concatenate([expand_dims(a, ax) if isinstance(a, Tracer)
                          else np.expand_dims(a, ax) for a in arrays], ax)


def hstack(arrays: Sequence[Any]) -> Any:
    arrays = [_atleast_1d(a) for a in _join_operands("hstack", arrays)]
    return concatenate(arrays, axis=0 if len(P.shape_of(arrays[0])) == 1 else 1)


def vstack(arrays: Sequence[Any]) -> Any:
    return concatenate([reshape(a, (1, -1)) if len(P.shape_of(a)) < 2 else a
                        for a in _join_operands("vstack", arrays)], axis=0)


def _atleast_1d(a: Any) -> Any:
    return reshape(a, (1,)) if len(P.shape_of(a)) == 0 else a


@numpy_or_traced()
def shape(a: Any) -> tuple[int, ...]:
    return a.shape


def ndim(a: Any) -> int:
    return len(shape(a))


def size(a: Any) -> int:
    return int(np.prod(shape(a), dtype=np.int64))
