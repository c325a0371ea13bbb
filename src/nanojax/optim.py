"""Optimizers in optax's shape: pairs of pure functions that compose.

An optimizer is a ``GradientTransformation(init, update)``::

    state = opt.init(params)                              # once
    updates, state = opt.update(grads, state, params)     # every step
    params = apply_updates(params, updates)               # params + updates

All state lives in NamedTuples the caller holds (they print, and they are
pytrees, so a whole training step can be ``jit``-ted); nothing is mutated
and nothing is global. Optimizers are ``chain``-s of small transforms, each
doing one thing to the gradients: ``sgd`` is ``trace`` (momentum) then
``scale_by_learning_rate``; ``adam`` is ``scale_by_adam`` then
``scale_by_learning_rate``. The minus sign of gradient *descent* lives in
``scale_by_learning_rate`` and nowhere else.

A learning rate is a positive number or a schedule: a function of the step
count (0 for the first update) returning the rate for that step.

Examples:
    >>> import nanojax as nj
    >>> loss = lambda w: (w - 3.0) ** 2
    >>> opt = nj.optim.sgd(learning_rate=0.1)
    >>> w = 0.0
    >>> state = opt.init(w)
    >>> for _ in range(3):
    ...     updates, state = opt.update(nj.grad(loss)(w), state)
    ...     w = nj.optim.apply_updates(w, updates)
    >>> print(round(float(w), 3))    # 0.6, then 1.08, then 1.464
    1.464
"""

from __future__ import annotations

import numbers
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from nanojax.api_util import public_dir

import nanojax.numpy as jnp
from nanojax import losses, nn
from nanojax import optim_tree as tree
from nanojax.core import Tracer
from nanojax.tree_util import (tree_broadcast, tree_flatten, tree_leaves, tree_map,
                                tree_structure, tree_unflatten)

__all__ = ["GradientTransformation", "EmptyState", "ScaleByScheduleState", "TraceState",
           "ScaleByAdamState", "scale", "scale_by_schedule", "scale_by_learning_rate", "trace",
           "scale_by_adam", "clip_by_global_norm", "add_decayed_weights", "chain", "sgd",
           "adam", "apply_updates", "global_norm", "constant_schedule", "exponential_decay",
           "piecewise_constant_schedule", "cosine_decay_schedule", "polynomial_schedule"]
__all__ += ["OptState", "Params", "Updates", "Schedule", "ScalarOrSchedule", "ScaleByRmsState",
            "ScaleByLionState", "scale_by_rms", "rmsprop",
            "adamw", "scale_by_lion", "lion", "clip", "set_to_zero", "linear_schedule",
            "join_schedules", "warmup_cosine_decay_schedule", "softmax_cross_entropy",
            "softmax_cross_entropy_with_integer_labels", "sigmoid_binary_cross_entropy",
            "l2_loss", "huber_loss"]

Params = Any         # a pytree of arrays (or Python floats)
Updates = Any        # a pytree with the params' structure
OptState = Any       # a pytree of NamedTuples
Schedule = Callable[[Any], Any]
ScalarOrSchedule = float | Schedule


class GradientTransformation(NamedTuple):
    """``init(params) -> state`` and ``update(grads, state, params=None) -> (updates, state)``.

    Both are pure: the state goes in and a new state comes out, so the same
    optimizer object can drive any number of independent runs.
    """

    init: Callable[[Params], OptState]
    update: Callable[..., tuple[Updates, OptState]]


class GradientTransformationExtraArgs(GradientTransformation):
    """A ``GradientTransformation`` whose ``update`` also takes keyword ``**extra_args``.

    ``chain``, ``masked`` and the other combinators pass extra arguments (such
    as ``value=loss``) only to the transforms of this kind, as optax does.
    """


def with_extra_args_support(tx: GradientTransformation) -> GradientTransformationExtraArgs:
    """``tx`` as a ``GradientTransformationExtraArgs``, dropping extra arguments it does not take.

    Examples:
        >>> t = with_extra_args_support(scale(2.0))
        >>> t.update(1.0, EmptyState(), None, value=3.0)
        (2.0, EmptyState())
    """
    if isinstance(tx, GradientTransformationExtraArgs):
        return tx

    def update_fn(updates, state, params=None, **extra_args):
        return tx.update(updates, state, params)
    return GradientTransformationExtraArgs(tx.init, update_fn)


class EmptyState(NamedTuple):
    """The state of a transform that keeps none."""


class ScaleByScheduleState(NamedTuple):
    count: Any           # int32: how many updates so far


class TraceState(NamedTuple):
    trace: Updates       # the running (momentum) sum of gradients


class ScaleByAdamState(NamedTuple):
    count: Any           # int32: how many updates so far
    mu: Updates          # running mean of gradients (first moment)
    nu: Updates          # running mean of squared gradients (second moment)


def _zero_count() -> np.ndarray:
    return np.zeros((), np.int32)


def _check_same_structure(grads: Any, params: Any, what: str = "grads") -> None:
    g, p = tree_structure(grads), tree_structure(params)
    if g != p:
        raise ValueError(f"nanojax.optim: {what} and params must have the same pytree structure, "
                         f"got {what} {g} and params {p}")


def _number(fn: str, name: str, value: Any) -> Any:
    """A real number (or a traced scalar), or a TypeError naming the setting."""
    if isinstance(value, Tracer) or (isinstance(value, np.ndarray) and value.ndim == 0
                                     and value.dtype.kind in "iuf"):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"nanojax.optim.{fn}: {name} must be a real number, got "
                        f"{type(value).__name__} ({value!r:.40})")
    return value


def _concrete(value: Any) -> bool:
    """Whether ``value`` can be range-checked now (a traced hyperparameter cannot)."""
    return not isinstance(value, Tracer)


def _check_unit(fn: str, name: str, value: Any, closed: bool = True) -> None:
    """``value`` in [0, 1] (or [0, 1) when not ``closed``), or a ValueError naming it."""
    _number(fn, name, value)
    if _concrete(value) and not (0.0 <= value <= 1.0 and (closed or value < 1.0)):
        raise ValueError(f"nanojax.optim.{fn}: {name} must be in [0, 1{']' if closed else ')'}, "
                         f"got {value}")


def _stateless(update_leaf: Callable[[Any], Any]) -> GradientTransformation:
    return GradientTransformation(
        lambda params: EmptyState(),
        lambda updates, state, params=None: (tree_map(update_leaf, updates), state))


# ----- Small transforms ---------------------------------------------------------------

def scale(step_size: float) -> GradientTransformation:
    """Multiply every update by ``step_size``.

    Examples:
        >>> updates, _ = scale(0.5).update({"w": 4.0}, EmptyState())
        >>> updates
        {'w': 2.0}
    """
    _number("scale", "step_size", step_size)
    return _stateless(lambda g: step_size * g)


def scale_by_schedule(step_size_fn: Schedule) -> GradientTransformation:
    """Multiply every update by ``step_size_fn(count)``, counting updates from 0.

    Examples:
        >>> t = scale_by_schedule(lambda count: 1.0 / (count + 1))
        >>> state = t.init(0.0)
        >>> for _ in range(3):
        ...     u, state = t.update(6.0, state)
        ...     print(float(u))
        6.0
        3.0
        2.0
    """
    if not callable(step_size_fn):
        raise TypeError("nanojax.optim.scale_by_schedule: step_size_fn must be a function of "
                        f"the step count, got {type(step_size_fn).__name__}")

    def update_fn(updates, state, params=None):
        step = step_size_fn(state.count)
        return tree_map(lambda g: step * g, updates), ScaleByScheduleState(state.count + 1)
    return GradientTransformation(lambda params: ScaleByScheduleState(_zero_count()), update_fn)


def scale_by_learning_rate(learning_rate: ScalarOrSchedule | None, *,
                           flip_sign: bool = True) -> GradientTransformation:
    """Scale by ``-learning_rate``: the one place where descent's minus sign lives.

    Raises:
        ValueError: if a numeric ``learning_rate`` is not positive.

    Examples:
        >>> updates, _ = scale_by_learning_rate(0.1).update(2.0, EmptyState())
        >>> print(round(updates, 6))
        -0.2
    """
    sign = -1.0 if flip_sign else 1.0
    if learning_rate is None:
        return identity()
    if callable(learning_rate):
        return scale_by_schedule(lambda count: sign * learning_rate(count))
    if isinstance(learning_rate, Tracer) or (isinstance(learning_rate, np.ndarray)
                                             and learning_rate.ndim == 0):
        return scale(sign * learning_rate)     # injected: checked where it was a number
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real):
        raise TypeError("nanojax.optim: learning_rate must be a number or a schedule (a function "
                        f"of the step count), got {type(learning_rate).__name__}")
    if not learning_rate > 0:
        raise ValueError(f"nanojax.optim: learning_rate must be positive, got {learning_rate}")
    return scale(sign * float(learning_rate))


def trace(decay: float, nesterov: bool = False,
          accumulator_dtype: Any = None) -> GradientTransformation:
    """Momentum: keep ``t = g + decay * t`` and pass ``t`` on.

    With ``nesterov=True`` the update looks one step ahead: ``g + decay * t``
    with the new ``t``.

    Examples:
        >>> import numpy as np
        >>> t = trace(0.9)
        >>> state = t.init(np.zeros(2))
        >>> u, state = t.update(np.ones(2), state)
        >>> u, state = t.update(np.ones(2), state)     # 1 + 0.9 * 1
        >>> state
        TraceState(trace=array([1.9, 1.9]))
    """
    _check_unit("trace", "decay (momentum)", decay)

    def update_fn(updates, state, params=None):
        updates, new_trace = _map_leaves(lambda g, t: _trace_leaf(g, t, decay, nesterov), 2,
                                         updates, state.trace)
        return updates, TraceState(new_trace)
    return _mu_in("trace", accumulator_dtype, GradientTransformation(
        lambda params: TraceState(tree_map(jnp.zeros_like, params)), update_fn), "trace")


def scale_by_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
                  eps_root: float = 0.0, mu_dtype: Any = None, *,
                  nesterov: bool = False) -> GradientTransformation:
    """Adam's direction: bias-corrected ``mu / (sqrt(nu) + eps)``.

    ``mu`` and ``nu`` are running means of the gradient and its square; the
    corrections ``1 - b**count`` undo their pull toward the zeros they start at.
    ``eps_root`` is added inside the square root (optax's, for differentiating
    through the optimizer). ``nesterov=True`` is NAdam's look-ahead: the
    direction uses ``b1 * mu_hat(count + 1) + (1 - b1) * g_hat(count)``.

    Examples:
        >>> t = scale_by_adam()
        >>> u, state = t.update(-4.0, t.init(0.0))
        >>> print(round(float(u), 6), int(state.count))    # first step: sign(g)
        -1.0 1
    """
    _check_betas("scale_by_adam", b1, b2, eps)
    if not nesterov:
        def update_fn(updates, state, params=None):
            count = state.count + 1
            updates, mu, nu = _map_leaves(
                lambda g, m, v: _adam_leaf(g, m, v, count, b1, b2, eps, eps_root), 3,
                updates, state.mu, state.nu)
            return updates, ScaleByAdamState(count, mu, nu)
        return _mu_in("scale_by_adam", mu_dtype, GradientTransformation(_init_moments,
                                                                          update_fn))
    return _mu_in("scale_by_adam", mu_dtype, _moment_transform(
        lambda g, m, v: b2 * v + (1 - b2) * (g * g), b1, b2,
        lambda m, v, count: m / (jnp.sqrt(v + eps_root) + eps), nesterov=True))


def _check_betas(fn: str, b1: Any, b2: Any, eps: Any) -> None:
    _number(fn, "eps", eps)
    _check_unit(fn, "b1", b1, closed=False)
    _check_unit(fn, "b2", b2, closed=False)


def _init_moments(params: Params) -> ScaleByAdamState:
    zeros = tree_map(jnp.zeros_like, params)
    return ScaleByAdamState(_zero_count(), zeros, zeros)


def _moment_transform(second: Callable[[Any, Any, Any], Any], b1: Any, b2: Any,
                      direction: Callable[[Any, Any, Any], Any], *, nesterov: bool = False,
                      bias_correct_nu: bool = True, init: Callable[[Params], Any] = _init_moments,
                      ) -> GradientTransformation:
    """The Adam family's shape: ``mu`` a running mean of ``g``, ``nu`` whatever ``second``
    keeps, and the step ``direction(mu_hat, nu_hat, count)``.

    ``second(g, mu, nu) -> new_nu`` gets the new ``mu`` (AdaBelief needs it);
    ``nesterov`` is NAdam's look-ahead on ``mu_hat``.
    """
    def leaf(g, m, v, count):
        m = b1 * m + (1 - b1) * g
        v = second(g, m, v)
        m_hat = m / (1 - b1 ** count)
        if nesterov:
            m_hat = b1 * (m / (1 - b1 ** (count + 1))) + (1 - b1) * (g / (1 - b1 ** count))
        v_hat = v / (1 - b2 ** count) if bias_correct_nu else v
        return direction(m_hat, v_hat, count), m, v

    def update_fn(updates, state, params=None):
        count = state.count + 1
        updates, mu, nu = _map_leaves(lambda g, m, v: leaf(g, m, v, count), 3, updates,
                                      state.mu, state.nu)
        return updates, ScaleByAdamState(count, mu, nu)
    return GradientTransformation(init, update_fn)


# ----- One leaf's arithmetic, shared with nanojax.example_libraries.optimizers ------------

def _trace_leaf(g: Any, t: Any, decay: Any, nesterov: bool) -> tuple[Any, Any]:
    """Momentum: ``(update, new_trace)`` with ``new_trace = g + decay * t``."""
    t = g + decay * t
    return (g + decay * t if nesterov else t), t


def _adam_leaf(g: Any, m: Any, v: Any, count: Any, b1: Any, b2: Any, eps: Any,
               eps_root: Any = 0.0) -> tuple[Any, Any, Any]:
    """Adam's ``(direction, mu, nu)`` for the ``count``-th update (counted from 1)."""
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * (g * g)
    direction = (m / (1 - b1 ** count)) / (jnp.sqrt(v / (1 - b2 ** count) + eps_root) + eps)
    return direction, m, v


def _rms_leaf(g: Any, nu: Any, decay: Any, eps: Any) -> tuple[Any, Any]:
    """RMSProp's ``(g / sqrt(nu + eps), nu)`` with ``nu`` the running mean of ``g**2``."""
    nu = decay * nu + (1 - decay) * (g * g)
    return g / jnp.sqrt(nu + eps), nu


def _map_leaves(fn: Callable[..., tuple], n: int, tree: Any, *rest: Any) -> tuple[Any, ...]:
    """``fn`` on each leaf of ``tree`` (and the matching leaves of ``rest``), whose
    ``n`` results come back as ``n`` trees of ``tree``'s structure."""
    leaves, treedef = tree_flatten(tree)
    columns = [leaves]
    for other in rest:
        other_leaves, other_def = tree_flatten(other)
        if other_def != treedef:
            raise ValueError(f"nanojax.optim: the updates and the optimizer state must have "
                             f"the same pytree structure, got {treedef} and {other_def}")
        columns.append(other_leaves)
    results = [fn(*xs) for xs in zip(*columns)]
    return tuple(tree_unflatten(treedef, [r[k] for r in results]) for k in range(n))


def global_norm(tree: Any) -> Any:
    """The L2 norm of all the leaves of ``tree`` taken together.

    Examples:
        >>> print(global_norm({"a": [3.0], "b": 4.0}))
        5.0
    """
    return jnp.sqrt(sum(jnp.sum(jnp.square(x)) for x in tree_leaves(tree)))


def clip_by_global_norm(max_norm: float) -> GradientTransformation:
    """Shrink the updates, all by one factor, so their global norm is at most ``max_norm``.

    Examples:
        >>> clipped, _ = clip_by_global_norm(1.0).update([3.0, 4.0], EmptyState())
        >>> [round(float(x), 3) for x in clipped]
        [0.6, 0.8]
    """
    # 0 is allowed, as in optax (a schedule under inject_hyperparams may end there):
    # every update becomes 0.
    if _concrete(_number("clip_by_global_norm", "max_norm", max_norm)) and not max_norm >= 0:
        raise ValueError("nanojax.optim.clip_by_global_norm: max_norm must be 0 or more, "
                         f"got {max_norm}")

    def update_fn(updates, state, params=None):
        return _clip_tree(updates, max_norm), state
    return GradientTransformation(lambda params: EmptyState(), update_fn)


