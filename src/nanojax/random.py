"""Pure random numbers, as ``jax.random``: a key in, numbers out, nothing hidden.

A key is a plain ``uint32`` array of shape ``(2,)`` (JAX's legacy
``PRNGKey`` form, which ``key`` also returns here). The same key always
gives the same numbers; to get fresh numbers, ``split`` a key into new keys
and use each once. The engine is NumPy's Philox, a counter-based generator
(well studied, and the same on every platform for a given NumPy version).

Sampling, ``split``, ``fold_in`` and making a key from a seed are primitives
whose operand is the key (or seed), so they work under ``jit`` (the key is a
run-time input, not a baked-in constant) and ``vmap`` (over a batch of keys).
The other distributions are written on them with ``jnp``, so they trace,
batch and stage for free; ``gamma`` (and what is built on it: ``beta``,
``dirichlet``, ``chisquare``, ``t``, ``f``, ...) has JAX's implicit
reparameterization gradient with respect to its shape parameter.

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

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from nanojax.api_util import public_dir

import nanojax.numpy as jnp
from nanojax import lax
from nanojax import primitives as P
from nanojax.core import PerPrimitive, Primitive, ShapedArray, Tracer

__all__ = ["PRNGKey", "ball", "bernoulli", "beta", "binomial", "bits", "categorical", "cauchy",
           "chisquare", "choice", "clone", "dirichlet", "double_sided_maxwell", "exponential",
           "f", "fold_in", "gamma", "generalized_normal", "geometric", "gumbel", "key",
           "key_data", "key_impl", "laplace", "loggamma", "logistic", "lognormal", "maxwell",
           "multinomial", "multivariate_normal", "normal", "orthogonal", "pareto",
           "permutation", "poisson", "rademacher", "randint", "rayleigh", "split", "t",
           "triangular", "truncated_normal", "uniform", "wald", "weibull_min",
           "wrap_key_data"]

_KEY_DTYPE = np.dtype(np.uint32)
# Separate streams for the separate uses of one key (Philox's 128-bit key
# holds the user's 64 bits and a purpose), so a key's samples and the keys
# split from it never share bits.
_SAMPLE, _SPLIT, _FOLD = 0, 1, 2


def key(seed: Any, *, impl: Any = None) -> Any:
    """A key made from an integer seed: ``[high 32 bits, low 32 bits]``.

    The seed may be a traced integer (under ``jit`` or ``vmap``); negative
    seeds wrap as 64-bit two's complement.

    >>> key(42)
    array([ 0, 42], dtype=uint32)
    """
    _check_impl(impl, "key")
    if isinstance(seed, Tracer):
        aval = seed.aval
        if aval.shape != () or aval.dtype.kind not in "iu":
            raise TypeError("nanojax.random.key: the seed must be an integer scalar, got "
                            f"{aval.str_short()}; use vmap for a batch of seeds")
        return random_seed_p.bind(seed)
    if isinstance(seed, np.ndarray) and seed.shape == () and seed.dtype.kind in "iu":
        seed = seed[()]
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, (bool, np.bool_)):
        raise TypeError(f"nanojax.random.key: the seed must be a Python or NumPy integer, got "
                        f"{type(seed).__name__}")
    seed = int(seed) & 0xFFFFFFFFFFFFFFFF
    return np.array([seed >> 32, seed & 0xFFFFFFFF], dtype=_KEY_DTYPE)


def PRNGKey(seed: Any, *, impl: Any = None) -> Any:
    """The same as ``key``: keys here are always ``uint32[2]`` arrays."""
    _check_impl(impl, "PRNGKey")
    return key(seed)


_IMPL = "philox"


def _check_impl(impl: Any, fn: str) -> None:
    if impl is not None and impl != _IMPL:
        raise ValueError(f"nanojax.random.{fn}: the only PRNG implementation is "
                         f"{_IMPL!r} (NumPy's Philox), got impl={impl!r}")


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
    elif dist == "bits":                     # every value of an unsigned dtype
        return gen.integers(0, np.iinfo(dtype).max, size=shape, dtype=dtype, endpoint=True)
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




def _seed_impl(seed):
    # Two's complement wrap to 64 bits, then the two 32-bit halves: the same
    # key as the eager path, for any integer dtype and any batch of seeds.
    s = np.asarray(seed)
    s = s.astype(np.int64).astype(np.uint64) if s.dtype.kind == "i" else s.astype(np.uint64)
    return np.stack([(s >> np.uint64(32)).astype(np.uint32),
                     (s & np.uint64(0xFFFFFFFF)).astype(np.uint32)], axis=-1)


def _seed_aval(seed):
    if seed.dtype.kind not in "iu":
        raise TypeError(f"nanojax.random.key: the seed must be an integer, got "
                        f"{seed.str_short()}")
    return ShapedArray(seed.shape + (2,), _KEY_DTYPE)


def _seed_batch(size, vals, dims):
    # Elementwise in the seeds: a batch of seeds is one call, no loop.
    return random_seed_p.bind(P.move_to_front(vals[0], dims[0], size)), 0


random_seed_p = P._register(Primitive("random_seed", _seed_impl, _seed_aval,
                                      differentiable=False, batch=_seed_batch,
                                      may_alias=False))


# A draw from one of NumPy's Generator methods whose parameters are arrays
# (poisson's rate, binomial's n and p, ...): the operands are the key and the
# parameters, already broadcast to ``shape`` by the public function (or, for
# multinomial, to ``shape`` plus the categories).

def _draw_impl(k, *params, method, shape, dtype):
    gen = _generator(np.asarray(k), _SAMPLE)
    arrays = [np.asarray(p) for p in params]
    if method == "integers":
        return gen.integers(arrays[0], arrays[1], size=shape, dtype=dtype)
    return getattr(gen, method)(*arrays, size=shape).astype(dtype, copy=False)


def _draw_aval(k, *params, method, shape, dtype):
    _check_key_aval(k, method)
    core = params[1].shape[-1:] if method == "multinomial" else ()
    return ShapedArray(shape + core, dtype)


random_draw_p = _random_primitive("random_draw", _draw_impl, _draw_aval)


# ----- gamma, with JAX's implicit reparameterization gradient ------------------------
# A sample x = F^-1(u; a) of the gamma CDF F moves with a as dx/da =
# -(dF/da) / (dF/dx) at fixed u. With the series F(x; a) = sum_n x^(a+n) e^-x /
# Gamma(a+n+1), the ratio is -sum_n r_n (log x - digamma(a+n+1)), where
# r_n = x^(n+1) / (a (a+1) ... (a+n)). The terms grow while a+n < x, so the
# sum carries rounding of about 1e-16 times its largest term: relative 1e-8 in
# the far tails, far better where the samples are.

def _gamma_impl(k, a, *, dtype):
    out = _generator(np.asarray(k), _SAMPLE).standard_gamma(np.asarray(a, np.float64))
    return np.asarray(out, dtype)


def _gamma_aval(k, a, *, dtype):
    _check_key_aval(k, "gamma")
    return ShapedArray(a.shape, dtype)


def _gamma_grad_impl(a, x):
    from nanojax.primitives.special import _digamma
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    out = np.zeros(a.shape)
    live = (x > 0) & (a > 0) & np.isfinite(x) & np.isfinite(a)
    a_, x_ = a[live], x[live]
    with np.errstate(divide="ignore", invalid="ignore"):   # digamma's unused branches
        psi = _digamma(a_)
    log_x = np.log(x_)
    r, total = np.ones_like(x_), np.zeros_like(x_)
    going = np.ones(x_.shape, bool)
    n = 0
    while going.any() and n < 1_000_000:
        r = r * x_ / (a_ + n)
        psi = psi + 1.0 / (a_ + n)                 # digamma(a + n + 1)
        term = r * (log_x - psi)
        total = total + np.where(going, term, 0.0)
        # Done once the terms shrink (ratio x / (a + n) below 1) and their
        # geometric remainder, term * ratio / (1 - ratio), is negligible.
        ratio = x_ / (a_ + n + 1)
        going = going & ~((ratio < 1) & (np.abs(term) * ratio <= 1e-17 * (1 - ratio)
                                         * np.abs(total)))
        n += 1
    out[live] = -total
    return out.astype(np.result_type(a.dtype, x.dtype), copy=False)


random_gamma_grad_p = P._register(Primitive(
    "random_gamma_grad", _gamma_grad_impl, lambda a, x: ShapedArray(
        np.broadcast_shapes(a.shape, x.shape), np.result_type(a.dtype, x.dtype)),
    batch=PerPrimitive(P.batch_elementwise), may_alias=False))
# No derivative of its own (JAX's has none either): a second derivative of a
# gamma sample raises "has no vjp rule" rather than giving a wrong zero.


def _gamma_jvp(primals, tangents, ans, *, dtype):
    if tangents[1] is None:
        return None
    return tangents[1] * random_gamma_grad_p.bind(primals[1], ans)


random_gamma_p = P._register(Primitive(
    "random_gamma", _gamma_impl, _gamma_aval, jvp=_gamma_jvp,
    vjp_args=(lambda g, ans, k, a, **_: None,
              lambda g, ans, k, a, **_: g * random_gamma_grad_p.bind(a, ans)),
    batch=PerPrimitive(_loop_over_keys), may_alias=False))


# ----- Keys --------------------------------------------------------------------------

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


def _keys_operand(keys: Any, fn: str) -> Any:
    """Any array of keys: ``uint32`` with a trailing axis of 2."""
    shape, dtype = P.shape_of(keys), P.dtype_of(keys)
    if not isinstance(keys, Tracer):
        keys = np.asarray(keys)
        shape, dtype = keys.shape, keys.dtype
    if shape[-1:] != (2,) or dtype != _KEY_DTYPE:
        raise TypeError(f"nanojax.random.{fn}: expected keys (a uint32 array whose last axis "
                        f"has size 2), got {ShapedArray(tuple(shape), dtype).str_short()}")
    return keys


def _float_dtype(dtype: Any, fn: str) -> np.dtype:
    dtype = np.dtype(np.float64 if dtype is None else dtype)
    if dtype.kind != "f":
        raise TypeError(f"nanojax.random.{fn}: dtype must be a float type, got {dtype}")
    return dtype


def _int_dtype(dtype: Any, fn: str) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype.kind not in "iu":
        raise TypeError(f"nanojax.random.{fn}: dtype must be an integer type, got {dtype}")
    return dtype


def split(key: Any, num: Any = 2) -> Any:
    """New keys: ``num`` of them (shape ``(num, 2)``), or an array of shape ``num + (2,)``
    for a tuple ``num``; iterate to unpack."""
    if isinstance(num, (tuple, list)):
        shape = _shape(num, "split")
        count = math.prod(shape)
        if count == 0:
            return np.zeros(shape + (2,), _KEY_DTYPE)
        keys = random_split_p.bind(_key_operand(key, "split"), num=count)
        return jnp.reshape(keys, shape + (2,))
    if isinstance(num, (bool, np.bool_)) or not isinstance(num, (int, np.integer)) or num < 1:
        raise ValueError(f"nanojax.random.split: num must be a positive integer or a tuple "
                         f"of them, got {num!r}")
    return random_split_p.bind(_key_operand(key, "split"), num=int(num))


def fold_in(key: Any, data: Any) -> Any:
    """A new key made from ``key`` and an integer (a step number, say)."""
    data = data if isinstance(data, Tracer) else np.int64(data)
    return random_fold_in_p.bind(_key_operand(key, "fold_in"), data)


def key_data(keys: Any) -> Any:
    """The ``uint32`` bits of ``keys``: keys here are their bits, so this is the identity."""
    return _keys_operand(keys, "key_data")


def wrap_key_data(key_bits_array: Any, *, impl: Any = None) -> Any:
    """Keys from their ``uint32`` bits (last axis of size 2): the identity here."""
    _check_impl(impl, "wrap_key_data")
    return _keys_operand(key_bits_array, "wrap_key_data")


def key_impl(keys: Any) -> str:
    """The name of the PRNG implementation of ``keys``: always ``'philox'``."""
    _keys_operand(keys, "key_impl")
    return _IMPL


def clone(key: Any) -> Any:
    """``key`` itself (keys are immutable values here, so there is nothing to copy)."""
    return _keys_operand(key, "clone")


# ----- The basic samplers --------------------------------------------------------------

def _unit(key: Any, shape: tuple, dtype: np.dtype, fn: str) -> Any:
    """Uniform samples in [0, 1)."""
    return random_sample_p.bind(_key_operand(key, fn), dist="uniform", shape=shape,
                                dtype=dtype, low=None, high=None)


def _open_unit(key: Any, shape: tuple, dtype: np.dtype, fn: str) -> Any:
    """Uniform samples in (0, 1): the smallest normal number stands in for 0, as JAX."""
    return jnp.maximum(_unit(key, shape, dtype, fn), np.finfo(dtype).tiny)


def _standard_normal(key: Any, shape: tuple, dtype: np.dtype, fn: str) -> Any:
    return random_sample_p.bind(_key_operand(key, fn), dist="normal", shape=shape,
                                dtype=dtype, low=None, high=None)


def bits(key: Any, shape: Any = (), dtype: Any = None) -> Any:
    """Uniformly random unsigned integers (every bit pattern equally likely)."""
    dtype = np.dtype(np.uint32 if dtype is None else dtype)
    if dtype.kind != "u":
        raise TypeError(f"nanojax.random.bits: dtype must be an unsigned integer type, got "
                        f"{dtype}")
    return random_sample_p.bind(_key_operand(key, "bits"), dist="bits",
                                shape=_shape(shape, "bits"), dtype=dtype, low=None, high=None)


def normal(key: Any, shape: Any = (), dtype: Any = np.float64) -> Any:
    """Standard normal samples (mean 0, standard deviation 1)."""
    return _standard_normal(key, _shape(shape, "normal"), _float_dtype(dtype, "normal"),
                            "normal")


def uniform(key: Any, shape: Any = (), dtype: Any = np.float64, minval: Any = 0.0,
            maxval: Any = 1.0) -> Any:
    """Uniform samples in ``[minval, maxval)`` (bounds may be arrays broadcasting to
    ``shape``)."""
    dtype = _float_dtype(dtype, "uniform")
    unit = _unit(key, _shape(shape, "uniform"), dtype, "uniform")
    if isinstance(minval, (int, float)) and isinstance(maxval, (int, float)) and (
            minval, maxval) == (0.0, 1.0):
        return unit
    out = jnp.add(jnp.multiply(unit, jnp.subtract(maxval, minval)), minval)
    return jnp.astype(jnp.maximum(out, minval), dtype)


def _concrete_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def randint(key: Any, shape: Any, minval: Any, maxval: Any, dtype: Any = np.int64) -> Any:
    """Integers in ``[minval, maxval)``; the bounds may be arrays broadcasting to
    ``shape``, or traced (then, as JAX, an empty range gives ``minval``)."""
    dtype = _int_dtype(dtype, "randint")
    shape = _shape(shape, "randint")
    if _concrete_int(minval) and _concrete_int(maxval):
        if not int(minval) < int(maxval):
            raise ValueError(f"nanojax.random.randint: need minval < maxval, got {minval} "
                             f"and {maxval}")
        return random_sample_p.bind(_key_operand(key, "randint"), dist="randint",
                                    shape=shape, dtype=dtype, low=int(minval),
                                    high=int(maxval))
    minval, maxval = _param(minval), _param(maxval)
    for bound in (minval, maxval):
        if P.dtype_of(bound).kind not in "iu":
            raise TypeError("nanojax.random.randint: minval and maxval must be integers, got "
                            f"{P.dtype_of(bound)}")
    info = np.iinfo(dtype)
    low = jnp.clip(jnp.astype(minval, np.int64), info.min, info.max)
    high = jnp.clip(jnp.astype(maxval, np.int64), info.min, info.max)
    _check_shape("randint", shape, low, high)
    high = jnp.maximum(high, low + 1)          # an empty range draws minval, as JAX
    low, high = jnp.broadcast_to(low, shape), jnp.broadcast_to(high, shape)
    out = random_draw_p.bind(_key_operand(key, "randint"), low, high, method="integers",
                             shape=shape, dtype=np.dtype(np.int64))
    return jnp.astype(jnp.minimum(out, info.max), dtype)


def _check_shape(fn: str, shape: tuple, *params: Any) -> None:
    """The parameters broadcast to ``shape`` exactly, as JAX requires."""
    shapes = [tuple(P.shape_of(p)) for p in params]
    try:
        together = np.broadcast_shapes(shape, *shapes)
    except ValueError:
        together = None
    if together != shape:
        raise ValueError(f"nanojax.random.{fn}: parameter shapes {shapes} must broadcast to "
                         f"the shape argument {shape}")


def _params_shape(fn: str, shape: Any, *params: Any) -> tuple[int, ...]:
    """``shape``, or the parameters' broadcast shape when it is None; checked."""
    if shape is None:
        try:
            return tuple(np.broadcast_shapes(*(tuple(P.shape_of(p)) for p in params)))
        except ValueError:
            raise ValueError(f"nanojax.random.{fn}: parameter shapes "
                             f"{[tuple(P.shape_of(p)) for p in params]} do not broadcast "
                             "together") from None
    shape = _shape(shape, fn)
    _check_shape(fn, shape, *params)
    return shape


