"""The arrays nanojax hands to users: NumPy arrays that also speak JAX.

    >>> import nanojax.numpy as jnp
    >>> x = jnp.zeros(3)
    >>> x.at[1].set(5.0)
    array([0., 5., 0.])
    >>> x, isinstance(x, np.ndarray), isinstance(x, jnp.ndarray)
    (array([0., 0., 0.]), True, True)

An ``ArrayImpl`` is a ``numpy.ndarray`` subclass that adds what JAX's
arrays have and NumPy's lack (``.at``, ``block_until_ready``, ``device``)
and nothing else: NumPy code reads, writes and computes with it as with any
array, and NumPy's results on it are ``ArrayImpl`` too. Inside nanojax
values stay plain ``ndarray``s (a subclass costs NumPy about half a
microsecond per call): arguments are unwrapped where a transformation
starts and results wrapped where they are handed back, by ``to_user``.
Zero-dimensional results stay NumPy scalars, as NumPy gives them.

``Array`` is the type to test against: ``isinstance(x, nanojax.Array)``
holds for every NumPy array and scalar and for traced values inside a
transformation, so ``jnp.ndarray`` (the same class) does too.
"""

from __future__ import annotations

import abc
import functools
import types
from collections.abc import Callable
from typing import Any

import numpy as np


class Array(abc.ABC):  # noqa: B024 - a type to test against, nothing to implement
    """The type of arrays, for ``isinstance`` checks and annotations.

    NumPy arrays and scalars are ``Array`` instances, and so are traced
    values inside a transformation.

    >>> import nanojax.numpy as jnp
    >>> isinstance(jnp.ones(3), Array), isinstance(jnp.sum(jnp.ones(3)), Array)
    (True, True)
    """


Array.register(np.ndarray)
Array.register(np.number)  # type: ignore[type-abstract]
Array.register(np.bool_)
# nanojax.core registers its Tracer: traced values are arrays too.


class _NoTracerYet:
    """Stands for nanojax.core.Tracer until core, which imports this module, sets it."""


_TRACER: type = _NoTracerYet
_ndarray_getitem = np.ndarray.__getitem__


class ArrayImpl(np.ndarray):
    """A NumPy array with JAX's array methods (``x.at[i].set(v)``).

    NumPy's own methods keep NumPy's meaning, since NumPy's functions call
    them: ``x.sort()`` sorts in place, as NumPy's does (``jnp.sort(x)`` is
    the pure one).
    """

    __slots__ = ()
    # Any priority at all spares NumPy a failed attribute lookup on every
    # call; 1.0 stays below NumPy's own subclasses (matrix, masked arrays).
    __array_priority__ = 1.0

    def __array_wrap__(self, array: np.ndarray, context: Any = None,
                       return_scalar: bool = False) -> Any:
        # NumPy's answer for a plain array: a scalar where it would give one.
        if return_scalar:
            return array[()]
        return array.view(ArrayImpl) if type(array) is np.ndarray else array

    def __getitem__(self, idx: Any) -> Any:
        # A traced index (``table[i]`` inside jit, vmap or a lax loop) is a gather
        # in the trace; NumPy's own indexing would try to make the tracer an int.
        if type(idx) is tuple:
            for item in idx:
                if isinstance(item, _TRACER):
                    return _traced_getitem(self, idx)
        elif isinstance(idx, _TRACER):
            return _traced_getitem(self, idx)
        return _ndarray_getitem(self, idx)

    @property
    def at(self) -> Any:
        """Functional updates: ``x.at[idx].set(v)``, ``.add(v)``, ``.get()``, ..."""
        from nanojax.numpy._indexing import _IndexUpdateHelper
        return _IndexUpdateHelper(self)

    def block_until_ready(self) -> ArrayImpl:
        """``self``: NumPy has finished computing by the time it returns."""
        return self

    def copy_to_host_async(self) -> None:
        """Nothing to do: the array is in host memory already."""

    @property
    def device(self) -> Any:
        """The one CPU device the array lives on."""
        from nanojax.devices import devices
        return devices()[0]

    @property
    def sharding(self) -> Any:
        """``SingleDeviceSharding`` on the CPU: the whole array on the one device."""
        from nanojax.sharding import SingleDeviceSharding
        return SingleDeviceSharding(self.device)

    def devices(self) -> set:
        """``{device}``: the set of devices holding the array."""
        return {self.device}

    @property
    def is_fully_addressable(self) -> bool:
        return True

    @property
    def is_fully_replicated(self) -> bool:
        return True

    @property
    def weak_type(self) -> bool:
        return False

    def __repr__(self) -> str:
        return np.ndarray.__repr__(self.view(np.ndarray))

    def __reduce__(self) -> Any:
        # Pickles as the plain array it holds, so a pickle needs no nanojax.
        return np.ndarray.__reduce__(self.view(np.ndarray))


def _any_traced(args: tuple, kwargs: dict) -> bool:
    for a in args:
        if isinstance(a, _TRACER):
            return True
    return any(isinstance(a, _TRACER) for a in kwargs.values())