def _clip_tree(tree: Any, max_norm: Any) -> Any:
    # max_norm / max(norm, max_norm) is 1 below the limit; the denominator is 0 only
    # when max_norm and the norm both are, and then every update is 0 already.
    limit = jnp.maximum(global_norm(tree), max_norm)
    factor = max_norm / jnp.where(limit > 0, limit, 1.0)
    return tree_map(lambda g: g * factor, tree)


class WeightDecaySchedule(NamedTuple):
    count: Any           # int32: how many updates so far


def add_decayed_weights(weight_decay: ScalarOrSchedule = 0.0,
                        mask: Any = None) -> GradientTransformation:
    """Add ``weight_decay * params`` to the updates (decoupled weight decay).

    ``weight_decay`` is a number or a schedule of the step count. ``mask``, as
    optax's: a pytree of bools with the params' structure (or a function of
    the params returning one); only the leaves marked True decay (the
    transform is then wrapped in ``masked``).

    Examples:
        >>> u, _ = add_decayed_weights(0.1).update(1.0, EmptyState(), params=2.0)
        >>> print(round(u, 6))
        1.2
    """
    scheduled = callable(weight_decay)
    if not scheduled:
        _number("add_decayed_weights", "weight_decay", weight_decay)

    def init_fn(params):
        return WeightDecaySchedule(_zero_count()) if scheduled else EmptyState()

    def update_fn(updates, state, params=None):
        if params is None:
            raise ValueError("nanojax.optim.add_decayed_weights needs params: call "
                             "update(grads, state, params)")
        _check_same_structure(updates, params, "updates")
        new_state = WeightDecaySchedule(state.count + 1) if scheduled else state
        wd = weight_decay(state.count) if callable(weight_decay) else weight_decay
        return tree_map(lambda g, p: g + wd * p, updates, params), new_state
    inner = GradientTransformation(init_fn, update_fn)
    return inner if mask is None else masked(inner, mask)


def chain(*transforms: GradientTransformation) -> GradientTransformationExtraArgs:
    """Apply ``transforms`` in order; the state is the tuple of their states.

    Examples:
        >>> opt = chain(clip_by_global_norm(1.0), scale_by_learning_rate(0.5))
        >>> u, state = opt.update([3.0, 4.0], opt.init([0.0, 0.0]))
        >>> [round(float(x), 3) for x in u], state
        ([-0.3, -0.4], (EmptyState(), EmptyState()))
    """
    for i, t in enumerate(transforms):
        if not (callable(getattr(t, "init", None)) and callable(getattr(t, "update", None))):
            raise TypeError(f"nanojax.optim.chain: transform {i} must be a "
                            "GradientTransformation (with init and update), got "
                            f"{type(t).__name__} ({t!r:.40})")

    wrapped = [with_extra_args_support(t) for t in transforms]

    def init_fn(params):
        return tuple(t.init(params) for t in transforms)

    def update_fn(updates, state, params=None, **extra_args):
        if params is not None:
            _check_same_structure(updates, params)
        if not isinstance(state, tuple) or len(state) != len(transforms):
            raise ValueError(f"nanojax.optim.chain: expected the state from this optimizer's init "
                             f"(a tuple of {len(transforms)} states), got {state!r}")
        new_state = []
        for t, s in zip(wrapped, state):
            updates, s = t.update(updates, s, params, **extra_args)
            new_state.append(s)
        return updates, tuple(new_state)
    return GradientTransformationExtraArgs(init_fn, update_fn)


# ----- The optimizers -------------------------------------------------------------------

def sgd(learning_rate: ScalarOrSchedule, momentum: float | None = None,
        nesterov: bool = False, accumulator_dtype: Any = None) -> GradientTransformation:
    """Stochastic gradient descent, with optional (Nesterov) momentum.

    Plain: ``p -= lr * g``. With momentum ``m``: ``t = g + m * t`` then
    ``p -= lr * t`` (Nesterov: ``p -= lr * (g + m * t)``).

    Examples:
        >>> opt = sgd(0.1, momentum=0.9)
        >>> u, state = opt.update({"w": 1.0}, opt.init({"w": 0.0}))
        >>> u, state = opt.update({"w": 1.0}, state)
        >>> print(round(float(u["w"]), 6))    # -0.1 * (1 + 0.9)
        -0.19
    """
    if nesterov and momentum is None:
        raise ValueError("nanojax.optim.sgd: nesterov=True needs a momentum")
    momentum_part = () if momentum is None else (trace(momentum, nesterov, accumulator_dtype),)
    return chain(*momentum_part, scale_by_learning_rate(learning_rate))


def adam(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
         eps: float = 1e-8, eps_root: float = 0.0, mu_dtype: Any = None, *,
         nesterov: bool = False) -> GradientTransformation:
    """Adam (Kingma & Ba, 2015): ``p -= lr * mu_hat / (sqrt(nu_hat) + eps)``.

    Examples:
        >>> import nanojax as nj
        >>> loss = lambda p: (p["x"] - 1.0) ** 2 + (p["y"] + 2.0) ** 2
        >>> opt = adam(0.1)
        >>> params = {"x": 0.0, "y": 0.0}
        >>> state = opt.init(params)
        >>> for _ in range(200):
        ...     updates, state = opt.update(nj.grad(loss)(params), state, params)
        ...     params = apply_updates(params, updates)
        >>> print(round(float(params["x"]), 2), round(float(params["y"]), 2))
        1.0 -2.0
    """
    return chain(scale_by_adam(b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov),
                 scale_by_learning_rate(learning_rate))


def apply_updates(params: Params, updates: Updates) -> Params:
    """``params + updates``, leaf by leaf, keeping each array leaf's dtype.

    Examples:
        >>> apply_updates({"w": 1.0, "b": 0.5}, {"w": -0.25, "b": 0.25})
        {'b': 0.75, 'w': 0.75}
    """
    _check_same_structure(updates, params, "updates")

    def add(p, u):
        for leaf, what in ((p, "params"), (u, "updates")):
            if not isinstance(leaf, (numbers.Number, np.ndarray, np.generic, Tracer)):
                raise TypeError(f"nanojax.optim.apply_updates: {what} must be pytrees of "
                                f"arrays or numbers, got a leaf {leaf!r:.40} of type "
                                f"{type(leaf).__name__}")
        out = p + u
        dtype = getattr(p, "dtype", None)
        return out if dtype is None or out.dtype == dtype else jnp.astype(out, dtype)
    return tree_map(add, params, updates)


# ----- Schedules: functions of the step count ---------------------------------------------

def _check_positive_steps(name: str, steps: int) -> None:
    if not _number(name, "the number of steps", steps) > 0:
        raise ValueError(f"nanojax.optim.{name}: the number of steps must be positive, got {steps}")


def constant_schedule(value: float) -> Schedule:
    """The same ``value`` at every step.

    Examples:
        >>> constant_schedule(0.1)(1000)
        0.1
    """
    _number("constant_schedule", "value", value)
    return lambda count: value


def exponential_decay(init_value: float, transition_steps: int, decay_rate: float,
                      transition_begin: int = 0, staircase: bool = False,
                      end_value: float | None = None) -> Schedule:
    """``init_value * decay_rate ** (count / transition_steps)``.

    With ``staircase=True`` the exponent is rounded down: the rate is
    multiplied by ``decay_rate`` once every ``transition_steps`` steps (step decay).
    As in optax, the count starts at ``transition_begin`` (the value holds
    at ``init_value`` before), and ``end_value`` bounds the decay (a floor
    when decaying, a ceiling when ``decay_rate > 1``).

    Examples:
        >>> halve_every_100 = exponential_decay(0.1, 100, 0.5, staircase=True)
        >>> [round(float(halve_every_100(c)), 4) for c in (0, 99, 100, 250)]
        [0.1, 0.1, 0.05, 0.025]
        >>> print(round(float(exponential_decay(0.1, 100, 0.5)(50)), 4))
        0.0707
    """
    _number("exponential_decay", "init_value", init_value)
    _number("exponential_decay", "decay_rate", decay_rate)
    _check_positive_steps("exponential_decay", transition_steps)

    def schedule(count):
        p = jnp.maximum(count - transition_begin, 0) / transition_steps
        if staircase:        # p >= 0, so truncating to an int is floor
            p = jnp.astype(p, np.int64)
        value = init_value * decay_rate ** p
        if end_value is not None:
            value = (jnp.maximum if decay_rate < 1 else jnp.minimum)(value, end_value)
        return value
    return schedule


def piecewise_constant_schedule(init_value: float,
                                boundaries_and_scales: dict[int, float]) -> Schedule:
    """``init_value`` times every ``scale`` whose ``boundary`` the count has reached.

    Examples:
        >>> s = piecewise_constant_schedule(1.0, {100: 0.1, 200: 0.5})
        >>> [round(float(s(c)), 4) for c in (0, 100, 199, 200)]
        [1.0, 0.1, 0.1, 0.05]
    """
    _number("piecewise_constant_schedule", "init_value", init_value)
    steps = sorted(boundaries_and_scales.items())

    def schedule(count):
        value = init_value
        for boundary, factor in steps:
            value = value * jnp.where(count >= boundary, factor, 1.0)
        return value
    return schedule


def cosine_decay_schedule(init_value: float, decay_steps: int, alpha: float = 0.0,
                          exponent: float = 1.0) -> Schedule:
    """Half a cosine from ``init_value`` down to ``alpha * init_value`` over ``decay_steps``.

    ``exponent`` raises the cosine's factor to a power, as optax's.

    Examples:
        >>> s = cosine_decay_schedule(1.0, 100, alpha=0.1)
        >>> [round(float(s(c)), 4) for c in (0, 50, 100, 500)]
        [1.0, 0.55, 0.1, 0.1]
    """
    _number("cosine_decay_schedule", "init_value", init_value)
    _number("cosine_decay_schedule", "alpha", alpha)
    _check_positive_steps("cosine_decay_schedule", decay_steps)

    def schedule(count):
        cosine = 0.5 * (1 + jnp.cos(np.pi * jnp.minimum(count, decay_steps) / decay_steps))
        return init_value * ((1 - alpha) * cosine ** exponent + alpha)
    return schedule


def polynomial_schedule(init_value: float, end_value: float, power: float,
                        transition_steps: int, transition_begin: int = 0) -> Schedule:
    """From ``init_value`` to ``end_value`` as ``(1 - t / transition_steps) ** power``.

    ``t`` counts from ``transition_begin`` and stops at ``transition_steps``:
    the value holds at ``init_value`` before and at ``end_value`` after.

    Examples:
        >>> s = polynomial_schedule(1.0, 0.1, 1.0, 10, transition_begin=5)
        >>> [round(float(s(c)), 3) for c in (0, 5, 10, 15, 100)]
        [1.0, 1.0, 0.55, 0.1, 0.1]
    """
    for name, v in (("init_value", init_value), ("end_value", end_value), ("power", power)):
        _number("polynomial_schedule", name, v)
    _check_positive_steps("polynomial_schedule", transition_steps)

    def schedule(count):
        t = jnp.clip(count - transition_begin, 0, transition_steps)
        return (init_value - end_value) * (1 - t / transition_steps) ** power + end_value
    return schedule


# ----- More of optax's everyday names -----------------------------------------------------

class ScaleByRmsState(NamedTuple):
    nu: Updates          # running mean of squared gradients


class ScaleByLionState(NamedTuple):
    count: Any
    mu: Updates          # running mean of gradients


class ScaleByRmsWithCountState(NamedTuple):
    count: Any
    nu: Updates


class ScaleByRStdDevState(NamedTuple):
    mu: Updates          # running mean of gradients
    nu: Updates          # running mean of squared gradients


class ScaleByRStdDevWithCountState(NamedTuple):
    count: Any
    mu: Updates
    nu: Updates


def scale_by_rms(decay: float = 0.9, eps: float = 1e-8, initial_scale: float = 0.0,
                 eps_in_sqrt: bool = True, bias_correction: bool = False
                 ) -> GradientTransformation:
    """RMSProp's direction: ``g / sqrt(nu + eps)``, ``nu`` the running mean of ``g**2``.

    ``eps_in_sqrt=False`` divides by ``sqrt(nu) + eps`` instead;
    ``bias_correction`` divides ``nu`` by ``1 - decay**count`` first (the
    state then counts updates).

    Examples:
        >>> t = scale_by_rms(decay=0.5, eps=0.0)
        >>> u, state = t.update(2.0, t.init(0.0))        # nu = 0.5 * 4
        >>> print(round(float(u), 6))
        1.414214
    """
    return _rms_transform("scale_by_rms", decay, eps, initial_scale, eps_in_sqrt,
                          bias_correction, centered=False)


def scale_by_stddev(decay: float = 0.9, eps: float = 1e-8, initial_scale: float = 0.0,
                    eps_in_sqrt: bool = True, bias_correction: bool = False
                    ) -> GradientTransformation:
    """Centered RMSProp's direction: ``g / sqrt(nu - mu**2 + eps)``, a running standard deviation.

    Examples:
        >>> t = scale_by_stddev(decay=0.5, eps=0.0)
        >>> u, state = t.update(2.0, t.init(0.0))        # mu = 1, nu = 2
        >>> print(float(u))
        2.0
    """
    return _rms_transform("scale_by_stddev", decay, eps, initial_scale, eps_in_sqrt,
                          bias_correction, centered=True)


def _rms_transform(fn: str, decay: Any, eps: Any, initial_scale: Any, eps_in_sqrt: bool,
                   bias_correction: bool, centered: bool) -> GradientTransformation:
    _number(fn, "eps", eps)
    _number(fn, "initial_scale", initial_scale)
    _check_unit(fn, "decay", decay)
    plain = not (centered or bias_correction) and eps_in_sqrt

    def init_fn(params):
        nu = tree_map(lambda p: jnp.full_like(p, initial_scale), params)
        mu = tree_map(jnp.zeros_like, params)
        if centered:
            return (ScaleByRStdDevWithCountState(_zero_count(), mu, nu) if bias_correction
                    else ScaleByRStdDevState(mu, nu))
        return ScaleByRmsWithCountState(_zero_count(), nu) if bias_correction \
            else ScaleByRmsState(nu)

    def leaf(g, m, n, count):
        m = decay * m + (1 - decay) * g
        n = decay * n + (1 - decay) * (g * g)
        m_hat, n_hat = m, n
        if bias_correction:
            m_hat, n_hat = m / (1 - decay ** count), n / (1 - decay ** count)
        var = n_hat - m_hat * m_hat if centered else n_hat
        scaled = g / jnp.sqrt(var + eps) if eps_in_sqrt else g / (jnp.sqrt(var) + eps)
        return scaled, m, n

    def update_fn(updates, state, params=None):
        if plain:     # the everyday case, shared with example_libraries
            updates, nu = _map_leaves(lambda g, n: _rms_leaf(g, n, decay, eps), 2, updates,
                                      state.nu)
            return updates, ScaleByRmsState(nu)
        count = state.count + 1 if bias_correction else None
        mu = state.mu if centered else tree_map(jnp.zeros_like, state.nu)
        updates, mu, nu = _map_leaves(lambda g, m, n: leaf(g, m, n, count), 3, updates, mu,
                                      state.nu)
        if centered:
            return updates, (ScaleByRStdDevWithCountState(count, mu, nu) if bias_correction
                             else ScaleByRStdDevState(mu, nu))
        return updates, ScaleByRmsWithCountState(count, nu) if bias_correction \
            else ScaleByRmsState(nu)
    return GradientTransformation(init_fn, update_fn)


