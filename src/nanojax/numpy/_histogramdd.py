"""``histogramdd``: the histogram of points in D dimensions.

Traced, each coordinate is binned as ``histogram`` bins it (one boolean per
sample and bin, the last bin closed on the right), and the D memberships are
multiplied into a ``(N, b_1, ..., b_D)`` array summed over the samples. The
counts have no gradient; ``weights`` and traced edges do.

Examples:
    >>> import numpy as np
    >>> import nanojax.numpy as jnp
    >>> counts, edges = jnp.histogramdd(np.array([[0.0, 0.0], [1.0, 1.0], [1.0, 0.0]]), bins=2)
    >>> counts
    array([[1., 0.],
           [1., 1.]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax.core import Tracer
from nanojax.numpy._args import call_numpy, error, has_tracer, operand
from nanojax.numpy._statistics import _edges, _one_hot_bins

__all__ = ["histogramdd"]


def _per_dimension(name: str, what: str, value: Any, d: int) -> list:
    if value is None or isinstance(value, (int, np.integer)):
        return [value] * d
    if isinstance(value, (list, tuple)) and len(value) == d:
        return list(value)
    if isinstance(value, (np.ndarray, Tracer)) and d == 1 and jnp.ndim(value) == 1:
        return [value]
    raise error(name, ValueError, f"The dimension of {what} must be equal to the dimension of "
                "the sample x.")


def histogramdd(sample: Any, bins: Any = 10, range: Any = None,  # noqa: A002 - NumPy's
                weights: Any = None, density: bool | None = None) -> tuple[Any, list]:
    """``(counts, edges)``: how many of the ``N`` points of ``sample`` (an ``(N, D)``
    array, or a sequence of D coordinate arrays) fall in each D-dimensional bin, as
    float64 (or how much ``weights``); ``edges`` is a list of D arrays."""
    name = "histogramdd"
    if not has_tracer((sample, bins, weights)) and not (
            isinstance(bins, (list, tuple)) and has_tracer(list(bins))):
        return call_numpy(name, np.histogramdd, sample, bins=bins, range=range,
                          weights=weights, density=density)
    if isinstance(sample, (list, tuple)):        # NumPy's reading: one entry per coordinate
        sample = jnp.stack([operand(s, name) for s in sample], axis=1)
    sample = operand(sample, name)
    if jnp.ndim(sample) == 1:
        sample = jnp.reshape(sample, (-1, 1))
    if jnp.ndim(sample) != 2:
        raise error(name, ValueError, f"sample must be (N, D), got shape {jnp.shape(sample)}")
    d = sample.shape[1]
    bins_d = _per_dimension(name, "bins", bins, d)
    range_d = _per_dimension(name, "range", range, d)
    stopped = jnp.stop_gradient(sample)
    edges, counts = [], None
    for i in np.arange(d):
        column = stopped[:, i]
        e = jnp.astype(_edges(name, column, bins_d[i], range_d[i]), np.float64)
        edges.append(e)
        inside = jnp.astype(_one_hot_bins(column, jnp.stop_gradient(e)), np.float64)
        counts = inside if counts is None else (
            jnp.expand_dims(counts, -1) * jnp.reshape(inside, inside.shape[:1]
                                                      + (1,) * (jnp.ndim(counts) - 1)
                                                      + inside.shape[1:]))
    if weights is not None:
        w = jnp.astype(operand(weights, name), np.float64)
        if jnp.shape(w) != sample.shape[:1]:
            raise error(name, ValueError, f"weights must have shape ({sample.shape[0]},), got "
                        f"{jnp.shape(w)}")
        counts = counts * jnp.reshape(w, (-1,) + (1,) * d)
    hist = jnp.sum(counts, axis=0)
    if density:
        hist = hist / jnp.sum(hist)
        for i, e in enumerate(edges):
            width = e[1:] - e[:-1]
            hist = hist / jnp.reshape(width, tuple(-1 if j == i else 1 for j in np.arange(d)))
    return hist, edges
