"""einsum: NumPy's whole grammar, eagerly and under jit, grad and vmap.

Every spec in CASES is checked four ways: the eager call is numpy.einsum's
result, the jitted call matches it, check_grads passes at order 2 in both
modes, and vmap over the first operand's leading axis equals a Python loop.
The error tables check that each bad call raises NumPy's exception type with
a message of ours, eagerly and traced.
"""

from __future__ import annotations

import numpy as np
import pytest

import nanojax as nj
from nanojax.numpy._einsum import einsum

RNG = np.random.default_rng(1234)
BATCH = 2


class Case:
    """A call ``einsum(*build(operands))`` on random operands of ``shapes``."""

    def __init__(self, name, shapes, build):
        self.name, self.shapes, self.build = name, shapes, build

    def operands(self):
        return tuple(RNG.standard_normal(s) for s in self.shapes)

    def fn(self, **kwargs):
        return lambda *xs: einsum(*self.build(xs), **kwargs)


def spec(subscripts, *shapes, name=None):
    return Case(name or subscripts, shapes, lambda xs: (subscripts, *xs))


def sublist(name, shapes, *labels):
    """Interleave operands with ``labels``; one extra entry is the output sublist."""
    def build(xs):
        args = []
        for x, sub in zip(xs, labels):
            args += [x, sub]
        return tuple(args) + tuple(labels[len(xs):])
    return Case(name, shapes, build)


E = Ellipsis
CASES = [
    # One operand: transposes, sums, identity.
    spec("ij->ji", (2, 3)),
    spec("ji", (2, 3), name="ji-implicit-transpose"),
    spec("ij->", (2, 3)),
    spec("ij->j", (2, 3)),
    spec("ij->ij", (2, 3)),
    spec("ijk->kij", (2, 3, 2)),
    # Diagonals: a letter repeated in one operand.
    spec("ii->i", (3, 3)),
    spec("ii", (3, 3), name="ii-trace-implicit"),
    spec("ii->", (3, 3)),
    spec("iij->j", (2, 2, 3)),
    spec("iij->ji", (2, 2, 3)),
    spec("iii->i", (2, 2, 2)),
    spec("iijj->ji", (2, 2, 3, 3)),
    spec("ijji,j->i", (2, 3, 3, 2), (3,)),
    spec("ii,ij->j", (2, 2), (2, 3)),
    # Scalars and vectors.
    spec(",->", (), ()),
    spec(",", (), (), name="comma-implicit"),
    spec("i,->i", (3,), ()),
    spec("i,i", (3,), (3,)),
    spec("i,i->i", (3,), (3,)),
    spec("i,j->ij", (2,), (3,)),
    # Two operands: products, batches, contractions, sums.
    spec("ij,jk->ik", (2, 3), (3, 2)),
    spec("ij,jk", (2, 3), (3, 2), name="ij,jk-implicit"),
    spec("ij,jk->ki", (2, 3), (3, 2)),
    spec("ij,ij->ij", (2, 3), (2, 3)),
    spec("ij,ij->", (2, 3), (2, 3)),
    spec("bij,bjk->bik", (2, 2, 3), (2, 3, 2)),
    spec("bij,bjk->kib", (2, 2, 3), (2, 3, 2)),
    spec("ijk,kl->il", (2, 3, 2), (2, 3)),
    spec("ij,kl->ik", (2, 3), (2, 2)),
    spec("ijk,ikj->i", (2, 3, 2), (2, 2, 3)),
    spec(" i j , j k -> i k ", (2, 3), (3, 2), name="spaces"),
    # Uppercase letters: implicit output is in character-code order.
    spec("bA", (2, 3), name="bA-implicit-uppercase-first"),
    spec("Ba,a", (2, 3), (3,), name="Ba,a-implicit"),
    # Chains of 3 to 5 operands.
    spec("ij,jk,kl->il", (2, 3), (3, 2), (2, 3)),
    spec("ij,jk,kl,lm->im", (2, 3), (3, 2), (2, 3), (3, 2)),
    spec("ab,bc,cd,de,ef->af", (2, 2), (2, 3), (3, 2), (2, 2), (2, 2)),
    spec("i,ij,j->", (2,), (2, 3), (3,)),
    spec("ij,jk,ki->", (2, 3), (3, 2), (2, 2)),
    spec("i,j,k->ijk", (2,), (3,), (2,)),
    spec("ea,fb,abcd,gc,hd->efgh", (2, 2), (2, 2), (2, 2, 2, 2), (2, 2), (2, 2)),
    spec("ij,jk,kk->i", (2, 3), (3, 2), (2, 2)),
    # Ellipsis, with broadcasting of size-1 axes and different '...' ranks.
    spec("...ij,...jk->...ik", (2, 1, 2, 3), (2, 3, 2)),
    spec("...i,...i->...", (2, 1, 3), (2, 3)),
    spec("i...,...i", (3, 1), (2, 3), name="i...,...i-implicit"),
    spec("...,...", (2, 3), (3,), name="...,...-implicit"),
    spec("...ii->...i", (2, 3, 3)),
    spec("...->...", (2, 3)),
    spec("ij->...ij", (2, 3)),
    spec("A...,A", (2, 3), (2,), name="A...,A-implicit-ellipsis-first"),
    spec("i...j,j...->...i", (2, 3, 2), (2, 1)),
    # Size-1 axes of a letter broadcast against the other operands.
    spec("i,i->i", (3,), (1,), name="i,i->i-size-1"),
    spec("ij,j->ij", (3, 1), (2,), name="ij,j->ij-size-1"),
    spec("ij,jk->ik", (2, 1), (2, 3), name="ij,jk->ik-size-1-contracted"),
    # The sublist form, with and without an output sublist.
    sublist("sub-matmul", [(2, 3), (3, 2)], [0, 1], [1, 2], [0, 2]),
    sublist("sub-matmul-implicit", [(2, 3), (3, 2)], [0, 1], [1, 2]),
    sublist("sub-transpose", [(2, 3)], [0, 1], [1, 0]),
    sublist("sub-trace", [(3, 3)], [0, 0]),
    sublist("sub-ellipsis", [(2, 2, 3), (3, 2)], [E, 0, 1], [1, 2], [E, 0, 2]),
    sublist("sub-high-labels", [(2, 3), (3, 2), (2, 2)], [0, 27], (27, 1), [1, 51]),
    sublist("sub-numpy-ints", [(2, 3), (3,)], [np.int64(0), np.int32(1)], (1,), [0]),
]
IDS = [c.name for c in CASES]


