"""JAX's example optimizers: ``(init_fun, update_fun, get_params)`` triples.

The names, signatures and meaning of ``jax.example_libraries.optimizers``::

    opt_init, opt_update, get_params = optimizers.momentum(step_size, mass=0.9)
    opt_state = opt_init(params)
    opt_state = opt_update(i, grads, opt_state)    # step i = 0, 1, 2, ...
    params = get_params(opt_state)

Each optimizer is written for one array and lifted to pytrees of params by
the ``@optimizer`` decorator; the state is an ``OptimizerState``, a pytree,
so a whole step can be ``jit``-ted. ``step_size`` is a number or a schedule
(a function of the step ``i``). The update arithmetic that ``nanojax.optim``
(optax's shape) also has, momentum, Adam's and RMSProp's, is the same code.

Examples:
    >>> import nanojax as nj
    >>> from nanojax.example_libraries import optimizers
    >>> opt_init, opt_update, get_params = optimizers.adam(0.1)
    >>> loss = lambda p: (p["x"] - 1.0) ** 2 + (p["y"] + 2.0) ** 2
    >>> state = opt_init({"x": 0.0, "y": 0.0})
    >>> for i in range(200):
    ...     state = opt_update(i, nj.grad(loss)(get_params(state)), state)
    >>> {k: round(float(v), 2) for k, v in get_params(state).items()}
    {'x': 1.0, 'y': -2.0}
"""

from __future__ import annotations

import functools
import numbers
from collections import namedtuple
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

import nanojax.numpy as jnp
from nanojax import optim
from nanojax.core import Tracer
from nanojax.optim import _adam_leaf, _rms_leaf, _trace_leaf
from nanojax.tree_util import register_pytree_node, tree_flatten, tree_unflatten

__all__ = ["OptimizerState", "Optimizer", "optimizer", "sgd", "momentum", "nesterov", "adagrad",
           "rmsprop", "rmsprop_momentum", "adam", "adamax", "sm3", "constant",
           "exponential_decay", "inverse_time_decay", "polynomial_decay", "piecewise_constant",
           "make_schedule", "l2_norm", "clip_grads", "JoinPoint", "unpack_optimizer_state",
           "pack_optimizer_state"]

_NAME = "nanojax.example_libraries.optimizers"

Params = Any
State = Any
Updates = Any
Step = int
Schedule = Callable[[Step], Any]

# The params pytree (the "outer" tree) flattened to a list of leaves, and each
# leaf's own state (an "inner" pytree) flattened too: a list of lists of
# arrays, with the two levels' tree definitions kept beside it as static data.
OptimizerState = namedtuple("OptimizerState", ["packed_state", "tree_def", "subtree_defs"])
register_pytree_node(
    OptimizerState,
    lambda xs: ((xs.packed_state,), (xs.tree_def, xs.subtree_defs)),
    lambda data, xs: OptimizerState(*xs, *data))


class Optimizer(NamedTuple):
    init_fn: Callable[[Params], OptimizerState]
    update_fn: Callable[[Step, Updates, OptimizerState], OptimizerState]
    params_fn: Callable[[OptimizerState], Params]


def _flatten_all(trees: list[Any]) -> tuple[list[list[Any]], tuple[Any, ...]]:
    flat = [tree_flatten(t) for t in trees]
    return [leaves for leaves, _ in flat], tuple(d for _, d in flat)


