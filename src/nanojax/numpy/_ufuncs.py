"""Elementwise functions: NumPy's ufuncs and what is made of them.

Arithmetic, transcendental functions, comparisons, logic, rounding,
``where``, ``clip``, conversions. Each applies one elementwise gate (or a
few), with NumPy's broadcasting and dtype promotion.
"""

from __future__ import annotations

import builtins
from typing import Any
from collections.abc import Callable

import numpy as np

from nanojax import primitives as P
from nanojax.array import ArrayImpl
from nanojax.core import Tracer
from nanojax.numpy import _args
from nanojax.numpy._args import PLAIN as _PLAIN
from nanojax.numpy._args import call_numpy as _call_numpy
from nanojax.numpy._args import check_numeric as _check_numeric
from nanojax.numpy._args import has_tracer as _has_tracer
from nanojax.numpy._args import numpy_or_traced
from nanojax.numpy._args import operand as _operand
from nanojax.numpy._args import reworded as _reworded


def _elementwise(name: str, np_fn: np.ufunc, prim: Any) -> Callable:
    fn = (_binary if np_fn.nin == 2 else _unary)(name, np_fn, prim)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``numpy.{np_fn.__name__}``, traceable (primitive ``{prim.name}``)."
    return fn


def _binary(name: str, np_fn: np.ufunc, prim: Any) -> Callable:
    def fn(x: Any, y: Any, /) -> Any:
        if isinstance(x, Tracer) or isinstance(y, Tracer):
            x, y = _operand(x, name), _operand(y, name)
            try:
                return prim.bind(x, y)
            except ValueError:       # a shape mismatch: NumPy's sentence, our name
                return _args.bind_elementwise(name, prim, x, y)
        if type(x) not in _PLAIN or type(y) not in _PLAIN:
            _args.check_operands(name, (x, y))
        try:
            out = np_fn(x, y, subok=False)      # NumPy's fast path, for plain arrays
        except (TypeError, ValueError) as err:
            raise _reworded(name, err) from None
        return out.view(ArrayImpl) if type(out) is np.ndarray else out
    fn._hands_out_arrays = True  # type: ignore[attr-defined]
    return fn


def _unary(name: str, np_fn: np.ufunc, prim: Any) -> Callable:
    def fn(x: Any, /) -> Any:
        if isinstance(x, Tracer):
            return prim.bind(x)
        if type(x) not in _PLAIN:
            _check_numeric(name, x)
        try:
            out = np_fn(x, subok=False)         # NumPy's fast path, for plain arrays
        except (TypeError, ValueError) as err:
            raise _reworded(name, err) from None
        return out.view(ArrayImpl) if type(out) is np.ndarray else out
    fn._hands_out_arrays = True  # type: ignore[attr-defined]
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
fmod = _elementwise("fmod", np.fmod, P.rem_p)
trunc = fix = _elementwise("trunc", np.trunc, P.trunc_p)
bitwise_and = _elementwise("bitwise_and", np.bitwise_and, P.and_p)
bitwise_or = _elementwise("bitwise_or", np.bitwise_or, P.or_p)
bitwise_xor = _elementwise("bitwise_xor", np.bitwise_xor, P.xor_p)
invert = bitwise_not = bitwise_invert = _elementwise("invert", np.invert, P.not_p)
left_shift = _elementwise("left_shift", np.left_shift, P.shift_left_p)
right_shift = _elementwise("right_shift", np.right_shift, P.shift_right_p)


def divmod(x: Any, y: Any, /) -> tuple[Any, Any]:  # noqa: A001 - NumPy's name
    """``(x // y, x % y)``, both NumPy's (no gradient through ``//``)."""
    return floor_divide(x, y), remainder(x, y)


@numpy_or_traced()
def round(a: Any, decimals: int = 0) -> Any:  # noqa: A001 - NumPy's name
    """Round to ``decimals`` places, halves to even, as NumPy does (no gradient)."""
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


@numpy_or_traced(arrays=2)
def power(x: Any, y: Any, /) -> Any:
    """``x ** y``; a Python int exponent becomes the cheaper ``integer_pow``."""
    x = _operand(x, "power")
    if type(y) is int:
        return P.integer_pow(x, y)
    return P.pow(x, _operand(y, "power"))


@numpy_or_traced()
def square(x: Any, /) -> Any:
    """``x * x``, as ``integer_pow`` with exponent 2."""
    return P.integer_pow(x, 2)


@numpy_or_traced()
def positive(x: Any, /) -> Any:
    """``+x``: the value itself."""
    return x


