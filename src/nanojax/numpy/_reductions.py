"""Reductions: sum, max, min, prod, mean, var, std, argmax, argmin, ptp,
any, all, cumsum, with every keyword NumPy and JAX give them: ``axis``,
``keepdims``, ``dtype``, ``where``, ``initial``, ``ddof``/``correction``,
JAX's ``promote_integers``; ``out=`` is refused (arrays are immutable).

Examples:
    >>> import nanojax.numpy as jnp
    >>> x = jnp.array([[1.0, -2.0], [3.0, 4.0]])
    >>> jnp.sum(x, axis=1, where=x > 0, initial=10.0)
    array([11., 17.])
"""

from __future__ import annotations

import builtins
from typing import Any
from collections.abc import Callable

import numpy as np

from nanojax import primitives as P
from nanojax.array import ArrayImpl
from nanojax.numpy import _args
from nanojax.core import Tracer
from nanojax.numpy._args import check_numeric as _check_numeric
from nanojax.numpy._args import numpy_or_traced
from nanojax.numpy._args import reworded as _reworded
from nanojax.numpy._creation import full, ones, zeros
from nanojax.numpy._shapes import broadcast_to, ravel, reshape
from nanojax.numpy._ufuncs import (_bool_operand, add, astype, divide, maximum, minimum,
                                   multiply, sqrt, square, subtract)
from nanojax.numpy._ufuncs import where as where_


def _axes(x: Any, axis: Any, name: str) -> tuple[int, ...]:
    return _args.axes(name, axis, len(P.shape_of(x)))


def _keep(out: Any, x: Any, axes: tuple, keepdims: bool) -> Any:
    if not keepdims:
        return out
    shape_ = tuple(1 if i in axes else d for i, d in enumerate(P.shape_of(x)))
    return P.reshape(out, shape_)


def _eager_reduction(name: str, np_fn: Callable, a: Any, axis: Any = None, **kwargs: Any) -> Any:
    """NumPy's reduction, handed out as ours (a view of an array, a NumPy scalar
    as it is); on failure, our check of ``axis`` says what was wrong."""
    if type(a) is ArrayImpl:
        a = a.view(np.ndarray)   # NumPy's mean, var... make several calls: each plain is cheaper
    elif type(a) is not np.ndarray:
        _check_numeric(name, a)
    try:
        out = np_fn(a, axis=axis, **kwargs)
        return out.view(ArrayImpl) if type(out) is np.ndarray else out
    except (TypeError, ValueError, IndexError) as err:
        _axes(np.asarray(a), axis, name)
        raise _reworded(name, err) from None


def _refuse_out(name: str, out: Any) -> None:
    if out is not None:
        raise TypeError(f"nanojax.numpy.{name}: out= is not supported (arrays are immutable "
                        "here, as in JAX); drop out= and use the returned array")


def _integer_dtype(a: Any, dtype: Any, promote_integers: bool) -> Any:
    """JAX's ``promote_integers=False``: an integer sum keeps its operand's dtype."""
    if dtype is None and not promote_integers:
        kind = P.dtype_of(a).kind if not isinstance(a, (list, tuple)) else np.asarray(a).dtype.kind
        if kind in "iu":
            return P.dtype_of(a) if not isinstance(a, (list, tuple)) else np.asarray(a).dtype
    return dtype


def _eager_keywords(name: str, np_fn: Callable, a: Any, axis: Any, **kwargs: Any) -> Any:
    """NumPy's reduction with only the keywords given (None: NumPy's own default)."""
    _refuse_out(name, kwargs.pop("out", None))
    return _eager_reduction(name, np_fn, a, axis,
                            **{k: v for k, v in kwargs.items() if v is not None})


def _masked(a: Any, where: Any, fill: Any) -> Any:
    return a if where is None else where_(where, a, fill)


def _empty_along(a: Any, axes: tuple) -> bool:
    return 0 in (P.shape_of(a)[i] for i in axes)


