"""nanojax.datasets: the guide's points, toy problems, and the train/validation split."""

from __future__ import annotations

import numpy as np
import pytest

import nanojax as nj
from nanojax import datasets

KEY = nj.random.key(0)


def test_hackers_guide_is_the_guides_six_points():
    X, y = datasets.hackers_guide()
    assert X.shape == (6, 2) and X.dtype == np.float64
    assert y.shape == (6,) and y.dtype.kind == "i"
    assert X.tolist() == [[1.2, 0.7], [-0.3, -0.5], [3.0, 0.1], [-0.1, -1.0], [-1.0, 1.1],
                          [2.1, -3.0]]
    assert y.tolist() == [1, -1, 1, -1, -1, 1]


def test_hackers_guide_returns_fresh_arrays():
    X, _ = datasets.hackers_guide()
    X[0, 0] = 99.0
    assert datasets.hackers_guide()[0][0, 0] == 1.2


def test_hackers_guide_cost_gives_the_guides_total_of_1_815():
    X, y = datasets.hackers_guide_cost()
    assert X.shape == (3, 2) and y.tolist() == [1, -1, 1]
    w = np.array([0.1, 0.2, 0.3])
    cost = np.maximum(0, 1 - y * (X @ w[:2] + w[2])).sum() + 0.1 * (w[:2] ** 2).sum()
    assert round(cost, 3) == 1.815


GENERATORS = {
    "spiral": lambda key, n: datasets.spiral(key, n_per_class=n, n_classes=4),
    "blobs": lambda key, n: datasets.blobs(key, n_per_class=n, centers=4),
}


@pytest.mark.parametrize("name", GENERATORS)
def test_generators_shapes_dtypes_and_labels(name):
    X, y = GENERATORS[name](KEY, 25)
    assert X.shape == (100, 2) and X.dtype == np.float64 and isinstance(X, np.ndarray)
    assert y.shape == (100,) and y.dtype.kind == "i" and isinstance(y, np.ndarray)
    assert np.bincount(y).tolist() == [25] * 4


@pytest.mark.parametrize("name", GENERATORS)
def test_generators_are_deterministic_in_the_key(name):
    make = GENERATORS[name]
    np.testing.assert_array_equal(make(KEY, 10)[0], make(KEY, 10)[0])
    assert not np.allclose(make(KEY, 10)[0], make(nj.random.key(1), 10)[0])


def test_spiral_arms_follow_the_cs231n_recipe():
    X, y = datasets.spiral(KEY, n_per_class=50, n_classes=3, noise=0.0)
    radius = np.linspace(0, 1, 50)
    np.testing.assert_allclose(np.hypot(X[:, 0], X[:, 1]), np.tile(radius, 3), atol=1e-12)
    angle = np.linspace(4.0, 8.0, 50)          # arm 1
    np.testing.assert_allclose(X[y == 1], np.stack([radius * np.sin(angle),
                                                    radius * np.cos(angle)], 1), atol=1e-12)


def test_spiral_noise_moves_points_off_the_arms():
    clean, _ = datasets.spiral(KEY, noise=0.0)
    noisy, _ = datasets.spiral(KEY, noise=0.2)
    assert 0 < np.abs(noisy - clean).max() < 1.0


def test_blobs_sit_around_their_centers_with_their_std():
    centers = [[0.0, 0.0, 0.0], [10.0, -10.0, 5.0]]
    X, y = datasets.blobs(KEY, n_per_class=2000, centers=centers, std=2.0)
    assert X.shape == (4000, 3)
    for label, center in enumerate(centers):
        np.testing.assert_allclose(X[y == label].mean(0), center, atol=0.15)
        np.testing.assert_allclose(X[y == label].std(0), 2.0, rtol=0.05)


def test_blobs_with_a_count_spread_centers_on_a_circle():
    X, y = datasets.blobs(KEY, n_per_class=500, centers=3, std=0.1)
    means = np.array([X[y == k].mean(0) for k in range(3)])
    np.testing.assert_allclose(np.hypot(means[:, 0], means[:, 1]), 3.0, atol=0.05)


@pytest.mark.parametrize("call, match", [
    (lambda: datasets.spiral(KEY, n_per_class=0), "n_per_class must be a positive"),
    (lambda: datasets.blobs(KEY, centers=0), "positive integer"),
    (lambda: datasets.blobs(KEY, centers=[1.0, 2.0]), r"shape \(n_classes, features\)"),
])
def test_generators_reject_bad_sizes(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ----- train_val_split -----------------------------------------------------------------

X_SPIRAL, Y_SPIRAL = datasets.spiral(KEY, n_per_class=20)     # 60 examples


@pytest.mark.parametrize("fraction, n_val", [(0.2, 12), (0.5, 30), (0.01, 1), (0.999, 59)])
def test_split_sizes(fraction, n_val):
    X_tr, y_tr, X_val, y_val = datasets.train_val_split(KEY, X_SPIRAL, Y_SPIRAL, fraction)
    assert (len(X_val), len(y_val), len(X_tr), len(y_tr)) == (n_val, n_val, 60 - n_val, 60 - n_val)


def test_split_is_a_disjoint_shuffle_that_keeps_pairs_together():
    ids = np.arange(60)
    X_tr, y_tr, X_val, y_val = datasets.train_val_split(KEY, ids[:, None], ids, 0.25)
    assert sorted(np.concatenate([y_tr, y_val]).tolist()) == ids.tolist()
    assert (X_tr[:, 0] == y_tr).all() and (X_val[:, 0] == y_val).all()
    assert y_val.tolist() != list(range(15))                       # shuffled


def test_split_is_deterministic_in_the_key():
    a = datasets.train_val_split(KEY, X_SPIRAL, Y_SPIRAL, 0.2)
    b = datasets.train_val_split(KEY, X_SPIRAL, Y_SPIRAL, 0.2)
    c = datasets.train_val_split(nj.random.key(1), X_SPIRAL, Y_SPIRAL, 0.2)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[3], c[3]) or not np.array_equal(a[2], c[2])


def test_split_accepts_lists_and_returns_numpy():
    X, y = datasets.hackers_guide()
    parts = datasets.train_val_split(KEY, X.tolist(), y.tolist(), 0.5)
    assert all(isinstance(p, np.ndarray) for p in parts)
    assert [p.shape for p in parts] == [(3, 2), (3,), (3, 2), (3,)]


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.5, 1.5])
def test_split_rejects_a_fraction_outside_zero_one(fraction):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        datasets.train_val_split(KEY, X_SPIRAL, Y_SPIRAL, fraction)


def test_split_rejects_mismatched_lengths_and_too_few_examples():
    with pytest.raises(ValueError, match=r"one row per example.*\(60, 2\) and \(59,\)"):
        datasets.train_val_split(KEY, X_SPIRAL, Y_SPIRAL[:-1], 0.2)
    with pytest.raises(ValueError, match="at least 2 examples"):
        datasets.train_val_split(KEY, X_SPIRAL[:1], Y_SPIRAL[:1], 0.5)