def _param(x: Any) -> Any:
    """A distribution parameter as an array (lists and Python numbers included)."""
    return x if isinstance(x, (Tracer, np.ndarray)) else np.asarray(x)


def _as_float(x: Any, dtype: np.dtype) -> Any:
    x = _param(x)
    return jnp.astype(x, dtype) if P.dtype_of(x) != dtype else x


def bernoulli(key: Any, p: Any = 0.5, shape: Any = None) -> Any:
    """Booleans that are True with probability ``p`` (shape: ``p``'s by default)."""
    p = _param(p)
    shape = _params_shape("bernoulli", shape, p)
    return jnp.less(_unit(key, shape, np.dtype(np.float64), "bernoulli"), p)


def rademacher(key: Any, shape: Any = (), dtype: Any = np.int64) -> Any:
    """-1 or +1, each with probability 1/2."""
    dtype = np.dtype(dtype)
    signs = bernoulli(key, 0.5, _shape(shape, "rademacher"))
    return jnp.astype(jnp.where(signs, 1, -1), dtype)


def exponential(key: Any, shape: Any = (), dtype: Any = np.float64) -> Any:
    """Exponential samples with rate 1: ``-log(1 - u)``."""
    dtype = _float_dtype(dtype, "exponential")
    return -jnp.log1p(-_unit(key, _shape(shape, "exponential"), dtype, "exponential"))


