"""optax's L-BFGS and line searches in nanojax.optim: convergence, the Wolfe conditions of
the accepted steps, optax's test cases and numbers, pytrees, jit against eager, reuse of
the stored value and gradient, and the errors."""

from __future__ import annotations

import contextlib
import io
import itertools
import math

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
import nanojax.optax as optax
from nanojax import lax, optim
from nanojax import optim_lbfgs
from nanojax.tree_util import tree_leaves, tree_map


# ----- Objectives (optax's test problems) ---------------------------------------------------

def rosenbrock(x):
    return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def himmelblau(p):
    return (p[0] ** 2 + p[1] - 11.0) ** 2 + (p[0] + p[1] ** 2 - 7.0) ** 2


def matyas(p):
    return 0.26 * (p[0] ** 2 + p[1] ** 2) - 0.48 * p[0] * p[1]


def zakharov(x):
    ii = jnp.arange(1, x.shape[0] + 1, dtype=x.dtype)
    s2 = jnp.sum(0.5 * ii * x)
    return jnp.sum(x ** 2) + s2 ** 2 + s2 ** 4


def _norm(tree):
    return math.sqrt(sum(float(np.sum(np.square(x))) for x in tree_leaves(tree)))


def _stepper(opt, fun, jit=True):
    value_and_grad = optim.value_and_grad_from_state(fun)

    def step(params, state):
        value, grad = value_and_grad(params, state=state)
        updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=fun)
        return optim.apply_updates(params, updates), state
    return nj.jit(step) if jit else step


def _run(opt, fun, params, maxiter=500, tol=1e-8, jit=True):
    """optax's loop: step until the gradient norm is below ``tol``; (params, state, steps)."""
    step = _stepper(opt, fun, jit)
    state = opt.init(params)
    for k in range(1, maxiter + 1):
        params, state = step(params, state)
        if _norm(nj.grad(fun)(params)) < tol:
            return params, state, k
    return params, state, maxiter


# ----- Convergence --------------------------------------------------------------------------

def test_optax_docstring_numbers():
    # optax's lbfgs docstring: 14.0, then 7.52E+00, then (float32) 7.46E-14.
    f = lambda x: jnp.sum(x ** 2)    # noqa: E731
    opt, params = optax.lbfgs(), jnp.array([1.0, 2.0, 3.0])
    step = _stepper(opt, f, jit=False)
    state = opt.init(params)
    params, state = step(params, state)
    assert f"{float(f(params)):.2E}" == "7.52E+00"
    params, state = step(params, state)
    assert float(f(params)) < 1e-28


@pytest.mark.parametrize("n", [3, 6])
def test_quadratic_is_solved_in_about_n_steps(n):
    rng = np.random.default_rng(0)
    m = rng.normal(size=(n, n))
    a = m @ m.T + n * np.eye(n)
    b = rng.normal(size=n)
    f = lambda x: 0.5 * jnp.dot(x, jnp.dot(a, x)) - jnp.dot(b, x)    # noqa: E731
    # With (nearly) exact line searches, L-BFGS on a quadratic is conjugate gradients:
    # the minimiser in n steps (n + 1 here: the searches are exact to 1e-8 only).
    exact = optim.scale_by_zoom_linesearch(max_linesearch_steps=30, curv_rtol=1e-8,
                                           initial_guess_strategy="one")
    x, _, steps = _run(optim.lbfgs(linesearch=exact), f, np.zeros(n), tol=1e-10)
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=0, atol=1e-13)
    assert steps <= n + 1
    # optax's default search stops at the first step meeting the Wolfe conditions.
    x, _, steps = _run(optim.lbfgs(), f, np.zeros(n), tol=1e-10)
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=0, atol=1e-11)
    assert steps <= 2 * n + 1


@pytest.mark.parametrize("dim, most", [(2, 25), (10, 80)])
def test_rosenbrock_to_1e_8(dim, most):
    # From zeros: 19 steps in 2-D, 70 in 10-D (optax's own lbfgs takes the same steps).
    x, state, steps = _run(optim.lbfgs(), rosenbrock, np.zeros(dim), tol=1e-8)
    assert steps <= most
    np.testing.assert_allclose(x, np.ones(dim), rtol=0, atol=1e-8)
    assert float(rosenbrock(x)) < 1e-16
    assert float(state[-1].info.decrease_error) == 0.0


