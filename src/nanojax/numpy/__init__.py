"""NumPy's API for transformable code: ``import nanojax.numpy as jnp``.

With no traced value among the arguments, every function here is a single
check followed by the NumPy call, and returns plain NumPy arrays. With a
traced value it binds nanojax primitives, so the call is recorded,
differentiated or staged by whatever transformation is running.

Examples:
    >>> import nanojax.numpy as jnp
    >>> jnp.tanh(jnp.array([0.0, 1.0]))
    array([0.        , 0.76159416])
"""

from __future__ import annotations

import builtins
import string
from typing import Any, Callable, Sequence

import numpy as np

from nanojax import primitives as P
from nanojax.core import Tracer, concrete_value
from nanojax.primitives import Indexer

# Plain NumPy names that need no tracing.
from numpy import (bool_, dtype, e, float16, float32, float64, inf, int8, int16,  # noqa: F401
                   int32, int64, nan, ndarray, newaxis, pi, uint8)


# ----- Operands ---------------------------------------------------------------

_NUMBER_TYPES = (int, float, bool, complex)


def _has_tracer(x: Any) -> bool:
    if isinstance(x, Tracer):
        return True
    if isinstance(x, (list, tuple)):
        return builtins.any(_has_tracer(e) for e in x)
    return False


def _operand(x: Any, name: str) -> Any:
    """A valid array operand for a traced call: tracer, array or number."""
    if isinstance(x, (Tracer, np.ndarray, np.generic, *_NUMBER_TYPES)):
        if isinstance(x, np.ndarray) and x.dtype.kind in "OSUV":
            raise TypeError(f"nanojax.numpy.{name}: arrays of {x.dtype} (Python objects "
                            "or strings) are not supported; use numeric arrays")
        return x
    if isinstance(x, (list, tuple)):
        return asarray(x)
    raise TypeError(f"nanojax.numpy.{name}: expected an array or a number, got "
                    f"{type(x).__name__} ({x!r:.50})")


def _eager_error(name: str, args: Sequence[Any], err: Exception) -> Exception:
    """Re-word NumPy's TypeError for a bad argument, if one is the cause."""
    for a in args:
        if a is None or isinstance(a, (str, bytes, dict, set)) or (
                not isinstance(a, (np.ndarray, np.generic, list, tuple, *_NUMBER_TYPES))):
            return TypeError(f"nanojax.numpy.{name}: expected an array or a number, got "
                             f"{type(a).__name__} ({a!r:.50})")
    return err


def _reject_non_array(name: str, a: Any) -> None:
    """Raise for None, strings and objects, which NumPy quietly wraps in an array."""
    err = _eager_error(name, (a,), None)
    if err is not None:
        raise err