def gumbel(key: Any, shape: Any = (), dtype: Any = np.float64, mode: Any = None) -> Any:
    """Standard Gumbel samples: ``-log(-log(u))``."""
    dtype = _float_dtype(dtype, "gumbel")
    return -jnp.log(-jnp.log(_open_unit(key, _shape(shape, "gumbel"), dtype, "gumbel")))


def laplace(key: Any, shape: Any = (), dtype: Any = np.float64) -> Any:
    """Standard Laplace samples (density ``exp(-|x|) / 2``)."""
    dtype = _float_dtype(dtype, "laplace")
    u = jnp.subtract(jnp.multiply(_unit(key, _shape(shape, "laplace"), dtype, "laplace"), 2.0),
                     1.0)
    u = jnp.maximum(u, np.nextafter(np.asarray(-1.0, dtype), np.asarray(0.0, dtype)))
    return jnp.astype(jnp.sign(u) * -jnp.log1p(-jnp.abs(u)), dtype)


def logistic(key: Any, shape: Any = (), dtype: Any = np.float64) -> Any:
    """Standard logistic samples: ``log(u / (1 - u))``."""
    dtype = _float_dtype(dtype, "logistic")
    u = _open_unit(key, _shape(shape, "logistic"), dtype, "logistic")
    return jnp.log(u) - jnp.log1p(-u)


