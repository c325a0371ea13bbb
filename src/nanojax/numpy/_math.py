"""More of NumPy's elementwise maths: inverse and hyperbolic functions, logs in
other bases, hypot, sinc, logaddexp, the sign and float-splitting functions,
fmin/fmax, and the tests ``isclose``, ``allclose``, ``array_equal``.

The inverse and hyperbolic functions, cbrt and nextafter are gates of their
own (NumPy's ufuncs, see ``primitives.transcendental``); the rest are
compositions. Every function first takes the operands to the dtype NumPy's
ufunc would compute in (``np.deg2rad`` of an int8 array is float16), so a
traced call has the eager call's dtype. With nothing traced each is NumPy's
own call.

Examples:
    >>> import nanojax.numpy as jnp
    >>> float(jnp.arcsinh(1.0))
    0.881373587019543
    >>> jnp.logaddexp(1000.0, 1000.0)          # no overflow: log(2 e^1000)
    np.float64(1000.6931471805599)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nanojax import primitives as P
from nanojax.core import Tracer
from nanojax.numpy import _args
from nanojax.numpy._args import numpy_or_traced
from nanojax.numpy._args import operand as _operand
from nanojax.numpy._creation import ones_like, zeros_like
from nanojax.numpy._reductions import _all
from nanojax.numpy._ufuncs import (_elementwise, absolute, add, arctan2, astype, divide, equal,
                                   floor, floor_divide, isfinite, isinf, isnan, less, less_equal,
                                   log, log1p, logical_and, logical_or, maximum, minimum,
                                   multiply, negative, not_equal, power, sin, sqrt, stop_gradient,
                                   subtract, trunc, where)

__all__ = [
    "acos", "acosh", "allclose", "angle", "arccos", "arccosh", "arcsin", "arcsinh", "arctan",
    "arctanh", "array_equal", "array_equiv", "asin", "asinh", "atan", "atan2", "atanh", "cbrt",
    "copysign", "cosh", "deg2rad", "degrees", "exp2", "fabs", "float_power", "fmax", "fmin",
    "frexp", "gcd", "heaviside", "hypot", "isclose", "iscomplex", "iscomplexobj", "isneginf",
    "isposinf", "isreal", "isrealobj", "lcm", "ldexp", "log10", "log2", "logaddexp",
    "logaddexp2", "modf", "nan_to_num", "nextafter", "pow", "rad2deg", "radians", "signbit",
    "sinc", "sinh", "spacing",
]

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_LOG2E = 1.4426950408889634074           # NumPy's NPY_LOG2E: log2(1 + y) is log1p(y) * it
_PY_NUMBERS = (bool, int, float, complex)

arcsin = asin = _elementwise("arcsin", np.arcsin, P.asin_p)
arccos = acos = _elementwise("arccos", np.arccos, P.acos_p)
arctan = atan = _elementwise("arctan", np.arctan, P.atan_p)
arcsinh = asinh = _elementwise("arcsinh", np.arcsinh, P.asinh_p)
arccosh = acosh = _elementwise("arccosh", np.arccosh, P.acosh_p)
arctanh = atanh = _elementwise("arctanh", np.arctanh, P.atanh_p)
sinh = _elementwise("sinh", np.sinh, P.sinh_p)
cosh = _elementwise("cosh", np.cosh, P.cosh_p)
cbrt = _elementwise("cbrt", np.cbrt, P.cbrt_p)
nextafter = _elementwise("nextafter", np.nextafter, P.nextafter_p)
signbit = _elementwise("signbit", np.signbit, P.signbit_p)
pow = power  # noqa: A001 - NumPy 2's name
fabs = absolute


atan2 = arctan2


# ----- Dtypes as NumPy's ufuncs give them ------------------------------------------------

def _cast(name: str, np_fn: Any, *xs: Any) -> list:
    """The operands as ``np_fn`` computes with them: each array (not a Python number,
    which stays weak) converted to the dtype ``np_fn`` gives for these operands."""
    xs = tuple(_operand(x, name) for x in xs)
    protos = [x if type(x) in _PY_NUMBERS else np.zeros((), P.dtype_of(x)) for x in xs]
    try:
        with np.errstate(all="ignore"):
            out = np_fn(*protos)
    except TypeError as err:
        raise _args.reworded(name, err) from None
    dtype = np.result_type(out[0] if isinstance(out, tuple) else out)
    return [x if type(x) in _PY_NUMBERS or P.dtype_of(x) == dtype else astype(x, dtype)
            for x in xs]


# ----- Compositions ---------------------------------------------------------------------

@numpy_or_traced()
def log2(x: Any, /) -> Any:
    """Base-2 logarithm, ``log(x) / log(2)``."""
    (x,) = _cast("log2", np.log2, x)
    return divide(log(x), _LN2)


@numpy_or_traced()
def log10(x: Any, /) -> Any:
    """Base-10 logarithm, ``log(x) / log(10)``."""
    (x,) = _cast("log10", np.log10, x)
    return divide(log(x), _LN10)


@numpy_or_traced()
def exp2(x: Any, /) -> Any:
    """``2 ** x``."""
    (x,) = _cast("exp2", np.exp2, x)
    return P.pow(2.0, x)


def _ratio(dtype: np.dtype, a: float, b: float) -> Any:
    """``a / b`` as NumPy's loop for ``dtype`` has it: rounded to ``dtype`` first."""
    if dtype == np.float64:
        return a / b
    return dtype.type(a) / dtype.type(b)


