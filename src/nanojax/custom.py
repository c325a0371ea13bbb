"""``custom_vjp``: give a function a backward pass of your own.

Sometimes the gradient a circuit would compute gate by gate is not the one
you want: it overflows where a closed form does not, or you want a
"straight-through" pull. ``custom_vjp`` wraps a function; ``defvjp(fwd,
bwd)`` says how to run it forward while keeping residuals (``fwd(*args) ->
(out, res)``) and how to turn the output's pull into the inputs' pulls
(``bwd(res, g) -> tuple``, one entry per argument), as in JAX.

Outside any transformation the function runs as written. Under one, it is a
single gate, ``custom_vjp_call``, whose rules come from ``fwd`` and ``bwd``:
the tape calls them, ``vmap`` maps them, ``jit`` stages the gate. Forward
mode (``jvp``, ``jacfwd``) is not defined for it, as in JAX. This gate
carries user functions, so it is not in the primitive tables; its tests are
in ``tests/test_custom_vjp.py``.

Examples:
    >>> import nanojax as nj
    >>> import nanojax.numpy as jnp
    >>> @nj.custom_vjp
    ... def clip_gradient(x):
    ...     return x
    >>> def clip_fwd(x):
    ...     return x, None
    >>> def clip_bwd(res, g):
    ...     return (jnp.clip(g, -1.0, 1.0),)
    >>> clip_gradient.defvjp(clip_fwd, clip_bwd)
    >>> print(nj.grad(lambda x: 5.0 * clip_gradient(x))(2.0))
    1.0
"""

from __future__ import annotations

import functools
from typing import Any, NoReturn
from collections.abc import Callable, Sequence

from nanojax.api_util import argnums_partial, check_callable
from nanojax.core import Primitive, ShapedArray, Tracer
from nanojax.primitives import move_to_front, shape_of
from nanojax.tree_util import PyTreeDef, tree_flatten, tree_unflatten

__all__ = ["custom_vjp"]


class _Call:
    """One application: the user's functions re-expressed on flat leaves."""

    def __init__(self, name: str, fun_flat: Callable, fwd_flat: Callable,
                 bwd_flat: Callable, owner: _Call | None = None) -> None:
        self.name = name
        self.fun_flat = fun_flat
        self.fwd_flat = fwd_flat
        self.bwd_flat = bwd_flat
        self.out_tree: PyTreeDef | None = None
        self.owner = owner            # the call a batched call was made from
        self.avals_cache: dict[tuple, list[ShapedArray]] = {}

    @property
    def tree(self) -> PyTreeDef:
        """The output's structure, known once the function or fwd has run."""
        if self.out_tree is None:
            raise TypeError(f"nanojax.custom_vjp {self.name}: the output structure is not "
                            "known before the function has run")
        return self.out_tree

    def set_out_tree(self, tree: PyTreeDef) -> None:
        for call in (self, self.owner):
            if call is not None:
                if call.out_tree is not None and call.out_tree != tree:
                    raise TypeError(f"nanojax.custom_vjp {self.name}: the function returned "
                                    f"{tree} here but {call.out_tree} before")
                call.out_tree = tree

    def __str__(self) -> str:
        return self.name

    __repr__ = __str__


def _impl(*leaves: Any, call: _Call) -> list:
    return call.fun_flat(*leaves)


def _abstract_eval(*avals: ShapedArray, call: _Call) -> list[ShapedArray]:
    from nanojax.staging import trace_to_jaxpr     # staging imports nothing of ours
    key = tuple(avals)
    if key not in call.avals_cache:
        closed, _ = trace_to_jaxpr(lambda *xs: call.fun_flat(*xs), list(avals),
                                   tree_flatten(tuple(avals))[1])
        call.avals_cache[key] = closed.out_avals
    return call.avals_cache[key]


def _vjp(g: list, ans: list, *leaves: Any, call: _Call) -> list:
    # The residuals are recomputed from the inputs: fwd is pure, so this is
    # the same as keeping them from the forward pass.
    _, res = call.fwd_flat(*leaves)
    return call.bwd_flat(res, g)


def _jvp(primals: Any, tangents: Any, ans: Any, *, call: _Call) -> NoReturn:
    raise TypeError("nanojax.custom_vjp: can't apply forward-mode differentiation (jvp, "
                    f"jacfwd, hessian) to the custom_vjp function {call.name}: it only "
                    "defines a backward pass. Use grad/vjp/jacrev, as in JAX.")


def _batch(size: int, vals: list, dims: list, *, call: _Call) -> tuple:
    from nanojax.batching import vmap
    # Batch axes first, so that bwd's batched cotangents (axis 0) line up with
    # their inputs; an unbatched input's cotangent is summed over the batch.
    vals = [v if d is None else move_to_front(v, d, size) for v, d in zip(vals, dims)]
    in_axes = tuple(None if d is None else 0 for d in dims)
    batched = _Call(f"vmap({call.name})",
                    vmap(call.fun_flat, in_axes=in_axes, axis_size=size),
                    vmap(call.fwd_flat, in_axes=in_axes, axis_size=size),
                    vmap(call.bwd_flat, in_axes=(0, 0), axis_size=size), owner=call)
    outs = custom_vjp_call_p.bind(*vals, call=batched)
    if call.out_tree is None:
        call.out_tree = batched.out_tree
    return outs, [0] * len(outs)


