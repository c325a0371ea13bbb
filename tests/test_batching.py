"""vmap: every primitive's batch rule against a Python loop, and vmap itself.

The table below has one or more rows per primitive. Each row is a function of
one example's arguments; it is vmapped over examples stacked with
``np.stack`` for every combination of batched (in_axes 0) and unbatched
(None) operands, plus all operands batched along a non-zero axis and along
axis -1, and compared with a Python loop over the examples, with the batch
axis placed by out_axes 0 and 1. The rest of the file pins vmap's own
behaviour: nesting, pytree in_axes, axis_size, out_axes None, per-example
gradients, Jacobians and the errors for bad inputs.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import primitives as P
from nanojax.primitives import Indexer
from nanojax.tree_util import tree_leaves, tree_map
from test_primitive_rules import ELEMENTWISE_RULES, TRANSCENDENTAL_RULES

B = 3                     # examples per batch
RNG = np.random.default_rng(0)


# ----- Argument kinds: one example's value, drawn fresh per example ------------

def f(*shape):
    """Normal floats."""
    return lambda rng: rng.normal(size=shape)


def pos(*shape):
    """Positive floats (log, sqrt, pow's base)."""
    return lambda rng: rng.uniform(0.5, 2.0, size=shape)


def small(*shape):
    """Small whole numbers as floats, so comparisons see ties."""
    return lambda rng: rng.integers(-2, 3, size=shape).astype(np.float64)


def boolean(*shape):
    return lambda rng: rng.random(size=shape) < 0.5


def ints(hi, *shape):
    """Integers in [0, hi): in-bounds indices, repeats allowed."""
    return lambda rng: rng.integers(0, hi, size=shape)


def distinct(hi, n):
    """n distinct indices in [0, hi): scatter-set is only defined without repeats."""
    return lambda rng: rng.permutation(hi)[:n]


def key():
    """A PRNG key: two uint32 words."""
    return lambda rng: rng.integers(0, 2 ** 32, size=2, dtype=np.uint32)


class Row(NamedTuple):
    id: str
    prim: str             # the primitive the function must record
    fun: Callable
    kinds: tuple          # one draw function per argument


def bind(prim: str, **params) -> Callable:
    return lambda *args: P.ALL_PRIMITIVES[prim].bind(*args, **params)


def _elementwise_rows() -> list[Row]:
    rows = []
    unary = [("neg", f), ("exp", f), ("log", pos), ("log1p", pos), ("tanh", f),
             ("logistic", f), ("relu", f), ("sin", f), ("cos", f), ("sqrt", pos), ("abs", f),
             ("sign", small), ("floor", f), ("ceil", f), ("trunc", f), ("round", f),
             ("stop_gradient", f), ("contiguous", f)]
    for name, kind in unary:
        for shape in [(), (2, 3)]:
            rows.append(Row(f"{name}{shape}", name, bind(name), (kind(*shape),)))
    for y in (2, 3, -1):
        rows.append(Row(f"integer_pow-y={y}", "integer_pow", bind("integer_pow", y=y),
                        (pos(2, 3),)))
    for dt in (np.float32, np.int64):
        rows.append(Row(f"convert_element_type-{np.dtype(dt)}", "convert_element_type",
                        bind("convert_element_type", new_dtype=np.dtype(dt)), (f(2, 3),)))
    binary = [("add", f), ("sub", f), ("mul", f), ("div", pos), ("max", small),
              ("min", small), ("pow", pos), ("eq", small), ("ne", small), ("lt", small),
              ("le", small), ("gt", small), ("ge", small)]
    binary += [("floor_divide", pos), ("remainder", pos), ("rem", pos)]
    for name, kind in binary:
        for xs, ys in [((), (3,)), ((3, 1), (1, 4))]:
            rows.append(Row(f"{name}{xs}x{ys}", name, bind(name), (kind(*xs), kind(*ys))))
    for name in ("and", "or", "xor", "shift_left", "shift_right_arithmetic"):
        for xs, ys in [((), (3,)), ((3, 1), (1, 4))]:
            rows.append(Row(f"{name}{xs}x{ys}", name, bind(name), (ints(4, *xs), ints(4, *ys))))
    rows.append(Row("and-bool", "and", bind("and"), (boolean(3,), boolean(3,))))
    rows.append(Row("not-bool", "not", bind("not"), (boolean(2, 3),)))
    rows.append(Row("not-int", "not", bind("not"), (ints(9, 2, 3),)))
    # Broadcasting groups where the example ranks differ, so batch axes must be
    # aligned past the missing leading dimensions.
    for xs, ys in [((), ()), ((2, 3), (3,)), ((2, 1, 3), (4, 1)), ((3,), (2, 1, 3))]:
        rows.append(Row(f"add{xs}x{ys}", "add", bind("add"), (f(*xs), f(*ys))))
    for ws, xs, ys in [((), (3,), (3,)), ((3, 1), (1, 4), (3, 4)), ((2, 3), (), (3,))]:
        rows.append(Row(f"select_n{ws}{xs}{ys}", "select_n", bind("select_n"),
                        (boolean(*ws), f(*xs), f(*ys))))
    rows.append(Row("select_n-int-3-cases", "select_n", bind("select_n"),
                    (ints(3, 2, 3), f(2, 3), f(2, 3), f(2, 3))))
    return rows + _rows_from_the_rule_table({r.prim for r in rows})


def _rows_from_the_rule_table(covered: set) -> list[Row]:
    """Rows for the elementwise gates listed only in the rule table: a new gate
    needs one row there, drawn from its domain, and is batched here too."""
    rows = []
    for rule in ELEMENTWISE_RULES + TRANSCENDENTAL_RULES:
        if rule.prim in covered or rule.label:
            continue
        groups = ([(), (3,)], [(3, 1), (1, 4)]) if rule.arity == 2 else ([()], [(2, 3)])
        for shapes in groups:
            kinds = tuple(
                (lambda rng, i=i, shapes=tuple(shapes), d=rule.domain: d(rng, shapes)[i])
                for i in range(rule.arity))
            rows.append(Row(f"{rule.prim}{'x'.join(map(str, shapes))}", rule.prim,
                            bind(rule.prim), kinds))
    return rows


def _structural_rows() -> list[Row]:
    rows = []
    for name in ("reduce_sum", "reduce_max", "reduce_min", "reduce_prod"):
        for axes in [(0,), (1,), (0, 1), ()]:
            rows.append(Row(f"{name}-axes={axes}", name, bind(name, axes=axes), (small(2, 3),)))
    for axis in (0, 1):
        for rev in (False, True):
            rows.append(Row(f"cumsum-axis={axis}-reverse={rev}", "cumsum",
                            bind("cumsum", axis=axis, reverse=rev), (small(2, 3),)))
    for axis in (0, 1):
        rows.append(Row(f"argsort-axis={axis}", "argsort", bind("argsort", axis=axis),
                        (small(2, 3),)))
    for name in ("argmax", "argmin"):
        for axes in [(0,), (1,)]:
            rows.append(Row(f"{name}-axes={axes}", name,
                            bind(name, axes=axes, index_dtype=np.dtype(np.int64)),
                            (small(2, 3),)))
    for x, shape, dims in [((3,), (2, 3), (1,)), ((3, 1), (3, 4), (0, 1)), ((), (2,), ()),
                           ((1, 3), (2, 1, 3), (1, 2))]:
        rows.append(Row(f"broadcast_in_dim{x}->{shape}", "broadcast_in_dim",
                        bind("broadcast_in_dim", shape=shape, broadcast_dimensions=dims),
                        (f(*x),)))
    for x, shape in [((2, 3), (3, 2)), ((2, 3), (6,)), ((), (1, 1)), ((6,), (2, 3))]:
        rows.append(Row(f"reshape{x}->{shape}", "reshape", bind("reshape", new_sizes=shape),
                        (f(*x),)))
    for x, perm in [((2, 3), (1, 0)), ((2, 3, 4), (2, 0, 1)), ((2, 3, 4), (0, 1, 2))]:
        rows.append(Row(f"transpose{x}{perm}", "transpose", bind("transpose", permutation=perm),
                        (f(*x),)))
    for x, dims in [((1, 3), (0,)), ((3, 1, 1), (1, 2)), ((1,), (0,))]:
        rows.append(Row(f"squeeze{x}{dims}", "squeeze", bind("squeeze", dimensions=dims),
                        (f(*x),)))
    rows.append(Row("concatenate-axis0", "concatenate", bind("concatenate", dimension=0),
                    (f(2, 3), f(1, 3))))
    rows.append(Row("concatenate-axis1-three", "concatenate", bind("concatenate", dimension=1),
                    (f(2, 3), f(2, 1), f(2, 2))))
    dot_cases = [
        ("vec.vec", (3,), (3,), (((0,), (0,)), ((), ()))),
        ("mat.vec", (2, 3), (3,), (((1,), (0,)), ((), ()))),
        ("mat.mat", (2, 3), (3, 4), (((1,), (0,)), ((), ()))),
        ("lhs-contract-0", (3, 2), (3, 4), (((0,), (0,)), ((), ()))),
        ("two-contract", (2, 3, 4), (3, 4), (((1, 2), (0, 1)), ((), ()))),
        ("outer", (2,), (3,), (((), ()), ((), ()))),
        ("batch-dims", (5, 2, 3), (5, 3, 4), (((2,), (1,)), ((0,), (0,)))),
        ("inner-batch-dims", (2, 5, 3), (3, 5), (((2,), (0,)), ((1,), (1,)))),
    ]
    for name, ls, rs, dims in dot_cases:
        rows.append(Row(f"dot_general-{name}", "dot_general",
                        bind("dot_general", dimension_numbers=dims), (f(*ls), f(*rs))))
    return rows


def _indexing_rows() -> list[Row]:
    s = np.s_
    rows = [Row(f"gather-x{idx}", "gather", lambda x, idx=idx: jnp.getitem(x, idx), (f(4, 3),))
            for idx in [s[1], s[1:3], s[:, None, 1], s[..., 0], s[::-1, 1:], s[-1, ::2]]]
    rows += [
        Row("gather-x[i]", "gather", lambda x, i: jnp.getitem(x, i), (f(4, 3), ints(4, 2))),
        Row("gather-x[i2d]", "gather", lambda x, i: jnp.getitem(x, i), (f(4, 3), ints(4, 2, 2))),
        Row("gather-x[i,1:]", "gather", lambda x, i: jnp.getitem(x, (i, s[1:])),
            (f(4, 3), ints(4, 2))),
        Row("gather-x[:,i]", "gather", lambda x, i: jnp.getitem(x, (s[:], i)),
            (f(4, 3), ints(3, 5))),
        Row("gather-x[i,j]", "gather", lambda x, i, j: jnp.getitem(x, (i, j)),
            (f(4, 3), ints(4, 2), ints(3, 2))),
        # Non-adjacent index arrays: NumPy moves their dimension to the front.
        Row("gather-x[i,:,j]", "gather", lambda x, i, j: jnp.getitem(x, (i, s[:], j)),
            (f(4, 3, 5), ints(4, 2), ints(5, 2))),
        Row("gather-x[None,i,...]", "gather", lambda x, i: jnp.getitem(x, (None, i, Ellipsis)),
            (f(4, 3), ints(4, 2))),
        # An adjacent block after other axes keeps its place in one example.
        Row("gather-x[:,1,i]", "gather", lambda x, i: jnp.getitem(x, (s[:], 1, i)),
            (f(4, 3, 5), ints(5, 2))),
        Row("gather-x[None,:,i]", "gather", lambda x, i: jnp.getitem(x, (None, s[:], i)),
            (f(4, 3), ints(3, 2, 2))),
        Row("gather-x[...,i]", "gather", lambda x, i: jnp.getitem(x, (Ellipsis, i)),
            (f(4, 3, 5), ints(5, 2))),
        Row("gather-x[1:,i,:]", "gather", lambda x, i: jnp.getitem(x, (s[1:], i, s[:])),
            (f(4, 3, 5), ints(3, 2))),
        Row("gather-x[:,i,j]", "gather", lambda x, i, j: jnp.getitem(x, (s[:], i, j)),
            (f(4, 3, 5), ints(3, 2), ints(5, 2))),
        Row("gather-x[i]-scalar-index", "gather", lambda x, i: jnp.getitem(x, i),
            (f(4, 3), ints(4))),
        Row("gather-vector[i]", "gather", lambda x, i: jnp.getitem(x, i), (f(5), ints(5, 3))),
        Row("gather-direct-bind", "gather",
            lambda x, i: P.gather(x, i, indexer=Indexer((Indexer.ARRAY, (1, None, None)))),
            (f(4, 3), ints(4, 2))),
    ]
    for op in ("add", "set"):
        prim = "scatter-add" if op == "add" else "scatter"
        fresh = ints if op == "add" else distinct

        cases = [
            ("[1]", lambda: 1, (), f(3)),
            ("[1:3]", lambda: s[1:3], (), f(2, 3)),
            ("[1:3]-broadcast-u", lambda: s[1:3], (), f(3)),
            ("[i]", lambda i: i, (fresh(4, 2),), f(2, 3)),
            ("[i,1:]", lambda i: (i, s[1:]), (fresh(4, 2),), f(2, 2)),
            ("[:,i]", lambda i: (s[:], i), (distinct(3, 2),), f(4, 2)),
            ("[i]-broadcast-u", lambda i: i, (fresh(4, 2),), f(3)),
            ("[None,:,i]", lambda i: (None, s[:], i), (distinct(3, 2),), f(1, 4, 2)),
            ("[...,i]-broadcast-u", lambda i: (Ellipsis, i), (distinct(3, 2),), f(2)),
        ]
        for name, index, idx_kinds, u_kind in cases:
            rows.append(Row(f"{prim}-x.at{name}.{op}", prim,
                            lambda x, u, *idx, _op=op, _ix=index: getattr(
                                jnp.at(x)[_ix(*idx)], _op)(u),
                            (f(4, 3), u_kind) + idx_kinds))
        rows.append(Row(f"{prim}-scalar-update", prim,
                        lambda x, i, _op=op: getattr(jnp.at(x)[i], _op)(7.0),
                        (f(4, 3), fresh(4, 2))))
    return rows


def _random_rows() -> list[Row]:
    # Each key is its own stream: a batch of keys gives what a loop over them gives.
    f64, f32, i64 = np.dtype(np.float64), np.dtype(np.float32), np.dtype(np.int64)
    samples = [("normal", (2, 3), f64), ("uniform", (), f64), ("uniform", (3,), f32),
               ("exponential", (4,), f64), ("gumbel", (2,), f64), ("laplace", (3,), f64),
               ("logistic", (3,), f64), ("cauchy", (3,), f64)]
    rows = [Row(f"random_sample-{dist}-{dt}", "random_sample",
                bind("random_sample", dist=dist, shape=shape, dtype=dt), (key(),))
            for dist, shape, dt in samples]
    rows += [Row(f"random_bits-{w}", "random_bits", bind("random_bits", bit_width=w, shape=(3,)),
                 (key(),)) for w in (8, 32, 64)]
    rows.append(Row("random_split-shape=(3,)", "random_split", bind("random_split", shape=(3,)),
                    (key(),)))
    rows.append(Row("random_split-shape=(2,2)", "random_split",
                    bind("random_split", shape=(2, 2)), (key(),)))
    rows.append(Row("random_fold_in", "random_fold_in", bind("random_fold_in"),
                    (key(), lambda rng: rng.integers(0, 2 ** 32, dtype=np.uint32))))
    rows.append(Row("random_randint", "random_randint",
                    lambda k, lo: bind("random_randint", shape=(4,), dtype=i64)(
                        k, lo, lo + 5, np.zeros(4, bool)), (key(), ints(3, 4))))
    return rows


def _joined(outs):
    """A gate's several outputs as one flat array, as the table's checks take one."""
    return jnp.concatenate([jnp.ravel(o) for o in tree_leaves(outs)])


def _control_flow_rows() -> list[Row]:
    from nanojax import lax

    def rnn(w, h, xs):
        return _joined(lax.scan(lambda c, x: (jnp.tanh(w @ c + x), jnp.sum(c)), h, xs))

    def doubling(x, limit):
        # Each example stops at its own step when the limit is batched.
        return _joined(lax.while_loop(lambda c: c[0] < limit,
                                      lambda c: (c[0] * 2.0 + 1.0, c[1] + 1), (x, 0)))

    def counted(x):
        return _joined(lax.while_loop(lambda c: c[1] < 3,
                                      lambda c: (jnp.sin(c[0]) + c[0], c[1] + 1), (x, 0)))
    branches = [lambda a, b: a * b, lambda a, b: a - b, lambda a, b: jnp.sin(a) + b]
    return [
        Row("cond-pred", "cond", lambda p, x, y: lax.cond(p, *branches[:2], x, y),
            (boolean(), f(3), f(3))),
        Row("cond-traced-pred", "cond", lambda x, y: lax.cond(jnp.sum(x) > 0, *branches[:2],
                                                             x, y), (f(3), f(2, 3))),
        Row("cond-switch-index", "cond", lambda i, x, y: lax.switch(i, branches, x, y),
            (ints(4), f(2, 3), f(2, 3))),
        Row("scan-rnn", "scan", rnn, (lambda rng: 0.5 * rng.normal(size=(3, 3)), f(3), f(4, 3))),
        Row("scan-reverse-no-carry", "scan",
            lambda xs, y: lax.scan(lambda _, x: (None, x * y), None, xs, reverse=True)[1],
            (f(4, 2), f(2))),
        Row("scan-int-counter", "scan",
            lambda xs: _joined(lax.scan(lambda c, x: ((c[0] + 1, c[1] + x * c[0]), c[0]),
                                        (0, 0.0), xs)),
            (f(5),)),
        Row("while-batched-pred", "while", doubling, (pos(), lambda rng: rng.uniform(3, 40))),
        Row("while-counter-pred", "while", counted, (f(2),)),
        Row("while-fori-dynamic", "while",
            lambda n, x: lax.fori_loop(0, n, lambda i, c: c * x + 1.0, x), (ints(4), f(2))),
    ]


def spd(n):
    """A symmetric positive definite matrix (cholesky, eigh)."""
    def draw(rng):
        x = rng.normal(size=(n, n))
        return x @ x.T + n * np.eye(n)
    return draw


def conditioned(n):
    """A square matrix well away from singular."""
    return lambda rng: rng.normal(size=(n, n)) + 3.0 * np.eye(n)


def joined(prim: str, **params) -> Callable:
    """A primitive with several results, its results flattened into one float vector."""
    return lambda *args: jnp.concatenate([jnp.ravel(jnp.astype(o, np.float64))
                                          for o in bind(prim, **params)(*args)])


def _linalg_rows() -> list[Row]:
    tri = "triangular_solve"
    return [
        Row("cholesky", "cholesky", bind("cholesky"), (spd(3),)),
        Row("triangular_solve-left-lower", tri, bind(tri, left_side=True, lower=True,
            transpose_a=False, conjugate_a=False, unit_diagonal=False),
            (conditioned(3), f(3, 2))),
        Row("triangular_solve-right-upper-transposed", tri, bind(tri, left_side=False,
            lower=False, transpose_a=True, conjugate_a=False, unit_diagonal=True),
            (conditioned(3), f(2, 3))),
        Row("inv", "inv", bind("inv"), (conditioned(3),)),
        Row("solve", "solve", bind("solve"), (conditioned(3), f(3, 2))),
        Row("det", "det", bind("det"), (conditioned(3),)),
        Row("slogdet", "slogdet", joined("slogdet"), (conditioned(3),)),
        Row("eigh", "eigh", joined("eigh", lower=True), (spd(3),)),
        Row("svd", "svd", joined("svd", full_matrices=False, compute_uv=True), (f(4, 3),)),
        Row("svd-values", "svd", joined("svd", full_matrices=True, compute_uv=False), (f(2, 3),)),
        Row("qr", "qr", joined("qr", full_matrices=False), (f(4, 3),)),
        Row("lu", "lu", joined("lu"), (f(3, 4),)),
    ]


def _cumulative_and_special_rows() -> list[Row]:
    rows = [Row(f"{name}-axis={axis}-reverse={rev}", name, bind(name, axis=axis, reverse=rev),
                (small(2, 3) if name != "cumlogsumexp" else f(2, 3),))
            for name in ("cumprod", "cummax", "cummin", "cumlogsumexp")
            for axis in (0, 1) for rev in (False, True)]
    inside = lambda *shape: lambda rng: rng.uniform(-0.9, 0.9, size=shape)  # noqa: E731
    for name, kind in [("erf", f), ("erfc", f), ("erf_inv", inside), ("lgamma", f),
                       ("digamma", pos)]:
        for shape in [(), (2, 3)]:
            rows.append(Row(f"{name}{shape}", name, bind(name), (kind(*shape),)))
    order = lambda *shape: lambda rng: rng.integers(0, 4, size=shape).astype(float)  # noqa: E731
    for ms, xs in [((), (3,)), ((3, 1), (1, 4))]:
        rows.append(Row(f"polygamma{ms}x{xs}", "polygamma", bind("polygamma"),
                        (order(*ms), pos(*xs))))
    return rows


ROWS = (_elementwise_rows() + _structural_rows() + _indexing_rows() + _random_rows()
        + _control_flow_rows() + _linalg_rows() + _cumulative_and_special_rows())


def _conv_rows() -> list[Row]:
    # Every mix of batched operands folds the batch into N, the output
    # features or the feature groups: with groups, and in another layout, too.
    conv = nj.lax.conv_general_dilated
    rows = [
        Row("conv-nchw", "conv_general_dilated",
            lambda x, w: conv(x, w, (2, 1), ((1, 0), (0, 1)), rhs_dilation=(1, 2)),
            (f(2, 2, 5, 4), f(3, 2, 2, 2))),
        Row("conv-nhwc-groups", "conv_general_dilated",
            lambda x, w: conv(x, w, (1, 1), "SAME",
                              dimension_numbers=("NHWC", "HWIO", "NHWC"),
                              feature_group_count=2), (f(2, 4, 3, 4), f(2, 2, 2, 6))),
        Row("conv-1d-lhs-dilation", "conv_general_dilated",
            lambda x, w: conv(x, w, (1,), ((1, 1),), lhs_dilation=(2,)),
            (f(1, 2, 4), f(2, 2, 3))),
    ]
    for kind, init, op in (("sum", 0.0, nj.lax.add), ("max", -np.inf, nj.lax.max),
                           ("min", np.inf, nj.lax.min)):
        rows.append(Row(f"reduce_window_{kind}", f"reduce_window_{kind}",
                        lambda x, init=init, op=op: nj.lax.reduce_window(
                            x, init, op, (2, 2), (1, 2), "SAME", window_dilation=(1, 2)),
                        (f(3, 5),)))
    rows.append(Row("reduce_window_index", "reduce_window_index",
                    bind("reduce_window_index", chooser="max", window_dimensions=(2, 3),
                         window_strides=(2, 1), padding=((1, 1), (0, 2)),
                         base_dilation=(1, 2), window_dilation=(1, 1)), (small(3, 4),)))
    return rows


ROWS += _conv_rows()

# The flat gates of the jnp-maths branch: nextafter, and signbit, gcd, lcm (no lax name).
ROWS += [Row(f"{name}{xs}x{ys}", name, bind(name), (kind(*xs), kind(*ys)))
         for name, kind in [("nextafter", f), ("gcd", lambda *s: ints(9, *s)),
                            ("lcm", lambda *s: ints(9, *s))]
         for xs, ys in [((), (3,)), ((3, 1), (1, 4))]]
ROWS += [Row(f"signbit{shape}", "signbit", bind("signbit"), (small(*shape),))
         for shape in [(), (2, 3)]]


# The scipy-stats branch's gates: scaled Bessel functions, incomplete gamma, eig.
ROWS += [Row(f"{name}{shape}", name, bind(name), (f(*shape),))
         for name in ("bessel_i0e", "bessel_i1e") for shape in [(), (2, 3)]]
ROWS += [Row(f"{name}{xs}x{ys}", name, bind(name), (pos(*xs), pos(*ys)))
         for name in ("igamma", "igammac") for xs, ys in [((), (3,)), ((3, 1), (1, 4))]]
ROWS += [Row("betainc", "betainc", bind("betainc"), (pos(3), pos(1, 3), lambda rng: rng.uniform(
    0.05, 0.95, size=(2, 1, 1))))]
ROWS += [Row(f"eig-{i}", "eig", lambda a, i=i: bind("eig", compute_right_eigenvectors=True)(a)[i],
             (f(3, 3),)) for i in (0, 1)]
ROWS += [Row("eig-values", "eig", lambda a: bind("eig", compute_right_eigenvectors=False)(a)[0],
             (f(2, 2),))]

def _nnrandom_rows() -> list[Row]:
    # Keys from seeds (elementwise: no loop), draws with array parameters and
    # gamma (a loop over keys, each parameter sliced with its key), gamma's gradient.
    i64, f64 = np.dtype(np.int64), np.dtype(np.float64)
    return [
        Row("random_seed", "random_seed", bind("random_seed"), (ints(1000),)),
        Row("random_draw-poisson", "random_draw",
            bind("random_draw", method="poisson", shape=(2, 3), dtype=i64), (key(), pos(2, 3))),
        Row("random_gamma", "random_gamma", bind("random_gamma", dtype=f64), (key(), pos(2, 3))),
        Row("random_gamma_grad", "random_gamma_grad", bind("random_gamma_grad"),
            (pos(2, 3), pos(2, 3))),
    ]


ROWS += _nnrandom_rows()
def _checkpoint_rows() -> list[Row]:
    layer = nj.checkpoint(lambda w, x: jnp.tanh(w @ x) + jnp.sum(w))
    power = nj.checkpoint(lambda x, n: jnp.sin(x) ** n, static_argnums=1)
    return [
        Row("checkpoint-layer", "checkpoint", layer, (f(3, 3), f(3))),
        Row("checkpoint-static", "checkpoint", lambda x: power(x, 2), (f(2, 3),)),
    ]


ROWS += _checkpoint_rows()


def draw(kinds: tuple, rng: np.random.Generator) -> list[tuple]:
    """B examples of a row's arguments."""
    return [tuple(k(rng) for k in kinds) for _ in range(B)]


# ----- The loop reference ---------------------------------------------------------

def loop_vmap(fun: Callable, in_axes: tuple, out_axes: int = 0) -> Callable:
    """vmap's meaning: slice each batched argument, call, stack the results."""
    def batched(*args):
        size = {np.shape(a)[ax] for a, ax in zip(args, in_axes) if ax is not None}.pop()
        outs = [fun(*[a if ax is None else np.take(a, b, axis=ax)
                      for a, ax in zip(args, in_axes)]) for b in range(size)]
        return tree_map(lambda *o: np.stack(o, axis=out_axes), *outs)
    return batched


def assert_same(got: Any, want: Any) -> None:
    got_leaves, want_leaves = tree_leaves(got), tree_leaves(want)
    assert len(got_leaves) == len(want_leaves)
    for g, w in zip(got_leaves, want_leaves):
        assert isinstance(g, np.ndarray), type(g)
        assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, g.dtype, w.shape, w.dtype)
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def axis_combinations(kinds: tuple, ranks: list[int]) -> list[tuple]:
    """Every batched/unbatched mix at axis 0, then all batched at 1 (or 0) and at -1."""
    n = len(kinds)
    combos = [c for c in itertools.product((None, 0), repeat=n) if c != (None,) * n]
    combos.append(tuple(1 if r >= 1 else 0 for r in ranks))
    combos.append((-1,) * n)
    return list(dict.fromkeys(combos))