@numpy_or_traced()
def deg2rad(x: Any, /) -> Any:
    """Degrees to radians: ``x * (pi / 180)``, NumPy's own product."""
    (x,) = _cast("deg2rad", np.deg2rad, x)
    return multiply(x, _ratio(P.dtype_of(x), np.pi, 180))


@numpy_or_traced()
def rad2deg(x: Any, /) -> Any:
    """Radians to degrees: ``x * (180 / pi)``."""
    (x,) = _cast("rad2deg", np.rad2deg, x)
    return multiply(x, _ratio(P.dtype_of(x), 180, np.pi))


radians, degrees = deg2rad, rad2deg
radians.__doc__ = deg2rad.__doc__


@numpy_or_traced(arrays=2)
def hypot(x1: Any, x2: Any, /) -> Any:
    """``sqrt(x1**2 + x2**2)`` without overflow: ``big * sqrt(1 + (small/big)**2)``.

    At a tie ``|x1| == |x2|`` maximum and minimum split the pull in half, which
    sums to the true derivative ``x/hypot``.
    """
    x1, x2 = _cast("hypot", np.hypot, x1, x2)
    a, b = absolute(x1), absolute(x2)
    big, small = maximum(a, b), minimum(a, b)
    ratio = divide(small, where(equal(big, 0.0), 1.0, big))
    out = multiply(big, sqrt(add(1.0, multiply(ratio, ratio))))
    return where(logical_or(isinf(a), isinf(b)), np.inf, out)     # hypot(inf, nan) is inf


@numpy_or_traced()
def sinc(x: Any, /) -> Any:
    """``sin(pi x) / (pi x)``, 1 at 0: NumPy's steps (``x`` is 1e-20 where it is 0).

    The gradient at exactly 0 is 0, as it should be; a second derivative
    there is 0 rather than ``-pi**2 / 3``.
    """
    (x,) = _cast("sinc", np.sinc, x)
    y = multiply(math.pi, where(equal(x, 0.0), 1.0e-20, x))
    return divide(sin(y), y)


def _logaddexp(name: str, np_fn: Any, log1p_of_exp: Any, tie: float) -> Any:
    @numpy_or_traced(np_fn, name=name, arrays=2)
    def fn(x1: Any, x2: Any, /) -> Any:
        x1, x2 = _cast(name, np_fn, x1, x2)
        main = add(maximum(x1, x2), log1p_of_exp(negative(absolute(subtract(x1, x2)))))
        # NumPy's tie branch, x + log(2) (infinities included), written so that
        # each side gets half of the pull, as the derivative has it.
        same = add(add(multiply(x1, 0.5), multiply(x2, 0.5)), tie)
        return where(equal(x1, x2), same, main)
    return fn


