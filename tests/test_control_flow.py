"""lax.cond, switch, while_loop, fori_loop, scan and map beyond the rule tables.

The tables (test_primitive_rules, test_batching, test_lax) check each gate's
rules at random points. Here: loops against Python loops with pytrees,
transformations nested in every order, jit code that does not grow with the
trip count, an RNN that trains, the printed jaxpr, and JAX's semantics at
the edges (a batched predicate, an empty scan, reverse mode of a while).
"""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import lax

RNG = np.random.default_rng(0)


def _rnn_loss(params, xs, target):
    w, u, v = params["w"], params["u"], params["v"]

    def step(h, x):
        h = jnp.tanh(w @ h + u * x)
        return h, jnp.dot(v, h)
    _, ys = lax.scan(step, jnp.zeros(w.shape[0]), xs)
    return jnp.mean((ys - target) ** 2)


def _python_rnn_loss(params, xs, target):
    w, u, v = params["w"], params["u"], params["v"]
    h, ys = jnp.zeros(w.shape[0]), []
    for x in xs:
        h = jnp.tanh(w @ h + u * x)
        ys.append(jnp.dot(v, h))
    return jnp.mean((jnp.stack(ys) - target) ** 2)


def _params(n=4):
    return {"w": 0.4 * RNG.standard_normal((n, n)), "u": RNG.standard_normal(n),
            "v": RNG.standard_normal(n)}


# ----- Values and gradients against Python loops ------------------------------------

def test_scan_matches_a_python_loop_in_value_and_gradient():
    params, xs = _params(), RNG.standard_normal(7)
    target = np.cumsum(xs) / 3
    np.testing.assert_allclose(_rnn_loss(params, xs, target),
                               _python_rnn_loss(params, xs, target), rtol=1e-13)
    got = nj.grad(_rnn_loss)(params, xs, target)
    want = nj.grad(_python_rnn_loss)(params, xs, target)
    for k in params:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-12, atol=1e-14)


def test_jit_of_grad_of_scan_is_bit_for_bit_the_eager_gradient():
    params, xs = _params(), RNG.standard_normal(6)
    target = np.sin(xs)
    eager = nj.grad(_rnn_loss)(params, xs, target)
    compiled = nj.jit(nj.grad(_rnn_loss))(params, xs, target)
    for k in params:
        assert compiled[k].tobytes() == eager[k].tobytes()


def test_scan_with_pytrees_reverse_and_no_ys():
    xs = {"a": np.arange(4.0), "b": np.arange(8.0).reshape(4, 2)}

    def step(c, x):
        return {"s": c["s"] + x["a"], "v": c["v"] * 2.0 + x["b"]}, None
    carry, ys = lax.scan(step, {"s": 0.0, "v": np.zeros(2)}, xs, reverse=True)
    assert ys is None
    v = np.zeros(2)
    for b in xs["b"][::-1]:
        v = v * 2.0 + b
    np.testing.assert_array_equal(carry["v"], v)
    assert carry["s"] == 6.0


def test_scan_over_zero_steps_returns_the_init_and_empty_ys():
    init = np.ones(3)
    carry, ys = lax.scan(lambda c, x: (c + x, c * x), init, np.zeros((0, 3)))
    np.testing.assert_array_equal(carry, init)
    assert carry is not init                      # its own memory, as every result
    assert ys.shape == (0, 3)
    compiled = nj.jit(lambda i, x: lax.scan(lambda c, s: (c + s, c * s), i, x))(
        init, np.zeros((0, 3)))
    np.testing.assert_array_equal(compiled[0], init)


def test_returned_arrays_never_share_memory_with_the_inputs():
    init = np.arange(3.0)
    carry, _ = lax.scan(lambda c, x: (c, x), init, np.ones((2, 3)))
    out = lax.while_loop(lambda c: False, lambda c: c, init)
    branch = lax.cond(True, lambda a: a, lambda a: a, init)
    for result in (carry, out, branch):
        assert not np.shares_memory(result, init)


def test_fori_loop_is_a_scan_with_static_bounds_and_a_while_with_traced_ones():
    def f(x, n):
        return lax.fori_loop(0, n, lambda i, c: c * x + i, 1.0)
    static = nj.make_jaxpr(lambda x: f(x, 4))(2.0)
    assert [e.primitive.name for e in static.eqns] == ["scan"]
    traced = nj.make_jaxpr(f)(2.0, 4)
    assert "while" in [e.primitive.name for e in traced.eqns]
    assert f(2.0, 4) == nj.jit(f)(2.0, 4) == ((1 * 2 + 0) * 2 + 1) * 2 * 2 + 2 * 2 + 3
    # Reverse mode through the static loop, as in JAX.
    np.testing.assert_allclose(nj.grad(f)(2.0, 4), nj.numerical_grad(f)(2.0, 4), rtol=1e-8)


