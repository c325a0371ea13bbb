"""Functions of functions: ``vectorize``, ``apply_along_axis``, ``apply_over_axes``,
``fromfunction`` and ``frompyfunc``.

Each is built on ``vmap``, as JAX's are: instead of a Python loop over the
elements, the function is batched once per broadcast dimension, so it runs
once on whole arrays and the result traces, differentiates and jits like
any other code. The function must therefore be written with array
operations (``jnp`` or NumPy's ufuncs and functions), not Python control
flow on the values.

Examples:
    >>> import numpy as np
    >>> import nanojax.numpy as jnp
    >>> matvec = jnp.vectorize(jnp.dot, signature="(m,n),(n)->(m)")
    >>> matvec(np.ones((4, 2, 3)), np.arange(3.0)).shape
    (4, 2)
    >>> jnp.apply_along_axis(jnp.sum, 1, np.arange(6.0).reshape(2, 3))
    array([ 3., 12.])
    >>> jnp.fromfunction(lambda i, j: i + 10 * j, (2, 3), dtype=int)
    array([[ 0, 10, 20],
           [ 1, 11, 21]])
"""

from __future__ import annotations

import functools
import inspect
import operator
import re
from typing import Any
from collections.abc import Callable

import numpy as np

import nanojax.numpy as jnp
from nanojax.batching import vmap
from nanojax.numpy._args import axis_index, error, operand

__all__ = ["apply_along_axis", "apply_over_axes", "frompyfunc", "fromfunction", "ufunc",
           "vectorize"]

# NumPy's grammar of generalized-ufunc signatures: "(m,n),(n)->(m)".
_DIM = r"\w+"
_DIMS = rf"(?:{_DIM}(?:,{_DIM})*)?"
_ARG = rf"\({_DIMS}\)"
_ARGS = rf"{_ARG}(?:,{_ARG})*"
_SIGNATURE = re.compile(rf"^{_ARGS}->{_ARGS}$")


def _parse_signature(signature: str) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    spec = re.sub(r"\s+", "", signature) if isinstance(signature, str) else None
    if spec is None or not _SIGNATURE.match(spec):
        raise error("vectorize", ValueError, f"not a valid gufunc signature: {signature!r}")
    ins, outs = spec.split("->")
    return ([tuple(re.findall(_DIM, arg)) for arg in re.findall(_ARG, side)]
            for side in (ins, outs))   # type: ignore[return-value]


def _core_sizes(sizes: dict, shape: tuple, dims: tuple, where: str) -> None:
    """Record (or check against ``sizes``) the sizes of ``dims``, the last axes of ``shape``."""
    if len(shape) < len(dims):
        raise error("vectorize", ValueError, f"{where} has {len(shape)} dimensions, but the "
                    f"signature's core dimensions {dims} need at least {len(dims)}")
    for dim, size in zip(dims, shape[len(shape) - len(dims):]):
        if sizes.setdefault(dim, size) != size:
            raise error("vectorize", ValueError, f"inconsistent size for core dimension "
                        f"{dim!r}: {size} in {where}, {sizes[dim]} before")


