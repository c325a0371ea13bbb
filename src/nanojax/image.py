"""``jax.image``: ``resize`` and ``scale_and_translate``.

Every method but ``nearest`` is separable resampling: for each resized
dimension a weight matrix ``(in_size, out_size)`` says how much each input
sample contributes to each output sample (the kernel at the distance
between them, the kernel widened by the shrink factor when ``antialias``
and shrinking, each column normalized to sum 1), and the image is
contracted with it along that dimension. So the result is linear in the
image and differentiable in it, and ``scale_and_translate`` is
differentiable in ``scale`` and ``translation`` too. ``nearest`` picks, for
each output sample, the input sample its centre falls in.

Examples:
    >>> import numpy as np
    >>> import nanojax as nj
    >>> nj.image.resize(np.array([0.0, 1.0]), (4,), "linear")
    array([0.  , 0.25, 0.75, 1.  ])
    >>> nj.image.resize(np.array([0.0, 1.0]), (4,), "nearest")
    array([0., 0., 1., 1.])
"""

from __future__ import annotations

import enum
import math
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

import nanojax.numpy as jnp

__all__ = ["ResizeMethod", "resize", "scale_and_translate"]


class ResizeMethod(enum.Enum):
    """The resampling kernels, with the names ``resize`` accepts for each."""

    NEAREST = 0
    LINEAR = 1
    LANCZOS3 = 2
    LANCZOS5 = 3
    CUBIC = 4

    @staticmethod
    def from_string(s: str) -> ResizeMethod:
        names = {"nearest": ResizeMethod.NEAREST, "linear": ResizeMethod.LINEAR,
                 "bilinear": ResizeMethod.LINEAR, "trilinear": ResizeMethod.LINEAR,
                 "triangle": ResizeMethod.LINEAR, "lanczos3": ResizeMethod.LANCZOS3,
                 "lanczos5": ResizeMethod.LANCZOS5, "cubic": ResizeMethod.CUBIC,
                 "bicubic": ResizeMethod.CUBIC, "tricubic": ResizeMethod.CUBIC}
        if not isinstance(s, str) or s not in names:
            raise ValueError(f"nanojax.image: unknown resize method {s!r}; use one of "
                             f"{sorted(names)}")
        return names[s]


def _method(method: Any) -> ResizeMethod:
    return method if isinstance(method, ResizeMethod) else ResizeMethod.from_string(method)


def _triangle(x: Any) -> Any:
    return jnp.maximum(0.0, 1.0 - jnp.abs(x))


def _keys_cubic(x: Any) -> Any:
    """Keys' cubic convolution kernel with a = -0.5 (Catmull-Rom)."""
    x = jnp.abs(x)
    near = ((1.5 * x - 2.5) * x) * x + 1.0
    far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return jnp.where(x >= 2.0, 0.0, jnp.where(x >= 1.0, far, near))


def _lanczos(radius: float) -> Callable[[Any], Any]:
    def kernel(x: Any) -> Any:
        x = jnp.abs(x)
        safe = jnp.where(x > 1e-3, x, 1.0)      # sinc(0) = 1; no 0/0 in the gradient
        y = radius * jnp.sin(math.pi * safe) * jnp.sin(math.pi * safe / radius)
        out = jnp.where(x > 1e-3, y / (math.pi ** 2 * safe * safe), 1.0)
        return jnp.where(x > radius, 0.0, out)
    return kernel


_KERNELS = {ResizeMethod.LINEAR: _triangle, ResizeMethod.CUBIC: _keys_cubic,
            ResizeMethod.LANCZOS3: _lanczos(3.0), ResizeMethod.LANCZOS5: _lanczos(5.0)}


def _weights(in_size: int, out_size: int, scale: Any, translation: Any,
             kernel: Callable, antialias: bool) -> Any:
    """``(in_size, out_size)``: the weight of input sample i in output sample j."""
    inv_scale = 1.0 / scale
    # Shrinking widens the kernel (a low-pass filter, with antialias); growing only
    # interpolates.
    kernel_scale = jnp.maximum(inv_scale, 1.0) if antialias else 1.0
    # Output sample j's centre, in input coordinates (samples sit at i + 0.5).
    centre = (np.arange(out_size) + 0.5) * inv_scale - translation * inv_scale - 0.5
    w = kernel(jnp.abs(jnp.reshape(centre, (1, -1)) - np.arange(in_size).reshape(-1, 1))
               / kernel_scale)
    total = jnp.sum(w, axis=0, keepdims=True)
    w = jnp.where(jnp.abs(total) > 1000.0 * float(np.finfo(np.float32).eps),
                  w / jnp.where(total != 0, total, 1.0), 0.0)
    inside = jnp.logical_and(centre >= -0.5, centre <= in_size - 0.5)
    return jnp.where(jnp.reshape(inside, (1, -1)), w, 0.0)


