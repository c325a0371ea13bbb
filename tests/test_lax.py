"""``nanojax.lax``: every function against NumPy, under jit, under grad and vmap.

``CASES`` has one row per representative call of a lax function: its name,
a function of the row's array operands (parameters are closed over), the
operands, the NumPy reference, and whether the call is differentiated
against finite differences (every operand must then be float64). The
elementwise rows are generated from tables (float64 with broadcasting,
float32, integers, Python scalars); the structural rows are written out.
Each row is checked for its value and dtype against NumPy, for bit-for-bit
equality between eager and ``nj.jit``, and (when marked) for its gradient
against ``nj.numerical_grad``.

``ERROR_CASES`` pins the error contract: a bad call raises TypeError or
ValueError whose message starts with ``nanojax.lax.<name>:``, the same
sentence eagerly and under jit. ``lax.round``'s special values, jaxprs, vmap
and the guards that keep the tables complete come last.
"""

from __future__ import annotations

import dataclasses
import math
import re
from typing import Any
from collections.abc import Callable

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import lax
from nanojax import primitives as P
from test_primitive_rules import (above_minus_one, apart, draw_args, each, far_from_multiples,
                                  nonzero, normal,
                                  positive, small_integers)

F32, F64, I32 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int32)

# Every elementwise gate's lax function (renamed as JAX names it): lax name -> gate.
PRIMITIVE_OF = {lax._RENAMED.get(n, n): n for n in P.ELEMENTWISE_ARITY if n not in lax._NOT_LAX}

LAX = {name: getattr(lax, name) for name in lax.__all__}  # loop-bound defaults read it


@dataclasses.dataclass(frozen=True)
class Case:
    """One call of ``lax.<name>``: ``fn(*args)`` should equal ``reference(*args)``."""

    name: str
    label: str
    fn: Callable
    args: tuple
    reference: Callable
    grad: bool = False


def _param(c: Case):
    return pytest.param(c, id=f"{c.name}-{c.label}")


# ----- Elementwise rows, from tables ---------------------------------------------

def _logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def _small(rng, shape):
    """|x| < 1.2: tan keeps away from its poles."""
    return rng.uniform(-1.2, 1.2, shape)


# name -> (NumPy reference, domain, differentiable, meaningful on integers)
UNARY = {
    "neg": (np.negative, normal, True, True),
    "exp": (np.exp, normal, True, False),
    "log": (np.log, positive, True, False),
    "log1p": (np.log1p, above_minus_one, True, False),
    "tanh": (np.tanh, normal, True, False),
    "logistic": (_logistic, normal, True, False),
    "sin": (np.sin, normal, True, False),
    "cos": (np.cos, normal, True, False),
    "tan": (np.tan, _small, True, False),
    "expm1": (np.expm1, normal, True, False),
    "sqrt": (np.sqrt, positive, True, False),
    "abs": (np.abs, nonzero, True, True),
    # Piecewise constant: away from their jumps both gradients are zero.
    "sign": (np.sign, nonzero, True, True),
    "floor": (np.floor, normal, True, False),
    "ceil": (np.ceil, normal, True, False),
}

BINARY = {
    "add": (np.add, each(normal, normal), True, True),
    "sub": (np.subtract, each(normal, normal), True, True),
    "mul": (np.multiply, each(normal, normal), True, True),
    "div": (np.divide, each(normal, nonzero), True, False),
    "max": (np.maximum, apart, True, True),
    "min": (np.minimum, apart, True, True),
    "pow": (np.power, each(positive, normal), True, False),
    "atan2": (np.arctan2, each(normal, nonzero), True, False),
    "rem": (np.fmod, each(nonzero, far_from_multiples), True, False),  # ints: tested apart
    "eq": (np.equal, each(small_integers, small_integers), False, True),
    "ne": (np.not_equal, each(small_integers, small_integers), False, True),
    "lt": (np.less, each(small_integers, small_integers), False, True),
    "le": (np.less_equal, each(small_integers, small_integers), False, True),
    "gt": (np.greater, each(small_integers, small_integers), False, True),
    "ge": (np.greater_equal, each(small_integers, small_integers), False, True),
}

# The inverse and hyperbolic gates, cbrt and nextafter (the jnp-maths branch's rows).
def _unit(rng, shape):
    return rng.uniform(-0.9, 0.9, shape)


def _above_one(rng, shape):
    return rng.uniform(1.2, 3.0, shape)


UNARY.update({
    "asin": (np.arcsin, _unit, True, False), "acos": (np.arccos, _unit, True, False),
    "atan": (np.arctan, normal, True, False), "sinh": (np.sinh, normal, True, False),
    "cosh": (np.cosh, normal, True, False), "asinh": (np.arcsinh, normal, True, False),
    "acosh": (np.arccosh, _above_one, True, False), "atanh": (np.arctanh, _unit, True, False),
    "cbrt": (np.cbrt, nonzero, True, False),
})
BINARY.update({"nextafter": (np.nextafter, each(normal, normal), False, False)})

# Integer-only gates: name -> (reference, operands).
_A = np.array([[-8, -3, 0, 5], [7, 12, -1, 2], [3, 3, -6, 9]], np.int32)
_B = np.array([1, 0, 2, 3], np.int32)
_MASK_A = np.array([[True, False, True, False], [True, True, False, False],
                    [False, False, True, True]])
_MASK_B = np.array([True, False, False, True])
INTEGER_ONLY = {
    "bitwise_and": (np.bitwise_and, [(_A, _B), (_MASK_A, _MASK_B)]),
    "bitwise_or": (np.bitwise_or, [(_A, _B), (_MASK_A, _MASK_B)]),
    "bitwise_xor": (np.bitwise_xor, [(_A, _B), (_MASK_A, _MASK_B)]),
    "bitwise_not": (np.invert, [(_A,), (_MASK_A,)]),
    "shift_left": (np.left_shift, [(_A, _B), (np.int64(3), _B)]),
    # Arithmetic: a negative number shifted right stays negative (-8 >> 1 == -4).
    "shift_right_arithmetic": (np.right_shift, [(_A, _B), (np.int64(-8), _B)]),
}

BROADCAST_SHAPES = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((), (3, 4)), ((4,), (3, 4))]


def _draw(domain, shapes, dtype=F64):
    return tuple(np.asarray(a).astype(dtype) if np.ndim(a) else dtype.type(a)
                 for a in draw_args(domain, shapes))


def _on(name: str) -> Callable:
    fn = getattr(lax, name)
    return lambda *xs: fn(*xs)


def _elementwise_cases() -> list[Case]:
    cases = []
    for name, (ref, domain, diff, on_ints) in UNARY.items():
        for shape in [(), (3, 4)]:
            cases.append(Case(name, f"f64-{shape}", _on(name), _draw(each(domain), [shape]),
                              ref, grad=diff))
        cases.append(Case(name, "f32", _on(name), _draw(each(domain), [(3, 4)], F32), ref))
        if on_ints:
            cases.append(Case(name, "i32", _on(name), (_A,), ref))
    for name, (ref, domain, diff, on_ints) in BINARY.items():
        for shapes in BROADCAST_SHAPES:
            cases.append(Case(name, f"f64-{shapes[0]}&{shapes[1]}", _on(name),
                              _draw(domain, shapes), ref, grad=diff))
        cases.append(Case(name, "f32", _on(name), _draw(domain, [(3, 4), (4,)], F32), ref))
        # A Python float beside a float32 array leaves it float32 (NumPy's rule).
        fn = getattr(lax, name)
        cases.append(Case(name, "f32-python-float", lambda x, fn=fn: fn(x, 1.5),
                          _draw(each(positive), [(3, 4)], F32),
                          lambda x, ref=ref: ref(x, 1.5)))
        if on_ints:
            cases.append(Case(name, "i32", _on(name), (_A, _B), ref))
            cases.append(Case(name, "i32-python-int", lambda x, fn=fn: fn(2, x), (_A,),
                              lambda x, ref=ref: ref(2, x)))
    for name, (ref, operand_sets) in INTEGER_ONLY.items():
        for args in operand_sets:
            cases.append(Case(name, np.result_type(*args).name, _on(name), args, ref))
    return cases


# ----- Structural rows ---------------------------------------------------------------

RNG = np.random.default_rng(0)


def r(*shape, dtype=F64):
    return RNG.standard_normal(shape).astype(dtype)


def _distinct(*shape):
    """Entries at least 0.2 apart: no ties for max, min, argmax."""
    n = int(np.prod(shape))
    return ((RNG.permutation(n) - n / 2) * 0.3 + RNG.uniform(0, 0.1, n)).reshape(shape)


def _in_dim(shape, dims):
    """NumPy's broadcast_in_dim: operand axis i becomes axis dims[i] of ``shape``."""
    def ref(x):
        kept = [1] * len(shape)
        for i, d in enumerate(dims):
            kept[d] = np.shape(x)[i]
        return np.broadcast_to(np.reshape(x, kept), shape)
    return ref


def _reversed_cumsum(axis):
    return lambda x: np.flip(np.cumsum(np.flip(x, axis), axis), axis)


def _dg(lc, rc, lb=(), rb=(), **kw):
    return lambda a, b: lax.dot_general(a, b, ((lc, rc), (lb, rb)), **kw)


def _einsum(spec):
    return lambda a, b: np.einsum(spec, a, b)


_WHICH_BOOL = np.array([[True, False, True, True], [False, False, True, False],
                        [True, True, False, False]])
_WHICH_INT = np.array([[0, 1, 2, 1], [2, 2, 0, 1], [1, 0, 0, 2]], np.int32)
_ROUNDING = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.3, -0.7, 1.2, 3.75, -4.25, 7.0])
_X = _distinct(3, 4)
_X3 = _distinct(2, 3, 4)
_TIES = small_integers(np.random.default_rng(3), (3, 4))

