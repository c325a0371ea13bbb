"""jit: same values as eager, one trace per signature, static arguments,
errors for Python control flow on traced values, safe generated source,
NumPy semantics on the scalar fast path, NumPy output types, and the
simplifier that runs before code generation."""

from __future__ import annotations

import functools
import importlib
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import nanojax as nj
from nanojax.array import ArrayImpl
import nanojax.numpy as jnp
from nanojax.simplify import simplify
from nanojax.tree_util import tree_leaves, tree_structure

RNG = np.random.default_rng(2)


# ----- The functions every jit test runs ----------------------------------------------

def neuron(w0, x0, w1, x1, w2):
    """The guide's neuron: sigmoid(w0*x0 + w1*x1 + w2)."""
    return nj.nn.sigmoid(w0 * x0 + w1 * x1 + w2)


def circuit(a, b, c, x, y):
    """A scalar circuit whose max/relu branches flip with the inputs."""
    return jnp.maximum(a * x + b * y + c, 0.0) + nj.nn.relu(x - y) * jnp.minimum(a, b)


def mlp_loss(params, x, y):
    h = nj.nn.relu(jnp.dot(x, params["W1"]) + params["b1"])
    out = jnp.dot(h, params["W2"]) + params["b2"]
    return jnp.mean((out - y) ** 2)


def softmax_loss(params, x, labels):
    logp = nj.nn.log_softmax(jnp.dot(x, params["W"]) + params["b"])
    return -jnp.mean(logp[jnp.arange(labels.shape[0]), labels])


def index_where(x, idx):
    rows = x[idx]
    return jnp.sum(jnp.where(rows > 0, rows ** 2, -rows)) + jnp.mean(x[1:, 0])


def pytree_out(params, x):
    h = jnp.tanh(x * params["w"])
    return {"sum": jnp.sum(h), "parts": (h, jnp.max(h)), "count": jnp.argmax(h)}


MLP_PARAMS = {"W1": RNG.normal(size=(3, 4)), "b1": RNG.normal(size=4),
              "W2": RNG.normal(size=(4, 2)), "b2": RNG.normal(size=2)}
SOFTMAX_PARAMS = {"W": RNG.normal(size=(3, 4)), "b": RNG.normal(size=4)}

FUNCTIONS = [
    ("neuron", neuron, (2.0, -1.0, -3.0, -2.0, -3.0)),
    ("circuit-active", circuit, (1.5, -2.0, 0.5, 3.0, -1.0)),
    ("circuit-inactive", circuit, (1.5, -2.0, -9.0, -3.0, 1.0)),
    ("mlp-loss", mlp_loss, (MLP_PARAMS, RNG.normal(size=(5, 3)), RNG.normal(size=(5, 2)))),
    ("softmax-loss", softmax_loss, (SOFTMAX_PARAMS, RNG.normal(size=(5, 3)),
                                    RNG.integers(0, 4, size=5))),
    ("index-where", index_where, (RNG.normal(size=(4, 3)), np.array([3, 0, 3]))),
    ("pytree-out", pytree_out, ({"w": RNG.normal(size=3)}, RNG.normal(size=3))),
]


def assert_tree_close(got: Any, want: Any, rtol: float = 1e-12) -> None:
    assert tree_structure(got) == tree_structure(want)
    for g, w in zip(tree_leaves(got), tree_leaves(want)):
        assert np.shape(g) == np.shape(w)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-14)


