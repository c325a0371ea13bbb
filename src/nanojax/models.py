"""Layers as pairs of pure functions, the shape of ``jax.example_libraries.stax``.

A layer is a pair ``(init_fn, apply_fn)``:

- ``init_fn(key, input_shape) -> (output_shape, params)``: ``input_shape``
  may hold ``-1`` (or ``None``) for the batch dimension, which passes through
  to ``output_shape`` untouched;
- ``apply_fn(params, inputs, **kwargs) -> outputs``: every layer accepts, and
  ignores, the keyword arguments it has no use for, so a combinator can pass
  ``key=`` and ``train=`` to all of its layers.

Params are pytrees of arrays (tuples, ``()`` for a layer without any) that the
caller holds; nothing here keeps state, so models work under ``nj.grad``,
``nj.jit`` and ``nj.vmap``.

Naming, as in stax: layers and layer constructors are CamelCase (``Dense(3)``,
``Relu``; a layer without parameters or options is a value, not a call);
combinators, model builders and initializers are snake_case (``serial``,
``mlp``, ``glorot_normal``).

Examples:
    >>> import nanojax as nj
    >>> from nanojax import models
    >>> init, apply = models.serial(models.Dense(3), models.Relu, models.Dense(1))
    >>> out_shape, params = init(nj.random.key(0), (-1, 2))
    >>> out_shape
    (-1, 1)
    >>> apply(params, [[1.2, 0.7], [-0.3, -0.5]]).shape
    (2, 1)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np

from nanojax.api_util import public_dir

import nanojax.numpy as jnp
from nanojax import nn, random
from nanojax.core import Tracer

__all__ = ["Dense", "Relu", "Sigmoid", "Tanh", "Dropout", "serial", "svm", "mlp",
           "initializers", "normal", "uniform", "glorot_normal", "xavier_normal",
           "he_normal", "zeros", "ones"]

Layer = tuple[Callable[..., Any], Callable[..., Any]]  # (init_fn, apply_fn)
Initializer = Callable[..., Any]  # (key, shape, dtype=float64) -> array


# ----- Initializers ---------------------------------------------------------------
# Why initialization matters: each layer multiplies the spread of its inputs by
# roughly (weight std) * sqrt(fan_in). Much below 1 and, layer after layer, the
# activations (and the gradients flowing back) shrink towards zero; much above 1
# and tanh/sigmoid units saturate. Glorot and He pick the std that keeps that
# factor near 1 for tanh and ReLU nets respectively.

def zeros(key: Any, shape: Sequence[int], dtype: Any = np.float64) -> np.ndarray:
    """All zeros, whatever the key (the usual choice for biases)."""
    return jnp.zeros(shape, dtype)


def ones(key: Any, shape: Sequence[int], dtype: Any = np.float64) -> np.ndarray:
    """All ones, whatever the key."""
    return jnp.ones(shape, dtype)


def _real(fn: str, name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"nanojax.models.{fn}: {name} must be a real number, got "
                        f"{type(value).__name__} ({value!r:.40})")


def _positive_int(fn: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise TypeError(f"nanojax.models.{fn}: {name} must be a positive integer, got "
                        f"{type(value).__name__} ({value!r:.40})")
    return int(value)


def normal(stddev: float = 1e-2) -> Initializer:
    """Gaussian samples with mean 0 and standard deviation ``stddev``.

    Examples:
        >>> import nanojax as nj
        >>> w = normal(0.1)(nj.random.key(0), (1000,))
        >>> print(round(float(w.std()), 1))
        0.1
    """
    _real("normal", "stddev", stddev)

    def init(key: Any, shape: Sequence[int], dtype: Any = np.float64) -> Any:
        return jnp.multiply(random.normal(key, shape, dtype), stddev)
    return init


def uniform(scale: float = 0.5) -> Initializer:
    """Uniform samples in ``[-scale, scale)``; the guide's ``Math.random() - 0.5``.

    Symmetric around zero, unlike JAX's ``uniform(scale)``, which samples in
    ``[0, scale)``: a weight should be as likely negative as positive.

    Examples:
        >>> import nanojax as nj
        >>> w = uniform()(nj.random.key(0), (1000,))
        >>> bool(w.min() >= -0.5 and w.max() < 0.5)
        True
    """
    _real("uniform", "scale", scale)

    def init(key: Any, shape: Sequence[int], dtype: Any = np.float64) -> Any:
        return random.uniform(key, shape, dtype, minval=-scale, maxval=scale)
    return init


def _fans(shape: Sequence[int], fn: str, in_axis: int = -2, out_axis: int = -1,
          batch_axis: Sequence[int] | int = ()) -> tuple[int, int]:
    """Fan-in and fan-out of a weight, as ``jax.nn.initializers`` counts them.

    Every axis that is neither ``in_axis``, ``out_axis`` nor a batch axis is
    part of the receptive field (a conv kernel's spatial axes), which
    multiplies both fans.
    """
    if len(shape) < 2:
        raise ValueError(f"nanojax.models.{fn}: needs a weight shape with at least 2 dimensions "
                         f"(fan_in, fan_out), got {tuple(shape)}")
    batch = (batch_axis,) if isinstance(batch_axis, int) else tuple(batch_axis)
    n = len(shape)
    special = {a % n for a in (in_axis, out_axis, *batch)}
    receptive = math.prod(d for a, d in enumerate(shape) if a not in special)
    return shape[in_axis] * receptive, shape[out_axis] * receptive


def glorot_normal(in_axis: int = -2, out_axis: int = -1,
                  batch_axis: Sequence[int] | int = ()) -> Initializer:
    """Gaussian with variance ``2 / (fan_in + fan_out)`` (Glorot & Bengio, 2010).

    Keeps the spread of activations and of gradients about constant through
    tanh and sigmoid layers. (JAX truncates the Gaussian; this one does not.)
    ``in_axis``, ``out_axis`` and ``batch_axis`` say which axes of the weight
    are its inputs, outputs and batch, as in ``jax.nn.initializers``: a conv
    kernel in HWIO layout is ``glorot_normal(2, 3)``.

    Examples:
        >>> import nanojax as nj
        >>> w = glorot_normal()(nj.random.key(0), (300, 100))
        >>> print(round(float(w.std()), 2))   # sqrt(2 / 400)
        0.07
    """
    def init(key: Any, shape: Sequence[int], dtype: Any = np.float64) -> Any:
        fan_in, fan_out = _fans(shape, "glorot_normal", in_axis, out_axis, batch_axis)
        return jnp.multiply(random.normal(key, shape, dtype), math.sqrt(2 / (fan_in + fan_out)))
    return init


xavier_normal = glorot_normal


def he_normal() -> Initializer:
    """Gaussian with variance ``2 / fan_in`` (He et al., 2015), for ReLU layers.

    A ReLU zeroes half of its inputs, halving the variance; the factor 2 puts
    it back.

    Examples:
        >>> import nanojax as nj
        >>> w = he_normal()(nj.random.key(0), (200, 100))
        >>> print(round(float(w.std()), 2))   # sqrt(2 / 200)
        0.1
    """
    def init(key: Any, shape: Sequence[int], dtype: Any = np.float64) -> Any:
        fan_in, _ = _fans(shape, "he_normal")
        return jnp.multiply(random.normal(key, shape, dtype), math.sqrt(2 / fan_in))
    return init


# One place to find them all, as ``jax.nn.initializers``.
initializers = SimpleNamespace(zeros=zeros, ones=ones, normal=normal, uniform=uniform,
                               glorot_normal=glorot_normal, xavier_normal=xavier_normal,
                               he_normal=he_normal)


# ----- Layers ---------------------------------------------------------------------

def _features(shape: Sequence[Any], where: str) -> int:
    if len(shape) == 0 or shape[-1] in (None, -1):
        raise ValueError(f"{where}: the input shape must end in a known number of "
                         f"features, got {tuple(shape)}")
    return int(shape[-1])


def Dense(n: int, W_init: Initializer | None = None,
          b_init: Initializer = zeros) -> Layer:
    """A fully connected layer: ``inputs @ W + b``, with ``W`` of shape (in, n).

    Params are the tuple ``(W, b)``. Inputs may be one example, shape
    ``(in,)``, or a batch, shape ``(..., in)``; other feature counts raise a
    ``ValueError`` (under ``jit`` too, since shapes are known while tracing).

    Args:
        n: the number of outputs (neurons).
        W_init: initializer for ``W``; ``glorot_normal()`` by default.
        b_init: initializer for ``b``; zeros by default.

    Examples:
        >>> import nanojax as nj
        >>> init, apply = Dense(3)
        >>> out_shape, (W, b) = init(nj.random.key(0), (-1, 2))
        >>> out_shape, W.shape, b.shape
        ((-1, 3), (2, 3), (3,))
        >>> apply((W, b), [[1.0, 2.0, 3.0]])
        Traceback (most recent call last):
        ...
        ValueError: nanojax.models.Dense: expected inputs with 2 features on the last axis,
        got shape (1, 3)
    """
    return _dense("nanojax.models.Dense", n, glorot_normal() if W_init is None else W_init,
                  b_init)


def _dense(where: str, n: int, W_init: Initializer, b_init: Initializer) -> Layer:
    """``Dense``'s layer, its errors led by ``where`` (``models.Dense`` or ``stax.Dense``)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{where}: the number of outputs must be a positive integer, "
                         f"got {n!r}")

    def init_fn(key: Any, input_shape: Sequence[Any]) -> tuple[tuple, tuple]:
        k_W, k_b = random.split(key)
        n_in = _features(input_shape, where)
        return tuple(input_shape[:-1]) + (n,), (W_init(k_W, (n_in, n)), b_init(k_b, (n,)))

    def apply_fn(params: tuple, inputs: Any, **kwargs: Any) -> Any:
        W, b = params
        shape = jnp.shape(inputs)
        if len(shape) == 0 or shape[-1] != jnp.shape(W)[0]:
            raise ValueError(f"{where}: expected inputs with {jnp.shape(W)[0]} "
                             f"features on the last axis, got shape {tuple(shape)}")
        return jnp.add(jnp.matmul(inputs, W), b)

    return init_fn, apply_fn