def _traced_aware(name: str, jnp_call: Callable[..., Any] | None = None) -> Callable[..., Any]:
    """NumPy's method ``name``, but handed to ``jnp.<name>`` when an argument is
    traced (``table.dot(w)`` with ``w`` traced inside jit), which NumPy's own
    would try to turn into an array."""
    numpy_method = getattr(np.ndarray, name)

    def method(self: ArrayImpl, *args: Any, **kwargs: Any) -> Any:
        # Written out for speed: NumPy's C method is slower called with **{}.
        if not kwargs:
            for a in args:
                if isinstance(a, _TRACER):
                    break
            else:
                return numpy_method(self, *args)
        elif not _any_traced(args, kwargs):
            return numpy_method(self, *args, **kwargs)
        import nanojax.numpy as jnp
        plain = self.view(np.ndarray)
        if jnp_call is not None:
            return jnp_call(jnp, plain, *args, **kwargs)
        return getattr(jnp, name)(plain, *args, **kwargs)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = numpy_method.__doc__
    return method


def _traced_inplace(name: str, operator_name: str) -> Callable[..., Any]:
    """NumPy's in-place operator, but ``x += t`` with ``t`` traced rebinds ``x`` to
    ``x + t``, as ``+=`` does on JAX's (immutable) arrays."""
    numpy_method = getattr(np.ndarray, name)
    import operator
    out_of_place = getattr(operator, operator_name)

    def method(self: ArrayImpl, other: Any) -> Any:
        if isinstance(other, _TRACER):
            return out_of_place(self.view(np.ndarray), other)
        return numpy_method(self, other)
    method.__name__ = method.__qualname__ = name
    return method


for _name in ("dot", "clip", "take", "searchsorted", "choose"):
    setattr(ArrayImpl, _name, _traced_aware(_name))
# ndarray.compress(condition, axis) is jnp.compress(condition, a, axis)
ArrayImpl.compress = _traced_aware(  # type: ignore[method-assign]
    "compress", lambda jnp, a, condition, *args, **kwargs: jnp.compress(condition, a, *args,
                                                                        **kwargs))
for _name, _op in (("__iadd__", "add"), ("__isub__", "sub"), ("__imul__", "mul"),
                   ("__itruediv__", "truediv"), ("__ifloordiv__", "floordiv"),
                   ("__imod__", "mod"), ("__ipow__", "pow"), ("__imatmul__", "matmul"),
                   ("__iand__", "and_"), ("__ior__", "or_"), ("__ixor__", "xor"),
                   ("__ilshift__", "lshift"), ("__irshift__", "rshift")):
    setattr(ArrayImpl, _name, _traced_inplace(_name, _op))


def _traced_getitem(x: ArrayImpl, idx: Any) -> Any:
    from nanojax.numpy._indexing import getitem
    return getitem(x.view(np.ndarray), idx)


_PLAIN_ARRAY = np.ndarray
_FUNCTION = types.FunctionType


def to_user(x: Any) -> Any:
    """``x`` as nanojax hands it out: a plain array becomes an ``ArrayImpl``
    (a view, no copy); containers are walked; anything else is returned as is."""
    kind = type(x)
    if kind is _PLAIN_ARRAY:
        return x.view(ArrayImpl)
    if kind is tuple or kind is list:
        return kind(map(to_user, x))
    if kind is dict:
        return {k: to_user(v) for k, v in x.items()}
    if isinstance(x, tuple) and hasattr(x, "_fields"):          # a NamedTuple
        return kind(*map(to_user, x))
    if kind is _FUNCTION and not getattr(x, "_hands_out_arrays", False):
        return returns_arrays(x)     # what a factory makes (an initializer, a layer)
    return x


def from_user(x: Any) -> Any:
    """``x`` as nanojax computes with it: an ``ArrayImpl`` becomes a plain view."""
    return x.view(np.ndarray) if type(x) is ArrayImpl else x


def returns_arrays(fn: Callable) -> Callable:
    """``fn`` whose results are handed out as ``ArrayImpl``s (see ``to_user``)."""
    @functools.wraps(fn)
    def public(*args: Any, **kwargs: Any) -> Any:
        given = args
        if ArrayImpl in map(type, args):
            # Computed with as plain arrays: NumPy takes a slower path for subclasses.
            args = tuple([a.view(_PLAIN_ARRAY) if type(a) is ArrayImpl else a for a in args])
        out = fn(*args, **kwargs)
        kind = type(out)
        # An argument handed back (the identity) is itself, unless a plain NumPy
        # array, which comes back as ours: jnp.asarray(x).at[i] works.
        if kind is _PLAIN_ARRAY:
            if given is not args:                # only an unwrapped argument can be it
                for a, g in zip(args, given):
                    if out is a:
                        return g
            return out.view(ArrayImpl)
        if kind is tuple or kind is list or kind is dict or kind is _FUNCTION \
                or isinstance(out, tuple):
            for a, g in zip(args, given):
                if out is a:
                    return g
            return to_user(out)
        return out
    public._hands_out_arrays = True  # type: ignore[attr-defined]
    return public


def export(namespace: dict, names: Any = None) -> None:
    """Wrap each plain function among ``names`` (default: ``__all__``) in
    ``namespace`` with ``returns_arrays``: the public face of a module hands
    out ``ArrayImpl``s, and so do the functions its factories return.

    Classes, constants, submodules and already-wrapped functions are left
    alone. Called once, at the end of each public module.
    """
    if names is None:
        names = namespace["__all__"]
    made: dict[int, Callable] = {}          # an alias gets the same wrapper as its original
    for name in names:
        obj = namespace.get(name)
        if (isinstance(obj, types.FunctionType) and not getattr(obj, "_hands_out_arrays", False)
                and obj.__module__.startswith("nanojax")):      # not NumPy's own functions
            if id(obj) not in made:
                made[id(obj)] = returns_arrays(obj)
            namespace[name] = made[id(obj)]
