"""Bits of integers: ``bitwise_count``, the array-API shift names, ``packbits`` and
``unpackbits``.

All four are compositions of shifts, masks and sums, so they trace, jit and
vmap like any other integer code (no gradient: integers have none). With
nothing traced each is NumPy's own call.

Examples:
    >>> import numpy as np
    >>> import nanojax.numpy as jnp
    >>> jnp.bitwise_count(np.array([0, 7, -8]))
    array([0, 3, 1], dtype=uint8)
    >>> jnp.packbits(np.array([1, 0, 1, 1]))
    array([176], dtype=uint8)
    >>> jnp.unpackbits(np.array([176], np.uint8), count=4)
    array([1, 0, 1, 1], dtype=uint8)
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax.numpy._args import axis_index, error, numpy_or_traced, operand
from nanojax.numpy._ufuncs import left_shift, right_shift

__all__ = ["bitwise_count", "bitwise_left_shift", "bitwise_right_shift", "packbits",
           "unpackbits"]

bitwise_left_shift = left_shift      # the array API's names
bitwise_right_shift = right_shift


@numpy_or_traced()
def bitwise_count(x: Any, /) -> Any:
    """How many bits are set in ``|x|``, elementwise, as uint8 (NumPy's and JAX's dtype).

    Traced, it is the classic branch-free count: add neighbouring bits, then pairs,
    then nibbles, then sum the bytes with one multiplication.
    """
    x = operand(x, "bitwise_count")
    dtype = jnp.result_type(x)
    if dtype.kind not in "iub":
        raise error("bitwise_count", TypeError, f"takes integers or booleans, got an array "
                    f"of {dtype}")
    if dtype.kind == "b":
        return jnp.astype(x, np.uint8)
    bits = dtype.itemsize * 8
    udtype = np.dtype(f"uint{bits}")
    u = jnp.astype(jnp.abs(x) if dtype.kind == "i" else x, udtype)
    m1, m2, m4, h01 = (np.array(int.from_bytes(bytes([b]) * (bits // 8), "little"), udtype)
                       for b in (0x55, 0x33, 0x0F, 0x01))
    one, two, four = (np.array(k, udtype) for k in (1, 2, 4))
    u = u - (right_shift(u, one) & m1)
    u = (u & m2) + (right_shift(u, two) & m2)
    u = (u + right_shift(u, four)) & m4
    if bits > 8:
        u = right_shift(u * h01, np.array(bits - 8, udtype))
    return jnp.astype(u, np.uint8)


def _bitorder(name: str, bitorder: str) -> bool:
    if bitorder not in ("big", "little"):
        raise error(name, ValueError, f"bitorder must be 'big' or 'little', got {bitorder!r}")
    return bitorder == "big"


def _along(name: str, a: Any, axis: int | None) -> tuple[Any, int]:
    """``a`` and the axis the bits run along: the flattened array's only one when
    ``axis`` is None, else ``axis`` checked and made non-negative."""
    if axis is None:
        return jnp.ravel(a), 0
    return a, axis_index(name, axis, jnp.ndim(a))


@numpy_or_traced(numpy_order=False)
def packbits(a: Any, /, axis: int | None = None, bitorder: str = "big") -> Any:
    """The nonzero-ness of ``a``'s elements packed eight to a uint8 along ``axis``
    (the flattened array when None), zero bits padding the last byte."""
    name = "packbits"
    a = operand(a, name)
    if jnp.result_type(a).kind not in "iub":
        raise error(name, TypeError, f"Expected an input array of integer or boolean data "
                    f"type, got {jnp.result_type(a)}")
    big = _bitorder(name, bitorder)
    a, ax = _along(name, a, axis)
    bits = jnp.moveaxis(jnp.astype(a != 0, np.uint8), ax, -1)
    n = bits.shape[-1]
    pad = -n % 8
    if pad:
        bits = jnp.concatenate([bits, jnp.zeros(bits.shape[:-1] + (pad,), np.uint8)], axis=-1)
    bits = jnp.reshape(bits, bits.shape[:-1] + ((n + pad) // 8, 8))
    weights = np.array([128, 64, 32, 16, 8, 4, 2, 1] if big else [1, 2, 4, 8, 16, 32, 64, 128],
                       np.uint8)
    packed = jnp.sum(bits * weights, axis=-1, dtype=np.uint8)
    return jnp.moveaxis(packed, -1, ax)


@numpy_or_traced(numpy_order=False)
def unpackbits(a: Any, /, axis: int | None = None, count: int | None = None,
               bitorder: str = "big") -> Any:
    """The bits of a uint8 array, eight elements per byte along ``axis`` (the flattened
    array when None); ``count`` keeps the first ``count`` of them (pads with zeros when
    larger, drops ``-count`` from the end when negative)."""
    name = "unpackbits"
    a = operand(a, name)
    if jnp.result_type(a) != np.uint8:
        raise error(name, TypeError, f"Expected an input array of unsigned byte data type, "
                    f"got {jnp.result_type(a)}")
    big = _bitorder(name, bitorder)
    a, ax = _along(name, a, axis)
    shifts = np.arange(7, -1, -1, dtype=np.uint8) if big else np.arange(8, dtype=np.uint8)
    moved = jnp.moveaxis(a, ax, -1)
    bits = right_shift(jnp.expand_dims(moved, -1), shifts) & np.uint8(1)
    bits = jnp.reshape(bits, moved.shape[:-1] + (moved.shape[-1] * 8,))
    if count is not None:
        if not isinstance(count, (int, np.integer)) or isinstance(count, bool):
            raise error(name, TypeError, f"count must be an int or None, got {count!r}")
        n = bits.shape[-1]
        keep = count if count >= 0 else max(n + count, 0)
        if keep <= n:
            bits = bits[..., :keep]
        else:
            bits = jnp.concatenate([bits, jnp.zeros(bits.shape[:-1] + (keep - n,), np.uint8)],
                                   axis=-1)
    return jnp.moveaxis(bits, -1, ax)