def test_grad_of_a_while_loop_refuses_with_jaxs_explanation():
    def f(x):
        return lax.while_loop(lambda c: c < 10.0, lambda c: c * 2.0, x)
    assert nj.jvp(f, (1.5,), (1.0,))[1] == 8.0       # forward mode works
    with pytest.raises(ValueError, match=r"(?i)reverse-mode differentiation does not work for "
                       r"lax\.while_loop"):
        nj.grad(f)(1.5)


def test_cond_picks_a_branch_and_differentiates_only_through_it():
    def f(x):
        return lax.cond(x > 0, lambda x: x ** 3, lambda x: jnp.sin(x), x)
    assert nj.grad(f)(2.0) == 12.0
    assert nj.grad(f)(-1.0) == np.cos(-1.0)
    assert nj.jit(nj.grad(f))(2.0) == 12.0
    assert nj.jacfwd(f)(-1.0) == np.cos(-1.0)


def test_gradient_flows_to_values_the_body_closes_over():
    w = np.array([0.5, -1.5])

    def f(w):
        return lax.scan(lambda c, x: (c + jnp.dot(w, x), None), 0.0, np.ones((3, 2)))[0]
    np.testing.assert_allclose(nj.grad(f)(w), [3.0, 3.0])
    np.testing.assert_allclose(nj.jit(nj.grad(f))(w), [3.0, 3.0])


def test_nested_control_flow_under_every_transformation():
    def f(x):
        def outer(c, row):
            inner = lax.fori_loop(0, 3, lambda i, a: jnp.sin(a) + row, c)
            return lax.cond(jnp.sum(inner) > 0, lambda: inner * 0.5, lambda: inner), None
        return jnp.sum(lax.scan(outer, x[0], x)[0])
    x = RNG.standard_normal((4, 2))
    nj.check_grads(f, (x,), order=2, modes=("fwd", "rev"))
    assert nj.jit(f)(x).tobytes() == np.asarray(f(x)).tobytes()
    batch = RNG.standard_normal((3, 4, 2))
    np.testing.assert_allclose(nj.vmap(f)(batch), [f(b) for b in batch], rtol=1e-13)
    np.testing.assert_allclose(nj.vmap(nj.grad(f))(batch), [nj.grad(f)(b) for b in batch],
                               rtol=1e-12)
    np.testing.assert_allclose(nj.jit(nj.hessian(f))(x), nj.hessian(f)(x), rtol=1e-12)


def test_hessian_through_a_scan_matches_the_unrolled_loop():
    def rollout(p, unrolled):
        def step(c, _):
            return c + 0.1 * jnp.sin(c * p), jnp.sum(c)
        if unrolled:
            c, ys = jnp.array([0.3, 0.7]), []
            for _ in range(5):
                c, y = step(c, None)
                ys.append(y)
            return jnp.sum(c ** 2) + jnp.sum(jnp.stack(ys))
        c, ys = lax.scan(step, jnp.array([0.3, 0.7]), None, length=5)
        return jnp.sum(c ** 2) + jnp.sum(ys)
    p = np.array([1.3, -0.4])
    np.testing.assert_allclose(nj.hessian(lambda p: rollout(p, False))(p),
                               nj.hessian(lambda p: rollout(p, True))(p), rtol=1e-12)


# ----- vmap: JAX's semantics -----------------------------------------------------------

def test_cond_with_a_batched_predicate_runs_both_branches_and_selects():
    f = nj.vmap(lambda p, x: lax.cond(p, jnp.sin, jnp.cos, x))
    jaxpr = nj.make_jaxpr(f)(np.array([True, False]), np.ones(2))
    names = [e.primitive.name for e in jaxpr.eqns]
    assert "cond" not in names and "select_n" in names
    np.testing.assert_array_equal(f(np.array([True, False]), np.ones(2)),
                                  [np.sin(1.0), np.cos(1.0)])


