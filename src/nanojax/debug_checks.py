"""NaN and inf checking (``jax_debug_nans``, ``jax_debug_infs``, ``nanojax.debug_nans()``).

With a check on, the first gate whose result holds a NaN (or an inf)
raises ``FloatingPointError`` naming the primitive and the user's
``file:line``:

- eagerly, each primitive's result is checked as it is computed;
- under ``grad``, each gate of the forward pass, and on the backward pass
  each gate's pull: a NaN born there is reported as "the pull through
  sqrt at model.py:12 is nan", the forward gate whose rule made it;
- under ``jit``, the compiled code's outputs are checked and, if one holds
  a NaN, the call is run again equation by equation (as JAX does) to find
  the first equation that made it, named with the line it was traced from.

Nothing of this costs anything while the checks are off: turning one on
swaps ``Primitive.bind`` and ``TapeTrace.process`` for checking versions
and sends jitted calls down their slow path; turning the checks off puts
the originals back. No ``if`` is added to the hot paths.

Examples:
    >>> import nanojax as nj
    >>> import nanojax.numpy as jnp
    >>> with nj.debug_nans():
    ...     jnp.log(-1.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FloatingPointError: nanojax.debug_nans: invalid value (nan) encountered in log at <doc...>:2
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from nanojax.jit import set_jit_check
from nanojax.core import Jaxpr, Literal, Primitive, Tracer, format_source
from nanojax.source_info import CURRENT, PULLS, current_source, is_internal, user_frame
from nanojax.tape import TapeTrace, TapeTracer

__all__ = ["debug_nans", "debug_infs", "set_check", "checking"]

# Which checks are on; the originals that checking versions wrap.
_ON = {"nans": False, "infs": False}
_ORIGINAL_BIND = Primitive.bind
_ORIGINAL_PROCESS = TapeTrace.process
# The pull being computed (innermost last): (primitive name, file:line of its gate).
_PULLS = PULLS
# NumPy's error mode and callback before the checks were turned on.
_SAVED_NUMPY_STATE: list[Any] = []


def checking() -> bool:
    """Whether a NaN or an inf check is on."""
    return _ON["nans"] or _ON["infs"]


def set_check(kind: str, on: bool) -> None:
    """Turn the ``"nans"`` or ``"infs"`` check on or off (what the config flags call)."""
    was_on = checking()
    _ON[kind] = bool(on)
    if checking():
        Primitive.bind = _checked_bind               # type: ignore[method-assign]
        TapeTrace.process = _checked_process         # type: ignore[method-assign]
        set_jit_check(_checked_jit_call)
        if not was_on:
            _SAVED_NUMPY_STATE[:] = [np.geterr(), np.geterrcall()]
        # Eager jnp on NumPy values is NumPy itself: its floating-point error
        # mode calls back where an operation makes a NaN (an inf) from good values.
        saved = _SAVED_NUMPY_STATE[0]
        np.seterr(invalid="call" if _ON["nans"] else saved["invalid"],
                  divide="call" if _ON["infs"] else saved["divide"],
                  over="call" if _ON["infs"] else saved["over"])
        np.seterrcall(_on_numpy_error)
    else:
        Primitive.bind = _ORIGINAL_BIND              # type: ignore[method-assign]
        TapeTrace.process = _ORIGINAL_PROCESS        # type: ignore[method-assign]
        set_jit_check(None)
        if was_on:
            np.seterr(**_SAVED_NUMPY_STATE[0])
            np.seterrcall(_SAVED_NUMPY_STATE[1])


def _flag_names() -> tuple[str, ...]:
    return tuple(k for k in ("nans", "infs") if _ON[k])


@contextmanager
def debug_nans(enable: bool = True) -> Iterator[None]:
    """Inside the block, a gate producing a NaN raises ``FloatingPointError``.

    The context manager of the ``jax_debug_nans`` flag (JAX's
    ``jax.debug_nans``); the flag's value before the block comes back after it.
    """
    from nanojax import config
    with config.temporarily("jax_debug_nans", enable):
        yield


@contextmanager
def debug_infs(enable: bool = True) -> Iterator[None]:
    """Inside the block, a gate producing an inf raises ``FloatingPointError``."""
    from nanojax import config
    with config.temporarily("jax_debug_infs", enable):
        yield


# ----- What is bad ----------------------------------------------------------------

def _bad(x: Any) -> str | None:
    """``"nan"`` or ``"inf"`` if the concrete value ``x`` holds one being checked for."""
    t = type(x)
    if t is float or t is complex:
        x = np.asarray(x)
    elif not isinstance(x, (np.ndarray, np.generic)) or x.dtype.kind not in "fc":
        return None
    if _ON["nans"] and np.isnan(x).any():
        return "nan"
    if _ON["infs"] and np.isinf(x).any():
        return "inf"
    return None


def _bad_result(ans: Any, multiple: bool) -> str | None:
    for a in (ans if multiple else (ans,)):
        if type(a) is TapeTracer:
            a = a.primal
        if isinstance(a, Tracer):
            continue
        kind = _bad(a)
        if kind is not None:
            return kind
    return None


def _message(kind: str, prim_name: str, where: str, context: str = "") -> str:
    what = "invalid value (nan)" if kind == "nan" else "divide by zero or overflow (inf)"
    message = f"nanojax.debug_{kind}s: {what} encountered in {prim_name} at {where}"
    if _PULLS:
        gate, line = _PULLS[-1]
        message = (f"nanojax.debug_{kind}s: the pull through {gate} at {line} is {kind} "
                   f"({prim_name} in its vjp rule made it, on the backward pass at {where})")
    return message + context


def _located(message: str) -> FloatingPointError:
    """The checks' error: its message names the line already, so boundaries add none."""
    e = FloatingPointError(message)
    e._nanojax_located = True  # type: ignore[attr-defined]
    return e