def _sum_like(name: str, np_fn: Callable, reduce: Callable, identity: int,
              combine: Callable) -> Callable:
    # The guard is written out here rather than by numpy_or_traced: sum is the
    # hottest traced jnp call, and a wrapper's frame cost a training step 0.5%.
    def fn(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
           keepdims: bool = False, initial: Any = None, where: Any = None,
           promote_integers: bool = True) -> Any:
        if not isinstance(a, Tracer):
            if (dtype is None and out is None and initial is None and where is None
                    and promote_integers is True):
                return _eager_reduction(name, np_fn, a, axis, keepdims=keepdims)
            if not (isinstance(where, Tracer) or isinstance(initial, Tracer)):
                return _eager_keywords(name, np_fn, a, axis, out=out, keepdims=keepdims,
                                       dtype=_integer_dtype(a, dtype, promote_integers),
                                       initial=initial, where=where)
            a = _args.operand(a, name)
        elif (dtype is None and out is None and initial is None and where is None
              and promote_integers is True):                     # the hot traced call
            axes = _axes(a, axis, name)
            return _keep(reduce(a, axes), a, axes, keepdims)
        _refuse_out(name, out)
        axes = _axes(a, axis, name)
        target = _integer_dtype(a, dtype, promote_integers)
        if target is not None:
            a = astype(a, target)
        result = _keep(reduce(_masked(a, where, identity), axes), a, axes, keepdims)
        if target is not None and P.dtype_of(result) != target:
            result = astype(result, target)
        return result if initial is None else combine(result, initial)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"``numpy.{name}`` over ``axis`` (None: all), traceable; ``dtype`` to "
                  f"compute in, ``where`` a mask of the elements taken, ``initial`` one more "
                  "term, ``promote_integers=False`` to keep an integer dtype (JAX's).")
    return fn


def _extreme(name: str, np_fn: Callable, reduce: Callable, combine: Callable) -> Callable:
    def fn(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False,
           initial: Any = None, where: Any = None) -> Any:
        if not isinstance(a, Tracer):
            if out is None and initial is None and where is None:
                return _eager_reduction(name, np_fn, a, axis, keepdims=keepdims)
            if not (isinstance(where, Tracer) or isinstance(initial, Tracer)):
                return _eager_keywords(name, np_fn, a, axis, out=out, keepdims=keepdims,
                                       initial=initial, where=where)
            a = _args.operand(a, name)
        _refuse_out(name, out)
        axes = _axes(a, axis, name)
        if where is not None:
            if initial is None:
                raise ValueError(f"nanojax.numpy.{name}: reduction operation {name} does not "
                                 "have an identity, so to use a where mask one has to "
                                 "specify 'initial'")
            a = where_(where, a, initial)
        if _empty_along(a, axes):
            if initial is None:
                raise ValueError(f"nanojax.numpy.{name}: zero-size array to reduction "
                                 f"operation {name}, which has no identity")
            shape_ = _reduced_shape(P.shape_of(a), axes, keepdims)
            return astype(full(shape_, initial), np.result_type(P.dtype_of(a), initial))
        result = _keep(reduce(a, axes), a, axes, keepdims)
        return result if initial is None else combine(result, initial)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"``numpy.{name}`` over ``axis`` (None: all), traceable; ``initial`` "
                  "joins the reduction (and makes an empty one possible), ``where`` masks "
                  "elements (with ``initial``).")
    return fn


# Python's own sum, max, min are builtins.sum, builtins.max, builtins.min here.
_sum = _sum_like("sum", np.sum, P.reduce_sum, 0, add)
prod = _sum_like("prod", np.prod, P.reduce_prod, 1, multiply)
amax = _extreme("max", np.max, P.reduce_max, maximum)
amin = _extreme("min", np.min, P.reduce_min, minimum)
sum, max, min = _sum, amax, amin  # noqa: A001 - NumPy's names
for _fn in (_sum, prod, amax, amin):     # their eager results are ours already (above)
    _fn._hands_out_arrays = True  # type: ignore[attr-defined]
del _fn


def reduction(np_fn: Callable | None = None, *, name: str | None = None) -> Callable:
    """``numpy_or_traced`` for a reduction: ``out=`` refused, keywords left at None
    are NumPy's defaults, and a traced ``where=`` takes the traced path even
    when the array itself is concrete."""
    def decorate(traced: Callable) -> Callable:
        fname = name or traced.__name__

        def eager(name_: str, np_fn_: Callable, a: Any, axis: Any = None, **kwargs: Any) -> Any:
            if not kwargs:           # the plain call: NumPy's own after one type test
                return _eager_reduction(name_, np_fn_, a, axis)
            if _args.has_tracer(kwargs.get("where")):
                return traced(_args.operand(a, fname), axis, **kwargs)
            return _eager_keywords(name_, np_fn_, a, axis, **kwargs)
        return numpy_or_traced(np_fn, name=fname, eager=eager, numpy_order=False)(traced)
    return decorate


