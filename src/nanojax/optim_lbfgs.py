"""optax's L-BFGS and its line searches, re-exported by ``nanojax.optim``.

``lbfgs()`` is ``chain(scale_by_lbfgs(), scale(-1.0), scale_by_zoom_linesearch(...))``:
the first turns the gradient into L-BFGS's direction, the last picks how far
to go along it by calling the objective again. A line search needs more than
the gradient, so its ``update`` takes optax's keyword arguments ``value``,
``grad`` and ``value_fn`` (``chain`` hands them on); it keeps the value and
gradient where it stopped, and ``value_and_grad_from_state`` hands those back
at the next step instead of evaluating the objective again::

    opt = optim.lbfgs()
    value_and_grad = optim.value_and_grad_from_state(fun)
    state = opt.init(params)
    for _ in range(n):
        value, grad = value_and_grad(params, state=state)
        updates, state = opt.update(grad, state, params, value=value, grad=grad,
                                    value_fn=fun)
        params = optim.apply_updates(params, updates)

The searches are ``lax.while_loop``-s whose bodies are straight-line code
(``jnp.where`` picks between the phases), so a whole step runs the same
eagerly and under ``jit``.

Examples:
    >>> import nanojax.numpy as jnp
    >>> from nanojax import optim
    >>> f = lambda x: jnp.sum((x - 1.0) ** 2)
    >>> opt = optim.lbfgs()
    >>> params = jnp.array([3.0, -2.0])
    >>> state = opt.init(params)
    >>> value_and_grad = optim.value_and_grad_from_state(f)
    >>> for _ in range(2):
    ...     value, grad = value_and_grad(params, state=state)
    ...     updates, state = opt.update(grad, state, params, value=value, grad=grad,
    ...                                 value_fn=f)
    ...     params = optim.apply_updates(params, updates)
    >>> print(params, f(params))
    [1. 1.] 0.0
"""

from __future__ import annotations

import functools
import inspect
import numbers
import operator
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

import nanojax.numpy as jnp
from nanojax import debug, lax, optim_tree
from nanojax.autodiff import value_and_grad
from nanojax.core import Tracer
from nanojax.optim import (GradientTransformation, GradientTransformationExtraArgs, Params,
                           ScalarOrSchedule, Updates, chain, identity, scale,
                           scale_by_learning_rate)
from nanojax.tree_util import tree_leaves, tree_map

__all__ = ["ScaleByLBFGSState", "scale_by_lbfgs", "lbfgs", "ZoomLinesearchInfo",
           "ScaleByZoomLinesearchState", "scale_by_zoom_linesearch",
           "BacktrackingLinesearchInfo", "ScaleByBacktrackingLinesearchState",
           "scale_by_backtracking_linesearch", "value_and_grad_from_state"]

_I32 = np.dtype(np.int32)


# ----- Small pytree arithmetic (optax.tree's, for what these transforms need) ----------------

_vdot = optim_tree.vdot            # the inner product of two pytrees, all leaves together
_add_scale = optim_tree.add_scale  # a + s * b, leaf by leaf


def _where(pred: Any, on_true: Any, on_false: Any) -> Any:
    """``jnp.where(pred, ., .)`` over matching pytrees, keeping ``on_false``'s dtypes."""
    return tree_map(lambda t, f: jnp.astype(jnp.where(pred, t, f), jnp.result_type(f)),
                    on_true, on_false)


def _cast_like(tree: Any, like: Any) -> Any:
    """``tree`` with each leaf in the dtype of ``like``'s matching leaf, so a state that
    goes through ``update`` keeps its types (``lax.cond`` and ``jit`` rely on it)."""
    return tree_map(lambda x, y: jnp.astype(x, jnp.result_type(y)), tree, like)


def _increment(count: Any) -> Any:
    """``count + 1``, stopping at the int32 maximum rather than wrapping around."""
    return jnp.astype(jnp.where(count < np.iinfo(np.int32).max, count + 1, count), _I32)


def _safe_div(num: Any, den: Any) -> Any:
    """``num / den`` where ``den != 0``, else 0 (and no divide-by-zero warning)."""
    nonzero = den != 0
    return jnp.where(nonzero, num / jnp.where(nonzero, den, 1.0), 0.0)


def _real_dtype(fn: str, params: Any) -> np.dtype:
    """The floating dtype of ``params``' first leaf: the dtype values and step sizes take."""
    leaves = tree_leaves(params)
    if not leaves:
        raise ValueError(f"nanojax.optim.{fn}: params must have at least one array leaf, "
                         f"got {params!r:.60}")
    for leaf in leaves:
        dtype = jnp.result_type(leaf)
        if dtype.kind != "f":
            raise TypeError(f"nanojax.optim.{fn}: params must be real floating point arrays, "
                            f"got a leaf of dtype {dtype}; convert it with "
                            "jnp.asarray(x, float)")
    return jnp.result_type(leaves[0])


def _check_int(fn: str, name: str, value: Any, least: int) -> None:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"nanojax.optim.{fn}: {name} must be an integer, got "
                        f"{type(value).__name__} ({value!r:.40})")
    if value < least:
        raise ValueError(f"nanojax.optim.{fn}: {name} must be >= {least}, got {value}")