def test_while_with_a_batched_predicate_runs_until_every_example_is_done():
    def collatz_steps(n):
        def body(c):
            n, k = c
            return jnp.where(n % 2 == 0, n // 2, 3 * n + 1), k + 1
        return lax.while_loop(lambda c: c[0] != 1, body, (n, 0))[1]
    ns = np.array([1, 6, 7, 27])
    want = []
    for n in ns:
        k = 0
        while n != 1:
            n, k = (n // 2 if n % 2 == 0 else 3 * n + 1), k + 1
        want.append(k)
    np.testing.assert_array_equal(nj.vmap(collatz_steps)(ns), want)
    np.testing.assert_array_equal(nj.jit(nj.vmap(collatz_steps))(ns), want)


# ----- jit: a real loop, not an unrolled one ----------------------------------------------

def _rnn_step_loss(n_steps):
    params, xs = _params(), RNG.standard_normal(n_steps)
    return params, xs, np.sin(np.cumsum(xs))


def test_jit_code_does_not_grow_with_the_trip_count():
    sources, eqns = [], []
    for n in (10, 1000):
        params, xs, target = _rnn_step_loss(n)
        lowered = nj.jit(nj.grad(_rnn_loss)).lower(params, xs, target)
        sources.append(re.sub(rf"\b{n}\b", "N", lowered.as_text()))
        eqns.append(len(lowered.jaxpr.eqns))
    assert sources[0] == sources[1]
    assert eqns[0] == eqns[1]
    assert "for _i in range(N)" in sources[0]


def test_an_rnn_trains_under_jit_and_compiles_as_fast_for_1000_steps_as_for_10():
    timings = {}
    for n in (10, 1000):
        params, xs, target = _rnn_step_loss(n)
        step = nj.jit(nj.value_and_grad(_rnn_loss))
        start = time.perf_counter()
        step.lower(params, xs, target)
        timings[n] = time.perf_counter() - start
    print(f"jit(value_and_grad(rnn)) staging+compile: 10 steps {timings[10] * 1e3:.1f} ms, "
          f"1000 steps {timings[1000] * 1e3:.1f} ms")
    # Train: fit the running mean of a sequence.
    xs = RNG.standard_normal(20)
    target = np.cumsum(xs) / np.arange(1, 21)
    params = _params(6)
    step = nj.jit(nj.value_and_grad(_rnn_loss))
    first, _ = step(params, xs, target)
    for _ in range(150):
        loss, g = step(params, xs, target)
        params = nj.tree_util.tree_map(lambda p, d: p - 0.1 * d, params, g)
    assert loss < 0.25 * first, (first, loss)


def test_make_jaxpr_prints_nested_jaxprs_as_jax_does():
    text = str(nj.make_jaxpr(lambda x: lax.cond(x > 0, lambda x: x * x, lambda x: -x, x))(3.0))
    assert text == """\
{ lambda ; a:f64[]. let
    b:bool[] = gt a 0:i64[]
    c:i32[] = convert_element_type[new_dtype=int32] b
    d:f64[] = cond[
      branches=(
        { lambda ; e:f64[]. let f:f64[] = neg e in (f,) }
        { lambda ; g:f64[]. let h:f64[] = mul g g in (h,) }
      )
    ] c a
  in (d,) }"""
    scan_text = str(nj.make_jaxpr(lambda xs: lax.scan(lambda c, x: (c + x, c), 0.0, xs))(
        np.ones(3)))
    assert "b:f64[] c:f64[3] = scan[" in scan_text
    assert "length=3" in scan_text and "num_carry=1" in scan_text


def test_map_with_a_batch_size_matches_map_and_vmap():
    xs = RNG.standard_normal((7, 3))
    f = lambda x: jnp.sum(jnp.sin(x) * x)  # noqa: E731
    want = nj.vmap(f)(xs)
    for batch_size in (None, 1, 3, 7, 10):
        np.testing.assert_allclose(lax.map(f, xs, batch_size=batch_size), want, rtol=1e-14)


def test_jit_prunes_what_a_loop_computes_for_nobody():
    # grad with respect to w only: the backward scan needs neither the pulls
    # of xs nor those of the data it closes over, so jit drops them.
    data = RNG.standard_normal((5, 3))
    xs = RNG.standard_normal((6, 3))

    def loss(w):
        def step(h, x):
            h = jnp.tanh(w @ h + x + data[0])
            return h, jnp.sum(h * data[1])
        return jnp.sum(lax.scan(step, jnp.zeros(3), xs)[1])
    w = 0.3 * RNG.standard_normal((3, 3))
    lowered = nj.jit(nj.grad(loss)).lower(w)
    scans = [e for e in lowered.jaxpr.eqns if e.primitive.name == "scan"]
    backward = scans[-1]
    assert backward.params["reverse"]
    assert backward.params["num_carry"] == 2               # the pulls of h and of w: no more
    assert len(backward.outvars) == 2                      # and no per-step pulls of xs
    assert nj.jit(nj.grad(loss))(w).tobytes() == nj.grad(loss)(w).tobytes()


def test_pruning_keeps_a_carry_that_decides_a_while_loop_or_feeds_a_used_one():
    def f(x):
        # Only the last output is used; the counter decides the loop and the
        # first carry feeds the last one.
        _, _, total = lax.while_loop(lambda c: c[0] < 4,
                                     lambda c: (c[0] + 1, c[1] * 2.0, c[2] + c[1]), (0, x, 0.0))
        return total
    assert nj.jit(f)(1.0) == f(1.0) == 15.0
    (eqn,) = [e for e in nj.jit(f).lower(1.0).jaxpr.eqns if e.primitive.name == "while"]
    assert len(eqn.outvars) == 3
