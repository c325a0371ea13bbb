"""Where the user's code is: the first frame outside nanojax's own package.

Staging records it on each equation (``JaxprEqn.source_info``), and the
debugging checks and tracing errors name it, so that a message points at
the user's line rather than at nanojax's insides.
"""

from __future__ import annotations

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