def _check_real(fn: str, name: str, value: Any, *, positive: bool = False) -> None:
    """A real number (a 0-d array or a traced scalar too), >= 0 (or > 0), else an error."""
    if isinstance(value, Tracer):
        return
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"nanojax.optim.{fn}: {name} must be a real number, got "
                        f"{type(value).__name__} ({value!r:.40})")
    number = float(value)
    if not (number > 0 if positive else number >= 0):
        raise ValueError(f"nanojax.optim.{fn}: {name} must be {'> 0' if positive else '>= 0'}"
                         f", got {value}")


def _check_params(fn: str, params: Any) -> None:
    if params is None:
        raise ValueError(f"nanojax.optim.{fn} needs the params: call "
                         "update(updates, state, params, ...)")


# ----- L-BFGS's direction -----------------------------------------------------------------

class ScaleByLBFGSState(NamedTuple):
    """State of ``scale_by_lbfgs``: the last params and updates, and the last
    ``memory_size`` differences of each (stacked on a leading axis, used as a ring)."""

    count: Any                   # int32: how many updates so far
    params: Params               # the params of the last update
    updates: Updates             # the updates (gradients) of the last update
    diff_params_memory: Any      # each leaf (memory_size, *shape): params differences
    diff_updates_memory: Any     # each leaf (memory_size, *shape): updates differences
    weights_memory: Any          # (memory_size,): 1 / <diff_updates, diff_params>


def _precondition(updates: Updates, dws: Any, dus: Any, rhos: Any, gamma: Any,
                  oldest: Any) -> Updates:
    """``P @ updates`` for L-BFGS's inverse-Hessian estimate ``P``, by the two-loop recursion
    (Nocedal and Wright, Algorithm 7.4) over the ring ``dws, dus, rhos`` whose oldest
    entry is at ``oldest``; ``gamma * I`` is the estimate before the memory is applied."""
    memory_size = rhos.shape[0]
    order = (oldest + jnp.arange(memory_size, dtype=_I32)) % memory_size

    def entry(i):
        return tree_map(lambda m: lax.dynamic_index_in_dim(m, i, keepdims=False),
                        (dws, dus, rhos))

    def newest_first(vec, i):
        dw, du, rho = entry(i)
        alpha = rho * _vdot(dw, vec)
        return _cast_like(_add_scale(vec, -alpha, du), vec), alpha

    vec, alphas = lax.scan(newest_first, updates, order, reverse=True)
    vec = tree_map(lambda v: jnp.astype(gamma * v, jnp.result_type(v)), vec)

    def oldest_first(vec, i_alpha):
        i, alpha = i_alpha
        dw, du, rho = entry(i)
        beta = rho * _vdot(du, vec)
        return _cast_like(_add_scale(vec, alpha - beta, dw), vec), None

    vec, _ = lax.scan(oldest_first, vec, (order, alphas))
    return vec


def scale_by_lbfgs(memory_size: int = 10, scale_init_precond: bool = True
                   ) -> GradientTransformation:
    """L-BFGS's direction: the updates times an estimate of the inverse Hessian.

    The estimate is built from the last ``memory_size`` differences of params
    and of updates (gradients), each pair a rank-two correction of ``gamma * I``.
    With ``scale_init_precond`` (optax's default), ``gamma`` is
    ``<dw, du> / <du, du>`` of the newest pair, and on the first update
    ``min(1, 1 / |updates|)``, so the first step is at most 1 long; without it
    ``gamma = 1``. The memory is updated before the direction is computed, so
    when chained with a line search, the pair of a step enters once the step
    has been taken. Needs ``params`` in ``update``.

    Raises:
        ValueError: if ``memory_size`` is below 1.

    Examples:
        >>> import numpy as np
        >>> t = scale_by_lbfgs()
        >>> params = np.array([1.0, 2.0])
        >>> u, state = t.update(np.array([3.0, 4.0]), t.init(params), params)
        >>> print(u, int(state.count))     # first step: the gradient over its norm
        [0.6 0.8] 1
    """
    _check_int("scale_by_lbfgs", "memory_size", memory_size, 1)

    def init_fn(params):
        _real_dtype("scale_by_lbfgs", params)
        zeros = tree_map(jnp.zeros_like, params)
        stacked = tree_map(lambda x: jnp.zeros((memory_size, *jnp.shape(x)),
                                               jnp.result_type(x)), params)
        return ScaleByLBFGSState(np.zeros((), _I32), zeros, zeros, stacked, stacked,
                                 jnp.zeros(memory_size))

    def update_fn(updates, state, params=None):
        _check_params("scale_by_lbfgs", params)
        oldest = state.count % memory_size
        newest = (state.count - 1) % memory_size
        started = state.count > 0
        # The pair (params change, updates change) of the step just taken; there is
        # none before the first update, so that slot stays zero (weight 0: no effect).
        dw = _where(started, tree_map(operator.sub, params, state.params),
                    tree_map(jnp.zeros_like, state.params))
        du = _where(started, tree_map(operator.sub, updates, state.updates),
                    tree_map(jnp.zeros_like, state.updates))
        curvature = _vdot(du, dw)
        weight = _safe_div(1.0, curvature)
        def remember(memory, d):
            return tree_map(lambda m, x: lax.dynamic_update_index_in_dim(
                m, jnp.astype(x, jnp.result_type(m)), newest, 0), memory, d)
        dws = remember(state.diff_params_memory, dw)
        dus = remember(state.diff_updates_memory, du)
        rhos = remember(state.weights_memory, weight)
        if scale_init_precond:
            du_sq = _vdot(du, du)
            gamma = jnp.where(du_sq > 0, _safe_div(curvature, du_sq), 1.0)
            # 1 / max(|g|, 1) is optax's min(1, 1 / |g|) without dividing by a zero norm.
            held = tree_map(jnp.stop_gradient, updates)
            first = 1.0 / jnp.maximum(jnp.sqrt(_vdot(held, held)), 1.0)
            gamma = jnp.where(started, gamma, first)
        else:
            gamma = 1.0
        direction = _precondition(updates, dws, dus, rhos, gamma, oldest)
        return direction, ScaleByLBFGSState(_increment(state.count), params, updates,
                                             dws, dus, rhos)
    return GradientTransformation(init_fn, update_fn)