@pytest.mark.parametrize("name,fun,args", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_jit_gives_the_same_values_as_eager(name, fun, args):
    jitted = nj.jit(fun)
    assert_tree_close(jitted(*args), fun(*args))
    assert_tree_close(jitted(*args), fun(*args))          # the cached code, second call


def test_jit_circuit_takes_each_branch_from_the_values_not_the_first_trace():
    jitted = nj.jit(circuit)
    for args in [(1.5, -2.0, 0.5, 3.0, -1.0), (1.5, -2.0, -9.0, -3.0, 1.0),
                 (-1.0, 2.0, 0.0, 0.0, 0.0), (2.0, 1.0, -0.5, 0.25, 0.25)]:
        assert jitted(*args) == pytest.approx(circuit(*args), rel=1e-15)


@pytest.mark.parametrize("fun,args,kwargs", [
    (lambda x, y=1.0: x * y, (np.ones(2),), {"y": np.full(2, 3.0)}),
    (lambda x, y=1.0: x * y, (np.ones(2),), {}),
    (lambda x, *, scale: {"a": x * scale["k"]}, (2.0,), {"scale": {"k": 4.0}}),
], ids=["array-kwarg", "default-kwarg", "pytree-kwarg"])
def test_jit_traces_keyword_arguments(fun, args, kwargs):
    assert_tree_close(nj.jit(fun)(*args, **kwargs), fun(*args, **kwargs))


@pytest.mark.parametrize("fun,want", [(lambda x: None, None), (lambda x: (), ()),
                                      (lambda x: {"a": None, "b": [x]}, {"a": None, "b": [2.0]})],
                         ids=["none", "empty-tuple", "none-leaf"])
def test_jit_returns_empty_pytrees_unchanged(fun, want):
    assert nj.jit(fun)(2.0) == want


# ----- Caching: one trace per signature ----------------------------------------------

def counted(fun: Callable) -> tuple[Callable, list]:
    calls: list = []

    @functools.wraps(fun)           # keeps fun's signature, for static_argnames
    def body(*args, **kwargs):
        calls.append(1)
        return fun(*args, **kwargs)
    return body, calls


def _scale(x, *rest, **kw):
    return jnp.sum(tree_leaves(x)[0]) * 2.0


X3 = np.arange(3.0)
CACHE_CASES = [
    ("same-shape-new-values", (X3,), (X3 + 1.0,), False),
    ("python-floats", (1.0,), (2.5,), False),
    ("new-shape", (X3,), (np.arange(4.0),), True),
    ("new-dtype", (X3,), (X3.astype(np.float32),), True),
    ("int-vs-float-scalar", (1.0,), (1,), True),
    ("tuple-vs-list", ((X3, X3),), ([X3, X3],), True),
    ("dict-keys", ({"a": X3},), ({"b": X3},), True),
    ("more-leaves", ((X3,),), ((X3, X3),), True),
]


@pytest.mark.parametrize("name,first,second,retraces", CACHE_CASES, ids=[c[0] for c in CACHE_CASES])
def test_jit_traces_once_per_signature(name, first, second, retraces):
    body, calls = counted(_scale)
    jitted = nj.jit(body)
    jitted(*first)
    jitted(*first)
    assert len(calls) == 1
    jitted(*second)
    assert len(calls) == (2 if retraces else 1)
    jitted(*first)
    jitted(*second)
    assert len(calls) == (2 if retraces else 1)


def _repeat(x, n):
    for _ in range(n):
        x = x * 2.0
    return x


@pytest.mark.parametrize("make,call", [
    (lambda f: nj.jit(f, static_argnums=1), lambda j, x, n: j(x, n)),
    (lambda f: nj.jit(f, static_argnums=(1,)), lambda j, x, n: j(x, n)),
    (lambda f: nj.jit(f, static_argnums=-1), lambda j, x, n: j(x, n)),
    (lambda f: nj.jit(f, static_argnames="n"), lambda j, x, n: j(x, n=n)),
    (lambda f: nj.jit(f, static_argnames=("n",)), lambda j, x, n: j(x, n=n)),
    # As in JAX, a static argument may be passed either way.
    (lambda f: nj.jit(f, static_argnames="n"), lambda j, x, n: j(x, n)),
    (lambda f: nj.jit(f, static_argnums=1), lambda j, x, n: j(x, n=n)),
], ids=["argnums-int", "argnums-tuple", "argnums-negative", "argnames-str", "argnames-tuple",
        "argnames-passed-positionally", "argnums-passed-by-name"])
def test_static_arguments_are_baked_in_and_retrace_per_value(make, call):
    body, calls = counted(_repeat)
    jitted = make(body)
    x = np.array([1.0, -0.5])
    np.testing.assert_allclose(call(jitted, x, 3), x * 8.0)
    np.testing.assert_allclose(call(jitted, x + 1.0, 3), (x + 1.0) * 8.0)
    assert len(calls) == 1
    np.testing.assert_allclose(call(jitted, x, 2), x * 4.0)
    assert len(calls) == 2


def test_static_python_number_passed_positionally_is_not_traced():
    jitted = nj.jit(_repeat, static_argnames="n")
    assert jitted(1.5, 2) == 6.0
    assert jitted(1.5, 3) == 12.0
    assert jitted(1.5, n=1) == 3.0


@pytest.mark.parametrize("static", [[1, 2], {"a": 1}, np.array([1.0])],
                         ids=["list", "dict", "ndarray"])
def test_unhashable_static_argument_raises_a_clear_type_error(static):
    jitted = nj.jit(lambda x, s: x, static_argnums=1)
    with pytest.raises(TypeError, match="hashable"):
        jitted(1.0, static)
    with pytest.raises(TypeError, match="hashable"):
        nj.jit(lambda x, s: x, static_argnames="s")(1.0, s=static)


# ----- Python control flow on traced values ------------------------------------------

def relu_if(x):
    if x > 0:
        return x
    return 0.0 * x


def halve_while(x):
    while x > 1.0:
        x = x / 2.0
    return x


@pytest.mark.parametrize("fun", [relu_if, halve_while, lambda x: float(x) * 2.0],
                         ids=["if", "while", "float()"])
def test_python_control_flow_on_a_traced_value_raises_concretization_error(fun):
    with pytest.raises(nj.errors.ConcretizationTypeError) as info:
        nj.jit(fun)(3.0)
    assert isinstance(info.value, TypeError)
    msg = str(info.value)
    assert "jnp.where" in msg and "static" in msg


@pytest.mark.parametrize("fun,x,want", [(relu_if, 3.0, 3.0), (relu_if, -2.0, 0.0),
                                        (halve_while, 5.0, 0.625)])
def test_python_control_flow_works_when_the_argument_is_static(fun, x, want):
    assert nj.jit(fun, static_argnums=0)(x) == want


# ----- Generated source ----------------------------------------------------------------

def EVIL_MARKER_function(x, label):   # the name is the point
    scale = 3.0 if label == "EVIL_MARKER'); import os; os.system('echo pwned" else 1.0
    return {"EVIL_MARKER_key": jnp.tanh(x) * scale}


def test_generated_source_contains_no_user_strings():
    label = "EVIL_MARKER'); import os; os.system('echo pwned"
    jitted = nj.jit(EVIL_MARKER_function, static_argnums=1)
    lowered = jitted.lower(np.ones(2), label)
    src = lowered.as_text()
    assert "def " in src and "return" in src
    assert "EVIL_MARKER" not in src and "pwned" not in src
    np.testing.assert_allclose(jitted(np.ones(2), label)["EVIL_MARKER_key"], 3.0 * np.tanh(1.0))


def test_lowered_source_has_one_line_per_equation():
    src = nj.jit(lambda x, y: jnp.tanh(x * y) + x).lower(np.ones(3), np.ones(3)).as_text()
    body = [line for line in src.splitlines()[1:] if line.lstrip().startswith("v")]
    assert len(body) == 3, src


def test_make_jaxpr_of_a_jitted_function_shows_its_equations():
    fun = lambda x, y: jnp.sum(jnp.tanh(x) * y)                        # noqa: E731
    closed = nj.make_jaxpr(nj.jit(fun))(np.ones(3), np.ones(3))
    assert [e.primitive.name for e in closed.eqns] == ["tanh", "mul", "reduce_sum"]
    assert "tanh" in str(closed) and "reduce_sum" in str(closed)


def test_a_float_sum_over_no_axes_stays_an_integer_one_goes():
    # NumPy's sum over no axes adds to 0.0: -0.0 becomes +0.0.
    f = lambda x: jnp.sum(x, axis=())                                  # noqa: E731
    assert len(simplify(nj.make_jaxpr(f)(np.array([-0.0]))).eqns) == 1
    assert simplify(nj.make_jaxpr(f)(np.array([3]))).eqns == []
    assert np.array_equal(np.signbit(nj.jit(f)(np.array([-0.0, 1.0]))), [False, False])


def test_adding_positive_zero_stays_because_it_turns_negative_zero_positive():
    # -0.0 + 0.0 is +0.0: "x + 0" is not an identity, and jit must match eager.
    f = lambda x: x + 0.0                                              # noqa: E731
    assert [e.primitive.name for e in simplify(nj.make_jaxpr(f)(-0.0)).eqns] == ["add"]
    assert not np.signbit(nj.jit(f)(-0.0)) and not np.signbit(nj.jit(f)(np.array([-0.0]))[0])


# ----- NumPy semantics on the scalar fast path ---------------------------------------------

SCALAR_EDGES = [
    ("1/0", lambda x: 1.0 / x, 0.0),
    ("-1/0", lambda x: -1.0 / x, 0.0),
    ("0/0", lambda x: x / x, 0.0),
    ("exp-overflow", jnp.exp, 1000.0),
    ("log-negative", jnp.log, -1.0),
    ("log-zero", jnp.log, 0.0),
    ("sqrt-negative", jnp.sqrt, -1.0),
    ("cube-overflow", lambda x: x ** 3, 1e200),
    ("reciprocal-pow", lambda x: x ** -1, 0.0),
    ("log1p-minus-one", jnp.log1p, -1.0),
    ("chain-after-inf", lambda x: jnp.exp(1.0 / x) * x, 0.0),
    ("grad-of-log-at-zero", nj.grad(jnp.log), 0.0),
]


@pytest.mark.parametrize("name,fun,x", SCALAR_EDGES, ids=[s[0] for s in SCALAR_EDGES])
def test_jit_scalar_math_follows_numpy_at_the_edges(name, fun, x):
    with np.errstate(all="ignore"):
        want = fun(np.float64(x))
    with np.errstate(all="ignore"):       # NumPy may warn, as it does eagerly
        got = nj.jit(fun)(x)
    assert type(got) is np.float64
    assert not math.isfinite(got)
    np.testing.assert_equal(got, want)


def test_jit_scalar_fallback_is_taken_per_call():
    jitted = nj.jit(lambda x: 1.0 / x)
    with np.errstate(all="ignore"):
        assert jitted(0.0) == np.inf
        assert jitted(4.0) == 0.25
        assert jitted(-0.0) == -np.inf


# ----- Output types ---------------------------------------------------------------------

OUTPUT_TYPES = [
    ("float-scalar", lambda x: x * 2.0, (1.5,), np.float64),
    ("float-from-array", lambda x: jnp.sum(x), (np.ones(3),), np.float64),
    ("int-scalar", lambda x: jnp.argmax(x), (np.array([1.0, 3.0, 2.0]),), np.int64),
    ("bool-scalar", lambda x: x > 0.0, (1.0,), np.bool_),
    ("array", lambda x: jnp.tanh(x), (np.ones(3),), ArrayImpl),
    ("broadcast-array", lambda x: jnp.broadcast_to(x, (2, 3)), (np.ones(3),), ArrayImpl),
    ("constant-array", lambda x: jnp.zeros(3) + 1.0, (np.ones(3),), ArrayImpl),
    ("gradient-of-sum", nj.grad(lambda x: jnp.sum(x)), (np.ones(3),), ArrayImpl),
    ("scalar-from-python-ints", lambda x, y: x * y, (2, 3), np.int64),
]


@pytest.mark.parametrize("name,fun,args,kind", OUTPUT_TYPES, ids=[o[0] for o in OUTPUT_TYPES])
def test_jit_outputs_are_numpy_types_and_writeable_arrays(name, fun, args, kind):
    jitted = nj.jit(fun)
    out = jitted(*args)
    assert type(out) is kind
    if kind is ArrayImpl:
        assert out.flags.writeable
        want = np.array(out, copy=True)
        out[...] = 12345.0                            # the caller owns its result:
        np.testing.assert_array_equal(jitted(*args), want)   # the next call is unaffected


def test_jit_output_pytree_keeps_numpy_types():
    out = nj.jit(pytree_out)({"w": np.ones(3)}, np.arange(3.0))
    assert type(out["sum"]) is np.float64 and type(out["count"]) is np.int64
    assert type(out["parts"][0]) is ArrayImpl and type(out["parts"][1]) is np.float64


# ----- The simplifier ---------------------------------------------------------------------

def tanh_layer(x):
    return jnp.sum(jnp.tanh(x * 2.0 + 1.0) * x)


def neuron_vec(x):
    return nj.nn.sigmoid(x[0] * x[1] + x[2] * x[3] + x[4])


def softmax_vec(x):
    return -nj.nn.log_softmax(x)[1]


SIMPLIFY_FUNS = [("tanh-layer", tanh_layer, RNG.normal(size=4)),
                 ("neuron", neuron_vec, np.array([2.0, -1.0, -3.0, -2.0, -3.0])),
                 ("softmax", softmax_vec, RNG.normal(size=4)),
                 ("mlp", lambda w: mlp_loss({**MLP_PARAMS, "W1": w}, np.ones((2, 3)),
                                            np.zeros((2, 2))), MLP_PARAMS["W1"])]


@pytest.mark.parametrize("name,fun,x", SIMPLIFY_FUNS, ids=[s[0] for s in SIMPLIFY_FUNS])
def test_simplify_shrinks_a_gradient_jaxpr_without_changing_its_value(name, fun, x):
    closed = nj.make_jaxpr(nj.grad(fun))(x)
    simple = simplify(closed)
    assert len(simple.eqns) < len(closed.eqns)
    want = nj.eval_jaxpr(closed.jaxpr, closed.consts, x)
    got = nj.eval_jaxpr(simple.jaxpr, simple.consts, x)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-14)
    np.testing.assert_allclose(got[0], nj.grad(fun)(x), rtol=1e-14)