STRUCTURAL_CASES = [
    *(Case("integer_pow", f"y={y}", lambda x, y=y: lax.integer_pow(x, y),
           (positive(RNG, (3, 4)),), lambda x, y=y: x ** float(y), grad=True)
      for y in (0, 1, 2, 3, -1, -2)),
    Case("integer_pow", "i32-y=3", lambda x: lax.integer_pow(x, 3), (_A,), lambda x: x ** 3),
    Case("integer_pow", "f32-y=-2", lambda x: lax.integer_pow(x, -2),
         (positive(RNG, (4,)).astype(F32),), lambda x: x ** np.float32(-2)),
    Case("integer_pow", "np.int64-y", lambda x: lax.integer_pow(x, np.int64(2)), (r(3),),
         np.square),
    Case("square", "f64", lax.square, (r(3, 4),), np.square, grad=True),
    Case("square", "f32", lax.square, (r(3, dtype=F32),), np.square),
    Case("square", "i32", lax.square, (_A,), np.square),
    Case("round", "away-from-zero", lax.round, (_ROUNDING,),
         lambda x: np.sign(x) * np.floor(np.abs(x) + 0.5)),
    Case("round", "to-nearest-even", lambda x: lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN),
         (_ROUNDING,), np.rint),
    # Away from the ties, where both roundings are flat: a zero gradient.
    *(Case("round", f"method={m}-off-the-ties", lambda x, m=m: lax.round(x, m), (r(3, 4) * 3,),
           np.rint, grad=True) for m in (0, 1)),
    Case("round", "method-1", lambda x: lax.round(x, 1), (_ROUNDING,), np.rint),
    Case("round", "f32", lax.round, (_ROUNDING.astype(F32),),
         lambda x: np.sign(x) * np.floor(np.abs(x) + np.float32(0.5))),
    Case("round", "python-float", lambda: lax.round(2.5), (), lambda: np.float64(3.0)),
    Case("select_n", "bool", lambda a, b: lax.select_n(_WHICH_BOOL, a, b), (r(3, 4), r(3, 4)),
         lambda a, b: np.where(_WHICH_BOOL, b, a), grad=True),
    Case("select_n", "int-three-cases", lambda a, b, c: lax.select_n(_WHICH_INT, a, b, c),
         (r(3, 4), r(3, 4), r(3, 4)), lambda a, b, c: np.choose(_WHICH_INT, [a, b, c]),
         grad=True),
    Case("select_n", "broadcast", lambda a, b: lax.select_n(_WHICH_BOOL, a, b), (r(3, 1), r()),
         lambda a, b: np.where(_WHICH_BOOL, b, a), grad=True),
    Case("select_n", "traced-which", lambda w, a, b: lax.select_n(w, a, b),
         (_WHICH_BOOL, r(3, 4), r(3, 4)), lambda w, a, b: np.where(w, b, a)),
    Case("select_n", "one-case", lambda a: lax.select_n(_WHICH_BOOL, a), (r(3, 4),),
         lambda a: a),
    Case("select_n", "f32", lambda a, b: lax.select_n(_WHICH_BOOL, a, b),
         (r(3, 4, dtype=F32), r(3, 4, dtype=F32)), lambda a, b: np.where(_WHICH_BOOL, b, a)),
    Case("convert_element_type", "f64-to-f32", lambda x: lax.convert_element_type(x, F32),
         (r(3, 4),), lambda x: x.astype(F32)),
    Case("convert_element_type", "f64-to-i32-truncates",
         lambda x: lax.convert_element_type(x, np.int32), (r(3, 4) * 3,),
         lambda x: x.astype(I32)),
    Case("convert_element_type", "i32-to-f64", lambda x: lax.convert_element_type(x, "float64"),
         (_A,), lambda x: x.astype(F64)),
    Case("convert_element_type", "bool-to-f32", lambda x: lax.convert_element_type(x, F32),
         (_WHICH_BOOL,), lambda x: x.astype(F32)),
    Case("convert_element_type", "f64-to-f64", lambda x: lax.convert_element_type(x, F64),
         (r(3, 4),), lambda x: x, grad=True),
    Case("stop_gradient", "f64", lax.stop_gradient, (r(3, 4),), lambda x: x),
    Case("stop_gradient", "i32", lax.stop_gradient, (_A,), lambda x: x),
    *(Case(name, f"axes={axes}-{x.shape}", lambda x, fn=LAX[name], a=axes: fn(x, a),
           (x,), lambda x, ref=ref, a=axes: ref(x, axis=a), grad=True)
      for name, ref in [("reduce_sum", np.sum), ("reduce_max", np.max), ("reduce_min", np.min),
                        ("reduce_prod", np.prod)]
      for x, axes in [(_X, (0,)), (_X, (1,)), (_X, (0, 1)), (_X, (-1,)), (_X, ()),
                      (_X3, (0, 2)), (_X3, (2, 0))]),
    *(Case(name, "i32", lambda x, fn=LAX[name]: fn(x, (0,)), (_A,),
           lambda x, ref=ref: ref(x, axis=0))
      for name, ref in [("reduce_sum", np.sum), ("reduce_max", np.max), ("reduce_min", np.min),
                        ("reduce_prod", np.prod)]),
    Case("reduce_sum", "f32", lambda x: lax.reduce_sum(x, (1,)), (r(3, 4, dtype=F32),),
         lambda x: np.sum(x, axis=1)),
    Case("reduce_sum", "empty", lambda x: lax.reduce_sum(x, (0,)), (np.zeros((0, 3)),),
         lambda x: np.sum(x, axis=0)),
    *(Case(name, f"axis={axis}-{dt.name}",
           lambda x, fn=LAX[name], a=axis, dt=dt: fn(x, a, dt), (x,),
           lambda x, ref=ref, a=axis, dt=dt: ref(x, axis=a).astype(dt))
      for name, ref in [("argmax", np.argmax), ("argmin", np.argmin)]
      for x in (_X, _TIES) for axis in (0, 1) for dt in (I32, np.dtype(np.int64))),
    Case("argmax", "f32", lambda x: lax.argmax(x, 1, np.int32), (r(3, 4, dtype=F32),),
         lambda x: np.argmax(x, 1).astype(I32)),
    *(Case("cumsum", f"axis={axis}-reverse={rev}-{x.shape}",
           lambda x, a=axis, rv=rev: lax.cumsum(x, a, rv), (x,),
           _reversed_cumsum(axis) if rev else (lambda x, a=axis: np.cumsum(x, a)), grad=True)
      for x, axis in [(r(5), 0), (r(3, 4), 0), (r(3, 4), 1)] for rev in (False, True)),
    Case("cumsum", "defaults", lax.cumsum, (r(3, 4),), lambda x: np.cumsum(x, 0)),
    Case("cumsum", "reverse-keyword", lambda x: lax.cumsum(x, axis=1, reverse=True),
         (r(3, 4),), _reversed_cumsum(1)),
    Case("cumsum", "i32", lambda x: lax.cumsum(x, 1), (_A,), lambda x: np.cumsum(x, 1)),
    Case("cumsum", "f32", lambda x: lax.cumsum(x, 0), (r(4, dtype=F32),), np.cumsum),
    *(Case("broadcast_in_dim", f"{x.shape}-to-{shape}-along-{dims}",
           lambda x, s=shape, d=dims: lax.broadcast_in_dim(x, s, d), (x,), _in_dim(shape, dims),
           grad=True)
      for x, shape, dims in [(r(3), (2, 3), (1,)), (r(4), (4, 2), (0,)),
                             (r(3, 1), (3, 4), (0, 1)), (r(3), (2, 3, 4), (1,)),
                             (r(), (2, 3), ()), (r(2, 3), (2, 3), (0, 1))]),
    Case("broadcast_in_dim", "i32", lambda x: lax.broadcast_in_dim(x, (2, 4), (1,)), (_B,),
         _in_dim((2, 4), (1,))),
    *(Case("broadcast", f"{x.shape}-sizes={sizes}", lambda x, s=sizes: lax.broadcast(x, s),
           (x,), lambda x, s=sizes: np.broadcast_to(x, s + np.shape(x)), grad=True)
      for x, sizes in [(r(3), (2,)), (r(), (2, 3)), (r(2, 3), ()), (r(3, 4), (2, 1))]),
    *(Case("reshape", f"{x.shape}-to-{sizes}-dims={dims}",
           lambda x, s=sizes, d=dims: lax.reshape(x, s, d), (x,),
           lambda x, s=sizes, d=dims: np.reshape(x if d is None else np.transpose(x, d), s),
           grad=True)
      for x, sizes, dims in [(r(3, 4), (12,), None), (r(2, 3, 4), (4, 6), None),
                             (r(), (1, 1), None), (r(3, 4), (2, 6), (1, 0)),
                             (r(2, 3, 4), (4, 6), (2, 0, 1)), (r(3, 4), [6, 2], [0, 1])]),
    *(Case("transpose", f"{x.shape}-{perm}", lambda x, p=perm: lax.transpose(x, p), (x,),
           lambda x, p=perm: np.transpose(x, p), grad=True)
      for x, perm in [(r(), ()), (r(3, 4), (1, 0)), (r(2, 3, 4), (2, 0, 1)),
                      (r(2, 3, 4), (1, 2, 0)), (r(3, 4), (0, 1))]),
    *(Case("squeeze", f"{x.shape}-{dims}", lambda x, d=dims: lax.squeeze(x, d), (x,),
           lambda x, d=dims: np.squeeze(x, tuple(d)), grad=True)
      for x, dims in [(r(3, 1), (1,)), (r(1, 3, 1), (0, 2)), (r(1, 3, 1), (-1,)), (r(1), (0,)),
                      (r(3, 4), ()), (r(1, 3, 1), [2, 0])]),
    *(Case("expand_dims", f"{x.shape}-{dims}", lambda x, d=dims: lax.expand_dims(x, d), (x,),
           lambda x, d=dims: np.expand_dims(x, tuple(d)), grad=True)
      for x, dims in [(r(3, 4), (0,)), (r(3, 4), (-1,)), (r(3, 4), (0, 3)), (r(), (0, 1)),
                      (r(3, 4), (1,)), (r(3), (-1, 0))]),
    Case("expand_dims", "i32", lambda x: lax.expand_dims(x, (1,)), (_B,),
         lambda x: np.expand_dims(x, 1)),
    Case("concatenate", "rows", lambda a, b: lax.concatenate([a, b], 0), (r(2, 3), r(4, 3)),
         lambda a, b: np.concatenate([a, b], 0), grad=True),
    Case("concatenate", "columns", lambda a, b: lax.concatenate((a, b), 1), (r(3, 1), r(3, 4)),
         lambda a, b: np.concatenate([a, b], 1), grad=True),
    Case("concatenate", "three-with-empty", lambda a, b, c: lax.concatenate([a, b, c], 0),
         (r(2), r(0), r(3)), lambda a, b, c: np.concatenate([a, b, c]), grad=True),
    Case("concatenate", "one", lambda a: lax.concatenate([a], 0), (r(3),), lambda a: a),
    Case("concatenate", "i32", lambda a, b: lax.concatenate([a, b], 0), (_A, _A),
         lambda a, b: np.concatenate([a, b])),
    Case("concatenate", "f32-and-f64", lambda a, b: lax.concatenate([a, b], 0),
         (r(2, dtype=F32), r(3)), lambda a, b: np.concatenate([a, b])),
    Case("full", "traced-fill", lambda v: lax.full((2, 3), v), (np.float64(1.5),),
         lambda v: np.full((2, 3), v), grad=True),
    Case("full", "python-float", lambda: lax.full((2, 3), 1.5), (), lambda: np.full((2, 3), 1.5)),
    Case("full", "python-int", lambda: lax.full([4], 3), (), lambda: np.full(4, 3)),
    Case("full", "dtype-f32", lambda v: lax.full((3,), v, np.float32), (np.float64(0.1),),
         lambda v: np.full(3, v, np.float32)),
    Case("full", "dtype-i32", lambda: lax.full((2, 2), 7.9, "int32"), (),
         lambda: np.full((2, 2), 7, np.int32)),
    Case("full", "scalar-shape", lambda v: lax.full((), v), (np.float64(2.0),),
         lambda v: np.float64(v)),
    Case("full", "int-shape", lambda: lax.full(3, 0.5), (), lambda: np.full(3, 0.5)),
    *(Case("dot_general", label, fn, (r(*ls), r(*rs)), _einsum(spec), grad=True)
      for label, fn, ls, rs, spec in [
          ("matmul", _dg((1,), (0,)), (3, 4), (4, 2), "ij,jk->ik"),
          ("matvec", _dg((1,), (0,)), (3, 4), (4,), "ij,j->i"),
          ("inner", _dg((0,), (0,)), (4,), (4,), "i,i->"),
          ("outer", _dg((), ()), (3,), (4,), "i,j->ij"),
          ("scalar-times-vector", _dg((), ()), (), (3,), ",i->i"),
          ("contract-leading", _dg((0,), (0,)), (4, 3), (4, 2), "ij,ik->jk"),
          ("two-contractions", _dg((1, 2), (0, 1)), (2, 3, 4), (3, 4, 5), "ijk,jkl->il"),
          ("crossed-contractions", _dg((2, 1), (0, 1)), (2, 3, 4), (4, 3, 5), "ijk,kjl->il"),
          ("batch", _dg((2,), (1,), (0,), (0,)), (2, 3, 4), (2, 4, 5), "bij,bjk->bik"),
          ("batch-not-leading", _dg((2,), (0,), (1,), (2,)), (3, 2, 4), (4, 5, 2),
           "ibj,jkb->bik"),
          ("precision-ignored", _dg((1,), (0,), precision="highest"), (3, 4), (4,), "ij,j->i")]),
    Case("dot_general", "f32", _dg((1,), (0,)), (r(3, 4, dtype=F32), r(4, dtype=F32)),
         lambda a, b: a @ b),
    Case("dot_general", "i32", _dg((1,), (0,)), (_A, _B), lambda a, b: a @ b),
    Case("dot_general", "preferred-f64", _dg((1,), (0,), preferred_element_type=np.float64),
         (r(3, 4, dtype=F32), r(4, dtype=F32)), lambda a, b: a.astype(F64) @ b.astype(F64)),
    Case("dot_general", "list-dimension-numbers",
         lambda a, b: lax.dot_general(a, b, [[[1], [0]], [[], []]]), (r(3, 4), r(4, 2)),
         lambda a, b: a @ b),
    *(Case("dot", label, lax.dot, (r(*ls), r(*rs)), lambda a, b: np.tensordot(a, b, 1),
           grad=True)
      for label, ls, rs in [("vector-vector", (4,), (4,)), ("matrix-vector", (3, 4), (4,)),
                            ("vector-matrix", (4,), (4, 2)), ("matrix-matrix", (3, 4), (4, 2)),
                            ("3d-by-2d", (2, 3, 4), (4, 5))]),
    Case("dot", "precision-and-preferred",
         lambda a, b: lax.dot(a, b, precision=None, preferred_element_type=np.float32),
         (r(3, 4), r(4)), lambda a, b: (a.astype(F32) @ b.astype(F32))),
    # Small everyday names; the dynamic-slice family has its own tests too
    # (tests/test_lax_slicing.py: traced starts, clamping, vmap).
    Case("rsqrt", "f64", lax.rsqrt, (positive(RNG, (3, 4)),), lambda x: 1.0 / np.sqrt(x),
         grad=True),
    Case("rsqrt", "f32", lax.rsqrt, (positive(RNG, (4,)).astype(F32),),
         lambda x: np.float32(1.0) / np.sqrt(x)),
    Case("clamp", "f64", lambda x: lax.clamp(-0.5, x, 0.5), (_X,),
         lambda x: np.clip(x, -0.5, 0.5), grad=True),
    Case("select", "bool", lambda x, y: lax.select(_WHICH_BOOL, x, y), (r(3, 4), r(3, 4)),
         lambda x, y: np.where(_WHICH_BOOL, x, y), grad=True),
    Case("iota", "i32", lambda: lax.iota(np.int32, 5), (), lambda: np.arange(5, dtype=np.int32)),
    Case("broadcasted_iota", "axis-1", lambda: lax.broadcasted_iota(np.int64, (2, 3), 1), (),
         lambda: np.tile(np.arange(3), (2, 1))),
    Case("dynamic_slice", "clamped", lambda x: lax.dynamic_slice(x, (2, -1), (2, 3)), (_X,),
         lambda x: x[1:3, 1:4], grad=True),
    Case("dynamic_slice_in_dim", "axis-1", lambda x: lax.dynamic_slice_in_dim(x, 1, 2, 1),
         (_X,), lambda x: x[:, 1:3], grad=True),
    Case("dynamic_index_in_dim", "dropped", lambda x: lax.dynamic_index_in_dim(x, -1, 0, False),
         (_X,), lambda x: x[2], grad=True),
    Case("dynamic_update_slice", "clamped",
         lambda x, u: lax.dynamic_update_slice(x, u, (5, 1)), (r(3, 4), r(2, 2)),
         lambda x, u: np.concatenate([x[:1], np.concatenate([x[1:, :1], u, x[1:, 3:]], 1)]),
         grad=True),
    Case("dynamic_update_slice_in_dim", "axis-0",
         lambda x, u: lax.dynamic_update_slice_in_dim(x, u, 1, 0), (r(3, 4), r(1, 4)),
         lambda x, u: np.concatenate([x[:1], u, x[2:]]), grad=True),
    Case("slice", "strided", lambda x: lax.slice(x, (0, 1), (2, 4), (1, 2)), (_X,),
         lambda x: x[0:2, 1:4:2], grad=True),
    Case("slice_in_dim", "negative-start", lambda x: lax.slice_in_dim(x, -2, None, axis=1),
         (_X,), lambda x: x[:, 2:], grad=True),
    Case("index_in_dim", "kept", lambda x: lax.index_in_dim(x, -1, 1), (_X,),
         lambda x: x[:, 3:4], grad=True),
    Case("pad", "interior-and-crop", lambda x, v: lax.pad(x, v, [(1, -1, 1), (0, 2, 0)]),
         (_X, np.float64(0.5)),
         lambda x, v: np.pad(np.insert(x, [1, 2], v, axis=0), [(1, 0), (0, 2)],
                             constant_values=v)[:-1], grad=True),
    Case("top_k", "values", lambda x: lax.top_k(x, 2)[0], (_X,),
         lambda x: -np.sort(-x, axis=-1)[:, :2], grad=True),
    Case("top_k", "indices", lambda x: lax.top_k(x, 3)[1], (_TIES,),
         lambda x: np.argsort(-x, axis=-1, kind="stable")[:, :3].astype(np.int32)),
    Case("rev", "both-axes", lambda x: lax.rev(x, (0, 1)), (_X,), lambda x: x[::-1, ::-1],
         grad=True),
    Case("dynamic_update_index_in_dim", "without-axis",
         lambda x, u: lax.dynamic_update_index_in_dim(x, u, 0, 1), (r(3, 4), r(3)),
         lambda x, u: np.concatenate([u[:, None], x[:, 1:]], 1), grad=True),
]



