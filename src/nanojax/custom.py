"""``custom_vjp`` and ``custom_jvp``: give a function derivative rules of your own.

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

``custom_jvp`` (below) gives a forward rule instead, from which reverse mode
follows by transposition; ``custom_gradient`` is JAX's shorthand on top of
``custom_vjp``. Their tests are in ``tests/test_top_level.py``.

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
import inspect
from typing import Any, NoReturn
from collections.abc import Callable, Sequence

import numpy as np

from nanojax import primitives as P
from nanojax.ad_util import zeros_like
from nanojax.api_util import argnums_partial, check_callable
from nanojax.core import Primitive, ShapedArray, Tracer
from nanojax.primitives import dtype_of, move_to_front, shape_of
from nanojax.source_info import CURRENT
from nanojax.tree_util import PyTreeDef, tree_flatten, tree_map, tree_unflatten

__all__ = ["custom_vjp", "custom_jvp", "custom_gradient"]


class _FlatCall:
    """One application of a function with custom rules, re-expressed on flat leaves."""

    who = "nanojax.custom_vjp"

    def __init__(self, name: str, fun_flat: Callable, owner: _FlatCall | None = None) -> None:
        self.name = name
        self.fun_flat = fun_flat
        self.out_tree: PyTreeDef | None = None
        self.owner = owner            # the call a batched call was made from
        self.avals_cache: dict[tuple, list[ShapedArray]] = {}

    @property
    def tree(self) -> PyTreeDef:
        """The output's structure, known once the function or a rule has run."""
        if self.out_tree is None:
            raise TypeError(f"{self.who} {self.name}: the output structure is not "
                            "known before the function has run")
        return self.out_tree

    def set_out_tree(self, tree: PyTreeDef) -> None:
        for call in (self, self.owner):
            if call is not None:
                if call.out_tree is not None and call.out_tree != tree:
                    raise TypeError(f"{self.who} {self.name}: the function returned "
                                    f"{tree} here but {call.out_tree} before")
                call.out_tree = tree

    def __str__(self) -> str:
        return self.name

    __repr__ = __str__


class _Call(_FlatCall):
    """A ``custom_vjp`` application: the function, ``fwd`` and ``bwd`` on flat leaves."""

    def __init__(self, name: str, fun_flat: Callable, fwd_flat: Callable,
                 bwd_flat: Callable, owner: _Call | None = None) -> None:
        super().__init__(name, fun_flat, owner)
        self.fwd_flat = fwd_flat
        self.bwd_flat = bwd_flat


def _impl(*leaves: Any, call: _FlatCall) -> list:
    return call.fun_flat(*leaves)


def _abstract_eval(*avals: ShapedArray, call: _FlatCall) -> list[ShapedArray]:
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
    outer = CURRENT.source
    CURRENT.source = None      # fwd and bwd are the user's code: equations at their lines
    try:
        _, res = call.fwd_flat(*leaves)
        return call.bwd_flat(res, g)
    finally:
        CURRENT.source = outer


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


# ----- custom_jvp: a forward rule of your own, reverse mode by transposing it ----------

class _JVPCall(_FlatCall):
    """A ``custom_jvp`` application: the function and its jvp rule on flat leaves.

    ``jvp_flat(primals, tangents) -> (outs, out_tangents)``, lists of leaves.
    """

    who = "nanojax.custom_jvp"

    def __init__(self, name: str, fun_flat: Callable, jvp_flat: Callable,
                 owner: _JVPCall | None = None) -> None:
        super().__init__(name, fun_flat, owner)
        self.jvp_flat = jvp_flat


def _full_tangents(primals: Sequence[Any], tangents: Sequence[Any]) -> list:
    """Every tangent materialized and shaped like its primal: what a user's rule expects."""
    out = []
    for p, t in zip(primals, tangents):
        if t is None:
            out.append(zeros_like(p))
        elif shape_of(t) != shape_of(p):
            out.append(P.broadcast_to(t, shape_of(p)))
        else:
            out.append(t)
    return out


def _jvp_joint(primals: Sequence[Any], tangents: Sequence[Any], *, call: _JVPCall) -> tuple:
    # The rule gives the output and its tangent together, as JAX uses them.
    outs, touts = call.jvp_flat(list(primals), _full_tangents(primals, tangents))
    return outs, [t if np.issubdtype(dtype_of(o), np.inexact) else None
                  for o, t in zip(outs, touts)]


def _jvp_transposed(g: list, ans: list, *leaves: Any, call: _JVPCall) -> list:
    # The rule's tangent map t -> t_out is linear in t at fixed primals: its
    # vjp (at t = 0, any point would do) is reverse mode's pull.
    floats = [k for k, x in enumerate(leaves) if np.issubdtype(dtype_of(x), np.floating)]
    out_floats = [k for k, a in enumerate(ans) if np.issubdtype(dtype_of(a), np.floating)]

    def tangent_map(*ts: Any) -> list:
        full = [zeros_like(x) for x in leaves]
        for k, t in zip(floats, ts):
            full[k] = t
        touts = call.jvp_flat(list(leaves), full)[1]
        return [touts[k] for k in out_floats]
    from nanojax.autodiff import vjp_of            # autodiff imports the tape, which imports us
    _, pull = vjp_of(tangent_map, [zeros_like(leaves[k]) for k in floats], False,
                     f"nanojax.custom_jvp {call.name}")
    cts = pull([g[k] for k in out_floats])
    result: list[Any] = [None] * len(leaves)
    for k, ct in zip(floats, cts):
        result[k] = ct
    return result


