"""Jaxpr-to-jaxpr clean-ups that ``jit`` runs before generating code.

The backward pass writes a circuit a person never would: it multiplies by
the seed 1.0, adds zeros, broadcasts a value only to sum it straight back,
and recomputes forward values. Each pass here removes one such pattern
without changing what the jaxpr computes:

- constant folding: an equation whose inputs are all known is computed now;
- algebra: ``x * 1``, ``x + (-0.0)``, ``x - 0``, ``x / 1``, a
  ``select_n`` whose selector is constant, a reshape/broadcast to the same
  shape, ``reduce_sum`` over no axes;
- common subexpressions: the same primitive on the same inputs is computed once;
- dead code: equations whose outputs are never used are dropped.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nanojax.core import ClosedJaxpr, Jaxpr, JaxprEqn, Literal, Var

__all__ = ["simplify"]


def simplify(closed: ClosedJaxpr) -> ClosedJaxpr:
    """Fold, simplify, share and prune until nothing changes."""
    jaxpr, consts = closed.jaxpr, list(closed.consts)
    known = {v: c for v, c in zip(jaxpr.constvars, consts)}
    for _ in range(4):
        before = len(jaxpr.eqns)
        jaxpr = _rewrite(jaxpr, known)
        jaxpr = _dead_code(jaxpr)
        if len(jaxpr.eqns) == before:
            break
    used = {id(a) for e in jaxpr.eqns for a in e.invars} | {id(a) for a in jaxpr.outvars}
    constvars = [v for v in jaxpr.constvars if id(v) in used]
    return ClosedJaxpr(Jaxpr(constvars, jaxpr.invars, jaxpr.outvars, jaxpr.eqns),
                       [known[v] for v in constvars])


def _value(atom: Any, known: dict) -> Any:
    """The concrete value of an atom, or None when it is only known at run time."""
    if isinstance(atom, Literal):
        return atom.val
    return known.get(atom)


def _is_const(atom: Any, known: dict, number: float) -> bool:
    value = _value(atom, known)
    if value is None or isinstance(value, (bool, np.bool_)):
        return False
    try:
        return bool(np.all(np.asarray(value) == number))
    except (TypeError, ValueError):
        return False


def _is_negative_zero(atom: Any, known: dict) -> bool:
    value = _value(atom, known)
    if value is None or isinstance(value, (bool, np.bool_)):
        return False
    try:
        value = np.asarray(value)
        return value.dtype.kind == "f" and bool(np.all((value == 0) & np.signbit(value)))
    except (TypeError, ValueError):
        return False


def _same_type(atom: Any, out: Var) -> bool:
    return atom.aval.shape == out.aval.shape and atom.aval.dtype == out.aval.dtype


def _algebra(eqn: JaxprEqn, known: dict) -> Any:
    """An atom equal to the equation's output, or None if no rule applies."""
    name, ins, out = eqn.primitive.name, eqn.invars, eqn.outvars[0]

    def keep(atom: Any) -> Any:
        return atom if _same_type(atom, out) else None

    if name == "mul":
        if _is_const(ins[1], known, 1.0):
            return keep(ins[0])
        if _is_const(ins[0], known, 1.0):
            return keep(ins[1])
    elif name == "add":
        # Only a negative zero is an exact identity of addition: -0.0 + 0.0 is
        # +0.0, so dropping "+ 0.0" would change the sign of a zero result.
        if _is_negative_zero(ins[1], known):
            return keep(ins[0])
        if _is_negative_zero(ins[0], known):
            return keep(ins[1])
    elif name == "sub" and _is_const(ins[1], known, 0.0):
        return keep(ins[0])
    elif name == "div" and _is_const(ins[1], known, 1.0):
        return keep(ins[0])
    elif name in ("reshape", "broadcast_in_dim", "convert_element_type", "squeeze"):
        return keep(ins[0])
    elif name == "reduce_sum" and not eqn.params["axes"] and out.aval.dtype.kind in "iu":
        return keep(ins[0])          # for floats it is x + 0.0: not an identity on -0.0
    elif name == "transpose" and eqn.params["permutation"] == tuple(
            range(len(eqn.params["permutation"]))):
        return keep(ins[0])
    elif name == "select_n":
        which = _value(ins[0], known)
        if which is not None and np.ndim(which) == 0:
            return keep(ins[1 + int(which)])
    return None


def _rewrite(jaxpr: Jaxpr, known: dict) -> Jaxpr:
    alias: dict[Var, Any] = {}
    seen: dict[tuple, Var] = {}
    eqns = []

    def read(atom: Any) -> Any:
        return alias.get(atom, atom) if isinstance(atom, Var) else atom

    for eqn in jaxpr.eqns:
        ins = [read(a) for a in eqn.invars]
        eqn = JaxprEqn(eqn.primitive, ins, eqn.outvars, eqn.params)
        out = eqn.outvars[0]
        if eqn.primitive.multiple_results:
            eqns.append(eqn)
            continue
        values = [_value(a, known) for a in ins]
        if all(v is not None for v in values):
            with np.errstate(all="ignore"):
                result = eqn.primitive.impl(*values, **eqn.params)
            if np.ndim(result) == 0 and not isinstance(result, np.ndarray):
                alias[out] = Literal(result, out.aval)
            else:
                known[out] = np.asarray(result)
                alias[out] = out            # stays a variable, now a constant
            continue
        simpler = _algebra(eqn, known)
        if simpler is not None:
            alias[out] = simpler
            continue
        key = _cse_key(eqn)
        if key is not None and key in seen:
            alias[out] = seen[key]
            continue
        if key is not None:
            seen[key] = out
        eqns.append(eqn)
    outvars = [read(v) for v in jaxpr.outvars]
    old_consts = set(jaxpr.constvars)
    new_consts = [v for v in known if v not in old_consts and v in alias]
    constvars = list(jaxpr.constvars) + new_consts
    return Jaxpr(constvars, jaxpr.invars, outvars, eqns)


def _cse_key(eqn: JaxprEqn) -> tuple | None:
    atoms = []
    for a in eqn.invars:
        if isinstance(a, Literal):
            atoms.append(("lit", type(a.val), a.val if not isinstance(a.val, np.ndarray)
                          else a.val.tobytes()))
        else:
            atoms.append(id(a))
    try:
        return (eqn.primitive, tuple(atoms), tuple(sorted(eqn.params.items())))
    except TypeError:
        return None


def _dead_code(jaxpr: Jaxpr) -> Jaxpr:
    live = {id(v) for v in jaxpr.outvars if isinstance(v, Var)}
    kept = []
    for eqn in reversed(jaxpr.eqns):
        if any(id(v) in live for v in eqn.outvars):
            kept.append(eqn)
            live.update(id(a) for a in eqn.invars if isinstance(a, Var))
    kept.reverse()
    return Jaxpr(jaxpr.constvars, jaxpr.invars, jaxpr.outvars, kept)
