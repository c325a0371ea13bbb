"""Pure random numbers, as ``jax.random``: a key in, numbers out, nothing hidden.

A key is a plain ``uint32`` array of shape ``(2,)`` (JAX's legacy
``PRNGKey`` form, which ``key`` also returns here). The same key always
gives the same numbers; to get fresh numbers, ``split`` a key into new keys
and use each once. The engine is JAX's: the Threefry-2x32 counter-based hash
with JAX 0.10's key layout, so ``split``, ``fold_in``, ``bits`` and the
samplers built on uniform draws give the numbers JAX gives with
``jax_enable_x64`` (bit for bit, or within a few units in the last place
where XLA's ``log1p``/``erf_inv`` round differently from NumPy's; see
``tests/test_random_jax_bits.py``). The rejection samplers (``gamma`` and
what is built on it, ``poisson``, ``binomial``, ``multinomial``) draw from a
NumPy generator seeded by the key: right in distribution, not JAX's numbers.

Sampling, ``split``, ``fold_in`` and making a key from a seed are primitives
whose operand is the key (or seed), so they work under ``jit`` (the key is a
run-time input, not a baked-in constant) and ``vmap`` (a batch of keys is
hashed in one vectorized call). The other distributions are written on them
with ``jnp``, so they trace, batch and stage for free; ``gamma`` (and what is
built on it: ``beta``, ``dirichlet``, ``chisquare``, ``t``, ``f``, ...) has
JAX's implicit reparameterization gradient with respect to its shape parameter.

Examples:
    >>> import nanojax as nj
    >>> k = nj.random.key(0)
    >>> k1, k2 = nj.random.split(k)
    >>> a = nj.random.normal(k1, (3,))
    >>> bool((a == nj.random.normal(k1, (3,))).all())   # same key, same numbers
    True
    >>> bool((a == nj.random.normal(k2, (3,))).any())   # another key, others
    False
    >>> nj.random.normal(nj.random.PRNGKey(0), (3,))   # what JAX gives (x64)
    array([-0.20584214, -0.78476578,  1.81608667])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nanojax.api_util import public_dir

import nanojax.numpy as jnp
from nanojax import _prng
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
_IMPL = "threefry2x32"


def key(seed: Any, *, impl: Any = None) -> Any:
    """A key made from an integer seed, as JAX's ``threefry_seed``: the seed's high and
    low 32 bits (a negative Python int is a 64-bit two's complement; a seed of a 32-bit
    dtype has high word 0).

    The seed may be a traced integer (under ``jit`` or ``vmap``).

    >>> key(42)
    array([ 0, 42], dtype=uint32)
    >>> key(-1)
    array([4294967295, 4294967295], dtype=uint32)
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
    if isinstance(seed, int):
        if not -2 ** 63 <= seed < 2 ** 63:
            raise OverflowError(f"nanojax.random.key: the seed {seed} does not fit in int64 "
                                "(JAX takes seeds as 64-bit signed integers)")
        seed = np.int64(seed)
    return _prng.seed(np.asarray(seed))


def PRNGKey(seed: Any, *, impl: Any = None) -> Any:
    """The same as ``key``: keys here are always ``uint32[2]`` arrays.

    >>> PRNGKey(2 ** 32 + 5)
    array([1, 5], dtype=uint32)
    """
    _check_impl(impl, "PRNGKey")
    return key(seed)


def _check_impl(impl: Any, fn: str) -> None:
    if impl is not None and impl not in (_IMPL, "threefry"):
        raise ValueError(f"nanojax.random.{fn}: the only PRNG implementation is "
                         f"{_IMPL!r} (JAX's default), got impl={impl!r}")


def _generator(k: np.ndarray) -> np.random.Generator:
    """A NumPy generator for the rejection samplers, keyed by fresh bits of ``k``
    (128 of them: a fold of the key no other use of it draws)."""
    words = _prng.random_bits(_prng.fold_in(k, np.uint32(0x6E6A7267)), 32, (4,))
    seed128 = 0
    for w in words.tolist():
        seed128 = (seed128 << 32) | int(w)
    return np.random.Generator(np.random.Philox(key=seed128))