def optimizer(opt_maker: Callable[..., Any]) -> Callable[..., Optimizer]:
    """Lift an optimizer written for one array to pytrees of params.

    ``opt_maker(*args, **kwargs)`` returns ``(init, update, get_params)`` for
    a single array: ``init(x0) -> state``, ``update(i, g, state) -> state``,
    ``get_params(state) -> x``; the state may be any pytree. The decorated
    maker returns an ``Optimizer`` triple that does the same on every leaf.

    Examples:
        >>> @optimizer
        ... def halve(step_size):
        ...     return (lambda x0: x0, lambda i, g, x: x / 2, lambda x: x)
        >>> init, update, get_params = halve(0.1)
        >>> get_params(update(0, [1.0, 2.0], init([4.0, 6.0])))
        [2.0, 3.0]
    """
    @functools.wraps(opt_maker)
    def tree_opt_maker(*args: Any, **kwargs: Any) -> Optimizer:
        init, update, get_params = opt_maker(*args, **kwargs)

        @functools.wraps(init)
        def tree_init(x0_tree: Params) -> OptimizerState:
            x0_flat, tree = tree_flatten(x0_tree)
            states_flat, subtrees = _flatten_all([init(x0) for x0 in x0_flat])
            return OptimizerState(states_flat, tree, subtrees)

        @functools.wraps(update)
        def tree_update(i: Step, grad_tree: Updates, opt_state: OptimizerState
                        ) -> OptimizerState:
            states_flat, tree, subtrees = _unpack(opt_state, "update_fun")
            grad_flat, tree2 = tree_flatten(grad_tree)
            if tree2 != tree:
                raise TypeError(f"{_NAME}: the update function was passed a gradient tree "
                                f"that does not match the parameter tree it was initialized "
                                f"with: parameter tree {tree} and grad tree {tree2}")
            states = [tree_unflatten(d, s) for d, s in zip(subtrees, states_flat)]
            new_flat, subtrees2 = _flatten_all(
                [update(i, g, s) for g, s in zip(grad_flat, states)])
            if subtrees2 != subtrees:
                raise TypeError(f"{_NAME}: the update function produced a state structure "
                                f"that does not match its input: input {subtrees} and "
                                f"output {subtrees2}")
            return OptimizerState(new_flat, tree, subtrees)

        @functools.wraps(get_params)
        def tree_get_params(opt_state: OptimizerState) -> Params:
            states_flat, tree, subtrees = _unpack(opt_state, "get_params")
            states = [tree_unflatten(d, s) for d, s in zip(subtrees, states_flat)]
            return tree_unflatten(tree, [get_params(s) for s in states])

        return Optimizer(tree_init, tree_update, tree_get_params)
    return tree_opt_maker


def _unpack(opt_state: Any, fn: str) -> OptimizerState:
    if not isinstance(opt_state, OptimizerState):
        raise TypeError(f"{_NAME}: {fn} takes the OptimizerState that init_fun and update_fun "
                        f"return, got {type(opt_state).__name__} ({opt_state!r:.40})")
    return opt_state


# ----- The optimizers -----------------------------------------------------------------

@optimizer
def sgd(step_size: float | Schedule) -> Optimizer:
    """Stochastic gradient descent: ``x -= step_size(i) * g``."""
    step = make_schedule(step_size)
    return Optimizer(lambda x0: x0, lambda i, g, x: x - step(i) * g, lambda x: x)


def _momentum(step_size: float | Schedule, mass: float, nesterov: bool) -> tuple:
    step = make_schedule(step_size)

    init = _with_zeros(1)

    def update(i: Step, g: Any, state: tuple) -> tuple:
        x, velocity = state
        direction, velocity = _trace_leaf(g, velocity, mass, nesterov)
        return x - step(i) * direction, velocity
    return init, update, _first


def _first(state: tuple) -> Any:
    return state[0]


def _with_zeros(n: int) -> Callable[[Any], tuple]:
    """An ``init`` whose state is ``x0`` and ``n`` arrays of zeros like it."""
    def init(x0: Any) -> tuple:
        return (x0,) + tuple(jnp.zeros_like(x0) for _ in range(n))
    return init


@optimizer
def momentum(step_size: float | Schedule, mass: float) -> tuple:
    """SGD with momentum: ``v = mass * v + g``, ``x -= step_size(i) * v``."""
    return _momentum(step_size, mass, False)