def test_rosenbrock_eager_matches_jit_bit_for_bit():
    opt = optim.lbfgs(memory_size=4)
    eager, jitted = _stepper(opt, rosenbrock, jit=False), _stepper(opt, rosenbrock)
    p1 = p2 = np.array([-1.2, 1.0, 0.5])
    s1 = s2 = opt.init(p1)
    for _ in range(8):
        p1, s1 = eager(p1, s1)
        p2, s2 = jitted(p2, s2)
    np.testing.assert_array_equal(p1, p2)
    for a, b in zip(tree_leaves(s1), tree_leaves(s2)):
        np.testing.assert_array_equal(a, b)
    assert jitted.trace_count() == 1       # the state keeps its types from init on


@pytest.mark.parametrize("fun, x0, minimizer", [
    (matyas, np.ones(2) * 6.0, np.zeros(2)),
    (zakharov, np.array([600.0, 700.0, 200.0, 100.0, 90.0, 1e3]), np.zeros(6)),
    (himmelblau, np.ones(2), np.array([3.0, 2.0])),
    (himmelblau, np.array([92.0, 0.001]), None),        # optax's bad initialization
    (lambda x: jnp.mean((1e4 * x) ** 2), np.ones(2), np.zeros(2)),    # steep
], ids=["matyas", "zakharov", "himmelblau", "himmelblau-bad-init", "steep"])
def test_optax_problems_reach_the_minimum(fun, x0, minimizer):
    x, _, _ = _run(optim.lbfgs(), fun, x0, tol=1e-5)
    if minimizer is not None:
        np.testing.assert_allclose(x, minimizer, rtol=1e-5, atol=1e-5)
    assert abs(float(fun(x))) < 1e-5


def test_pytree_params_match_one_array():
    # optax's test_handling_pytrees: rows of one array, or a dict of them, same path.
    def per_row(x):
        return jnp.sum(100.0 * (x[..., 1:] - x[..., :-1] ** 2) ** 2 + (1 - x[..., :-1]) ** 2)

    def on_tree(t):
        return sum(per_row(x) for x in tree_leaves(t))

    init = np.random.default_rng(0).normal(size=(2, 4))
    array_sol, _, _ = _run(optim.lbfgs(), per_row, init, maxiter=3)
    tree_sol, state, _ = _run(optim.lbfgs(), on_tree, {"a": init[0], "b": init[1]}, maxiter=3)
    np.testing.assert_allclose(np.stack([tree_sol["a"], tree_sol["b"]]), array_sol,
                               rtol=1e-12, atol=1e-12)
    assert state[0].diff_params_memory["a"].shape == (10, 4)


def test_pytree_params_of_mixed_shapes_converge():
    def f(p):
        return jnp.sum((p["w"] - 2.0) ** 2) + jnp.sum((p["b"] + 1.0) ** 4) + p["s"] ** 2

    params = {"w": np.zeros((2, 3)), "b": np.ones(2), "s": 3.0}
    x, _, _ = _run(optim.lbfgs(), f, params, tol=1e-7)
    np.testing.assert_allclose(x["w"], 2.0, atol=1e-7)
    np.testing.assert_allclose(x["b"], -1.0, atol=1e-2)     # quartic: flat at its minimum
    assert abs(float(x["s"])) < 1e-7


def test_float32_params_keep_their_dtype_in_a_cond():
    # optax's state stability test: the state after update has the types it had before,
    # so update can be a branch of lax.cond.
    opt = optim.lbfgs(learning_rate=0.1)
    f = lambda x: jnp.sum((x - jnp.array([1.0, -1.0, 1.0], np.float32)) ** 2)    # noqa: E731

    @nj.jit
    def step(params, state, go):
        value, grad = nj.value_and_grad(f)(params)
        updates, state = lax.cond(go, lambda: opt.update(grad, state, params, value=value,
                                                         grad=grad, value_fn=f),
                                  lambda: (params, state))
        return optim.apply_updates(params, updates), state

    params = np.array([-1.0, 10.0, 1.0], np.float32)
    state = opt.init(params)
    for _ in range(2):
        params, new_state = step(params, state, True)
        assert params.dtype == np.float32
        for a, b in zip(tree_leaves(state), tree_leaves(new_state)):
            assert jnp.result_type(a) == jnp.result_type(b)
        state = new_state


# ----- scale_by_lbfgs against the textbook ----------------------------------------------------

def _inverse_hessian(dws, dus, rhos, oldest):
    """Nocedal and Wright's (7.19), as a matrix: the rank-two updates of I, oldest first."""
    m, d = dws.shape
    p = np.eye(d)
    for j in np.roll(np.arange(m), -oldest):
        v = np.eye(d) - rhos[j] * np.outer(dus[j], dws[j])
        p = v.T @ p @ v + rhos[j] * np.outer(dws[j], dws[j])
    return p