def _cases():
    rng = np.random.default_rng(1)
    for row in ROWS:
        ranks = [np.ndim(k(rng)) for k in row.kinds]
        for axes in axis_combinations(row.kinds, ranks):
            yield pytest.param(row, axes, id=f"{row.id}-in_axes={axes}")


@pytest.mark.parametrize("row,in_axes", list(_cases()))
def test_vmap_of_primitive_matches_python_loop(row, in_axes):
    examples = draw(row.kinds, np.random.default_rng(zlib.crc32(row.id.encode())))
    args = [examples[0][i] if ax is None else np.stack([e[i] for e in examples], axis=ax)
            for i, ax in enumerate(in_axes)]
    out_rank = np.ndim(row.fun(*examples[0]))
    for out_axes in (0, 1 if out_rank >= 1 else -1):
        got = nj.vmap(row.fun, in_axes=in_axes, out_axes=out_axes)(*args)
        assert_same(got, loop_vmap(row.fun, in_axes, out_axes)(*args))


@pytest.mark.parametrize("row,in_axes", list(_cases())[::3])
def test_jit_of_vmap_of_primitive_matches_python_loop(row, in_axes):
    """The batched circuit stages too: abstract_eval agrees with each batch rule."""
    examples = draw(row.kinds, np.random.default_rng(zlib.crc32(row.id.encode())))
    args = [examples[0][i] if ax is None else np.stack([e[i] for e in examples], axis=ax)
            for i, ax in enumerate(in_axes)]
    got = nj.jit(nj.vmap(row.fun, in_axes=in_axes))(*args)
    assert_same(got, loop_vmap(row.fun, in_axes)(*args))


