"""Every primitive on special values, eagerly and under jit: the same bits.

A primitive's scalar semantics live in three places: NumPy (arrays, and the
eager ``jnp`` call), its ``impl``'s fast paths for Python floats, and the
Python expressions ``jit`` writes for float64 scalars. They must agree to
the bit on the values where implementations like to differ: signed zeros,
infinities, NaN, the smallest subnormal, the largest float, negatives.

For each elementwise primitive and every value (every pair, for a binary
one) the table compares, bit for bit: the eager call on Python floats, on
NumPy scalars and on arrays; ``jit`` on Python floats (its scalar fast path)
and on arrays; ``vmap``; the primal of ``vjp`` (the tape's forward pass);
and NumPy's own function where there is one.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import primitives as P
from test_primitive_rules import ELEMENTWISE_RULES

TINY = 5e-324                      # the smallest subnormal float64
HUGE = 1.7976931348623157e308      # the largest float64
SPECIAL = [0.0, -0.0, np.inf, -np.inf, np.nan, TINY, -TINY, HUGE, -HUGE, 1.0, -1.0, 0.5,
           -2.5, 3.0, 1e-300, 710.0, -745.5]
# Ordinary values too: math.tanh and np.tanh, say, differ in the last bit on
# about one value in seven.
ORDINARY = [float(v) for v in np.random.default_rng(0).normal(size=64) * 10]
PAIRS = list(itertools.product(SPECIAL, repeat=2))
INTS = [0, 1, -1, 7, -8, 2 ** 62, -(2 ** 62), 2 ** 63 - 1]
BOOLS = [False, True]


def bits(x: Any) -> tuple:
    """A value's dtype and bytes: what "bit-identical" compares."""
    a = np.asarray(x)
    return a.dtype.str, a.shape, a.tobytes()


def same_bits(got: Any, want: Any, where: str) -> None:
    assert bits(got) == bits(want), f"{where}: got {got!r}, want {want!r}"


def bind(name: str, **params: Any) -> Callable:
    prim = P.ALL_PRIMITIVES[name]
    return lambda *xs: prim.bind(*xs, **params)


# name, params, NumPy's function (None: the impl on arrays is the reference)
UNARY = [
    ("neg", {}, np.negative), ("exp", {}, np.exp), ("log", {}, np.log),
    ("log1p", {}, np.log1p), ("tanh", {}, np.tanh), ("sin", {}, np.sin), ("cos", {}, np.cos),
    ("sqrt", {}, np.sqrt), ("abs", {}, np.abs), ("sign", {}, np.sign), ("floor", {}, np.floor),
    ("ceil", {}, np.ceil), ("round", {}, np.round), ("logistic", {}, None),
    ("relu", {}, lambda x: np.maximum(x, 0.0)), ("stop_gradient", {}, lambda x: x),
    *(("integer_pow", {"y": y}, lambda x, y=y: np.power(x, float(y))) for y in
      (0, 1, 2, 3, -1, -2)),
]
BINARY = [
    ("add", np.add), ("sub", np.subtract), ("mul", np.multiply), ("div", np.divide),
    ("max", np.maximum), ("min", np.minimum), ("pow", np.power),
    ("floor_divide", np.floor_divide), ("remainder", np.remainder),
    ("eq", np.equal), ("ne", np.not_equal), ("lt", np.less), ("le", np.less_equal),
    ("gt", np.greater), ("ge", np.greater_equal),
]
# A gate listed only in the rule table is checked here too, its impl the reference.
_LISTED = {name for name, *_ in UNARY + BINARY}
UNARY += [(r.prim, {}, None) for r in ELEMENTWISE_RULES
          if r.arity == 1 and not r.label and r.prim not in _LISTED]
BINARY += [(r.prim, P.ALL_PRIMITIVES[r.prim].impl) for r in ELEMENTWISE_RULES
           if r.arity == 2 and not r.label and r.prim not in _LISTED]
INT_BINARY = [
    ("add", np.add), ("sub", np.subtract), ("mul", np.multiply), ("floor_divide",
                                                                  np.floor_divide),
    ("remainder", np.remainder), ("max", np.maximum), ("min", np.minimum),
    ("and", np.bitwise_and), ("or", np.bitwise_or), ("xor", np.bitwise_xor),
    ("eq", np.equal), ("lt", np.less),
]
BOOL_BINARY = [("add", np.add), ("mul", np.multiply), ("and", np.bitwise_and),
               ("or", np.bitwise_or), ("xor", np.bitwise_xor), ("max", np.maximum),
               ("eq", np.equal)]