def _np_rnn(w, h, xs):
    ys = []
    for x in xs:
        h = np.tanh(w @ h + x)
        ys.append(np.sum(h))
    return np.concatenate([h, ys])


def _lax_rnn(w, h, xs):
    carry, ys = lax.scan(lambda c, x: (jnp.tanh(w @ c + x), jnp.sum(jnp.tanh(w @ c + x))), h, xs)
    return jnp.concatenate([carry, ys])


def _np_fori(x):
    c = x
    for i in range(1, 4):
        c = np.sin(c) * 2.0 + i
    return c


_BRANCHES = [jnp.sin, jnp.cos, jnp.tanh]

CONTROL_FLOW_CASES = [
    Case("cond", "true", lambda x, y: lax.cond(True, lambda a, b: a * b, lambda a, b: a - b, x, y),
         (r(3, 4), r(3, 4)), lambda x, y: x * y, grad=True),
    Case("cond", "traced-pred", lambda x: lax.cond(jnp.sum(x) > 100.0, jnp.sin, jnp.cos, x),
         (_X,), np.cos, grad=True),
    Case("switch", "clamped-high", lambda x: lax.switch(5, _BRANCHES, x), (_X,), np.tanh,
         grad=True),
    Case("switch", "clamped-low", lambda x: lax.switch(-2, _BRANCHES, x), (_X,), np.sin,
         grad=True),
    Case("while_loop", "three-doublings", lambda x: lax.while_loop(
        lambda c: c[1] < 3, lambda c: (c[0] * 2.0, c[1] + 1), (x, 0))[0], (_X,),
        lambda x: x * 8.0),
    Case("fori_loop", "static-bounds", lambda x: lax.fori_loop(
        1, 4, lambda i, c: jnp.sin(c) * 2.0 + i, x), (_X,), _np_fori, grad=True),
    Case("scan", "rnn", _lax_rnn, (0.3 * r(3, 3), r(3), r(5, 3)), _np_rnn, grad=True),
    Case("scan", "reverse-cumsum", lambda xs: lax.scan(lambda c, x: (c + x, c + x), 0.0, xs,
                                                       reverse=True)[1],
         (r(6),), lambda xs: np.cumsum(xs[::-1])[::-1], grad=True),
    Case("map", "row-norms", lambda x: lax.map(lambda row: jnp.sum(row * row), x), (_X,),
         lambda x: np.sum(x * x, axis=1), grad=True),
    Case("map", "batch_size-2", lambda x: lax.map(jnp.sin, x, batch_size=2), (_X,), np.sin,
         grad=True),
]

def _digamma_reference(x: float) -> float:
    # psi(x) = psi(x + 30) - sum 1/(x + k), the asymptotic series far out, in Python floats.
    a = x + 30.0
    tail = math.log(a) - 0.5 / a - 1 / (12 * a ** 2) + 1 / (120 * a ** 4) - 1 / (252 * a ** 6)
    return tail - math.fsum(1.0 / (x + k) for k in range(30))


def _trigamma_reference(x: float) -> float:
    a = x + 30.0
    tail = 1 / a + 1 / (2 * a ** 2) + 1 / (6 * a ** 3) - 1 / (30 * a ** 5) + 1 / (42 * a ** 7)
    return tail + math.fsum(1.0 / (x + k) ** 2 for k in range(30))


def _cumulative_reference(name: str, axis: int, reverse: bool) -> Callable:
    fn = {"cumprod": np.cumprod, "cummax": np.maximum.accumulate,
          "cummin": np.minimum.accumulate, "cumlogsumexp": np.logaddexp.accumulate}[name]
    if reverse:
        return lambda x: np.flip(fn(np.flip(x, axis), axis=axis), axis)
    return lambda x: fn(x, axis=axis)


