"""NumPy's API for transformable code: ``import nanojax.numpy as jnp``.

With no traced value among the arguments, every function here is a single
check followed by the NumPy call, and returns plain NumPy arrays. With a
traced value it binds nanojax primitives, so the call is recorded,
differentiated or staged by whatever transformation is running. Either way
the values, dtypes and errors are NumPy's: an error names the function
(``nanojax.numpy.sum: ...``) and has the type NumPy gives it.

This module defines ``sum``, ``max``, ``abs``, ``round``, ``all``... under
their NumPy names, so inside it a bare ``sum`` is never Python's:
``builtins.sum`` is spelled out, and a test keeps it that way.

Examples:
    >>> import nanojax.numpy as jnp
    >>> jnp.tanh(jnp.array([0.0, 1.0]))
    array([0.        , 0.76159416])
"""

from __future__ import annotations

import builtins
from typing import Any, Callable, Sequence

import numpy as np

from nanojax import primitives as P
from nanojax.core import Tracer
from nanojax.numpy import _args
from nanojax.numpy._args import PLAIN as _PLAIN
from nanojax.numpy._args import call_numpy as _call_numpy
from nanojax.numpy._args import check_numeric as _check_numeric
from nanojax.numpy._args import public as _public
from nanojax.numpy._args import reworded as _reworded

# Plain NumPy names that need no tracing.
from numpy import (bool_, dtype, e, float16, float32, float64, inf, int8, int16,  # noqa: F401
                   int32, int64, nan, ndarray, newaxis, pi, uint8)


# ----- Operands ---------------------------------------------------------------

def _has_tracer(x: Any) -> bool:
    if isinstance(x, Tracer):
        return True
    if isinstance(x, (list, tuple)):
        return builtins.any(_has_tracer(e) for e in x)
    return False


def _operand(x: Any, name: str) -> Any:
    """A valid array operand for a traced call: a tracer, an array or a number."""
    if isinstance(x, Tracer):
        return x
    kind = type(x)
    if kind is np.ndarray:
        if x.dtype.kind not in _args.NUMERIC_KINDS:
            _check_numeric(name, x)
        return x
    if kind in _PLAIN:
        return x
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(f"{_public(name)}: masked arrays are not supported (the mask would "
                        "be ignored); pass x.filled(value) or a plain array")
    if isinstance(x, np.ndarray):
        _check_numeric(name, x)
        return np.asarray(x)                 # np.matrix and friends: a plain ndarray
    if isinstance(x, (list, tuple)):
        return asarray(x) if _has_tracer(x) else _checked_asarray(name, x)
    _check_numeric(name, x)
    return x


def _checked_asarray(name: str, x: Any) -> np.ndarray:
    _check_numeric(name, x)
    return np.asarray(x)


def _elementwise(name: str, np_fn: Callable, prim: Any) -> Callable:
    if np_fn.nin == 2:
        def fn(x, y, /):
            if isinstance(x, Tracer) or isinstance(y, Tracer):
                x, y = _operand(x, name), _operand(y, name)
                try:
                    return prim.bind(x, y)
                except ValueError:       # a shape mismatch: NumPy's sentence, our name
                    return _args.bind_elementwise(name, prim, x, y)
            if type(x) not in _PLAIN or type(y) not in _PLAIN:
                _args.check_operands(name, (x, y))
            try:
                return np_fn(x, y)
            except (TypeError, ValueError) as err:
                raise _reworded(name, err) from None
    else:
        def fn(x, /):
            if isinstance(x, Tracer):
                return prim.bind(x)
            if type(x) not in _PLAIN:
                _check_numeric(name, x)
            try:
                return np_fn(x)
            except (TypeError, ValueError) as err:
                raise _reworded(name, err) from None
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
tan = _elementwise("tan", np.tan, P.tan_p)
expm1 = _elementwise("expm1", np.expm1, P.expm1_p)
arctan2 = _elementwise("arctan2", np.arctan2, P.atan2_p)
sqrt = _elementwise("sqrt", np.sqrt, P.sqrt_p)
absolute = _elementwise("abs", np.abs, P.abs_p)
abs = absolute  # noqa: A001 - NumPy's name
sign = _elementwise("sign", np.sign, P.sign_p)
floor = _elementwise("floor", np.floor, P.floor_p)
ceil = _elementwise("ceil", np.ceil, P.ceil_p)
floor_divide = _elementwise("floor_divide", np.floor_divide, P.floor_divide_p)
remainder = mod = _elementwise("remainder", np.remainder, P.remainder_p)
bitwise_and = _elementwise("bitwise_and", np.bitwise_and, P.and_p)
bitwise_or = _elementwise("bitwise_or", np.bitwise_or, P.or_p)
bitwise_xor = _elementwise("bitwise_xor", np.bitwise_xor, P.xor_p)
invert = bitwise_not = bitwise_invert = _elementwise("invert", np.invert, P.not_p)
left_shift = _elementwise("left_shift", np.left_shift, P.shift_left_p)
right_shift = _elementwise("right_shift", np.right_shift, P.shift_right_p)