def vectorize(pyfunc: Callable, *, excluded: Any = frozenset(), signature: str | None = None
              ) -> Callable:
    """``pyfunc`` made to broadcast over leading dimensions, as a NumPy generalized ufunc.

    ``signature`` (``"(m,n),(n)->(m)"``) names the core dimensions each argument
    and output has; without it every argument is a scalar to ``pyfunc`` and its
    outputs may have any shape. ``excluded`` holds the positions of arguments
    passed to ``pyfunc`` unchanged. Built on ``vmap``: one batching per
    broadcast dimension, none of them a Python loop.
    """
    if not callable(pyfunc):
        raise error("vectorize", TypeError, f"pyfunc must be callable, got "
                    f"{type(pyfunc).__name__}")
    excluded = frozenset(excluded)
    if any(not isinstance(e, int) or isinstance(e, bool) for e in excluded):
        raise error("vectorize", TypeError, f"excluded must be a set of argument positions "
                    f"(ints), got {sorted(map(repr, excluded))}")
    if any(e < 0 for e in excluded):
        raise error("vectorize", ValueError, "excluded positions must be non-negative")
    in_dims_of_signature, out_dims = (_parse_signature(signature) if signature is not None
                                      else (None, None))

    @functools.wraps(pyfunc)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if kwargs:        # keywords become positions, so they are vectorized too
            try:
                bound = inspect.signature(pyfunc).bind(*args, **kwargs)
            except (TypeError, ValueError) as err:
                raise error("vectorize", TypeError, f"cannot pass keyword arguments to "
                            f"{getattr(pyfunc, '__name__', pyfunc)!r}: {err}") from None
            if bound.kwargs:
                raise error("vectorize", TypeError, f"keyword-only arguments "
                            f"{sorted(bound.kwargs)} cannot be vectorized; close over them "
                            "(functools.partial)")
            args = bound.args
        if excluded and max(excluded) >= len(args):
            raise error("vectorize", ValueError, f"excluded={set(excluded)} is invalid for "
                        f"{len(args)} argument(s)")
        fixed = [(i, args[i]) for i in sorted(excluded)]
        dynamic = [operand(a, "vectorize") for i, a in enumerate(args) if i not in excluded]

        def with_fixed(*xs: Any) -> Any:
            full = list(xs)
            for i, value in fixed:
                full.insert(i, value)
            return pyfunc(*full)

        in_dims = in_dims_of_signature or [()] * len(dynamic)
        if len(in_dims) != len(dynamic):
            raise error("vectorize", TypeError, f"wrong number of positional arguments: "
                        f"expected {len(in_dims)}, got {len(dynamic)}")
        sizes: dict = {}
        loop_shapes = []
        for k, (x, dims) in enumerate(zip(dynamic, in_dims)):
            _core_sizes(sizes, jnp.shape(x), dims, f"argument {k}")
            loop_shapes.append(jnp.shape(x)[:jnp.ndim(x) - len(dims)])
        try:
            broadcast = np.broadcast_shapes(*loop_shapes)
        except ValueError:
            raise error("vectorize", ValueError, f"the arguments' loop dimensions "
                        f"{loop_shapes} do not broadcast together") from None

        def checked(*xs: Any) -> Any:
            out = with_fixed(*xs)
            if out_dims is None:
                return out
            outs = out if isinstance(out, tuple) else (out,)
            if len(out_dims) > 1 and not isinstance(out, tuple):
                raise error("vectorize", TypeError, f"the signature has {len(out_dims)} "
                            f"outputs, so pyfunc must return a tuple, got {type(out).__name__}")
            if len(outs) != len(out_dims):
                raise error("vectorize", TypeError, f"wrong number of outputs: expected "
                            f"{len(out_dims)}, got {len(outs)}")
            seen = dict(sizes)
            for k, (o, dims) in enumerate(zip(outs, out_dims)):
                if jnp.ndim(o) != len(dims):
                    raise error("vectorize", ValueError, f"output {k} has shape "
                                f"{jnp.shape(o)}, but the signature gives it core dimensions "
                                f"{dims}")
                _core_sizes(seen, jnp.shape(o), dims, f"output {k}")
            return out

        # Size-1 loop axes are squeezed away and left to vmap's in_axes=None: the
        # argument is then not copied out to the broadcast shape.
        squeezed, reversed_shapes = [], []
        for x, loop in zip(dynamic, loop_shapes):
            ones = tuple(i for i, s in enumerate(loop) if s == 1)
            squeezed.append(jnp.squeeze(x, axis=ones) if ones else x)
            padded = (1,) * (len(broadcast) - len(loop)) + loop
            reversed_shapes.append(padded[::-1])
        fn = checked
        expand = []
        for back, column in enumerate(zip(*reversed_shapes)):
            in_axes = tuple(None if s == 1 else 0 for s in column)
            if all(a is None for a in in_axes):
                expand.append(len(broadcast) - 1 - back)
            else:
                fn = vmap(fn, in_axes=in_axes)
        result = fn(*squeezed)
        if not expand:
            return result
        axes = tuple(sorted(expand))
        if isinstance(result, tuple):
            return tuple(jnp.expand_dims(r, axes) for r in result)
        return jnp.expand_dims(result, axes)

    return wrapped