logaddexp = _logaddexp("logaddexp", np.logaddexp, lambda d: log1p(P.exp_p.bind(d)), _LN2)
logaddexp.__doc__ = "``log(exp(x1) + exp(x2))`` without overflow."
logaddexp2 = _logaddexp("logaddexp2", np.logaddexp2,
                        lambda d: multiply(_LOG2E, log1p(P.pow(2.0, d))), 1.0)
logaddexp2.__doc__ = "``log2(2**x1 + 2**x2)`` without overflow."


@numpy_or_traced(arrays=2)
def copysign(x1: Any, x2: Any, /) -> Any:
    """``|x1|`` with the sign bit of ``x2`` (-0.0 and a negative NaN count as negative)."""
    x1, x2 = _cast("copysign", np.copysign, x1, x2)
    size = absolute(x1)
    return where(signbit(x2), negative(size), size)


@numpy_or_traced(arrays=2)
def heaviside(x1: Any, x2: Any, /) -> Any:
    """0 below zero, 1 above, ``x2`` at zero (NaN stays NaN)."""
    x1, x2 = _cast("heaviside", np.heaviside, x1, x2)
    step = where(less(x1, 0.0), 0.0, where(less(0.0, x1), 1.0, x2))
    return where(isnan(x1), x1, astype(step, P.dtype_of(x1)))


def _nan_ignoring(name: str, np_fn: Any, chooser: Any) -> Any:
    @numpy_or_traced(np_fn, name=name, arrays=2)
    def fn(x1: Any, x2: Any, /) -> Any:
        x1, x2 = _cast(name, np_fn, x1, x2)
        return where(isnan(x2), x1, where(isnan(x1), x2, chooser(x1, x2)))
    return fn


fmin = _nan_ignoring("fmin", np.fmin, minimum)
fmin.__doc__ = "``minimum``, but a NaN loses to a number."
fmax = _nan_ignoring("fmax", np.fmax, maximum)
fmax.__doc__ = "``maximum``, but a NaN loses to a number."


@numpy_or_traced(arrays=2)
def float_power(x1: Any, x2: Any, /) -> Any:
    """``x1 ** x2`` computed in float64 (or wider), whatever the operands' dtypes."""
    x1, x2 = _cast("float_power", np.float_power, x1, x2)
    return P.pow(float(x1) if type(x1) in (bool, int) else x1,
                 float(x2) if type(x2) in (bool, int) else x2)


def _exact_power_of_two(n: Any) -> Any:
    """``2.0 ** n`` for integers ``n`` (exact, float64; inf beyond 2**1023)."""
    return P.pow(2.0, astype(n, np.float64))


@numpy_or_traced(arrays=2)
def ldexp(x1: Any, x2: Any, /) -> Any:
    """``x1 * 2**x2`` for integer ``x2``, in two exact halves so that neither factor
    overflows or underflows where the product does not."""
    if not np.issubdtype(P.dtype_of(_operand(x2, "ldexp")), np.integer):
        raise TypeError(f"nanojax.numpy.ldexp: the exponent must be an integer array, got "
                        f"{P.dtype_of(x2)}")
    (x1,) = _cast("ldexp", lambda a: np.ldexp(a, 1), x1)
    dtype = P.dtype_of(x1)
    half = floor_divide(x2, 2)
    wide = astype(x1, np.float64) if dtype != np.float64 else x1
    out = multiply(multiply(wide, _exact_power_of_two(half)),
                   _exact_power_of_two(subtract(x2, half)))
    return out if dtype == np.float64 else astype(out, dtype)