def _float(image: Any) -> Any:
    image = jnp.asarray(image)
    return image if jnp.result_type(image).kind in "fc" else jnp.astype(image, np.float64)


def _resample(image: Any, shape: tuple, dims: Sequence[int], scales: Sequence[Any],
              translations: Sequence[Any], kernel: Callable, antialias: bool) -> Any:
    out = _float(image)
    dtype = jnp.result_type(out)
    for d, s, t in zip(dims, scales, translations):
        w = jnp.astype(_weights(out.shape[d], shape[d], s, t, kernel, antialias), dtype)
        out = jnp.moveaxis(jnp.tensordot(out, w, axes=([d], [0])), -1, d)
    return out


def _check_shape(who: str, image: Any, shape: Any) -> tuple[int, ...]:
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"nanojax.image.{who}: shape must be a tuple of ints, got "
                        f"{shape!r}") from None
    if len(shape) != jnp.ndim(image):
        raise ValueError(f"nanojax.image.{who}: shape must have length equal to the number of "
                         f"dimensions of x; {shape} vs {jnp.shape(image)}")
    if any(s < 0 for s in shape):
        raise ValueError(f"nanojax.image.{who}: shape must be non-negative, got {shape}")
    return shape


def resize(image: Any, shape: Sequence[int], method: Any, antialias: bool = True,
           precision: Any = None) -> Any:
    """``image`` resampled to ``shape`` (every dimension may change; batch and channel
    dimensions simply keep their size) with ``method``: ``nearest``, ``linear``
    (``bilinear``, ``trilinear``, ``triangle``), ``cubic`` (``bicubic``, ``tricubic``),
    ``lanczos3`` or ``lanczos5``. ``antialias`` low-pass filters when shrinking (not
    for ``nearest``)."""
    image = jnp.asarray(image)
    shape = _check_shape("resize", image, shape)
    kind = _method(method)
    changed = [d for d in range(len(shape)) if image.shape[d] != shape[d]]
    if kind is ResizeMethod.NEAREST:
        out = image
        for d in changed:
            n, m = image.shape[d], shape[d]
            index = np.floor((np.arange(m) + 0.5) * n / m).astype(np.int64)
            out = jnp.take(out, np.minimum(index, n - 1), axis=d)
        return out
    for d in changed:
        if image.shape[d] == 0:
            raise ValueError(f"nanojax.image.resize: cannot resize dimension {d} of size 0 "
                             f"to {shape[d]}")
    scales = [shape[d] / image.shape[d] for d in changed]
    return _resample(image, shape, changed, scales, [0.0] * len(changed), _KERNELS[kind],
                     antialias)


def scale_and_translate(image: Any, shape: Sequence[int], spatial_dims: Sequence[int],
                        scale: Any, translation: Any, method: Any = "linear",
                        antialias: bool = True, precision: Any = None) -> Any:
    """``image`` resampled to ``shape`` along ``spatial_dims``, output sample ``o`` reading
    the input at ``(o + 0.5 - translation) / scale - 0.5``; ``scale`` and
    ``translation`` (one entry per spatial dimension) may be traced."""
    image = jnp.asarray(image)
    shape = _check_shape("scale_and_translate", image, shape)
    kind = _method(method)
    if kind is ResizeMethod.NEAREST:
        raise ValueError("nanojax.image.scale_and_translate: the nearest method is not "
                         "supported (as in JAX); use linear, cubic or lanczos")
    dims = [int(d) % len(shape) for d in spatial_dims]
    scale, translation = jnp.asarray(scale), jnp.asarray(translation)
    if jnp.shape(scale) != (len(dims),) or jnp.shape(translation) != (len(dims),):
        raise ValueError(f"nanojax.image.scale_and_translate: scale and translation must "
                         f"have one entry per spatial dimension ({len(dims)}), got shapes "
                         f"{jnp.shape(scale)} and {jnp.shape(translation)}")
    for d in range(len(shape)):
        if d not in dims and image.shape[d] != shape[d]:
            raise ValueError(f"nanojax.image.scale_and_translate: dimension {d} is not "
                             f"spatial, so it must keep its size {image.shape[d]}, not "
                             f"{shape[d]}")
    return _resample(image, shape, dims, [scale[i] for i in range(len(dims))],
                     [translation[i] for i in range(len(dims))], _KERNELS[kind], antialias)


from nanojax.array import export as _export_arrays  # noqa: E402

_export_arrays(globals())   # the public face hands out arrays with JAX's methods