_UNIT = RNG.uniform(0.3, 3.0, (3, 4))
_ERF_OF = np.array([-1.5, -0.4, 0.0, 0.3, 0.9, 1.7])
_KEYS = np.array([[2.0, 1.0, 2.0, 0.0], [1.0, 1.0, 0.0, 0.0], [3.0, 3.0, 3.0, 1.0]])
CUMULATIVE_AND_SPECIAL_CASES = [
    *(Case(name, f"axis={axis},reverse={rev}",
           lambda x, name=name, axis=axis, rev=rev: LAX[name](x, axis, rev), (_X,),
           _cumulative_reference(name, axis, rev), grad=True)
      for name in ("cumprod", "cummax", "cummin", "cumlogsumexp")
      for axis, rev in [(0, False), (1, True)]),
    Case("cumprod", "i32", lax.cumprod, (_A,), lambda x: np.cumprod(x, axis=0)),
    Case("cummax", "f32", lambda x: lax.cummax(x, 1), (r(3, 4, dtype=F32),),
         lambda x: np.maximum.accumulate(x, axis=1)),
    Case("erf", "f64", lax.erf, (_UNIT - 1.5,), np.vectorize(math.erf), grad=True),
    Case("erfc", "f64", lax.erfc, (_UNIT * 3,), np.vectorize(math.erfc), grad=True),
    Case("erf_inv", "f64", lax.erf_inv, (np.array([math.erf(v) for v in _ERF_OF]),),
         lambda y: _ERF_OF, grad=True),
    Case("lgamma", "f64", lax.lgamma, (_UNIT * 3,), np.vectorize(math.lgamma), grad=True),
    Case("digamma", "f64", lax.digamma, (_UNIT,), np.vectorize(_digamma_reference), grad=True),
    Case("polygamma", "m=1", lambda x: lax.polygamma(1.0, x), (_UNIT,),
         np.vectorize(_trigamma_reference), grad=True),
    Case("sort", "two-keys", lambda k, v: lax.sort((k, v), dimension=1, num_keys=2)[1],
         (_KEYS, _X), lambda k, v: np.take_along_axis(v, np.lexsort((v, k), axis=1), 1)),
    Case("sort", "one", lambda x: lax.sort(x, 0), (_X,), lambda x: np.sort(x, 0), grad=True),
    Case("sort_key_val", "values", lambda k, v: lax.sort_key_val(k, v)[1], (_X[::-1], _X),
         lambda k, v: np.take_along_axis(v, np.argsort(k, -1, kind="stable"), -1), grad=True),
]

# ----- Convolutions and windowed reductions (the conv branch's rows) -------------------

def _correlate_rows(x: np.ndarray, w: np.ndarray, lo: int = 0, hi: int = 0,
                    dilation: int = 1) -> np.ndarray:
    """A 1-d convolution of one image and one filter, NumPy's way: spread, pad, correlate."""
    spread = np.zeros((len(x) - 1) * dilation + 1)
    spread[::dilation] = x
    return np.correlate(np.pad(spread, (lo, hi)), w, "valid")


def _box_same(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    padded = np.pad(x[0, 0], 1)
    n, m = x.shape[2:]
    return sum(padded[i:i + n, j:j + m] * w[0, 0, i, j]
               for i in range(3) for j in range(3))[None, None]


CONV_CASES = [
    Case("conv_general_dilated", "1d-valid",
         lambda x, w: lax.conv_general_dilated(x, w, (1,), "VALID"), (r(1, 1, 6), r(1, 1, 3)),
         lambda x, w: _correlate_rows(x[0, 0], w[0, 0])[None, None], grad=True),
    Case("conv", "2d-same", lambda x, w: lax.conv(x, w, (1, 1), "SAME"),
         (r(1, 1, 4, 5), r(1, 1, 3, 3)), _box_same, grad=True),
    Case("conv_with_general_padding", "lhs-dilation",
         lambda x, w: lax.conv_with_general_padding(x, w, (1,), [(1, 1)], (2,), None),
         (r(1, 1, 3), r(1, 1, 2)),
         lambda x, w: _correlate_rows(x[0, 0], w[0, 0], 1, 1, 2)[None, None], grad=True),
    Case("conv_transpose", "stride-2-same",
         lambda x, w: lax.conv_transpose(x, w, (2,), "SAME"), (r(1, 3, 1), r(3, 1, 1)),
         lambda x, w: _correlate_rows(x[0, :, 0], w[:, 0, 0], 2, 1, 2)[None, :, None],
         grad=True),
    Case("reduce_window", "max-pool",
         lambda x: lax.reduce_window(x, -np.inf, lax.max, (1, 2), (1, 2), "VALID"), (_X,),
         lambda x: x.reshape(3, 2, 2).max(axis=2), grad=True),
    Case("reduce_window", "sum-same",
         lambda x: lax.reduce_window(x, 0.0, lax.add, (2, 2), (1, 1), "SAME"), (_X,),
         lambda x: sum(np.pad(x, ((0, 1), (0, 1)))[i:i + 3, j:j + 4]
                       for i in range(2) for j in range(2)), grad=True),
    Case("padtype_to_pads", "same",
         lambda: np.array(lax.padtype_to_pads((5, 6), (3, 2), (2, 1), "SAME")), (),
         lambda: np.array([[1, 1], [0, 1]])),
    Case("conv_dimension_numbers", "nhwc",
         lambda: np.array(lax.conv_dimension_numbers((1, 5, 5, 3), (3, 3, 3, 8),
                                                     ("NHWC", "HWIO", "NHWC"))), (),
         lambda: np.array([[0, 3, 1, 2], [3, 2, 0, 1], [0, 3, 1, 2]])),
    Case("conv_general_permutations", "spatial-order-from-the-kernel",
         lambda: np.array(lax.conv_general_permutations(("NCHW", "OIWH", "NWHC"))), (),
         lambda: np.array([[0, 1, 3, 2], [0, 1, 2, 3], [0, 3, 1, 2]])),
]

# ----- The rest of lax's names (the laxmisc branch's rows) ------------------------------

_GATHER_ROWS = lax.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(0,),
                                          start_index_map=(0,))
_SCATTER_ROWS = lax.ScatterDimensionNumbers(update_window_dims=(1,), inserted_window_dims=(0,),
                                            scatter_dims_to_operand_dims=(0,))
_ROW_INDICES = np.array([[2], [0], [2]])
_UNIQUE_ROWS = np.array([[2], [0], [1]])


def _rows_added(x, u, rows):
    out = x.copy()
    np.add.at(out, rows[:, 0], u)
    return out


def _rows_set(x, u, rows):
    out = x.copy()
    out[rows[:, 0]] = u
    return out


def _newton_sqrt(x):
    def solve(f, y):
        for _ in range(40):
            y = y - f(y) / (2.0 * y)
        return y
    # The root's derivative is diagonal: one call of g on ones gives all of it.
    return lax.custom_root(lambda y: y * y - x, jnp.ones_like(x), solve,
                           lambda g, y: y / g(jnp.ones_like(y)))


def _dense_solve(matvec, b):
    return jnp.linalg.solve(nj.jacfwd(matvec)(b), b)


_SPD = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])


def _pick_larger(a, b):
    take_a = a[0] >= b[0]
    return lax.select(take_a, a[0], b[0]), lax.select(take_a, a[1], b[1])


LAXMISC_CASES = [
    Case("broadcast_shapes", "three", lambda: np.array(lax.broadcast_shapes((3, 1), (4,), ())),
         (), lambda: np.array([3, 4])),
    Case("full_like", "traced-fill", lambda v: lax.full_like(_X, v), (np.float64(1.5),),
         lambda v: np.full((3, 4), v), grad=True),
    Case("full_like", "dtype-and-shape", lambda: lax.full_like(_X, 2, np.int32, (2,)), (),
         lambda: np.full(2, 2, np.int32)),
    Case("collapse", "middle", lambda x: lax.collapse(x, 1, 3), (r(2, 3, 4, 2),),
         lambda x: x.reshape(2, 12, 2), grad=True),
    Case("batch_matmul", "f64", lax.batch_matmul, (r(2, 3, 4), r(2, 4, 5)), np.matmul,
         grad=True),
    Case("optimization_barrier", "pair", lambda x, y: lax.optimization_barrier((x, y))[1],
         (_X, r(3)), lambda x, y: y, grad=True),
    Case("with_sharding_constraint", "any-sharding",
         lambda x: lax.with_sharding_constraint(x, "replicated"), (_X,), lambda x: x,
         grad=True),
    Case("associative_scan", "mul-reverse",
         lambda x: lax.associative_scan(lax.mul, x, reverse=True, axis=1), (_X,),
         lambda x: np.cumprod(x[:, ::-1], 1)[:, ::-1], grad=True),
    Case("reduce", "add-is-reduce_sum", lambda x: lax.reduce(x, 0.0, lax.add, (0,)), (_X,),
         lambda x: x.sum(0), grad=True),
    Case("reduce", "python-computation-with-init",
         lambda x: lax.reduce(x, 2.0, lambda a, b: a * b, (1,)), (_X,),
         lambda x: 2.0 * x.prod(1), grad=True),
    Case("reduce", "variadic-argmax",
         lambda x: lax.reduce((x, np.broadcast_to(np.arange(4), (3, 4)).copy()), (-np.inf, 0),
                              _pick_larger, (1,))[1], (_TIES,), lambda x: x.argmax(1)),
    Case("gather", "rows", lambda x: lax.gather(x, _ROW_INDICES, _GATHER_ROWS, (1, 4)), (_X,),
         lambda x: x[[2, 0, 2]], grad=True),
    Case("gather", "fill", lambda x: lax.gather(x, np.array([[5], [1]]), _GATHER_ROWS, (1, 4),
                                                mode="fill", fill_value=-1.0), (_X,),
         lambda x: np.stack([np.full(4, -1.0), x[1]]), grad=True),
    Case("scatter_add", "repeated-rows",
         lambda x, u: lax.scatter_add(x, _ROW_INDICES, u, _SCATTER_ROWS), (_X, r(3, 4)),
         lambda x, u: _rows_added(x, u, _ROW_INDICES), grad=True),
    Case("scatter", "rows", lambda x, u: lax.scatter(x, _UNIQUE_ROWS, u, _SCATTER_ROWS),
         (_X, r(3, 4)), lambda x, u: _rows_set(x, u, _UNIQUE_ROWS), grad=True),
    Case("custom_root", "newton-sqrt", _newton_sqrt, (_UNIT,), np.sqrt, grad=True),
    Case("custom_linear_solve", "dense",
         lambda a, b: lax.custom_linear_solve(lambda v: a @ v, b, _dense_solve, _dense_solve),
         (_SPD, r(3)), np.linalg.solve, grad=True),
]

# ----- Collectives over a named axis (the collectives branch's rows) ------------------
# Each runs under a vmap naming axis "i": the row's first operand has one row per example.

def _named(fn):
    return nj.vmap(fn, axis_name="i")