@numpy_or_traced()
def rint(x: Any, /) -> Any:
    """Round to the nearest whole number, halves to even."""
    return around(x)


@numpy_or_traced()
def reciprocal(x: Any, /) -> Any:
    """``1 / x``."""
    return divide(1.0, x)


def clip(x: Any, min: Any = None, max: Any = None, *, a_min: Any = None,  # noqa: A002
         a_max: Any = None) -> Any:
    """Limit ``x`` to ``[min, max]`` (either bound may be None, or an array).

    ``min``/``max`` are JAX's names; NumPy's ``a_min``/``a_max`` are kept.

    As np.clip: with both bounds a value equal to one is kept (-0.0 stays
    -0.0 at a bound of 0.0); with one bound it is NumPy's maximum(x, a_min)
    or minimum(x, a_max), which return the bound on a tie. A NaN, in ``x`` or
    in a bound, propagates.
    """
    if a_min is not None or a_max is not None:
        if min is not None or max is not None:
            raise TypeError("nanojax.numpy.clip: pass the bounds as min/max or as "
                            "a_min/a_max, not both")
    else:
        a_min, a_max = min, max
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
    return P.select_n(condition, _operand(y, "where"), _operand(x, "where"))


def stop_gradient(x: Any) -> Any:
    """``x``, but with no gradient flowing back through it (leaf by leaf of a pytree)."""
    from nanojax.tree_util import tree_map

    def stop(leaf: Any) -> Any:
        if isinstance(leaf, Tracer):
            return P.stop_gradient_p.bind(leaf)
        _check_numeric("stop_gradient", leaf)
        return leaf
    return tree_map(stop, x)


def _dtype(name: str, dtype_: Any) -> np.dtype:
    try:
        return np.dtype(dtype_)
    except TypeError as err:
        raise _reworded(name, err) from None


def _eager_astype(name: str, np_fn: Callable, x: Any, dtype: Any) -> Any:
    return _call_numpy(name, np.asarray, x).astype(_dtype(name, dtype))


@numpy_or_traced(eager=_eager_astype)
def astype(x: Any, dtype: Any) -> Any:
    """``x`` converted to ``dtype`` (a new array)."""
    return P.convert_element_type(x, _dtype("astype", dtype))


def _real_only(name: str, x: Any) -> None:
    if P.dtype_of(x).kind == "c":
        raise NotImplementedError(f"nanojax.numpy.{name}: complex traced values are not "
                                  "supported yet")


@numpy_or_traced()
def real(x: Any, /) -> Any:
    """The real part: a real array itself."""
    _real_only("real", x)
    return x


@numpy_or_traced()
def imag(x: Any, /) -> Any:
    """The imaginary part: zeros for a real array (+0.0 everywhere, NaN and
    negative entries too, as NumPy's)."""
    _real_only("imag", x)
    from nanojax.numpy._creation import zeros_like
    return zeros_like(x)


@numpy_or_traced()
def conj(x: Any, /) -> Any:
    """The complex conjugate: a real array itself."""
    _real_only("conj", x)
    return x


conjugate = conj


def _bool_operand(x: Any, name: str) -> Any:
    x = _operand(x, name)
    return x if P.dtype_of(x) == np.bool_ else not_equal(x, 0)


@numpy_or_traced()
def isnan(x: Any, /) -> Any:
    """True where ``x`` is NaN (the one value not equal to itself)."""
    return not_equal(x, x)


@numpy_or_traced()
def isinf(x: Any, /) -> Any:
    return equal(absolute(x), np.inf)


@numpy_or_traced()
def isfinite(x: Any, /) -> Any:
    """True where ``x`` is neither infinite nor NaN (NaN fails every ``<``)."""
    return less(absolute(x), np.inf)


@numpy_or_traced()
def logical_not(x: Any, /) -> Any:
    return equal(_bool_operand(x, "logical_not"), False)


@numpy_or_traced(arrays=2)
def logical_and(x: Any, y: Any, /) -> Any:
    return bitwise_and(_bool_operand(x, "logical_and"), _bool_operand(y, "logical_and"))


@numpy_or_traced(arrays=2)
def logical_or(x: Any, y: Any, /) -> Any:
    return bitwise_or(_bool_operand(x, "logical_or"), _bool_operand(y, "logical_or"))


@numpy_or_traced(arrays=2)
def logical_xor(x: Any, y: Any, /) -> Any:
    return bitwise_xor(_bool_operand(x, "logical_xor"), _bool_operand(y, "logical_xor"))