def _python_ints(args: tuple) -> bool:
    return all(type(a) in (int, bool) for a in args)


def _run_everywhere(fn: Callable, scalars: list[tuple], reference: Callable | None,
                    label: str, differentiable_inputs: bool) -> None:
    """fn on each tuple of scalars, every way it can run, against NumPy's answer.

    NumPy is the reference for both shapes of call: on arrays, and on the
    scalars themselves (NumPy's own scalar and array paths can differ: its
    power with a scalar exponent 0.5 is a square root, with an array one it
    is pow(), and they differ on -0.0). Without a NumPy function, the eager
    call on arrays is the reference and scalars must match its elements.
    """
    columns = [np.array(col) for col in zip(*scalars)]
    with np.errstate(all="ignore"):
        on_arrays = fn(*columns)
        if reference is not None:
            same_bits(on_arrays, reference(*columns), f"{label}: eager on arrays vs NumPy")
        same_bits(nj.jit(fn)(*columns), on_arrays, f"{label}: jit on arrays")
        same_bits(nj.vmap(fn)(*columns), on_arrays, f"{label}: vmap")
        jitted = nj.jit(fn)
        for k, args in enumerate(scalars):
            want = (np.asarray(on_arrays)[k] if reference is None
                    else np.asarray(reference(*args)))
            where = f"{label}{args}"
            # Python ints and bools reach a primitive as NumPy scalars (eval_jaxpr
            # and jit convert them, as their int64/bool avals say); never raw.
            if not _python_ints(args):
                same_bits(fn(*args), want, f"{where}: eager on Python scalars")
            same_bits(fn(*(np.asarray(a)[()] for a in args)), want,
                      f"{where}: eager on NumPy scalars")
            same_bits(jitted(*args), want, f"{where}: jit on Python scalars")
            if differentiable_inputs:
                same_bits(nj.vjp(fn, *args)[0], want, f"{where}: vjp's forward pass")


@pytest.mark.parametrize("name,params,reference", UNARY,
                         ids=[f"{n}{p.get('y', '')}" for n, p, _ in UNARY])
def test_unary_primitive_on_special_values(name, params, reference):
    _run_everywhere(bind(name, **params), [(v,) for v in SPECIAL + ORDINARY], reference,
                    name, True)


@pytest.mark.parametrize("name,reference", BINARY, ids=[n for n, _ in BINARY])
def test_binary_primitive_on_special_values(name, reference):
    _run_everywhere(bind(name), PAIRS, reference, name,
                    P.ALL_PRIMITIVES[name].differentiable)


@pytest.mark.parametrize("name,reference", INT_BINARY, ids=[n for n, _ in INT_BINARY])
def test_integer_binary_primitive_on_edge_values(name, reference):
    pairs = list(itertools.product(INTS, repeat=2))
    _run_everywhere(bind(name), pairs, reference, f"int {name}", False)


MIXED = [("add", np.add), ("sub", np.subtract), ("mul", np.multiply), ("div", np.divide),
         ("max", np.maximum), ("eq", np.equal), ("lt", np.less), ("ge", np.greater_equal)]


@pytest.mark.parametrize("name,reference", MIXED, ids=[n for n, _ in MIXED])
def test_int_and_float_operands_together(name, reference):
    # jit's scalar fast path takes int64 beside float64 for + - * / only.
    pairs = [(i, f) for i in INTS + [2 ** 53 + 1] for f in SPECIAL]
    _run_everywhere(bind(name), pairs + [(f, i) for i, f in pairs], reference,
                    f"mixed {name}", False)


@pytest.mark.parametrize("name,reference", BOOL_BINARY, ids=[n for n, _ in BOOL_BINARY])
def test_boolean_binary_primitive(name, reference):
    pairs = list(itertools.product(BOOLS, repeat=2))
    _run_everywhere(bind(name), pairs, reference, f"bool {name}", False)


@pytest.mark.parametrize("name,reference", [("not", np.invert), ("neg", np.negative),
                                            ("abs", np.abs), ("sign", np.sign)])
def test_integer_unary_primitive(name, reference):
    _run_everywhere(bind(name), [(v,) for v in INTS], reference, f"int {name}", False)