def cauchy(key: Any, shape: Any = (), dtype: Any = np.float64) -> Any:
    """Standard Cauchy samples: ``tan(pi (u - 1/2))``."""
    dtype = _float_dtype(dtype, "cauchy")
    u = _open_unit(key, _shape(shape, "cauchy"), dtype, "cauchy")
    return jnp.tan(np.pi * (u - 0.5))


def lognormal(key: Any, sigma: Any = 1.0, shape: Any = None, dtype: Any = np.float64) -> Any:
    """``exp(sigma * z)`` for standard normal ``z``."""
    dtype = _float_dtype(dtype, "lognormal")
    shape = _params_shape("lognormal", shape, sigma)
    return jnp.exp(_standard_normal(key, shape, dtype, "lognormal") * _as_float(sigma, dtype))


def truncated_normal(key: Any, lower: Any, upper: Any, shape: Any = None,
                     dtype: Any = np.float64) -> Any:
    """Standard normal samples conditioned on ``lower < x < upper`` (inverse CDF method).

    Accurate while the interval holds a few orders of magnitude more than
    float64's rounding of the CDF (bounds within about +-8)."""
    dtype = _float_dtype(dtype, "truncated_normal")
    lower, upper = _as_float(lower, dtype), _as_float(upper, dtype)
    shape = _params_shape("truncated_normal", shape, lower, upper)
    root2 = math.sqrt(2.0)
    a, b = lax.erf(lower / root2), lax.erf(upper / root2)
    u = _unit(key, shape, dtype, "truncated_normal")
    out = root2 * lax.erf_inv(a + u * (b - a))
    # Rounding can land on (or just past) a bound: keep inside, strictly for
    # concrete bounds, as JAX.
    return jnp.astype(jnp.clip(out, _inward(lower, np.inf), _inward(upper, -np.inf)), dtype)


def _inward(bound: Any, toward: float) -> Any:
    if isinstance(bound, Tracer):
        return bound
    bound = np.asarray(bound)
    return np.where(np.isfinite(bound), np.nextafter(bound, np.asarray(toward, bound.dtype)),
                    bound)