def _batched_first(operands):
    first = RNG.standard_normal((BATCH,) + np.shape(operands[0]))
    return first, operands[1:]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_eager_matches_numpy_and_jit_to_the_bit(case):
    # Eagerly einsum takes the traced path's steps (its primitives run at
    # once): NumPy's own sum order differs, jit's must not.
    ops = case.operands()
    got, want = einsum(*case.build(ops)), np.einsum(*case.build(ops))
    assert np.shape(got) == np.shape(want) and np.asarray(got).dtype == np.asarray(want).dtype
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    jitted = nj.jit(case.fn())(*ops)
    assert np.asarray(jitted).tobytes() == np.asarray(got).tobytes()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_jit_matches_numpy(case):
    ops = case.operands()
    got, want = nj.jit(case.fn())(*ops), np.einsum(*case.build(ops))
    assert np.shape(got) == np.shape(want)
    assert np.asarray(got).dtype == np.asarray(want).dtype
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_check_grads_order_2(case):
    nj.check_grads(case.fn(), case.operands(), order=2, modes=("fwd", "rev"))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_vmap_over_first_operand_is_a_loop(case):
    first, rest = _batched_first(case.operands())
    f = case.fn()
    got = nj.vmap(lambda x: f(x, *rest))(first)
    want = np.stack([np.einsum(*case.build((x, *rest))) for x in first])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_there_are_enough_specs():
    assert len(CASES) >= 40


