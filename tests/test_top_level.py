"""JAX's top-level transformations and utilities, against JAX's documented behaviour.

custom_jvp / custom_gradient, checkpoint, pure_callback, linearize,
linear_transpose, eval_shape, ShapeDtypeStruct, Array, typeof, config,
disable_jit, clear_caches, the small context managers, and the keywords JAX's
jit/grad/vjp/jvp/jacobians accept. Expected values are worked out by hand.
"""

import functools

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import lax
from nanojax.dtypes import float0

X3 = np.array([0.3, -1.2, 2.0])


# ----- custom_jvp --------------------------------------------------------------------

@nj.custom_jvp
def log1pexp(x):
    return jnp.log(1.0 + jnp.exp(x))


@log1pexp.defjvp
def _log1pexp_jvp(primals, tangents):
    x, = primals
    t, = tangents
    return log1pexp(x), t * (1.0 - 1.0 / (1.0 + jnp.exp(x)))


# A rule that is deliberately not sin's derivative, so tests see which one runs.
@nj.custom_jvp
def sin7(x):
    return jnp.sin(x)


@sin7.defjvp
def _sin7_jvp(primals, tangents):
    return sin7(primals[0]), 7.0 * jnp.cos(primals[0]) * tangents[0]


def test_custom_jvp_runs_the_function_outside_transformations():
    np.testing.assert_array_equal(sin7(X3), np.sin(X3))


def test_the_classic_log1pexp_gradient_is_finite():
    # exp(1000) overflows float64, so the circuit's own pull is inf / inf.
    with np.errstate(all="ignore"):
        assert nj.grad(log1pexp)(1000.0) == 1.0
        assert np.isnan(nj.grad(lambda x: jnp.log(1.0 + jnp.exp(x)))(1000.0))
    np.testing.assert_allclose(nj.grad(log1pexp)(0.0), 0.5)


@pytest.mark.parametrize("transform", [
    lambda f: (lambda x: nj.jvp(f, (x,), (np.ones_like(x),))[1]),
    lambda f: nj.grad(lambda x: jnp.sum(f(x))),
    lambda f: nj.jit(nj.grad(lambda x: jnp.sum(f(x)))),
    lambda f: nj.vmap(nj.grad(f)),
    lambda f: nj.grad(lambda x: jnp.sum(nj.vmap(f)(x))),
    lambda f: (lambda x: jnp.diagonal(nj.jacfwd(f)(x))),
    lambda f: (lambda x: jnp.diagonal(nj.jacrev(f)(x))),
    lambda f: (lambda x: nj.jvp(nj.vmap(f), (x,), (np.ones_like(x),))[1]),
    lambda f: nj.jit(nj.vmap(nj.grad(f))),
], ids=["jvp", "grad", "jit-grad", "vmap-grad", "grad-vmap", "jacfwd", "jacrev", "jvp-vmap",
        "jit-vmap-grad"])
def test_every_derivative_uses_the_rule(transform):
    np.testing.assert_allclose(transform(sin7)(X3), 7.0 * np.cos(X3), rtol=1e-12)


def test_second_derivatives_differentiate_the_rule():
    # d/dx of the rule's 7 cos(x) is -7 sin(x), by either mode.
    np.testing.assert_allclose(nj.grad(nj.grad(sin7))(0.4), -7.0 * np.sin(0.4), rtol=1e-12)
    np.testing.assert_allclose(nj.jacfwd(nj.grad(sin7))(0.4), -7.0 * np.sin(0.4), rtol=1e-12)
    nj.check_grads(log1pexp, (X3,), order=2, modes=("fwd", "rev"))


def test_jit_of_custom_jvp_is_one_gate_and_bit_identical():
    jaxpr = nj.make_jaxpr(nj.grad(lambda x: jnp.sum(sin7(x))))(X3)
    assert "custom_jvp_call" in str(nj.make_jaxpr(sin7)(X3))
    assert jaxpr.eqns
    f = nj.grad(lambda x: jnp.sum(log1pexp(x) * x))
    np.testing.assert_array_equal(nj.jit(f)(X3), f(X3))


