"""Every primitive's rules, checked from tables.

``GRAD_RULES`` has one row per differentiable primitive (often several, one
per representative case): the primitive's name, a function that applies it,
its number of array operands, an input domain that keeps away from poles and
kinks, and a tolerance where float64 central differences need one.
Elementwise rows are crossed with the shape groups (every pair of them that
broadcasts, for binary gates); structural rows name their operand shapes.
Each case runs ``check_grads(order=2, modes=("fwd", "rev"))``.

``FLAT_RULES`` has the primitives with no derivative (comparisons, sign,
argmax/argmin, stop_gradient): their values are checked against NumPy and
their gradient contribution against zero. ``RANDOM_RULES`` has the random
primitives, whose operand is a key: the eager call is their reference.

All three tables (and a few dtype rows) also feed the ``abstract_eval`` check:
the staged jaxpr has the eager result's shape and dtype and evaluates to the
eager value. Kink conventions and shape errors are pinned at the end.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import lax
from nanojax.core import Literal
from nanojax.scipy import linalg as scipy_linalg
from nanojax.primitives import ALL_PRIMITIVES

SHAPE_GROUPS = [(), (3,), (3, 1), (1, 4), (3, 4)]


def _broadcasts(a: tuple, b: tuple) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


BROADCAST_PAIRS = [(a, b) for a, b in itertools.product(SHAPE_GROUPS, repeat=2)
                   if _broadcasts(a, b)]


# ----- Input domains: (rng, operand shapes) -> operands -------------------------

def _leaf(a: np.ndarray) -> Any:
    # A 0-d draw becomes a NumPy scalar, the type a user's scalar arrives as.
    return a[()] if a.ndim == 0 else a


def normal(rng, shape):
    return rng.standard_normal(shape)


def positive(rng, shape):
    """Away from 0 and below: for log, sqrt, a pow base, a negative power."""
    return rng.uniform(0.5, 2.0, shape)


def above_minus_one(rng, shape):
    return rng.uniform(-0.5, 2.0, shape)


def nonzero(rng, shape):
    """Either sign, at least 0.3 from the kink (abs) or pole (a divisor) at 0."""
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.3, 2.0, shape)


def small_integers(rng, shape):
    """Integer-valued floats, so comparisons meet ties and sign meets zero."""
    return rng.integers(-2, 3, shape).astype(np.float64)


def far_from_multiples(rng, shape):
    """A divisor of either sign, 1.5 to 2.0 in size: x / y for |x| <= 1.3 stays off
    the integers, where x % y jumps."""
    return rng.choice([-1.0, 1.0], shape) * rng.uniform(1.5, 2.0, shape)


def each(*samplers: Callable) -> Callable:
    """A domain drawing the i-th operand from the i-th sampler."""
    def draw(rng, shapes):
        assert len(samplers) == len(shapes)
        return [_leaf(np.asarray(s(rng, shape))) for s, shape in zip(samplers, shapes)]
    return draw


def all_normal(rng, shapes):
    return [_leaf(np.asarray(normal(rng, s))) for s in shapes]


def apart(rng, shapes, gap: float = 0.1):
    """Normal operands whose broadcast values differ by ``gap`` everywhere: no ties."""
    while True:
        args = all_normal(rng, shapes)
        if np.min(np.abs(np.subtract(*args))) > gap:
            return args


def distinct(rng, shapes):
    """One operand whose entries are at least 0.2 apart: no ties in max/min."""
    (shape,) = shapes
    n = int(np.prod(shape))
    spaced = (rng.permutation(n) - n / 2) * 0.3 + rng.uniform(0.0, 0.1, n)
    return [_leaf(spaced.reshape(shape))]


def draw_args(domain: Callable, shapes: tuple) -> list:
    return domain(np.random.default_rng(0), shapes)


# ----- The table of differentiable rules -----------------------------------------

@dataclasses.dataclass(frozen=True)
class Rule:
    """One row: how to apply ``prim`` and where its derivative is smooth.

    ``in_shapes`` None means elementwise: crossed with ``SHAPE_GROUPS``.
    """

    prim: str
    fn: Callable
    arity: int
    domain: Callable = all_normal
    in_shapes: tuple | None = None
    label: str = ""
    tol: float | None = None
    eps: float | None = None
    modes: tuple = ("fwd", "rev")


def bind(name: str, **params: Any) -> Callable:
    """Apply primitive ``name`` with ``params`` directly, as a rule sees it."""
    prim = ALL_PRIMITIVES[name]
    return lambda *xs: prim.bind(*xs, **params)


def unary(prim, fn, domain=normal, **kw):
    return Rule(prim, fn, 1, each(domain), **kw)


def binary(prim, fn, domain=all_normal, **kw):
    return Rule(prim, fn, 2, domain, **kw)


def case(prim, label, fn, *in_shapes, domain=all_normal, **kw):
    return Rule(prim, fn, len(in_shapes), domain, tuple(in_shapes), label, **kw)


ELEMENTWISE_RULES = [
    binary("add", jnp.add),
    binary("sub", jnp.subtract),
    binary("mul", jnp.multiply),
    binary("div", jnp.divide, each(normal, nonzero)),
    binary("max", jnp.maximum, apart),
    binary("min", jnp.minimum, apart),
    binary("pow", jnp.power, each(positive, normal)),
    unary("neg", jnp.negative),
    unary("exp", jnp.exp),
    unary("log", jnp.log, positive),
    unary("log1p", jnp.log1p, above_minus_one),
    unary("tanh", jnp.tanh),
    unary("logistic", nj.nn.sigmoid),
    unary("relu", nj.nn.relu, nonzero),
    unary("sin", jnp.sin),
    unary("cos", jnp.cos),
    unary("tan", jnp.tan),
    unary("expm1", jnp.expm1),
    binary("atan2", jnp.arctan2),
    unary("sqrt", jnp.sqrt, positive),
    unary("abs", jnp.abs, nonzero),
    unary("integer_pow", lambda x: jnp.power(x, 3), label="y=3"),
    binary("remainder", jnp.remainder, each(nonzero, far_from_multiples)),
    binary("rem", jnp.fmod, each(nonzero, far_from_multiples)),
    unary("contiguous", lambda x: jnp.ravel(x.T) if jnp.ndim(x) else jnp.ravel(x)),
    # One operand a Python scalar: a weak-typed literal in the circuit.
    unary("add", lambda x: x + 1.5, label="python-scalar"),
    unary("sub", lambda x: 1.5 - x, label="python-scalar"),
    unary("mul", lambda x: 2.5 * x, label="python-scalar"),
    unary("div", lambda x: 1.0 / x, nonzero, label="python-scalar"),
    unary("max", lambda x: jnp.maximum(x, 0.0), nonzero, label="python-scalar"),
    unary("min", lambda x: jnp.minimum(0.0, x), nonzero, label="python-scalar"),
    unary("pow", lambda x: x ** 0.5, positive, label="python-exponent"),
    unary("pow", lambda x: 2.0 ** x, label="python-base"),
]

_PRED = np.array([[True, False, True, True], [False, False, True, False],
                  [True, True, False, False]])
_WHICH = np.array([[0, 1, 2, 1], [2, 2, 0, 1], [1, 0, 0, 2]])
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_REPEATED = np.array([0, 2, 0])


def _getitem(idx):
    return lambda x: x[idx]


def _at_add(idx):
    return lambda x, u: jnp.at(x)[idx].add(u)


def _at_set(idx):
    return lambda x, u: jnp.at(x)[idx].set(u)


def _select_by(which):
    return lambda *cases: ALL_PRIMITIVES["select_n"].bind(which, *cases)


def _dot(lc, rc, lb=(), rb=()):
    return bind("dot_general", dimension_numbers=((lc, rc), (lb, rb)))


STRUCTURAL_RULES = [
    *(case("integer_pow", f"y={y}", bind("integer_pow", y=y), (3, 4), domain=each(positive))
      for y in (0, 1, 2, 3, -1)),
    *(case(name, f"axes={axes}", bind(name, axes=axes), shape, domain=distinct)
      for name in ("reduce_sum", "reduce_max", "reduce_min", "reduce_prod")
      for shape, axes in [((3, 4), (0,)), ((3, 4), (1,)), ((3, 4), (0, 1)),
                          ((2, 3, 4), (0, 2)), ((3, 4), ())]),
    *(case(name, "empty", bind(name, axes=(0,)), (0, 3)) for name in ("reduce_sum", "reduce_prod")),
    *(case("cumsum", f"axis={axis},reverse={rev}", bind("cumsum", axis=axis, reverse=rev), shape)
      for shape, axis in [((5,), 0), ((3, 4), 0), ((3, 4), 1)] for rev in (False, True)),
    case("reduce_prod", "one-zero", lambda x: jnp.prod(x * np.array([True, False, True]), axis=1),
         (2, 3)),
    case("reduce_prod", "two-zeros", lambda x: jnp.prod(x * np.array([False, True, False]), axis=1),
         (2, 3)),
    case("broadcast_in_dim", "vector-to-rows",
         bind("broadcast_in_dim", shape=(2, 3), broadcast_dimensions=(1,)), (3,)),
    case("broadcast_in_dim", "vector-to-columns",
         bind("broadcast_in_dim", shape=(4, 2), broadcast_dimensions=(0,)), (4,)),
    case("broadcast_in_dim", "size-1-axis",
         bind("broadcast_in_dim", shape=(3, 4), broadcast_dimensions=(0, 1)), (3, 1)),
    case("broadcast_in_dim", "into-the-middle",
         bind("broadcast_in_dim", shape=(2, 3, 4), broadcast_dimensions=(1,)), (3,)),
    case("broadcast_in_dim", "scalar",
         bind("broadcast_in_dim", shape=(2, 3), broadcast_dimensions=()), ()),
    case("reshape", "flatten", bind("reshape", new_sizes=(12,)), (3, 4)),
    case("reshape", "regroup", bind("reshape", new_sizes=(4, 6)), (2, 3, 4)),
    case("reshape", "scalar-to-1x1", bind("reshape", new_sizes=(1, 1)), ()),
    case("transpose", "scalar", bind("transpose", permutation=()), ()),
    case("transpose", "matrix", bind("transpose", permutation=(1, 0)), (3, 4)),
    case("transpose", "cycle", bind("transpose", permutation=(2, 0, 1)), (2, 3, 4)),
    case("transpose", "inverse-cycle", bind("transpose", permutation=(1, 2, 0)), (2, 3, 4)),
    case("squeeze", "last", bind("squeeze", dimensions=(1,)), (3, 1)),
    case("squeeze", "first-and-last", bind("squeeze", dimensions=(0, 2)), (1, 3, 1)),
    case("squeeze", "to-scalar", bind("squeeze", dimensions=(0,)), (1,)),
    case("concatenate", "rows", lambda a, b: jnp.concatenate([a, b], axis=0), (2, 3), (4, 3)),
    case("concatenate", "columns", lambda a, b: jnp.concatenate([a, b], axis=1), (3, 1), (3, 4)),
    case("concatenate", "with-empty", lambda a, b: jnp.concatenate([a, b]), (0,), (2,)),
    case("concatenate", "three", lambda a, b, c: jnp.concatenate([a, b, c]), (2,), (3,), (1,)),
    case("dot_general", "matmul", _dot((1,), (0,)), (3, 4), (4, 2)),
    case("dot_general", "matvec", _dot((1,), (0,)), (3, 4), (4,)),
    case("dot_general", "inner", _dot((0,), (0,)), (4,), (4,)),
    case("dot_general", "outer", _dot((), ()), (3,), (4,)),
    case("dot_general", "scalar-times-vector", _dot((), ()), (), (3,)),
    case("dot_general", "contract-leading", _dot((0,), (0,)), (4, 3), (4, 2)),
    case("dot_general", "two-contractions", _dot((1, 2), (0, 1)), (2, 3, 4), (3, 4, 5)),
    case("dot_general", "crossed-contractions", _dot((2, 1), (0, 1)), (2, 3, 4), (4, 3, 5)),
    case("dot_general", "batch", _dot((2,), (1,), (0,), (0,)), (2, 3, 4), (2, 4, 5)),
    case("dot_general", "batch-not-leading", _dot((2,), (0,), (1,), (2,)), (3, 2, 4), (4, 5, 2)),
    case("dot_general", "batch-outer", _dot((), (), (0,), (0,)), (5, 3), (5, 2)),
    case("dot_general", "batch-outer-not-leading", _dot((), (), (1,), (2,)), (3, 4, 2), (2, 5, 4)),
    case("gather", "int", _getitem(1), (3, 4)),
    case("gather", "negative-int", _getitem((-1, 2)), (3, 4)),
    case("gather", "slices", _getitem((slice(0, 2), slice(None, None, -2))), (3, 4)),
    case("gather", "none-ellipsis", _getitem((None, Ellipsis, 1)), (2, 3, 4)),
    case("gather", "int-array", _getitem(np.array([2, 0])), (3, 4)),
    case("gather", "repeated-indices", _getitem(_REPEATED), (3, 4)),
    case("gather", "paired-arrays", _getitem((np.array([0, 2, 2]), np.array([1, 3, 1]))), (3, 4)),
    case("gather", "negative-int-array", _getitem(np.array([-1, 0])), (3, 4)),
    case("gather", "bool-mask", _getitem(np.array([True, False, True])), (3, 4)),
    case("gather", "bool-mask-2d", _getitem(_PRED), (3, 4)),
    case("gather", "slice-and-2d-array", _getitem((slice(None), np.array([[0, 1], [3, 3]]))),
         (3, 4)),
    case("scatter-add", "int", _at_add(1), (3, 4), (4,)),
    case("scatter-add", "slice-broadcast-update", _at_add(slice(0, 2)), (3, 4), (4,)),
    case("scatter-add", "repeated-indices", _at_add(_REPEATED), (3, 4), (3, 4)),
    case("scatter-add", "paired-arrays", _at_add((np.array([0, 1, 0]), np.array([2, 2, 2]))),
         (3, 4), ()),
    case("scatter-add", "ellipsis", _at_add((Ellipsis, 1)), (3, 4), (3,)),
    case("scatter-add", "none", _at_add((None, 1)), (3, 4), (1, 4)),
    case("scatter", "int", _at_set(1), (3, 4), (4,)),
    case("scatter", "negative-step", _at_set(slice(None, None, -2)), (3, 4), (2, 4)),
    case("scatter", "slices", _at_set((slice(None), slice(1, 3))), (3, 4), (3, 2)),
    case("scatter", "int-array", _at_set(np.array([2, 0])), (3, 4), (2, 4)),
    # Repeated positions: the last update is kept, and only it gets a pull.
    case("scatter", "repeated-indices", _at_set(_REPEATED), (3, 4), (3, 4)),
    case("scatter", "scalar-update", _at_set((0, np.array([1, 3]))), (3, 4), ()),
    case("select_n", "bool", lambda x, y: jnp.where(_PRED, x, y), (3, 4), (3, 4)),
    case("select_n", "bool-broadcast", lambda x, y: jnp.where(_PRED, x, y), (3, 1), ()),
    case("select_n", "int", _select_by(_WHICH), (3, 4), (3, 4), (3, 4)),
    case("select_n", "int-broadcast", _select_by(_WHICH), (3, 1), (), (1, 4)),
    # float32 rounding (~6e-8) over a step of 1e-3 leaves ~1e-4 of noise.
    case("convert_element_type", "f64-f32-f64",
         lambda x: jnp.astype(jnp.sin(jnp.astype(x, _F32)), _F64), (3, 4), tol=1e-3, eps=1e-3),
    case("convert_element_type", "f64-to-f64", bind("convert_element_type", new_dtype=_F64),
         (3,)),
]



# ----- Control flow: gates carrying jaxprs (nanojax.control_flow) -----------------

def _joined(*outs):
    """Every output of a gate as one flat array, as the checks below take one result."""
    return jnp.concatenate([jnp.ravel(o) for o in nj.tree_util.tree_leaves(outs)])


def _rnn(w, h, xs, reverse=False):
    def step(c, x):
        c = jnp.tanh(w @ c + x)
        return c, jnp.sin(c) * c
    return _joined(lax.scan(step, h, xs, reverse=reverse))


def _pytree_scan(x, xs):
    # A dict carry with an integer counter, a tuple of ys, and an x that is a pair.
    def step(c, pair):
        a, b = pair
        # (The counter is an int64, as eagerly: times a float32 it would widen.)
        new = {"n": c["n"] + 1, "v": c["v"] * a + b * jnp.astype(c["n"], b.dtype)}
        return new, (new["v"], a * b)
    carry, ys = lax.scan(step, {"n": 0, "v": x}, xs)
    return _joined(carry["v"], ys)


def _while_doubling(x):
    # The trip count depends on the integer counter only: smooth in x.
    return lax.while_loop(lambda c: c[1] < 3, lambda c: (jnp.sin(c[0]) * 2.0, c[1] + 1),
                          (x, 0))[0]


def _branches(x, y):
    return [lambda a, b: jnp.sin(a) * b, lambda a, b: a * a - b, lambda a, b: jnp.exp(a + b)]


CONTROL_FLOW_RULES = [
    *(case("cond", f"index={i}", lambda x, y, i=i: lax.switch(i, _branches(x, y), x, y),
           (3, 4), (3, 4)) for i in range(3)),
    case("cond", "bool-pred", lambda x, y: lax.cond(True, *_branches(x, y)[:2], x, y), (3,), ()),
    case("cond", "traced-pred-closure",
         lambda x, y: lax.cond(jnp.sum(x * x) > 100.0, lambda: x * y, lambda: jnp.tanh(x) + y),
         (3,), (3,)),
    case("scan", "rnn", _rnn, (3, 3), (3,), (4, 3), domain=each(lambda r, s: 0.5 * normal(r, s),
                                                                normal, normal)),
    case("scan", "reverse", lambda w, h, xs: _rnn(w, h, xs, reverse=True), (2, 2), (2,), (3, 2)),
    case("scan", "no-xs", lambda a, h: _joined(lax.scan(
        lambda c, _: (c * a + jnp.sin(c), c), h, None, length=3)), (3,), (3,)),
    case("scan", "pytree-int-counter", _pytree_scan, (2,), (3, 2)),
    case("scan", "fori-static", lambda x: lax.fori_loop(
        1, 4, lambda i, c: c * jnp.cos(c) + jnp.astype(i, c.dtype), x), (2, 2)),
    case("scan", "empty", lambda h, xs: _rnn(jnp.eye(2, dtype=h.dtype), h, xs), (2,), (0, 2)),
    Rule("while", _while_doubling, 1, each(normal), ((3,),), "forward-only", modes=("fwd",)),
]

# ----- Linear algebra: well-conditioned inputs, distinct spectra ----------------------

def spd(rng, shape):
    """Symmetric positive definite, eigenvalues apart (cholesky, eigh)."""
    x = rng.standard_normal(shape)
    return x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])


def conditioned(rng, shape):
    """A square matrix well away from singular (inv, solve, det, lu, triangular solves)."""
    return rng.standard_normal(shape) + 3.0 * np.eye(shape[-1])


def _tri_solve(**params):
    return lambda a, b: nj.lax.linalg.triangular_solve(a, b, **params)


def _squared(fn):
    """``fn``'s result squared: eigen- and singular vectors up to sign, compared sign-free."""
    return lambda a: fn(a) ** 2


