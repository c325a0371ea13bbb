"""Stax, JAX's small neural-network library: layers as ``(init_fun, apply_fun)`` pairs.

The names, signatures and meaning of ``jax.example_libraries.stax``:

- ``init_fun(rng, input_shape) -> (output_shape, params)``; ``input_shape``
  may start with ``-1`` for an unknown batch size, which passes through;
- ``apply_fun(params, inputs, **kwargs) -> outputs``; ``rng=`` is the random
  key, which ``serial`` and ``parallel`` split among their layers (only
  ``Dropout`` uses it).

Layer constructors are CamelCase (``Dense(10)``, ``Conv(32, (3, 3))``); a
layer without options is a value (``Relu``, ``Flatten``). Combinators
(``serial``, ``parallel``, ``shape_dependent``) and initializers are
snake_case. The layers share their code with :mod:`nanojax.models` (same
dense and dropout maths, same key splitting); the initializers are
``jax.nn.initializers``' (``glorot_normal`` truncated, as JAX's), so a model
initialised from the same key starts from JAX's numbers. Unlike ``models.Dropout``,
stax's ``Dropout(rate)`` takes the probability of *keeping* a unit.

Examples:
    >>> import nanojax as nj
    >>> from nanojax.example_libraries import stax
    >>> init, apply = stax.serial(stax.Conv(4, (3, 3), padding="SAME"), stax.Relu,
    ...                           stax.MaxPool((2, 2), strides=(2, 2)), stax.Flatten,
    ...                           stax.Dense(10), stax.LogSoftmax)
    >>> out_shape, params = init(nj.random.key(0), (-1, 8, 8, 1))
    >>> out_shape
    (-1, 10)
    >>> apply(params, nj.numpy.ones((2, 8, 8, 1))).shape
    (2, 10)
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import nanojax.numpy as jnp
from nanojax import lax, nn, random
from nanojax.models import (Initializer, Layer, _check_layer, _dense, _dropout, _elementwise,
                            _serial)
from nanojax.nn.initializers import glorot_normal, normal, ones, zeros
from nanojax.nn import log_softmax, relu, sigmoid, softmax, softplus

__all__ = ["Dense", "GeneralConv", "Conv", "GeneralConvTranspose", "Conv1DTranspose",
           "ConvTranspose", "BatchNorm", "elementwise", "Tanh", "Relu", "Exp", "LogSoftmax",
           "Softmax", "Softplus", "Sigmoid", "Elu", "LeakyRelu", "Selu", "Gelu", "MaxPool",
           "SumPool", "AvgPool", "Flatten", "Identity", "FanOut", "FanInSum", "FanInConcat",
           "Dropout", "serial", "parallel", "shape_dependent",
           "glorot_normal", "normal", "ones", "zeros", "glorot", "randn", "logsoftmax",
           "relu", "log_softmax", "softmax", "softplus", "sigmoid", "elu", "leaky_relu", "selu",
           "gelu", "standardize"]

_NAME = "nanojax.example_libraries.stax"

# Stax's aliases, kept as JAX keeps them.
glorot = glorot_normal
randn = normal
logsoftmax = log_softmax


def _from_nn(name: str) -> Callable[..., Any]:
    """``nanojax.nn.<name>``, looked up when called rather than at import.

    Issue 12 brings ``elu``, ``leaky_relu``, ``selu``, ``gelu`` and
    ``standardize`` to ``nanojax.nn`` on a branch of its own; looking them up
    late lets this module import, and its other layers work, either way.
    """
    def fun(x: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            nn_fun = getattr(nn, name)
        except AttributeError:
            raise NotImplementedError(f"{_NAME}.{name}: needs nanojax.nn.{name}, which this "
                                      "build of nanojax does not have yet") from None
        return nn_fun(x, *args, **kwargs)
    fun.__name__ = fun.__qualname__ = name
    return fun


elu = _from_nn("elu")
leaky_relu = _from_nn("leaky_relu")
selu = _from_nn("selu")
gelu = _from_nn("gelu")
standardize = _from_nn("standardize")


# ----- Dense and convolutions ---------------------------------------------------------

# The default initializers, made once, as JAX's argument defaults are.
_GLOROT_NORMAL, _NORMAL, _NORMAL_TINY = glorot_normal(), normal(), normal(1e-6)


def Dense(out_dim: int, W_init: Initializer = _GLOROT_NORMAL,
          b_init: Initializer = _NORMAL) -> Layer:
    """A fully connected layer, ``inputs @ W + b``; params ``(W, b)``, ``W`` of shape (in, out_dim).

    Examples:
        >>> import nanojax as nj
        >>> init, apply = Dense(3)
        >>> out_shape, (W, b) = init(nj.random.key(0), (-1, 2))
        >>> out_shape, W.shape, b.shape
        ((-1, 3), (2, 3), (3,))
    """
    return _dense(f"{_NAME}.Dense", out_dim, W_init, b_init)


def _conv_specs(where: str, dimension_numbers: Any, filter_shape: Any) -> tuple[str, str, str]:
    try:
        lhs_spec, rhs_spec, out_spec = dimension_numbers
        ok = all(isinstance(s, str) for s in dimension_numbers)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise TypeError(f"{where}: dimension_numbers must be three layout strings such as "
                        f"('NHWC', 'HWIO', 'NHWC'), got {dimension_numbers!r:.60}")
    if not (isinstance(filter_shape, (tuple, list)) and len(filter_shape) == len(rhs_spec) - 2
            and all(isinstance(k, numbers.Integral) and int(k) > 0 for k in filter_shape)):
        raise ValueError(f"{where}: filter_shape must give a positive size for each of the "
                         f"{len(rhs_spec) - 2} spatial dimensions of {rhs_spec!r}, got "
                         f"{filter_shape!r:.60}")
    return lhs_spec, rhs_spec, out_spec


def _general_conv(where: str, shape_fn: Callable[..., tuple], conv_fn: Callable[..., Any],
                  dimension_numbers: Any, out_chan: int, filter_shape: Sequence[int],
                  strides: Sequence[int] | None, padding: Any, W_init: Initializer | None,
                  b_init: Initializer) -> Layer:
    """A convolution layer: ``conv_fn(inputs, W, strides, padding) + b``.

    The kernel's ``O`` axis has ``out_chan`` entries, its ``I`` axis the
    input's channels, its spatial axes ``filter_shape``; the bias broadcasts
    along the output's ``C`` axis.
    """
    lhs_spec, rhs_spec, out_spec = _conv_specs(where, dimension_numbers, filter_shape)
    strides = tuple(strides or (1,) * len(filter_shape))
    W_init = W_init or glorot_normal(rhs_spec.index("I"), rhs_spec.index("O"))

    def init_fun(rng: Any, input_shape: Sequence[int]) -> tuple[tuple, tuple]:
        if len(input_shape) != len(lhs_spec):
            raise ValueError(f"{where}: the input shape {tuple(input_shape)} does not have "
                             f"the {len(lhs_spec)} dimensions of its layout {lhs_spec!r}")
        spatial = iter(filter_shape)
        kernel_shape = tuple(out_chan if c == "O" else
                             input_shape[lhs_spec.index("C")] if c == "I" else
                             next(spatial) for c in rhs_spec)
        output_shape = shape_fn(input_shape, kernel_shape, strides, padding, dimension_numbers)
        bias_shape = tuple(out_chan if c == "C" else 1 for c in out_spec)
        k1, k2 = random.split(rng)
        return output_shape, (W_init(k1, kernel_shape), b_init(k2, bias_shape))

    def apply_fun(params: tuple, inputs: Any, **kwargs: Any) -> Any:
        W, b = params
        return jnp.add(conv_fn(inputs, W, strides, padding, dimension_numbers), b)

    return init_fun, apply_fun


def _conv(x: Any, W: Any, strides: tuple, padding: Any, dimension_numbers: Any) -> Any:
    return lax.conv_general_dilated(x, W, strides, padding, dimension_numbers=dimension_numbers)


def _conv_transpose(x: Any, W: Any, strides: tuple, padding: Any, dimension_numbers: Any) -> Any:
    return lax.conv_transpose(x, W, strides, padding, dimension_numbers=dimension_numbers)


def GeneralConv(dimension_numbers: Any, out_chan: int, filter_shape: Sequence[int],
                strides: Sequence[int] | None = None, padding: Any = "VALID",
                W_init: Initializer | None = None, b_init: Initializer = _NORMAL_TINY) -> Layer:
    """A convolution layer in any layout, ``dimension_numbers`` as ``lax.conv_general_dilated``'s.

    ``W_init`` defaults to ``glorot_normal`` with the kernel's I and O axes
    as its fans' axes.

    Examples:
        >>> import nanojax as nj
        >>> init, apply = GeneralConv(("NCHW", "OIHW", "NCHW"), 8, (3, 3), padding="SAME")
        >>> out_shape, (W, b) = init(nj.random.key(0), (-1, 3, 16, 16))
        >>> out_shape, W.shape, b.shape
        ((-1, 8, 16, 16), (8, 3, 3, 3), (1, 8, 1, 1))
    """
    return _general_conv(f"{_NAME}.GeneralConv", lax.conv_general_shape_tuple, _conv,
                         dimension_numbers, out_chan, filter_shape, strides, padding, W_init,
                         b_init)


def GeneralConvTranspose(dimension_numbers: Any, out_chan: int, filter_shape: Sequence[int],
                         strides: Sequence[int] | None = None, padding: Any = "VALID",
                         W_init: Initializer | None = None,
                         b_init: Initializer = _NORMAL_TINY) -> Layer:
    """A transposed convolution layer (``lax.conv_transpose``) in any layout.

    Examples:
        >>> import nanojax as nj
        >>> init, apply = ConvTranspose(4, (3, 3), strides=(2, 2), padding="SAME")
        >>> out_shape, params = init(nj.random.key(0), (-1, 5, 5, 8))
        >>> out_shape, apply(params, nj.numpy.ones((2, 5, 5, 8))).shape
        ((-1, 10, 10, 4), (2, 10, 10, 4))
    """
    return _general_conv(f"{_NAME}.GeneralConvTranspose", lax.conv_transpose_shape_tuple,
                         _conv_transpose, dimension_numbers, out_chan, filter_shape, strides,
                         padding, W_init, b_init)


Conv = functools.partial(GeneralConv, ("NHWC", "HWIO", "NHWC"))
Conv1DTranspose = functools.partial(GeneralConvTranspose, ("NHC", "HIO", "NHC"))
ConvTranspose = functools.partial(GeneralConvTranspose, ("NHWC", "HWIO", "NHWC"))


# ----- Normalization and elementwise layers ------------------------------------------

def BatchNorm(axis: int | Sequence[int] = (0, 1, 2), epsilon: float = 1e-5,
              center: bool = True, scale: bool = True, beta_init: Initializer = zeros,
              gamma_init: Initializer = ones) -> Layer:
    """Standardize over ``axis`` (the batch's statistics), then ``gamma * z + beta``.

    ``beta`` and ``gamma`` have the input's shape without ``axis``; with
    ``center=False`` (``scale=False``) there is no ``beta`` (``gamma``) and
    its place in the params holds ``()``. There are no running averages:
    every call uses the statistics of the batch it is given, as in stax.

    Examples:
        >>> import nanojax as nj
        >>> init, apply = BatchNorm()             # over N, H and W of NHWC inputs
        >>> out_shape, (beta, gamma) = init(nj.random.key(0), (-1, 8, 8, 3))
        >>> out_shape, beta.shape, gamma.shape
        ((-1, 8, 8, 3), (3,), (3,))
    """
    axes = tuple(int(a) for a in axis) if isinstance(axis, Sequence) else (int(axis),)

    def normalized(ndim: int) -> tuple[int, ...]:
        return tuple(sorted(a % ndim for a in axes))

    def init_fun(rng: Any, input_shape: Sequence[int]) -> tuple[Any, tuple]:
        kept = normalized(len(input_shape))
        shape = tuple(d for i, d in enumerate(input_shape) if i not in kept)
        k1, k2 = random.split(rng)
        return input_shape, (beta_init(k1, shape) if center else (),
                             gamma_init(k2, shape) if scale else ())

    def apply_fun(params: tuple, x: Any, **kwargs: Any) -> Any:
        beta, gamma = params
        reduced = normalized(jnp.ndim(x))
        z = standardize(x, reduced, epsilon=epsilon)
        if scale:
            z = jnp.multiply(jnp.expand_dims(gamma, reduced), z)
        if center:
            z = jnp.add(z, jnp.expand_dims(beta, reduced))
        return z

    return init_fun, apply_fun


def elementwise(fun: Callable[..., Any], **fun_kwargs: Any) -> Layer:
    """A layer without params that applies ``fun(inputs, **fun_kwargs)``.

    Examples:
        >>> import numpy as np
        >>> init, apply = elementwise(np.clip, a_min=0.0, a_max=1.0)
        >>> apply((), np.array([-1.0, 0.5, 2.0]))
        array([0. , 0.5, 1. ])
    """
    return _elementwise(fun, **fun_kwargs)


Tanh = elementwise(jnp.tanh)
Relu = elementwise(relu)
Exp = elementwise(jnp.exp)
LogSoftmax = elementwise(log_softmax, axis=-1)
Softmax = elementwise(softmax, axis=-1)
Softplus = elementwise(softplus)
Sigmoid = elementwise(sigmoid)
Elu = elementwise(elu)
LeakyRelu = elementwise(leaky_relu)
Selu = elementwise(selu)
Gelu = elementwise(gelu)


# ----- Pooling --------------------------------------------------------------------------

def _pooling_layer(kind: str, reducer: Callable[..., Any], init_val: float,
                   rescaler: Callable[..., Any] | None = None) -> Callable[..., Layer]:
    where = f"{_NAME}.{kind}"

    def PoolingLayer(window_shape: Sequence[int], strides: Sequence[int] | None = None,
                     padding: Any = "VALID", spec: str | None = None) -> Layer:
        if not (isinstance(window_shape, (tuple, list))
                and all(isinstance(k, numbers.Integral) and int(k) > 0 for k in window_shape)):
            raise ValueError(f"{where}: window_shape must be a tuple of positive window sizes, "
                             f"one per spatial dimension, got {window_shape!r:.60}")
        window_shape = tuple(window_shape)
        strides = tuple(strides or (1,) * len(window_shape))
        rescale = rescaler(window_shape, strides, padding) if rescaler else None
        if spec is None:
            non_spatial = (0, len(window_shape) + 1)
        elif isinstance(spec, str) and "N" in spec and "C" in spec:
            non_spatial = (spec.index("N"), spec.index("C"))
        else:
            raise ValueError(f"{where}: spec must be None (NHWC) or a layout string naming N "
                             f"and C, such as 'NCHW', got {spec!r:.60}")
        window, steps = window_shape, strides
        for i in sorted(non_spatial):
            window = window[:i] + (1,) + window[i:]
            steps = steps[:i] + (1,) + steps[i:]

        def init_fun(rng: Any, input_shape: Sequence[int]) -> tuple[tuple, tuple]:
            if len(input_shape) != len(window):
                raise ValueError(f"{where}: a window of {len(window_shape)} spatial dimensions "
                                 f"needs inputs of {len(window)} dimensions, got input shape "
                                 f"{tuple(input_shape)}")
            pads = (lax.padtype_to_pads(input_shape, window, steps, padding)
                    if isinstance(padding, str) else padding)
            return lax.reduce_window_shape_tuple(input_shape, window, steps, pads), ()

        def apply_fun(params: tuple, inputs: Any, **kwargs: Any) -> Any:
            out = lax.reduce_window(inputs, init_val, reducer, window, steps, padding)
            return rescale(out, inputs, spec) if rescale else out

        PoolingLayer.__name__ = PoolingLayer.__qualname__ = kind
        return init_fun, apply_fun
    return PoolingLayer


def _normalize_by_window_size(dims: tuple, strides: tuple, padding: Any) -> Callable[..., Any]:
    """Divide each window's sum by how many inputs it covers (padding excluded)."""
    def rescale(outputs: Any, inputs: Any, spec: str | None) -> Any:
        ndim = jnp.ndim(inputs)
        non_spatial = (0, ndim - 1) if spec is None else (spec.index("N"), spec.index("C"))
        spatial_shape = tuple(d for i, d in enumerate(jnp.shape(inputs)) if i not in non_spatial)
        sizes = lax.reduce_window(jnp.ones(spatial_shape, inputs.dtype), 0.0,
                                  lax.add, dims, strides, padding)
        return jnp.divide(outputs, jnp.expand_dims(sizes, tuple(sorted(non_spatial))))
    return rescale


MaxPool = _pooling_layer("MaxPool", lax.max, -math.inf)
SumPool = _pooling_layer("SumPool", lax.add, 0.0)
AvgPool = _pooling_layer("AvgPool", lax.add, 0.0, _normalize_by_window_size)


# ----- Reshaping and plumbing -------------------------------------------------------------

def _flatten() -> Layer:
    """Flatten every dimension but the leading (batch) one."""
    def init_fun(rng: Any, input_shape: Sequence[int]) -> tuple[tuple, tuple]:
        return (input_shape[0], math.prod(input_shape[1:])), ()

    def apply_fun(params: tuple, inputs: Any, **kwargs: Any) -> Any:
        return jnp.reshape(inputs, (jnp.shape(inputs)[0], -1))
    return init_fun, apply_fun


Flatten = _flatten()
Identity = elementwise(lambda x: x)


def FanOut(num: int) -> Layer:
    """``num`` copies of the input, a list, for ``parallel`` to take apart.

    Examples:
        >>> import nanojax as nj
        >>> FanOut(2)[0](nj.random.key(0), (-1, 3))
        ([(-1, 3), (-1, 3)], ())
    """
    if isinstance(num, bool) or not isinstance(num, numbers.Integral) or num < 1:
        raise ValueError(f"{_NAME}.FanOut: num must be a positive integer, got {num!r:.40}")

    def init_fun(rng: Any, input_shape: Any) -> tuple[list, tuple]:
        return [input_shape] * num, ()

    def apply_fun(params: tuple, inputs: Any, **kwargs: Any) -> list:
        return [inputs] * num
    return init_fun, apply_fun


def _fan_in_sum() -> Layer:
    """The sum of a list of inputs (all of one shape)."""
    def init_fun(rng: Any, input_shape: Sequence[Any]) -> tuple[Any, tuple]:
        return input_shape[0], ()

    def apply_fun(params: tuple, inputs: Sequence[Any], **kwargs: Any) -> Any:
        return functools.reduce(jnp.add, inputs)
    return init_fun, apply_fun


FanInSum = _fan_in_sum()


def FanInConcat(axis: int = -1) -> Layer:
    """A list of inputs concatenated along ``axis``.

    Examples:
        >>> import nanojax as nj
        >>> FanInConcat()[0](nj.random.key(0), [(-1, 3), (-1, 5)])
        ((-1, 8), ())
    """
    def init_fun(rng: Any, input_shape: Sequence[Sequence[int]]) -> tuple[tuple, tuple]:
        ax = axis % len(input_shape[0])
        size = sum(shape[ax] for shape in input_shape)
        first = tuple(input_shape[0])
        return first[:ax] + (size,) + first[ax + 1:], ()

    def apply_fun(params: tuple, inputs: Sequence[Any], **kwargs: Any) -> Any:
        return jnp.concatenate(inputs, axis)
    return init_fun, apply_fun


def Dropout(rate: float, mode: str = "train") -> Layer:
    """Inverted dropout where ``rate`` is the probability of *keeping* a unit (as in stax).

    In ``mode='train'`` ``apply_fun(params, x, rng=key)`` keeps each unit with
    probability ``rate`` and divides it by ``rate``; any other mode is the
    identity (and, unlike JAX's, needs no ``rng``).

    Examples:
        >>> import numpy as np
        >>> import nanojax as nj
        >>> init, apply = Dropout(0.5)
        >>> print(apply((), np.ones(8), rng=nj.random.key(0)))    # the kept units doubled
        [2. 2. 0. 0. 0. 2. 0. 0.]
        >>> apply((), np.ones(8))
        Traceback (most recent call last):
        ...
        ValueError: nanojax.example_libraries.stax.Dropout: training needs a PRNG key: call
        apply_fun(params, inputs, rng=key), with key from nanojax.random.key
    """
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 < rate <= 1:
        raise ValueError(f"{_NAME}.Dropout: rate is the probability of keeping a unit and must "
                         f"be in (0, 1], got {rate!r:.40}")
    if not isinstance(mode, str):
        raise TypeError(f"{_NAME}.Dropout: mode must be a string ('train' drops units, any "
                        f"other is the identity), got {mode!r:.40}")

    def init_fun(rng: Any, input_shape: Any) -> tuple[Any, tuple]:
        return input_shape, ()

    def apply_fun(params: tuple, inputs: Any, **kwargs: Any) -> Any:
        if mode != "train":
            return inputs
        rng = kwargs.get("rng")
        if rng is None:
            raise ValueError(f"{_NAME}.Dropout: training needs a PRNG key: call "
                             "apply_fun(params, inputs, rng=key), with key from "
                             "nanojax.random.key")
        return _dropout(inputs, rng, rate)
    return init_fun, apply_fun


# ----- Combinators ------------------------------------------------------------------------

def _check_layers(layers: Sequence[Any], where: str) -> None:
    for i, layer in enumerate(layers):
        _check_layer(layer, f"{where}: layer {i}")


def serial(*layers: Layer) -> Layer:
    """Layers one after the other; params are the list of each layer's params.

    ``init_fun`` splits one key off for each layer in turn, as JAX's stax
    does (so the same key gives JAX's parameters); ``apply_fun`` splits its
    ``rng=`` key into one per layer.

    Examples:
        >>> import nanojax as nj
        >>> init, apply = serial(Dense(4), Relu, Dense(2))
        >>> out_shape, params = init(nj.random.key(0), (-1, 3))
        >>> out_shape, len(params), params[1]
        ((-1, 2), 3, ())
    """
    _check_layers(layers, f"{_NAME}.serial")
    return _serial(layers, "rng", chained_keys=True)


def parallel(*layers: Layer) -> Layer:
    """Layer ``i`` applied to input ``i``: takes and returns sequences, one item per layer.

    Often between ``FanOut`` and ``FanInSum``/``FanInConcat``.

    Examples:
        >>> import nanojax as nj
        >>> init, apply = serial(FanOut(2), parallel(Dense(3), Identity), FanInConcat())
        >>> init(nj.random.key(0), (-1, 2))[0]
        (-1, 5)
    """
    where = f"{_NAME}.parallel"
    _check_layers(layers, where)
    init_funs, apply_funs = zip(*layers) if layers else ((), ())
    n = len(layers)

    def check(what: str, items: Sequence[Any]) -> None:
        if not (isinstance(items, (list, tuple)) and len(items) == n and (
                what != "input shapes" or all(isinstance(s, (list, tuple)) for s in items))):
            raise ValueError(f"{where}: expected a sequence of {n} {what}, one per layer (use "
                             f"FanOut({n}) before it), got {items!r:.60}")

    def init_fun(rng: Any, input_shape: Sequence[Any]) -> tuple[tuple, tuple]:
        check("input shapes", input_shape)
        rngs = random.split(rng, max(n, 1))
        results = [init(k, shape) for init, k, shape in zip(init_funs, rngs, input_shape)]
        return tuple(s for s, _ in results), tuple(p for _, p in results)

    def apply_fun(params: Sequence[Any], inputs: Sequence[Any], **kwargs: Any) -> list:
        check("inputs", inputs)
        rng = kwargs.pop("rng", None)
        rngs = [None] * n if rng is None else random.split(rng, max(n, 1))
        return [f(p, x, rng=r, **kwargs) for f, p, x, r in zip(apply_funs, params, inputs, rngs)]
    return init_fun, apply_fun


def shape_dependent(make_layer: Callable[[tuple], Layer]) -> Layer:
    """A layer built by ``make_layer(input_shape)`` once the input shape is known.

    Examples:
        >>> import nanojax as nj
        >>> square = shape_dependent(lambda shape: Dense(shape[-1]))
        >>> square[0](nj.random.key(0), (-1, 7))[0]
        (-1, 7)
    """
    def init_fun(rng: Any, input_shape: Any) -> tuple[Any, Any]:
        return make_layer(input_shape)[0](rng, input_shape)

    def apply_fun(params: Any, inputs: Any, **kwargs: Any) -> Any:
        return make_layer(jnp.shape(inputs))[1](params, inputs, **kwargs)
    return init_fun, apply_fun


from nanojax.array import export as _export_arrays  # noqa: E402

_export_arrays(globals())   # the public face hands out arrays with JAX's methods
