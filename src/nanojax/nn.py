"""Activations and friends, written in ``jnp`` from primitives.

Examples:
    >>> import nanojax as nj
    >>> print(round(float(nj.nn.sigmoid(2.0)), 4))   # the guide's neuron: sig(2)
    0.8808
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax import primitives as P
from nanojax.core import Tracer
from nanojax.numpy._args import call_numpy, check_numeric
from nanojax.numpy._creation import plain_asarray

__all__ = ["relu", "sigmoid", "tanh", "softplus", "softmax", "log_softmax",
           "logsumexp", "one_hot"]

tanh = jnp.tanh


def relu(x: Any) -> Any:
    """``max(x, 0)``; its gradient at exactly 0 is 0, as in JAX; NaN passes through.

    One gate (``relu``) rather than ``maximum(x, 0)``: ``maximum`` splits the
    pull in half at a tie, and relu'(0) = 0 is the convention everyone uses.
    """
    if not isinstance(x, Tracer):
        return call_numpy("nn.relu", np.maximum, x, 0)
    return P.relu_p.bind(x)


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


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """``log(sum(exp(x)))`` over ``axis``, shifted by the max for stability."""
    shift = jnp.stop_gradient(jnp.max(x, axis=axis, keepdims=True))
    shift = jnp.where(jnp.less(jnp.abs(shift), np.inf), shift, 0.0)
    total = jnp.sum(jnp.exp(jnp.subtract(x, shift)), axis=axis, keepdims=True)
    out = jnp.add(jnp.log(total), shift)
    out = out if keepdims else jnp.squeeze(out, axis)
    # Outside a transformation a full reduction gives a NumPy scalar, as np.sum does.
    return out[()] if isinstance(out, np.ndarray) and out.ndim == 0 else out


def log_softmax(x: Any, axis: int = -1) -> Any:
    """``x - logsumexp(x)`` along ``axis``: log-probabilities."""
    return jnp.subtract(x, logsumexp(x, axis=axis, keepdims=True))


def softmax(x: Any, axis: int = -1) -> Any:
    """``exp(x) / sum(exp(x))`` along ``axis``: probabilities."""
    return jnp.exp(log_softmax(x, axis=axis))


def one_hot(labels: Any, num_classes: int, dtype: Any = np.float64) -> Any:
    """Rows of the identity picked by integer ``labels`` (no gradient).

    >>> one_hot([0, 2], 3)
    array([[1., 0., 0.],
           [0., 0., 1.]])
    """
    labels = plain_asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"nanojax.nn.one_hot: labels must be integers, got {labels.dtype}")
    hits = jnp.equal(jnp.expand_dims(labels, -1), np.arange(num_classes))
    return jnp.astype(hits, dtype)
