"""Cumulative reductions beside ``cumsum``: cumprod, cummax, cummin, cumlogsumexp.

Each gate's ``impl`` is NumPy's accumulation (``np.cumprod``,
``np.maximum.accumulate``, ...). Their derivatives are JAX's: the jvp of
the same running reduction written as a parallel prefix scan
(``associative_scan``) of the gate's combining function, and the vjp its
pull-back. The scan is made of ``mul``/``max``/... and slices, so its
derivatives are exact where a closed form is not: a cumulative product with
zeros in it needs no division, the running maximum passes the pull to the
element it holds (a tie splits it as ``max`` does, along the same tree as
in JAX), and ``cumlogsumexp`` differentiates through ``logaddexp``, never
exponentiating a large value. Being written with primitives, the rules
differentiate again, batch and stage like everything else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from nanojax.core import PerPrimitive, Primitive, ShapedArray
from nanojax.primitives.base import _batch_unary, _register
from nanojax.primitives.elementwise import (abs_p, add, exp_p, log1p_p, max_p, min_p, mul,
                                            ne_p, neg, select_n, sub)

# ----- The prefix scan the derivatives are taken through -------------------------------

def associative_scan(combine: Callable, x: Any, axis: int, reverse: bool = False) -> Any:
    """The running ``combine`` of one array ``x`` along ``axis``, by lax's shared scan.

    The same tree as JAX's, so the same pulls at ties (see
    ``nanojax.lax_associative_scan``, imported when a rule first runs: it is
    written on the primitives this package defines).
    """
    from nanojax.lax_associative_scan import scan_leaves
    return scan_leaves(lambda a, b: [combine(a[0], b[0])], [x], axis, reverse)[0]


def logaddexp(a: Any, b: Any) -> Any:
    """``log(exp(a) + exp(b))`` without overflow; two equal infinities (or a NaN): ``a + b``."""
    delta = sub(a, b)
    undefined = ne_p.bind(delta, delta)
    safe = select_n(undefined, delta, 0.0)
    big = max_p.bind(a, b)
    return select_n(undefined, add(big, log1p_p.bind(exp_p.bind(neg(abs_p.bind(safe))))),
                    add(a, b))


# ----- The gates -------------------------------------------------------------------------

def _flipped(accumulate: Callable) -> Callable:
    def impl(x, *, axis, reverse):
        if not reverse:
            return accumulate(x, axis)
        return np.ascontiguousarray(np.flip(accumulate(np.flip(x, axis), axis), axis))
    return impl


def _aval(name: str, dtype_of: Callable) -> Callable:
    def abstract_eval(x, *, axis, reverse):
        if not 0 <= axis < x.ndim:
            raise ValueError(f"{name}: axis {axis} is out of range for an array of shape "
                             f"{x.shape}")
        return ShapedArray(x.shape, dtype_of(x.dtype))
    return abstract_eval


def _cumulative(name: str, accumulate: Callable, combine: Callable,
                dtype_of: Callable = lambda d: d) -> Primitive:
    def jvp(primals, tangents, ans, *, axis, reverse):
        if tangents[0] is None:
            return None
        from nanojax.autodiff import jvp_of
        return jvp_of(lambda x: associative_scan(combine, x, axis, reverse), (primals[0],),
                      (tangents[0],), f"nanojax.lax.{name}")[1]

    def vjp(g, ans, x, *, axis, reverse):
        from nanojax.autodiff import vjp_of
        _, pull = vjp_of(lambda x: associative_scan(combine, x, axis, reverse), (x,), False,
                         f"nanojax.lax.{name}")
        return pull(g)[0]

    return _register(Primitive(
        name, _flipped(accumulate), _aval(name, dtype_of), vjp_args=(vjp,), jvp=jvp,
        batch=PerPrimitive(_batch_unary(lambda size, *, axis, reverse: dict(
            axis=axis + 1, reverse=reverse))),
        may_alias=False, layout="c", residuals="operands"))


def _cumprod_dtype(dtype: np.dtype) -> np.dtype:
    return np.cumprod(np.ones(1, dtype)).dtype          # NumPy's: bool and small ints widen


cumprod_p = _cumulative("cumprod", lambda x, axis: np.cumprod(x, axis=axis), mul,
                        _cumprod_dtype)
cummax_p = _cumulative("cummax", lambda x, axis: np.maximum.accumulate(x, axis=axis),
                       max_p.bind)
cummin_p = _cumulative("cummin", lambda x, axis: np.minimum.accumulate(x, axis=axis),
                       min_p.bind)
cumlogsumexp_p = _cumulative("cumlogsumexp",
                             lambda x, axis: np.logaddexp.accumulate(x, axis=axis), logaddexp)

# ----- The functions rules and faces are written with (thin binds) ------------------------


def cumprod(x, axis, reverse=False): return cumprod_p.bind(x, axis=axis, reverse=reverse)
def cummax(x, axis, reverse=False): return cummax_p.bind(x, axis=axis, reverse=reverse)
def cummin(x, axis, reverse=False): return cummin_p.bind(x, axis=axis, reverse=reverse)


def cumlogsumexp(x, axis, reverse=False):
    return cumlogsumexp_p.bind(x, axis=axis, reverse=reverse)