def _elementwise(fun: Callable[..., Any], **fun_kwargs: Any) -> Layer:
    """A layer without params that applies ``fun(inputs, **fun_kwargs)``."""
    def init_fn(key: Any, input_shape: Sequence[Any]) -> tuple[Any, tuple]:
        return input_shape, ()

    def apply_fn(params: tuple, inputs: Any, **kwargs: Any) -> Any:
        return fun(inputs, **fun_kwargs)

    return init_fn, apply_fn


Relu = _elementwise(nn.relu)
Sigmoid = _elementwise(nn.sigmoid)
Tanh = _elementwise(nn.tanh)


def Dropout(rate: float) -> Layer:
    """Inverted dropout: zero each unit with probability ``rate`` while training.

    ``apply_fn(params, x, key=k, train=True)`` keeps each unit with
    probability ``1 - rate`` and divides the kept ones by ``1 - rate``, so
    every unit's expected value is unchanged and nothing needs rescaling at
    test time; ``train=False`` returns ``x`` as it is. Training (the default)
    needs a ``key``; under ``vmap``, map over keys too, or every example gets
    the same mask.

    Args:
        rate: the probability of *dropping* a unit (as in Keras and Flax), in
            ``[0, 1)``.

    Examples:
        >>> import numpy as np
        >>> import nanojax as nj
        >>> init, apply = Dropout(0.5)
        >>> _, params = init(nj.random.key(0), (8,))
        >>> x = np.ones(8)
        >>> print(apply(params, x, key=nj.random.key(0)))   # the kept units doubled
        [2. 2. 0. 0. 0. 2. 0. 0.]
        >>> print(apply(params, x, train=False))
        [1. 1. 1. 1. 1. 1. 1. 1.]
    """
    _real("Dropout", "rate", rate)
    if not 0 <= rate < 1:
        raise ValueError("nanojax.models.Dropout: rate is the probability of dropping a unit and "
                         f"must be in [0, 1), got {rate!r}")

    def init_fn(key: Any, input_shape: Sequence[Any]) -> tuple[tuple, tuple]:
        return tuple(input_shape), ()

    def apply_fn(params: tuple, inputs: Any, *, key: Any = None, train: bool = True,
                 **kwargs: Any) -> Any:
        if isinstance(train, Tracer):
            raise TypeError("nanojax.models.Dropout: train must be a Python bool, not a traced "
                            "value; under jit, mark it static: jit(apply, static_argnames='train')")
        if not train or rate == 0:
            return inputs
        if key is None:
            raise ValueError("nanojax.models.Dropout: training needs a random key: call "
                             "apply(params, x, key=k), or pass train=False to evaluate without "
                             "dropout")
        return _dropout(inputs, key, 1 - rate)

    return init_fn, apply_fn