@optimizer
def nesterov(step_size: float | Schedule, mass: float) -> tuple:
    """SGD with Nesterov momentum: ``v = mass * v + g``, ``x -= step_size(i) * (mass * v + g)``."""
    return _momentum(step_size, mass, True)


@optimizer
def adagrad(step_size: float | Schedule, momentum: float = 0.9) -> tuple:
    """Adagrad (Duchi et al., 2011): steps divided by the root of the summed squared gradients.

    With ``momentum``, the scaled gradients are averaged as ``m = (1 -
    momentum) * scaled + momentum * m``, as in JAX.
    """
    step = make_schedule(step_size)

    init = _with_zeros(2)

    def update(i: Step, g: Any, state: tuple) -> tuple:
        x, g_sq, m = state
        g_sq = g_sq + jnp.square(g)
        # A unit that has never had a gradient is not moved (1/sqrt(0) would be inf).
        inv_sqrt = jnp.where(g_sq > 0, 1.0 / jnp.sqrt(jnp.where(g_sq > 0, g_sq, 1.0)), 0.0)
        m = (1.0 - momentum) * (g * inv_sqrt) + momentum * m
        return x - step(i) * m, g_sq, m
    return init, update, _first


@optimizer
def rmsprop(step_size: float | Schedule, gamma: float = 0.9, eps: float = 1e-8) -> tuple:
    """RMSProp: ``x -= step_size(i) * g / sqrt(avg_sq_grad + eps)``, ``gamma`` the decay."""
    step = make_schedule(step_size)

    init = _with_zeros(1)

    def update(i: Step, g: Any, state: tuple) -> tuple:
        x, avg_sq_grad = state
        direction, avg_sq_grad = _rms_leaf(g, avg_sq_grad, gamma, eps)
        return x - step(i) * direction, avg_sq_grad
    return init, update, _first


@optimizer
def rmsprop_momentum(step_size: float | Schedule, gamma: float = 0.9, eps: float = 1e-8,
                     momentum: float = 0.9) -> tuple:
    """RMSProp with momentum: ``mom = momentum * mom + step_size(i) * g / sqrt(avg + eps)``."""
    step = make_schedule(step_size)

    init = _with_zeros(2)

    def update(i: Step, g: Any, state: tuple) -> tuple:
        x, avg_sq_grad, mom = state
        direction, avg_sq_grad = _rms_leaf(g, avg_sq_grad, gamma, eps)
        mom = momentum * mom + step(i) * direction
        return x - mom, avg_sq_grad, mom
    return init, update, _first


@optimizer
def adam(step_size: float | Schedule, b1: float = 0.9, b2: float = 0.999,
         eps: float = 1e-8) -> tuple:
    """Adam (Kingma & Ba, 2015): ``x -= step_size(i) * m_hat / (sqrt(v_hat) + eps)``."""
    step = make_schedule(step_size)

    init = _with_zeros(2)

    def update(i: Step, g: Any, state: tuple) -> tuple:
        x, m, v = state
        direction, m, v = _adam_leaf(g, m, v, i + 1, b1, b2, eps)
        return x - step(i) * direction, m, v
    return init, update, _first


@optimizer
def adamax(step_size: float | Schedule, b1: float = 0.9, b2: float = 0.999,
           eps: float = 1e-8) -> tuple:
    """AdaMax, Adam with the infinity norm: ``u = max(b2 * u, |g|)``, steps ``m_hat / (u + eps)``.
    """
    step = make_schedule(step_size)

    init = _with_zeros(2)

    def update(i: Step, g: Any, state: tuple) -> tuple:
        x, m, u = state
        m = (1 - b1) * g + b1 * m
        u = jnp.maximum(b2 * u, jnp.abs(g))
        return x - (step(i) / (1 - b1 ** (i + 1))) * m / (u + eps), m, u
    return init, update, _first