def _jvp_batch(size: int, vals: list, dims: list, *, call: _JVPCall) -> tuple:
    from nanojax.batching import vmap
    vals = [v if d is None else move_to_front(v, d, size) for v, d in zip(vals, dims)]
    axes = [None if d is None else 0 for d in dims]
    # A tangent is batched where its primal is (the rule sees them shaped alike).
    batched = _JVPCall(f"vmap({call.name})",
                       vmap(call.fun_flat, in_axes=tuple(axes), axis_size=size),
                       vmap(call.jvp_flat, in_axes=(axes, axes), axis_size=size), owner=call)
    outs = custom_jvp_call_p.bind(*vals, call=batched)
    if call.out_tree is None:
        call.out_tree = batched.out_tree
    return outs, [0] * len(outs)


custom_jvp_call_p = Primitive("custom_jvp_call", _impl, _abstract_eval, joint_jvp=_jvp_joint,
                              vjp=_jvp_transposed, batch=_jvp_batch, multiple_results=True)


def _resolve_kwargs(fun: Callable, args: tuple, kwargs: dict, who: str) -> tuple:
    """Keyword arguments moved to their positions, as JAX does for custom rules."""
    if not kwargs:
        return args
    try:
        bound = inspect.signature(fun).bind(*args, **kwargs)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{who}: could not match the keyword arguments {sorted(kwargs)} to "
                        f"the function's parameters ({e})") from None
    bound.apply_defaults()
    if bound.kwargs:
        raise TypeError(f"{who}: keyword-only arguments {sorted(bound.kwargs)} are not "
                        "supported; pass them positionally")
    return bound.args


def _nondiff_positions(nondiff_argnums: tuple, nargs: int, who: str) -> set:
    nondiff = set()
    for i in nondiff_argnums:
        if not -nargs <= i < nargs:
            raise ValueError(f"{who}: nondiff_argnums {i} is out of range for {nargs} "
                             "arguments")
        nondiff.add(i % nargs)
    return nondiff