_EXAMPLES = _distinct(4, 3)                 # 4 examples of 3 values, no ties
COLLECTIVE_CASES = [
    Case("psum", "named", _named(lambda x: lax.psum(x, "i")), (_EXAMPLES,),
         lambda x: np.broadcast_to(x.sum(0), x.shape), grad=True),
    Case("pmean", "named", _named(lambda x: lax.pmean(x, "i")), (_EXAMPLES,),
         lambda x: np.broadcast_to(x.mean(0), x.shape), grad=True),
    Case("pmax", "named", _named(lambda x: lax.pmax(x, "i")), (_EXAMPLES,),
         lambda x: np.broadcast_to(x.max(0), x.shape), grad=True),
    Case("pmin", "named", _named(lambda x: lax.pmin(x, "i")), (_EXAMPLES,),
         lambda x: np.broadcast_to(x.min(0), x.shape), grad=True),
    Case("all_gather", "axis=1", _named(lambda x: lax.all_gather(x, "i", axis=1)),
         (_EXAMPLES,), lambda x: np.broadcast_to(x.T, (4, 3, 4)), grad=True),
    Case("psum_scatter", "named", _named(lambda x: lax.psum_scatter(x, "i")), (r(4, 4, 2),),
         lambda x: x.sum(0), grad=True),
    Case("ppermute", "shift", _named(lambda x: lax.ppermute(x, "i", [(0, 1), (1, 2), (2, 3)])),
         (_EXAMPLES,), lambda x: np.concatenate([np.zeros((1, 3)), x[:3]]), grad=True),
    Case("all_to_all", "swap", _named(lambda x: lax.all_to_all(x, "i", 0, 0)), (r(4, 4, 2),),
         lambda x: np.swapaxes(x, 0, 1), grad=True),
    Case("axis_index", "named", _named(lambda x: lax.axis_index("i")), (_EXAMPLES,),
         lambda x: np.arange(4, dtype=np.int32)),
    Case("axis_size", "named", _named(lambda x: lax.axis_size("i") * x), (_EXAMPLES,),
         lambda x: 4 * x),
]

# Output shapes without operands, for stax's init functions: -1 (unknown batch) passes.
SHAPE_TUPLE_CASES = [
    Case("conv_general_shape_tuple", "nhwc-same-stride-2",
         lambda: np.array(lax.conv_general_shape_tuple(
             (-1, 28, 27, 3), (5, 4, 3, 8), (2, 3), "SAME", ("NHWC", "HWIO", "NHWC"))), (),
         lambda: np.array([-1, 14, 9, 8])),
    Case("conv_general_shape_tuple", "nchw-explicit-pads",
         lambda: np.array(lax.conv_general_shape_tuple(
             (2, 3, 10), (4, 3, 3), (1,), [(1, 0)], ("NCH", "OIH", "NCH"))), (),
         lambda: np.array([2, 4, 9])),
    Case("conv_transpose_shape_tuple", "same-and-valid",
         lambda: np.array(lax.conv_transpose_shape_tuple(
             (-1, 7, 5, 8), (3, 2, 8, 4), (2, 3), "VALID", ("NHWC", "HWIO", "NHWC"))), (),
         lambda: np.array([-1, 15, 15, 4])),
    Case("reduce_window_shape_tuple", "pool-with-batch",
         lambda: np.array(lax.reduce_window_shape_tuple(
             (-1, 7, 6, 3), (1, 3, 2, 1), (1, 2, 2, 1), [(0, 0), (1, 1), (0, 0), (0, 0)])), (),
         lambda: np.array([-1, 4, 3, 3])),
]

# ----- Scaled Bessel functions and incomplete gamma (the scipy-stats branch's rows) ------

def _i1_series(x):
    return math.fsum((x / 2) ** (2 * k + 1) / (math.factorial(k) * math.factorial(k + 1))
                     for k in range(60))


BESSEL_GAMMA_CASES = [
    Case("bessel_i0e", "f64", lax.bessel_i0e, ((_UNIT - 0.5) * 8,),
         lambda x: np.i0(x) * np.exp(-np.abs(x)), grad=True),
    Case("bessel_i1e", "f64", lax.bessel_i1e, ((_UNIT - 0.5) * 8,),
         lambda x: np.vectorize(_i1_series)(x) * np.exp(-np.abs(x)), grad=True),
    Case("igamma", "a=1", lambda x: lax.igamma(1.0, x), (_UNIT * 3,),
         lambda x: -np.expm1(-x), grad=True),
    Case("igammac", "a=1/2", lambda x: lax.igammac(0.5, x), (_UNIT * 3,),
         np.vectorize(lambda v: math.erfc(math.sqrt(v))), grad=True),
]

CASES = (_elementwise_cases() + STRUCTURAL_CASES + CONTROL_FLOW_CASES
         + CUMULATIVE_AND_SPECIAL_CASES + CONV_CASES + LAXMISC_CASES + COLLECTIVE_CASES
         + SHAPE_TUPLE_CASES + BESSEL_GAMMA_CASES)
VALUE_CASES = [_param(c) for c in CASES]
GRAD_CASES = [_param(c) for c in CASES if c.grad]


def _dtype(x: Any) -> np.dtype:
    return np.asarray(x).dtype


@pytest.mark.parametrize("case", VALUE_CASES)
def test_value_and_dtype_match_numpy(case: Case) -> None:
    got, want = case.fn(*case.args), np.asarray(case.reference(*case.args))
    assert _dtype(got) == want.dtype
    assert np.shape(got) == want.shape
    tol = 1e-6 if want.dtype == F32 else 1e-13
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("case", VALUE_CASES)
def test_jit_is_bit_for_bit_the_eager_value(case: Case) -> None:
    eager, compiled = np.asarray(case.fn(*case.args)), np.asarray(nj.jit(case.fn)(*case.args))
    assert compiled.dtype == eager.dtype and compiled.shape == eager.shape
    assert compiled.tobytes() == eager.tobytes()


def _weighted(case: Case) -> Callable:
    # sum(w * fn(args)) with w fixed and uneven, so every output entry counts.
    out_shape = np.shape(case.fn(*case.args))
    w = np.random.default_rng(7).uniform(0.5, 1.5, out_shape)
    return lambda *xs: nj.numpy.sum(w * case.fn(*xs))


@pytest.mark.parametrize("case", GRAD_CASES)
def test_gradient_matches_finite_differences(case: Case) -> None:
    assert all(_dtype(a) == F64 for a in case.args)
    argnums = tuple(range(len(case.args)))
    f = _weighted(case)
    got = nj.grad(f, argnums=argnums)(*case.args)
    want = nj.numerical_grad(f, argnums=argnums)(*case.args)
    for g, n, a in zip(got, want, case.args):
        assert np.shape(g) == np.shape(a)
        np.testing.assert_allclose(g, n, rtol=1e-6, atol=1e-7)


SECOND_ORDER = ["exp", "log", "tanh", "logistic", "sin", "tan", "sqrt", "expm1", "log1p"]


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_second_derivative_matches_finite_differences(name: str) -> None:
    fn = getattr(lax, name)
    first = nj.grad(lambda x: fn(x))
    for x in (0.3, 0.8, 1.1):
        np.testing.assert_allclose(nj.grad(first)(x), nj.numerical_grad(first)(x),
                                   rtol=1e-6, atol=1e-8)


def test_stop_gradient_blocks_the_gradient_but_keeps_the_value() -> None:
    x = np.array([1.0, -2.0, 3.0])
    f = lambda x: nj.numpy.sum(x * lax.stop_gradient(x))  # noqa: E731
    np.testing.assert_array_equal(nj.grad(f)(x), x)      # not 2x
    np.testing.assert_array_equal(nj.jit(nj.grad(f))(x), x)


def test_integer_pow_and_square_record_integer_pow() -> None:
    for fn, y in [(lambda x: lax.integer_pow(x, 3), 3), (lax.square, 2)]:
        (eqn,) = nj.make_jaxpr(fn)(np.ones(3)).eqns
        assert (eqn.primitive.name, eqn.params["y"]) == ("integer_pow", y)


# ----- lax.round's special values --------------------------------------------------

_HALF_BELOW = 0.49999999999999994           # the largest double below 0.5
ROUND_VALUES = [  # x, ties away from zero, ties to even
    (0.5, 1.0, 0.0), (1.5, 2.0, 2.0), (2.5, 3.0, 2.0), (-0.5, -1.0, -0.0), (-2.5, -3.0, -2.0),
    (_HALF_BELOW, 0.0, 0.0), (-_HALF_BELOW, -0.0, -0.0), (-0.3, -0.0, -0.0), (0.0, 0.0, 0.0),
    (-0.0, -0.0, -0.0), (np.inf, np.inf, np.inf), (-np.inf, -np.inf, -np.inf),
    (np.nan, np.nan, np.nan), (2.0 ** 52 + 1, 2.0 ** 52 + 1, 2.0 ** 52 + 1),
    (4503599627370495.5, 4503599627370496.0, 4503599627370496.0),
    (-4503599627370495.5, -4503599627370496.0, -4503599627370496.0),
    (2.0 ** 53, 2.0 ** 53, 2.0 ** 53), (1e300, 1e300, 1e300), (5e-324, 0.0, 0.0),
]
_ROUND_X = np.array([v[0] for v in ROUND_VALUES])


@pytest.mark.parametrize("method, column", [
    pytest.param(lax.RoundingMethod.AWAY_FROM_ZERO, 1, id="away-from-zero"),
    pytest.param(lax.RoundingMethod.TO_NEAREST_EVEN, 2, id="to-nearest-even"),
    pytest.param(0, 1, id="0"), pytest.param(1, 2, id="1")])
def test_round_special_values_bit_for_bit(method: Any, column: int) -> None:
    want = np.array([v[column] for v in ROUND_VALUES])
    for fn in (lambda x: lax.round(x, method), nj.jit(lambda x: lax.round(x, method))):
        got = np.asarray(fn(_ROUND_X))
        assert got.dtype == F64
        # tobytes: -0.0 keeps its sign bit and NaN stays NaN.
        assert got.tobytes() == want.tobytes(), list(zip(_ROUND_X, got, want))


def test_round_defaults_to_away_from_zero_and_keeps_float32() -> None:
    x = np.array([0.5, -2.5, 1.5, 2.5, -0.3], np.float32)
    got = lax.round(x)
    assert got.dtype == F32
    assert got.tobytes() == np.array([1.0, -3.0, 2.0, 3.0, -0.0], np.float32).tobytes()
    even = lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN)
    assert even.dtype == F32 and even.tobytes() == np.rint(x).tobytes()
    assert int(lax.RoundingMethod.AWAY_FROM_ZERO) == 0
    assert int(lax.RoundingMethod.TO_NEAREST_EVEN) == 1


def test_round_to_nearest_even_is_one_equation() -> None:
    closed = nj.make_jaxpr(lambda x: lax.round(x, 1))(np.ones(3))
    assert [e.primitive.name for e in closed.eqns] == ["round"]


# ----- Jaxprs: one equation per call ---------------------------------------------