def divmod(x: Any, y: Any, /) -> tuple[Any, Any]:  # noqa: A001 - NumPy's name
    """``(x // y, x % y)``, both NumPy's (no gradient through ``//``)."""
    return floor_divide(x, y), remainder(x, y)


def round(a: Any, decimals: int = 0) -> Any:  # noqa: A001 - NumPy's name
    """Round to ``decimals`` places, halves to even, as NumPy does (no gradient)."""
    if not isinstance(a, Tracer):
        return _call_numpy("round", np.round, a, decimals=decimals)
    if not _args.is_int(decimals):
        raise TypeError(f"nanojax.numpy.round: decimals must be an int, got {decimals!r}")
    dtype_ = P.dtype_of(a)
    if dtype_.kind not in "fiu":
        raise TypeError(f"nanojax.numpy.round: cannot round an array of {dtype_}; "
                        "round real numbers")
    if dtype_.kind in "iu" and decimals >= 0:
        return a                                   # whole numbers already
    if decimals == 0:
        return P.round_p.bind(a)
    # NumPy's own steps: scale by a power of ten, round half to even, scale back.
    scale = float(10.0 ** builtins.abs(decimals))
    if decimals > 0:
        return divide(P.round_p.bind(multiply(a, scale)), scale)
    out = multiply(P.round_p.bind(divide(a, scale)), scale)
    return astype(out, dtype_) if dtype_.kind in "iu" else out


around = round


def power(x: Any, y: Any, /) -> Any:
    """``x ** y``; a Python int exponent becomes the cheaper ``integer_pow``."""
    if isinstance(x, Tracer) or isinstance(y, Tracer):
        x = _operand(x, "power")
        if type(y) is int:
            return P.integer_pow_p.bind(x, y=y)
        return P.pow_p.bind(x, _operand(y, "power"))
    return _call_numpy("power", np.power, x, y)


def square(x: Any, /) -> Any:
    """``x * x``, as ``integer_pow`` with exponent 2."""
    if isinstance(x, Tracer):
        return P.integer_pow_p.bind(x, y=2)
    return _call_numpy("square", np.square, x)


def positive(x: Any, /) -> Any:
    """``+x``: the value itself."""
    return x if isinstance(x, Tracer) else _call_numpy("positive", np.positive, x)


def rint(x: Any, /) -> Any:
    """Round to the nearest whole number, halves to even."""
    return around(x) if isinstance(x, Tracer) else _call_numpy("rint", np.rint, x)


def reciprocal(x: Any, /) -> Any:
    """``1 / x``."""
    if isinstance(x, Tracer):
        return divide(1.0, x)
    return _call_numpy("reciprocal", np.reciprocal, x)


def clip(x: Any, a_min: Any = None, a_max: Any = None) -> Any:
    """Limit ``x`` to ``[a_min, a_max]`` (either bound may be None).

    As np.clip: with both bounds a value equal to one is kept (-0.0 stays
    -0.0 at a bound of 0.0); with one bound it is NumPy's maximum(x, a_min)
    or minimum(x, a_max), which return the bound on a tie. A NaN, in ``x`` or
    in a bound, propagates.
    """
    if not _has_tracer((x, a_min, a_max)):
        if a_min is None and a_max is None:
            return _call_numpy("clip", np.asarray, x).copy()
        _args.check_operands("clip", [v for v in (a_min, a_max) if v is not None])
        return _call_numpy("clip", np.clip, x, a_min=a_min, a_max=a_max)
    if a_min is None:
        return minimum(x, a_max)
    if a_max is None:
        return maximum(x, a_min)
    # maximum and minimum return their second operand on a tie: here x.
    return minimum(a_max, maximum(a_min, x))


