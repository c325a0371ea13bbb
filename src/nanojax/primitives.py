"""Every primitive, each one block with all of its rules.

A block gives a primitive its NumPy ``impl``, its ``abstract_eval`` (shapes
and dtypes, with the error for bad shapes), its ``jvp`` and its ``vjp``. The
family helpers ``unary``/``binary`` derive ``abstract_eval`` and ``jvp`` of
an elementwise gate from its derivative rules: an elementwise Jacobian is
diagonal, so "pull times local derivative" applied to a tangent is the JVP.

Rules are written with the primitives themselves (``mul(g, y)``, never
``g * y`` on raw NumPy), so a backward pass can be traced again: that is
what makes ``grad(grad(f))`` and ``jit(grad(f))`` work. Summing a cotangent
back to a broadcast input's shape happens once, in the tape interpreter.
Batch rules (``vmap``) move batch axes with the helpers just below the
family helpers, so no rule loops over examples in Python.
"""

from __future__ import annotations

import functools
import math
import operator
from builtins import max as builtins_max
from typing import Any, Callable

import numpy as np

from nanojax.core import Lowering, PerPrimitive, Primitive, ShapedArray, Tracer
from nanojax.simplify import is_const, is_negative_zero, value_of

_FLOAT_TYPES = {float, np.float64}
ALL_PRIMITIVES: dict[str, Primitive] = {}


def _register(prim: Primitive) -> Primitive:
    ALL_PRIMITIVES[prim.name] = prim
    return prim


def shape_of(x: Any) -> tuple[int, ...]:
    return getattr(x, "shape", ())


_PY_DTYPES = {float: np.dtype(np.float64), int: np.dtype(np.int64),
              bool: np.dtype(np.bool_), complex: np.dtype(np.complex128)}


def dtype_of(x: Any) -> np.dtype:
    dt = getattr(x, "dtype", None)
    return _PY_DTYPES[type(x)] if dt is None else dt


def is_float(x: Any) -> bool:
    return type(x) in _FLOAT_TYPES or np.issubdtype(dtype_of(x), np.inexact)


_F64, _I64, _BOOL = np.dtype(np.float64), np.dtype(np.int64), np.dtype(np.bool_)


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


@functools.lru_cache(maxsize=None)
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


_ELEMENTWISE_AVAL = PerPrimitive(lambda prim: functools.partial(elementwise_aval, prim))


def unary(name: str, impl: Callable, deriv: Callable | None, *, differentiable: bool = True,
          lowering: Lowering | None = None) -> Primitive:
    """An elementwise one-input gate; ``deriv(g, ans, x)`` is g times f'(x).

    The same rule is the pull and the push: an elementwise Jacobian is
    diagonal. A ufunc always writes a new array, so it never aliases.
    """
    jvp = None if deriv is None else (lambda primals, tangents, ans, **p: (
        None if tangents[0] is None else deriv(tangents[0], ans, *primals, **p)))
    return _register(Primitive(
        name, impl, _ELEMENTWISE_AVAL, jvp=jvp, vjp_args=None if deriv is None else (deriv,),
        batch=PerPrimitive(batch_elementwise), differentiable=differentiable,
        may_alias=False, lowering=lowering))


def binary(name: str, impl: Callable, dx: Callable | None, dy: Callable | None, *,
           differentiable: bool = True, lowering: Lowering | None = None,
           simplify: Callable | None = None) -> Primitive:
    """An elementwise two-input gate with NumPy broadcasting.

    ``dx(g, ans, x, y)`` and ``dy(g, ans, x, y)`` are the pulls on each input.
    """
    jvp = None
    if differentiable:
        def jvp(primals, tangents, ans):
            tx, ty = tangents
            return _fit_tangent(_sum_jvps([
                None if tx is None else dx(tx, ans, *primals),
                None if ty is None else dy(ty, ans, *primals)]), ans)
    return _register(Primitive(
        name, impl, _ELEMENTWISE_AVAL, jvp=jvp, vjp_args=(dx, dy) if differentiable else None,
        batch=PerPrimitive(batch_elementwise), differentiable=differentiable,
        may_alias=False, lowering=lowering, simplify=simplify))


def _ufunc(name: str) -> Lowering:
    """The lowering of a gate whose impl is NumPy's ufunc ``name``."""
    return Lowering(ufunc=name)


def _arithmetic(op: str, ufunc: str) -> Lowering:
    """Python's operator on float64 scalars (an int64 beside one too), NumPy's otherwise."""
    expr = "{0} %s {1}" % op
    return Lowering(float_expr=expr, mixed=True, array_expr=expr, ufunc=ufunc)


def _comparison(op: str, ufunc: str) -> Lowering:
    expr = "{0} %s {1}" % op
    return Lowering(float_expr=expr, array_expr=expr, ufunc=ufunc)


# ----- Scalar fast paths -----------------------------------------------------
# On Python floats, operators beat NumPy's ufunc machinery by 10x or more, and
# the guide's scalar circuits are made of nothing else.

# The arithmetic impls are Python's operators: on floats, NumPy scalars and
# arrays they are exactly NumPy's arithmetic, and fast on Python floats. Two
# Python ints or bools never reach them (Python ints would not wrap at 64
# bits, nor bools OR): eval_jaxpr and jit hand integer arguments over as
# NumPy scalars, as their int64 and bool avals say they are.
_PY_INTS = {int, bool}


def _div(x, y):
    if type(x) in _PY_INTS and type(y) in _PY_INTS:
        return np.divide(x, y)        # Python's int / int is exact; NumPy's is not
    try:
        return x / y
    except ZeroDivisionError:         # Python floats; NumPy gives inf/nan
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.divide(np.float64(x), y)


def _chooser(np_fn, pick_x):
    def impl(x, y):
        if type(x) in _FLOAT_TYPES and type(y) in _FLOAT_TYPES:
            return x if (pick_x(x, y) or x != x) else y      # x != x: NaN wins
        return np_fn(x, y)
    return impl


def _logistic(x):
    # exp(-|x|) never overflows. A scalar takes the same steps as an array,
    # NumPy's exp included (math.exp may differ in the last bit), so that
    # eager, jit and vmap agree to the bit.
    if type(x) in _FLOAT_TYPES:
        e = np.exp(-abs(x))
        return 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)
    e = np.exp(-np.abs(x))
    return np.where(np.greater_equal(x, 0), 1.0 / (1.0 + e), e / (1.0 + e))


def _integer_pow(x, *, y):
    if y == 2:
        return x * x
    try:
        return x ** y
    except (OverflowError, ZeroDivisionError):
        with np.errstate(all="ignore"):
            return np.power(np.float64(x), y)


# ----- Elementwise arithmetic ------------------------------------------------
# Simplification rules return an atom the output equals, or None (the driver
# keeps it only if its shape and dtype are the output's). Each identity is
# exact on every float, -0.0 and NaN included: x + 0.0 is not one, since
# -0.0 + 0.0 is +0.0.

add_p = binary(
    "add", operator.add, lambda g, ans, x, y: g, lambda g, ans, x, y: g,
    lowering=_arithmetic("+", "add"),
    simplify=lambda ins, params, known: (ins[0] if is_negative_zero(ins[1], known) else
                                         ins[1] if is_negative_zero(ins[0], known) else None))