@pytest.mark.parametrize("oldest", [0, 1, 2, 3])
def test_preconditioning_is_the_inverse_hessian_estimate(oldest):
    rng = np.random.default_rng(0)
    dws, dus, vec = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.normal(size=3)
    rhos = 1.0 / np.sum(dws * dus, axis=1)
    got = optim_lbfgs._precondition(vec, dws, dus, rhos, 1.0, np.int32(oldest))
    np.testing.assert_allclose(got, _inverse_hessian(dws, dus, rhos, oldest) @ vec,
                               rtol=1e-10, atol=1e-12)
    # The same on a pytree: a (3, 2) leaf and a (5,) leaf, raveled.
    shapes = [(3, 2), (5,)]
    tw = tuple(rng.normal(size=(4, *s)) for s in shapes)
    tu = tuple(rng.normal(size=(4, *s)) for s in shapes)
    tv = tuple(rng.normal(size=s) for s in shapes)
    flat = lambda t: np.concatenate([x.reshape(4, -1) for x in t], axis=1)    # noqa: E731
    fw, fu = flat(tw), flat(tu)
    rhos = 1.0 / np.sum(fw * fu, axis=1)
    got = optim_lbfgs._precondition(tv, tw, tu, rhos, 1.0, np.int32(oldest))
    want = _inverse_hessian(fw, fu, rhos, oldest) @ np.concatenate([x.ravel() for x in tv])
    np.testing.assert_allclose(np.concatenate([x.ravel() for x in got]), want, rtol=1e-10)


def _plain_lbfgs(fun, w, stepsize, maxiter, memory_size, scale_init_precond):
    """Algorithm 7.5 with a fixed step, in NumPy on lists (optax's _plain_lbfgs)."""
    grad = nj.grad(fun)
    g = np.asarray(grad(w))
    dws, dus = [], []
    for it in range(maxiter):
        if not scale_init_precond:
            gamma = 1.0
        elif it == 0:
            gamma = min(1.0, 1.0 / np.linalg.norm(g))
        else:
            gamma = dws[-1] @ dus[-1] / (dus[-1] @ dus[-1])
        q, alphas = g.copy(), []
        for dw, du in zip(reversed(dws), reversed(dus)):
            alphas.append((dw @ q) / (dw @ du))
            q = q - alphas[-1] * du
        q = gamma * q
        for dw, du, alpha in zip(dws, dus, reversed(alphas)):
            q = q + (alpha - (du @ q) / (dw @ du)) * dw
        w_old, g_old = w, g
        w = w - stepsize * q
        g = np.asarray(grad(w))
        dws, dus = (dws + [w - w_old])[-memory_size:], (dus + [g - g_old])[-memory_size:]
    return w


@pytest.mark.parametrize("scale_init_precond", [True, False])
@pytest.mark.parametrize("fun, x0", [(rosenbrock, np.zeros(2)), (himmelblau, np.ones(2)),
                                     (zakharov, np.array([0.6, 0.7, 0.2, 0.1, 0.09, 1.0]))],
                         ids=["rosenbrock", "himmelblau", "zakharov"])
def test_fixed_step_lbfgs_matches_the_plain_algorithm(fun, x0, scale_init_precond):
    opt = optim.lbfgs(learning_rate=1e-3, memory_size=5, scale_init_precond=scale_init_precond,
                      linesearch=None)
    params, state = x0, opt.init(x0)
    for _ in range(15):       # more than memory_size: the ring wraps around
        grad = nj.grad(fun)(params)
        updates, state = opt.update(grad, state, params)
        params = optim.apply_updates(params, updates)
    want = _plain_lbfgs(fun, x0, 1e-3, 15, 5, scale_init_precond)
    # Equal at first; a fixed step without a search amplifies rounding (zakharov: 1e-16
    # after 3 steps, 4e-9 after 15), so not to the last bit. optax's test: 1e-5.
    np.testing.assert_allclose(params, want, rtol=1e-7, atol=1e-7)


def test_first_direction_is_capped_to_length_one():
    t = optim.scale_by_lbfgs()
    u, _ = t.update(np.array([0.3, 0.4]), t.init(np.zeros(2)), np.zeros(2))
    np.testing.assert_array_equal(u, [0.3, 0.4])            # |g| < 1: unchanged
    u, _ = t.update(np.array([30.0, 40.0]), t.init(np.zeros(2)), np.zeros(2))
    np.testing.assert_allclose(u, [0.6, 0.8])
    u, _ = optim.scale_by_lbfgs(scale_init_precond=False).update(
        np.array([30.0, 40.0]), t.init(np.zeros(2)), np.zeros(2))
    np.testing.assert_array_equal(u, [30.0, 40.0])
    u, _ = t.update(np.zeros(2), t.init(np.zeros(2)), np.zeros(2))     # no 1/0 on a zero grad
    np.testing.assert_array_equal(u, [0.0, 0.0])