# ----- What the line searches share ---------------------------------------------------------

def _split_kwargs(fn: str, value_fn: Callable, extra_args: dict) -> dict:
    """The extra keyword arguments ``value_fn`` takes; any other is a TypeError, as in optax
    (a misspelt data argument would otherwise be dropped without a word)."""
    try:
        parameters = inspect.signature(value_fn).parameters
    except (TypeError, ValueError):      # a builtin without a signature: pass everything
        return extra_args
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return extra_args
    unused = sorted(k for k in extra_args if k not in parameters)
    if unused:
        raise TypeError(f"nanojax.optim.{fn}: unexpected keyword arguments {unused} passed to "
                        "update, which hands the extra ones to value_fn, but value_fn does "
                        "not take them")
    return extra_args


def _line_search_args(fn: str, value: Any, grad: Any, value_fn: Any) -> None:
    missing = [name for name, v in (("value", value), ("grad", grad), ("value_fn", value_fn))
               if v is None]
    if missing:
        raise TypeError(f"nanojax.optim.{fn}: update needs the keyword arguments value= (the "
                        "objective at params), grad= (its gradient) and value_fn= (the "
                        f"objective); missing {', '.join(missing)}")
    if not callable(value_fn):
        raise TypeError(f"nanojax.optim.{fn}: value_fn must be the objective (a function of "
                        f"the params), got {type(value_fn).__name__}")
    if jnp.ndim(value) != 0:
        raise ValueError(f"nanojax.optim.{fn}: value must be the objective's scalar value, "
                         f"got shape {jnp.shape(value)}")


def _violation(excess: Any) -> Any:
    """How much a condition ``excess <= 0`` is missed by: 0 when it holds, +inf when
    ``excess`` is NaN (so a step into NaNs is never taken)."""
    error = jnp.maximum(excess, 0.0)
    return jnp.where(jnp.isnan(error), jnp.inf, error)


# ----- Zoom line search (strong Wolfe conditions) -------------------------------------------

_INTERVAL_NOT_FOUND = ("No interval satisfying curvature condition. Consider increasing "
                       "maximal possible stepsize of the linesearch.")
_INTERVAL_TOO_SMALL = "Length of searched interval has been reduced below threshold."
_CURVATURE_NOT_SATISFIED = ("Returning stepsize with sufficient decrease but curvature "
                            "condition not satisfied.")
_NO_STEPSIZE_FOUND = "Linesearch failed, no stepsize satisfying sufficient decrease found."
_NOT_A_DESCENT_DIRECTION = ("The linesearch failed because the provided direction is not a "
                            "descent direction. ")


class ZoomLinesearchInfo(NamedTuple):
    """How the last zoom line search went: its number of steps, and by how much the
    accepted step misses sufficient decrease and small curvature (0: it does not)."""

    num_linesearch_steps: Any    # int32
    decrease_error: Any
    curvature_error: Any


class ScaleByZoomLinesearchState(NamedTuple):
    """State of ``scale_by_zoom_linesearch``: the step size it chose, and the value and
    gradient at the point it stepped to (``value_and_grad_from_state`` reuses them)."""

    learning_rate: Any
    value: Any
    grad: Updates
    info: ZoomLinesearchInfo


class _Zoom(NamedTuple):
    """The zoom search's loop carry. ``low`` and ``high`` bracket a good step size, named
    for their values (``value_low <= value_high``), not for which one is smaller."""

    count: Any
    stepsize: Any                # the step size tried last, and there:
    value: Any
    grad: Any
    slope: Any                   # d/dt f(params + t * updates)
    decrease_error: Any
    curvature_error: Any
    interval_found: Any          # False: growing the step; True: zooming into [low, high]
    done: Any
    failed: Any
    low: Any
    value_low: Any
    slope_low: Any
    high: Any
    value_high: Any
    slope_high: Any
    cubic_ref: Any               # a third point for the cubic interpolation
    value_cubic_ref: Any
    safe_stepsize: Any           # the best step with sufficient decrease seen (0: none)
    safe_value: Any
    safe_grad: Any


def _finite(*xs: Any) -> Any:
    return functools.reduce(operator.and_, [jnp.isfinite(x) for x in xs])


