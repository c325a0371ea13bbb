"""New arrays: asarray, array, copy, zeros, ones, full, arange, linspace.

Sizes must be concrete (static under jit); a fill value or a linspace end
may be traced.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

import numpy as np

from nanojax import primitives as P
from nanojax.array import ArrayImpl
from nanojax.core import Tracer, innermost_staging_trace
from nanojax.core import _state as core_state
from nanojax.numpy import _args
from nanojax.numpy._args import PLAIN as _PLAIN
from nanojax.numpy._args import call_numpy as _call_numpy
from nanojax.numpy._args import check_numeric as _check_numeric
from nanojax.numpy._args import checked_asarray as _checked_asarray
from nanojax.numpy._args import has_tracer as _has_tracer
from nanojax.numpy._args import numpy_or_traced
from nanojax.numpy._args import operand as _operand
from nanojax.numpy._args import reworded as _reworded
from nanojax.numpy._shapes import broadcast_to, moveaxis, ndim, shape, stack
from nanojax.numpy._ufuncs import _dtype, add, astype, divide, floor, multiply, subtract


def asarray(a: Any, dtype: Any = None) -> Any:
    """``numpy.asarray``; a list that holds traced values is stacked.

    While ``jit`` (or ``make_jaxpr``) records, an array made here is a
    constant of the circuit, as in JAX: so ``jnp.asarray(table)[i]`` with a
    traced ``i`` is a gather, where NumPy's own indexing could not take ``i``.
    """
    if type(a) is ArrayImpl and dtype is None:
        return a if not _TRACES.stack else staged_constant(a)       # ours already
    x = plain_asarray(a, dtype)
    # Eagerly (no trace at all on this thread) that is one attribute test.
    if _TRACES.stack:
        return staged_constant(x)
    return x.view(ArrayImpl) if type(x) is np.ndarray else x     # handed out as ours


_TRACES = core_state        # this thread's stack of transformations


def staged_constant(x: Any) -> Any:
    """``x`` as a constant of the jaxpr being recorded, if one is; else ``x`` itself."""
    if (type(x) is not np.ndarray and type(x) is not ArrayImpl) or x.ndim == 0 \
            or not _TRACES.stack:
        return x
    trace = innermost_staging_trace()
    return x if trace is None else trace.constant(x)  # type: ignore[attr-defined]


def plain_asarray(a: Any, dtype: Any = None) -> Any:
    """``asarray`` that never stages: a plain array unless ``a`` holds traced values."""
    if isinstance(a, Tracer):
        return a if dtype is None else astype(a, dtype)
    if isinstance(a, (list, tuple)) and _has_tracer(a):
        out = stack([plain_asarray(e) for e in a])
        return out if dtype is None else astype(out, dtype)
    _check_numeric("asarray", a)
    if isinstance(a, np.ma.MaskedArray):
        raise TypeError("nanojax.numpy.asarray: masked arrays are not supported (the mask "
                        "would be ignored); pass x.filled(value) or a plain array")
    try:
        return np.asarray(a, dtype=dtype)
    except (TypeError, ValueError) as err:
        raise _reworded("asarray", err) from None


@numpy_or_traced()
def copy(a: Any) -> Any:
    """A copy of ``a`` (a traced value is immutable: itself)."""
    return a


def array(a: Any, dtype: Any = None) -> Any:
    """``numpy.array`` (a copy); a list that holds traced values is stacked."""
    if _has_tracer(a):
        return plain_asarray(a, dtype)
    x = np.array(plain_asarray(a, dtype), copy=True)
    if _TRACES.stack:
        return staged_constant(x)
    return x.view(ArrayImpl) if type(x) is np.ndarray else x     # handed out as ours


def _like(name: str, a: Any, dtype: Any = None, shape: Any = None) -> tuple[tuple, Any]:
    """The shape and dtype of ``a`` (which may be traced), or the ``dtype``/``shape`` given."""
    if isinstance(a, Tracer):
        shape_, dt = a.shape, a.dtype
    else:
        a = _checked_asarray(name, a) if type(a) not in _PLAIN else a
        shape_, dt = np.shape(a), P.dtype_of(a) if not isinstance(a, np.ndarray) else a.dtype
    if dtype is not None:
        dt = _dtype(name, dtype)
    if shape is not None:
        shape_ = (int(shape),) if _args.is_int(shape) else tuple(int(s) for s in shape)
    return shape_, dt


def zeros_like(a: Any, dtype: Any = None, shape: Any = None) -> np.ndarray:
    """Zeros of ``a``'s shape and dtype (or of ``shape`` and ``dtype``)."""
    return np.zeros(*_like("zeros_like", a, dtype, shape))


def ones_like(a: Any, dtype: Any = None, shape: Any = None) -> np.ndarray:
    """Ones of ``a``'s shape and dtype (or of ``shape`` and ``dtype``)."""
    return np.ones(*_like("ones_like", a, dtype, shape))


def empty_like(prototype: Any, dtype: Any = None, shape: Any = None) -> np.ndarray:
    """An array like ``prototype``; its values are zeros (as JAX gives)."""
    return np.zeros(*_like("empty_like", prototype, dtype, shape))


