"""``pmap``: JAX's data-parallel map, on one CPU a compiled named ``vmap``."""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Sequence

from nanojax.api_util import check_callable, name_transformed, static_positions
from nanojax.batching import vmap
from nanojax.devices import Device, _check_backend
from nanojax.jit import jit

__all__ = ["pmap"]


def pmap(fun: Callable, axis_name: Any = None, *, in_axes: Any = 0, out_axes: Any = 0,
         static_broadcasted_argnums: int | Sequence[int] = (), devices: Any = None,
         backend: Any = None, axis_size: int | None = None,
         donate_argnums: int | Sequence[int] = (), global_arg_shapes: Any = None) -> Callable:
    """Map ``fun`` over the leading axis of its arguments, one "device" per example.

    On one CPU this is ``jit(vmap(fun, in_axes, out_axes, axis_name=axis_name))``:
    the examples are computed together, and the collectives over
    ``axis_name`` (``lax.psum``, ``lax.pmean``, ``lax.all_gather``, ...)
    mean what they mean across devices. JAX refuses a mapped axis longer
    than the device count; nanojax runs any size, deliberately, so that a
    program written for data parallelism over several devices runs here
    unchanged. ``static_broadcasted_argnums`` are passed to every example as
    they are (and are part of the compiled function's cache key; an
    ``in_axes`` tuple has an entry for them too, which is ignored, as in
    JAX). ``devices``, ``backend`` and ``donate_argnums`` are accepted for
    compatibility and change nothing.

    Examples:
        >>> import numpy as np
        >>> import nanojax as nj
        >>> nj.pmap(lambda x: x / nj.lax.psum(x, "d"), axis_name="d")(np.array([1.0, 3.0]))
        array([0.25, 0.75])
    """
    check_callable(fun, "nanojax.pmap")
    _check_backend("pmap", backend)
    if devices is not None and not all(isinstance(d, Device) for d in devices):
        raise TypeError("nanojax.pmap: devices must be None or a list taken from "
                        "nanojax.devices()")
    static = ((static_broadcasted_argnums,) if isinstance(static_broadcasted_argnums, int)
              else tuple(static_broadcasted_argnums))
    compiled: dict[tuple, Callable] = {}

    def build(nargs: int, positions: tuple[int, ...], values: tuple) -> Callable:
        held = dict(zip(positions, values))
        dynamic = [i for i in range(nargs) if i not in held]

        def with_statics(*dyn: Any, **kwargs: Any) -> Any:
            full = [None] * nargs
            for i, v in held.items():
                full[i] = v
            for i, v in zip(dynamic, dyn):
                full[i] = v
            return fun(*full, **kwargs)
        axes = in_axes
        if held and isinstance(in_axes, (tuple, list)) and len(in_axes) == nargs:
            axes = tuple(in_axes[i] for i in dynamic)
        return jit(vmap(with_statics if held else fun, axes, out_axes, axis_name=axis_name,
                        axis_size=axis_size))

    def mapped(*args: Any, **kwargs: Any) -> Any:
        positions = static_positions(static, len(args), "nanojax.pmap") if static else ()
        values = tuple(args[i] for i in positions)
        try:
            hash(values)
        except TypeError:
            raise TypeError("nanojax.pmap: a static_broadcasted_argnums argument must be "
                            "hashable (it is part of the cache key); pass a tuple, or map "
                            "it as a regular argument") from None
        key = (len(args), positions, values)
        run = compiled.get(key)
        if run is None:
            run = compiled[key] = build(len(args), positions, values)
        return run(*(a for i, a in enumerate(args) if i not in positions), **kwargs)

    return name_transformed(mapped, "pmap", fun)