sub_p = binary(
    "sub", operator.sub, lambda g, ans, x, y: g, lambda g, ans, x, y: neg(g),
    lowering=_arithmetic("-", "subtract"),
    simplify=lambda ins, params, known: ins[0] if is_const(ins[1], known, 0.0) else None)
mul_p = binary(
    "mul", operator.mul, lambda g, ans, x, y: mul(g, y), lambda g, ans, x, y: mul(g, x),
    lowering=_arithmetic("*", "multiply"),
    simplify=lambda ins, params, known: (ins[0] if is_const(ins[1], known, 1.0) else
                                         ins[1] if is_const(ins[0], known, 1.0) else None))
div_p = binary(
    "div", _div, lambda g, ans, x, y: div(g, y), lambda g, ans, x, y: neg(mul(g, div(ans, y))),
    lowering=_arithmetic("/", "divide"),
    simplify=lambda ins, params, known: ins[0] if is_const(ins[1], known, 1.0) else None)
neg_p = unary("neg", operator.neg, lambda g, ans, x: neg(g),
              lowering=Lowering(float_expr="-{0}", array_expr="-{0}", ufunc="negative"))
# At a tie each side gets half of the pull, as in JAX (the guide's hand code
# routes all of it to both). Python's chooser, as np.maximum: NaN wins, and
# a tie returns the second operand.
max_p = binary("max", _chooser(np.maximum, operator.gt),
               lambda g, ans, x, y: mul(g, _tie_split(x, y)),
               lambda g, ans, x, y: mul(g, _tie_split(y, x)),
               lowering=Lowering(float_expr="{0} if {0} > {1} or {0} != {0} else {1}",
                                 ufunc="maximum"))
min_p = binary("min", _chooser(np.minimum, operator.lt),
               lambda g, ans, x, y: mul(g, _tie_split(y, x)),
               lambda g, ans, x, y: mul(g, _tie_split(x, y)),
               lowering=Lowering(float_expr="{0} if {0} < {1} or {0} != {0} else {1}",
                                 ufunc="minimum"))


def _tie_split(x, y):
    """1 where x > y, 1/2 where x == y, 0 otherwise (a NaN on either side: 0, as in JAX)."""
    if type(x) in _FLOAT_TYPES and type(y) in _FLOAT_TYPES:    # concrete scalars
        return 1.0 if x > y else 0.5 if x == y else 0.0
    # The arrays' float type: a Python number beside a float32 array is weak.
    arrays = [dtype_of(v) for v in (x, y) if type(v) not in _PY_DTYPES]
    dtype = np.result_type(*arrays) if arrays else np.dtype(np.float64)
    return add(convert_element_type(gt(x, y), dtype),
               mul(convert_element_type(eq(x, y), dtype), 0.5))


def _pow_dy(g, ans, x, y):
    # d/dy x**y = log(x) x**y, taken as 0 at x == 0 (where x**y is 0 or 1).
    if type(x) is float:      # a Python base: keep log(x) a Python float, so f32 stays f32
        with np.errstate(invalid="ignore"):
            return None if x == 0.0 else mul(g, mul(float(np.log(x)), ans))
    x_is_zero = eq(x, 0.0)
    safe_x = select_n(x_is_zero, x, 1.0)
    return mul(g, select_n(x_is_zero, mul(log(safe_x), ans), 0.0))


pow_p = binary("pow", np.power,
               lambda g, ans, x, y: mul(g, mul(y, pow(x, sub(y, 1.0)))), _pow_dy,
               lowering=_ufunc("power"))


def _lower_integer_pow(w, ins, params, in_avals, out_aval):
    y = params["y"]
    if out_aval.shape == () and _is_f64_scalar(in_avals[0]):
        # x * x for a square, as the impl (and np.power); C pow() otherwise.
        return (f"{ins[0]} * {ins[0]}" if y == 2 else f"{ins[0]} ** {int(y)}"), True
    if out_aval.shape != () and y == 2:
        return f"{ins[0]} * {ins[0]}", False
    return None


integer_pow_p = _register(Primitive(
    "integer_pow", _integer_pow, _ELEMENTWISE_AVAL,
    vjp_args=(lambda g, ans, x, *, y: (None if y == 0 else g if y == 1 else mul(
        g, mul(float(y), x if y == 2 else integer_pow(x, y - 1)))),),
    jvp=lambda primals, tangents, ans, *, y: None if tangents[0] is None else (
        integer_pow_p.vjp_args[0](tangents[0], ans, *primals, y=y)),
    batch=PerPrimitive(batch_elementwise), may_alias=False,
    lowering=Lowering(custom=_lower_integer_pow)))

# ----- Elementwise transcendental functions -----------------------------------
# On scalars too these call NumPy: math.tanh, say, differs from np.tanh in the
# last bit for about one value in seven, and eager and jit must agree.

exp_p = unary("exp", np.exp, lambda g, ans, x: mul(g, ans), lowering=_ufunc("exp"))
log_p = unary("log", np.log, lambda g, ans, x: div(g, x), lowering=_ufunc("log"))
log1p_p = unary("log1p", np.log1p, lambda g, ans, x: div(g, add(x, 1.0)),
                lowering=_ufunc("log1p"))
tanh_p = unary("tanh", np.tanh, lambda g, ans, x: mul(g, sub(1.0, mul(ans, ans))),
               lowering=_ufunc("tanh"))
logistic_p = unary("logistic", _logistic,
                   lambda g, ans, x: mul(g, mul(ans, sub(1.0, ans))))
sin_p = unary("sin", np.sin, lambda g, ans, x: mul(g, cos(x)), lowering=_ufunc("sin"))
cos_p = unary("cos", np.cos, lambda g, ans, x: neg(mul(g, sin(x))), lowering=_ufunc("cos"))


def _relu(x):
    if type(x) in _FLOAT_TYPES:
        return x if x > 0 or x != x else 0.0        # NaN passes through, as in maximum
    return np.maximum(x, 0)


# relu is a primitive, not where(x <= 0, 0, x), for speed: the forward pass is
# one maximum (several times cheaper than a select on arrays), and its pull
# masks at x > 0, so relu'(0) = 0 where maximum would split a tie in half.
relu_p = unary("relu", _relu, lambda g, ans, x: select_n(gt(x, 0.0), 0.0, g),
               lowering=Lowering(float_expr="{0} if {0} > 0 or {0} != {0} else 0.0",
                                 array_expr="_np.maximum({0}, 0)"))
sqrt_p = unary("sqrt", np.sqrt, lambda g, ans, x: div(g, mul(2.0, ans)),
               lowering=_ufunc("sqrt"))
abs_p = unary("abs", np.abs, lambda g, ans, x: mul(g, sign(x)),
              lowering=Lowering(float_expr="abs({0})", ufunc="absolute"))
# sign and floor, like the comparisons, are flat wherever they have a derivative.
# np.sign gives 0.0 for both zeros and passes NaN through.
sign_p = unary("sign", np.sign, None, differentiable=False, lowering=Lowering(
    float_expr="1.0 if {0} > 0 else -1.0 if {0} < 0 else 0.0 if {0} == 0 else {0}",
    ufunc="sign"))
floor_p = unary("floor", np.floor, None, differentiable=False, lowering=_ufunc("floor"))
ceil_p = unary("ceil", np.ceil, None, differentiable=False, lowering=_ufunc("ceil"))
# Rounds half to even, as NumPy and jnp.round do.
round_p = unary("round", np.round, None, differentiable=False)