LINALG_RULES = [
    case("cholesky", "4x4", jnp.linalg.cholesky, (4, 4), domain=each(spd)),
    case("cholesky", "stack", jnp.linalg.cholesky, (2, 3, 3), domain=each(spd)),
    case("cholesky", "lower-triangle", lambda a: scipy_linalg.cholesky(a, lower=True),
         (3, 3), domain=each(spd)),
    *(case("triangular_solve", label, _tri_solve(**params), (4, 4), b_shape,
           domain=each(conditioned, normal))
      for label, params, b_shape in [
          ("left-lower", dict(left_side=True, lower=True), (4, 2)),
          ("left-upper-transposed", dict(left_side=True, transpose_a=True), (4, 2)),
          ("right-lower-unit", dict(lower=True, unit_diagonal=True), (3, 4)),
          ("right-upper-transposed-unit", dict(transpose_a=True, unit_diagonal=True),
           (3, 4))]),
    case("triangular_solve", "stack", _tri_solve(left_side=True, lower=True), (2, 3, 3),
         (2, 3, 2), domain=each(conditioned, normal)),
    case("inv", "4x4", jnp.linalg.inv, (4, 4), domain=each(conditioned)),
    case("inv", "stack", jnp.linalg.inv, (2, 3, 3), domain=each(conditioned)),
    case("solve", "matrix", jnp.linalg.solve, (4, 4), (4, 2), domain=each(conditioned, normal)),
    case("solve", "vector-stack", jnp.linalg.solve, (2, 3, 3), (3,),
         domain=each(conditioned, normal)),
    case("det", "4x4", jnp.linalg.det, (4, 4), domain=each(conditioned)),
    case("det", "stack", jnp.linalg.det, (2, 3, 3), domain=each(conditioned)),
    case("slogdet", "logabsdet", lambda a: jnp.linalg.slogdet(a).logabsdet, (2, 3, 3),
         domain=each(conditioned)),
    case("eigh", "eigenvalues", jnp.linalg.eigvalsh, (4, 4), domain=each(spd)),
    case("eigh", "eigenvectors", _squared(lambda a: jnp.linalg.eigh(a).eigenvectors), (4, 4),
         domain=each(spd)),
    case("eigh", "stack", _squared(lambda a: jnp.linalg.eigh(a).eigenvectors), (2, 3, 3),
         domain=each(spd)),
    case("svd", "values", jnp.linalg.svdvals, (4, 3)),
    case("svd", "values-stack", jnp.linalg.svdvals, (2, 3, 4)),
    *(case("svd", f"{part}-{'x'.join(map(str, shape))}",
           _squared(lambda a, i=i: jnp.linalg.svd(a, full_matrices=False)[i]), shape)
      for shape in [(4, 4), (5, 3), (3, 5)] for i, part in [(0, "u"), (2, "vh")]),
    case("svd", "s-with-uv", lambda a: jnp.linalg.svd(a, full_matrices=False).S, (4, 3)),
    case("svd", "square-full", _squared(lambda a: jnp.linalg.svd(a).U), (3, 3)),
    *(case("qr", f"{part}-{'x'.join(map(str, shape))}", lambda a, i=i: jnp.linalg.qr(a)[i],
           shape) for shape in [(4, 4), (5, 3), (2, 4, 3)] for i, part in [(0, "q"), (1, "r")]),
    case("qr", "complete-square", lambda a: jnp.linalg.qr(a, mode="complete").Q, (3, 3)),
    *(case("lu", "x".join(map(str, shape)), lambda a: nj.lax.linalg.lu(a)[0], shape,
           domain=each(conditioned if shape[-1] == shape[-2] else normal))
      for shape in [(4, 4), (5, 3), (3, 5), (2, 3, 3)]),
]