def _check_key_aval(k: ShapedArray, fn: str) -> None:
    if k.shape != (2,) or k.dtype != _KEY_DTYPE:
        raise TypeError(f"nanojax.random.{fn}: expected a key (uint32 array of shape (2,), from "
                        f"nj.random.key(seed) or split), got {k.str_short()}")


def _batched_keys(prim: Primitive) -> Any:
    """Batch rule of a primitive whose impl takes keys with leading batch axes
    (threefry hashes any number of keys at once): every operand's batch axis
    goes to the front and one call hashes the whole batch."""
    def rule(size, vals, dims, **params):
        return prim.bind(*(P.move_to_front(v, d, size) for v, d in zip(vals, dims)),
                         **params), 0
    return rule


def _loop_over_keys(prim: Primitive) -> Any:
    """Batch rule of the NumPy-generator samplers: each key seeds its own generator,
    which NumPy cannot run for many keys at once, so the batch is a loop."""
    def rule(size, vals, dims, **params):
        vals = [v if d is None else P.move_to_front(v, d, size) for v, d in zip(vals, dims)]
        return jnp.stack([prim.bind(*(v if d is None else v[i] for v, d in zip(vals, dims)),
                                    **params) for i in range(size)]), 0
    return rule


def _key_primitive(name: str, impl: Any, abstract_eval: Any, batch: Any = None) -> Primitive:
    # Samples and keys are new arrays: no aliasing. Keys carry no gradient.
    return P._register(Primitive(name, impl, abstract_eval, differentiable=False,
                                 batch=PerPrimitive(batch or _batched_keys), may_alias=False))


def _lead(k: ShapedArray, fn: str) -> tuple:
    """The batch axes in front of a (batched) key operand; checked."""
    if k.shape[-1:] != (2,) or k.dtype != _KEY_DTYPE:
        _check_key_aval(k, fn)
    return tuple(k.shape[:-1])


# ----- The primitives -------------------------------------------------------------
# Each impl takes keys with any leading batch axes (the batch rule puts vmap's
# there); the public functions pass a single key.

def _seed_aval(seed):
    if seed.dtype.kind not in "iu":
        raise TypeError(f"nanojax.random.key: the seed must be an integer, got "
                        f"{seed.str_short()}")
    return ShapedArray(seed.shape + (2,), _KEY_DTYPE)


random_seed_p = _key_primitive("random_seed", _prng.seed, _seed_aval)

random_split_p = _key_primitive(
    "random_split", lambda k, *, shape: _prng.split(np.asarray(k), shape),
    lambda k, *, shape: ShapedArray(_lead(k, "split") + shape + (2,), _KEY_DTYPE))


def _fold_in_aval(k, data):
    lead = _lead(k, "fold_in")
    if data.dtype != _KEY_DTYPE:
        raise TypeError(f"nanojax.random.fold_in: data must be uint32 here, got "
                        f"{data.str_short()}")
    return ShapedArray(np.broadcast_shapes(lead, data.shape) + (2,), _KEY_DTYPE)


random_fold_in_p = _key_primitive(
    "random_fold_in", lambda k, data: _prng.fold_in(np.asarray(k), np.asarray(data)),
    _fold_in_aval)

random_bits_p = _key_primitive(
    "random_bits",
    lambda k, *, bit_width, shape: _prng.random_bits(np.asarray(k), bit_width, shape),
    lambda k, *, bit_width, shape: ShapedArray(_lead(k, "bits") + shape,
                                               _prng.UINT[bit_width]))


def _sample_impl(k, *, dist, shape, dtype):
    return _prng.standard(dist, np.asarray(k), shape, dtype)


random_sample_p = _key_primitive(
    "random_sample", _sample_impl,
    lambda k, *, dist, shape, dtype: ShapedArray(_lead(k, dist) + shape, dtype))


def _randint_impl(k, low, high, out_of_range, *, shape, dtype):
    return _prng.randint(np.asarray(k), np.asarray(low), np.asarray(high),
                         np.asarray(out_of_range), shape, dtype)


def _randint_aval(k, low, high, out_of_range, *, shape, dtype):
    lead = _lead(k, "randint")
    return ShapedArray(np.broadcast_shapes(lead + shape, low.shape, high.shape,
                                           out_of_range.shape), dtype)


random_randint_p = _key_primitive("random_randint", _randint_impl, _randint_aval)