def _concrete_arg(value: Any, name: str) -> Any:
    if isinstance(value, Tracer):
        return value.to_concrete_value(f"nanojax.numpy.{name}'s size argument")
    if isinstance(value, (tuple, list)):
        return type(value)(_concrete_arg(v, name) for v in value)
    return value


def full(shape: Any, fill_value: Any, dtype: Any = None) -> Any:
    """An array of ``shape`` filled with ``fill_value`` (which may be traced)."""
    if _has_tracer((shape,)):
        shape = _concrete_arg(shape, "full")
    if isinstance(fill_value, Tracer):
        sizes = (shape,) if _args.is_int(shape) else tuple(shape)
        value = fill_value if dtype is None else astype(fill_value, dtype)
        return broadcast_to(value, sizes)
    return _call_numpy("full", np.full, shape, fill_value, dtype=dtype)


def full_like(a: Any, fill_value: Any, dtype: Any = None, shape: Any = None) -> Any:
    """``fill_value`` (which may be traced) in ``a``'s shape and dtype, or in ``shape``."""
    shape_, dt = _like("full_like", a, dtype, shape)
    return full(shape_, fill_value, dt)


def _creation(np_fn: Callable, name: str) -> Callable:
    """A NumPy array constructor whose sizes must be concrete, even under jit.

    NumPy goes first, so the eager call costs nothing extra; only when it
    rejects a traced size are the sizes made concrete (or a
    ConcretizationTypeError says why they can't be).
    """
    def fn(*args: Any, **kwargs: Any) -> np.ndarray:
        try:
            return np_fn(*args, **kwargs)
        except (TypeError, ValueError) as err:
            if not _has_tracer((*args, *kwargs.values())):
                raise _reworded(name, err) from None
        args = tuple(_concrete_arg(a, name) for a in args)
        try:
            return np_fn(*args, **{k: _concrete_arg(v, name) for k, v in kwargs.items()})
        except (TypeError, ValueError) as err:
            raise _reworded(name, err) from None
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``numpy.{np_fn.__name__}``; its sizes must be concrete (static under jit)."
    return fn


zeros, ones, empty, eye, identity = (
    _creation(np.zeros, "zeros"), _creation(np.ones, "ones"), _creation(np.zeros, "empty"),
    _creation(np.eye, "eye"), _creation(np.identity, "identity"))


def arange(*args: Any, **kwargs: Any) -> np.ndarray:
    """``numpy.arange``. Its arguments set the length, so they must be concrete."""
    if _has_tracer((*args, *kwargs.values())):
        from nanojax.errors import ConcretizationTypeError
        raise ConcretizationTypeError(
            "nanojax.numpy.arange", "", "nanojax.numpy.arange: its arguments decide the "
            "result's length, so they must be Python numbers, not traced values; for a "
            "differentiable range write start + step * jnp.arange(n) with n a number")
    try:
        return np.arange(*args, **kwargs)
    except (TypeError, ValueError) as err:
        raise _reworded("arange", err) from None


def linspace(start: Any, stop: Any, num: int = 50, endpoint: bool = True,
             retstep: bool = False, dtype: Any = None, axis: int = 0) -> Any:
    """``num`` evenly spaced values from ``start`` to ``stop``; the ends may be traced."""
    if not _has_tracer((start, stop)):
        return _call_numpy("linspace", np.linspace, start, stop, _concrete_arg(num, "linspace"),
                          endpoint=endpoint, retstep=retstep, dtype=dtype, axis=axis)
    num = _concrete_arg(num, "linspace")
    if not _args.is_int(num) or num < 0:
        raise ValueError(f"nanojax.numpy.linspace: num must be a non-negative int, got {num!r}")
    start, stop = _operand(start, "linspace"), _operand(stop, "linspace")
    if P.dtype_of(start).kind not in "f":
        start = astype(start, np.float64)
    # NumPy's steps: positions 0..num-1 times the step, plus start, and the
    # last value set to stop exactly when it is an endpoint.
    div = num - 1 if endpoint else num
    delta = subtract(stop, start)
    lead = np.arange(num, dtype=np.float64).reshape((-1,) + (1,) * ndim(delta))
    if div > 0:
        step = divide(delta, float(div))
        out = add(multiply(lead, step), start)
    else:                      # one sample: start itself, and an undefined step
        step = multiply(delta, np.nan)
        out = add(multiply(lead, delta), start)
    if endpoint and num > 1:
        out = out.at[-1].set(broadcast_to(stop, shape(out)[1:]))
    if axis != 0:
        out = moveaxis(out, 0, axis)
    if dtype is not None:
        out = astype(floor(out) if np.dtype(dtype).kind in "iu" else out, dtype)
    return (out, step) if retstep else out


# asarray and array hand out nanojax's arrays themselves (above): no wrapper frame.
asarray._hands_out_arrays = True  # type: ignore[attr-defined]
array._hands_out_arrays = True  # type: ignore[attr-defined]
