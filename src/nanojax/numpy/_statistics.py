"""Statistics and sequences: the NaN-ignoring reductions, order statistics
(median, quantile, percentile), average, cov and corrcoef, histograms and
bincount, differences and integrals, interpolation, convolution and
polynomials.

Each is NumPy's own call when nothing is traced and a composition of jnp
functions when something is, following NumPy's steps so that values agree
to a few ulps and dtypes exactly. Sizes (bins, lengths, polynomial degrees)
are static, as in JAX; the values, edges and weights may be traced and
differentiated. Counts (histogram, bincount) have no gradient.

Examples:
    >>> import nanojax.numpy as jnp
    >>> jnp.nanmean(jnp.array([1.0, jnp.nan, 3.0]))
    np.float64(2.0)
    >>> jnp.quantile(jnp.array([1.0, 2.0, 3.0, 4.0]), 0.25)
    np.float64(1.75)
"""

from __future__ import annotations

import builtins
import operator
from typing import Any
from collections.abc import Callable

import numpy as np

from nanojax import primitives as P
from nanojax.core import Tracer
from nanojax.errors import ConcretizationTypeError
from nanojax.numpy import _args
from nanojax.numpy._args import numpy_or_traced
from nanojax.numpy._args import operand as _operand
from nanojax.numpy._creation import zeros
from nanojax.numpy._indexing import getitem, take, take_along_axis
from nanojax.numpy._linear import dot
from nanojax.numpy._reductions import _all, _any, _refuse_out, _sum, amax, amin, argmax, argmin
from nanojax.numpy._reductions import mean, prod, reduction, var
from nanojax.numpy._shapes import (broadcast_to, concatenate, ravel, reshape, stack,
                                   transpose)
from nanojax.numpy._sorting import sort
from nanojax.numpy._ufuncs import (add, astype, ceil, clip, divide, equal, floor, isnan,
                                   less, less_equal, logical_and, logical_not, multiply,
                                   not_equal, sqrt, subtract, where)
from nanojax.numpy._ufuncs import round as _round
from nanojax.numpy._ufuncs import where as select  # where a parameter is named where

__all__ = [
    "average", "bincount", "convolve", "corrcoef", "correlate", "count_nonzero", "cov",
    "diff", "ediff1d", "gradient", "histogram", "histogram2d", "histogram_bin_edges",
    "interp", "median", "nanargmax", "nanargmin", "nanmax", "nanmean", "nanmedian",
    "nanmin", "nanpercentile", "nanprod", "nanquantile", "nanstd", "nansum", "nanvar",
    "percentile", "poly", "polyadd", "polyder", "polyfit", "polyint", "polymul", "polysub",
    "polyval", "quantile", "trapezoid",
]


def _dtype(x: Any) -> np.dtype:
    return P.dtype_of(x)


def _shape(x: Any) -> tuple:
    return tuple(P.shape_of(x))


def _ndim(x: Any) -> int:
    return len(P.shape_of(x))


def _inexact_kind(x: Any) -> bool:
    return _dtype(x).kind in "fc"


def _along(x: Any, axis: int, index: Any) -> Any:
    """``x[..., index, ...]`` with ``index`` (a slice or an int) at ``axis``."""
    return getitem(x, (slice(None),) * axis + (index,))


def _concrete(name: str, what: str, x: Any) -> Any:
    if _args.has_tracer(x):
        raise ConcretizationTypeError(what, None, f"nanojax.numpy.{name}: {what} sets the "
                                      "result's shape, so it must be concrete (a Python "
                                      "value, static under jit), not traced")
    return x


# ----- Reductions that ignore NaN -------------------------------------------------------

def _nan_filled(a: Any, fill: Any) -> Any:
    return where(isnan(a), fill, a) if _inexact_kind(a) else a


@reduction()
def nansum(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
           keepdims: bool = False, initial: Any = None, where: Any = None) -> Any:
    """``sum`` with NaN counted as zero."""
    _refuse_out("nansum", out)
    return _sum(_nan_filled(a, 0.0), axis=axis, dtype=dtype, keepdims=keepdims,
               initial=initial, where=where)


@reduction()
def nanprod(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
            keepdims: bool = False, initial: Any = None, where: Any = None) -> Any:
    """``prod`` with NaN counted as one."""
    _refuse_out("nanprod", out)
    return prod(_nan_filled(a, 1.0), axis=axis, dtype=dtype, keepdims=keepdims,
                initial=initial, where=where)


def _nan_extreme(name: str, extreme: Callable, fill: float) -> Callable:
    @reduction(getattr(np, name), name=name)
    def fn(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False,
           initial: Any = None, where: Any = None) -> Any:
        _refuse_out(name, out)
        if not _inexact_kind(a):
            return extreme(a, axis=axis, keepdims=keepdims, initial=initial, where=where)
        result = extreme(_nan_filled(a, fill), axis=axis, keepdims=keepdims,
                         initial=initial, where=where)
        if initial is not None:
            return result                    # an all-NaN slice gives the initial value
        return select(_all(isnan(a), axis=axis, keepdims=keepdims), np.nan, result)
    fn.__doc__ = f"``{extreme.__name__}`` ignoring NaN (NaN where a slice is all NaN)."
    return fn


nanmax = _nan_extreme("nanmax", amax, -np.inf)
nanmin = _nan_extreme("nanmin", amin, np.inf)