# A draw from one of NumPy's Generator methods whose parameters are arrays
# (poisson's rate, binomial's n and p, ...): the operands are the key and the
# parameters, already broadcast to ``shape`` by the public function (or, for
# multinomial, to ``shape`` plus the categories).

def _draw_impl(k, *params, method, shape, dtype):
    gen = _generator(np.asarray(k))
    arrays = [np.asarray(p) for p in params]
    return getattr(gen, method)(*arrays, size=shape).astype(dtype, copy=False)


def _draw_aval(k, *params, method, shape, dtype):
    _check_key_aval(k, method)
    core = params[1].shape[-1:] if method == "multinomial" else ()
    return ShapedArray(shape + core, dtype)


random_draw_p = _key_primitive("random_draw", _draw_impl, _draw_aval, _loop_over_keys)


# ----- gamma, with JAX's implicit reparameterization gradient ------------------------
# A sample x = F^-1(u; a) of the gamma CDF F moves with a as dx/da =
# -(dF/da) / (dF/dx) at fixed u. With the series F(x; a) = sum_n x^(a+n) e^-x /
# Gamma(a+n+1), the ratio is -sum_n r_n (log x - digamma(a+n+1)), where
# r_n = x^(n+1) / (a (a+1) ... (a+n)). The terms grow while a+n < x, so the
# sum carries rounding of about 1e-16 times its largest term: relative 1e-8 in
# the far tails, far better where the samples are.

def _gamma_impl(k, a, *, dtype):
    out = _generator(np.asarray(k)).standard_gamma(np.asarray(a, np.float64))
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
        _check_key_aval(k.aval, fn)
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
    dtype = np.dtype(np.int64 if dtype is None else dtype)
    if dtype.kind not in "iu":
        raise TypeError(f"nanojax.random.{fn}: dtype must be an integer type, got {dtype}")
    return dtype


def split(key: Any, num: Any = 2) -> Any:
    """New keys: ``num`` of them (shape ``(num, 2)``), or an array of shape ``num + (2,)``
    for a tuple ``num``; iterate to unpack.

    Key ``i`` is the Threefry hash of the counter ``i`` under ``key``, as JAX:

    >>> split(PRNGKey(0))
    array([[1797259609, 2579123966],
           [ 928981903, 3453687069]], dtype=uint32)
    """
    if isinstance(num, (tuple, list)):
        shape = _shape(num, "split")
    elif isinstance(num, (bool, np.bool_)) or not isinstance(num, (int, np.integer)) or num < 0:
        raise ValueError(f"nanojax.random.split: num must be a non-negative integer or a "
                         f"tuple of them, got {num!r}")
    else:
        shape = (int(num),)
    return random_split_p.bind(_key_operand(key, "split"), shape=shape)


def fold_in(key: Any, data: Any) -> Any:
    """A new key made from ``key`` and a 32-bit integer (a step number, say): the hash of
    the counter ``(0, data)``. Array data wraps to ``uint32``, as JAX; a Python int must
    fit.

    >>> fold_in(PRNGKey(0), 1)
    array([ 928981903, 3453687069], dtype=uint32)
    """
    if isinstance(data, (Tracer, np.ndarray, np.generic)):
        if jnp.ndim(data) != 0 or P.dtype_of(data).kind not in "iub":
            raise TypeError(f"nanojax.random.fold_in: data must be an integer scalar, got "
                            f"{ShapedArray(tuple(P.shape_of(data)), P.dtype_of(data)).str_short()}"
                            "; use vmap for a batch")
        data = jnp.astype(data, _KEY_DTYPE) if P.dtype_of(data) != _KEY_DTYPE else data
    elif isinstance(data, int) and not isinstance(data, bool):
        if not 0 <= data < 2 ** 32:
            raise OverflowError(f"nanojax.random.fold_in: data {data} is out of bounds for "
                                "uint32")
        data = np.uint32(data)
    else:
        raise TypeError(f"nanojax.random.fold_in: data must be an integer scalar, got "
                        f"{type(data).__name__}")
    return random_fold_in_p.bind(_key_operand(key, "fold_in"), data)


def key_data(keys: Any) -> Any:
    """The ``uint32`` bits of ``keys``: keys here are their bits, so this is the identity."""
    return _keys_operand(keys, "key_data")