@optimizer
def sm3(step_size: float | Schedule, momentum: float = 0.9) -> tuple:
    """SM3 (Anil et al., 2019): Adagrad whose accumulator keeps one vector per axis.

    The accumulator of an (m, n) weight is m + n numbers, not m * n: each
    entry's sum of squares is bounded by the minimum over its row's and its
    column's maxima.
    """
    step = make_schedule(step_size)

    def init(x0: Any) -> tuple:
        x = jnp.atleast_1d(x0)
        return x0, jnp.zeros_like(x0), [jnp.zeros(n, x.dtype) for n in jnp.shape(x)]

    def update(i: Step, g: Any, state: tuple) -> tuple:
        x, m, vs = state
        shape = jnp.shape(x)
        g1 = jnp.atleast_1d(g)
        nd = jnp.ndim(g1)
        along = [jnp.reshape(v, tuple(-1 if a == j else 1 for a in range(nd)))
                 for j, v in enumerate(vs)]
        accum = functools.reduce(jnp.minimum, along) + jnp.square(g1)
        inv_sqrt = jnp.where(accum > 0, 1.0 / jnp.sqrt(jnp.where(accum > 0, accum, 1.0)), 0.0)
        m = (1.0 - momentum) * (g * jnp.reshape(inv_sqrt, shape)) + momentum * m
        vs = [jnp.max(accum, axis=tuple(a for a in range(nd) if a != j)) for j in range(nd)]
        return x - step(i) * m, m, vs
    return init, update, _first


# ----- Step-size schedules -------------------------------------------------------------

def constant(step_size: float) -> Schedule:
    """``step_size`` at every step."""
    return optim.constant_schedule(step_size)


def exponential_decay(step_size: float, decay_steps: int, decay_rate: float) -> Schedule:
    """``step_size * decay_rate ** (i / decay_steps)``.

    Examples:
        >>> print(round(float(exponential_decay(1.0, 10, 0.5)(20)), 4))
        0.25
    """
    return optim.exponential_decay(step_size, decay_steps, decay_rate)


def inverse_time_decay(step_size: float, decay_steps: int, decay_rate: float,
                       staircase: bool = False) -> Schedule:
    """``step_size / (1 + decay_rate * i / decay_steps)`` (``floor`` of ``i / decay_steps``
    with ``staircase``).

    Examples:
        >>> s = inverse_time_decay(1.0, 10, 1.0, staircase=True)
        >>> [float(s(i)) for i in (0, 9, 10, 25)]
        [1.0, 1.0, 0.5, 0.3333333333333333]
    """
    def schedule(i: Any) -> Any:
        t = jnp.floor(i / decay_steps) if staircase else i / decay_steps
        return step_size / (1 + decay_rate * t)
    return schedule


def polynomial_decay(step_size: float, decay_steps: int, final_step_size: float,
                     power: float = 1.0) -> Schedule:
    """From ``step_size`` to ``final_step_size`` over ``decay_steps``, as a power of the rest.

    The factor is ``(1 - min(i, decay_steps) / decay_steps) ** power``.

    Examples:
        >>> s = polynomial_decay(1.0, 10, 0.1)
        >>> [round(float(s(i)), 3) for i in (0, 5, 10, 50)]
        [1.0, 0.55, 0.1, 0.1]
    """
    return optim.polynomial_schedule(step_size, final_step_size, power, decay_steps)


