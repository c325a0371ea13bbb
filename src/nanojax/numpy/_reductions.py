"""Reductions: sum, max, min, prod, mean, var, std, argmax, argmin, ptp,
any, all, cumsum, with NumPy's ``axis`` and ``keepdims``."""

from __future__ import annotations

import builtins
from typing import Any
from collections.abc import Callable

import numpy as np

from nanojax import primitives as P
from nanojax.numpy import _args
from nanojax.core import Tracer
from nanojax.numpy._args import check_numeric as _check_numeric
from nanojax.numpy._args import numpy_or_traced
from nanojax.numpy._args import reworded as _reworded
from nanojax.numpy._creation import ones, zeros
from nanojax.numpy._shapes import ravel, reshape
from nanojax.numpy._ufuncs import _bool_operand, astype, divide, sqrt, square, subtract


def _axes(x: Any, axis: Any, name: str) -> tuple[int, ...]:
    return _args.axes(name, axis, len(P.shape_of(x)))


def _keep(out: Any, x: Any, axes: tuple, keepdims: bool) -> Any:
    if not keepdims:
        return out
    shape_ = tuple(1 if i in axes else d for i, d in enumerate(P.shape_of(x)))
    return P.reshape(out, shape_)


def _eager_reduction(name: str, np_fn: Callable, a: Any, axis: Any = None, **kwargs: Any) -> Any:
    """NumPy's reduction; on failure, our check of ``axis`` says what was wrong."""
    if type(a) is not np.ndarray:
        _check_numeric(name, a)
    try:
        return np_fn(a, axis=axis, **kwargs)
    except (TypeError, ValueError, IndexError) as err:
        _axes(np.asarray(a), axis, name)
        raise _reworded(name, err) from None


def _reduction(name: str, np_fn: Callable, reduce: Callable, has_identity: bool) -> Callable:
    # The guard is written out here rather than by numpy_or_traced: sum is the
    # hottest traced jnp call, and a wrapper's frame cost a training step 0.5%.
    def fn(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        if not isinstance(a, Tracer):
            return _eager_reduction(name, np_fn, a, axis, keepdims=keepdims)
        axes = _axes(a, axis, name)
        if not has_identity and 0 in (a.shape[i] for i in axes):
            raise ValueError(f"nanojax.numpy.{name}: zero-size array to reduction operation "
                             f"{name}, which has no identity")
        return _keep(reduce(a, axes), a, axes, keepdims)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``numpy.{name}`` over ``axis`` (None: all), traceable."
    return fn


# Python's own sum, max, min are builtins.sum, builtins.max, builtins.min here.
_sum = _reduction("sum", np.sum, P.reduce_sum, has_identity=True)
amax = _reduction("max", np.max, P.reduce_max, has_identity=False)
amin = _reduction("min", np.min, P.reduce_min, has_identity=False)
prod = _reduction("prod", np.prod, P.reduce_prod, has_identity=True)
sum, max, min = _sum, amax, amin  # noqa: A001 - NumPy's names


@numpy_or_traced(eager=_eager_reduction, numpy_order=False)
def mean(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """The average over ``axis``."""
    axes = _axes(a, axis, "mean")
    count = int(np.prod([P.shape_of(a)[i] for i in axes], dtype=np.int64))
    total = _sum(a if np.issubdtype(a.dtype, np.inexact) else astype(a, np.float64),
                 axis=axes, keepdims=keepdims)
    return divide(total, float(count))


@numpy_or_traced(eager=_eager_reduction, numpy_order=False)
def var(a: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    """The variance over ``axis``, with ``ddof`` degrees of freedom removed."""
    axes = _axes(a, axis, "var")
    count = int(np.prod([P.shape_of(a)[i] for i in axes], dtype=np.int64))
    centered = subtract(a, mean(a, axis=axes, keepdims=True))
    # As NumPy: never a negative count, so too large a ddof gives inf (or nan).
    dof = float(builtins.max(count - ddof, 0))
    return divide(_sum(square(centered), axis=axes, keepdims=keepdims), dof)


@numpy_or_traced(eager=_eager_reduction, numpy_order=False)
def std(a: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    """The standard deviation over ``axis``."""
    return sqrt(var(a, axis=axis, ddof=ddof, keepdims=keepdims))


def _eager_along_axis(name: str, np_fn: Callable, a: Any, axis: Any = None,
                      **kwargs: Any) -> Any:
    """NumPy's call along one axis; on failure, our check of ``axis`` says what was wrong."""
    if type(a) is not np.ndarray:
        _check_numeric(name, a)
    try:
        return np_fn(a, axis=axis, **kwargs)
    except (TypeError, ValueError, IndexError) as err:
        if axis is not None:
            _args.axis_index(name, axis, np.ndim(a))
        raise _reworded(name, err) from None


def _argreduction(name: str, np_fn: Callable, reduce: Callable) -> Callable:
    @numpy_or_traced(np_fn, name=name, eager=_eager_along_axis, numpy_order=False)
    def fn(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        if a.size == 0:
            raise ValueError(f"nanojax.numpy.{name}: attempt to get {name} of an empty "
                             "sequence")
        if axis is None:
            out = reduce(ravel(a), 0, np.dtype(np.int64))
            return reshape(out, (1,) * a.ndim) if keepdims else out
        ax = _args.axis_index(name, axis, a.ndim)
        return _keep(reduce(a, ax, np.dtype(np.int64)), a, (ax,), keepdims)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``numpy.{name}``: index of the extreme value (no gradient)."
    return fn


argmax = _argreduction("argmax", np.argmax, P.argmax)
argmin = _argreduction("argmin", np.argmin, P.argmin)


@numpy_or_traced(eager=_eager_reduction, numpy_order=False)
def ptp(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """The range, ``max - min``, over ``axis``."""
    return subtract(amax(a, axis=axis, keepdims=keepdims), amin(a, axis=axis, keepdims=keepdims))


@numpy_or_traced(eager=_eager_along_axis, numpy_order=False)
def cumsum(a: Any, axis: int | None = None) -> Any:
    """Running sums along ``axis`` (of the flattened array when None)."""
    if axis is None:
        a, axis = ravel(a), 0
    ax = _args.axis_index("cumsum", axis, a.ndim)
    return P.cumsum(a, ax)


def _reduced_shape(shape_: tuple, axes: tuple, keepdims: bool) -> tuple:
    return tuple(1 if i in axes else d for i, d in enumerate(shape_)
                 if keepdims or i not in axes)


def _truth_reduction(name: str, extreme: Callable, empty: Callable) -> Callable:
    """``any`` (a max over booleans) or ``all`` (a min); ``empty`` makes the
    answer over no elements (False for any, True for all)."""
    @numpy_or_traced(getattr(np, name), name=name, eager=_eager_reduction,
                     numpy_order=False)
    def fn(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        a = _bool_operand(a, name)
        axes = _axes(a, axis, name)
        if 0 in (a.shape[i] for i in axes):
            return empty(_reduced_shape(a.shape, axes, keepdims), bool)
        return extreme(a, axis=axes, keepdims=keepdims)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Whether {name} elements along ``axis`` are true."
    return fn


_any = _truth_reduction("any", amax, zeros)
_all = _truth_reduction("all", amin, ones)
any, all = _any, _all  # noqa: A001 - NumPy's names
