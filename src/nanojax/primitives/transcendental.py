"""More elementwise gates: the inverse and hyperbolic functions, cbrt, nextafter,
and the integer and sign-bit gates NumPy has ufuncs for.

Each is NumPy's own ufunc, so eager NumPy, ``jit`` and every transformation
agree to the bit; a composition (asin as atan2(x, sqrt(1 - x^2)), asinh as a
log1p) would differ from NumPy in the last bits and lose accuracy near the
ends of its domain. The derivatives are the textbook ones, written with
primitives so that they differentiate again: asin' = 1/sqrt(1 - x^2),
acosh' = 1/(sqrt(x - 1) sqrt(x + 1)), cbrt' = 1/(3 cbrt(x)^2), ...

``signbit``, ``gcd`` and ``lcm`` have no lax function in JAX (they are
jax.numpy's), so they are declared without the family helper that would
list them in ``nanojax.lax``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nanojax.core import PerPrimitive, Primitive
from nanojax.primitives.base import (_ELEMENTWISE_AVAL, _register, _ufunc, batch_elementwise,
                                     binary, unary)
from nanojax.primitives.elementwise import add, div, mul, neg, sqrt_p, sub


def _sqrt(x):
    return sqrt_p.bind(x)


asin_p = unary("asin", np.arcsin, lambda g, ans, x: div(g, _sqrt(sub(1.0, mul(x, x)))),
               lowering=_ufunc("arcsin"), residuals="operands")
acos_p = unary("acos", np.arccos, lambda g, ans, x: neg(div(g, _sqrt(sub(1.0, mul(x, x))))),
               lowering=_ufunc("arccos"), residuals="operands")
atan_p = unary("atan", np.arctan, lambda g, ans, x: div(g, add(1.0, mul(x, x))),
               lowering=_ufunc("arctan"), residuals="operands")
sinh_p = unary("sinh", np.sinh, lambda g, ans, x: mul(g, cosh(x)), lowering=_ufunc("sinh"),
               residuals="operands")
cosh_p = unary("cosh", np.cosh, lambda g, ans, x: mul(g, sinh(x)), lowering=_ufunc("cosh"),
               residuals="operands")
asinh_p = unary("asinh", np.arcsinh, lambda g, ans, x: div(g, _sqrt(add(mul(x, x), 1.0))),
                lowering=_ufunc("arcsinh"), residuals="operands")
# sqrt(x - 1) sqrt(x + 1), not sqrt(x*x - 1): no cancellation next to x = 1.
acosh_p = unary("acosh", np.arccosh,
                lambda g, ans, x: div(g, mul(_sqrt(sub(x, 1.0)), _sqrt(add(x, 1.0)))),
                lowering=_ufunc("arccosh"), residuals="operands")
atanh_p = unary("atanh", np.arctanh, lambda g, ans, x: div(g, sub(1.0, mul(x, x))),
                lowering=_ufunc("arctanh"), residuals="operands")
cbrt_p = unary("cbrt", np.cbrt, lambda g, ans, x: div(g, mul(3.0, mul(ans, ans))),
               lowering=_ufunc("cbrt"), residuals="ans")
# The next float after x towards y: a step of one ulp, flat almost everywhere.
nextafter_p = binary("nextafter", np.nextafter, None, None, differentiable=False,
                     lowering=_ufunc("nextafter"))


def _flat(name: str, impl: Callable) -> Primitive:
    return _register(Primitive(
        name, impl, _ELEMENTWISE_AVAL, batch=PerPrimitive(batch_elementwise),
        differentiable=False, may_alias=False, lowering=_ufunc(impl.__name__),
        layout="operands"))


# The sign bit itself: True for -0.0 and for a NaN with its sign bit set,
# which no comparison can see.
signbit_p = _flat("signbit", np.signbit)
gcd_p = _flat("gcd", np.gcd)
lcm_p = _flat("lcm", np.lcm)


# ----- The functions rules are written with (thin binds) ------------------------------

def sinh(x): return sinh_p.bind(x)
def cosh(x): return cosh_p.bind(x)