def where(condition: Any, x: Any = None, y: Any = None, /) -> Any:
    """Elementwise choice: ``x`` where ``condition`` holds, else ``y``."""
    if x is None or y is None:
        if (x is None) != (y is None):
            raise TypeError("nanojax.numpy.where: pass both x and y, or neither; got "
                            f"{'x' if x is None else 'y'}=None")
        if isinstance(condition, Tracer):
            raise TypeError("nanojax.numpy.where: the one-argument form needs concrete "
                            "values (its result's shape depends on them); pass x and y "
                            "too, as jnp.where(condition, x, y)")
        return _call_numpy("where", np.where, condition)
    if not _has_tracer((condition, x, y)):
        return _call_numpy("where", np.where, condition, x, y)
    condition = _operand(condition, "where")
    if P.dtype_of(condition) != np.bool_:
        condition = not_equal(condition, 0)
    return P.select_n_p.bind(condition, _operand(y, "where"), _operand(x, "where"))


def stop_gradient(x: Any) -> Any:
    """``x``, but with no gradient flowing back through it (leaf by leaf of a pytree)."""
    from nanojax.tree_util import tree_map

    def stop(leaf: Any) -> Any:
        if isinstance(leaf, Tracer):
            return P.stop_gradient_p.bind(leaf)
        _check_numeric("stop_gradient", leaf)
        return leaf
    return tree_map(stop, x)


# ----- Creation -----------------------------------------------------------------

def asarray(a: Any, dtype: Any = None) -> Any:
    """``numpy.asarray``; a list that holds traced values is stacked."""
    if isinstance(a, Tracer):
        return a if dtype is None else astype(a, dtype)
    if isinstance(a, (list, tuple)) and _has_tracer(a):
        out = stack([asarray(e) for e in a])
        return out if dtype is None else astype(out, dtype)
    _check_numeric("asarray", a)
    if isinstance(a, np.ma.MaskedArray):
        raise TypeError("nanojax.numpy.asarray: masked arrays are not supported (the mask "
                        "would be ignored); pass x.filled(value) or a plain array")
    try:
        return np.asarray(a, dtype=dtype)
    except (TypeError, ValueError) as err:
        raise _reworded("asarray", err) from None


def copy(a: Any) -> Any:
    """A copy of ``a`` (a traced value is immutable: itself)."""
    return a if isinstance(a, Tracer) else _call_numpy("copy", np.array, a, copy=True)


def array(a: Any, dtype: Any = None) -> Any:
    """``numpy.array`` (a copy); a list that holds traced values is stacked."""
    if _has_tracer(a):
        return asarray(a, dtype)
    return np.array(asarray(a, dtype), copy=True)


def _dtype(name: str, dtype_: Any) -> np.dtype:
    try:
        return np.dtype(dtype_)
    except TypeError as err:
        raise _reworded(name, err) from None


def astype(x: Any, dtype: Any) -> Any:
    """``x`` converted to ``dtype`` (a new array)."""
    if isinstance(x, Tracer):
        return P.convert_element_type(x, _dtype("astype", dtype))
    return _call_numpy("astype", np.asarray, x).astype(_dtype("astype", dtype))


def _like(name: str, a: Any) -> tuple[tuple, np.dtype]:
    """The shape and dtype of ``a``, which may be traced."""
    if isinstance(a, Tracer):
        return a.shape, a.dtype
    a = _checked_asarray(name, a) if type(a) not in _PLAIN else a
    return np.shape(a), P.dtype_of(a) if not isinstance(a, np.ndarray) else a.dtype


def zeros_like(a: Any, dtype: Any = None) -> np.ndarray:
    shape_, dt = _like("zeros_like", a)
    return np.zeros(shape_, dt if dtype is None else _dtype("zeros_like", dtype))


def ones_like(a: Any, dtype: Any = None) -> np.ndarray:
    shape_, dt = _like("ones_like", a)
    return np.ones(shape_, dt if dtype is None else _dtype("ones_like", dtype))


def _concrete_arg(value: Any, name: str) -> Any:
    if isinstance(value, Tracer):
        return value.to_concrete_value(f"nanojax.numpy.{name}'s size argument")
    if isinstance(value, (tuple, list)):
        return type(value)(_concrete_arg(v, name) for v in value)
    return value