def piecewise_constant(boundaries: Any, values: Any) -> Schedule:
    """``values[k]`` where ``k`` is how many ``boundaries`` the step ``i`` has passed (``i > b``).

    Examples:
        >>> s = piecewise_constant([10, 20], [1.0, 0.5, 0.1])
        >>> [float(s(i)) for i in (0, 10, 11, 21)]
        [1.0, 1.0, 0.5, 0.1]
    """
    b, v = np.asarray(boundaries), np.asarray(values)
    if not b.ndim == v.ndim == 1:
        raise ValueError(f"{_NAME}.piecewise_constant: boundaries and values must be sequences "
                         f"of numbers, got arrays of shapes {b.shape} and {v.shape}")
    if b.shape[0] != v.shape[0] - 1:
        raise ValueError(f"{_NAME}.piecewise_constant: boundaries must have one entry fewer "
                         f"than values, got {b.shape[0]} boundaries and {v.shape[0]} values")

    def schedule(i: Any) -> Any:
        return jnp.asarray(v)[jnp.sum(jnp.greater(i, b))]
    return schedule


def make_schedule(scalar_or_schedule: float | Schedule) -> Schedule:
    """A schedule as it is; a number as ``constant(number)``."""
    if callable(scalar_or_schedule):
        return scalar_or_schedule
    if isinstance(scalar_or_schedule, Tracer) or (
            not isinstance(scalar_or_schedule, bool)
            and isinstance(scalar_or_schedule, (numbers.Number, np.ndarray, np.generic))
            and np.ndim(scalar_or_schedule) == 0):
        return constant(scalar_or_schedule)
    raise TypeError(f"{_NAME}: step_size must be a scalar or a schedule (a function of the "
                    f"step), got {type(scalar_or_schedule).__name__} "
                    f"({scalar_or_schedule!r:.40})")


# ----- Utilities ------------------------------------------------------------------------

def l2_norm(tree: Any) -> Any:
    """The l2 norm of all the leaves of ``tree`` together (for weight decay, clipping).

    Examples:
        >>> print(l2_norm({"a": [3.0], "b": 4.0}))
        5.0
    """
    return optim.global_norm(tree)


def clip_grads(grad_tree: Any, max_norm: float) -> Any:
    """``grad_tree`` scaled down, all leaves by one factor, to an l2 norm of at most ``max_norm``.

    Examples:
        >>> [round(float(g), 3) for g in clip_grads([3.0, 4.0], 1.0)]
        [0.6, 0.8]
    """
    return optim._clip_tree(grad_tree, max_norm)


# ----- Serialization -------------------------------------------------------------------

class JoinPoint:
    """Marks the boundary between two joined (nested) pytrees."""

    def __init__(self, subtree: Any) -> None:
        self.subtree = subtree

    # A leaf of the outer tree; iterable, as pytrees of containers look.
    def __iter__(self) -> Any:
        yield self.subtree


def unpack_optimizer_state(opt_state: OptimizerState) -> Any:
    """An ``OptimizerState`` as a params-shaped pytree of ``JoinPoint``-s (for saving).

    Examples:
        >>> init, update, get_params = momentum(0.1, 0.9)
        >>> marked = unpack_optimizer_state(init({"w": 1.0}))
        >>> marked["w"].subtree
        (1.0, array(0.))
        >>> get_params(pack_optimizer_state(marked))
        {'w': 1.0}
    """
    states_flat, tree_def, subtree_defs = _unpack(opt_state, "unpack_optimizer_state")
    subtrees = [tree_unflatten(d, s) for d, s in zip(subtree_defs, states_flat)]
    return tree_unflatten(tree_def, [JoinPoint(s) for s in subtrees])


def pack_optimizer_state(marked_pytree: Any) -> OptimizerState:
    """The inverse of ``unpack_optimizer_state``."""
    sentinels, tree_def = tree_flatten(marked_pytree)
    if not all(isinstance(s, JoinPoint) for s in sentinels):
        raise TypeError(f"{_NAME}.pack_optimizer_state: takes what unpack_optimizer_state "
                        "returns, a pytree whose leaves are JoinPoint-s")
    states_flat, subtree_defs = _flatten_all([s.subtree for s in sentinels])
    return OptimizerState(states_flat, tree_def, subtree_defs)


from nanojax.array import export as _export_arrays  # noqa: E402

_export_arrays(globals())   # the public face hands out arrays with JAX's methods
