"""Where the user's code is: the first frame outside nanojax's own package.

Staging records it on each equation (``JaxprEqn.source_info``), and the
debugging checks and tracing errors name it, so that a message points at
the user's line rather than at nanojax's insides.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

__all__ = ["user_frame", "user_line", "is_internal", "PACKAGE_DIR", "PULLS", "staged_source"]

PACKAGE_DIR = os.path.dirname(__file__) + os.sep
_ABS_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_INTERNAL = (PACKAGE_DIR, _ABS_PACKAGE_DIR, "<nanojax")


def is_internal(filename: str) -> bool:
    """Whether ``filename`` is nanojax's own code (its modules, or code jit generated)."""
    return filename.startswith(_INTERNAL)


def user_frame(depth: int = 1) -> tuple[str, int] | None:
    """``(filename, line)`` of the innermost frame outside nanojax, or None.

    A walk up the stack comparing file names: a microsecond or so, paid
    only where it is asked for (while staging, or once an error is raised).
    """
    f: Any = sys._getframe(depth)
    internal = _INTERNAL
    while f is not None:
        name = f.f_code.co_filename
        if not name.startswith(internal):
            return name, f.f_lineno
        f = f.f_back
    return None


def user_line(depth: int = 2) -> str:
    """``file:line`` of the user's code (the file's base name), or ``"<unknown>"``."""
    info = user_frame(depth)
    return "<unknown>" if info is None else f"{os.path.basename(info[0])}:{info[1]}"


# The pulls being computed, innermost last, as ``(primitive name, "file:line"
# of its gate)``: the NaN checks push one around each watched vjp rule, and
# an equation staged meanwhile records it.
PULLS: list[tuple[str, str]] = []


def staged_source() -> tuple | None:
    """What an equation being staged records: ``(file, line)``, and the pull if in one."""
    info = user_frame(3)
    if PULLS and info is not None:
        return (*info, *PULLS[-1])
    return info


# ----- Errors raised inside a transformation -----------------------------------------

def arg_labels(fun: Any, args: Any, positions: Any, kwargs: dict) -> list[str]:
    """A name per flat input leaf: ``x``, ``params['w']``, in ``tree_flatten`` order.

    ``positions`` are the positional arguments that were flattened (then the
    keyword arguments ``kwargs``), as ``jit`` and ``make_jaxpr`` flatten them.
    """
    import inspect

    from nanojax.tree_util import keystr, tree_flatten_with_path
    try:
        names = [p.name for p in inspect.signature(fun).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        names = []
    labels = []
    for i in positions:
        name = names[i] if i < len(names) else f"args[{i}]"
        labels += [name + keystr(path) for path, _ in tree_flatten_with_path(args[i])[0]]
    for k in sorted(kwargs):
        labels += [k + keystr(path) for path, _ in tree_flatten_with_path(kwargs[k])[0]]
    return labels


def where_suffix() -> str:
    """`` (at file:line)``: where the user's code was when an error was made."""
    info = user_frame(2)
    return "" if info is None else f" (at {os.path.basename(info[0])}:{info[1]})"


def at_boundary(e: BaseException) -> BaseException:
    """``e``, raised through a public transformation, readied for the user.

    Unless ``jax_traceback_filtering`` is ``"off"``, its traceback keeps
    only frames outside nanojax (the frame raising it, if none is): the
    user's lines, ending at the one that went wrong. With filtering off the
    traceback is kept whole, and a note names the user's ``file:line`` (the
    innermost line of the user's code in it, else the caller's). Call it in
    an ``except`` block as ``raise at_boundary(e)``: on Python 3.11 a
    ``try`` costs nothing until something is raised.
    """
    import types

    from nanojax import config
    tb = e.__traceback__
    frames = []
    while tb is not None:
        frames.append(tb)
        tb = tb.tb_next
    user = [t for t in frames if not is_internal(t.tb_frame.f_code.co_filename)]
    if config.read("jax_traceback_filtering") == "off":
        if not getattr(e, "_nanojax_located", False):
            _add_location_note(e, user)
        return e
    if not frames:
        return e
    kept = user or frames[-1:]
    new = None
    for t in reversed(kept):
        new = types.TracebackType(new, t.tb_frame, t.tb_lasti, t.tb_lineno)
    return e.with_traceback(new)


def _add_location_note(e: BaseException, user: list) -> None:
    if user:
        last = user[-1]
        where = f"{os.path.basename(last.tb_frame.f_code.co_filename)}:{last.tb_lineno}"
    else:
        info = user_frame(3)
        where = "<unknown>" if info is None else f"{os.path.basename(info[0])}:{info[1]}"
    add_note = getattr(e, "add_note", None)       # Python 3.11's notes
    if where not in str(e) and add_note is not None:
        add_note(f"nanojax: raised while transforming the code at {where}")
    with contextlib.suppress(AttributeError):     # an exception without a __dict__
        e._nanojax_located = True  # type: ignore[attr-defined]