@pytest.mark.parametrize("fun", [
    lambda x: x * 1.0, lambda x: 1.0 * x, lambda x: x + -0.0, lambda x: -0.0 + x,
    lambda x: x - 0.0, lambda x: x / 1.0, lambda x: (x * 1.0 + -0.0) / 1.0 - 0.0,
    lambda x: x * np.ones(3), lambda x: jnp.where(True, x, 2.0 * x),
    lambda x: jnp.reshape(x, (3,)),
], ids=["x*1", "1*x", "x+(-0)", "(-0)+x", "x-0", "x/1", "chain", "x*ones", "where-const",
        "reshape-same"])
def test_identities_disappear(fun):
    x = RNG.normal(size=3)
    simple = simplify(nj.make_jaxpr(fun)(x))
    assert simple.eqns == []
    assert simple.jaxpr.outvars[0] is simple.jaxpr.invars[0]


def test_identity_that_changes_the_shape_is_kept():
    simple = simplify(nj.make_jaxpr(lambda x: x * np.ones((2, 3)))(RNG.normal(size=3)))
    assert [e.primitive.name for e in simple.eqns] == ["mul"]


def test_common_subexpressions_are_computed_once():
    x = RNG.normal(size=3)
    fun = lambda x: jnp.tanh(x * 2.0) + jnp.tanh(x * 2.0) * jnp.exp(x)   # noqa: E731
    simple = simplify(nj.make_jaxpr(fun)(x))
    names = [e.primitive.name for e in simple.eqns]
    assert names.count("tanh") == 1 and names.count("mul") == 2
    np.testing.assert_allclose(nj.eval_jaxpr(simple.jaxpr, simple.consts, x)[0], fun(x))


