"""The device names JAX programs call, with their meaning on one CPU.

nanojax computes with NumPy on the host: there is one device, the CPU, and
an array lives in ordinary memory. ``devices()`` lists it, the counts are 1,
``device_put`` gives an array of its own memory and ``device_get`` and
``block_until_ready`` hand their argument back (nothing runs asynchronously).
Programs written for accelerators run unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nanojax.core import Tracer
from nanojax.tree_util import tree_map

__all__ = ["Device", "devices", "local_devices", "device_count", "local_device_count",
           "process_index", "process_count", "device_put", "device_get",
           "block_until_ready"]


class Device:
    """The one device: this process's CPU (``platform == "cpu"``, ``id == 0``)."""

    __slots__ = ()
    platform = "cpu"
    device_kind = "cpu"
    id = 0
    process_index = 0
    host_id = 0

    def __repr__(self) -> str:
        return "CpuDevice(id=0)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Device)

    def __hash__(self) -> int:
        return hash(Device)


_CPU = Device()


def _check_backend(who: str, backend: Any) -> None:
    if backend not in (None, "cpu"):
        raise ValueError(f"nanojax.{who}: backend {backend!r} is not available; nanojax runs "
                         "on the CPU only (backend='cpu' or None)")


def devices(backend: Any = None) -> list[Device]:
    """The devices: the CPU alone.

    Examples:
        >>> import nanojax as nj
        >>> nj.devices()
        [CpuDevice(id=0)]
        >>> nj.devices()[0].platform
        'cpu'
    """
    _check_backend("devices", backend)
    return [_CPU]


def local_devices(process_index: int | None = None, backend: Any = None,
                  host_id: int | None = None) -> list[Device]:
    """This process's devices: the CPU alone."""
    _check_backend("local_devices", backend)
    for what, value in (("process_index", process_index), ("host_id", host_id)):
        if value not in (None, 0):
            raise ValueError(f"nanojax.local_devices: {what} {value!r} does not exist; there "
                             "is one process, number 0")
    return [_CPU]


def device_count(backend: Any = None) -> int:
    """How many devices there are: 1."""
    _check_backend("device_count", backend)
    return 1


def local_device_count(backend: Any = None) -> int:
    """How many devices this process has: 1."""
    _check_backend("local_device_count", backend)
    return 1


def process_index(backend: Any = None) -> int:
    """This process's number: 0."""
    return 0


def process_count(backend: Any = None) -> int:
    """How many processes there are: 1."""
    return 1


def device_put(x: Any, device: Any = None, *, src: Any = None, donate: bool = False,
               may_alias: bool | None = None) -> Any:
    """``x`` (a pytree) with each leaf an array in memory of its own.

    A traced value is handed back as it is (it is already "on the device").

    Examples:
        >>> import numpy as np
        >>> import nanojax as nj
        >>> a = np.ones(2)
        >>> b = nj.device_put(a)
        >>> b is a, b
        (False, array([1., 1.]))
    """
    from nanojax.sharding import Sharding        # here: sharding imports this module
    if device is not None and not isinstance(device, (Device, Sharding)):
        raise TypeError(f"nanojax.device_put: device must be None, one of nanojax.devices() "
                        f"or a sharding, got {type(device).__name__}")

    def put(leaf: Any) -> Any:
        if isinstance(leaf, Tracer):
            return leaf
        out = np.array(leaf)
        if out.dtype.kind not in "biufc":
            raise TypeError(f"nanojax.device_put: {type(leaf).__name__} ({leaf!r:.40}) is not "
                            "numeric data")
        return out
    return tree_map(put, x)


def device_get(x: Any) -> Any:
    """``x`` itself: its arrays are NumPy arrays already, in host memory."""
    return x


def block_until_ready(x: Any) -> Any:
    """``x`` itself: nanojax computes eagerly, so everything is ready when returned."""
    return x
