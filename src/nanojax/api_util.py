"""What every transformation does to its function and arguments before it runs.

As in JAX's ``api_util``: check that a function was passed, name the
transformed function after it, resolve ``argnums`` and static arguments, hold
the arguments that are not transformed fixed, and check inputs and outputs,
with every message starting with the public name of the transformation.
"""

from __future__ import annotations

import inspect
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

from nanojax.array import ArrayImpl
from nanojax.core import Tracer
from nanojax.dtypes import NUMERIC_KINDS, PY_NUMBERS, PY_SCALAR_DTYPES
from nanojax.tree_util import tree_flatten

__all__ = ["check_callable", "name_transformed", "check_argnums", "argnums_partial",
           "check_static", "static_positions", "static_by_name", "check_inputs",
           "check_outputs", "check_float_leaves", "check_float_inputs", "refuse_complex",
           "describe", "public_dir"]

# Outputs that are numbers by their type alone.
_PLAIN_OUTPUTS = PY_NUMBERS | {np.float64}


# ----- The function -------------------------------------------------------------

def check_callable(fun: Any, transform: str) -> None:
    if not callable(fun):
        raise TypeError(f"{transform} expects a function to transform, got "
                        f"{type(fun).__name__} ({fun!r:.50}); pass the function itself, "
                        f"e.g. {transform}(f)(x), not {transform}(f(x))")


def name_transformed(wrapper: Callable, transform: str, fun: Callable,
                     doc: bool = True) -> Callable:
    """Name ``wrapper`` ``transform(fun's name)`` and give it ``fun``'s docstring.

    ``__wrapped__`` is ``fun``, as ``functools.wraps`` (and JAX) set it: its
    signature names the arguments in errors (``depends on argument `x```).
    """
    wrapper.__name__ = f"{transform}({getattr(fun, '__name__', 'fun')})"
    wrapper.__wrapped__ = fun  # type: ignore[attr-defined]
    if doc:
        wrapper.__doc__ = fun.__doc__
    return wrapper


# ----- Which arguments are transformed ------------------------------------------

def check_argnums(argnums: int | Sequence[int], nargs: int, fn_name: str) -> tuple:
    """``argnums`` as a tuple of distinct non-negative positions among ``nargs``."""
    nums = (argnums,) if isinstance(argnums, (int, str)) else (
        tuple(argnums) if isinstance(argnums, (tuple, list)) else ())
    if not nums or any(not isinstance(i, (int, np.integer)) or isinstance(i, bool)
                       for i in nums):
        raise TypeError(f"{fn_name}: argnums must be an int or a non-empty tuple of "
                        f"ints, got {argnums!r}")
    for i in nums:
        if not -nargs <= i < nargs:     # a TypeError, as in JAX
            raise TypeError(f"{fn_name}: argnums {argnums!r} refers to argument {i}, "
                            f"but the function was called with {nargs} positional "
                            "arguments")
    resolved = tuple(int(i) % nargs for i in nums)
    if len(set(resolved)) != len(resolved):
        raise ValueError(f"{fn_name}: argnums {argnums!r} names an argument more than "
                         "once; list each argument to differentiate once")
    return resolved


def argnums_partial(fun: Callable, args: Sequence[Any], argnums: Sequence[int],
                    kwargs: dict) -> Callable:
    """``fun`` as a function of ``args[i] for i in argnums`` only.

    The other arguments, and the keyword arguments ``kwargs``, are held at
    the values given here. (``grad`` makes one per call: no merging of
    keyword dicts, and a plain ``zip``, as both lengths are ``argnums``'s.)
    """
    def partial_fun(*chosen: Any) -> Any:
        full = list(args)
        for i, a in zip(argnums, chosen):
            full[i] = a
        return fun(*full, **kwargs)
    return partial_fun


def check_static(value: Any, where: str) -> Any:
    """A static argument is part of jit's cache key, so it must be hashable."""
    try:
        hash(value)
    except TypeError:
        raise TypeError(f"nanojax.jit: static argument {where} must be hashable (it is part of "
                        f"the cache key), but got an unhashable {type(value).__name__}. "
                        "Pass it as a tuple, or make it a regular (traced) argument.") from None
    return value


def static_positions(static_argnums: int | Sequence[int], nargs: int, who: str
                     ) -> tuple[int, ...]:
    """The positions of the static arguments of a call with ``nargs`` of them, sorted."""
    nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    for i in nums:
        if not -nargs <= i < nargs:
            raise ValueError(f"{who}: static_argnums {i} is out of range for a call with "
                             f"{nargs} positional arguments")
    return tuple(sorted(i % nargs for i in nums))


def static_by_name(fun: Callable, nums: tuple, names: tuple) -> tuple[tuple, tuple, dict]:
    """As in JAX, a static argument may be passed by position or by name.

    When only one of static_argnums/static_argnames is given, the other is
    inferred from ``fun``'s signature. Also returns {position: name} of the
    positional parameters.
    """
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):          # no introspectable signature
        return nums, names, {}
    positional = {i: p.name for i, p in enumerate(params)
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)}
    by_name = {p.name: i for i, p in enumerate(params) if p.kind is p.POSITIONAL_OR_KEYWORD}
    if not names:
        names = tuple(positional[i] for i in nums if positional.get(i) in by_name)
    if not nums:
        nums = tuple(by_name[n] for n in names if n in by_name)
    return nums, names, positional


