"""Operators, methods and NumPy protocols of traced values.

Installed on ``nanojax.core.Tracer`` so that a function written for NumPy
(``x * y``, ``x.sum()``, ``np.tanh(x)``, ``np.dot(W, x)``) records the same
primitives as one written with ``jnp``. NumPy functions reach us through
``__array_ufunc__`` and ``__array_function__``, mapped by the two tables at
the bottom; anything not in them raises a ``TypeError`` that names it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax import primitives as P
from nanojax.core import Primitive, Tracer
from nanojax.numpy._args import bind_elementwise, operand


def _swap(fn: Callable) -> Callable:
    return lambda self, other: fn(other, self)


# Operands that need no checking or conversion: the hot path of scalar circuits.
_READY = {float, int, bool, np.float64, np.float32, np.ndarray}


def _binop(prim: Primitive, name: str, swapped: bool = False) -> Callable:
    def method(self: Tracer, other: Any) -> Any:
        if type(other) not in _READY and not isinstance(other, Tracer):
            other = operand(other, name)
        try:
            return prim.bind(other, self) if swapped else prim.bind(self, other)
        except ValueError:           # a shape mismatch: NumPy's sentence, with our name
            return bind_elementwise(name, prim, *((other, self) if swapped else (self, other)))
    method.__name__ = name
    return method


def _reshape_method(self, *shape, order="C"):
    return jnp.reshape(self, shape[0] if len(shape) == 1 else shape, order=order)


def _transpose_method(self, *axes):
    return jnp.transpose(self, None if not axes else axes[0] if len(axes) == 1 else axes)


_METHODS = {
    "__add__": _binop(P.add_p, "add"), "__radd__": _binop(P.add_p, "add", True),
    "__sub__": _binop(P.sub_p, "subtract"), "__rsub__": _binop(P.sub_p, "subtract", True),
    "__mul__": _binop(P.mul_p, "multiply"), "__rmul__": _binop(P.mul_p, "multiply", True),
    "__truediv__": _binop(P.div_p, "divide"),
    "__rtruediv__": _binop(P.div_p, "divide", True),
    "__pow__": jnp.power, "__rpow__": _swap(jnp.power),
    "__floordiv__": jnp.floor_divide, "__rfloordiv__": _swap(jnp.floor_divide),
    "__mod__": jnp.remainder, "__rmod__": _swap(jnp.remainder),
    "__matmul__": jnp.matmul, "__rmatmul__": _swap(jnp.matmul),
    "__lt__": _binop(P.lt_p, "less"), "__le__": _binop(P.le_p, "less_equal"),
    "__gt__": _binop(P.gt_p, "greater"), "__ge__": _binop(P.ge_p, "greater_equal"),
    "__eq__": _binop(P.eq_p, "equal"), "__ne__": _binop(P.ne_p, "not_equal"),
    "__and__": jnp.bitwise_and, "__rand__": _swap(jnp.bitwise_and),
    "__or__": jnp.bitwise_or, "__ror__": _swap(jnp.bitwise_or),
    "__xor__": jnp.bitwise_xor, "__rxor__": _swap(jnp.bitwise_xor),
    "__lshift__": jnp.left_shift, "__rlshift__": _swap(jnp.left_shift),
    "__rshift__": jnp.right_shift, "__rrshift__": _swap(jnp.right_shift),
    "__invert__": jnp.invert, "__divmod__": jnp.divmod, "__rdivmod__": _swap(jnp.divmod),
    "__round__": lambda self, ndigits=None: jnp.round(self, 0 if ndigits is None else ndigits),
    "__contains__": lambda self, value: jnp.any(jnp.equal(self, value)),
    "__neg__": jnp.negative, "__pos__": lambda self: self, "__abs__": jnp.abs,
    "__getitem__": jnp.getitem,
    "sum": jnp.sum, "mean": jnp.mean, "max": jnp.max, "min": jnp.min,
    "prod": jnp.prod, "var": jnp.var, "std": jnp.std,
    "argmax": jnp.argmax, "argmin": jnp.argmin,
    "reshape": _reshape_method, "transpose": _transpose_method,
    "squeeze": jnp.squeeze, "ravel": jnp.ravel, "flatten": jnp.ravel,
    "astype": jnp.astype, "dot": jnp.dot, "clip": jnp.clip,
    "any": jnp.any, "all": jnp.all, "cumsum": jnp.cumsum,
    "round": jnp.round, "swapaxes": jnp.swapaxes, "take": jnp.take,
    "diagonal": jnp.diagonal, "trace": jnp.trace, "repeat": jnp.repeat,
    "conj": jnp.conj, "conjugate": jnp.conj,
    # JAX's methods that return new arrays (NumPy's sort() works in place).
    "sort": lambda self, axis=-1, *, stable=True, descending=False, kind=None, order=None:
        jnp.sort(self, axis, kind, order, stable=stable, descending=descending),
    "argsort": lambda self, axis=-1, *, stable=True, descending=False, kind=None, order=None:
        jnp.argsort(self, axis, kind, order, stable=stable, descending=descending),
    "nonzero": lambda self, *, size=None, fill_value=None:
        jnp.nonzero(self, size=size, fill_value=fill_value),
    "searchsorted": lambda self, v, side="left", sorter=None, *, method="scan":
        jnp.searchsorted(self, v, side, sorter, method=method),
    "cumprod": jnp.cumprod, "ptp": jnp.ptp,
    # Traced values are immutable: a copy is the value itself.
    "copy": lambda self, order="C": self, "__copy__": lambda self: self,
    "__deepcopy__": lambda self, memo: self,
}
for _name, _fn in _METHODS.items():
    setattr(Tracer, _name, _fn)
_PROPERTIES = {
    "T": lambda self: jnp.transpose(self), "mT": lambda self: jnp.swapaxes(self, -1, -2),
    "real": jnp.real, "imag": jnp.imag, "itemsize": lambda self: self.dtype.itemsize,
    "nbytes": lambda self: self.size * self.dtype.itemsize, "at": lambda self: jnp.at(self),
}
for _name, _get in _PROPERTIES.items():
    setattr(Tracer, _name, property(_get))
Tracer.__hash__ = None  # type: ignore[assignment]  # == is elementwise, as in NumPy

# Every other ndarray method and attribute: a sentence instead of Python's bare
# AttributeError. Installed one by one, not as a __getattr__: a __getattr__
# would slow every attribute lookup on every tracer (the tape reads several
# per gate), while these are only ever looked up by a user who asked for them.
_IN_PLACE = {"fill", "put", "resize", "partition", "setflags", "itemset",
             "setfield", "byteswap"}


def _unsupported_method(name: str) -> Callable:
    def method(self: Tracer, *args: Any, **kwargs: Any) -> Any:
        if name in _IN_PLACE:
            raise TypeError(f"nanojax: x.{name}() changes an array in place, and traced "
                            "values are immutable; use the jnp function that returns a "
                            "new array, or x.at[idx].set(v)")
        raise NotImplementedError(f"nanojax: ndarray.{name} is not supported on traced "
                                  "values; see nanojax.numpy for the functions that are")
    method.__name__ = name
    return method


def _unsupported_attribute(name: str) -> property:
    def get(self: Tracer) -> Any:
        raise AttributeError(f"nanojax: ndarray.{name} has no meaning for a traced value "
                             "(it has a shape and a dtype, not memory)")
    return property(get)


for _name in dir(np.ndarray):
    if _name.startswith("_") or hasattr(Tracer, _name):
        continue
    if callable(getattr(np.ndarray, _name)):
        setattr(Tracer, _name, _unsupported_method(_name))
    else:
        setattr(Tracer, _name, _unsupported_attribute(_name))


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    fn = _UFUNCS.get(ufunc)
    if fn is None or method != "__call__":
        name = ufunc.__name__ + ("" if method == "__call__" else f".{method}")
        raise TypeError(f"numpy.{name} is not supported on traced values by nanojax; "
                        "see nanojax.numpy for the functions that are")
    if any(v is not None for k, v in kwargs.items()):
        raise TypeError(f"numpy.{ufunc.__name__}: keyword arguments {sorted(kwargs)} "
                        "are not supported on traced values")
    return fn(*inputs)


def _array_function(self, func, types, args, kwargs):
    fn = _FUNCTIONS.get(func)
    if fn is None:
        where = getattr(func, "__module__", None) or "numpy"    # numpy.fft, numpy.linalg
        raise TypeError(f"{where}.{func.__name__} is not supported on traced values by "
                        "nanojax; see nanojax.numpy for the functions that are")
    return fn(*args, **kwargs)


for _name, _fn in {"__array_ufunc__": _array_ufunc,
                   "__array_function__": _array_function}.items():
    setattr(Tracer, _name, _fn)


def _protocol_tables() -> tuple[dict, dict]:
    """NumPy's ufuncs and functions mapped to ours of the same name.

    Derived, not listed: a function added to ``nanojax.numpy`` (or its
    ``linalg``) is at once what ``np.<name>`` does on a traced value.
    """
    ufuncs: dict = {}
    functions: dict = {}
    for theirs, ours in ((np, jnp), (np.linalg, jnp.linalg)):
        their_names = vars(theirs)
        for name, fn in vars(ours).items():
            if name.startswith("_") or not callable(fn) or isinstance(fn, type):
                continue
            np_fn = their_names.get(name)
            if isinstance(np_fn, np.ufunc):
                ufuncs[np_fn] = fn
            elif hasattr(np_fn, "_implementation"):     # dispatched by __array_function__
                functions[np_fn] = fn
    return ufuncs, functions


_UFUNCS, _FUNCTIONS = _protocol_tables()
