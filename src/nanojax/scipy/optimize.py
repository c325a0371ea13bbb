"""``nanojax.scipy.optimize``: ``minimize`` by BFGS, as ``jax.scipy.optimize``.

The whole search is one ``lax.while_loop`` (and the line search another
inside it), so ``minimize`` runs under ``jit`` and ``vmap`` unchanged.

>>> import numpy as np
>>> import nanojax.numpy as jnp
>>> from nanojax.scipy.optimize import minimize
>>> def rosenbrock(x):
...     return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
>>> res = minimize(rosenbrock, np.array([-1.2, 1.0]), method="BFGS")
>>> bool(res.success), np.round(res.x, 6)
(True, array([1., 1.]))
"""

from __future__ import annotations

from typing import Any, NamedTuple
from collections.abc import Callable

import numpy as np

import nanojax.numpy as jnp
from nanojax import lax
from nanojax.autodiff import value_and_grad

__all__ = ["OptimizeResults", "minimize"]


class OptimizeResults(NamedTuple):
    """What ``minimize`` found, JAX's fields.

    ``status``: 0 converged (the gradient's norm below ``gtol``), 1 the
    iteration budget ran out, 3 the line search found no acceptable step.
    """

    x: Any
    success: Any
    status: Any
    fun: Any
    jac: Any
    hess_inv: Any
    nfev: Any
    njev: Any
    nit: Any


class _LineSearch(NamedTuple):
    i: Any
    zooming: Any
    a: Any               # the next trial step while bracketing
    a_prev: Any
    phi_prev: Any
    dphi_prev: Any
    lo: Any
    phi_lo: Any
    dphi_lo: Any
    hi: Any
    phi_hi: Any
    done: Any
    a_star: Any
    phi_star: Any
    g_star: Any


