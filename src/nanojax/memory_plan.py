"""Where a jitted function's intermediates live: liveness, aliasing and a workspace.

``jit`` writes straight-line code, so every lifetime is known before the
first call. This module works them out once per compiled signature:

- **aliasing**: which buffers each variable may share (a reshape or a
  transpose is a view of its operand; a ufunc's result is new memory);
- **liveness**: after which equation each array is last read, so the code
  can ``del`` it there;
- **a workspace**: intermediates whose equation can write into a given
  array (``out=``) get a home in a few preallocated buffers, packed by
  lifetime so that the buffers add up to about the largest live set. The
  workspace is allocated on the first call and reused by the next ones, so a
  training step stops asking malloc for the same megabytes on every call
  (glibc hands a freed heap top back to the kernel, and touching it again
  costs a page fault per 4 KB).

Every array the code writes into a workspace view is one NumPy would have
made in C order anyway (``Primitive.layout`` says which those are): a sum
iterates in memory order, so an array laid out otherwise would give other
bits downstream. Nothing in the workspace is ever returned: an output, or anything an output
may be a view of, gets memory of its own. Arguments and constants are never
written. A call takes a workspace from a pool and puts it back when done, so
concurrent calls (threads, or a callback that calls the same function) each
get their own.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from nanojax.core import Var

__all__ = ["Plan", "plan_memory", "WorkspacePool", "POOL_LIMIT_BYTES"]

EXTERNAL = "the caller's memory"      # the buffer of an argument or a constant

# A workspace above this size is made afresh for each call instead of kept
# between calls: holding gigabytes for a function that may never run again
# would cost more than the page faults it saves.
POOL_LIMIT_BYTES = 64 * 1024 * 1024


class Plan:
    """The memory decisions for one jaxpr.

    ``buffers[v]``: the buffers ``v`` may share (variables that made them,
    or ``EXTERNAL``). ``dies_after[i]``: arrays outside the workspace to
    release after equation ``i``. ``home[v]``: the index of the workspace
    view ``v`` is written into. ``views``: ``(slot, shape, dtype)`` of each
    view; ``slot_bytes``: the size of each slot. ``c_order[v]``: ``v`` is
    surely in C order.
    """

    def __init__(self) -> None:
        self.buffers: dict[Any, frozenset] = {}
        self.dies_after: dict[int, list[Var]] = {}
        self.home: dict[Var, int] = {}
        self.views: list[tuple[int, tuple, np.dtype]] = []
        self.slot_bytes: list[int] = []
        self.c_order: dict[Any, bool] = {}

    @property
    def workspace_bytes(self) -> int:
        return sum(self.slot_bytes)

    def make_workspace(self) -> tuple[np.ndarray, ...]:
        """Fresh slots, and each view into them, shaped and typed."""
        slots = [np.empty(n, np.uint8) for n in self.slot_bytes]
        return tuple(slots[s][:int(np.prod(shape)) * dtype.itemsize].view(dtype).reshape(shape)
                     for s, shape, dtype in self.views)


class WorkspacePool:
    """Workspaces kept between calls: one per call running at the same time."""

    __slots__ = ("_free", "_make")

    def __init__(self, make: Callable[[], tuple]) -> None:
        self._free: list[tuple] = []
        self._make = make

    def take(self) -> tuple:
        try:
            return self._free.pop()     # atomic: two threads never get the same one
        except IndexError:
            return self._make()

    def give_back(self, workspace: tuple) -> None:
        self._free.append(workspace)


def _may_alias(eqn: Any) -> bool:
    rule = eqn.primitive.may_alias
    return rule(eqn.params) if callable(rule) else bool(rule)


def _aliasing(jaxpr: Any) -> dict[Any, frozenset]:
    """The buffers each variable may live in: its own, or those of the operands it views."""
    buffers: dict[Any, frozenset] = {v: frozenset({EXTERNAL})
                                     for v in (*jaxpr.constvars, *jaxpr.invars)}
    for eqn in jaxpr.eqns:
        shared = frozenset().union(*(buffers[a] for a in eqn.invars if isinstance(a, Var))) \
            if _may_alias(eqn) else frozenset()
        for v in eqn.outvars:
            buffers[v] = shared or frozenset({v})
    return buffers


def _last_reads(jaxpr: Any) -> dict[Var, int]:
    """The index of the last equation reading each variable (its own if none does)."""
    last: dict[Var, int] = {}
    for i, eqn in enumerate(jaxpr.eqns):
        for v in eqn.outvars:
            last[v] = i
        for a in eqn.invars:
            if isinstance(a, Var):
                last[a] = i
    return last


def _nbytes(aval: Any) -> int:
    return int(np.prod(aval.shape)) * np.dtype(aval.dtype).itemsize


def c_ordered(x: Any) -> bool:
    """Whether ``x``'s axes are in C order: strides shrinking from the first axis to the last.

    Axes of length 1 and broadcast axes (stride 0) do not count: NumPy's
    ufuncs ignore them when they choose the layout of a result. A 0-d or
    1-d array is always in C order.
    """
    if not isinstance(x, np.ndarray) or x.ndim < 2 or x.flags.c_contiguous:
        return True
    strides = [abs(s) for s, n in zip(x.strides, x.shape) if n > 1 and s != 0]
    return all(a >= b for a, b in itertools.pairwise(strides))


def _layouts(jaxpr: Any, consts: list, args_c: list[bool]) -> dict[Any, bool]:
    """Which variables are surely in C order, given which arguments are."""
    known: dict[Any, bool] = dict(zip(jaxpr.invars, args_c))
    known.update((v, c_ordered(c)) for v, c in zip(jaxpr.constvars, consts))
    for eqn in jaxpr.eqns:
        operands_c = [known[a] if isinstance(a, Var) else c_ordered(getattr(a, "val", None))
                      for a in eqn.invars]
        rule = eqn.primitive.layout
        if rule == "operands":
            c = all(operands_c)
        elif rule == "c":
            c = True
        elif callable(rule):
            c = bool(rule(eqn.params, [a.aval for a in eqn.invars], operands_c))
        else:
            c = False
        for v in eqn.outvars:
            known[v] = c or len(v.aval.shape) < 2
    return known


def plan_memory(jaxpr: Any, consts: list, args_c: list[bool],
                writes_into: Callable[[Any], bool], in_place: Callable[[Any], bool],
                use_workspace: bool = True) -> Plan:
    """Plan a jaxpr's memory, for arguments in C order where ``args_c`` says so.

    ``writes_into(eqn)``: the equation can compute its (single, array) result
    into a given array with the same bits. ``in_place(eqn)``: it is
    elementwise, so that array may be one of its own operands.
    """
    plan = Plan()
    plan.c_order = layout_c = _layouts(jaxpr, consts, args_c)
    plan.buffers = buffers = _aliasing(jaxpr)
    last = _last_reads(jaxpr)
    outputs = {v for v in jaxpr.outvars if isinstance(v, Var)}
    escaping = frozenset().union(*(buffers[v] for v in outputs))
    external = {*jaxpr.invars, *jaxpr.constvars}

    # A buffer is free once the variable that made it and every view of it are dead.
    free_after: dict[Var, int] = {}
    for v, bufs in buffers.items():
        for b in bufs:
            if isinstance(b, Var):
                free_after[b] = max(free_after.get(b, -1), last.get(v, -1))

    # An output computed elementwise from an operand dying there takes that
    # operand's memory (``out=``): then the operand, and its own such operand,
    # are the output's memory, so they stay out of the workspace.
    escaping = escaping | _feeding_outputs(jaxpr, outputs, external, free_after, buffers,
                                           in_place)
    homed: dict[Var, int] = {}               # workspace variable -> its slot
    view_index: dict[tuple, int] = {}
    free_slots: list[int] = []
    releases: dict[int, list[Var]] = {}
    for i, eqn in enumerate(jaxpr.eqns):
        out = eqn.outvars[0] if eqn.outvars else None      # a debug callback has none
        if (out is not None and use_workspace and not eqn.primitive.multiple_results
                and out.aval.shape != ()
                and out not in escaping and layout_c[out] and writes_into(eqn)):
            slot = _inherited_slot(eqn, i, homed, free_after, buffers) \
                if in_place(eqn) else None
            if slot is None:
                slot = _fit(free_slots, plan.slot_bytes, _nbytes(out.aval))
            homed[out] = slot
            key = (slot, tuple(out.aval.shape), np.dtype(out.aval.dtype))
            plan.home[out] = view_index.setdefault(key, len(view_index))
            releases.setdefault(free_after[out], []).append(out)
        for v in releases.pop(i, ()):
            if homed[v] not in free_slots and not any(
                    homed.get(o) == homed[v] for o in eqn.outvars):
                free_slots.append(homed[v])
    plan.views = [key for key, _ in sorted(view_index.items(), key=lambda kv: kv[1])]

    for v, i in last.items():
        if v not in outputs and v not in external and v not in homed and v.aval.shape != ():
            plan.dies_after.setdefault(i, []).append(v)
    return plan


def _feeding_outputs(jaxpr: Any, outputs: set, external: set, free_after: dict,
                     buffers: dict, in_place: Callable) -> set:
    """Intermediates whose memory an output will take over, in a chain of in-place steps."""
    made_by = {v: (i, eqn) for i, eqn in enumerate(jaxpr.eqns) for v in eqn.outvars}
    feeding: set[Var] = set()
    todo = [v for v in outputs if v in made_by]
    while todo:
        v = todo.pop()
        i, eqn = made_by[v]
        if eqn.primitive.multiple_results or not in_place(eqn):
            continue
        for a in eqn.invars:
            if (isinstance(a, Var) and a in made_by and a not in external and a not in outputs
                    and a not in feeding and free_after.get(a) == i
                    and buffers[a] == frozenset({a}) and a.aval.shape == v.aval.shape
                    and a.aval.dtype == v.aval.dtype):
                feeding.add(a)
                todo.append(a)
                break
    return feeding


def _inherited_slot(eqn: Any, i: int, homed: dict, free_after: dict, buffers: dict
                    ) -> int | None:
    """The slot of an operand that dies here with the output's shape and dtype, if any.

    Elementwise, the result may overwrite an operand it reads element by
    element: ``np.add(a, b, out=a)``.
    """
    out = eqn.outvars[0].aval
    for a in eqn.invars:
        if (isinstance(a, Var) and a in homed and free_after[a] == i
                and buffers[a] == frozenset({a}) and a.aval.shape == out.shape
                and a.aval.dtype == out.dtype):
            return homed[a]
    return None


def _fit(free_slots: list[int], slot_bytes: list[int], nbytes: int) -> int:
    """A free slot for ``nbytes``: the smallest that fits, else the largest, grown."""
    if free_slots:
        fitting = [s for s in free_slots if slot_bytes[s] >= nbytes]
        slot = min(fitting, key=slot_bytes.__getitem__) if fitting else \
            max(free_slots, key=slot_bytes.__getitem__)
        free_slots.remove(slot)
        slot_bytes[slot] = max(slot_bytes[slot], nbytes)
        return slot
    slot_bytes.append(nbytes)
    return len(slot_bytes) - 1
