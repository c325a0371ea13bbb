"""``lax.cond``, ``switch``, ``while_loop``, ``fori_loop``, ``scan`` and ``map``.

Python's ``if`` and ``for`` run while a function is traced: under ``jit``
a Python loop is unrolled into one gate per step, and an ``if`` on a
traced value cannot be decided at all. These functions put the branch or
the loop into the circuit instead, as one gate carrying its body as a jaxpr
(``nanojax.control_flow``), with JAX's signatures: carries, inputs and
outputs may be pytrees, and every transformation composes with them.

Examples:
    >>> import numpy as np
    >>> import nanojax as nj
    >>> from nanojax import lax
    >>> def cumulative(xs):
    ...     return lax.scan(lambda total, x: (total + x, total + x), 0.0, xs)
    >>> total, partial_sums = cumulative(np.arange(4.0))
    >>> print(total, partial_sums)
    6.0 [0. 1. 3. 6.]
    >>> print(lax.fori_loop(0, 5, lambda i, x: x * 2.0, 1.0))
    32.0
    >>> print(nj.grad(lambda x: lax.cond(x > 0, lambda x: x * x, lambda x: -x, x))(3.0))
    6.0
"""

from __future__ import annotations

import builtins
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

import nanojax.numpy as jnp
from nanojax import primitives as P
from nanojax.ad_util import as_constant
from nanojax.api_util import check_callable, check_inputs, describe
from nanojax.control_flow import cond_p, scan_p, while_p
from nanojax.core import ClosedJaxpr, Jaxpr, ShapedArray, Tracer, Var, get_aval
from nanojax.jaxpr_transforms import hoist_tracers
from nanojax.source_info import boundary
from nanojax.staging import trace_to_jaxpr
from nanojax.tree_util import PyTreeDef, tree_flatten, tree_unflatten

__all__ = ["cond", "switch", "while_loop", "fori_loop", "scan", "map"]

_I32 = np.dtype(np.int32)


def _leaves(tree: Any, who: str, what: str) -> tuple[list, PyTreeDef]:
    flat, treedef = tree_flatten(tree)
    try:
        return check_inputs(flat, who), treedef
    except TypeError as e:
        raise TypeError(f"{who}: {what} must be arrays, numbers or pytrees of them; "
                        f"{str(e).split(': ', 1)[-1]}") from None


def _trace(fun: Callable, in_tree: PyTreeDef, avals: list[ShapedArray], who: str
           ) -> tuple[ClosedJaxpr, list, PyTreeDef]:
    """``fun``'s jaxpr, the traced values it closes over (its first inputs), its output tree."""
    closed, out_tree = trace_to_jaxpr(fun, avals, in_tree, who)
    closed, hoisted = hoist_tracers(closed)
    return closed, hoisted, out_tree


def _strong(aval: ShapedArray) -> ShapedArray:
    return ShapedArray(aval.shape, aval.dtype)


def _results(outs: list) -> list:
    # Eagerly, a Python number from the body becomes NumPy's, as JAX returns arrays.
    return [as_constant(o) if not isinstance(o, Tracer) else o for o in outs]


def _is_concrete(x: Any) -> bool:
    return not isinstance(x, Tracer)


def _type_text(aval: ShapedArray) -> str:
    return aval.str_short()


def _what(x: Any) -> str:
    """A value for a message, the same for an array and for a traced one."""
    if isinstance(x, (np.ndarray, np.generic, Tracer)):
        return f"an array of type {get_aval(x).str_short()}"
    return describe(x)


def _check_carry(who: str, what: str, in_tree: PyTreeDef, out_tree: PyTreeDef,
                 in_avals: list[ShapedArray], out_avals: list[ShapedArray]) -> None:
    if in_tree != out_tree:
        raise TypeError(f"{who}: the {what} must keep the structure of its input, but it "
                        f"went in as {in_tree} and came out as {out_tree}")
    for k, (a, b) in enumerate(zip(in_avals, out_avals)):
        if a.shape != b.shape or a.dtype != b.dtype:
            raise TypeError(f"{who}: the {what} must keep the shape and dtype of its input, "
                            f"but leaf {k} went in as {_type_text(a)} and came out as "
                            f"{_type_text(b)}; make the initial value the type the body "
                            "returns (e.g. 0.0, not 0, for a float)")