def rmsprop(learning_rate: ScalarOrSchedule, decay: float = 0.9, eps: float = 1e-8,
            initial_scale: float = 0.0, eps_in_sqrt: bool = True, centered: bool = False,
            momentum: float | None = None, nesterov: bool = False,
            bias_correction: bool = False) -> GradientTransformation:
    """RMSProp (Hinton): ``p -= lr * g / sqrt(nu + eps)``, with optional (Nesterov) momentum.

    ``centered=True`` divides by the running standard deviation instead
    (``scale_by_stddev``); ``eps_in_sqrt`` and ``bias_correction`` are as in
    ``scale_by_rms``.

    Examples:
        >>> opt = rmsprop(0.1, decay=0.5, eps=0.0)
        >>> u, _ = opt.update(2.0, opt.init(0.0))
        >>> print(round(float(u), 6))
        -0.141421
    """
    scaling = (scale_by_stddev if centered else scale_by_rms)(
        decay, eps, initial_scale, eps_in_sqrt, bias_correction)
    return chain(scaling, scale_by_learning_rate(learning_rate),
                 identity() if momentum is None else trace(momentum, nesterov))


def _mu_in(fn: str, mu_dtype: Any, tx: GradientTransformation,
           field: str = "mu") -> GradientTransformation:
    """``tx`` whose state's ``field`` (the first moment) is kept in ``mu_dtype`` (None: as
    computed, the params' dtype)."""
    if mu_dtype is None:
        return tx
    try:
        dtype = np.dtype(mu_dtype)
    except TypeError:
        raise TypeError(f"nanojax.optim.{fn}: {'mu' if field == 'mu' else 'accumulator'}_dtype "
                        f"must be a dtype, got {mu_dtype!r}") from None

    def cast(state):
        return state._replace(**{field: tree_map(lambda m: jnp.astype(m, dtype),
                                                 getattr(state, field))})

    def update_fn(updates, state, params=None):
        updates, state = tx.update(updates, state, params)
        return updates, cast(state)
    return GradientTransformation(lambda params: cast(tx.init(params)), update_fn)


def adamw(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
          eps: float = 1e-8, eps_root: float = 0.0, mu_dtype: Any = None,
          weight_decay: ScalarOrSchedule = 1e-4, mask: Any = None, *,
          nesterov: bool = False) -> GradientTransformation:
    """Adam with decoupled weight decay (Loshchilov & Hutter): Adam's step plus ``wd * p``.

    ``wd`` is ``weight_decay``; ``mask`` picks the leaves that decay, as in
    ``add_decayed_weights``.

    Examples:
        >>> opt = adamw(0.1, weight_decay=0.5)
        >>> u, _ = opt.update(0.0, opt.init(2.0), 2.0)      # no gradient: only the decay
        >>> print(round(float(u), 6))
        -0.1
    """
    return chain(scale_by_adam(b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov),
                 add_decayed_weights(weight_decay, mask),
                 scale_by_learning_rate(learning_rate))


def scale_by_lion(b1: float = 0.9, b2: float = 0.99, mu_dtype: Any = None, *,
                  mode: str = "hard", smooth_beta: float = 1.0) -> GradientTransformation:
    """Lion's direction: ``sign(b1 * mu + (1 - b1) * g)``, then ``mu = b2 * mu + (1 - b2) * g``.

    ``mode='smooth'`` uses ``tanh(smooth_beta * x)`` for the sign, ``'refined'``
    keeps ``x`` where ``|x| < 1``, as optax's.
    """
    signs = {"hard": jnp.sign, "smooth": lambda x: jnp.tanh(smooth_beta * x),
             "refined": lambda x: jnp.where(jnp.abs(x) < 1.0, x, jnp.sign(x))}
    if mode not in signs:
        raise ValueError("nanojax.optim.scale_by_lion: mode must be 'hard', 'smooth' or "
                         f"'refined', got {mode!r}")
    sign = signs[mode]

    def update_fn(updates, state, params=None):
        directions = tree_map(lambda g, m: sign((1 - b1) * g + b1 * m), updates, state.mu)
        mu = tree_map(lambda g, m: (1 - b2) * g + b2 * m, updates, state.mu)
        return directions, ScaleByLionState(state.count + 1, mu)
    return _mu_in("scale_by_lion", mu_dtype, GradientTransformation(
        lambda params: ScaleByLionState(_zero_count(), tree_map(jnp.zeros_like, params)),
        update_fn))


def lion(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.99,
         mu_dtype: Any = None, weight_decay: float = 1e-3,
         mask: Any = None) -> GradientTransformation:
    """Lion (Chen et al., 2023): steps of the sign of a momentum, plus decoupled weight decay.

    Examples:
        >>> opt = lion(0.1, weight_decay=0.0)
        >>> u, _ = opt.update([3.0, -0.5], opt.init([0.0, 0.0]), [0.0, 0.0])
        >>> [round(float(x), 6) for x in u]
        [-0.1, 0.1]
    """
    return chain(scale_by_lion(b1, b2, mu_dtype), add_decayed_weights(weight_decay, mask),
                 scale_by_learning_rate(learning_rate))


def clip(max_delta: float) -> GradientTransformation:
    """Clip every update to ``[-max_delta, max_delta]``, element by element.

    Examples:
        >>> u, _ = clip(1.0).update([3.0, -0.5, -2.0], EmptyState())
        >>> [float(x) for x in u]
        [1.0, -0.5, -1.0]
    """
    _number("clip", "max_delta", max_delta)
    return _stateless(lambda g: jnp.clip(g, -max_delta, max_delta))


def set_to_zero() -> GradientTransformation:
    """Replace every update by zeros (freezes params, e.g. in ``multi_transform``)."""
    return _stateless(jnp.zeros_like)


def linear_schedule(init_value: float, end_value: float, transition_steps: int,
                    transition_begin: int = 0) -> Schedule:
    """A straight line from ``init_value`` to ``end_value`` over ``transition_steps``.

    Examples:
        >>> s = linear_schedule(0.0, 1.0, 10)
        >>> [float(s(c)) for c in (0, 5, 10, 20)]
        [0.0, 0.5, 1.0, 1.0]
    """
    return polynomial_schedule(init_value, end_value, 1.0, transition_steps, transition_begin)


def join_schedules(schedules: list[Schedule], boundaries: list[int]) -> Schedule:
    """``schedules[k]`` from ``boundaries[k - 1]`` on, each counting from its boundary.

    Examples:
        >>> s = join_schedules([constant_schedule(1.0), linear_schedule(1.0, 0.0, 10)], [5])
        >>> [float(s(c)) for c in (0, 4, 5, 10, 15)]
        [1.0, 1.0, 1.0, 0.5, 0.0]
    """
    if len(boundaries) != len(schedules) - 1:
        raise ValueError("nanojax.optim.join_schedules: needs one boundary fewer than "
                         f"schedules, got {len(schedules)} schedules and {len(boundaries)} "
                         "boundaries")

    def schedule(count):
        value = schedules[0](count)
        for boundary, later in zip(boundaries, schedules[1:]):
            value = jnp.where(count < boundary, value, later(count - boundary))
        return value
    return schedule


def warmup_cosine_decay_schedule(init_value: float, peak_value: float, warmup_steps: int,
                                 decay_steps: int, end_value: float = 0.0,
                                 exponent: float = 1.0) -> Schedule:
    """A linear warmup to ``peak_value``, then a cosine decay to ``end_value``.

    ``decay_steps`` counts the warmup too, as in optax.

    Examples:
        >>> s = warmup_cosine_decay_schedule(0.0, 1.0, 10, 110)
        >>> [round(float(s(c)), 3) for c in (0, 5, 10, 60, 110)]
        [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    alpha = 0.0 if peak_value == 0 else end_value / peak_value
    return join_schedules([linear_schedule(init_value, peak_value, warmup_steps),
                           cosine_decay_schedule(peak_value, decay_steps - warmup_steps, alpha,
                                                 exponent)], [warmup_steps])


# ----- optax's losses (one-hot labels where optax takes them) --------------------------------

def softmax_cross_entropy(logits: Any, labels: Any, axis: Any = -1, where: Any = None) -> Any:
    """``-sum(labels * log_softmax(logits))`` over ``axis``: labels are probabilities (one-hot).

    ``where`` (optax's) masks classes out of both the softmax and the sum;
    with one dimension fewer than ``logits`` it is expanded at ``axis``.

    Examples:
        >>> print(softmax_cross_entropy([[0.0, 0.0]], [[0.0, 1.0]]).round(4))
        [0.6931]
        >>> print(softmax_cross_entropy([[0.0, 0.0, 5.0]], [[0.0, 1.0, 0.0]],
        ...                             where=[[True, True, False]]).round(4))
        [0.6931]
    """
    if where is not None:
        where = jnp.asarray(where)
        if jnp.ndim(where) != jnp.ndim(logits):
            where = jnp.expand_dims(where, axis)
        log_p = nn.log_softmax(logits, axis=axis, where=where)
        # Masked classes may hold -inf: picked out before the product, never multiplied.
        terms = jnp.where(where, jnp.multiply(labels, jnp.where(where, log_p, 0.0)), 0.0)
        return jnp.negative(jnp.sum(terms, axis=axis))
    return jnp.negative(jnp.sum(jnp.multiply(labels, nn.log_softmax(logits, axis=axis)),
                                axis=axis))


def softmax_cross_entropy_with_integer_labels(logits: Any, labels: Any, axis: int = -1,
                                              where: Any = None) -> Any:
    """``-log_softmax(logits)[label]`` per example, labels integer classes.

    ``axis`` is the class axis of ``logits``; ``where`` masks classes out
    of the normalisation (a row with none left costs 0), as optax's.

    Examples:
        >>> print(softmax_cross_entropy_with_integer_labels([[0.0, 0.0]], [1]).round(4))
        [0.6931]
        >>> print(softmax_cross_entropy_with_integer_labels([[0.0], [0.0]], [1], axis=0))
        [0.69314718]
    """
    if not isinstance(axis, int):
        raise TypeError("nanojax.optim.softmax_cross_entropy_with_integer_labels: axis must be "
                        f"an int, got {type(axis).__name__}")
    logits = jnp.asarray(logits)
    if axis not in (-1, jnp.ndim(logits) - 1):
        logits = jnp.moveaxis(logits, axis, -1)
        where = None if where is None else jnp.moveaxis(jnp.asarray(where), axis, -1)
    if where is None:
        return losses.softmax_cross_entropy(logits, labels)
    where = jnp.asarray(where)
    if jnp.ndim(where) != jnp.ndim(logits):
        where = jnp.expand_dims(where, -1)
    picked = jnp.take_along_axis(logits, jnp.expand_dims(jnp.asarray(labels), -1), axis=-1)
    any_left = jnp.any(where, axis=-1)
    # A row with no class left is normalised over all (then zeroed): no log(0) formed.
    where = jnp.logical_or(where, jnp.logical_not(jnp.expand_dims(any_left, -1)))
    out = nn.logsumexp(logits, axis=-1, where=where) - picked[..., 0]
    return jnp.where(any_left, out, 0.0)


def sigmoid_binary_cross_entropy(logits: Any, labels: Any) -> Any:
    """The cross entropy of ``sigmoid(logits)`` against ``labels`` in [0, 1], stably, per element.

    Examples:
        >>> print(sigmoid_binary_cross_entropy([0.0, 1000.0], [1.0, 1.0]).round(4))
        [0.6931 0.    ]
    """
    # -y log s(x) - (1 - y) log(1 - s(x)) = softplus(x) - y x, written without overflow.
    return jnp.subtract(nn.softplus(logits), jnp.multiply(labels, logits))


def l2_loss(predictions: Any, targets: Any = None) -> Any:
    """``0.5 * (predictions - targets) ** 2`` per element (targets default to zeros).

    Examples:
        >>> print(l2_loss([1.0, 3.0], [0.0, 1.0]))
        [0.5 2. ]
    """
    errors = predictions if targets is None else jnp.subtract(predictions, targets)
    return jnp.multiply(0.5, jnp.square(errors))


def huber_loss(predictions: Any, targets: Any = None, delta: float = 1.0) -> Any:
    """Quadratic ``0.5 * e**2`` for ``|e| <= delta``, linear ``delta * (|e| - 0.5 * delta)`` beyond.

    Examples:
        >>> print(huber_loss([0.5, 3.0], delta=1.0))
        [0.125 2.5  ]
    """
    errors = predictions if targets is None else jnp.subtract(predictions, targets)
    abs_errors = jnp.abs(errors)
    quadratic = jnp.minimum(abs_errors, delta)
    return 0.5 * quadratic * quadratic + delta * (abs_errors - quadratic)


# ===== The rest of optax: transforms, wrappers, optimizers, schedules, losses ==============

tree_utils = tree.tree_utils
# ``import nanojax.optim.tree`` works as ``import optax.tree`` does (nanojax.optax does the
# same for its own name).
sys.modules.setdefault("nanojax.optim.tree", tree)
sys.modules.setdefault("nanojax.optim.tree_utils", tree_utils)

__all__ += ["GradientTransformationExtraArgs", "with_extra_args_support", "identity",
            "WeightDecaySchedule", "ScaleByRmsWithCountState", "ScaleByRStdDevState",
            "ScaleByRStdDevWithCountState", "scale_by_stddev", "MaskedState", "MaskedNode",
            "masked", "PartitionState", "partition", "multi_transform", "freeze",
            "selective_transform", "flatten", "tree", "tree_utils", "EmaState", "ema",
            "ScaleByRssState", "scale_by_rss", "adagrad", "ScaleByAdaDeltaState",
            "scale_by_adadelta", "adadelta", "ScaleByBeliefState", "scale_by_belief",
            "adabelief", "nadam", "nadamw", "ScaleByAmsgradState", "scale_by_amsgrad",
            "amsgrad", "scale_by_adamax", "adamax", "adamaxw", "scale_by_yogi", "yogi",
            "scale_by_radam", "radam", "ScaleByNovogradState", "scale_by_novograd", "novograd",
            "scale_by_trust_ratio", "lars", "lamb", "AddNoiseState", "add_noise", "noisy_sgd",
            "scale_by_sign", "sign_sgd", "signum", "scale_by_param_block_norm",
            "scale_by_param_block_rms", "clip_by_block_rms", "FactoredState",
            "scale_by_factored_rms", "adafactor", "ZeroNansState", "zero_nans",
            "keep_params_nonnegative", "centralize", "ApplyEvery", "apply_every",
            "ApplyIfFiniteState", "apply_if_finite", "MultiStepsState", "MultiSteps",
            "skip_not_finite", "skip_large_updates", "InjectHyperparamsState",
            "inject_hyperparams", "incremental_update", "periodic_update",
            "piecewise_interpolate_schedule", "linear_onecycle_schedule",
            "cosine_onecycle_schedule", "warmup_constant_schedule",
            "warmup_exponential_decay_schedule", "sgdr_schedule", "smooth_labels",
            "safe_softmax_cross_entropy", "cosine_similarity", "cosine_distance",
            "sigmoid_focal_loss", "multiclass_hinge_loss", "log_cosh", "kl_divergence",
            "hinge_loss", "perceptron_loss", "squared_error"]


def identity() -> GradientTransformation:
    """Pass the updates on unchanged (optax's placeholder in a ``chain``).

    Examples:
        >>> identity().update([1.0, 2.0], EmptyState())
        ([1.0, 2.0], EmptyState())
    """
    return GradientTransformation(lambda params: EmptyState(),
                                  lambda updates, state, params=None: (updates, state))


def _where_tree(pred: Any, on_true: Any, on_false: Any) -> Any:
    """``jnp.where(pred, a, b)`` leaf by leaf, keeping each ``on_false`` leaf's dtype."""
    return tree_map(lambda a, b: jnp.astype(jnp.where(pred, a, b), jnp.result_type(b)),
                    on_true, on_false)


def _zeros_tree(tree: Any) -> Any:
    return tree_map(jnp.zeros_like, tree)


# ----- Wrappers: masked, partition, apply_if_finite, MultiSteps ---------------------------

class MaskedState(NamedTuple):
    inner_state: Any


class MaskedNode(NamedTuple):
    """Stands in for a masked-out leaf: a pytree node with no leaves, so the inner
    transform neither sees nor keeps state for it."""


def _mask_tree(fn: str, mask: Any, tree: Any) -> Any:
    marks = mask(tree) if callable(mask) else mask
    if isinstance(marks, (bool, np.bool_)):    # one bool for the whole tree, as optax allows
        return tree_map(lambda _: bool(marks), tree)
    if tree_structure(marks) == tree_structure(tree):
        return marks
    try:                                # a prefix: each mark covers a whole subtree
        return tree_broadcast(marks, tree)
    except (TypeError, ValueError):
        raise ValueError(f"nanojax.optim.{fn}: the mask must have the params' pytree structure "
                         f"or a prefix of it, got {tree_structure(marks)} for "
                         f"{tree_structure(tree)}") from None


def masked(inner: GradientTransformation, mask: Any, *,
           mask_compatible_extra_args: bool = False) -> GradientTransformationExtraArgs:
    """Apply ``inner`` only to the leaves where ``mask`` is True; the others pass unchanged.

    ``mask`` is a pytree of bools with the params' structure, or a function
    of the params (or updates) returning one.

    Examples:
        >>> t = masked(scale(10.0), {"w": True, "b": False})
        >>> u, _ = t.update({"w": 1.0, "b": 1.0}, t.init({"w": 0.0, "b": 0.0}))
        >>> u
        {'b': 1.0, 'w': 10.0}
    """
    inner_x = with_extra_args_support(inner)

    def hide(tree, marks):
        return tree_map(lambda m, x: x if m else MaskedNode(), marks, tree)

    def init_fn(params):
        return MaskedState(inner.init(hide(params, _mask_tree("masked", mask, params))))

    def update_fn(updates, state, params=None, **extra_args):
        marks = _mask_tree("masked", mask, updates)
        if mask_compatible_extra_args:
            structure = tree_structure(updates)
            extra_args = {k: hide(v, marks) if tree_structure(v) == structure else v
                          for k, v in extra_args.items()}
        new, inner_state = inner_x.update(hide(updates, marks), state.inner_state,
                                          None if params is None else hide(params, marks),
                                          **extra_args)
        return tree_map(lambda m, n, o: n if m else o, marks, new, updates), \
            MaskedState(inner_state)
    return GradientTransformationExtraArgs(init_fn, update_fn)


class PartitionState(NamedTuple):
    inner_states: Any    # {label: the masked inner state}


def partition(transforms: dict[Any, GradientTransformation], param_labels: Any, *,
              mask_compatible_extra_args: bool = False) -> GradientTransformationExtraArgs:
    """A different transform per group of params: ``param_labels`` names each leaf's group.

    ``param_labels`` is a pytree of labels (keys of ``transforms``) with the
    params' structure, or a function of the params returning one.

    Examples:
        >>> t = partition({"fast": scale(10.0), "frozen": set_to_zero()},
        ...               {"w": "fast", "b": "frozen"})
        >>> u, _ = t.update({"w": 1.0, "b": 1.0}, t.init({"w": 0.0, "b": 0.0}))
        >>> {k: float(v) for k, v in u.items()}
        {'b': 0.0, 'w': 10.0}
    """
    def labels_of(tree):
        labels = param_labels(tree) if callable(param_labels) else param_labels
        missing = set(tree_leaves(labels)) - set(transforms)
        if missing:
            raise ValueError(f"nanojax.optim.partition: some params have no transform: labels "
                             f"{sorted(map(str, missing))} are not among {sorted(transforms)}")
        return labels

    def group(labels, name):
        return masked(transforms[name], tree_map(lambda label: label == name, labels),
                      mask_compatible_extra_args=mask_compatible_extra_args)

    def init_fn(params):
        labels = labels_of(params)
        return PartitionState({name: group(labels, name).init(params) for name in transforms})

    def update_fn(updates, state, params=None, **extra_args):
        labels = labels_of(updates)
        inner = {}
        for name in transforms:
            updates, inner[name] = group(labels, name).update(
                updates, state.inner_states[name], params, **extra_args)
        return updates, PartitionState(inner)
    return GradientTransformationExtraArgs(init_fn, update_fn)


multi_transform = partition


def freeze(mask: Any) -> GradientTransformationExtraArgs:
    """Zero the updates of the params where ``mask`` is True (they stay as they are).

    ``mask`` is one bool, or a pytree of bools with the params' structure (or
    a prefix of it).

    Examples:
        >>> t = chain(scale(-1.0), freeze({"w": False, "b": True}))
        >>> u, _ = t.update({"w": 2.0, "b": 2.0}, t.init({"w": 0.0, "b": 0.0}))
        >>> {k: float(v) for k, v in u.items()}
        {'b': 0.0, 'w': -2.0}
    """
    return masked(set_to_zero(), mask)


def selective_transform(optimizer: GradientTransformation, *,
                        freeze_mask: Any) -> GradientTransformationExtraArgs:
    """``optimizer`` on the params where ``freeze_mask`` is False; zero updates elsewhere.

    Unlike ``chain(optimizer, freeze(mask))``, the frozen params get no
    optimizer state at all (``partition`` routes them to ``set_to_zero``).

    Examples:
        >>> t = selective_transform(sgd(0.5), freeze_mask={"w": False, "b": True})
        >>> u, _ = t.update({"w": 2.0, "b": 2.0}, t.init({"w": 0.0, "b": 0.0}))
        >>> {k: float(v) for k, v in u.items()}
        {'b': 0.0, 'w': -1.0}
    """
    def labels(params):
        return tree_map(lambda frozen: "freeze" if frozen else "train", freeze_mask)
    return partition({"train": optimizer, "freeze": set_to_zero()}, labels)


def flatten(inner: GradientTransformation) -> GradientTransformationExtraArgs:
    """``inner`` run on all the params (and updates) raveled into one vector.

    For an elementwise ``inner`` (adam, sgd, rmsprop, ...) the result is the
    same as ``inner`` on the tree, but its state holds one array per moment
    instead of one per leaf, which is faster for trees of many small leaves;
    a per-leaf one (lamb's trust ratio) then sees one leaf.

    Examples:
        >>> t = flatten(adam(0.1))
        >>> params = {"w": jnp.ones(2), "b": 0.0}
        >>> u, state = t.update({"w": jnp.ones(2), "b": 1.0}, t.init(params), params)
        >>> {k: np.round(np.asarray(v), 3).tolist() for k, v in u.items()}
        {'b': -0.1, 'w': [-0.1, -0.1]}
    """
    from nanojax.flatten_util import ravel_pytree
    inner_x = with_extra_args_support(inner)

    def ravel(tree):
        return tree if tree is None else ravel_pytree(tree)[0]

    def init_fn(params):
        return inner.init(ravel(params))

    def update_fn(updates, state, params=None, **extra_args):
        flat, unravel = ravel_pytree(updates)
        new, state = inner_x.update(flat, state, ravel(params), **extra_args)
        return unravel(new), state
    return GradientTransformationExtraArgs(init_fn, update_fn)


def _all_finite(tree: Any) -> Any:
    leaves = tree_leaves(tree)
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves])) if leaves else True


