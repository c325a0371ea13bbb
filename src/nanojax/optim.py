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
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

import nanojax.numpy as jnp
from nanojax import losses, nn
from nanojax.core import Tracer
from nanojax.tree_util import (tree_flatten, tree_leaves, tree_map, tree_structure,
                                tree_unflatten)

__all__ = ["GradientTransformation", "EmptyState", "ScaleByScheduleState", "TraceState",
           "ScaleByAdamState", "scale", "scale_by_schedule", "scale_by_learning_rate", "trace",
           "scale_by_adam", "clip_by_global_norm", "add_decayed_weights", "chain", "sgd",
           "adam", "apply_updates", "global_norm", "constant_schedule", "exponential_decay",
           "piecewise_constant_schedule", "cosine_decay_schedule", "polynomial_schedule"]
__all__ += ["OptState", "ScaleByRmsState", "ScaleByLionState", "scale_by_rms", "rmsprop",
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
    if isinstance(value, Tracer):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"nanojax.optim.{fn}: {name} must be a real number, got "
                        f"{type(value).__name__} ({value!r:.40})")
    return value


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


def scale_by_learning_rate(learning_rate: ScalarOrSchedule, *,
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
    if callable(learning_rate):
        return scale_by_schedule(lambda count: sign * learning_rate(count))
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real):
        raise TypeError("nanojax.optim: learning_rate must be a number or a schedule (a function "
                        f"of the step count), got {type(learning_rate).__name__}")
    if not learning_rate > 0:
        raise ValueError(f"nanojax.optim: learning_rate must be positive, got {learning_rate}")
    return scale(sign * float(learning_rate))


def trace(decay: float, nesterov: bool = False) -> GradientTransformation:
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
    if not 0.0 <= _number("trace", "decay", decay) <= 1.0:
        raise ValueError(f"nanojax.optim.trace: decay (momentum) must be in [0, 1], got {decay}")

    def update_fn(updates, state, params=None):
        updates, new_trace = _map_leaves(lambda g, t: _trace_leaf(g, t, decay, nesterov), 2,
                                         updates, state.trace)
        return updates, TraceState(new_trace)
    return GradientTransformation(lambda params: TraceState(tree_map(jnp.zeros_like, params)),
                                  update_fn)


def scale_by_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8,
                  eps_root: float = 0.0) -> GradientTransformation:
    """Adam's direction: bias-corrected ``mu / (sqrt(nu) + eps)``.

    ``mu`` and ``nu`` are running means of the gradient and its square; the
    corrections ``1 - b**count`` undo their pull toward the zeros they start at.
    ``eps_root`` is added inside the square root (optax's, for differentiating
    through the optimizer).

    Examples:
        >>> t = scale_by_adam()
        >>> u, state = t.update(-4.0, t.init(0.0))
        >>> print(round(float(u), 6), int(state.count))    # first step: sign(g)
        -1.0 1
    """
    _number("scale_by_adam", "eps", eps)
    for name, b in (("b1", b1), ("b2", b2)):
        if not 0.0 <= _number("scale_by_adam", name, b) < 1.0:
            raise ValueError(f"nanojax.optim.scale_by_adam: {name} must be in [0, 1), got {b}")

    def init_fn(params):
        zeros = tree_map(jnp.zeros_like, params)
        return ScaleByAdamState(_zero_count(), zeros, zeros)

    def update_fn(updates, state, params=None):
        count = state.count + 1
        updates, mu, nu = _map_leaves(
            lambda g, m, v: _adam_leaf(g, m, v, count, b1, b2, eps, eps_root), 3,
            updates, state.mu, state.nu)
        return updates, ScaleByAdamState(count, mu, nu)
    return GradientTransformation(init_fn, update_fn)


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
    if not _number("clip_by_global_norm", "max_norm", max_norm) > 0:
        raise ValueError("nanojax.optim.clip_by_global_norm: max_norm must be positive, "
                         f"got {max_norm}")

    def update_fn(updates, state, params=None):
        return _clip_tree(updates, max_norm), state
    return GradientTransformation(lambda params: EmptyState(), update_fn)


def _clip_tree(tree: Any, max_norm: Any) -> Any:
    # max_norm / max(norm, max_norm) is 1 below the limit and never divides by 0.
    factor = max_norm / jnp.maximum(global_norm(tree), max_norm)
    return tree_map(lambda g: g * factor, tree)


def add_decayed_weights(weight_decay: float = 0.0, mask: Any = None) -> GradientTransformation:
    """Add ``weight_decay * params`` to the updates (decoupled weight decay).

    ``mask``, as optax's: a pytree of bools with the params' structure (or a
    function of the params returning one); only the leaves marked True decay.

    Examples:
        >>> u, _ = add_decayed_weights(0.1).update(1.0, EmptyState(), params=2.0)
        >>> print(round(u, 6))
        1.2
    """
    _number("add_decayed_weights", "weight_decay", weight_decay)

    def update_fn(updates, state, params=None):
        if params is None:
            raise ValueError("nanojax.optim.add_decayed_weights needs params: call "
                             "update(grads, state, params)")
        _check_same_structure(updates, params, "updates")
        if mask is None:
            return tree_map(lambda g, p: g + weight_decay * p, updates, params), state
        marks = mask(params) if callable(mask) else mask
        _check_same_structure(marks, params, "mask")
        return tree_map(lambda g, p, m: g + weight_decay * p if m else g,
                        updates, params, marks), state
    return GradientTransformation(lambda params: EmptyState(), update_fn)