# ----- Zoom line search -----------------------------------------------------------------------

def _search(opt, fun, params, updates, guess=None):
    """One update of a line search alone (optax's _run_linesearch)."""
    state = opt.init(params)
    if guess is not None:
        state = state._replace(learning_rate=np.asarray(guess, state.learning_rate.dtype))
    value, grad = nj.value_and_grad(fun)(params)
    updates, state = opt.update(updates, state, params, value=value, grad=grad, value_fn=fun)
    return optim.apply_updates(params, updates), state


def _wolfe(fun, w, u, new_w, c1=1e-4, c2=0.9):
    """(sufficient decrease holds, small curvature holds), measured from fresh gradients; the
    approximate decrease (Hager and Zhang) counts as decrease, as in the search."""
    v0, g0 = nj.value_and_grad(fun)(w)
    v1, g1 = nj.value_and_grad(fun)(new_w)
    s0, s1 = float(np.vdot(u, g0)), float(np.vdot(u, g1))
    t = float(np.sum((new_w - w) * u) / np.sum(u * u))
    armijo = float(v1) <= float(v0) + c1 * t * s0
    approx = s1 <= (2 * c1 - 1) * s0 and float(v1) <= float(v0) + 1e-6 * abs(float(v0))
    return armijo or approx, abs(s1) <= c2 * abs(s0)