custom_vjp_call_p = Primitive("custom_vjp_call", _impl, _abstract_eval, jvp=_jvp,
                              vjp=_vjp, batch=_batch, multiple_results=True)


def _check_cotangent_shapes(name: str, cts: list, shapes: list, in_tree: PyTreeDef) -> None:
    """bwd's cotangents must have their inputs' shapes: never summed or broadcast quietly."""
    owners = [i for i, arg in enumerate(in_tree.children) for _ in range(arg.num_leaves)]
    for k, (ct, shape) in enumerate(zip(cts, shapes)):
        if ct is not None and shape_of(ct) != shape:
            raise ValueError(f"nanojax.custom_vjp {name}: bwd returned a cotangent of shape "
                             f"{shape_of(ct)} for differentiated argument {owners[k]}, which "
                             f"has shape {shape}; return one cotangent shaped like each input")


class custom_vjp:
    """Decorate a function to give it a backward pass of your own (see module doc).

    Args:
        fun: the function; its outputs are what callers see.
        nondiff_argnums: positions of arguments that are not differentiated
            (settings, not data); ``bwd`` receives them first, as in JAX:
            ``bwd(*nondiff_args, res, g)``.
    """

    def __init__(self, fun: Callable, nondiff_argnums: Sequence[int] = ()) -> None:
        check_callable(fun, "nanojax.custom_vjp")
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.fwd: Callable | None = None
        self.bwd: Callable | None = None

    def defvjp(self, fwd: Callable, bwd: Callable) -> None:
        """Set ``fwd(*args) -> (out, residuals)`` and ``bwd(res, g) -> tuple``."""
        check_callable(fwd, "nanojax.custom_vjp.defvjp")
        check_callable(bwd, "nanojax.custom_vjp.defvjp")
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args: Any) -> Any:
        name = getattr(self.fun, "__name__", "fun")
        if self.fwd is None:
            raise TypeError(f"nanojax.custom_vjp: function {name} has no backward pass yet: call "
                            f"{name}.defvjp(fwd, bwd) before using it")
        nondiff = set()
        for i in self.nondiff_argnums:
            if not -len(args) <= i < len(args):
                raise ValueError(f"nanojax.custom_vjp {name}: nondiff_argnums {i} is out of range "
                                 f"for {len(args)} arguments")
            nondiff.add(i % len(args))
        diff_args = tuple(a for i, a in enumerate(args) if i not in nondiff)
        flat, in_tree = tree_flatten(diff_args)
        if not any(isinstance(x, Tracer) for x in flat):
            return self.fun(*args)
        call = self._flat_call(name, args, nondiff, in_tree, [shape_of(x) for x in flat])
        outs = custom_vjp_call_p.bind(*flat, call=call)
        return tree_unflatten(call.tree, outs)

    def _flat_call(self, name: str, args: tuple, nondiff: set, in_tree: PyTreeDef,
                   leaf_shapes: list) -> _Call:
        num_leaves = len(leaf_shapes)
        fixed = [args[i] for i in sorted(nondiff)]
        diff = [i for i in range(len(args)) if i not in nondiff]
        fwd, bwd = self.fwd, self.bwd
        assert fwd is not None and bwd is not None        # __call__ checked defvjp ran
        fun_of = argnums_partial(self.fun, args, diff, {})
        fwd_of = argnums_partial(fwd, args, diff, {})

        def fun_flat(*leaves: Any) -> list:
            out_flat, out_tree = tree_flatten(fun_of(*tree_unflatten(in_tree, leaves)))
            call.set_out_tree(out_tree)
            return out_flat

        def fwd_flat(*leaves: Any) -> tuple:
            result = fwd_of(*tree_unflatten(in_tree, leaves))
            if not (isinstance(result, tuple) and len(result) == 2):
                raise TypeError(f"nanojax.custom_vjp {name}: fwd must return a pair (output, "
                                f"residuals), got {type(result).__name__}")
            out_flat, out_tree = tree_flatten(result[0])
            call.set_out_tree(out_tree)
            return out_flat, result[1]

        def bwd_flat(res: Any, g: list) -> list:
            cts = bwd(*fixed, res, tree_unflatten(call.tree, g))
            if not isinstance(cts, tuple) or len(cts) != len(in_tree.children):
                raise TypeError(
                    f"nanojax.custom_vjp {name}: bwd must return a tuple with one cotangent per "
                    f"differentiated argument ({len(in_tree.children)}), got "
                    f"{type(cts).__name__}"
                    + (f" of length {len(cts)}" if isinstance(cts, tuple) else ""))
            leaves = tree_unflatten(in_tree, [None] * num_leaves)
            ct_flat: list[Any] = []
            for arg, ct in zip(leaves, cts):
                arg_leaves, arg_tree = tree_flatten(arg, is_leaf=lambda x: x is None)
                if ct is None:
                    ct_flat.extend([None] * len(arg_leaves))
                    continue
                ct_leaves, ct_tree = tree_flatten(ct)
                if len(ct_leaves) != len(arg_leaves):
                    raise TypeError(f"nanojax.custom_vjp {name}: bwd returned a cotangent of "
                                    f"structure {ct_tree} for an argument of structure "
                                    f"{arg_tree}")
                ct_flat.extend(ct_leaves)
            _check_cotangent_shapes(name, ct_flat, leaf_shapes, in_tree)
            return ct_flat

        call = _Call(name, fun_flat, fwd_flat, bwd_flat)
        return call