def gamma(key: Any, a: Any, shape: Any = None, dtype: Any = np.float64) -> Any:
    """Gamma samples with shape ``a`` and scale 1 (mean ``a``), differentiable in ``a``
    (implicit reparameterization, as JAX)."""
    dtype = _float_dtype(dtype, "gamma")
    a = _as_float(a, dtype)
    shape = _params_shape("gamma", shape, a)
    return random_gamma_p.bind(_key_operand(key, "gamma"), jnp.broadcast_to(a, shape),
                               dtype=dtype)


def loggamma(key: Any, a: Any, shape: Any = None, dtype: Any = np.float64) -> Any:
    """``log`` of a gamma sample, accurate for small ``a`` too (where the sample itself
    underflows): ``log(gamma(a + 1)) + log(u) / a``."""
    dtype = _float_dtype(dtype, "loggamma")
    a = _as_float(a, dtype)
    shape = _params_shape("loggamma", shape, a)
    k1, k2 = split(key)
    return (jnp.log(gamma(k1, a + 1.0, shape, dtype))
            + jnp.log(_open_unit(k2, shape, dtype, "loggamma")) / a)


def beta(key: Any, a: Any, b: Any, shape: Any = None, dtype: Any = np.float64) -> Any:
    """Beta samples: ``X / (X + Y)`` for gammas ``X ~ G(a)``, ``Y ~ G(b)`` (in log space,
    so small parameters do not give 0/0)."""
    dtype = _float_dtype(dtype, "beta")
    a, b = _as_float(a, dtype), _as_float(b, dtype)
    shape = _params_shape("beta", shape, a, b)
    ka, kb = split(key)
    log_x, log_y = loggamma(ka, a, shape, dtype), loggamma(kb, b, shape, dtype)
    top = jnp.maximum(log_x, log_y)
    log_x, log_y = log_x - top, log_y - top
    return jnp.exp(log_x - jnp.log(jnp.exp(log_x) + jnp.exp(log_y)))


def dirichlet(key: Any, alpha: Any, shape: Any = None, dtype: Any = np.float64) -> Any:
    """Dirichlet samples: normalised gammas along the last axis of ``alpha``
    (result shape ``shape + alpha.shape[-1:]``)."""
    dtype = _float_dtype(dtype, "dirichlet")
    alpha = _as_float(alpha, dtype)
    if jnp.ndim(alpha) < 1:
        raise ValueError("nanojax.random.dirichlet: alpha must have at least one dimension "
                         "(the categories), got a scalar")
    batch = tuple(P.shape_of(alpha))[:-1]
    shape = _params_shape("dirichlet", shape, np.empty(batch))
    full = shape + tuple(P.shape_of(alpha))[-1:]
    log_g = loggamma(key, jnp.broadcast_to(alpha, full), full, dtype)
    # Normalised in log space: small alphas make gammas that underflow to 0.
    g = jnp.exp(log_g - jnp.stop_gradient(jnp.max(log_g, axis=-1, keepdims=True)))
    return g / jnp.sum(g, axis=-1, keepdims=True)


def chisquare(key: Any, df: Any, shape: Any = None, dtype: Any = np.float64) -> Any:
    """Chi-square samples with ``df`` degrees of freedom: ``2 gamma(df / 2)``."""
    dtype = _float_dtype(dtype, "chisquare")
    df = _as_float(df, dtype)
    shape = _params_shape("chisquare", shape, df)
    return 2.0 * gamma(key, df / 2.0, shape, dtype)


def f(key: Any, dfnum: Any, dfden: Any, shape: Any = None, dtype: Any = np.float64) -> Any:
    """F samples: a ratio of chi-squares, each divided by its degrees of freedom."""
    dtype = _float_dtype(dtype, "f")
    dfnum, dfden = _as_float(dfnum, dtype), _as_float(dfden, dtype)
    shape = _params_shape("f", shape, dfnum, dfden)
    k1, k2 = split(key)
    return (chisquare(k1, dfnum, shape, dtype) / dfnum) / (chisquare(k2, dfden, shape, dtype)
                                                           / dfden)


def t(key: Any, df: Any, shape: Any = (), dtype: Any = np.float64) -> Any:
    """Student's t samples: ``z * sqrt(df / chisquare(df))``."""
    dtype = _float_dtype(dtype, "t")
    df = _as_float(df, dtype)
    shape = _params_shape("t", shape, df)
    kn, kg = split(key)
    z = _standard_normal(kn, shape, dtype, "t")
    return z * jnp.sqrt(df / chisquare(kg, df, shape, dtype))


def generalized_normal(key: Any, p: Any, shape: Any = (), dtype: Any = np.float64) -> Any:
    """Samples with density proportional to ``exp(-|x|^p)``: ``p = 2`` is a normal with
    variance 1/2, ``p = 1`` a Laplace."""
    dtype = _float_dtype(dtype, "generalized_normal")
    p = _as_float(p, dtype)
    shape = _params_shape("generalized_normal", shape, p)
    kg, ks = split(key)
    g = gamma(kg, 1.0 / p, shape, dtype)
    return jnp.astype(rademacher(ks, shape), dtype) * g ** (1.0 / p)


def ball(key: Any, d: int, p: Any = 2, shape: Any = (), dtype: Any = np.float64) -> Any:
    """Uniform samples from the unit ``p``-norm ball in ``d`` dimensions (shape
    ``shape + (d,)``), by Barthe et al.'s generalized-normal construction."""
    dtype = _float_dtype(dtype, "ball")
    if not _concrete_int(d) or d < 1:
        raise ValueError(f"nanojax.random.ball: d must be a positive integer, got {d!r}")
    shape = _shape(shape, "ball")
    kg, ke = split(key)
    g = generalized_normal(kg, p, shape + (int(d),), dtype)
    e = exponential(ke, shape, dtype)
    return g / (jnp.sum(jnp.abs(g) ** p, axis=-1, keepdims=True)
                + jnp.expand_dims(e, -1)) ** (1.0 / p)