# NumPy's own floor_divide and remainder, not floor(x / y): they differ near
# multiples (np.floor_divide(1, 0.1) is 9.0, floor(1 / 0.1) is 10.0), and eager
# and traced code must agree to the bit. The pull of x % y on y is -(x // y).
floor_divide_p = binary("floor_divide", np.floor_divide, None, None, differentiable=False,
                        lowering=_ufunc("floor_divide"))
remainder_p = binary("remainder", np.remainder, lambda g, ans, x, y: g,
                     lambda g, ans, x, y: neg(mul(g, floor_divide_p.bind(x, y))),
                     lowering=_ufunc("remainder"))

# ----- Comparisons: boolean outputs, no gradient -----------------------------

eq_p = binary("eq", operator.eq, None, None, differentiable=False,
              lowering=_comparison("==", "equal"))
ne_p = binary("ne", operator.ne, None, None, differentiable=False,
              lowering=_comparison("!=", "not_equal"))
lt_p = binary("lt", operator.lt, None, None, differentiable=False,
              lowering=_comparison("<", "less"))
le_p = binary("le", operator.le, None, None, differentiable=False,
              lowering=_comparison("<=", "less_equal"))
gt_p = binary("gt", operator.gt, None, None, differentiable=False,
              lowering=_comparison(">", "greater"))
ge_p = binary("ge", operator.ge, None, None, differentiable=False,
              lowering=_comparison(">=", "greater_equal"))

# ----- Bitwise logic on booleans and integers: no gradient --------------------

and_p = binary("and", np.bitwise_and, None, None, differentiable=False,
               lowering=_ufunc("bitwise_and"))
or_p = binary("or", np.bitwise_or, None, None, differentiable=False,
              lowering=_ufunc("bitwise_or"))
xor_p = binary("xor", np.bitwise_xor, None, None, differentiable=False,
               lowering=_ufunc("bitwise_xor"))
not_p = unary("not", np.invert, None, differentiable=False, lowering=_ufunc("invert"))
shift_left_p = binary("shift_left", np.left_shift, None, None, differentiable=False,
                      lowering=_ufunc("left_shift"))
shift_right_p = binary("shift_right_arithmetic", np.right_shift, None, None,
                       differentiable=False, lowering=_ufunc("right_shift"))


# ----- select_n: where() ------------------------------------------------------

_SAME_WIDTH_UINT = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def _masked(mask, values, zero_where):
    """``where(mask, values, 0.0)`` (or ``where(mask, 0.0, values)``) for float arrays.

    NumPy's ``where`` costs several times a multiply on this kind of data, and
    "keep or zero" is the select that relu's pull makes on every call. ANDing
    the bits with an all-ones or all-zeros word per element is exact: kept
    values keep every bit (-0.0, inf and NaN included) and dropped ones
    become +0.0, just as ``where`` gives.
    """
    uint = _SAME_WIDTH_UINT[values.dtype.itemsize]
    bits = mask.astype(uint)                   # 1 where mask holds, else 0
    if zero_where:
        np.subtract(bits, 1, out=bits)         # 1 -> 0, 0 -> all ones
    else:
        np.negative(bits, out=bits)            # 1 -> all ones, 0 -> 0
    if bits.shape == values.shape:
        return np.bitwise_and(values.view(uint), bits, out=bits).view(values.dtype)
    return np.bitwise_and(values.view(uint), bits).view(values.dtype)


def _select_n_impl(which, *cases):
    if len(cases) == 2:
        if isinstance(which, np.ndarray) and which.dtype == np.bool_:
            for k, (zero, values) in enumerate((cases, cases[::-1])):
                if type(zero) in _FLOAT_TYPES and zero == 0.0 and not math.copysign(
                        1.0, zero) < 0 and isinstance(values, np.ndarray) and \
                        values.dtype.kind == "f" and values.dtype.itemsize in _SAME_WIDTH_UINT:
                    return _masked(which, values, zero_where=bool(k))
        if type(which) in (bool, np.bool_) and type(cases[0]) in _FLOAT_TYPES \
                and type(cases[1]) in _FLOAT_TYPES:
            return cases[1] if which else cases[0]
        return np.where(which, cases[1], cases[0])
    return np.choose(which, cases)


def _select_n_aval(which, *cases):
    if which.dtype != np.bool_ and which.dtype.kind not in "iu":
        raise TypeError(f"select_n: the selector must be boolean or integer, got {which.dtype}")
    if which.dtype == np.bool_ and len(cases) != 2:
        raise TypeError(f"select_n: a boolean selector picks from 2 cases, got {len(cases)}")
    shape = broadcast_shapes("select_n", which, *cases)
    dtype = np.result_type(*(_proto(c) for c in cases))
    # The impl returns a (strong) NumPy array unless a scalar selector picks
    # between two Python floats, so only then is the result weak.
    weak = not shape and len(cases) == 2 and all(
        c.weak_type and c.dtype.kind == "f" for c in cases)
    return ShapedArray(shape, dtype, weak)


def _select_n_case_vjp(i):
    def rule(g, ans, which, *cases):
        picked = [0.0] * len(cases)
        picked[i] = g
        return select_n(which, *picked)
    return rule


def _select_n_vjp(g, ans, which, *cases):
    return (None, *(_select_n_case_vjp(i)(g, ans, which, *cases) for i in range(len(cases))))


def _select_n_jvp(primals, tangents, ans):
    which, ts = primals[0], tangents[1:]
    if all(t is None for t in ts):
        return None
    return _fit_tangent(select_n(which, *(0.0 if t is None else t for t in ts)), ans)


def _lower_select_n(w, ins, params, in_avals, out_aval):
    # A choice between two float64 scalars by a bool is Python's conditional.
    if (len(ins) == 3 and out_aval.shape == () and in_avals[0].dtype == _BOOL
            and all(map(_is_f64_scalar, in_avals[1:]))):
        return f"{ins[2]} if {ins[0]} else {ins[1]}", False
    return None


def _simplify_select_n(ins, params, known):
    which = value_of(ins[0], known)          # a constant scalar selector picks a case
    if which is not None and np.ndim(which) == 0:
        return ins[1 + int(which)]
    return None


# The whole vjp serves any number of cases; the per-case rules, for the common
# two-case select, let a constant case cost nothing. np.where and the bit-mask
# select allocate: no aliasing.
select_n_p = _register(Primitive(
    "select_n", _select_n_impl, _select_n_aval, vjp=_select_n_vjp,
    vjp_args=(None, _select_n_case_vjp(0), _select_n_case_vjp(1)), jvp=_select_n_jvp,
    batch=PerPrimitive(batch_elementwise), may_alias=False,
    lowering=Lowering(custom=_lower_select_n), simplify=_simplify_select_n))


# ----- Type conversion and stop_gradient --------------------------------------

def _convert_impl(x, *, new_dtype):
    return x.astype(new_dtype) if isinstance(x, np.ndarray) else new_dtype.type(x)


def _convert_vjp(g, ans, x, *, new_dtype):
    if not (is_float(x) and np.issubdtype(new_dtype, np.inexact)):
        return None
    return convert_element_type(g, dtype_of(x))


def _convert_jvp(primals, tangents, ans, *, new_dtype):
    if tangents[0] is None or not np.issubdtype(new_dtype, np.inexact):
        return None
    return convert_element_type(tangents[0], new_dtype)