def full(shape: Any, fill_value: Any, dtype: Any = None) -> Any:
    """An array of ``shape`` filled with ``fill_value`` (which may be traced)."""
    if _has_tracer((shape,)):
        shape = _concrete_arg(shape, "full")
    if isinstance(fill_value, Tracer):
        sizes = (shape,) if _args.is_int(shape) else tuple(shape)
        value = fill_value if dtype is None else astype(fill_value, dtype)
        return broadcast_to(value, sizes)
    return _call_numpy("full", np.full, shape, fill_value, dtype=dtype)


def full_like(a: Any, fill_value: Any, dtype: Any = None) -> Any:
    shape_, dt = _like("full_like", a)
    return full(shape_, fill_value, dt if dtype is None else dtype)


def _creation(np_fn: Callable, name: str) -> Callable:
    """A NumPy array constructor whose sizes must be concrete, even under jit.

    NumPy goes first, so the eager call costs nothing extra; only when it
    rejects a traced size are the sizes made concrete (or a
    ConcretizationTypeError says why they can't be).
    """
    def fn(*args: Any, **kwargs: Any) -> np.ndarray:
        try:
            return np_fn(*args, **kwargs)
        except (TypeError, ValueError) as err:
            if not _has_tracer((*args, *kwargs.values())):
                raise _reworded(name, err) from None
        args = tuple(_concrete_arg(a, name) for a in args)
        try:
            return np_fn(*args, **{k: _concrete_arg(v, name) for k, v in kwargs.items()})
        except (TypeError, ValueError) as err:
            raise _reworded(name, err) from None
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``numpy.{np_fn.__name__}``; its sizes must be concrete (static under jit)."
    return fn


zeros, ones, empty, eye, identity = (
    _creation(np.zeros, "zeros"), _creation(np.ones, "ones"), _creation(np.zeros, "empty"),
    _creation(np.eye, "eye"), _creation(np.identity, "identity"))


def arange(*args: Any, **kwargs: Any) -> np.ndarray:
    """``numpy.arange``. Its arguments set the length, so they must be concrete."""
    if _has_tracer((*args, *kwargs.values())):
        from nanojax.errors import ConcretizationTypeError
        raise ConcretizationTypeError(
            "nanojax.numpy.arange", "", "nanojax.numpy.arange: its arguments decide the "
            "result's length, so they must be Python numbers, not traced values; for a "
            "differentiable range write start + step * jnp.arange(n) with n a number")
    try:
        return np.arange(*args, **kwargs)
    except (TypeError, ValueError) as err:
        raise _reworded("arange", err) from None


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True,
             retstep: bool = False, dtype: Any = None, axis: int = 0) -> Any:
    """``num`` evenly spaced values from ``start`` to ``stop``; the ends may be traced."""
    if not _has_tracer((start, stop)):
        return _call_numpy("linspace", np.linspace, start, stop, _concrete_arg(num, "linspace"),
                          endpoint=endpoint, retstep=retstep, dtype=dtype, axis=axis)
    num = _concrete_arg(num, "linspace")
    if not _args.is_int(num) or num < 0:
        raise ValueError(f"nanojax.numpy.linspace: num must be a non-negative int, got {num!r}")
    start, stop = _operand(start, "linspace"), _operand(stop, "linspace")
    if P.dtype_of(start).kind not in "f":
        start = astype(start, np.float64)
    # NumPy's steps: positions 0..num-1 times the step, plus start, and the
    # last value set to stop exactly when it is an endpoint.
    div = num - 1 if endpoint else num
    delta = subtract(stop, start)
    lead = np.arange(num, dtype=np.float64).reshape((-1,) + (1,) * ndim(delta))
    if div > 0:
        step = divide(delta, float(div))
        out = add(multiply(lead, step), start)
    else:                      # one sample: start itself, and an undefined step
        step = multiply(delta, np.nan)
        out = add(multiply(lead, delta), start)
    if endpoint and num > 1:
        out = out.at[-1].set(broadcast_to(stop, shape(out)[1:]))
    if axis != 0:
        out = moveaxis(out, 0, axis)
    if dtype is not None:
        out = astype(floor(out) if np.dtype(dtype).kind in "iu" else out, dtype)
    return (out, step) if retstep else out


# ----- Reductions ---------------------------------------------------------------

def _axes(x: Any, axis: Any, name: str) -> tuple[int, ...]:
    return _args.axes(name, axis, len(P.shape_of(x)))