def _dropout(inputs: Any, key: Any, keep_rate: float) -> Any:
    """Keep each unit with probability ``keep_rate``, scaled by ``1 / keep_rate``."""
    keep = random.bernoulli(key, keep_rate, jnp.shape(inputs))
    return jnp.where(keep, jnp.divide(inputs, keep_rate), 0.0)


# ----- Combinators and builders ---------------------------------------------------

def _check_layer(layer: Any, where: str) -> None:
    if not (isinstance(layer, tuple) and len(layer) == 2 and all(map(callable, layer))):
        name = getattr(layer, "__name__", "")
        hint = f"; did you mean {name}(...)?" if callable(layer) and name[:1].isupper() else ""
        raise TypeError(f"{where} must be a layer, an (init_fn, apply_fn) pair such as "
                        f"Dense(3) or Relu, got {layer!r}{hint}")


def serial(*layers: Layer) -> Layer:
    """Layers one after another; params are the tuple of each layer's params.

    ``apply_fn`` passes its keyword arguments to every layer, except ``key``,
    which it splits so that each layer gets its own (two ``Dropout`` layers
    never share a mask).

    Examples:
        >>> import nanojax as nj
        >>> init, apply = serial(Dense(4), Tanh, Dropout(0.5), Dense(2))
        >>> out_shape, params = init(nj.random.key(0), (-1, 3))
        >>> out_shape, len(params), params[1]
        ((-1, 2), 4, ())
        >>> apply(params, [[1.0, 2.0, 3.0]], key=nj.random.key(1)).shape
        (1, 2)
    """
    for i, layer in enumerate(layers):
        _check_layer(layer, f"nanojax.models.serial: layer {i}")
    init, apply = _serial(layers, "key")

    def init_fn(key: Any, input_shape: Sequence[Any]) -> tuple[tuple, tuple]:
        out_shape, params = init(key, input_shape)
        return tuple(out_shape), tuple(params)

    return init_fn, apply