def _where() -> str:
    # The equation being evaluated, if any (a jitted function called inside
    # grad): its own line, not the line that called the jitted function.
    info = current_source(3)
    return "<unknown>" if info is None else format_source(info)


def _on_numpy_error(error: str, flag: int) -> None:
    """NumPy's callback: the operation running made a NaN or an inf; say which and where.

    The innermost checked gate on the stack names the primitive; without
    one, the nanojax function the user called (an eager jnp function).
    """
    kind = "nan" if error.startswith("invalid") else "inf"
    frame: Any = sys._getframe(1)
    prim_name, context, public = None, "", None
    while frame is not None:
        code = frame.f_code
        if prim_name is None and code is _CHECKED_BIND_CODE:
            prim_name = frame.f_locals["self"].name
        elif prim_name is None and code is _ORIGINAL_PROCESS.__code__:
            prim_name = frame.f_locals["prim"].name
            context = f" (the forward pass of {frame.f_locals['self'].who})"
        elif not is_internal(code.co_filename):
            break
        else:
            public = frame
        frame = frame.f_back
    if prim_name is None and public is not None:
        local = public.f_locals
        named = local.get("name", local.get("fname"))
        prim_name = named if isinstance(named, str) else public.f_code.co_name
    info = CURRENT.source
    if info is None and frame is not None:
        info = (frame.f_code.co_filename, frame.f_lineno)
    where = "<unknown>" if info is None else format_source(info)
    raise _located(_message(kind, prim_name or "an operation", where, context))


# ----- The checking versions -----------------------------------------------------

def _checked_bind(self: Primitive, *args: Any, **params: Any) -> Any:
    ans = _ORIGINAL_BIND(self, *args, **params)
    kind = _bad_result(ans, self.multiple_results)
    if kind is not None:
        raise _located(_message(kind, self.name, _where()))
    return ans


_CHECKED_BIND_CODE = _checked_bind.__code__


def _checked_process(self: TapeTrace, prim: Primitive, args: tuple, params: dict) -> Any:
    length = len(self.tape)
    ans = _ORIGINAL_PROCESS(self, prim, args, params)
    kind = _bad_result(ans, prim.multiple_results)
    where = _where()
    if kind is not None:
        raise _located(_message(kind, prim.name, where,
                                          f" (the forward pass of {self.who})"))
    if type(self) is TapeTrace and len(self.tape) > length:
        # The gate's rules, watched: a bad pull is named after this gate and line.
        entry = self.tape[-1]
        self.tape[-1] = (_WatchedGate(entry[0], where), *entry[1:])
    return ans