def test_custom_jvp_nondiff_argnums_and_keywords():
    @functools.partial(nj.custom_jvp, nondiff_argnums=(0,))
    def power(n, x):
        return x ** n

    @power.defjvp
    def power_jvp(n, primals, tangents):
        x, = primals
        return power(n, x), n * x ** (n - 1) * tangents[0]
    assert nj.grad(power, argnums=1)(3, 2.0) == 12.0
    assert nj.grad(lambda x: power(3, x=x))(2.0) == 12.0
    np.testing.assert_allclose(nj.vmap(nj.grad(lambda x: power(2, x)))(X3), 2 * X3)


def test_defjvps_sums_one_rule_per_argument():
    @nj.custom_jvp
    def f(x, y):
        return jnp.sin(x) * y

    f.defjvps(lambda t, ans, x, y: jnp.cos(x) * t * y, lambda t, ans, x, y: jnp.sin(x) * t)
    dx, dy = nj.grad(lambda x, y: jnp.sum(f(x, y)), argnums=(0, 1))(X3, 2.0)
    np.testing.assert_allclose(dx, 2.0 * np.cos(X3))
    np.testing.assert_allclose(dy, np.sum(np.sin(X3)))
    _, t = nj.jvp(f, (X3, 2.0), (np.ones(3), 0.0))
    np.testing.assert_allclose(t, 2.0 * np.cos(X3))


def test_custom_jvp_pytrees_in_and_out():
    @nj.custom_jvp
    def f(p):
        return {"s": p["a"] * p["b"], "d": p["a"] - p["b"]}

    @f.defjvp
    def f_jvp(primals, tangents):
        (p,), (t,) = primals, tangents
        return f(p), {"s": t["a"] * p["b"] + p["a"] * t["b"], "d": t["a"] - t["b"]}
    g = nj.grad(lambda p: jnp.sum(f(p)["s"]) + jnp.sum(f(p)["d"]))({"a": X3, "b": 2.0 * X3})
    np.testing.assert_allclose(g["a"], 2.0 * X3 + 1.0)
    np.testing.assert_allclose(g["b"], X3 - 1.0)


@pytest.mark.parametrize("rule, error, message", [
    (lambda p, t: p[0], TypeError, "pair"),
    (lambda p, t: (p[0], (t[0],)), TypeError, "structure"),
    (lambda p, t: (p[0], jnp.sum(t[0])), ValueError, "shape"),
], ids=["not-a-pair", "structure", "shape"])
def test_a_malformed_jvp_rule_is_a_clear_error(rule, error, message):
    f = nj.custom_jvp(lambda x: x * 2.0)
    f.defjvp(rule)
    with pytest.raises(error, match=message):
        nj.jvp(f, (X3,), (X3,))


def test_custom_jvp_without_a_rule_and_symbolic_zeros():
    f = nj.custom_jvp(lambda x: x)
    with pytest.raises(TypeError, match="defjvp"):
        nj.grad(f)(1.0)
    with pytest.raises(NotImplementedError, match="symbolic_zeros"):
        f.defjvp(lambda p, t: (p, t), symbolic_zeros=True)
    with pytest.raises(TypeError, match="nondiff_argnums"):
        nj.custom_jvp(lambda n, x: x, nondiff_argnums=(0,)).defjvps(None)


# ----- custom_gradient ------------------------------------------------------------------

@nj.custom_gradient
def clipped_square(x):
    return x ** 2, lambda g: (jnp.clip(g * 2.0 * x, -1.0, 1.0),)


def test_custom_gradient_value_and_backward_pass():
    assert clipped_square(3.0) == 9.0
    assert nj.grad(clipped_square)(3.0) == 1.0
    assert nj.grad(clipped_square)(0.25) == 0.5
    assert nj.jit(nj.grad(clipped_square))(3.0) == 1.0
    np.testing.assert_allclose(nj.vmap(nj.grad(clipped_square))(np.array([0.1, 5.0])),
                               [0.2, 1.0])
    with pytest.raises(TypeError, match="pair"):
        nj.grad(nj.custom_gradient(lambda x: x))(1.0)


# ----- checkpoint --------------------------------------------------------------------------

def _mlp(w, x):
    return jnp.tanh(w @ jnp.tanh(w @ x))


