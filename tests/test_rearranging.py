"""``jnp.flip``, ``roll``, ``tile``, ``split`` and ``array_split`` on traced arrays."""

from __future__ import annotations

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp

RNG = np.random.default_rng(13)
X = RNG.normal(size=(2, 3, 4))

CASES = [
    ("flip-all", lambda m, x: m.flip(x), None),
    ("flip-1", lambda m, x: m.flip(x, 1), None),
    ("flip-tuple", lambda m, x: m.flip(x, (0, -1)), None),
    ("roll-flat", lambda m, x: m.roll(x, 5), None),
    ("roll-axis", lambda m, x: m.roll(x, -1, 2), None),
    ("roll-several", lambda m, x: m.roll(x, (1, 7), (1, 2)), None),
    ("roll-zero-length", lambda m, x: m.roll(x[:, :0], 2, 1), None),
    ("tile-int", lambda m, x: m.tile(x, 2), None),
    ("tile-more-reps", lambda m, x: m.tile(x, (2, 1, 1, 3)), None),
    ("tile-fewer-reps", lambda m, x: m.tile(x, (3, 2)), None),
    ("tile-zero", lambda m, x: m.tile(x, (2, 0)), None),
    ("split-sections", lambda m, x: m.split(x, 2, axis=2), "pieces"),
    ("split-indices", lambda m, x: m.split(x, [1, 3], axis=2), "pieces"),
    ("array_split-uneven", lambda m, x: m.array_split(x, 3, axis=2), "pieces"),
    ("array_split-odd-cuts", lambda m, x: m.array_split(x, [-1, 5, 1], axis=1), "pieces"),
]


@pytest.mark.parametrize("name,call,kind", CASES, ids=[c[0] for c in CASES])
def test_traced_rearranging_is_numpys(name, call, kind):
    want = call(np, X)
    got = nj.jit(lambda x: call(jnp, x))(X)
    pieces = zip(got, want, strict=True) if kind == "pieces" else [(got, want)]
    for g, w in pieces:
        assert g.shape == w.shape
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("fn", [lambda x: jnp.flip(x, 1), lambda x: jnp.roll(x, 2, 2),
                                lambda x: jnp.tile(x, (2, 1, 2)),
                                lambda x: jnp.concatenate(jnp.array_split(x, 3, axis=2)[::-1],
                                                          axis=2)],
                         ids=["flip", "roll", "tile", "array_split"])
def test_rearranging_gradients_match_central_differences(fn):
    nj.check_grads(lambda x: jnp.sin(fn(x)) * 1.5, (X,), order=2)


def test_vmap_of_roll_and_split_match_a_loop():
    got = nj.vmap(lambda x: jnp.roll(x, 1, 0))(X)
    np.testing.assert_array_equal(got, np.stack([np.roll(x, 1, 0) for x in X]))
    first, second = nj.vmap(lambda x: jnp.split(x, 2, axis=1))(X)
    np.testing.assert_array_equal(first, X[:, :, :2])
    np.testing.assert_array_equal(second, X[:, :, 2:])


@pytest.mark.parametrize("call,error,message", [
    (lambda x: jnp.split(x, 3, axis=2), ValueError, "equal division"),
    (lambda x: jnp.split(x, 0), ValueError, "larger than 0"),
    (lambda x: jnp.split(x, 1.5), TypeError, "indices_or_sections"),
    (lambda x: jnp.tile(x, -1), TypeError, "non-negative"),
    (lambda x: jnp.roll(x, 1.5, 0), TypeError, "shift and axis"),
    (lambda x: jnp.flip(x, 3), Exception, "axis"),
])
def test_bad_arguments_on_traced_values_get_a_sentence(call, error, message):
    with pytest.raises(error, match=message):
        nj.jit(call)(X)


def test_ragged_split_indices_get_a_sentence():
    with pytest.raises(TypeError, match=r"nanojax\.numpy\.split: indices_or_sections"):
        nj.jit(lambda x: jnp.split(x, [[1], [1, 2]]))(X)