class custom_jvp:
    """Decorate a function to give it a forward-mode derivative rule of your own.

    ``defjvp(jvp)`` sets ``jvp(primals, tangents) -> (primal_out,
    tangent_out)``, where ``primals`` and ``tangents`` are tuples of the
    arguments (those not in ``nondiff_argnums``, which come first:
    ``jvp(*nondiff_args, primals, tangents)``). ``defjvps(*jvps)`` sets one
    rule per argument instead: ``jvp_i(g_i, primal_out, *primals)`` is the
    output tangent due to argument ``i``'s tangent ``g_i`` (None: no
    dependence), and the contributions are summed.

    Forward mode (``jvp``, ``jacfwd``) runs the rule. Reverse mode
    (``grad``, ``vjp``) transposes it, as JAX does: the rule's tangent output
    is linear in the tangents, and its vjp in them is the backward pull.
    Outside any transformation the function runs as written. ``jit`` stages
    it as one gate, ``custom_jvp_call``; ``vmap`` maps the function and
    the rule.

    Examples:
        The classic: ``log(1 + exp(x))`` whose gradient, written as the
        circuit computes it, is ``nan`` for large ``x`` (``inf / inf``):

        >>> import nanojax as nj
        >>> import nanojax.numpy as jnp
        >>> @nj.custom_jvp
        ... def log1pexp(x):
        ...     return jnp.log(1.0 + jnp.exp(x))
        >>> @log1pexp.defjvp
        ... def log1pexp_jvp(primals, tangents):
        ...     x, = primals
        ...     t, = tangents
        ...     return log1pexp(x), t * (1.0 - 1.0 / (1.0 + jnp.exp(x)))
        >>> print(nj.grad(log1pexp)(1000.0))      # the plain circuit: nan
        1.0
    """

    def __init__(self, fun: Callable, nondiff_argnums: Sequence[int] = ()) -> None:
        check_callable(fun, "nanojax.custom_jvp")
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.jvp: Callable | None = None

    def defjvp(self, jvp: Callable, symbolic_zeros: bool = False) -> Callable:
        """Set the rule ``jvp(primals, tangents) -> (primal_out, tangent_out)``; return it."""
        check_callable(jvp, "nanojax.custom_jvp.defjvp")
        if symbolic_zeros:
            raise NotImplementedError("nanojax.custom_jvp.defjvp: symbolic_zeros=True is not "
                                      "supported; zero tangents are passed as zero arrays")
        self.jvp = jvp
        return jvp

    def defjvps(self, *jvps: Callable | None) -> None:
        """One rule per argument, ``jvp_i(g, primal_out, *primals)``, summed."""
        if self.nondiff_argnums:
            raise TypeError("nanojax.custom_jvp.defjvps: can't use defjvps with "
                            "nondiff_argnums; use defjvp")
        for rule in jvps:
            if rule is not None:
                check_callable(rule, "nanojax.custom_jvp.defjvps")
        fun = self.fun

        def jvp(primals: tuple, tangents: tuple) -> tuple:
            if len(jvps) != len(primals):
                raise TypeError(f"nanojax.custom_jvp.defjvps: {len(jvps)} rules were given "
                                f"for a function called with {len(primals)} arguments")
            ans = fun(*primals)
            total = None
            for rule, t in zip(jvps, tangents):
                if rule is None:
                    continue
                part = rule(t, ans, *primals)
                total = part if total is None else tree_map(lambda a, b: a + b, total, part)
            return ans, tree_map(zeros_like, ans) if total is None else total
        self.jvp = jvp

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        name = getattr(self.fun, "__name__", "fun")
        who = f"nanojax.custom_jvp {name}"
        if self.jvp is None:
            raise TypeError(f"nanojax.custom_jvp: function {name} has no jvp rule yet: call "
                            f"{name}.defjvp(jvp) before using it")
        args = _resolve_kwargs(self.fun, args, kwargs, who)
        nondiff = _nondiff_positions(self.nondiff_argnums, len(args), who)
        diff = [i for i in range(len(args)) if i not in nondiff]
        flat, in_tree = tree_flatten(tuple(args[i] for i in diff))
        if not any(isinstance(x, Tracer) for x in flat):
            return self.fun(*args)
        call = self._flat_call(name, args, nondiff, diff, in_tree)
        outs = custom_jvp_call_p.bind(*flat, call=call)
        return tree_unflatten(call.tree, outs)

    def _flat_call(self, name: str, args: tuple, nondiff: set, diff: list,
                   in_tree: PyTreeDef) -> _JVPCall:
        who = f"nanojax.custom_jvp {name}"
        fixed = [args[i] for i in sorted(nondiff)]
        rule = self.jvp
        assert rule is not None                          # __call__ checked defjvp ran
        fun_of = argnums_partial(self.fun, args, diff, {})

        def fun_flat(*leaves: Any) -> list:
            out_flat, out_tree = tree_flatten(fun_of(*tree_unflatten(in_tree, leaves)))
            call.set_out_tree(out_tree)
            return out_flat

        def jvp_flat(primals: list, tangents: list) -> tuple:
            result = rule(*fixed, tuple(tree_unflatten(in_tree, primals)),
                          tuple(tree_unflatten(in_tree, tangents)))
            if not (isinstance(result, (tuple, list)) and len(result) == 2):
                raise TypeError(f"{who}: the jvp rule must return a pair (primal_out, "
                                f"tangent_out), got {type(result).__name__}")
            out_flat, out_tree = tree_flatten(result[0])
            t_flat, t_tree = tree_flatten(result[1])
            if t_tree != out_tree:
                raise TypeError(f"{who}: the jvp rule returned a primal output of structure "
                                f"{out_tree} but a tangent output of structure {t_tree}; "
                                "they must match")
            for o, t in zip(out_flat, t_flat):
                if shape_of(o) != shape_of(t):
                    raise ValueError(f"{who}: the jvp rule returned a tangent of shape "
                                     f"{shape_of(t)} for a primal output of shape "
                                     f"{shape_of(o)}; they must match")
            call.set_out_tree(out_tree)
            return out_flat, t_flat

        call = _JVPCall(name, fun_flat, jvp_flat)
        return call


def custom_gradient(fun: Callable) -> Callable:
    """Decorate ``fun(*args) -> (out, vjp_fn)`` into a function with that backward pass.

    ``vjp_fn(g)`` returns one cotangent per argument (a tuple; a lone
    cotangent is accepted for one argument). Built on ``custom_vjp``, so
    ``grad``, ``jit`` and ``vmap`` of ``grad`` use it; ``grad`` of a
    ``vmap`` of it does not work (the residual is a Python function, which
    cannot be batched).

    >>> import nanojax as nj
    >>> @nj.custom_gradient
    ... def f(x):
    ...     return x ** 2, lambda g: (g * 10.0,)
    >>> print(f(3.0), nj.grad(f)(3.0))
    9.0 10.0
    """
    check_callable(fun, "nanojax.custom_gradient")
    name = getattr(fun, "__name__", "fun")

    def primal(*args: Any) -> Any:
        return _pair(fun(*args))[0]

    def fwd(*args: Any) -> tuple:
        return _pair(fun(*args))

    def _pair(result: Any) -> tuple:
        if not (isinstance(result, tuple) and len(result) == 2 and callable(result[1])):
            raise TypeError(f"nanojax.custom_gradient {name}: the function must return a "
                            "pair (output, vjp_fn)")
        return result

    def bwd(vjp_fn: Callable, g: Any) -> tuple:
        cts = vjp_fn(g)
        return tuple(cts) if isinstance(cts, (tuple, list)) else (cts,)

    functools.update_wrapper(primal, fun)
    wrapped = custom_vjp(primal)
    wrapped.defvjp(fwd, bwd)
    return wrapped