# A comparison's bool, an int or a float64 as a Python float, exactly as astype.
_AS_PYTHON_FLOAT = {_BOOL: "(1.0 if {0} else 0.0)", _I64: "float({0})", _F64: "{0}"}


def _lower_convert(w, ins, params, in_avals, out_aval):
    if (out_aval.shape == () and out_aval.dtype == _F64 and in_avals[0].shape == ()
            and in_avals[0].dtype in _AS_PYTHON_FLOAT):
        return _AS_PYTHON_FLOAT[in_avals[0].dtype].format(ins[0]), True
    return None


def _same(ins, params, known):
    """The operand itself: kept when the output has its shape and dtype (a no-op)."""
    return ins[0]


convert_element_type_p = _register(Primitive(
    "convert_element_type", _convert_impl,
    lambda x, *, new_dtype: ShapedArray(x.shape, new_dtype),
    vjp_args=(_convert_vjp,), jvp=_convert_jvp, batch=PerPrimitive(batch_elementwise),
    may_alias=False,                                 # astype copies
    lowering=Lowering(custom=_lower_convert), simplify=_same))

stop_gradient_p = _register(Primitive(
    "stop_gradient", lambda x: x, lambda x: ShapedArray(x.shape, x.dtype, x.weak_type),
    differentiable=False, batch=PerPrimitive(batch_elementwise),
    lowering=Lowering(float_expr="{0}")))

# The same values, C-contiguous (a copy only if they are not): what np.ravel
# hands back where a reshape would be a strided view. Layout matters to the
# bit: BLAS sums a strided vector in another order than a contiguous one.
def _contiguous(x):
    if np.ndim(x) == 0:               # np.ascontiguousarray would make it 1-d
        return x
    return np.ascontiguousarray(x)


contiguous_p = _register(Primitive(
    "contiguous", _contiguous, lambda x: ShapedArray(x.shape, x.dtype, x.weak_type),
    vjp_args=(lambda g, ans, x: g,), jvp=lambda primals, tangents, ans: tangents[0],
    batch=PerPrimitive(batch_elementwise)))


# ----- Reductions -------------------------------------------------------------

def _check_axes(name: str, aval: ShapedArray, axes: tuple) -> None:
    for a in axes:
        if not 0 <= a < aval.ndim:
            raise ValueError(f"{name}: axis {a} is out of range for an array of "
                             f"shape {aval.shape}")


def _reduced_aval(name, dtype_fn=None):
    def abstract_eval(x, *, axes, **_):
        _check_axes(name, x, axes)
        shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
        return ShapedArray(shape, x.dtype if dtype_fn is None else dtype_fn(x))
    return abstract_eval


_batch_reduce = PerPrimitive(_batch_unary(
    lambda size, *, axes, **p: dict(p, axes=tuple(a + 1 for a in axes))))


def _reduction_lowering(ufunc: str) -> Lowering:
    """``_np.<ufunc>.reduce(x, axis=...)``: the impl's own call, without its checks."""
    def custom(w, ins, params, in_avals, out_aval):
        if params["axes"] and in_avals[0].size and out_aval.shape != ():
            return f"_np.{ufunc}.reduce({ins[0]}, axis={w.bind(tuple(params['axes']), '_a')})", \
                False
        return None
    return Lowering(custom=custom)


def _reduces_nothing(params: dict) -> bool:
    # A reduction over no axes returns its operand itself.
    return not params["axes"]


def _kept_dims(ndim: int, axes: tuple) -> tuple[int, ...]:
    return tuple(i for i in range(ndim) if i not in axes)


def _reduce_sum_impl(x, *, axes):
    # Over no axes too: NumPy adds to the identity 0.0, which turns -0.0 into
    # +0.0 (and booleans into integers).
    return np.add.reduce(x, axis=axes)


def _simplify_reduce_sum(ins, params, known):
    # Over no axes an integer sum is its operand; a float one adds it to 0.0
    # (not an identity on -0.0), and a bool one changes dtype: kept.
    return ins[0] if not params["axes"] and ins[0].aval.dtype.kind in "iu" else None


reduce_sum_p = _register(Primitive(
    "reduce_sum", _reduce_sum_impl,
    _reduced_aval("reduce_sum", lambda x: np.sum(np.ones(1, x.dtype)).dtype),
    vjp_args=(lambda g, ans, x, *, axes: broadcast_in_dim(
        g, shape_of(x), _kept_dims(len(shape_of(x)), axes)),),
    jvp=lambda primals, tangents, ans, *, axes: (
        None if tangents[0] is None else reduce_sum(tangents[0], axes)),
    batch=_batch_reduce, may_alias=False, lowering=_reduction_lowering("add"),
    simplify=_simplify_reduce_sum))


def _chooser_locations(x, ans, axes):
    """Where x attains its reduced max/min, as a 0/1 mask, and the tie counts."""
    kept = _kept_dims(len(shape_of(x)), axes)
    hits = convert_element_type(eq(x, broadcast_in_dim(ans, shape_of(x), kept)), dtype_of(ans))
    return hits, reduce_sum(hits, axes), kept


def _reduce_chooser(name: str, np_fn: Callable, ufunc: str) -> Primitive:
    # Ties share the pull equally, as in JAX.
    def vjp(g, ans, x, *, axes):
        hits, counts, kept = _chooser_locations(x, ans, axes)
        return mul(hits, broadcast_in_dim(div(g, counts), shape_of(x), kept))

    def jvp(primals, tangents, ans, *, axes):
        if tangents[0] is None:
            return None
        hits, counts, _ = _chooser_locations(primals[0], ans, axes)
        return div(reduce_sum(mul(tangents[0], hits), axes), counts)

    def impl(x, *, axes):
        if not axes:
            return x
        if np.size(x) == 0:
            raise ValueError(f"{name}: cannot reduce an empty array (it has no identity)")
        return np_fn(x, axis=axes)
    return _register(Primitive(
        name, impl, _reduced_aval(name), vjp_args=(vjp,), jvp=jvp, batch=_batch_reduce,
        may_alias=_reduces_nothing, lowering=_reduction_lowering(ufunc)))


reduce_max_p = _reduce_chooser("reduce_max", np.max, "maximum")
reduce_min_p = _reduce_chooser("reduce_min", np.min, "minimum")


def _others_product(x, axes):
    """For each element, the product of the other elements along ``axes``.

    Built from a (n, n) mask so that zeros in x are handled exactly; this costs
    O(n^2) per reduced slice, which is fine for the sizes prod is used on.
    """
    shape = shape_of(x)
    kept = _kept_dims(len(shape), axes)
    perm = kept + tuple(axes)
    n = int(np.prod([shape[a] for a in axes], dtype=np.int64))
    rest = tuple(shape[i] for i in kept)
    flat = reshape(transpose(x, perm), rest + (n,))
    tiled = broadcast_in_dim(flat, rest + (n, n), tuple(range(len(rest))) + (len(rest) + 1,))
    diagonal = np.eye(n, dtype=bool)
    others = reduce_prod(select_n(diagonal, tiled, 1.0), (len(rest) + 1,))
    inverse = tuple(np.argsort(perm))
    return transpose(reshape(others, rest + tuple(shape[a] for a in axes)), inverse)


