"""jax.random's distributions in nanojax: statistics with fixed keys, transformations, errors.

Each continuous distribution with a CDF we can write in NumPy is checked by
a Kolmogorov-Smirnov statistic (``D < 1.95 / sqrt(N)``, the 0.1% level, on
one fixed key: deterministic, not flaky); the others by their mean and
variance against the formulas, within five standard errors. Every sampler
gives its shape and dtype, the same numbers under ``jit`` and ``vmap`` over
keys as eagerly, and other numbers for another key. Gamma's gradient in its
shape is JAX's implicit reparameterization one: checked against the CDF,
and by expectations it must reproduce.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import random

N = 20_000
KEY = random.key(1234)
_erf = np.vectorize(math.erf)


def _phi(x):
    return 0.5 * (1 + _erf(np.asarray(x) / np.sqrt(2)))


def _ks(samples, cdf) -> float:
    x = np.sort(np.asarray(samples).ravel())
    n = x.size
    c = cdf(x)
    return float(max(np.max(np.arange(1, n + 1) / n - c), np.max(c - np.arange(n) / n)))


def _triangular_cdf(x, a=-1.0, c=0.5, b=2.0):
    return np.where(x < c, (x - a) ** 2 / ((b - a) * (c - a)),
                    1 - (b - x) ** 2 / ((b - a) * (b - c)))


# (name, draw(key, shape), CDF)
KS_CASES = [
    ("uniform", lambda k, s: random.uniform(k, s, minval=-1.0, maxval=3.0),
     lambda x: (x + 1) / 4),
    ("normal", random.normal, _phi),
    ("exponential", random.exponential, lambda x: 1 - np.exp(-x)),
    ("gumbel", random.gumbel, lambda x: np.exp(-np.exp(-x))),
    ("laplace", random.laplace, lambda x: np.where(x < 0, 0.5 * np.exp(x), 1 - 0.5 * np.exp(-x))),
    ("logistic", random.logistic, lambda x: 1 / (1 + np.exp(-x))),
    ("cauchy", random.cauchy, lambda x: 0.5 + np.arctan(x) / np.pi),
    ("rayleigh", lambda k, s: random.rayleigh(k, 1.5, s), lambda x: 1 - np.exp(-x ** 2 / 4.5)),
    ("pareto", lambda k, s: random.pareto(k, 3.0, s), lambda x: 1 - x ** -3.0),
    ("weibull_min", lambda k, s: random.weibull_min(k, 2.0, 1.5, s),
     lambda x: 1 - np.exp(-(x / 2.0) ** 1.5)),
    ("triangular", lambda k, s: random.triangular(k, -1.0, 0.5, 2.0, s), _triangular_cdf),
    ("lognormal", lambda k, s: random.lognormal(k, 0.5, s), lambda x: _phi(np.log(x) / 0.5)),
    ("truncated_normal", lambda k, s: random.truncated_normal(k, -0.5, 2.0, s),
     lambda x: (_phi(x) - _phi(-0.5)) / (_phi(2.0) - _phi(-0.5))),
    ("truncated_normal-tail", lambda k, s: random.truncated_normal(k, 3.0, np.inf, s),
     lambda x: (_phi(x) - _phi(3.0)) / (1 - _phi(3.0))),
    ("maxwell", random.maxwell,
     lambda x: _erf(x / np.sqrt(2)) - np.sqrt(2 / np.pi) * x * np.exp(-x * x / 2)),
    ("gamma-exponential", lambda k, s: random.gamma(k, 1.0, s), lambda x: 1 - np.exp(-x)),
    ("chisquare-2", lambda k, s: random.chisquare(k, 2.0, s), lambda x: 1 - np.exp(-x / 2)),
    ("beta-1-1", lambda k, s: random.beta(k, 1.0, 1.0, s), lambda x: x),
    ("beta-2-1", lambda k, s: random.beta(k, 2.0, 1.0, s), lambda x: x ** 2),
    ("generalized_normal-2", lambda k, s: random.generalized_normal(k, 2.0, s),
     lambda x: _phi(x * np.sqrt(2))),
    ("t-1-is-cauchy", lambda k, s: random.t(k, 1.0, s), lambda x: 0.5 + np.arctan(x) / np.pi),
    ("ball-radius", lambda k, s: np.linalg.norm(random.ball(k, 3, shape=s), axis=-1),
     lambda r: r ** 3),
]


@pytest.mark.parametrize("draw, cdf", [pytest.param(d, c, id=n) for n, d, c in KS_CASES])
def test_distribution_passes_kolmogorov_smirnov(draw: Callable, cdf: Callable) -> None:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        assert _ks(draw(KEY, (N,)), cdf) < 1.95 / math.sqrt(N)


# (name, draw(key, shape), mean, variance or None when the tails make it too noisy)
MOMENT_CASES = [
    ("gamma-0.3", lambda k, s: random.gamma(k, 0.3, s), 0.3, 0.3),
    ("gamma-7", lambda k, s: random.gamma(k, 7.0, s), 7.0, 7.0),
    ("beta", lambda k, s: random.beta(k, 2.0, 5.0, s), 2 / 7, 10 / (49 * 8)),
    ("beta-small", lambda k, s: random.beta(k, 0.1, 0.2, s), 1 / 3, 0.02 / (0.09 * 1.3)),
    ("chisquare", lambda k, s: random.chisquare(k, 4.0, s), 4.0, 8.0),
    ("t", lambda k, s: random.t(k, 6.0, s), 0.0, 1.5),
    ("f", lambda k, s: random.f(k, 5.0, 10.0, s), 1.25, None),
    ("loggamma", lambda k, s: random.loggamma(k, 2.0, s), 1 - 0.5772156649015329,
     np.pi ** 2 / 6 - 1),
    ("loggamma-small", lambda k, s: random.loggamma(k, 0.01, s), None, 1e4 * 1.0000164),
    ("poisson", lambda k, s: random.poisson(k, 3.5, s), 3.5, 3.5),
    ("poisson-large", lambda k, s: random.poisson(k, 400.0, s), 400.0, 400.0),
    ("binomial", lambda k, s: random.binomial(k, 10, 0.3, s), 3.0, 2.1),
    ("geometric", lambda k, s: random.geometric(k, 0.25, s), 4.0, 12.0),
    ("wald", lambda k, s: random.wald(k, 2.0, s), 2.0, 8.0),
    ("rademacher", random.rademacher, 0.0, 1.0),
    ("double_sided_maxwell", lambda k, s: random.double_sided_maxwell(k, 1.0, 2.0, s), 1.0,
     12.0),
    ("generalized_normal-1", lambda k, s: random.generalized_normal(k, 1.0, s), 0.0, 2.0),
    ("bernoulli", lambda k, s: random.bernoulli(k, 0.2, s), 0.2, 0.16),
    ("randint-array-bounds", lambda k, s: random.randint(k, s, np.array(0), np.array(10)), 4.5,
     8.25),
    ("categorical", lambda k, s: random.categorical(k, np.log([0.2, 0.3, 0.5]), shape=s), 1.3,
     0.61),
    ("choice-p", lambda k, s: random.choice(k, 3, s, p=np.array([2.0, 3.0, 5.0])), 1.3, 0.61),
]


@pytest.mark.parametrize("draw, mean, var", [pytest.param(d, m, v, id=n)
                                             for n, d, m, v in MOMENT_CASES])
def test_distribution_has_its_mean_and_variance(draw: Callable, mean, var) -> None:
    x = np.asarray(draw(KEY, (N,)), np.float64)
    assert np.all(np.isfinite(x))
    if mean is not None:
        sd = math.sqrt(var) if var is not None else x.std()
        assert abs(x.mean() - mean) < 5 * sd / math.sqrt(N), (x.mean(), mean)
    if var is not None:
        assert abs(x.var() / var - 1) < 0.1, (x.var(), var)


def test_supports_and_special_values() -> None:
    assert random.gamma(KEY, 0.01, (N,)).min() >= 0
    b = random.beta(KEY, 0.05, 0.05, (N,))
    assert b.min() >= 0 and b.max() <= 1 and np.all(np.isfinite(b))
    tn = random.truncated_normal(KEY, -0.1, 0.1, (N,))
    assert tn.min() > -0.1 and tn.max() < 0.1
    assert random.geometric(KEY, 0.9, (N,)).min() >= 1
    assert random.pareto(KEY, 2.0, (N,)).min() >= 1
    t = random.triangular(KEY, 0.0, 0.0, 1.0, (N,))
    assert t.min() >= 0 and t.max() <= 1
    np.testing.assert_array_equal(random.poisson(KEY, np.array([-1.0, np.nan, 0.0])),
                                  [-1, -1, 0])
    bad = random.binomial(KEY, np.array([5.0, -1.0, 2.5, 5.0]), np.array([0.5, 0.5, 0.5, 1.5]))
    np.testing.assert_array_equal(np.isnan(bad), [False, True, True, True])
    assert set(np.unique(random.rademacher(KEY, (100,))).tolist()) == {-1, 1}


def test_dirichlet_rows_sum_to_one_with_mean_alpha_over_total() -> None:
    alpha = np.array([0.5, 1.0, 2.5])
    x = random.dirichlet(KEY, alpha, (N,))
    assert x.shape == (N, 3)
    np.testing.assert_allclose(x.sum(-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(x.mean(0), alpha / alpha.sum(), atol=0.01)
    tiny = random.dirichlet(KEY, np.array([0.01, 0.01]), (100,))
    assert np.all(np.isfinite(tiny)) and np.allclose(tiny.sum(-1), 1.0)
    batched = random.dirichlet(KEY, np.ones((4, 2, 3)))
    assert batched.shape == (4, 2, 3)


def test_multinomial_counts_sum_to_n_with_mean_np() -> None:
    p = np.array([0.1, 0.6, 0.3])
    x = random.multinomial(KEY, 50, p, shape=(N,))
    assert x.shape == (N, 3) and x.dtype == np.float64
    np.testing.assert_array_equal(x.sum(-1), 50)
    np.testing.assert_allclose(x.mean(0), 50 * p, rtol=0.02)
    unnormalised = random.multinomial(KEY, np.array([3, 7]), np.array([[1.0, 1.0], [0.0, 2.0]]))
    np.testing.assert_array_equal(unnormalised[1], [0, 7])
    np.testing.assert_array_equal(unnormalised.sum(-1), [3, 7])


@pytest.mark.parametrize("method", ["cholesky", "eigh", "svd"])
def test_multivariate_normal_has_its_mean_and_covariance(method: str) -> None:
    mean = np.array([1.0, -2.0, 0.5])
    a = np.array([[1.0, 0.0, 0.0], [0.5, 2.0, 0.0], [-0.3, 0.4, 0.7]])
    cov = a @ a.T
    x = random.multivariate_normal(KEY, mean, cov, (N,), method=method)
    assert x.shape == (N, 3)
    np.testing.assert_allclose(x.mean(0), mean, atol=0.05)
    np.testing.assert_allclose(np.cov(x.T), cov, atol=0.08)
    batch = random.multivariate_normal(KEY, np.zeros((4, 2)), np.eye(2), method=method)
    assert batch.shape == (4, 2)


def test_orthogonal_matrices_are_orthogonal_and_haar() -> None:
    q = random.orthogonal(KEY, 4, (500,))
    assert q.shape == (500, 4, 4)
    np.testing.assert_allclose(q @ np.swapaxes(q, -1, -2), np.broadcast_to(np.eye(4), q.shape),
                               atol=1e-12)
    # Haar: each entry has mean 0 and variance 1/n (QR's sign convention would bias the diagonal).
    assert abs(q[:, 0, 0].mean()) < 0.1 and abs(q[:, 0, 0].var() - 0.25) < 0.05
    tall, wide = random.orthogonal(KEY, 5, m=2), random.orthogonal(KEY, 2, m=5)
    assert tall.shape == (5, 2) and wide.shape == (2, 5)
    np.testing.assert_allclose(tall.T @ tall, np.eye(2), atol=1e-12)
    np.testing.assert_allclose(wide @ wide.T, np.eye(2), atol=1e-12)


def test_ball_samples_lie_in_the_ball() -> None:
    for p in (1.0, 2.0, 4.0):
        x = random.ball(KEY, 4, p, (2000,))
        assert x.shape == (2000, 4)
        norms = np.sum(np.abs(x) ** p, -1) ** (1 / p)
        assert norms.max() <= 1.0 and norms.mean() > 0.7


# ----- Discrete choices -----------------------------------------------------------------

def test_categorical_follows_softmax_along_its_axis_and_shape() -> None:
    logits = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]))
    x = random.categorical(KEY, logits, shape=(N, 2))
    assert x.shape == (N, 2) and x.dtype.kind == "i"
    np.testing.assert_allclose(np.bincount(x[:, 0], minlength=3) / N, [0.7, 0.2, 0.1],
                               atol=0.015)
    np.testing.assert_allclose(np.bincount(x[:, 1], minlength=3) / N, [0.1, 0.1, 0.8],
                               atol=0.015)
    cols = random.categorical(KEY, logits.T, axis=0)
    assert cols.shape == (2,)
    assert random.categorical(KEY, logits).shape == (2,)
    never = random.categorical(KEY, np.array([0.0, -np.inf, 0.0]), shape=(1000,))
    assert 1 not in never


def test_categorical_without_replacement_never_repeats() -> None:
    for seed in range(5):
        x = random.categorical(random.key(seed), np.zeros((2, 6)), shape=(6, 2), replace=False)
        assert x.shape == (6, 2)
        for col in x.T:
            assert sorted(col.tolist()) == list(range(6))


def test_choice_along_an_axis_with_traced_probabilities() -> None:
    a = np.arange(12.0).reshape(3, 4)
    cols = random.choice(KEY, a, (5,), axis=1)
    assert cols.shape == (3, 5)
    assert set(cols[0].tolist()) <= set(a[0].tolist())
    np.testing.assert_array_equal(cols - cols[:1], np.broadcast_to(a[:, :1] - a[:1, :1], (3, 5)))
    p = np.array([0.0, 1.0, 3.0])
    f = nj.jit(lambda k, p: random.choice(k, 3, (N,), p=p))
    x = f(KEY, p)
    np.testing.assert_array_equal(x, random.choice(KEY, 3, (N,), p=p))
    np.testing.assert_allclose(np.bincount(x, minlength=3) / N, p / p.sum(), atol=0.015)
    g = nj.jit(lambda k, p: random.choice(k, 3, (2,), replace=False, p=p))
    for seed in range(10):
        assert sorted(g(random.key(seed), p).tolist()) == [1, 2]


def test_permutation_independent_shuffles_each_slice_on_its_own() -> None:
    x = np.tile(np.arange(10), (6, 1))
    rows = random.permutation(KEY, x, axis=1, independent=True)
    np.testing.assert_array_equal(np.sort(rows, axis=1), x)
    assert len({tuple(r) for r in rows.tolist()}) == 6
    together = random.permutation(KEY, x, axis=1)
    assert len({tuple(r) for r in together.tolist()}) == 1
    np.testing.assert_array_equal(nj.jit(lambda k: random.permutation(k, x, 1, True))(KEY), rows)


# ----- Keys ---------------------------------------------------------------------------------

def test_keys_from_traced_seeds_under_jit_and_vmap() -> None:
    draw = nj.jit(lambda s: random.normal(random.key(s), (3,)))
    for seed in (0, 7, -5, 2 ** 40 + 3):
        np.testing.assert_array_equal(draw(seed), random.normal(random.key(seed), (3,)))
        np.testing.assert_array_equal(nj.jit(random.PRNGKey)(np.int64(seed)),
                                      random.PRNGKey(seed))
    seeds = np.array([0, 1, 2, -3])
    keys = nj.vmap(random.key)(seeds)
    np.testing.assert_array_equal(keys, np.stack([random.key(int(s)) for s in seeds]))
    np.testing.assert_array_equal(nj.jit(nj.vmap(random.key))(seeds), keys)
    # As JAX: a 32-bit seed has high word 0, so -3 as int32 is not -3 as int64.
    np.testing.assert_array_equal(nj.jit(nj.vmap(random.key))(seeds.astype(np.int32)),
                                  np.stack([random.key(np.int32(s)) for s in seeds]))
    assert random.key(np.int32(-3)).tolist() == [0, 2 ** 32 - 3]
    np.testing.assert_array_equal(random.key(np.array(5)), random.key(5))


def test_split_to_a_shape_and_key_data() -> None:
    keys = random.split(KEY, (2, 3))
    assert keys.shape == (2, 3, 2) and keys.dtype == np.uint32
    np.testing.assert_array_equal(keys.reshape(6, 2), random.split(KEY, 6))
    np.testing.assert_array_equal(nj.jit(lambda k: random.split(k, (2, 3)))(KEY), keys)
    np.testing.assert_array_equal(random.key_data(keys), keys)
    np.testing.assert_array_equal(random.wrap_key_data(random.key_data(KEY)), KEY)
    np.testing.assert_array_equal(random.clone(KEY), KEY)
    assert random.key_impl(KEY) == "threefry2x32"
    assert random.key(3, impl="threefry2x32").shape == (2,)
    assert random.split(KEY, 0).shape == (0, 2)


def test_bits_cover_the_unsigned_range() -> None:
    b = random.bits(KEY, (N,), np.uint32)
    assert b.dtype == np.uint32 and b.max() > 2 ** 31 and abs(b.mean() / 2 ** 31 - 1) < 0.02
    assert random.bits(KEY).dtype == np.uint64            # JAX's default with x64
    b8 = random.bits(KEY, (N,), np.uint8)
    assert b8.dtype == np.uint8 and set(np.unique(b8).tolist()) == set(range(256))
    assert random.bits(KEY, (4,), np.uint64).dtype == np.uint64


# ----- Shapes, dtypes, and the same numbers under jit and vmap ----------------------------

SAMPLERS = [
    ("gumbel", lambda k: random.gumbel(k, (3, 2)), (3, 2), np.float64),
    ("gumbel-f32", lambda k: random.gumbel(k, (4,), np.float32), (4,), np.float32),
    ("exponential", lambda k: random.exponential(k, (5,)), (5,), np.float64),
    ("laplace-f32", lambda k: random.laplace(k, (5,), np.float32), (5,), np.float32),
    ("logistic", lambda k: random.logistic(k, (5,)), (5,), np.float64),
    ("cauchy", lambda k: random.cauchy(k, (5,)), (5,), np.float64),
    ("truncated_normal", lambda k: random.truncated_normal(k, -1.0, np.ones(4)), (4,),
     np.float64),
    ("truncated_normal-f32", lambda k: random.truncated_normal(k, -1, 1, (3,), np.float32), (3,),
     np.float32),
    ("gamma", lambda k: random.gamma(k, np.array([0.5, 2.0, 9.0])), (3,), np.float64),
    ("gamma-shape", lambda k: random.gamma(k, 2.0, (2, 3)), (2, 3), np.float64),
    ("gamma-f32", lambda k: random.gamma(k, 2.0, (3,), np.float32), (3,), np.float32),
    ("loggamma", lambda k: random.loggamma(k, np.array([0.1, 3.0])), (2,), np.float64),
    ("beta", lambda k: random.beta(k, 2.0, np.ones((2, 2))), (2, 2), np.float64),
    ("dirichlet", lambda k: random.dirichlet(k, np.ones(4), (3,)), (3, 4), np.float64),
    ("chisquare", lambda k: random.chisquare(k, 3.0, (4,)), (4,), np.float64),
    ("f", lambda k: random.f(k, 3.0, 4.0, (4,)), (4,), np.float64),
    ("t", lambda k: random.t(k, 3.0, (4,)), (4,), np.float64),
    ("poisson", lambda k: random.poisson(k, 4.0, (6,)), (6,), np.int64),
    ("poisson-i32", lambda k: random.poisson(k, np.ones(3), dtype=np.int32), (3,), np.int32),
    ("binomial", lambda k: random.binomial(k, 5, 0.5, (4,)), (4,), np.float64),
    ("multinomial", lambda k: random.multinomial(k, 9, np.ones(3) / 3, shape=(2,)), (2, 3),
     np.float64),
    ("geometric", lambda k: random.geometric(k, 0.3, (5,)), (5,), np.int64),
    ("rademacher", lambda k: random.rademacher(k, (5,)), (5,), np.int64),
    ("ball", lambda k: random.ball(k, 3, shape=(2,)), (2, 3), np.float64),
    ("orthogonal", lambda k: random.orthogonal(k, 3), (3, 3), np.float64),
    ("maxwell", lambda k: random.maxwell(k, (4,)), (4,), np.float64),
    ("double_sided_maxwell", lambda k: random.double_sided_maxwell(k, 0.0, 1.0, (4,)), (4,),
     np.float64),
    ("weibull_min", lambda k: random.weibull_min(k, 1.0, 2.0, (4,)), (4,), np.float64),
    ("pareto", lambda k: random.pareto(k, 2.0, (4,)), (4,), np.float64),
    ("rayleigh", lambda k: random.rayleigh(k, 1.0, (4,)), (4,), np.float64),
    ("wald", lambda k: random.wald(k, 1.0, (4,)), (4,), np.float64),
    ("triangular", lambda k: random.triangular(k, 0.0, 0.3, 1.0, (4,)), (4,), np.float64),
    ("generalized_normal", lambda k: random.generalized_normal(k, 1.5, (4,)), (4,), np.float64),
    ("lognormal", lambda k: random.lognormal(k, shape=(4,)), (4,), np.float64),
    ("multivariate_normal", lambda k: random.multivariate_normal(k, np.zeros(2), np.eye(2),
                                                                 (3,)), (3, 2), np.float64),
    ("categorical", lambda k: random.categorical(k, np.zeros((2, 5))), (2,), np.int64),
    ("categorical-no-replace", lambda k: random.categorical(k, np.zeros(5), shape=(3,),
                                                            replace=False), (3,), np.int32),
    ("choice-p", lambda k: random.choice(k, 5, (4,), p=np.ones(5)), (4,), np.int64),
    ("choice-axis", lambda k: random.choice(k, np.arange(10.0).reshape(2, 5), (3,), axis=1), (2, 3),
     np.float64),
    ("randint-array", lambda k: random.randint(k, (3,), np.array([0, 5, 10]), 20), (3,),
     np.int64),
    ("permutation-independent", lambda k: random.permutation(k, np.arange(6.0).reshape(2, 3),
                                                             1, True), (2, 3), np.float64),
    ("bits", lambda k: random.bits(k, (3,)), (3,), np.uint64),
    ("split-shape", lambda k: random.split(k, (2, 2)), (2, 2, 2), np.uint32),
]
SAMPLER_PARAMS = [pytest.param(d, s, t, id=n) for n, d, s, t in SAMPLERS]


@pytest.mark.parametrize("draw, shape, dtype", SAMPLER_PARAMS)
def test_sampler_shape_dtype_and_purity(draw: Callable, shape: tuple, dtype) -> None:
    out = np.asarray(draw(KEY))
    assert out.shape == shape and out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(draw(random.key(1234)), out)
    others = [np.asarray(draw(random.fold_in(KEY, i))) for i in range(3)]
    assert any(not np.array_equal(o, out) for o in others)


@pytest.mark.parametrize("draw, shape, dtype", SAMPLER_PARAMS)
def test_sampler_under_jit_and_vmap_over_keys_matches_eager(draw: Callable, shape: tuple,
                                                            dtype) -> None:
    np.testing.assert_array_equal(nj.jit(draw)(KEY), draw(KEY))
    keys = random.split(KEY, 3)
    loop = np.stack([np.asarray(draw(k)) for k in keys])
    got = nj.vmap(draw)(keys)
    assert got.dtype == loop.dtype
    np.testing.assert_array_equal(got, loop)


def test_vmap_over_parameters_matches_a_loop() -> None:
    a = np.array([0.5, 2.0, 5.0])
    got = nj.vmap(lambda a: random.gamma(KEY, a, (4,)))(a)
    np.testing.assert_array_equal(got, np.stack([random.gamma(KEY, x, (4,)) for x in a]))
    lam = np.array([1.0, 10.0])
    got = nj.vmap(lambda rate: random.poisson(KEY, rate, (3,)))(lam)
    np.testing.assert_array_equal(got, np.stack([random.poisson(KEY, x, (3,)) for x in lam]))


# ----- Gamma's implicit reparameterization gradient --------------------------------------

def _regularized_lower_gamma(a: float, x: float) -> float:
    # P(a, x) = sum_n x^(a+n) e^-x / Gamma(a+n+1), summed in logs.
    total, n = 0.0, 0
    while True:
        term = math.exp((a + n) * math.log(x) - x - math.lgamma(a + n + 1))
        total += term
        if a + n > x and term < 1e-18 * total:
            return total
        n += 1


@pytest.mark.parametrize("a, x", [(0.3, 0.01), (0.3, 2.0), (2.0, 0.5), (2.0, 6.0),
                                  (50.0, 45.0), (50.0, 70.0), (1000.0, 1020.0)])
def test_gamma_gradient_is_minus_dcdf_da_over_the_density(a: float, x: float) -> None:
    h = 1e-5 * a
    dcdf_da = (_regularized_lower_gamma(a + h, x) - _regularized_lower_gamma(a - h, x)) / (2 * h)
    density = math.exp((a - 1) * math.log(x) - x - math.lgamma(a))
    want = -dcdf_da / density
    got = float(random.random_gamma_grad_p.bind(np.float64(a), np.float64(x)))
    assert got == pytest.approx(want, rel=1e-6)


def test_gamma_gradient_reproduces_derivatives_of_expectations() -> None:
    # E[x] = a and E[x^2] = a (a + 1): the reparameterized gradients of sample
    # means estimate 1 and 2a + 1.
    for a in (0.4, 3.0):
        g1 = nj.grad(lambda a: jnp.mean(random.gamma(KEY, a, (N,))))(a)
        g2 = nj.grad(lambda a: jnp.mean(random.gamma(KEY, a, (N,)) ** 2))(a)
        assert abs(g1 - 1) < 0.05 and abs(g2 / (2 * a + 1) - 1) < 0.05
    # Beta's mean a / (a + b), through two gammas.
    gb = nj.grad(lambda a: jnp.mean(random.beta(KEY, a, 3.0, (N,))))(2.0)
    assert abs(gb - 3.0 / 25.0) < 0.01


def test_gamma_gradient_in_both_modes_under_jit_and_vmap() -> None:
    f = lambda a: jnp.sum(random.gamma(KEY, a, (5,)))  # noqa: E731
    rev = nj.grad(f)(2.0)
    fwd = nj.jvp(f, (2.0,), (1.0,))[1]
    np.testing.assert_allclose(fwd, rev, rtol=1e-12)
    np.testing.assert_allclose(nj.jit(nj.grad(f))(2.0), rev, rtol=1e-12)
    a = np.array([1.0, 2.0, 3.0])
    per_a = nj.vmap(nj.grad(f))(a)
    np.testing.assert_allclose(per_a, [nj.grad(f)(x) for x in a], rtol=1e-12)
    counts = random.poisson(KEY, 3.0, (4,))      # integer draws: constants for gradients
    assert nj.grad(lambda a: jnp.sum(random.poisson(KEY, 3.0, (4,)) * a))(1.0) == counts.sum()


def test_a_second_derivative_of_a_gamma_sample_is_refused_not_zero() -> None:
    with pytest.raises(Exception, match="random_gamma_grad"):
        nj.grad(nj.grad(lambda a: jnp.sum(random.gamma(KEY, a, (3,)))))(2.0)


# ----- Bad inputs ---------------------------------------------------------------------------

BAD_INPUTS = [
    pytest.param(lambda: random.gamma(KEY, np.ones(3), (2,)), ValueError, "must broadcast to",
                 id="gamma-shape-mismatch"),
    pytest.param(lambda: random.gamma(KEY, 1.0, (2,), np.int32), TypeError, "float type",
                 id="gamma-int-dtype"),
    pytest.param(lambda: random.poisson(KEY, 1.0, (2,), np.float64), TypeError, "integer type",
                 id="poisson-float-dtype"),
    pytest.param(lambda: random.categorical(KEY, np.zeros(3), axis=1), ValueError,
                 "out of bounds", id="categorical-axis"),
    pytest.param(lambda: random.categorical(KEY, np.zeros((2, 3)), shape=(3,)), ValueError,
                 "must end with", id="categorical-shape"),
    pytest.param(lambda: random.categorical(KEY, np.zeros(3), shape=(4,), replace=False),
                 ValueError, "without replacement", id="categorical-too-many"),
    pytest.param(lambda: random.dirichlet(KEY, 1.0), ValueError, "at least one dimension",
                 id="dirichlet-scalar"),
    pytest.param(lambda: random.multivariate_normal(KEY, np.zeros(2), np.eye(3)), ValueError,
                 "cov [..., n, n]", id="mvn-shapes"),
    pytest.param(lambda: random.multivariate_normal(KEY, np.zeros(2), np.eye(2), method="qr"),
                 ValueError, "method must be", id="mvn-method"),
    pytest.param(lambda: random.split(KEY, 1.5), ValueError, "non-negative integer",
                 id="split-float"),
    pytest.param(lambda: random.split(KEY, (2, -1)), ValueError, "negative dimension",
                 id="split-negative-shape"),
    pytest.param(lambda: random.bits(KEY, (2,), np.int32), TypeError, "unsigned",
                 id="bits-signed"),
    pytest.param(lambda: random.key(np.ones(2, np.int64)), TypeError, "seed must be",
                 id="key-array-seed"),
    pytest.param(lambda: nj.jit(random.key)(1.5), TypeError, "integer scalar",
                 id="key-traced-float-seed"),
    pytest.param(lambda: random.key(0, impl="philox"), ValueError, "threefry2x32",
                 id="key-impl"),
    pytest.param(lambda: random.key_data(np.zeros(3, np.uint32)), TypeError, "expected keys",
                 id="key-data-shape"),
    pytest.param(lambda: random.ball(KEY, 0), ValueError, "positive integer", id="ball-d"),
    pytest.param(lambda: random.orthogonal(KEY, 2.5), ValueError, "non-negative integers",
                 id="orthogonal-n"),
    pytest.param(lambda: random.choice(KEY, np.ones((2, 3)), (2,), axis=2), ValueError,
                 "out of bounds", id="choice-axis"),
    pytest.param(lambda: random.choice(KEY, 0, (2,)), ValueError, "empty population",
                 id="choice-empty"),
    pytest.param(lambda: random.permutation(KEY, np.float64(3.0)), TypeError,
                 "at least one dimension", id="permutation-scalar"),
    pytest.param(lambda: random.randint(KEY, (2,), np.array([0.5]), 3), TypeError,
                 "must be integers", id="randint-float-bounds"),
]


@pytest.mark.parametrize("call, error, fragment", BAD_INPUTS)
def test_bad_input_raises_a_clear_error(call: Callable, error: type, fragment: str) -> None:
    with pytest.raises(error, match=re.escape(fragment)):
        call()
