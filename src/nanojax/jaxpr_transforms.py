"""Jaxpr to jaxpr: the transformations control-flow rules recurse with.

A loop or a branch carries its body as a jaxpr. To differentiate, batch or
compile the loop, each interpreter transforms the body the same way it
transforms any function: it traces ``eval_jaxpr`` of the body under itself,
inside a fresh staging trace, and gets a new jaxpr back. These helpers do
that once for every rule:

- ``jvp_jaxpr``: the body pushing tangents beside its values;
- ``vjp_jaxpr``: the body pulling cotangents back to its inputs;
- ``batch_jaxpr``: the body on whole batches.

Every jaxpr here is closed over concrete constants only: a value of an
enclosing transformation never hides inside one (``hoist_tracers`` turns it
into an input first), so a body can be run, staged or compiled anywhere.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

from nanojax import primitives as P
from nanojax.ad_util import zeros_like
from nanojax.core import ClosedJaxpr, Jaxpr, ShapedArray, Tracer, eval_jaxpr

__all__ = ["stage", "hoist_tracers", "live_inputs", "prune_jaxpr", "jvp_jaxpr", "vjp_jaxpr",
           "batch_jaxpr", "is_float_aval", "permute_invars", "permute_outvars"]


def is_float_aval(aval: ShapedArray) -> bool:
    """Does a value of this type carry a derivative? (Integers and booleans do not.)"""
    return aval.dtype.kind in "fc"


def _strong(aval: ShapedArray) -> ShapedArray:
    return ShapedArray(aval.shape, aval.dtype)


def stage(fun: Callable[..., Sequence[Any]], in_avals: Sequence[ShapedArray],
          who: str = "nanojax.lax") -> ClosedJaxpr:
    """The jaxpr of ``fun`` on flat inputs of types ``in_avals``, returning a flat list."""
    from nanojax.staging import trace_to_jaxpr        # staging imports the primitives
    from nanojax.tree_util import tree_flatten
    closed, _ = trace_to_jaxpr(lambda *xs: list(fun(*xs)), list(in_avals),
                               tree_flatten(tuple(in_avals))[1], who)
    if any(isinstance(c, Tracer) for c in closed.consts):      # a rule closed over a tracer
        raise AssertionError(f"{who}: a transformed body closed over a traced value")
    return closed


def hoist_tracers(closed: ClosedJaxpr) -> tuple[ClosedJaxpr, list]:
    """The jaxpr with its traced constants made its first inputs, and those values.

    A body that closes over a value of an enclosing ``grad`` or ``jit`` must
    take it as an operand of the loop, or the enclosing transformation would
    never see it flow in (its derivative would be lost).
    """
    jaxpr = closed.jaxpr
    kept_vars, kept, hoisted_vars, hoisted = [], [], [], []
    for v, c in zip(jaxpr.constvars, closed.consts):
        if isinstance(c, Tracer):
            hoisted_vars.append(v)
            hoisted.append(c)
        else:
            kept_vars.append(v)
            kept.append(c)
    if not hoisted:
        return closed, []
    return ClosedJaxpr(Jaxpr(kept_vars, hoisted_vars + list(jaxpr.invars), jaxpr.outvars,
                             jaxpr.eqns), kept), hoisted


def permute_invars(closed: ClosedJaxpr, order: Sequence[int]) -> ClosedJaxpr:
    """The same jaxpr taking its inputs in the order ``[invars[i] for i in order]``."""
    j = closed.jaxpr
    return ClosedJaxpr(Jaxpr(j.constvars, [j.invars[i] for i in order], j.outvars, j.eqns),
                       closed.consts)


def permute_outvars(closed: ClosedJaxpr, order: Sequence[int]) -> ClosedJaxpr:
    j = closed.jaxpr
    return ClosedJaxpr(Jaxpr(j.constvars, j.invars, [j.outvars[i] for i in order], j.eqns),
                       closed.consts)


def live_inputs(closed: ClosedJaxpr, needed: Sequence[bool]) -> list[bool]:
    """Which inputs the ``needed`` outputs depend on."""
    from nanojax.simplify import dead_code
    j = closed.jaxpr
    outs = [o for o, n in zip(j.outvars, needed, strict=True) if n]
    pruned = dead_code(Jaxpr(j.constvars, j.invars, outs, j.eqns))
    used = {id(a) for e in pruned.eqns for a in e.invars} | {id(o) for o in outs}
    return [id(v) in used for v in j.invars]


def prune_jaxpr(closed: ClosedJaxpr, kept_inputs: Sequence[bool],
                kept_outputs: Sequence[bool]) -> ClosedJaxpr:
    """The jaxpr computing only ``kept_outputs`` from only ``kept_inputs``.

    ``kept_inputs`` must include every input those outputs depend on.
    """
    from nanojax.simplify import dead_code
    j = closed.jaxpr
    outs = [o for o, k in zip(j.outvars, kept_outputs, strict=True) if k]
    pruned = dead_code(Jaxpr(j.constvars, j.invars, outs, j.eqns))
    ins = [v for v, k in zip(j.invars, kept_inputs, strict=True) if k]
    return ClosedJaxpr(Jaxpr(j.constvars, ins, outs, pruned.eqns), closed.consts)


def _run(closed: ClosedJaxpr, args: Sequence[Any]) -> list:
    return eval_jaxpr(closed.jaxpr, closed.consts, *args)


# ----- Forward mode -------------------------------------------------------------------

def jvp_jaxpr(closed: ClosedJaxpr, nonzeros: Sequence[bool],
              instantiate: Sequence[bool]) -> tuple[ClosedJaxpr, list[bool]]:
    """``(primals, tangents) -> (outs, out_tangents)`` for the inputs ``nonzeros`` marks.

    Tangents come in only for the marked inputs and go out for the outputs
    that have one, plus those ``instantiate`` asks for (as zeros), floats
    only. Returns the jaxpr and which outputs have a tangent.
    """
    from nanojax.forward import JVPTrace, JVPTracer
    in_avals = closed.in_avals
    tangent_avals = [_strong(a) for a, nz in zip(in_avals, nonzeros) if nz]
    out_nonzeros: list[bool] = []

    def fun(*args: Any) -> list:
        primals, tangents = list(args[:len(in_avals)]), iter(args[len(in_avals):])
        with JVPTrace("nanojax.jvp") as trace:
            ins = [JVPTracer(trace, p, next(tangents)) if nz else p
                   for p, nz in zip(primals, nonzeros)]
            outs = _run(closed, ins)
        out_p, out_t = [], []
        for o, inst, aval in zip(outs, instantiate, closed.out_avals):
            if type(o) is JVPTracer and o._trace is trace:
                out_p.append(o.primal)
                out_t.append(o.tangent)
            else:
                out_p.append(o)
                out_t.append(zeros_like(o) if inst and is_float_aval(aval) else None)
        out_nonzeros[:] = [t is not None for t in out_t]
        return out_p + [t for t in out_t if t is not None]
    return stage(fun, [*in_avals, *tangent_avals]), out_nonzeros


def jvp_nonzeros(closed: ClosedJaxpr, nonzeros: Sequence[bool]) -> list[bool]:
    """Which outputs of ``closed`` have a tangent when the ``nonzeros`` inputs do."""
    return jvp_jaxpr(closed, nonzeros, [False] * len(closed.out_avals))[1]


# ----- Reverse mode -------------------------------------------------------------------

def vjp_jaxpr(closed: ClosedJaxpr, wanted: Sequence[bool],
              with_primals: bool = False) -> ClosedJaxpr:
    """``(primals, out_cts) -> in_cts``: the body's backward pass, forward pass included.

    Cotangents come in for the float outputs (in order) and go out, as
    materialized arrays, for the inputs ``wanted`` marks (floats only).
    ``with_primals``: the body's own outputs come out first.
    """
    from nanojax.tape import TapeTrace, TapeTracer, backward_pass
    in_avals, out_avals = closed.in_avals, closed.out_avals
    ct_avals = [_strong(a) for a in out_avals if is_float_aval(a)]

    def fun(*args: Any) -> list:
        primals, cts = args[:len(in_avals)], iter(args[len(in_avals):])
        with TapeTrace("nanojax.vjp") as trace:
            ins = [trace.new_input(p) if w else p for p, w in zip(primals, wanted)]
            outs = _run(closed, ins)
        seeds: dict[int, Any] = {}
        for o, aval in zip(outs, out_avals):
            if not is_float_aval(aval):
                continue
            ct = next(cts)
            if type(o) is TapeTracer and o._trace is trace:
                seeds[o.node] = ct if o.node not in seeds else P.add(seeds[o.node], ct)
        in_cts = backward_pass(trace.tape, trace.num_nodes, seeds, who="nanojax.vjp")
        result = [o.primal if type(o) is TapeTracer and o._trace is trace else o
                  for o in outs] if with_primals else []
        for k, (x, w) in enumerate(zip(ins, wanted)):
            if not w:
                continue
            ct = in_cts[x.node] if type(x) is TapeTracer else None
            result.append(zeros_like(primals[k]) if ct is None else _as_dtype(ct, in_avals[k]))
        return result
    return stage(fun, [*in_avals, *ct_avals])


def _as_dtype(ct: Any, aval: ShapedArray) -> Any:
    if P.dtype_of(ct) != aval.dtype:
        ct = P.convert_element_type(ct, aval.dtype)
    if P.shape_of(ct) != aval.shape:
        ct = P.broadcast_to(ct, aval.shape)
    return ct


# ----- Batching -----------------------------------------------------------------------

def batch_jaxpr(closed: ClosedJaxpr, size: int, batched: Sequence[bool],
                force: Sequence[bool]) -> tuple[ClosedJaxpr, list[bool]]:
    """The body on batches: each ``batched`` input has a leading axis of ``size``.

    Outputs come out batched along axis 0 where they depend on a batched
    input or where ``force`` asks (then broadcast). Returns the jaxpr and
    which outputs are batched.
    """
    from nanojax.batching import BatchTrace, BatchTracer
    in_avals = [ShapedArray((size, *a.shape), a.dtype) if b else a
                for a, b in zip(closed.in_avals, batched)]
    out_batched: list[bool] = []

    def fun(*args: Any) -> list:
        with BatchTrace(size) as trace:
            ins = [BatchTracer(trace, x, 0) if b else x for x, b in zip(args, batched)]
            outs = _run(closed, ins)
        result, flags = [], []
        for o, f in zip(outs, force):
            if type(o) is BatchTracer and o._trace is trace:
                result.append(P.move_to_front(o.val, o.bdim, size))
                flags.append(True)
            elif f:
                result.append(P.move_to_front(o, None, size))
                flags.append(True)
            else:
                result.append(o)
                flags.append(False)
        out_batched[:] = flags
        return result
    return stage(fun, in_avals), out_batched


def batched_outputs(closed: ClosedJaxpr, size: int, batched: Sequence[bool]) -> list[bool]:
    """Which outputs of ``closed`` depend on its ``batched`` inputs."""
    return batch_jaxpr(closed, size, batched, [False] * len(closed.out_avals))[1]


def zeros(aval: ShapedArray) -> Any:
    """A zero of type ``aval``, as a NumPy value (a constant wherever it is used)."""
    return np.zeros(aval.shape, aval.dtype) if aval.shape else aval.dtype.type(0)