PROBLEMS = {
    "polynomial": (lambda x: -x - x ** 3 + x ** 4, ()),
    "exponential": (lambda x: jnp.exp(-4 * x) + x ** 2, ()),
    "sinusoidal": (lambda x: -jnp.sin(10 * x), ()),
    "rosenbrock": (rosenbrock, (16,)),
    "himmelblau": (himmelblau, (2,)),
    "matyas": (matyas, (2,)),
}


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_zoom_accepts_a_step_meeting_both_wolfe_conditions(name, seed):
    fun, shape = PROBLEMS[name]
    rng = np.random.default_rng(seed)
    w = np.asarray(rng.normal(size=shape))
    u = -rng.uniform(size=shape) * np.asarray(nj.grad(fun)(w))    # a preconditioned descent
    opt = optim.scale_by_zoom_linesearch(max_linesearch_steps=30)
    new_w, state = _search(opt, fun, w, u)
    assert _wolfe(fun, w, u, new_w) == (True, True)
    assert float(state.info.decrease_error) == 0 and float(state.info.curvature_error) == 0
    # The stored value and gradient are those at the new params.
    v, g = nj.value_and_grad(fun)(new_w)
    np.testing.assert_allclose(state.value, v, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(state.grad, g, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(new_w, w + state.learning_rate * u, rtol=1e-15, atol=1e-15)


def _verbose(opt, fun, w, u):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        _, state = _search(opt, fun, w, u, guess=1.0)
    return state, out.getvalue()


def test_zoom_not_a_descent_direction():
    # optax's test_failure_descent_direction: no step (or a negligible one), and it says why.
    opt = optim.scale_by_zoom_linesearch(max_linesearch_steps=18, curv_rtol=0.5, verbose=True)
    state, out = _verbose(opt, lambda w: jnp.dot(w, w), np.array([60.0, 0.0]),
                          np.array([1.0, 0.0]))
    assert float(state.learning_rate) < 1e-5
    assert optim_lbfgs._NOT_A_DESCENT_DIRECTION in out
    assert optim_lbfgs._NO_STEPSIZE_FOUND in out


def test_zoom_capped_by_max_learning_rate():
    # optax's test_failure_too_small_max_stepsize: the good steps start at 30, the cap is 10.
    opt = optim.scale_by_zoom_linesearch(max_linesearch_steps=10, curv_rtol=0.5, verbose=True,
                                         max_learning_rate=10.0)
    state, out = _verbose(opt, lambda w: jnp.dot(w, w), np.array([-60.0, 0.0]),
                          np.array([1.0, 0.0]))
    assert float(state.learning_rate) == 10.0
    assert optim_lbfgs._INTERVAL_NOT_FOUND in out
    assert optim_lbfgs._CURVATURE_NOT_SATISFIED in out


def test_zoom_too_few_steps_then_enough():
    # optax's test_failure_not_enough_iter: t = 30 would be tried at the 6th step.
    f, w, u = (lambda x: jnp.dot(x, x)), np.array([-60.0, 0.0]), np.array([1.0, 0.0])
    opt = optim.scale_by_zoom_linesearch(max_linesearch_steps=5, curv_rtol=0.5, verbose=True)
    state, out = _verbose(opt, f, w, u)
    assert float(state.learning_rate) == 16.0
    assert float(state.info.curvature_error) > 0
    assert optim_lbfgs._NOT_A_DESCENT_DIRECTION not in out
    assert int(state.info.num_linesearch_steps) == 5
    new_w, state = _search(optim.scale_by_zoom_linesearch(max_linesearch_steps=30,
                                                          curv_rtol=0.5), f, w, u, guess=1.0)
    assert float(state.learning_rate) >= 30.0
    assert _wolfe(f, w, u, new_w, c2=0.5) == (True, True)


def test_zoom_flat_function_stops_on_a_short_interval():
    # optax's test_failure_flat_fun, in float32 as optax's tests run: the values differ by
    # less than float32 can tell, so the search narrows the interval down to nothing.
    f = lambda x: jnp.exp(-1 / x ** 2)    # noqa: E731
    w = np.asarray(-0.2, np.float32)
    opt = optim.scale_by_zoom_linesearch(max_linesearch_steps=30, verbose=True)
    state, out = _verbose(opt, f, w, -nj.grad(f)(w))
    assert optim_lbfgs._INTERVAL_TOO_SMALL in out
    assert state.learning_rate.dtype == np.float32 and float(state.learning_rate) > 0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")     # log of a negative number
def test_zoom_steps_back_from_nan_values():
    # optax's test_failure_inf_value; with jax_enable_x64, optax stops at the same step
    # (0.5, where log hits -inf) after 19 evaluations, and prints the same diagnosis.
    opt = optim.scale_by_zoom_linesearch(max_linesearch_steps=30, verbose=True)
    state, out = _verbose(opt, jnp.log, np.asarray(1.0), np.asarray(-2.0))
    assert float(state.learning_rate) == 0.5
    assert int(state.info.num_linesearch_steps) == 19
    assert optim_lbfgs._INTERVAL_TOO_SMALL + " Interval length: 3.814697265625e-06." in out
    assert optim_lbfgs._CURVATURE_NOT_SATISFIED in out


def test_zoom_high_below_low():
    # optax's test_high_smaller_than_low (jax issue 16236): the first step overshoots.
    _, state = _search(optim.scale_by_zoom_linesearch(max_linesearch_steps=20),
                       lambda x: x ** 2, np.asarray(-1.0), np.asarray(1.95))
    assert float(state.info.decrease_error) == 0 and float(state.info.curvature_error) == 0


def test_zoom_optax_docstring_numbers():
    # optax's example: sgd then the zoom search on l2_loss(x.dot(params), y), five data
    # points; optax prints 2.56E-13, 2.84E-14 then zeros (float32).
    fn = lambda params, x, y: optim.l2_loss(jnp.dot(x, params), y)    # noqa: E731
    solver = optim.chain(optim.sgd(learning_rate=1.0),
                         optim.scale_by_zoom_linesearch(max_linesearch_steps=15))
    params, x, y = np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0]), 0.0
    state = solver.init(params)
    assert f"{float(fn(params, x, y)):.2E}" == "5.00E+01"
    values = []
    for _ in range(5):
        value, grad = nj.value_and_grad(fn)(params, x, y)
        updates, state = solver.update(grad, state, params, value=value, grad=grad,
                                       value_fn=fn, x=x, y=y)
        params = optim.apply_updates(params, updates)
        values.append(float(fn(params, x, y)))
    assert max(values) < 1e-12


def test_zoom_state_starts_at_inf_and_jitted_update_fills_it():
    fun = lambda x: jnp.sum(x ** 2)    # noqa: E731
    params = np.zeros(2)
    opt = optim.scale_by_zoom_linesearch(max_linesearch_steps=5)
    state = opt.init(params)
    assert np.isinf(state.value)
    update = nj.jit(lambda u, s, p, v, g: opt.update(u, s, p, value=v, grad=g, value_fn=fun))
    _, state = update(-nj.grad(fun)(params), state, params, fun(params), nj.grad(fun)(params))
    assert np.isfinite(state.value)


# ----- Backtracking line search ---------------------------------------------------------------