class ApplyIfFiniteState(NamedTuple):
    notfinite_count: Any     # consecutive non-finite updates so far
    last_finite: Any         # whether the last update was finite
    total_notfinite: Any     # all non-finite updates so far
    inner_state: Any


def apply_if_finite(inner: GradientTransformation,
                    max_consecutive_errors: int) -> GradientTransformationExtraArgs:
    """Skip (zero updates, state kept) any update with a NaN or inf, unless
    more than ``max_consecutive_errors`` came in a row.

    Examples:
        >>> t = apply_if_finite(scale(2.0), max_consecutive_errors=2)
        >>> u, state = t.update(float("nan"), t.init(0.0))
        >>> print(float(u), int(state.notfinite_count))
        0.0 1
    """
    inner_x = with_extra_args_support(inner)

    def init_fn(params):
        zero = _zero_count()
        return ApplyIfFiniteState(zero, np.array(True), zero, inner.init(params))

    def update_fn(updates, state, params=None, **extra_args):
        finite = _all_finite(updates)
        count = jnp.where(finite, 0, state.notfinite_count + 1).astype(np.int32)
        new, inner_state = inner_x.update(updates, state.inner_state, params, **extra_args)
        # Both sides computed, one kept: the jit-able form of optax's lax.cond.
        apply = jnp.logical_or(finite, count > max_consecutive_errors)
        new = _where_tree(apply, new, _zeros_tree(new))
        inner_state = _where_tree(apply, inner_state, state.inner_state)
        total = jnp.where(finite, state.total_notfinite,
                          state.total_notfinite + 1).astype(np.int32)
        return new, ApplyIfFiniteState(count, finite, total, inner_state)
    return GradientTransformationExtraArgs(init_fn, update_fn)


class MultiStepsState(NamedTuple):
    mini_step: Any           # gradients accumulated since the last real step
    gradient_step: Any       # real steps taken
    inner_opt_state: Any
    acc_grads: Any
    skip_state: Any = ()


def skip_not_finite(updates: Updates, gradient_step: Any, params: Params) -> tuple[Any, Any]:
    """``MultiSteps``' ``should_skip_update_fn``: skip gradients with a NaN or inf."""
    num = sum(jnp.sum(jnp.logical_not(jnp.isfinite(x))) for x in tree_leaves(updates))
    should_skip = jnp.asarray(num) > 0
    return should_skip, {"should_skip": should_skip, "num_not_finite": jnp.asarray(num)}


def skip_large_updates(updates: Updates, gradient_step: Any, params: Params,
                       max_squared_norm: float) -> tuple[Any, Any]:
    """``MultiSteps``' ``should_skip_update_fn`` (with ``functools.partial``): skip
    gradients whose squared global norm is ``max_squared_norm`` or more."""
    norm_sq = jnp.asarray(sum(jnp.sum(jnp.square(x)) for x in tree_leaves(updates)))
    should_skip = jnp.logical_not(norm_sq < max_squared_norm)
    return should_skip, {"should_skip": should_skip, "norm_squared": norm_sq}


class MultiSteps:
    """Gradient accumulation: the inner optimizer steps once every ``every_k_schedule`` calls.

    The calls in between return zero updates; at the k-th the inner optimizer
    sees the mean (or, with ``use_grad_mean=False``, the sum) of the k gradients.

    Examples:
        >>> opt = MultiSteps(sgd(1.0), every_k_schedule=2)
        >>> state = opt.init(0.0)
        >>> u1, state = opt.update(1.0, state)
        >>> u2, state = opt.update(3.0, state)
        >>> print(float(u1), float(u2), bool(opt.has_updated(state)))
        0.0 -2.0 True
    """

    def __init__(self, opt: GradientTransformation, every_k_schedule: int | Schedule,
                 use_grad_mean: bool = True, should_skip_update_fn: Callable | None = None,
                 accumulator_dtype: Any = np.float32):
        if not (callable(getattr(opt, "init", None)) and callable(getattr(opt, "update", None))):
            raise TypeError("nanojax.optim.MultiSteps: opt must be a GradientTransformation, "
                            f"got {type(opt).__name__}")
        if not callable(every_k_schedule) and not (
                isinstance(every_k_schedule, numbers.Integral) and every_k_schedule >= 1):
            raise ValueError("nanojax.optim.MultiSteps: every_k_schedule must be a positive "
                             f"int or a schedule, got {every_k_schedule!r}")
        self._opt = with_extra_args_support(opt)
        self._every_k = (every_k_schedule if callable(every_k_schedule)
                         else (lambda step: every_k_schedule))
        self._use_grad_mean = use_grad_mean
        self._should_skip = should_skip_update_fn
        # nanojax defaults to float64: the accumulator keeps the gradients' dtype
        # unless asked (accumulator_dtype is accepted for optax's signature).
        self._accumulator_dtype = accumulator_dtype

    @property
    def inner_opt(self) -> GradientTransformationExtraArgs:
        return self._opt

    def init(self, params: Params) -> MultiStepsState:
        skip_state = () if self._should_skip is None else \
            self._should_skip(_zeros_tree(params), _zero_count(), params)[1]
        return MultiStepsState(_zero_count(), _zero_count(), self._opt.init(params),
                               _zeros_tree(params), skip_state)

    def update(self, updates: Updates, state: MultiStepsState, params: Params = None,
               **extra_args: Any) -> tuple[Updates, MultiStepsState]:
        k = self._every_k(state.gradient_step)
        n = state.mini_step
        if self._use_grad_mean:
            acc = tree_map(lambda g, a: a + (g - a) / (n + 1), updates, state.acc_grads)
        else:
            acc = tree_map(lambda g, a: a + g, updates, state.acc_grads)
        new, inner_state = self._opt.update(acc, state.inner_opt_state, params, **extra_args)
        emit = n == k - 1
        new = tree_map(lambda u: jnp.where(emit, u, jnp.zeros_like(u)), new)
        new_state = MultiStepsState(
            jnp.astype((n + 1) % k, np.int32),
            jnp.astype(jnp.where(emit, state.gradient_step + 1, state.gradient_step), np.int32),
            _where_tree(emit, inner_state, state.inner_opt_state),
            tree_map(lambda a: jnp.where(emit, jnp.zeros_like(a), a), acc), ())
        if self._should_skip is None:
            return new, new_state
        skip, skip_state = self._should_skip(updates, state.gradient_step, params)
        if jnp.shape(skip) != () or jnp.result_type(skip) != np.bool_:
            raise ValueError("nanojax.optim.MultiSteps: should_skip_update_fn must return a "
                             f"boolean scalar, got dtype {jnp.result_type(skip)} and shape "
                             f"{jnp.shape(skip)}")
        kept = state._replace(skip_state=skip_state)
        return (_where_tree(skip, _zeros_tree(new), new),
                _where_tree(skip, kept, new_state._replace(skip_state=skip_state)))

    def has_updated(self, state: MultiStepsState) -> Any:
        """Whether the last ``update`` was a real step of the inner optimizer."""
        return jnp.logical_and(state.mini_step == 0, state.gradient_step > 0)

    def gradient_transformation(self) -> GradientTransformationExtraArgs:
        return GradientTransformationExtraArgs(self.init, self.update)


# ----- Accumulators ------------------------------------------------------------------------

class EmaState(NamedTuple):
    count: Any
    ema: Updates


def ema(decay: float, debias: bool = True,
        accumulator_dtype: Any = None) -> GradientTransformation:
    """The updates' exponential moving average, ``e = decay * e + (1 - decay) * g``.

    With ``debias`` the result is divided by ``1 - decay**count``.

    Examples:
        >>> t = ema(0.5, debias=False)
        >>> u, state = t.update(4.0, t.init(0.0))
        >>> print(float(u))
        2.0
    """
    _check_unit("ema", "decay", decay)

    def update_fn(updates, state, params=None):
        count = state.count + 1
        new = tree_map(lambda g, e: decay * e + (1 - decay) * g, updates, state.ema)
        out = tree_map(lambda e: e / (1 - decay ** count), new) if debias else new
        return out, EmaState(count, new)
    return _mu_in("ema", accumulator_dtype, GradientTransformation(
        lambda params: EmaState(_zero_count(), _zeros_tree(params)), update_fn), "ema")


class ScaleByRssState(NamedTuple):
    sum_of_squares: Updates


def scale_by_rss(initial_accumulator_value: float = 0.1,
                 eps: float = 1e-7) -> GradientTransformation:
    """AdaGrad's direction: ``g / sqrt(sum of all g**2 so far + eps)`` (0 where that sum is 0).

    Examples:
        >>> t = scale_by_rss(initial_accumulator_value=0.0, eps=0.0)
        >>> u, state = t.update(-3.0, t.init(0.0))
        >>> print(float(u))
        -1.0
    """
    _number("scale_by_rss", "initial_accumulator_value", initial_accumulator_value)
    _number("scale_by_rss", "eps", eps)

    def update_fn(updates, state, params=None):
        sums = tree_map(lambda g, t: g * g + t, updates, state.sum_of_squares)
        # where first: 1 / sqrt(0) is never formed, so its gradient is no NaN either.
        new = tree_map(lambda g, t: g * jnp.where(t > 0, 1.0 / jnp.sqrt(jnp.where(
            t > 0, t + eps, 1.0)), 0.0), updates, sums)
        return new, ScaleByRssState(sums)
    return GradientTransformation(
        lambda params: ScaleByRssState(tree_map(
            lambda p: jnp.full_like(p, initial_accumulator_value), params)), update_fn)