def test_each_lax_call_is_one_equation_of_its_primitive() -> None:
    def f(x, y):
        z = lax.mul(x, y)
        z = lax.add(z, lax.sin(y))
        z = lax.dot_general(z, y, (((0,), (0,)), ((), ())))
        return lax.reduce_max(lax.bitwise_not(lax.lt(x, y)), (0,)), z

    closed = nj.make_jaxpr(f)(np.ones(3), np.ones(3))
    assert [e.primitive.name for e in closed.eqns] == [
        "mul", "sin", "add", "dot_general", "lt", "not", "reduce_max"]
    dn = closed.eqns[3].params["dimension_numbers"]
    assert dn == (((0,), (0,)), ((), ()))


def test_renamed_functions_record_the_primitive_they_rename() -> None:
    for name, prim in [("bitwise_and", "and"), ("bitwise_or", "or"), ("bitwise_xor", "xor")]:
        (eqn,) = nj.make_jaxpr(getattr(lax, name))(_A, _B).eqns
        assert eqn.primitive.name == prim


# ----- vmap against a Python loop ---------------------------------------------------

VMAP_CASES = [
    pytest.param(lambda x, y: lax.atan2(x, y), (r(5, 3), r(5, 1)), id="atan2-broadcast"),
    pytest.param(lambda x: lax.reduce_sum(x, (1,)), (r(5, 3, 4),), id="reduce_sum"),
    pytest.param(lambda x: lax.argmax(x, 0, np.int32), (r(5, 3, 4),), id="argmax"),
    pytest.param(lambda x: lax.cumsum(x, 0, reverse=True), (r(5, 3),), id="cumsum"),
    pytest.param(lambda x: lax.transpose(x, (1, 0)), (r(5, 3, 4),), id="transpose"),
    pytest.param(lambda x: lax.reshape(x, (2, 6), (1, 0)), (r(5, 3, 4),), id="reshape"),
    pytest.param(lambda x: lax.expand_dims(x, (0, 2)), (r(5, 3),), id="expand_dims"),
    pytest.param(lambda x: lax.broadcast(x, (2,)), (r(5, 3),), id="broadcast"),
    pytest.param(lambda a, b: lax.dot_general(a, b, (((1,), (0,)), ((), ()))),
                 (r(5, 3, 4), r(5, 4, 2)), id="dot_general"),
    pytest.param(lambda w, a, b: lax.select_n(w, a, b),
                 (RNG.random((5, 3)) < 0.5, r(5, 3), r(5, 3)), id="select_n"),
    pytest.param(lambda a, b: lax.concatenate([a, b], 0), (r(5, 2), r(5, 3)), id="concatenate"),
    pytest.param(lambda v: lax.full((2,), v), (r(5),), id="full"),
    pytest.param(lax.round, (_ROUNDING.reshape(4, 3),), id="round"),
]


@pytest.mark.parametrize("fn, args", VMAP_CASES)
def test_vmap_matches_a_python_loop(fn: Callable, args: tuple) -> None:
    looped = np.stack([np.asarray(fn(*(a[i] for a in args))) for i in range(len(args[0]))])
    batched = np.asarray(nj.vmap(fn)(*args))
    assert batched.dtype == looped.dtype
    np.testing.assert_array_equal(batched, looped)


# ----- The error contract ---------------------------------------------------------

M = np.ones((2, 3))
EMPTY = np.zeros((0, 3))
INTS = np.arange(3)


@dataclasses.dataclass(frozen=True)
class Bad:
    """A bad call of ``lax.<name>``: ``fn(*args)`` raises ``error`` naming it."""

    name: str
    label: str
    fn: Callable
    args: tuple
    error: type


def _bad_elementwise() -> list[Bad]:
    rows = []
    for name, gate in PRIMITIVE_OF.items():
        fn = getattr(lax, name)
        if P.ELEMENTWISE_ARITY[gate] == 1:
            rows += [Bad(name, "string", lambda x, fn=fn: fn("a"), (M,), TypeError),
                     Bad(name, "list", lambda x, fn=fn: fn([1.0, 2.0]), (M,), TypeError)]
        else:
            rows += [Bad(name, "string", lambda x, fn=fn: fn(x, "a"), (M,), TypeError),
                     Bad(name, "list-of-arrays", lambda x, fn=fn: fn(x, [x, x]), (M,), TypeError),
                     Bad(name, "none", lambda x, fn=fn: fn(None, x), (M,), TypeError),
                     Bad(name, "shapes", lambda x, y, fn=fn: fn(x, y), (M, np.ones(4)),
                         ValueError)]
    return rows


def _dg_bad(dims):
    return lambda a, b: lax.dot_general(a, b, dims)


