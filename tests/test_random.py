"""nanojax.random: pure keys, reproducible numbers, sane distributions.

Every sampler is checked for the same three things: the same key gives the
same numbers, another key gives other numbers, and the shape and dtype are
what was asked. Distribution checks use fixed keys and 10^4 samples, with
tolerances several standard errors wide, so they are deterministic and never
flaky. Then ``split``/``fold_in``, ``jit`` and ``vmap`` over keys, and the
errors for bad inputs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import random

KEY = random.key(0)
N = 10_000

# One row per sampler: (name, draw(key) -> array, expected shape, expected dtype).
SAMPLERS = [
    ("normal", lambda k: random.normal(k, (3, 4)), (3, 4), np.float64),
    ("normal-f32", lambda k: random.normal(k, (5,), np.float32), (5,), np.float32),
    ("normal-scalar", lambda k: random.normal(k), (), np.float64),
    ("uniform", lambda k: random.uniform(k, (2, 3)), (2, 3), np.float64),
    ("uniform-bounds", lambda k: random.uniform(k, (6,), minval=-2.0, maxval=5.0), (6,),
     np.float64),
    ("randint", lambda k: random.randint(k, (4, 2), 0, 1000), (4, 2), np.int64),
    ("randint-i32", lambda k: random.randint(k, (7,), -50, 50, np.int32), (7,), np.int32),
    ("permutation-int", lambda k: random.permutation(k, 10), (10,), np.int64),
    ("permutation-array", lambda k: random.permutation(k, np.arange(12.0).reshape(6, 2)),
     (6, 2), np.float64),
    ("permutation-axis", lambda k: random.permutation(k, np.arange(20).reshape(2, 10), axis=1),
     (2, 10), np.int64),
    ("bernoulli", lambda k: random.bernoulli(k, 0.5, (30,)), (30,), np.bool_),
    ("bernoulli-p-array", lambda k: random.bernoulli(k, np.full((2, 20), 0.5)), (2, 20),
     np.bool_),
    ("choice", lambda k: random.choice(k, 100, (3, 4)), (3, 4), np.int64),
    ("choice-no-replace", lambda k: random.choice(k, 100, (8,), replace=False), (8,), np.int64),
    ("choice-p", lambda k: random.choice(k, 5, (9,), p=[0.1, 0.2, 0.3, 0.2, 0.2]), (9,),
     np.int64),
    ("choice-rows", lambda k: random.choice(k, np.arange(30.0).reshape(10, 3), (4,)), (4, 3),
     np.float64),
]
SAMPLER_PARAMS = [pytest.param(draw, shape, dtype, id=name)
                  for name, draw, shape, dtype in SAMPLERS]


# ----- Purity: same key, same numbers; other keys, other numbers ----------------

@pytest.mark.parametrize("draw, shape, dtype", SAMPLER_PARAMS)
def test_sampler_gives_the_shape_and_dtype_asked_for(draw: Callable, shape: tuple,
                                                     dtype: Any) -> None:
    out = np.asarray(draw(KEY))
    assert out.shape == shape
    assert out.dtype == np.dtype(dtype)


@pytest.mark.parametrize("draw, shape, dtype", SAMPLER_PARAMS)
def test_same_key_gives_the_same_numbers(draw: Callable, shape: tuple, dtype: Any) -> None:
    np.testing.assert_array_equal(draw(KEY), draw(random.key(0)))


@pytest.mark.parametrize("draw, shape, dtype", SAMPLER_PARAMS)
def test_different_and_split_keys_give_different_numbers(draw: Callable, shape: tuple,
                                                         dtype: Any) -> None:
    k1, k2 = random.split(KEY)
    outs = [np.asarray(draw(k)) for k in (KEY, random.key(1), k1, k2)]
    if shape == ():   # one scalar: compare a few draws' worth instead
        outs = [np.array([draw(random.fold_in(k, i)) for i in range(4)]) for k in
                (KEY, random.key(1), k1, k2)]
    for i in range(len(outs)):
        for j in range(i):
            assert not np.array_equal(outs[i], outs[j]), (i, j)


def test_sampling_does_not_change_the_key() -> None:
    k = random.key(3)
    before = k.copy()
    random.normal(k, (4,))
    random.split(k)
    np.testing.assert_array_equal(k, before)


def test_key_and_prngkey_are_uint32_pairs() -> None:
    k = random.key(2 ** 40 + 5)
    assert k.shape == (2,) and k.dtype == np.uint32
    np.testing.assert_array_equal(k, [2 ** 8, 5])
    np.testing.assert_array_equal(random.PRNGKey(7), random.key(7))
    np.testing.assert_array_equal(random.key(np.int32(7)), random.key(7))


# ----- split and fold_in ------------------------------------------------------------

def test_split_gives_distinct_keys_and_is_deterministic() -> None:
    keys = random.split(KEY, 5)
    assert keys.shape == (5, 2) and keys.dtype == np.uint32
    assert len({tuple(k) for k in keys.tolist()} | {tuple(KEY.tolist())}) == 6
    np.testing.assert_array_equal(keys, random.split(KEY, 5))


def test_split_keys_unpack_and_split_again_without_repeats() -> None:
    k1, k2 = random.split(KEY)
    grandchildren = np.concatenate([random.split(k1, 3), random.split(k2, 3)])
    assert len({tuple(k) for k in grandchildren.tolist()}) == 6


def test_fold_in_is_deterministic_and_depends_on_the_data() -> None:
    folded = [random.fold_in(KEY, i) for i in range(5)]
    assert all(k.shape == (2,) and k.dtype == np.uint32 for k in folded)
    assert len({tuple(k.tolist()) for k in folded}) == 5
    np.testing.assert_array_equal(random.fold_in(KEY, 3), folded[3])
    assert not np.array_equal(random.fold_in(random.key(1), 3), folded[3])


# ----- Distributions, with fixed keys --------------------------------------------------
# Standard errors at N = 10^4: mean ~0.01, std ~0.007 (normal); tolerances are 4-5x.

def test_normal_has_mean_zero_and_std_one() -> None:
    x = random.normal(random.key(11), (N,))
    assert abs(x.mean()) < 0.05 and abs(x.std() - 1.0) < 0.03


def test_uniform_stays_in_its_bounds_and_fills_them() -> None:
    x = random.uniform(random.key(12), (N,), minval=-2.0, maxval=3.0)
    assert x.min() >= -2.0 and x.max() < 3.0
    assert abs(x.mean() - 0.5) < 0.08 and abs(x.std() - 5 / np.sqrt(12)) < 0.05
    unit = random.uniform(random.key(13), (N,))
    assert unit.min() >= 0.0 and unit.max() < 1.0 and abs(unit.mean() - 0.5) < 0.015


def test_randint_covers_its_range_and_no_more() -> None:
    x = random.randint(random.key(14), (N,), -3, 4)
    assert set(np.unique(x).tolist()) == set(range(-3, 4))
    counts = np.bincount(x + 3)
    assert np.all(np.abs(counts / N - 1 / 7) < 0.02)


def test_permutation_is_a_permutation() -> None:
    perm = random.permutation(random.key(15), 1000)
    np.testing.assert_array_equal(np.sort(perm), np.arange(1000))
    assert not np.array_equal(perm, np.arange(1000))


def test_permutation_of_an_array_shuffles_whole_slices_along_axis() -> None:
    x = np.arange(24).reshape(4, 6)
    rows = random.permutation(random.key(16), x)
    np.testing.assert_array_equal(np.sort(rows[:, 0]), x[:, 0])
    np.testing.assert_array_equal(rows - rows[:, :1], x - x[:, :1])   # rows kept whole
    cols = random.permutation(random.key(16), x, axis=1)
    np.testing.assert_array_equal(np.sort(cols, axis=1), x)
    np.testing.assert_array_equal(cols - cols[:1], x - x[:1])         # columns kept whole
    np.testing.assert_array_equal(random.permutation(random.key(16), x, axis=-1), cols)


def test_bernoulli_is_true_with_probability_p() -> None:
    x = random.bernoulli(random.key(17), 0.3, (N,))
    assert abs(x.mean() - 0.3) < 0.02
    assert not random.bernoulli(KEY, 0.0, (100,)).any()
    assert random.bernoulli(KEY, 1.0, (100,)).all()


def test_choice_without_replacement_never_repeats() -> None:
    for seed in range(5):
        x = random.choice(random.key(seed), 20, (4, 5), replace=False)
        assert sorted(x.ravel().tolist()) == list(range(20))
    rows = random.choice(KEY, np.arange(50.0).reshape(25, 2), (10,), replace=False)
    assert len(set(rows[:, 0].tolist())) == 10


def test_choice_with_replacement_is_uniform_over_range() -> None:
    x = random.choice(random.key(18), 5, (N,))
    assert set(np.unique(x).tolist()) == set(range(5))
    assert np.all(np.abs(np.bincount(x) / N - 0.2) < 0.02)


def test_choice_follows_p() -> None:
    p = np.array([0.5, 0.0, 0.3, 0.2])
    x = random.choice(random.key(19), 4, (N,), p=p)
    np.testing.assert_allclose(np.bincount(x, minlength=4) / N, p, atol=0.02)


def test_choice_without_replacement_follows_p_and_skips_zero_probabilities() -> None:
    p = np.array([0.4, 0.0, 0.3, 0.3])
    for seed in range(20):
        x = random.choice(random.key(seed), 4, (3,), replace=False, p=p)
        assert sorted(x.tolist()) == [0, 2, 3]


# ----- Under transformations: jit with the key as an argument, vmap over keys ----------

def _draws(k):
    return (random.normal(k, (3,)), random.uniform(k, (2,), minval=1.0, maxval=2.0),
            random.randint(k, (4,), 0, 10), random.permutation(k, 5), random.split(k, 3),
            random.fold_in(k, 9), random.bernoulli(k, 0.5, (6,)),
            random.choice(k, 7, (3,), replace=False))


def _assert_trees_equal(got, want) -> None:
    got, want = nj.tree_util.tree_leaves(got), nj.tree_util.tree_leaves(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


def test_jit_with_the_key_as_an_argument_matches_eager() -> None:
    jitted = nj.jit(_draws)
    for k in (KEY, random.key(5)):
        _assert_trees_equal(jitted(k), _draws(k))


def test_jit_does_not_bake_the_key_in() -> None:
    f = nj.jit(lambda k: random.normal(k, (3,)))
    a, b = f(random.key(0)), f(random.key(1))
    assert not np.array_equal(a, b)


def test_vmap_over_split_keys_equals_a_python_loop() -> None:
    keys = random.split(KEY, 4)
    loop = [_draws(k) for k in keys]
    want = nj.tree_util.tree_map(lambda *xs: np.stack(xs), *loop)
    _assert_trees_equal(nj.vmap(_draws)(keys), want)
    _assert_trees_equal(nj.jit(nj.vmap(_draws))(keys), want)


def test_vmap_of_fold_in_over_the_data_equals_a_python_loop() -> None:
    got = nj.vmap(lambda i: random.fold_in(KEY, i))(np.arange(4))
    np.testing.assert_array_equal(got, np.stack([random.fold_in(KEY, i) for i in range(4)]))


def test_grad_flows_around_random_numbers_as_constants() -> None:
    noise = random.normal(KEY, (3,))
    g = nj.grad(lambda w, k: jnp.sum(w * random.normal(k, (3,))))(np.ones(3), KEY)
    np.testing.assert_array_equal(g, noise)


# ----- Bad inputs -------------------------------------------------------------------------

BAD_INPUTS = [
    pytest.param(lambda: random.key(1.5), TypeError, "seed must be", id="float-seed"),
    pytest.param(lambda: random.key("0"), TypeError, "seed must be", id="string-seed"),
    pytest.param(lambda: random.key(True), TypeError, "seed must be", id="bool-seed"),
    pytest.param(lambda: random.normal(np.zeros(3, np.uint32)), TypeError, "u32[3]",
                 id="key-wrong-shape"),
    pytest.param(lambda: random.uniform(np.zeros(2)), TypeError, "f64[2]",
                 id="key-wrong-dtype"),
    pytest.param(lambda: random.normal(0), TypeError, "expected a key", id="seed-as-key"),
    pytest.param(lambda: random.split(np.zeros((2, 2), np.uint32)), TypeError,
                 "expected a key", id="split-of-many-keys"),
    pytest.param(lambda: random.randint(KEY, (3,), 5, 5), ValueError, "minval < maxval",
                 id="randint-minval-equals-maxval"),
    pytest.param(lambda: random.randint(KEY, (3,), 6, 2), ValueError, "minval < maxval",
                 id="randint-minval-above-maxval"),
    pytest.param(lambda: random.normal(KEY, (-1, 3)), ValueError, "negative dimension",
                 id="negative-shape"),
    pytest.param(lambda: random.uniform(KEY, (2, -2)), ValueError, "negative dimension",
                 id="negative-shape-uniform"),
    pytest.param(lambda: random.normal(KEY, 2.5), TypeError, "shape must be",
                 id="float-shape"),
    pytest.param(lambda: random.normal(KEY, (2,), np.int32), TypeError, "float type",
                 id="normal-int-dtype"),
    pytest.param(lambda: random.randint(KEY, (2,), 0, 3, np.float64), TypeError,
                 "integer type", id="randint-float-dtype"),
    pytest.param(lambda: random.split(KEY, -1), ValueError, "non-negative integer",
                 id="split-negative"),
    pytest.param(lambda: random.permutation(KEY, -2), ValueError, "non-negative",
                 id="permutation-negative"),
    pytest.param(lambda: random.choice(KEY, 3, (4,), replace=False), ValueError,
                 "without replacement", id="choice-too-many"),
    pytest.param(lambda: random.choice(KEY, 3, (2,), p=[0.5, -0.6, 0.1]), ValueError,
                 "some negative", id="choice-p-negative"),
    pytest.param(lambda: random.choice(KEY, 3, (2,), p=[0.5, 0.5]), ValueError,
                 "3 non-negative", id="choice-p-wrong-length"),
]


@pytest.mark.parametrize("call, error, fragment", BAD_INPUTS)
def test_bad_input_raises_a_clear_error(call: Callable, error: type, fragment: str) -> None:
    with pytest.raises(error, match=re.escape(fragment)):
        call()


def test_wrong_key_under_jit_names_the_expected_key() -> None:
    with pytest.raises(TypeError, match="uint32 array of shape"):
        nj.jit(lambda k: random.normal(k, (2,)))(np.zeros(2, np.int64))
