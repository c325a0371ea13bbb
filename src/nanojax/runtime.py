"""Process, host and runtime names of the ``jax`` namespace, with their meaning on one
CPU: one process (number 0) on one host, nothing running asynchronously.

``host_count``/``host_id``/``host_ids``/``process_indices`` count and number
the processes; ``effects_barrier`` waits for nothing (every effect has
happened when a call returns); ``checking_leaks`` turns on
``jax_check_tracer_leaks`` for a block; ``make_array_from_callback`` and its
two siblings assemble an array from its one shard; ``print_environment_info``
says which versions run.

Examples:
    >>> import numpy as np
    >>> import nanojax as nj
    >>> nj.host_count(), nj.host_id(), nj.process_indices()
    (1, 0, [0])
    >>> sharding = nj.sharding.SingleDeviceSharding(nj.devices()[0])
    >>> nj.make_array_from_callback((2, 3), sharding, lambda index: np.ones((2, 3))[index])
    array([[1., 1., 1.],
           [1., 1., 1.]])
"""

from __future__ import annotations

import contextlib
import platform
import sys
from typing import Any
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from nanojax import config
from nanojax.core import Tracer

__all__ = ["checking_leaks", "effects_barrier", "host_count", "host_id", "host_ids",
           "make_array_from_callback", "make_array_from_process_local_data",
           "make_array_from_single_device_arrays", "print_environment_info",
           "process_indices"]


def host_count(backend: Any = None) -> int:
    """How many hosts (processes) there are: 1 (JAX's older name for ``process_count``)."""
    return 1


def host_id(backend: Any = None) -> int:
    """This host's number: 0 (JAX's older name for ``process_index``)."""
    return 0


def host_ids(backend: Any = None) -> list[int]:
    """The numbers of all hosts: ``[0]``."""
    return [0]


def process_indices(backend: Any = None) -> list[int]:
    """The numbers of all processes: ``[0]``."""
    return [0]


def effects_barrier() -> None:
    """Wait until every side effect (callbacks, prints) has run: they already have,
    since nanojax runs each call to completion before returning."""


@contextlib.contextmanager
def checking_leaks() -> Iterator[None]:
    """Run the block with ``jax_check_tracer_leaks`` on. nanojax reports a leaked
    tracer (``UnexpectedTracerError``) whenever one is used, flag or not."""
    with config.temporarily("jax_check_tracer_leaks", True):
        yield


def print_environment_info(return_string: bool = False) -> str | None:
    """The versions nanojax runs with (nanojax, NumPy, Python, the platform), printed,
    or returned as a string with ``return_string=True``."""
    import nanojax
    info = (f"nanojax:    {nanojax.__version__}\n"
            f"numpy:      {np.__version__}\n"
            f"python:     {sys.version.split()[0]}\n"
            f"device info: cpu-1, 1 local devices\n"
            f"process_count: 1\n"
            f"platform:   {platform.platform()}\n")
    if return_string:
        return info
    print(info, end="")
    return None


def _check_sharding(who: str, sharding: Any) -> None:
    from nanojax.sharding import Sharding
    if not isinstance(sharding, Sharding):
        raise TypeError(f"nanojax.{who}: sharding must be a nanojax.sharding.Sharding, got "
                        f"{type(sharding).__name__}")


def _shape(who: str, shape: Any) -> tuple[int, ...]:
    try:
        return tuple(int(d) for d in shape)
    except TypeError:
        raise TypeError(f"nanojax.{who}: shape must be a tuple of ints, got {shape!r}") from None


def _checked(who: str, value: Any, shape: tuple[int, ...]) -> np.ndarray:
    if isinstance(value, Tracer):
        raise TypeError(f"nanojax.{who}: the data is a traced value; build arrays from "
                        "concrete data, outside the transformed function")
    out = np.array(value)
    if out.shape != shape:
        raise ValueError(f"nanojax.{who}: the data has shape {out.shape}, but the array's "
                         f"shape is {shape}")
    return out


def make_array_from_callback(shape: Sequence[int], sharding: Any,
                             data_callback: Callable[[tuple], Any], dtype: Any = None) -> Any:
    """The array of ``shape`` whose one shard is ``data_callback(index)``, ``index``
    being the tuple of full slices (the shard is the whole array)."""
    who = "make_array_from_callback"
    _check_sharding(who, sharding)
    shape = _shape(who, shape)
    out = _checked(who, data_callback(tuple(slice(None) for _ in shape)), shape)
    return out if dtype is None else out.astype(dtype)


def make_array_from_single_device_arrays(shape: Sequence[int], sharding: Any,
                                         arrays: Sequence[Any], *, dtype: Any = None) -> Any:
    """The array of ``shape`` made of one array per device: here, the one array."""
    who = "make_array_from_single_device_arrays"
    _check_sharding(who, sharding)
    if len(arrays) != 1:
        raise ValueError(f"nanojax.{who}: expected one array (nanojax has one device), got "
                         f"{len(arrays)}")
    out = _checked(who, arrays[0], _shape(who, shape))
    return out if dtype is None else out.astype(dtype)


def make_array_from_process_local_data(sharding: Any, local_data: Any,
                                       global_shape: Sequence[int] | None = None) -> Any:
    """The global array from this process's data: one process holds all of it."""
    who = "make_array_from_process_local_data"
    _check_sharding(who, sharding)
    shape = np.shape(local_data) if global_shape is None else _shape(who, global_shape)
    return _checked(who, local_data, tuple(shape))