# Collectives mean something only under a vmap that names their axis, which
# this table's rows (staged alone, vmapped without a name) cannot express:
# tests/test_collectives.py checks their batch rules against per-example
# NumPy references, and an unnamed vmap around a named one against a loop.
NEEDS_A_NAMED_AXIS = {"psum", "pmax", "pmin", "all_gather", "psum_scatter", "ppermute",
                      "all_to_all", "axis_index"}


def test_every_primitive_has_a_vmap_row():
    missing = set(P.ALL_PRIMITIVES) - {row.prim for row in ROWS} - NEEDS_A_NAMED_AXIS
    assert not missing, f"primitives with no row in the vmap table: {sorted(missing)}"


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_vmap_row_records_the_primitive_it_names(row):
    example = draw(row.kinds, RNG)[0]
    names = {e.primitive.name for e in nj.make_jaxpr(row.fun)(*example).eqns}
    assert row.prim in names


# ----- The jnp surface under vmap: shape logic sees one example's shape -----------------

X = RNG.normal(size=(B, 2, 3))
V = RNG.normal(size=(B, 3))
LABELS = np.array([2, 0, 1])
SURFACE = [
    ("mean-last-axis", lambda x: jnp.mean(x, axis=-1), (X,)),
    ("var-keepdims", lambda x: jnp.var(x, axis=0, keepdims=True), (X,)),
    ("std-all", lambda x: jnp.std(x), (X,)),
    ("max-min-axis", lambda x: jnp.max(x, axis=1) - jnp.min(x, axis=-1), (X,)),
    ("prod", lambda x: jnp.prod(x, axis=0), (X,)),
    ("argmax-last", lambda x: jnp.argmax(x, axis=-1), (X,)),
    ("argmin-flat", lambda x: jnp.argmin(x), (X,)),
    ("softmax", lambda x: nj.nn.softmax(x), (X,)),
    ("logsumexp-axis0", lambda x: nj.nn.logsumexp(x, axis=0), (X,)),
    ("einsum-ij,j->i", lambda x, v: jnp.einsum("ij,j->i", x, v), (X, V)),
    ("einsum-ij,ik->jk", lambda x, y: jnp.einsum("ij,ik->jk", x, y), (X, X)),
    ("matmul-2d-1d", lambda x, v: x @ v, (X, V)),
    ("matmul-1d-2d", lambda v, x: jnp.matmul(v[:2], x), (V, X)),
    ("dot-1d-1d", lambda v: jnp.dot(v, v), (V,)),
    ("outer", lambda v, x: jnp.outer(v, x[0]), (V, X)),
    ("transpose-T", lambda x: x.T * 2.0, (X,)),
    ("reshape-minus-one", lambda x: jnp.reshape(x, (-1,)), (X,)),
    ("expand-squeeze", lambda x: jnp.squeeze(jnp.expand_dims(x, -1), axis=-1) + 1.0, (X,)),
    ("stack-axis-last", lambda x, v: jnp.stack([x[0], v], axis=-1), (X, V)),
    ("concatenate-axis-last", lambda x, v: jnp.concatenate([x, v[None]], axis=0), (X, V)),
    ("broadcast_to", lambda v: jnp.broadcast_to(v, (2, 3)), (V,)),
    ("clip-where", lambda x: jnp.where(x > 0, jnp.clip(x, -0.5, 0.5), 1.0), (X,)),
    ("one-hot", lambda label: nj.nn.one_hot(label, 4), (LABELS,)),
    ("index-by-batched-label", lambda v, label: v[label], (V, LABELS)),
    ("at-add-batched-label", lambda v, label: jnp.at(v)[label].add(10.0), (V, LABELS)),
    ("zeros-like-plus", lambda v: jnp.zeros_like(v) + v, (V,)),
    ("len-and-shape", lambda x: x[len(x) - 1] * x.shape[1], (X,)),
    ("iterate-rows", lambda x: sum(row * i for i, row in enumerate(x)), (X,)),
    ("numpy-ufuncs", lambda x: np.tanh(x) + np.sum(x, axis=1, keepdims=True), (X,)),
]