@pytest.mark.parametrize("increase_factor", [1.0, 1.5, math.inf])
@pytest.mark.parametrize("slope_rtol, atol, rtol", [(1e-4, 0.0, 0.0), (0.0, 1e-4, 1e-4)])
@pytest.mark.parametrize("name", ["rosenbrock", "himmelblau", "matyas"])
def test_backtracking_sufficient_decrease(name, increase_factor, slope_rtol, atol, rtol):
    fun, shape = PROBLEMS[name]
    w = np.random.default_rng(0).normal(size=shape)
    opt = optim.chain(optim.sgd(1.0), optim.scale_by_backtracking_linesearch(
        50, slope_rtol=slope_rtol, increase_factor=increase_factor, atol=atol, rtol=rtol))
    value, grad = nj.value_and_grad(fun)(w)
    updates, state = opt.update(grad, opt.init(w), w, value=value, grad=grad, value_fn=fun)
    new_w = optim.apply_updates(w, updates)
    t = float(state[-1].learning_rate)
    slope = -float(np.vdot(grad, grad))
    assert float(fun(new_w)) <= (1 + rtol) * float(value) + slope_rtol * t * slope + atol
    assert t > 0 and float(state[-1].value) == float(fun(new_w))


def test_backtracking_decreases_the_value_every_step():
    opt = optim.chain(optim.sgd(learning_rate=1.0),
                      optim.scale_by_backtracking_linesearch(max_backtracking_steps=30))
    x, state = np.zeros(3), opt.init(np.zeros(3))
    update = nj.jit(lambda g, s, p, v: opt.update(g, s, p, value=v, grad=g,
                                                  value_fn=rosenbrock))
    values = [float(rosenbrock(x))]
    for _ in range(20):
        value, grad = nj.value_and_grad(rosenbrock)(x)
        updates, state = update(grad, state, x, value)
        x = optim.apply_updates(x, updates)
        values.append(float(rosenbrock(x)))
    assert all(b < a for a, b in itertools.pairwise(values))
    assert values[-1] < 0.7 * values[0]


def test_backtracking_tames_a_large_learning_rate():
    # optax's test_gradient_descent_with_linesearch: sgd(10) would diverge alone.
    target = np.array([1.0, -1.0, 1.0])
    fn = lambda p: jnp.sum((p - target) ** 2)    # noqa: E731
    opt = optim.chain(optim.sgd(learning_rate=10.0),
                      optim.scale_by_backtracking_linesearch(max_backtracking_steps=15))
    update = nj.jit(lambda g, s, p, v: opt.update(g, s, p, value=v, grad=g, value_fn=fn))
    params = np.array([-1.0, 10.0, 1.0])
    state = opt.init(params)
    for _ in range(40):
        value, grad = nj.value_and_grad(fn)(params)
        updates, state = update(grad, state, params, value)
        params = optim.apply_updates(params, updates)
    np.testing.assert_allclose(params, target, atol=1e-2)


def test_backtracking_passes_data_to_value_fn():
    # optax's test_armijo_sgd: extra keyword arguments reach value_fn.
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(2, 16, 2))
    target = rng.normal(size=2)
    ys = xs @ target + 1e-3 * rng.normal(size=(2, 16))
    fn = lambda params, x, y: jnp.sum((jnp.dot(x, params) - y) ** 2)    # noqa: E731
    opt = optim.chain(optim.sgd(learning_rate=1.0),
                      optim.scale_by_backtracking_linesearch(max_backtracking_steps=15))
    params, state = np.zeros(2), opt.init(np.zeros(2))
    for k in range(10):
        x, y = xs[k % 2], ys[k % 2]
        value, grad = nj.value_and_grad(fn)(params, x, y)
        updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=fn,
                                    x=x, y=y)
        params = optim.apply_updates(params, updates)
    np.testing.assert_allclose(params, target, atol=5e-2, rtol=5e-2)