def maxwell(key: Any, shape: Any = (), dtype: Any = np.float64) -> Any:
    """Maxwell samples: the length of a 3-D standard normal vector."""
    dtype = _float_dtype(dtype, "maxwell")
    z = _standard_normal(key, _shape(shape, "maxwell") + (3,), dtype, "maxwell")
    return jnp.sqrt(jnp.sum(z * z, axis=-1))


def double_sided_maxwell(key: Any, loc: Any, scale: Any, shape: Any = (),
                         dtype: Any = np.float64) -> Any:
    """A Maxwell sample with a random sign, scaled by ``scale`` and shifted by ``loc``."""
    dtype = _float_dtype(dtype, "double_sided_maxwell")
    loc, scale = _as_float(loc, dtype), _as_float(scale, dtype)
    shape = _params_shape("double_sided_maxwell", shape, loc, scale)
    km, ks = split(key)
    signs = jnp.astype(rademacher(ks, shape), dtype)
    return maxwell(km, shape, dtype) * signs * scale + loc


def weibull_min(key: Any, scale: Any, concentration: Any, shape: Any = (),
                dtype: Any = np.float64) -> Any:
    """Weibull samples: ``scale * (-log(1 - u))^(1 / concentration)``."""
    dtype = _float_dtype(dtype, "weibull_min")
    scale, concentration = _as_float(scale, dtype), _as_float(concentration, dtype)
    shape = _params_shape("weibull_min", shape, scale, concentration)
    u = _unit(key, shape, dtype, "weibull_min")
    return (-jnp.log1p(-u)) ** (1.0 / _as_float(concentration, dtype)) * scale


def pareto(key: Any, b: Any, shape: Any = None, dtype: Any = np.float64) -> Any:
    """Pareto samples with shape ``b`` on ``[1, inf)``: ``exp(exponential / b)``."""
    dtype = _float_dtype(dtype, "pareto")
    b = _as_float(b, dtype)
    shape = _params_shape("pareto", shape, b)
    return jnp.exp(exponential(key, shape, dtype) / b)


def rayleigh(key: Any, scale: Any, shape: Any = None, dtype: Any = np.float64) -> Any:
    """Rayleigh samples: ``scale * sqrt(-2 log(u))``."""
    dtype = _float_dtype(dtype, "rayleigh")
    scale = _as_float(scale, dtype)
    shape = _params_shape("rayleigh", shape, scale)
    u = _open_unit(key, shape, dtype, "rayleigh")
    return jnp.sqrt(-2.0 * jnp.log(u)) * scale


def wald(key: Any, mean: Any, shape: Any = None, dtype: Any = np.float64) -> Any:
    """Wald (inverse Gaussian) samples with ``mean`` and shape 1 (Michael et al.)."""
    dtype = _float_dtype(dtype, "wald")
    mean = _as_float(mean, dtype)
    shape = _params_shape("wald", shape, mean)
    kn, ku = split(key)
    v = _standard_normal(kn, shape, dtype, "wald") ** 2
    y = mean + mean * mean * v / 2.0 - mean / 2.0 * jnp.sqrt(4.0 * mean * v
                                                                + mean * mean * v * v)
    u = _unit(ku, shape, dtype, "wald")
    return jnp.where(u <= mean / (mean + y), y, mean * mean / y)


def triangular(key: Any, left: Any, mode: Any, right: Any, shape: Any = None,
               dtype: Any = np.float64) -> Any:
    """Triangular samples on ``[left, right]`` peaking at ``mode`` (inverse CDF)."""
    dtype = _float_dtype(dtype, "triangular")
    left, mode, right = (_as_float(v, dtype) for v in (left, mode, right))
    shape = _params_shape("triangular", shape, left, mode, right)
    u = _unit(key, shape, dtype, "triangular")
    cut = (mode - left) / (right - left)
    return jnp.where(u < cut, left + jnp.sqrt(u * (right - left) * (mode - left)),
                     right - jnp.sqrt((1.0 - u) * (right - left) * (right - mode)))


def geometric(key: Any, p: Any, shape: Any = None, dtype: Any = np.int64) -> Any:
    """The number of Bernoulli(p) trials up to and including the first success (>= 1)."""
    dtype = _int_dtype(dtype, "geometric")
    p = _as_float(p, np.dtype(np.float64))
    shape = _params_shape("geometric", shape, p)
    u = _open_unit(key, shape, np.dtype(np.float64), "geometric")
    return jnp.astype(jnp.floor(jnp.log1p(-u) / jnp.log1p(-p)) + 1.0, dtype)


def poisson(key: Any, lam: Any, shape: Any = None, dtype: Any = np.int64) -> Any:
    """Poisson samples with rate ``lam`` (no gradient); a negative or NaN rate gives -1,
    as JAX."""
    dtype = _int_dtype(dtype, "poisson")
    lam = _as_float(lam, np.dtype(np.float64))
    shape = _params_shape("poisson", shape, lam)
    bad = jnp.logical_not(lam >= 0)
    rate = jnp.broadcast_to(jnp.where(bad, 0.0, lam), shape)
    out = random_draw_p.bind(_key_operand(key, "poisson"), jnp.stop_gradient(rate),
                             method="poisson", shape=shape, dtype=dtype)
    return jnp.where(bad, jnp.astype(-1, dtype), out)


