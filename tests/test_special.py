"""Special functions: ``lax.erf``/``erfc``/``erf_inv``/``lgamma``/``digamma``/``polygamma``
against Python's ``math`` and known values, and ``nanojax.scipy.special``."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nanojax as nj
from nanojax import lax
from nanojax.scipy import special

RNG = np.random.default_rng(11)
EULER = 0.5772156649015329
ZETA3 = 1.2020569031595942


def _relative(got, want):
    """The largest relative error; where ``want`` is 0, ``got`` must be 0 too."""
    got, want = np.asarray(got, float), np.asarray(want, float)
    assert np.array_equal(got[want == 0], want[want == 0])
    nonzero = want != 0
    return np.max(np.abs(got[nonzero] - want[nonzero]) / np.abs(want[nonzero]))


WIDE = np.concatenate([RNG.uniform(-6.0, 6.0, 4000), np.linspace(-27.0, 27.0, 2001),
                       RNG.normal(size=500) * 1e-4, 10.0 ** RNG.uniform(-300, 1, 500)])


def test_erf_matches_math_erf_over_a_wide_range():
    assert _relative(lax.erf(WIDE), [math.erf(v) for v in WIDE]) <= 1e-13


def test_erfc_matches_math_erfc_into_the_far_tail():
    x = WIDE[WIDE < 26.5]
    assert _relative(lax.erfc(x), [math.erfc(v) for v in x]) <= 1e-13
    for v in (5.0, 10.0, 15.0, 20.0, 26.0):
        assert abs(lax.erfc(v) / math.erfc(v) - 1) <= 1e-14
    np.testing.assert_array_equal(lax.erfc(np.array([30.0, np.inf, -np.inf])), [0.0, 0.0, 2.0])
    np.testing.assert_array_equal(lax.erf(np.array([np.inf, -np.inf, 0.0])), [1.0, -1.0, 0.0])
    assert np.isnan(lax.erf(np.nan)) and np.isnan(lax.erfc(np.nan))


def test_erf_inv_inverts_erf_to_the_last_bits():
    y = np.concatenate([RNG.uniform(-1, 1, 4000), 1 - 10.0 ** RNG.uniform(-16, -1, 500),
                        10.0 ** RNG.uniform(-300, -1, 500)])
    x = lax.erf_inv(y)
    assert _relative([math.erf(v) for v in x], y) <= 1e-15
    tail = y[y > 0.9]                       # near 1 the information is in 1 - y
    assert _relative([math.erfc(v) for v in lax.erf_inv(tail)], 1 - tail) <= 1e-13
    np.testing.assert_array_equal(lax.erf_inv(np.array([1.0, -1.0, 0.0])), [np.inf, -np.inf, 0])
    assert np.all(np.isnan(lax.erf_inv(np.array([1.5, -1.01, np.nan]))))


def _lgamma_reference(x):
    return np.array([math.inf if v <= 0 and v == math.floor(v) else math.lgamma(v) for v in x])


def test_lgamma_matches_math_lgamma_over_a_wide_range():
    x = np.concatenate([RNG.uniform(0, 30, 4000), 10.0 ** RNG.uniform(-300, 305, 1000)])
    # math.lgamma itself is only absolutely accurate next to its zeros at 1 and 2
    away = (np.abs(x - 1) > 0.1) & (np.abs(x - 2) > 0.1)
    assert _relative(lax.lgamma(x[away]), _lgamma_reference(x[away])) <= 1e-13
    err = np.abs(lax.lgamma(x) - _lgamma_reference(x))
    assert np.all(err <= 1e-13 * np.maximum(np.abs(_lgamma_reference(x)), 1.0))


def test_lgamma_near_its_zeros_is_relatively_accurate():
    # lgamma(1 + z) = -gamma z + pi^2/12 z^2 + O(z^3); lgamma(2 + z) = (1 - gamma) z + ...
    z = 10.0 ** RNG.uniform(-12, -7, 200) * RNG.choice([-1, 1], 200)
    assert _relative(lax.lgamma(1.0 + z), -EULER * ((1.0 + z) - 1.0)
                     + math.pi ** 2 / 12 * z * z) <= 1e-12
    assert _relative(lax.lgamma(2.0 + z), (1 - EULER) * ((2.0 + z) - 2.0)
                     + (math.pi ** 2 / 6 - 1) / 2 * z * z) <= 1e-12
    np.testing.assert_array_equal(lax.lgamma(np.array([1.0, 2.0])), [0.0, 0.0])


def test_lgamma_of_negative_non_integers_and_poles():
    x = RNG.uniform(-30, 0, 4000)
    x = x[np.abs(x - np.round(x)) > 1e-3]
    want = _lgamma_reference(x)
    away_from_zeros = np.abs(want) > 0.1
    assert _relative(lax.lgamma(x[away_from_zeros]), want[away_from_zeros]) <= 1e-13
    assert np.max(np.abs(lax.lgamma(x) - want)) <= 1e-13 * 40
    np.testing.assert_array_equal(lax.lgamma(np.array([0.0, -1.0, -7.0, np.inf, -np.inf])),
                                  np.inf)
    assert lax.lgamma(1e305) == pytest.approx(math.lgamma(1e305), rel=1e-15)


def test_digamma_known_values():
    cases = {1.0: -EULER, 0.5: -EULER - 2 * math.log(2), 2.0: 1 - EULER,
             0.25: -EULER - math.pi / 2 - 3 * math.log(2),
             1 / 3: -EULER - math.pi / (2 * math.sqrt(3)) - 1.5 * math.log(3),
             -0.5: -EULER - 2 * math.log(2) + 2.0, 10.0: -EULER + sum(1 / k for k in range(1, 10)),
             100.0: -EULER + math.fsum(1 / k for k in range(1, 100))}
    for x, want in cases.items():
        assert abs(lax.digamma(x) / want - 1) <= 1e-13, x
    assert np.all(np.isnan(lax.digamma(np.array([0.0, -1.0, -5.0, np.nan]))))


def test_digamma_is_the_derivative_of_lgamma_and_satisfies_the_recurrence():
    x = np.concatenate([RNG.uniform(0.05, 40, 1000), RNG.uniform(-10, 0, 1000)])
    x = x[np.abs(x - np.round(x)) > 0.05]
    h = 1e-6
    slope = np.array([(math.lgamma(v + h) - math.lgamma(v - h)) / (2 * h) for v in x])
    np.testing.assert_allclose(lax.digamma(x), slope, rtol=1e-7, atol=1e-7)
    # psi(x + 1) = psi(x) + 1/x, everywhere but next to digamma's zeros
    lhs, rhs = lax.digamma(x + 1), lax.digamma(x) + 1 / x
    assert np.all(np.abs(lhs - rhs) <= 1e-13 * np.maximum(np.abs(lhs), 1.0))


def test_polygamma_known_values():
    m = np.array([1.0, 1.0, 2.0, 3.0, 1.0, 0.0, 1.0])
    x = np.array([1.0, 0.5, 1.0, 1.0, -0.5, 1.0, 1e-4])
    want = [math.pi ** 2 / 6, math.pi ** 2 / 2, -2 * ZETA3, math.pi ** 4 / 15,
            math.pi ** 2 / 2 + 4, -EULER,
            # psi1(x) = 1/x^2 + psi1(1 + x) = 1/x^2 + zeta(2) - 2 zeta(3) x + 3 zeta(4) x^2 ...
            1e8 + math.pi ** 2 / 6 - 2 * ZETA3 * 1e-4 + 3 * math.pi ** 4 / 90 * 1e-8]
    assert _relative(lax.polygamma(m, x), want) <= 1e-13
    assert np.all(np.isnan(lax.polygamma(np.array([0.5, -1.0, 1.0]), np.array([1.0, 1.0, 0.0]))))


def test_polygamma_is_the_derivative_of_the_order_below():
    x = np.concatenate([RNG.uniform(0.2, 20, 300), RNG.uniform(-4, 0, 300)])
    x = x[np.abs(x - np.round(x)) > 0.1]
    h = 1e-5
    for m in (1.0, 2.0, 3.0):
        slope = (lax.polygamma(m - 1, x + h) - lax.polygamma(m - 1, x - h)) / (2 * h)
        np.testing.assert_allclose(lax.polygamma(m, x), slope, rtol=1e-6)


NAMES = ["erf", "erfc", "erf_inv", "lgamma", "digamma"]


@pytest.mark.parametrize("name", NAMES)
def test_float32_in_float32_out_jit_bit_identical_and_vmap_like_a_loop(name):
    fn = getattr(lax, name)
    x = RNG.uniform(0.1, 0.9, (3, 4))
    assert fn(x.astype(np.float32)).dtype == np.float32
    assert fn(np.arange(3)).dtype == np.float64
    np.testing.assert_allclose(fn(x.astype(np.float32)), fn(x), rtol=1e-6)
    np.testing.assert_array_equal(nj.jit(fn)(x), fn(x))
    g = nj.grad(lambda v: fn(v).sum())
    np.testing.assert_array_equal(nj.jit(g)(x), g(x))
    np.testing.assert_array_equal(nj.vmap(fn)(x), np.stack([fn(r) for r in x]))
    np.testing.assert_array_equal(nj.vmap(g)(x), np.stack([g(r) for r in x]))


def test_derivatives_are_the_textbook_ones():
    x = 0.3
    assert nj.grad(lax.erf)(x) == pytest.approx(2 / math.sqrt(math.pi) * math.exp(-x * x),
                                                rel=1e-15)
    assert nj.grad(lax.erf_inv)(x) == pytest.approx(
        math.sqrt(math.pi) / 2 * math.exp(lax.erf_inv(x) ** 2), rel=1e-15)
    assert nj.grad(lax.lgamma)(x) == lax.digamma(x)
    assert nj.grad(lax.digamma)(x) == lax.polygamma(1.0, x)
    assert nj.grad(nj.grad(lax.digamma))(x) == lax.polygamma(2.0, x)
    assert nj.grad(lambda v: lax.polygamma(2.0, v))(x) == lax.polygamma(3.0, x)


# ----- nanojax.scipy.special ----------------------------------------------------------

def test_scipy_special_names_are_the_primitives():
    x = RNG.uniform(0.1, 0.9, 5)
    np.testing.assert_array_equal(special.erf(x), lax.erf(x))
    np.testing.assert_array_equal(special.erfc(x), lax.erfc(x))
    np.testing.assert_array_equal(special.erfinv(x), lax.erf_inv(x))
    np.testing.assert_array_equal(special.gammaln(x), lax.lgamma(x))
    np.testing.assert_array_equal(special.digamma(x), lax.digamma(x))
    np.testing.assert_array_equal(special.polygamma(np.array([1, 2, 1, 2, 3]), x),
                                  lax.polygamma(np.array([1.0, 2.0, 1.0, 2.0, 3.0]), x))
    assert special.erf(1).dtype == np.float64


def test_scipy_special_gamma_beta_and_friends():
    x = np.array([0.5, 3.0, 7.5, -0.5, -1.5, -2.5])
    assert _relative(special.gamma(x), [math.gamma(v) for v in x]) <= 1e-13
    assert special.betaln(2.0, 3.0) == pytest.approx(math.log(1 / 12), rel=1e-14)
    np.testing.assert_allclose(special.expit(np.array([-2.0, 0.0, 3.0])),
                               1 / (1 + np.exp([2.0, 0.0, -3.0])), rtol=1e-15)
    assert special.logit(special.expit(0.7)) == pytest.approx(0.7, rel=1e-14)
    np.testing.assert_array_equal(special.xlogy(np.array([0.0, 2.0]), np.array([0.0, 3.0])),
                                  [0.0, 2 * math.log(3.0)])
    assert special.xlog1py(0.0, -1.0) == 0.0
    np.testing.assert_array_equal(special.entr(np.array([0.0, 1.0, -1.0])), [0.0, -0.0, -np.inf])
    # no NaN gradient at x = 0, y = 0
    assert nj.grad(special.xlogy, argnums=(0, 1))(0.0, 0.0) == (0.0, 0.0)


def test_scipy_special_logsumexp_with_weights_and_signs():
    a = RNG.normal(size=(3, 4)) * 50
    b = RNG.normal(size=(3, 4))
    total = np.sum(b * np.exp(a - a.max(axis=1, keepdims=True)), axis=1)
    want = np.log(np.abs(total)) + a.max(axis=1)
    out, sign = special.logsumexp(a, axis=1, b=b, return_sign=True)
    np.testing.assert_allclose(out, want, rtol=1e-13)
    np.testing.assert_array_equal(sign, np.sign(total))
    plain = special.logsumexp(a, axis=1, b=b)
    np.testing.assert_array_equal(np.isnan(plain), total < 0)
    assert special.logsumexp(np.array([1000.0, 1000.0])) == pytest.approx(1000 + math.log(2))
    np.testing.assert_allclose(special.softmax(a).sum(), 1.0, rtol=1e-14)
    np.testing.assert_allclose(np.exp(special.log_softmax(a, axis=1)).sum(axis=1), 1.0)
    nj.check_grads(lambda a, b: special.logsumexp(a, axis=0, b=b), (a[:, :2] / 50, b[:, :2] ** 2),
                   order=2, modes=("fwd", "rev"))


def test_scipy_special_errors():
    with pytest.raises(TypeError,
                       match=r"nanojax\.scipy\.special\.polygamma: n must be of integer"):
        special.polygamma(1.0, 2.0)
    with pytest.raises(TypeError, match=r"nanojax\.scipy\.special\.erf: complex"):
        special.erf(1j)
    with pytest.raises(TypeError, match=r"nanojax\.scipy\.special\.gammaln"):
        special.gammaln("x")
