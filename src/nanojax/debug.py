"""``nanojax.debug``: print and call back with the values a traced function computes.

``debug.print("x = {x}", x=x)`` and ``debug.callback(fn, *args)`` are one
gate, ``debug_callback``, with no outputs: it runs when the values exist,
eagerly at once, under ``jit`` each time the compiled function runs (not
while tracing), in program order. Under ``vmap`` it runs once per example,
as JAX's do; under ``grad`` it sees the forward pass's values and has no
derivative (it returns nothing). A jitted function that calls one is
compiled as any other: the generated code calls it in program order, and
the simplifier never drops it (nor a loop whose body calls one) or folds it.

Examples:
    >>> import numpy as np
    >>> import nanojax as nj
    >>> import nanojax.numpy as jnp
    >>> @nj.jit
    ... def f(x):
    ...     y = jnp.sin(x) * 2.0
    ...     nj.debug.print("y = {y}", y=y)
    ...     return y + 1.0
    >>> _ = f(np.zeros(2))
    y = [0. 0.]
    >>> _ = nj.vmap(f)(np.zeros((2, 1)))
    y = [0.]
    y = [0.]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from nanojax import primitives as P
from nanojax.api_util import check_callable, check_inputs
from nanojax.core import ClosedJaxpr, Jaxpr, Primitive, ShapedArray, Tracer, _state
from nanojax.tree_util import PyTreeDef, tree_flatten, tree_unflatten

__all__ = ["print", "callback", "debug_callback_p", "uses_debug_callbacks"]

_print = print


class _Call:
    """The user's function on the flat leaves of its arguments."""

    __slots__ = ("fun", "in_tree", "name")

    def __init__(self, fun: Callable, in_tree: PyTreeDef, name: str) -> None:
        self.fun = fun
        self.in_tree = in_tree
        self.name = name

    def __call__(self, *leaves: Any) -> None:
        args, kwargs = tree_unflatten(self.in_tree, list(leaves))
        self.fun(*args, **kwargs)

    def __repr__(self) -> str:
        return self.name


class _PerExample:
    """``inner`` once per example of a batch: the batched leaves' leading axis is the batch."""

    __slots__ = ("inner", "batched", "size", "name")

    def __init__(self, inner: Callable, batched: tuple, size: int) -> None:
        self.inner = inner
        self.batched = batched
        self.size = size
        self.name = getattr(inner, "name", "callback")

    def __call__(self, *leaves: Any) -> None:
        for i in range(self.size):
            self.inner(*[leaf[i] if b else leaf for leaf, b in zip(leaves, self.batched)])

    def __repr__(self) -> str:
        return self.name


def _impl(*args: Any, callback: Callable) -> list:
    callback(*[np.array(a) if isinstance(a, np.ndarray) else a for a in args])
    return []


def _abstract_eval(*avals: ShapedArray, callback: Callable) -> list:
    return []


def _batch(size: int, vals: list, dims: list, *, callback: Callable) -> tuple:
    # One call per example, as JAX's debug callbacks under vmap: the batch in front.
    front = [v if d is None else P.move_to_front(v, d, size) for v, d in zip(vals, dims)]
    per_example = _PerExample(callback, tuple(d is not None for d in dims), size)
    return debug_callback_p.bind(*front, callback=per_example), []


class _EffectPrimitive(Primitive):
    """A gate there for its effect: with no traced operand, while a circuit is
    being recorded (a loop's body, a jitted function), it still joins that
    circuit, so it runs each time the circuit runs, not once while it is traced.

    Only when the recording trace is the innermost one: under grad or vmap of a
    loop the body is re-traced beneath other traces, and routing the call past
    them made grad's backward pass call it again.
    """

    def bind(self, *args: Any, **params: Any) -> Any:
        if _state.stack and not any(isinstance(a, Tracer) for a in args):
            from nanojax.staging import StagingTrace
            top = _state.stack[-1]
            if isinstance(top, StagingTrace):
                return top.process(self, args, params)
        return super().bind(*args, **params)


debug_callback_p = _EffectPrimitive("debug_callback", _impl, _abstract_eval, batch=_batch,
                                    multiple_results=True, differentiable=False,
                                    may_alias=False)


def uses_debug_callbacks(jaxpr: Jaxpr) -> bool:
    """Does the jaxpr (or a loop's or branch's body in it) call a debug callback?"""
    for eqn in jaxpr.eqns:
        if eqn.primitive is debug_callback_p:
            return True
        for p in eqn.params.values():
            bodies = p if isinstance(p, tuple) else (p,)
            if any(isinstance(b, ClosedJaxpr) and uses_debug_callbacks(b.jaxpr)
                   for b in bodies):
                return True
    return False


def _bind(fun: Callable, name: str, args: tuple, kwargs: dict, who: str) -> None:
    flat, in_tree = tree_flatten((args, kwargs))
    flat = check_inputs(flat, who)
    debug_callback_p.bind(*flat, callback=_Call(fun, in_tree, name))


def callback(callback: Callable, *args: Any, ordered: bool = False, **kwargs: Any) -> None:
    """Call ``callback(*args, **kwargs)`` with the arguments' values, from traced code too.

    The arguments reach it as NumPy arrays (or numbers); what it returns is
    ignored. ``ordered`` is accepted: calls always run in program order here.

    >>> import nanojax as nj
    >>> seen = []
    >>> y = nj.jit(lambda x: nj.debug.callback(seen.append, x) or x * 2.0)(3.0)
    >>> seen == [3.0]
    True
    """
    check_callable(callback, "nanojax.debug.callback")
    _bind(callback, getattr(callback, "__name__", "callback"), args, kwargs,
          "nanojax.debug.callback")


def print(fmt: str, *args: Any, ordered: bool = False, **kwargs: Any) -> None:  # noqa: A001
    """Print ``fmt.format(*args, **kwargs)`` with the arguments' values, from traced code too.

    >>> import nanojax as nj
    >>> _ = nj.grad(lambda x: nj.debug.print("x = {}", x) or x * x)(3.0)
    x = 3.0
    """
    if not isinstance(fmt, str):
        raise TypeError(f"nanojax.debug.print: the format must be a str, got "
                        f"{type(fmt).__name__}")

    def show(*values: Any, **named: Any) -> None:
        _print(fmt.format(*values, **named))
    _bind(show, "print", args, kwargs, "nanojax.debug.print")