@pytest.mark.parametrize("fun,args", [s[1:] for s in SURFACE], ids=[s[0] for s in SURFACE])
def test_vmap_of_jnp_function_matches_python_loop(fun, args):
    assert_same(nj.vmap(fun)(*args), loop_vmap(fun, (0,) * len(args))(*args))


# ----- Nesting, pytrees, axis_size, out_axes ------------------------------------------

def _pair_dot(x, y):
    return jnp.tanh(jnp.dot(x, y))


NESTED = [
    # (name, f, args, inner in_axes, inner out_axes, outer in_axes, outer out_axes)
    ("all-pairs", _pair_dot, (RNG.normal(size=(4, 3)), RNG.normal(size=(5, 3))),
     (0, None), 0, (None, 0), 0),
    ("inner-axis1-outer-axis0", lambda x: jnp.sum(x * x) + x[0],
     (RNG.normal(size=(2, 3, 4)),), (1,), 0, (0,), 0),
    ("both-batched-out-axes-1", lambda x, y: x * y + 1.0,
     (RNG.normal(size=(2, 3, 4)), RNG.normal(size=(3, 4, 2))), (0, 1), 1, (1, 0), 1),
    ("negative-axes", lambda x, y: jnp.dot(x, y),
     (RNG.normal(size=(3, 4, 2)), RNG.normal(size=(3, 4))), (-1, None), 0, (-2, -1), 0),
]


