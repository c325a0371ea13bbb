"""Activations and friends, as ``jax.nn``, written in ``jnp`` from primitives.

Everything here is a composite of existing gates, so it differentiates,
batches and stages with no rules of its own; ``relu`` and ``sigmoid`` are one
gate each. ``nanojax.nn.initializers`` holds the weight initializers.

Examples:
    >>> import nanojax as nj
    >>> print(round(float(nj.nn.sigmoid(2.0)), 4))   # the guide's neuron: sig(2)
    0.8808
    >>> print(nj.nn.gelu(1.0, approximate=False).round(4), nj.nn.gelu(1.0).round(4))
    0.8413 0.8412
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nanojax.api_util import public_dir

import nanojax.numpy as jnp
from nanojax import lax
from nanojax import primitives as P
from nanojax.core import Tracer
from nanojax.numpy._args import call_numpy, check_numeric
from nanojax.numpy._creation import plain_asarray

__all__ = ["celu", "dot_product_attention", "elu", "gelu", "glu", "hard_sigmoid", "hard_silu",
           "hard_swish", "hard_tanh", "identity", "initializers", "leaky_relu", "log1mexp",
           "log_sigmoid", "log_softmax", "logmeanexp", "logsumexp", "mish", "one_hot", "relu",
           "relu6", "selu", "sigmoid", "silu", "soft_sign", "softmax", "softplus", "sparse_plus",
           "sparse_sigmoid", "squareplus", "standardize", "swish", "tanh"]

tanh = jnp.tanh


def _float(name: str, x: Any) -> Any:
    """``x`` as a float operand (integers and booleans become float64, as in JAX's x64)."""
    if not isinstance(x, Tracer):
        check_numeric(f"nn.{name}", x)
        if not isinstance(x, (np.ndarray, np.generic)):
            x = np.asarray(x)
    if P.dtype_of(x).kind not in "fc":
        x = jnp.astype(x, np.float64)
    return x


def identity(x: Any) -> Any:
    """``x`` itself."""
    return x


def relu(x: Any) -> Any:
    """``max(x, 0)``; its gradient at exactly 0 is 0, as in JAX; NaN passes through.

    One gate (``relu``) rather than ``maximum(x, 0)``: ``maximum`` splits the
    pull in half at a tie, and relu'(0) = 0 is the convention everyone uses.
    """
    if not isinstance(x, Tracer):
        return call_numpy("nn.relu", np.maximum, x, 0)
    return P.relu_p.bind(x)


def relu6(x: Any) -> Any:
    """``min(max(x, 0), 6)``, with gradient 0 at both kinks, as in JAX."""
    x = _float("relu6", x)
    return jnp.where(x >= 6.0, 6.0, relu(x))


def sigmoid(x: Any) -> Any:
    """The logistic function 1 / (1 + exp(-x)), one gate (``logistic``)."""
    if isinstance(x, Tracer):
        return P.logistic_p.bind(x)
    if type(x) in (float, int, bool):
        return np.float64(P.logistic_p.impl(float(x)))      # a NumPy scalar, as jnp.tanh
    check_numeric("nn.sigmoid", x)
    return P.logistic_p.impl(x if isinstance(x, (np.generic, np.ndarray))
                             else np.asarray(x, float))


def softplus(x: Any) -> Any:
    """``log(1 + exp(x))``, computed without overflow."""
    return jnp.add(jnp.maximum(x, 0.0), jnp.log1p(jnp.exp(jnp.negative(jnp.abs(x)))))


def log_sigmoid(x: Any) -> Any:
    """``log(sigmoid(x)) = -softplus(-x)``, finite far into both tails."""
    return jnp.negative(softplus(jnp.negative(_float("log_sigmoid", x))))


def silu(x: Any) -> Any:
    """``x * sigmoid(x)`` (also called swish)."""
    x = _float("silu", x)
    return x * sigmoid(x)


swish = silu


def gelu(x: Any, approximate: bool = True) -> Any:
    """The Gaussian error linear unit ``x * Phi(x)``.

    ``approximate=True`` (JAX's default) uses the tanh approximation
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``; ``False`` the exact
    ``0.5 x (1 + erf(x / sqrt(2)))``.
    """
    x = _float("gelu", x)
    if approximate:
        inner = math.sqrt(2 / math.pi) * (x + 0.044715 * (x * x * x))
        return 0.5 * x * (1.0 + jnp.tanh(inner))
    return 0.5 * x * (1.0 + lax.erf(x * (1 / math.sqrt(2))))


def elu(x: Any, alpha: Any = 1.0) -> Any:
    """``x`` for x > 0, ``alpha (exp(x) - 1)`` below."""
    x = _float("elu", x)
    positive = x > 0
    return jnp.where(positive, x, alpha * jnp.expm1(jnp.where(positive, 0.0, x)))


def celu(x: Any, alpha: Any = 1.0) -> Any:
    """``max(x, 0) + alpha (exp(min(x, 0) / alpha) - 1)``: elu, continuously differentiable."""
    x = _float("celu", x)
    return jnp.maximum(x, 0.0) + alpha * jnp.expm1(jnp.minimum(x, 0.0) / alpha)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(x: Any) -> Any:
    """``scale * elu(x, alpha)`` with the self-normalising constants of Klambauer et al."""
    return _SELU_SCALE * elu(x, _SELU_ALPHA)


def leaky_relu(x: Any, negative_slope: Any = 1e-2) -> Any:
    """``x`` for x >= 0, ``negative_slope * x`` below."""
    x = _float("leaky_relu", x)
    return jnp.where(x >= 0, x, negative_slope * x)


def hard_tanh(x: Any) -> Any:
    """``x`` clipped to [-1, 1], with gradient 0 outside."""
    x = _float("hard_tanh", x)
    return jnp.where(x > 1, 1.0, jnp.where(x < -1, -1.0, x))


def hard_sigmoid(x: Any) -> Any:
    """``relu6(x + 3) / 6``: a piecewise-linear sigmoid."""
    return relu6(_float("hard_sigmoid", x) + 3.0) / 6.0


def hard_silu(x: Any) -> Any:
    """``x * hard_sigmoid(x)`` (also called hard_swish)."""
    x = _float("hard_silu", x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def soft_sign(x: Any) -> Any:
    """``x / (|x| + 1)``."""
    x = _float("soft_sign", x)
    return x / (jnp.abs(x) + 1.0)


def squareplus(x: Any, b: Any = 4) -> Any:
    """``(x + sqrt(x^2 + b)) / 2``: a smooth relu made of algebra only."""
    x = _float("squareplus", x)
    return (x + jnp.sqrt(x * x + b)) / 2.0


def mish(x: Any) -> Any:
    """``x * tanh(softplus(x))``."""
    x = _float("mish", x)
    return x * jnp.tanh(softplus(x))


def sparse_plus(x: Any) -> Any:
    """0 below -1, ``x`` above 1, ``(x + 1)^2 / 4`` between: a sparse softplus."""
    x = _float("sparse_plus", x)
    return jnp.where(x <= -1.0, 0.0, jnp.where(x >= 1.0, x, (x + 1.0) ** 2 / 4.0))


def sparse_sigmoid(x: Any) -> Any:
    """``clip((x + 1) / 2, 0, 1)``, the derivative of ``sparse_plus``."""
    x = _float("sparse_sigmoid", x)
    return jnp.where(x <= -1.0, 0.0, jnp.where(x >= 1.0, 1.0, (x + 1.0) / 2.0))


def log1mexp(x: Any) -> Any:
    """``log(1 - exp(-x))`` for x >= 0, accurate near 0 and far out (Maechler's split at log 2)."""
    x = _float("log1mexp", x)
    near = x < math.log(2)
    return jnp.where(near, jnp.log(-jnp.expm1(-jnp.where(near, x, 1.0))),
                     jnp.log1p(-jnp.exp(-jnp.where(near, 1.0, x))))


def glu(x: Any, axis: int = -1) -> Any:
    """Gated linear unit: the first half of ``axis`` times the sigmoid of the second half."""
    x = _float("glu", x)
    size = jnp.shape(x)[axis]
    if size % 2:
        raise ValueError(f"nanojax.nn.glu: axis {axis} has size {size}; it must be even, "
                         "to split into a value half and a gate half")
    a, b = jnp.split(x, 2, axis=axis)
    return a * sigmoid(b)


# ----- Normalising along an axis -------------------------------------------------------

def _masked_max(x: Any, axis: Any, where: Any) -> Any:
    """The max over ``axis`` (keepdims) of the entries ``where`` allows; -inf if none."""
    if where is not None:
        x = jnp.where(where, x, -np.inf)
    return jnp.max(x, axis=axis, keepdims=True)


def _masked_sum(x: Any, axis: Any, where: Any) -> Any:
    if where is not None:
        x = jnp.where(where, x, 0.0)
    return jnp.sum(x, axis=axis, keepdims=True)


def _scalar(x: Any) -> Any:
    # Outside a transformation a full reduction gives a NumPy scalar, as np.sum does.
    return x[()] if isinstance(x, np.ndarray) and x.ndim == 0 else x


def logsumexp(a: Any, axis: Any = None, b: Any = None, keepdims: bool = False,
              return_sign: bool = False, where: Any = None) -> Any:
    """``log(sum(b * exp(a)))`` over ``axis``, shifted by the max for stability.

    As ``jax.nn.logsumexp`` (= ``jax.scipy.special.logsumexp``): ``b`` scales
    the terms, ``where`` keeps only some of them, and with ``return_sign`` the
    result is ``(log|sum|, sign(sum))``; without it, a negative sum gives NaN.

    >>> print(float(logsumexp(np.array([0.0, 0.0]))) == float(np.log(2)))
    True
    """
    a = _float("logsumexp", a)
    if b is not None:
        b = _float("logsumexp", b)
        a = a + jnp.zeros_like(b)           # the terms take the shape of a * b
    shift = jnp.stop_gradient(_masked_max(a, axis, where))
    shift = jnp.where(jnp.isfinite(shift), shift, 0.0)
    terms = jnp.exp(jnp.subtract(a, shift))
    if b is not None:
        terms = terms * b
    total = _masked_sum(terms, axis, where)
    if b is None:                           # every term is positive: no sign to track
        out, sign = jnp.add(jnp.log(total), shift), None
    else:
        sign = jnp.sign(total)
        out = jnp.add(jnp.log(jnp.abs(total)), shift)
        if not return_sign:
            out = jnp.where(sign < 0, np.nan, out)
    if not keepdims:
        out = jnp.squeeze(out, axis)
        sign = None if sign is None else jnp.squeeze(sign, axis)
    if not return_sign:
        return _scalar(out)
    if sign is None:
        sign = jnp.where(jnp.isnan(out), np.nan, jnp.where(out == -np.inf, 0.0, 1.0))
    return _scalar(out), _scalar(sign)


def log_softmax(x: Any, axis: Any = -1, where: Any = None, initial: Any = None) -> Any:
    """``x - logsumexp(x)`` along ``axis``: log-probabilities.

    With ``where``, only the allowed entries are normalised over and the
    others come out as -inf (``initial`` is accepted for old JAX code and
    ignored, as current JAX does).
    """
    x = _float("log_softmax", x)
    if where is None:
        return jnp.subtract(x, logsumexp(x, axis=axis, keepdims=True))
    shifted = jnp.where(where, x, -np.inf) - jnp.stop_gradient(
        jnp.where(jnp.isfinite(m := _masked_max(x, axis, where)), m, 0.0))
    out = shifted - jnp.log(_masked_sum(jnp.exp(shifted), axis, where))
    return jnp.where(where, out, -np.inf)


def softmax(x: Any, axis: Any = -1, where: Any = None, initial: Any = None) -> Any:
    """``exp(x) / sum(exp(x))`` along ``axis``: probabilities.

    With ``where``, only the allowed entries share the mass and the others
    are 0 (``initial`` is accepted and ignored, as in current JAX).

    >>> softmax(np.array([1.0, 2.0, 3.0]), where=np.array([True, False, True])).round(4)
    array([0.1192, 0.    , 0.8808])
    """
    x = _float("softmax", x)
    if where is None:
        return jnp.exp(log_softmax(x, axis=axis))
    return jnp.where(where, jnp.exp(log_softmax(x, axis=axis, where=where)), 0.0)


def standardize(x: Any, axis: Any = -1, mean: Any = None, variance: Any = None,
                epsilon: Any = 1e-5, where: Any = None) -> Any:
    """``(x - mean) / sqrt(variance + epsilon)`` along ``axis`` (statistics computed if not
    given; with ``where``, from the allowed entries only)."""
    x = _float("standardize", x)
    if where is None:
        count: Any = None
    else:
        count = _masked_sum(jnp.ones_like(x), axis, where)
    if mean is None:
        mean = (jnp.mean(x, axis=axis, keepdims=True) if where is None
                else _masked_sum(x, axis, where) / count)
    if variance is None:
        square = jnp.square(x)
        mean_square = (jnp.mean(square, axis=axis, keepdims=True) if where is None
                       else _masked_sum(square, axis, where) / count)
        variance = mean_square - jnp.square(mean)
    return (x - mean) * lax.rsqrt(variance + epsilon)


def one_hot(x: Any, num_classes: int, *, dtype: Any = np.float64, axis: Any = -1) -> Any:
    """``x == range(num_classes)`` as ``dtype``, the new axis at ``axis`` (no gradient).

    As in JAX, a label that is not one of the classes (out of range, or a float
    that is not a whole number) gives a row of zeros.

    >>> one_hot([0, 2, 1.5, 7], 3)
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 0., 0.],
           [0., 0., 0.]])
    """
    if isinstance(num_classes, (Tracer, bool, np.bool_)) or \
            not isinstance(num_classes, (int, np.integer)) or num_classes < 0:
        raise TypeError("nanojax.nn.one_hot: num_classes must be a concrete non-negative "
                        f"integer, got {num_classes!r:.40}")
    x = x if isinstance(x, Tracer) else plain_asarray(x)
    if P.dtype_of(x).kind not in "biuf":
        raise TypeError(f"nanojax.nn.one_hot: x must be numbers, got {P.dtype_of(x)}")
    ndim = jnp.ndim(x) + 1
    if not -ndim <= axis < ndim:
        raise ValueError(f"nanojax.nn.one_hot: axis {axis} is out of bounds for the "
                         f"{ndim}-dimensional result")
    axis %= ndim
    classes = np.arange(num_classes).reshape((num_classes,) + (1,) * (ndim - 1 - axis))
    hits = jnp.equal(jnp.expand_dims(x, axis), classes)
    return jnp.astype(hits, dtype)


# ----- Attention --------------------------------------------------------------------------

def dot_product_attention(query: Any, key: Any, value: Any, bias: Any = None,
                          mask: Any = None, *, scale: Any = None, is_causal: bool = False,
                          query_seq_lengths: Any = None, key_value_seq_lengths: Any = None,
                          local_window_size: Any = None, implementation: Any = None) -> Any:
    """Scaled dot-product attention, ``softmax(q k^T * scale + bias) v``, as JAX's.

    Shapes as JAX: ``query`` is ``[B, T, N, H]`` (or ``[T, N, H]``), ``key`` and
    ``value`` are ``[B, S, K, H]`` with ``N`` a multiple of ``K`` (grouped-query
    attention); ``bias`` and ``mask`` broadcast to ``[B, N, T, S]``; ``mask`` is
    boolean (True keeps). ``scale`` defaults to ``1 / sqrt(H)``. The result has
    ``query``'s shape.
    """
    name = "nanojax.nn.dot_product_attention"
    if implementation not in (None, "xla"):
        raise ValueError(f"{name}: implementation must be None or 'xla' here, got "
                         f"{implementation!r}")
    query, key, value = (_float("dot_product_attention", a) for a in (query, key, value))
    unbatched = jnp.ndim(query) == 3
    if unbatched:
        query, key, value = (jnp.expand_dims(a, 0) for a in (query, key, value))
    shapes = [jnp.shape(a) for a in (query, key, value)]
    if any(len(s) != 4 for s in shapes):
        raise ValueError(f"{name}: query, key and value must all be [B, T, N, H] or all "
                         f"[T, N, H], got shapes {shapes}")
    (b, t, n, h), (bk, s, k, hk), sv = shapes
    if sv != (bk, s, k, hk) or bk != b or hk != h or n % k:
        raise ValueError(f"{name}: key and value must be [B, S, K, H] with query's B and H "
                         f"and K dividing query's N, got query {shapes[0]}, key {shapes[1]}, "
                         f"value {shapes[2]}")
    scale = 1.0 / math.sqrt(h) if scale is None else scale
    grouped = jnp.reshape(query, (b, t, k, n // k, h))
    logits = jnp.einsum("btkgh,bskh->bkgts", grouped, key) * scale
    logits = jnp.reshape(logits, (b, n, t, s))
    if bias is not None:
        logits = logits + (jnp.expand_dims(bias, 0) if unbatched and jnp.ndim(bias) == 3
                           else bias)
    keep = None if mask is None else (jnp.expand_dims(mask, 0) if unbatched and
                                      jnp.ndim(mask) == 3 else mask)
    rows, cols = np.arange(t)[:, None], np.arange(s)[None, :]
    if is_causal:
        keep = _and(keep, rows >= cols)
    if local_window_size is not None:
        left, right = ((local_window_size, local_window_size)
                       if isinstance(local_window_size, int) else local_window_size)
        keep = _and(keep, (cols >= rows - left) & (cols <= rows + right))
    if query_seq_lengths is not None:
        q_len = jnp.reshape(query_seq_lengths, (b, 1, 1, 1))
        keep = _and(keep, jnp.less(np.arange(t).reshape(1, 1, t, 1), q_len))
    if key_value_seq_lengths is not None:
        kv_len = jnp.reshape(key_value_seq_lengths, (b, 1, 1, 1))
        keep = _and(keep, jnp.less(np.arange(s).reshape(1, 1, 1, s), kv_len))
    if keep is not None:
        # A large finite negative, as JAX: a fully masked row averages the values
        # instead of giving NaN.
        logits = jnp.where(keep, logits, np.finfo(P.dtype_of(logits)).min)
    weights = softmax(logits, axis=-1)
    out = jnp.einsum("bkgts,bskh->btkgh", jnp.reshape(weights, (b, k, n // k, t, s)), value)
    out = jnp.reshape(out, (b, t, n, h))
    return out[0] if unbatched else out


def _and(keep: Any, more: Any) -> Any:
    return more if keep is None else jnp.logical_and(keep, more)


from nanojax.nn import initializers  # noqa: E402  (it samples with nanojax.random)


__dir__ = public_dir(globals())


from nanojax.nn._logmeanexp import logmeanexp  # noqa: E402

from nanojax.array import export as _export_arrays  # noqa: E402

_export_arrays(globals())   # the public face hands out arrays with JAX's methods
