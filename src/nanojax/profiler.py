"""``jax.profiler``: trace annotations and profiling sessions, as documented no-ops.

nanojax has no device profiler to feed: the names exist so that programs
that annotate their steps run unchanged. They check their arguments, and
``TraceAnnotation``/``annotate_function`` keep the function's behaviour
exactly. Python's own ``cProfile`` profiles nanojax code well (see
``docs/performance.md``).

Examples:
    >>> import nanojax as nj
    >>> with nj.profiler.TraceAnnotation("step", batch=3):
    ...     y = 2 + 2
    >>> f = nj.profiler.annotate_function(lambda x: x + 1, name="inc")
    >>> f(1)
    2
"""

from __future__ import annotations

import contextlib
import functools
import os
from typing import Any
from collections.abc import Callable, Iterator

__all__ = ["StepTraceAnnotation", "TraceAnnotation", "annotate_function",
           "device_memory_profile", "save_device_memory_profile", "start_server",
           "start_trace", "stop_server", "stop_trace", "trace"]

_ACTIVE: list[str] = []


def _name(who: str, name: Any) -> str:
    if not isinstance(name, str):
        raise TypeError(f"nanojax.profiler.{who}: name must be a string, got "
                        f"{type(name).__name__}")
    return name


class TraceAnnotation:
    """A named span of a profile (a context manager): records nothing here."""

    def __init__(self, name: str, **kwargs: Any) -> None:
        self.name = _name("TraceAnnotation", name)
        self.kwargs = kwargs

    def __enter__(self) -> TraceAnnotation:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None


class StepTraceAnnotation(TraceAnnotation):
    """A training step's span, numbered by ``step_num``."""

    def __init__(self, name: str, **kwargs: Any) -> None:
        super().__init__(name, **kwargs)


def annotate_function(func: Callable | None = None, name: str | None = None,
                      **decorator_kwargs: Any) -> Any:
    """``func`` wrapped in a ``TraceAnnotation`` named ``name`` (or its own name); as a
    decorator with or without arguments."""
    if func is None:
        return functools.partial(annotate_function, name=name, **decorator_kwargs)
    if not callable(func):
        raise TypeError(f"nanojax.profiler.annotate_function: func must be callable, got "
                        f"{type(func).__name__}")
    label = _name("annotate_function", name if name is not None
                  else getattr(func, "__qualname__", "function"))

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with TraceAnnotation(label, **decorator_kwargs):
            return func(*args, **kwargs)
    return wrapper


def start_trace(log_dir: Any, create_perfetto_link: bool = False,
                create_perfetto_trace: bool = False, profiler_options: Any = None) -> None:
    """Begin a profiling session writing to ``log_dir`` (nothing is written here); one
    session at a time, as in JAX."""
    if not isinstance(log_dir, (str, os.PathLike)):
        raise TypeError(f"nanojax.profiler.start_trace: log_dir must be a path, got "
                        f"{type(log_dir).__name__}")
    if _ACTIVE:
        raise RuntimeError("nanojax.profiler.start_trace: Profile has already been started. "
                           "Only one profile may be run at a time.")
    _ACTIVE.append(os.fspath(log_dir))


def stop_trace() -> None:
    """End the session ``start_trace`` began."""
    if not _ACTIVE:
        raise RuntimeError("nanojax.profiler.stop_trace: No profile started")
    _ACTIVE.pop()


@contextlib.contextmanager
def trace(log_dir: Any, create_perfetto_link: bool = False,
          create_perfetto_trace: bool = False, profiler_options: Any = None) -> Iterator[None]:
    """``start_trace`` ... ``stop_trace`` around a block."""
    start_trace(log_dir, create_perfetto_link, create_perfetto_trace, profiler_options)
    try:
        yield
    finally:
        stop_trace()


def start_server(port: int) -> None:
    """Start a profiler server on ``port``: there is no profiler to serve; checks ``port``."""
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"nanojax.profiler.start_server: port must be an int in (0, 65536), "
                         f"got {port!r}")


def stop_server() -> None:
    """Stop the profiler server (there is none)."""


def device_memory_profile(backend: Any = None) -> bytes:
    """A pprof memory profile of the devices: empty, as nanojax has no device memory
    of its own (arrays are NumPy's)."""
    return b""


def save_device_memory_profile(filename: Any, backend: Any = None) -> None:
    """Write ``device_memory_profile()`` (empty) to ``filename``."""
    with open(filename, "wb") as f:
        f.write(device_memory_profile(backend))