def _nan_arg(name: str, arg: Callable, fill: float) -> Callable:
    @reduction(getattr(np, name), name=name)
    def fn(a: Any, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
        _refuse_out(name, out)
        if not _inexact_kind(a):
            return arg(a, axis=axis, keepdims=keepdims)
        index = arg(_nan_filled(a, fill), axis=axis, keepdims=keepdims)
        # NumPy raises for an all-NaN slice; a traced one cannot, and gives -1 (JAX's).
        all_nan = _all(isnan(a), axis=axis, keepdims=keepdims)
        return where(all_nan, -1, index)
    fn.__doc__ = (f"``{arg.__name__}`` ignoring NaN; an all-NaN slice raises eagerly and "
                  "gives -1 when traced, as in JAX.")
    return fn


nanargmax = _nan_arg("nanargmax", argmax, -np.inf)
nanargmin = _nan_arg("nanargmin", argmin, np.inf)


def _valid(a: Any, where_: Any) -> Any:
    mask = logical_not(isnan(a))
    return mask if where_ is None else logical_and(mask, where_)


@reduction()
def nanmean(a: Any, axis: Any = None, dtype: Any = None, out: Any = None,
            keepdims: bool = False, *, where: Any = None) -> Any:
    """The mean of the elements that are not NaN (NaN for an all-NaN slice)."""
    _refuse_out("nanmean", out)
    if not _inexact_kind(a):
        return mean(a, axis=axis, dtype=dtype, keepdims=keepdims, where=where)
    return mean(_nan_filled(a, 0.0), axis=axis, dtype=dtype, keepdims=keepdims,
                where=_valid(a, where))


@reduction()
def nanvar(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
           keepdims: bool = False, *, where: Any = None, correction: Any = None) -> Any:
    """The variance of the elements that are not NaN."""
    _refuse_out("nanvar", out)
    if not _inexact_kind(a):
        return var(a, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims, where=where,
                   correction=correction)
    return var(_nan_filled(a, 0.0), axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims,
               where=_valid(a, where), correction=correction)


@reduction()
def nanstd(a: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0,
           keepdims: bool = False, *, where: Any = None, correction: Any = None) -> Any:
    """The standard deviation of the elements that are not NaN."""
    return sqrt(nanvar(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims,
                       where=where, correction=correction))


@reduction()
def count_nonzero(a: Any, axis: Any = None, *, keepdims: bool = False) -> Any:
    """How many elements along ``axis`` are not zero (int64)."""
    return _sum(astype(not_equal(a, 0), np.int64), axis=axis, keepdims=keepdims)


# ----- Order statistics -----------------------------------------------------------------

_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _sorted_rows(name: str, a: Any, axis: Any) -> tuple[Any, tuple, tuple]:
    """``a`` with the reduced axes merged last and sorted (NaN last); the batch
    shape, and the shape ``keepdims`` gives."""
    shape_ = _shape(a)
    axes = _args.axes(name, axis, len(shape_))
    rest = [i for i in range(len(shape_)) if i not in axes]
    batch = tuple(shape_[i] for i in rest)
    size = int(np.prod([shape_[i] for i in axes], dtype=np.int64))
    if size == 0:
        raise ValueError(f"nanojax.numpy.{name}: cannot take an order statistic of an empty "
                         "array (or an axis of length 0)")
    rows = reshape(transpose(a, tuple(rest) + axes) if len(shape_) else a, batch + (size,))
    kept = tuple(1 if i in axes else d for i, d in enumerate(shape_))
    return sort(rows, axis=-1), batch, kept


def _pick(rows: Any, index: Any, lead: tuple) -> Any:
    """``rows[..., index]`` for ``index`` of shape ``lead + batch`` (one per row)."""
    full_shape = lead + _shape(rows)
    picked = take_along_axis(broadcast_to(rows, full_shape),
                             reshape(index, _shape(index) + (1,)), axis=-1)
    return reshape(picked, _shape(picked)[:-1])


def _lerp(a: Any, b: Any, t: Any) -> Any:
    """NumPy's interpolation between neighbours: from the nearer end, so t = 1 gives b."""
    diff_ = subtract(b, a)
    return where(less_equal(0.5, t), subtract(b, multiply(diff_, subtract(1.0, t))),
                 add(a, multiply(diff_, t)))


def _out_dtype(np_fn: Callable, a: Any, q: Any, **kwargs: Any) -> np.dtype:
    """The dtype NumPy's own call gives: read off a call on one-element stand-ins."""
    with np.errstate(all="ignore"):
        return np.result_type(np_fn(np.zeros(1, _dtype(a)), np.zeros((), _dtype(q)), **kwargs))


def _quantile(name: str, a: Any, q: Any, axis: Any, method: str, keepdims: bool,
              ignore_nan: bool, scale: float) -> Any:
    a, q = _operand(a, name), _operand(q, name)
    if method not in _METHODS:
        raise ValueError(f"nanojax.numpy.{name}: method {method!r} is not supported; use one "
                         f"of {', '.join(map(repr, _METHODS))}")
    if not isinstance(q, Tracer):
        qv = np.asarray(q)
        if qv.dtype.kind not in "biuf":
            raise TypeError(f"nanojax.numpy.{name}: q must be real numbers, got {qv.dtype}")
        if np.any((qv < 0) | (qv > scale)):
            what = "Percentiles" if scale == 100.0 else "Quantiles"
            raise ValueError(f"nanojax.numpy.{name}: {what} must be in the range [0, "
                             f"{scale:g}]")
    np_fn = {(False, 1.0): np.quantile, (True, 1.0): np.nanquantile,
             (False, 100.0): np.percentile, (True, 100.0): np.nanpercentile}[ignore_nan, scale]
    dtype = _out_dtype(np_fn, a, q, method=method)
    if scale != 1.0:
        q = divide(q, scale)
    q = astype(q, np.float64) if _dtype(q).kind != "f" else q
    rows, batch, kept = _sorted_rows(name, a, axis)
    n = _shape(rows)[-1]
    lead = _shape(q)
    qb = reshape(q, lead + (1,) * len(batch))
    if ignore_nan and _inexact_kind(rows):
        count: Any = _sum(astype(logical_not(isnan(rows)), np.int64), axis=-1)
        last = subtract(astype(count, np.float64), 1.0)
    else:
        last = float(n - 1)
    position = multiply(qb, last)
    if method == "lower":
        position = floor(position)
    elif method == "higher":
        position = ceil(position)
    elif method == "nearest":
        position = _round(position)
    elif method == "midpoint":
        position = multiply(add(floor(position), ceil(position)), 0.5)
    below = floor(position)
    lo = astype(clip(below, 0.0, float(n - 1)), np.int64)
    hi = astype(clip(add(below, 1.0), 0.0, float(n - 1)), np.int64)
    values = rows if _inexact_kind(rows) else astype(rows, dtype)
    low_value = _pick(values, broadcast_to(lo, lead + batch), lead)
    if method in ("lower", "higher", "nearest"):
        result = low_value
    else:
        high_value = _pick(values, broadcast_to(hi, lead + batch), lead)
        gamma = subtract(position, below)
        if method == "midpoint":
            gamma = where(equal(gamma, 0.0), 0.0, 0.5)
        result = _lerp(low_value, high_value, astype(gamma, _dtype(values)))
    if not ignore_nan and _inexact_kind(rows):
        result = where(_any(isnan(rows), axis=-1), np.nan, result)      # NaN is sorted last
    if keepdims:
        result = reshape(result, lead + kept)
    return astype(result, dtype)


def _quantile_api(name: str, ignore_nan: bool, scale: float) -> Callable:
    np_fn = getattr(np, name)

    def eager(name_: str, np_fn_: Callable, a: Any, q: Any, axis: Any = None, **kw: Any) -> Any:
        _refuse_out(name, kw.pop("out", None))
        if kw.get("weights") is not None:
            raise NotImplementedError(f"nanojax.numpy.{name}: weights= is not supported")
        kw.pop("weights", None)
        kw.pop("overwrite_input", None)
        if kw.get("interpolation") is None:
            kw.pop("interpolation", None)
        return _args.call_numpy(name, np_fn_, a, q, axis=axis, **kw)

    @numpy_or_traced(np_fn, name=name, arrays=2, eager=eager, numpy_order=False)
    def fn(a: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
           method: str = "linear", keepdims: bool = False, *, weights: Any = None,
           interpolation: Any = None) -> Any:
        _refuse_out(name, out)
        if weights is not None:
            raise NotImplementedError(f"nanojax.numpy.{name}: weights= is not supported")
        return _quantile(name, a, q, axis, interpolation or method, keepdims, ignore_nan,
                         scale)
    what = "percentile" if scale == 100.0 else "quantile"
    fn.__doc__ = (f"The ``q``-th {what} along ``axis``{' ignoring NaN' if ignore_nan else ''}"
                  f"; ``method`` one of {', '.join(_METHODS)} (JAX's).")
    return fn


quantile = _quantile_api("quantile", False, 1.0)
nanquantile = _quantile_api("nanquantile", True, 1.0)
percentile = _quantile_api("percentile", False, 100.0)
nanpercentile = _quantile_api("nanpercentile", True, 100.0)


def _median(name: str, a: Any, axis: Any, keepdims: bool, ignore_nan: bool) -> Any:
    a = _operand(a, name)
    dtype = np.result_type(getattr(np, name)(np.zeros(1, _dtype(a))))
    rows, batch, kept = _sorted_rows(name, a, axis)
    rows = rows if _inexact_kind(rows) else astype(rows, dtype)
    n = _shape(rows)[-1]
    if ignore_nan and _inexact_kind(rows):
        count = _sum(astype(logical_not(isnan(rows)), np.int64), axis=-1)
        lo = clip(P.floor_divide_p.bind(subtract(count, 1), 2), 0, n - 1)
        hi = clip(P.floor_divide_p.bind(count, 2), 0, n - 1)
        low, high = _pick(rows, lo, ()), _pick(rows, hi, ())
        result = where(equal(lo, hi), low, divide(add(low, high), 2.0))
    else:
        # NumPy's: the middle value, or the mean of the middle two.
        low, high = _along(rows, len(batch), (n - 1) // 2), _along(rows, len(batch), n // 2)
        result = low if n % 2 else divide(add(low, high), 2.0)
        if _inexact_kind(rows):
            result = where(_any(isnan(rows), axis=-1), np.nan, result)
    if keepdims:
        result = reshape(result, kept)
    return astype(result, dtype)


def _median_api(name: str, ignore_nan: bool) -> Callable:
    def eager(name_: str, np_fn: Callable, a: Any, axis: Any = None, **kw: Any) -> Any:
        _refuse_out(name, kw.pop("out", None))
        return _args.call_numpy(name, np_fn, a, axis=axis, **kw)

    @numpy_or_traced(getattr(np, name), name=name, eager=eager, numpy_order=False)
    def fn(a: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
           keepdims: bool = False) -> Any:
        _refuse_out(name, out)
        return _median(name, a, axis, keepdims, ignore_nan)
    fn.__doc__ = (f"The median along ``axis``{' ignoring NaN' if ignore_nan else ''}: the "
                  "middle value, or the mean of the middle two.")
    return fn


median = _median_api("median", False)
nanmedian = _median_api("nanmedian", True)


# ----- Averages and covariances -----------------------------------------------------------

def _eager_average(name: str, np_fn: Callable, a: Any, axis: Any = None, weights: Any = None,
                   returned: bool = False, **kw: Any) -> Any:
    if _args.has_tracer(weights):
        return _average(_operand(a, name), axis, weights, returned, **kw)
    return _args.call_numpy(name, np_fn, a, axis=axis, weights=weights, returned=returned,
                            **kw)


def _average(a: Any, axis: Any = None, weights: Any = None, returned: bool = False, *,
             keepdims: bool = False) -> Any:
    """The weighted mean ``_sum(a * w) / _sum(w)`` along ``axis``; with ``returned``,
    also the sum of the weights (broadcast to the result's shape)."""
    name = "average"
    a = _operand(a, name)
    if weights is None:
        avg = mean(a, axis=axis, keepdims=keepdims)
        scale = float(np.prod(_shape(a), dtype=np.int64)) / builtins.max(
            int(np.prod(_shape(avg), dtype=np.int64)), 1)
        return (avg, broadcast_to(astype(scale, _dtype(avg)), _shape(avg))) if returned else avg
    weights = _operand(weights, name)
    dtype = (np.result_type(_dtype(a), _dtype(weights), "f8")
             if _dtype(a).kind in "iub" else np.result_type(_dtype(a), _dtype(weights)))
    if _shape(a) != _shape(weights):
        if axis is None:
            raise TypeError("nanojax.numpy.average: Axis must be specified when shapes of a "
                            "and weights differ.")
        axes = _args.axes(name, axis, _ndim(a))
        order = tuple(np.argsort(tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)))
        if _shape(weights) != tuple(_shape(a)[i] for i in (
                tuple(axis) if isinstance(axis, (tuple, list)) else (axis,))):
            raise ValueError("nanojax.numpy.average: Shape of weights must be consistent "
                             "with shape of a along specified axis.")
        weights = reshape(transpose(weights, order) if len(order) > 1 else weights,
                          tuple(s if i in axes else 1 for i, s in enumerate(_shape(a))))
    total = _sum(astype(weights, dtype), axis=axis, keepdims=keepdims)
    avg = divide(_sum(multiply(astype(a, dtype), astype(weights, dtype)), axis=axis,
                     keepdims=keepdims), total)
    if returned:
        return avg, broadcast_to(total, _shape(avg))
    return avg


average = numpy_or_traced(np.average, name="average", eager=_eager_average,
                          numpy_order=False)(_average)


def _rows_of(name: str, m: Any, rowvar: bool, dtype: Any) -> Any:
    x = _operand(m, name)
    if _ndim(x) > 2:
        raise ValueError(f"nanojax.numpy.{name}: m has more than 2 dimensions")
    x = astype(x, dtype)
    if _ndim(x) < 2:
        x = reshape(x, (1, -1) if _ndim(x) else (1, 1))
    if not rowvar and _shape(x)[0] != 1:
        x = transpose(x)
    return x


@numpy_or_traced(arrays=2, eager=lambda name, np_fn, *a, **k: _args.call_numpy(
    name, np_fn, *a, **k), numpy_order=False)
def cov(m: Any, y: Any = None, rowvar: bool = True, bias: bool = False, ddof: Any = None,
        fweights: Any = None, aweights: Any = None, *, dtype: Any = None) -> Any:
    """The covariance matrix of the variables in the rows of ``m`` (and of ``y``), with
    NumPy's frequency and reliability weights."""
    name = "cov"
    if dtype is None:
        dtype = np.result_type(*[_dtype(_operand(v, name)) for v in (m, y) if v is not None],
                               np.float64)
    x = _rows_of(name, m, rowvar, dtype)
    if y is not None:
        x = concatenate([x, _rows_of(name, y, rowvar, dtype)], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    w = None
    if fweights is not None:
        w = astype(_operand(fweights, name), np.float64)
    if aweights is not None:
        aw = astype(_operand(aweights, name), np.float64)
        w = aw if w is None else multiply(w, aw)
    n_obs = _shape(x)[1]
    if w is None:
        avg = mean(x, axis=1)
        fact: Any = float(n_obs - ddof)
    else:
        avg, w_sum = _average(x, axis=1, weights=w, returned=True)
        w_sum = w_sum[0]
        if ddof == 0:
            fact = w_sum
        elif aweights is None:
            fact = subtract(w_sum, float(ddof))
        else:
            fact = subtract(w_sum, divide(multiply(float(ddof), _sum(multiply(w, aw))), w_sum))
    fact = builtins.max(fact, 0.0) if type(fact) is float else where(
        less(fact, 0.0), 0.0, fact)
    x = subtract(x, reshape(avg, (-1, 1)))
    x_t = transpose(x) if w is None else transpose(multiply(x, w))
    c = multiply(dot(x, x_t), divide(1.0, fact))
    return reshape(c, tuple(d for d in _shape(c) if d != 1))


@numpy_or_traced(arrays=2, eager=lambda name, np_fn, *a, **k: _args.call_numpy(
    name, np_fn, *a, **k), numpy_order=False)
def corrcoef(x: Any, y: Any = None, rowvar: bool = True, *, dtype: Any = None) -> Any:
    """Pearson's correlation coefficients, ``cov / outer(std, std)``, clipped to [-1, 1]."""
    c = cov(x, y, rowvar, dtype=dtype)
    if _ndim(c) == 0:
        return divide(c, c)
    d = sqrt(getitem(c, (np.arange(_shape(c)[0]), np.arange(_shape(c)[0]))))
    c = divide(divide(c, reshape(d, (-1, 1))), reshape(d, (1, -1)))
    return clip(c, -1.0, 1.0)


# ----- Histograms and counts ----------------------------------------------------------------

def _bin_count(name: str, bins: Any) -> int | None:
    """``bins`` as a number of bins, or None for an array of edges."""
    if isinstance(bins, str):
        raise NotImplementedError(f"nanojax.numpy.{name}: bins={bins!r} (an estimator) needs "
                                  "concrete values; pass a number of bins or the edges")
    if _args.is_int(bins):
        if bins < 1:
            raise ValueError(f"nanojax.numpy.{name}: `bins` must be positive, when an integer")
        return int(bins)
    if isinstance(bins, (np.ndarray, np.generic)) and np.ndim(bins) == 0 and \
            np.asarray(bins).dtype.kind in "iu":
        return _bin_count(name, int(bins))
    return None


def _edges(name: str, a: Any, bins: Any, range_: Any, int_dtype_to_float: bool = True) -> Any:
    n = _bin_count(name, bins)
    if n is None:
        edges = _operand(bins, name)
        if _ndim(edges) != 1:
            raise ValueError(f"nanojax.numpy.{name}: `bins` must be 1d, when an array")
        if not isinstance(edges, Tracer) and np.any(np.diff(edges) < 0):
            raise ValueError(f"nanojax.numpy.{name}: `bins` must increase monotonically, "
                             "when an array")
        return edges
    if range_ is not None:
        first, last = _concrete(name, "range", range_)
        if first > last:
            raise ValueError(f"nanojax.numpy.{name}: max must be larger than min in range "
                             "parameter.")
        if not (np.isfinite(first) and np.isfinite(last)):
            raise ValueError(f"nanojax.numpy.{name}: supplied range of [{first}, {last}] is "
                             "not finite")
    elif _shape(a) and 0 in _shape(a):
        first, last = 0, 1
    else:
        first, last = amin(a), amax(a)
    same = equal(first, last)
    first = where(same, subtract(first, 0.5), first)
    last = where(same, add(last, 0.5), last)
    dtype = np.result_type(_dtype(first), _dtype(last), _dtype(a))
    if dtype.kind in "iub":
        dtype = np.dtype(np.float64)
    # np.linspace's steps: i * step + first, with the last edge exactly ``last``.
    step = divide(subtract(last, first), float(n))
    inner = add(multiply(np.arange(n, dtype=np.float64), step), first)
    edges = concatenate([astype(inner, dtype), reshape(astype(last, dtype), (1,))])
    return edges


def _eager_histogram(name: str, np_fn: Callable, a: Any, bins: Any = 10, **kw: Any) -> Any:
    if _args.has_tracer((bins, kw.get("weights"))):
        body = _histogram if name == "histogram" else _histogram_bin_edges
        return body(_operand(a, name), bins, **kw)
    return _args.call_numpy(name, np_fn, a, bins=bins, **kw)


def _histogram_bin_edges(a: Any, bins: Any = 10, range: Any = None,  # noqa: A002 - NumPy's
                        weights: Any = None) -> Any:
    """The edges ``histogram`` uses: ``bins`` equal bins over ``range`` (by default
    the data's), or the edges given."""
    return _edges("histogram_bin_edges", ravel(a), bins, range)


histogram_bin_edges = numpy_or_traced(np.histogram_bin_edges, name="histogram_bin_edges",
                                      eager=_eager_histogram,
                                      numpy_order=False)(_histogram_bin_edges)


def _one_hot_bins(x: Any, edges: Any) -> Any:
    """``(N, bins)`` booleans: sample i falls in bin k, ``edges[k] <= x < edges[k+1]``,
    the last bin closed on the right (as NumPy)."""
    xs = reshape(x, (-1, 1))
    lower = reshape(getitem(edges, slice(None, -1)), (1, -1))
    upper = reshape(getitem(edges, slice(1, None)), (1, -1))
    nb = _shape(edges)[0] - 1
    last = np.arange(nb) == nb - 1
    below_upper = where(last, less_equal(xs, upper), less(xs, upper))
    return logical_and(less_equal(lower, xs), below_upper)


def _histogram(a: Any, bins: Any = 10, range: Any = None, density: Any = None,  # noqa: A002
              weights: Any = None) -> tuple[Any, Any]:
    """``(counts, edges)``: how many of ``a`` (or how much ``weights``) fall in each
    bin. The counts have no gradient; weights and edges may be traced."""
    name = "histogram"
    x = ravel(_operand(a, name))
    edges = _edges(name, x, bins, range)
    inside = _one_hot_bins(P.stop_gradient_p.bind(x) if isinstance(x, Tracer) else x,
                           P.stop_gradient_p.bind(edges) if isinstance(edges, Tracer) else edges)
    if weights is None:
        counts = _sum(astype(inside, np.int64), axis=0)
    else:
        w = ravel(_operand(weights, name))
        if _shape(w) != _shape(x):
            raise ValueError(f"nanojax.numpy.{name}: weights should have the same shape as a.")
        counts = _sum(where(inside, reshape(w, (-1, 1)), 0), axis=0)
    if density:
        widths = astype(subtract(getitem(edges, slice(1, None)), getitem(edges, slice(None, -1))),
                        np.float64)
        return divide(divide(counts, widths), _sum(counts)), edges
    return counts, edges


histogram = numpy_or_traced(np.histogram, name="histogram", eager=_eager_histogram,
                            numpy_order=False)(_histogram)


def _pair(name: str, bins: Any) -> tuple[Any, Any]:
    if isinstance(bins, (list, tuple)) and len(bins) == 2:
        return bins[0], bins[1]
    return bins, bins


@numpy_or_traced(arrays=2, eager=lambda name, np_fn, *a, **k: _args.call_numpy(
    name, np_fn, *a, **k), numpy_order=False)
def histogram2d(x: Any, y: Any, bins: Any = 10, range: Any = None,  # noqa: A002
                density: Any = None, weights: Any = None) -> tuple[Any, Any, Any]:
    """``(counts, xedges, yedges)``: the two-dimensional histogram of the points
    ``(x, y)`` (float counts, as NumPy's)."""
    name = "histogram2d"
    x, y = ravel(_operand(x, name)), ravel(_operand(y, name))
    if _shape(x) != _shape(y):
        raise ValueError(f"nanojax.numpy.{name}: x and y must have the same length")
    xbins, ybins = _pair(name, bins)
    xrange, yrange = (None, None) if range is None else range
    xedges = astype(_edges(name, x, xbins, xrange), np.float64)
    yedges = astype(_edges(name, y, ybins, yrange), np.float64)

    def stop(v: Any) -> Any:
        return P.stop_gradient_p.bind(v) if isinstance(v, Tracer) else v
    in_x = astype(_one_hot_bins(stop(x), stop(xedges)), np.float64)
    in_y = astype(_one_hot_bins(stop(y), stop(yedges)), np.float64)
    if weights is not None:
        in_y = multiply(in_y, reshape(astype(ravel(_operand(weights, name)), np.float64),
                                      (-1, 1)))
    counts = dot(transpose(in_x), in_y)
    if density:
        dx = subtract(getitem(xedges, slice(1, None)), getitem(xedges, slice(None, -1)))
        dy = subtract(getitem(yedges, slice(1, None)), getitem(yedges, slice(None, -1)))
        counts = divide(divide(divide(counts, reshape(dx, (-1, 1))), reshape(dy, (1, -1))),
                        _sum(counts))
    return counts, xedges, yedges


def bincount(x: Any, weights: Any = None, minlength: int = 0, *, length: int | None = None
             ) -> Any:
    """How often each value ``0, 1, ...`` occurs in ``x`` (or the sum of its ``weights``).

    As JAX: ``length`` fixes the result's length (values from ``length`` up are
    dropped), and a traced ``x`` needs it, since the length would depend on
    its values. A traced negative value counts as 0 (eagerly NumPy raises).
    """
    name = "bincount"
    minlength = _concrete(name, "minlength", minlength)
    if length is not None:
        length = operator.index(_concrete(name, "length", length))
    if not _args.has_tracer((x, weights)):
        out = _args.call_numpy(name, np.bincount, x, *([] if weights is None else [weights]),
                               minlength=builtins.max(minlength or 0, length or 0))
        return out if length is None else out[:length]
    x = _operand(x, name)
    if _dtype(x).kind not in "iub":
        raise TypeError(f"nanojax.numpy.{name}: x must be an array of non-negative integers, "
                        f"got {_dtype(x)}")
    if _ndim(x) != 1:
        raise ValueError(f"nanojax.numpy.{name}: x must be one-dimensional, got shape "
                         f"{_shape(x)}")
    if length is None:
        raise ConcretizationTypeError("length", None, "nanojax.numpy.bincount: with a traced "
                                      "x the result's length depends on its values; pass "
                                      "length= (a Python int), as in JAX")
    hits = equal(reshape(clip(astype(x, np.int64), 0, None), (-1, 1)),
                 reshape(np.arange(length), (1, -1)))
    if weights is None:
        return _sum(astype(hits, np.int64), axis=0)
    w = astype(_operand(weights, name), np.float64)
    if _shape(w) != _shape(x):
        raise ValueError(f"nanojax.numpy.{name}: weights must have the shape of x, got "
                         f"{_shape(w)} and {_shape(x)}")
    return _sum(where(hits, reshape(w, (-1, 1)), 0.0), axis=0)


# ----- Differences, integrals, interpolation -------------------------------------------------

@numpy_or_traced(numpy_order=False)
def diff(a: Any, n: int = 1, axis: int = -1, prepend: Any = None, append: Any = None) -> Any:
    """The ``n``-th differences along ``axis`` (``a[1:] - a[:-1]``, ``!=`` for booleans),
    after ``prepend`` and ``append`` join ``a`` there."""
    name = "diff"
    a = _operand(a, name)
    if not _args.is_int(n):
        raise TypeError(f"nanojax.numpy.{name}: n must be an int, got {n!r}")
    if n < 0:
        raise ValueError(f"nanojax.numpy.{name}: order must be non-negative but got {n!r}")
    if n == 0:
        return a
    if _ndim(a) == 0:
        raise ValueError(f"nanojax.numpy.{name}: diff requires input that is at least one "
                         "dimensional")
    ax = _args.axis_index(name, axis, _ndim(a))
    if prepend is not None or append is not None:
        def joined(extra: Any) -> Any:
            extra = _operand(extra, name)
            if _ndim(extra) == 0:
                extra = broadcast_to(extra, tuple(1 if i == ax else d
                                                  for i, d in enumerate(_shape(a))))
            return extra
        a = concatenate([joined(prepend)] * (prepend is not None) + [a]
                        + [joined(append)] * (append is not None), axis=ax)
    op = not_equal if _dtype(a) == np.bool_ else subtract
    for _ in range(n):
        a = op(_along(a, ax, slice(1, None)), _along(a, ax, slice(None, -1)))
    return a


@numpy_or_traced(numpy_order=False)
def ediff1d(ary: Any, to_end: Any = None, to_begin: Any = None) -> Any:
    """The differences of the flattened array, with ``to_begin`` and ``to_end`` around them."""
    flat = ravel(_operand(ary, "ediff1d"))
    pieces = [subtract(getitem(flat, slice(1, None)), getitem(flat, slice(None, -1)))]
    if to_begin is not None:
        pieces.insert(0, astype(ravel(_operand(to_begin, "ediff1d")), _dtype(flat)))
    if to_end is not None:
        pieces.append(astype(ravel(_operand(to_end, "ediff1d")), _dtype(flat)))
    return concatenate(pieces) if len(pieces) > 1 else pieces[0]


@numpy_or_traced(arrays=3, numpy_order=False)
def interp(x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None,
           period: Any = None) -> Any:
    """Piecewise-linear interpolation of the points ``(xp, fp)`` (``xp`` increasing) at
    ``x``; ``left``/``right`` beyond the ends (default: the end values), or with
    ``period`` the points repeat."""
    name = "interp"
    x, xp, fp = (astype(_operand(v, name), np.float64) for v in (x, xp, fp))
    if _ndim(xp) != 1 or _ndim(fp) != 1:
        raise ValueError(f"nanojax.numpy.{name}: xp and fp must be one-dimensional")
    if _shape(xp) != _shape(fp):
        raise ValueError(f"nanojax.numpy.{name}: fp and xp are not of the same length.")
    if _shape(xp)[0] == 0:
        raise ValueError(f"nanojax.numpy.{name}: array of sample points is empty")
    if period is not None:
        period = _concrete(name, "period", period)
        if period == 0:
            raise ValueError(f"nanojax.numpy.{name}: period must be a non-zero value")
        period = builtins.abs(float(period))
        left = right = None
        x = P.remainder_p.bind(x, period)
        xp = P.remainder_p.bind(xp, period)
        order = P.argsort(xp, 0) if isinstance(xp, Tracer) else np.argsort(xp, kind="stable")
        xp, fp = take(xp, order), take(fp, order)
        xp = concatenate([subtract(getitem(xp, slice(-1, None)), period), xp,
                          add(getitem(xp, slice(0, 1)), period)])
        fp = concatenate([getitem(fp, slice(-1, None)), fp, getitem(fp, slice(0, 1))])
    m = _shape(xp)[0]
    first, last = getitem(xp, 0), getitem(xp, -1)
    left = getitem(fp, 0) if left is None else left
    right = getitem(fp, -1) if right is None else right
    if m == 1:
        inside: Any = broadcast_to(getitem(fp, 0), _shape(x))
    else:
        xs = reshape(x, _shape(x) + (1,))
        below = _sum(astype(less_equal(xp, xs), np.int64), axis=-1)
        j = clip(subtract(below, 1), 0, m - 2)
        x0, x1 = take(xp, j), take(xp, add(j, 1))
        y0, y1 = take(fp, j), take(fp, add(j, 1))
        slope = divide(subtract(y1, y0), subtract(x1, x0))
        inside = add(multiply(slope, subtract(x, x0)), y0)
        inside = where(equal(x, x0), y0, inside)               # NumPy's exact hits
    inside = where(equal(x, last), getitem(fp, -1), inside)
    return where(less(x, first), left, where(less(last, x), right, inside))


def _diff_along(a: Any, ax: int) -> Any:
    return subtract(_along(a, ax, slice(1, None)), _along(a, ax, slice(None, -1)))


@numpy_or_traced(arrays=2, numpy_order=False)
def trapezoid(y: Any, x: Any = None, dx: Any = 1.0, axis: int = -1) -> Any:
    """The integral of ``y`` along ``axis`` by the trapezoidal rule, at points ``x``
    (or spaced ``dx`` apart)."""
    name = "trapezoid"
    y = _operand(y, name)
    ax = _args.axis_index(name, axis, _ndim(y))
    if x is None:
        d = dx
    else:
        x = _operand(x, name)
        if _ndim(x) == 1:
            d = reshape(_diff_along(x, 0), tuple(-1 if i == ax else 1 for i in range(_ndim(y))))
        else:
            d = _diff_along(x, ax)
    halves = divide(multiply(d, add(_along(y, ax, slice(1, None)),
                                    _along(y, ax, slice(None, -1)))), 2.0)
    return _sum(halves, axis=ax)


def _spacing(name: str, f: Any, axes: tuple, varargs: tuple) -> list:
    """Each axis's spacing: a number, or (for coordinates) the 1-d differences."""
    if not varargs:
        return [1.0] * len(axes)
    if len(varargs) == 1 and np.ndim(varargs[0]) == 0 and not isinstance(varargs[0], Tracer):
        return list(varargs) * len(axes)
    if len(varargs) == 1 and isinstance(varargs[0], Tracer) and varargs[0].ndim == 0:
        return list(varargs) * len(axes)
    if len(varargs) != len(axes):
        raise TypeError(f"nanojax.numpy.{name}: invalid number of arguments")
    out = []
    for ax, d in zip(axes, varargs):
        d = _operand(d, name)
        if _ndim(d) == 0:
            out.append(d)
            continue
        if _ndim(d) != 1:
            raise ValueError(f"nanojax.numpy.{name}: distances must be either scalars or 1d")
        if _shape(d)[0] != _shape(f)[ax]:
            raise ValueError(f"nanojax.numpy.{name}: when 1d, distances must match the length "
                             "of the corresponding dimension")
        steps = _diff_along(astype(d, np.float64) if _dtype(d).kind in "iub" else d, 0)
        if not isinstance(steps, Tracer) and np.all(steps == steps[0]):
            out.append(steps[0])           # NumPy's test: even coordinates, one step
        else:
            out.append(steps)
    return out


def _gradient(f: Any, varargs: tuple = (), axis: Any = None, edge_order: int = 1) -> Any:
    name = "gradient"
    f = _operand(f, name)
    if _dtype(f).kind in "iub":
        f = astype(f, np.float64)
    axes = tuple(_args.axes(name, axis, _ndim(f))) if axis is None else tuple(
        _args.axes(name, a, _ndim(f))[0] for a in (axis if isinstance(axis, (tuple, list))
                                                   else (axis,)))
    if edge_order not in (1, 2):
        raise ValueError(f"nanojax.numpy.{name}: 'edge_order' greater than 2 not supported"
                         if edge_order > 2 else f"nanojax.numpy.{name}: 'edge_order' must be 1 "
                         "or 2")
    results = []
    for ax, step in zip(axes, _spacing(name, f, axes, varargs)):
        if _shape(f)[ax] < edge_order + 1:
            raise ValueError(f"nanojax.numpy.{name}: Shape of array too small to calculate a "
                             "numerical gradient, at least (edge_order + 1) elements are "
                             "required.")
        results.append(_gradient_along(f, ax, step, edge_order))
    return results[0] if len(results) == 1 else tuple(results)


def _gradient_along(f: Any, ax: int, step: Any, edge_order: int) -> Any:
    """NumPy's second-order differences inside, first- or second-order at the ends."""
    def at(sl: Any) -> Any:
        return _along(f, ax, sl)

    def shaped(v: Any) -> Any:        # 1-d steps, lined up with ``ax``
        return reshape(v, tuple(-1 if i == ax else 1 for i in range(_ndim(f))))

    uniform = _ndim(step) == 0
    if uniform:
        interior = divide(subtract(at(slice(2, None)), at(slice(None, -2))),
                          multiply(2.0, step))
    else:
        dx1, dx2 = shaped(getitem(step, slice(None, -1))), shaped(getitem(step, slice(1, None)))
        a = divide(negative_(dx2), multiply(dx1, add(dx1, dx2)))
        b = divide(subtract(dx2, dx1), multiply(dx1, dx2))
        c = divide(dx1, multiply(dx2, add(dx1, dx2)))
        interior = add(add(multiply(a, at(slice(None, -2))), multiply(b, at(slice(1, -1)))),
                       multiply(c, at(slice(2, None))))
    if edge_order == 1:
        first = divide(subtract(at(slice(1, 2)), at(slice(0, 1))),
                       step if uniform else getitem(step, slice(0, 1)))
        last = divide(subtract(at(slice(-1, None)), at(slice(-2, -1))),
                      step if uniform else getitem(step, slice(-1, None)))
    else:
        if uniform:
            a0, b0, c0 = divide(-1.5, step), divide(2.0, step), divide(-0.5, step)
            a1, b1, c1 = divide(0.5, step), divide(-2.0, step), divide(1.5, step)
        else:
            dx1, dx2 = getitem(step, 0), getitem(step, 1)
            a0 = negative_(divide(add(multiply(2.0, dx1), dx2), multiply(dx1, add(dx1, dx2))))
            b0 = divide(add(dx1, dx2), multiply(dx1, dx2))
            c0 = negative_(divide(dx1, multiply(dx2, add(dx1, dx2))))
            dx1, dx2 = getitem(step, -2), getitem(step, -1)
            a1 = divide(dx2, multiply(dx1, add(dx1, dx2)))
            b1 = negative_(divide(add(dx2, dx1), multiply(dx1, dx2)))
            c1 = divide(add(multiply(2.0, dx2), dx1), multiply(dx2, add(dx1, dx2)))
        first = add(add(multiply(a0, at(slice(0, 1))), multiply(b0, at(slice(1, 2)))),
                    multiply(c0, at(slice(2, 3))))
        last = add(add(multiply(a1, at(slice(-3, -2))), multiply(b1, at(slice(-2, -1)))),
                   multiply(c1, at(slice(-1, None))))
    return concatenate([first, interior, last], axis=ax)


def negative_(x: Any) -> Any:
    return subtract(0.0, x) if type(x) is float else P.neg(x)


def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    """The gradient of ``f`` sampled on a grid, by central differences inside and
    one-sided ones at the ends; ``varargs`` are the spacings (numbers, or
    coordinates per axis). One array for one axis, else a tuple, as NumPy."""
    if not _args.has_tracer((f, *varargs)):
        return _args.call_numpy("gradient", np.gradient, f, *varargs, axis=axis,
                                edge_order=edge_order)
    return _gradient(_operand(f, "gradient"), varargs, axis, edge_order)


# ----- Convolution and polynomials -------------------------------------------------------------

_MODES = ("full", "same", "valid")


def _convolve(name: str, a: Any, v: Any, mode: str) -> Any:
    a, v = _operand(a, name), _operand(v, name)
    if mode not in _MODES:
        raise ValueError(f"nanojax.numpy.{name}: mode must be one of {_MODES}, got {mode!r}")
    if _ndim(a) != 1 or _ndim(v) != 1:
        raise ValueError(f"nanojax.numpy.{name}: takes one-dimensional arrays, got shapes "
                         f"{_shape(a)} and {_shape(v)}")
    n, m = _shape(a)[0], _shape(v)[0]
    if n == 0 or m == 0:
        raise ValueError(f"nanojax.numpy.{name}: {'a' if n == 0 else 'v'} cannot be empty")
    if m > n:
        a, v, n, m = v, a, m, n                # convolution commutes
    # out[k] = sum_j a[k - j] v[j]: a gather of a (zeros around it), then a product.
    padded = concatenate([zeros(m - 1, _dtype(a)), a, zeros(m - 1, _dtype(a))])
    index = np.arange(n + m - 1)[:, None] - np.arange(m)[None, :] + (m - 1)
    full_ = dot(take(padded, index), v)
    if mode == "full":
        return full_
    if mode == "same":
        start = (m - 1) // 2
        return getitem(full_, slice(start, start + n))
    return getitem(full_, slice(m - 1, n))


@numpy_or_traced(arrays=2, numpy_order=False)
def convolve(a: Any, v: Any, mode: str = "full") -> Any:
    """The discrete linear convolution of two 1-d arrays, ``mode`` 'full', 'same' or 'valid'."""
    return _convolve("convolve", a, v, mode)


@numpy_or_traced(arrays=2, numpy_order=False)
def correlate(a: Any, v: Any, mode: str = "valid") -> Any:
    """The cross-correlation ``c[k] = sum_n a[n + k] v[n]`` of two 1-d arrays."""
    v = _operand(v, "correlate")
    if _ndim(v) == 1 and _shape(v)[0] > _shape(_operand(a, "correlate"))[0] and mode != "full":
        # NumPy's result for a shorter a: the correlation with the roles swapped, reversed.
        return getitem(_convolve("correlate", v, getitem(_operand(a, "correlate"),
                                                        slice(None, None, -1)), mode),
                       slice(None, None, -1))
    return _convolve("correlate", a, getitem(v, slice(None, None, -1))
                     if _ndim(v) == 1 else v, mode)


def _poly_operand(name: str, p: Any) -> Any:
    p = _operand(p, name)
    if _ndim(p) == 0:
        p = reshape(p, (1,))
    if _ndim(p) != 1:
        raise ValueError(f"nanojax.numpy.{name}: a polynomial is a 1-d array of "
                         f"coefficients, got shape {_shape(p)}")
    return p


@numpy_or_traced(arrays=2)
def polyval(p: Any, x: Any) -> Any:
    """The polynomial with coefficients ``p`` (highest power first) at ``x``, by Horner's rule."""
    p = _poly_operand("polyval", p)
    x = _operand(x, "polyval")
    y: Any = np.zeros(_shape(x), _dtype(x))
    for i in range(_shape(p)[0]):
        y = add(multiply(y, x), getitem(p, i))
    return y


def _padded_pair(name: str, a1: Any, a2: Any) -> tuple[Any, Any]:
    a1, a2 = _poly_operand(name, a1), _poly_operand(name, a2)
    gap = _shape(a2)[0] - _shape(a1)[0]
    if gap > 0:
        a1 = concatenate([zeros(gap, _dtype(a1)), a1])
    elif gap < 0:
        a2 = concatenate([zeros(-gap, _dtype(a2)), a2])
    return a1, a2


@numpy_or_traced(arrays=2)
def polyadd(a1: Any, a2: Any) -> Any:
    """The sum of two polynomials."""
    return add(*_padded_pair("polyadd", a1, a2))


@numpy_or_traced(arrays=2)
def polysub(a1: Any, a2: Any) -> Any:
    """The difference of two polynomials."""
    return subtract(*_padded_pair("polysub", a1, a2))


@numpy_or_traced(arrays=2)
def polymul(a1: Any, a2: Any) -> Any:
    """The product of two polynomials (the convolution of their coefficients)."""
    return convolve(_poly_operand("polymul", a1), _poly_operand("polymul", a2))


@numpy_or_traced()
def polyder(p: Any, m: int = 1) -> Any:
    """The ``m``-th derivative of a polynomial."""
    m = operator.index(m)
    if m < 0:
        raise ValueError("nanojax.numpy.polyder: Order of derivative must be positive (see "
                         "polyint)")
    p = _poly_operand("polyder", p)
    for _ in range(m):
        n = _shape(p)[0] - 1
        p = multiply(getitem(p, slice(None, -1)), np.arange(n, 0, -1))
    return p


@numpy_or_traced()
def polyint(p: Any, m: int = 1, k: Any = None) -> Any:
    """The ``m``-th antiderivative of a polynomial, with integration constants ``k``."""
    m = operator.index(m)
    if m < 0:
        raise ValueError("nanojax.numpy.polyint: Order of integral must be positive (see "
                         "polyder)")
    ks = np.zeros(m, float) if k is None else _operand(k, "polyint")
    if _ndim(ks) == 0:
        ks = reshape(ks, (1,))
    if _shape(ks)[0] == 1 and m > 1:
        ks = broadcast_to(getitem(ks, 0), (m,))
    if _shape(ks)[0] < m:
        raise ValueError("nanojax.numpy.polyint: k must be a scalar or a rank-1 array of "
                         "length 1 or >m.")
    p = _poly_operand("polyint", p)
    for i in range(m):
        p = concatenate([divide(p, np.arange(_shape(p)[0], 0, -1)),
                         reshape(astype(getitem(ks, i), np.float64), (1,))])
    return p


@numpy_or_traced()
def poly(seq_of_zeros: Any) -> Any:
    """The coefficients of the monic polynomial with these roots (1-d roots when traced)."""
    roots = _operand(seq_of_zeros, "poly")
    if _ndim(roots) != 1:
        raise NotImplementedError("nanojax.numpy.poly: a traced matrix argument (its "
                                  "characteristic polynomial) is not supported; pass its "
                                  "eigenvalues")
    dtype = _dtype(roots)
    coefficients: Any = np.ones(1, dtype)
    for i in range(_shape(roots)[0]):
        factor = stack([astype(1, dtype) if dtype != np.float64 else 1.0,
                        P.neg(getitem(roots, i))])
        coefficients = convolve(coefficients, factor)
    return coefficients


@numpy_or_traced(arrays=2, numpy_order=False)
def polyfit(x: Any, y: Any, deg: int, rcond: Any = None, full: bool = False, w: Any = None,
            cov: bool = False) -> Any:
    """The least-squares polynomial of degree ``deg`` through the points (NumPy's
    column scaling; ``full`` and ``cov`` need concrete values)."""
    name = "polyfit"
    if full or cov:
        raise NotImplementedError(f"nanojax.numpy.{name}: full= and cov= are not supported "
                                  "on traced values")
    from nanojax.numpy.linalg import lstsq
    deg = operator.index(deg)
    if deg < 0:
        raise ValueError(f"nanojax.numpy.{name}: expected deg >= 0")
    x, y = (astype(_operand(v, name), np.float64) for v in (x, y))
    if _ndim(x) != 1 or _shape(x)[0] == 0:
        raise ValueError(f"nanojax.numpy.{name}: expected a non-empty 1-d x")
    if _ndim(y) not in (1, 2) or _shape(y)[0] != _shape(x)[0]:
        raise ValueError(f"nanojax.numpy.{name}: expected y of x's length, 1-d or 2-d")
    lhs = P.pow(reshape(x, (-1, 1)), np.arange(deg, -1, -1, dtype=np.float64))
    rhs = y
    if w is not None:
        w = astype(_operand(w, name), np.float64)
        lhs = multiply(lhs, reshape(w, (-1, 1)))
        rhs = multiply(rhs, w if _ndim(rhs) == 1 else reshape(w, (-1, 1)))
    if rcond is None:
        rcond = _shape(x)[0] * np.finfo(np.float64).eps
    scale = sqrt(_sum(multiply(lhs, lhs), axis=0))
    coefficients = lstsq(divide(lhs, scale), rhs, rcond)[0]
    return divide(coefficients, scale if _ndim(coefficients) == 1 else reshape(scale, (-1, 1)))