def apply_along_axis(func1d: Callable, axis: int, arr: Any, *args: Any, **kwargs: Any) -> Any:
    """``func1d(v, *args, **kwargs)`` for every 1-D slice ``v`` of ``arr`` along ``axis``;
    the outputs' dimensions take ``axis``'s place (NumPy's layout), by ``vmap``."""
    arr = operand(arr, "apply_along_axis")
    nd = jnp.ndim(arr)
    if nd == 0:
        raise error("apply_along_axis", ValueError, "arr must have at least one dimension")
    ax = axis_index("apply_along_axis", axis, nd)

    def fn(v: Any) -> Any:
        return func1d(v, *args, **kwargs)
    for i in range(1, nd - ax):
        fn = vmap(fn, in_axes=i, out_axes=-1)
    for _ in range(ax):
        fn = vmap(fn, in_axes=0, out_axes=0)
    return fn(arr)


def apply_over_axes(func: Callable, a: Any, axes: Any) -> Any:
    """``func(a, axis)`` applied for each of ``axes`` in turn, each result given back
    the reduced axis (as NumPy's): ``func`` must keep the rank or lower it by one."""
    a = operand(a, "apply_over_axes")
    for axis in [axes] if isinstance(axes, (int, np.integer)) else axes:
        b = func(a, axis)
        if jnp.ndim(b) == jnp.ndim(a):
            a = b
        elif jnp.ndim(b) == jnp.ndim(a) - 1:
            a = jnp.expand_dims(b, axis)
        else:
            raise error("apply_over_axes", ValueError, "function is not returning an array "
                        "of the correct shape")
    return a


def fromfunction(function: Callable, shape: Any, *, dtype: Any = float, **kwargs: Any) -> Any:
    """The array whose element ``[i, j, ...]`` is ``function(i, j, ...)``, with ``function``
    batched over each index by ``vmap`` (JAX's reading: it sees scalars)."""
    try:
        shape = tuple(operator.index(s) for s in
                      (shape if isinstance(shape, (tuple, list)) else (shape,)))
    except TypeError:
        raise error("fromfunction", TypeError, f"shape must be a tuple of concrete ints, got "
                    f"{shape!r}") from None
    fn = function
    for i in range(len(shape)):
        fn = vmap(fn, in_axes=tuple(0 if j == len(shape) - 1 - i else None
                                    for j in range(len(shape))))
    return fn(*(np.arange(s, dtype=dtype) for s in shape), **kwargs)


