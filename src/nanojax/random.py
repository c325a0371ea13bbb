"""Pure random numbers: a key in, numbers out, nothing hidden.

A key is a plain ``uint32`` array of shape ``(2,)``. The same key always
gives the same numbers; to get fresh numbers, ``split`` a key into new keys
and use each once. The engine is NumPy's Philox, a counter-based generator
(well studied, and the same on every platform for a given NumPy version).

Sampling, ``split`` and ``fold_in`` are primitives whose operand is the key,
so they work under ``jit`` (the key is a run-time input, not a baked-in
constant) and ``vmap`` (over a batch of keys). They have no gradient.

Examples:
    >>> import nanojax as nj
    >>> k = nj.random.key(0)
    >>> k1, k2 = nj.random.split(k)
    >>> a = nj.random.normal(k1, (3,))
    >>> bool((a == nj.random.normal(k1, (3,))).all())   # same key, same numbers
    True
    >>> bool((a == nj.random.normal(k2, (3,))).any())   # another key, others
    False
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax import primitives as P
from nanojax.core import PerPrimitive, Primitive, ShapedArray, Tracer

__all__ = ["key", "PRNGKey", "split", "fold_in", "normal", "uniform", "randint",
           "permutation", "bernoulli", "choice"]

_KEY_DTYPE = np.dtype(np.uint32)
# Separate streams for the separate uses of one key (Philox's 128-bit key
# holds the user's 64 bits and a purpose), so a key's samples and the keys
# split from it never share bits.
_SAMPLE, _SPLIT, _FOLD = 0, 1, 2


def key(seed: int) -> np.ndarray:
    """A key made from an integer seed: ``[high 32 bits, low 32 bits]``.

    >>> key(42)
    array([ 0, 42], dtype=uint32)
    """
    if isinstance(seed, Tracer) or not isinstance(seed, (int, np.integer)) or isinstance(
            seed, (bool, np.bool_)):
        raise TypeError(f"nanojax.random.key: the seed must be a Python or NumPy integer, got "
                        f"{type(seed).__name__}")
    seed = int(seed) & 0xFFFFFFFFFFFFFFFF
    return np.array([seed >> 32, seed & 0xFFFFFFFF], dtype=_KEY_DTYPE)


PRNGKey = key


def _generator(k: np.ndarray, purpose: int, counter: int = 0) -> np.random.Generator:
    seed64 = (int(k[0]) << 32) | int(k[1])
    return np.random.Generator(np.random.Philox(key=(seed64 << 64) | purpose,
                                                counter=counter))


def _check_key_aval(k: ShapedArray, fn: str) -> None:
    if k.shape != (2,) or k.dtype != _KEY_DTYPE:
        raise TypeError(f"nanojax.random.{fn}: expected a key (uint32 array of shape (2,), from "
                        f"nj.random.key(seed) or split), got {k.str_short()}")


def _loop_over_keys(prim: Primitive) -> Callable[..., Any]:
    """Batch rule: each key is its own stream, so each batch member is drawn
    from its own generator (a loop over keys is inherent here: Philox streams
    cannot be advanced for many keys at once through NumPy's API)."""
    def rule(size, vals, dims, **params):
        # fold_in's data may be batched too, so every batched operand is sliced.
        vals = [v if d is None else P.move_to_front(v, d, size) for v, d in zip(vals, dims)]
        return jnp.stack([prim.bind(*(v if d is None else v[i] for v, d in zip(vals, dims)),
                                    **params) for i in range(size)]), 0
    return rule


def _random_primitive(name: str, impl: Callable[..., Any],
                      abstract_eval: Callable[..., ShapedArray]) -> Primitive:
    # Samples and keys are new arrays: no aliasing.
    return P._register(Primitive(name, impl, abstract_eval, differentiable=False,
                                 batch=PerPrimitive(_loop_over_keys), may_alias=False))


# ----- The primitives -------------------------------------------------------------

def _sample_impl(k: Any, *, dist: str, shape: tuple, dtype: np.dtype, low: Any,
                 high: Any) -> np.ndarray:
    gen = _generator(np.asarray(k), _SAMPLE)
    if dist == "normal":
        out = gen.standard_normal(shape, dtype=np.float64)
    elif dist == "uniform":
        out = gen.random(shape, dtype=np.float64)
    elif dist == "randint":
        return gen.integers(low, high, size=shape, dtype=dtype)
    else:                                    # permutation of range(low)
        return gen.permutation(low).astype(dtype)
    return out.astype(dtype) if dtype != np.float64 else out


def _sample_aval(k, *, dist, shape, dtype, low, high):
    _check_key_aval(k, dist)
    return ShapedArray(shape if dist != "permutation" else (low,), dtype)


random_sample_p = _random_primitive("random_sample", _sample_impl, _sample_aval)


def _split_impl(k, *, num):
    return _generator(np.asarray(k), _SPLIT).integers(
        0, 2 ** 32, size=(num, 2), dtype=np.uint32)


def _split_aval(k, *, num):
    _check_key_aval(k, "split")
    return ShapedArray((num, 2), _KEY_DTYPE)


random_split_p = _random_primitive("random_split", _split_impl, _split_aval)


def _fold_in_impl(k, data):
    data = int(np.asarray(data)) & 0xFFFFFFFFFFFFFFFF
    return _generator(np.asarray(k), _FOLD, counter=data).integers(
        0, 2 ** 32, size=2, dtype=np.uint32)


def _fold_in_aval(k, data):
    _check_key_aval(k, "fold_in")
    if data.shape != () or data.dtype.kind not in "iu":
        raise TypeError(f"nanojax.random.fold_in: data must be an integer scalar, got "
                        f"{data.str_short()}")
    return ShapedArray((2,), _KEY_DTYPE)


random_fold_in_p = _random_primitive("random_fold_in", _fold_in_impl, _fold_in_aval)


# ----- The public functions ----------------------------------------------------------

def _shape(shape: Any, fn: str) -> tuple[int, ...]:
    if shape is None:
        return ()
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"nanojax.random.{fn}: shape must be an int or a tuple of ints, "
                        f"got {shape!r}") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"nanojax.random.{fn}: negative dimension in shape {shape}")
    return shape


