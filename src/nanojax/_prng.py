"""The threefry2x32 engine of ``nanojax.random``, in vectorized NumPy ``uint32`` arithmetic.

These are plain NumPy functions of key bits (arrays whose last axis holds a
key's two ``uint32`` words; any leading axes are a batch of keys), laid out
as JAX 0.10 lays them out with its default ``jax_threefry_partitionable=True``:
element ``i`` of a draw of shape ``shape`` is the Threefry-2x32 hash (20
rounds, Salmon et al. 2011) of the 64-bit counter ``i`` split into its high
and low words, keyed by the key. So a key gives the same bits as in JAX, and
the samplers built on them (uniform floats from the top mantissa bits,
normals by the inverse error function, ...) give JAX's numbers.

Where JAX's CPU backend evaluates a function its own way (XLA's
``erf_inv`` is Giles' polynomial, its ``log1p`` a Cephes rational function),
the same formulas are written here, so the samplers agree with JAX to the
last bit or within a few units in the last place (XLA fuses the polynomials'
multiply-adds, NumPy rounds twice).
"""

from __future__ import annotations

from typing import Any

import numpy as np

_U32 = np.uint32
_U64 = np.uint64
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = _U32(0x1BD11BDA)             # Threefry's key-schedule constant
UINT: dict[int, Any] = {8: np.dtype(np.uint8), 16: np.dtype(np.uint16), 32: np.dtype(np.uint32),
        64: np.dtype(np.uint64)}


# Long arrays go through in chunks that stay in cache (about twice as fast at 1e6).
CHUNK = 1 << 16


def threefry2x32(k1: Any, k2: Any, x1: Any, x2: Any) -> tuple[np.ndarray, np.ndarray]:
    """The Threefry-2x32 hash of the counter words ``(x1, x2)`` under the key
    ``(k1, k2)`` (all ``uint32``, broadcasting together)."""
    args = [np.asarray(v, _U32) for v in (k1, k2, x1, x2)]
    shape = np.broadcast_shapes(*(v.shape for v in args))
    size = int(np.prod(shape, dtype=np.int64))
    if size <= CHUNK:
        with np.errstate(over="ignore"):
            return _rounds(*args)
    flat = [np.broadcast_to(v, shape).reshape(-1) for v in args]
    out1, out2 = np.empty(size, _U32), np.empty(size, _U32)
    with np.errstate(over="ignore"):
        for start in range(0, size, CHUNK):
            part = slice(start, start + CHUNK)
            out1[part], out2[part] = _rounds(*(v[part] for v in flat))
    return out1.reshape(shape), out2.reshape(shape)


def _rounds(k1: np.ndarray, k2: np.ndarray, x1: np.ndarray, x2: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray]:
    schedule = (k1, k2, k1 ^ k2 ^ _PARITY)
    # In place on two output buffers and one scratch buffer: the hash is ~120
    # passes over the data, and allocating each pass's result would slow it.
    a = np.add(x1, schedule[0], dtype=_U32)
    b = np.add(x2, schedule[1], dtype=_U32)
    if a.shape != b.shape:
        a, b = np.broadcast_arrays(a, b)
        a, b = a.copy(), b.copy()
    scratch = np.empty_like(b)
    for i in range(5):
        for r in _ROTATIONS[i % 2]:
            a += b
            np.right_shift(b, _U32(32 - r), out=scratch)
            b <<= _U32(r)
            b |= scratch
            b ^= a
        a += schedule[(i + 1) % 3]
        b += schedule[(i + 2) % 3] + _U32(i + 1)
    return a, b


