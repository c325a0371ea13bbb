"""Losses: how unhappy a classifier is, one number per example.

Argument order follows optax: predictions (scores, logits) first, targets
second. Every loss returns a per-example array and the caller reduces it
(``jnp.mean`` or ``jnp.sum``), so the same function serves a batch, a single
example, and ``vmap``. ``l2_penalty`` / ``l1_penalty`` are the guide's
regularization pull: they look at a whole params pytree and, by default,
only at its weights (leaves with two or more dimensions, such as a
``Dense`` kernel), never at its biases.

Labels are checked when they are concrete: hinge labels must be +1 or -1,
class labels integers in ``[0, num_classes)``, and batch sizes must agree.
Under ``jit`` or ``vmap`` labels are abstract, so only shapes and dtypes
are checked.

Examples:
    The guide's SVM cost (Chapter 2), with ``w = [0.1, 0.2, 0.3]`` split into
    a weight column and a bias, and ``alpha = 0.1``:

    >>> import numpy as np
    >>> X = np.array([[1.2, 0.7], [-0.3, 0.5], [3.0, 2.5]])
    >>> y = np.array([1, -1, 1])
    >>> params = {"W": np.array([[0.1], [0.2]]), "b": np.array([0.3])}
    >>> scores = (X @ params["W"] + params["b"])[:, 0]
    >>> costs = hinge(scores, y)
    >>> for i, cost in enumerate(costs):
    ...     print(f"cost for example {i} is {cost:.3f}")
    cost for example 0 is 0.440
    cost for example 1 is 1.370
    cost for example 2 is 0.000
    >>> reg_cost = 0.1 * l2_penalty(params)        # pulls on W only, not on b
    >>> print(f"regularization cost for current model is {reg_cost:.3f}")
    regularization cost for current model is 0.005
    >>> print(f"total cost is {costs.sum() + reg_cost:.3f}")
    total cost is 1.815
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax import nn
from nanojax.core import Tracer
from nanojax.tree_util import tree_leaves
from nanojax.numpy._creation import plain_asarray

__all__ = ["hinge", "squared_hinge", "multiclass_hinge", "softmax_cross_entropy",
           "squared_error", "mse", "l2_penalty", "l1_penalty"]


# ----- Checks: shapes always, label values only when they are concrete ---------------

def _check_same_shape(fn: str, predictions: Any, targets: Any, names: str) -> None:
    p, t = jnp.shape(predictions), jnp.shape(targets)
    if p != t:
        hint = " (squeeze the scores' last axis)" if p == t + (1,) else ""
        raise ValueError(f"nanojax.losses.{fn}: expected {names} of the same shape, "
                         f"got {p} and {t}{hint}")


def _check_plus_minus_one(fn: str, labels: Any) -> None:
    if isinstance(labels, Tracer):
        return
    bad = np.unique(labels[(labels != 1) & (labels != -1)])
    if bad.size:
        raise ValueError(f"nanojax.losses.{fn}: labels must be +1 or -1, got {bad.tolist()[:5]} "
                         "(0/1 labels y become +1/-1 as 2 * y - 1)")


def _check_class_labels(fn: str, scores: Any, labels: Any) -> int:
    """Labels are integer class indices, one per row of scores; returns num_classes."""
    s, y = jnp.shape(scores), jnp.shape(labels)
    if len(s) == 0:
        raise ValueError(f"nanojax.losses.{fn}: expected scores of shape (..., num_classes), "
                         "got a scalar")
    if labels.dtype.kind not in "iu":
        raise TypeError(f"nanojax.losses.{fn}: labels must be integer class indices, got dtype "
                        f"{labels.dtype}")
    if y != s[:-1]:
        raise ValueError(f"nanojax.losses.{fn}: expected one label per row of scores, i.e. labels "
                         f"of shape {s[:-1]} for scores of shape {s}, got labels of shape {y}")
    num_classes = s[-1]
    if not isinstance(labels, Tracer) and labels.size and (
            labels.min() < 0 or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)]
        raise ValueError(f"nanojax.losses.{fn}: labels must be in [0, {num_classes}) for "
                         f"{num_classes} classes, got {np.unique(bad).tolist()[:5]}")
    return num_classes


# ----- Binary: labels +1 / -1 -----------------------------------------------------------

def hinge(scores: Any, labels: Any) -> Any:
    """The SVM's loss, ``max(0, 1 - label * score)``, per example.

    Zero once a score is on the right side of its label by a margin of at
    least 1; otherwise it grows linearly: the guide's "pull" on the score is
    ``label`` while the example is inside the margin, 0 after.

    Args:
        scores: real scores, any shape.
        labels: +1 or -1, the same shape as ``scores``.

    Returns:
        The per-example losses, shaped like ``scores``.

    Examples:
        >>> hinge([0.56, 0.37, 1.1], [1, -1, 1]).round(3)
        array([0.44, 1.37, 0.  ])
    """
    scores, labels = plain_asarray(scores), plain_asarray(labels)
    _check_same_shape("hinge", scores, labels, "scores and labels")
    _check_plus_minus_one("hinge", labels)
    # relu, not maximum: exactly on the margin the pull is 0, not half of it.
    return nn.relu(1.0 - labels * scores)


def squared_hinge(scores: Any, labels: Any) -> Any:
    """``max(0, 1 - label * score) ** 2``: a hinge that is smooth at the margin.

    Examples:
        >>> squared_hinge([0.5, -3.0], [1, -1]).round(3)
        array([0.25, 0.  ])
    """
    return jnp.square(hinge(scores, labels))


# ----- Multiclass: integer labels ----------------------------------------------------------

def multiclass_hinge(scores: Any, labels: Any) -> Any:
    """The structured SVM loss: ``sum over j != y of max(0, s_j - s_y + 1)``.

    Each wrong class is pushed to score at least 1 below the right class ``y``.

    Args:
        scores: shape ``(..., num_classes)``.
        labels: integer classes in ``[0, num_classes)``, shape ``scores.shape[:-1]``.

    Returns:
        The per-example losses, shape ``scores.shape[:-1]``.

    Examples:
        >>> scores = [[3.2, 5.1, -1.7], [1.3, 4.9, 2.0]]
        >>> multiclass_hinge(scores, [0, 1]).round(2)   # 2.9 + 0 for the first
        array([2.9, 0. ])
    """
    scores, labels = plain_asarray(scores), plain_asarray(labels)
    num_classes = _check_class_labels("multiclass_hinge", scores, labels)
    # Picked and masked out, never multiplied by a one-hot: -inf * 0 is NaN,
    # and masked logits (-inf) are common.
    correct = _at_labels(scores, labels)
    margins = nn.relu(scores - jnp.expand_dims(correct, -1) + 1.0)
    is_label = jnp.equal(jnp.expand_dims(labels, -1), np.arange(num_classes))
    return jnp.sum(jnp.where(is_label, 0.0, margins), axis=-1)


def _at_labels(values: Any, labels: Any) -> Any:
    """``values[..., label]`` for each row: a gather, so its pull lands on the label only."""
    return jnp.take_along_axis(values, jnp.expand_dims(labels, -1), axis=-1)[..., 0]


def softmax_cross_entropy(logits: Any, labels: Any) -> Any:
    """``-log softmax(logits)[label]``, per example, computed stably.

    optax's name for this is ``softmax_cross_entropy_with_integer_labels``;
    one-hot targets are not taken here.

    Args:
        logits: unnormalized log-probabilities, shape ``(..., num_classes)``.
        labels: integer classes in ``[0, num_classes)``, shape ``logits.shape[:-1]``.

    Returns:
        The per-example losses, shape ``logits.shape[:-1]``.

    Examples:
        >>> print(softmax_cross_entropy([[0.0, 0.0]], [1]).round(4))   # log 2
        [0.6931]
        >>> print(softmax_cross_entropy([[1000.0, 0.0], [0.0, 1000.0]], [0, 0]))  # no overflow
        [   0. 1000.]
    """
    logits, labels = plain_asarray(logits), plain_asarray(labels)
    _check_class_labels("softmax_cross_entropy", logits, labels)
    # 0 - x, not -x: a perfect prediction costs 0.0, not -0.0.
    return jnp.subtract(0.0, _at_labels(nn.log_softmax(logits, axis=-1), labels))


# ----- Regression ------------------------------------------------------------------------

def squared_error(predictions: Any, targets: Any) -> Any:
    """``(predictions - targets) ** 2``, elementwise (optax's ``squared_error``).

    Examples:
        >>> squared_error([1.0, 2.0], [0.0, 4.0])
        array([1., 4.])
    """
    predictions, targets = plain_asarray(predictions), plain_asarray(targets)
    _check_same_shape("squared_error", predictions, targets, "predictions and targets")
    return jnp.square(predictions - targets)


def mse(predictions: Any, targets: Any) -> Any:
    """Mean squared error per example: the mean over every axis after the first.

    A 1-D input is N examples of one value each, so there the result is the
    elementwise ``squared_error``; a scalar gives a scalar.

    Examples:
        >>> mse([[1.0, 2.0], [0.0, 0.0]], [[1.0, 4.0], [3.0, 1.0]])
        array([2., 5.])
    """
    err = squared_error(predictions, targets)
    return jnp.mean(err, axis=tuple(range(1, jnp.ndim(err)))) if jnp.ndim(err) > 1 else err


# ----- Regularization: the pull of every weight toward zero ---------------------------------

def _is_weight(leaf: Any) -> bool:
    return jnp.ndim(leaf) >= 2


def _penalty(params: Any, predicate: Callable[[Any], bool] | None,
             per_leaf: Callable[[Any], Any]) -> Any:
    predicate = _is_weight if predicate is None else predicate
    total = 0.0
    for leaf in tree_leaves(params):
        if predicate(leaf):
            total = total + jnp.sum(per_leaf(leaf))
    return total


def l2_penalty(params: Any, predicate: Callable[[Any], bool] | None = None) -> Any:
    """The sum of the squares of the weights in a params pytree.

    Multiply by a strength ``alpha`` and add to the loss: its gradient is
    the guide's spring, ``2 * alpha * w``, pulling each weight toward zero.

    Args:
        params: any pytree of arrays.
        predicate: ``predicate(leaf) -> bool`` chooses the leaves to include.
            By default a leaf is a weight if it has two or more dimensions (a
            ``Dense`` kernel), so biases and other vectors are left alone.

    Returns:
        A scalar (0.0 when no leaf is chosen).

    Examples:
        >>> import numpy as np
        >>> params = [(np.array([[1.0, 2.0]]), np.array([5.0]))]   # (W, b)
        >>> print(l2_penalty(params))
        5.0
        >>> print(l2_penalty(params, predicate=lambda leaf: True))   # b too
        30.0
    """
    return _penalty(params, predicate, jnp.square)


def l1_penalty(params: Any, predicate: Callable[[Any], bool] | None = None) -> Any:
    """The sum of the absolute values of the weights in a params pytree.

    Chooses leaves as ``l2_penalty`` does; its pull on a weight is the same
    size whatever the weight's magnitude, which drives small weights to zero.

    Examples:
        >>> import numpy as np
        >>> params = [(np.array([[1.0, -2.0]]), np.array([5.0]))]
        >>> print(l1_penalty(params))
        3.0
    """
    return _penalty(params, predicate, jnp.abs)


from nanojax.array import export as _export_arrays  # noqa: E402

_export_arrays(globals())   # the public face hands out arrays with JAX's methods