def adagrad(learning_rate: ScalarOrSchedule, initial_accumulator_value: float = 0.1,
            eps: float = 1e-7) -> GradientTransformation:
    """AdaGrad (Duchi et al., 2011): each coordinate's rate shrinks with its gradients' history.

    Examples:
        >>> opt = adagrad(0.5, initial_accumulator_value=0.0, eps=0.0)
        >>> u, _ = opt.update(-3.0, opt.init(0.0))
        >>> print(float(u))
        0.5
    """
    return chain(scale_by_rss(initial_accumulator_value, eps),
                 scale_by_learning_rate(learning_rate))


class ScaleByAdaDeltaState(NamedTuple):
    e_g: Updates         # running mean of squared gradients
    e_x: Updates         # running mean of squared updates


def scale_by_adadelta(rho: float = 0.9, eps: float = 1e-6) -> GradientTransformation:
    """AdaDelta's direction: ``g * sqrt(E[dx**2] + eps) / sqrt(E[g**2] + eps)``.

    Examples:
        >>> t = scale_by_adadelta(rho=0.0, eps=1.0)
        >>> u, state = t.update(3.0, t.init(0.0))     # 3 * 1 / sqrt(10)
        >>> print(round(float(u), 6))
        0.948683
    """
    _check_unit("scale_by_adadelta", "rho", rho)
    _number("scale_by_adadelta", "eps", eps)

    def leaf(g, e_g, e_x):
        e_g = rho * e_g + (1 - rho) * (g * g)
        u = jnp.sqrt(e_x + eps) / jnp.sqrt(e_g + eps) * g
        return u, e_g, rho * e_x + (1 - rho) * (u * u)

    def update_fn(updates, state, params=None):
        updates, e_g, e_x = _map_leaves(leaf, 3, updates, state.e_g, state.e_x)
        return updates, ScaleByAdaDeltaState(e_g, e_x)
    return GradientTransformation(
        lambda params: ScaleByAdaDeltaState(_zeros_tree(params), _zeros_tree(params)),
        update_fn)


def adadelta(learning_rate: ScalarOrSchedule | None = None, rho: float = 0.9,
             eps: float = 1e-6, weight_decay: ScalarOrSchedule = 0.0,
             weight_decay_mask: Any = None) -> GradientTransformation:
    """AdaDelta (Zeiler, 2012).

    With ``learning_rate=None`` the updates are neither scaled nor negated, as in optax.
    """
    return chain(add_decayed_weights(weight_decay, weight_decay_mask),
                 scale_by_adadelta(rho, eps), scale_by_learning_rate(learning_rate))


# ----- The Adam family -----------------------------------------------------------------------

ScaleByBeliefState = ScaleByAdamState


def scale_by_belief(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-16,
                    eps_root: float = 1e-16, *, nesterov: bool = False
                    ) -> GradientTransformation:
    """AdaBelief's direction: Adam with ``nu`` the running mean of ``(g - mu)**2 + eps_root``.

    Examples:
        >>> t = scale_by_belief()
        >>> u, _ = t.update(2.0, t.init(0.0))
        >>> print(round(float(u), 4))       # 2 / sqrt(1.8 ** 2): the belief is young
        1.1111
    """
    _check_betas("scale_by_belief", b1, b2, eps)
    return _moment_transform(
        lambda g, m, v: b2 * v + (1 - b2) * jnp.square(g - m) + eps_root, b1, b2,
        lambda m, v, count: m / (jnp.sqrt(v) + eps), nesterov=nesterov)


def adabelief(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
              eps: float = 1e-16, eps_root: float = 1e-16,
              weight_decay: ScalarOrSchedule | None = None, weight_decay_mask: Any = None, *,
              nesterov: bool = False) -> GradientTransformation:
    """AdaBelief (Zhuang et al., 2020): Adam stepping by the belief in the gradient."""
    decay = () if weight_decay is None else (add_decayed_weights(weight_decay,
                                                                 weight_decay_mask),)
    return chain(scale_by_belief(b1, b2, eps, eps_root, nesterov=nesterov), *decay,
                 scale_by_learning_rate(learning_rate))


def nadam(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
          eps: float = 1e-8, eps_root: float = 0.0,
          mu_dtype: Any = None) -> GradientTransformation:
    """NAdam (Dozat, 2016): ``adam(..., nesterov=True)``."""
    return adam(learning_rate, b1, b2, eps, eps_root, mu_dtype, nesterov=True)


def nadamw(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
           eps: float = 1e-8, eps_root: float = 0.0, mu_dtype: Any = None,
           weight_decay: ScalarOrSchedule = 1e-4, mask: Any = None) -> GradientTransformation:
    """NAdamW: ``adamw(..., nesterov=True)``."""
    return adamw(learning_rate, b1, b2, eps, eps_root, mu_dtype, weight_decay, mask,
                 nesterov=True)


class ScaleByAmsgradState(NamedTuple):
    count: Any
    mu: Updates
    nu: Updates
    nu_max: Updates      # the largest (bias-corrected) nu so far


def scale_by_amsgrad(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
                     eps_root: float = 0.0, mu_dtype: Any = None,
                     bias_correction_mu: bool = True,
                     bias_correction_nu: bool = True) -> GradientTransformation:
    """AMSGrad's direction: Adam's, divided by the running maximum of ``nu_hat``.

    Examples:
        >>> t = scale_by_amsgrad()
        >>> u, state = t.update(-2.0, t.init(0.0))
        >>> print(round(float(u), 4), float(state.nu_max))
        -1.0 4.0
    """
    _check_betas("scale_by_amsgrad", b1, b2, eps)

    def leaf(g, m, v, v_max, count):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * (g * g)
        m_hat = m / (1 - b1 ** count) if bias_correction_mu else m
        v_max = jnp.maximum(v_max, v / (1 - b2 ** count) if bias_correction_nu else v)
        return m_hat / (jnp.sqrt(v_max + eps_root) + eps), m, v, v_max

    def update_fn(updates, state, params=None):
        count = state.count + 1
        updates, mu, nu, nu_max = _map_leaves(lambda g, m, v, vm: leaf(g, m, v, vm, count), 4,
                                              updates,
                                              state.mu, state.nu, state.nu_max)
        return updates, ScaleByAmsgradState(count, mu, nu, nu_max)
    return _mu_in("scale_by_amsgrad", mu_dtype, GradientTransformation(
        lambda params: ScaleByAmsgradState(_zero_count(), _zeros_tree(params),
                                           _zeros_tree(params), _zeros_tree(params)),
        update_fn))


def amsgrad(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
            eps: float = 1e-8, eps_root: float = 0.0, mu_dtype: Any = None,
            bias_correction_mu: bool = True,
            bias_correction_nu: bool = True) -> GradientTransformation:
    """AMSGrad (Reddi et al., 2018): Adam whose denominators never shrink."""
    return chain(scale_by_amsgrad(b1, b2, eps, eps_root, mu_dtype, bias_correction_mu,
                                  bias_correction_nu), scale_by_learning_rate(learning_rate))


def scale_by_adamax(b1: float = 0.9, b2: float = 0.999,
                    eps: float = 1e-8) -> GradientTransformation:
    """AdaMax's direction: ``mu_hat / nu`` with ``nu = max(b2 * nu, |g| + eps)`` (an infinity norm).

    Examples:
        >>> t = scale_by_adamax(eps=0.0)
        >>> u, _ = t.update(-2.0, t.init(0.0))
        >>> print(round(float(u), 6))
        -1.0
    """
    _check_betas("scale_by_adamax", b1, b2, eps)
    return _moment_transform(lambda g, m, v: jnp.maximum(jnp.abs(g) + eps, b2 * v),
                             b1, b2, lambda m, v, count: m / v, bias_correct_nu=False)


def adamax(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
           eps: float = 1e-8) -> GradientTransformation:
    """AdaMax (Kingma & Ba, 2015): Adam with the infinity norm."""
    return chain(scale_by_adamax(b1, b2, eps), scale_by_learning_rate(learning_rate))


def adamaxw(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
            eps: float = 1e-8, weight_decay: ScalarOrSchedule = 1e-4,
            mask: Any = None) -> GradientTransformation:
    """AdaMax with decoupled weight decay."""
    return chain(scale_by_adamax(b1, b2, eps), add_decayed_weights(weight_decay, mask),
                 scale_by_learning_rate(learning_rate))


def scale_by_yogi(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-3, eps_root: float = 0.0,
                  initial_accumulator_value: float = 1e-6) -> GradientTransformation:
    """Yogi's direction: Adam with ``nu -= (1 - b2) * sign(nu - g**2) * g**2`` (additive).

    Both moments start at ``initial_accumulator_value``.
    """
    _check_betas("scale_by_yogi", b1, b2, eps)

    def init(params):
        full = tree_map(lambda p: jnp.full_like(p, initial_accumulator_value), params)
        return ScaleByAdamState(_zero_count(), full, full)
    return _moment_transform(
        lambda g, m, v: v - (1 - b2) * jnp.sign(v - g * g) * (g * g), b1, b2,
        lambda m, v, count: m / (jnp.sqrt(v + eps_root) + eps), init=init)


def yogi(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
         eps: float = 1e-3) -> GradientTransformation:
    """Yogi (Zaheer et al., 2018)."""
    return chain(scale_by_yogi(b1, b2, eps), scale_by_learning_rate(learning_rate))


def scale_by_radam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
                   eps_root: float = 0.0, threshold: float = 5.0, *,
                   nesterov: bool = False) -> GradientTransformation:
    """RAdam's direction: Adam's times a variance rectification ``r``, or ``mu_hat`` alone
    while the variance estimate is too young (``rho < threshold``)."""
    _check_betas("scale_by_radam", b1, b2, eps)
    ro_inf = 2.0 / (1.0 - b2) - 1.0

    def direction(m_hat, v_hat, count):
        b2t = b2 ** count
        ro = ro_inf - 2 * count * b2t / (1 - b2t)
        # The where inside the sqrt keeps young steps (ro < 4) from a NaN.
        r = jnp.sqrt(jnp.where(ro >= threshold, (ro - 4.0) * (ro - 2.0) * ro_inf
                               / ((ro_inf - 4.0) * (ro_inf - 2.0) * ro), 1.0))
        return jnp.where(ro >= threshold, r * m_hat / (jnp.sqrt(v_hat + eps_root) + eps), m_hat)
    return _moment_transform(lambda g, m, v: b2 * v + (1 - b2) * (g * g), b1, b2, direction,
                             nesterov=nesterov)


def radam(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
          eps: float = 1e-8, eps_root: float = 0.0, threshold: float = 5.0, *,
          nesterov: bool = False) -> GradientTransformation:
    """RAdam (Liu et al., 2020): Adam with a rectified, warmup-free start."""
    return chain(scale_by_radam(b1, b2, eps, eps_root, threshold, nesterov=nesterov),
                 scale_by_learning_rate(learning_rate))


class ScaleByNovogradState(NamedTuple):
    count: Any
    mu: Updates
    nu: Updates          # one scalar per leaf: the running mean of its squared norm


def scale_by_novograd(b1: float = 0.9, b2: float = 0.25, eps: float = 1e-8,
                      eps_root: float = 0.0, weight_decay: float = 0.0,
                      mu_dtype: Any = None) -> GradientTransformation:
    """NovoGrad's direction: per-layer second moments of ``||g||**2``, momentum on
    ``g / sqrt(nu) + weight_decay * p``; the first step starts both moments at their inputs."""
    _check_betas("scale_by_novograd", b1, b2, eps)

    def leaf(g, p, m, v, first):
        v = jnp.where(first, jnp.sum(g * g), b2 * v + (1 - b2) * jnp.sum(g * g))
        step = g / (jnp.sqrt(v + eps_root) + eps) + weight_decay * p
        m = jnp.where(first, step, b1 * m + step)
        return m, m, v

    def update_fn(updates, state, params=None):
        if params is None:
            raise ValueError("nanojax.optim.scale_by_novograd needs params: call "
                             "update(grads, state, params)")
        count = state.count + 1
        updates, mu, nu = _map_leaves(lambda g, p, m, v: leaf(g, p, m, v, count == 1), 3,
                                      updates, params, state.mu, state.nu)
        return updates, ScaleByNovogradState(count, mu, nu)
    return _mu_in("scale_by_novograd", mu_dtype, GradientTransformation(
        lambda params: ScaleByNovogradState(
            _zero_count(), _zeros_tree(params),
            tree_map(lambda p: jnp.zeros((), jnp.result_type(p)), params)), update_fn))


def novograd(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.25,
             eps: float = 1e-6, eps_root: float = 0.0,
             weight_decay: float = 0.0) -> GradientTransformation:
    """NovoGrad (Ginsburg et al., 2019)."""
    return chain(scale_by_novograd(b1, b2, eps, eps_root, weight_decay),
                 scale_by_learning_rate(learning_rate))


# ----- Trust ratios and block norms: LARS, LAMB, Adafactor's pieces ---------------------------

def _needs_params(fn: str, params: Any) -> None:
    if params is None:
        raise ValueError(f"nanojax.optim.{fn} needs params: call update(grads, state, params)")


def _safe_norm(x: Any, min_norm: Any) -> Any:
    """``max(||x||, min_norm)`` whose gradient is no NaN at ``x = 0`` (optax's safe_norm)."""
    norm = jnp.sqrt(jnp.sum(jnp.square(x)))
    safe_x = jnp.where(norm <= min_norm, jnp.ones_like(x), x)
    return jnp.where(norm <= min_norm, min_norm, jnp.sqrt(jnp.sum(jnp.square(safe_x))))


def _safe_rms(x: Any, min_rms: Any) -> Any:
    rms = jnp.sqrt(jnp.mean(jnp.square(x)))
    safe_x = jnp.where(rms <= min_rms, jnp.ones_like(x), x)
    return jnp.where(rms <= min_rms, min_rms, jnp.sqrt(jnp.mean(jnp.square(safe_x))))


def _with_params(fn: str, leaf: Callable[[Any, Any], Any]) -> GradientTransformation:
    def update_fn(updates, state, params=None):
        _needs_params(fn, params)
        _check_same_structure(updates, params, "updates")
        return tree_map(leaf, updates, params), state
    return GradientTransformation(lambda params: EmptyState(), update_fn)


def scale_by_trust_ratio(min_norm: float = 0.0, trust_coefficient: float = 1.0,
                         eps: float = 0.0) -> GradientTransformation:
    """Scale each leaf by ``trust_coefficient * ||p|| / (||u|| + eps)`` (1 if either norm is 0).

    Examples:
        >>> u, _ = scale_by_trust_ratio().update([3.0, 4.0], EmptyState(), [0.0, 10.0])
        >>> [float(x) for x in u]       # per leaf |p| / |u|, or 1 when |p| is 0
        [3.0, 10.0]
    """
    def leaf(u, p):
        p_norm, u_norm = _safe_norm(p, min_norm), _safe_norm(u, min_norm)
        ratio = trust_coefficient * p_norm / jnp.where(u_norm + eps == 0, 1.0, u_norm + eps)
        return u * jnp.where(jnp.logical_or(p_norm == 0, u_norm == 0), 1.0, ratio)
    return _with_params("scale_by_trust_ratio", leaf)


def lars(learning_rate: ScalarOrSchedule, weight_decay: ScalarOrSchedule = 0.0,
         weight_decay_mask: Any = True, trust_coefficient: float = 0.001, eps: float = 0.0,
         trust_ratio_mask: Any = True, momentum: float = 0.9,
         nesterov: bool = False) -> GradientTransformation:
    """LARS (You et al., 2017): weight decay, a per-layer trust ratio, then momentum."""
    return chain(add_decayed_weights(weight_decay, mask=weight_decay_mask),
                 masked(scale_by_trust_ratio(trust_coefficient=trust_coefficient, eps=eps),
                        trust_ratio_mask),
                 scale_by_learning_rate(learning_rate), trace(momentum, nesterov))