def _line_search(f_and_g: Callable, x: Any, p: Any, f0: Any, g0: Any, maxiter: int,
                 c1: float = 1e-4, c2: float = 0.9) -> tuple:
    """A step ``a`` along ``p`` meeting the strong Wolfe conditions (Nocedal and Wright,
    algorithms 3.5 and 3.6): first grow ``a`` until it brackets one, then zoom into the
    bracket by safeguarded quadratic interpolation. One loop does both phases, so each
    trip is one evaluation. Returns ``(ok, a, f(x + a p), g(x + a p), evaluations)``."""
    dphi0 = jnp.dot(g0, p)
    zero = jnp.zeros_like(f0)

    def cond(s: _LineSearch) -> Any:
        return jnp.logical_and(s.i < maxiter, jnp.logical_not(s.done))

    def body(s: _LineSearch) -> _LineSearch:
        # The trial step: the bracketing step, or a point inside the bracket.
        width = s.hi - s.lo
        denom = 2.0 * (s.phi_hi - s.phi_lo - s.dphi_lo * width)
        quad = s.lo - s.dphi_lo * width * width / jnp.where(denom == 0, 1.0, denom)
        left = jnp.minimum(s.lo, s.hi) + 0.1 * jnp.abs(width)
        right = jnp.maximum(s.lo, s.hi) - 0.1 * jnp.abs(width)
        inside = jnp.logical_and(jnp.logical_and(quad > left, quad < right), denom > 0)
        zoom_a = jnp.where(inside, quad, 0.5 * (s.lo + s.hi))
        a = jnp.where(s.zooming, zoom_a, s.a)
        phi, g = f_and_g(x + a * p)
        dphi = jnp.dot(g, p)
        armijo_fails = jnp.logical_or(phi > f0 + c1 * a * dphi0, jnp.isnan(phi))
        curvature = jnp.abs(dphi) <= -c2 * dphi0
        # Bracketing (algorithm 3.5).
        to_zoom_prev = jnp.logical_or(armijo_fails,
                                      jnp.logical_and(s.i > 0, phi >= s.phi_prev))
        to_zoom_flip = jnp.logical_and(jnp.logical_not(to_zoom_prev), dphi >= 0)
        b_done = jnp.logical_and(jnp.logical_not(to_zoom_prev), curvature)
        to_zoom_flip = jnp.logical_and(to_zoom_flip, jnp.logical_not(b_done))
        b_lo = jnp.where(to_zoom_prev, s.a_prev, a)
        b_phi_lo = jnp.where(to_zoom_prev, s.phi_prev, phi)
        b_dphi_lo = jnp.where(to_zoom_prev, s.dphi_prev, dphi)
        b_hi = jnp.where(to_zoom_prev, a, s.a_prev)
        b_phi_hi = jnp.where(to_zoom_prev, phi, s.phi_prev)
        b_zoom = jnp.logical_or(to_zoom_prev, to_zoom_flip)
        # Zooming (algorithm 3.6).
        shrink_hi = jnp.logical_or(armijo_fails, phi >= s.phi_lo)
        z_done = jnp.logical_and(jnp.logical_not(shrink_hi), curvature)
        flip = jnp.logical_and(jnp.logical_not(shrink_hi), dphi * (s.hi - s.lo) >= 0)
        z_hi = jnp.where(shrink_hi, a, jnp.where(flip, s.lo, s.hi))
        z_phi_hi = jnp.where(shrink_hi, phi, jnp.where(flip, s.phi_lo, s.phi_hi))
        z_lo = jnp.where(shrink_hi, s.lo, a)
        z_phi_lo = jnp.where(shrink_hi, s.phi_lo, phi)
        z_dphi_lo = jnp.where(shrink_hi, s.dphi_lo, dphi)

        z = s.zooming
        done = jnp.where(z, z_done, b_done)
        return _LineSearch(
            i=s.i + 1, zooming=jnp.logical_or(z, b_zoom), a=2.0 * a, a_prev=a,
            phi_prev=phi, dphi_prev=dphi,
            lo=jnp.where(z, z_lo, b_lo), phi_lo=jnp.where(z, z_phi_lo, b_phi_lo),
            dphi_lo=jnp.where(z, z_dphi_lo, b_dphi_lo),
            hi=jnp.where(z, z_hi, b_hi), phi_hi=jnp.where(z, z_phi_hi, b_phi_hi),
            done=done, a_star=jnp.where(done, a, s.a_star),
            phi_star=jnp.where(done, phi, s.phi_star), g_star=jnp.where(done, g, s.g_star))

    start = _LineSearch(
        i=jnp.asarray(0), zooming=jnp.asarray(False), a=jnp.ones_like(f0), a_prev=zero,
        phi_prev=f0, dphi_prev=dphi0, lo=zero, phi_lo=f0, dphi_lo=dphi0, hi=zero, phi_hi=f0,
        done=jnp.asarray(False), a_star=zero, phi_star=f0, g_star=g0)
    # Not a descent direction: no step can be found (the caller stops).
    start = start._replace(i=jnp.where(dphi0 < 0, 0, maxiter))
    out = lax.while_loop(cond, body, start)
    return out.done, out.a_star, out.phi_star, out.g_star, jnp.where(dphi0 < 0, out.i, 0)


class _BFGS(NamedTuple):
    k: Any
    converged: Any
    failed: Any
    x: Any
    f: Any
    g: Any
    h: Any
    nfev: Any