BAD_CALLS = [
    Bad("bitwise_not", "float", lax.bitwise_not, (M,), TypeError),
    Bad("shift_left", "float", lax.shift_left, (M, M), TypeError),
    Bad("round", "ints", lax.round, (INTS,), TypeError),
    Bad("round", "bool", lax.round, (INTS > 0,), TypeError),
    Bad("round", "method-2", lambda x: lax.round(x, 2), (M,), ValueError),
    Bad("round", "method-string", lambda x: lax.round(x, "half"), (M,), ValueError),
    Bad("round", "method-none", lambda x: lax.round(x, None), (M,), ValueError),
    Bad("round", "string", lambda x: lax.round("f"), (M,), TypeError),
    Bad("round", "list", lambda x: lax.round([0.5]), (M,), TypeError),
    Bad("integer_pow", "float-exponent", lambda x: lax.integer_pow(x, 2.0), (M,), TypeError),
    Bad("integer_pow", "array-exponent", lambda x: lax.integer_pow(x, x), (M,), TypeError),
    Bad("integer_pow", "string", lambda x: lax.integer_pow("a", 2), (M,), TypeError),
    Bad("integer_pow", "int-to-negative-power", lambda x: lax.integer_pow(x, -1), (INTS,),
        ValueError),
    Bad("square", "string", lambda x: lax.square("a"), (M,), TypeError),
    Bad("select_n", "no-cases", lambda w: lax.select_n(w), (INTS > 0,), ValueError),
    Bad("select_n", "float-which", lambda x: lax.select_n(x, x, x), (M,), TypeError),
    Bad("select_n", "shapes", lambda x, y: lax.select_n(True, x, y), (M, np.ones(4)),
        ValueError),
    Bad("select_n", "string-case", lambda x: lax.select_n(True, x, "a"), (M,), TypeError),
    Bad("convert_element_type", "bad-dtype", lambda x: lax.convert_element_type(x, "nope"),
        (M,), TypeError),
    Bad("convert_element_type", "string", lambda x: lax.convert_element_type("a", F32), (M,),
        TypeError),
    Bad("stop_gradient", "string", lambda x: lax.stop_gradient("a"), (M,), TypeError),
    *(row for name in ("reduce_sum", "reduce_max", "reduce_min", "reduce_prod")
      for fn in [getattr(lax, name)]
      for row in [
          Bad(name, "axes-none", lambda x, fn=fn: fn(x, None), (M,), TypeError),
          Bad(name, "float-axes", lambda x, fn=fn: fn(x, (0.0,)), (M,), TypeError),
          Bad(name, "axis-out-of-range", lambda x, fn=fn: fn(x, (2,)), (M,), ValueError),
          Bad(name, "repeated-axes", lambda x, fn=fn: fn(x, (1, -1)), (M,), ValueError),
          Bad(name, "string", lambda x, fn=fn: fn("a", ()), (M,), TypeError)]),
    Bad("reduce_max", "empty", lambda x: lax.reduce_max(x, (0,)), (EMPTY,), ValueError),
    Bad("reduce_min", "empty", lambda x: lax.reduce_min(x, (1, 0)), (EMPTY,), ValueError),
    *(row for name in ("argmax", "argmin") for fn in [getattr(lax, name)] for row in [
        Bad(name, "float-axis", lambda x, fn=fn: fn(x, 0.0, np.int32), (M,), TypeError),
        Bad(name, "axis-out-of-range", lambda x, fn=fn: fn(x, 2, np.int32), (M,), ValueError),
        Bad(name, "negative-axis", lambda x, fn=fn: fn(x, -1, np.int32), (M,), ValueError),
        Bad(name, "float-index-dtype", lambda x, fn=fn: fn(x, 0, np.float32), (M,), TypeError),
        Bad(name, "bad-index-dtype", lambda x, fn=fn: fn(x, 0, "nope"), (M,), TypeError),
        Bad(name, "empty", lambda x, fn=fn: fn(x, 0, np.int32), (EMPTY,), ValueError),
        Bad(name, "string", lambda x, fn=fn: fn("a", 0, np.int32), (M,), TypeError)]),
    Bad("cumsum", "float-axis", lambda x: lax.cumsum(x, 1.0), (M,), TypeError),
    Bad("cumsum", "axis-out-of-range", lambda x: lax.cumsum(x, 2), (M,), ValueError),
    Bad("cumsum", "negative-axis", lambda x: lax.cumsum(x, -1), (M,), ValueError),
    Bad("cumsum", "string", lambda x: lax.cumsum("a"), (M,), TypeError),
    Bad("broadcast_in_dim", "float-shape",
        lambda x: lax.broadcast_in_dim(x, (2.0, 3), (0, 1)), (M,), TypeError),
    Bad("broadcast_in_dim", "incompatible", lambda x: lax.broadcast_in_dim(x, (2, 4), (0, 1)),
        (M,), ValueError),
    Bad("broadcast_in_dim", "dims-out-of-range",
        lambda x: lax.broadcast_in_dim(x, (2, 3), (0, 5)), (M,), ValueError),
    Bad("broadcast_in_dim", "negative-size",
        lambda x: lax.broadcast_in_dim(x, (-1, 2, 3), (1, 2)), (M,), ValueError),
    Bad("broadcast_in_dim", "int-dims", lambda x: lax.broadcast_in_dim(x, (2, 3), "01"),
        (M,), TypeError),
    Bad("broadcast", "float-sizes", lambda x: lax.broadcast(x, (2.5,)), (M,), TypeError),
    Bad("broadcast", "negative-size", lambda x: lax.broadcast(x, (-2,)), (M,), ValueError),
    Bad("broadcast", "string", lambda x: lax.broadcast("a", (2,)), (M,), TypeError),
    Bad("reshape", "wrong-size", lambda x: lax.reshape(x, (4,)), (M,), ValueError),
    Bad("reshape", "minus-one", lambda x: lax.reshape(x, (-1,)), (M,), ValueError),
    Bad("reshape", "two-minus-ones", lambda x: lax.reshape(x, (-1, -6)), (M,), ValueError),
    Bad("reshape", "float-sizes", lambda x: lax.reshape(x, (3.0, 2)), (M,), TypeError),
    Bad("reshape", "bad-dimensions", lambda x: lax.reshape(x, (6,), (0, 0)), (M,), ValueError),
    Bad("reshape", "string", lambda x: lax.reshape("a", ()), (M,), TypeError),
    Bad("transpose", "not-a-permutation", lambda x: lax.transpose(x, (0, 0)), (M,), ValueError),
    Bad("transpose", "too-short", lambda x: lax.transpose(x, (0,)), (M,), ValueError),
    Bad("transpose", "float", lambda x: lax.transpose(x, (1.0, 0)), (M,), TypeError),
    Bad("transpose", "string", lambda x: lax.transpose("a", ()), (M,), TypeError),
    Bad("squeeze", "not-size-1", lambda x: lax.squeeze(x, (0,)), (M,), ValueError),
    Bad("squeeze", "out-of-range", lambda x: lax.squeeze(x, (5,)), (M,), ValueError),
    Bad("squeeze", "float", lambda x: lax.squeeze(x, (0.0,)), (M,), TypeError),
    Bad("squeeze", "string", lambda x: lax.squeeze("a", ()), (M,), TypeError),
    Bad("expand_dims", "repeated", lambda x: lax.expand_dims(x, (0, 0)), (M,), ValueError),
    Bad("expand_dims", "repeated-after-wrap", lambda x: lax.expand_dims(x, (3, -1)), (M,),
        ValueError),
    Bad("expand_dims", "out-of-range", lambda x: lax.expand_dims(x, (5,)), (M,), ValueError),
    Bad("expand_dims", "float", lambda x: lax.expand_dims(x, (0.0,)), (M,), TypeError),
    Bad("expand_dims", "string", lambda x: lax.expand_dims("a", (0,)), (M,), TypeError),
    Bad("concatenate", "not-a-sequence", lambda x: lax.concatenate(x, 0), (M,), TypeError),
    Bad("concatenate", "empty", lambda x: lax.concatenate([], 0), (M,), TypeError),
    Bad("concatenate", "float-dimension", lambda x: lax.concatenate([x, x], 0.0), (M,),
        TypeError),
    Bad("concatenate", "dimension-out-of-range", lambda x: lax.concatenate([x, x], 2), (M,),
        ValueError),
    Bad("concatenate", "negative-dimension", lambda x: lax.concatenate([x, x], -1), (M,),
        ValueError),
    Bad("concatenate", "shapes", lambda x, y: lax.concatenate([x, y], 0), (M, np.ones((2, 4))),
        ValueError),
    Bad("concatenate", "string", lambda x: lax.concatenate([x, "a"], 0), (M,), TypeError),
    Bad("full", "array-fill", lambda x: lax.full((2, 3), x), (np.ones(3),), TypeError),
    Bad("full", "float-shape", lambda x: lax.full((2.0,), 1.0), (M,), TypeError),
    Bad("full", "negative-shape", lambda x: lax.full((-2,), 1.0), (M,), ValueError),
    Bad("full", "bad-dtype", lambda x: lax.full((2,), 1.0, "nope"), (M,), TypeError),
    Bad("full", "string", lambda x: lax.full((2,), "a"), (M,), TypeError),
    Bad("rsqrt", "string", lambda x: lax.rsqrt("a"), (M,), TypeError),
    Bad("slice", "past-the-end", lambda x: lax.slice(x, (0, 0), (3, 3)), (M,), ValueError),
    Bad("slice_in_dim", "float-start", lambda x: lax.slice_in_dim(x, 0.5, 2), (M,), TypeError),
    Bad("index_in_dim", "out-of-bounds", lambda x: lax.index_in_dim(x, 2, 0), (M,), IndexError),
    Bad("rev", "bad-axis", lambda x: lax.rev(x, (2,)), (M,), ValueError),
    Bad("top_k", "k-too-big", lambda x: lax.top_k(x, 4), (M,), ValueError),
    Bad("pad", "short-config", lambda x: lax.pad(x, 0.0, [(1, 1, 0)]), (M,), TypeError),
    Bad("clamp", "list", lambda x: lax.clamp(0.0, [1.0], 1.0), (M,), TypeError),
    Bad("select", "int-pred", lambda x: lax.select(np.ones(3, int), x[0], x[0]), (M,),
        TypeError),
    Bad("iota", "negative", lambda x: lax.iota(np.int32, -1), (M,), ValueError),
    Bad("broadcasted_iota", "bad-axis", lambda x: lax.broadcasted_iota(int, (2,), 1), (M,),
        ValueError),
    Bad("dynamic_slice", "too-big", lambda x: lax.dynamic_slice(x, (0, 0), (3, 3)), (M,),
        TypeError),
    Bad("dynamic_slice_in_dim", "bad-axis", lambda x: lax.dynamic_slice_in_dim(x, 0, 1, 2),
        (M,), TypeError),
    Bad("dynamic_index_in_dim", "float-index", lambda x: lax.dynamic_index_in_dim(x, 0.5),
        (M,), TypeError),
    Bad("dynamic_update_slice", "dtype", lambda x: lax.dynamic_update_slice(
        x, np.ones((1, 1), F32), (0, 0)), (M,), TypeError),
    Bad("dynamic_update_slice_in_dim", "rank", lambda x: lax.dynamic_update_slice_in_dim(
        x, np.ones(3), 0, 0), (M,), TypeError),
    Bad("dynamic_update_index_in_dim", "too-big", lambda x: lax.dynamic_update_index_in_dim(
        x, np.ones(5), 0, 0), (M,), TypeError),
    Bad("dot_general", "not-nested", _dg_bad(((1,), (0,))), (M, M.T), TypeError),
    Bad("dot_general", "float-dims", _dg_bad((((1.0,), (0,)), ((), ()))), (M, M.T), TypeError),
    Bad("dot_general", "none", _dg_bad(None), (M, M.T), TypeError),
    Bad("dot_general", "mismatch", _dg_bad((((1,), (0,)), ((), ()))), (M, M), ValueError),
    Bad("dot_general", "out-of-range", _dg_bad((((5,), (0,)), ((), ()))), (M, M.T), ValueError),
    Bad("dot_general", "repeated", _dg_bad((((1, 1), (0, 0)), ((), ()))), (M, M.T), ValueError),
    Bad("dot_general", "batch-is-contracted", _dg_bad((((0,), (0,)), ((0,), (0,)))), (M, M),
        ValueError),
    Bad("dot_general", "unequal-counts", _dg_bad((((1, 0), (0,)), ((), ()))), (M, M.T),
        ValueError),
    Bad("dot_general", "bad-preferred",
        lambda a, b: lax.dot_general(a, b, (((1,), (0,)), ((), ())), preferred_element_type="x"),
        (M, M.T), TypeError),
    Bad("dot_general", "string", lambda a: lax.dot_general(a, "b", (((1,), (0,)), ((), ()))),
        (M,), TypeError),
    Bad("dot", "scalar", lambda x: lax.dot(x, 2.0), (M,), ValueError),
    Bad("dot", "mismatch", lax.dot, (M, M), ValueError),
    Bad("dot", "bad-preferred", lambda a, b: lax.dot(a, b, preferred_element_type="x"),
        (M, M.T), TypeError),
    Bad("dot", "string", lambda x: lax.dot(x, "b"), (M,), TypeError),
]

def _error(fn: Callable, args: tuple) -> BaseException:
    with pytest.raises(Exception) as info:
        fn(*args)
    return info.value


BAD_CONTROL_FLOW = [
    Bad("cond", "array-pred", lambda x: lax.cond(x > 0, jnp.sin, jnp.cos, x), (M,), TypeError),
    Bad("cond", "branch-types", lambda x: lax.cond(True, lambda a: a, jnp.sum, x), (M,),
        TypeError),
    Bad("cond", "not-a-function", lambda x: lax.cond(True, x, jnp.cos, x), (M,), TypeError),
    Bad("switch", "no-branches", lambda x: lax.switch(0, [], x), (M,), ValueError),
    Bad("switch", "float-index", lambda x: lax.switch(1.0, [jnp.sin], x), (M,), TypeError),
    Bad("while_loop", "cond-not-bool", lambda x: lax.while_loop(lambda c: c, jnp.sin, x), (M,),
        TypeError),
    Bad("while_loop", "carry-shape", lambda x: lax.while_loop(lambda c: False, jnp.sum, x), (M,),
        TypeError),
    Bad("fori_loop", "float-bounds", lambda x: lax.fori_loop(0.0, 3, lambda i, c: c, x), (M,),
        TypeError),
    Bad("scan", "int-carry-float-body", lambda x: lax.scan(lambda c, s: (c + s, s), 0, x),
        (M,), TypeError),
    Bad("scan", "not-a-pair", lambda x: lax.scan(lambda c, s: c, 0.0, x), (M,), TypeError),
    Bad("scan", "length-mismatch", lambda x: lax.scan(lambda c, s: (c, s), 0.0, x, length=5),
        (M,), ValueError),
    Bad("scan", "no-xs-no-length", lambda x: lax.scan(lambda c, s: (c, s), x), (M,),
        ValueError),
    Bad("map", "scalar-xs", lambda x: lax.map(jnp.sin, jnp.sum(x)), (M,), ValueError),
    Bad("map", "bad-batch_size", lambda x: lax.map(jnp.sin, x, batch_size=0), (M,), ValueError),
]

CUMULATIVE_AND_SPECIAL_BAD = [
    *(Bad(name, label, fn, (M,), error)
      for name in ("cumprod", "cummax", "cummin", "cumlogsumexp")
      for label, fn, error in [
          ("axis-out-of-range", lambda x, name=name: LAX[name](x, 2), ValueError),
          ("float-axis", lambda x, name=name: LAX[name](x, 1.0), TypeError),
          ("list", lambda x, name=name: LAX[name]([1.0, 2.0]), TypeError),
          ("complex", lambda x, name=name: LAX[name](x + 1j), TypeError)]),
    Bad("cumlogsumexp", "ints", lax.cumlogsumexp, (INTS,), TypeError),
    Bad("sort", "shapes", lambda x: lax.sort((x, x[0])), (M,), ValueError),
    Bad("sort", "num-keys", lambda x: lax.sort((x, x), num_keys=3), (M,), ValueError),
    Bad("sort", "dimension", lambda x: lax.sort(x, dimension=2), (M,), ValueError),
    Bad("sort", "list", lambda x: lax.sort([[1.0, 2.0]]), (M,), TypeError),
    Bad("sort_key_val", "shapes", lambda x: lax.sort_key_val(x, x.T), (M,), ValueError),
    Bad("sort_key_val", "float-dimension", lambda x: lax.sort_key_val(x, x, 0.0), (M,),
        TypeError),
]