def test_checkpoint_gives_the_same_derivatives():
    rng = np.random.default_rng(0)
    w, x = rng.standard_normal((3, 3)), rng.standard_normal(3)
    ck = nj.checkpoint(_mlp)
    loss, ck_loss = (lambda w: jnp.sum(_mlp(w, x) ** 2)), (lambda w: jnp.sum(ck(w, x) ** 2))
    np.testing.assert_allclose(nj.grad(ck_loss)(w), nj.grad(loss)(w), rtol=1e-12)
    np.testing.assert_allclose(nj.hessian(ck_loss)(w), nj.hessian(loss)(w), rtol=1e-10)
    np.testing.assert_array_equal(nj.jit(nj.grad(ck_loss))(w), nj.grad(ck_loss)(w))
    ws = np.stack([w, 2 * w])
    np.testing.assert_allclose(nj.vmap(nj.grad(ck_loss))(ws),
                               [nj.grad(loss)(w), nj.grad(loss)(2 * w)], rtol=1e-12)
    nj.check_grads(lambda w, x: ck(w, x), (w, x), order=2, modes=("fwd", "rev"))
    assert nj.remat is nj.checkpoint


def test_checkpoint_reruns_the_function_in_the_backward_pass():
    calls = []

    def counted(x):
        calls.append(1)
        return x

    def body(x):
        # The callback's value is not differentiated; it only counts evaluations.
        seen = nj.pure_callback(counted, nj.ShapeDtypeStruct((3,), np.float64),
                                nj.stop_gradient(x))
        return jnp.sin(x) * (1.0 + 0.0 * seen)

    for fn, evaluations in [(body, 1), (nj.checkpoint(body), 2)]:
        calls.clear()
        g = nj.grad(lambda x: jnp.sum(fn(x)))(X3)
        np.testing.assert_allclose(g, np.cos(X3))
        assert len(calls) == evaluations       # forward, and again in the backward pass


def test_checkpoint_options_and_closures():
    f = nj.checkpoint(lambda x, n: jnp.sin(x) ** n, static_argnums=(1,),
                      policy=nj.checkpoint_policies.dots_saveable, prevent_cse=False)
    np.testing.assert_allclose(nj.grad(lambda x: f(x, 2))(0.3), 2 * np.sin(0.3) * np.cos(0.3))
    w = 1.5
    g = nj.grad(lambda w: nj.checkpoint(lambda x: w * jnp.sin(x))(0.3))(w)
    np.testing.assert_allclose(g, np.sin(0.3))
    deco = nj.checkpoint(policy=nj.checkpoint_policies.nothing_saveable)(jnp.tanh)
    np.testing.assert_allclose(nj.grad(deco)(0.2), 1 - np.tanh(0.2) ** 2)
    assert "checkpoint" in str(nj.make_jaxpr(nj.checkpoint(jnp.sin))(1.0))


# ----- pure_callback ------------------------------------------------------------------------

def test_pure_callback_eager_and_under_jit_is_called_when_run():
    calls = []

    def host(x, *, offset):
        calls.append(type(x))
        return np.sin(x) + offset

    f = nj.jit(lambda x: nj.pure_callback(host, nj.ShapeDtypeStruct(x.shape, x.dtype), x,
                                          offset=1.0) * 2.0)
    np.testing.assert_allclose(f(X3), 2 * (np.sin(X3) + 1.0))
    np.testing.assert_allclose(f(X3), 2 * (np.sin(X3) + 1.0))
    assert calls == [np.ndarray, np.ndarray]       # at run time, on NumPy arrays


@pytest.mark.parametrize("method", ["sequential", "expand_dims", "broadcast_all",
                                    "legacy_vectorized"])
def test_pure_callback_under_vmap_matches_a_loop(method):
    shapes = []

    def host(x, y):
        shapes.append(np.shape(x))
        return x * y

    def f(x, y):
        return nj.pure_callback(host, nj.ShapeDtypeStruct((), np.float64), x, y,
                                vmap_method=method)
    xs, y = np.array([1.0, 2.0, 3.0]), 10.0
    np.testing.assert_array_equal(nj.vmap(f, in_axes=(0, None))(xs, y), xs * y)
    assert shapes == ([()] * 3 if method == "sequential" else [(3,)])