def _serial(layers: Sequence[Layer], key_name: str, chained_keys: bool = False) -> Layer:
    """``serial``'s layer; ``apply_fn`` takes the random key as ``key_name``.

    ``init_fn`` returns the last layer's output shape as it is and the params
    as a list; ``apply_fn`` gives each layer its own key, split from the one
    it is called with, so that two dropout layers never share a mask.
    ``chained_keys`` makes ``init_fn`` split its key as JAX's stax does (one
    ``split`` per layer, carrying the first half on), so that stax models get
    JAX's very parameters from the same key; nanojax.models keeps its own
    split, on which the guide's chapters' numbers rest.
    """
    init_fns, apply_fns = zip(*layers) if layers else ((), ())
    n = max(len(layers), 1)

    def init_fn(key: Any, input_shape: Any) -> tuple[Any, list]:
        if chained_keys:        # stax's way: split off one key per layer, in turn
            keys = []
            for _ in init_fns:
                key, layer_key = random.split(key)
                keys.append(layer_key)
        else:                   # nanojax.models' way: all the layers' keys at once
            keys = random.split(key, n)
        params = []
        for init, k in zip(init_fns, keys):
            input_shape, p = init(k, input_shape)
            params.append(p)
        return input_shape, params

    def apply_fn(params: Sequence[Any], inputs: Any, **kwargs: Any) -> Any:
        key = kwargs.pop(key_name, None)
        keys = [None] * len(layers) if key is None else random.split(key, n)
        for apply, p, k in zip(apply_fns, params, keys):
            inputs = apply(p, inputs, **{key_name: k}, **kwargs)
        return inputs

    return init_fn, apply_fn