def test_backtracking_store_grad_eager_matches_jit():
    opt = optim.chain(optim.sgd(learning_rate=1.0), optim.scale_by_backtracking_linesearch(
        max_backtracking_steps=15, store_grad=True))
    eager, jitted = _stepper(opt, rosenbrock, jit=False), _stepper(opt, rosenbrock)
    p1 = p2 = np.array([-1.2, 1.0])
    s1 = s2 = opt.init(p1)
    for _ in range(4):
        p1, s1 = eager(p1, s1)
        p2, s2 = jitted(p2, s2)
    np.testing.assert_array_equal(p1, p2)
    for a, b in zip(tree_leaves(s1), tree_leaves(s2)):
        np.testing.assert_array_equal(a, b)
    assert jitted.trace_count() == 1
    np.testing.assert_allclose(s1[-1].grad, nj.grad(rosenbrock)(p1), rtol=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")     # log of a negative number
def test_backtracking_takes_no_step_into_nan():
    opt = optim.scale_by_backtracking_linesearch(max_backtracking_steps=2, verbose=True)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        new_w, state = _search(opt, jnp.log, np.asarray(1.0), np.asarray(-100.0))
    assert float(state.learning_rate) == 0.0 and float(new_w) == 1.0
    assert "Using a stepsize of 0" in out.getvalue()


# ----- value_and_grad_from_state --------------------------------------------------------------

def test_value_and_grad_from_state_reuses_the_line_search_eagerly():
    calls = []

    def counted(x):
        calls.append(1)
        return rosenbrock(x)

    opt = optim.lbfgs()
    value_and_grad = optim.value_and_grad_from_state(counted)
    params, state = np.zeros(2), opt.init(np.zeros(2))
    for k in range(5):
        value, grad = value_and_grad(params, state=state)
        assert len(calls) == 1          # the first step only: nothing was stored yet
        if k:
            assert value is state[-1].value and grad is state[-1].grad
        updates, state = opt.update(grad, state, params, value=value, grad=grad,
                                    value_fn=rosenbrock)
        params = optim.apply_updates(params, updates)


def test_value_and_grad_from_state_under_jit_runs_value_fn_once():
    runs = []

    def counted(x):
        nj.debug.callback(lambda v: runs.append(1), x)
        return rosenbrock(x)

    step = _stepper(optim.lbfgs(), counted)     # the line search counts too; so:
    plain = _stepper(optim.lbfgs(), rosenbrock)
    opt = optim.lbfgs()
    vg = nj.jit(lambda p, s: optim.value_and_grad_from_state(counted)(p, state=s))
    params, state = np.zeros(2), opt.init(np.zeros(2))
    vg(params, state)
    assert len(runs) == 1               # stored value inf: evaluated
    for _ in range(3):
        params, state = plain(params, state)
        value, _ = vg(params, state)
        assert len(runs) == 1           # reused, value_fn not run
        assert float(value) == float(state[-1].value)
    p, _ = step(np.zeros(2), opt.init(np.zeros(2)))
    assert len(runs) > 1                # (the counter does count inside the step)
    np.testing.assert_array_equal(p, plain(np.zeros(2), opt.init(np.zeros(2)))[0])


def test_value_and_grad_from_state_errors():
    vg = optim.value_and_grad_from_state(lambda x: jnp.sum(x ** 2))
    params = np.array([1.0, 2.0])
    with pytest.raises(ValueError, match=r"^nanojax.optim.value_and_grad_from_state: no value"):
        vg(params, state=optim.scale_by_adam().init(params))
    with pytest.raises(ValueError, match="store_grad=True"):
        vg(params, state=optim.scale_by_backtracking_linesearch(5).init(params))
    two = optim.chain(optim.scale_by_backtracking_linesearch(15, store_grad=True),
                      optim.scale_by_backtracking_linesearch(15, store_grad=True))
    with pytest.raises(KeyError, match=r"nanojax.optim.value_and_grad_from_state: the state "
                                       "holds 2 values"):
        vg(params, state=two.init(params))
    with pytest.raises(TypeError, match=r"^nanojax.optim.value_and_grad_from_state: value_fn"):
        optim.value_and_grad_from_state(3.0)


# ----- Errors -------------------------------------------------------------------------------

def _update_kwargs():
    fun, params = (lambda x: jnp.sum(x ** 2)), np.ones(2)
    return {"value": fun(params), "grad": nj.grad(fun)(params), "value_fn": fun}


@pytest.mark.parametrize("make, error, pattern", [
    (lambda: optim.scale_by_lbfgs(memory_size=0), ValueError,
     r"^nanojax.optim.scale_by_lbfgs: memory_size must be >= 1, got 0"),
    (lambda: optim.lbfgs(memory_size=2.5), TypeError,
     r"^nanojax.optim.scale_by_lbfgs: memory_size must be an integer"),
    (lambda: optim.lbfgs(linesearch=3), TypeError, r"^nanojax.optim.lbfgs: linesearch must be"),
    (lambda: optim.scale_by_zoom_linesearch(0), ValueError,
     r"^nanojax.optim.scale_by_zoom_linesearch: max_linesearch_steps must be >= 1"),
    (lambda: optim.scale_by_zoom_linesearch(5, initial_guess_strategy="two"), ValueError,
     r"^nanojax.optim.scale_by_zoom_linesearch: initial_guess_strategy must be 'one' or "),
    (lambda: optim.scale_by_zoom_linesearch(5, tol=-1.0), ValueError,
     r"^nanojax.optim.scale_by_zoom_linesearch: tol must be >= 0"),
    (lambda: optim.scale_by_zoom_linesearch(5, max_learning_rate=0.0), ValueError,
     r"^nanojax.optim.scale_by_zoom_linesearch: max_learning_rate must be > 0"),
    (lambda: optim.scale_by_zoom_linesearch(5, curv_rtol="0.9"), TypeError,
     r"^nanojax.optim.scale_by_zoom_linesearch: curv_rtol must be a real number"),
    (lambda: optim.scale_by_backtracking_linesearch(-1), ValueError,
     r"^nanojax.optim.scale_by_backtracking_linesearch: max_backtracking_steps must be >= 0"),
    (lambda: optim.scale_by_backtracking_linesearch(5, decrease_factor=0.0), ValueError,
     r"^nanojax.optim.scale_by_backtracking_linesearch: decrease_factor must be > 0"),
])
def test_bad_settings(make, error, pattern):
    with pytest.raises(error, match=pattern):
        make()


@pytest.mark.parametrize("opt, name", [
    (optim.lbfgs(), "scale_by_zoom_linesearch"),
    (optim.scale_by_zoom_linesearch(5), "scale_by_zoom_linesearch"),
    (optim.scale_by_backtracking_linesearch(5), "scale_by_backtracking_linesearch"),
], ids=["lbfgs", "zoom", "backtracking"])
@pytest.mark.parametrize("drop", ["value", "grad", "value_fn"])
def test_update_without_a_line_search_keyword(opt, name, drop):
    params = np.ones(2)
    kwargs = _update_kwargs()
    del kwargs[drop]
    with pytest.raises(TypeError, match=rf"^nanojax.optim.{name}: update needs the keyword "
                                        rf"arguments value=.*missing {drop}$"):
        opt.update(kwargs.get("grad", params), opt.init(params), params, **kwargs)


def test_update_errors():
    params = np.ones(2)
    zoom = optim.scale_by_zoom_linesearch(5)
    kwargs = _update_kwargs()
    with pytest.raises(TypeError, match=r"^nanojax.optim.scale_by_zoom_linesearch: unexpected "
                                        r"keyword arguments \['unused_arg'\]"):
        zoom.update(-params, zoom.init(params), params, unused_arg=42, **kwargs)
    with pytest.raises(ValueError, match=r"^nanojax.optim.scale_by_zoom_linesearch needs the "
                                         "params"):
        zoom.update(-params, zoom.init(params), **kwargs)
    with pytest.raises(ValueError, match=r"^nanojax.optim.scale_by_lbfgs needs the params"):
        optim.scale_by_lbfgs().update(params, optim.scale_by_lbfgs().init(params))
    with pytest.raises(ValueError, match=r"^nanojax.optim.scale_by_zoom_linesearch: value must "
                                         "be the objective's scalar value, got shape \\(2,\\)"):
        zoom.update(-params, zoom.init(params), params, **{**kwargs, "value": params})
    with pytest.raises(TypeError, match=r"^nanojax.optim.scale_by_zoom_linesearch: value_fn "
                                        "must be the objective"):
        zoom.update(-params, zoom.init(params), params, **{**kwargs, "value_fn": 1.0})
    with pytest.raises(TypeError, match=r"^nanojax.optim.scale_by_lbfgs: params must be real "
                                        "floating point arrays, got a leaf of dtype int64"):
        optim.lbfgs().init(np.arange(3))


def test_names_are_in_optim_and_optax():
    names = ["lbfgs", "scale_by_lbfgs", "ScaleByLBFGSState", "scale_by_zoom_linesearch",
             "ScaleByZoomLinesearchState", "ZoomLinesearchInfo",
             "scale_by_backtracking_linesearch", "ScaleByBacktrackingLinesearchState",
             "value_and_grad_from_state"]
    for name in names:
        assert name in optim.__all__ and getattr(optax, name) is getattr(optim, name)
    state = optim.scale_by_zoom_linesearch(3).init(np.zeros(2))
    assert isinstance(state, optim.ScaleByZoomLinesearchState)
    assert state.info._fields == ("num_linesearch_steps", "decrease_error", "curvature_error")
    assert tree_map(np.shape, optim.scale_by_lbfgs(3).init({"a": np.zeros(2)}))\
        .diff_params_memory == {"a": (3, 2)}


def test_multisteps_accumulates_lbfgs_updates():
    # optax's test_gradient_accumulation: the first three of every four updates are zero.
    fun = lambda x: jnp.sum(x ** 2)    # noqa: E731
    opt = optim.MultiSteps(optim.lbfgs(), every_k_schedule=4)
    params = np.array([1.0, 2.0])
    grads = nj.grad(fun)(params)
    update = nj.jit(lambda g, s, p, v: opt.update(g, s, p, value=v, grad=g, value_fn=fun))
    updates, _ = update(grads, nj.jit(opt.init)(params), params, fun(params))
    np.testing.assert_array_equal(updates, np.zeros(2))