def _cubic_min(a, fa, fpa, b, fb, c, fc):
    """The critical point of the cubic through ``(a, fa)``, ``(b, fb)``, ``(c, fc)`` with
    slope ``fpa`` at ``a``, and whether there is one (as scipy's line search, whose
    interpolation this is; degenerate inputs give False, not NaN and warnings)."""
    ok = _finite(a, fa, fpa, b, fb, c, fc)
    a, fa, fpa, b, fb, c, fc = (jnp.where(ok, x, 0.0) for x in (a, fa, fpa, b, fb, c, fc))
    db, dc = b - a, c - a
    denom = (db * dc) ** 2 * (db - dc)
    rb, rc = fb - fa - fpa * db, fc - fa - fpa * dc
    big_a = _safe_div(dc ** 2 * rb - db ** 2 * rc, denom)
    big_b = _safe_div(-dc ** 3 * rb + db ** 3 * rc, denom)
    radical = big_b * big_b - 3.0 * big_a * fpa
    ok = ok & (denom != 0) & (big_a != 0) & (radical >= 0)
    root = jnp.sqrt(jnp.where(ok, radical, 0.0))
    return a + _safe_div(-big_b + root, 3.0 * big_a), ok


def _quad_min(a, fa, fpa, b, fb):
    """The critical point of the parabola through ``(a, fa)``, ``(b, fb)`` with slope
    ``fpa`` at ``a``, and whether there is one."""
    ok = _finite(a, fa, fpa, b, fb)
    a, fa, fpa, b, fb = (jnp.where(ok, x, 0.0) for x in (a, fa, fpa, b, fb))
    db = b - a
    curv = _safe_div(fb - fa - fpa * db, db * db)
    ok = ok & (db != 0) & (curv != 0)
    return a - _safe_div(fpa, 2.0 * curv), ok