@pytest.mark.parametrize("name,reference", INT_BINARY + BOOL_BINARY,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(INT_BINARY + BOOL_BINARY)])
def test_eval_jaxpr_runs_python_ints_and_bools_as_numpy_scalars(name, reference):
    values = BOOLS if (name, reference) in BOOL_BINARY else INTS
    closed = nj.make_jaxpr(bind(name))(values[0], values[0])
    for x, y in itertools.product(values, repeat=2):
        with np.errstate(all="ignore"):
            same_bits(nj.eval_jaxpr(closed.jaxpr, closed.consts, x, y)[0], reference(
                np.asarray(x)[()], np.asarray(y)[()]), f"eval_jaxpr {name}({x}, {y})")


def test_select_n_on_special_values():
    cases = [(w, a, b) for w in BOOLS for a, b in PAIRS[::7]]
    _run_everywhere(bind("select_n"), cases,
                    lambda w, a, b: np.where(w, b, a), "select_n", False)
    # The keep-or-zero select of relu's pull (a bit mask, not a where) on arrays:
    values = np.array(SPECIAL)
    for mask in (values > 0, ~(values > 0)):
        for which, cases in [(mask, (0.0, values)), (mask, (values, 0.0))]:
            same_bits(P.select_n_p.bind(which, *cases), np.where(which, cases[1], cases[0]),
                      "select_n keep-or-zero")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_convert_element_type_on_special_values(dtype):
    _run_everywhere(bind("convert_element_type", new_dtype=np.dtype(dtype)),
                    [(v,) for v in SPECIAL], lambda x: np.asarray(x).astype(dtype), f"to {dtype}",
                    True)


@pytest.mark.parametrize("dtype", [np.float32])
def test_float32_arithmetic_stays_float32_and_bit_identical(dtype):
    with np.errstate(over="ignore"):
        values = np.array(SPECIAL, dtype)          # HUGE becomes inf in float32
    for name, reference in BINARY:
        fn = bind(name)
        with np.errstate(all="ignore"):
            x, y = np.meshgrid(values, values)
            want = reference(x, y)
            same_bits(fn(x, y), want, f"f32 {name} eager")
            same_bits(nj.jit(fn)(x, y), want, f"f32 {name} jit")
            for a, b in [(x[0, 1], y[1, 0]), (x[3, 4], y[4, 2])]:
                same_bits(nj.jit(fn)(a, b), reference(a, b), f"f32 scalar {name} jit")


STRUCTURAL = [
    ("reduce_sum", lambda x: jnp.sum(x, axis=1), lambda x: np.sum(x, axis=1)),
    ("reduce_max", lambda x: jnp.max(x, axis=0), lambda x: np.max(x, axis=0)),
    ("reduce_min", lambda x: jnp.min(x), np.min),
    ("reduce_prod", lambda x: jnp.prod(x, axis=1), lambda x: np.prod(x, axis=1)),
    ("argmax", lambda x: jnp.argmax(x, axis=1), lambda x: np.argmax(x, axis=1)),
    ("argmin", lambda x: jnp.argmin(x, axis=0), lambda x: np.argmin(x, axis=0)),
    ("cumsum", lambda x: jnp.cumsum(x, axis=1), lambda x: np.cumsum(x, axis=1)),
    ("dot_general", lambda x: x @ x.T, lambda x: x @ x.T),
    ("dot_general-vector", lambda x: jnp.dot(x[0], x[1]), lambda x: np.dot(x[0], x[1])),
    ("gather", lambda x: x[np.array([1, 0]), 2:], lambda x: x[np.array([1, 0]), 2:]),
    ("scatter-add", lambda x: jnp.at(x)[0].add(x[1]),
     lambda x: np.concatenate([x[:1] + x[1:2], x[1:]])),
    ("transpose", lambda x: x.T, lambda x: x.T),
    ("concatenate", lambda x: jnp.concatenate([x, -x], axis=1),
     lambda x: np.concatenate([x, -x], axis=1)),
    ("where", lambda x: jnp.where(x > 0, x, -x), lambda x: np.where(x > 0, x, -x)),
]


@pytest.mark.parametrize("name,fn,reference", STRUCTURAL, ids=[s[0] for s in STRUCTURAL])
@pytest.mark.parametrize("order", ["as-listed", "reversed"])
def test_structural_primitives_on_special_values(name, fn, reference, order):
    values = SPECIAL[:16] if order == "as-listed" else SPECIAL[:16][::-1]
    x = np.array(values).reshape(4, 4)
    with np.errstate(all="ignore"):
        want = reference(x)
        same_bits(fn(x), want, f"{name} eager")
        same_bits(nj.jit(fn)(x), want, f"{name} jit")
        same_bits(nj.vjp(fn, x)[0], want, f"{name} vjp forward")