reduce_prod_p = _register(Primitive(
    "reduce_prod", lambda x, *, axes: np.prod(x, axis=axes) if axes else x,
    _reduced_aval("reduce_prod", lambda x: np.prod(np.ones(1, x.dtype)).dtype),
    vjp_args=(lambda g, ans, x, *, axes: mul(
        broadcast_in_dim(g, shape_of(x), _kept_dims(len(shape_of(x)), axes)),
        _others_product(x, axes)),),
    jvp=lambda primals, tangents, ans, *, axes: (
        None if tangents[0] is None else
        reduce_sum(mul(tangents[0], _others_product(primals[0], axes)), axes)),
    batch=_batch_reduce, may_alias=_reduces_nothing))


def _argchooser(name: str, np_fn: Callable) -> Primitive:
    def impl(x, *, axes, index_dtype):
        if np.size(x) == 0:
            raise ValueError(f"{name}: cannot take the {name[3:]} of an empty array")
        return np_fn(x, axis=axes[0]).astype(index_dtype)
    return _register(Primitive(
        name, impl, _reduced_aval(name, lambda x: np.dtype(np.int64)), differentiable=False,
        batch=_batch_reduce, may_alias=False))


argmax_p = _argchooser("argmax", np.argmax)
argmin_p = _argchooser("argmin", np.argmin)


def _cumsum_impl(x, *, axis, reverse):
    if not reverse:
        return np.cumsum(x, axis=axis)
    return np.flip(np.cumsum(np.flip(x, axis), axis=axis), axis)


def _cumsum_aval(x, *, axis, reverse):
    _check_axes("cumsum", x, (axis,))
    return ShapedArray(x.shape, np.cumsum(np.ones(1, x.dtype)).dtype)


# Each input adds into every later output, so its pull is the sum of the
# later pulls: a cumulative sum run the other way.
cumsum_p = _register(Primitive(
    "cumsum", _cumsum_impl, _cumsum_aval,
    vjp_args=(lambda g, ans, x, *, axis, reverse: cumsum_p.bind(
        g, axis=axis, reverse=not reverse),),
    jvp=lambda primals, tangents, ans, **p: (
        None if tangents[0] is None else cumsum_p.bind(tangents[0], **p)),
    batch=PerPrimitive(_batch_unary(lambda size, *, axis, reverse: dict(
        axis=axis + 1, reverse=reverse))),
    may_alias=False))


# ----- Shape operations -------------------------------------------------------

def _broadcast_in_dim_impl(x, *, shape, broadcast_dimensions):
    x = np.asarray(x)
    expanded = [1] * len(shape)
    for src, dst in enumerate(broadcast_dimensions):
        expanded[dst] = x.shape[src]
    return np.broadcast_to(x.reshape(expanded), shape)


def _broadcast_in_dim_aval(x, *, shape, broadcast_dimensions):
    ok = len(broadcast_dimensions) == x.ndim and all(
        0 <= d < len(shape) and x.shape[i] in (1, shape[d])
        for i, d in enumerate(broadcast_dimensions))
    if not ok or list(broadcast_dimensions) != sorted(set(broadcast_dimensions)):
        raise ValueError(f"broadcast_in_dim: cannot broadcast an operand of shape "
                         f"{x.shape} to {shape} along dimensions {broadcast_dimensions}")
    return ShapedArray(shape, x.dtype, x.weak_type)


def _broadcast_in_dim_vjp(g, ans, x, *, shape, broadcast_dimensions):
    x_shape = shape_of(x)
    summed = tuple(i for i in range(len(shape)) if i not in broadcast_dimensions) + tuple(
        d for i, d in enumerate(broadcast_dimensions) if x_shape[i] == 1 and shape[d] != 1)
    summed = tuple(sorted(summed))
    return reshape(reduce_sum(g, summed), x_shape) if summed else reshape(g, x_shape)


broadcast_in_dim_p = _register(Primitive(
    "broadcast_in_dim", _broadcast_in_dim_impl, _broadcast_in_dim_aval,
    vjp_args=(_broadcast_in_dim_vjp,),
    jvp=lambda primals, tangents, ans, **p: (
        None if tangents[0] is None else broadcast_in_dim(tangents[0], **p)),
    batch=PerPrimitive(_batch_unary(lambda size, *, shape, broadcast_dimensions: dict(
        shape=(size,) + shape,
        broadcast_dimensions=(0,) + tuple(d + 1 for d in broadcast_dimensions)))),
    simplify=_same))


def _reshape_aval(x, *, new_sizes):
    if int(np.prod(new_sizes, dtype=np.int64)) != x.size:
        raise ValueError(f"reshape: cannot reshape an array of shape {x.shape} "
                         f"({x.size} elements) into shape {new_sizes}")
    return ShapedArray(new_sizes, x.dtype, x.weak_type)


def _lower_with(call: str, param: str) -> Lowering:
    """``_np.<call>(x, <param>)`` on arrays, the parameter bound by name."""
    def custom(w, ins, params, in_avals, out_aval):
        if out_aval.shape == ():
            return None
        return f"_np.{call}({ins[0]}, {w.bind(tuple(params[param]), '_a')})", False
    return Lowering(custom=custom)


reshape_p = _register(Primitive(
    "reshape", lambda x, *, new_sizes: np.reshape(x, new_sizes), _reshape_aval,
    vjp_args=(lambda g, ans, x, *, new_sizes: reshape(g, shape_of(x)),),
    jvp=lambda primals, tangents, ans, *, new_sizes: (
        None if tangents[0] is None else reshape(tangents[0], new_sizes)),
    batch=PerPrimitive(_batch_unary(lambda size, *, new_sizes: dict(
        new_sizes=(size,) + new_sizes))),
    lowering=_lower_with("reshape", "new_sizes"), simplify=_same))


def _transpose_aval(x, *, permutation):
    if sorted(permutation) != list(range(x.ndim)):
        raise ValueError(f"transpose: {permutation} is not a permutation of the "
                         f"axes of an array of shape {x.shape}")
    return ShapedArray(tuple(x.shape[p] for p in permutation), x.dtype, x.weak_type)


transpose_p = _register(Primitive(
    "transpose", lambda x, *, permutation: np.transpose(x, permutation), _transpose_aval,
    vjp_args=(lambda g, ans, x, *, permutation: transpose(
        g, tuple(int(i) for i in np.argsort(permutation))),),
    jvp=lambda primals, tangents, ans, *, permutation: (
        None if tangents[0] is None else transpose(tangents[0], permutation)),
    batch=PerPrimitive(_batch_unary(lambda size, *, permutation: dict(
        permutation=(0,) + tuple(p + 1 for p in permutation)))),
    lowering=_lower_with("transpose", "permutation"),
    simplify=lambda ins, params, known: (
        ins[0] if params["permutation"] == tuple(range(len(params["permutation"]))) else None)))


def _squeeze_aval(x, *, dimensions):
    for d in dimensions:
        if not 0 <= d < x.ndim or x.shape[d] != 1:
            raise ValueError(f"squeeze: cannot squeeze axis {d} of an array of shape "
                             f"{x.shape}; only axes of size 1 can be squeezed")
    return ShapedArray(tuple(s for i, s in enumerate(x.shape) if i not in dimensions),
                       x.dtype, x.weak_type)