def _numpy(name: str, np_fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """The eager call: NumPy itself, after refusing what it would quietly accept."""
    for a in args:
        if type(a) is not np.ndarray:
            _reject_non_array(name, a)
    return np_fn(*args, **kwargs)


def _elementwise(name: str, np_fn: Callable, prim: Any) -> Callable:
    if np_fn.nin == 2:
        def fn(x, y, /):
            if isinstance(x, Tracer) or isinstance(y, Tracer):
                return prim.bind(_operand(x, name), _operand(y, name))
            try:
                return np_fn(x, y)
            except TypeError as err:
                raise _eager_error(name, (x, y), err) from None
    else:
        def fn(x, /):
            if isinstance(x, Tracer):
                return prim.bind(x)
            try:
                return np_fn(x)
            except TypeError as err:
                raise _eager_error(name, (x,), err) from None
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``numpy.{np_fn.__name__}``, traceable (primitive ``{prim.name}``)."
    return fn


add = _elementwise("add", np.add, P.add_p)
subtract = _elementwise("subtract", np.subtract, P.sub_p)
multiply = _elementwise("multiply", np.multiply, P.mul_p)
divide = true_divide = _elementwise("divide", np.divide, P.div_p)
maximum = _elementwise("maximum", np.maximum, P.max_p)
minimum = _elementwise("minimum", np.minimum, P.min_p)
equal = _elementwise("equal", np.equal, P.eq_p)
not_equal = _elementwise("not_equal", np.not_equal, P.ne_p)
less = _elementwise("less", np.less, P.lt_p)
less_equal = _elementwise("less_equal", np.less_equal, P.le_p)
greater = _elementwise("greater", np.greater, P.gt_p)
greater_equal = _elementwise("greater_equal", np.greater_equal, P.ge_p)
negative = _elementwise("negative", np.negative, P.neg_p)
exp = _elementwise("exp", np.exp, P.exp_p)
log = _elementwise("log", np.log, P.log_p)
log1p = _elementwise("log1p", np.log1p, P.log1p_p)
tanh = _elementwise("tanh", np.tanh, P.tanh_p)
sin = _elementwise("sin", np.sin, P.sin_p)
cos = _elementwise("cos", np.cos, P.cos_p)
sqrt = _elementwise("sqrt", np.sqrt, P.sqrt_p)
abs = absolute = _elementwise("abs", np.abs, P.abs_p)  # noqa: A001
sign = _elementwise("sign", np.sign, P.sign_p)
floor = _elementwise("floor", np.floor, P.floor_p)


def floor_divide(x: Any, y: Any, /) -> Any:
    """``x // y``: ``floor(x / y)``, integers when both inputs are (no gradient)."""
    if not (isinstance(x, Tracer) or isinstance(y, Tracer)):
        try:
            return np.floor_divide(x, y)
        except TypeError as err:
            raise _eager_error("floor_divide", (x, y), err) from None
    x, y = _operand(x, "floor_divide"), _operand(y, "floor_divide")
    out = floor(divide(x, y))
    both_int = all(P.dtype_of(v).kind in "iu" or type(v) is int for v in (x, y))
    return astype(out, np.result_type(P.dtype_of(x), P.dtype_of(y))) if both_int else out


def remainder(x: Any, y: Any, /) -> Any:
    """``x % y`` with the sign of ``y``, as NumPy: ``x - floor(x / y) * y``.

    Its pull is 1 on ``x`` and ``-floor(x / y)`` on ``y``, as in JAX.
    """
    if not (isinstance(x, Tracer) or isinstance(y, Tracer)):
        try:
            return np.remainder(x, y)
        except TypeError as err:
            raise _eager_error("remainder", (x, y), err) from None
    return subtract(x, multiply(floor_divide(x, y), y))


mod = remainder


def power(x: Any, y: Any, /) -> Any:
    """``x ** y``; a Python int exponent becomes the cheaper ``integer_pow``."""
    if isinstance(x, Tracer) or isinstance(y, Tracer):
        x = _operand(x, "power")
        if type(y) is int:
            return P.integer_pow_p.bind(x, y=y)
        return P.pow_p.bind(x, _operand(y, "power"))
    try:
        return np.power(x, y)
    except TypeError as err:
        raise _eager_error("power", (x, y), err) from None


def square(x: Any, /) -> Any:
    """``x * x``, as ``integer_pow`` with exponent 2."""
    if isinstance(x, Tracer):
        return P.integer_pow_p.bind(x, y=2)
    try:
        return np.square(x)
    except TypeError as err:
        raise _eager_error("square", (x,), err) from None


def reciprocal(x: Any, /) -> Any:
    return divide(1.0, x)


def clip(x: Any, a_min: Any = None, a_max: Any = None) -> Any:
    """Limit ``x`` to ``[a_min, a_max]`` (either bound may be None)."""
    if not _has_tracer((x, a_min, a_max)):
        try:
            return np.clip(x, a_min, a_max)
        except (TypeError, ValueError) as err:
            raise _eager_error("clip", (x, *(v for v in (a_min, a_max) if v is not None)),
                               err) from None
    if a_min is not None:
        x = maximum(x, a_min)
    if a_max is not None:
        x = minimum(x, a_max)
    return x


def where(condition: Any, x: Any = None, y: Any = None, /) -> Any:
    """Elementwise choice: ``x`` where ``condition`` holds, else ``y``."""
    if x is None or y is None:
        if x is None and y is None and not isinstance(condition, Tracer):
            return np.where(condition)
        if (x is None) != (y is None):
            raise TypeError("nanojax.numpy.where: pass both x and y, or neither; got "
                            f"{'x' if x is None else 'y'}=None")
        raise TypeError("jnp.where needs both x and y under a transformation (the "
                        "one-argument form has a data-dependent shape)")
    if not _has_tracer((condition, x, y)):
        for v in (condition, x, y):
            if type(v) is not np.ndarray:
                _reject_non_array("where", v)
        return np.where(condition, x, y)
    condition = _operand(condition, "where")
    if P.dtype_of(condition) != np.bool_:
        condition = not_equal(condition, 0)
    return P.select_n_p.bind(condition, _operand(y, "where"), _operand(x, "where"))


def stop_gradient(x: Any) -> Any:
    """``x``, but with no gradient flowing back through it."""
    from nanojax.tree_util import tree_map
    return tree_map(lambda v: P.stop_gradient_p.bind(v) if isinstance(v, Tracer) else v, x)


# ----- Creation -----------------------------------------------------------------

def asarray(a: Any, dtype: Any = None) -> Any:
    """``numpy.asarray``; a list that holds traced values is stacked."""
    if isinstance(a, Tracer):
        return a if dtype is None else astype(a, dtype)
    if isinstance(a, (list, tuple)) and _has_tracer(a):
        out = stack([asarray(e) for e in a])
        return out if dtype is None else astype(out, dtype)
    try:
        out = np.asarray(a, dtype=dtype)
    except (TypeError, ValueError) as err:
        raise TypeError(f"nanojax.numpy.asarray: cannot make an array from {a!r:.60} "
                        f"({err})") from None
    if out.dtype.kind in "OSUV":
        raise TypeError(f"nanojax.numpy.asarray: {a!r:.60} of type {type(a).__name__} is "
                        "not numeric data; pass arrays, numbers or lists of numbers")
    return out


def array(a: Any, dtype: Any = None) -> Any:
    """``numpy.array`` (a copy); a list that holds traced values is stacked."""
    if _has_tracer(a):
        return asarray(a, dtype)
    out = asarray(a, dtype)
    return np.array(out, copy=True)


def astype(x: Any, dtype: Any) -> Any:
    if isinstance(x, Tracer):
        return P.convert_element_type(x, dtype)
    return np.asarray(x).astype(dtype)


def zeros_like(a: Any, dtype: Any = None) -> np.ndarray:
    return np.zeros(P.shape_of(a), dtype or P.dtype_of(a))


def ones_like(a: Any, dtype: Any = None) -> np.ndarray:
    return np.ones(P.shape_of(a), dtype or P.dtype_of(a))


def full(shape: Any, fill_value: Any, dtype: Any = None) -> Any:
    if _has_tracer((shape,)):
        shape = _concrete_arg(shape, "full")
    if isinstance(fill_value, Tracer):
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        value = fill_value if dtype is None else astype(fill_value, dtype)
        return broadcast_to(value, shape)
    return np.full(shape, fill_value, dtype)


def full_like(a: Any, fill_value: Any, dtype: Any = None) -> Any:
    return full(P.shape_of(a), fill_value, dtype or P.dtype_of(a))


def _concrete_arg(value: Any, name: str) -> Any:
    if isinstance(value, Tracer):
        return value.to_concrete_value(f"nanojax.numpy.{name}'s size argument")
    if isinstance(value, (tuple, list)):
        return type(value)(_concrete_arg(v, name) for v in value)
    return value


def _creation(np_fn: Callable, name: str) -> Callable:
    """A NumPy array constructor whose sizes must be concrete, even under jit.

    NumPy goes first, so the eager call costs nothing extra; only when it
    rejects a traced size are the sizes made concrete (or a
    ConcretizationTypeError says why they can't be).
    """
    def fn(*args: Any, **kwargs: Any) -> np.ndarray:
        try:
            return np_fn(*args, **kwargs)
        except TypeError:
            if not _has_tracer((*args, *kwargs.values())):
                raise
        args = tuple(_concrete_arg(a, name) for a in args)
        return np_fn(*args, **{k: _concrete_arg(v, name) for k, v in kwargs.items()})
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``numpy.{np_fn.__name__}``; its sizes must be concrete (static under jit)."
    return fn


zeros, ones, empty, arange, linspace, eye, identity = (
    _creation(np.zeros, "zeros"), _creation(np.ones, "ones"), _creation(np.zeros, "empty"),
    _creation(np.arange, "arange"), _creation(np.linspace, "linspace"),
    _creation(np.eye, "eye"), _creation(np.identity, "identity"))


# ----- Reductions ---------------------------------------------------------------

def _axes(x: Any, axis: Any, name: str) -> tuple[int, ...]:
    ndim = len(P.shape_of(x))
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"nanojax.numpy.{name}: axis {a} is out of bounds for an "
                             f"array of dimension {ndim}")
        out.append(int(a) % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"nanojax.numpy.{name}: repeated axis in {axis!r}")
    return tuple(sorted(out))