@pytest.mark.parametrize("name,fun,args,ia_in,oa_in,ia_out,oa_out", NESTED,
                         ids=[n[0] for n in NESTED])
def test_nested_vmap_matches_nested_loops(name, fun, args, ia_in, oa_in, ia_out, oa_out):
    got = nj.vmap(nj.vmap(fun, in_axes=ia_in, out_axes=oa_in), in_axes=ia_out,
                  out_axes=oa_out)(*args)
    want = loop_vmap(loop_vmap(fun, ia_in, oa_in), ia_out, oa_out)(*args)
    assert_same(got, want)


def _affine(params, xy):
    x, y = xy
    return jnp.sum(params["w"] * x) + params["b"] - y


PARAMS = {"w": RNG.normal(size=3), "b": RNG.normal(size=B)}
XY = (RNG.normal(size=(B, 3)), RNG.normal(size=B))


@pytest.mark.parametrize("in_axes,per_example", [
    (({"w": None, "b": 0}, 0), lambda b: ({"w": PARAMS["w"], "b": PARAMS["b"][b]},
                                          (XY[0][b], XY[1][b]))),
    (({"w": None, "b": 0}, (0, None)), lambda b: ({"w": PARAMS["w"], "b": PARAMS["b"][b]},
                                                  (XY[0][b], XY[1]))),
    ([{"w": None, "b": None}, (0, 0)], lambda b: (PARAMS, (XY[0][b], XY[1][b]))),
], ids=["dict-prefix-and-int", "dict-and-tuple-prefix", "list-in_axes"])
def test_vmap_in_axes_is_a_pytree_prefix_of_the_arguments(in_axes, per_example):
    got = nj.vmap(_affine, in_axes=in_axes)(PARAMS, XY)
    want = np.stack([_affine(*per_example(b)) for b in range(B)])
    assert_same(got, want)