def wrap_key_data(key_bits_array: Any, *, impl: Any = None) -> Any:
    """Keys from their ``uint32`` bits (last axis of size 2): the identity here."""
    _check_impl(impl, "wrap_key_data")
    return _keys_operand(key_bits_array, "wrap_key_data")


def key_impl(keys: Any) -> str:
    """The name of the PRNG implementation of ``keys``: ``'threefry2x32'``, as JAX's
    default."""
    _keys_operand(keys, "key_impl")
    return _IMPL


def clone(key: Any) -> Any:
    """``key`` itself (keys are immutable values here, so there is nothing to copy)."""
    return _keys_operand(key, "clone")


# ----- The basic samplers --------------------------------------------------------------

def _standard(key: Any, dist: str, shape: tuple, dtype: np.dtype, fn: str) -> Any:
    return random_sample_p.bind(_key_operand(key, fn), dist=dist, shape=shape, dtype=dtype)


def _unit(key: Any, shape: tuple, dtype: np.dtype, fn: str) -> Any:
    """Uniform samples in [0, 1)."""
    return _standard(key, "uniform", shape, dtype, fn)


def _standard_normal(key: Any, shape: tuple, dtype: np.dtype, fn: str) -> Any:
    return _standard(key, "normal", shape, dtype, fn)


def bits(key: Any, shape: Any = (), dtype: Any = None) -> Any:
    """Uniformly random unsigned integers (every bit pattern equally likely); ``uint64``
    by default, as JAX with x64."""
    dtype = np.dtype(np.uint64 if dtype is None else dtype)
    if dtype.kind != "u":
        raise TypeError(f"nanojax.random.bits: dtype must be an unsigned integer type, got "
                        f"{dtype}")
    return random_bits_p.bind(_key_operand(key, "bits"), bit_width=dtype.itemsize * 8,
                              shape=_shape(shape, "bits"))


def normal(key: Any, shape: Any = (), dtype: Any = np.float64) -> Any:
    """Standard normal samples (mean 0, standard deviation 1): ``sqrt(2) erf_inv(u)`` for
    ``u`` uniform in (-1, 1), as JAX."""
    return _standard_normal(key, _shape(shape, "normal"), _float_dtype(dtype, "normal"),
                            "normal")


def uniform(key: Any, shape: Any = (), dtype: Any = np.float64, minval: Any = 0.0,
            maxval: Any = 1.0) -> Any:
    """Uniform samples in ``[minval, maxval)`` (bounds may be arrays broadcasting to
    ``shape``): random mantissa bits make a float in [1, 2), then 1 is taken off, as JAX.

    >>> uniform(PRNGKey(0), (2,))
    array([0.41845711, 0.21629545])
    """
    dtype = _float_dtype(dtype, "uniform")
    shape = _shape(shape, "uniform")
    unit = _unit(key, shape, dtype, "uniform")
    if isinstance(minval, (int, float)) and isinstance(maxval, (int, float)) and (
            minval, maxval) == (0.0, 1.0):
        return unit
    return _scale(unit, minval, maxval, dtype)


def _scale(unit: Any, minval: Any, maxval: Any, dtype: np.dtype) -> Any:
    """``max(minval, unit * (maxval - minval) + minval)``, as JAX's ``uniform``."""
    minval, maxval = _as_float(minval, dtype), _as_float(maxval, dtype)
    return jnp.maximum(minval, unit * (maxval - minval) + minval)