def lamb(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
         eps: float = 1e-6, eps_root: float = 0.0, weight_decay: ScalarOrSchedule = 0.0,
         mask: Any = None) -> GradientTransformation:
    """LAMB (You et al., 2020): AdamW's direction with a per-layer trust ratio."""
    return chain(scale_by_adam(b1, b2, eps, eps_root), add_decayed_weights(weight_decay, mask),
                 scale_by_trust_ratio(), scale_by_learning_rate(learning_rate))


def scale_by_param_block_norm(min_scale: float = 1e-3) -> GradientTransformation:
    """Scale each leaf's update by its param's norm (at least ``min_scale``)."""
    return _with_params("scale_by_param_block_norm", lambda u, p: u * _safe_norm(p, min_scale))


def scale_by_param_block_rms(min_scale: float = 1e-3) -> GradientTransformation:
    """Scale each leaf's update by its param's root mean square (at least ``min_scale``)."""
    return _with_params("scale_by_param_block_rms", lambda u, p: u * _safe_rms(p, min_scale))


def clip_by_block_rms(threshold: float) -> GradientTransformation:
    """Shrink each leaf so its root mean square is at most ``threshold``.

    Examples:
        >>> import numpy as np
        >>> u, _ = clip_by_block_rms(1.0).update([np.array([3.0, 4.0])], EmptyState())
        >>> [round(float(x), 4) for x in u[0]]        # rms 3.5355 -> 1
        [0.8485, 1.1314]
    """
    _number("clip_by_block_rms", "threshold", threshold)
    return _stateless(lambda u: u / jnp.maximum(1.0, jnp.sqrt(jnp.mean(jnp.square(
        jnp.asarray(u)))) / threshold))


class FactoredState(NamedTuple):
    count: Any
    v_row: Updates       # per factored leaf: running mean of g**2 over the columns
    v_col: Updates       # ... and over the rows
    v: Updates           # per unfactored leaf: running mean of g**2


def _factored_dims(shape: tuple, factored: bool, min_dim: int) -> tuple[int, int] | None:
    """The two largest axes (second largest first), if a leaf is big enough to factor."""
    if not factored or len(shape) < 2:
        return None
    order = np.argsort(shape)
    if shape[order[-2]] < min_dim:
        return None
    return int(order[-2]), int(order[-1])


def scale_by_factored_rms(factored: bool = True, decay_rate: float = 0.8, step_offset: int = 0,
                          min_dim_size_to_factor: int = 128, epsilon: float = 1e-30,
                          decay_rate_fn: Callable[[Any, Any], Any] | None = None
                          ) -> GradientTransformation:
    """Adafactor's direction: ``g / sqrt(v)`` with ``v`` kept as a row and a column factor
    for leaves with two axes of at least ``min_dim_size_to_factor`` (memory O(n + m)).

    The decay at step ``t`` is ``1 - (t + 1) ** -decay_rate`` (``decay_rate_fn``).
    """
    rate_fn = decay_rate_fn or (lambda i, exponent: 1.0 - (i + 1.0) ** (-exponent))
    one = lambda p: jnp.zeros((1,), jnp.result_type(p))    # noqa: E731 -- a placeholder leaf

    def init_fn(params):
        rows, cols, full = [], [], []
        leaves, treedef = tree_flatten(params)
        for p in leaves:
            dims = _factored_dims(jnp.shape(p), factored, min_dim_size_to_factor)
            if dims is None:
                rows.append(one(p))
                cols.append(one(p))
                full.append(jnp.zeros_like(p))
            else:
                d1, d0 = dims
                rows.append(jnp.zeros_like(jnp.sum(p, axis=d0)))
                cols.append(jnp.zeros_like(jnp.sum(p, axis=d1)))
                full.append(one(p))
        return FactoredState(_zero_count(), *(tree_unflatten(treedef, x)
                                               for x in (rows, cols, full)))

    def leaf(g, v_row, v_col, v, p, step):
        rate = rate_fn(step - step_offset, decay_rate)
        g2 = jnp.square(g) + epsilon
        dims = _factored_dims(jnp.shape(p), factored, min_dim_size_to_factor)
        if dims is None:
            v = rate * v + (1.0 - rate) * g2
            return g * v ** -0.5, v_row, v_col, v
        d1, d0 = dims
        v_row = rate * v_row + (1.0 - rate) * jnp.mean(g2, axis=d0)
        v_col = rate * v_col + (1.0 - rate) * jnp.mean(g2, axis=d1)
        reduced_d1 = d1 - 1 if d1 > d0 else d1
        row_factor = (v_row / jnp.mean(v_row, axis=reduced_d1, keepdims=True)) ** -0.5
        return (g * jnp.expand_dims(row_factor, d0) * jnp.expand_dims(v_col ** -0.5, d1),
                v_row, v_col, v)

    def update_fn(updates, state, params=None):
        _needs_params("scale_by_factored_rms", params)
        out = _map_leaves(lambda g, r, c, v, p: leaf(g, r, c, v, p, state.count), 4, updates,
                          state.v_row, state.v_col, state.v, params)
        return out[0], FactoredState(state.count + 1, *out[1:])
    return GradientTransformation(init_fn, update_fn)


def adafactor(learning_rate: ScalarOrSchedule | None = None, min_dim_size_to_factor: int = 128,
              decay_rate: float = 0.8, decay_offset: int = 0,
              multiply_by_parameter_scale: bool = True, clipping_threshold: float | None = 1.0,
              momentum: float | None = None, dtype_momentum: Any = np.float32,
              weight_decay_rate: ScalarOrSchedule | None = None, eps: float = 1e-30,
              factored: bool = True, weight_decay_mask: Any = None) -> GradientTransformation:
    """Adafactor (Shazeer & Stern, 2018): factored second moments, block-RMS clipping,
    steps relative to the params' scale."""
    tx = [scale_by_factored_rms(factored, decay_rate, decay_offset, min_dim_size_to_factor,
                                eps)]
    if clipping_threshold is not None:
        tx.append(clip_by_block_rms(clipping_threshold))
    if learning_rate is not None:
        tx.append(scale_by_learning_rate(learning_rate, flip_sign=False))
    if multiply_by_parameter_scale:
        tx.append(scale_by_param_block_rms())
    if momentum is not None:
        # nanojax keeps float64 by default: the momentum keeps the params' dtype.
        tx.append(ema(momentum, debias=False))
    if weight_decay_rate is not None:
        tx.append(add_decayed_weights(weight_decay_rate, mask=weight_decay_mask))
    tx.append(scale(-1.0))
    return chain(*tx)


# ----- Noise, signs, small per-leaf transforms -----------------------------------------------

class AddNoiseState(NamedTuple):
    count: Any
    rng_key: Any


def add_noise(eta: float, gamma: float, key: Any = None, *,
              seed: int | None = None) -> GradientTransformation:
    """Add Gaussian noise of variance ``eta / count**gamma`` (annealed) to every update.

    ``key`` is a PRNG key or an int seed (``seed`` is optax's deprecated spelling).
    """
    from nanojax import random
    if seed is not None:
        if key is not None:
            raise ValueError("nanojax.optim.add_noise: give key or seed, not both")
        key = seed
    key = 0 if key is None else key

    def init_fn(params):
        k = random.PRNGKey(key) if isinstance(key, numbers.Integral) else key
        return AddNoiseState(_zero_count(), k)

    def update_fn(updates, state, params=None):
        count = state.count + 1
        std = jnp.sqrt(eta / count ** gamma)
        rng_key, sample_key = random.split(state.rng_key)
        leaves, treedef = tree_flatten(updates)
        keys = random.split(sample_key, len(leaves)) if leaves else []
        noisy = [g + std * random.normal(k, jnp.shape(g), jnp.result_type(g))
                 for g, k in zip(leaves, keys)]
        return tree_unflatten(treedef, noisy), AddNoiseState(count, rng_key)
    return GradientTransformation(init_fn, update_fn)


def noisy_sgd(learning_rate: ScalarOrSchedule, eta: float = 0.01, gamma: float = 0.55,
              key: Any = None, *, seed: int | None = None) -> GradientTransformation:
    """SGD on gradients with annealed Gaussian noise (Neelakantan et al., 2015)."""
    return chain(add_noise(eta, gamma, key, seed=seed), scale_by_learning_rate(learning_rate))


def scale_by_sign() -> GradientTransformation:
    """Replace every update by its sign."""
    return _stateless(jnp.sign)


def sign_sgd(learning_rate: ScalarOrSchedule) -> GradientTransformation:
    """signSGD: ``p -= lr * sign(g)``."""
    return chain(scale_by_sign(), scale_by_learning_rate(learning_rate))


def signum(learning_rate: ScalarOrSchedule, beta: float = 0.9,
           accumulator_dtype: Any = None) -> GradientTransformation:
    """Signum: steps of the sign of a (non-debiased) momentum."""
    return chain(ema(beta, debias=False, accumulator_dtype=accumulator_dtype), scale_by_sign(),
                 scale_by_learning_rate(learning_rate))


class ZeroNansState(NamedTuple):
    found_nan: Any       # per leaf: whether the last update had a NaN


def zero_nans() -> GradientTransformation:
    """Replace NaNs in the updates by 0, and note per leaf whether there were any.

    Examples:
        >>> u, state = zero_nans().update([float("nan"), 1.0], ZeroNansState([False, False]))
        >>> [float(x) for x in u], [bool(b) for b in state.found_nan]
        ([0.0, 1.0], [True, False])
    """
    def update_fn(updates, state, params=None):
        found = tree_map(lambda g: jnp.any(jnp.isnan(g)), updates)
        return tree_map(lambda g: jnp.where(jnp.isnan(g), jnp.zeros_like(g), g), updates), \
            ZeroNansState(found)
    return GradientTransformation(
        lambda params: ZeroNansState(tree_map(lambda p: np.array(False), params)), update_fn)


def keep_params_nonnegative() -> GradientTransformation:
    """Change updates that would make a param negative so that it lands on 0 instead."""
    return _with_params("keep_params_nonnegative",
                        lambda u, p: jnp.where(p + u < 0.0, -p, u))


def centralize() -> GradientTransformation:
    """Gradient centralization: a leaf of rank >= 2 loses its mean over all axes but the first."""
    def leaf(g):
        if jnp.ndim(g) < 2:
            return g
        return g - jnp.mean(g, axis=tuple(range(1, jnp.ndim(g))), keepdims=True)
    return _stateless(leaf)


class ApplyEvery(NamedTuple):
    count: Any
    grad_acc: Updates


def apply_every(k: int = 1) -> GradientTransformation:
    """Sum the updates over ``k`` steps and emit the sum every ``k``-th step (0 in between)."""
    if not (isinstance(k, numbers.Integral) and k >= 1):
        raise ValueError(f"nanojax.optim.apply_every: k must be a positive int, got {k!r}")

    def update_fn(updates, state, params=None):
        c = state.count % k
        acc = tree_map(lambda g, a: jnp.where(c != 0, a, jnp.zeros_like(a)) + g, updates,
                       state.grad_acc)
        emit = c == k - 1
        out = tree_map(lambda a: jnp.where(emit, a, jnp.zeros_like(a)), acc)
        return out, ApplyEvery(jnp.astype((state.count + 1) % k, np.int32), acc)
    return GradientTransformation(
        lambda params: ApplyEvery(_zero_count(), _zeros_tree(params)), update_fn)


# ----- Hyperparameters as state -----------------------------------------------------------

class InjectHyperparamsState(NamedTuple):
    count: Any
    hyperparams: dict[str, Any]      # the numeric hyperparameters' current values
    inner_state: Any