def _keep(out: Any, x: Any, axes: tuple, keepdims: bool) -> Any:
    if not keepdims:
        return out
    shape = tuple(1 if i in axes else d for i, d in enumerate(P.shape_of(x)))
    return P.reshape(out, shape)


def _reduction(name: str, np_fn: Callable, prim: Any) -> Callable:
    def fn(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        if not isinstance(a, Tracer):
            if type(a) is not np.ndarray:
                _reject_non_array(name, a)
            return np_fn(a, axis=axis, keepdims=keepdims)
        axes = _axes(a, axis, name)
        return _keep(prim.bind(a, axes=axes), a, axes, keepdims)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``numpy.{name}`` over ``axis`` (None: all), traceable."
    return fn


sum = _reduction("sum", np.sum, P.reduce_sum_p)  # noqa: A001
max = amax = _reduction("max", np.max, P.reduce_max_p)  # noqa: A001
min = amin = _reduction("min", np.min, P.reduce_min_p)  # noqa: A001
prod = _reduction("prod", np.prod, P.reduce_prod_p)


def mean(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """The average over ``axis``."""
    if not isinstance(a, Tracer):
        if type(a) is not np.ndarray:
            _reject_non_array("mean", a)
        return np.mean(a, axis=axis, keepdims=keepdims)
    axes = _axes(a, axis, "mean")
    count = int(np.prod([P.shape_of(a)[i] for i in axes], dtype=np.int64))
    total = sum(a if np.issubdtype(a.dtype, np.inexact) else astype(a, np.float64),
                axis=axes, keepdims=keepdims)
    return divide(total, float(count))


def var(a: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    """The variance over ``axis``, with ``ddof`` degrees of freedom removed."""
    if not isinstance(a, Tracer):
        if type(a) is not np.ndarray:
            _reject_non_array("var", a)
        return np.var(a, axis=axis, ddof=ddof, keepdims=keepdims)
    axes = _axes(a, axis, "var")
    count = int(np.prod([P.shape_of(a)[i] for i in axes], dtype=np.int64))
    centered = subtract(a, mean(a, axis=axes, keepdims=True))
    return divide(sum(square(centered), axis=axes, keepdims=keepdims), float(count - ddof))


def std(a: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    """The standard deviation over ``axis``."""
    if not isinstance(a, Tracer):
        if type(a) is not np.ndarray:
            _reject_non_array("std", a)
        return np.std(a, axis=axis, ddof=ddof, keepdims=keepdims)
    return sqrt(var(a, axis=axis, ddof=ddof, keepdims=keepdims))


def _argreduction(name: str, np_fn: Callable, prim: Any) -> Callable:
    def fn(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        if not isinstance(a, Tracer):
            if type(a) is not np.ndarray:
                _reject_non_array(name, a)
            return np_fn(a, axis=axis, keepdims=keepdims)
        if axis is None:
            flat = ravel(a)
            out = prim.bind(flat, axes=(0,), index_dtype=np.dtype(np.int64))
            return reshape(out, (1,) * a.ndim) if keepdims else out
        (ax,) = _axes(a, axis, name)
        return _keep(prim.bind(a, axes=(ax,), index_dtype=np.dtype(np.int64)), a, (ax,),
                     keepdims)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``numpy.{name}``: index of the extreme value (no gradient)."
    return fn


def cumsum(a: Any, axis: int | None = None) -> Any:
    """Running sums along ``axis`` (of the flattened array when None)."""
    if not isinstance(a, Tracer):
        return _numpy("cumsum", np.cumsum, a, axis=axis)
    if axis is None:
        a, axis = ravel(a), 0
    (ax,) = _axes(a, axis, "cumsum")
    return P.cumsum_p.bind(a, axis=ax, reverse=False)


argmax = _argreduction("argmax", np.argmax, P.argmax_p)
argmin = _argreduction("argmin", np.argmin, P.argmin_p)


# ----- Tests of values and logic: comparisons and selects, no gradient -----------------

def _bool_operand(x: Any, name: str) -> Any:
    x = _operand(x, name)
    return x if P.dtype_of(x) == np.bool_ else not_equal(x, 0)


def isnan(x: Any, /) -> Any:
    """True where ``x`` is NaN (the one value not equal to itself)."""
    return not_equal(x, x) if isinstance(x, Tracer) else _numpy("isnan", np.isnan, x)


def isinf(x: Any, /) -> Any:
    return equal(abs(x), np.inf) if isinstance(x, Tracer) else _numpy("isinf", np.isinf, x)


def isfinite(x: Any, /) -> Any:
    """True where ``x`` is neither infinite nor NaN (NaN fails every ``<``)."""
    return less(abs(x), np.inf) if isinstance(x, Tracer) else _numpy("isfinite", np.isfinite, x)


def logical_not(x: Any, /) -> Any:
    return equal(_bool_operand(x, "logical_not"), False) if isinstance(x, Tracer) \
        else _numpy("logical_not", np.logical_not, x)


def logical_and(x: Any, y: Any, /) -> Any:
    if not (isinstance(x, Tracer) or isinstance(y, Tracer)):
        return _numpy("logical_and", np.logical_and, x, y)
    return where(_bool_operand(x, "logical_and"), _bool_operand(y, "logical_and"), False)


def logical_or(x: Any, y: Any, /) -> Any:
    if not (isinstance(x, Tracer) or isinstance(y, Tracer)):
        return _numpy("logical_or", np.logical_or, x, y)
    return where(_bool_operand(x, "logical_or"), True, _bool_operand(y, "logical_or"))


def any(a: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    """Whether any element along ``axis`` is true (a max over booleans)."""
    if not isinstance(a, Tracer):
        return _numpy("any", np.any, a, axis=axis, keepdims=keepdims)
    return max(_bool_operand(a, "any"), axis=axis, keepdims=keepdims)


def all(a: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    """Whether every element along ``axis`` is true (a min over booleans)."""
    if not isinstance(a, Tracer):
        return _numpy("all", np.all, a, axis=axis, keepdims=keepdims)
    return min(_bool_operand(a, "all"), axis=axis, keepdims=keepdims)


# ----- Shapes -------------------------------------------------------------------

def reshape(a: Any, shape: Any, order: str = "C") -> Any:
    """``numpy.reshape`` (one dimension may be -1)."""
    if not isinstance(a, Tracer):
        if type(a) is not np.ndarray:
            _reject_non_array("reshape", a)
        return np.reshape(a, shape, order=order)
    if order != "C":
        raise NotImplementedError("nanojax.numpy.reshape: only order='C' is supported")
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise ValueError("nanojax.numpy.reshape: only one dimension can be -1")
    if -1 in shape:
        known = int(np.prod([s for s in shape if s != -1], dtype=np.int64))
        if known == 0 or a.size % known:
            raise ValueError(f"nanojax.numpy.reshape: cannot reshape an array of shape "
                             f"{a.shape} into shape {shape}")
        shape = tuple(a.size // known if s == -1 else s for s in shape)
    return P.reshape(a, shape)


def ravel(a: Any) -> Any:
    return reshape(a, (-1,)) if isinstance(a, Tracer) else np.ravel(a)


def transpose(a: Any, axes: Any = None) -> Any:
    """``numpy.transpose``: reverse the axes, or permute them by ``axes``."""
    if not isinstance(a, Tracer):
        if type(a) is not np.ndarray:
            _reject_non_array("transpose", a)
        return np.transpose(a, axes)
    perm = tuple(reversed(range(a.ndim))) if axes is None else tuple(
        int(i) % a.ndim for i in axes)
    return P.transpose(a, perm)


def expand_dims(a: Any, axis: Any) -> Any:
    """Insert axes of size 1 at the positions ``axis`` (int or tuple)."""
    if not isinstance(a, Tracer):
        if type(a) is not np.ndarray:
            _reject_non_array("expand_dims", a)
        return np.expand_dims(a, axis)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    ndim = a.ndim + len(axes)
    axes = sorted(int(i) % ndim for i in axes)
    shape = list(a.shape)
    for i in axes:
        shape.insert(i, 1)
    kept = tuple(i for i in range(ndim) if i not in axes)
    return P.broadcast_in_dim(a, tuple(shape), kept)


def squeeze(a: Any, axis: Any = None) -> Any:
    """Remove axes of size 1 (all of them, or those in ``axis``)."""
    if not isinstance(a, Tracer):
        if type(a) is not np.ndarray:
            _reject_non_array("squeeze", a)
        return np.squeeze(a, axis)
    if axis is None:
        dims = tuple(i for i, d in enumerate(a.shape) if d == 1)
    else:
        dims = _axes(a, axis, "squeeze")
    return P.squeeze(a, dims)


def broadcast_to(a: Any, shape: Any) -> Any:
    """``numpy.broadcast_to``."""
    if not isinstance(a, Tracer):
        if type(a) is not np.ndarray:
            _reject_non_array("broadcast_to", a)
        return np.broadcast_to(a, shape)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    target = P.broadcast_shapes("broadcast_to", a.aval, P.ShapedArray(shape, a.dtype))
    if target != shape:
        raise ValueError(f"nanojax.numpy.broadcast_to: cannot broadcast shape {a.shape} "
                         f"to {shape}")
    return P.broadcast_to(a, shape)


def concatenate(arrays: Sequence[Any], axis: int = 0) -> Any:
    """Join arrays along an existing axis."""
    if not _has_tracer(tuple(arrays)):
        try:
            return np.concatenate(arrays, axis=axis)
        except (TypeError, ValueError) as err:
            raise _eager_error("concatenate", tuple(arrays), err) from None
    arrays = [_operand(a, "concatenate") for a in arrays]
    arrays = [np.asarray(a) if isinstance(a, _NUMBER_TYPES) else a for a in arrays]
    ndim = len(P.shape_of(arrays[0]))
    if ndim == 0:
        raise ValueError("nanojax.numpy.concatenate: zero-dimensional arrays cannot be "
                         "concatenated")
    return P.concatenate(arrays, int(axis) % ndim)


def stack(arrays: Sequence[Any], axis: int = 0) -> Any:
    """Join arrays along a new axis."""
    if not _has_tracer(tuple(arrays)):
        try:
            return np.stack(arrays, axis=axis)
        except (TypeError, ValueError) as err:
            raise _eager_error("stack", tuple(arrays), err) from None
    arrays = [_operand(a, "stack") for a in arrays]
    shapes = {P.shape_of(a) for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"nanojax.numpy.stack: all arrays must have the same shape, got "
                         f"{sorted(shapes)}")
    return concatenate([expand_dims(a, axis) if isinstance(a, Tracer)
                        else np.expand_dims(a, axis) for a in arrays], axis)


def hstack(arrays: Sequence[Any]) -> Any:
    arrays = [atleast_1d(a) for a in arrays]
    return concatenate(arrays, axis=0 if len(P.shape_of(arrays[0])) == 1 else 1)


def vstack(arrays: Sequence[Any]) -> Any:
    return concatenate([reshape(a, (1, -1)) if len(P.shape_of(a)) < 2 else a
                        for a in arrays], axis=0)


def atleast_1d(a: Any) -> Any:
    return reshape(a, (1,)) if len(P.shape_of(a)) == 0 else a


def shape(a: Any) -> tuple[int, ...]:
    return P.shape_of(a) if isinstance(a, Tracer) else np.shape(a)


def ndim(a: Any) -> int:
    return len(shape(a))


def size(a: Any) -> int:
    return int(np.prod(shape(a), dtype=np.int64))


# ----- Linear algebra -------------------------------------------------------------

def dot(a: Any, b: Any) -> Any:
    """``numpy.dot``: a scalar product, matrix product or tensor contraction."""
    if not (isinstance(a, Tracer) or isinstance(b, Tracer)):
        try:
            return np.dot(a, b)
        except (TypeError, ValueError) as err:
            raise _eager_error("dot", (a, b), err) from None
    a, b = _operand(a, "dot"), _operand(b, "dot")
    na, nb = len(P.shape_of(a)), len(P.shape_of(b))
    if na == 0 or nb == 0:
        return multiply(a, b)
    rc = 0 if nb == 1 else nb - 2
    _check_contract("dot", a, b, na - 1, rc)
    return P.dot_general(a, b, (((na - 1,), (rc,)), ((), ())))


def _check_contract(name: str, a: Any, b: Any, ia: int, ib: int) -> None:
    sa, sb = P.shape_of(a), P.shape_of(b)
    if sa[ia] != sb[ib]:
        raise ValueError(f"nanojax.numpy.{name}: shapes {sa} and {sb} are not aligned: "
                         f"{sa[ia]} (axis {ia}) != {sb[ib]} (axis {ib})")


def matmul(a: Any, b: Any, /) -> Any:
    """``a @ b`` with NumPy's rules for 1-D operands and stacks of matrices."""
    if not (isinstance(a, Tracer) or isinstance(b, Tracer)):
        try:
            return np.matmul(a, b)
        except (TypeError, ValueError) as err:
            raise _eager_error("matmul", (a, b), err) from None
    a, b = _operand(a, "matmul"), _operand(b, "matmul")
    na, nb = len(P.shape_of(a)), len(P.shape_of(b))
    if na == 0 or nb == 0:
        raise ValueError("nanojax.numpy.matmul: operands must be at least 1-D (use * "
                         "for scalars)")
    if na <= 2 and nb <= 2 or na == 1 or nb == 1:
        rc = 0 if nb == 1 else nb - 2
        _check_contract("matmul", a, b, na - 1, rc)
        return P.dot_general(a, b, (((na - 1,), (rc,)), ((), ())))
    try:
        batch = np.broadcast_shapes(P.shape_of(a)[:-2], P.shape_of(b)[:-2])
    except ValueError:
        raise ValueError(f"nanojax.numpy.matmul: the batch dimensions of shapes "
                         f"{P.shape_of(a)} and {P.shape_of(b)} do not broadcast") from None
    a = broadcast_to(a, batch + P.shape_of(a)[-2:])
    b = broadcast_to(b, batch + P.shape_of(b)[-2:])
    n = len(batch)
    _check_contract("matmul", a, b, n + 1, n)
    return P.dot_general(a, b, (((n + 1,), (n,)), (tuple(range(n)), tuple(range(n)))))


def outer(a: Any, b: Any) -> Any:
    """The outer product of two vectors (inputs are flattened)."""
    if not (isinstance(a, Tracer) or isinstance(b, Tracer)):
        try:
            return np.outer(a, b)
        except (TypeError, ValueError) as err:
            raise _eager_error("outer", (a, b), err) from None
    return multiply(reshape(ravel(asarray(a)), (-1, 1)), reshape(ravel(asarray(b)), (1, -1)))


def einsum(subscripts: str, *operands: Any) -> Any:
    """``numpy.einsum`` for one or two operands, by ``dot_general``.

    Each operand's letters must be distinct (no diagonals) and ``...`` is not
    supported under a transformation; letters missing from the output are
    summed over.
    """
    if not _has_tracer(operands):
        try:
            return np.einsum(subscripts, *operands)
        except (TypeError, ValueError) as err:
            raise _eager_error("einsum", operands, err) from None
    if len(operands) not in (1, 2):
        raise NotImplementedError("nanojax.numpy.einsum supports one or two operands "
                                  f"under a transformation, got {len(operands)}")
    spec = subscripts.replace(" ", "")
    if "." in spec:
        raise NotImplementedError("nanojax.numpy.einsum: '...' is not supported under a "
                                  "transformation; spell out the axes")
    ins, _, out = spec.partition("->")
    in_specs = ins.split(",")
    if len(in_specs) != len(operands):
        raise ValueError(f"nanojax.numpy.einsum: {subscripts!r} names {len(in_specs)} "
                         f"operands, got {len(operands)}")
    if not _:
        letters = "".join(in_specs)
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    operands = [_operand(o, "einsum") for o in operands]
    for s, o in zip(in_specs, operands):
        if len(set(s)) != len(s) or len(s) != len(P.shape_of(o)) or not set(s) <= set(
                string.ascii_letters):
            raise ValueError(f"nanojax.numpy.einsum: operand spec {s!r} must name each of "
                             f"the {len(P.shape_of(o))} axes once (no repeated letters)")
    # Sum away letters that appear in one operand only and not in the output.
    specs = []
    for i, (s, o) in enumerate(zip(in_specs, operands)):
        others = "".join(in_specs[:i] + in_specs[i + 1:])
        drop = tuple(k for k, c in enumerate(s) if c not in out and c not in others)
        if drop:
            o = P.reduce_sum(o, drop)
            s = "".join(c for k, c in enumerate(s) if k not in drop)
        operands[i], specs_i = o, s
        specs.append(specs_i)
    if len(operands) == 1:
        (s,), (o,) = specs, operands
        return P.transpose(o, tuple(s.index(c) for c in out)) if s != out else o
    (sa, sb), (a, b) = specs, operands
    shared = [c for c in sa if c in sb]
    batch = [c for c in shared if c in out]
    contract = [c for c in shared if c not in out]
    dims = ((tuple(sa.index(c) for c in contract), tuple(sb.index(c) for c in contract)),
            (tuple(sa.index(c) for c in batch), tuple(sb.index(c) for c in batch)))
    result = P.dot_general(a, b, dims)
    got = "".join(batch) + "".join(c for c in sa if c not in shared) + "".join(
        c for c in sb if c not in shared)
    return P.transpose(result, tuple(got.index(c) for c in out)) if got != out else result


# ----- Indexing -------------------------------------------------------------------

def _index_item(item: Any, arrays: list) -> Any:
    if item is None or item is Ellipsis:
        return item
    if isinstance(item, (bool, np.bool_)):
        raise IndexError("nanojax: a lone True/False index is not supported")
    if isinstance(item, (int, np.integer)):
        return int(item)
    if isinstance(item, slice):
        parts = tuple(None if v is None else int(concrete_value(v, "A slice bound"))
                      for v in (item.start, item.stop, item.step))
        return parts
    if isinstance(item, (list, tuple)):
        item = asarray(item)
    if isinstance(item, Tracer):
        if item.dtype == np.bool_:
            item = np.asarray(concrete_value(item, "Boolean mask indexing"))
        elif item.dtype.kind not in "iu":
            raise IndexError(f"nanojax: index arrays must be integers, got {item.dtype}")
    if isinstance(item, np.ndarray) and item.dtype == np.bool_:
        positions = np.nonzero(item)
        arrays.extend(positions)
        return (Indexer.ARRAY,) * len(positions)
    if isinstance(item, (np.ndarray, Tracer)):
        if item.dtype.kind not in "iu":
            raise IndexError(f"nanojax: index arrays must be integers, got {item.dtype}")
        arrays.append(item)
        return Indexer.ARRAY
    raise IndexError(f"nanojax: unsupported index {item!r:.50} of type "
                     f"{type(item).__name__}; use ints, slices, None, ... or integer arrays")


def _indexer(idx: Any) -> tuple[Indexer, list]:
    items = idx if isinstance(idx, tuple) else (idx,)
    arrays: list = []
    out: list = []
    for item in items:
        it = _index_item(item, arrays)
        if isinstance(it, tuple) and it and it[0] == Indexer.ARRAY:
            out.extend(it)
        else:
            out.append(it)
    return Indexer(tuple(out)), arrays


def getitem(x: Any, idx: Any) -> Any:
    """``x[idx]`` for ints, slices, None, ``...`` and integer (or mask) arrays."""
    if not isinstance(x, Tracer) and not _has_tracer(idx if isinstance(idx, tuple) else (idx,)):
        return np.asarray(x)[idx]
    indexer, arrays = _indexer(idx)
    return P.gather(_operand(x, "getitem"), *arrays, indexer=indexer)


class _IndexUpdateRef:
    __slots__ = ("x", "idx")

    def __init__(self, x: Any, idx: Any) -> None:
        self.x, self.idx = x, idx

    def get(self) -> Any:
        return getitem(self.x, self.idx)

    def set(self, values: Any) -> Any:
        return self._scatter(P.scatter_p, values)

    def add(self, values: Any) -> Any:
        return self._scatter(P.scatter_add_p, values)

    def _scatter(self, prim: Any, values: Any) -> Any:
        indexer, arrays = _indexer(self.idx)
        return prim.bind(_operand(self.x, "at"), _operand(values, "at"), *arrays,
                         indexer=indexer)


class _IndexUpdateHelper:
    """``x.at[idx].set(v)``, ``.add(v)``, ``.get()``: new arrays, x untouched."""

    __slots__ = ("x",)

    def __init__(self, x: Any) -> None:
        self.x = x

    def __getitem__(self, idx: Any) -> _IndexUpdateRef:
        return _IndexUpdateRef(self.x, idx)


def at(x: Any) -> _IndexUpdateHelper:
    """Functional updates for plain NumPy arrays too: ``jnp.at(x)[i].set(v)``.

    Traced values have ``x.at[i].set(v)`` as in JAX; a NumPy array cannot
    grow an ``.at`` attribute, so code that must run on both spells it this
    way. Neither form modifies ``x``.

    >>> import nanojax.numpy as jnp
    >>> x = jnp.zeros(3)
    >>> jnp.at(x)[1].add(5.0), x
    (array([0., 5., 0.]), array([0., 0., 0.]))
    """
    return _IndexUpdateHelper(x)


from nanojax.numpy import linalg  # noqa: E402,F401
from nanojax.numpy import _tracer_methods  # noqa: E402,F401  (installs operators)