def test_pure_callback_errors():
    sds = nj.ShapeDtypeStruct((2,), np.float64)
    with pytest.raises(ValueError, match="shape"):
        nj.pure_callback(lambda: np.zeros(3), sds)
    with pytest.raises(TypeError, match="dtype"):
        nj.pure_callback(lambda: np.zeros(2, np.float32), sds)
    with pytest.raises(TypeError, match="structure"):
        nj.pure_callback(lambda: (np.zeros(2),), sds)
    with pytest.raises(NotImplementedError, match="vmap_method"):
        nj.vmap(lambda x: nj.pure_callback(np.sin, nj.ShapeDtypeStruct((), np.float64), x))(X3)
    with pytest.raises(ValueError, match="vmap_method must be"):
        nj.pure_callback(np.sin, sds, X3[:2], vmap_method="parallel")
    with pytest.raises(ValueError, match="do not support differentiation"):
        nj.grad(lambda x: nj.pure_callback(np.sin, nj.ShapeDtypeStruct((), np.float64), x))(1.)
    with pytest.raises(ValueError, match="do not support differentiation"):
        nj.jvp(lambda x: nj.pure_callback(np.sin, nj.ShapeDtypeStruct((), np.float64), x),
               (1.0,), (1.0,))
    assert nj.pure_callback(lambda: 1, nj.ShapeDtypeStruct((), np.float64)).dtype == np.float64


# ----- linearize and linear_transpose ----------------------------------------------------

def test_linearize_matches_jvp_and_computes_the_primal_once():
    calls = []

    def f(x, y):
        calls.append(1)
        return jnp.sin(x) * y, jnp.sum(x ** 2)

    out, f_jvp = nj.linearize(f, X3, 2.0)
    assert len(calls) == 1
    np.testing.assert_allclose(out[0], np.sin(X3) * 2.0)
    for tx, ty in [(np.ones(3), 0.0), (X3, 1.5)]:
        want = nj.jvp(f, (X3, 2.0), (tx, ty))[1]
        got = f_jvp(tx, ty)
        np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-12)
    np.testing.assert_array_equal(nj.jit(f_jvp)(X3, 1.5)[0], f_jvp(X3, 1.5)[0])
    assert len(calls) == 3                     # the two jvp calls above; f_jvp never calls f
    with pytest.raises(ValueError, match="shape"):
        f_jvp(np.ones(2), 0.0)
    with pytest.raises(ValueError, match="structure"):
        f_jvp(np.ones(3))


def test_linearize_has_aux_and_constants_and_derivatives():
    table = [1.0, 2.0, 3.0]
    _, f_jvp, aux = nj.linearize(lambda x: (jnp.asarray(table) * x, jnp.sum(x)), X3,
                                 has_aux=True)
    assert aux == pytest.approx(np.sum(X3))
    np.testing.assert_allclose(f_jvp(np.ones(3)), table)
    # The linear map itself is differentiable: its gradient in the tangent is fixed.
    _, f_jvp = nj.linearize(jnp.sin, X3)
    np.testing.assert_allclose(nj.grad(lambda t: jnp.sum(f_jvp(t)))(np.ones(3)), np.cos(X3))


def test_linear_transpose_is_the_matrix_transpose():
    a = np.arange(6.0).reshape(2, 3)
    t = nj.linear_transpose(lambda x: a @ x, nj.ShapeDtypeStruct((3,), np.float64))
    ct = np.array([1.0, -2.0])
    (got,) = t(ct)
    np.testing.assert_allclose(got, a.T @ ct)
    t2 = nj.linear_transpose(lambda x, y: {"s": 2.0 * x + y, "r": jnp.reshape(y, (3, 1))},
                             X3, X3)
    gx, gy = t2({"s": np.ones(3), "r": np.full((3, 1), 2.0)})
    np.testing.assert_allclose(gx, [2.0] * 3)
    np.testing.assert_allclose(gy, [3.0] * 3)


@pytest.mark.parametrize("f, message", [
    (jnp.sin, "not linear"), (lambda x: x * x, "not linear"),
    (lambda x: x + 1.0, "affine"), (lambda x: jnp.where(x > 0, x, 0.0), "not linear"),
], ids=["sin", "square", "affine", "relu"])
def test_linear_transpose_refuses_nonlinear_functions(f, message):
    with pytest.raises(TypeError, match=message):
        nj.linear_transpose(f, X3)


# ----- eval_shape, ShapeDtypeStruct, Array, typeof -------------------------------------

def test_eval_shape_returns_shape_dtype_structs():
    out = nj.eval_shape(lambda x, w, b=None: {"y": jnp.tanh(x @ w), "n": jnp.sum(x > 0)},
                        nj.ShapeDtypeStruct((8, 3), np.float32), np.ones((3, 5), np.float32))
    assert out == {"y": nj.ShapeDtypeStruct((8, 5), np.float32),
                   "n": nj.ShapeDtypeStruct((), np.int64)}
    assert nj.eval_shape(lambda x: x * 2, 1.0) == nj.ShapeDtypeStruct((), np.float64,
                                                                      weak_type=True)
    with pytest.raises(TypeError, match="eval_shape"):
        nj.eval_shape(lambda x: x, "a string")