def test_dead_code_is_removed():
    def fun(x):
        unused = jnp.exp(x) * jnp.sin(x)            # noqa: F841 - the point
        return x * 2.0
    simple = simplify(nj.make_jaxpr(fun)(RNG.normal(size=3)))
    assert [e.primitive.name for e in simple.eqns] == ["mul"]


def test_constant_subexpressions_are_folded():
    def fun(x):
        c = jnp.stop_gradient(x) * 0.0 + 2.0        # depends on x: stays
        return x * jnp.where(np.array([True, False, True]), 1.0, 0.0) + c
    closed = nj.make_jaxpr(fun)(RNG.normal(size=3))
    simple = simplify(closed)
    assert "select_n" not in [e.primitive.name for e in simple.eqns]
    x = RNG.normal(size=3)
    np.testing.assert_allclose(nj.eval_jaxpr(simple.jaxpr, simple.consts, x)[0], fun(x))


def test_jit_runs_the_simplified_jaxpr():
    x = RNG.normal(size=4)
    full = nj.make_jaxpr(nj.grad(tanh_layer))(x)
    lowered = nj.jit(nj.grad(tanh_layer)).lower(x)
    assert len(lowered.jaxpr.eqns) < len(full.eqns)


# ----- Memory: intermediates are released at their last use ----------------------------