def binomial(key: Any, n: Any, p: Any, shape: Any = None, dtype: Any = np.float64) -> Any:
    """The number of successes in ``n`` Bernoulli(``p``) trials (no gradient). As JAX,
    the default dtype is float; invalid ``n`` or ``p`` give NaN."""
    dtype = np.dtype(dtype)
    n, p = _as_float(n, np.dtype(np.float64)), _as_float(p, np.dtype(np.float64))
    shape = _params_shape("binomial", shape, n, p)
    bad = jnp.logical_not((n >= 0) & (p >= 0) & (p <= 1) & (jnp.floor(n) == n))
    trials = jnp.broadcast_to(jnp.astype(jnp.where(bad, 0.0, n), np.int64), shape)
    prob = jnp.broadcast_to(jnp.where(bad, 0.0, p), shape)
    out = random_draw_p.bind(_key_operand(key, "binomial"), trials, jnp.stop_gradient(prob),
                             method="binomial", shape=shape, dtype=np.dtype(np.int64))
    if dtype.kind == "f":
        return jnp.where(bad, np.nan, jnp.astype(out, dtype))
    return jnp.astype(out, dtype)


def multinomial(key: Any, n: Any, p: Any, *, shape: Any = None, dtype: Any = np.float64,
                unroll: Any = 1) -> Any:
    """Counts of ``n`` draws over the categories of ``p``'s last axis (no gradient);
    the result has shape ``shape + p.shape[-1:]`` (``shape`` defaults to the broadcast
    of ``n`` and ``p``'s batch shape)."""
    if jnp.ndim(p) < 1:
        raise ValueError("nanojax.random.multinomial: p must have at least one dimension "
                         "(the categories)")
    p = _as_float(p, np.dtype(np.float64))
    categories = tuple(P.shape_of(p))[-1:]
    shape = _params_shape("multinomial", shape, _param(n), np.empty(tuple(P.shape_of(p))[:-1]))
    counts = jnp.broadcast_to(jnp.astype(_param(n), np.int64), shape)
    probs = jnp.broadcast_to(p / jnp.sum(p, axis=-1, keepdims=True), shape + categories)
    out = random_draw_p.bind(_key_operand(key, "multinomial"), counts,
                             jnp.stop_gradient(probs), method="multinomial", shape=shape,
                             dtype=np.dtype(np.int64))
    return jnp.astype(out, dtype)


def multivariate_normal(key: Any, mean: Any, cov: Any, shape: Any = None, dtype: Any = None,
                        method: str = "cholesky") -> Any:
    """Samples of ``N(mean, cov)``: ``mean + A z`` with ``A A^T = cov`` from a Cholesky
    (``method='cholesky'``), eigen (``'eigh'``) or singular value (``'svd'``)
    factorization; the result has shape ``shape + mean.shape[-1:]``."""
    name = "nanojax.random.multivariate_normal"
    if method not in ("cholesky", "eigh", "svd"):
        raise ValueError(f"{name}: method must be 'cholesky', 'eigh' or 'svd', got "
                         f"{method!r}")
    dtype = _float_dtype(np.result_type(P.dtype_of(mean), P.dtype_of(cov), np.float64)
                         if dtype is None else dtype, "multivariate_normal")
    mean, cov = _as_float(mean, dtype), _as_float(cov, dtype)
    ms, cs = tuple(P.shape_of(mean)), tuple(P.shape_of(cov))
    if len(ms) < 1 or len(cs) < 2 or cs[-2:] != (ms[-1], ms[-1]):
        raise ValueError(f"{name}: mean must be [..., n] and cov [..., n, n], got shapes "
                         f"{ms} and {cs}")
    shape = _params_shape("multivariate_normal", shape, np.empty(ms[:-1]), np.empty(cs[:-2]))
    if method == "cholesky":
        factor = jnp.linalg.cholesky(cov)
    elif method == "eigh":
        w, v = jnp.linalg.eigh(cov)
        factor = v * jnp.sqrt(jnp.maximum(w, 0.0))[..., None, :]
    else:
        u, s, _ = jnp.linalg.svd(cov)
        factor = u * jnp.sqrt(s)[..., None, :]
    z = _standard_normal(key, shape + ms[-1:], dtype, "multivariate_normal")
    return mean + jnp.einsum("...ij,...j->...i", factor, z)


def orthogonal(key: Any, n: int, shape: Any = (), dtype: Any = np.float64,
               m: Any = None) -> Any:
    """Haar-uniform orthogonal ``n x n`` matrices (shape ``shape + (n, n)``); with ``m``,
    ``n x m`` matrices with orthonormal columns (or rows, if ``m > n``)."""
    dtype = _float_dtype(dtype, "orthogonal")
    m = n if m is None else m
    if not (_concrete_int(n) and _concrete_int(m)) or n < 0 or m < 0:
        raise ValueError(f"nanojax.random.orthogonal: n and m must be non-negative integers, "
                         f"got {n!r} and {m!r}")
    shape = _shape(shape, "orthogonal")
    z = _standard_normal(key, shape + (max(n, m), min(n, m)), dtype, "orthogonal")
    q, r = jnp.linalg.qr(z)
    # The signs of r's diagonal into q: QR's own sign convention would bias the draw.
    q = q * jnp.expand_dims(jnp.sign(jnp.diagonal(r, axis1=-2, axis2=-1)), -2)
    return jnp.swapaxes(q, -1, -2) if n < m else q


# ----- Discrete choices --------------------------------------------------------------