# ----- cond and switch -------------------------------------------------------------------

def _index_of(pred: Any) -> Any:
    """cond's predicate as switch's index: 1 for true, 0 for false."""
    aval = get_aval(pred)
    if aval.shape != ():
        raise TypeError(f"nanojax.lax.cond: the predicate must be a scalar, got "
                        f"{_what(pred)}; reduce it first (jnp.all, "
                        "jnp.any) or use jnp.where for an elementwise choice")
    if aval.dtype.kind not in "biuf":
        raise TypeError(f"nanojax.lax.cond: the predicate must be a boolean or a number, got "
                        f"dtype {aval.dtype}")
    if _is_concrete(pred):
        return np.int32(bool(pred))
    if aval.dtype.kind != "b":
        pred = P.ne_p.bind(pred, 0)
    return P.convert_element_type(pred, _I32)


@boundary
def cond(pred: Any, true_fun: Callable, false_fun: Callable, *operands: Any,
         **kwargs: Any) -> Any:
    """``true_fun(*operands)`` if ``pred`` else ``false_fun(*operands)``, as one gate.

    Both branches are traced and must return the same structure, shapes and
    dtypes. Under ``vmap`` with a batched ``pred`` both run and each example
    keeps its own branch's result, as in JAX.

    Examples:
        >>> from nanojax import lax
        >>> print(lax.cond(True, lambda x: x + 1.0, lambda x: x - 1.0, 10.0))
        11.0
    """
    if kwargs:
        raise TypeError(f"nanojax.lax.cond: unexpected keyword arguments {sorted(kwargs)}; "
                        "pass operands positionally: cond(pred, true_fun, false_fun, *operands)")
    for name, f in (("true_fun", true_fun), ("false_fun", false_fun)):
        if not callable(f):
            raise TypeError(f"nanojax.lax.cond: {name} must be a function, got "
                            f"{_what(f)}; the signature is cond(pred, true_fun, false_fun, "
                            "*operands)")
    return _switch(_index_of(pred), [false_fun, true_fun], operands, "nanojax.lax.cond")


@boundary
def switch(index: Any, branches: Sequence[Callable], *operands: Any) -> Any:
    """``branches[index](*operands)``, with ``index`` clamped into range, as one gate.

    Examples:
        >>> from nanojax import lax
        >>> fs = [lambda x: x * 10.0, lambda x: x * 20.0, lambda x: x * 30.0]
        >>> print(lax.switch(1, fs, 2.0), lax.switch(7, fs, 2.0))
        40.0 60.0
    """
    who = "nanojax.lax.switch"
    branches = list(branches) if isinstance(branches, (list, tuple)) else branches
    if not isinstance(branches, list) or not branches:
        raise ValueError(f"{who}: branches must be a non-empty sequence of functions, got "
                         f"{_what(branches)}")
    for f in branches:
        check_callable(f, who)
    aval = get_aval(index)
    if aval.shape != () or aval.dtype.kind not in "iu":
        raise TypeError(f"{who}: the index must be an integer scalar, got "
                        f"{_type_text(aval)}; convert it with jnp.int32(...) or "
                        "jnp.astype(index, int)")
    n = len(branches)
    if _is_concrete(index):
        index = np.int32(builtins.min(builtins.max(int(index), 0), n - 1))
    else:
        index = P.convert_element_type(index, _I32)
        index = P.max_p.bind(P.min_p.bind(index, np.int32(n - 1)), np.int32(0))
    return _switch(index, branches, operands, who)