squeeze_p = _register(Primitive(
    "squeeze", lambda x, *, dimensions: np.squeeze(x, dimensions), _squeeze_aval,
    vjp_args=(lambda g, ans, x, *, dimensions: reshape(g, shape_of(x)),),
    jvp=lambda primals, tangents, ans, *, dimensions: (
        None if tangents[0] is None else squeeze(tangents[0], dimensions)),
    batch=PerPrimitive(_batch_unary(lambda size, *, dimensions: dict(
        dimensions=tuple(d + 1 for d in dimensions)))),
    simplify=_same))


def _concatenate_aval(*xs, dimension):
    first = xs[0]
    for x in xs:
        same = x.ndim == first.ndim and all(
            a == b for i, (a, b) in enumerate(zip(x.shape, first.shape)) if i != dimension)
        if not same or not 0 <= dimension < x.ndim:
            shapes = ", ".join(str(y.shape) for y in xs)
            raise ValueError(f"concatenate: along axis {dimension}, arrays must "
                             f"match in every other axis; got shapes {shapes}")
    shape = list(first.shape)
    shape[dimension] = sum(x.shape[dimension] for x in xs)
    dtype = np.result_type(*(_proto(x) for x in xs))
    return ShapedArray(shape, dtype)


def _concatenate_vjp(g, ans, *xs, dimension):
    cts, start = [], 0
    for x in xs:
        size = shape_of(x)[dimension]
        index = (slice(None),) * dimension + (slice(start, start + size),)
        cts.append(gather(g, indexer=Indexer.from_static(index)))
        start += size
    return tuple(cts)


def _concatenate_jvp(primals, tangents, ans, *, dimension):
    if all(t is None for t in tangents):
        return None
    return concatenate([np.zeros(shape_of(x), dtype_of(ans)) if t is None else t
                        for x, t in zip(primals, tangents)], dimension)


# Its arity varies, so its vjp is the one rule for all its operands.
concatenate_p = _register(Primitive(
    "concatenate", lambda *xs, dimension: np.concatenate(xs, axis=dimension),
    _concatenate_aval, vjp=_concatenate_vjp, jvp=_concatenate_jvp,
    batch=lambda size, vals, dims, *, dimension: (concatenate(
        [move_to_front(v, d, size) for v, d in zip(vals, dims)], dimension + 1), 0),
    may_alias=False))


# ----- dot_general: every contraction of two arrays ---------------------------

def _free_dims(ndim, contract, batch):
    return tuple(i for i in range(ndim) if i not in contract and i not in batch)


