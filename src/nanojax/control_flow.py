"""Control flow as primitives that carry jaxprs: ``cond``, ``while`` and ``scan``.

A branch or a loop body is a circuit of its own, recorded once as a jaxpr
and carried by the gate as a parameter. Each block below gives its gate
every rule, as the other families do, and each rule handles the body by
recursion: to push tangents through a loop, the body is traced under
forward mode into a new body and the loop is bound again (see
``jaxpr_transforms``). ``jit`` writes a real Python ``for``/``while``/``if``
around the body's own generated lines, so the code is as long for a
thousand steps as for ten.

The public functions, with JAX's signatures and pytrees, are in
``nanojax.lax_control_flow``; these gates are what they bind.

Operands, in order:

- ``cond``: ``index, *operands``; ``branches`` is a tuple of jaxprs, each
  taking the operands; the one at ``index`` (clamped) runs.
- ``while``: ``*cond_consts, *body_consts, *carry``; ``cond_jaxpr`` maps
  ``(cond_consts, carry)`` to a boolean scalar, ``body_jaxpr`` maps
  ``(body_consts, carry)`` to the next carry.
- ``scan``: ``*consts, *carry, *xs``; ``jaxpr`` maps ``(consts, carry,
  x)`` to ``(carry, y)`` for each slice ``x`` of ``xs`` along axis 0; the
  outputs are the last carry and the ``y``s stacked.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from collections.abc import Sequence

import numpy as np

from nanojax import primitives as P
from nanojax.ad_util import zeros_like
from nanojax.core import ClosedJaxpr, Jaxpr, Literal, Lowering, Primitive, ShapedArray, \
    eval_jaxpr, own_memory
from nanojax.jaxpr_transforms import (batch_jaxpr, batched_outputs, is_float_aval, jvp_jaxpr,
                                      jvp_nonzeros, live_inputs, permute_invars, permute_outvars,
                                      prune_jaxpr, stage, vjp_jaxpr)
from nanojax.primitives.base import _register

__all__ = ["cond_p", "while_p", "scan_p"]


def _run(closed: ClosedJaxpr, args: Sequence[Any]) -> list:
    return eval_jaxpr(closed.jaxpr, closed.consts, *args)


def _split(seq: Sequence[Any], *sizes: int) -> list[list]:
    out, start = [], 0
    for n in sizes:
        out.append(list(seq[start:start + n]))
        start += n
    out.append(list(seq[start:]))
    return out


def _tangent_or_zero(t: Any, primal: Any) -> Any:
    return zeros_like(primal) if t is None else t


def _front(x: Any, d: int | None, size: int) -> Any:
    return P.move_to_front(x, d, size)


# ----- cond: one of several branches ---------------------------------------------------

def _cond_impl(index: Any, *operands: Any, branches: tuple) -> list:
    i = min(max(int(index), 0), len(branches) - 1)
    return own_memory(_run(branches[i], operands), operands)


def _cond_aval(index: ShapedArray, *operands: ShapedArray, branches: tuple) -> list:
    if index.shape != () or index.dtype.kind not in "iu":
        raise TypeError(f"nanojax.lax.switch: the index must be an integer scalar, got "
                        f"{index.str_short()}")
    return branches[0].out_avals


def _cond_jvp(primals: Sequence[Any], tangents: Sequence[Any], *, branches: tuple) -> tuple:
    index, ops = primals[0], list(primals[1:])
    nonzeros = [t is not None for t in tangents[1:]]
    # A tangent leaves the gate if it leaves any branch: the others give zeros.
    out_nz = [any(flags) for flags in zip(*(jvp_nonzeros(b, nonzeros) for b in branches))]
    new = tuple(jvp_jaxpr(b, nonzeros, out_nz)[0] for b in branches)
    outs = cond_p.bind(index, *ops, *(t for t in tangents[1:] if t is not None), branches=new)
    n = len(branches[0].out_avals)
    it = iter(outs[n:])
    return outs[:n], [next(it) if nz else None for nz in out_nz]


def _cond_vjp(g: list, ans: list, index: Any, *operands: Any, branches: tuple) -> list:
    avals = branches[0].in_avals
    wanted = [is_float_aval(a) for a in avals]
    floats = [ct for ct, a in zip(g, branches[0].out_avals) if is_float_aval(a)]
    backward = tuple(vjp_jaxpr(b, wanted) for b in branches)
    cts = iter(cond_p.bind(index, *operands, *floats, branches=backward))
    return [None, *(next(cts) if w else None for w in wanted)]


def _cond_batch(size: int, vals: list, dims: list, *, branches: tuple) -> tuple:
    index, ops = vals[0], [_front(v, d, size) if d is not None else v
                           for v, d in zip(vals[1:], dims[1:])]
    batched = [d is not None for d in dims[1:]]
    if dims[0] is not None:
        # A batched index: every branch runs on the whole batch and each
        # example keeps the result of its own branch, as in JAX.
        n = len(branches)
        which = P.convert_element_type(_front(index, dims[0], size), np.dtype(np.int32))
        which = P.max_p.bind(P.min_p.bind(which, np.int32(n - 1)), np.int32(0))
        force = [True] * len(branches[0].out_avals)
        results = [_run(batch_jaxpr(b, size, batched, force)[0], ops) for b in branches]
        outs = []
        for k, aval in enumerate(branches[0].out_avals):
            shape = (size, *aval.shape)
            sel = P.broadcast_in_dim(which, shape, (0,))
            cases = [r[k] for r in results]
            outs.append(P.select_n(sel, *cases) if n > 1 else cases[0])
        return outs, [0] * len(outs)
    out_b = [any(flags) for flags in zip(*(batched_outputs(b, size, batched) for b in branches))]
    new = tuple(batch_jaxpr(b, size, batched, out_b)[0] for b in branches)
    outs = cond_p.bind(index, *ops, branches=new)
    return outs, [0 if b else None for b in out_b]


def _cond_lowering(w: Any, ins: list, params: dict, in_avals: list, out_aval: Any) -> tuple:
    branches = params["branches"]
    args = [f"a{k}" for k in range(len(ins) - 1)]
    lines, float_math = [], False
    for k, branch in enumerate(branches):
        body, outs, fm = w.block(branch, args)
        float_math |= fm
        test = "if" if k == 0 else "elif"
        lines.append(f"{test} _i <= {k}:" if k < len(branches) - 1 else "else:")
        lines += [f"    {line}" for line in body]
        lines.append(f"    return [{', '.join(outs)}]")
    name = w.helper("_cond", ["_i", *args], lines)
    return f"{name}({', '.join(ins)})", float_math


def _cond_prune(params: dict, used: list[bool]) -> tuple | None:
    branches = params["branches"]
    keep = [any(col) for col in zip(*(live_inputs(b, used) for b in branches))]
    if all(keep) and all(used):
        return None
    new = tuple(prune_jaxpr(b, keep, used) for b in branches)
    return dict(params, branches=new), [True, *keep], list(used)


cond_p = _register(Primitive(
    "cond", _cond_impl, _cond_aval, vjp=_cond_vjp, batch=_cond_batch, multiple_results=True,
    lowering=Lowering(custom=_cond_lowering), joint_jvp=_cond_jvp, prune=_cond_prune))


# ----- while: a loop whose trip count the values decide --------------------------------

def _while_impl(*operands: Any, cond_jaxpr: ClosedJaxpr, body_jaxpr: ClosedJaxpr,
                cond_nconsts: int, body_nconsts: int) -> list:
    cconsts, bconsts, carry = _split(operands, cond_nconsts, body_nconsts)
    while _run(cond_jaxpr, [*cconsts, *carry])[0]:
        carry = _run(body_jaxpr, [*bconsts, *carry])
    return own_memory(carry, operands)


def _while_aval(*avals: ShapedArray, cond_jaxpr: ClosedJaxpr, body_jaxpr: ClosedJaxpr,
                cond_nconsts: int, body_nconsts: int) -> list:
    return body_jaxpr.out_avals


def _while_jvp(primals: Sequence[Any], tangents: Sequence[Any], *, cond_jaxpr: ClosedJaxpr,
               body_jaxpr: ClosedJaxpr, cond_nconsts: int, body_nconsts: int) -> tuple:
    cconsts, bconsts, carry = _split(primals, cond_nconsts, body_nconsts)
    _, tb, tc = _split(tangents, cond_nconsts, body_nconsts)
    nb, nc = len(bconsts), len(carry)
    consts_nz = [t is not None for t in tb]
    carry_nz = [t is not None for t in tc]
    while True:        # a carry has a tangent once any step can give it one
        out = jvp_nonzeros(body_jaxpr, consts_nz + carry_nz)
        grown = [a or b for a, b in zip(carry_nz, out)]
        if grown == carry_nz:
            break
        carry_nz = grown
    body, _ = jvp_jaxpr(body_jaxpr, consts_nz + carry_nz, carry_nz)
    n_tb, n_tc = sum(consts_nz), sum(carry_nz)
    # Inputs (consts, carry, const tangents, carry tangents) -> (consts,
    # const tangents, carry, carry tangents): the loop's operand order.
    order = [*range(nb), *range(nb + nc, nb + nc + n_tb), *range(nb, nb + nc),
             *range(nb + nc + n_tb, nb + nc + n_tb + n_tc)]
    body = permute_invars(body, order)
    cond = _ignoring(cond_jaxpr, [a for a, nz in zip(body_jaxpr.out_avals, carry_nz) if nz])
    carry_t = [_tangent_or_zero(t, c) for t, c, nz in zip(tc, carry, carry_nz) if nz]
    outs = while_p.bind(*cconsts, *bconsts, *(t for t in tb if t is not None), *carry, *carry_t,
                        cond_jaxpr=cond, body_jaxpr=body, cond_nconsts=cond_nconsts,
                        body_nconsts=nb + n_tb)
    it = iter(outs[nc:])
    return outs[:nc], [next(it) if nz else None for nz in carry_nz]


def _ignoring(closed: ClosedJaxpr, extra: list[ShapedArray]) -> ClosedJaxpr:
    """``closed`` taking further inputs of types ``extra`` that it does not read."""
    from nanojax.core import Var
    j = closed.jaxpr
    return ClosedJaxpr(Jaxpr(j.constvars, [*j.invars, *(Var(a) for a in extra)], j.outvars,
                             j.eqns), closed.consts)


def _while_vjp(*args: Any, **params: Any) -> list:
    raise ValueError("nanojax.lax.while_loop: reverse-mode differentiation does not work for "
                     "lax.while_loop or lax.fori_loop with dynamic start/stop values. Try "
                     "using lax.scan, or using fori_loop with static start/stop.")


def _while_batch(size: int, vals: list, dims: list, *, cond_jaxpr: ClosedJaxpr,
                 body_jaxpr: ClosedJaxpr, cond_nconsts: int, body_nconsts: int) -> tuple:
    vals = [v if d is None else _front(v, d, size) for v, d in zip(vals, dims)]
    cconsts, bconsts, carry = _split(vals, cond_nconsts, body_nconsts)
    cb, bb, carry_b = (list(map(lambda d: d is not None, part))
                       for part in _split(dims, cond_nconsts, body_nconsts))
    while True:        # a carry is batched once any step can batch it
        grown = [a or b for a, b in zip(carry_b, batched_outputs(body_jaxpr, size,
                                                                  bb + carry_b))]
        if grown == carry_b:
            break
        carry_b = grown
    pred_batched = batched_outputs(cond_jaxpr, size, cb + carry_b)[0]
    carry_dims = dims[len(dims) - len(carry):]
    if not pred_batched:
        body, _ = batch_jaxpr(body_jaxpr, size, bb + carry_b, carry_b)
        cond, _ = batch_jaxpr(cond_jaxpr, size, cb + carry_b, [False])
        carry = [_front(c, None, size) if b and d is None else c
                 for c, b, d in zip(carry, carry_b, carry_dims)]
        outs = while_p.bind(*cconsts, *bconsts, *carry, cond_jaxpr=cond, body_jaxpr=body,
                            cond_nconsts=len(cconsts), body_nconsts=len(bconsts))
        return outs, [0 if b else None for b in carry_b]
    # Each example stops at its own step: the loop runs while any example
    # goes on, and an example that is done keeps its carry.
    carry = [c if d is not None else _front(c, None, size) for c, d in zip(carry, carry_dims)]
    all_b = [True] * len(carry)
    cond_b, _ = batch_jaxpr(cond_jaxpr, size, cb + all_b, [True])
    body_b, _ = batch_jaxpr(body_jaxpr, size, bb + all_b, all_b)
    nc = len(cconsts)

    def step(*args: Any) -> list:
        cc, bc, old = _split(args, nc, len(bconsts))
        going = _run(cond_b, [*cc, *old])[0]
        new = _run(body_b, [*bc, *old])
        return [P.select_n(P.broadcast_in_dim(going, P.shape_of(o), (0,)), o, n)
                for o, n in zip(old, new)]

    def any_going(*args: Any) -> list:
        cc, old = args[:nc], args[nc:]
        going = _run(cond_b, [*cc, *old])[0]
        return [P.reduce_max(going, (0,))]
    carry_avals = [ShapedArray(P.shape_of(c), P.dtype_of(c)) for c in carry]
    const_avals = [ShapedArray(P.shape_of(c), P.dtype_of(c)) for c in (*cconsts, *bconsts)]
    body = stage(step, const_avals + carry_avals)
    cond = stage(any_going, const_avals[:nc] + carry_avals)
    outs = while_p.bind(*cconsts, *cconsts, *bconsts, *carry, cond_jaxpr=cond, body_jaxpr=body,
                        cond_nconsts=nc, body_nconsts=nc + len(bconsts))
    return outs, [0] * len(outs)


def _while_lowering(w: Any, ins: list, params: dict, in_avals: list, out_aval: Any) -> tuple:
    nc, nb = params["cond_nconsts"], params["body_nconsts"]
    cc = [f"c{k}" for k in range(nc)]
    bc = [f"b{k}" for k in range(nb)]
    carry = [f"x{k}" for k in range(len(ins) - nc - nb)]
    cond_lines, (pred,), fm1 = w.block(params["cond_jaxpr"], cc + carry)
    body_lines, outs, fm2 = w.block(params["body_jaxpr"], bc + carry)
    lines = ["while True:", *(f"    {line}" for line in cond_lines), f"    if not {pred}:",
             "        break", *(f"    {line}" for line in body_lines)]
    if carry:
        lines.append(f"    {', '.join(carry)}, = {', '.join(outs)},")
    lines.append(f"return [{', '.join(carry)}]")
    name = w.helper("_while", cc + bc + carry, lines)
    return f"{name}({', '.join(ins)})", fm1 or fm2


def _while_prune(params: dict, used: list[bool]) -> tuple | None:
    cond, body = params["cond_jaxpr"], params["body_jaxpr"]
    nc, nb = params["cond_nconsts"], params["body_nconsts"]
    cond_live = live_inputs(cond, [True])
    # A carry stays if it is used, decides the loop, or feeds one that stays.
    keep = [u or c for u, c in zip(used, cond_live[nc:])]
    while True:
        grown = [k or b for k, b in zip(keep, live_inputs(body, keep)[nb:])]
        if grown == keep:
            break
        keep = grown
    keep_cc, keep_bc = cond_live[:nc], live_inputs(body, keep)[:nb]
    if all(keep_cc) and all(keep_bc) and all(keep):
        return None
    new = dict(params, cond_jaxpr=prune_jaxpr(cond, keep_cc + keep, [True]),
               body_jaxpr=prune_jaxpr(body, keep_bc + keep, keep),
               cond_nconsts=sum(keep_cc), body_nconsts=sum(keep_bc))
    return new, keep_cc + keep_bc + keep, keep


while_p = _register(Primitive(
    "while", _while_impl, _while_aval, vjp=_while_vjp, batch=_while_batch,
    multiple_results=True, lowering=Lowering(custom=_while_lowering), joint_jvp=_while_jvp,
    prune=_while_prune))


# ----- scan: a loop over the leading axis, carrying state --------------------------------

def _scan_impl(*operands: Any, jaxpr: ClosedJaxpr, length: int, reverse: bool,
               num_consts: int, num_carry: int) -> list:
    consts, carry, xs = _split(operands, num_consts, num_carry)
    y_avals = jaxpr.out_avals[num_carry:]
    ys = [np.empty((length, *a.shape), a.dtype) for a in y_avals]
    for i in (range(length - 1, -1, -1) if reverse else range(length)):
        outs = _run(jaxpr, [*consts, *carry, *(x[i] for x in xs)])
        carry = outs[:num_carry]
        for y, value in zip(ys, outs[num_carry:]):
            y[i] = value
    return own_memory([*carry, *ys], operands)


def _scan_aval(*avals: ShapedArray, jaxpr: ClosedJaxpr, length: int, reverse: bool,
               num_consts: int, num_carry: int) -> list:
    outs = jaxpr.out_avals
    return [*(ShapedArray(a.shape, a.dtype) for a in outs[:num_carry]),
            *(ShapedArray((length, *a.shape), a.dtype) for a in outs[num_carry:])]


def _scan_jvp(primals: Sequence[Any], tangents: Sequence[Any], *, jaxpr: ClosedJaxpr,
              length: int, reverse: bool, num_consts: int, num_carry: int) -> tuple:
    consts, carry, xs = _split(primals, num_consts, num_carry)
    tk, tc, tx = _split(tangents, num_consts, num_carry)
    nk, nc, nx = len(consts), len(carry), len(xs)
    k_nz, c_nz, x_nz = ([t is not None for t in part] for part in (tk, tc, tx))
    ny = len(jaxpr.out_avals) - nc
    while True:        # a carry has a tangent once any step can give it one
        out = jvp_nonzeros(jaxpr, k_nz + c_nz + x_nz)[:nc]
        grown = [a or b for a, b in zip(c_nz, out)]
        if grown == c_nz:
            break
        c_nz = grown
    y_nz = jvp_nonzeros(jaxpr, k_nz + c_nz + x_nz)[nc:]
    body, _ = jvp_jaxpr(jaxpr, k_nz + c_nz + x_nz, c_nz + y_nz)
    n_tk, n_tc, n_tx, n_ty = sum(k_nz), sum(c_nz), sum(x_nz), sum(y_nz)
    base = nk + nc + nx
    # Into the scan's order: (consts, their tangents, carry, its tangents, xs, theirs).
    body = permute_invars(body, [
        *range(nk), *range(base, base + n_tk), *range(nk, nk + nc),
        *range(base + n_tk, base + n_tk + n_tc), *range(nk + nc, base),
        *range(base + n_tk + n_tc, base + n_tk + n_tc + n_tx)])
    out_base = nc + ny
    body = permute_outvars(body, [*range(nc), *range(out_base, out_base + n_tc),
                                  *range(nc, out_base), *range(out_base + n_tc,
                                                               out_base + n_tc + n_ty)])
    carry_t = [_tangent_or_zero(t, c) for t, c, nz in zip(tc, carry, c_nz) if nz]
    outs = scan_p.bind(*consts, *(t for t in tk if t is not None), *carry, *carry_t, *xs,
                       *(t for t in tx if t is not None), jaxpr=body, length=length,
                       reverse=reverse, num_consts=nk + n_tk, num_carry=nc + n_tc)
    carry_out, carry_t_out, ys, ys_t = _split(outs, nc, n_tc, ny)
    ct, yt = iter(carry_t_out), iter(ys_t)
    return ([*carry_out, *ys],
            [next(ct) if nz else None for nz in c_nz] + [next(yt) if nz else None
                                                          for nz in y_nz])


class _ScanPull(NamedTuple):
    """A scan body's backward pass split at the residuals, as JAX's partial evaluation does.

    ``forward`` maps ``(consts, carry, x)`` to ``(carry, y, *residuals)``:
    the body, also giving the values its backward step reads that depend on
    the step (the carry it started from, the body's intermediates).
    ``backward`` maps ``(consts, carry pulls, residuals, x, y pulls)`` to the
    pulls of the ``wanted`` inputs, recomputing only what depends on the
    consts alone; it never runs the body's forward pass again.
    """

    forward: ClosedJaxpr
    backward: ClosedJaxpr
    num_residuals: int
    wanted: list


_PULLS: dict[int, tuple[ClosedJaxpr, _ScanPull]] = {}


def _scan_pull(jaxpr: ClosedJaxpr, num_consts: int, num_carry: int) -> _ScanPull:
    """``_ScanPull`` of a body, made once per body (the tape's forward and its pull share it)."""
    hit = _PULLS.get(id(jaxpr))
    if hit is not None and hit[0] is jaxpr:
        return hit[1]
    wanted = [is_float_aval(a) for a in jaxpr.in_avals]
    joint_closed = vjp_jaxpr(jaxpr, wanted, with_primals=True)
    joint = joint_closed.jaxpr
    n_in, n_out = len(jaxpr.in_avals), len(jaxpr.out_avals)
    ks, cs_xs, pulls_in = joint.invars[:num_consts], joint.invars[num_consts:n_in], \
        joint.invars[n_in:]
    # Each variable depends on the consts alone, on the step (carry or x), or on the pulls.
    kind: dict[Any, str] = {v: "c" for v in (*joint.constvars, *ks)}
    kind.update((v, "k") for v in cs_xs)
    kind.update((v, "u") for v in pulls_in)
    eqn_kind = []
    for eqn in joint.eqns:
        kinds = {kind[a] for a in eqn.invars if not isinstance(a, Literal)}
        k = "u" if "u" in kinds else "k" if "k" in kinds else "c"
        eqn_kind.append(k)
        kind.update((v, k) for v in eqn.outvars)
    primal_outs, pull_outs = joint.outvars[:n_out], joint.outvars[n_out:]
    read_later = [a for eqn, k in zip(joint.eqns, eqn_kind) if k == "u" for a in eqn.invars]
    residuals = list(dict.fromkeys(
        v for v in (*read_later, *pull_outs)
        if not isinstance(v, Literal) and kind[v] == "k"))
    xs_in = joint.invars[num_consts + num_carry:n_in]
    # An x the backward step reads comes in as that step's slice again, not stacked twice.
    stacked = [v for v in residuals if v not in xs_in]
    forward = prune_jaxpr(ClosedJaxpr(Jaxpr(
        joint.constvars, joint.invars[:n_in], [*primal_outs, *stacked],
        [e for e, k in zip(joint.eqns, eqn_kind) if k != "u"]), joint_closed.consts),
        [True] * n_in, [True] * (n_out + len(stacked)))
    backward = ClosedJaxpr(Jaxpr(
        joint.constvars, [*ks, *stacked, *xs_in, *pulls_in], list(pull_outs),
        [e for e, k in zip(joint.eqns, eqn_kind) if k != "k"]), joint_closed.consts)
    backward = prune_jaxpr(backward, [True] * len(backward.jaxpr.invars),
                           [True] * len(pull_outs))
    result = _ScanPull(forward, backward, len(stacked), wanted)
    if len(_PULLS) > 256:
        _PULLS.clear()
    _PULLS[id(jaxpr)] = (jaxpr, result)
    return result


def _scan_vjp_fwd(*operands: Any, jaxpr: ClosedJaxpr, length: int, reverse: bool,
                  num_consts: int, num_carry: int) -> tuple[list, list]:
    """The scan, also stacking each step's residuals for the backward pass."""
    pull = _scan_pull(jaxpr, num_consts, num_carry)
    outs = scan_p.bind(*operands, jaxpr=pull.forward, length=length, reverse=reverse,
                       num_consts=num_consts, num_carry=num_carry)
    n = len(outs) - pull.num_residuals
    return outs[:n], outs[n:]


def _scan_vjp(g: list, ans: list, *args: Any, jaxpr: ClosedJaxpr, length: int, reverse: bool,
              num_consts: int, num_carry: int) -> list:
    pull = _scan_pull(jaxpr, num_consts, num_carry)
    # ``args``: the operands, then the residuals ``_scan_vjp_fwd`` stacked.
    n_ops = len(args) - pull.num_residuals
    operands, residuals = args[:n_ops], args[n_ops:]
    consts, _, xs = _split(operands, num_consts, num_carry)
    in_avals, out_avals = jaxpr.in_avals, jaxpr.out_avals
    k_w, c_w, x_w = _split(pull.wanted, num_consts, num_carry)
    c_f = [is_float_aval(a) for a in out_avals[:num_carry]]
    y_f = [is_float_aval(a) for a in out_avals[num_carry:]]
    g_carry = [ct for ct, f in zip(g[:num_carry], c_f) if f]
    g_ys = [ct for ct, f in zip(g[num_carry:], y_f) if f]
    nk, nx, nr = len(consts), len(xs), pull.num_residuals
    n_gc, n_gk = sum(c_w), sum(k_w)

    # One backward step: (consts; pull on the carry, consts' pulls so far;
    # the step's residuals, x and pull on y) -> (the earlier carry's pull,
    # the consts' pulls so far; the x's pull).
    def step(*a: Any) -> list:
        ks, gc, gk, res, x, gy = _split(a, nk, n_gc, n_gk, nr, nx)
        cts = _run(pull.backward, [*ks, *res, *x, *gc, *gy])
        ct_k, ct_c, ct_x = _split(cts, n_gk, n_gc)
        return [*ct_c, *(P.add(acc, ct) for acc, ct in zip(gk, ct_k)), *ct_x]
    k_avals, c_avals, x_avals = _split(in_avals, num_consts, num_carry)
    float_c = [a for a, w in zip(c_avals, c_w) if w]
    float_k = [a for a, w in zip(k_avals, k_w) if w]
    y_avals = [a for a, f in zip(out_avals[num_carry:], y_f) if f]
    res_avals = pull.forward.out_avals[len(out_avals):]
    body = stage(step, [*k_avals, *float_c, *float_k, *res_avals, *x_avals, *y_avals])
    zero_k = [zeros_like(k) for k, w in zip(consts, k_w) if w]
    outs = scan_p.bind(*consts, *g_carry, *zero_k, *residuals, *xs, *g_ys, jaxpr=body,
                       length=length, reverse=not reverse, num_consts=nk,
                       num_carry=n_gc + n_gk)
    ct_c, ct_k, ct_x = _split(outs, n_gc, n_gk)
    ck, cc, cx = iter(ct_k), iter(ct_c), iter(ct_x)
    return [*(next(ck) if w else None for w in k_w), *(next(cc) if w else None for w in c_w),
            *(next(cx) if w else None for w in x_w)]


def _scan_batch(size: int, vals: list, dims: list, *, jaxpr: ClosedJaxpr, length: int,
                reverse: bool, num_consts: int, num_carry: int) -> tuple:
    from nanojax.batching import move_axis
    consts, carry, xs = _split(vals, num_consts, num_carry)
    kd, cd, xd = _split(dims, num_consts, num_carry)
    k_b, c_b, x_b = ([d is not None for d in part] for part in (kd, cd, xd))
    while True:        # a carry is batched once any step can batch it
        grown = [a or b for a, b in zip(c_b, batched_outputs(jaxpr, size, k_b + c_b + x_b))]
        if grown == c_b:
            break
        c_b = grown
    body, out_b = batch_jaxpr(jaxpr, size, k_b + c_b + x_b,
                              c_b + [False] * (len(jaxpr.out_avals) - num_carry))
    consts = [c if d is None else _front(c, d, size) for c, d in zip(consts, kd)]
    carry = [c if not b else _front(c, d, size) for c, d, b in zip(carry, cd, c_b)]
    # Each step slices axis 0, so the batch axis of xs goes second.
    xs = [x if d is None else move_axis(x, d, 1) for x, d in zip(xs, xd)]
    outs = scan_p.bind(*consts, *carry, *xs, jaxpr=body, length=length, reverse=reverse,
                       num_consts=num_consts, num_carry=num_carry)
    return outs, [0 if b else None for b in c_b] + [1 if b else None
                                                    for b in out_b[num_carry:]]


def _scan_lowering(w: Any, ins: list, params: dict, in_avals: list, out_aval: Any) -> tuple:
    nk, nc = params["num_consts"], params["num_carry"]
    length, jaxpr = params["length"], params["jaxpr"]
    ks = [f"k{k}" for k in range(nk)]
    cs = [f"c{k}" for k in range(nc)]
    xs = [f"x{k}" for k in range(len(ins) - nk - nc)]
    steps = [f"s{k}" for k in range(len(xs))]
    body, outs, float_math = w.block(jaxpr, ks + cs + steps)
    ys = [f"y{k}" for k in range(len(outs) - nc)]
    lines = [f"{y} = _np.empty({w.bind((length, *a.shape), '_shape')}, "
             f"{w.bind(a.dtype, '_dtype')})" for y, a in zip(ys, jaxpr.out_avals[nc:])]
    order = f"range({length} - 1, -1, -1)" if params["reverse"] else f"range({length})"
    lines.append(f"for _i in {order}:")
    lines += [f"    {s} = {x}[_i]" for s, x in zip(steps, xs)]
    lines += [f"    {line}" for line in body]
    # The ys first: one may be the carry this step started from.
    lines += [f"    {y}[_i] = {o}" for y, o in zip(ys, outs[nc:])]
    if cs:
        lines.append(f"    {', '.join(cs)}, = {', '.join(outs[:nc])},")
    lines.append(f"return [{', '.join(cs + ys)}]")
    name = w.helper("_scan", ks + cs + xs, lines)
    return f"{name}({', '.join(ins)})", float_math


def _scan_prune(params: dict, used: list[bool]) -> tuple | None:
    jaxpr, nk, nc = params["jaxpr"], params["num_consts"], params["num_carry"]
    keep_c, keep_y = list(used[:nc]), list(used[nc:])
    while True:        # a carry stays if it is used or feeds one that stays
        live = live_inputs(jaxpr, keep_c + keep_y)
        grown = [k or b for k, b in zip(keep_c, live[nk:nk + nc])]
        if grown == keep_c:
            break
        keep_c = grown
    kept_in = live[:nk] + keep_c + live[nk + nc:]
    if all(kept_in) and all(keep_c + keep_y):
        return None
    new = dict(params, jaxpr=prune_jaxpr(jaxpr, kept_in, keep_c + keep_y),
               num_consts=sum(live[:nk]), num_carry=sum(keep_c))
    return new, kept_in, keep_c + keep_y


scan_p = _register(Primitive(
    "scan", _scan_impl, _scan_aval, vjp=_scan_vjp, batch=_scan_batch, multiple_results=True,
    lowering=Lowering(custom=_scan_lowering), joint_jvp=_scan_jvp, vjp_fwd=_scan_vjp_fwd,
    prune=_scan_prune))