@numpy_or_traced()
def frexp(x: Any, /) -> tuple[Any, Any]:
    """``(mantissa, exponent)`` with ``x = mantissa * 2**exponent`` and
    ``0.5 <= |mantissa| < 1`` (0, inf and NaN: themselves and exponent 0).

    The exponent is ``floor(log2|x|) + 1``, corrected by one where ``log2``
    rounded across a power of two; the mantissa's gradient is ``2**-exponent``.
    """
    (x,) = _cast("frexp", np.frexp, x)
    dtype = P.dtype_of(x)
    wide = astype(x, np.float64) if dtype != np.float64 else x
    regular = logical_and(isfinite(wide), not_equal(wide, 0.0))
    size = stop_gradient(where(regular, absolute(wide), 1.0))
    exponent = astype(add(floor(log2(size)), 1.0), np.int64)
    mantissa = ldexp(wide, negative(exponent))
    too_big = less_equal(1.0, absolute(mantissa))
    too_small = less(absolute(mantissa), 0.5)
    mantissa = where(too_big, multiply(mantissa, 0.5),
                     where(too_small, multiply(mantissa, 2.0), mantissa))
    exponent = add(exponent, subtract(astype(too_big, np.int64), astype(too_small, np.int64)))
    mantissa = where(regular, mantissa, wide)
    exponent = astype(where(regular, exponent, 0), np.int32)
    return (mantissa if dtype == np.float64 else astype(mantissa, dtype)), exponent


@numpy_or_traced()
def modf(x: Any, /) -> tuple[Any, Any]:
    """``(fractional part, whole part)``, both with the sign of ``x``."""
    (x,) = _cast("modf", np.modf, x)
    whole = trunc(x)
    fraction = where(isinf(x), 0.0, subtract(x, whole))
    return copysign(fraction, x), whole


@numpy_or_traced()
def spacing(x: Any, /) -> Any:
    """The distance from ``x`` to the next float away from zero (no gradient)."""
    (x,) = _cast("spacing", np.spacing, x)
    x = stop_gradient(x)
    away = where(less(x, 0.0), -np.inf, np.inf)          # spacing(-0.0) is positive
    return subtract(nextafter(x, astype(away, P.dtype_of(x))), x)


def _integer_gate(name: str, np_fn: Any, prim: Any) -> Any:
    gate = _elementwise(name, np_fn, prim)

    @numpy_or_traced(np_fn, name=name, arrays=2)
    def fn(x1: Any, x2: Any, /) -> Any:
        for x in (x1, x2):
            kind = P.dtype_of(_operand(x, name)).kind
            if kind not in "iub":
                raise TypeError(f"nanojax.numpy.{name}: takes integers, got an array of "
                                f"{P.dtype_of(x)}")
        return gate(x1, x2)
    fn.__doc__ = f"``numpy.{name}`` of integers (no gradient)."
    return fn


gcd = _integer_gate("gcd", np.gcd, P.gcd_p)
lcm = _integer_gate("lcm", np.lcm, P.lcm_p)


# ----- Complex numbers, for real arrays ------------------------------------------------

@numpy_or_traced()
def angle(z: Any, deg: bool = False) -> Any:
    """The argument of ``z``: for a real array, pi where the sign bit is set
    (-0.0 too, as ``arctan2(0, z)``), else 0; NaN stays NaN. No gradient."""
    (z,) = _cast("angle", np.angle, z)
    if P.dtype_of(z).kind == "c":
        raise NotImplementedError("nanojax.numpy.angle: complex traced values are not "
                                  "supported yet")
    half_turn = 180.0 if deg else math.pi
    out = astype(where(signbit(z), half_turn, 0.0), P.dtype_of(z))
    return where(isnan(z), stop_gradient(z), out)


def iscomplexobj(x: Any) -> bool:
    """Whether ``x`` has a complex dtype (its type alone, not its values)."""
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        dtype = (_operand(x, "iscomplexobj") if _args.has_tracer(x) else np.asarray(x)).dtype
    return np.dtype(dtype).kind == "c"


def isrealobj(x: Any) -> bool:
    """Whether ``x`` has a dtype that is not complex."""
    return not iscomplexobj(x)


