"""Elementwise primitives: arithmetic, transcendental functions, comparisons,
bitwise logic, select_n, conversions.

Each gate is one declaration with all of its rules, most of them a line:
the family helpers (``base.unary``/``base.binary``) derive the shape rule,
the batch rule and the forward mode from the derivative, and the lowering
says how ``jit`` writes the gate, exactly as its impl computes it.
"""

from __future__ import annotations

import math
import operator

import numpy as np

from nanojax.core import Lowering, PerPrimitive, Primitive, ShapedArray, Tracer
from nanojax.primitives.base import (_BOOL, _ELEMENTWISE_AVAL, _F64, _FLOAT_TYPES, _I64,
                                     _PY_DTYPES, _arithmetic, _comparison, _fit_tangent,
                                     _is_f64_scalar, _proto, _register, _ufunc,
                                     batch_elementwise, binary, broadcast_shapes, dtype_of,
                                     is_float, same, unary)
from nanojax.simplify import is_const, is_negative_zero, value_of

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
    lowering=_arithmetic("+", "add"), symmetric=True,
    simplify=lambda ins, params, known: (ins[0] if is_negative_zero(ins[1], known) else
                                         ins[1] if is_negative_zero(ins[0], known) else None),
    residuals="shapes")
sub_p = binary(
    "sub", operator.sub, lambda g, ans, x, y: g, lambda g, ans, x, y: neg(g),
    lowering=_arithmetic("-", "subtract"),
    simplify=lambda ins, params, known: ins[0] if is_const(ins[1], known, 0.0) else None,
    residuals="shapes")
mul_p = binary(
    "mul", operator.mul, lambda g, ans, x, y: mul(g, y), lambda g, ans, x, y: mul(g, x),
    lowering=_arithmetic("*", "multiply"), symmetric=True,
    simplify=lambda ins, params, known: (ins[0] if is_const(ins[1], known, 1.0) else
                                         ins[1] if is_const(ins[0], known, 1.0) else None),
    residuals="operands")
div_p = binary(
    "div", _div, lambda g, ans, x, y: div(g, y), lambda g, ans, x, y: neg(mul(g, div(ans, y))),
    lowering=_arithmetic("/", "divide"),
    simplify=lambda ins, params, known: ins[0] if is_const(ins[1], known, 1.0) else None)
neg_p = unary("neg", operator.neg, lambda g, ans, x: neg(g),
              lowering=Lowering(float_expr="-{0}", array_expr="-{0}", ufunc="negative"),
              residuals="shapes")
# At a tie each side gets half of the pull, as in JAX (the guide's hand code
# routes all of it to both). Python's chooser, as np.maximum: NaN wins, and
# a tie returns the second operand.
max_p = binary("max", _chooser(np.maximum, operator.gt),
               lambda g, ans, x, y: mul(g, _tie_split(x, y)),
               lambda g, ans, x, y: mul(g, _tie_split(y, x)),
               lowering=Lowering(float_expr="{0} if {0} > {1} or {0} != {0} else {1}",
                                 ufunc="maximum"), symmetric=True, residuals="operands")
min_p = binary("min", _chooser(np.minimum, operator.lt),
               lambda g, ans, x, y: mul(g, _tie_split(y, x)),
               lambda g, ans, x, y: mul(g, _tie_split(x, y)),
               lowering=Lowering(float_expr="{0} if {0} < {1} or {0} != {0} else {1}",
                                 ufunc="minimum"), symmetric=True, residuals="operands")


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


def _integer_pow_pull(g, ans, x, *, y):
    # Also its push: an elementwise Jacobian is diagonal.
    if y == 0:
        return None
    return g if y == 1 else mul(g, mul(float(y), x if y == 2 else integer_pow(x, y - 1)))


integer_pow_p: Primitive = _register(Primitive(
    "integer_pow", _integer_pow, _ELEMENTWISE_AVAL, vjp_args=(_integer_pow_pull,),
    jvp=lambda primals, tangents, ans, *, y: None if tangents[0] is None else (
        _integer_pow_pull(tangents[0], ans, *primals, y=y)),
    batch=PerPrimitive(batch_elementwise), may_alias=False,
    lowering=Lowering(custom=_lower_integer_pow), layout="operands", residuals="operands"))

# ----- Elementwise transcendental functions -----------------------------------
# On scalars too these call NumPy: math.tanh, say, differs from np.tanh in the
# last bit for about one value in seven, and eager and jit must agree.

exp_p = unary("exp", np.exp, lambda g, ans, x: mul(g, ans), lowering=_ufunc("exp"), residuals="ans")
log_p = unary("log", np.log, lambda g, ans, x: div(g, x), lowering=_ufunc("log"),
              residuals="operands")
log1p_p = unary("log1p", np.log1p, lambda g, ans, x: div(g, add(x, 1.0)),
                lowering=_ufunc("log1p"), residuals="operands")
tanh_p = unary("tanh", np.tanh, lambda g, ans, x: mul(g, sub(1.0, mul(ans, ans))),
               lowering=_ufunc("tanh"), residuals="ans")
