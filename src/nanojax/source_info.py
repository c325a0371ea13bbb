"""Where the user's code is: the first frame outside nanojax's own package.

Staging records it on each equation (``JaxprEqn.source_info``), and the
debugging checks and tracing errors name it, so that a message points at
the user's line rather than at nanojax's insides.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from typing import Any, TypeVar
from collections.abc import Callable

import numpy as np

__all__ = ["user_frame", "user_line", "is_internal", "is_users", "PACKAGE_DIR", "PULLS",
           "staged_source", "current_source", "CURRENT", "at_boundary", "boundary"]

F = TypeVar("F", bound=Callable[..., Any])

PACKAGE_DIR = os.path.dirname(__file__) + os.sep
_ABS_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_INTERNAL = (PACKAGE_DIR, _ABS_PACKAGE_DIR, "<nanojax")


def is_internal(filename: str) -> bool:
    """Whether ``filename`` is nanojax's own code (its modules, or code jit generated)."""
    return filename.startswith(_INTERNAL)


# File name -> is it nanojax's? A dict lookup (the name's hash is cached on
# the string) is several times cheaper than comparing prefixes each time.
_OWN_FILES: dict[str, bool] = {}


def user_frame(depth: int = 1) -> tuple[str, int] | None:
    """``(filename, line)`` of the innermost frame outside nanojax, or None.

    A walk up the stack looking file names up: a microsecond or so, paid
    only where it is asked for (while staging, or once an error is raised).
    """
    f: Any = sys._getframe(depth)
    known = _OWN_FILES.get
    while f is not None:
        name = f.f_code.co_filename
        own = known(name)
        if own is None:
            if len(_OWN_FILES) > 4096:           # many generated or doctest names
                _OWN_FILES.clear()
            own = _OWN_FILES[name] = name.startswith(_INTERNAL)
        if not own:
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


class _Current(threading.local):
    # While ``core.eval_jaxpr`` binds an equation: its ``source_info``, the
    # user's line it was traced from (a jitted function called inside grad or
    # another jit), which what the bind records or reports then names.
    source: tuple | None = None


CURRENT = _Current()


def staged_source() -> tuple | None:
    """What an equation being staged records: ``(file, line)``, and the pull if in one.

    An equation re-recorded from a jaxpr being evaluated (a jitted function
    called while an enclosing jit traces) keeps the line it came from.
    """
    info = CURRENT.source
    if info is None:
        info = user_frame(3)
    elif len(info) > 2:
        if not PULLS:
            return info
        info = info[:2]
    if PULLS and info is not None:
        return (*info, *PULLS[-1])
    return info


def current_source(depth: int = 2) -> tuple | None:
    """``(file, line)`` of the user's code running now: the equation being evaluated, if any."""
    info = CURRENT.source
    return user_frame(depth + 1) if info is None else info[:2]


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

    An error nanojax raised (a shape mismatch, a concretization, an
    unsupported NumPy function, a vmap size mismatch...) gets the user's
    ``file:line`` in its message, `` (at model.py:12)``: the innermost line
    of the user's code in its traceback (the line that called into nanojax
    and went wrong), else the line that called the transformation. An
    error the user's own code raised is left as it is. Unless
    ``jax_traceback_filtering`` is ``"off"``, the traceback keeps only
    frames outside nanojax (the frame raising it, if none is): the user's
    lines, ending at the one that went wrong; with it off, it is kept whole.
    Call it in an ``except`` block as ``raise at_boundary(e)``: on Python
    3.11 a ``try`` costs nothing until something is raised.
    """
    import types

    from nanojax import config
    tb = e.__traceback__
    frames = []
    while tb is not None:
        frames.append(tb)
        tb = tb.tb_next
    if not getattr(e, "_nanojax_located", False):
        _locate(e, frames)
    if config.read("jax_traceback_filtering") == "off" or not frames:
        return e
    kept = [t for t in frames if not is_internal(t.tb_frame.f_code.co_filename)] or frames[-1:]
    new = None
    for t in reversed(kept):
        new = types.TracebackType(new, t.tb_frame, t.tb_lasti, t.tb_lineno)
    return e.with_traceback(new)


def boundary(fun: F) -> F:
    """``fun``, its errors readied for the user by ``at_boundary`` (a decorator).

    For public functions that run user code inside nanojax's machinery (a
    loop body, a function being differentiated): a ``try`` costs nothing
    until something is raised.
    """
    import functools

    from nanojax.array import to_user

    @functools.wraps(fun)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        try:
            return to_user(fun(*args, **kwargs))      # arrays with JAX's methods
        except Exception as e:  # noqa: BLE001 - re-raised, unchanged but for its traceback
            raise at_boundary(e)  # noqa: B904 - the very exception, its traceback filtered
    bounded._hands_out_arrays = True  # type: ignore[attr-defined]  # export leaves it be
    return bounded  # type: ignore[return-value]


def _library_dirs() -> list[tuple[str, ...]]:
    import sysconfig
    numpy_dirs = {os.path.dirname(np.__file__) + os.sep,
                  os.path.dirname(os.path.abspath(np.__file__)) + os.sep}
    paths = sysconfig.get_paths()
    stdlib = {os.path.join(paths[key], "") for key in ("stdlib", "platstdlib") if paths.get(key)}
    return [tuple(numpy_dirs), tuple(stdlib)]


_LIBRARY: list[tuple[str, ...]] = []      # NumPy's directories, Python's library's


def is_users(filename: str) -> bool:
    """Whether ``filename`` is the user's code: neither nanojax, NumPy nor Python's own library.

    (Packages installed beside Python's library, in site-packages, count as
    the user's: a library written on nanojax is someone's code.)
    """
    if not _LIBRARY:
        _LIBRARY[:] = _library_dirs()
    numpy_dirs, stdlib = _LIBRARY
    if filename.startswith((*_INTERNAL, "<frozen", *numpy_dirs)):
        return False
    return not filename.startswith(stdlib) or "-packages" in filename


def _locate(e: BaseException, frames: list) -> None:
    """Put the user's ``file:line`` in the message of an error nanojax raised."""
    with contextlib.suppress(AttributeError):     # an exception without a __dict__
        e._nanojax_located = True  # type: ignore[attr-defined]
    if frames and is_users(frames[-1].tb_frame.f_code.co_filename):
        return                    # the user's own code raised it: their message, as it is
    user = [t for t in frames if is_users(t.tb_frame.f_code.co_filename)]
    if user:
        where = f"{os.path.basename(user[-1].tb_frame.f_code.co_filename)}:{user[-1].tb_lineno}"
    else:                         # raised before or after the user's code ran: the call
        f: Any = sys._getframe(1)
        while f is not None and not is_users(f.f_code.co_filename):
            f = f.f_back
        if f is None:
            return
        where = f"{os.path.basename(f.f_code.co_filename)}:{f.f_lineno}"
    text = str(e)
    if f" {where}" in text:
        return                    # it says where already (a concretization error, say)
    args = e.args
    if type(e) is not KeyError and len(args) == 1 and isinstance(args[0], str) \
            and args[0] == text:
        message = text.rstrip()
        e.args = (f"{message[:-1]} (at {where})." if message.endswith(".")
                  else f"{message} (at {where})",)
        return
    add_note = getattr(e, "add_note", None)       # Python 3.11's notes
    if add_note is not None:
        add_note(f"nanojax: raised at {where}")
