"""What every family of primitives shares.

The registry of primitives, the type and shape helpers, NumPy's broadcasting
and dtype rules for elementwise gates, the helpers batch rules move batch
axes with, and the family helpers ``unary`` and ``binary`` that give an
elementwise gate all its rules from its derivative.
"""

from __future__ import annotations

import functools
from builtins import max as builtins_max
from typing import Any
from collections.abc import Callable

import numpy as np

from nanojax.dtypes import BOOL, F64, FLOAT_SCALARS, I64, PY_SCALAR_DTYPES
from nanojax.core import Lowering, PerPrimitive, Primitive, ShapedArray

_FLOAT_TYPES = FLOAT_SCALARS         # the scalar hot path: see nanojax.dtypes
ALL_PRIMITIVES: dict[str, Primitive] = {}
# The gates made by ``unary`` and ``binary``, by name, with their number of
# operands: lax gives each a function of its own from this table.
ELEMENTWISE_ARITY: dict[str, int] = {}


def _register(prim: Primitive) -> Primitive:
    ALL_PRIMITIVES[prim.name] = prim
    return prim


def shape_of(x: Any) -> tuple[int, ...]:
    return getattr(x, "shape", ())


_PY_DTYPES = PY_SCALAR_DTYPES


def dtype_of(x: Any) -> np.dtype:
    dt = getattr(x, "dtype", None)
    return _PY_DTYPES[type(x)] if dt is None else dt


def is_float(x: Any) -> bool:
    return type(x) in _FLOAT_TYPES or np.issubdtype(dtype_of(x), np.inexact)


_F64: np.dtype = F64
_I64: np.dtype = I64
_BOOL: np.dtype = BOOL


def _is_f64_scalar(aval: ShapedArray) -> bool:
    return aval.shape == () and aval.dtype == _F64


# ----- Shape and dtype inference for elementwise gates ----------------------

def broadcast_shapes(name: str, *avals: ShapedArray) -> tuple[int, ...]:
    shape = avals[0].shape
    for a in avals[1:]:
        if a.shape != shape:
            try:
                return np.broadcast_shapes(*(b.shape for b in avals))
            except ValueError:
                shapes = " and ".join(str(b.shape) for b in avals)
                raise ValueError(f"{name}: shapes {shapes} do not broadcast together "
                                 "(NumPy broadcasting: trailing dimensions must be "
                                 "equal or 1)") from None
    return shape


def _proto(aval: ShapedArray) -> Any:
    # A weak (Python-scalar) value takes the other operand's dtype, as in NumPy 2.
    if aval.weak_type:
        return {"f": 1.0, "i": 1, "c": 1j}.get(aval.dtype.kind, True)
    return np.ones((), aval.dtype)


@functools.cache
def _result_dtype(impl: Callable, keys: tuple, params: tuple) -> tuple[np.dtype, bool]:
    with np.errstate(all="ignore"):
        out = impl(*(_proto(ShapedArray((), d, w)) for d, w in keys), **dict(params))
    return np.result_type(out), all(w for _, w in keys)


def elementwise_aval(prim: Primitive, *avals: ShapedArray, **params: Any) -> ShapedArray:
    shape = broadcast_shapes(prim.name, *avals)
    keys = tuple((a.dtype, a.weak_type) for a in avals)
    dtype, weak = _result_dtype(prim.impl, keys, tuple(sorted(params.items())))
    return ShapedArray(shape, dtype, weak)


# ----- Batching helpers (vmap) -------------------------------------------------
# A batch rule is ``batch(axis_size, vals, dims, **params) -> (out, out_dim)``,
# where ``dims[i]`` is the batch axis of ``vals[i]`` or None if it is unbatched.

def move_to_front(x: Any, bdim: int | None, size: int) -> Any:
    """``x`` with its batch axis first; an unbatched ``x`` gets one by broadcasting."""
    if bdim is None:
        shape = shape_of(x)
        return broadcast_in_dim(x, (size,) + shape, tuple(range(1, len(shape) + 1)))
    if bdim == 0:
        return x
    ndim = len(shape_of(x))
    return transpose(x, (bdim,) + tuple(i for i in range(ndim) if i != bdim))


def _front_with_rank(x: Any, bdim: int, rank: int) -> Any:
    """Batch axis first, then size-1 axes so that x has ``rank`` example axes."""
    x = move_to_front(x, bdim, 0)
    shape = shape_of(x)
    missing = rank - (len(shape) - 1)
    return reshape(x, (shape[0],) + (1,) * missing + shape[1:]) if missing > 0 else x