logistic_p = unary("logistic", _logistic,
                   lambda g, ans, x: mul(g, mul(ans, sub(1.0, ans))), residuals="ans")
sin_p = unary("sin", np.sin, lambda g, ans, x: mul(g, cos(x)), lowering=_ufunc("sin"),
              residuals="operands")
cos_p = unary("cos", np.cos, lambda g, ans, x: neg(mul(g, sin(x))), lowering=_ufunc("cos"),
              residuals="operands")
tan_p = unary("tan", np.tan, lambda g, ans, x: mul(g, add(1.0, mul(ans, ans))),
              lowering=_ufunc("tan"), residuals="ans")
expm1_p = unary("expm1", np.expm1, lambda g, ans, x: mul(g, add(ans, 1.0)),
                lowering=_ufunc("expm1"), residuals="ans")
# atan2(x, y) is the angle of the point (y, x): its pulls are y/r² and -x/r².
atan2_p = binary("atan2", np.arctan2,
                 lambda g, ans, x, y: mul(g, div(y, add(mul(x, x), mul(y, y)))),
                 lambda g, ans, x, y: neg(mul(g, div(x, add(mul(x, x), mul(y, y))))),
                 lowering=_ufunc("arctan2"), residuals="operands")


def _relu_into(w, ins, out):
    return f"_np.maximum({ins[0]}, 0, out={out})"


def _relu(x):
    if type(x) in _FLOAT_TYPES:
        return x if x > 0 or x != x else 0.0        # NaN passes through, as in maximum
    return np.maximum(x, 0)


# relu is a primitive, not where(x <= 0, 0, x), for speed: the forward pass is
# one maximum (several times cheaper than a select on arrays), and its pull
# masks at x > 0, so relu'(0) = 0 where maximum would split a tie in half.
relu_p = unary("relu", _relu, lambda g, ans, x: select_n(gt(x, 0.0), 0.0, g),
               lowering=Lowering(float_expr="{0} if {0} > 0 or {0} != {0} else 0.0",
                                 array_expr="_np.maximum({0}, 0)",
                                 into=lambda params, in_avals, out_aval: _relu_into,
                                 elementwise=True), residuals="operands")
sqrt_p = unary("sqrt", np.sqrt, lambda g, ans, x: div(g, mul(2.0, ans)),
               lowering=_ufunc("sqrt"), residuals="ans")
abs_p = unary("abs", np.abs, lambda g, ans, x: mul(g, sign(x)),
              lowering=Lowering(float_expr="abs({0})", ufunc="absolute"), residuals="operands")
# sign and floor, like the comparisons, are flat wherever they have a derivative.
# np.sign gives 0.0 for both zeros and passes NaN through.
sign_p = unary("sign", np.sign, None, differentiable=False, lowering=Lowering(
    float_expr="1.0 if {0} > 0 else -1.0 if {0} < 0 else 0.0 if {0} == 0 else {0}",
    ufunc="sign"))
floor_p = unary("floor", np.floor, None, differentiable=False, lowering=_ufunc("floor"))
ceil_p = unary("ceil", np.ceil, None, differentiable=False, lowering=_ufunc("ceil"))
trunc_p = unary("trunc", np.trunc, None, differentiable=False, lowering=_ufunc("trunc"))
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
# JAX's lax.rem is C's remainder, NumPy's fmod: the sign of x, x - q * y with q
# = trunc(x / y), NumPy's own to the bit. Its pull on y is -q, read off the
# result itself ((x - rem) / y, rounded: x / y may round across an integer).
rem_p = binary("rem", np.fmod, lambda g, ans, x, y: g,
               lambda g, ans, x, y: neg(mul(g, round_p.bind(div(sub(x, ans), y)))),
               lowering=_ufunc("fmod"))

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
    lowering=Lowering(custom=_lower_select_n), simplify=_simplify_select_n,
    layout="operands", residuals="operands"))


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


convert_element_type_p = _register(Primitive(
    "convert_element_type", _convert_impl,
    lambda x, *, new_dtype: ShapedArray(x.shape, new_dtype),
    vjp_args=(_convert_vjp,), jvp=_convert_jvp, batch=PerPrimitive(batch_elementwise),
    may_alias=False,                                 # astype copies
    lowering=Lowering(custom=_lower_convert), simplify=same, layout="operands", residuals="shapes"))

stop_gradient_p = _register(Primitive(
    "stop_gradient", lambda x: x, lambda x: ShapedArray(x.shape, x.dtype, x.weak_type),
    differentiable=False, batch=PerPrimitive(batch_elementwise),
    lowering=Lowering(float_expr="{0}"), layout="operands"))

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
    batch=PerPrimitive(batch_elementwise), layout="c", residuals="shapes"))


# ----- The functions rules are written with (thin binds) ------------------------
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


def convert_element_type(x, dtype):
    dtype = np.dtype(dtype)
    if not isinstance(x, Tracer) and dtype_of(x) == dtype:
        return x
    return convert_element_type_p.bind(x, new_dtype=dtype)
