"""``nanojax.scipy.special``'s normal, Bessel and incomplete-gamma functions against
references written here (Python sums with ``math.fsum``, ``decimal`` continued
fractions, closed forms), with gradients, jit, vmap and errors."""

from __future__ import annotations

import math
from decimal import Decimal, getcontext

import numpy as np
import pytest

import nanojax as nj
from nanojax import lax
from nanojax.scipy import special

RNG = np.random.default_rng(5)


def _bessel_ref(nu: int, x: float) -> float:
    """``exp(-|x|) I_nu(x)`` by its power series, summed exactly enough with fsum."""
    q = x * x / 4.0
    t = (x / 2.0) ** nu / math.factorial(nu)
    terms = [t]
    for k in range(1, 2000):
        t = t * q / (k * (k + nu))
        terms.append(t)
        if abs(t) < 1e-20 * abs(math.fsum(terms)):
            break
    return math.fsum(terms) * math.exp(-abs(x))


def _log_ndtr_ref(x: float) -> float:
    """``log Phi(x)``: erfc where it does not underflow, else the Mills-ratio continued
    fraction in 50-digit decimals."""
    if x > -5:
        return math.log(0.5 * math.erfc(-x / math.sqrt(2.0)))
    getcontext().prec = 50
    t, r = Decimal(-x), Decimal(0)
    for k in range(400, 0, -1):
        r = Decimal(k) / (t + r)
    log_phi = -Decimal(x) * Decimal(x) / 2 - Decimal(2 * math.pi).ln() / 2
    return float(log_phi + (1 / (t + r)).ln())


def _rel(got, want) -> float:
    got, want = np.asarray(got, float), np.asarray(want, float)
    return float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-300)))


# ----- ndtr, log_ndtr, ndtri -----------------------------------------------------------

def test_ndtr_matches_erfc_and_symmetry():
    x = np.linspace(-30, 8, 400)
    # Rounding x / sqrt(2) moves erfc by x^2 ulps in relative terms: 900 of them at -30.
    assert _rel(special.ndtr(x), [0.5 * math.erfc(-v / math.sqrt(2)) for v in x]) <= 5e-13
    np.testing.assert_allclose(special.ndtr(x) + special.ndtr(-x), 1.0, rtol=1e-15)
    assert special.ndtr(0) == 0.5 and special.ndtr(np.array(0)).dtype == np.float64


def test_log_ndtr_is_accurate_far_into_the_lower_tail():
    x = np.array([-1e4, -1000.0, -300.0, -40.0, -25.0, -20.5, -20.0, -19.5, -10.0, -6.0, -1.0,
                  0.0, 3.0])
    assert _rel(special.log_ndtr(x), [_log_ndtr_ref(v) for v in x]) <= 2e-15
    # The upper tail: -ndtr(-x), which log(ndtr(x)) would round to 0.
    for v in (6.5, 10.0, 20.0):
        assert abs(special.log_ndtr(v) / -(0.5 * math.erfc(v / math.sqrt(2))) - 1) <= 1e-13
    np.testing.assert_array_equal(special.log_ndtr(np.array([np.inf, -np.inf])), [0.0, -np.inf])


def test_log_ndtr_gradient_is_the_inverse_mills_ratio_everywhere():
    g = nj.vmap(nj.grad(special.log_ndtr))(np.array([-100.0, -30.0, -20.0, -3.0, 2.0, 8.0]))
    x = np.array([-100.0, -30.0, -20.0, -3.0, 2.0, 8.0])
    want = [math.exp(-0.5 * v * v - 0.5 * math.log(2 * math.pi) - _log_ndtr_ref(v)) for v in x]
    assert _rel(g, want) <= 1e-12
    nj.check_grads(special.log_ndtr, (np.array([-25.0, -2.0, 0.5, 7.0]),), order=2,
                   modes=("fwd", "rev"))


@pytest.mark.parametrize("p", [1e-300, 1e-100, 1e-20, 1e-11, 1e-9, 1e-3, 0.1, 0.3, 0.5, 0.7,
                               0.975, 1 - 1e-10])
def test_ndtri_inverts_ndtr(p):
    x = float(special.ndtri(p))
    back = float(special.ndtr(x)) if p <= 0.5 else 1 - float(special.ndtr(-x))
    # ndtr's slope magnifies x's last bit by |x| in relative terms.
    assert abs(back / p - 1) <= 1e-15 * max(1.0, x * x)