def test_vmap_over_a_dict_argument_batches_every_leaf():
    tree = {"a": RNG.normal(size=(B, 2)), "b": RNG.normal(size=B)}
    got = nj.vmap(lambda t: {"out": t["a"] * t["b"]})(tree)
    assert_same(got, {"out": tree["a"] * tree["b"][:, None]})


@pytest.mark.parametrize("neg,pos", [(-1, 1), (-2, 0)])
def test_negative_in_axes_count_from_the_end(neg, pos):
    x = RNG.normal(size=(B, 4))
    fun = lambda v: jnp.sum(jnp.exp(v))                               # noqa: E731
    assert_same(nj.vmap(fun, in_axes=neg)(x), nj.vmap(fun, in_axes=pos)(x))


def test_axis_size_with_no_batched_input_repeats_the_result():
    x = RNG.normal(size=3)
    got = nj.vmap(lambda v: jnp.tanh(v) * 2.0, in_axes=None, axis_size=4)(x)
    assert_same(got, np.broadcast_to(np.tanh(x) * 2.0, (4, 3)))
    assert_same(nj.vmap(lambda: jnp.ones(2), axis_size=3)(), np.ones((3, 2)))


def test_axis_size_agreeing_with_the_batched_inputs_is_accepted():
    x = RNG.normal(size=(B, 2))
    assert_same(nj.vmap(jnp.sin, axis_size=B)(x), np.sin(x))