@numpy_or_traced()
def isreal(x: Any, /) -> Any:
    """True where the imaginary part is 0: everywhere, for a real array."""
    if P.dtype_of(x).kind == "c":
        raise NotImplementedError("nanojax.numpy.isreal: complex traced values are not "
                                  "supported yet")
    return ones_like(x, dtype=bool)


@numpy_or_traced()
def iscomplex(x: Any, /) -> Any:
    """True where the imaginary part is not 0: nowhere, for a real array."""
    if P.dtype_of(x).kind == "c":
        raise NotImplementedError("nanojax.numpy.iscomplex: complex traced values are not "
                                  "supported yet")
    return zeros_like(x, dtype=bool)


@numpy_or_traced()
def isposinf(x: Any, /) -> Any:
    """True where ``x`` is +inf."""
    return equal(x, np.inf)


@numpy_or_traced()
def isneginf(x: Any, /) -> Any:
    """True where ``x`` is -inf."""
    return equal(x, -np.inf)


@numpy_or_traced()
def nan_to_num(x: Any, copy: bool = True, nan: Any = 0.0, posinf: Any = None,
               neginf: Any = None) -> Any:
    """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (by
    default 0 and the dtype's largest and smallest finite values); the
    gradient passes where ``x`` is finite."""
    dtype = P.dtype_of(x)
    if dtype.kind == "c":
        raise NotImplementedError("nanojax.numpy.nan_to_num: complex traced values are not "
                                  "supported yet")
    if dtype.kind not in "f":
        return x
    info = np.finfo(dtype)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    out = where(isnan(x), nan, where(equal(x, np.inf), posinf,
                                     where(equal(x, -np.inf), neginf, x)))
    return astype(out, dtype)


# ----- Closeness and equality ---------------------------------------------------------

@numpy_or_traced(arrays=2)
def isclose(a: Any, b: Any, rtol: Any = 1e-05, atol: Any = 1e-08, equal_nan: bool = False) -> Any:
    """``|a - b| <= atol + rtol * |b|`` (not symmetric, as NumPy's), equal
    infinities close, NaN close to NaN only with ``equal_nan``."""
    a, b = _operand(a, "isclose"), _operand(b, "isclose")
    if type(b) in _PY_NUMBERS:
        b = float(b) if type(b) is not complex else b
    else:
        dtype = np.result_type(P.dtype_of(b), 1.0)
        b = b if P.dtype_of(b) == dtype else astype(b, dtype)
    close = logical_and(less_equal(absolute(subtract(a, b)),
                                   add(atol, multiply(rtol, absolute(b)))), isfinite(b))
    result = logical_or(close, equal(a, b))
    if equal_nan:
        result = logical_or(result, logical_and(isnan(a), isnan(b)))
    return result


@numpy_or_traced(arrays=2)
def allclose(a: Any, b: Any, rtol: Any = 1e-05, atol: Any = 1e-08,
             equal_nan: bool = False) -> Any:
    """Whether ``isclose`` holds everywhere (a Python bool when nothing is traced)."""
    return _all(isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def _shape(x: Any) -> tuple:
    return tuple(x.shape) if isinstance(x, Tracer) else np.shape(x)


@numpy_or_traced(arrays=2)
def array_equal(a1: Any, a2: Any, equal_nan: bool = False) -> Any:
    """Whether the arrays have one shape and equal elements (NaN equal to NaN
    with ``equal_nan``)."""
    a1, a2 = _operand(a1, "array_equal"), _operand(a2, "array_equal")
    if _shape(a1) != _shape(a2):
        return np.bool_(False)
    same = equal(a1, a2)
    if equal_nan:
        same = logical_or(same, logical_and(isnan(a1), isnan(a2)))
    return _all(same)


@numpy_or_traced(arrays=2)
def array_equiv(a1: Any, a2: Any) -> Any:
    """Whether the arrays broadcast together and are equal everywhere."""
    a1, a2 = _operand(a1, "array_equiv"), _operand(a2, "array_equiv")
    try:
        np.broadcast_shapes(_shape(a1), _shape(a2))
    except ValueError:
        return np.bool_(False)
    return _all(equal(a1, a2))