def scale_by_zoom_linesearch(
        max_linesearch_steps: int, max_learning_rate: float | None = None, tol: float = 0.0,
        increase_factor: float = 2.0, slope_rtol: float = 1e-4, curv_rtol: float = 0.9,
        approx_dec_rtol: float | None = 1e-6, stepsize_precision: float = 1e-5,
        initial_guess_strategy: str = "keep", verbose: bool = False
) -> GradientTransformationExtraArgs:
    """Scale the updates by a step size ``t`` meeting the strong Wolfe conditions.

    With ``w`` the params, ``u`` the updates and ``f = value_fn``, ``t`` makes
    ``f(w + t u) <= f(w) + slope_rtol * t <grad f(w), u> + tol`` (sufficient
    decrease) and ``|<grad f(w + t u), u>| <= curv_rtol * |<grad f(w), u>| + tol``
    (small curvature). Near a minimum, where values differ below rounding,
    Hager and Zhang's approximate decrease ``<grad f(w + t u), u> <= (2 slope_rtol
    - 1) <grad f(w), u>`` is accepted instead once ``f(w + t u) <= f(w) +
    approx_dec_rtol * |f(w)|`` (``approx_dec_rtol=None``: never).

    The search (Nocedal and Wright, Algorithms 3.5 and 3.6) first grows the
    step by ``increase_factor`` from a guess (1 for ``initial_guess_strategy=
    'one'``, the last step size for ``'keep'``), capped at ``max_learning_rate``,
    until an interval must hold a good step, then narrows that interval by
    cubic, quadratic or midpoint interpolation. After ``max_linesearch_steps``
    evaluations, or once the interval is shorter than ``stepsize_precision``
    with a sufficient-decrease step at hand, it takes the best step with
    sufficient decrease it has seen (or, if none, the last one tried; none at
    all if that one's value was infinite or NaN). ``verbose=True`` prints why,
    when it did not meet both conditions.

    ``update(updates, state, params, *, value, grad, value_fn, **extra_args)``:
    ``value`` and ``grad`` are ``value_fn`` and its gradient at ``params``;
    ``extra_args`` go to ``value_fn`` as keyword arguments (data, say). The
    state keeps the value and gradient at the new params, for
    ``value_and_grad_from_state``.

    Raises:
        ValueError: for a bad ``initial_guess_strategy`` or a negative tolerance.

    Examples:
        >>> import numpy as np
        >>> from nanojax import optim
        >>> f = lambda x: np.sum(x ** 2)
        >>> params = np.array([1.0, 2.0, 3.0])
        >>> t = optim.scale_by_zoom_linesearch(max_linesearch_steps=15)
        >>> u, state = t.update(-2 * params, t.init(params), params, value=f(params),
        ...                     grad=2 * params, value_fn=f)
        >>> print(state.learning_rate, optim.apply_updates(params, u))   # exact: t = 1/2
        0.5 [0. 0. 0.]
    """
    fn = "scale_by_zoom_linesearch"
    _check_int(fn, "max_linesearch_steps", max_linesearch_steps, 1)
    if max_learning_rate is not None:
        _check_real(fn, "max_learning_rate", max_learning_rate, positive=True)
    for name, v in (("tol", tol), ("slope_rtol", slope_rtol), ("curv_rtol", curv_rtol),
                    ("stepsize_precision", stepsize_precision)):
        _check_real(fn, name, v)
    _check_real(fn, "increase_factor", increase_factor, positive=True)
    if approx_dec_rtol is not None:
        _check_real(fn, "approx_dec_rtol", approx_dec_rtol)
    if initial_guess_strategy not in ("one", "keep"):
        raise ValueError(f"nanojax.optim.{fn}: initial_guess_strategy must be 'one' or 'keep', "
                         f"got {initial_guess_strategy!r}")

    def init_fn(params):
        dtype = _real_dtype(fn, params)
        # NumPy scalars, as a jitted update hands them back: no retrace at the second step.
        inf = dtype.type(np.inf)
        return ScaleByZoomLinesearchState(dtype.type(1.0), inf,
                                          tree_map(jnp.zeros_like, params),
                                          ZoomLinesearchInfo(np.zeros((), _I32), inf, inf))

    def update_fn(updates, state, params=None, *, value=None, grad=None, value_fn=None,
                  **extra_args):
        _check_params(fn, params)
        _line_search_args(fn, value, grad, value_fn)
        fn_kwargs = _split_kwargs(fn, value_fn, extra_args)
        dtype = _real_dtype(fn, params)
        grad = _cast_like(grad, state.grad)
        value_init = jnp.astype(value, dtype)
        slope_init = jnp.astype(_vdot(updates, grad), dtype)
        guess = (jnp.astype(1.0, dtype) if initial_guess_strategy == "one"
                 else jnp.astype(state.learning_rate, dtype))
        evaluate = value_and_grad(value_fn)

        def errors(t, v, slope):
            decrease = v - value_init - slope_rtol * t * slope_init
            if approx_dec_rtol is not None:
                # Hager and Zhang's approximate decrease, only once the value is within
                # approx_dec_rtol * |f(w)| of the start: the smaller error counts. Armijo's
                # cannot see differences below sqrt(eps) * |f(w)|; this one can.
                approx = jnp.maximum(slope - (2 * slope_rtol - 1.0) * slope_init,
                                     v - value_init - approx_dec_rtol * jnp.abs(value_init))
                decrease = jnp.minimum(approx, decrease)
            curvature = jnp.abs(slope) - curv_rtol * jnp.abs(slope_init)
            return _violation(decrease), _violation(curvature)

        def step(s: _Zoom) -> _Zoom:
            last = s.count + 1 >= max_linesearch_steps
            # Phase 1 grows the step from the guess.
            grown = jnp.where(s.count == 0, guess, increase_factor * s.stepsize)
            capped = np.False_
            if max_learning_rate is not None:
                capped = grown >= max_learning_rate
                grown = jnp.minimum(grown, max_learning_rate)
            # Phase 2 interpolates inside [low, high]: cubic, else quadratic, else midpoint,
            # each only if well inside the interval.
            lo, hi = jnp.minimum(s.low, s.high), jnp.maximum(s.low, s.high)
            width = hi - lo
            cubic, cubic_ok = _cubic_min(s.low, s.value_low, s.slope_low, s.high,
                                         s.value_high, s.cubic_ref, s.value_cubic_ref)
            quad, quad_ok = _quad_min(s.low, s.value_low, s.slope_low, s.high, s.value_high)
            cubic_ok = cubic_ok & (cubic > lo + 0.2 * width) & (cubic < hi - 0.2 * width)
            quad_ok = quad_ok & (quad > lo + 0.1 * width) & (quad < hi - 0.1 * width)
            middle = jnp.where(cubic_ok, cubic, jnp.where(quad_ok, quad, (s.low + s.high) / 2))
            zooming = s.interval_found
            t = jnp.astype(jnp.where(zooming, middle, grown), dtype)

            v, g = evaluate(_add_scale(params, t, updates), **fn_kwargs)
            v, g = jnp.astype(v, dtype), _cast_like(g, grad)
            slope = jnp.astype(_vdot(g, updates), dtype)
            dec, curv = errors(t, v, slope)
            good = jnp.maximum(dec, curv) <= tol
            sufficient = dec <= tol

            # Phase 1: a step that misses decrease, or does worse than the last one, is
            # past a minimum along the line: the interval is [last, new]. A step going
            # uphill is too: [new, last]. Otherwise grow again.
            new_high = (dec > 0) | ((v >= s.value) & (s.count > 0))
            new_low = (slope >= 0) & ~new_high
            found = new_high | new_low | good
            grow_low = _where(new_low, (t, v, slope), (s.stepsize, s.value, s.slope))
            grow_high = _where(new_low, (s.stepsize, s.value, s.slope), (t, v, slope))
            grow_done = good | (capped & ~found)
            grow_safe = _where(sufficient, (t, v, g), (s.safe_stepsize, s.safe_value,
                                                       s.safe_grad))

            # Phase 2: the new point replaces high if it misses decrease or does no better
            # than low; else it becomes low, and high moves to the old low if the slope
            # says the minimum lies on that side.
            to_high = (dec > 0) | (v >= s.value_low)
            low_to_high = (slope * (s.high - s.low) >= 0) & ~to_high
            old_low, old_high = (s.low, s.value_low, s.slope_low), \
                (s.high, s.value_high, s.slope_high)
            zoom_high = _where(to_high, (t, v, slope), _where(low_to_high, old_low, old_high))
            zoom_low = _where(to_high, old_low, (t, v, slope))
            zoom_ref = _where(to_high | low_to_high, old_high[:2], old_low[:2])
            zoom_safe = _where(sufficient & (v < s.safe_value), (t, v, g),
                               (s.safe_stepsize, s.safe_value, s.safe_grad))
            too_narrow = (width <= stepsize_precision) & (zoom_safe[0] > 0)

            low = _where(zooming, zoom_low, grow_low)
            high = _where(zooming, zoom_high, grow_high)
            ref = _where(zooming, zoom_ref, grow_low[:2])
            safe = _where(zooming, zoom_safe, grow_safe)
            done = jnp.where(zooming, good, grow_done)
            failed = jnp.where(zooming, last | too_narrow, last) & ~done
            # On failure take the best sufficient-decrease step seen; if there is none,
            # the last one tried, unless its value was not finite (then none: t = 0).
            fall_back = failed & ((safe[0] > 0) | jnp.isinf(dec))
            t, v, g = _where(fall_back, safe, (t, v, g))
            return _Zoom(_increment(s.count), t, v, g, slope, dec, curv, zooming | found, done,
                         failed, *low, *high, *ref, *safe)

        zero = jnp.astype(0.0, dtype)
        inf = jnp.astype(np.inf, dtype)
        start = _Zoom(np.zeros((), _I32), zero, value_init, grad, slope_init, inf, inf,
                      np.False_, np.False_, np.False_, zero, value_init, slope_init,
                      zero, value_init, slope_init, zero, value_init,
                      zero, value_init, grad)
        end = lax.while_loop(lambda s: ~(s.done | s.failed), step, start)
        if verbose:
            debug.callback(_zoom_report, end.failed, end.interval_found, end.stepsize,
                           value_init, slope_init, end.decrease_error, end.curvature_error,
                           jnp.abs(end.high - end.low), end.safe_stepsize, stepsize_precision)
        new_updates = tree_map(lambda u: jnp.astype(end.stepsize * u, jnp.result_type(u)),
                               updates)
        info = ZoomLinesearchInfo(end.count, end.decrease_error, end.curvature_error)
        new_state = ScaleByZoomLinesearchState(end.stepsize, end.value, end.grad, info)
        return new_updates, _cast_like(new_state, state)
    return GradientTransformationExtraArgs(init_fn, update_fn)