def _with_default_shape(model: Layer, n_features: int, name: str) -> Layer:
    """``model`` whose ``init_fn`` defaults to, and checks, ``(-1, n_features)``."""
    init, apply = model

    def init_fn(key: Any, input_shape: Sequence[Any] = (-1, n_features)) -> tuple:
        if _features(input_shape, f"nanojax.models.{name}") != n_features:
            raise ValueError(f"nanojax.models.{name}: built for {n_features} input features, but "
                             f"init_fn got input shape {tuple(input_shape)}")
        return init(key, input_shape)

    return init_fn, apply


def svm(n_features: int, W_init: Initializer | None = None,
        b_init: Initializer = zeros) -> Layer:
    """A linear classifier's score, ``x @ w + c``: the guide's ``a*x + b*y + c``.

    One ``Dense(1)`` whose output is squeezed: a batch of shape (N, n_features)
    gives scores of shape (N,), like the labels they are compared with (an
    (N, 1) score against (N,) labels would broadcast to (N, N) in a loss).
    Params are ``(W, b)`` with ``W`` of shape (n_features, 1); ``init_fn``'s
    input shape defaults to ``(-1, n_features)``.

    Examples:
        >>> import numpy as np
        >>> import nanojax as nj
        >>> init, score = svm(2)
        >>> out_shape, params = init(nj.random.key(0))
        >>> out_shape
        (-1,)
        >>> guide = (np.array([[1.0], [-2.0]]), np.array([-1.0]))   # a=1, b=-2, c=-1
        >>> print(score(guide, [[1.2, 0.7], [-0.3, -0.5]]))
        [-1.2 -0.3]
    """
    n_features = _positive_int("svm", "n_features", n_features)
    init, apply = Dense(1, W_init, b_init)

    def init_fn(key: Any, input_shape: Sequence[Any]) -> tuple[tuple, tuple]:
        out_shape, params = init(key, input_shape)
        return out_shape[:-1], params

    def apply_fn(params: tuple, inputs: Any, **kwargs: Any) -> Any:
        return jnp.squeeze(apply(params, inputs), -1)

    return _with_default_shape((init_fn, apply_fn), n_features, "svm")


def mlp(sizes: Sequence[int], activation: Layer = Relu, W_init: Initializer | None = None,
        b_init: Initializer = zeros) -> Layer:
    """A multilayer perceptron: ``Dense`` layers with ``activation`` in between.

    ``sizes`` lists every width, inputs first: ``mlp([2, 100, 3])`` is
    ``serial(Dense(100), Relu, Dense(3))`` for inputs with 2 features. There is
    no activation after the last layer: it outputs raw scores, shape
    ``(N, sizes[-1])``. ``init_fn``'s input shape defaults to ``(-1, sizes[0])``.

    Args:
        sizes: input features, then the width of each layer (at least two numbers).
        activation: the layer between two ``Dense`` layers, such as ``Relu``
            or ``Tanh``.
        W_init: initializer for every ``W``; ``glorot_normal()`` by default.
        b_init: initializer for every ``b``; zeros by default.

    Examples:
        >>> import nanojax as nj
        >>> init, apply = mlp([2, 3, 1])      # the guide's 2-layer net
        >>> out_shape, params = init(nj.random.key(0))
        >>> out_shape, [W.shape for W, b in params[::2]]
        ((-1, 1), [(2, 3), (3, 1)])
    """
    if not isinstance(sizes, (list, tuple)):
        raise TypeError(f"nanojax.models.mlp: sizes must be a list of layer widths, inputs first, "
                        f"such as [2, 100, 3]; got {type(sizes).__name__} ({sizes!r:.40})")
    sizes = [_positive_int("mlp", "each size", s) for s in sizes]
    if len(sizes) < 2:
        raise ValueError("nanojax.models.mlp: sizes must be the input size then at least one "
                         f"layer width, all positive, such as [2, 100, 3]; got {sizes}")
    _check_layer(activation, "nanojax.models.mlp: activation")
    layers = [Dense(sizes[1], W_init, b_init)]
    for n in sizes[2:]:
        layers += [activation, Dense(n, W_init, b_init)]
    return _with_default_shape(serial(*layers), sizes[0], "mlp")


__dir__ = public_dir(globals())


from nanojax.array import export as _export_arrays  # noqa: E402

_export_arrays(globals())   # the public face hands out arrays with JAX's methods