def _concrete_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def randint(key: Any, shape: Any, minval: Any, maxval: Any, dtype: Any = np.int64) -> Any:
    """Integers in ``[minval, maxval)``; the bounds may be arrays broadcasting to
    ``shape``, or traced (then, as JAX, an empty range gives ``minval``). JAX's method:
    two words of random bits per value, reduced modulo the span.

    >>> randint(PRNGKey(0), (4,), 0, 10)
    array([5, 1, 5, 7])
    """
    dtype = _int_dtype(dtype, "randint")
    shape = _shape(shape, "randint")
    if _concrete_int(minval) and _concrete_int(maxval) and not int(minval) < int(maxval):
        raise ValueError(f"nanojax.random.randint: need minval < maxval, got {minval} "
                         f"and {maxval}")
    minval, maxval = _param(minval), _param(maxval)
    for bound in (minval, maxval):
        if P.dtype_of(bound).kind not in "iu":
            raise TypeError("nanojax.random.randint: minval and maxval must be integers, got "
                            f"{P.dtype_of(bound)}")
    _check_shape("randint", shape, minval, maxval)
    info = np.iinfo(dtype)
    # Narrow dtypes draw in 32 bits (less modulo bias), as JAX.
    sampling = np.dtype(np.int32) if info.bits < 32 else dtype
    sinfo = np.iinfo(sampling)
    lo, hi = jnp.astype(minval, np.int64), jnp.astype(maxval, np.int64)
    if sampling != dtype:
        lo, hi = jnp.clip(lo, info.min, info.max), jnp.clip(hi, info.min, info.max + 1)
    out_of_range = hi > min(sinfo.max, np.iinfo(np.int64).max)
    lo = jnp.clip(lo, max(sinfo.min, -2 ** 63), min(sinfo.max, 2 ** 63 - 1))
    hi = jnp.clip(hi, max(sinfo.min, -2 ** 63), min(sinfo.max, 2 ** 63 - 1))
    lo, hi = jnp.astype(lo, sampling), jnp.astype(hi, sampling)
    out = random_randint_p.bind(_key_operand(key, "randint"), jnp.broadcast_to(lo, shape),
                                jnp.broadcast_to(hi, shape),
                                jnp.broadcast_to(out_of_range, shape), shape=shape,
                                dtype=sampling)
    return out if sampling == dtype else jnp.astype(out, dtype)


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
    """Booleans that are True with probability ``p`` (shape: ``p``'s by default): a
    uniform draw in ``p``'s float type below ``p``."""
    p = _param(p)
    if P.dtype_of(p).kind != "f":
        p = _as_float(p, np.dtype(np.float64))
    shape = _params_shape("bernoulli", shape, p)
    return jnp.less(_unit(key, shape, P.dtype_of(p), "bernoulli"), p)


def rademacher(key: Any, shape: Any = (), dtype: Any = np.int64) -> Any:
    """-1 or +1, each with probability 1/2."""
    dtype = np.dtype(dtype)
    signs = jnp.astype(bernoulli(key, 0.5, _shape(shape, "rademacher")), dtype)
    return jnp.astype(2 * signs - 1, dtype)


def exponential(key: Any, shape: Any = (), dtype: Any = np.float64) -> Any:
    """Exponential samples with rate 1: ``-log1p(-u)``."""
    dtype = _float_dtype(dtype, "exponential")
    return _standard(key, "exponential", _shape(shape, "exponential"), dtype, "exponential")


def gumbel(key: Any, shape: Any = (), dtype: Any = np.float64, mode: Any = None) -> Any:
    """Standard Gumbel samples: ``-log(-log(u))`` (JAX's default ``mode='low'``)."""
    dtype = _float_dtype(dtype, "gumbel")
    if mode not in (None, "low"):
        raise ValueError(f"nanojax.random.gumbel: only mode='low' (JAX's default) is "
                         f"supported, got {mode!r}")
    return _standard(key, "gumbel", _shape(shape, "gumbel"), dtype, "gumbel")


def laplace(key: Any, shape: Any = (), dtype: Any = np.float64) -> Any:
    """Standard Laplace samples (density ``exp(-|x|) / 2``): ``sign(u) log1p(-|u|)`` for
    ``u`` uniform in (-1, 1), as JAX."""
    dtype = _float_dtype(dtype, "laplace")
    return _standard(key, "laplace", _shape(shape, "laplace"), dtype, "laplace")


def logistic(key: Any, shape: Any = (), dtype: Any = np.float64) -> Any:
    """Standard logistic samples: ``log(u) - log1p(-u)``."""
    dtype = _float_dtype(dtype, "logistic")
    return _standard(key, "logistic", _shape(shape, "logistic"), dtype, "logistic")


def cauchy(key: Any, shape: Any = (), dtype: Any = np.float64) -> Any:
    """Standard Cauchy samples: ``tan(pi (u - 1/2))``."""
    dtype = _float_dtype(dtype, "cauchy")
    return _standard(key, "cauchy", _shape(shape, "cauchy"), dtype, "cauchy")