def _bfgs(f_and_g: Callable, x0: Any, maxiter: int, gtol: float, norm: Any,
          line_search_maxiter: int) -> OptimizeResults:
    n = x0.shape[0]
    f0, g0 = f_and_g(x0)
    eye = jnp.eye(n, dtype=x0.dtype)

    def gnorm(g: Any) -> Any:
        return jnp.linalg.norm(g, ord=norm)

    def cond(s: _BFGS) -> Any:
        return jnp.logical_and(s.k < maxiter,
                               jnp.logical_not(jnp.logical_or(s.converged, s.failed)))

    def body(s: _BFGS) -> _BFGS:
        p = -jnp.dot(s.h, s.g)
        ok, a, f_new, g_new, evals = _line_search(f_and_g, s.x, p, s.f, s.g,
                                                  line_search_maxiter)
        step = a * p
        x_new = s.x + step
        y = g_new - s.g
        ys = jnp.dot(y, step)
        usable = jnp.logical_and(ys != 0, jnp.isfinite(ys))
        rho = 1.0 / jnp.where(usable, ys, 1.0)
        # H <- (I - rho s y^T) H (I - rho y s^T) + rho s s^T, skipped when y.s = 0.
        w = eye - rho * jnp.outer(step, y)
        h_new = jnp.dot(jnp.dot(w, s.h), w.T) + rho * jnp.outer(step, step)
        h_new = jnp.where(usable, h_new, s.h)
        keep = jnp.logical_not(ok)
        return _BFGS(
            k=s.k + 1, converged=jnp.logical_and(ok, gnorm(g_new) < gtol), failed=keep,
            x=jnp.where(keep, s.x, x_new), f=jnp.where(keep, s.f, f_new),
            g=jnp.where(keep, s.g, g_new), h=jnp.where(keep, s.h, h_new),
            nfev=s.nfev + evals)

    start = _BFGS(k=jnp.asarray(0), converged=gnorm(g0) < gtol, failed=jnp.asarray(False),
                  x=x0, f=f0, g=g0, h=eye, nfev=jnp.asarray(1))
    s = lax.while_loop(cond, body, start)
    status = jnp.where(s.converged, 0, jnp.where(s.failed, 3, 1))
    return OptimizeResults(x=s.x, success=jnp.logical_and(s.converged, jnp.logical_not(s.failed)),
                           status=status, fun=s.f, jac=s.g, hess_inv=s.h, nfev=s.nfev,
                           njev=s.nfev, nit=s.k)


def minimize(fun: Callable, x0: Any, args: tuple = (), *, method: str, tol: float | None = None,
             options: dict | None = None) -> OptimizeResults:
    """Minimize ``fun(x, *args)`` over the 1-D array ``x`` from ``x0``.

    ``method`` must be ``"BFGS"`` (JAX's only supported one). ``tol`` sets
    ``gtol``; ``options`` may hold ``maxiter`` (default ``200 * x0.size``),
    ``gtol`` (1e-5), ``norm`` (the gradient norm's order, default inf) and
    ``line_search_maxiter`` (10). Gradients of ``fun`` come from ``grad``.
    """
    name = "nanojax.scipy.optimize.minimize"
    if not callable(fun):
        raise TypeError(f"{name}: fun must be callable, got {type(fun).__name__}")
    if not isinstance(args, tuple):
        raise TypeError(f"{name}: args must be a tuple, got {type(args).__name__}")
    if not isinstance(method, str) or method.lower() != "bfgs":
        raise ValueError(f"{name}: method {method!r} is not supported; use method='BFGS'")
    options = dict(options or {})
    unknown = set(options) - {"maxiter", "gtol", "norm", "line_search_maxiter"}
    if unknown:
        raise TypeError(f"{name}: unknown options {sorted(unknown)}; BFGS takes maxiter, gtol, "
                        "norm and line_search_maxiter")
    x0 = jnp.asarray(x0)
    if x0.ndim != 1:
        raise ValueError(f"{name}: x0 must be one-dimensional, got shape {tuple(x0.shape)}")
    if jnp.result_type(x0).kind != "f":
        x0 = jnp.astype(x0, np.float64)
    maxiter = options.get("maxiter")
    maxiter = 200 * x0.shape[0] if maxiter is None else int(maxiter)
    gtol = options.get("gtol", 1e-5 if tol is None else tol)

    def f_and_g(x: Any) -> tuple:
        value, grad = value_and_grad(lambda x: fun(x, *args))(x)
        return jnp.asarray(value, dtype=x.dtype), grad

    return _bfgs(f_and_g, x0, maxiter, gtol, options.get("norm", np.inf),
                 int(options.get("line_search_maxiter", 10)))


from nanojax.array import export as _export_arrays  # noqa: E402

_export_arrays(globals())   # the public face hands out arrays with JAX's methods