def _dot_general_impl(lhs, rhs, *, dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers
    lhs, rhs = np.asarray(lhs), np.asarray(rhs)
    ln, rn = lhs.ndim, rhs.ndim
    if not lb and len(lc) == 1 and 0 < ln <= 2 and 0 < rn <= 2:
        # Matrix/vector products: transposed views go to BLAS as they are.
        a = lhs.T if ln == 2 and lc[0] == 0 else lhs
        b = rhs.T if rn == 2 and rc[0] == 1 else rhs
        return np.matmul(a, b)
    # NumPy's own function where the layout is its: the same loops and BLAS
    # calls, so a traced np.dot or a @ b gives eager NumPy's bits.
    if not lb and lc == (ln - 1,) and rc == (max(rn - 2, 0),) and ln and rn:
        return np.dot(lhs, rhs)
    n = len(lb)
    if (n and lb == rb == tuple(range(n)) and ln == rn == n + 2 and lc == (n + 1,)
            and rc == (n,)):
        return np.matmul(lhs, rhs)
    lf, rf = _free_dims(lhs.ndim, lc, lb), _free_dims(rhs.ndim, rc, rb)
    batch = tuple(lhs.shape[d] for d in lb)
    l_free, r_free = tuple(lhs.shape[d] for d in lf), tuple(rhs.shape[d] for d in rf)
    k = int(np.prod([lhs.shape[d] for d in lc], dtype=np.int64))
    m = int(np.prod(l_free, dtype=np.int64))
    n = int(np.prod(r_free, dtype=np.int64))
    b = int(np.prod(batch, dtype=np.int64))
    l3 = np.transpose(lhs, lb + lf + lc).reshape(b, m, k)
    r3 = np.transpose(rhs, rb + rc + rf).reshape(b, k, n)
    return np.matmul(l3, r3).reshape(batch + l_free + r_free)


def _dot_general_aval(lhs, rhs, *, dimension_numbers):
    (lc, rc), (lb, rb) = dimension_numbers
    ok = (len(lc) == len(rc) and len(lb) == len(rb)
          and all(0 <= d < lhs.ndim for d in lc + lb) and all(0 <= d < rhs.ndim for d in rc + rb)
          and all(lhs.shape[a] == rhs.shape[b] for a, b in zip(lc + lb, rc + rb)))
    if not ok:
        raise ValueError(f"dot_general: shapes {lhs.shape} and {rhs.shape} do not "
                         f"match for contracting dims {lc}/{rc} and batch dims {lb}/{rb}")
    shape = (tuple(lhs.shape[d] for d in lb)
             + tuple(lhs.shape[d] for d in _free_dims(lhs.ndim, lc, lb))
             + tuple(rhs.shape[d] for d in _free_dims(rhs.ndim, rc, rb)))
    return ShapedArray(shape, np.result_type(_proto(lhs), _proto(rhs)))


def _dot_transpose(g, y, x_ndim, y_ndim, x_contract, y_contract, x_batch, y_batch, g_x_free,
                   g_y_free):
    """The cotangent of the x side of dot_general(x, y) (x may be lhs or rhs)."""
    y_free = _free_dims(y_ndim, y_contract, y_batch)
    nb = len(x_batch)
    # dot_general(g, y) has axes: batch, x's free axes (in order), then y's
    # contracting axes in increasing order, which pair with x's contracting
    # axes; dot_general(y, g) has the last two groups swapped. Take the order
    # that needs no transpose when there is one (A.T @ g, not (g.T @ A).T).
    x_free = _free_dims(x_ndim, x_contract, x_batch)
    x_c_order = [x_contract[list(y_contract).index(c)] for c in sorted(y_contract)]
    g_first = list(x_batch) + list(x_free) + x_c_order
    y_first = list(x_batch) + x_c_order + list(x_free)
    if y_first == sorted(y_first) and g_first != sorted(g_first):
        return dot_general(y, g, ((y_free, g_y_free), (y_batch, tuple(range(nb)))))
    res = dot_general(g, y, ((g_y_free, y_free), (tuple(range(nb)), y_batch)))
    perm = tuple(sorted(range(x_ndim), key=g_first.__getitem__))
    return transpose(res, perm) if perm != tuple(range(x_ndim)) else res


def _dot_general_vjp(g, ans, lhs, rhs, *, dimension_numbers, only=None):
    (lc, rc), (lb, rb) = dimension_numbers
    ln, rn = len(shape_of(lhs)), len(shape_of(rhs))
    nb = len(lb)
    n_lfree = ln - len(lc) - nb
    g_lfree = tuple(range(nb, nb + n_lfree))
    g_rfree = tuple(range(nb + n_lfree, len(shape_of(ans))))
    d_lhs = None if only == 1 else _dot_transpose(g, rhs, ln, rn, lc, rc, lb, rb, g_lfree, g_rfree)
    d_rhs = None if only == 0 else _dot_transpose(g, lhs, rn, ln, rc, lc, rb, lb, g_rfree, g_lfree)
    return d_lhs if only == 0 else d_rhs if only == 1 else (d_lhs, d_rhs)


def _dot_general_jvp(primals, tangents, ans, *, dimension_numbers):
    (lhs, rhs), (tl, tr) = primals, tangents
    return _sum_jvps([None if tl is None else dot_general(tl, rhs, dimension_numbers),
                      None if tr is None else dot_general(lhs, tr, dimension_numbers)])


def _dot_general_batch(size, vals, dims, *, dimension_numbers):
    # Both batched: the batch axis becomes one more batch dimension. One side
    # batched: it is a free dimension of that side, and lands where those do.
    (lhs, rhs), (ld, rd) = vals, dims
    (lc, rc), (lb, rb) = dimension_numbers

    def shift(ds):
        return tuple(d + 1 for d in ds)
    if ld is not None and rd is not None:
        lhs, rhs = move_to_front(lhs, ld, size), move_to_front(rhs, rd, size)
        return dot_general(lhs, rhs, ((shift(lc), shift(rc)),
                                      ((0,) + shift(lb), (0,) + shift(rb)))), 0
    if ld is not None:
        lhs = move_to_front(lhs, ld, size)
        return dot_general(lhs, rhs, ((shift(lc), rc), (shift(lb), rb))), len(lb)
    rhs = move_to_front(rhs, rd, size)
    n_lhs_free = len(shape_of(lhs)) - len(lc) - len(lb)
    return dot_general(lhs, rhs, ((lc, shift(rc)), (lb, shift(rb)))), len(lb) + n_lhs_free


def _lower_dot_general(w, ins, params, in_avals, out_aval):
    """Matrix and vector products as ``a @ b``, transposed views and all (as the impl)."""
    (lc, rc), (lb, rb) = params["dimension_numbers"]
    ln, rn = (a.ndim for a in in_avals)
    if not lb and len(lc) == 1 and 1 <= ln <= 2 and 1 <= rn <= 2:
        lhs = f"{ins[0]}.T" if ln == 2 and lc[0] == 0 else ins[0]
        rhs = f"{ins[1]}.T" if rn == 2 and rc[0] == 1 else ins[1]
        return f"{lhs} @ {rhs}", False
    return None


dot_general_p = _register(Primitive(
    "dot_general", _dot_general_impl, _dot_general_aval,
    vjp_args=(lambda *a, **p: _dot_general_vjp(*a, **p, only=0),
              lambda *a, **p: _dot_general_vjp(*a, **p, only=1)),
    jvp=_dot_general_jvp, batch=_dot_general_batch, may_alias=False,
    lowering=Lowering(custom=_lower_dot_general)))


# ----- Indexing: gather, scatter-add, scatter ---------------------------------

class Indexer:
    """A NumPy index with its integer arrays taken out as operands.

    ``items`` holds ints, slices (as tuples), ``None``, ``Ellipsis`` and
    ``ARRAY`` placeholders; the i-th placeholder is filled by the i-th index
    operand. Hashable, so it can be a primitive's parameter.
    """

    __slots__ = ("items",)
    ARRAY = "#"

    def __init__(self, items: tuple) -> None:
        self.items = items

    @classmethod
    def from_static(cls, index: tuple) -> Indexer:
        return cls(tuple((s.start, s.stop, s.step) if isinstance(s, slice) else s
                         for s in index))

    def build(self, arrays) -> tuple:
        arrays = iter(arrays)
        return tuple(next(arrays) if it == self.ARRAY else
                     slice(*it) if isinstance(it, tuple) else it for it in self.items)

    @property
    def num_arrays(self) -> int:
        return sum(1 for it in self.items if it == self.ARRAY)

    def __eq__(self, other):
        return isinstance(other, Indexer) and self.items == other.items

    def __hash__(self):
        return hash(self.items)

    def __str__(self):
        def fmt(it, counter=iter(range(1000))):
            if it == self.ARRAY:
                return f"#{next(counter)}"
            if isinstance(it, tuple):
                start, stop, step = ("" if v is None else v for v in it)
                return f"{start}:{stop}" + (f":{step}" if step != "" else "")
            return "..." if it is Ellipsis else str(it)
        return "[" + ",".join(fmt(it) for it in self.items) + "]"

    __repr__ = __str__


def _dummy(aval: ShapedArray) -> np.ndarray:
    # A zero-stride stand-in: indexing it costs no memory, only shape logic.
    return np.broadcast_to(np.zeros((), aval.dtype), aval.shape)


def _index_arrays_aval(name, idx):
    for a in idx:
        if a.dtype.kind not in "iu":
            raise IndexError(f"{name}: index arrays must be integers, got {a.dtype} "
                             "(boolean masks need concrete values: use jnp.where instead)")
    return [np.zeros(a.shape, np.intp) for a in idx]


def _gather_aval(x, *idx, indexer):
    out = _dummy(x)[indexer.build(_index_arrays_aval("gather", idx))]
    return ShapedArray(np.shape(out), x.dtype, x.weak_type)


def _scatter_impl(add_into: bool):
    def impl(x, updates, *idx, indexer):
        out = np.array(x, copy=True)
        index = indexer.build(idx)
        if not add_into:
            out[index] = updates
        elif indexer.num_arrays:
            np.add.at(out, index, updates)     # sums repeated indices, unlike +=
        else:
            out[index] += updates
        return out
    return impl


def _scatter_aval(name):
    def abstract_eval(x, updates, *idx, indexer):
        target = np.shape(_dummy(x)[indexer.build(_index_arrays_aval(name, idx))])
        try:
            np.broadcast_shapes(updates.shape, target)
            if np.broadcast_shapes(updates.shape, target) != target:
                raise ValueError
        except ValueError:
            raise ValueError(f"{name}: updates of shape {updates.shape} do not fit the "
                             f"indexed region of shape {target}") from None
        return ShapedArray(x.shape, x.dtype, x.weak_type)
    return abstract_eval


def _batched_index(size, idx, idx_dims, indexer, x_ndim):
    """A batched index: an arange over the batch axis leads the index arrays.

    NumPy puts the dimensions of advanced (array) indices first when they are
    not adjacent, and at the first one's place when they are; either way, an
    arange in front puts the batch axis first. Without index arrays a leading
    full slice does the same. The third result is the permutation that takes
    the batched result to (batch, one example's layout), or None if it is that
    already (see ``_example_layout``).
    """
    if not idx:
        return Indexer(((None, None, None),) + indexer.items), [], None
    rank = builtins_max(len(shape_of(i)) - (d is not None) for i, d in zip(idx, idx_dims))
    moved = [i if d is None else _front_with_rank(i, d, rank) for i, d in zip(idx, idx_dims)]
    batch_positions = np.arange(size).reshape((size,) + (1,) * rank)
    return (Indexer((Indexer.ARRAY,) + indexer.items), [batch_positions] + moved,
            _example_layout(indexer, x_ndim, rank))


def _example_layout(indexer, x_ndim, n_adv):
    """Undo what the leading arange does to an adjacent block of advanced indices.

    In one example, ``x[:, i]`` keeps i's dimensions where i stands. With the
    arange in front the block is no longer adjacent to it, so NumPy moves
    those dimensions to the front, right after the batch axis; this
    permutation moves them back behind the dimensions that came before them.
    (Ints count as advanced indices when arrays are present; None and ``...``
    split a block, even when ``...`` stands for no axes.)
    """
    items = indexer.items
    adv = [k for k, it in enumerate(items) if it == Indexer.ARRAY or type(it) is int]
    if adv[0] == 0 or adv[-1] - adv[0] + 1 != len(adv):
        return None
    consumed = sum(1 for it in items if it is not None and it is not Ellipsis)
    widths = [x_ndim - consumed if it is Ellipsis else 0 if k in adv else 1
              for k, it in enumerate(items)]
    # Axes after the last index item are kept whole, as if a "..." ended the index.
    trailing = 0 if Ellipsis in items else x_ndim - consumed
    before, out_ndim = sum(widths[:adv[0]]), n_adv + sum(widths) + trailing
    return ((0,) + tuple(range(1 + n_adv, 1 + n_adv + before)) + tuple(range(1, 1 + n_adv))
            + tuple(range(1 + n_adv + before, 1 + out_ndim)))


def _gather_batch(size, vals, dims, *, indexer):
    x = move_to_front(vals[0], dims[0], size)
    new_indexer, idx, perm = _batched_index(size, vals[1:], dims[1:], indexer,
                                            len(shape_of(x)) - 1)
    out = gather(x, *idx, indexer=new_indexer)
    return (out if perm is None else transpose(out, perm)), 0


def _scatter_batch(prim):
    def rule(size, vals, dims, *, indexer):
        x = move_to_front(vals[0], dims[0], size)
        idx_avals = [ShapedArray(shape_of(i)[1:] if d is not None else shape_of(i), np.intp)
                     for i, d in zip(vals[2:], dims[2:])]
        region = _gather_aval(ShapedArray(shape_of(x)[1:], dtype_of(x)), *idx_avals,
                              indexer=indexer).shape
        new_indexer, idx, perm = _batched_index(size, vals[2:], dims[2:], indexer,
                                                len(shape_of(x)) - 1)
        if perm is None:
            u = vals[1] if dims[1] is None else _front_with_rank(vals[1], dims[1], len(region))
        else:       # updates in one example's layout, permuted to the batched one
            u = move_to_front(vals[1], dims[1], size)
            u = transpose(_front_with_rank(u, 0, len(region)),
                          tuple(int(i) for i in np.argsort(perm)))
        return prim.bind(x, u, *idx, indexer=new_indexer), 0
    return rule


# The index operands vary in number, so the vjp is one rule for all operands.
# Basic indexing (ints, slices) returns a view; integer arrays always copy.
gather_p = _register(Primitive(
    "gather", lambda x, *idx, indexer: np.asarray(x)[indexer.build(idx)], _gather_aval,
    vjp=lambda g, ans, x, *idx, indexer: (
        scatter_add(np.zeros(shape_of(x), dtype_of(g)), g, *idx, indexer=indexer),
        *([None] * len(idx))),
    jvp=lambda primals, tangents, ans, *, indexer: (
        None if tangents[0] is None else gather(tangents[0], *primals[1:], indexer=indexer)),
    batch=_gather_batch, may_alias=lambda params: params["indexer"].num_arrays == 0))


def _scatter_jvp(prim):
    def jvp(primals, tangents, ans, *, indexer):
        (x, u), (tx, tu) = primals[:2], tangents[:2]
        if tx is None and tu is None:
            return None
        tx = np.zeros(shape_of(x), dtype_of(ans)) if tx is None else tx
        tu = np.zeros(shape_of(u), dtype_of(ans)) if tu is None else tu
        return prim.bind(tx, tu, *primals[2:], indexer=indexer)
    return jvp


# Both scatters start from a copy of x: no aliasing.
scatter_add_p = _register(Primitive(
    "scatter-add", _scatter_impl(True), _scatter_aval("scatter-add"),
    vjp=lambda g, ans, x, u, *idx, indexer: (
        g, gather(g, *idx, indexer=indexer), *([None] * len(idx))),
    jvp=PerPrimitive(_scatter_jvp), batch=PerPrimitive(_scatter_batch), may_alias=False))

scatter_p = _register(Primitive(
    "scatter", _scatter_impl(False), _scatter_aval("scatter"),
    vjp=lambda g, ans, x, u, *idx, indexer: (
        scatter_p.bind(g, 0.0, *idx, indexer=indexer), gather(g, *idx, indexer=indexer),
        *([None] * len(idx))),
    jvp=PerPrimitive(_scatter_jvp), batch=PerPrimitive(_scatter_batch), may_alias=False))




# ----- Functions the rules are written with ------------------------------------
# Thin binds, so that rules read like math and stay traceable.

# On two Python/NumPy floats nothing can be traced: compute directly.
def add(x, y):
    return x + y if type(x) in _FLOAT_TYPES and type(y) in _FLOAT_TYPES else add_p.bind(x, y)


def sub(x, y):
    return x - y if type(x) in _FLOAT_TYPES and type(y) in _FLOAT_TYPES else sub_p.bind(x, y)


def mul(x, y):
    return x * y if type(x) in _FLOAT_TYPES and type(y) in _FLOAT_TYPES else mul_p.bind(x, y)


def div(x, y): return div_p.bind(x, y)
def neg(x): return -x if type(x) in _FLOAT_TYPES else neg_p.bind(x)
def log(x): return log_p.bind(x)
def sin(x): return sin_p.bind(x)
def cos(x): return cos_p.bind(x)
def sign(x): return sign_p.bind(x)
def pow(x, y): return pow_p.bind(x, y)  # noqa: A001 - the primitive's name
def integer_pow(x, y): return integer_pow_p.bind(x, y=y)
def eq(x, y): return eq_p.bind(x, y)
def gt(x, y): return gt_p.bind(x, y)
def select_n(which, *cases): return select_n_p.bind(which, *cases)
def reduce_sum(x, axes): return reduce_sum_p.bind(x, axes=tuple(axes))
def reduce_prod(x, axes): return reduce_prod_p.bind(x, axes=tuple(axes))
def reshape(x, shape): return reshape_p.bind(x, new_sizes=tuple(shape))
def transpose(x, perm): return transpose_p.bind(x, permutation=tuple(perm))
def squeeze(x, dims): return squeeze_p.bind(x, dimensions=tuple(dims))
def concatenate(xs, dim): return concatenate_p.bind(*xs, dimension=dim)
def gather(x, *idx, indexer): return gather_p.bind(x, *idx, indexer=indexer)
def scatter_add(x, u, *idx, indexer): return scatter_add_p.bind(x, u, *idx, indexer=indexer)
def dot_general(x, y, dims): return dot_general_p.bind(x, y, dimension_numbers=dims)


def convert_element_type(x, dtype):
    dtype = np.dtype(dtype)
    if not isinstance(x, Tracer) and dtype_of(x) == dtype:
        return x
    return convert_element_type_p.bind(x, new_dtype=dtype)


def broadcast_in_dim(x, shape, broadcast_dimensions):
    return broadcast_in_dim_p.bind(x, shape=tuple(shape),
                                   broadcast_dimensions=tuple(broadcast_dimensions))


def broadcast_to(x, shape):
    """NumPy-style broadcast (trailing axes aligned) as a broadcast_in_dim."""
    x_shape = shape_of(x)
    if x_shape == tuple(shape):
        return x
    lead = len(shape) - len(x_shape)
    return broadcast_in_dim(x, shape, tuple(range(lead, len(shape))))