def _switch(index: Any, branches: list[Callable], operands: tuple, who: str) -> Any:
    flat, in_tree = _leaves(operands, who, "the operands")
    avals = [get_aval(x) for x in flat]
    traced = [_trace(lambda *a, f=f: f(*a), in_tree, avals, who) for f in branches]
    _, _, out_tree = traced[0]
    for closed, _, tree in traced[1:]:
        first = traced[0][0].out_avals
        same = tree == out_tree and all(
            a.shape == b.shape and a.dtype == b.dtype for a, b in zip(first, closed.out_avals))
        if not same:
            shown = ", ".join(builtins.map(_type_text, first))
            other = ", ".join(builtins.map(_type_text, closed.out_avals))
            raise TypeError(f"{who}: every branch must return the same structure, shapes "
                            f"and dtypes, but one returned {out_tree} ({shown}) and "
                            f"another {tree} ({other})")
    # Every branch takes every branch's traced constants, and reads its own.
    hoisted = [h for _, hs, _ in traced for h in hs]
    joined, start = [], 0
    for closed, hs, _ in traced:
        j = closed.jaxpr
        before = [Var(get_aval(h)) for h in hoisted[:start]]
        after = [Var(get_aval(h)) for h in hoisted[start + len(hs):]]
        joined.append(ClosedJaxpr(Jaxpr(j.constvars, [*before, *j.invars[:len(hs)], *after,
                                                      *j.invars[len(hs):]], j.outvars, j.eqns),
                                  closed.consts))
        start += len(hs)
    outs = cond_p.bind(index, *hoisted, *flat, branches=tuple(joined))
    return tree_unflatten(out_tree, _results(outs))


# ----- while_loop and fori_loop ----------------------------------------------------------

@boundary
def while_loop(cond_fun: Callable, body_fun: Callable, init_val: Any) -> Any:
    """Run ``val = body_fun(val)`` while ``cond_fun(val)``; return the last ``val``.

    As in JAX, it can be differentiated in forward mode only: the trip count
    is only known at run time (use ``scan`` or ``fori_loop`` with static
    bounds for reverse mode).

    Examples:
        >>> from nanojax import lax
        >>> print(lax.while_loop(lambda x: x < 100.0, lambda x: x * 3.0, 1.0))
        243.0
    """
    who = "nanojax.lax.while_loop"
    check_callable(cond_fun, who)
    check_callable(body_fun, who)
    flat, tree = _leaves(init_val, who, "init_val")
    avals = [get_aval(x) for x in flat]
    body, body_consts, avals, _ = _body_with_carry(
        lambda c: (body_fun(c), None), who, "body_fun output", tree, avals, [], None)
    args_tree = tree_flatten((tree_unflatten(tree, [0] * len(flat)),))[1]
    cond_closed, cond_consts, cond_tree = _trace(cond_fun, args_tree, avals, who)
    outs = cond_closed.out_avals
    if cond_tree.num_leaves != 1 or outs[0].shape != () or outs[0].dtype.kind != "b":
        raise TypeError(f"{who}: cond_fun must return a boolean scalar, but it returned "
                        f"{', '.join(builtins.map(_type_text, outs)) or 'nothing'}")
    results = while_p.bind(*cond_consts, *body_consts, *_as_carry(flat, avals),
                           cond_jaxpr=cond_closed,
                           body_jaxpr=body, cond_nconsts=len(cond_consts),
                           body_nconsts=len(body_consts))
    return tree_unflatten(tree, _results(results))


def _body_with_carry(step: Callable, who: str, what: str, carry_tree: PyTreeDef,
                     carry_avals: list[ShapedArray], x_avals: list[ShapedArray],
                     x_tree: PyTreeDef | None) -> tuple:
    """Trace a loop body ``step(carry[, x]) -> (carry, extra)`` whose carry keeps its type.

    Returns the jaxpr (taking its traced constants, the carry, then ``x``;
    giving the carry, then ``extra``'s leaves), those constants, and the
    carry's types. A Python number going in as the carry while an array of
    its dtype comes out is fine, as in JAX: the body is traced again with
    the carry strongly typed.
    """
    n = len(carry_avals)
    # A Python int in the carry runs as NumPy's int64 (eagerly, NumPy's own
    # arithmetic makes it one after the first step), so it is traced as one.
    carry_avals = [_strong(a) if a.weak_type and a.dtype.kind in "iub" else a
                   for a in carry_avals]
    args: tuple = (tree_unflatten(carry_tree, [0] * n),)
    if x_tree is not None:
        args += (tree_unflatten(x_tree, [0] * x_tree.num_leaves),)
    in_tree = tree_flatten(args)[1]
    for _ in range(2):
        closed, hoisted, out_tree = _trace(step, in_tree, [*carry_avals, *x_avals], who)
        carry_out_tree = out_tree.children[0]
        outs = closed.out_avals[:carry_out_tree.num_leaves]
        if carry_out_tree == carry_tree and all(
                not a.weak_type or (b.weak_type and a.dtype == b.dtype)
                for a, b in zip(carry_avals, outs)):
            break
        # A Python number going in takes the type that comes out, as in JAX:
        # 0.0 carried beside float32 arrays is a float32.
        carry_avals = [ShapedArray(a.shape, b.dtype) if a.weak_type and a.shape == b.shape
                       and not (b.weak_type and a.dtype == b.dtype) else a
                       for a, b in zip(carry_avals, outs)]
    _check_carry(who, what, carry_tree, carry_out_tree, carry_avals, outs)
    return closed, hoisted, carry_avals, out_tree