def lognormal(key: Any, sigma: Any = 1.0, shape: Any = None, dtype: Any = np.float64) -> Any:
    """``exp(sigma * z)`` for standard normal ``z``."""
    dtype = _float_dtype(dtype, "lognormal")
    sigma = _as_float(sigma, dtype)
    shape = _params_shape("lognormal", shape, sigma)
    return jnp.exp(_standard_normal(key, shape, dtype, "lognormal") * sigma)


def truncated_normal(key: Any, lower: Any, upper: Any, shape: Any = None,
                     dtype: Any = np.float64) -> Any:
    """Standard normal samples conditioned on ``lower < x < upper`` (inverse CDF method,
    as JAX).

    Accurate while the interval holds a few orders of magnitude more than
    float64's rounding of the CDF (bounds within about +-8)."""
    dtype = _float_dtype(dtype, "truncated_normal")
    lower, upper = _as_float(lower, dtype), _as_float(upper, dtype)
    shape = _params_shape("truncated_normal", shape, lower, upper)
    root2 = np.sqrt(np.asarray(2.0, dtype))
    a, b = lax.erf(lower / root2), lax.erf(upper / root2)
    u = _scale(_unit(key, shape, dtype, "truncated_normal"), a, b, dtype)
    out = root2 * lax.erf_inv(u)
    # Rounding can land on (or just past) a bound: keep strictly inside, as JAX.
    return jnp.clip(out, _inward(lower, np.inf), _inward(upper, -np.inf))


def _inward(bound: Any, toward: float) -> Any:
    bound = jnp.stop_gradient(bound)
    return jnp.nextafter(bound, jnp.full_like(bound, toward))


def _open_unit(key: Any, shape: tuple, dtype: np.dtype, fn: str) -> Any:
    """Uniform samples in (0, 1): the smallest normal number stands in for 0, as JAX."""
    return jnp.maximum(_unit(key, shape, dtype, fn), np.finfo(dtype).tiny)


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
    signs = rademacher(ks, shape, dtype)
    return signs * maxwell(km, shape, dtype) * scale + loc


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
    u = _unit(key, shape, dtype, "rayleigh")
    return scale * jnp.sqrt(jnp.log(u) * -2.0)