def test_out_axes_none_returns_an_unbatched_output_as_is():
    x, y = RNG.normal(size=(B, 2)), RNG.normal(size=2)
    got_xy, got_y = nj.vmap(lambda a, b: (a * b, b + 1.0), in_axes=(0, None),
                            out_axes=(0, None))(x, y)
    assert_same(got_xy, x * y)
    assert_same(got_y, y + 1.0)


def test_out_axes_is_a_pytree_prefix_of_the_outputs():
    x = RNG.normal(size=(B, 2))
    pair, tree = nj.vmap(lambda v: (v, {"a": v * 2.0, "b": v[0]}),
                         out_axes=(1, {"a": -1, "b": 0}))(x)
    assert_same(pair, x.T)
    assert_same(tree, {"a": (x * 2.0).T, "b": x[:, 0]})


def test_out_axes_none_for_a_batched_output_raises():
    with pytest.raises(ValueError, match="out_axes"):
        nj.vmap(lambda a: a * 2.0, out_axes=None)(np.ones(B))


def test_unbatched_output_is_broadcast_along_out_axes():
    got = nj.vmap(lambda a, b: b * 2.0, in_axes=(0, None), out_axes=1)(np.ones(B), np.ones(2))
    assert_same(got, np.full((2, B), 2.0))


# ----- Per-example gradients -------------------------------------------------------

def mlp_loss(params, x, y):
    h = jnp.tanh(jnp.dot(params["W1"], x) + params["b1"])
    out = jnp.dot(params["W2"], h) + params["b2"]
    return jnp.sum((out - y) ** 2)


def softmax_loss(params, x, label):
    logits = jnp.dot(params["W"], x) + params["b"]
    return -nj.nn.log_softmax(logits)[label]


PER_EXAMPLE = [
    ("mlp", mlp_loss,
     {"W1": RNG.normal(size=(4, 3)), "b1": RNG.normal(size=4),
      "W2": RNG.normal(size=(2, 4)), "b2": RNG.normal(size=2)},
     RNG.normal(size=(5, 3)), RNG.normal(size=(5, 2))),
    ("softmax", softmax_loss, {"W": RNG.normal(size=(3, 4)), "b": RNG.normal(size=3)},
     RNG.normal(size=(5, 4)), RNG.integers(0, 3, size=5)),
]


@pytest.mark.parametrize("name,loss,params,X,Y", PER_EXAMPLE, ids=[p[0] for p in PER_EXAMPLE])
def test_per_example_gradients_match_a_loop_of_grad(name, loss, params, X, Y):
    got = nj.vmap(nj.grad(loss), in_axes=(None, 0, 0))(params, X, Y)
    loop = [nj.grad(loss)(params, X[i], Y[i]) for i in range(len(X))]
    assert_same(got, tree_map(lambda *g: np.stack(g), *loop))
    mean_loss = lambda p: sum(loss(p, X[i], Y[i]) for i in range(len(X))) / len(X)  # noqa: E731
    mean_of_per_example = tree_map(lambda g: g.mean(axis=0), got)
    for a, b in zip(tree_leaves(mean_of_per_example), tree_leaves(nj.grad(mean_loss)(params))):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


# ----- Jacobians ---------------------------------------------------------------------