def categorical(key: Any, logits: Any, axis: int = -1, shape: Any = None,
                replace: bool = True, mode: Any = None) -> Any:
    """Category indices drawn with probabilities ``softmax(logits)`` along ``axis``
    (Gumbel-max). ``shape`` defaults to ``logits``' shape without ``axis``; leading extra
    dimensions draw more samples. ``replace=False`` never repeats a category among the
    samples of one batch entry."""
    name = "nanojax.random.categorical"
    logits = _as_float(logits, np.dtype(np.result_type(P.dtype_of(logits), np.float64)))
    ndim = jnp.ndim(logits)
    if ndim < 1:
        raise ValueError(f"{name}: logits must have at least one dimension")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} is out of bounds for logits of shape "
                         f"{tuple(P.shape_of(logits))}")
    logits = jnp.moveaxis(logits, axis, -1)
    batch, n = tuple(P.shape_of(logits))[:-1], tuple(P.shape_of(logits))[-1]
    shape = batch if shape is None else _shape(shape, "categorical")
    extra = len(shape) - len(batch)
    if extra < 0 or not _broadcasts_to(batch, shape[extra:]):
        raise ValueError(f"{name}: shape {shape} must end with a shape that logits' batch "
                         f"shape {batch} broadcasts to")
    if replace:
        noise = gumbel(key, shape + (n,), logits.dtype)
        return jnp.argmax(noise + logits, axis=-1)
    count = math.prod(shape[:extra])
    if count > n:
        raise ValueError(f"{name}: cannot take {count} samples from {n} categories without "
                         "replacement")
    scores = gumbel(key, shape[extra:] + (n,), logits.dtype) + logits
    top = jnp.getitem(jnp.argsort(-scores, axis=-1), (..., slice(0, count)))
    top = jnp.moveaxis(top, -1, 0)
    return jnp.reshape(top, shape)


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def _axis(x: Any, axis: int, fn: str) -> int:
    ndim = jnp.ndim(x)
    if not -ndim <= axis < max(ndim, 1):
        raise ValueError(f"nanojax.random.{fn}: axis {axis} is out of bounds for an array of "
                         f"{ndim} dimensions")
    return axis % max(ndim, 1)


def permutation(key: Any, x: Any, axis: int = 0, independent: bool = False) -> Any:
    """A shuffled ``range(x)`` for an int ``x``, else ``x`` shuffled along ``axis``: whole
    slices move together, or with ``independent=True`` each 1-D slice along ``axis`` is
    shuffled on its own."""
    if _concrete_int(x):
        if x < 0:
            raise ValueError(f"nanojax.random.permutation: need a non-negative int, got {x}")
        return random_sample_p.bind(_key_operand(key, "permutation"), dist="permutation",
                                    shape=(int(x),), dtype=np.dtype(np.int64), low=int(x),
                                    high=None)
    if jnp.ndim(x) == 0:
        raise TypeError("nanojax.random.permutation: x must be an integer or an array with "
                        "at least one dimension")
    axis = _axis(x, axis, "permutation")
    if independent and jnp.ndim(x) > 1:
        noise = _unit(key, tuple(P.shape_of(x)), np.dtype(np.float64), "permutation")
        return jnp.take_along_axis(x, jnp.argsort(noise, axis=axis), axis=axis)
    order = permutation(key, jnp.shape(x)[axis])
    return jnp.take(x, order, axis=axis)


def choice(key: Any, a: Any, shape: Any = (), replace: bool = True, p: Any = None,
           axis: int = 0, mode: Any = None) -> Any:
    """Samples from ``range(a)`` (an int) or from the slices of array ``a`` along ``axis``.

    With ``p`` (which, as JAX, need not be normalised), element i is drawn with
    probability ``p[i] / sum(p)``; without ``replace``, no element is drawn twice.
    Everything traces: ``p`` and the key may be traced under ``jit`` and ``vmap``.
    """
    name = "nanojax.random.choice"
    if _concrete_int(a):
        if a < 0:
            raise ValueError(f"{name}: a must be non-negative, got {a}")
        n = int(a)
    else:
        if jnp.ndim(a) == 0:
            raise ValueError(f"{name}: a must be an integer or an array with at least one "
                             "dimension, got a scalar array")
        axis = _axis(a, axis, "choice")
        n = jnp.shape(a)[axis]
    shape = _shape(shape, "choice")
    count = math.prod(shape)
    if not replace and count > n:
        raise ValueError(f"{name}: cannot take {count} samples from {n} "
                         "without replacement")
    if count and n == 0:
        raise ValueError(f"{name}: cannot draw from an empty population")
    if p is None:
        if replace:
            idx = randint(key, shape, 0, max(n, 1))
        else:
            idx = jnp.reshape(jnp.getitem(permutation(key, n), slice(0, count)), shape)
    else:
        p = _param(p)
        if tuple(P.shape_of(p)) != (n,):
            raise ValueError(f"{name}: p must be {n} non-negative probabilities (one per "
                             f"element), got shape {tuple(P.shape_of(p))}")
        if not isinstance(p, Tracer) and (np.asarray(p) < 0).any():
            raise ValueError(f"{name}: p must be {n} non-negative probabilities, got some "
                             "negative")
        p = _as_float(p, np.dtype(np.float64))
        positive = p > 0               # log(0) = -inf without a divide-by-zero warning
        log_p = jnp.where(positive, jnp.log(jnp.where(positive, p, 1.0)), -np.inf)
        if replace:
            idx = categorical(key, log_p, shape=shape)
        else:   # Gumbel top-k: the largest log p + Gumbel noise, without repeats
            scores = gumbel(key, (n,)) + log_p
            idx = jnp.reshape(jnp.getitem(jnp.argsort(-scores), slice(0, count)), shape)
    if _concrete_int(a):
        return idx
    return jnp.take(a, idx, axis=axis)


__dir__ = public_dir(globals())