def _as_carry(leaves: list, avals: list[ShapedArray]) -> list:
    """The initial carry converted to the types the body was traced for."""
    out = []
    for x, aval in zip(leaves, avals):
        have = get_aval(x)
        if have.dtype != aval.dtype or (have.weak_type and not aval.weak_type):
            x = P.convert_element_type(x, aval.dtype) if isinstance(x, Tracer) else \
                np.asarray(x, aval.dtype)[()]
        out.append(x)
    return out


def _static_int(x: Any) -> int | None:
    if isinstance(x, Tracer):
        return None
    if isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)):
        return int(x)
    if isinstance(x, np.ndarray) and x.shape == () and x.dtype.kind in "iu":
        return int(x)
    return None


@boundary
def fori_loop(lower: Any, upper: Any, body_fun: Callable, init_val: Any, *,
              unroll: Any = None) -> Any:
    """``val = body_fun(i, val)`` for ``i`` from ``lower`` up to ``upper``; the last ``val``.

    With bounds known at trace time it is a ``scan`` (so reverse mode works,
    as in JAX); with traced bounds, a ``while_loop``. ``unroll`` is accepted
    and changes nothing here: the loop is a Python loop either way.

    Examples:
        >>> from nanojax import lax
        >>> print(lax.fori_loop(1, 5, lambda i, total: total + i, 0))
        10
    """
    who = "nanojax.lax.fori_loop"
    check_callable(body_fun, who)
    for name, bound in (("lower", lower), ("upper", upper)):
        aval = get_aval(bound)
        if aval.shape != () or aval.dtype.kind not in "iu":
            raise TypeError(f"{who}: {name} must be an integer scalar, got "
                            f"{_type_text(aval)}")
    lo, hi = _static_int(lower), _static_int(upper)
    if lo is not None and hi is not None:
        start = lower if type(lower) is int and type(upper) is int else \
            np.asarray(lower, np.result_type(get_aval(lower).dtype, get_aval(upper).dtype))[()]

        def step(carry: Any, _: Any) -> Any:
            i, x = carry
            return (i + 1, body_fun(i, x)), None
        (_, result), _ = scan(step, (start, init_val), None, length=builtins.max(hi - lo, 0))
        return result
    dtype = np.result_type(get_aval(lower).dtype, get_aval(upper).dtype)
    lower = P.convert_element_type(lower, dtype) if isinstance(lower, Tracer) else \
        np.asarray(lower, dtype)[()]
    upper = P.convert_element_type(upper, dtype) if isinstance(upper, Tracer) else \
        np.asarray(upper, dtype)[()]
    _, _, result = while_loop(lambda c: c[0] < c[1],
                              lambda c: (c[0] + 1, c[1], body_fun(c[0], c[2])),
                              (lower, upper, init_val))
    return result


# ----- scan and map ----------------------------------------------------------------------