def _hash_iota(keys: np.ndarray, shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    """The hash of the counters ``0 .. prod(shape)-1`` (laid out in ``shape``)
    under each key: arrays of shape ``keys.shape[:-1] + shape``."""
    keys = np.asarray(keys, _U32)
    n = int(np.prod(shape, dtype=np.int64))
    if n <= 2 ** 32:                            # the common case: the high word is 0
        hi = np.zeros(shape, _U32)
        lo = np.arange(n, dtype=_U32).reshape(shape) if n < 2 ** 32 else \
            np.arange(n, dtype=_U64).astype(_U32).reshape(shape)
    else:
        count = np.arange(n, dtype=_U64).reshape(shape)
        hi, lo = (count >> _U64(32)).astype(_U32), count.astype(_U32)
    extra = (slice(None),) * (keys.ndim - 1) + (None,) * len(shape)
    return threefry2x32(keys[..., 0][extra], keys[..., 1][extra], hi, lo)


def seed(seeds: np.ndarray) -> np.ndarray:
    """Keys from integer seeds, as JAX's ``threefry_seed``: the high and low 32
    bits of the seed (a 32-bit or narrower seed has high word 0; a negative
    64-bit one is its two's complement)."""
    s = np.asarray(seeds)
    if s.dtype.itemsize == 8:
        u = s.astype(_U64) if s.dtype.kind == "u" else s.astype(np.int64).view(_U64)
        hi, lo = (u >> _U64(32)).astype(_U32), (u & _U64(0xFFFFFFFF)).astype(_U32)
    else:
        hi = np.zeros(s.shape, _U32)
        lo = s.astype(np.int64).astype(_U32) if s.dtype.kind == "i" else s.astype(_U32)
    return np.stack([hi, lo], axis=-1)


def split(keys: np.ndarray, shape: tuple) -> np.ndarray:
    """New keys of shape ``keys.shape[:-1] + shape + (2,)``."""
    b1, b2 = _hash_iota(keys, shape)
    return np.stack([b1, b2], axis=-1)


def fold_in(keys: np.ndarray, data: np.ndarray) -> np.ndarray:
    """The keys hashed with the ``uint32`` data (broadcasting together) as the
    counter pair ``(0, data)``."""
    keys, data = np.asarray(keys, _U32), np.asarray(data, _U32)
    b1, b2 = threefry2x32(keys[..., 0], keys[..., 1], np.zeros_like(data), data)
    return np.stack([b1, b2], axis=-1)


def random_bits(keys: np.ndarray, bit_width: int, shape: tuple) -> np.ndarray:
    """Uniform bits of ``bit_width`` (8, 16, 32 or 64) in an array of shape
    ``keys.shape[:-1] + shape``: the two hash words xor'd (or, for 64 bits,
    side by side), as JAX."""
    b1, b2 = _hash_iota(keys, shape)
    if bit_width == 64:
        return (b1.astype(_U64) << _U64(32)) | b2
    out = b1 ^ b2
    return out if bit_width == 32 else out.astype(UINT[bit_width])


def unit_floats(keys: np.ndarray, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """Floats in ``[0, 1)`` of ``dtype``: random mantissa bits under the exponent
    of 1, minus 1 (JAX's construction, so float32 draws use 32 bits)."""
    info = np.finfo(dtype)
    nbits, nmant = info.bits, info.nmant
    width = max(nbits, 8)
    b = random_bits(keys, width, shape).astype(UINT[nbits], copy=False)
    one = np.array(1.0, dtype).view(UINT[nbits])
    out = ((b >> UINT[nbits].type(width - nmant)) | one).view(dtype) - dtype.type(1.0)
    return out


def scaled(u: np.ndarray, low: float, high: float) -> np.ndarray:
    """``max(low, u * (high - low) + low)`` in ``u``'s dtype, as JAX's ``uniform``."""
    t = u.dtype.type
    return np.maximum(t(low), u * (t(high) - t(low)) + t(low))


# ----- XLA's formulas for log1p and erf_inv ------------------------------------------------
# log1p: for |x| < sqrt(2) - 1 a Cephes rational approximation, else log(1 + x).
_LOG1P_P = (4.5270000862445199635215e-5, 4.9854102823193375972212e-1, 6.5787325942061044846969,
            2.9911919328553073277375e1, 6.0949667980987787057556e1, 5.7112963590585538103336e1,
            2.0039553499201281259648e1)
_LOG1P_Q = (1.0, 1.5062909083469192043167e1, 8.3047565967967209469434e1,
            2.2176239823732856465394e2, 3.0909872225312059774938e2,
            2.1642788614495947685003e2, 6.0118660497603843919306e1)


def _horner(coefficients: tuple, x: np.ndarray) -> np.ndarray:
    t = x.dtype.type
    p = np.full_like(x, t(coefficients[0]))
    for c in coefficients[1:]:
        p *= x
        p += t(c)
    return p


def log1p(x: np.ndarray) -> np.ndarray:
    """``log(1 + x)`` by XLA's CPU formula in float64 (NumPy's own in float32)."""
    if x.dtype != np.float64:
        return np.log1p(x)
    small = np.abs(x) < 0.41421356237309504880
    out = np.log(1.0 + x)
    xs = x[small]
    x2 = xs * xs
    out[small] = xs + (-0.5 * x2 + (xs * x2) * (_horner(_LOG1P_P, xs) / _horner(_LOG1P_Q, xs)))
    return out


# erf_inv: Giles (2010), "Approximating the erfinv function": a polynomial in
# w - 3.125 for w = -log1p(-x^2) < 6.25, in sqrt(w) - 3.25 for w < 16, else in
# sqrt(w) - 5 (float64); in w - 2.5 for w < 5, else sqrt(w) - 3 (float32).
_ERFINV64 = (
    (6.25, lambda w: w - 3.125,
     (-3.6444120640178196996e-21, -1.685059138182016589e-19, 1.2858480715256400167e-18,
      1.115787767802518096e-17, -1.333171662854620906e-16, 2.0972767875968561637e-17,
      6.6376381343583238325e-15, -4.0545662729752068639e-14, -8.1519341976054721522e-14,
      2.6335093153082322977e-12, -1.2975133253453532498e-11, -5.4154120542946279317e-11,
      1.051212273321532285e-09, -4.1126339803469836976e-09, -2.9070369957882005086e-08,
      4.2347877827932403518e-07, -1.3654692000834678645e-06, -1.3882523362786468719e-05,
      0.0001867342080340571352, -0.00074070253416626697512, -0.0060336708714301490533,
      0.24015818242558961693, 1.6536545626831027356)),
    (16.0, lambda w: np.sqrt(w) - 3.25,
     (2.2137376921775787049e-09, 9.0756561938885390979e-08, -2.7517406297064545428e-07,
      1.8239629214389227755e-08, 1.5027403968909827627e-06, -4.013867526981545969e-06,
      2.9234449089955446044e-06, 1.2475304481671778723e-05, -4.7318229009055733981e-05,
      6.8284851459573175448e-05, 2.4031110387097893999e-05, -0.0003550375203628474796,
      0.00095328937973738049703, -0.0016882755560235047313, 0.0024914420961078508066,
      -0.0037512085075692412107, 0.005370914553590063617, 1.0052589676941592334,
      3.0838856104922207635)),
    (np.inf, lambda w: np.sqrt(w) - 5.0,
     (-2.7109920616438573243e-11, -2.5556418169965252055e-10, 1.5076572693500548083e-09,
      -3.7894654401267369937e-09, 7.6157012080783393804e-09, -1.4960026627149240478e-08,
      2.9147953450901080826e-08, -6.7711997758452339498e-08, 2.2900482228026654717e-07,
      -9.9298272942317002539e-07, 4.5260625972231537039e-06, -1.9681778105531670567e-05,
      7.5995277030017761139e-05, -0.00021503011930044477347, -0.00013871931833623122026,
      1.0103004648645343977, 4.8499064014085844221)),
)
_ERFINV32 = (
    (5.0, lambda w: w - np.float32(2.5),
     (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
      -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)),
    (np.inf, lambda w: np.sqrt(w) - np.float32(3.0),
     (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
      -0.0076224613, 0.00943887047, 1.00167406, 2.83297682)),
)


def erf_inv(x: np.ndarray) -> np.ndarray:
    """XLA's inverse error function on ``x`` in ``[-1, 1]`` (float64 or float32)."""
    regions = _ERFINV64 if x.dtype == np.float64 else _ERFINV32
    with np.errstate(divide="ignore", invalid="ignore"):
        w = -log1p(-x * x)
        p = np.empty_like(x)
        below = np.zeros(x.shape, bool)
        for bound, shift, coefficients in regions:
            here = ~below & (w < bound) if bound != np.inf else ~below
            if here.all():                      # the usual case: no masking needed
                p = _horner(coefficients, shift(w))
            elif here.any():
                p[here] = _horner(coefficients, shift(w[here]))
            below |= here
        out = p * x
    edge = np.abs(x) == 1.0
    if edge.any():
        out[edge] = x[edge] * np.inf
    return out


def standard(dist: str, keys: np.ndarray, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """A standard distribution's samples from JAX's formula on its uniform draws."""
    full = np.asarray(keys).shape[:-1] + tuple(shape)
    # Worked on flat (NumPy turns 0-d results into scalars, which take no masked
    # stores), in cache-sized chunks.
    u = unit_floats(keys, shape, dtype).reshape(-1)
    if dist == "uniform":
        return u.reshape(full)
    if u.size <= CHUNK:
        return np.asarray(_standard(dist, u, dtype)).reshape(full)
    out = np.empty_like(u)
    for start in range(0, u.size, CHUNK):
        part = slice(start, start + CHUNK)
        out[part] = _standard(dist, u[part], dtype)
    return out.reshape(full)


def _standard(dist: str, u: np.ndarray, dtype: np.dtype) -> np.ndarray:
    t = dtype.type
    info = np.finfo(dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        if dist == "uniform":
            return u
        if dist == "normal":
            lo = np.nextafter(t(-1.0), t(0.0))
            v = scaled(u, lo, 1.0)
            # Half precision: the inverse in float32, as XLA upcasts it.
            v = erf_inv(v) if dtype.itemsize >= 4 else erf_inv(v.astype(np.float32)).astype(dtype)
            return np.sqrt(t(2.0)) * v
        if dist == "exponential":
            return -log1p(-u)
        if dist == "gumbel":
            return -np.log(-np.log(scaled(u, info.tiny, 1.0)))
        if dist == "laplace":
            v = scaled(u, -1.0 + info.epsneg, 1.0)
            return np.sign(v) * log1p(-np.abs(v))
        if dist == "logistic":
            v = scaled(u, info.tiny, 1.0)
            return np.log(v) - log1p(-v)
        if dist == "cauchy":
            v = scaled(u, info.eps, 1.0)
            return np.tan(t(np.pi) * (v - t(0.5)))
    raise ValueError(f"nanojax.random: unknown distribution {dist!r}")


def randint(keys: np.ndarray, low: np.ndarray, high: np.ndarray, high_out_of_range: np.ndarray,
            shape: tuple, dtype: np.dtype) -> np.ndarray:
    """JAX's ``randint``: two words of bits per value reduced modulo the span
    (``low``/``high`` already clipped to ``dtype``, ``high_out_of_range`` where
    the caller's maxval was above ``dtype``'s range)."""
    nbits = dtype.itemsize * 8
    udtype = UINT[nbits]
    k = split(keys, (2,))
    higher = random_bits(k[..., 0, :], nbits, shape)
    lower = random_bits(k[..., 1, :], nbits, shape)
    with np.errstate(over="ignore"):
        span = (high.astype(dtype) - low.astype(dtype)).astype(udtype)
        span = np.where(high <= low, udtype.type(1), span)
        span = np.where(high_out_of_range & (high > low), span + udtype.type(1), span)
        # 2**nbits % span from (2**(nbits/2) % span)**2 % span, without overflow; a
        # span of 0 (the whole range) takes the low word as it is (XLA's x % 0 = x).
        safe = np.where(span == 0, udtype.type(1), span)
        multiplier = udtype.type(2 ** (nbits // 2)) % safe
        multiplier = (multiplier * multiplier) % safe
        offset = (higher % safe) * multiplier + lower % safe
        offset = np.where(span == 0, lower, offset % safe)
        return np.asarray(low.astype(dtype) + offset.astype(dtype), dtype)