# ----- Cumulative reductions and special functions (own list, for easy merges) ------

def _between(lo: float, hi: float) -> Callable:
    return lambda rng, shape: rng.uniform(lo, hi, shape)


_ZEROS_AT = np.array([[1, 0, 1, 1], [1, 1, 0, 0], [0, 1, 1, 1]], dtype=bool)

CUMULATIVE_AND_SPECIAL_RULES = [
    *(case(name, f"axis={axis},reverse={rev}", bind(name, axis=axis, reverse=rev), shape,
           domain=distinct)
      for name in ("cumprod", "cummax", "cummin", "cumlogsumexp")
      for shape, axis in [((5,), 0), ((3, 4), 0), ((3, 4), 1)] for rev in (False, True)),
    # Zeros in a running product: derivatives through the scan, no division.
    *(case("cumprod", f"zeros,reverse={rev}",
           lambda x, rev=rev: nj.lax.cumprod(x * _ZEROS_AT, axis=1, reverse=rev), (3, 4))
      for rev in (False, True)),
    case("cumlogsumexp", "large", lambda x: nj.lax.cumlogsumexp(x + 800.0), (6,)),
    unary("erf", nj.lax.erf),
    unary("erfc", nj.lax.erfc),
    unary("erfc", lambda x: nj.lax.erfc(x + 3.0), label="tail"),
    unary("erf_inv", nj.lax.erf_inv, _between(-0.9, 0.9)),
    unary("lgamma", nj.lax.lgamma, _between(0.3, 6.0)),
    unary("lgamma", nj.lax.lgamma, _between(-0.8, -0.2), label="negative"),
    unary("digamma", nj.lax.digamma, _between(0.3, 12.0)),
    unary("digamma", nj.lax.digamma, _between(-1.8, -1.2), label="negative"),
    unary("polygamma", lambda x: nj.lax.polygamma(1.0, x), _between(0.5, 3.0), label="m=1"),
    unary("polygamma", lambda x: nj.lax.polygamma(2.0, x), _between(0.5, 3.0), label="m=2"),
    unary("polygamma", lambda x: nj.lax.polygamma(1.0, x), _between(-0.8, -0.2),
          label="m=1-negative"),
]