CONV_BAD_CALLS = [
    Bad("conv_general_dilated", "channel-mismatch",
        lambda x, w: lax.conv_general_dilated(x, w, (1,), "VALID"),
        (np.ones((1, 3, 5)), np.ones((2, 2, 3))), ValueError),
    Bad("conv", "strides-length", lambda x, w: lax.conv(x, w, (1, 1), "VALID"),
        (np.ones((1, 1, 5)), np.ones((1, 1, 3))), ValueError),
    Bad("conv_with_general_padding", "bad-pairs",
        lambda x, w: lax.conv_with_general_padding(x, w, (1,), [(1, 2, 3)], None, None),
        (np.ones((1, 1, 5)), np.ones((1, 1, 3))), TypeError),
    Bad("conv_transpose", "padding-name",
        lambda x, w: lax.conv_transpose(x, w, (2,), "SAME_LOWER"),
        (np.ones((1, 5, 1)), np.ones((3, 1, 1))), ValueError),
    Bad("conv_dimension_numbers", "missing-feature",
        lambda: lax.conv_dimension_numbers((1, 2, 3), (1, 2, 3), ("NXH", "OIH", "NCH")), (),
        ValueError),
    Bad("conv_general_permutations", "not-strings",
        lambda: lax.conv_general_permutations((0, 1, 2)), (), TypeError),
    Bad("padtype_to_pads", "unknown", lambda: lax.padtype_to_pads((5,), (3,), (1,), "FULL"),
        (), ValueError),
    Bad("reduce_window", "computation",
        lambda x: lax.reduce_window(x, 1.0, lax.mul, (1, 2), (1, 1), "VALID"), (M,),
        TypeError),
]

LAXMISC_BAD = [
    Bad("broadcast_shapes", "incompatible", lambda: lax.broadcast_shapes((2,), (3,)), (),
        ValueError),
    Bad("full_like", "array-fill", lambda x: lax.full_like(x, x), (M,), TypeError),
    Bad("collapse", "start-after-stop", lambda x: lax.collapse(x, 2, 1), (M,), ValueError),
    Bad("batch_matmul", "ranks", lax.batch_matmul, (M, np.ones(3)), ValueError),
    Bad("optimization_barrier", "string-leaf", lambda x: lax.optimization_barrier((x, "a")),
        (M,), TypeError),
    Bad("with_sharding_constraint", "string-leaf",
        lambda x: lax.with_sharding_constraint("a", None), (M,), TypeError),
    Bad("associative_scan", "lengths", lambda x: lax.associative_scan(lax.add, (x, x[0])),
        (M,), ValueError),
    Bad("reduce", "axis-out-of-range", lambda x: lax.reduce(x, 0.0, lax.add, (2,)), (M,),
        ValueError),
    Bad("reduce", "structure", lambda x: lax.reduce((x, x), 0.0, lax.add, (0,)), (M,),
        TypeError),
    Bad("gather", "index-vector", lambda x: lax.gather(
        x, np.zeros((2, 2), int), lax.GatherDimensionNumbers((1,), (0,), (0,)), (1, 3)),
        (M,), ValueError),
    Bad("scatter_add", "dtype", lambda x: lax.scatter_add(
        x, np.zeros((1, 1), int), np.ones((1, 3), np.float32),
        lax.ScatterDimensionNumbers((1,), (0,), (0,))), (M,), TypeError),
    Bad("scatter", "window-too-big", lambda x: lax.scatter(
        x, np.zeros((1, 1), int), np.ones((1, 4)),
        lax.ScatterDimensionNumbers((1,), (0,), (0,))), (M,), ValueError),
    Bad("custom_root", "f-changes-shape", lambda x: lax.custom_root(
        lambda y: jnp.sum(y), x, lambda f, y: y, lambda g, y: y), (M,), TypeError),
    Bad("custom_linear_solve", "not-a-function", lambda x: lax.custom_linear_solve(
        x, x, lambda f, y: y), (M,), TypeError),
]



COLLECTIVE_BAD = [
    *(Bad(name, "unbound-axis", lambda x, call=call: call(x), (M,), NameError)
      for name, call in [
          ("psum", lambda x: lax.psum(x, "i")), ("pmean", lambda x: lax.pmean(x, "i")),
          ("pmax", lambda x: lax.pmax(x, "i")), ("pmin", lambda x: lax.pmin(x, "i")),
          ("all_gather", lambda x: lax.all_gather(x, "i")),
          ("psum_scatter", lambda x: lax.psum_scatter(x, "i")),
          ("ppermute", lambda x: lax.ppermute(x, "i", [(0, 1)])),
          ("all_to_all", lambda x: lax.all_to_all(x, "i", 0, 0)),
          ("axis_index", lambda x: lax.axis_index("i")),
          ("axis_size", lambda x: lax.axis_size("i"))]),
    Bad("psum", "axis_index_groups", _named(lambda x: lax.psum(x, "i", axis_index_groups=[[0]])),
        (M,), NotImplementedError),
    Bad("ppermute", "bad-perm", _named(lambda x: lax.ppermute(x, "i", [(0, 1), (1, 1)])), (M,),
        ValueError),
    Bad("psum_scatter", "size", _named(lambda x: lax.psum_scatter(x, "i")), (M,), ValueError),
    Bad("all_gather", "axis", _named(lambda x: lax.all_gather(x, "i", axis=2.0)), (M,),
        TypeError),
]

SHAPE_TUPLE_BAD = [
    Bad("conv_general_shape_tuple", "strides-count",
        lambda: lax.conv_general_shape_tuple((1, 5, 5, 1), (3, 3, 1, 2), (1,), "SAME",
                                             ("NHWC", "HWIO", "NHWC")), (), ValueError),
    Bad("conv_transpose_shape_tuple", "padding-name",
        lambda: lax.conv_transpose_shape_tuple((1, 5, 1), (3, 1, 1), (2,), "FULL",
                                               ("NHC", "HIO", "NHC")), (), ValueError),
    Bad("reduce_window_shape_tuple", "window-over-unknown-batch",
        lambda: lax.reduce_window_shape_tuple((-1, 4), (2, 2), (1, 1), [(0, 0), (0, 0)]), (),
        ValueError),
]

BAD = (_bad_elementwise() + BAD_CALLS + BAD_CONTROL_FLOW + CUMULATIVE_AND_SPECIAL_BAD
       + CONV_BAD_CALLS + LAXMISC_BAD + COLLECTIVE_BAD + SHAPE_TUPLE_BAD)
ERROR_CASES = [pytest.param(b, id=f"{b.name}-{b.label}") for b in BAD]


@pytest.mark.parametrize("bad", ERROR_CASES)
def test_a_bad_call_says_which_function_the_same_eagerly_and_under_jit(bad: Bad) -> None:
    eager = _error(bad.fn, bad.args)
    staged = _error(nj.jit(bad.fn), bad.args)
    # (a shape mismatch is ShapeMismatchError: a ValueError, and a TypeError as in JAX)
    assert isinstance(eager, bad.error), f"{type(eager).__name__}: {eager}"
    assert str(eager).startswith(f"nanojax.lax.{bad.name}: "), str(eager)
    # Raised while jit traces, the message ends with the user's line too.
    where = re.compile(r" \(at test_lax\.py:\d+\)(\.?)$")
    assert where.search(str(staged)), str(staged)
    assert (type(staged), where.sub(r"\1", str(staged))) == (type(eager),
                                                            where.sub(r"\1", str(eager)))


# ----- Guards: the tables cover lax ------------------------------------------------

def test_an_unknown_name_raises_attribute_error_naming_it() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        lax.no_such_name  # noqa: B018
    assert not hasattr(lax, "trunc")     # NumPy's name; JAX's lax has none


def test_every_elementwise_primitive_has_a_lax_function() -> None:
    assert set(P.ELEMENTWISE_ARITY) - set(PRIMITIVE_OF.values()) == lax._NOT_LAX
    assert set(lax._RENAMED) <= set(PRIMITIVE_OF.values())
    for name, gate in PRIMITIVE_OF.items():
        assert name in lax.__all__, f"the gate {gate} has no lax function {name}"
        operand = _A if name.startswith(("bitwise", "shift")) else np.ones(2)
        (eqn,) = nj.make_jaxpr(getattr(lax, name))(
            *[operand] * P.ELEMENTWISE_ARITY[gate]).eqns
        assert eqn.primitive.name == gate
    assert len(lax.__all__) == len(set(lax.__all__)), "a name is listed twice"


def test_every_lax_function_is_tested() -> None:
    valued = {c.name for c in CASES}
    erring = {b.name for b in BAD}
    graded = {c.name for c in CASES if c.grad}
    functions = set(lax.__all__) - {"RoundingMethod", "Precision"}   # round, dot tests
    functions -= {"ConvDimensionNumbers"}       # a NamedTuple: conv_dimension_numbers' rows
    functions -= {"GatherDimensionNumbers", "ScatterDimensionNumbers",   # gather's, scatter's
                  "GatherScatterMode"}
    assert not functions - valued, f"no value row: {sorted(functions - valued)}"
    assert not functions - erring, f"no error row: {sorted(functions - erring)}"
    differentiable = {n for n in functions if n not in PRIMITIVE_OF
                      or P.ALL_PRIMITIVES[PRIMITIVE_OF[n]].differentiable}
    differentiable -= {"argmax", "argmin", "stop_gradient",   # integer out; tested apart
                       "iota", "broadcasted_iota",        # constants: no operand
                       "while_loop"}       # forward mode only, as in JAX: test_control_flow
    differentiable -= {"padtype_to_pads", "conv_dimension_numbers",   # shapes in, shapes out
                       "conv_general_permutations", "broadcast_shapes"}
    differentiable -= {"axis_index", "axis_size"}     # integers of the named axis: no operand
    differentiable -= {n for n in functions if n.endswith("_shape_tuple")}
    assert not differentiable - graded, f"no gradient row: {sorted(differentiable - graded)}"
    assert not (valued | erring) - set(lax.__all__), "rows name functions lax does not have"


def test_div_of_integers_truncates_toward_zero_as_in_jax():
    x = np.array([7, -7, 7, -7, 6, -6, 0, 1], dtype=np.int32)
    y = np.array([2, 2, -2, -2, 3, -3, 5, -9], dtype=np.int32)
    want = np.trunc(x / y).astype(np.int32)
    for got in (lax.div(x, y), nj.jit(lax.div)(x, y)):
        assert got.dtype == np.int32
        np.testing.assert_array_equal(got, want)
    assert lax.div(-7, 2) == -3
    assert lax.div(-7.0, 2.0) == -3.5


def test_rem_truncates_toward_zero_as_in_jax():
    # C's remainder (NumPy's fmod): the sign of the dividend, unlike jnp.remainder.
    x = np.array([5.5, -5.5, 7.0, -7.0, 0.0, -0.0])
    y = np.array([2.0, 2.0, -3.0, 3.0, 2.0, 2.0])
    for got in (lax.rem(x, y), nj.jit(lax.rem)(x, y)):
        assert got.tobytes() == np.fmod(x, y).tobytes()
    np.testing.assert_array_equal(lax.rem(np.array([7, -7]), np.array([2, 2])), [1, -1])
    gx, gy = nj.grad(lambda x, y: nj.numpy.sum(lax.rem(x, y)), argnums=(0, 1))(x[:4], y[:4])
    np.testing.assert_array_equal(gx, np.ones(4))
    np.testing.assert_array_equal(gy, -np.trunc(x[:4] / y[:4]))
