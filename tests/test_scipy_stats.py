"""``nanojax.scipy.stats`` against closed forms written here with Python's ``math``
(no SciPy), with gradients vs finite differences, jit, vmap and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax.scipy import stats

RNG = np.random.default_rng(3)
LOG2PI = math.log(2 * math.pi)


def _phi(z):
    return 0.5 * math.erfc(-z / math.sqrt(2))


def _lgam(v):
    return math.lgamma(v)


def _gammainc_ref(a, x):
    if x <= 0:
        return 0.0
    t, terms = 1.0 / a, [1.0 / a]
    for k in range(1, 10000):
        t = t * x / (a + k)
        terms.append(t)
        if t < 1e-20 * terms[0]:
            break
    return math.exp(a * math.log(x) - x - math.lgamma(a)) * math.fsum(terms)


def _betainc_int(a, b, x):
    n = a + b - 1
    return math.fsum(math.comb(n, j) * x ** j * (1 - x) ** (n - j) for j in range(a, n + 1))


def _inf_log(v):
    return math.log(v) if v > 0 else -math.inf


# (name, function, reference on Python floats, sampler of the arguments)
def _pos(lo=0.5, hi=3.0):
    return lambda rng, n: rng.uniform(lo, hi, n)


def _any(scale=2.0):
    return lambda rng, n: rng.normal(size=n) * scale


def _unit(rng, n):
    return rng.uniform(0.02, 0.98, n)


def _ints(lo, hi):
    return lambda rng, n: rng.integers(lo, hi, n).astype(np.float64)


def _gamma_cdf(x, a, loc, scale):
    return _gammainc_ref(a, max((x - loc) / scale, 0.0))


CONTINUOUS = [
    ("norm.logpdf", stats.norm.logpdf,
     lambda x, m, s: -0.5 * ((x - m) / s) ** 2 - math.log(s) - 0.5 * LOG2PI,
     (_any(), _any(1), _pos())),
    ("norm.cdf", stats.norm.cdf, lambda x, m, s: _phi((x - m) / s), (_any(), _any(1), _pos())),
    ("norm.sf", stats.norm.sf, lambda x, m, s: _phi(-(x - m) / s), (_any(), _any(1), _pos())),
    ("norm.logcdf", stats.norm.logcdf, lambda x, m, s: math.log(_phi((x - m) / s)),
     (_any(), _any(1), _pos())),
    ("norm.logsf", stats.norm.logsf, lambda x, m, s: math.log(_phi(-(x - m) / s)),
     (_any(), _any(1), _pos())),
    ("uniform.logpdf", stats.uniform.logpdf,
     lambda x, lo, s: -math.log(s) if lo <= x <= lo + s else -math.inf, (_any(), _any(1), _pos())),
    ("uniform.cdf", stats.uniform.cdf, lambda x, lo, s: min(max((x - lo) / s, 0.0), 1.0),
     (_any(), _any(1), _pos())),
    ("laplace.logpdf", stats.laplace.logpdf,
     lambda x, m, s: -abs(x - m) / s - math.log(2 * s), (_any(), _any(1), _pos())),
    ("laplace.cdf", stats.laplace.cdf,
     lambda x, m, s: 0.5 * math.exp((x - m) / s) if x < m else 1 - 0.5 * math.exp(-(x - m) / s),
     (_any(), _any(1), _pos())),
    ("logistic.logpdf", stats.logistic.logpdf,
     lambda x, m, s: -(x - m) / s - math.log(s) - 2 * math.log1p(math.exp(-(x - m) / s)),
     (_any(), _any(1), _pos())),
    ("logistic.cdf", stats.logistic.cdf, lambda x, m, s: 1 / (1 + math.exp(-(x - m) / s)),
     (_any(), _any(1), _pos())),
    ("logistic.sf", stats.logistic.sf, lambda x, m, s: 1 / (1 + math.exp((x - m) / s)),
     (_any(), _any(1), _pos())),
    ("logistic.logcdf", stats.logistic.logcdf,
     lambda x, m, s: -math.log1p(math.exp(-(x - m) / s)), (_any(), _any(1), _pos())),
    ("logistic.logsf", stats.logistic.logsf,
     lambda x, m, s: -math.log1p(math.exp((x - m) / s)), (_any(), _any(1), _pos())),
    ("cauchy.logpdf", stats.cauchy.logpdf,
     lambda x, m, s: -math.log(math.pi * s * (1 + ((x - m) / s) ** 2)), (_any(), _any(1), _pos())),
    ("cauchy.cdf", stats.cauchy.cdf, lambda x, m, s: 0.5 + math.atan((x - m) / s) / math.pi,
     (_any(), _any(1), _pos())),
    ("cauchy.sf", stats.cauchy.sf, lambda x, m, s: 0.5 - math.atan((x - m) / s) / math.pi,
     (_any(), _any(1), _pos())),
    ("expon.logpdf", stats.expon.logpdf,
     lambda x, m, s: -(x - m) / s - math.log(s) if x >= m else -math.inf,
     (_any(), _any(1), _pos())),
    ("expon.cdf", stats.expon.cdf, lambda x, m, s: -math.expm1(-max(x - m, 0) / s),
     (_any(), _any(1), _pos())),
    ("expon.sf", stats.expon.sf, lambda x, m, s: math.exp(-max(x - m, 0) / s),
     (_any(), _any(1), _pos())),
    ("gamma.logpdf", stats.gamma.logpdf,
     lambda x, a, m, s: ((a - 1) * math.log((x - m) / s) - (x - m) / s - _lgam(a) - math.log(s))
     if x > m else -math.inf, (_pos(0.1, 6), _pos(0.5, 4), _any(0.3), _pos())),
    ("gamma.cdf", stats.gamma.cdf, _gamma_cdf, (_pos(0.1, 6), _pos(0.5, 4), _any(0.3), _pos())),
    ("gamma.sf", stats.gamma.sf, lambda *a: 1 - _gamma_cdf(*a),
     (_pos(0.1, 6), _pos(0.5, 4), _any(0.3), _pos())),
    ("chi2.logpdf", stats.chi2.logpdf,
     lambda x, k, m, s: ((k / 2 - 1) * math.log((x - m) / s) - (x - m) / (2 * s) - _lgam(k / 2)
                         - (k / 2) * math.log(2) - math.log(s)) if x > m else -math.inf,
     (_pos(0.1, 8), _pos(1, 6), _any(0.3), _pos())),
    ("chi2.cdf", stats.chi2.cdf, lambda x, k, m, s: _gammainc_ref(k / 2, max(x - m, 0) / (2 * s)),
     (_pos(0.1, 8), _pos(1, 6), _any(0.3), _pos())),
    ("beta.logpdf", stats.beta.logpdf,
     lambda x, a, b, m, s: ((a - 1) * math.log((x - m) / s) + (b - 1) * math.log1p(-(x - m) / s)
                            - _lgam(a) - _lgam(b) + _lgam(a + b) - math.log(s))
     if 0 < (x - m) / s < 1 else -math.inf, (_unit, _pos(), _pos(), _any(0.05), _pos(0.9, 1.1))),
    ("beta.cdf", stats.beta.cdf,
     lambda x, a, b, m, s: _betainc_int(int(a), int(b), min(max((x - m) / s, 0.0), 1.0)),
     (_unit, _ints(1, 6), _ints(1, 6), _any(0.05), _pos(0.9, 1.1))),
    ("beta.sf", stats.beta.sf,
     lambda x, a, b, m, s: 1 - _betainc_int(int(a), int(b), min(max((x - m) / s, 0.0), 1.0)),
     (_unit, _ints(1, 6), _ints(1, 6), _any(0.05), _pos(0.9, 1.1))),
    ("t.logpdf", stats.t.logpdf,
     lambda x, k, m, s: (_lgam((k + 1) / 2) - _lgam(k / 2) - 0.5 * math.log(math.pi * k)
                         - math.log(s) - (k + 1) / 2 * math.log1p(((x - m) / s) ** 2 / k)),
     (_any(), _pos(0.5, 10), _any(1), _pos())),
    ("vonmises.logpdf", stats.vonmises.logpdf,
     lambda x, k: k * math.cos(x) - math.log(2 * math.pi * np.i0(k)), (_any(1.0), _pos(0.1, 5))),
    ("truncnorm.logpdf", stats.truncnorm.logpdf,
     lambda x, a, b, m, s: (-0.5 * ((x - m) / s) ** 2 - 0.5 * LOG2PI - math.log(s)
                            - math.log(_phi(b) - _phi(a))) if a <= (x - m) / s <= b
     else -math.inf, (_any(1), lambda r, n: -r.uniform(0.2, 2, n), _pos(0.2, 2), _any(0.2),
                      _pos(0.8, 1.2))),
    ("truncnorm.cdf", stats.truncnorm.cdf,
     lambda x, a, b, m, s: (_phi(min(max((x - m) / s, a), b)) - _phi(a)) / (_phi(b) - _phi(a)),
     (_any(1), lambda r, n: -r.uniform(0.2, 2, n), _pos(0.2, 2), _any(0.2), _pos(0.8, 1.2))),
]

DISCRETE = [
    ("poisson.logpmf", stats.poisson.logpmf,
     lambda k, mu, loc: ((k - loc) * math.log(mu) - mu - _lgam(k - loc + 1)) if k >= loc
     else -math.inf, (_ints(0, 12), _pos(0.5, 8), _ints(0, 3))),
    ("poisson.cdf", stats.poisson.cdf,
     lambda k, mu, loc: math.fsum(math.exp(j * math.log(mu) - mu - _lgam(j + 1))
                                  for j in range(int(k - loc) + 1)) if k >= loc else 0.0,
     (_ints(0, 12), _pos(0.5, 8), _ints(0, 3))),
    ("bernoulli.logpmf", stats.bernoulli.logpmf,
     lambda k, p, loc: {0: math.log1p(-p), 1: math.log(p)}.get(int(k - loc), -math.inf),
     (_ints(-1, 3), _unit, _ints(0, 2))),
    ("bernoulli.cdf", stats.bernoulli.cdf,
     lambda k, p, loc: 0.0 if k - loc < 0 else (1 - p if k - loc < 1 else 1.0),
     (_ints(-1, 3), _unit, _ints(0, 2))),
    ("binom.logpmf", stats.binom.logpmf,
     lambda k, n, p, loc: (math.log(math.comb(int(n), int(k - loc))) + (k - loc) * math.log(p)
                           + (n - k + loc) * math.log1p(-p)) if 0 <= k - loc <= n else -math.inf,
     (_ints(0, 12), _ints(1, 10), _unit, _ints(0, 2))),
    ("nbinom.logpmf", stats.nbinom.logpmf,
     lambda k, n, p, loc: (math.log(math.comb(int(k - loc + n - 1), int(k - loc)))
                           + n * math.log(p) + (k - loc) * math.log1p(-p)) if k >= loc
     else -math.inf, (_ints(0, 12), _ints(1, 6), _unit, _ints(0, 2))),
    ("geom.logpmf", stats.geom.logpmf,
     lambda k, p, loc: ((k - loc - 1) * math.log1p(-p) + math.log(p)) if k - loc >= 1
     else -math.inf, (_ints(0, 10), _unit, _ints(0, 2))),
]

TABLE = CONTINUOUS + DISCRETE


def _draw(samplers, n=40, seed=0):
    rng = np.random.default_rng(seed)
    return [s(rng, n) for s in samplers]


@pytest.mark.parametrize("name, fn, ref, samplers", TABLE, ids=[r[0] for r in TABLE])
def test_values_against_closed_forms(name, fn, ref, samplers):
    args = _draw(samplers)
    got = np.asarray(fn(*args))
    want = np.array([ref(*map(float, vals)) for vals in zip(*args)])
    assert got.shape == want.shape and got.dtype == np.float64
    finite = np.isfinite(want)
    np.testing.assert_array_equal(got[~finite], want[~finite])
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-12, atol=1e-14)
    # Scalars, broadcasting (one argument a column), float32 and integer arguments.
    scalar = fn(*[a[0] for a in args])
    assert np.ndim(scalar) == 0 and (scalar == got[0] or (np.isnan(scalar) and np.isnan(got[0])))
    col = [args[0][:6, None]] + [a[:5] for a in args[1:]]
    assert np.shape(fn(*col)) == (6, 5)
    f32 = fn(*[np.float32(a[1]) for a in args])
    assert f32.dtype == np.float32


@pytest.mark.parametrize("name, fn, ref, samplers", TABLE, ids=[r[0] for r in TABLE])
def test_jit_is_eager_and_vmap_is_a_loop(name, fn, ref, samplers):
    args = _draw(samplers, n=6, seed=1)
    eager = fn(*args)
    np.testing.assert_array_equal(nj.jit(fn)(*args), eager)
    looped = np.array([fn(*[a[i] for a in args]) for i in range(6)])
    np.testing.assert_array_equal(nj.vmap(fn)(*args), looped)


# Differentiable in x (continuous) or the parameters, inside the support.
GRADS = [
    ("norm.logpdf", lambda x, m, s: stats.norm.logpdf(x, m, s), (_any(), _any(1), _pos())),
    ("norm.logcdf", lambda x: stats.norm.logcdf(x), (_any(3),)),
    ("norm.ppf", lambda q, m, s: stats.norm.ppf(q, m, s), (_unit, _any(1), _pos())),
    ("norm.isf", lambda q: stats.norm.isf(q), (_unit,)),
    ("laplace.logpdf", lambda x, s: stats.laplace.logpdf(x, 0.0, s), (_pos(0.2), _pos())),
    ("logistic.logpdf", stats.logistic.logpdf, (_any(), _any(1), _pos())),
    ("logistic.ppf", stats.logistic.ppf, (_unit, _any(1), _pos())),
    ("cauchy.logpdf", stats.cauchy.logpdf, (_any(), _any(1), _pos())),
    ("cauchy.ppf", stats.cauchy.ppf, (_unit, _any(1), _pos())),
    ("expon.logpdf", lambda x, s: stats.expon.logpdf(x, 0.0, s), (_pos(), _pos())),
    ("expon.logsf", lambda x, s: stats.expon.logsf(x, 0.0, s), (_pos(), _pos())),
    ("gamma.logpdf", lambda x, a, s: stats.gamma.logpdf(x, a, 0.0, s),
     (_pos(), _pos(), _pos())),
    ("gamma.cdf", lambda x, s: stats.gamma.cdf(x, 2.5, 0.0, s), (_pos(), _pos())),
    ("chi2.logpdf", lambda x, k: stats.chi2.logpdf(x, k), (_pos(), _pos(1.0, 4.0))),
    ("beta.logpdf", lambda x, a, b: stats.beta.logpdf(x, a, b), (_unit, _pos(), _pos())),
    ("beta.cdf", lambda x, a: stats.beta.cdf(x, a, 2.0), (_unit, _pos())),
    ("t.logpdf", stats.t.logpdf, (_any(), _pos(1, 5), _any(1), _pos())),
    ("vonmises.logpdf", stats.vonmises.logpdf, (_any(1.0), _pos(0.5, 20))),
    ("truncnorm.logpdf", lambda x, a, b: stats.truncnorm.logpdf(x * 0.1, a, b),
     (_any(1.0), lambda r, n: -r.uniform(0.5, 2, n), _pos(0.5, 2))),
    ("truncnorm.logcdf", lambda x: stats.truncnorm.logcdf(x * 0.1, -1.0, 2.0), (_any(1.0),)),
    ("poisson.logpmf", lambda mu: stats.poisson.logpmf(3.0, mu), (_pos(),)),
    ("binom.logpmf", lambda p: stats.binom.logpmf(3.0, 7.0, p), (_unit,)),
    ("nbinom.logpmf", lambda n, p: stats.nbinom.logpmf(3.0, n, p), (_pos(1, 4), _unit)),
    ("geom.logpmf", lambda p: stats.geom.logpmf(3.0, p), (_unit,)),
    ("bernoulli.logpmf", lambda p: stats.bernoulli.logpmf(1.0, p), (_unit,)),
]


@pytest.mark.parametrize("name, fn, samplers", GRADS, ids=[g[0] for g in GRADS])
def test_gradients_match_finite_differences(name, fn, samplers):
    args = _draw(samplers, n=3, seed=2)
    nj.check_grads(fn, tuple(args), order=2, modes=("fwd", "rev"))
    total = lambda *a: jnp.sum(fn(*a))    # noqa: E731
    argnums = tuple(range(len(args)))
    g = nj.grad(total, argnums=argnums)(*args)
    np.testing.assert_array_equal(nj.jit(nj.grad(total, argnums=argnums))(*args)[0], g[0])
    per = nj.vmap(nj.grad(fn))(*args)
    np.testing.assert_allclose(per, g[0], rtol=1e-13)


def test_norm_tails_and_quantiles():
    assert abs(stats.norm.logcdf(-40.0) - -804.6084420137538) < 1e-12
    assert abs(stats.norm.logsf(40.0) - -804.6084420137538) < 1e-12
    assert abs(stats.norm.ppf(0.975, 1.0, 2.0) - (1.0 + 2 * 1.959963984540054)) < 1e-14
    q = np.array([1e-200, 1e-5, 0.3, 0.9])
    # ndtr's slope turns x's last bit into x^2 ulps of q: about 900 at 1e-200.
    np.testing.assert_allclose(stats.norm.cdf(stats.norm.ppf(q)), q, rtol=1e-12)
    np.testing.assert_allclose(stats.norm.sf(stats.norm.isf(q)), q, rtol=1e-12)
    np.testing.assert_allclose(stats.norm.pdf(0.0), 1 / math.sqrt(2 * math.pi), rtol=1e-15)


def test_quantiles_invert_cdfs():
    q = np.array([0.05, 0.3, 0.5, 0.9])
    for dist in (stats.logistic, stats.cauchy):
        np.testing.assert_allclose(dist.cdf(dist.ppf(q, 1.0, 2.0), 1.0, 2.0), q, rtol=1e-13)
        np.testing.assert_allclose(dist.sf(dist.isf(q, 1.0, 2.0), 1.0, 2.0), q, rtol=1e-13)
    np.testing.assert_allclose(stats.expon.cdf(stats.expon.ppf(q, 0.5, 2.0), 0.5, 2.0), q,
                               rtol=1e-14)
    np.testing.assert_allclose(stats.uniform.ppf(q, 1.0, 2.0), 1.0 + 2.0 * q)
    assert np.isnan(stats.uniform.ppf(1.5)) and np.isnan(stats.expon.ppf(-0.1))
    np.testing.assert_array_equal(stats.bernoulli.ppf(q, 0.6), [0, 0, 1, 1])


def test_densities_integrate_to_one():
    x = np.linspace(-30, 30, 600001)
    dx = x[1] - x[0]
    for dens in (lambda x: stats.norm.pdf(x, 1.0, 2.0), lambda x: stats.logistic.pdf(x, 0, 1.5),
                 lambda x: stats.laplace.pdf(x, 0.5, 1.0), lambda x: stats.t.pdf(x, 5.0),
                 lambda x: stats.gamma.pdf(x, 3.0, 0.0, 2.0), lambda x: stats.chi2.pdf(x, 4.0),
                 lambda x: stats.truncnorm.pdf(x, -1.0, 0.5, 0.0, 2.0),
                 lambda x: stats.vonmises.pdf(x, 2.0)):
        assert abs(np.sum(dens(x)) * dx - 1.0) < 1e-4
    k = np.arange(0.0, 200.0)
    for mass in (lambda k: stats.poisson.pmf(k, 7.5), lambda k: stats.binom.pmf(k, 20, 0.3),
                 lambda k: stats.nbinom.pmf(k, 4, 0.4), lambda k: stats.geom.pmf(k, 0.2)):
        assert abs(np.sum(mass(k)) - 1.0) < 1e-12


def test_poisson_off_integers_and_truncnorm_far_tail():
    assert stats.poisson.logpmf(2.5, 3.0) == -np.inf and stats.poisson.logpmf(-1, 3.0) == -np.inf
    # Far in the upper tail the mass of [40, 41] is ndtr(-40) to 1e-17.
    want = -0.5 * 40.5 ** 2 - 0.5 * LOG2PI - -804.6084420137538
    assert abs(stats.truncnorm.logpdf(40.5, 40.0, 41.0) - want) < 1e-9
    assert abs(stats.truncnorm.cdf(0.0, -1.0, 1.0) - 0.5) < 1e-15
    assert stats.truncnorm.logpdf(2.0, -1.0, 1.0) == -np.inf


def _mvn_ref(x, mean, cov):
    d = x - mean
    n = len(d)
    _, logdet = np.linalg.slogdet(cov)
    return -0.5 * (n * LOG2PI + logdet + d @ np.linalg.solve(cov, d))


def test_multivariate_normal():
    a = RNG.normal(size=(3, 3))
    cov = a @ a.T + 3 * np.eye(3)
    mean = RNG.normal(size=3)
    x = RNG.normal(size=(5, 3))
    got = stats.multivariate_normal.logpdf(x, mean, cov)
    np.testing.assert_allclose(got, [_mvn_ref(v, mean, cov) for v in x], rtol=1e-13)
    diag = np.array([0.5, 2.0, 3.0])
    np.testing.assert_allclose(stats.multivariate_normal.logpdf(x, mean, diag),
                               [_mvn_ref(v, mean, np.diag(diag)) for v in x], rtol=1e-13)
    np.testing.assert_allclose(stats.multivariate_normal.logpdf(x, mean, 2.0),
                               [_mvn_ref(v, mean, 2.0 * np.eye(3)) for v in x], rtol=1e-13)
    covs = np.stack([cov, 2 * cov, np.eye(3)])           # batched covariances
    np.testing.assert_allclose(stats.multivariate_normal.logpdf(x[:3], mean, covs),
                               [_mvn_ref(x[i], mean, covs[i]) for i in range(3)], rtol=1e-13)
    np.testing.assert_allclose(stats.multivariate_normal.pdf(x, mean, cov), np.exp(got))
    def f(x, m, c):
        return stats.multivariate_normal.logpdf(x, m, c @ c.T + 3 * np.eye(3))
    nj.check_grads(f, (x[0], mean, a), order=2, modes=("fwd", "rev"))
    np.testing.assert_array_equal(nj.jit(stats.multivariate_normal.logpdf)(x, mean, cov), got)
    np.testing.assert_allclose(nj.vmap(stats.multivariate_normal.logpdf, (0, None, None))(
        x, mean, cov), got, rtol=1e-15)
    with pytest.raises(ValueError, match=r"^nanojax.scipy.stats.multivariate_normal.logpdf: "
                       r"cov of shape \(2, 2\)"):
        stats.multivariate_normal.logpdf(x, mean, np.eye(2))
    with pytest.raises(ValueError, match=r"^nanojax.scipy.stats.multivariate_normal.logpdf: x has"):
        stats.multivariate_normal.logpdf(x, np.zeros(2), cov)


def test_dirichlet():
    alpha = np.array([1.5, 2.0, 3.5])
    x = np.array([0.2, 0.3, 0.5])
    want = (sum((a - 1) * math.log(v) for a, v in zip(alpha, x))
            - sum(math.lgamma(a) for a in alpha) + math.lgamma(alpha.sum()))
    assert abs(stats.dirichlet.logpdf(x, alpha) - want) < 1e-13
    assert abs(stats.dirichlet.logpdf(x[:2], alpha) - want) < 1e-13       # K - 1 entries
    batch = np.stack([x, [0.1, 0.1, 0.8]], axis=1)                          # (K, batch)
    assert stats.dirichlet.logpdf(batch, alpha).shape == (2,)
    assert stats.dirichlet.logpdf(np.array([0.5, 0.6, -0.1]), alpha) == -np.inf
    nj.check_grads(lambda a: stats.dirichlet.logpdf(x, a), (alpha,), order=2)
    with pytest.raises(ValueError, match=r"^nanojax.scipy.stats.dirichlet.logpdf: x of shape"):
        stats.dirichlet.logpdf(np.ones(5) / 5, alpha)
    with pytest.raises(ValueError, match=r"^nanojax.scipy.stats.dirichlet.logpdf: alpha must"):
        stats.dirichlet.logpdf(x, np.ones((3, 1)))


def test_bad_arguments_are_refused_in_our_name():
    with pytest.raises(TypeError, match=r"^nanojax.scipy.special"):
        stats.norm.logpdf("x")
    with pytest.raises(TypeError, match=r"complex"):
        stats.gamma.logpdf(np.array([1j]), 2.0)
    with pytest.raises(ValueError, match=r"broadcast"):
        stats.norm.logpdf(np.ones(3), np.ones(2))


def test_gamma_density_at_zero_follows_the_shape():
    got = stats.gamma.logpdf(np.zeros(3), np.array([2.0, 1.0, 0.5]), 0.0, 2.0)
    np.testing.assert_array_equal(got, [-np.inf, -math.log(2.0), np.inf])