def _key_operand(k: Any, fn: str) -> Any:
    if isinstance(k, Tracer):
        return k
    arr = np.asarray(k)
    _check_key_aval(ShapedArray(arr.shape, arr.dtype), fn)
    return arr


def _float_dtype(dtype: Any, fn: str) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"nanojax.random.{fn}: dtype must be a float type, got {dtype}")
    return dtype


def split(key: Any, num: int = 2) -> Any:
    """``num`` new keys, as an array of shape ``(num, 2)``; iterate to unpack."""
    if not isinstance(num, (int, np.integer)) or num < 1:
        raise ValueError(f"nanojax.random.split: num must be a positive integer, got {num!r}")
    return random_split_p.bind(_key_operand(key, "split"), num=int(num))


def fold_in(key: Any, data: Any) -> Any:
    """A new key made from ``key`` and an integer (a step number, say)."""
    data = data if isinstance(data, Tracer) else np.int64(data)
    return random_fold_in_p.bind(_key_operand(key, "fold_in"), data)


def normal(key: Any, shape: Any = (), dtype: Any = np.float64) -> Any:
    """Standard normal samples (mean 0, standard deviation 1)."""
    return random_sample_p.bind(_key_operand(key, "normal"), dist="normal",
                                shape=_shape(shape, "normal"),
                                dtype=_float_dtype(dtype, "normal"), low=None, high=None)


def uniform(key: Any, shape: Any = (), dtype: Any = np.float64, minval: Any = 0.0,
            maxval: Any = 1.0) -> Any:
    """Uniform samples in ``[minval, maxval)``."""
    unit = random_sample_p.bind(_key_operand(key, "uniform"), dist="uniform",
                                shape=_shape(shape, "uniform"),
                                dtype=_float_dtype(dtype, "uniform"), low=None, high=None)
    if isinstance(minval, (int, float)) and isinstance(maxval, (int, float)) and (
            minval, maxval) == (0.0, 1.0):
        return unit
    return jnp.add(jnp.multiply(unit, jnp.subtract(maxval, minval)), minval)