def test_ndtri_known_values_edges_and_derivative():
    assert abs(special.ndtri(0.975) - 1.959963984540054) <= 1e-15
    np.testing.assert_array_equal(special.ndtri(np.array([0.0, 1.0, 0.5])), [-np.inf, np.inf, 0])
    assert np.all(np.isnan(special.ndtri(np.array([-0.1, 1.1, np.nan]))))
    x = float(special.ndtri(0.3))
    assert abs(nj.grad(special.ndtri)(0.3) - math.sqrt(2 * math.pi) * math.exp(x * x / 2)) < 1e-12
    nj.check_grads(special.ndtri, (np.array([0.01, 0.3, 0.8]),), order=2, modes=("fwd", "rev"))


# ----- Bessel --------------------------------------------------------------------------

XS = np.concatenate([np.linspace(-40, 40, 321), [1e-3, -1e-8, 19.99, 20.01, 60.0, -200.0]])


@pytest.mark.parametrize("nu, fn", [(0, special.i0e), (1, special.i1e)])
def test_scaled_bessel_matches_its_series(nu, fn):
    assert _rel(fn(XS), [_bessel_ref(nu, v) for v in XS]) <= 2e-14


def test_bessel_edges_and_unscaled_versions():
    np.testing.assert_array_equal(special.i0e(np.array([0.0, np.inf, -np.inf])), [1, 0, 0])
    np.testing.assert_array_equal(special.i1e(np.array([0.0, np.inf, -np.inf])), [0, 0, 0])
    x = np.linspace(-10, 10, 41)
    np.testing.assert_allclose(special.i0(x), np.i0(x), rtol=1e-14)
    np.testing.assert_allclose(special.i1(x), [_bessel_ref(1, v) * math.exp(abs(v)) for v in x],
                               rtol=1e-14)
    assert special.i0e(np.float32(1.0)).dtype == np.float32
    assert special.i0e(2).dtype == np.float64


@pytest.mark.parametrize("fn", [special.i0e, special.i1e, special.i0, special.i1])
def test_bessel_gradients_jit_vmap(fn):
    big = 25.0 if fn in (special.i0e, special.i1e) else 4.0     # i0(25) ~ 6e9: fd's error
    x = np.array([-big, -1.3, 0.4, 2.0, big + 5.0])
    nj.check_grads(fn, (x,), order=2, modes=("fwd", "rev"))
    np.testing.assert_array_equal(nj.jit(fn)(x), fn(x))
    np.testing.assert_array_equal(nj.vmap(fn)(x), fn(x))
    g = nj.vmap(nj.grad(fn))(x)
    np.testing.assert_allclose(g, [nj.grad(fn)(v) for v in x], rtol=1e-15)


def test_i1e_derivative_at_zero_is_a_half():
    assert nj.grad(special.i1e)(0.0) == 0.5
    assert nj.grad(special.i0e)(0.0) == 0.0 + nj.grad(special.i0e)(0.0)   # finite


# ----- multigammaln, gammainc, gammaincc ----------------------------------------------

def test_multigammaln_closed_forms():
    a = np.array([1.5, 2.0, 7.3])
    np.testing.assert_allclose(special.multigammaln(a, 1), [math.lgamma(v) for v in a])
    want = [0.5 * math.log(math.pi) + math.lgamma(v) + math.lgamma(v - 0.5) for v in a]
    np.testing.assert_allclose(special.multigammaln(a, 2), want, rtol=1e-15)
    nj.check_grads(lambda a: special.multigammaln(a, 3), (a + 1.0,), order=2)
    with pytest.raises(ValueError, match=r"^nanojax.scipy.special.multigammaln: d must be"):
        special.multigammaln(a, 0)


def _gammainc_ref(a: float, x: float) -> float:
    t = 1.0 / a
    terms = [t]
    for k in range(1, 10000):
        t = t * x / (a + k)
        terms.append(t)
        if t < 1e-20 * terms[0]:
            break
    return math.exp(a * math.log(x) - x - math.lgamma(a)) * math.fsum(terms)


@pytest.mark.parametrize("a, x", [(0.5, 0.3), (2.0, 1.0), (3.0, 7.0), (10.0, 3.0), (1.0, 2.0),
                                  (0.1, 5.0), (40.0, 45.0), (5.0, 0.01)])
def test_gammainc_matches_its_series(a, x):
    p = _gammainc_ref(a, x)
    assert abs(special.gammainc(a, x) - p) <= 5e-14 * max(p, 1e-300) + 1e-15
    assert abs(special.gammaincc(a, x) - (1 - p)) <= 1e-13 * (1 - p) + 1e-15


