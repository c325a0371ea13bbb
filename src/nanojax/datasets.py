"""Small datasets to train on, as plain NumPy arrays.

The guide's own data (``hackers_guide``, ``hackers_guide_cost``), two toy
problems that need more than a line to separate (``spiral``, ``blobs``),
``train_val_split`` for the held-out data that Chapter 3 uses to choose a step
size or a regularization strength, and a short text (``sonnets``) for Chapter
4's recurrent net. Anything random takes a key (``nj.random.key(seed)``): the
same key gives the same data.

Every function but ``sonnets`` returns ``X`` of shape (N, features), float64,
and integer labels ``y`` of shape (N,): ±1 for the guide's binary problems,
class indices 0 .. n_classes-1 for the others.

Examples:
    >>> import nanojax as nj
    >>> X, y = nj.datasets.hackers_guide()
    >>> X.shape, y.tolist()
    ((6, 2), [1, -1, 1, -1, -1, 1])
"""

from __future__ import annotations

from importlib import resources
from typing import Any

import numpy as np

from nanojax import random

__all__ = ["hackers_guide", "hackers_guide_cost", "spiral", "blobs", "train_val_split", "sonnets"]


def hackers_guide() -> tuple[np.ndarray, np.ndarray]:
    """The six labelled points the guide trains its SVM and 2-layer net on.

    Returns:
        ``X``, float64 of shape (6, 2), and labels ``y``, int64 of shape (6,),
        each +1 or -1.

    Examples:
        >>> X, y = hackers_guide()
        >>> print(X[0], y[0])
        [1.2 0.7] 1
    """
    X = np.array([[1.2, 0.7], [-0.3, -0.5], [3.0, 0.1], [-0.1, -1.0], [-1.0, 1.1],
                  [2.1, -3.0]])
    return X, np.array([1, -1, 1, -1, -1, 1])


def hackers_guide_cost() -> tuple[np.ndarray, np.ndarray]:
    """The three points of the guide's SVM cost example ("Loss Functions").

    With ``w = [0.1, 0.2, 0.3]`` and ``alpha = 0.1`` the guide's cost is 1.815.

    Returns:
        ``X``, float64 of shape (3, 2), and labels ``y``, int64 of shape (3,).

    Examples:
        >>> import numpy as np
        >>> X, y = hackers_guide_cost()
        >>> w = np.array([0.1, 0.2, 0.3])
        >>> costs = np.maximum(0, 1 - y * (X @ w[:2] + w[2]))
        >>> print(costs.round(3), round(costs.sum() + 0.1 * (w[:2] ** 2).sum(), 3))
        [0.44 1.37 0.  ] 1.815
    """
    return np.array([[1.2, 0.7], [-0.3, 0.5], [3.0, 2.5]]), np.array([1, -1, 1])


def _positive_int(value: Any, name: str, fn: str) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"nanojax.datasets.{fn}: {name} must be a positive integer, got {value!r}")
    return int(value)