def _peak_bytes(fn, *args):
    import tracemalloc
    fn(*args)                                   # compile first: measure the call alone
    tracemalloc.start()
    try:
        fn(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _chain(n):
    def f(x):
        for _ in range(n):
            x = jnp.tanh(x) * 1.5 + 0.25
        return x
    return f


def test_a_long_jitted_chain_holds_a_few_intermediates_not_all_of_them():
    x = np.ones(50_000)                         # 400 kB per intermediate
    short = _peak_bytes(nj.jit(_chain(5)), x)
    long = _peak_bytes(nj.jit(_chain(40)), x)
    assert long < short + 2 * x.nbytes, (short, long)
    assert long < 6 * x.nbytes, long            # 120 intermediates if none were released


def test_released_intermediates_change_no_result_and_no_input():
    x = np.linspace(-2.0, 2.0, 1000)
    before = x.copy()
    f = _chain(12)
    np.testing.assert_array_equal(nj.jit(f)(x), f(x))
    np.testing.assert_array_equal(x, before)
    g = nj.grad(lambda x: jnp.sum(f(x)))
    np.testing.assert_array_equal(nj.jit(g)(x), g(x))


# ----- Buffer reuse: a dying operand's memory takes the result --------------------------

def _reuse_cases():
    w = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    const = np.arange(12.0).reshape(3, 4)

    def mlp(x, W):
        return jnp.sum(jnp.tanh(x @ W) * 2.0 + 1.0)

    def with_const(x):
        return jnp.exp(x * const) - const          # a constant operand is never written

    def returns_two(x):
        h = jnp.tanh(x) * 3.0
        return h, h + 1.0                          # h is an output: it must survive

    def reshaped(x):
        h = jnp.exp(x) + 1.0
        v = jnp.reshape(h, (4, 3))                 # a view of h: h is never overwritten
        return v * 2.0, h
    def view_outlives(x):
        h = jnp.exp(x) + 1.0
        v = jnp.reshape(h, (12,))                  # still read after h's last use
        doubled = h * 2.0                          # h dies here; its memory must not
        return jnp.reshape(doubled, (12,)) + v
    return [("mlp-grad", nj.grad(mlp, argnums=(0, 1)), (w, w.T.copy())),
            ("const", with_const, (w,)), ("outputs", returns_two, (w,)),
            ("view", reshaped, (w,)), ("view-outlives", view_outlives, (w,))]


@pytest.mark.parametrize("name,fn,args", _reuse_cases(), ids=[c[0] for c in _reuse_cases()])
def test_buffer_reuse_changes_no_bit_and_touches_no_input_constant_or_output(
        name, fn, args, monkeypatch):
    jit_module = importlib.import_module("nanojax.jit")    # nj.jit is the function
    before = [a.copy() for a in args]
    with_reuse = nj.jit(fn)(*args)
    monkeypatch.setattr(jit_module, "REUSE_BUFFERS", False)
    without = nj.jit(fn)(*args)
    for got, want in zip(tree_leaves(with_reuse), tree_leaves(without), strict=True):
        assert np.asarray(got).tobytes() == np.asarray(want).tobytes()
    for got, want in zip(tree_leaves(with_reuse), tree_leaves(fn(*args)), strict=True):
        np.testing.assert_array_equal(got, want)
    for a, b in zip(args, before, strict=True):
        np.testing.assert_array_equal(a, b)
    outs = [o for o in tree_leaves(with_reuse) if isinstance(o, np.ndarray)]
    for i, o in enumerate(outs):                   # outputs own separate memory
        assert not any(np.shares_memory(o, p) for p in outs[:i])
        assert not any(np.shares_memory(o, a) for a in args)


def test_a_chain_reuses_its_buffers():
    source = nj.jit(_chain(3)).lower(np.ones(10)).as_text()
    assert "out=" in source


# ----- The workspace: intermediates live in buffers kept between calls ------------------

def _workspace_bytes(fn, *args):
    memory_plan = importlib.import_module("nanojax.memory_plan")
    jit_module = importlib.import_module("nanojax.jit")
    closed = nj.jit(fn).lower(*args).jaxpr
    plan = memory_plan.plan_memory(
        closed.jaxpr, closed.consts, [memory_plan.c_ordered(a) for a in args],
        lambda eqn: jit_module._into_form(eqn) is not None, jit_module._is_elementwise)
    return plan.workspace_bytes


def _summed_chain(n):
    return lambda x: jnp.sum(_chain(n)(x))


def _grad_chain(n):
    return nj.grad(lambda x: jnp.sum(_chain(n)(x) ** 2))


def test_the_workspace_of_a_long_chain_is_its_largest_live_set_not_its_length():
    x = np.ones(50_000)                         # 400 kB per intermediate
    short = _workspace_bytes(_summed_chain(5), x)
    long = _workspace_bytes(_summed_chain(40), x)
    assert short > 0 and long == short, (short, long)
    assert long <= 2 * x.nbytes, long


def test_a_call_after_the_first_allocates_only_its_outputs():
    x = np.ones(50_000)
    step = nj.jit(_grad_chain(20))
    step(x)                                     # the workspace is made here, then kept
    assert _peak_bytes(step, x) < 2 * x.nbytes


def test_results_of_one_call_are_never_overwritten_by_the_next():
    W = RNG.normal(size=(30, 20))

    def layer(x):
        h = jnp.tanh(x @ W) * 2.0
        return h @ W.T, jnp.sum(h, axis=0)
    f = nj.jit(layer)
    x1, x2 = RNG.normal(size=(40, 30)), RNG.normal(size=(40, 30))
    first = [np.copy(o) for o in f(x1)]
    kept = f(x1)
    f(x2)
    for a, b in zip(kept, first, strict=True):
        np.testing.assert_array_equal(a, b)


def test_calls_from_several_threads_at_once_each_get_their_own_workspace():
    import threading
    W = RNG.normal(size=(64, 64))
    f = nj.jit(nj.grad(lambda x: jnp.sum(jnp.tanh(x @ W) ** 2)))
    inputs = [RNG.normal(size=(32, 64)) for _ in range(8)]
    expected = [f(x) for x in inputs]
    failures = []

    def work(k):
        for _ in range(30):
            got = f(inputs[k])
            if got.tobytes() != expected[k].tobytes():
                failures.append(k)
    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


@pytest.mark.parametrize("layout", ["C", "F", "strided", "broadcast"])
def test_the_code_lays_results_out_as_numpy_does_so_sums_keep_their_bits(layout):
    # A sum iterates in memory order: an intermediate in another layout than
    # eager NumPy's would round differently.
    base = RNG.normal(size=(7, 9))
    x = {"C": base, "F": np.asfortranarray(base), "strided": RNG.normal(size=(7, 18))[:, ::2],
         "broadcast": np.broadcast_to(RNG.normal(size=9), (7, 9))}[layout]

    def f(x):
        t = jnp.transpose(jnp.exp(x) * 1.5)
        return jnp.sum(-nj.nn.relu(t) + 0.5), jnp.sum(t * x.T, axis=1), jnp.sum(x * x)
    for got, want in zip(nj.jit(f)(x), f(x), strict=True):
        assert np.asarray(got).tobytes() == np.asarray(want).tobytes()


# ----- The scalar call path: the last signature checks its own types -----------------

def test_calls_alternating_scalar_types_each_run_their_own_code():
    f = lambda x, y: x * y + 1      # noqa: E731
    jitted = nj.jit(f)
    calls = [(2.0, 3.0), (2, 3), (np.float32(2.0), 3.0), (2.0, 3.0), (True, 3),
             (np.ones(2), 3.0), (2.0, np.ones(2)), (np.float64(2.0), 3)]
    for args in calls * 2:
        got, want = jitted(*args), f(*args)
        assert type(got) is type(want) or np.asarray(got).dtype == np.asarray(want).dtype, args
        np.testing.assert_array_equal(got, want)
        assert np.asarray(got).dtype == np.asarray(want).dtype, args


def test_a_scalar_jitted_function_still_composes_after_its_fast_calls():
    jitted = nj.jit(lambda x, y: x * y * y)
    assert jitted(2.0, 3.0) == 18.0
    assert nj.grad(jitted)(2.0, 3.0) == 9.0                   # tracers take the general path
    assert nj.grad(jitted, argnums=1)(2.0, 3.0) == 12.0
    np.testing.assert_array_equal(nj.vmap(jitted)(np.ones(3), np.ones(3)), np.ones(3))
    assert jitted(2.0, 3.0) == 18.0


def test_static_scalar_arguments_never_take_the_type_checked_path():
    jitted = nj.jit(lambda x, n: x * n, static_argnums=1)
    assert jitted(2.0, 3.0) == 6.0
    assert jitted(2.0, 4.0) == 8.0                            # same types, another value


@pytest.mark.parametrize("x", [np.linspace(0.0, 1.0, 1000, dtype=np.float32), np.float32(0.5),
                               np.arange(6, dtype=np.int32)])
def test_a_python_number_passed_to_jit_stays_weakly_typed(x):
    # As in JAX: the 3.0 takes the dtype of the array it meets, as eagerly.
    f = lambda x, y: jnp.sum(jnp.tanh(x * y))                          # noqa: E731
    got, want = nj.jit(f)(x, 3.0), f(x, 3.0)
    assert np.asarray(got).dtype == np.asarray(want).dtype
    assert np.asarray(got).tobytes() == np.asarray(want).tobytes()


_MIXED = {"f32": np.linspace(-1.0, 1.0, 20, dtype=np.float32).reshape(4, 5),
          "f64": np.linspace(-1.0, 1.0, 20).reshape(4, 5),
          "i32": np.arange(1, 21, dtype=np.int32).reshape(4, 5),
          "u8": np.arange(1, 21, dtype=np.uint8).reshape(4, 5),
          "bool": (np.arange(20) % 3 == 0).reshape(4, 5),
          "py-float": 1.5, "py-int": 2, "np-f32": np.float32(1.5), "np-i64": np.int64(2)}


@pytest.mark.parametrize("a,b", [("py-int", "u8"), ("py-float", "f32"), ("py-int", "i32"),
                                 ("np-f32", "f64"), ("bool", "py-float"), ("u8", "np-i64"),
                                 ("i32", "py-int")])
def test_jit_computes_in_the_dtypes_eager_numpy_does(a, b):
    x, y = _MIXED[a], _MIXED[b]

    def f(x, y):
        z = x * x + y                    # a scalar square first: it must stay weak
        return jnp.sum(z * y, axis=0) + z[0]
    got, want = nj.jit(f)(x, y), f(x, y)
    assert np.asarray(got).dtype == np.asarray(want).dtype
    assert np.asarray(got).tobytes() == np.asarray(want).tobytes()


def test_a_slice_that_keeps_everything_is_simplified_away_and_others_index_directly():
    x = RNG.normal(size=(4, 1, 3))
    f = lambda x: jnp.tanh(x[:, 0:1]) + x[1:, :, ::2].sum()       # noqa: E731
    lowered = nj.jit(f).lower(x)
    assert [e.primitive.name for e in lowered.jaxpr.eqns].count("gather") == 1
    assert "v0[_k" in lowered.as_text()                            # x[index], not a call
    np.testing.assert_array_equal(nj.jit(f)(x), f(x))