# ----- Convolutions and windowed reductions (the conv branch's rows) ----------------

def _conv(strides, padding, **kw):
    return lambda x, w: nj.lax.conv_general_dilated(x, w, strides, padding, **kw)


def _window(kind, window, strides, padding, **kw):
    init, op = {"sum": (0.0, nj.lax.add), "max": (-np.inf, nj.lax.max),
                "min": (np.inf, nj.lax.min)}[kind]
    return lambda x: nj.lax.reduce_window(x, init, op, window, strides, padding, **kw)


CONV_RULES = [
    case("conv_general_dilated", "1d-valid", _conv((1,), "VALID"), (2, 2, 5), (3, 2, 2)),
    case("conv_general_dilated", "2d-strides-same", _conv((2, 1), "SAME"), (1, 2, 4, 3),
         (2, 2, 3, 2)),
    case("conv_general_dilated", "2d-dilations-negative-padding",
         _conv((1, 2), ((1, -1), (2, 0)), lhs_dilation=(2, 1), rhs_dilation=(1, 2)),
         (1, 1, 3, 4), (2, 1, 2, 2)),
    case("conv_general_dilated", "nhwc-groups",
         _conv((1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"),
               feature_group_count=2), (1, 3, 3, 4), (2, 2, 2, 4)),
    case("conv_general_dilated", "3d", _conv((1, 1, 2), ((0, 0), (1, 0), (0, 1))),
         (1, 1, 2, 3, 3), (2, 1, 2, 2, 2)),
    *(case(f"reduce_window_{kind}", label, fn, shape, domain=distinct)
      for kind in ("sum", "max", "min")
      for label, shape, fn in [
          ("2x2-pool", (4, 4), _window(kind, (2, 2), (2, 2), "VALID")),
          ("same-overlapping", (3, 5), _window(kind, (2, 3), (1, 2), "SAME")),
          ("dilations-padding", (4, 3),
           _window(kind, (2, 2), (1, 1), ((1, 0), (2, -1)), base_dilation=(2, 1),
                   window_dilation=(1, 2)))]),
]

# ----- Collectives over a named axis (the collectives branch's rows) ----------------
# A collective means something only under a vmap that names its axis, so each
# row applies it under one: directly (the named batch rule, differentiated
# from outside), and with grad or jvp inside the vmap (the collective's own
# vjp and jvp rules, differentiated again from outside).

def _named(fn):
    return nj.vmap(fn, axis_name="i")


def _collective_rows(prim, label, fn, shape, **kw):
    def inside_grad(x):
        return nj.grad(lambda v: jnp.sum(jnp.sin(fn(v)) * jnp.cos(jnp.sum(v))))(x)

    def inside_jvp(x):
        return nj.jvp(fn, (x,), (jnp.cos(x),))[1] * jnp.sum(x)
    return [case(prim, f"{label}-vmap", _named(fn), shape, **kw),
            case(prim, f"{label}-grad-inside", _named(inside_grad), shape, **kw),
            case(prim, f"{label}-jvp-inside", _named(inside_jvp), shape, **kw)]


COLLECTIVE_RULES = [
    *_collective_rows("psum", "", lambda x: lax.psum(x, "i") * x, (4, 3)),
    *_collective_rows("pmax", "", lambda x: lax.pmax(x, "i") * x, (4, 3), domain=distinct),
    *_collective_rows("pmin", "", lambda x: lax.pmin(x, "i") * x, (4, 3), domain=distinct),
    *_collective_rows("all_gather", "axis=1", lambda x: lax.all_gather(x, "i", axis=1), (4, 3)),
    *_collective_rows("all_gather", "tiled", lambda x: lax.all_gather(x, "i", tiled=True),
                      (4, 3)),
    *_collective_rows("psum_scatter", "", lambda x: lax.psum_scatter(x, "i") * x[0], (4, 4)),
    *_collective_rows("psum_scatter", "tiled",
                      lambda x: lax.psum_scatter(x, "i", scatter_dimension=1, tiled=True),
                      (4, 2, 8)),
    *_collective_rows("ppermute", "", lambda x: lax.ppermute(x, "i", [(0, 2), (2, 3), (3, 0)])
                      * x, (4, 3)),
    *_collective_rows("all_to_all", "", lambda x: lax.all_to_all(x, "i", 0, 1), (4, 4, 3)),
    *_collective_rows("all_to_all", "tiled", lambda x: lax.all_to_all(x, "i", 1, 0, tiled=True),
                      (4, 3, 8)),
]
COLLECTIVE_PRIMITIVES = {"psum", "pmax", "pmin", "all_gather", "psum_scatter", "ppermute",
                         "all_to_all", "axis_index"}



# ----- checkpoint: a gate carrying its function's jaxpr, rerun by its vjp ---------------

def _remat_layer(w, x):
    return nj.checkpoint(lambda w, x: jnp.tanh(w @ x) * x)(w, x)


def _remat_closure(w, x):
    # The closed-over w (a tracer of the enclosing transformation) becomes an operand.
    return nj.checkpoint(lambda x: jnp.sin(w * x) + x ** 2)(x)


CHECKPOINT_RULES = [
    case("checkpoint", "tanh-layer", _remat_layer, (3, 3), (3,)),
    case("checkpoint", "closure", _remat_closure, (3,), (3,)),
    case("checkpoint", "static", lambda x: nj.checkpoint(
        lambda x, n: jnp.cos(x) ** n, static_argnums=1)(x, 3), (2, 2)),
]



# ----- Inverse and hyperbolic functions, cbrt (the jnp-maths branch's rows) -------------

TRANSCENDENTAL_RULES = [
    unary("asin", jnp.arcsin, _between(-0.9, 0.9)),
    unary("acos", jnp.arccos, _between(-0.9, 0.9)),
    unary("atan", jnp.arctan),
    unary("sinh", jnp.sinh),
    unary("cosh", jnp.cosh),
    unary("asinh", jnp.arcsinh),
    unary("acosh", jnp.arccosh, _between(1.2, 3.0)),
    unary("atanh", jnp.arctanh, _between(-0.9, 0.9)),
    unary("cbrt", jnp.cbrt, nonzero),
]

# ----- Bessel i0e/i1e and the incomplete gamma functions (the scipy-stats branch's rows) --

BESSEL_GAMMA_RULES = [
    unary("bessel_i0e", nj.lax.bessel_i0e, nonzero),
    unary("bessel_i0e", lambda x: nj.lax.bessel_i0e(x * 15.0), nonzero, label="asymptotic"),
    unary("bessel_i1e", nj.lax.bessel_i1e, nonzero),
    unary("bessel_i1e", lambda x: nj.lax.bessel_i1e(x * 15.0), nonzero, label="asymptotic"),
    unary("igamma", lambda x: nj.lax.igamma(2.5, x), positive),
    unary("igamma", lambda x: nj.lax.igamma(0.7, x * 4.0), positive, label="fraction"),
    unary("igammac", lambda x: nj.lax.igammac(2.5, x), positive),
    unary("betainc", lambda x: nj.scipy.special.betainc(2.5, 1.5, x * 0.4), positive),
    unary("betainc", lambda x: nj.scipy.special.betainc(0.8, 3.0, x * 0.4), positive,
          label="mirrored"),
]

GRAD_RULES = (ELEMENTWISE_RULES + STRUCTURAL_RULES + CONTROL_FLOW_RULES + LINALG_RULES
              + CUMULATIVE_AND_SPECIAL_RULES + CONV_RULES + COLLECTIVE_RULES + CHECKPOINT_RULES
              + TRANSCENDENTAL_RULES + BESSEL_GAMMA_RULES)


def _shape_id(shape: tuple) -> str:
    return "x".join(map(str, shape)) or "scalar"


# Broadcasting pairs on which a binary gate also runs with one operand held
# constant (a tangent or cotangent of None on that side).
CONSTANT_OPERAND_PAIRS = [((3, 1), (1, 4)), ((), (3, 4))]


def _rule_cases(rules: list[Rule]) -> list:
    cases = []
    for rule in rules:
        if rule.in_shapes is not None:
            shape_sets = [rule.in_shapes]
        elif rule.arity == 1:
            shape_sets = [(s,) for s in SHAPE_GROUPS]
        else:
            shape_sets = BROADCAST_PAIRS
        for shapes in shape_sets:
            name = "-".join(filter(None, [rule.prim, rule.label, "&".join(map(_shape_id, shapes))]))
            cases.append(pytest.param(rule, shapes, None, id=name))
            if rule.arity > 1 and (rule.in_shapes is not None or shapes in CONSTANT_OPERAND_PAIRS):
                cases += [pytest.param(rule, shapes, i, id=f"{name}-const{i}")
                          for i in range(rule.arity)]
    return cases


GRAD_CASES = _rule_cases(GRAD_RULES)


def applied(rule: Rule, shapes: tuple, const: int | None) -> tuple[Callable, list]:
    """The rule's function and operands, with operand ``const`` closed over if given."""
    args = draw_args(rule.domain, shapes)
    if const is None:
        return rule.fn, args
    held = args.pop(const)
    return (lambda *xs: rule.fn(*xs[:const], held, *xs[const:])), args


def check_rule(fn: Callable, args: list, tol: float | None = None,
               eps: float | None = None, modes: tuple = ("fwd", "rev")) -> None:
    """The one finite-difference referee: both modes, derivatives of derivatives too."""
    nj.check_grads(fn, tuple(args), order=2, modes=modes, atol=tol, rtol=tol, eps=eps)


@pytest.mark.parametrize("rule, shapes, const", GRAD_CASES)
def test_rule_matches_finite_differences(rule: Rule, shapes: tuple, const: int | None) -> None:
    assert len(shapes) == rule.arity
    check_rule(*applied(rule, shapes, const), rule.tol, rule.eps, rule.modes)


# ----- The table of primitives with no derivative --------------------------------

@dataclasses.dataclass(frozen=True)
class FlatRule:
    """A primitive whose output carries no gradient, with its NumPy reference."""

    prim: str
    fn: Callable
    reference: Callable
    in_shapes: tuple
    domain: Callable = all_normal
    label: str = ""


_COMPARISONS = [("eq", jnp.equal, np.equal), ("ne", jnp.not_equal, np.not_equal),
                ("lt", jnp.less, np.less), ("le", jnp.less_equal, np.less_equal),
                ("gt", jnp.greater, np.greater), ("ge", jnp.greater_equal, np.greater_equal)]

def _on_ints(fn: Callable) -> Callable:
    """``fn`` on the integer values of float operands (bitwise gates take ints)."""
    return lambda *xs: fn(*(jnp.astype(x, np.int64) for x in xs))


def _on_naturals(fn: Callable) -> Callable:
    """``fn`` on small non-negative ints (a shift by a negative count is undefined)."""
    return lambda *xs: fn(*(jnp.astype(jnp.abs(x), np.int64) for x in xs))


FLAT_RULES = [
    *(FlatRule(name, fn, ref, shapes, each(small_integers, small_integers),
               "&".join(map(_shape_id, shapes)))
      for name, fn, ref in _COMPARISONS
      for shapes in [((3, 4), (3, 4)), ((3, 4), (4,)), ((), (3, 4))]),
    FlatRule("sign", jnp.sign, np.sign, ((3, 4),), each(small_integers)),
    FlatRule("floor", jnp.floor, np.floor, ((3, 4),)),
    FlatRule("ceil", jnp.ceil, np.ceil, ((3, 4),)),
    FlatRule("trunc", jnp.trunc, np.trunc, ((3, 4),)),
    FlatRule("round", jnp.round, np.round, ((3, 4),)),
    FlatRule("round", lambda x: jnp.round(x * 10.0, 1), lambda x: np.round(x * 10.0, 1),
             ((3, 4),), label="decimals=1"),
    FlatRule("floor_divide", jnp.floor_divide, np.floor_divide, ((3, 4), (4,)),
             each(normal, nonzero)),
    *(FlatRule(name, _on_ints(fn), _on_ints(ref), ((3, 4), (3, 4)),
               each(small_integers, small_integers))
      for name, fn, ref in [("and", jnp.bitwise_and, np.bitwise_and),
                            ("or", jnp.bitwise_or, np.bitwise_or),
                            ("xor", jnp.bitwise_xor, np.bitwise_xor)]),
    *(FlatRule(name, _on_naturals(fn), _on_naturals(ref), ((3, 4), (3, 4)),
               each(small_integers, small_integers))
      for name, fn, ref in [("shift_left", jnp.left_shift, np.left_shift),
                            ("shift_right_arithmetic", jnp.right_shift, np.right_shift)]),
    FlatRule("not", lambda x: jnp.invert(x > 0), lambda x: np.invert(x > 0), ((3, 4),)),
    FlatRule("argmax", lambda x: jnp.argmax(x, axis=0), lambda x: np.argmax(x, axis=0),
             ((3, 4),), label="axis=0"),
    FlatRule("argmax", jnp.argmax, np.argmax, ((3, 4),), label="all"),
    FlatRule("argsort", lambda x: jnp.argsort(x, axis=0),
             lambda x: np.argsort(x, axis=0, kind="stable"), ((3, 4),), label="axis=0"),
    FlatRule("argmin", lambda x: jnp.argmin(x, axis=1, keepdims=True),
             lambda x: np.argmin(x, axis=1, keepdims=True), ((3, 4),), label="keepdims"),
    FlatRule("argmin", lambda x: jnp.argmin(x, axis=0), lambda x: np.argmin(x, axis=0),
             ((3, 4),), each(small_integers), label="ties"),
    FlatRule("stop_gradient", nj.stop_gradient, lambda x: x, ((3, 4),)),
]

def _window_index_reference(x):
    """Where each 2x2 window (SAME padding: one row and column after) has its first maximum."""
    padded = np.full((x.shape[0] + 1, x.shape[1] + 1), -np.inf)
    padded[:-1, :-1] = x
    out = np.zeros(x.shape, np.int64)
    for i, j in np.ndindex(x.shape):
        di, dj = np.unravel_index(np.argmax(padded[i:i + 2, j:j + 2]), (2, 2))
        out[i, j] = (i + di) * x.shape[1] + j + dj
    return out


CONV_FLAT_RULES = [
    FlatRule("reduce_window_index",
             bind("reduce_window_index", chooser="max", window_dimensions=(2, 2),
                  window_strides=(1, 1), padding=((0, 1), (0, 1)), base_dilation=(1, 1),
                  window_dilation=(1, 1)),
             _window_index_reference, ((3, 4),), each(small_integers), label="max-ties"),
]
FLAT_RULES += CONV_FLAT_RULES

COLLECTIVE_FLAT_RULES = [
    FlatRule("axis_index", _named(lambda x: lax.axis_index("i") + jnp.zeros(x.shape, np.int32)),
             lambda x: np.broadcast_to(np.arange(4, dtype=np.int32)[:, None], x.shape),
             ((4, 3),)),
]
FLAT_RULES += COLLECTIVE_FLAT_RULES
TRANSCENDENTAL_FLAT_RULES = [
    FlatRule("nextafter", jnp.nextafter, np.nextafter, ((3, 4), (4,))),
    FlatRule("signbit", lambda x: jnp.signbit(x * 0.0), lambda x: np.signbit(x * 0.0),
             ((3, 4),), label="signed-zeros"),
    FlatRule("gcd", _on_ints(lambda x, y: jnp.gcd(x, y)), _on_ints(np.gcd), ((3, 4), (4,)),
             each(small_integers, small_integers)),
    FlatRule("lcm", _on_ints(lambda x, y: jnp.lcm(x, y)), _on_ints(np.lcm), ((3, 4), (4,)),
             each(small_integers, small_integers)),
]
FLAT_RULES += TRANSCENDENTAL_FLAT_RULES

FLAT_CASES = [pytest.param(r, id="-".join(filter(None, [r.prim, r.label]))) for r in FLAT_RULES]


def _sum_to_shape(a: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum a broadcast array back down to ``shape`` (NumPy, for expected values)."""
    lead = a.ndim - len(shape)
    a = a.sum(axis=tuple(range(lead)))
    return a.sum(axis=tuple(i for i, d in enumerate(shape) if d == 1), keepdims=True) \
        .reshape(shape)


def forward_mode_grad(f: Callable, args: list) -> tuple:
    """The gradient of scalar ``f`` by ``jvp``, one basis tangent per input entry."""
    grads = []
    for i, x in enumerate(args):
        g = np.zeros(np.shape(x))
        for pos in np.ndindex(g.shape):
            tangents = [np.zeros_like(a) for a in map(np.asarray, args)]
            tangents[i][pos] = 1.0
            g[pos] = nj.jvp(f, tuple(args), tuple(_leaf(t) for t in tangents))[1]
        grads.append(g)
    return tuple(grads)


def gradients_both_modes(f: Callable, args: list) -> dict[str, tuple]:
    return {"rev": nj.grad(f, argnums=tuple(range(len(args))))(*args),
            "fwd": forward_mode_grad(f, args)}


@pytest.mark.parametrize("rule", FLAT_CASES)
def test_flat_primitive_values_match_numpy(rule: FlatRule) -> None:
    args = draw_args(rule.domain, rule.in_shapes)
    expected = np.asarray(rule.reference(*args))
    under_jvp = nj.jvp(rule.fn, tuple(args), tuple(np.zeros_like(a) for a in args))[0]
    under_vjp = nj.vjp(rule.fn, *args)[0]
    for got in (rule.fn(*args), under_jvp, under_vjp):
        got = np.asarray(got)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("rule", FLAT_CASES)
def test_flat_primitive_output_is_a_constant_for_gradients(rule: FlatRule) -> None:
    # sum(x * c(x)) differentiates to c when c is a constant: no pull through c.
    args = draw_args(rule.domain, rule.in_shapes)
    c = np.asarray(rule.reference(*args), dtype=np.float64)
    x_shape = np.shape(args[0])
    full = np.broadcast_to(c, np.broadcast_shapes(x_shape, c.shape))
    expected = [_sum_to_shape(full, x_shape)] + [np.zeros(np.shape(a)) for a in args[1:]]

    def f(*xs):
        return jnp.sum(xs[0] * jnp.astype(rule.fn(*xs), np.float64))

    for mode, grads in gradients_both_modes(f, args).items():
        for got, want in zip(grads, expected):
            np.testing.assert_allclose(got, want, err_msg=f"{rule.prim} ({mode} mode)")


def test_where_treats_its_comparison_as_a_constant() -> None:
    x = np.array([-1.5, -0.5, 0.5, 2.0])
    f = lambda x: jnp.sum(jnp.where(x > 0, x * x, -x))  # noqa: E731
    for grads in gradients_both_modes(f, [x]).values():
        np.testing.assert_allclose(grads[0], np.where(x > 0, 2 * x, -1.0))


# ----- Random primitives: a key in, numbers out, no derivative ---------------------

RANDOM_KEY = np.array([7, 42], dtype=np.uint32)


@dataclasses.dataclass(frozen=True)
class RandomRule:
    """A random primitive applied to a key (uint32[2]); its eager value is the reference."""

    prim: str
    fn: Callable
    label: str


RANDOM_RULES = [
    RandomRule("random_sample", lambda k: nj.random.normal(k, (3, 4)), "normal"),
    RandomRule("random_sample", lambda k: nj.random.uniform(k, (3,), np.float32), "uniform-f32"),
    RandomRule("random_randint", lambda k: nj.random.randint(k, (5,), -3, 3), "randint"),
    RandomRule("random_bits", lambda k: nj.random.permutation(k, 6), "permutation"),
    RandomRule("random_sample", lambda k: nj.random.gumbel(k, (3,)), "gumbel"),
    RandomRule("random_split", lambda k: nj.random.split(k, 3), "num=3"),
    RandomRule("random_fold_in", lambda k: nj.random.fold_in(k, 7), "data=7"),
]

# nn/random branch: keys from (traced) seeds, draws with array parameters.
NNRANDOM_RANDOM_RULES = [
    RandomRule("random_seed", lambda k: nj.random.key(jnp.astype(k[1], np.int64)), "seed"),
    RandomRule("random_draw", lambda k: nj.random.poisson(k, np.array([0.5, 3.0, 40.0])),
               "poisson"),
    RandomRule("random_draw", lambda k: nj.random.binomial(k, 10, np.array([0.1, 0.9])),
               "binomial"),
    RandomRule("random_randint", lambda k: nj.random.randint(k, (4,), np.arange(4), 10),
               "randint-array-bounds"),
    RandomRule("random_draw", lambda k: nj.random.multinomial(k, 20, np.ones(3) / 3),
               "multinomial"),
    RandomRule("random_bits", lambda k: nj.random.bits(k, (3,)), "bits"),
]
RANDOM_RULES += NNRANDOM_RANDOM_RULES

# Differentiable, but not by finite differences of the sample: a gamma sample's
# gradient in its shape is the implicit reparameterization one (at a fixed CDF
# value, not at fixed NumPy randomness), checked statistically and against the
# CDF in tests/test_random_distributions.py.
STATISTICAL_GRAD_PRIMITIVES = ["random_gamma", "random_gamma_grad"]
# eig's results are complex: its rules refuse differentiation with a sentence
# (tests/test_linalg.py checks that, and its values, jit and vmap).
REFUSED_GRAD_PRIMITIVES = ["eig"]

RANDOM_CASES = [pytest.param(r, id=f"{r.prim}-{r.label}") for r in RANDOM_RULES]


@pytest.mark.parametrize("rule", RANDOM_CASES)
def test_random_primitive_values_are_unchanged_under_jit_and_beside_a_gradient(
        rule: RandomRule) -> None:
    # A key is an integer array: no derivative is taken with respect to it
    # (jvp and vjp refuse integer inputs), but it flows through jit and
    # through functions being differentiated in their float arguments.
    eager = np.asarray(rule.fn(RANDOM_KEY))
    under_jit = nj.jit(rule.fn)(RANDOM_KEY)
    beside_vjp = nj.vjp(lambda x, k=RANDOM_KEY: (x, rule.fn(k)), 1.0)[0][1]
    for got in (under_jit, beside_vjp):
        assert np.asarray(got).dtype == eager.dtype
        np.testing.assert_array_equal(got, eager)


@pytest.mark.parametrize("rule", RANDOM_CASES)
def test_random_primitive_output_is_a_constant_for_gradients(rule: RandomRule) -> None:
    c = np.asarray(rule.fn(RANDOM_KEY), dtype=np.float64)

    def f(x, k):
        return jnp.sum(x * jnp.astype(rule.fn(k), np.float64))

    x = np.ones(c.shape)
    np.testing.assert_array_equal(nj.grad(f)(x, RANDOM_KEY), c)
    np.testing.assert_array_equal(forward_mode_grad(lambda x: f(x, RANDOM_KEY), [x])[0], c)


def test_every_primitive_has_a_row() -> None:
    rows = ({r.prim for r in GRAD_RULES} | {r.prim for r in FLAT_RULES}
            | {r.prim for r in RANDOM_RULES} | set(STATISTICAL_GRAD_PRIMITIVES)
            | set(REFUSED_GRAD_PRIMITIVES))
    missing = sorted(set(ALL_PRIMITIVES) - rows)
    assert not missing, f"primitives with no rule-test row: {missing}"
    assert not rows - set(ALL_PRIMITIVES), "rows name primitives that do not exist"


def test_each_row_sits_in_the_table_matching_its_differentiability() -> None:
    in_grad = sorted(r.prim for r in GRAD_RULES if not ALL_PRIMITIVES[r.prim].differentiable)
    in_flat = sorted(r.prim for r in FLAT_RULES + RANDOM_RULES
                     if ALL_PRIMITIVES[r.prim].differentiable)
    assert not in_grad, f"non-differentiable primitives in GRAD_RULES: {in_grad}"
    assert not in_flat, f"differentiable primitives in FLAT_RULES: {in_flat}"


# ----- abstract_eval: staged shapes and dtypes match the eager result -------------

_I32 = np.dtype(np.int32)


def _typed(*arrays_and_dtypes) -> list:
    rng = np.random.default_rng(1)
    return [_leaf((rng.standard_normal(shape) * 3).astype(dt))
            for shape, dt in arrays_and_dtypes]


DTYPE_CASES = [
    ("add", lambda x: x + 1.0, _typed(((3,), _F32)), "f32-plus-python-float"),
    ("add", lambda x: x + 1, _typed(((3,), _I32)), "i32-plus-python-int"),
    ("add", lambda x: x + 1.5, _typed(((3,), _I32)), "i32-plus-python-float"),
    ("add", jnp.add, _typed(((3,), _F32), ((3,), _F64)), "f32-plus-f64"),
    ("mul", jnp.multiply, _typed(((3,), _I32), ((), _F32)), "i32-times-f32"),
    ("div", jnp.divide, [np.array([1, 2, 3]), np.array([2, 2, 2])], "int-over-int"),
    ("max", lambda x: jnp.maximum(x, 0), _typed(((3,), _F32)), "f32-and-python-int"),
    ("exp", jnp.exp, [np.array([0, 1, 2])], "int"),
    ("sqrt", jnp.sqrt, [np.array([1.0, 4.0], _F32)], "f32"),
    ("logistic", nj.nn.sigmoid, _typed(((3,), _F32)), "f32"),
    ("abs", jnp.abs, _typed(((3,), _I32)), "i32"),
    ("neg", jnp.negative, _typed(((3,), _I32)), "i32"),
    ("sign", jnp.sign, _typed(((3,), _F32)), "f32"),
    ("integer_pow", lambda x: x ** 2, [np.array([1, 2, 3])], "int"),
    ("integer_pow", lambda x: x ** 3, _typed(((3,), _F32)), "f32"),
    ("pow", lambda x, y: x ** y, [np.array([1.0, 2.0], _F32), np.array([0.5, 2.0], _F32)], "f32"),
    ("lt", jnp.less, _typed(((3,), _I32), ((3,), _F64)), "i32-vs-f64"),
    ("reduce_sum", jnp.sum, _typed(((3, 4), _I32)), "i32"),
    ("reduce_sum", jnp.sum, [np.array([True, False, True])], "bool"),
    ("reduce_sum", lambda x: jnp.sum(x, axis=0), _typed(((3, 4), _F32)), "f32"),
    ("reduce_prod", jnp.prod, _typed(((3,), _I32)), "i32"),
    ("reduce_max", lambda x: jnp.max(x, axis=1), _typed(((3, 4), _I32)), "i32"),
    ("argmax", jnp.argmax, _typed(((3, 4), _F32)), "f32"),
    ("convert_element_type", lambda x: jnp.astype(x, _F32), _typed(((3,), _F64)), "to-f32"),
    ("convert_element_type", lambda x: jnp.astype(x, _F64), _typed(((3,), _F32)), "to-f64"),
    ("convert_element_type", lambda x: jnp.astype(x, _I32), _typed(((3,), _F64)), "to-i32"),
    ("select_n", lambda x: jnp.where(x > 0, x, 0.0), _typed(((3,), _F32)), "f32-and-python-float"),
    ("select_n", lambda x: jnp.where(x > 0, 1.0, 0.0) * x, _typed(((3,), _F32)),
     "python-floats-selected-by-an-array"),
    ("select_n", lambda x, y: jnp.where(x > y, x, y), _typed(((3,), _F32), ((3,), _F64)),
     "f32-and-f64"),
    ("dot_general", jnp.dot, _typed(((3, 4), _F32), ((4,), _F32)), "f32"),
    ("dot_general", jnp.dot, _typed(((3, 4), _I32), ((4,), _I32)), "i32"),
    ("dot_general", jnp.matmul, _typed(((2, 3), _F32), ((3, 2), _F64)), "f32-and-f64"),
    ("concatenate", lambda a, b: jnp.concatenate([a, b]), _typed(((2,), _F32), ((3,), _F64)),
     "f32-and-f64"),
    ("gather", lambda x: x[np.array([0, 0])], _typed(((3,), _I32)), "i32"),
    ("scatter-add", lambda x, u: jnp.at(x)[1].add(u), _typed(((3,), _F32), ((), _F64)),
     "f32-target-f64-update"),
    ("reshape", lambda x: jnp.reshape(x, (4, 3)), _typed(((3, 4), _I32)), "i32"),
    ("transpose", jnp.transpose, _typed(((3, 4), _I32)), "i32"),
    ("broadcast_in_dim", lambda x: jnp.broadcast_to(x, (2, 3)), _typed(((3,), _I32)), "i32"),
    ("squeeze", jnp.squeeze, _typed(((3, 1), _I32)), "i32"),
    ("stop_gradient", nj.stop_gradient, _typed(((3,), _I32)), "i32"),
]

# (A collective's row stages the vmap around it, which records no collective:
# their abstract_eval is checked under a named vmap, in test_collectives.)
ABSTRACT_EVAL_CASES = (
    [pytest.param(p.values[0].prim, *applied(*p.values), id=p.id) for p in GRAD_CASES
     if p.values[0].prim not in COLLECTIVE_PRIMITIVES]
    + [pytest.param(r.prim, r.fn, draw_args(r.domain, r.in_shapes), id=p.id)
       for r, p in zip(FLAT_RULES, FLAT_CASES) if r.prim not in COLLECTIVE_PRIMITIVES]
    + [pytest.param(name, fn, args, id=f"{name}-{label}") for name, fn, args, label in DTYPE_CASES]
    + [pytest.param(r.prim, r.fn, [RANDOM_KEY], id=p.id)
       for r, p in zip(RANDOM_RULES, RANDOM_CASES)]
)


@pytest.mark.parametrize("prim, fn, args", ABSTRACT_EVAL_CASES)
def test_staged_avals_and_values_match_eager(prim: str, fn: Callable, args: list) -> None:
    eager = np.asarray(fn(*args))
    closed = nj.make_jaxpr(fn)(*args)
    assert prim in {e.primitive.name for e in closed.eqns}, f"the row does not apply {prim}"
    (aval,) = closed.out_avals
    assert (aval.shape, aval.dtype) == (eager.shape, eager.dtype)
    (staged,) = nj.eval_jaxpr(closed.jaxpr, closed.consts, *args)
    staged = np.asarray(staged)
    assert (staged.shape, staged.dtype) == (eager.shape, eager.dtype)
    np.testing.assert_allclose(staged, eager, rtol=1e-6 if eager.dtype == _F32 else 1e-13)


def equations_evaluated(closed: nj.ClosedJaxpr, args: list):
    """Run a jaxpr eagerly, yielding each equation with its input and output values."""
    env = dict(zip(closed.jaxpr.constvars, closed.consts))
    env.update(zip(closed.jaxpr.invars, args))

    def read(v):
        return v.val if isinstance(v, Literal) else env[v]

    for eqn in closed.eqns:
        ins = [read(v) for v in eqn.invars]
        out = eqn.primitive.bind(*ins, **eqn.params)
        env.update(zip(eqn.outvars, out if eqn.primitive.multiple_results else [out],
                       strict=True))
        yield eqn, ins, out


def _float32_case(rule: Rule, shapes: tuple) -> tuple[Callable, list]:
    fn, args = applied(rule, shapes, None)
    return fn, [_leaf(np.asarray(a, np.float32)) for a in args]


FLOAT32_CASES = [p for p in GRAD_CASES if p.values[2] is None]


@pytest.mark.parametrize("rule, shapes, const", FLOAT32_CASES)
def test_float32_derivative_circuits_compute_what_they_stage(rule: Rule, shapes: tuple,
                                                             const: None) -> None:
    # Every equation of the staged jvp and vjp, run on float32 values, has the
    # shape and dtype its abstract_eval promised.
    fn, args = _float32_case(rule, shapes)
    out = np.asarray(fn(*args))
    ct = _leaf(np.ones(out.shape, out.dtype))
    derivatives = [lambda *xs: nj.jvp(fn, xs, xs)[1], lambda *xs: nj.vjp(fn, *xs)[1](ct)]
    for derivative in derivatives[:len(rule.modes)]:        # fwd first
        for eqn, _, out in equations_evaluated(nj.make_jaxpr(derivative)(*args), args):
            values = out if eqn.primitive.multiple_results else [out]
            for var, value in zip(eqn.outvars, values, strict=True):
                aval = var.aval
                assert (np.shape(value), np.result_type(value)) == (aval.shape, aval.dtype), (
                    f"{eqn.primitive.name} on {[str(getattr(v, 'aval', v)) for v in eqn.invars]}"
                    f" staged as {aval.str_short()}, computed {np.result_type(value)}"
                    f"{list(np.shape(value))}")


def _is_array(x: Any) -> bool:
    return isinstance(x, (np.ndarray, np.generic))


@pytest.mark.parametrize("rule, shapes, const", FLOAT32_CASES)
def test_float32_rules_give_tangents_and_cotangents_their_primals_dtype(
        rule: Rule, shapes: tuple, const: None) -> None:
    fn, args = _float32_case(rule, shapes)
    for eqn, ins, ans in equations_evaluated(nj.make_jaxpr(fn)(*args), args):
        prim = eqn.primitive
        if not prim.differentiable or prim.multiple_results:
            # A gate carrying jaxprs: its rules transform its bodies, whose own
            # gates are checked here by their rows (and the test above runs it).
            continue
        floats = [_is_array(x) and np.result_type(x).kind == "f" for x in ins]
        tangents = [np.ones_like(x) if f else None for x, f in zip(ins, floats)]
        tangent = prim.jvp(ins, tangents, ans, **eqn.params)
        several = prim.multiple_results
        for t, a in zip(tangent if several and tangent is not None else [tangent],
                        ans if several else [ans]):
            if t is not None:
                assert np.result_type(t) == np.result_type(a), f"{prim.name} jvp"
        g = [np.ones_like(a) for a in ans] if several else np.ones_like(ans)
        cts = prim.vjp(g, ans, *ins, **eqn.params)
        # The tape may use the per-argument split of the rule instead: check it too.
        split = [None if r is None else r(g, ans, *ins, **eqn.params)
                 for r in getattr(prim, "vjp_args", None) or ()]
        for rule_cts in (cts, split):
            for i, (x, ct) in enumerate(zip(ins, rule_cts)):
                if floats[i] and ct is not None:
                    assert np.result_type(ct) == np.result_type(x), \
                        f"{prim.name} vjp, operand {i}"


# ----- Conventions at kinks, as in JAX ---------------------------------------------

KINK_CASES = [
    pytest.param(nj.nn.relu, [0.0], [0.0], id="relu-at-zero-is-zero"),
    pytest.param(lambda x: jnp.sum(nj.nn.relu(x)), [np.array([-1.0, 0.0, 2.0])],
                 [np.array([0.0, 0.0, 1.0])], id="relu-array"),
    pytest.param(jnp.abs, [0.0], [0.0], id="abs-at-zero-is-zero"),
    pytest.param(jnp.maximum, [1.5, 1.5], [0.5, 0.5], id="maximum-tie-splits-in-half"),
    pytest.param(jnp.minimum, [1.5, 1.5], [0.5, 0.5], id="minimum-tie-splits-in-half"),
    pytest.param(lambda x: jnp.maximum(x, x), [1.5], [1.0], id="maximum-of-x-with-itself"),
    pytest.param(lambda x, y: jnp.sum(jnp.maximum(x, y)),
                 [np.array([1.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0])],
                 [np.array([0.5, 0.0, 1.0]), np.array([0.5, 1.0, 0.0])], id="maximum-array"),
    pytest.param(jnp.max, [np.array([3.0, 1.0, 3.0, 3.0])],
                 [np.array([1.0, 0.0, 1.0, 1.0]) / 3], id="reduce_max-ties-share"),
    pytest.param(lambda x: jnp.sum(jnp.max(x, axis=1)),
                 [np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])],
                 [np.array([[0.0, 0.5, 0.5], [0.5, 0.5, 0.0]])], id="reduce_max-ties-per-row"),
    pytest.param(jnp.min, [np.array([0.0, -1.0, -1.0])],
                 [np.array([0.0, 0.5, 0.5])], id="reduce_min-ties-share"),
]


@pytest.mark.parametrize("f, args, expected", KINK_CASES)
def test_gradient_at_a_kink_follows_jax(f: Callable, args: list, expected: list) -> None:
    for mode, grads in gradients_both_modes(f, args).items():
        for got, want in zip(grads, expected):
            np.testing.assert_array_equal(got, want, err_msg=f"{mode} mode")


# ----- Shape errors name the primitive and both shapes -------------------------------

SHAPE_ERROR_CASES = [
    pytest.param(jnp.add, [(3,), (4,)], ["add", "(3,)", "(4,)"], id="add"),
    pytest.param(jnp.multiply, [(3, 4), (4, 3)], ["mul", "(3, 4)", "(4, 3)"], id="mul"),
    pytest.param(jnp.maximum, [(2,), (3,)], ["max", "(2,)", "(3,)"], id="max"),
    pytest.param(_dot((1,), (0,)), [(3, 4), (5, 2)], ["dot_general", "(3, 4)", "(5, 2)"],
                 id="dot_general"),
    pytest.param(_dot((2,), (1,), (0,), (0,)), [(2, 3, 4), (3, 4, 5)],
                 ["dot_general", "(2, 3, 4)", "(3, 4, 5)"], id="dot_general-batch"),
    pytest.param(bind("reshape", new_sizes=(5,)), [(3, 4)], ["reshape", "(3, 4)", "(5,)"],
                 id="reshape"),
    pytest.param(lambda a, b: jnp.concatenate([a, b]), [(2, 3), (2, 4)],
                 ["concatenate", "(2, 3)", "(2, 4)"], id="concatenate"),
    pytest.param(bind("broadcast_in_dim", shape=(4,), broadcast_dimensions=(0,)), [(3,)],
                 ["broadcast_in_dim", "(3,)", "(4,)"], id="broadcast_in_dim"),
    pytest.param(lambda x, u: jnp.at(x)[1].add(u), [(3, 4), (5,)],
                 ["at", "(5,)", "(4,)"], id="scatter-add"),
]


@pytest.mark.parametrize("fn, shapes, fragments", SHAPE_ERROR_CASES)
def test_shape_error_names_the_primitive_and_shapes(fn: Callable, shapes: list,
                                                    fragments: list) -> None:
    args = [np.zeros(s) for s in shapes]
    with pytest.raises(ValueError) as info:
        nj.make_jaxpr(fn)(*args)
    for fragment in fragments:
        assert fragment in str(info.value)


@pytest.mark.parametrize("dims,lhs_shape,rhs_shape,spec", [
    (((), (), (0,), (0,)), (5, 3), (5, 2), "bi,bj->bij"),
    (((), (), (1,), (2,)), (3, 4, 2), (2, 5, 4), "ibk,jcb->bikjc"),
    (((), (), (), ()), (3,), (4, 2), "i,jk->ijk"),
    (((1,), (0,), (), ()), (3, 4), (4, 2), "ij,jk->ik"),
    (((2,), (1,), (0,), (0,)), (2, 3, 4), (2, 4, 5), "bij,bjk->bik"),
])
def test_dot_general_values_match_einsum(dims, lhs_shape, rhs_shape, spec):
    lc, rc, lb, rb = dims
    rng = np.random.default_rng(7)
    lhs, rhs = rng.normal(size=lhs_shape), rng.normal(size=rhs_shape)
    got = _dot(lc, rc, lb, rb)(lhs, rhs)
    np.testing.assert_allclose(got, np.einsum(spec, lhs, rhs), rtol=1e-12, atol=1e-12)