def spiral(key: Any, n_per_class: int = 100, n_classes: int = 3,
           noise: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class (the CS231n toy problem).

    Arm ``j`` has radius ``linspace(0, 1)`` and angle ``linspace(4j, 4(j+1))``
    plus Gaussian noise of std ``noise``. No line separates the classes, so a
    linear classifier stays near chance while a small net does well. Points
    come in class order; ``train_val_split`` shuffles them.

    Args:
        key: a random key, for the angle noise.
        n_per_class: points on each arm.
        n_classes: number of arms (classes).
        noise: standard deviation of the noise added to each angle.

    Returns:
        ``X``, float64 of shape (n_per_class * n_classes, 2), and ``y``, int64
        class indices.

    Examples:
        >>> import nanojax as nj
        >>> X, y = spiral(nj.random.key(0), n_per_class=50)
        >>> X.shape, sorted(set(y.tolist())), bool(abs(X).max() <= 1)
        ((150, 2), [0, 1, 2], True)
    """
    n = _positive_int(n_per_class, "n_per_class", "spiral")
    k = _positive_int(n_classes, "n_classes", "spiral")
    radius = np.tile(np.linspace(0.0, 1.0, n), k)
    start = 4.0 * np.arange(k)[:, None]
    angle = (start + np.linspace(0.0, 4.0, n)).ravel()
    angle = angle + noise * np.asarray(random.normal(key, (k * n,)))
    X = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1)
    return X, np.repeat(np.arange(k), n)


def blobs(key: Any, n_per_class: int = 50, centers: Any = 3,
          std: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clouds of points, one per class, around given centers.

    Args:
        key: a random key, for the points.
        n_per_class: points around each center.
        centers: an int ``k`` puts ``k`` centers evenly on a circle of radius 3
            in the plane (well apart for the default ``std``); an array of
            shape (k, features) uses those centers, in any dimension.
        std: standard deviation of each cloud, along every axis.

    Returns:
        ``X``, float64 of shape (n_per_class * k, features), and ``y``, int64
        class indices in center order.

    Examples:
        >>> import nanojax as nj
        >>> X, y = blobs(nj.random.key(0), n_per_class=100, centers=[[0, 0], [5, 5]])
        >>> X.shape, y.tolist().count(1)
        ((200, 2), 100)
        >>> print(X[y == 1].mean(axis=0).round())
        [5. 5.]
    """
    n = _positive_int(n_per_class, "n_per_class", "blobs")
    if isinstance(centers, (int, np.integer)):
        k = _positive_int(centers, "centers (a count)", "blobs")
        angle = 2 * np.pi * np.arange(k) / k
        centers = 3.0 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    centers = np.asarray(centers, dtype=np.float64)
    if centers.ndim != 2 or len(centers) == 0:
        raise ValueError(f"nanojax.datasets.blobs: centers must be an int or an array of shape "
                         f"(n_classes, features), got shape {centers.shape}")
    k, d = centers.shape
    X = np.repeat(centers, n, axis=0) + std * np.asarray(random.normal(key, (k * n, d)))
    return X, np.repeat(np.arange(k), n)


def train_val_split(key: Any, X: Any, y: Any, val_fraction: float = 0.2
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle the examples with ``key`` and hold out a fraction for validation.

    The validation set has ``round(N * val_fraction)`` examples, at least one,
    and leaves at least one for training. Use it to choose what training cannot
    (step size, regularization strength, hidden size), never to fit params.

    Args:
        key: a random key, for the shuffle.
        X: inputs, one example per row.
        y: labels, one per row of ``X``.
        val_fraction: the share of examples to hold out, strictly between 0 and 1.

    Returns:
        ``(X_train, y_train, X_val, y_val)``, NumPy arrays; together they hold
        each example exactly once.

    Examples:
        >>> import nanojax as nj
        >>> X, y = nj.datasets.spiral(nj.random.key(0))
        >>> X_tr, y_tr, X_val, y_val = train_val_split(nj.random.key(1), X, y, 0.2)
        >>> X_tr.shape, X_val.shape
        ((240, 2), (60, 2))
    """
    X, y = np.asarray(X), np.asarray(y)
    if not 0 < val_fraction < 1:
        raise ValueError("nanojax.datasets.train_val_split: val_fraction must be strictly between "
                         f"0 and 1, got {val_fraction!r}")
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ValueError(f"nanojax.datasets.train_val_split: X and y need one row per example, got "
                         f"shapes {X.shape} and {y.shape}")
    total = len(X)
    if total < 2:
        raise ValueError("nanojax.datasets.train_val_split: need at least 2 examples to split, "
                         f"got {total}")
    n_val = min(max(round(total * val_fraction), 1), total - 1)
    order = np.asarray(random.permutation(key, total))
    val, train = order[:n_val], order[n_val:]
    return X[train], y[train], X[val], y[val]


def sonnets() -> str:
    """Five of Shakespeare's sonnets (18, 29, 73, 116 and 130) as one string, about 3 KB.

    Public domain: the 1609 sonnets in the modern spelling of the usual
    editions, each headed by its number in Roman numerals. Chapter 4 trains
    a character-level recurrent net on it. The text ships with the package
    (``nanojax/data/sonnets.txt``), so no download is needed.

    Examples:
        >>> text = sonnets()
        >>> text.splitlines()[2]
        "Shall I compare thee to a summer's day?"
        >>> len(text), len(set(text))
        (3111, 53)
    """
    return (resources.files("nanojax") / "data" / "sonnets.txt").read_text(encoding="utf-8")


from nanojax.array import export as _export_arrays  # noqa: E402

_export_arrays(globals())   # the public face hands out arrays with JAX's methods
