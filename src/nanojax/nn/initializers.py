"""Weight initializers, as ``jax.nn.initializers``: each ``init(key, shape, dtype)``.

``zeros`` and ``ones`` are initializers themselves; the rest are factories
that return one (``glorot_normal()(key, (784, 128))``). Fans follow JAX's
convention: a kernel's input axis is ``in_axis=-2``, its output axis
``out_axis=-1``, and the other axes (a convolution's window) multiply both
fans as the receptive field; ``batch_axis`` axes count in neither.

Examples:
    >>> import nanojax as nj
    >>> w = nj.nn.initializers.he_normal()(nj.random.key(0), (400, 300))
    >>> w.shape, bool(abs(w.std() - (2 / 400) ** 0.5) < 0.002)
    ((400, 300), True)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax import random

__all__ = ["constant", "delta_orthogonal", "glorot_normal", "glorot_uniform", "he_normal",
           "he_uniform", "kaiming_normal", "kaiming_uniform", "lecun_normal", "lecun_uniform",
           "normal", "ones", "orthogonal", "truncated_normal", "uniform", "variance_scaling",
           "xavier_normal", "xavier_uniform", "zeros"]

Initializer = Callable[..., Any]
_DEFAULT = np.float64


def _shape(shape: Any, fn: str) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        return tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"nanojax.nn.initializers.{fn}: shape must be an int or a tuple of "
                        f"ints, got {shape!r}") from None


def zeros(key: Any, shape: Any, dtype: Any = _DEFAULT) -> Any:
    """An array of zeros (the key is ignored)."""
    return jnp.zeros(_shape(shape, "zeros"), dtype)


def ones(key: Any, shape: Any, dtype: Any = _DEFAULT) -> Any:
    """An array of ones (the key is ignored)."""
    return jnp.ones(_shape(shape, "ones"), dtype)


def constant(value: Any, dtype: Any = _DEFAULT) -> Initializer:
    """An initializer filling with ``value`` (broadcast to the shape)."""
    def init(key: Any, shape: Any, dtype: Any = dtype) -> Any:
        return jnp.astype(jnp.broadcast_to(value, _shape(shape, "constant")), dtype)
    return init


def normal(stddev: float = 1e-2, dtype: Any = _DEFAULT) -> Initializer:
    """Normal samples with mean 0 and standard deviation ``stddev``."""
    def init(key: Any, shape: Any, dtype: Any = dtype) -> Any:
        return random.normal(key, _shape(shape, "normal"), dtype) * stddev
    return init


def uniform(scale: float = 1e-2, dtype: Any = _DEFAULT) -> Initializer:
    """Uniform samples in ``[0, scale)``."""
    def init(key: Any, shape: Any, dtype: Any = dtype) -> Any:
        return random.uniform(key, _shape(shape, "uniform"), dtype) * scale
    return init


def truncated_normal(stddev: float = 1e-2, dtype: Any = _DEFAULT, lower: float = -2.0,
                     upper: float = 2.0) -> Initializer:
    """``stddev`` times a standard normal truncated to ``[lower, upper]``."""
    def init(key: Any, shape: Any, dtype: Any = dtype) -> Any:
        return random.truncated_normal(key, lower, upper, _shape(shape, "truncated_normal"),
                                       dtype) * stddev
    return init


def _size(shape: tuple[int, ...], axes: int | Sequence[int]) -> int:
    axes = (axes,) if isinstance(axes, int) else tuple(axes)
    return math.prod(shape[a] for a in axes)


def _fans(shape: tuple[int, ...], in_axis: Any, out_axis: Any, batch_axis: Any,
          fn: str) -> tuple[float, float]:
    if len(shape) < 2:
        raise ValueError(f"nanojax.nn.initializers.{fn}: cannot compute fan-in and fan-out "
                         f"of a {len(shape)}-dimensional shape {shape}; it must be at least 2D")
    try:
        in_size, out_size = _size(shape, in_axis), _size(shape, out_axis)
        batch_size = _size(shape, batch_axis)
    except IndexError:
        raise ValueError(f"nanojax.nn.initializers.{fn}: in_axis {in_axis}, out_axis "
                         f"{out_axis} or batch_axis {batch_axis} is out of range for shape "
                         f"{shape}") from None
    receptive = math.prod(shape) / max(in_size * out_size * batch_size, 1)
    return in_size * receptive, out_size * receptive


# The standard deviation of a standard normal truncated to [-2, 2].
_TRUNCATED_STD = .87962566103423978


def variance_scaling(scale: float, mode: str, distribution: str, in_axis: Any = -2,
                     out_axis: Any = -1, batch_axis: Any = (),
                     dtype: Any = _DEFAULT) -> Initializer:
    """Samples with variance ``scale / fan``, ``fan`` chosen by ``mode``.

    ``mode``: ``"fan_in"``, ``"fan_out"``, ``"fan_avg"`` or ``"fan_geo_avg"``;
    ``distribution``: ``"truncated_normal"`` (in [-2, 2] standard deviations,
    rescaled to the variance), ``"normal"`` or ``"uniform"``.
    """
    name = "nanojax.nn.initializers.variance_scaling"
    if mode not in ("fan_in", "fan_out", "fan_avg", "fan_geo_avg"):
        raise ValueError(f"{name}: mode must be 'fan_in', 'fan_out', 'fan_avg' or "
                         f"'fan_geo_avg', got {mode!r}")
    if distribution not in ("truncated_normal", "normal", "uniform"):
        raise ValueError(f"{name}: distribution must be 'truncated_normal', 'normal' or "
                         f"'uniform', got {distribution!r}")

    def init(key: Any, shape: Any, dtype: Any = dtype) -> Any:
        shape = _shape(shape, "variance_scaling")
        fan_in, fan_out = _fans(shape, in_axis, out_axis, batch_axis, "variance_scaling")
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2,
               "fan_geo_avg": math.sqrt(fan_in * fan_out)}[mode]
        variance = scale / max(fan, 1.0)
        if distribution == "truncated_normal":
            return random.truncated_normal(key, -2.0, 2.0, shape, dtype) * (
                math.sqrt(variance) / _TRUNCATED_STD)
        if distribution == "normal":
            return random.normal(key, shape, dtype) * math.sqrt(variance)
        return random.uniform(key, shape, dtype, -1.0, 1.0) * math.sqrt(3 * variance)
    return init


def _family(scale: float, mode: str, distribution: str, name: str, doc: str) -> Any:
    def factory(in_axis: Any = -2, out_axis: Any = -1, batch_axis: Any = (),
                dtype: Any = _DEFAULT) -> Initializer:
        return variance_scaling(scale, mode, distribution, in_axis, out_axis, batch_axis,
                                dtype)
    factory.__name__ = factory.__qualname__ = name
    factory.__doc__ = doc
    return factory


glorot_uniform = _family(1.0, "fan_avg", "uniform", "glorot_uniform",
                         "Glorot/Xavier uniform: variance 2 / (fan_in + fan_out).")
glorot_normal = _family(1.0, "fan_avg", "truncated_normal", "glorot_normal",
                        "Glorot/Xavier truncated normal: variance 2 / (fan_in + fan_out).")
lecun_uniform = _family(1.0, "fan_in", "uniform", "lecun_uniform",
                        "LeCun uniform: variance 1 / fan_in.")
lecun_normal = _family(1.0, "fan_in", "truncated_normal", "lecun_normal",
                       "LeCun truncated normal: variance 1 / fan_in.")
he_uniform = _family(2.0, "fan_in", "uniform", "he_uniform",
                     "He/Kaiming uniform: variance 2 / fan_in.")
he_normal = _family(2.0, "fan_in", "truncated_normal", "he_normal",
                    "He/Kaiming truncated normal: variance 2 / fan_in.")
xavier_uniform, xavier_normal = glorot_uniform, glorot_normal
kaiming_uniform, kaiming_normal = he_uniform, he_normal


def orthogonal(scale: float = 1.0, column_axis: int = -1, dtype: Any = _DEFAULT) -> Initializer:
    """A (semi-)orthogonal matrix times ``scale``: columns along ``column_axis`` are
    orthonormal (or rows, when there are more columns than rows)."""
    def init(key: Any, shape: Any, dtype: Any = dtype) -> Any:
        shape = _shape(shape, "orthogonal")
        if len(shape) < 2:
            raise ValueError("nanojax.nn.initializers.orthogonal: needs a shape of at least 2 "
                             f"dimensions, got {shape}")
        n_cols = shape[column_axis]
        n_rows = math.prod(shape) // max(n_cols, 1)
        wide = n_rows < n_cols
        q = random.orthogonal(key, max(n_rows, n_cols), dtype=dtype, m=min(n_rows, n_cols))
        # random.orthogonal(n, m=k) has orthonormal columns: n x k.
        q = jnp.transpose(q) if wide else q
        rest = tuple(d for i, d in enumerate(shape) if i != column_axis % len(shape))
        q = jnp.reshape(q, rest + (n_cols,))
        return jnp.moveaxis(q, -1, column_axis) * scale
    return init


def delta_orthogonal(scale: float = 1.0, column_axis: int = -1,
                     dtype: Any = _DEFAULT) -> Initializer:
    """For convolution kernels (3 to 5 dimensions): zero except an orthogonal matrix at
    the centre of the window, so the convolution starts out norm-preserving."""
    def init(key: Any, shape: Any, dtype: Any = dtype) -> Any:
        shape = _shape(shape, "delta_orthogonal")
        name = "nanojax.nn.initializers.delta_orthogonal"
        if len(shape) not in (3, 4, 5):
            raise ValueError(f"{name}: needs a 3, 4 or 5-dimensional kernel shape, got {shape}")
        if shape[-2] > shape[-1]:
            raise ValueError(f"{name}: needs input channels <= output channels, got shape "
                             f"{shape}")
        centre = orthogonal(scale, column_axis, dtype)(key, shape[-2:])
        index = tuple(d // 2 for d in shape[:-2])
        return jnp.at(jnp.zeros(shape, dtype))[index].set(centre)
    return init


from nanojax.array import export as _export_arrays  # noqa: E402

_export_arrays(globals())   # the public face hands out arrays with JAX's methods