def batch_elementwise(prim: Primitive) -> Callable:
    """The batch rule of any elementwise primitive: align batch axes in front."""
    def rule(size, vals, dims, **params):
        rank = builtins_max(len(shape_of(v)) - (d is not None) for v, d in zip(vals, dims))
        moved = [v if d is None else _front_with_rank(v, d, rank) for v, d in zip(vals, dims)]
        return prim.bind(*moved, **params), 0
    return rule


def _batch_unary(make_params: Callable) -> Callable:
    """Rule for a one-operand primitive: batch axis to front, shift axis params."""
    def rule_for(prim: Primitive) -> Callable:
        def rule(size, vals, dims, **params):
            x = move_to_front(vals[0], dims[0], size)
            return prim.bind(x, **make_params(size, **params)), 0
        return rule
    return rule_for


def _sum_jvps(parts: list) -> Any:
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    out = parts[0]
    for p in parts[1:]:
        out = add(out, p)
    return out


def _fit_tangent(t: Any, ans: Any) -> Any:
    # A tangent from a broadcast operand must take the output's full shape.
    if t is not None and shape_of(t) != shape_of(ans):
        return broadcast_to(t, shape_of(ans))
    return t


_ELEMENTWISE_AVAL: PerPrimitive = PerPrimitive(
    lambda prim: functools.partial(elementwise_aval, prim))


def unary(name: str, impl: Callable, deriv: Callable | None, *, differentiable: bool = True,
          lowering: Lowering | None = None, residuals: str | None = None) -> Primitive:
    """An elementwise one-input gate; ``deriv(g, ans, x)`` is g times f'(x).

    The same rule is the pull and the push: an elementwise Jacobian is
    diagonal. A ufunc always writes a new array, so it never aliases.
    """
    ELEMENTWISE_ARITY[name] = 1
    jvp = None if deriv is None else (lambda primals, tangents, ans, **p: (
        None if tangents[0] is None else deriv(tangents[0], ans, *primals, **p)))
    return _register(Primitive(
        name, impl, _ELEMENTWISE_AVAL, jvp=jvp, vjp_args=None if deriv is None else (deriv,),
        batch=PerPrimitive(batch_elementwise), differentiable=differentiable,
        may_alias=False, lowering=lowering, layout="operands", residuals=residuals))


def binary(name: str, impl: Callable, dx: Callable | None, dy: Callable | None, *,
           differentiable: bool = True, lowering: Lowering | None = None,
           simplify: Callable | None = None, symmetric: bool = False,
           residuals: str | None = None) -> Primitive:
    """An elementwise two-input gate with NumPy broadcasting.

    ``dx(g, ans, x, y)`` and ``dy(g, ans, x, y)`` are the pulls on each input.
    """
    ELEMENTWISE_ARITY[name] = 2
    jvp = None
    if dx is not None and dy is not None:
        def jvp(primals, tangents, ans):
            tx, ty = tangents
            return _fit_tangent(_sum_jvps([
                None if tx is None else dx(tx, ans, *primals),
                None if ty is None else dy(ty, ans, *primals)]), ans)
    return _register(Primitive(
        name, impl, _ELEMENTWISE_AVAL, jvp=jvp, vjp_args=(dx, dy) if differentiable else None,
        batch=PerPrimitive(batch_elementwise), differentiable=differentiable,
        may_alias=False, lowering=lowering, simplify=simplify, layout="operands",
        symmetric=symmetric, residuals=residuals))


def _ufunc(name: str) -> Lowering:
    """The lowering of a gate whose impl is NumPy's ufunc ``name``."""
    return Lowering(ufunc=name)


def _arithmetic(op: str, ufunc: str) -> Lowering:
    """Python's operator on float64 scalars (an int64 beside one too), NumPy's otherwise."""
    expr = "{0} " + op + " {1}"
    return Lowering(float_expr=expr, mixed=True, array_expr=expr, ufunc=ufunc)


def _comparison(op: str, ufunc: str) -> Lowering:
    expr = "{0} " + op + " {1}"
    return Lowering(float_expr=expr, array_expr=expr, ufunc=ufunc)


def same(ins, params, known):
    """The operand itself: kept when the output has its shape and dtype (a no-op)."""
    return ins[0]


# The shape functions the helpers above are written with (they import this module).
from nanojax.primitives.elementwise import add  # noqa: E402
from nanojax.primitives.shapes import (broadcast_in_dim, broadcast_to,  # noqa: E402
                                       reshape, transpose)