def test_gammainc_closed_forms_and_edges():
    x = np.array([0.1, 1.0, 5.0, 30.0])
    np.testing.assert_allclose(special.gammaincc(1.0, x), np.exp(-x), rtol=1e-14)
    np.testing.assert_allclose(special.gammainc(0.5, x), [math.erf(math.sqrt(v)) for v in x],
                               rtol=1e-14)
    np.testing.assert_allclose(special.gammaincc(0.5, x), [math.erfc(math.sqrt(v)) for v in x],
                               rtol=1e-13)
    np.testing.assert_array_equal(special.gammainc(2.0, np.array([0.0, np.inf])), [0.0, 1.0])
    assert np.all(np.isnan(special.gammainc(np.array([-1.0, 0.0, 1.0]), np.array([1, 1, -1.0]))))


def test_gammainc_gradients_in_x_and_a():
    x = np.array([0.5, 2.0, 9.0])
    nj.check_grads(lambda x: special.gammainc(2.5, x), (x,), order=2, modes=("fwd", "rev"))
    nj.check_grads(lambda x: special.gammaincc(0.7, x), (x,), order=2, modes=("fwd", "rev"))
    # d/da by extrapolated differences: against a plain central difference.
    h = 1e-5
    for a, v in [(1.5, 2.0), (3.0, 9.0), (0.3, 0.1)]:
        fd = (special.gammainc(a + h, v) - special.gammainc(a - h, v)) / (2 * h)
        assert abs(nj.grad(special.gammainc)(a, v) - fd) <= 1e-8
    np.testing.assert_array_equal(nj.jit(special.gammainc)(2.0, x), special.gammainc(2.0, x))
    np.testing.assert_array_equal(nj.vmap(special.gammainc)(x, x), special.gammainc(x, x))


def test_lax_names_and_errors():
    np.testing.assert_array_equal(lax.bessel_i0e(np.array([1.0])), special.i0e(np.array([1.0])))
    assert lax.igamma(1.0, 2.0) == special.gammainc(1.0, 2.0)
    for fn in (special.ndtr, special.log_ndtr, special.ndtri, special.i0e, special.i1):
        with pytest.raises(TypeError, match=rf"^nanojax.scipy.special.{fn.__name__}: complex"):
            fn(np.array([1j]))
    with pytest.raises(TypeError, match=r"^nanojax.scipy.special.i0e"):
        special.i0e("a")


def _betainc_ref(a: int, b: int, x: float) -> float:
    """For whole a and b, I_x(a, b) is a binomial tail."""
    n = a + b - 1
    return math.fsum(math.comb(n, j) * x ** j * (1 - x) ** (n - j) for j in range(a, n + 1))


@pytest.mark.parametrize("a, b, x", [(2, 3, 0.4), (1, 1, 0.3), (5, 2, 0.9), (10, 20, 0.3),
                                     (30, 3, 0.95), (1, 7, 0.01), (3, 3, 0.5)])
def test_betainc_matches_binomial_tails(a, b, x):
    want = _betainc_ref(a, b, x)
    # The prefactor exp(a log x + b log(1-x) - log B(a, b)) carries lgamma's rounding.
    assert abs(special.betainc(float(a), float(b), x) - want) <= 3e-14 * want + 1e-15


def test_betainc_closed_forms_edges_and_derivatives():
    x = np.array([0.1, 0.25, 0.7])
    np.testing.assert_allclose(special.betainc(0.5, 0.5, x), 2 / np.pi * np.arcsin(np.sqrt(x)),
                               rtol=1e-14)
    np.testing.assert_array_equal(special.betainc(2.0, 3.0, np.array([0.0, 1.0])), [0.0, 1.0])
    assert np.all(np.isnan(special.betainc(np.array([-1.0, 1.0, 1.0]), 1.0,
                                           np.array([0.5, 1.5, -0.1]))))
    g = nj.grad(special.betainc, argnums=(0, 1, 2))(2.0, 3.0, 0.4)
    assert abs(g[2] - 12 * 0.4 * 0.6 ** 2) < 1e-13
    h = 1e-6
    assert abs(g[0] - (special.betainc(2 + h, 3.0, 0.4) - special.betainc(2 - h, 3.0, 0.4))
               / (2 * h)) < 1e-8
    assert abs(g[1] - (special.betainc(2.0, 3 + h, 0.4) - special.betainc(2.0, 3 - h, 0.4))
               / (2 * h)) < 1e-8
    nj.check_grads(lambda x: special.betainc(1.5, 2.5, x), (x,), order=2, modes=("fwd", "rev"))
    np.testing.assert_array_equal(nj.jit(special.betainc)(2.0, 3.0, x),
                                  special.betainc(2.0, 3.0, x))
