"""Jaxpr-to-jaxpr clean-ups that ``jit`` runs before generating code.

The backward pass writes a circuit a person never would: it multiplies by
the seed 1.0, adds zeros, broadcasts a value only to sum it straight back,
and recomputes forward values. Each pass here removes one such pattern
without changing what the jaxpr computes:

- constant folding: an equation whose inputs are all known is computed now;
- algebra, each primitive's own ``simplify`` rule, exact on every float
  (-0.0 and NaN included): ``x * 1``, ``x + (-0.0)``, ``x - 0``, ``x / 1``, a
  ``select_n`` whose selector is constant, a reshape/broadcast/transpose to
  the same shape, an integer ``reduce_sum`` over no axes;
- common subexpressions: the same primitive on the same inputs is computed once;
- dead code: equations whose outputs are never used are dropped, and a
  loop or branch that computes some outputs nobody reads is cut down to the
  rest (its primitive's ``prune`` rule): a backward scan stops accumulating
  the pulls of constants nobody differentiates.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nanojax.core import ClosedJaxpr, Jaxpr, JaxprEqn, Literal, Var

__all__ = ["simplify", "value_of", "is_const", "is_negative_zero", "dead_code"]


def simplify(closed: ClosedJaxpr) -> ClosedJaxpr:
    """Fold, simplify, share and prune until nothing changes."""
    jaxpr, consts = closed.jaxpr, list(closed.consts)
    known = {v: c for v, c in zip(jaxpr.constvars, consts)}
    for _ in range(4):
        before = len(jaxpr.eqns)
        jaxpr = _rewrite(jaxpr, known)
        jaxpr = dead_code(jaxpr)
        if len(jaxpr.eqns) == before:
            break
    used = {id(a) for e in jaxpr.eqns for a in e.invars} | {id(a) for a in jaxpr.outvars}
    constvars = [v for v in jaxpr.constvars if id(v) in used]
    return ClosedJaxpr(Jaxpr(constvars, jaxpr.invars, jaxpr.outvars, jaxpr.eqns),
                       [known[v] for v in constvars])


# ----- What simplification rules ask about atoms --------------------------------
# A primitive's ``simplify(ins, params, known)`` rule (declared in its block)
# returns an atom equal to its output, or None; it sees each input atom and
# ``known``, the concrete values found so far.

def value_of(atom: Any, known: dict) -> Any:
    """The concrete value of an atom, or None when it is only known at run time."""
    if isinstance(atom, Literal):
        return atom.val
    return known.get(atom)


def is_const(atom: Any, known: dict, number: float) -> bool:
    """Is ``atom`` known to be ``number`` everywhere (+0.0 for 0: -0.0 is not)?"""
    value = value_of(atom, known)
    if value is None or isinstance(value, (bool, np.bool_)):
        return False
    try:
        value = np.asarray(value)
        equal = bool(np.all(value == number))
        return equal and not (number == 0 and value.dtype.kind == "f"
                              and bool(np.any(np.signbit(value))))
    except (TypeError, ValueError):
        return False


def is_negative_zero(atom: Any, known: dict) -> bool:
    """Is ``atom`` known to be -0.0 everywhere (the identity of float addition)?"""
    value = value_of(atom, known)
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
    """An atom equal to the equation's output, or None: its primitive's rule, if any."""
    rule = eqn.primitive.simplify
    if rule is None:
        return None
    atom = rule(eqn.invars, eqn.params, known)
    return atom if atom is not None and _same_type(atom, eqn.outvars[0]) else None


def _rewrite(jaxpr: Jaxpr, known: dict) -> Jaxpr:
    alias: dict[Var, Any] = {}
    seen: dict[tuple, Var] = {}
    eqns = []

    def read(atom: Any) -> Any:
        return alias.get(atom, atom) if isinstance(atom, Var) else atom

    for eqn in jaxpr.eqns:
        ins = [read(a) for a in eqn.invars]
        eqn = JaxprEqn(eqn.primitive, ins, eqn.outvars, eqn.params, eqn.source_info)
        if eqn.primitive.multiple_results:     # never folded: a debug callback, a loop
            eqns.append(eqn)
            continue
        out = eqn.outvars[0]
        values = [value_of(a, known) for a in ins]
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
    atoms: list[Any] = []
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


def _has_effect(eqn: JaxprEqn) -> bool:
    """Is the gate there for an effect: no outputs (a debug callback), or one in its bodies?

    A loop whose results nobody reads still runs if its body prints.
    """
    if not eqn.outvars:
        return True
    for p in eqn.params.values():
        for body in (p if isinstance(p, tuple) else (p,)):
            if isinstance(body, ClosedJaxpr) and any(map(_has_effect, body.jaxpr.eqns)):
                return True
    return False


def dead_code(jaxpr: Jaxpr) -> Jaxpr:
    """The jaxpr without the equations (and gates' outputs) its outputs do not need."""
    live = {id(v) for v in jaxpr.outvars if isinstance(v, Var)}
    kept = []
    for eqn in reversed(jaxpr.eqns):
        used = [id(v) in live for v in eqn.outvars]
        if not any(used) and eqn.outvars and not _has_effect(eqn):
            continue                   # (a gate without outputs is there for its effect)
        prune = eqn.primitive.prune
        if prune is not None:
            smaller = prune(eqn.params, used)
            if smaller is not None:
                params, used_inputs, kept_outputs = smaller
                eqn = JaxprEqn(eqn.primitive, [a for a, u in zip(eqn.invars, used_inputs) if u],
                               [v for v, k in zip(eqn.outvars, kept_outputs) if k], params,
                               eqn.source_info)
        kept.append(eqn)
        live.update(id(a) for a in eqn.invars if isinstance(a, Var))
    kept.reverse()
    return Jaxpr(jaxpr.constvars, jaxpr.invars, jaxpr.outvars, kept)