def numerical_jacobian(fun: Callable, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences; shape fun(x).shape + x.shape."""
    x = np.asarray(x, dtype=np.float64)
    out_shape = np.shape(fun(x))
    jac = np.zeros(out_shape + x.shape)
    for pos in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[pos] = eps
        jac[(...,) + pos] = (np.asarray(fun(x + step)) - np.asarray(fun(x - step))) / (2 * eps)
    return jac


W23 = RNG.normal(size=(2, 3))
JAC_FUNS = [
    ("vector->vector", lambda x: jnp.tanh(jnp.dot(W23, x)) * x[0], RNG.normal(size=3)),
    ("matrix->vector", lambda x: jnp.sum(jnp.sin(x) * x, axis=0), RNG.normal(size=(2, 3))),
    ("vector->scalar", lambda x: jnp.sum(jnp.exp(x)) * x[1], RNG.normal(size=3)),
    ("scalar->vector", lambda x: jnp.array([1.0, 2.0]) * jnp.cos(x), np.float64(0.3)),
    ("matrix->matrix", lambda x: jnp.dot(x, x.T), RNG.normal(size=(2, 3))),
]


@pytest.mark.parametrize("jac", [nj.jacrev, nj.jacfwd], ids=["jacrev", "jacfwd"])
@pytest.mark.parametrize("name,fun,x", JAC_FUNS, ids=[j[0] for j in JAC_FUNS])
def test_jacobian_matches_finite_differences_with_shape_out_plus_in(jac, name, fun, x):
    got = jac(fun)(x)
    want = numerical_jacobian(fun, x)
    assert np.shape(got) == np.shape(fun(x)) + np.shape(x)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


def _tree_fun(p):
    return {"u": jnp.tanh(p["a"]) * p["b"], "v": (jnp.sum(p["a"] ** 2),)}


@pytest.mark.parametrize("jac", [nj.jacrev, nj.jacfwd], ids=["jacrev", "jacfwd"])
def test_jacobian_of_pytree_function_is_output_tree_of_input_trees(jac):
    p = {"a": RNG.normal(size=3), "b": np.float64(1.7)}
    got = jac(_tree_fun)(p)
    for out_key, pick in [("u", lambda o: o["u"]), ("v", lambda o: o["v"][0])]:
        block = got[out_key] if out_key == "u" else got["v"][0]
        for in_key in ("a", "b"):
            def partial(leaf, in_key=in_key, pick=pick):
                return pick(_tree_fun({**p, in_key: leaf}))
            want = numerical_jacobian(partial, p[in_key])
            assert np.shape(block[in_key]) == np.shape(want)
            np.testing.assert_allclose(block[in_key], want, rtol=1e-6, atol=1e-8)


def _two_args(x, y):
    return jnp.sin(x) * jnp.sum(y)


@pytest.mark.parametrize("jac", [nj.jacrev, nj.jacfwd], ids=["jacrev", "jacfwd"])
@pytest.mark.parametrize("argnums", [(0, 1), (1, 0), (1,)])
def test_jacobian_argnums_tuple_gives_a_tuple_of_jacobians(jac, argnums):
    args = (RNG.normal(size=2), RNG.normal(size=(3, 2)))
    got = jac(_two_args, argnums=argnums)(*args)
    assert isinstance(got, tuple) and len(got) == len(argnums)
    for block, i in zip(got, argnums):
        def partial(v, i=i):
            return _two_args(*[v if k == i else a for k, a in enumerate(args)])
        np.testing.assert_allclose(block, numerical_jacobian(partial, args[i]),
                                   rtol=1e-6, atol=1e-8)


HESS_FUNS = [
    ("vector", lambda x: jnp.sum(jnp.tanh(x) * x[0]) + jnp.prod(x), RNG.normal(size=3)),
    ("matrix", lambda x: jnp.sum(jnp.dot(x, x.T) ** 2), RNG.normal(size=(2, 3))),
]


@pytest.mark.parametrize("name,fun,x", HESS_FUNS, ids=[h[0] for h in HESS_FUNS])
def test_hessian_matches_finite_differences_of_grad_and_is_symmetric(name, fun, x):
    got = nj.hessian(fun)(x)
    want = numerical_jacobian(nj.grad(fun), x)
    assert got.shape == x.shape + x.shape
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    flat = got.reshape(x.size, x.size)
    np.testing.assert_allclose(flat, flat.T, rtol=1e-12, atol=1e-12)


def test_hessian_with_argnums_tuple_is_nested_blocks():
    x, y = RNG.normal(size=2), RNG.normal(size=3)
    fun = lambda a, b: jnp.sum(jnp.sin(a)) * jnp.sum(b ** 2)          # noqa: E731
    (hxx, hxy), (hyx, hyy) = nj.hessian(fun, argnums=(0, 1))(x, y)
    assert (hxx.shape, hxy.shape, hyx.shape, hyy.shape) == ((2, 2), (2, 3), (3, 2), (3, 3))
    np.testing.assert_allclose(hxy, np.outer(np.cos(x), 2 * y), rtol=1e-12)
    np.testing.assert_allclose(hyx, hxy.T, rtol=1e-12)
    np.testing.assert_allclose(hxx, np.diag(-np.sin(x)) * np.sum(y ** 2), rtol=1e-12)
    np.testing.assert_allclose(hyy, 2 * np.eye(3) * np.sum(np.sin(x)), rtol=1e-12)


# ----- Errors for bad inputs ---------------------------------------------------------

def test_inconsistent_axis_sizes_name_each_arguments_size():
    with pytest.raises(ValueError, match="inconsistent") as info:
        nj.vmap(lambda a, b, c: a + b + c)(np.ones(3), np.ones(4), np.ones(3))
    msg = str(info.value)
    assert "argument 0" in msg and "argument 1" in msg and "argument 2" in msg
    assert "size 3" in msg and "size 4" in msg


def test_inconsistent_axis_sizes_inside_a_pytree_name_the_leaf():
    with pytest.raises(ValueError, match="inconsistent") as info:
        nj.vmap(lambda t: t["a"] + t["b"])({"a": np.ones(3), "b": np.ones(4)})
    assert "'a'" in str(info.value) and "'b'" in str(info.value)


def test_axis_size_disagreeing_with_the_inputs_raises():
    with pytest.raises(ValueError, match="axis_size=5"):
        nj.vmap(jnp.sin, axis_size=5)(np.ones(3))


@pytest.mark.parametrize("in_axes,args", [
    ((0,), (np.ones(3), np.ones(3))),
    ((0, 0, 0), (np.ones(3), np.ones(3))),
    ((0, (0, 0)), (np.ones(3), np.ones(3))),
    (({"a": 0},), ({"a": np.ones(3), "b": np.ones(3)},)),
    (((0, 0),), ({"a": np.ones(3), "b": np.ones(3)},)),
], ids=["too-few", "too-many", "tuple-for-array", "dict-missing-key", "tuple-for-dict"])
def test_in_axes_not_matching_the_argument_structure_raises(in_axes, args):
    with pytest.raises(ValueError, match="in_axes"):
        nj.vmap(lambda *a: sum(tree_leaves(a)), in_axes=in_axes)(*args)


@pytest.mark.parametrize("in_axes,shape", [(2, (3, 4)), (-3, (3, 4)), (0, ())])
def test_in_axes_out_of_range_raises(in_axes, shape):
    with pytest.raises(ValueError, match="out of range"):
        nj.vmap(jnp.sin, in_axes=in_axes)(np.ones(shape))


def test_out_axes_out_of_range_raises():
    with pytest.raises(ValueError, match="out_axes"):
        nj.vmap(jnp.sin, out_axes=2)(np.ones((3, 4)))


def test_no_batched_input_and_no_axis_size_raises_naming_axis_size():
    with pytest.raises(ValueError, match="axis_size"):
        nj.vmap(jnp.sin, in_axes=None)(np.ones(3))


def test_python_if_on_a_batched_value_raises_tracer_bool_conversion_error():
    def relu_with_if(x):
        return x if x > 0 else 0.0 * x
    with pytest.raises(nj.errors.TracerBoolConversionError, match=r"jnp.where"):
        nj.vmap(relu_with_if)(np.array([-1.0, 2.0]))


def test_keyword_arguments_are_batched_along_axis_zero_as_in_jax():
    f = nj.vmap(lambda x, y=0.0, scale=1.0: (x + y) * scale, in_axes=(0,))
    got = f(np.arange(3.0), y=np.full(3, 10.0), scale=np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(got, [10.0, 22.0, 36.0])
    with pytest.raises(ValueError, match="inconsistent sizes"):
        f(np.arange(3.0), y=np.ones(4))
