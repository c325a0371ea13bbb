"""nanojax.test_util (jax.test_util): check_grads passes true derivatives and catches wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax.test_util import check_grads, check_jvp, check_vjp


@pytest.mark.parametrize("f, args", [
    (lambda x, y: jnp.sin(x) * y, (1.5, jnp.arange(3.0))),
    (lambda x: jnp.tanh(x) @ x, (jnp.linspace(-1.0, 1.0, 4),)),
    (lambda w, x: jnp.sum(jnp.logaddexp(x @ w, 0.0)), (np.ones((3, 2)), np.eye(3))),
    (lambda d: d["a"] * jnp.exp(d["b"]), ({"a": 1.0, "b": jnp.ones(2)},)),
    (lambda x: nj.lax.fori_loop(0, 3, lambda i, c: c * x, x), (0.7,)),
])
def test_true_derivatives_pass_in_every_mode_to_third_order(f, args):
    check_grads(f, args, order=3, modes=("fwd", "rev", "lin"))


def _wrong_jvp_sin():
    f = nj.custom_jvp(jnp.sin)
    f.defjvp(lambda primals, tangents: (jnp.sin(primals[0]), 2.0 * tangents[0]))
    return f


def _wrong_vjp_sin():
    f = nj.custom_vjp(jnp.sin)
    f.defvjp(lambda x: (jnp.sin(x), x), lambda x, g: (g * jnp.sin(x),))
    return f


@pytest.mark.parametrize("make, mode", [(_wrong_jvp_sin, "fwd"), (_wrong_jvp_sin, "rev"),
                                        (_wrong_vjp_sin, "rev")])
def test_wrong_derivative_rules_are_caught(make, mode):
    with pytest.raises(AssertionError, match="of order 1"):
        check_grads(make(), (1.0,), order=1, modes=(mode,))


def test_a_wrong_second_derivative_is_caught_only_at_order_two():
    # cos is right, but its own derivative claims to be 0 (not -sin).
    @nj.custom_jvp
    def f(x):
        return jnp.sin(x)

    @nj.custom_jvp
    def cos_flat(x):
        return jnp.cos(x)

    f.defjvp(lambda p, t: (jnp.sin(p[0]), cos_flat(p[0]) * t[0]))
    cos_flat.defjvp(lambda p, t: (jnp.cos(p[0]), 0.0 * t[0]))
    check_grads(f, (0.8,), order=1)
    with pytest.raises(AssertionError, match="order 1"):
        check_grads(f, (0.8,), order=2, modes=("fwd",))


def test_tolerances_by_number_and_by_dtype():
    off = nj.custom_jvp(lambda x: x * 1.0)
    off.defjvp(lambda p, t: (p[0] * 1.0, 1.001 * t[0]))       # 0.1% too steep
    with pytest.raises(AssertionError):
        check_grads(off, (1.0,), 1, modes=("fwd",))
    check_grads(off, (1.0,), 1, modes=("fwd",), atol=1e-2, rtol=1e-2)
    check_grads(off, (1.0,), 1, modes=("fwd",), atol={np.float64: 1e-2}, rtol={np.float64: 1e-2})


def test_check_jvp_and_check_vjp_take_the_transformations():
    check_jvp(jnp.exp, lambda p, t: nj.jvp(jnp.exp, p, t), (np.array([0.1, 0.2]),))
    check_vjp(jnp.exp, lambda x: nj.vjp(jnp.exp, x), (np.array([0.1, 0.2]),))


@pytest.mark.parametrize("kwargs, error, match", [
    ({"order": 0}, ValueError, "order must be a positive int"),
    ({"order": 1, "modes": ("backward",)}, ValueError, "unknown mode"),
])
def test_bad_arguments_are_refused(kwargs, error, match):
    with pytest.raises(error, match=match):
        check_grads(jnp.sin, (1.0,), **kwargs)


def test_integer_inputs_are_refused():
    with pytest.raises(TypeError, match="check_grads: input leaf 0 is of dtype int"):
        check_grads(lambda i: i * 2.0, (3,), 1)


def test_reachable_as_an_attribute():
    assert nj.test_util.check_grads is check_grads