class ufunc:
    """A ufunc made from a Python function by ``frompyfunc``: calls it elementwise
    (through ``vectorize``), and for ``nin == 2, nout == 1`` also ``outer``,
    ``reduce`` and ``accumulate`` along one axis (by ``lax.scan``)."""

    def __init__(self, func: Callable, /, nin: int, nout: int, *, name: str | None = None,
                 identity: Any = None) -> None:
        if not callable(func):
            raise error("frompyfunc", TypeError, f"func must be callable, got "
                        f"{type(func).__name__}")
        for what, value in (("nin", nin), ("nout", nout)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise error("frompyfunc", ValueError, f"{what} must be a positive int, got "
                            f"{value!r}")
        self._func = func
        self.nin, self.nout, self.identity = nin, nout, identity
        self.nargs = nin + nout
        self.__name__ = name or getattr(func, "__name__", "ufunc")
        self._call = vectorize(func)

    def __repr__(self) -> str:
        return f"<nanojax.numpy.ufunc '{self.__name__}'>"

    def __call__(self, *args: Any) -> Any:
        if len(args) != self.nin:
            raise error(f"ufunc {self.__name__}", TypeError, f"takes {self.nin} arguments, "
                        f"got {len(args)}")
        out = self._call(*args)
        if self.nout > 1 and not (isinstance(out, tuple) and len(out) == self.nout):
            raise error(f"ufunc {self.__name__}", TypeError, f"the function must return a "
                        f"tuple of {self.nout} values")
        return out

    def _binary(self, method: str) -> None:
        if (self.nin, self.nout) != (2, 1):
            raise error(f"ufunc {self.__name__}", ValueError, f"{method} needs a function of "
                        f"two arguments and one output, this one has nin={self.nin}, "
                        f"nout={self.nout}")

    def outer(self, A: Any, B: Any, /) -> Any:
        """``self(a, b)`` for every pair: shape ``A.shape + B.shape``."""
        self._binary("outer")
        A, B = operand(A, "ufunc.outer"), operand(B, "ufunc.outer")
        return self(jnp.reshape(A, jnp.shape(A) + (1,) * jnp.ndim(B)), B)

    def _moved(self, method: str, a: Any, axis: Any) -> tuple[Any, int]:
        self._binary(method)
        a = operand(a, f"ufunc.{method}")
        if axis is None:
            return jnp.ravel(a), 0
        return a, axis_index(f"ufunc.{method}", axis, jnp.ndim(a))

    def reduce(self, a: Any, axis: Any = 0, dtype: Any = None, out: None = None,
               keepdims: bool = False, initial: Any = None, where: None = None) -> Any:
        """``self`` folded over ``axis`` (one axis, or None for all), from ``initial``
        (or ``identity``, or the first element)."""
        from nanojax.lax_control_flow import scan
        if out is not None or where is not None:
            raise error("ufunc.reduce", NotImplementedError, "out= and where= are not "
                        "supported")
        flat, ax = self._moved("reduce", a, axis)
        xs = jnp.moveaxis(flat, ax, 0)
        if dtype is not None:
            xs = jnp.astype(xs, dtype)
        start = initial if initial is not None else self.identity
        if start is None:
            if xs.shape[0] == 0:
                raise error("ufunc.reduce", ValueError, f"zero-size array to reduction "
                            f"operation {self.__name__} which has no identity")
            start, xs = xs[0], xs[1:]
        carry0 = jnp.broadcast_to(jnp.astype(start, jnp.result_type(xs)), xs.shape[1:])
        result, _ = scan(lambda c, x: (jnp.astype(self(c, x), jnp.result_type(xs)), None),
                         carry0, xs)
        if keepdims:
            result = (jnp.reshape(result, (1,) * jnp.ndim(a)) if axis is None
                      else jnp.expand_dims(result, ax))
        return result

    def accumulate(self, a: Any, axis: int = 0, dtype: Any = None, out: None = None) -> Any:
        """The running ``reduce`` along ``axis``: the same shape as ``a``."""
        from nanojax.lax_control_flow import scan
        if out is not None:
            raise error("ufunc.accumulate", NotImplementedError, "out= is not supported")
        if axis is None:
            raise error("ufunc.accumulate", TypeError, "axis must be an int")
        a, ax = self._moved("accumulate", a, axis)
        xs = jnp.moveaxis(a, ax, 0)
        if dtype is not None:
            xs = jnp.astype(xs, dtype)
        if xs.shape[0] == 0:
            return a

        def step(c: Any, x: Any) -> tuple:
            c = jnp.astype(self(c, x), jnp.result_type(xs))
            return c, c
        _, rest = scan(step, xs[0], xs[1:])
        return jnp.moveaxis(jnp.concatenate([xs[:1], rest]), 0, ax)


def frompyfunc(func: Callable, /, nin: int, nout: int, *, identity: Any = None) -> ufunc:
    """A ``ufunc`` from ``func`` (a function of ``nin`` scalars returning ``nout`` values),
    as JAX's: it runs through ``vmap``, so ``func`` must be written with array operations.

    >>> import numpy as np
    >>> import nanojax.numpy as jnp
    >>> add = jnp.frompyfunc(lambda x, y: x + y, nin=2, nout=1, identity=0)
    >>> add.reduce(np.arange(5.0)), add.accumulate(np.arange(4))
    (np.float64(10.0), array([0, 1, 3, 6]))
    """
    return ufunc(func, nin, nout, identity=identity)