def randint(key: Any, shape: Any, minval: int, maxval: int, dtype: Any = np.int64) -> Any:
    """Integers in ``[minval, maxval)``."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "iu":
        raise TypeError(f"nanojax.random.randint: dtype must be an integer type, got {dtype}")
    for bound in (minval, maxval):
        if isinstance(bound, (Tracer, bool)) or not isinstance(bound, (int, np.integer)):
            raise TypeError("nanojax.random.randint: minval and maxval must be concrete "
                            f"integers, got {type(bound).__name__} ({bound!r:.30})")
    if not int(minval) < int(maxval):
        raise ValueError(f"nanojax.random.randint: need minval < maxval, got {minval} and {maxval}")
    return random_sample_p.bind(_key_operand(key, "randint"), dist="randint",
                                shape=_shape(shape, "randint"), dtype=dtype,
                                low=int(minval), high=int(maxval))


def permutation(key: Any, x: Any, axis: int = 0) -> Any:
    """A shuffled ``range(x)`` for an int ``x``, else ``x`` shuffled along ``axis``."""
    if isinstance(x, (int, np.integer)):
        if x < 0:
            raise ValueError(f"nanojax.random.permutation: need a non-negative int, got {x}")
        return random_sample_p.bind(_key_operand(key, "permutation"), dist="permutation",
                                    shape=(int(x),), dtype=np.dtype(np.int64), low=int(x),
                                    high=None)
    n = jnp.shape(x)[axis]
    order = permutation(key, n)
    index = (slice(None),) * (axis % max(jnp.ndim(x), 1)) + (order,)
    return jnp.getitem(x, index)


def bernoulli(key: Any, p: Any = 0.5, shape: Any = None) -> Any:
    """Booleans that are True with probability ``p`` (shape: ``p``'s by default)."""
    shape = jnp.shape(p) if shape is None else _shape(shape, "bernoulli")
    return jnp.less(uniform(key, shape), p)


def choice(key: Any, a: Any, shape: Sequence[int] = (), replace: bool = True,
           p: Any = None) -> Any:
    """Samples from ``range(a)`` (an int) or from the rows of array ``a``.

    With ``p``, element i is drawn with probability ``p[i]``; without
    ``replace``, no element is drawn twice.
    """
    n = int(a) if isinstance(a, (int, np.integer)) else jnp.shape(a)[0]
    shape = _shape(shape, "choice")
    count = int(np.prod(shape, dtype=np.int64))
    if not replace and count > n:
        raise ValueError(f"nanojax.random.choice: cannot take {count} samples from {n} "
                         "without replacement")
    if p is not None and isinstance(key, Tracer):
        raise TypeError("nanojax.random.choice with probabilities p needs a concrete key: "
                        "call it outside jit/vmap, or draw with uniform and compare")
    if p is None:
        if replace:
            idx = randint(key, shape, 0, n)
        else:
            idx = jnp.reshape(jnp.getitem(permutation(key, n), slice(0, count)), shape)
    else:
        probs = np.asarray(p if not isinstance(p, Tracer) else p.to_concrete_value(
            "nanojax.random.choice's p"), dtype=np.float64)
        if probs.shape != (n,) or (probs < 0).any() or not np.isclose(probs.sum(), 1.0):
            raise ValueError(f"nanojax.random.choice: p must be {n} non-negative probabilities "
                             "summing to 1")
        if replace:
            cdf = np.cumsum(probs)
            u = np.asarray(uniform(key, shape))
            idx = np.minimum(np.searchsorted(cdf, u * cdf[-1], side="right"), n - 1)
        else:   # Gumbel top-k: the largest log p + Gumbel noise, without repeats
            g = -np.log(-np.log(np.asarray(uniform(key, (n,)))))
            with np.errstate(divide="ignore"):
                scores = np.log(probs) + g
            idx = np.argsort(-scores)[:count].reshape(shape)
    if isinstance(a, (int, np.integer)):
        return idx
    return jnp.getitem(a, idx)
