"""``jnp.argsort``, ``jnp.sort`` and ``lax.top_k``: JAX's stable sort, traced or not."""

from __future__ import annotations

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import lax

RNG = np.random.default_rng(9)
TIES = RNG.integers(0, 4, size=(5, 6)).astype(np.float64)     # many equal entries


def _descending_reference(x, axis):
    # Stable and descending: the largest first, equal entries in their order.
    return np.argsort(-x, axis=axis, kind="stable")


@pytest.mark.parametrize("axis", [0, 1, -1, None])
@pytest.mark.parametrize("descending", [False, True])
def test_argsort_is_stable_eagerly_and_under_jit(axis, descending):
    x = TIES if axis is not None else TIES.ravel()
    ax = 0 if axis is None else axis
    want = (_descending_reference(x, ax) if descending
            else np.argsort(x, axis=ax, kind="stable"))
    for fn in (jnp.argsort, nj.jit(jnp.argsort, static_argnames=("axis", "descending"))):
        got = fn(TIES, axis=axis, descending=descending)
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(jnp.sort(TIES, axis=axis, descending=descending),
                                  np.take_along_axis(x, want, ax))


def test_nan_sorts_last_ascending_and_first_descending():
    x = np.array([2.0, np.nan, -1.0, 3.0])
    np.testing.assert_array_equal(jnp.argsort(x), [2, 0, 3, 1])
    np.testing.assert_array_equal(nj.jit(lambda x: jnp.argsort(x, descending=True))(x),
                                  [1, 3, 0, 2])


def test_sorted_values_differentiate_back_to_their_entries():
    x = RNG.normal(size=(3, 5))          # distinct: the sort is smooth here
    nj.check_grads(lambda x: jnp.sort(x, axis=1) * np.arange(5.0), (x,), order=2)
    nj.check_grads(lambda x: jnp.sort(x, axis=0, descending=True) ** 2, (x,), order=2)
    nj.check_grads(lambda x: lax.top_k(x, 2)[0] * np.array([1.0, 3.0]), (x,), order=2)


def test_vmap_of_sort_and_top_k_match_a_loop():
    got = nj.vmap(jnp.sort)(TIES)
    np.testing.assert_array_equal(got, np.sort(TIES, axis=1))
    values, indices = nj.vmap(lambda r: lax.top_k(r, 3))(TIES)
    want = _descending_reference(TIES, 1)[:, :3]
    np.testing.assert_array_equal(indices, want)
    assert indices.dtype == np.int32
    np.testing.assert_array_equal(values, np.take_along_axis(TIES, want, 1))


def test_top_k_takes_the_largest_along_the_last_axis():
    x = np.array([[1.0, 4.0, 2.0, 4.0], [0.0, -1.0, 3.0, 2.0]])
    values, indices = nj.jit(lambda x: lax.top_k(x, 2))(x)
    np.testing.assert_array_equal(values, [[4.0, 4.0], [3.0, 2.0]])
    np.testing.assert_array_equal(indices, [[1, 3], [2, 3]])
    assert lax.top_k(x, 0)[0].shape == (2, 0)


@pytest.mark.parametrize("call,error,message", [
    (lambda: jnp.sort(np.ones(3), kind="bubble"), ValueError, "unknown kind"),
    (lambda: jnp.argsort(np.ones(3), order="f"), NotImplementedError, "order"),
    (lambda: jnp.sort(np.ones(3), axis=2), Exception, "axis"),
    (lambda: jnp.sort(np.ones(3) + 1j), TypeError, "complex"),
    (lambda: lax.top_k(np.float64(1.0), 1), TypeError, "at least one axis"),
    (lambda: lax.top_k(np.ones(3), 1.5), ValueError, "k must be an int"),
])
def test_bad_sorts_get_a_sentence(call, error, message):
    with pytest.raises(error, match=message):
        call()