@boundary
def scan(f: Callable, init: Any, xs: Any = None, length: int | None = None,
         reverse: bool = False, unroll: Any = 1, _split_transpose: bool = False) -> tuple:
    """Loop ``carry, y = f(carry, x)`` over the leading axis of ``xs``; ``(carry, ys)``.

    ``ys`` stacks the ``y`` of every step (None if ``f`` returns None for
    it). With ``xs=None``, ``length`` gives the number of steps and ``f``
    gets None; ``reverse`` runs from the last slice to the first.
    ``unroll`` is accepted and changes nothing here.

    Examples:
        >>> import numpy as np
        >>> from nanojax import lax
        >>> lax.scan(lambda c, x: (c * x, c), 1.0, np.array([2.0, 3.0, 4.0]))
        (np.float64(24.0), array([1., 2., 6.]))
    """
    who = "nanojax.lax.scan"
    check_callable(f, who)
    xs_flat, xs_tree = _leaves(xs, who, "xs")
    sizes = _leading_sizes(xs_flat, who)
    if length is not None:
        if _static_int(length) is None or int(length) < 0:
            raise TypeError(f"{who}: length must be a non-negative int known at trace time, "
                            f"got {length!r:.40}")
        length = int(length)
        if sizes and sizes != {length}:
            raise ValueError(f"{who}: length={length} but the leading axes of xs have sizes "
                             f"{sorted(sizes)}")
    elif not sizes:
        raise ValueError(f"{who}: there are no values to scan over (xs has no leaves) and "
                         "length is not given; pass length=n")
    else:
        length = sizes.pop()
    init_flat, init_tree = _leaves(init, who, "init")
    carry_avals = [get_aval(c) for c in init_flat]
    x_avals = [ShapedArray(get_aval(x).shape[1:], get_aval(x).dtype) for x in xs_flat]

    def step(c: Any, x: Any) -> Any:
        out = f(c, x)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError(f"{who}: the function must return a pair (carry, y), got "
                            f"{_what(out)}")
        return out[0], out[1]
    body, hoisted, carry_avals, out_tree = _body_with_carry(
        step, who, "carry output", init_tree, carry_avals, x_avals, xs_tree)
    outs = scan_p.bind(*hoisted, *_as_carry(init_flat, carry_avals), *xs_flat, jaxpr=body,
                       length=length,
                       reverse=bool(reverse), num_consts=len(hoisted),
                       num_carry=len(init_flat))
    outs = _results(outs)
    carry = tree_unflatten(init_tree, outs[:len(init_flat)])
    ys = tree_unflatten(out_tree.children[1], outs[len(init_flat):])
    return carry, ys


def _leading_sizes(xs_flat: list, who: str) -> set[int]:
    """The leading axis size of the leaves of xs (one, or none for no leaves)."""
    sizes = set()
    for x in xs_flat:
        shape = get_aval(x).shape
        if not shape:
            raise ValueError(f"{who}: every leaf of xs needs a leading axis to loop over, got "
                             "a scalar; pass arrays of at least one dimension")
        sizes.add(shape[0])
    if len(sizes) > 1:
        raise ValueError(f"{who}: the leaves of xs must share their leading axis size, got "
                         f"sizes {sorted(sizes)}")
    return sizes


@boundary
def map(f: Callable, xs: Any, *, batch_size: int | None = None) -> Any:  # noqa: A001
    """``f`` applied to each slice of ``xs`` along its leading axis, stacked: a loop, not ``vmap``.

    With ``batch_size``, each step applies ``vmap(f)`` to that many slices
    (any remainder in one last ``vmap``), trading memory for fewer steps.

    Examples:
        >>> import numpy as np
        >>> from nanojax import lax
        >>> lax.map(lambda x: x @ x, np.arange(6.0).reshape(3, 2))
        array([ 1., 13., 41.])
    """
    who = "nanojax.lax.map"
    check_callable(f, who)
    flat, _ = _leaves(xs, who, "xs")
    if not _leading_sizes(flat, who):
        raise ValueError(f"{who}: xs has no leaves to map over; pass arrays")
    if batch_size is None:
        return scan(lambda _, x: (None, f(x)), None, xs)[1]
    if _static_int(batch_size) is None or int(batch_size) < 1:
        raise ValueError(f"{who}: batch_size must be a positive int, got {batch_size!r:.40}")
    from nanojax.batching import vmap
    from nanojax.tree_util import tree_map
    n = get_aval(flat[0]).shape[0]
    size = int(batch_size)
    full, rest = divmod(n, size)
    batched = vmap(f)
    pieces = []
    if full:
        chunks = tree_map(lambda x: jnp.reshape(x[:full * size], (full, size, *x.shape[1:])),
                          xs)
        ys = scan(lambda _, x: (None, batched(x)), None, chunks)[1]
        pieces.append(tree_map(lambda y: jnp.reshape(y, (full * size, *y.shape[2:])), ys))
    if rest:
        pieces.append(batched(tree_map(lambda x: x[full * size:], xs)))
    if len(pieces) == 1:
        return pieces[0]
    return tree_map(lambda a, b: jnp.concatenate([a, b]), *pieces)