def test_shape_dtype_struct():
    s = nj.ShapeDtypeStruct([2, 3], "float32")
    assert s.shape == (2, 3) and s.dtype == np.float32 and s.ndim == 2 and s.size == 6
    assert s.sharding is None and len(s) == 2
    assert repr(s) == "ShapeDtypeStruct(shape=(2, 3), dtype=float32)"
    assert hash(s) == hash(nj.ShapeDtypeStruct((2, 3), np.float32))
    assert s != nj.ShapeDtypeStruct((2, 3), np.float64)
    with pytest.raises(TypeError, match="dtype"):
        nj.ShapeDtypeStruct((2,), None)


def test_array_is_the_type_of_arrays_and_tracers():
    assert isinstance(np.ones(2), nj.Array) and isinstance(jnp.sum(np.ones(2)), nj.Array)
    assert not isinstance([1.0], nj.Array) and not isinstance("x", nj.Array)
    seen = []
    for transform in (nj.grad, nj.jit, lambda f: nj.vmap(f)):
        transform(lambda x: seen.append(isinstance(x, nj.Array)) or jnp.sum(x))(X3)
    assert seen == [True, True, True]
    assert nj.typeof(np.ones((2, 3), np.float32)).str_short() == "f32[2,3]"
    assert nj.typeof(1.0).weak_type
    with pytest.raises(TypeError, match="typeof"):
        nj.typeof("x")


# ----- config, disable_jit, clear_caches --------------------------------------------------

def test_config_accepts_jax_flags_and_refuses_unknown_ones():
    nj.config.update("jax_enable_x64", True)
    assert nj.config.jax_enable_x64 is True
    nj.config.update("jax_numpy_rank_promotion", "raise")
    assert nj.config.read("jax_numpy_rank_promotion") == "raise"
    nj.config.update("jax_numpy_rank_promotion", "allow")
    nj.config.update("jax_debug_nans", True)
    nj.config.update("jax_debug_nans", False)
    nj.config.update("jax_platform_name", "cpu")
    with pytest.raises(AttributeError, match="jax_no_such_flag"):
        nj.config.update("jax_no_such_flag", True)
    with pytest.raises(AttributeError):
        nj.config.jax_no_such_flag  # noqa: B018
    with pytest.raises(ValueError, match="one of"):
        nj.config.update("jax_numpy_rank_promotion", "sometimes")
    with pytest.raises(ValueError, match="one of"):
        nj.config.update("jax_platform_name", "gpu")
    assert nj.config.values()["jax_enable_x64"] is True


def test_disable_jit_runs_the_python_function():
    seen = []
    f = nj.jit(lambda x: seen.append(type(x).__name__) or x * 2.0)
    f(1.0)
    with nj.disable_jit():
        assert f(3.0) == 6.0
    f(2.0)
    assert seen == ["StagingTracer", "float"]            # traced once, then cached
    nj.config.update("jax_disable_jit", True)
    try:
        assert nj.config.jax_disable_jit and f(4.0) == 8.0
    finally:
        nj.config.update("jax_disable_jit", False)
    assert seen == ["StagingTracer", "float", "float"]


def test_clear_caches_makes_jitted_functions_retrace():
    traces = []
    f = nj.jit(lambda x: traces.append(1) or x + 1.0)
    f(1.0)
    f(2.0)
    nj.clear_caches()
    assert f(3.0) == 4.0
    assert len(traces) == 2


# ----- Small utilities ------------------------------------------------------------------

def test_named_call_named_scope_ensure_compile_time_eval_default_backend():
    g = nj.named_call(lambda x: x * 3.0, name="triple")
    assert g.__name__ == "triple" and nj.grad(g)(1.0) == 3.0
    with nj.named_scope("block"):
        assert nj.jit(lambda x: x + 1.0)(1.0) == 2.0
    with pytest.raises(TypeError, match="string"), nj.named_scope(3):
        pass
    assert nj.default_backend() == "cpu"

    @nj.jit
    def f(x):
        with nj.ensure_compile_time_eval():
            table = jnp.asarray([1.0, 2.0, 3.0])
            assert isinstance(table, np.ndarray)        # a value while tracing
        return x * table
    np.testing.assert_array_equal(f(2.0), [2.0, 4.0, 6.0])