# ----- dtypes and operand kinds ----------------------------------------------------------

DTYPE_CASES = [
    ("ij,jk->ik", [np.int64, np.int64]),
    ("ij,jk->ik", [np.int32, np.int32]),
    ("ij,jk->ik", [np.int8, np.uint8]),
    ("ij,jk->ik", [np.float32, np.float32]),
    ("ij,jk->ik", [np.float32, np.int64]),
    ("ij,jk->ik", [np.bool_, np.bool_]),
    ("ii->", [np.int32]),
    ("ij->", [np.bool_]),
    ("ij,jk->ik", [np.complex128, np.float64]),
]


@pytest.mark.parametrize("subscripts,dtypes", DTYPE_CASES,
                         ids=[f"{s}-{'-'.join(np.dtype(d).name for d in ds)}"
                              for s, ds in DTYPE_CASES])
def test_result_dtype_follows_numpy(subscripts, dtypes):
    shapes = [(2, 2), (2, 3)]
    ops = [(RNG.integers(0, 3, size=s)).astype(d) for s, d in zip(shapes, dtypes)]
    want = np.einsum(subscripts, *ops)
    got = nj.jit(lambda *xs: einsum(subscripts, *xs))(*ops)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_python_numbers_and_nested_lists_as_operands():
    x = RNG.standard_normal(3).astype(np.float32)
    for f in (lambda t: einsum("i,->i", t, 2.0),          # a Python float is float64
              lambda t: einsum("i,i->", t, [1, 2, 3]),
              lambda t: einsum("i,ij->j", t, [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),
              lambda t: einsum(",i->i", 3, t)):
        want = f(x)
        got = nj.jit(f)(x)
        assert got.dtype == np.asarray(want).dtype
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_a_list_holding_traced_values_is_stacked():
    v = np.array([1.0, 2.0])
    got = nj.grad(lambda t: einsum("i,i->", [t, 2.0 * t], v))(3.0)
    assert got == 5.0


def test_grad_and_vmap_compose_with_jit():
    a, b = RNG.standard_normal((3, 2, 3)), RNG.standard_normal((3, 3, 3))
    f = nj.jit(nj.vmap(nj.grad(lambda x, y: einsum("ij,jk,ik->", x, y, x))))
    want = np.stack([x @ y.T + x @ y for x, y in zip(a, b)])
    np.testing.assert_allclose(f(a, b), want, rtol=1e-12)


def test_both_operands_batched_at_other_axes():
    a, b = RNG.standard_normal((2, 4, 3)), RNG.standard_normal((3, 4, 2))
    got = nj.vmap(lambda x, y: einsum("ij,jk->ik", x, y), in_axes=(1, 1))(a, b)
    want = np.stack([a[:, n] @ b[:, n] for n in range(4)])
    np.testing.assert_allclose(got, want, rtol=1e-12)


# ----- optimize ------------------------------------------------------------------------------

OPERANDS_3 = (RNG.standard_normal((2, 3)), RNG.standard_normal((3, 4)),
              RNG.standard_normal(4))


@pytest.mark.parametrize("optimize", [
    False, True, None, "greedy", "optimal", ("greedy", 1000),
    ["einsum_path", (0, 1), (0, 1)], ["einsum_path", (1, 2), (0, 1)],
    ("einsum_path", (0, 1, 2)), ["einsum_path", (0, 2), (0, 1), (0,)],
], ids=repr)
def test_every_optimize_form_gives_numpys_answer(optimize):
    want = np.einsum("ij,jk,k->i", *OPERANDS_3, optimize=optimize)
    np.testing.assert_allclose(einsum("ij,jk,k->i", *OPERANDS_3, optimize=optimize), want)
    got = nj.jit(lambda *xs: einsum("ij,jk,k->i", *xs, optimize=optimize))(*OPERANDS_3)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_an_explicit_path_is_followed():
    jaxpr = nj.make_jaxpr(lambda *xs: einsum("ij,jk,k->i", *xs,
                                             optimize=["einsum_path", (0, 1), (0, 1)]))
    shapes = [eqn.outvars[0].aval.shape for eqn in jaxpr(*OPERANDS_3).eqns]
    assert shapes[0] == (2, 4)                  # ij,jk first, as the path says


def test_numpy_path_from_einsum_path_is_accepted():
    path, _ = np.einsum_path("ij,jk,k->i", *OPERANDS_3, optimize="greedy")
    got = nj.jit(lambda *xs: einsum("ij,jk,k->i", *xs, optimize=path))(*OPERANDS_3)
    np.testing.assert_allclose(got, np.einsum("ij,jk,k->i", *OPERANDS_3), rtol=1e-12)


def test_ellipsis_missing_from_output_is_summed_unless_optimize_is_false():
    x = RNG.standard_normal((2, 3))
    want = np.einsum("...i->i", x, optimize=True)
    np.testing.assert_allclose(einsum("...i->i", x, optimize=True), want)
    got = nj.jit(lambda t: einsum("...i->i", t, optimize="greedy"))(x)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    nj.check_grads(lambda t: einsum("...i->i", t, optimize=True), (x,), order=1)


# ----- the circuit ---------------------------------------------------------------------------

ALLOWED = {"dot_general", "transpose", "reduce_sum", "reshape", "broadcast_in_dim", "mul",
           "convert_element_type"}


def test_three_operand_jaxpr_has_only_contraction_primitives():
    ops = (np.ones((2, 3)), np.ones((3, 4)), np.ones((4, 5)))
    jaxpr = nj.make_jaxpr(lambda a, b, c: einsum("ij,jk,kl->il", a, b, c))(*ops)
    names = [eqn.primitive.name for eqn in jaxpr.eqns]
    assert set(names) <= ALLOWED, names
    assert names.count("dot_general") == 2 and len(names) <= 4, names


def test_greedy_order_keeps_intermediates_small():
    # Left to right, (10,10)x(10,10) products come first; greedy folds the
    # vector in at once, so every intermediate is a vector.
    ops = (np.ones((10, 10)), np.ones((10, 10)), np.ones((10, 10)), np.ones(10))
    jaxpr = nj.make_jaxpr(lambda *xs: einsum("ij,jk,kl,l->i", *xs))(*ops)
    sizes = [eqn.outvars[0].aval.size for eqn in jaxpr.eqns]
    assert max(sizes) == 10, str(jaxpr)


def test_unused_letters_are_summed_before_contracting():
    ops = (np.ones((2, 3, 4)), np.ones((2, 5)))
    jaxpr = nj.make_jaxpr(lambda a, b: einsum("ijk,il->l", a, b))(*ops)
    assert jaxpr.eqns[0].primitive.name == "reduce_sum", str(jaxpr)


def test_diagonal_is_one_gather():
    jaxpr = nj.make_jaxpr(lambda a: einsum("iji->ij", a))(np.ones((2, 3, 2)))
    names = [eqn.primitive.name for eqn in jaxpr.eqns]
    assert names.count("gather") == 1 and set(names) <= ALLOWED | {"gather"}, names


def test_parameters_are_plain_python_ints():
    ops = (np.ones((2, 2, 3)), np.ones((1, 3)), np.ones(2))
    jaxpr = nj.make_jaxpr(lambda *xs: einsum("iij,kj,i->k", *xs))(*ops)

    def plain(v):
        if isinstance(v, tuple):
            return all(plain(e) for e in v)
        return type(v) is int or not isinstance(v, (int, np.integer))
    for eqn in jaxpr.eqns:
        assert all(plain(v) for v in eqn.params.values()), (eqn, eqn.params)


# ----- errors -------------------------------------------------------------------------------

def _ones(*shapes):
    return [np.ones(s) for s in shapes]


# (id, operand shapes, build(operands) -> args, keyword arguments, exception, fragment)
ERRORS = [
    ("size-mismatch", [(2, 3), (4, 5)], lambda a, b: ("ij,jk->ik", a, b), {}, ValueError,
     "letter 'j' has size 3"),
    ("size-mismatch-3-ops", [(2, 3), (3, 5), (4, 5)], lambda a, b, c: ("ij,jk,kl", a, b, c),
     {}, ValueError, "letter 'k'"),
    ("rank-too-high", [(2, 3, 4)], lambda a: ("ij", a), {}, ValueError, "no '...'"),
    ("rank-too-low", [(2, 3)], lambda a: ("ijk", a), {}, ValueError, "name 3"),
    ("rank-with-ellipsis", [(2,)], lambda a: ("ij...", a), {}, ValueError, "name 2"),
    ("output-not-in-input", [(2, 3)], lambda a: ("ij->k", a), {}, ValueError,
     "in no input"),
    ("output-repeated", [(2, 3)], lambda a: ("ij->ii", a), {}, ValueError,
     "more than once"),
    ("non-letter", [(2, 3)], lambda a: ("i1", a), {}, ValueError, "invalid character '1'"),
    ("tab", [(2, 3)], lambda a: ("i\tj", a), {}, ValueError, "invalid character"),
    ("two-arrows", [(2, 3)], lambda a: ("ij->j->i", a), {}, ValueError, "'->'"),
    ("dash-alone", [(2, 3)], lambda a: ("ij-j", a), {}, ValueError, "'->'"),
    ("lone-dot", [(2, 3)], lambda a: ("i.j", a), {}, ValueError, "'.'"),
    ("two-ellipses", [(2, 3)], lambda a: ("...i...", a), {}, ValueError, "more than one"),
    ("too-few-operands", [(2, 3)], lambda a: ("ij,jk", a), {}, ValueError,
     "describe 2 operands, but 1 was given"),
    ("too-many-operands", [(2, 3), (3,)], lambda a, b: ("ij", a, b), {}, ValueError,
     "describe 1 operand, but 2 were given"),
    ("diagonal-sizes", [(2, 3)], lambda a: ("ii", a), {}, ValueError, "equal sizes"),
    ("ellipsis-broadcast", [(2, 3), (4, 3)], lambda a, b: ("...i,...i", a, b), {},
     ValueError, "do not broadcast"),
    ("ellipsis-not-in-output", [(2, 3)], lambda a: ("...i->i", a), {}, ValueError,
     "optimize=True"),
    ("sublist-out-of-range", [(2, 3)], lambda a: (a, [0, 52]), {}, ValueError, "[0, 52)"),
    ("sublist-negative", [(2, 3)], lambda a: (a, [-1, 0]), {}, ValueError, "[0, 52)"),
    ("sublist-label-type", [(2, 3)], lambda a: (a, [0, "j"]), {}, TypeError, "ints"),
    ("sublist-bool-label", [(2, 3)], lambda a: (a, [True, 0]), {}, TypeError, "ints"),
    ("sublist-not-a-list", [(2, 3)], lambda a: (a, 5), {}, TypeError, "list"),
    ("sublist-two-ellipses", [(2, 3)], lambda a: (a, [E, 0, E]), {}, ValueError,
     "more than one"),
    ("sublist-size-mismatch", [(3,), (4,)], lambda a, b: (a, [0], b, [0]), {}, ValueError,
     "label 0 has size 3"),
    ("sublist-output-repeated", [(2, 3)], lambda a: (a, [0, 1], [0, 0]), {}, ValueError,
     "label 0 appears more than once"),
    ("optimize-bad-path-index", [(2, 3), (3,)], lambda a, b: ("ij,j", a, b),
     {"optimize": ["einsum_path", (0, 5)]}, IndexError, "outside"),
    ("optimize-incomplete-path", [(2, 3), (3, 3), (3,)], lambda a, b, c: ("ij,jk,k", a, b, c),
     {"optimize": ["einsum_path", (0, 1)]}, RuntimeError, "uncontracted"),
    ("optimize-not-understood", [(2, 3), (3,)], lambda a, b: ("ij,j", a, b),
     {"optimize": [(0, 1)]}, TypeError, "optimize must be"),
]
# Errors NumPy does not raise, or raises with another type: ours are stricter.
OUR_ERRORS = [
    ("operand-None", [(3,)], lambda a: ("i,i", a, None), {}, TypeError, "NoneType"),
    ("operand-str", [(3,)], lambda a: ("i,i", a, "abc"), {}, TypeError, "str"),
    ("operand-object-array", [(3,)],
     lambda a: ("i,i", a, np.array([1, "x", None], dtype=object)), {}, TypeError, "numeric"),
    ("operand-str-list", [(2,)], lambda a: ("i,i", a, ["a", "b"]), {}, TypeError, "numeric"),
    ("operand-dict", [(3,)], lambda a: ("i,->i", a, {"k": 1}), {}, TypeError, "dict"),
    ("optimize-unknown-name", [(2, 3), (3,)], lambda a, b: ("ij,j", a, b),
     {"optimize": "fastest"}, ValueError, "path algorithm"),
    ("optimize-int", [(2, 3), (3,)], lambda a, b: ("ij,j", a, b),
     {"optimize": 3}, TypeError, "optimize must be"),
    ("optimize-repeated-step", [(2, 3), (3,)], lambda a, b: ("ij,j", a, b),
     {"optimize": ["einsum_path", (0, 0)]}, ValueError, "twice"),
    ("keyword-dtype", [(3,)], lambda a: ("i", a), {"dtype": np.float32},
     NotImplementedError, "dtype"),
    ("keyword-out", [(3,)], lambda a: ("i", a), {"out": np.empty(3)},
     NotImplementedError, "out"),
    ("keyword-unknown", [(3,)], lambda a: ("i", a), {"precision": "high"}, TypeError,
     "precision"),
]
ALL_ERRORS = ERRORS + OUR_ERRORS
ERROR_FIELDS = "name,shapes,build,kwargs,exc,fragment"


def _check(info, fragment):
    message = str(info.value)
    assert message.startswith("nanojax.numpy.einsum: "), message
    assert fragment in message, message
    assert "\n" not in message, message


@pytest.mark.parametrize(ERROR_FIELDS, ERRORS, ids=[e[0] for e in ERRORS])
def test_numpy_raises_the_same_type(name, shapes, build, kwargs, exc, fragment):
    with pytest.raises(exc):
        np.einsum(*build(*_ones(*shapes)), **kwargs)


@pytest.mark.parametrize(ERROR_FIELDS, ALL_ERRORS, ids=[e[0] for e in ALL_ERRORS])
def test_eager_error(name, shapes, build, kwargs, exc, fragment):
    with pytest.raises(exc) as info:
        einsum(*build(*_ones(*shapes)), **kwargs)
    _check(info, fragment)


@pytest.mark.parametrize(ERROR_FIELDS, ALL_ERRORS, ids=[e[0] for e in ALL_ERRORS])
def test_traced_error(name, shapes, build, kwargs, exc, fragment):
    f = nj.jit(lambda *xs: einsum(*build(*xs), **kwargs))
    with pytest.raises(exc) as info:
        f(*_ones(*shapes))
    _check(info, fragment)


def test_no_operands():
    for args in [(), ("ij",), (np.ones(2),)]:
        with pytest.raises(ValueError) as info:
            einsum(*args)
        _check(info, "")
        with pytest.raises(ValueError):
            np.einsum(*args)


def test_bytes_subscripts_as_numpy_allows():
    x = RNG.standard_normal((2, 3))
    np.testing.assert_allclose(nj.jit(lambda t: einsum(b"ij->ji", t))(x), x.T)
    np.testing.assert_array_equal(einsum(b"ij->ji", x), np.einsum(b"ij->ji", x))


def test_default_keyword_values_are_accepted():
    x = np.ones(3)
    assert einsum("i->", x, out=None, dtype=None, order="K", casting="safe") == 3.0
    assert nj.jit(lambda t: einsum("i->", t, dtype=None))(x) == 3.0