def _keep(out: Any, x: Any, axes: tuple, keepdims: bool) -> Any:
    if not keepdims:
        return out
    shape_ = tuple(1 if i in axes else d for i, d in enumerate(P.shape_of(x)))
    return P.reshape(out, shape_)


def _eager_reduction(name: str, np_fn: Callable, a: Any, axis: Any, **kwargs: Any) -> Any:
    """NumPy's reduction; on failure, our check of ``axis`` says what was wrong."""
    if type(a) is not np.ndarray:
        _check_numeric(name, a)
    try:
        return np_fn(a, axis=axis, **kwargs)
    except (TypeError, ValueError, IndexError) as err:
        _axes(np.asarray(a), axis, name)
        raise _reworded(name, err) from None


def _reduction(name: str, np_fn: Callable, prim: Any) -> Callable:
    def fn(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        if not isinstance(a, Tracer):
            return _eager_reduction(name, np_fn, a, axis, keepdims=keepdims)
        axes = _axes(a, axis, name)
        if prim is not P.reduce_sum_p and prim is not P.reduce_prod_p and 0 in (
                a.shape[i] for i in axes):
            raise ValueError(f"nanojax.numpy.{name}: zero-size array to reduction operation "
                             f"{name}, which has no identity")
        return _keep(prim.bind(a, axes=axes), a, axes, keepdims)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``numpy.{name}`` over ``axis`` (None: all), traceable."
    return fn


# Python's own sum, max, min are builtins.sum, builtins.max, builtins.min here.
_sum = _reduction("sum", np.sum, P.reduce_sum_p)
amax = _reduction("max", np.max, P.reduce_max_p)
amin = _reduction("min", np.min, P.reduce_min_p)
prod = _reduction("prod", np.prod, P.reduce_prod_p)
sum, max, min = _sum, amax, amin  # noqa: A001 - NumPy's names


def mean(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """The average over ``axis``."""
    if not isinstance(a, Tracer):
        return _eager_reduction("mean", np.mean, a, axis, keepdims=keepdims)
    axes = _axes(a, axis, "mean")
    count = int(np.prod([P.shape_of(a)[i] for i in axes], dtype=np.int64))
    total = _sum(a if np.issubdtype(a.dtype, np.inexact) else astype(a, np.float64),
                 axis=axes, keepdims=keepdims)
    return divide(total, float(count))


def var(a: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    """The variance over ``axis``, with ``ddof`` degrees of freedom removed."""
    if not isinstance(a, Tracer):
        return _eager_reduction("var", np.var, a, axis, ddof=ddof, keepdims=keepdims)
    axes = _axes(a, axis, "var")
    count = int(np.prod([P.shape_of(a)[i] for i in axes], dtype=np.int64))
    centered = subtract(a, mean(a, axis=axes, keepdims=True))
    # As NumPy: never a negative count, so too large a ddof gives inf (or nan).
    dof = float(builtins.max(count - ddof, 0))
    return divide(_sum(square(centered), axis=axes, keepdims=keepdims), dof)


def std(a: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    """The standard deviation over ``axis``."""
    if not isinstance(a, Tracer):
        return _eager_reduction("std", np.std, a, axis, ddof=ddof, keepdims=keepdims)
    return sqrt(var(a, axis=axis, ddof=ddof, keepdims=keepdims))


def _argreduction(name: str, np_fn: Callable, prim: Any) -> Callable:
    def fn(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        if not isinstance(a, Tracer):
            if type(a) is not np.ndarray:
                _check_numeric(name, a)
            try:
                return np_fn(a, axis=axis, keepdims=keepdims)
            except (TypeError, ValueError, IndexError) as err:
                if axis is not None:
                    _args.axis_index(name, axis, np.ndim(a))
                raise _reworded(name, err) from None
        if a.size == 0:
            raise ValueError(f"nanojax.numpy.{name}: attempt to get {name} of an empty "
                             "sequence")
        if axis is None:
            out = prim.bind(ravel(a), axes=(0,), index_dtype=np.dtype(np.int64))
            return reshape(out, (1,) * a.ndim) if keepdims else out
        ax = _args.axis_index(name, axis, a.ndim)
        return _keep(prim.bind(a, axes=(ax,), index_dtype=np.dtype(np.int64)), a, (ax,),
                     keepdims)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``numpy.{name}``: index of the extreme value (no gradient)."
    return fn


argmax = _argreduction("argmax", np.argmax, P.argmax_p)
argmin = _argreduction("argmin", np.argmin, P.argmin_p)


def ptp(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """The range, ``max - min``, over ``axis``."""
    if not isinstance(a, Tracer):
        return _eager_reduction("ptp", np.ptp, a, axis, keepdims=keepdims)
    return subtract(amax(a, axis=axis, keepdims=keepdims), amin(a, axis=axis, keepdims=keepdims))


def _real_only(name: str, x: Any) -> None:
    if P.dtype_of(x).kind == "c":
        raise NotImplementedError(f"nanojax.numpy.{name}: complex traced values are not "
                                  "supported yet")


def real(x: Any, /) -> Any:
    """The real part: a real array itself."""
    if not isinstance(x, Tracer):
        return _call_numpy("real", np.real, x)
    _real_only("real", x)
    return x


def imag(x: Any, /) -> Any:
    """The imaginary part: zeros for a real array."""
    if not isinstance(x, Tracer):
        return _call_numpy("imag", np.imag, x)
    _real_only("imag", x)
    return multiply(x, 0.0)


def conj(x: Any, /) -> Any:
    """The complex conjugate: a real array itself."""
    if not isinstance(x, Tracer):
        return _call_numpy("conj", np.conj, x)
    _real_only("conj", x)
    return x


conjugate = conj


def cumsum(a: Any, axis: int | None = None) -> Any:
    """Running sums along ``axis`` (of the flattened array when None)."""
    if not isinstance(a, Tracer):
        if type(a) is not np.ndarray:
            _check_numeric("cumsum", a)
        try:
            return np.cumsum(a, axis=axis)
        except (TypeError, ValueError, IndexError) as err:
            if axis is not None:
                _args.axis_index("cumsum", axis, np.ndim(a))
            raise _reworded("cumsum", err) from None
    if axis is None:
        a, axis = ravel(a), 0
    ax = _args.axis_index("cumsum", axis, a.ndim)
    return P.cumsum_p.bind(a, axis=ax, reverse=False)


# ----- Tests of values and logic: comparisons and selects, no gradient -----------------

def _bool_operand(x: Any, name: str) -> Any:
    x = _operand(x, name)
    return x if P.dtype_of(x) == np.bool_ else not_equal(x, 0)


def isnan(x: Any, /) -> Any:
    """True where ``x`` is NaN (the one value not equal to itself)."""
    return not_equal(x, x) if isinstance(x, Tracer) else _call_numpy("isnan", np.isnan, x)


def isinf(x: Any, /) -> Any:
    if not isinstance(x, Tracer):
        return _call_numpy("isinf", np.isinf, x)
    return equal(absolute(x), np.inf)


def isfinite(x: Any, /) -> Any:
    """True where ``x`` is neither infinite nor NaN (NaN fails every ``<``)."""
    if not isinstance(x, Tracer):
        return _call_numpy("isfinite", np.isfinite, x)
    return less(absolute(x), np.inf)


def logical_not(x: Any, /) -> Any:
    if not isinstance(x, Tracer):
        return _call_numpy("logical_not", np.logical_not, x)
    return equal(_bool_operand(x, "logical_not"), False)


def logical_and(x: Any, y: Any, /) -> Any:
    if not (isinstance(x, Tracer) or isinstance(y, Tracer)):
        return _call_numpy("logical_and", np.logical_and, x, y)
    return bitwise_and(_bool_operand(x, "logical_and"), _bool_operand(y, "logical_and"))


def logical_or(x: Any, y: Any, /) -> Any:
    if not (isinstance(x, Tracer) or isinstance(y, Tracer)):
        return _call_numpy("logical_or", np.logical_or, x, y)
    return bitwise_or(_bool_operand(x, "logical_or"), _bool_operand(y, "logical_or"))


def logical_xor(x: Any, y: Any, /) -> Any:
    if not (isinstance(x, Tracer) or isinstance(y, Tracer)):
        return _call_numpy("logical_xor", np.logical_xor, x, y)
    return bitwise_xor(_bool_operand(x, "logical_xor"), _bool_operand(y, "logical_xor"))


def _reduced_shape(shape_: tuple, axes: tuple, keepdims: bool) -> tuple:
    return tuple(1 if i in axes else d for i, d in enumerate(shape_)
                 if keepdims or i not in axes)


def _any(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Whether any element along ``axis`` is true (a max over booleans)."""
    if not isinstance(a, Tracer):
        return _eager_reduction("any", np.any, a, axis, keepdims=keepdims)
    a = _bool_operand(a, "any")
    axes = _axes(a, axis, "any")
    if 0 in (a.shape[i] for i in axes):       # an empty any is False
        return zeros(_reduced_shape(a.shape, axes, keepdims), bool)
    return amax(a, axis=axes, keepdims=keepdims)


def _all(a: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Whether every element along ``axis`` is true (a min over booleans)."""
    if not isinstance(a, Tracer):
        return _eager_reduction("all", np.all, a, axis, keepdims=keepdims)
    a = _bool_operand(a, "all")
    axes = _axes(a, axis, "all")
    if 0 in (a.shape[i] for i in axes):       # an empty all is True
        return ones(_reduced_shape(a.shape, axes, keepdims), bool)
    return amin(a, axis=axes, keepdims=keepdims)


any, all = _any, _all  # noqa: A001 - NumPy's names


# ----- Shapes -------------------------------------------------------------------

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


def reshape(a: Any, shape: Any, order: str = "C") -> Any:
    """``numpy.reshape`` (one dimension may be -1)."""
    if not isinstance(a, Tracer):
        return _call_numpy("reshape", np.reshape, a, shape=shape, order=order)
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


def ravel(a: Any) -> Any:
    """The elements of ``a`` as a 1-D array, contiguous (a copy if need be), as np.ravel."""
    if not isinstance(a, Tracer):
        return _call_numpy("ravel", np.ravel, a)
    return P.contiguous_p.bind(reshape(a, (-1,)))


def transpose(a: Any, axes: Any = None) -> Any:
    """``numpy.transpose``: reverse the axes, or permute them by ``axes``."""
    if not isinstance(a, Tracer):
        return _call_numpy("transpose", np.transpose, a, axes=axes)
    if axes is None:
        return P.transpose(a, tuple(reversed(range(a.ndim))))
    perm = tuple(axes) if isinstance(axes, (tuple, list)) else (axes,)
    if len(perm) != a.ndim:
        raise ValueError(f"nanojax.numpy.transpose: axes {tuple(perm)} don't match an array "
                         f"of {a.ndim} dimensions")
    _args.axes("transpose", perm, a.ndim)        # NumPy's errors: out of range, repeated
    return P.transpose(a, tuple(int(i) % a.ndim for i in perm))


def swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    """``a`` with two axes interchanged."""
    if not isinstance(a, Tracer):
        return _call_numpy("swapaxes", np.swapaxes, a, axis1=axis1, axis2=axis2)
    i = _args.axis_index("swapaxes", axis1, a.ndim)
    j = _args.axis_index("swapaxes", axis2, a.ndim)
    perm = list(range(a.ndim))
    perm[i], perm[j] = perm[j], perm[i]
    return P.transpose(a, tuple(perm))


def moveaxis(a: Any, source: Any, destination: Any) -> Any:
    """``a`` with axes moved from ``source`` to ``destination`` (ints or tuples)."""
    if not isinstance(a, Tracer):
        return _call_numpy("moveaxis", np.moveaxis, a, source=source, destination=destination)
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


def expand_dims(a: Any, axis: Any) -> Any:
    """Insert axes of size 1 at the positions ``axis`` (int or tuple)."""
    if not isinstance(a, Tracer):
        return _call_numpy("expand_dims", np.expand_dims, a, axis=axis)
    positions = (axis,) if _args.is_int(axis) else axis
    out_ndim = a.ndim + len(tuple(positions))
    new = _args.axes("expand_dims", positions, out_ndim)
    sizes = list(a.shape)
    for i in new:
        sizes.insert(i, 1)
    kept = tuple(i for i in range(out_ndim) if i not in new)
    return P.broadcast_in_dim(a, tuple(sizes), kept)


def squeeze(a: Any, axis: Any = None) -> Any:
    """Remove axes of size 1 (all of them, or those in ``axis``)."""
    if not isinstance(a, Tracer):
        return _call_numpy("squeeze", np.squeeze, a, axis=axis)
    if axis is None:
        dims = tuple(i for i, d in enumerate(a.shape) if d == 1)
    else:
        dims = _axes(a, axis, "squeeze")
        if builtins.any(a.shape[d] != 1 for d in dims):
            raise ValueError("nanojax.numpy.squeeze: cannot select an axis to squeeze out "
                             f"which has size not equal to one (shape {a.shape}, axis "
                             f"{axis})")
    return P.squeeze(a, dims)


def broadcast_to(a: Any, shape: Any) -> Any:
    """``numpy.broadcast_to``."""
    if not isinstance(a, Tracer):
        return _call_numpy("broadcast_to", np.broadcast_to, a, shape=shape)
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
    arrays = [atleast_1d(a) for a in _join_operands("hstack", arrays)]
    return concatenate(arrays, axis=0 if len(P.shape_of(arrays[0])) == 1 else 1)


def vstack(arrays: Sequence[Any]) -> Any:
    return concatenate([reshape(a, (1, -1)) if len(P.shape_of(a)) < 2 else a
                        for a in _join_operands("vstack", arrays)], axis=0)


def atleast_1d(a: Any) -> Any:
    return reshape(a, (1,)) if len(P.shape_of(a)) == 0 else a


def shape(a: Any) -> tuple[int, ...]:
    if isinstance(a, Tracer):
        return a.shape
    return _call_numpy("shape", np.shape, a)


def ndim(a: Any) -> int:
    return len(shape(a))


def size(a: Any) -> int:
    return int(np.prod(shape(a), dtype=np.int64))


# ----- Linear algebra -------------------------------------------------------------

def dot(a: Any, b: Any) -> Any:
    """``numpy.dot``: a scalar product, matrix product or tensor contraction."""
    # Plain arrays take the traced steps too (the primitives run at once): np.dot
    # sums N-d products in another order than dot_general's matmul, and even a
    # length-1 product differs in the sign of a zero; eager and jit must agree.
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
    # Plain arrays take the traced steps too, as in dot: eager and jit agree.
    a, b = _operand(a, "matmul"), _operand(b, "matmul")
    na, nb = len(P.shape_of(a)), len(P.shape_of(b))
    if na == 0 or nb == 0:
        raise ValueError("nanojax.numpy.matmul: operands must be at least 1-D (use * "
                         "for scalars)")
    if na <= 2 and nb <= 2:
        rc = 0 if nb == 1 else nb - 2
        _check_contract("matmul", a, b, na - 1, rc)
        return P.dot_general(a, b, (((na - 1,), (rc,)), ((), ())))
    # A stack of matrices: as np.matmul, a vector is a one-row (or one-column)
    # matrix, and the leading axes broadcast; dot_general then calls np.matmul.
    sa, sb = P.shape_of(a), P.shape_of(b)
    a2 = reshape(a, (1,) + sa) if na == 1 else a
    b2 = reshape(b, sb + (1,)) if nb == 1 else b
    try:
        batch = np.broadcast_shapes(P.shape_of(a2)[:-2], P.shape_of(b2)[:-2])
    except ValueError:
        raise ValueError(f"nanojax.numpy.matmul: the batch dimensions of shapes "
                         f"{sa} and {sb} do not broadcast") from None
    a2 = broadcast_to(a2, batch + P.shape_of(a2)[-2:])
    b2 = broadcast_to(b2, batch + P.shape_of(b2)[-2:])
    n = len(batch)
    _check_contract("matmul", a2, b2, n + 1, n)
    out = P.dot_general(a2, b2, (((n + 1,), (n,)), (tuple(range(n)), tuple(range(n)))))
    if na == 1 or nb == 1:                    # drop the vector's added axis
        shape_out = P.shape_of(out)
        drop = n if na == 1 else n + 1
        out = reshape(out, shape_out[:drop] + shape_out[drop + 1:])
    return out


def outer(a: Any, b: Any) -> Any:
    """The outer product of two vectors (inputs are flattened)."""
    if not (isinstance(a, Tracer) or isinstance(b, Tracer)):
        return _call_numpy("outer", np.outer, a, b)
    return multiply(reshape(ravel(asarray(a)), (-1, 1)), reshape(ravel(asarray(b)), (1, -1)))


from nanojax.numpy._einsum import einsum  # noqa: E402,F401  (NumPy's whole grammar)


# ----- Indexing -------------------------------------------------------------------

from nanojax.numpy._indexing import (at, diagonal, getitem, repeat, take,  # noqa: E402,F401
                                     take_along_axis, trace)
from nanojax.numpy import linalg  # noqa: E402,F401
from nanojax.numpy import _tracer_methods  # noqa: E402,F401  (installs operators)