def test_jit_accepts_jax_keywords_and_partial_application():
    f = nj.jit(lambda x, n: x * n, static_argnums=1, donate_argnums=0, inline=True,
               keep_unused=True, device=None, backend="cpu")
    assert f(2.0, 3) == 6.0
    g = functools.partial(nj.jit, static_argnames="n")(lambda x, n=2: x ** n)
    assert g(3.0, n=3) == 27.0

    @nj.jit(static_argnums=(1,), donate_argnames="x")
    def h(x, n):
        return x * n
    assert h(2.0, 4) == 8.0
    with pytest.raises(ValueError, match="backend"):
        nj.jit(jnp.sin, backend="gpu")


def test_grad_keywords_as_jax():
    g = nj.grad(lambda x, n: jnp.sum(x * n), argnums=(0, 1), allow_int=True)(2.0, np.arange(3))
    assert g[0] == pytest.approx(3.0)
    assert g[1].dtype == float0 and g[1].shape == (3,)
    (v, aux), (gx, gn) = nj.value_and_grad(lambda x, n: (x * 2.0, n), argnums=(0, 1),
                                           has_aux=True, allow_int=True)(1.0, 5)
    assert (v, aux, gx, gn.dtype) == (2.0, 5, 2.0, float0)
    assert nj.grad(lambda n: 1.0, allow_int=True)(3).dtype == float0
    with pytest.raises(TypeError, match="holomorphic"):
        nj.grad(jnp.sin, holomorphic=True)
    with pytest.raises(NotImplementedError, match="reduce_axes"):
        nj.grad(jnp.sin, reduce_axes=("batch",))
    assert nj.grad(jnp.sin, reduce_axes=())(0.0) == 1.0
    out, pull = nj.vjp(jnp.sin, 0.0, reduce_axes=())
    assert pull(1.0) == (1.0,)
    out, t, aux = nj.jvp(lambda x: (x * x, "aux"), (3.0,), (1.0,), has_aux=True)
    assert (out, t, aux) == (9.0, 6.0, "aux")


def test_jacobian_is_jacrev_and_jacobians_take_has_aux():
    f = lambda x: (x[0] * x, {"n": jnp.sum(x)})   # noqa: E731
    x = np.array([2.0, 3.0])
    want = np.array([[4.0, 0.0], [3.0, 2.0]])
    for jac in (nj.jacobian, nj.jacrev, nj.jacfwd):
        got, aux = jac(f, has_aux=True)(x)
        np.testing.assert_allclose(got, want)
        assert aux["n"] == 5.0
    np.testing.assert_allclose(nj.jacobian(lambda x: f(x)[0])(x), want)
    h, aux = nj.hessian(lambda x: (jnp.sum(x ** 3), x * 2), has_aux=True)(x)
    np.testing.assert_allclose(h, np.diag(6 * x))
    with pytest.raises(NotImplementedError, match="allow_int"):
        nj.jacobian(jnp.sin, allow_int=True)


def test_lax_map_and_custom_rules_compose_under_jit():
    # A loop whose body is a custom_jvp call and a checkpoint: every rule together.
    body = nj.checkpoint(lambda x: log1pexp(x) * sin7(x))
    f = lambda xs: jnp.sum(lax.map(body, xs))             # noqa: E731
    g = nj.grad(f)(X3)
    np.testing.assert_array_equal(nj.jit(nj.grad(f))(X3), g)
    s = 1 / (1 + np.exp(-X3))
    want = s * np.sin(X3) + np.log1p(np.exp(X3)) * 7 * np.cos(X3)
    np.testing.assert_allclose(g, want, rtol=1e-12)