def wald(key: Any, mean: Any, shape: Any = None, dtype: Any = np.float64) -> Any:
    """Wald (inverse Gaussian) samples with ``mean`` and shape 1 (Michael et al.)."""
    dtype = _float_dtype(dtype, "wald")
    mean = _as_float(mean, dtype)
    shape = _params_shape("wald", shape, mean)
    kn, ku = split(key)
    mean = jnp.broadcast_to(mean, shape)
    y = _standard_normal(kn, shape, dtype, "wald") ** 2
    z = _unit(ku, shape, dtype, "wald")
    mean_sq = mean * mean
    x = mean + mean_sq * y / 2.0 - mean / 2.0 * jnp.sqrt(4.0 * mean * y + mean_sq * (y * y))
    return jnp.where(z <= mean / (mean + x), x, mean_sq / x)


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
    u = _unit(key, shape, np.dtype(np.float64), "geometric")
    u = jnp.where(u == 0.0, 1.0, u)
    return jnp.astype(jnp.floor(jnp.log(u) / jnp.log1p(-p)) + 1.0, dtype)


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
    (Gumbel-max, as JAX). ``shape`` defaults to ``logits``' shape without ``axis``;
    leading extra dimensions draw more samples. ``replace=False`` never repeats a
    category among the samples of one batch entry (Gumbel top-k)."""
    name = "nanojax.random.categorical"
    logits = _param(logits)
    if P.dtype_of(logits).kind != "f":
        logits = _as_float(logits, np.dtype(np.float64))
    ndim = jnp.ndim(logits)
    if ndim < 1:
        raise ValueError(f"{name}: logits must have at least one dimension")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} is out of bounds for logits of shape "
                         f"{tuple(P.shape_of(logits))}")
    axis = axis % ndim
    full = tuple(P.shape_of(logits))
    n = full[axis]
    batch = full[:axis] + full[axis + 1:]
    shape = batch if shape is None else _shape(shape, "categorical")
    extra = len(shape) - len(batch)
    if extra < 0 or not _broadcasts_to(batch, shape[extra:]):
        raise ValueError(f"{name}: shape {shape} must end with a shape that logits' batch "
                         f"shape {batch} broadcasts to")
    dtype = P.dtype_of(logits)
    if replace:
        # The noise has logits' layout (the category axis in place) behind the extra axes.
        tail = shape[extra:]
        noise_shape = shape[:extra] + tail[:axis - (ndim - 1 - len(tail))] + (n,) \
            + tail[axis - (ndim - 1 - len(tail)):] if len(tail) == ndim - 1 else None
        if noise_shape is None:
            raise ValueError(f"{name}: shape {shape} must end with {ndim - 1} dimensions "
                             "for logits' batch shape")
        noise = gumbel(key, noise_shape, dtype, mode)
        return jnp.argmax(noise + logits, axis=extra + axis)
    count = math.prod(shape[:extra])
    if count > n:
        raise ValueError(f"{name}: cannot take {count} samples from {n} categories without "
                         "replacement")
    scores = jnp.moveaxis(logits + gumbel(key, full, dtype, mode), axis, -1)
    top = lax.top_k(scores, count)[1]
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


def _shuffle(key: Any, x: Any, axis: int) -> Any:
    """JAX's shuffle: sort along ``axis`` by random 32-bit keys, in as many rounds (each
    with a fresh split of the key) as make ties among ``x.size`` keys negligible."""
    size = math.prod(tuple(P.shape_of(x)))
    rounds = int(np.ceil(3 * np.log(max(1, size)) / np.log(np.iinfo(np.uint32).max)))
    for _ in range(rounds):
        key, subkey = split(key)
        sort_keys = random_bits_p.bind(subkey, bit_width=32, shape=tuple(P.shape_of(x)))
        order = jnp.argsort(sort_keys, axis=axis, stable=True)
        x = jnp.take_along_axis(x, order, axis=axis)
    return x


def permutation(key: Any, x: Any, axis: int = 0, independent: bool = False) -> Any:
    """A shuffled ``range(x)`` for an int ``x``, else ``x`` shuffled along ``axis``: whole
    slices move together, or with ``independent=True`` each 1-D slice along ``axis`` is
    shuffled on its own.

    >>> permutation(PRNGKey(0), 5)
    array([0, 1, 4, 3, 2])
    """
    key = _key_operand(key, "permutation")
    if _concrete_int(x):
        if x < 0:
            raise ValueError(f"nanojax.random.permutation: need a non-negative int, got {x}")
        return _shuffle(key, np.arange(int(x)), 0)
    if jnp.ndim(x) == 0:
        raise TypeError("nanojax.random.permutation: x must be an integer or an array with "
                        "at least one dimension")
    x = _param(x)
    axis = _axis(x, axis, "permutation")
    if independent or jnp.ndim(x) == 1:
        return _shuffle(key, x, axis)
    order = _shuffle(key, np.arange(jnp.shape(x)[axis]), 0)
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
        a = _param(a)
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
    if count == 0:
        idx = np.zeros(shape, np.int64)
    elif p is None:
        if replace:
            idx = randint(key, shape, 0, n)
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
        if P.dtype_of(p).kind != "f":
            p = _as_float(p, np.dtype(np.float64))
        if replace:   # inverse CDF on the running sums, as JAX
            cumulative = jnp.cumsum(p)
            r = cumulative[-1] * (1.0 - _unit(key, shape, P.dtype_of(p), "choice"))
            idx = jnp.astype(jnp.searchsorted(cumulative, r), np.int64)
        else:   # Gumbel top-k: the largest log p + Gumbel noise, without repeats
            positive = p > 0               # log(0) = -inf without a divide-by-zero warning
            log_p = jnp.where(positive, jnp.log(jnp.where(positive, p, 1.0)), -np.inf)
            scores = gumbel(key, (n,), P.dtype_of(p), mode) + log_p
            idx = jnp.reshape(lax.top_k(scores, count)[1], shape)
    if _concrete_int(a):
        return idx
    return jnp.take(a, idx, axis=axis)


__dir__ = public_dir(globals())


from nanojax.array import export as _export_arrays  # noqa: E402

_export_arrays(globals())   # the public face hands out arrays with JAX's methods