# ----- Inputs and outputs ---------------------------------------------------------

def check_inputs(leaves: Sequence[Any], fn_name: str) -> list:
    """The leaves as valid array inputs, or a TypeError naming ``fn_name``.

    Arrays, NumPy scalars, Python numbers and tracers pass. An ndarray
    subclass becomes a plain ndarray, as JAX does: ``np.matrix`` would turn
    ``*`` into a matrix product. A masked array is refused: dropping its
    mask would silently change the answer.
    """
    out = []
    for x in leaves:
        kind = type(x)
        if kind is float or kind is np.float64:      # the scalar circuits' hot path
            out.append(x)
            continue
        if kind is ArrayImpl:           # nanojax's own arrays: computed with as plain ones
            x = x.view(np.ndarray)
        elif kind is not np.ndarray and kind not in PY_NUMBERS:
            if isinstance(x, np.ma.MaskedArray):
                raise TypeError(f"{fn_name}: masked arrays are not supported (the mask "
                                "would be ignored); pass x.filled(value) or a plain array")
            if isinstance(x, np.ndarray):
                x = np.asarray(x)
            elif not isinstance(x, (np.generic, Tracer)):
                raise TypeError(
                    f"{fn_name}: an argument of type {kind.__name__} ({x!r:.60}) is not "
                    "a valid input; pass NumPy arrays, Python numbers, or tuples, lists "
                    "and dicts of them (mark other arguments static, or close over them)")
        dtype = getattr(x, "dtype", None)          # Python numbers have none
        if dtype is not None and dtype.kind not in NUMERIC_KINDS:
            raise TypeError(f"{fn_name}: an argument of dtype {dtype} is not numeric; "
                            "pass arrays of numbers")
        out.append(x)
    return out


def check_outputs(leaves: Sequence[Any], fn_name: str) -> None:
    """Refuse outputs that are not arrays or numbers (a str, None, an object)."""
    for x in leaves:
        kind = type(x)
        if kind in _PLAIN_OUTPUTS or isinstance(x, Tracer):
            continue
        if not isinstance(x, (np.ndarray, np.generic)) or x.dtype.kind not in NUMERIC_KINDS:
            raise TypeError(f"{fn_name}: the function returned {describe(x)} ({x!r:.40}), "
                            "which is not an array; return arrays or numbers (or "
                            "pytrees of them)")


def check_float_leaves(leaves: Sequence[Any], fn_name: str) -> None:
    """Differentiated inputs must be real floats: a TypeError that says why otherwise."""
    for leaf in leaves:
        kind = type(leaf)
        if kind is float or kind is np.float64:      # the scalar circuits' hot path
            continue
        dtype = PY_SCALAR_DTYPES.get(kind)
        if dtype is None:
            dtype = getattr(leaf, "dtype", None)
        if dtype is not None and dtype.kind == "c":
            raise TypeError(
                f"{fn_name}: complex inputs are not supported yet (got {dtype}); nanojax "
                "differentiates real functions of real floats only, so pass the real and "
                "imaginary parts as two float arrays")
        if dtype is None or dtype.kind != "f":
            got = dtype if dtype is not None else kind.__name__
            raise TypeError(
                f"{fn_name} requires real-valued float inputs, but got a value of type "
                f"{got}. Pass floats (3.0, not 3; np.asarray(x, dtype=float) for "
                "arrays), or leave the argument out of argnums if it is not "
                "differentiated.")


def check_float_inputs(args: Sequence[Any], nums: tuple, fn_name: str) -> None:
    """``check_float_leaves`` on the arguments at ``nums``, naming each argument."""
    for i in nums:
        check_float_leaves(tree_flatten(args[i])[0], f"{fn_name} (argument {i})")


def refuse_complex(value: Any, producer: str, who: str) -> None:
    """Derivatives of complex values are not defined here: say so, and what to do."""
    dtype = getattr(value, "dtype", None)
    if (dtype is not None and dtype.kind == "c") or type(value) is complex:
        raise TypeError(f"{who}: {producer} produced a complex value, and nanojax does "
                        "not differentiate complex numbers yet; keep the differentiated "
                        "computation real (carry real and imaginary parts as two arrays)")


def describe(x: Any) -> str:
    """``an array of shape (3,)``, ``a tuple of length 2``: a value, for messages."""
    if isinstance(x, Tracer):
        return f"an array of shape {x.shape}"
    length = f" of length {len(x)}" if isinstance(x, (tuple, list)) else ""
    return f"a {type(x).__name__}{length}"


def public_dir(namespace: dict, *submodules: str) -> Callable[[], list[str]]:
    """A module's ``__dir__``: its ``__all__`` and its submodules, not what it imports.

    ``dir(nanojax.nn)`` then lists what a user may call, not ``np`` or ``Any``.
    """
    package = namespace["__name__"] + "."

    def __dir__() -> list[str]:
        subs = [n for n, v in namespace.items() if type(v).__name__ == "module"
                and getattr(v, "__name__", "").startswith(package)]
        return sorted({*namespace["__all__"], *subs, *submodules})
    return __dir__