def chain(*transforms: GradientTransformation) -> GradientTransformation:
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

    def init_fn(params):
        return tuple(t.init(params) for t in transforms)

    def update_fn(updates, state, params=None):
        if params is not None:
            _check_same_structure(updates, params)
        if not isinstance(state, tuple) or len(state) != len(transforms):
            raise ValueError(f"nanojax.optim.chain: expected the state from this optimizer's init "
                             f"(a tuple of {len(transforms)} states), got {state!r}")
        new_state = []
        for t, s in zip(transforms, state):
            updates, s = t.update(updates, s, params)
            new_state.append(s)
        return updates, tuple(new_state)
    return GradientTransformation(init_fn, update_fn)


# ----- The optimizers -------------------------------------------------------------------

def sgd(learning_rate: ScalarOrSchedule, momentum: float | None = None,
        nesterov: bool = False) -> GradientTransformation:
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
    momentum_part = () if momentum is None else (trace(momentum, nesterov),)
    return chain(*momentum_part, scale_by_learning_rate(learning_rate))


def adam(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
         eps: float = 1e-8) -> GradientTransformation:
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
    return chain(scale_by_adam(b1, b2, eps), scale_by_learning_rate(learning_rate))


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


def scale_by_rms(decay: float = 0.9, eps: float = 1e-8,
                 initial_scale: float = 0.0) -> GradientTransformation:
    """RMSProp's direction: ``g / sqrt(nu + eps)``, ``nu`` the running mean of ``g**2``.

    Examples:
        >>> t = scale_by_rms(decay=0.5, eps=0.0)
        >>> u, state = t.update(2.0, t.init(0.0))        # nu = 0.5 * 4
        >>> print(round(float(u), 6))
        1.414214
    """
    _number("scale_by_rms", "eps", eps)
    _number("scale_by_rms", "initial_scale", initial_scale)
    if not 0.0 <= _number("scale_by_rms", "decay", decay) <= 1.0:
        raise ValueError(f"nanojax.optim.scale_by_rms: decay must be in [0, 1], got {decay}")

    def update_fn(updates, state, params=None):
        updates, nu = _map_leaves(lambda g, n: _rms_leaf(g, n, decay, eps), 2, updates,
                                  state.nu)
        return updates, ScaleByRmsState(nu)
    return GradientTransformation(
        lambda params: ScaleByRmsState(tree_map(lambda p: jnp.full_like(p, initial_scale),
                                                params)), update_fn)


def rmsprop(learning_rate: ScalarOrSchedule, decay: float = 0.9, eps: float = 1e-8,
            initial_scale: float = 0.0, eps_in_sqrt: bool = True, centered: bool = False,
            momentum: float | None = None, nesterov: bool = False,
            bias_correction: bool = False) -> GradientTransformation:
    """RMSProp (Hinton): ``p -= lr * g / sqrt(nu + eps)``, with optional (Nesterov) momentum.

    ``centered``, ``eps_in_sqrt=False`` and ``bias_correction`` are optax's
    variants that are not supported yet (they raise).
    """
    if centered or not eps_in_sqrt or bias_correction:
        raise NotImplementedError("nanojax.optim.rmsprop: centered=True, eps_in_sqrt=False and "
                                  "bias_correction=True are not supported yet")
    momentum_part = () if momentum is None else (trace(momentum, nesterov),)
    return chain(scale_by_rms(decay, eps, initial_scale),
                 scale_by_learning_rate(learning_rate), *momentum_part)


def _no_mu_dtype(fn: str, mu_dtype: Any) -> None:
    if mu_dtype is not None:
        raise NotImplementedError(f"nanojax.optim.{fn}: mu_dtype is not supported yet; the "
                                  "moments keep the params' dtype")


def adamw(learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999,
          eps: float = 1e-8, eps_root: float = 0.0, mu_dtype: Any = None,
          weight_decay: float = 1e-4, mask: Any = None, *,
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
    _no_mu_dtype("adamw", mu_dtype)
    if nesterov:
        raise NotImplementedError("nanojax.optim.adamw: nesterov=True (NAdamW) is not "
                                  "supported yet")
    return chain(scale_by_adam(b1, b2, eps, eps_root), add_decayed_weights(weight_decay, mask),
                 scale_by_learning_rate(learning_rate))


def scale_by_lion(b1: float = 0.9, b2: float = 0.99,
                  mu_dtype: Any = None) -> GradientTransformation:
    """Lion's direction: ``sign(b1 * mu + (1 - b1) * g)``, then ``mu = b2 * mu + (1 - b2) * g``."""
    _no_mu_dtype("scale_by_lion", mu_dtype)

    def update_fn(updates, state, params=None):
        directions = tree_map(lambda g, m: jnp.sign((1 - b1) * g + b1 * m), updates, state.mu)
        mu = tree_map(lambda g, m: (1 - b2) * g + b2 * m, updates, state.mu)
        return directions, ScaleByLionState(state.count + 1, mu)
    return GradientTransformation(
        lambda params: ScaleByLionState(_zero_count(), tree_map(jnp.zeros_like, params)),
        update_fn)


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

def softmax_cross_entropy(logits: Any, labels: Any, axis: int = -1) -> Any:
    """``-sum(labels * log_softmax(logits))`` over ``axis``: labels are probabilities (one-hot).

    Examples:
        >>> print(softmax_cross_entropy([[0.0, 0.0]], [[0.0, 1.0]]).round(4))
        [0.6931]
    """
    return jnp.negative(jnp.sum(jnp.multiply(labels, nn.log_softmax(logits, axis=axis)),
                                axis=axis))


def softmax_cross_entropy_with_integer_labels(logits: Any, labels: Any) -> Any:
    """``-log_softmax(logits)[label]`` per example, labels integer classes.

    Examples:
        >>> print(softmax_cross_entropy_with_integer_labels([[0.0, 0.0]], [1]).round(4))
        [0.6931]
    """
    return losses.softmax_cross_entropy(logits, labels)


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
