"""``jnp.pad``: NumPy's own eagerly; on traced arrays, the same bits for its traced modes."""

from __future__ import annotations

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp

RNG = np.random.default_rng(5)
MODES = ["constant", "edge", "wrap", "reflect", "symmetric"]
WIDTHS = [1, (2, 0), ((0, 3), (4, 1)), ((5, 6), (7, 9))]     # past the array's own size too


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("width", WIDTHS, ids=str)
def test_traced_pad_is_numpys_to_the_bit(mode, width):
    x = RNG.normal(size=(3, 4))
    got = nj.jit(lambda x: jnp.pad(x, width, mode=mode))(x)
    assert got.tobytes() == np.pad(x, width, mode=mode).tobytes()
    np.testing.assert_array_equal(jnp.pad(x, width, mode=mode), np.pad(x, width, mode=mode))


@pytest.mark.parametrize("mode", MODES)
def test_pad_gradients_match_central_differences(mode):
    x = RNG.normal(size=(3, 4))
    nj.check_grads(lambda x: jnp.sin(jnp.pad(x, ((2, 5), (1, 0)), mode=mode)), (x,), order=2)


def test_a_traced_constant_value_gets_its_gradient():
    x = RNG.normal(size=(2, 3))
    nj.check_grads(lambda x, v: jnp.pad(x, 1, constant_values=v) ** 2, (x, 0.7), order=2)
    got = nj.jit(lambda x: jnp.pad(x, ((1, 0), (0, 2)), constant_values=((7, 8), (5, 6))))(x)
    np.testing.assert_array_equal(got, np.pad(x, ((1, 0), (0, 2)),
                                              constant_values=((7, 8), (5, 6))))


def test_vmap_of_pad_matches_a_loop():
    xs = RNG.normal(size=(4, 3))
    got = nj.vmap(lambda x: jnp.pad(x, (2, 3), mode="reflect"))(xs)
    np.testing.assert_array_equal(got, np.stack([np.pad(x, (2, 3), mode="reflect")
                                                 for x in xs]))


def test_eager_pad_is_numpys_with_every_mode():
    x = np.arange(5.0)
    for mode in ["linear_ramp", "maximum", "mean", "median", "minimum"]:
        np.testing.assert_array_equal(jnp.pad(x, 2, mode=mode), np.pad(x, 2, mode=mode))


@pytest.mark.parametrize("call,error,message", [
    (lambda x: jnp.pad(x, 2, mode="mean"), NotImplementedError, "mode 'mean'"),
    (lambda x: jnp.pad(x, 2, mode="reflect", reflect_type="odd"), NotImplementedError, "odd"),
    (lambda x: jnp.pad(x, -1), ValueError, "non-negative"),
    (lambda x: jnp.pad(x, 1.5), TypeError, "pad_width must be ints"),
    (lambda x: jnp.pad(x, ((1, 1), (1, 1), (1, 1))), ValueError, "does not fit"),
    (lambda x: jnp.pad(x, 1, mode="edge", constant_values=3), ValueError, "keyword"),
    (lambda x: jnp.pad(x[:0], 1, mode="wrap"), ValueError, "empty axis"),
])
def test_traced_pad_refuses_what_it_cannot_do_with_a_sentence(call, error, message):
    with pytest.raises(error, match=f"nanojax.numpy.pad: .*{message}"):
        nj.jit(call)(np.ones((2, 3)))


def test_constant_values_that_do_not_fit_get_a_sentence():
    with pytest.raises(ValueError, match=r"nanojax\.numpy\.pad: constant_values"):
        nj.jit(lambda x: jnp.pad(x, 1, constant_values=[1.0, 2.0, 3.0]))(np.ones((2, 3)))