def _zoom_report(failed: Any, interval_found: Any, stepsize: Any, value_init: Any,
                 slope_init: Any, decrease_error: Any, curvature_error: Any, width: Any,
                 safe_stepsize: Any, precision: Any) -> None:
    """``verbose=True``'s diagnosis of a zoom search that missed a condition, printed."""
    if not failed and (interval_found or max(decrease_error, curvature_error) <= 0):
        return
    lines = ["INFO: nanojax.optim.scale_by_zoom_linesearch:",
             f"Value at current params: {value_init}",
             f"Slope along update direction: {slope_init}",
             f"Stepsize reached: {stepsize}",
             f"Decrease Error: {decrease_error}",
             f"Curvature Error: {curvature_error}"]
    if not failed:              # the cap on the step size stopped the search
        lines += [_INTERVAL_NOT_FOUND, _CURVATURE_NOT_SATISFIED]
    else:
        if width <= precision:
            lines.append(f"{_INTERVAL_TOO_SMALL} Interval length: {width}.")
        if safe_stepsize > 0:
            lines.append(f"{_CURVATURE_NOT_SATISFIED} Stepsize ensuring sufficient decrease: "
                         f"{safe_stepsize}.")
        else:
            lines.append(_NO_STEPSIZE_FOUND)
            if not slope_init < 0:
                lines.append(f"{_NOT_A_DESCENT_DIRECTION}The slope (={slope_init}) at "
                             "stepsize=0 should be negative")
            else:
                lines.append("Consider augmenting the maximal number of linesearch iterations.")
            lines.append("Cannot even make a step without getting Inf or Nan. The linesearch "
                         "won't make a step and the optimizer is stuck."
                         if np.isinf(decrease_error) else
                         "Making an unsafe step, not decreasing enough the objective. "
                         "Convergence of the solver is compromised as it does not reduce "
                         "values.")
    print("\n".join(lines))


# ----- Backtracking line search (sufficient decrease) ---------------------------------------

class BacktrackingLinesearchInfo(NamedTuple):
    """How the last backtracking search went: its number of steps and how much the
    accepted step misses sufficient decrease (0: it does not)."""

    num_linesearch_steps: Any    # int32
    decrease_error: Any


class ScaleByBacktrackingLinesearchState(NamedTuple):
    """State of ``scale_by_backtracking_linesearch``: the step size it chose and the value
    at the new params (and, with ``store_grad=True``, the gradient there; else None)."""

    learning_rate: Any
    value: Any
    grad: Updates | None
    info: BacktrackingLinesearchInfo