class _WatchedGate:
    """A tape entry's primitive whose vjp rules check the pulls they make."""

    __slots__ = ("prim", "where", "name", "symmetric", "vjp_args", "vjp", "differentiable",
                 "multiple_results")

    def __init__(self, prim: Primitive, where: str) -> None:
        self.prim = prim
        self.where = where
        self.name = prim.name
        self.symmetric = prim.symmetric
        self.differentiable = prim.differentiable
        self.multiple_results = prim.multiple_results
        self.vjp_args = None if prim.vjp_args is None else tuple(
            None if rule is None else self._watch(rule, False) for rule in prim.vjp_args)
        self.vjp = None if prim.vjp is None else self._watch(prim.vjp, True)

    def _watch(self, rule: Callable, several: bool) -> Callable:
        def watched(*args: Any, **params: Any) -> Any:
            _PULLS.append((self.name, self.where))
            try:
                ct = rule(*args, **params)
                kind = _bad_result(ct, several)
                if kind is not None:
                    raise _located(
                        f"nanojax.debug_{kind}s: the pull through {self.name} at "
                        f"{self.where} is {kind} (on the backward pass at {_where()})")
            finally:
                _PULLS.pop()
            return ct
        return watched

    def __getattr__(self, name: str) -> Any:
        return getattr(self.prim, name)

    def __repr__(self) -> str:
        return self.name


def _checked_jit_call(run: Callable[[], Any], retrace: Callable[[], tuple], name: str) -> Any:
    """A jitted call whose outputs are checked; on a bad one, re-run op by op to find it.

    The re-run traces the function again, with the checks on, so that an
    equation of a backward pass knows whose pull it computes.
    """
    from nanojax.tree_util import tree_leaves
    with np.errstate(all="ignore"):          # the outputs are checked, not each line
        out = run()
    kind = None
    for leaf in tree_leaves(out):
        if not isinstance(leaf, Tracer):
            kind = kind or _bad(leaf)
    if kind is None:
        return out
    closed, flat = retrace()
    _rerun(closed.jaxpr, closed.consts, flat, name)
    raise _located(  # the re-run found nothing: say what is known
        f"nanojax.debug_{kind}s: the jitted function {name} returned a {kind} (called at "
        f"{_where()}); re-running it equation by equation did not reproduce it")


def _rerun(jaxpr: Jaxpr, consts: list, args: list, name: str) -> None:
    """Evaluate ``jaxpr`` one equation at a time; raise at the first bad result."""
    env: dict = dict(zip(jaxpr.constvars, consts))
    env.update(zip(jaxpr.invars, args))

    def read(v: Any) -> Any:
        return v.val if isinstance(v, Literal) else env[v]

    with np.errstate(all="ignore"):
        for eqn in jaxpr.eqns:
            ans = _ORIGINAL_BIND(eqn.primitive, *map(read, eqn.invars), **eqn.params)
            outs = ans if eqn.primitive.multiple_results else [ans]
            env.update(zip(eqn.outvars, outs))
            kind = _bad_result(ans, eqn.primitive.multiple_results)
            if kind is not None:
                info = eqn.source_info
                where = "<unknown>" if info is None else format_source(info)
                rerun = (f"found by re-running the jitted function {name} equation by "
                         f"equation (its compiled code returned a {kind}; called at "
                         f"{_where_outside()})")
                if info is not None and len(info) == 4:      # staged inside a pull
                    raise _located(
                        f"nanojax.debug_{kind}s: the pull through {info[2]} at {info[3]} is "
                        f"{kind} ({eqn.primitive.name} in its vjp rule made it), {rerun}")
                raise _located(
                    f"nanojax.debug_{kind}s: "
                    f"{'invalid value (nan)' if kind == 'nan' else 'an inf'} encountered in "
                    f"{eqn.primitive.name} at {where}, {rerun}")


def _where_outside() -> str:
    info = user_frame(2)
    return "<unknown>" if info is None else f"{os.path.basename(info[0])}:{info[1]}"