def inject_hyperparams(inner_factory: Callable[..., GradientTransformation],
                       static_args: str | tuple[str, ...] | list[str] = (),
                       hyperparam_dtype: Any = None) -> Callable[..., GradientTransformation]:
    """Wrap an optimizer factory so its numeric hyperparameters live in the state.

    ``inject_hyperparams(adam)(learning_rate=schedule)`` evaluates every
    schedule argument at each step and keeps every number in
    ``state.hyperparams``, where a training loop can read it (or change it).

    Examples:
        >>> opt = inject_hyperparams(sgd)(learning_rate=lambda count: 0.1 / (count + 1))
        >>> state = opt.init(0.0)
        >>> u, state = opt.update(1.0, state)
        >>> u, state = opt.update(1.0, state)
        >>> print(round(float(u), 6), float(state.hyperparams["learning_rate"]))
        -0.05 0.05
    """
    import functools
    import inspect
    static = {static_args} if isinstance(static_args, str) else set(static_args)
    signature = inspect.signature(inner_factory)
    if not static <= set(signature.parameters):
        raise ValueError("nanojax.optim.inject_hyperparams: static_args must name parameters "
                         f"of the factory, got {sorted(static)} for "
                         f"{sorted(signature.parameters)}")

    @functools.wraps(inner_factory)
    def wrapped(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        schedules, numbers_, other = {}, {}, {}
        for name, value in bound.arguments.items():
            # Types (dtype_momentum=np.float32) are callable, but no schedule.
            if name in static or isinstance(value, (bool, type, np.dtype)):
                other[name] = value
            elif callable(value):
                schedules[name] = value
            elif isinstance(value, (int, float, np.ndarray, np.generic, Tracer)):
                numbers_[name] = value
            else:
                other[name] = value

        def dtype_of(params):
            if hyperparam_dtype is not None:
                return hyperparam_dtype
            kinds = [jnp.result_type(x) for x in tree_leaves(params)]
            floats = [d for d in kinds if np.issubdtype(d, np.floating)]
            return np.result_type(*floats) if floats else np.float64

        def as_hyper(v, dtype):
            if isinstance(v, (float, np.floating)) or (
                    hasattr(v, "dtype") and np.issubdtype(v.dtype, np.floating)):
                return jnp.asarray(v, dtype=dtype)
            return jnp.asarray(v)

        def init_fn(params):
            dtype = dtype_of(params)
            hp = {k: as_hyper(v, dtype) for k, v in numbers_.items()}
            hp.update({k: as_hyper(f(_zero_count()), dtype) for k, f in schedules.items()})
            return InjectHyperparamsState(_zero_count(), hp,
                                          inner_factory(**other, **hp).init(params))

        def update_fn(updates, state, params=None, **extra_args):
            dtype = dtype_of(updates if params is None else params)
            hp = dict(state.hyperparams)
            hp.update({k: as_hyper(f(state.count), dtype) for k, f in schedules.items()})
            inner = with_extra_args_support(inner_factory(**other, **hp))
            updates, inner_state = inner.update(updates, state.inner_state, params,
                                                **extra_args)
            return updates, InjectHyperparamsState(state.count + 1, hp, inner_state)
        return GradientTransformationExtraArgs(init_fn, update_fn)
    return wrapped


def incremental_update(new_tensors: Params, old_tensors: Params, step_size: Any) -> Params:
    """Polyak averaging: ``step_size * new + (1 - step_size) * old``, leaf by leaf.

    Examples:
        >>> incremental_update({"w": 1.0}, {"w": 0.0}, 0.25)
        {'w': 0.25}
    """
    _check_same_structure(new_tensors, old_tensors, "new_tensors")
    return tree_map(lambda new, old: step_size * new + (1.0 - step_size) * old,
                    new_tensors, old_tensors)


def periodic_update(new_tensors: Params, old_tensors: Params, steps: Any,
                    update_period: int) -> Params:
    """``new_tensors`` when ``steps % update_period == 0``, else ``old_tensors``.

    Examples:
        >>> periodic_update({"w": 1.0}, {"w": 0.0}, 4, 2)
        {'w': 1.0}
    """
    _check_same_structure(new_tensors, old_tensors, "new_tensors")
    take = steps % update_period == 0
    if not isinstance(take, Tracer) and np.ndim(take) == 0:
        return new_tensors if bool(take) else old_tensors
    return _where_tree(take, new_tensors, old_tensors)


# ----- More schedules -----------------------------------------------------------------------

def piecewise_interpolate_schedule(interpolate_type: str, init_value: float,
                                   boundaries_and_scales: dict[int, float] | None = None
                                   ) -> Schedule:
    """Values ``init_value * prod(scales so far)`` at the boundaries, joined by
    ``'linear'`` or ``'cosine'`` interpolation; constant after the last boundary.

    Examples:
        >>> s = piecewise_interpolate_schedule("linear", 1.0, {10: 0.5, 20: 0.0})
        >>> [float(s(c)) for c in (0, 5, 10, 15, 20, 30)]
        [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """
    if interpolate_type not in ("linear", "cosine"):
        raise ValueError("nanojax.optim.piecewise_interpolate_schedule: interpolate_type must be "
                         f"'linear' or 'cosine', got {interpolate_type!r}")
    _number("piecewise_interpolate_schedule", "init_value", init_value)
    items = sorted((boundaries_and_scales or {}).items())
    if any(factor < 0 for _, factor in items):
        raise ValueError("nanojax.optim.piecewise_interpolate_schedule: the scales must be "
                         f"non-negative, got {[f for _, f in items]}")
    bounds = [0] + [b for b, _ in items]
    values = list(np.cumprod([init_value] + [f for _, f in items]))

    def schedule(count):
        value = values[-1] * (count >= bounds[-1])
        for lo, hi, a, b in zip(bounds[:-1], bounds[1:], values[:-1], values[1:]):
            pct = (count - lo) / max(hi - lo, 1)
            if interpolate_type == "linear":
                between = a + pct * (b - a)
            else:
                between = b + (a - b) * 0.5 * (1.0 + jnp.cos(np.pi * pct))
            value = value + jnp.where(jnp.logical_and(lo <= count, count < hi), between, 0.0)
        return value
    return schedule


def linear_onecycle_schedule(transition_steps: int, peak_value: float, pct_start: float = 0.3,
                             pct_final: float = 0.85, div_factor: float = 25.0,
                             final_div_factor: float = 1e4) -> Schedule:
    """The one-cycle policy (Smith, 2018), linearly: up from ``peak / div_factor`` to ``peak``
    by ``pct_start``, back down by ``pct_final``, then to ``peak / (div * final_div)``.

    Examples:
        >>> s = linear_onecycle_schedule(100, 1.0)
        >>> [round(float(s(c)), 4) for c in (0, 30, 85, 100)]
        [0.04, 1.0, 0.04, 0.0]
    """
    _check_positive_steps("linear_onecycle_schedule", transition_steps)
    return piecewise_interpolate_schedule("linear", peak_value / div_factor, {
        int(pct_start * transition_steps): div_factor,
        int(pct_final * transition_steps): 1.0 / div_factor,
        transition_steps: 1.0 / final_div_factor})


def cosine_onecycle_schedule(transition_steps: int, peak_value: float, pct_start: float = 0.3,
                             div_factor: float = 25.0, final_div_factor: float = 1e4
                             ) -> Schedule:
    """The one-cycle policy with cosine ramps: up to ``peak_value`` by ``pct_start``, then down
    to ``peak / (div_factor * final_div_factor)``."""
    _check_positive_steps("cosine_onecycle_schedule", transition_steps)
    return piecewise_interpolate_schedule("cosine", peak_value / div_factor, {
        int(pct_start * transition_steps): div_factor,
        int(transition_steps): 1.0 / (div_factor * final_div_factor)})


def warmup_constant_schedule(init_value: float, peak_value: float,
                             warmup_steps: int) -> Schedule:
    """A linear warmup to ``peak_value``, then constant."""
    return linear_schedule(init_value, peak_value, warmup_steps)


def warmup_exponential_decay_schedule(init_value: float, peak_value: float, warmup_steps: int,
                                      transition_steps: int, decay_rate: float,
                                      transition_begin: int = 0, staircase: bool = False,
                                      end_value: float | None = None) -> Schedule:
    """A linear warmup to ``peak_value``, then ``exponential_decay`` from there.

    Examples:
        >>> s = warmup_exponential_decay_schedule(0.0, 1.0, 10, 10, 0.5)
        >>> [float(s(c)) for c in (0, 5, 10, 20)]
        [0.0, 0.5, 1.0, 0.5]
    """
    return join_schedules([linear_schedule(init_value, peak_value, warmup_steps),
                           exponential_decay(peak_value, transition_steps, decay_rate,
                                             transition_begin, staircase, end_value)],
                          [warmup_steps])


def sgdr_schedule(cosine_kwargs: Any) -> Schedule:
    """SGDR (Loshchilov & Hutter, 2017): warm restarts, one ``warmup_cosine_decay_schedule``
    per dict of its keyword arguments, each after the previous one's ``decay_steps``."""
    schedules, boundaries, step = [], [], 0
    for kwargs in cosine_kwargs:
        schedules.append(warmup_cosine_decay_schedule(**kwargs))
        step += kwargs["decay_steps"]
        boundaries.append(step)
    if not schedules:
        raise ValueError("nanojax.optim.sgdr_schedule: needs at least one cycle's kwargs")
    return join_schedules(schedules, boundaries[:-1])


# ----- More of optax's losses -------------------------------------------------------------------

def _floating(fn: str, **arrays: Any) -> None:
    for name, x in arrays.items():
        if not np.issubdtype(jnp.result_type(x), np.floating):
            raise TypeError(f"nanojax.optim.{fn}: {name} must be floating point, got dtype "
                            f"{jnp.result_type(x)}")


def smooth_labels(labels: Any, alpha: float) -> Any:
    """Label smoothing: ``(1 - alpha) * labels + alpha / num_categories`` (last axis).

    Examples:
        >>> print(smooth_labels([[0.0, 1.0]], 0.2))
        [[0.1 0.9]]
    """
    labels = jnp.asarray(labels)
    _floating("smooth_labels", labels=labels)
    return (1.0 - alpha) * labels + alpha / jnp.shape(labels)[-1]


def safe_softmax_cross_entropy(logits: Any, labels: Any) -> Any:
    """``softmax_cross_entropy`` that stays finite where a logit is ``-inf`` and its label 0.

    Examples:
        >>> print(safe_softmax_cross_entropy([[0.0, -float("inf")]], [[1.0, 0.0]]))
        [0.]
    """
    logits, labels = jnp.asarray(logits), jnp.asarray(labels)
    _floating("safe_softmax_cross_entropy", logits=logits)
    log_p = nn.log_softmax(logits, axis=-1)
    # Masked where the label is 0: 0 * -inf would be NaN; the where also keeps it out
    # of the gradient.
    # 0 - x, not -x: a perfect prediction costs 0.0, not -0.0.
    return jnp.subtract(0.0, jnp.sum(jnp.where(labels != 0.0, labels * jnp.where(
        labels != 0.0, log_p, 0.0), 0.0), axis=-1))


def cosine_similarity(predictions: Any, targets: Any, *, epsilon: float = 0.0,
                      axis: int = -1) -> Any:
    """The cosine of the angle between ``predictions`` and ``targets`` along ``axis``;
    each squared norm is clipped below at ``epsilon``.

    Examples:
        >>> print(cosine_similarity([[1.0, 0.0]], [[1.0, 1.0]]).round(4))
        [0.7071]
    """
    a, b = jnp.asarray(predictions), jnp.asarray(targets)
    _floating("cosine_similarity", predictions=a, targets=b)
    a_norm = jnp.sqrt(jnp.maximum(jnp.sum(jnp.square(a), axis=axis, keepdims=True), epsilon))
    b_norm = jnp.sqrt(jnp.maximum(jnp.sum(jnp.square(b), axis=axis, keepdims=True), epsilon))
    return jnp.sum((a / a_norm) * (b / b_norm), axis=axis)


def cosine_distance(predictions: Any, targets: Any, *, epsilon: float = 0.0,
                    axis: int = -1) -> Any:
    """``1 - cosine_similarity``."""
    return 1.0 - cosine_similarity(predictions, targets, epsilon=epsilon, axis=axis)


def sigmoid_focal_loss(logits: Any, labels: Any, *, alpha: float | None = None,
                       gamma: float = 2.0) -> Any:
    """Focal loss (Lin et al., 2017): the sigmoid cross entropy times ``(1 - p_t) ** gamma``,
    which turns down easy examples; ``alpha`` weighs positives against negatives.

    Examples:
        >>> print(sigmoid_focal_loss([0.0], [1.0], gamma=2.0).round(4))    # log 2 / 4
        [0.1733]
    """
    logits = jnp.asarray(logits)
    _floating("sigmoid_focal_loss", logits=logits)
    labels = jnp.astype(jnp.asarray(labels), jnp.result_type(logits))
    ce = sigmoid_binary_cross_entropy(logits, labels)
    # log(1 - p_t) in logs throughout, so large logits neither overflow nor give 0 * inf.
    y_prime = jnp.where(labels >= 0.5, labels, 1.0 - labels)
    x_prime = jnp.where(labels >= 0.5, -logits, logits)
    # For hard labels (y_prime = 1) the softplus term is softplus(-inf) = 0: taken
    # by a where, so log1p(-1) is never evaluated.
    soft = y_prime < 1.0
    y_soft = jnp.where(soft, y_prime, 0.5)
    log_one_minus_p_t = nn.log_sigmoid(x_prime) + jnp.log(y_prime) + jnp.where(
        soft, nn.softplus(-x_prime + jnp.log1p(-y_soft) - jnp.log(y_soft)), 0.0)
    loss = ce * jnp.exp(gamma * log_one_minus_p_t)
    if alpha is None:
        return loss
    return (alpha * labels + (1.0 - alpha) * (1.0 - labels)) * loss


def multiclass_hinge_loss(scores: Any, labels: Any) -> Any:
    """``max_j(s_j + 1 - [j == y]) - s_y``: the Crammer-Singer multiclass hinge.

    Examples:
        >>> print(multiclass_hinge_loss([[3.0, 1.0, 2.5]], [0]))
        [0.5]
    """
    scores = jnp.asarray(scores)
    one_hot = nn.one_hot(labels, jnp.shape(scores)[-1], dtype=jnp.result_type(scores))
    return jnp.max(scores + 1.0 - one_hot, axis=-1) - jnp.sum(scores * one_hot, axis=-1)


def hinge_loss(predictor_outputs: Any, targets: Any) -> Any:
    """``max(0, 1 - outputs * targets)``, targets +1 or -1 (not checked, as in optax).

    Examples:
        >>> print(hinge_loss([0.5, 2.0], [1.0, -1.0]))
        [0.5 3. ]
    """
    return jnp.maximum(0.0, 1.0 - jnp.multiply(predictor_outputs, targets))


def perceptron_loss(predictor_outputs: Any, targets: Any) -> Any:
    """``max(0, -outputs * targets)``, targets +1 or -1."""
    if jnp.shape(predictor_outputs) != jnp.shape(targets):
        raise ValueError("nanojax.optim.perceptron_loss: predictor_outputs and targets must "
                         f"have the same shape, got {jnp.shape(predictor_outputs)} and "
                         f"{jnp.shape(targets)}")
    return jnp.maximum(0.0, jnp.negative(jnp.multiply(predictor_outputs, targets)))


def log_cosh(predictions: Any, targets: Any = None) -> Any:
    """``log(cosh(predictions - targets))``, stably: about ``e**2 / 2`` near 0, ``|e| - log 2`` far.

    Examples:
        >>> print(log_cosh([0.0, 1000.0]).round(4))
        [  0.     999.3069]
    """
    predictions = jnp.asarray(predictions)
    _floating("log_cosh", predictions=predictions)
    errors = predictions if targets is None else predictions - targets
    return jnp.logaddexp(errors, -errors) - np.log(2.0)


def kl_divergence(log_predictions: Any, targets: Any, axis: int | None = -1) -> Any:
    """``sum(targets * (log(targets) - log_predictions))`` over ``axis`` (``0 log 0 = 0``).

    Examples:
        >>> import numpy as np
        >>> print(kl_divergence(np.log([[0.5, 0.5]]), [[1.0, 0.0]]).round(4))
        [0.6931]
    """
    log_predictions, targets = jnp.asarray(log_predictions), jnp.asarray(targets)
    _floating("kl_divergence", log_predictions=log_predictions, targets=targets)
    log_t = jnp.log(jnp.where(targets == 0, 1.0, targets))    # 0 where targets are 0
    return jnp.sum(targets * (log_t - log_predictions), axis=axis)


def squared_error(predictions: Any, targets: Any = None) -> Any:
    """``(predictions - targets) ** 2`` per element (targets default to zeros).

    Examples:
        >>> print(squared_error([1.0, 3.0], [0.0, 1.0]))
        [1. 4.]
    """
    errors = predictions if targets is None else jnp.subtract(predictions, targets)
    return jnp.square(errors)


# ----- A few more of optax's transforms, optimizers and losses -----------------------------------

__all__ += ["named_chain", "ConditionallyTransformState", "conditionally_transform",
            "ConditionallyMaskState", "conditionally_mask", "ScaleByAdanState", "scale_by_adan",
            "adan", "ScaleByOptimisticGradientState", "scale_by_optimistic_gradient",
            "optimistic_gradient_descent", "kl_divergence_with_log_targets",
            "generalized_kl_divergence", "convex_kl_divergence", "multiclass_perceptron_loss",
            "poly_loss_cross_entropy", "ctc_loss", "ctc_loss_with_forward_probs"]


def named_chain(*transforms: tuple[str, GradientTransformation]
                ) -> GradientTransformationExtraArgs:
    """``chain`` of ``(name, transform)`` pairs whose state is a dict by name.

    Examples:
        >>> opt = named_chain(("clip", clip(1.0)), ("lr", scale(-0.5)))
        >>> u, state = opt.update(4.0, opt.init(0.0))
        >>> print(float(u), sorted(state))
        -0.5 ['clip', 'lr']
    """
    names = [name for name, _ in transforms]
    if len(set(names)) != len(names):
        raise ValueError(f"nanojax.optim.named_chain: the names must be unique, got {names}")
    inner = chain(*(t for _, t in transforms))

    def init_fn(params):
        return dict(zip(names, inner.init(params)))

    def update_fn(updates, state, params=None, **extra_args):
        updates, states = inner.update(updates, tuple(state[n] for n in names), params,
                                       **extra_args)
        return updates, dict(zip(names, states))
    return GradientTransformationExtraArgs(init_fn, update_fn)


class ConditionallyTransformState(NamedTuple):
    inner_state: Any
    step: Any


class ConditionallyMaskState(NamedTuple):
    step: Any
    inner_state: Any


def _conditionally(inner: GradientTransformation, should_transform_fn: Callable[..., Any],
                   forward_extra_args: bool, zero_when_off: bool
                   ) -> GradientTransformationExtraArgs:
    inner_x = with_extra_args_support(inner)

    def update_fn(updates, state, params=None, **extra_args):
        on = should_transform_fn(state.step, **(extra_args if forward_extra_args else {}))
        new, inner_state = inner_x.update(updates, state.inner_state, params, **extra_args)
        off = _zeros_tree(new) if zero_when_off else updates
        new = _where_tree(on, new, off)
        inner_state = _where_tree(on, inner_state, state.inner_state)
        if zero_when_off:
            return new, ConditionallyMaskState(state.step + 1, inner_state)
        return new, ConditionallyTransformState(inner_state, state.step + 1)

    def init_fn(params):
        if zero_when_off:
            return ConditionallyMaskState(_zero_count(), inner.init(params))
        return ConditionallyTransformState(inner.init(params), _zero_count())
    return GradientTransformationExtraArgs(init_fn, update_fn)


def conditionally_transform(inner: GradientTransformation,
                            should_transform_fn: Callable[..., Any],
                            forward_extra_args: bool = False) -> GradientTransformationExtraArgs:
    """Apply ``inner`` on the steps where ``should_transform_fn(step)`` is True; on the
    others pass the updates through unchanged (and keep ``inner``'s state).

    Examples:
        >>> t = conditionally_transform(scale(10.0), lambda step: step >= 1)
        >>> state = t.init(0.0)
        >>> u0, state = t.update(1.0, state)
        >>> u1, state = t.update(1.0, state)
        >>> print(float(u0), float(u1))
        1.0 10.0
    """
    return _conditionally(inner, should_transform_fn, forward_extra_args, zero_when_off=False)


def conditionally_mask(inner: GradientTransformation, should_transform_fn: Callable[..., Any],
                       forward_extra_args: bool = False) -> GradientTransformationExtraArgs:
    """As ``conditionally_transform``, but the updates are zeros on the steps it is off."""
    return _conditionally(inner, should_transform_fn, forward_extra_args, zero_when_off=True)


class ScaleByAdanState(NamedTuple):
    m: Updates           # running mean of gradients
    v: Updates           # running mean of gradient differences
    n: Updates           # running mean of squared (gradient + (1 - b2) * difference)
    g: Updates           # the previous gradient
    t: Any               # the step count


def scale_by_adan(b1: float = 0.98, b2: float = 0.92, b3: float = 0.99, eps: float = 1e-8,
                  eps_root: float = 0.0) -> GradientTransformation:
    """Adan's direction (Xie et al., 2022): Nesterov momentum from gradient differences."""
    for name, b in (("b1", b1), ("b2", b2), ("b3", b3)):
        _check_unit("scale_by_adan", name, b, closed=False)

    def leaf(g, m, v, n, g_prev, t):
        diff = jnp.where(t == 1, jnp.zeros_like(g), g - g_prev)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * diff
        n = b3 * n + (1 - b3) * jnp.square(g + (1 - b2) * diff)
        step = m / (1 - b1 ** t) + (1 - b2) * (v / (1 - b2 ** t))
        return step / (jnp.sqrt(n / (1 - b3 ** t) + eps_root) + eps), m, v, n

    def update_fn(updates, state, params=None):
        t = state.t + 1
        out, m, v, n = _map_leaves(lambda g, m, v, n, prev: leaf(g, m, v, n, prev, t), 4,
                                   updates, state.m, state.v, state.n, state.g)
        return out, ScaleByAdanState(m, v, n, updates, t)
    return GradientTransformation(
        lambda params: ScaleByAdanState(_zeros_tree(params), _zeros_tree(params),
                                        _zeros_tree(params), _zeros_tree(params),
                                        _zero_count()), update_fn)


def adan(learning_rate: ScalarOrSchedule, b1: float = 0.98, b2: float = 0.92,
         b3: float = 0.99, eps: float = 1e-8, eps_root: float = 1e-8,
         weight_decay: ScalarOrSchedule = 0.0, mask: Any = None) -> GradientTransformation:
    """Adan (Xie et al., 2022), with decoupled weight decay."""
    return chain(scale_by_adan(b1, b2, b3, eps, eps_root),
                 add_decayed_weights(weight_decay, mask), scale_by_learning_rate(learning_rate))


class ScaleByOptimisticGradientState(NamedTuple):
    is_initial_step: Any
    previous_gradient: Updates


def scale_by_optimistic_gradient(alpha: float = 1.0,
                                 beta: float = 1.0) -> GradientTransformation:
    """Optimistic gradient: ``(alpha + beta) * g - beta * g_prev`` (``g_prev = g`` at first).

    Examples:
        >>> t = scale_by_optimistic_gradient()
        >>> state = t.init(0.0)
        >>> u, state = t.update(1.0, state)
        >>> u, state = t.update(3.0, state)       # 2 * 3 - 1
        >>> print(float(u))
        5.0
    """
    def update_fn(updates, state, params=None):
        new = tree_map(lambda g, prev: (alpha + beta) * g - beta * jnp.where(
            state.is_initial_step, g, prev), updates, state.previous_gradient)
        return new, ScaleByOptimisticGradientState(np.array(False), updates)
    return GradientTransformation(
        lambda params: ScaleByOptimisticGradientState(np.array(True), _zeros_tree(params)),
        update_fn)


def optimistic_gradient_descent(learning_rate: ScalarOrSchedule, alpha: float = 1.0,
                                beta: float = 1.0) -> GradientTransformation:
    """Optimistic gradient descent (for min-max games)."""
    return chain(scale_by_optimistic_gradient(alpha, beta),
                 scale_by_learning_rate(learning_rate))


def kl_divergence_with_log_targets(log_predictions: Any, log_targets: Any,
                                   axis: int | None = -1) -> Any:
    """``sum(exp(log_targets) * (log_targets - log_predictions))`` over ``axis``."""
    log_predictions, log_targets = jnp.asarray(log_predictions), jnp.asarray(log_targets)
    _floating("kl_divergence_with_log_targets", log_predictions=log_predictions,
              log_targets=log_targets)
    return jnp.sum(jnp.exp(log_targets) * (log_targets - log_predictions), axis=axis)


def generalized_kl_divergence(log_predictions: Any, targets: Any,
                              axis: int | None = -1) -> Any:
    """``kl_divergence`` plus ``sum(exp(log_predictions) - targets)``: convex, for
    unnormalized measures."""
    return kl_divergence(log_predictions, targets, axis=axis) + jnp.sum(
        jnp.exp(jnp.asarray(log_predictions)) - jnp.asarray(targets), axis=axis)


convex_kl_divergence = generalized_kl_divergence     # optax's older name


def multiclass_perceptron_loss(scores: Any, labels: Any) -> Any:
    """``max_j s_j - s_y``.

    Examples:
        >>> print(multiclass_perceptron_loss([[3.0, 1.0, 2.5]], [2]))
        [0.5]
    """
    scores = jnp.asarray(scores)
    one_hot = nn.one_hot(labels, jnp.shape(scores)[-1], dtype=jnp.result_type(scores))
    return jnp.max(scores, axis=-1) - jnp.sum(scores * one_hot, axis=-1)


def poly_loss_cross_entropy(logits: Any, labels: Any, epsilon: float = 2.0) -> Any:
    """PolyLoss (Leng et al., 2022): ``softmax_cross_entropy + epsilon * sum(labels * (1 - p))``."""
    logits, labels = jnp.asarray(logits), jnp.asarray(labels)
    _floating("poly_loss_cross_entropy", logits=logits, labels=labels)
    one_minus_pt = jnp.sum(labels * (1.0 - nn.softmax(logits, axis=-1)), axis=-1)
    return softmax_cross_entropy(logits, labels) + epsilon * one_minus_pt


def ctc_loss_with_forward_probs(logits: Any, logit_paddings: Any, labels: Any,
                                label_paddings: Any, blank_id: int = 0,
                                log_epsilon: float = -1e5) -> tuple[Any, Any]:
    """CTC's per-sequence loss and the forward log-probabilities ``alpha``, shape
    ``(T, B, 2 * N + 1)`` over the blank-interleaved labels.

    ``log_epsilon`` stands for ``log 0`` (finite, so gradients stay finite).
    Unlike optax's, the second result is this one array of ``alpha``, not
    optax's split into blank and label parts.
    """
    logits, labels = jnp.asarray(logits), jnp.asarray(labels)
    logit_paddings, label_paddings = jnp.asarray(logit_paddings), jnp.asarray(label_paddings)
    if jnp.ndim(logits) != 3 or jnp.ndim(labels) != 2:
        raise ValueError("nanojax.optim.ctc_loss: expected logits of shape (B, T, K) and "
                         f"labels of shape (B, N), got {jnp.shape(logits)} and "
                         f"{jnp.shape(labels)}")
    (b, t_max, _), n = jnp.shape(logits), jnp.shape(labels)[1]
    if jnp.shape(labels)[0] != b or jnp.shape(label_paddings) != jnp.shape(labels) \
            or jnp.shape(logit_paddings) != (b, t_max):
        raise ValueError(f"nanojax.optim.ctc_loss: expected logit_paddings of shape {(b, t_max)}"
                         f" and labels and label_paddings of shape ({b}, N), got "
                         f"{jnp.shape(logit_paddings)}, {jnp.shape(labels)} and "
                         f"{jnp.shape(label_paddings)}")
    from nanojax import lax
    s = 2 * n + 1
    # The extended labels: blank, l1, blank, l2, ..., blank.
    ext = jnp.stack([jnp.full_like(labels, blank_id), labels], axis=-1).reshape((b, 2 * n))
    ext = jnp.concatenate([ext, jnp.full((b, 1), blank_id, ext.dtype)], axis=1)
    # A label may be reached from two back (skipping a blank) unless it repeats.
    skip = jnp.concatenate([jnp.zeros((b, 2), bool), jnp.logical_and(
        ext[:, 2:] != blank_id, ext[:, 2:] != ext[:, :-2])], axis=1)
    emit = jnp.take_along_axis(nn.log_softmax(logits, axis=-1),
                               jnp.broadcast_to(ext[:, None, :], (b, t_max, s)), axis=-1)
    floor = jnp.full((b, 1), log_epsilon)

    def step(alpha, frame):
        emit_t, pad_t = frame
        one_back = jnp.concatenate([floor, alpha[:, :-1]], axis=1)
        two_back = jnp.concatenate([floor, floor, alpha[:, :-2]], axis=1)
        new = jnp.logaddexp(jnp.logaddexp(alpha, one_back),
                            jnp.where(skip, two_back, log_epsilon)) + emit_t
        new = jnp.where(pad_t[:, None] > 0, alpha, new)      # padded frames change nothing
        return new, new

    # Before the first frame only the virtual start (index 0's predecessor) is reachable.
    start = jnp.concatenate([jnp.zeros((b, 1)), jnp.full((b, s - 1), log_epsilon)], axis=1)
    last, alphas = lax.scan(step, start, (jnp.transpose(emit, (1, 0, 2)),
                                          jnp.transpose(logit_paddings)))
    length = n - jnp.astype(jnp.sum(label_paddings, axis=1), np.int32)
    at_end = jnp.take_along_axis(last, (2 * length)[:, None], axis=1)[:, 0]
    before_end = jnp.take_along_axis(last, jnp.maximum(2 * length - 1, 0)[:, None], axis=1)[:, 0]
    total = jnp.logaddexp(at_end, jnp.where(length > 0, before_end, log_epsilon))
    return jnp.subtract(0.0, total), alphas


def ctc_loss(logits: Any, logit_paddings: Any, labels: Any, label_paddings: Any,
             blank_id: int = 0, log_epsilon: float = -1e5) -> Any:
    """Connectionist temporal classification: ``-log p(labels | logits)`` summed over all
    alignments, one value per sequence.

    ``logits`` is ``(B, T, K)``; ``labels`` ``(B, N)`` integer classes; the
    paddings are 1.0 where a frame or a label is padding.

    Examples:
        >>> import numpy as np
        >>> logits = np.zeros((1, 2, 2))           # two frames, uniform over {blank, a}
        >>> print(ctc_loss(logits, np.zeros((1, 2)), np.array([[1]]), np.zeros((1, 1))).round(4))
        [0.2877]
    """
    return ctc_loss_with_forward_probs(logits, logit_paddings, labels, label_paddings,
                                       blank_id, log_epsilon)[0]


__all__ += ["normalize_by_update_norm", "scale_by_polyak", "polyak_sgd", "fromage",
            "optimistic_adam_v2"]


def normalize_by_update_norm(scale_factor: float = 1.0,
                             eps: float = 1e-6) -> GradientTransformation:
    """Divide the updates by ``(global_norm + eps) / scale_factor``: steps of fixed length.

    Examples:
        >>> u, _ = normalize_by_update_norm(eps=0.0).update([3.0, 4.0], EmptyState())
        >>> [round(float(x), 6) for x in u]
        [0.6, 0.8]
    """
    def update_fn(updates, state, params=None):
        norm = (global_norm(updates) + eps) / scale_factor
        return tree_map(lambda g: g / norm, updates), state
    return GradientTransformation(lambda params: EmptyState(), update_fn)


def scale_by_polyak(f_min: float = 0.0, max_learning_rate: float = 1.0, eps: float = 0.0,
                    variant: str = "sps") -> GradientTransformationExtraArgs:
    """Polyak's step size: scale by ``min((value - f_min) / (||g||**2 + eps), max_learning_rate)``.

    ``update`` needs the loss as ``value=``; ``variant='sps+'`` clips the gap
    ``value - f_min`` at 0.

    Examples:
        >>> t = scale_by_polyak()
        >>> u, _ = t.update(2.0, EmptyState(), value=2.0)     # (2 - 0) / 4 = 0.5
        >>> print(float(u))
        1.0
    """
    if variant not in ("sps", "sps+"):
        raise ValueError(f"nanojax.optim.scale_by_polyak: variant must be 'sps' or 'sps+', "
                         f"got {variant!r}")

    def update_fn(updates, state, params=None, *, value=None, **extra_args):
        if value is None:
            raise TypeError("nanojax.optim.scale_by_polyak needs the loss: call "
                            "update(grads, state, params, value=loss)")
        sq_norm = sum(jnp.sum(jnp.square(g)) for g in tree_leaves(updates))
        gap = value - f_min
        if variant == "sps+":
            gap = jnp.maximum(gap, 0.0)
        tiny = sq_norm + eps <= np.finfo(float).eps
        step = jnp.where(tiny, 0.0, jnp.minimum(
            gap / jnp.where(tiny, 1.0, sq_norm + eps), max_learning_rate))
        return tree_map(lambda g: step * g, updates), state
    return GradientTransformationExtraArgs(lambda params: EmptyState(), update_fn)


def polyak_sgd(max_learning_rate: float = 1.0, scaling: ScalarOrSchedule = 1.0,
               f_min: float = 0.0, eps: float = 0.0,
               variant: str = "sps") -> GradientTransformationExtraArgs:
    """SGD with Polyak's step size (Loizou et al., 2021); ``update`` needs ``value=loss``."""
    return chain(sgd(learning_rate=scaling),
                 scale_by_polyak(f_min, max_learning_rate, eps, variant))


def fromage(learning_rate: ScalarOrSchedule, min_norm: float = 1e-6) -> GradientTransformation:
    """Fromage (Bernstein et al., 2020): trust-ratio steps that shrink the params by
    ``1 / sqrt(1 + lr**2)``."""
    if callable(learning_rate):
        mult = lambda c: 1 / (1 + learning_rate(c) ** 2) ** 0.5      # noqa: E731
        return chain(scale_by_trust_ratio(min_norm),
                     scale_by_learning_rate(lambda c: mult(c) * learning_rate(c)),
                     add_decayed_weights(lambda c: mult(c) - 1))
    _number("fromage", "learning_rate", learning_rate)
    m = 1 / (1 + learning_rate ** 2) ** 0.5
    return chain(scale_by_trust_ratio(min_norm), scale_by_learning_rate(learning_rate * m),
                 add_decayed_weights(m - 1))


def optimistic_adam_v2(learning_rate: ScalarOrSchedule, *, alpha: float = 1.0,
                       beta: float = 1.0, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
                       eps_root: float = 0.0, mu_dtype: Any = None,
                       nesterov: bool = True) -> GradientTransformation:
    """Optimistic Adam: Adam's direction through ``scale_by_optimistic_gradient``."""
    return chain(scale_by_adam(b1, b2, eps, eps_root, mu_dtype, nesterov=nesterov),
                 scale_by_optimistic_gradient(alpha, beta),
                 scale_by_learning_rate(learning_rate))



# ===== optax's L-BFGS and line searches: nanojax/optim_lbfgs.py ==============================
from nanojax.optim_lbfgs import (  # noqa: E402
    BacktrackingLinesearchInfo, ScaleByBacktrackingLinesearchState, ScaleByLBFGSState,
    ScaleByZoomLinesearchState, ZoomLinesearchInfo, lbfgs, scale_by_backtracking_linesearch,
    scale_by_lbfgs, scale_by_zoom_linesearch, value_and_grad_from_state)

__all__ += ["BacktrackingLinesearchInfo", "ScaleByBacktrackingLinesearchState",
            "ScaleByLBFGSState", "ScaleByZoomLinesearchState", "ZoomLinesearchInfo", "lbfgs",
            "scale_by_backtracking_linesearch", "scale_by_lbfgs", "scale_by_zoom_linesearch",
            "value_and_grad_from_state"]
# ===== end of L-BFGS block ===================================================================

__dir__ = public_dir(globals())


from nanojax.array import export as _export_arrays  # noqa: E402

_export_arrays(globals())   # the public face hands out arrays with JAX's methods