def scale_by_backtracking_linesearch(
        max_backtracking_steps: int, slope_rtol: float = 1e-4, decrease_factor: float = 0.8,
        increase_factor: float = 1.5, max_learning_rate: float = 1.0, atol: float = 0.0,
        rtol: float = 0.0, store_grad: bool = False, verbose: bool = False
) -> GradientTransformationExtraArgs:
    """Scale the updates by the first step size that decreases the objective enough (Armijo).

    Starting from ``min(increase_factor * last step size, max_learning_rate)``,
    the step ``t`` is multiplied by ``decrease_factor`` until ``f(w + t u) <=
    (1 + rtol) f(w) + slope_rtol * t <grad f(w), u> + atol``, at most
    ``max_backtracking_steps`` times (with the names of
    ``scale_by_zoom_linesearch``). If the last value tried is infinite or NaN,
    no step is taken (``t = 0``). ``update`` takes the same keyword arguments
    as ``scale_by_zoom_linesearch``'s. With ``store_grad=True`` the state also
    keeps the gradient at the new params, for ``value_and_grad_from_state``
    (it costs one gradient evaluation per update).

    Examples:
        >>> import nanojax as nj
        >>> import nanojax.numpy as jnp
        >>> from nanojax import optim
        >>> fn = lambda params, x, y: optim.l2_loss(jnp.dot(x, params), y)
        >>> solver = optim.chain(optim.sgd(learning_rate=1.0),
        ...                      optim.scale_by_backtracking_linesearch(15))
        >>> params, x, y = jnp.array([1.0, 2.0, 3.0]), jnp.array([3.0, 2.0, 1.0]), 0.0
        >>> state = solver.init(params)
        >>> for _ in range(5):
        ...     value, grad = nj.value_and_grad(fn)(params, x, y)
        ...     updates, state = solver.update(grad, state, params, value=value, grad=grad,
        ...                                    value_fn=fn, x=x, y=y)
        ...     params = optim.apply_updates(params, updates)
        ...     print(f"{fn(params, x, y):.2E}")
        3.86E+01
        2.50E+01
        1.34E+01
        5.87E+00
        5.81E+00
    """
    fn = "scale_by_backtracking_linesearch"
    _check_int(fn, "max_backtracking_steps", max_backtracking_steps, 0)
    for name, v in (("slope_rtol", slope_rtol), ("atol", atol), ("rtol", rtol)):
        _check_real(fn, name, v)
    for name, v in (("decrease_factor", decrease_factor), ("increase_factor", increase_factor),
                    ("max_learning_rate", max_learning_rate)):
        _check_real(fn, name, v, positive=True)

    def init_fn(params):
        dtype = _real_dtype(fn, params)
        inf = dtype.type(np.inf)
        return ScaleByBacktrackingLinesearchState(
            dtype.type(1.0), inf, tree_map(jnp.zeros_like, params) if store_grad else None,
            BacktrackingLinesearchInfo(np.zeros((), _I32), inf))

    def update_fn(updates, state, params=None, *, value=None, grad=None, value_fn=None,
                  **extra_args):
        _check_params(fn, params)
        _line_search_args(fn, value, grad, value_fn)
        fn_kwargs = _split_kwargs(fn, value_fn, extra_args)
        dtype = _real_dtype(fn, params)
        value = jnp.astype(value, dtype)
        slope = jnp.astype(_vdot(updates, grad), dtype)

        def body(carry):
            t, _, _, i = carry
            t = jnp.where(i > 0, decrease_factor * t, t).astype(dtype)
            v = jnp.astype(value_fn(_add_scale(params, t, updates), **fn_kwargs), dtype)
            dec = _violation(v - (1.0 + rtol) * value - t * slope_rtol * slope)
            return t, v, dec, _increment(i)

        t0 = jnp.astype(jnp.minimum(increase_factor * state.learning_rate, max_learning_rate),
                        dtype)
        t, new_value, dec, steps = lax.while_loop(
            lambda c: ~(c[2] <= atol) & (c[3] <= max_backtracking_steps), body,
            (t0, value, jnp.astype(np.inf, dtype), np.zeros((), _I32)))
        new_grad = None
        if store_grad:
            # The gradient where the search stopped, for the next step to reuse.
            new_grad = value_and_grad(value_fn)(_add_scale(params, t, updates), **fn_kwargs)[1]
        if verbose:
            debug.callback(_backtracking_report, dec, atol, t, value, slope)
        t = jnp.where(jnp.isinf(dec), 0.0, t).astype(dtype)
        new_updates = tree_map(lambda u: jnp.astype(t * u, jnp.result_type(u)), updates)
        new_state = ScaleByBacktrackingLinesearchState(
            t, new_value, new_grad, BacktrackingLinesearchInfo(steps, dec))
        return new_updates, _cast_like(new_state, state)
    return GradientTransformationExtraArgs(init_fn, update_fn)


def _backtracking_report(decrease_error: Any, atol: Any, stepsize: Any, value: Any,
                         slope: Any) -> None:
    if decrease_error <= atol:
        return
    lines = ["INFO: nanojax.optim.scale_by_backtracking_linesearch:",
             "Backtracking linesearch failed to find a stepsize ensuring sufficient decrease.",
             f"Value at current params: {value},", f"Slope along update direction: {slope}",
             f"Stepsize: {stepsize}", f"Decrease Error: {decrease_error}"]
    if np.isinf(decrease_error):
        lines.append("Using a stepsize of 0 to avoid infinite or nan values.")
    print("\n".join(lines))


# ----- Reusing what a line search computed --------------------------------------------------

def _find_all(tree: Any, key: str) -> list:
    """Every value stored under NamedTuple field or dict key ``key`` in ``tree``
    (optax.tree.get's search, without descending into what it found)."""
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        items = list(zip(tree._fields, tree))
    elif isinstance(tree, dict):
        items = list(tree.items())
    elif isinstance(tree, (tuple, list)):
        items = [(None, x) for x in tree]
    else:
        return []
    found = []
    for name, child in items:
        found.extend([child] if name == key else _find_all(child, key))
    return found


