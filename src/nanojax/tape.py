"""Reverse mode: the tape, and the backward pass that walks it.

The tape interpreter is the guide's backprop made literal. The forward pass
computes every gate on real values and records it, in order, with the values
it saw (one ``TapeEntry`` per gate). The backward pass walks the tape in
reverse: each gate multiplies the pull from above by its local derivative
(its ``vjp`` rule) and adds the result into its inputs' pulls, with ``+``
because a wire that branches sums its gradients.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from collections.abc import Callable, Sequence

import numpy as np

from nanojax import primitives as P
from nanojax.ad_util import as_constant, match_input, zeros_like
from nanojax.api_util import check_inputs, check_outputs, describe, refuse_complex
from nanojax.core import Primitive, ShapedArray, Trace, Tracer, _state, get_aval, own_memory
from nanojax.dtypes import FLOAT_SCALARS
from nanojax.source_info import CURRENT, user_frame
from nanojax.tree_util import PyTreeDef, tree_flatten, tree_unflatten

__all__ = ["TapeEntry", "TapeTracer", "TapeTrace", "record", "backward_pass", "pull",
           "seed_outputs", "unbroadcast"]


class TapeEntry(NamedTuple):
    """One gate on the tape, as the forward pass saw it.

    ``in_nodes[k]`` is the wire number of operand ``k``, or -1 for a value
    that is not on this tape (a constant); ``in_values[k]`` its value.
    ``out_node`` is the wire the gate drives and ``out_value`` its value; a
    gate with several outputs (``multiple_results``) drives a tuple of wires
    and its ``out_value`` is a list.

    The tape itself holds plain tuples in this layout, which the backward
    pass unpacks by these names: a NamedTuple per gate (its ``__new__`` is a
    Python function) made a two-gate scalar ``grad`` 8% slower, measured in
    instructions. ``TapeEntry._make(entry)`` names an entry of the tape.
    """

    primitive: Primitive
    params: dict
    in_nodes: Sequence[int]
    in_values: Sequence[Any]
    out_value: Any
    out_node: int | tuple[int, ...]


class TapeTracer(Tracer):
    """A value on the tape: its primal and the number of the wire it is on."""

    __slots__ = ("primal", "node")

    def __init__(self, trace: TapeTrace, primal: Any, node: int) -> None:
        self._trace = trace
        self.primal = primal
        self.node = node

    def payload(self) -> tuple[Any, int]:
        return self.primal, self.node

    @property
    def aval(self) -> ShapedArray:
        return get_aval(self.primal)

    # Read straight off the value: these are asked for on every gate.
    @property
    def shape(self) -> tuple[int, ...]:
        return getattr(self.primal, "shape", ())

    @property
    def dtype(self) -> np.dtype:
        return P.dtype_of(self.primal)

    def to_concrete_value(self, what: str) -> Any:
        p = self.primal
        return p.to_concrete_value(what) if isinstance(p, Tracer) else p


class TapeTrace(Trace):
    """Computes each gate and records it as a ``TapeEntry``.

    ``who`` is the public name of the transformation, for error messages.
    """

    __slots__ = ("tape", "num_nodes", "who")
    tracer_type = TapeTracer
    constant_data = -1                   # the wire of a value not on this tape
    keeps_every_value = False            # True: no residual is dropped (nj.circuit shows them)

    def __init__(self, who: str = "nanojax.vjp") -> None:
        super().__init__()
        self.tape: list[tuple] = []          # TapeEntry's layout
        self.num_nodes = 0
        self.who = who

    def new_input(self, primal: Any) -> TapeTracer:
        self.num_nodes += 1
        return TapeTracer(self, primal, self.num_nodes - 1)

    def process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        if len(args) == 2:
            # Most gates: ``unwrap`` spelled out for two operands, with no
            # lists, on the scalar circuits' hot path.
            x, y = args
            if type(x) is TapeTracer and x._trace is self:
                nx, x = x.node, x.primal
            else:
                nx = -1
            if type(y) is TapeTracer and y._trace is self:
                ny, y = y.node, y.primal
            else:
                ny = -1
            primals: Sequence[Any] = (x, y)
            nodes: Sequence[int] = (nx, ny)
        else:
            primals, nodes = self.unwrap(args)
        if prim.vjp_fwd is not None:
            # The gate keeps residuals of its own: its vjp gets them after the operands.
            ans, kept = prim.vjp_fwd(*primals, **params)
            primals = (*primals, *kept)
        # At level 0 nothing below can be traced: skip bind's tracer scan.
        elif self.level == 0:
            ans = prim.impl(*primals, **params)
        else:
            ans = prim.bind(*primals, **params)
        if not prim.differentiable:
            return self.constant_gate(prim, params, nodes, primals, ans)
        if type(ans) not in FLOAT_SCALARS:            # floats: the hot path
            for a in (ans if prim.multiple_results else (ans,)):
                refuse_complex(a, prim.name, self.who)
        if prim.multiple_results:           # one wire per output; the entry holds them all
            first = self.num_nodes
            self.num_nodes = first + len(ans)
            out_nodes = tuple(range(first, first + len(ans)))
            self.tape.append((prim, params, nodes, primals, ans, out_nodes))
            return [TapeTracer(self, a, n) for a, n in zip(ans, out_nodes)]
        node = self.num_nodes
        self.num_nodes = node + 1
        if type(ans) is np.ndarray and prim.residuals is not None and not self.keeps_every_value:
            # Keep only what the vjp rules read: an array nothing reads is freed
            # as soon as the forward pass is done with it, not at the end.
            self.tape.append((prim, params, nodes, *_residuals(prim.residuals, primals, ans),
                              node))
        else:
            self.tape.append((prim, params, nodes, primals, ans, node))
        return TapeTracer(self, ans, node)

    def constant_gate(self, prim: Primitive, params: dict, nodes: Sequence[int],
                      primals: Sequence[Any], ans: Any) -> Any:
        """A gate with zero derivative (a comparison, ``stop_gradient``): off the tape.

        No pull passes through it, so its result ``ans`` leaves the trace as
        a constant. (The other arguments are those of a ``TapeEntry``:
        ``nj.circuit`` overrides this to show the gate all the same.)
        """
        return as_constant(ans)


def _residuals(kind: str, primals: Sequence[Any], ans: Any) -> tuple[Sequence[Any], Any]:
    """A gate's operands and result as its tape entry keeps them (``Primitive.residuals``).

    An array the rules do not read is kept as its shape and dtype.
    """
    if kind != "operands":
        primals = tuple(ShapedArray(p.shape, p.dtype) if type(p) is np.ndarray else p
                        for p in primals)
    if kind != "ans":
        ans = ShapedArray(ans.shape, ans.dtype)
    return primals, ans


# ----- Recording ------------------------------------------------------------------

def record(fun: Callable, flat: list, in_tree: PyTreeDef, has_aux: bool, who: str,
           trace: TapeTrace | None = None) -> tuple[TapeTrace, list, PyTreeDef, list, Any]:
    """Run ``fun`` on tape tracers standing for the leaves ``flat``.

    Returns what pulling the outputs back needs: ``(trace, out_primals,
    out_tree, out_nodes, aux)``, where ``out_nodes[k]`` is -1 for an output
    that is a constant. With ``has_aux``, ``fun`` returns ``(output, aux)``
    and aux comes back with its values, not the (by then dead) trace's
    tracers. ``trace`` is a fresh ``TapeTrace`` (``nj.circuit`` passes its
    own kind) or, by default, one named ``who``. (A plain tuple: this runs
    once per ``grad`` call, where a NamedTuple costs 5% on a scalar circuit.)
    """
    with (TapeTrace(who) if trace is None else trace) as trace:
        tracers = [trace.new_input(x) for x in flat]
        out = fun(*tree_unflatten(in_tree, tracers))
        aux = None
        if has_aux:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise TypeError(f"{who}: with has_aux=True, the function must return a pair "
                                f"(output, aux); it returned {describe(out)}")
            out, aux = out
        out_flat, out_tree = tree_flatten(out)
    out_nodes = [o.node if type(o) is TapeTracer and o._trace is trace else -1
                 for o in out_flat]
    if -1 in out_nodes:               # a constant output: check what it is
        check_outputs(out_flat, who)
        for o in out_flat:
            if not isinstance(o, Tracer):
                refuse_complex(o, "the function", who)
    out_primals = [o.primal if n >= 0 else o for o, n in zip(out_flat, out_nodes)]
    if has_aux:
        aux_flat, aux_tree = tree_flatten(aux)
        aux = tree_unflatten(aux_tree, [a.primal if type(a) is TapeTracer and a._trace is trace
                                        else a for a in aux_flat])
    return trace, out_primals, out_tree, out_nodes, aux


# ----- The backward pass -----------------------------------------------------------

def unbroadcast(ct: Any, shape: tuple[int, ...]) -> Any:
    """Sum a cotangent back to the shape of the input that was broadcast."""
    ct_shape = P.shape_of(ct)
    lead = len(ct_shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape) if d == 1 and ct_shape[lead + i] != 1)
    if lead < 0 or any(d != 1 and ct_shape[lead + i] not in (1, d)
                       for i, d in enumerate(shape)):
        return P.broadcast_to(ct, shape)
    if axes:
        ct = P.reduce_sum(ct, axes)
    if P.shape_of(ct) != shape:
        ct = P.reshape(ct, shape) if int(np.prod(P.shape_of(ct))) == int(np.prod(shape)) \
            else P.broadcast_to(ct, shape)
    return ct


def _no_vjp(prim: Primitive, who: str) -> NotImplementedError:
    return NotImplementedError(
        f"{who}: primitive '{prim.name}' has no vjp rule: reverse-mode differentiation "
        "(grad, vjp, jacrev) of it is not implemented; use forward mode (jvp, jacfwd) or "
        "wrap the computation in nj.custom_vjp with a backward rule")


def backward_pass(tape: list, num_nodes: int, seeds: dict[int, Any],
                  keep: bool = False, who: str = "nanojax.vjp", consume: bool = False) -> list:
    """Walk the tape in reverse; return the cotangent of every wire (``ZERO`` if none).

    Each gate's pull is freed once passed on, unless ``keep``: then every
    wire keeps its pull (``nj.circuit`` shows them all). With ``consume``
    the tape is emptied as it is walked, so each gate's residuals (its
    operands and result) are freed as soon as its rule has run and the
    cotangents reuse their memory, instead of all of them living until the
    end (``grad`` walks its tape once; a ``vjp`` pull may be called again).
    """
    # ZERO is None, and is spelled None in this loop: Python tests ``is None``
    # in one instruction, and a name costs 1.5% of a scalar grad here.
    cts: list[Any] = [None] * num_nodes
    for node, g in seeds.items():
        cts[node] = g
    if consume:
        # Pop entries off the end until the None put first: C's loop, no frame per entry.
        tape.insert(0, None)
        entries: Any = iter(tape.pop, None)
    else:
        entries = reversed(tape)
    for prim, params, nodes, primals, ans, node in entries:
        if type(node) is tuple:       # several outputs: their pulls go in as a list
            if all(cts[n] is None for n in node):
                continue
            g = [zeros_like(a) if cts[n] is None else cts[n]
                 for n, a in zip(node, ans)]
            if not keep:
                for n in node:
                    cts[n] = None
        else:
            g = cts[node]
            if g is None:
                continue
            if not keep:
                cts[node] = None          # used once: let its memory go
        # Two forms of rule, on purpose. Per-argument rules (``vjp_args``)
        # run only for operands that lead back to an input, so a constant
        # operand costs nothing; a primitive whose arity varies (concatenate,
        # gather, a select_n of other than 2 cases) has one rule for all its
        # cotangents instead. Funnelling both through one derived function
        # would cost a Python call per gate, several percent of a scalar grad.
        parts = prim.vjp_args
        if parts is None or len(parts) != len(nodes):
            parts = None
            if prim.vjp is None:
                raise _no_vjp(prim, who)
            in_cts = prim.vjp(g, ans, *primals, **params)
            if len(in_cts) != len(nodes):
                raise TypeError(f"{who}: the vjp rule of primitive '{prim.name}' returned "
                                f"{len(in_cts)} cotangents for {len(nodes)} operands")
        else:
            in_cts = parts
        first = None
        for k, in_node in enumerate(nodes):
            if in_node < 0:
                continue
            ct = in_cts[k]
            if ct is None:
                continue
            if parts is not None:     # a per-argument rule: only needed pulls are computed
                if k == 1 and first is not None and in_node == nodes[0] and prim.symmetric:
                    ct = first        # x * x: the second pull is the first, to the bit
                else:
                    ct = ct(g, ans, *primals, **params)
                if ct is None:
                    continue
            x = primals[k]
            if not (type(ct) in FLOAT_SCALARS and type(x) in FLOAT_SCALARS):
                shape = getattr(x, "shape", ())
                if getattr(ct, "shape", ()) != shape:
                    ct = unbroadcast(ct, shape)
            first = ct
            prev = cts[in_node]
            cts[in_node] = ct if prev is None else P.add_p.bind(prev, ct)
    return cts


def pull(trace: TapeTrace, flat: list, seeds: dict[int, Any], extra_inputs: Sequence = (),
         consume: bool = False) -> list:
    """The cotangents of the inputs ``flat``, each its input's dtype and own memory.

    ``consume``: the tape is not needed again, so it is emptied as it is walked.
    """
    if _state.stack and CURRENT.source is None:
        # Inside another transformation (jit, make_jaxpr): what the backward
        # pass records is at the line that asked for the derivative, found
        # once here instead of by a walk up the stack for every equation.
        CURRENT.source = user_frame(2)
        try:
            cts = backward_pass(trace.tape, trace.num_nodes, seeds, False, trace.who, consume)
        finally:
            CURRENT.source = None
    else:
        cts = backward_pass(trace.tape, trace.num_nodes, seeds, False, trace.who, consume)
    grads = [match_input(cts[i], x) for i, x in enumerate(flat)]
    for g in grads:
        if type(g) is not np.float64:         # scalar pulls share no memory
            return own_memory(grads, (*flat, *extra_inputs))
    return grads


def seed_outputs(ct: Any, out_tree: PyTreeDef, out_nodes: list[int], out_primals: list,
                 who: str, what: str) -> dict[int, Any]:
    """The pull on each output wire, checked against the output's structure and shapes."""
    ct_flat, ct_tree = tree_flatten(ct)
    ct_flat = check_inputs(ct_flat, who)
    if ct_tree != out_tree:
        raise ValueError(f"{who}: the {what} has structure {ct_tree} but the "
                         f"function's output has structure {out_tree}")
    seeds: dict[int, Any] = {}
    for n, c, o in zip(out_nodes, ct_flat, out_primals):
        if P.shape_of(c) != P.shape_of(o):
            raise ValueError(f"{who}: a {what} of shape {P.shape_of(c)} was given "
                             f"for an output of shape {P.shape_of(o)}")
        if n >= 0:   # a wire that is an output twice gets both pulls
            seeds[n] = c if n not in seeds else P.add_p.bind(seeds[n], c)
    return seeds
