"""custom_vjp: the user's backward pass is the one every transformation uses."""

import functools

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp


def make_clipped_identity():
    """The identity, whose pull is clipped to [-1, 1]: differs from the true gradient."""
    @nj.custom_vjp
    def clipped(x):
        return x

    clipped.defvjp(lambda x: (x, None), lambda res, g: (jnp.clip(g, -1.0, 1.0),))
    return clipped


def make_sin_times():
    """sin(x) * y with the true gradient, through residuals (cos x, sin x, y)."""
    @nj.custom_vjp
    def sin_times(x, y):
        return jnp.sin(x) * y

    def fwd(x, y):
        return sin_times(x, y), (jnp.cos(x), jnp.sin(x), y)

    def bwd(res, g):
        cos_x, sin_x, y = res
        return (cos_x * g * y, sin_x * g)

    sin_times.defvjp(fwd, bwd)
    return sin_times


def test_runs_the_plain_function_outside_transformations():
    f = make_sin_times()
    assert f(1.0, 2.0) == pytest.approx(np.sin(1.0) * 2.0)


def test_grad_uses_the_users_backward_pass():
    clipped = make_clipped_identity()
    assert nj.grad(lambda x: 5.0 * clipped(x))(2.0) == 1.0
    assert nj.grad(lambda x: -5.0 * clipped(x))(2.0) == -1.0
    assert nj.grad(lambda x: 0.5 * clipped(x))(2.0) == 0.5


def test_a_true_gradient_agrees_with_finite_differences_first_and_second_order():
    f = make_sin_times()
    nj.check_grads(f, (0.7, -1.3), order=2, modes=("rev",))


@pytest.mark.parametrize("name, transform", [
    ("jit(grad)", lambda g: nj.jit(g)),
    ("grad(jit)", None),
])
def test_composes_with_jit(name, transform):
    f = make_sin_times()
    expected = np.cos(0.4) * 3.0
    got = nj.grad(nj.jit(f))(0.4, 3.0) if transform is None else transform(nj.grad(f))(0.4, 3.0)
    assert got == pytest.approx(expected)


def test_vmap_of_grad_and_grad_of_vmap_equal_loops():
    f = make_sin_times()
    xs = np.linspace(-1.0, 1.0, 5)
    per_example = nj.vmap(nj.grad(f), in_axes=(0, None))(xs, 2.0)
    np.testing.assert_allclose(per_example, [nj.grad(f)(x, 2.0) for x in xs])
    summed = nj.grad(lambda y: jnp.sum(nj.vmap(f, in_axes=(0, None))(xs, y)))(2.0)
    assert summed == pytest.approx(np.sum(np.sin(xs)))


def test_make_jaxpr_shows_one_gate():
    f = make_sin_times()
    text = str(nj.make_jaxpr(f)(1.0, 2.0))
    assert "custom_vjp_call[call=sin_times]" in text
    assert "sin" not in text.replace("sin_times", "")


def test_pytree_inputs_and_outputs():
    @nj.custom_vjp
    def scale_both(params):
        return {"a": params["w"] * 2.0, "b": params["w"] * 3.0}

    scale_both.defvjp(lambda p: (scale_both(p), None),
                      lambda res, g: ({"w": g["a"] * 2.0 + g["b"] * 3.0},))
    loss = lambda p: jnp.sum(scale_both(p)["a"]) + jnp.sum(scale_both(p)["b"])  # noqa: E731
    grads = nj.grad(loss)({"w": np.ones(3)})
    np.testing.assert_allclose(grads["w"], np.full(3, 5.0))


def test_nondiff_argnums_come_first_in_bwd():
    @functools.partial(nj.custom_vjp, nondiff_argnums=(0,))
    def power(n, x):
        return x ** n

    power.defvjp(lambda n, x: (power(n, x), x), lambda n, x, g: (g * n * x ** (n - 1),))
    assert nj.grad(lambda x: power(3, x))(2.0) == pytest.approx(12.0)


def test_forward_mode_is_refused_with_a_clear_error():
    f = make_sin_times()
    with pytest.raises(TypeError, match="forward-mode"):
        nj.jvp(f, (1.0, 2.0), (1.0, 0.0))


def test_missing_defvjp_is_a_clear_error():
    @nj.custom_vjp
    def f(x):
        return x
    with pytest.raises(TypeError, match="defvjp"):
        nj.grad(f)(1.0)


@pytest.mark.parametrize("fwd, bwd, message", [
    (lambda x: x, lambda res, g: (g,), "fwd must return a pair"),
    (lambda x: (x, None), lambda res, g: (g, g), "one cotangent per"),
    (lambda x: (x, None), lambda res, g: g, "must return a tuple"),
])
def test_malformed_fwd_or_bwd_is_a_clear_error(fwd, bwd, message):
    @nj.custom_vjp
    def f(x):
        return x
    f.defvjp(fwd, bwd)
    with pytest.raises(TypeError, match=message):
        nj.grad(f)(1.0)