def value_and_grad_from_state(value_fn: Callable[..., Any]) -> Callable[..., tuple[Any, Any]]:
    """``nanojax.value_and_grad(value_fn)``, but handing back the value and gradient a line
    search stored in the optimizer state, when there is one.

    The function returned is called ``(params, *args, state=state, **kwargs)``.
    The state must hold exactly one ``value`` and one ``grad`` (as the state of
    ``lbfgs``, or of a chain with one line search); while the stored value is
    not finite (after ``init``), ``value_fn`` is evaluated. Under ``jit`` this
    is a ``lax.cond``: ``value_fn`` is traced but runs only when needed.

    Raises:
        ValueError: if the state holds no value or gradient (the backtracking
            search keeps a gradient only with ``store_grad=True``).
        KeyError: if it holds more than one.

    Examples:
        >>> import numpy as np
        >>> from nanojax import optim
        >>> calls = []
        >>> def f(x):
        ...     calls.append(1)
        ...     return np.sum(x ** 2)
        >>> opt = optim.lbfgs()
        >>> params = np.array([1.0, 2.0])
        >>> state = opt.init(params)
        >>> value_and_grad = optim.value_and_grad_from_state(f)
        >>> value, grad = value_and_grad(params, state=state)    # nothing stored yet
        >>> len(calls)
        1
        >>> updates, state = opt.update(grad, state, params, value=value, grad=grad,
        ...                             value_fn=lambda x: np.sum(x ** 2))
        >>> params = optim.apply_updates(params, updates)
        >>> value, grad = value_and_grad(params, state=state)    # the line search's
        >>> len(calls), float(value) == float(np.sum(params ** 2)), round(float(value), 4)
        (1, True, 1.5279)
    """
    if not callable(value_fn):
        raise TypeError("nanojax.optim.value_and_grad_from_state: value_fn must be a function, "
                        f"got {type(value_fn).__name__}")
    fresh = value_and_grad(value_fn)

    def from_state(params, *fn_args, state, **fn_kwargs):
        values, grads = _find_all(state, "value"), _find_all(state, "grad")
        if not values or not grads or any(g is None for g in grads):
            raise ValueError("nanojax.optim.value_and_grad_from_state: no value or gradient "
                             "found in the state; it needs an optimizer that stores them, "
                             "such as lbfgs or a line search (the backtracking one with "
                             "store_grad=True)")
        if len(values) > 1 or len(grads) > 1:
            raise KeyError(f"nanojax.optim.value_and_grad_from_state: the state holds "
                           f"{len(values)} values and {len(grads)} gradients, so which to "
                           "reuse is ambiguous; use one line search")
        value, grad = values[0], grads[0]

        def evaluate(params, fn_args, fn_kwargs):
            v, g = fresh(params, *fn_args, **fn_kwargs)
            return jnp.astype(v, jnp.result_type(value)), _cast_like(g, grad)

        usable = jnp.isfinite(value)
        if not isinstance(usable, Tracer):
            # Known now: skip value_fn altogether, even its tracing.
            return (value, grad) if bool(usable) else evaluate(params, fn_args, fn_kwargs)
        return lax.cond(usable, lambda *_: (value, grad), evaluate, params, fn_args, fn_kwargs)
    return from_state


# ----- The optimizer ------------------------------------------------------------------------

# optax's default line search for lbfgs: the first guess is 1, Newton's step.
_LBFGS_LINESEARCH = scale_by_zoom_linesearch(max_linesearch_steps=20,
                                             initial_guess_strategy="one")


def lbfgs(learning_rate: ScalarOrSchedule | None = None, memory_size: int = 10,
          scale_init_precond: bool = True,
          linesearch: GradientTransformation | None = _LBFGS_LINESEARCH,
          ) -> GradientTransformationExtraArgs:
    """L-BFGS: ``scale_by_lbfgs``'s direction, ``-learning_rate`` (default 1), then a line search.

    The default line search is ``scale_by_zoom_linesearch(max_linesearch_steps=20,
    initial_guess_strategy='one')``; ``linesearch=None`` takes the steps as
    they come (then give a ``learning_rate``). ``update`` takes the line
    search's keyword arguments ``value``, ``grad`` and ``value_fn``; use
    ``value_and_grad_from_state`` to reuse the value and gradient it computed.
    Memory: ``memory_size`` copies of the params, twice.

    Examples:
        >>> import numpy as np
        >>> from nanojax import optim
        >>> f = lambda x: np.sum(x ** 2)
        >>> solver = optim.lbfgs()
        >>> params = np.array([1.0, 2.0, 3.0])
        >>> state = solver.init(params)
        >>> value_and_grad = optim.value_and_grad_from_state(f)
        >>> for _ in range(2):
        ...     value, grad = value_and_grad(params, state=state)
        ...     updates, state = solver.update(grad, state, params, value=value, grad=grad,
        ...                                    value_fn=f)
        ...     params = optim.apply_updates(params, updates)
        ...     print(f"{f(params):.2E}")
        7.52E+00
        2.59E-31
    """
    base = scale(-1.0) if learning_rate is None else scale_by_learning_rate(learning_rate)
    if linesearch is None:
        linesearch = identity()
    elif not (callable(getattr(linesearch, "init", None))
              and callable(getattr(linesearch, "update", None))):
        raise TypeError("nanojax.optim.lbfgs: linesearch must be a GradientTransformation "
                        "(such as scale_by_zoom_linesearch(...)) or None, got "
                        f"{type(linesearch).__name__}")
    return chain(scale_by_lbfgs(memory_size, scale_init_precond), base, linesearch)
