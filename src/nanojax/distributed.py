"""``jax.distributed``: joining a multi-process computation, for one process.

``initialize`` accepts a one-process configuration (``num_processes`` 1 or
None, ``process_id`` 0 or None) and does nothing else: this process is the
whole computation. More processes are refused with a sentence.

    >>> import nanojax as nj
    >>> nj.distributed.initialize()
    >>> nj.distributed.is_initialized()
    True
    >>> nj.distributed.shutdown()
"""

from __future__ import annotations

from typing import Any

__all__ = ["initialize", "is_initialized", "shutdown"]

_STATE = {"initialized": False}


def initialize(coordinator_address: str | None = None, num_processes: int | None = None,
               process_id: int | None = None, local_device_ids: Any = None,
               cluster_detection_method: str | None = None,
               initialization_timeout: int = 300, **kwargs: Any) -> None:
    """Join the computation as its one process."""
    if num_processes not in (None, 1):
        raise ValueError(f"nanojax.distributed.initialize: num_processes={num_processes}; "
                         "nanojax runs as one process on one CPU (num_processes=1)")
    if process_id not in (None, 0):
        raise ValueError(f"nanojax.distributed.initialize: process_id={process_id} does not "
                         "exist; the one process is number 0")
    if local_device_ids not in (None, 0, [0], (0,)):
        raise ValueError(f"nanojax.distributed.initialize: local_device_ids="
                         f"{local_device_ids!r}; the one device is number 0")
    if _STATE["initialized"]:
        raise RuntimeError("nanojax.distributed.initialize should only be called once.")
    _STATE["initialized"] = True


def is_initialized() -> bool:
    """Whether ``initialize`` has been called (and not ``shutdown``)."""
    return _STATE["initialized"]


def shutdown() -> None:
    """Leave the computation (nothing to disconnect)."""
    _STATE["initialized"] = False