def _count(a: Any, axes: tuple, where: Any, keepdims: bool) -> Any:
    """How many elements each reduction takes: a number, or counts where ``where`` masks."""
    if where is None:
        return float(np.prod([P.shape_of(a)[i] for i in axes], dtype=np.int64))
    mask = broadcast_to(where, P.shape_of(a))
    return astype(_sum(astype(mask, np.int64), axis=axes, keepdims=keepdims), np.float64)


def _inexact(a: Any, dtype: Any) -> Any:
    """``a`` in the dtype a mean is computed in: ``dtype``, or float64 for integers."""
    if dtype is not None:
        return astype(a, dtype)
    return a if np.issubdtype(P.dtype_of(a), np.inexact) else astype(a, np.float64)


@reduction()
def mean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: bool = False,
         *, where: Any = None) -> Any:
    """The average over ``axis`` (of the elements ``where`` holds)."""
    _refuse_out("mean", out)
    a = _inexact(a, dtype)
    axes = _axes(a, axis, "mean")
    total = _sum(_masked(a, where, 0.0), axis=axes, keepdims=keepdims)
    count = _count(a, axes, where, keepdims)
    if type(count) is float:
        return divide(total, count)
    return astype(divide(total, count), P.dtype_of(total))


def _ddof(name: str, ddof: Any, correction: Any) -> Any:
    if correction is None:
        return ddof
    if ddof != 0:
        raise ValueError(f"nanojax.numpy.{name}: ddof and correction can't be provided "
                         "simultaneously")
    return correction


@reduction()
def var(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
        keepdims: bool = False, *, where: Any = None, correction: Any = None) -> Any:
    """The variance over ``axis``, with ``ddof`` (or ``correction``) degrees of freedom
    removed, of the elements ``where`` holds."""
    _refuse_out("var", out)
    ddof = _ddof("var", ddof, correction)
    a = _inexact(a, dtype)
    axes = _axes(a, axis, "var")
    if where is None:
        count = float(np.prod([P.shape_of(a)[i] for i in axes], dtype=np.int64))
        centered = subtract(a, mean(a, axis=axes, keepdims=True))
        # As NumPy: never a negative count, so too large a ddof gives inf (or nan).
        dof: Any = float(builtins.max(count - ddof, 0))
        return divide(_sum(square(centered), axis=axes, keepdims=keepdims), dof)
    # Masked elements are zeroed before any arithmetic: a NaN there must not
    # reach the mean (or its gradient) through a product with zero.
    safe = where_(where, a, 0.0)
    mu = mean(safe, axis=axes, keepdims=True, where=where)
    centered = where_(where, subtract(safe, mu), 0.0)
    dof = maximum(subtract(_count(a, axes, where, keepdims), float(ddof)), 0.0)
    return astype(divide(_sum(square(centered), axis=axes, keepdims=keepdims), dof),
                  P.dtype_of(a))


@reduction()
def std(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
        keepdims: bool = False, *, where: Any = None, correction: Any = None) -> Any:
    """The standard deviation over ``axis``."""
    return sqrt(var(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims,
                    where=where, correction=correction))


def _eager_along_axis(name: str, np_fn: Callable, a: Any, axis: Any = None,
                      **kwargs: Any) -> Any:
    """NumPy's call along one axis; on failure, our check of ``axis`` says what was wrong."""
    if kwargs:                       # the plain call skips the keyword handling
        _refuse_out(name, kwargs.pop("out", None))
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
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
    def fn(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
        _refuse_out(name, out)
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


@reduction()
def ptp(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
    """The range, ``max - min``, over ``axis``."""
    _refuse_out("ptp", out)
    return subtract(amax(a, axis=axis, keepdims=keepdims), amin(a, axis=axis, keepdims=keepdims))


@numpy_or_traced(eager=_eager_along_axis, numpy_order=False)
def cumsum(a: Any, axis: int | None = None, dtype: Any = None, out: Any = None) -> Any:
    """Running sums along ``axis`` (of the flattened array when None), in ``dtype``."""
    _refuse_out("cumsum", out)
    if dtype is not None:
        a = astype(a, dtype)
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
    @reduction(getattr(np, name), name=name)
    def fn(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False, *,
           where: Any = None) -> Any:
        _refuse_out(name, out)
        a = _bool_operand(a, name)
        if where is not None:
            a = where_(where, a, name == "all")
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