@pytest.mark.parametrize("loop", ["fori_loop", "scan", "while_loop"])
def test_linearize_through_a_loop_gives_values_not_tracers(loop):
    # A loop's jvp is one primitive for primal and tangent, so linearize records
    # the primal too; what it hands back must still be the value.
    body = {
        "fori_loop": lambda x: nj.lax.fori_loop(0, 3, lambda i, c: c * x, x),
        "scan": lambda x: nj.lax.scan(lambda c, _: (c * x, None), x, None, length=3)[0],
        "while_loop": lambda x: nj.lax.while_loop(lambda c: c[0] < 3,
                                                  lambda c: (c[0] + 1, c[1] * x), (0, x))[1],
    }[loop]
    out, f_jvp = nj.linearize(lambda x: (body(x), jnp.sin(x)), np.array([0.7, -1.2]))
    want, want_t = nj.jvp(lambda x: (body(x), jnp.sin(x)), (np.array([0.7, -1.2]),),
                          (np.array([1.0, 0.5]),))
    assert not any(isinstance(leaf, nj.core.Tracer) for leaf in nj.tree_util.tree_leaves(out))
    for got, expected in zip(out, want):
        np.testing.assert_array_equal(got, expected)
    for got, expected in zip(f_jvp(np.array([1.0, 0.5])), want_t):
        np.testing.assert_allclose(got, expected, rtol=1e-15)


def test_ad_checkpoint_names_change_no_value_and_no_derivative():
    from nanojax.ad_checkpoint import checkpoint, checkpoint_name, checkpoint_policies

    def layer(w, x):
        return jnp.sum(jnp.tanh(checkpoint_name(w @ x, "pre")) ** 2)
    w, x = np.array([[0.3, -1.2], [0.8, 0.1]]), np.array([1.0, 2.0])
    plain = nj.grad(lambda w: jnp.sum(jnp.tanh(w @ x) ** 2))(w)
    for policy in (None, checkpoint_policies.save_only_these_names("pre"),
                   checkpoint_policies.save_from_both_policies(
                       checkpoint_policies.dots_saveable, checkpoint_policies.nothing_saveable)):
        got = nj.jit(nj.grad(checkpoint(layer, policy=policy)))(w, x)
        np.testing.assert_allclose(got, plain, rtol=1e-15)
    assert nj.ad_checkpoint.checkpoint is nj.checkpoint
    with pytest.raises(TypeError, match="checkpoint_name: name must be a string"):
        checkpoint_name(w, 3)


def test_shape_dtype_struct_like_reads_arrays_tracers_and_structs():
    x = jnp.arange(5.0)
    assert nj.ShapeDtypeStruct.like(x) == nj.ShapeDtypeStruct((5,), np.float64)
    assert nj.ShapeDtypeStruct.like(nj.ShapeDtypeStruct((2,), np.int8)).dtype == np.int8
    seen = []
    nj.jit(lambda t: seen.append(nj.ShapeDtypeStruct.like(t)) or t)(np.ones((2, 3), np.float32))
    assert seen == [nj.ShapeDtypeStruct((2, 3), np.float32)]
    # JAX's external-callbacks doc: the result declared like the argument
    f = lambda x: nj.pure_callback(lambda x: np.sin(x), nj.ShapeDtypeStruct.like(x), x,  # noqa: E731
                                   vmap_method="sequential")
    np.testing.assert_array_equal(nj.vmap(f)(x), np.sin(np.arange(5.0)))
    with pytest.raises(TypeError, match=r"ShapeDtypeStruct\.like: expected an array"):
        nj.ShapeDtypeStruct.like("a")


def test_print_saved_residuals_shows_what_the_tape_holds(capsys):
    from nanojax.ad_checkpoint import checkpoint, print_saved_residuals

    def f(W1, W2, x):       # JAX's gradient-checkpointing doc, two layers
        return jnp.sum(jnp.sin(jnp.dot(W2, jnp.sin(jnp.dot(W1, x)))))
    W1, W2, x = np.ones((5, 4)), np.ones((6, 5)), np.ones(4)
    print_saved_residuals(f, W1, W2, x)
    plain = capsys.readouterr().out.splitlines()
    assert plain[:3] == ["f64[5,4] from the argument W1", "f64[6,5] from the argument W2",
                         "f64[4] from the argument x"]
    assert "f64[5] output of dot_general" in plain and "f64[5] output of sin" in plain
    print_saved_residuals(checkpoint(f), W1, W2, x)
    assert capsys.readouterr().out.splitlines() == plain[:3]     # remat keeps the inputs only
    print_saved_residuals(lambda p, *xs: jnp.sum(p["w"] @ xs[0]), {"w": W1}, x)
    assert capsys.readouterr().out.splitlines()[:2] == ["f64[5,4] from the argument p['w']",
                                                        "f64[4] from the argument xs[0]"]
