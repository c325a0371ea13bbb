"""``nanojax.scipy.optimize.minimize`` (BFGS with a strong-Wolfe zoom line search):
Rosenbrock, quadratics with known minima and inverse Hessians, jit, vmap, errors."""

from __future__ import annotations

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax.scipy.optimize import OptimizeResults, minimize


def rosenbrock(x):
    return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


@pytest.mark.parametrize("x0", [np.array([-1.2, 1.0]), np.zeros(5), np.full(3, 2.0)])
def test_rosenbrock_reaches_the_minimum(x0):
    res = minimize(rosenbrock, x0, method="BFGS")
    assert isinstance(res, OptimizeResults)
    assert bool(res.success) and int(res.status) == 0
    np.testing.assert_allclose(res.x, np.ones_like(x0), atol=1e-5)
    assert float(res.fun) < 1e-10
    assert np.max(np.abs(res.jac)) < 1e-5
    np.testing.assert_allclose(res.jac, nj.grad(rosenbrock)(res.x), rtol=0, atol=0)
    # A sensible number of steps (SciPy's BFGS takes 30-40 from (-1.2, 1)).
    assert 5 < int(res.nit) < 100 and int(res.nfev) >= int(res.nit) and res.njev == res.nfev


def test_quadratic_gives_the_solution_and_the_inverse_hessian():
    rng = np.random.default_rng(0)
    m = rng.normal(size=(4, 4))
    a = m @ m.T + 4 * np.eye(4)
    b = rng.normal(size=4)

    def f(x, a, b):
        return 0.5 * x @ a @ x - b @ x

    res = minimize(f, np.zeros(4), args=(a, b), method="BFGS", tol=1e-10)
    assert bool(res.success)
    np.testing.assert_allclose(res.x, np.linalg.solve(a, b), rtol=1e-8)
    # After n exact-ish steps on a quadratic, BFGS's H approaches A^-1.
    np.testing.assert_allclose(res.hess_inv, np.linalg.inv(a), atol=2e-2)


def test_jit_gives_eager_bits_and_vmap_runs_each_start():
    solve = lambda x0: minimize(rosenbrock, x0, method="BFGS")    # noqa: E731
    x0 = np.array([-1.2, 1.0])
    eager, staged = solve(x0), nj.jit(solve)(x0)
    for e, s in zip(eager, staged):
        np.testing.assert_array_equal(s, e)
    starts = np.array([[-1.2, 1.0], [0.0, 0.0], [2.0, 2.0]])
    batched = nj.vmap(solve)(starts)
    np.testing.assert_allclose(batched.x, np.ones((3, 2)), atol=1e-5)
    assert np.all(batched.status == 0)
    for i, x0 in enumerate(starts):
        np.testing.assert_allclose(batched.x[i], solve(x0).x, rtol=1e-12)


def test_iteration_budget_and_status():
    res = minimize(rosenbrock, np.array([-1.2, 1.0]), method="BFGS", options={"maxiter": 3})
    assert int(res.status) == 1 and not bool(res.success) and int(res.nit) == 3
    # Converged at the start: no iterations.
    res = minimize(lambda x: jnp.sum(x * x), np.zeros(3), method="BFGS")
    assert int(res.nit) == 0 and bool(res.success)


def test_line_search_failure_is_reported():
    # A linear function has no minimum along the descent direction: the
    # step grows until the line search's budget is spent.
    res = minimize(lambda x: jnp.sum(x), np.zeros(2), method="BFGS")
    assert int(res.status) == 3 and not bool(res.success)


def test_integer_start_and_gtol_option():
    res = minimize(lambda x: jnp.sum((x - 3.0) ** 2), np.array([0, 0]), method="BFGS",
                   options={"gtol": 1e-12})
    assert res.x.dtype == np.float64
    np.testing.assert_allclose(res.x, [3.0, 3.0], rtol=1e-12)


def test_errors_name_minimize():
    start = np.zeros(2)
    with pytest.raises(ValueError, match=r"^nanojax.scipy.optimize.minimize: method 'CG'"):
        minimize(rosenbrock, start, method="CG")
    with pytest.raises(ValueError, match=r"^nanojax.scipy.optimize.minimize: x0 must be one-d"):
        minimize(rosenbrock, np.zeros((2, 2)), method="BFGS")
    with pytest.raises(TypeError, match=r"^nanojax.scipy.optimize.minimize: unknown options"):
        minimize(rosenbrock, start, method="BFGS", options={"eps": 1.0})
    with pytest.raises(TypeError, match=r"^nanojax.scipy.optimize.minimize: fun must be"):
        minimize(3.0, start, method="BFGS")
    with pytest.raises(TypeError, match=r"^nanojax.scipy.optimize.minimize: args must be a tuple"):
        minimize(rosenbrock, start, args=[1], method="BFGS")
