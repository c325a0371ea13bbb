"""``nanojax.config``: JAX's configuration flags, under their JAX names.

``config.update(name, value)`` sets a flag and ``config.<name>`` reads it,
as in JAX; an unknown name raises ``AttributeError``, as JAX does. Most of
JAX's flags choose things one CPU running NumPy does not have, so they are
accepted and kept, and say so here:

- ``jax_enable_x64``: nanojax computes in float64 by default (NumPy's
  default), so this is True and setting it changes nothing.
- ``jax_disable_jit``: real. While True, jitted functions run their Python
  op by op (as ``nanojax.disable_jit()`` does for a block).
- ``jax_platform_name`` / ``jax_platforms``: only ``"cpu"`` (or ``""``).
- ``jax_numpy_rank_promotion``: ``"allow"``, ``"warn"`` or ``"raise"`` are
  accepted; nanojax broadcasts ranks as NumPy does (``"allow"``).
- ``jax_debug_nans`` / ``jax_debug_infs``: real. The first gate whose
  result holds a NaN (an inf) raises ``FloatingPointError`` naming it and
  the user's line (see ``nanojax.debug_checks``).
- ``jax_traceback_filtering``: real. An error raised through ``jit``,
  ``grad``, ``vmap`` or ``make_jaxpr`` keeps only the user's frames in its
  traceback (and a note names the user's line), unless ``"off"``.
- ``jax_explain_cache_misses``: real. A jitted function traced again logs
  why (logger ``"nanojax"``, WARNING): which argument changed and how.
  Always, a function traced more than 10 times logs it once.
- ``jax_log_compiles`` and the rest below:
  accepted and kept; they change nothing yet.

Examples:
    >>> import nanojax as nj
    >>> nj.config.update("jax_enable_x64", True)
    >>> nj.config.jax_enable_x64
    True
    >>> nj.config.update("jax_no_such_flag", 1)
    Traceback (most recent call last):
    ...
    AttributeError: nanojax.config.update: unrecognized config option 'jax_no_such_flag'
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from nanojax.jit import JIT_DISABLED, set_jit_disabled

__all__ = ["update", "read", "values", "disable_jit"]


def _one_of(*allowed: Any) -> Callable[[str, Any], Any]:
    def check(name: str, value: Any) -> Any:
        if value not in allowed:
            raise ValueError(f"nanojax.config.update: {name} must be one of "
                             f"{', '.join(map(repr, allowed))}, got {value!r}")
        return value
    return check


def _boolean(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, int)) or value not in (0, 1):
        raise ValueError(f"nanojax.config.update: {name} takes True or False, got {value!r}")
    return bool(value)


def _anything(name: str, value: Any) -> Any:
    return value


def _set_disable_jit(value: bool) -> None:
    set_jit_disabled(value)


def _set_debug_nans(value: bool) -> None:
    from nanojax.debug_checks import set_check
    set_check("nans", value)


def _set_debug_infs(value: bool) -> None:
    from nanojax.debug_checks import set_check
    set_check("infs", value)


# name -> (default, check); a flag with an effect has its hook below.
_FLAGS: dict[str, tuple[Any, Callable[[str, Any], Any]]] = {
    "jax_enable_x64": (True, _boolean),
    "jax_disable_jit": (False, _boolean),
    "jax_platform_name": ("cpu", _one_of("cpu", "")),
    "jax_platforms": ("cpu", _one_of("cpu", "", None)),
    "jax_numpy_rank_promotion": ("allow", _one_of("allow", "warn", "raise")),
    "jax_numpy_dtype_promotion": ("standard", _one_of("standard", "strict")),
    "jax_default_matmul_precision": (None, _anything),
    "jax_debug_nans": (False, _boolean),
    "jax_debug_infs": (False, _boolean),
    "jax_explain_cache_misses": (False, _boolean),
    "jax_log_compiles": (False, _boolean),
    "jax_check_tracer_leaks": (False, _boolean),
    "jax_enable_checks": (False, _boolean),
    "jax_traceback_filtering": ("auto", _one_of("auto", "off", "tracebackhide",
                                                "remove_frames", "quiet_remove_frames")),
    "jax_default_device": (None, _anything),
    "jax_default_prng_impl": ("threefry2x32", _anything),
    "jax_threefry_partitionable": (True, _boolean),
    "jax_compilation_cache_dir": (None, _anything),
    "jax_persistent_cache_min_compile_time_secs": (1.0, _anything),
    "jax_persistent_cache_min_entry_size_bytes": (0, _anything),
    "jax_softmax_custom_jvp": (True, _boolean),
    "jax_dynamic_shapes": (False, _boolean),
    "jax_transfer_guard": (None, _anything),
}
_HOOKS: dict[str, Callable[[Any], None]] = {"jax_disable_jit": _set_disable_jit,
                                             "jax_debug_nans": _set_debug_nans,
                                             "jax_debug_infs": _set_debug_infs}
_values: dict[str, Any] = {name: default for name, (default, _) in _FLAGS.items()}


def _known(name: str, who: str) -> tuple[Any, Callable[[str, Any], Any]]:
    flag = _FLAGS.get(name)
    if flag is None:
        raise AttributeError(f"{who}: unrecognized config option {name!r}")
    return flag


def update(name: str, value: Any) -> None:
    """Set JAX's flag ``name`` (``"jax_enable_x64"``, ...) to ``value``."""
    _, check = _known(name, "nanojax.config.update")
    value = check(name, value)
    _values[name] = value
    hook = _HOOKS.get(name)
    if hook is not None:
        hook(value)


def read(name: str) -> Any:
    """The value of flag ``name``."""
    _known(name, "nanojax.config.read")
    if name == "jax_disable_jit":
        return JIT_DISABLED[0]
    return _values[name]


def values() -> dict[str, Any]:
    """Every flag and its value."""
    return {name: read(name) for name in _FLAGS}


@contextmanager
def temporarily(name: str, value: Any) -> Iterator[None]:
    """Inside the block the flag ``name`` is ``value``; its value before comes back after.

    >>> with temporarily("jax_debug_nans", True):
    ...     read("jax_debug_nans")
    True
    >>> read("jax_debug_nans")
    False
    """
    before = read(name)
    update(name, value)
    try:
        yield
    finally:
        update(name, before)


@contextmanager
def disable_jit(disable: bool = True) -> Iterator[None]:
    """Run jitted functions as plain Python inside the block (``nanojax.disable_jit``).

    Useful to print or step through values inside a jitted function.

    >>> import nanojax as nj
    >>> f = nj.jit(lambda x: print(type(x).__name__) or x)
    >>> with nj.disable_jit():
    ...     _ = f(1.0)
    float
    """
    before = JIT_DISABLED[0]
    set_jit_disabled(disable)
    try:
        yield
    finally:
        set_jit_disabled(before)


def __getattr__(name: str) -> Any:
    if name.startswith("jax_"):
        _known(name, "nanojax.config")
        return read(name)
    raise AttributeError(f"module 'nanojax.config' has no attribute {name!r}")
