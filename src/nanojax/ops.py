"""``jax.ops``: reductions over segments, ``segment_sum``, ``segment_prod``,
``segment_max`` and ``segment_min``.

Row ``i`` of ``data`` belongs to segment ``segment_ids[i]``; the result has
one row per segment, ``num_segments`` of them, each the reduction of its
rows (the reduction's identity for an empty segment: 0, 1, -inf, +inf).
Ids outside ``[0, num_segments)`` are dropped (``mode='clip'`` clamps them
instead). ``segment_sum`` is one scatter-add; the others compare every id
with every segment number, so a traced ``segment_ids`` with repeated values
is reduced correctly, and everything differentiates and batches like the
``jnp`` code it is made of. ``indices_are_sorted``, ``unique_indices`` and
``bucket_size`` are performance hints in JAX and change nothing here.

Examples:
    >>> import numpy as np
    >>> import nanojax as nj
    >>> data, ids = np.array([1.0, 2.0, 3.0, 4.0]), np.array([0, 0, 2, 0])
    >>> nj.ops.segment_sum(data, ids, num_segments=3)
    array([7., 0., 3.])
    >>> nj.ops.segment_max(data, ids, num_segments=3)
    array([  4., -inf,   3.])
    >>> nj.grad(lambda d: nj.ops.segment_max(d, ids, 3)[0])(data)
    array([0., 0., 0., 1.])
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax.core import Tracer

__all__ = ["segment_max", "segment_min", "segment_prod", "segment_sum"]

_MODES = (None, "drop", "fill", "promise_in_bounds", "clip")


def _prepare(name: str, data: Any, segment_ids: Any, num_segments: Any, mode: Any
             ) -> tuple[Any, Any, int]:
    who = f"nanojax.ops.{name}"
    data = jnp.asarray(data)
    ids = jnp.asarray(segment_ids)
    if jnp.result_type(ids).kind not in "iu":
        raise TypeError(f"{who}: segment_ids must be integers, got {jnp.result_type(ids)}")
    if jnp.ndim(ids) != 1 or jnp.ndim(data) == 0 or data.shape[0] != ids.shape[0]:
        raise ValueError(f"{who}: segment_ids must be 1-D with one id per row of data, got "
                         f"shapes {jnp.shape(ids)} and {jnp.shape(data)}")
    if mode not in _MODES:
        raise ValueError(f"{who}: mode must be one of {_MODES[1:]} or None, got {mode!r}")
    if num_segments is None:
        if isinstance(ids, Tracer):
            raise TypeError(f"{who}: segment_ids is traced, so num_segments (the result's "
                            "length) must be given as a concrete int")
        num_segments = int(np.max(ids, initial=-1)) + 1
    if isinstance(num_segments, Tracer):
        raise TypeError(f"{who}: num_segments sets the result's shape and must be a concrete "
                        "int, not a traced value")
    try:
        num_segments = operator.index(num_segments)
    except TypeError:
        raise TypeError(f"{who}: num_segments must be an int, got "
                        f"{type(num_segments).__name__}") from None
    if num_segments < 0:
        raise ValueError(f"{who}: num_segments must be non-negative, got {num_segments}")
    if mode == "clip":
        ids = jnp.clip(ids, 0, max(num_segments - 1, 0))
    return data, ids, num_segments


def segment_sum(data: Any, segment_ids: Any, num_segments: int | None = None,
                indices_are_sorted: bool = False, unique_indices: bool = False,
                bucket_size: int | None = None, mode: Any = None) -> Any:
    """The sum of ``data``'s rows in each segment (0 for an empty one)."""
    data, ids, n = _prepare("segment_sum", data, segment_ids, num_segments, mode)
    out = jnp.zeros((n,) + data.shape[1:], jnp.result_type(data))
    return jnp.at(out)[ids].add(data, mode="drop")


def _by_mask(name: str, reduce: Any, identity: Any, data: Any, segment_ids: Any,
             num_segments: Any, mode: Any) -> Any:
    data, ids, n = _prepare(name, data, segment_ids, num_segments, mode)
    dtype = jnp.result_type(data)
    member = jnp.equal(jnp.reshape(ids, (-1, 1)), np.arange(n))          # (rows, segments)
    member = jnp.reshape(member, member.shape + (1,) * (jnp.ndim(data) - 1))
    fill = np.asarray(identity(dtype), dtype)
    spread = jnp.where(member, jnp.expand_dims(data, 1), fill)
    return reduce(spread, axis=0)


def _lowest(dtype: np.dtype) -> Any:
    if dtype.kind == "f":
        return -np.inf
    return False if dtype.kind == "b" else np.iinfo(dtype).min


def _highest(dtype: np.dtype) -> Any:
    if dtype.kind == "f":
        return np.inf
    return True if dtype.kind == "b" else np.iinfo(dtype).max


def segment_prod(data: Any, segment_ids: Any, num_segments: int | None = None,
                 indices_are_sorted: bool = False, unique_indices: bool = False,
                 bucket_size: int | None = None, mode: Any = None) -> Any:
    """The product of ``data``'s rows in each segment (1 for an empty one)."""
    return _by_mask("segment_prod", jnp.prod, lambda d: 1, data, segment_ids, num_segments,
                    mode)


def segment_max(data: Any, segment_ids: Any, num_segments: int | None = None,
                indices_are_sorted: bool = False, unique_indices: bool = False,
                bucket_size: int | None = None, mode: Any = None) -> Any:
    """The maximum of ``data``'s rows in each segment (-inf, or the dtype's least
    value, for an empty one); tied maxima share the gradient."""
    return _by_mask("segment_max", jnp.max, _lowest, data, segment_ids, num_segments, mode)


def segment_min(data: Any, segment_ids: Any, num_segments: int | None = None,
                indices_are_sorted: bool = False, unique_indices: bool = False,
                bucket_size: int | None = None, mode: Any = None) -> Any:
    """The minimum of ``data``'s rows in each segment (+inf, or the dtype's greatest
    value, for an empty one); tied minima share the gradient."""
    return _by_mask("segment_min", jnp.min, _highest, data, segment_ids, num_segments, mode)


from nanojax.array import export as _export_arrays  # noqa: E402

_export_arrays(globals())   # the public face hands out arrays with JAX's methods
