"""``nanojax.lax``: the primitives themselves, under JAX's names and signatures.

Each function here applies one primitive (or a short fixed circuit of them)
with no NumPy conveniences: no lists, no ``axis=None``, parameters spelled
as JAX spells them. ``jnp`` is NumPy's API on the same gates: it checks its
arguments NumPy's way and then binds through the same thin functions these
call after checking JAX's way, so no argument is checked twice. Operands
may be arrays, numbers or traced values; elementwise functions broadcast
as NumPy does (JAX asks for equal shapes, so code written for JAX runs here
unchanged). A bad operand or shape raises an
error that names the function, the same eagerly and under a transformation.

Examples:
    >>> import numpy as np
    >>> from nanojax import lax
    >>> print(lax.add(1.0, 2.0))
    3.0
    >>> lax.dot_general(np.ones((2, 3)), np.ones((3, 4)), (((1,), (0,)), ((), ()))).shape
    (2, 4)
    >>> lax.reduce_sum(np.arange(6.0).reshape(2, 3), axes=(1,))
    array([ 3., 12.])
"""

from __future__ import annotations

import builtins
import enum
from typing import Any
from collections.abc import Sequence

import numpy as np

from nanojax.api_util import public_dir

from nanojax import lax_linalg as linalg  # noqa: F401 - the submodule lax.linalg, as JAX's
from nanojax import primitives as P
from nanojax.collectives import (all_gather, all_to_all, axis_index, axis_size, pmax, pmean,
                                 pmin, ppermute, psum, psum_scatter)
from nanojax.core import Primitive, Tracer, get_aval
from nanojax.lax_associative_scan import associative_scan
from nanojax.lax_gather import (GatherDimensionNumbers, GatherScatterMode,
                                ScatterDimensionNumbers, gather, scatter, scatter_add)
from nanojax.lax_misc import (batch_matmul, broadcast_shapes, collapse, full_like,
                              optimization_barrier, reduce, with_sharding_constraint)
from nanojax.lax_control_flow import cond, fori_loop, map, scan, switch, while_loop  # noqa: A004
from nanojax.lax_cumulative import (cumlogsumexp, cummax, cummin, cumprod, sort,
                                    sort_key_val)
from nanojax.lax_convolution import (ConvDimensionNumbers, conv, conv_dimension_numbers,
                                     conv_general_dilated, conv_general_permutations,
                                     conv_transpose, conv_with_general_padding,
                                     padtype_to_pads, reduce_window)
from nanojax.lax_solves import custom_linear_solve, custom_root
from nanojax.lax_convolution import (conv_general_shape_tuple, conv_transpose_shape_tuple,
                                     reduce_window_shape_tuple)
from nanojax.lax_slicing import (dynamic_index_in_dim, dynamic_slice, dynamic_slice_in_dim,
                                  dynamic_update_index_in_dim, dynamic_update_slice,
                                  dynamic_update_slice_in_dim, index_in_dim, pad, rev,
                                  slice, slice_in_dim, top_k)  # noqa: A004 - JAX's lax.slice
from nanojax.numpy._args import ARRAYS, PLAIN, check_numeric, describe, is_int, reworded

__all__ = [  # the elementwise functions are added below, from the registry
    "Precision", "RoundingMethod", "argmax", "argmin", "broadcast", "broadcast_in_dim",
    "broadcasted_iota", "clamp", "concatenate", "convert_element_type", "cumlogsumexp", "cummax",
    "cummin", "cumprod", "cumsum", "dot",
    "dot_general", "dynamic_index_in_dim", "dynamic_slice", "dynamic_slice_in_dim",
    "dynamic_update_index_in_dim", "dynamic_update_slice", "dynamic_update_slice_in_dim",
    "expand_dims", "full", "index_in_dim", "integer_pow", "iota", "pad", "reduce_max", "reduce_min",
    "reduce_prod", "reduce_sum", "reshape", "rev", "round", "rsqrt", "select", "select_n",
    "slice", "slice_in_dim", "sort", "sort_key_val", "square", "squeeze", "stop_gradient",
    "top_k", "transpose",
    # control flow: nanojax.lax_control_flow
    "cond", "fori_loop", "map", "scan", "switch", "while_loop"]
__all__ += ["ConvDimensionNumbers", "conv", "conv_dimension_numbers", "conv_general_dilated",
            "conv_general_permutations", "conv_transpose", "conv_with_general_padding",
            "padtype_to_pads", "reduce_window"]
__all__ += ["associative_scan", "batch_matmul", "broadcast_shapes", "collapse", "full_like",
            "optimization_barrier", "reduce", "with_sharding_constraint"]
__all__ += ["custom_linear_solve", "custom_root"]
__all__ += ["GatherDimensionNumbers", "GatherScatterMode", "ScatterDimensionNumbers", "gather",
            "scatter", "scatter_add"]
# collectives over named axes: nanojax.collectives
__all__ += ["all_gather", "all_to_all", "axis_index", "axis_size", "pmax", "pmean", "pmin",
            "ppermute", "psum", "psum_scatter"]
__all__ += ["conv_general_shape_tuple", "conv_transpose_shape_tuple", "reduce_window_shape_tuple"]

# ----- Applying a primitive ------------------------------------------------------


def _apply(name: str, prim: Primitive, args: Sequence[Any], **params: Any) -> Any:
    """``prim.bind(*args, **params)``, its errors led by ``nanojax.lax.<name>``.

    Without a tracer the shape rule runs first, so a mistake gets the same
    sentence eagerly as under jit, instead of NumPy's from deep in the impl.
    """
    traced = False
    for a in args:                 # a plain loop: this runs on every traced jnp call
        if isinstance(a, Tracer):
            traced = True
        else:
            _check(name, a)
    try:
        if not traced and prim.abstract_eval is not None:
            prim.abstract_eval(*(get_aval(a) for a in args), **params)
        return prim.bind(*args, **params)
    except (TypeError, ValueError) as err:
        if type(err) not in (TypeError, ValueError):     # ConcretizationTypeError, ...
            raise
        message = str(err).removeprefix(f"{prim.name}: ")
        raise reworded(f"lax.{name}", type(err)(message)) from None


def _check(name: str, a: Any) -> None:
    """Refuse an operand that is neither a tracer, an array nor a number."""
    if isinstance(a, Tracer) or (type(a) in PLAIN and (type(a) not in ARRAYS
                                                      or a.dtype.kind in "biufc")):
        return
    if isinstance(a, (list, tuple)):      # as in JAX: lax takes no lists (jnp does)
        raise TypeError(f"nanojax.lax.{name}: takes arrays and numbers, got "
                        f"{_describe(a)}; pass np.asarray of it, or use nanojax.numpy")
    check_numeric(f"lax.{name}", a)


def _as(name: str, fn: Any, *args: Any) -> Any:
    """``fn(*args)`` for ``lax.<name>``, which is written on it: an error another lax
    function raises is reported under ``name``, the function the user called."""
    try:
        return fn(*args)
    except (TypeError, ValueError) as err:
        message = str(err)
        if type(err) not in (TypeError, ValueError) or not message.startswith("nanojax.lax."):
            raise
        raise type(err)(f"nanojax.lax.{name}:{message.partition(':')[2]}") from None


def _describe(x: Any) -> str:
    """``x`` for an error message: an array and a tracer of it read the same."""
    if isinstance(x, (Tracer, np.ndarray)):
        return f"an array of shape {tuple(x.shape)} and dtype {x.dtype}"
    if isinstance(x, (list, tuple)) and any(isinstance(e, (Tracer, np.ndarray)) for e in x):
        return f"a {type(x).__name__} of {len(x)} arrays or numbers"
    return describe(x)


def _ints(name: str, what: str, values: Any) -> tuple[int, ...]:
    if type(values) is tuple:      # the common case, from jnp: a tuple of Python ints
        for v in values:
            if type(v) is not int:
                break
        else:
            return values
    items = (values,) if is_int(values) else values
    try:
        out = tuple(items)
    except TypeError:
        out = None
    if out is None or not all(builtins.map(is_int, out)):
        raise TypeError(f"nanojax.lax.{name}: {what} must be a sequence of ints, got "
                        f"{_describe(values)}")
    return tuple(int(v) for v in out)


def _shape(name: str, x: Any) -> tuple[int, ...]:
    """``x``'s shape, once ``x`` is known to be an operand ``lax.<name>`` accepts."""
    _check(name, x)
    return x.shape if isinstance(x, Tracer) else np.shape(x)


# ----- Elementwise: one function per elementwise primitive ------------------------
# Derived from the registry, so a new elementwise gate is in lax at once. The
# primitives JAX spells differently are renamed; those with no lax function of
# their own (relu is jax.nn's; floor_divide, remainder and trunc are NumPy's;
# lax.rem is the truncating one, NumPy's fmod) are left to jnp and nn.

_RENAMED = {"and": "bitwise_and", "or": "bitwise_or", "xor": "bitwise_xor",
            "not": "bitwise_not"}
_NOT_LAX = {"relu", "floor_divide", "remainder", "round", "trunc"}


def _elementwise(name: str, prim: Primitive, arity: int) -> Any:
    if arity == 1:
        def fn(x: Any, /) -> Any:
            return _apply(name, prim, (x,))
    else:
        def fn(x: Any, y: Any, /) -> Any:  # type: ignore[misc]
            return _apply(name, prim, (x, y))
    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = __name__
    fn.__doc__ = f"Elementwise primitive ``{prim.name}``."
    return fn


_ELEMENTWISE = {_RENAMED.get(n, n): _elementwise(_RENAMED.get(n, n), P.ALL_PRIMITIVES[n], k)
                for n, k in P.ELEMENTWISE_ARITY.items() if n not in _NOT_LAX}
globals().update(_ELEMENTWISE)
__all__ += sorted(_ELEMENTWISE)


_derived_div = _ELEMENTWISE["div"]


def _is_integer(x: Any) -> bool:
    dtype = getattr(x, "dtype", None)
    if dtype is None:
        return type(x) is int or isinstance(x, np.integer)
    return dtype.kind in "iu"


def div(x: Any, y: Any, /) -> Any:
    """``x / y``; two integers divide rounding toward zero, as in C and JAX."""
    if not (_is_integer(x) and _is_integer(y)):
        return _derived_div(x, y)              # floats; and bad operands get its errors
    # Floor division, then one step up where the exact quotient is negative
    # and not whole: that is where floor and truncation part.
    floored = _apply("div", P.floor_divide_p, (x, y))
    inexact = P.ne_p.bind(P.remainder_p.bind(x, y), 0)
    negative = P.ne_p.bind(P.lt_p.bind(x, 0), P.lt_p.bind(y, 0))
    step = P.convert_element_type(P.and_p.bind(inexact, negative), P.dtype_of(floored))
    return P.add_p.bind(floored, step)


def __getattr__(name: str) -> Any:
    # Only reached for names not defined above: say so in a sentence.
    raise AttributeError(f"nanojax.lax has no function {name!r}; see nanojax.numpy for "
                         "NumPy's API, or the API reference for what lax provides")


def integer_pow(x: Any, y: int) -> Any:
    """``x ** y`` for a Python int ``y``, as repeated multiplication."""
    if not is_int(y):
        raise TypeError(f"nanojax.lax.integer_pow: y must be an int, got {_describe(y)}")
    return _apply("integer_pow", P.integer_pow_p, (x,), y=int(y))


def square(x: Any) -> Any:
    """``x * x``."""
    return _apply("square", P.integer_pow_p, (x,), y=2)


class RoundingMethod(enum.IntEnum):
    """How ``lax.round`` breaks ties, as JAX numbers them."""

    AWAY_FROM_ZERO = 0
    TO_NEAREST_EVEN = 1


def round(x: Any, rounding_method: Any = RoundingMethod.AWAY_FROM_ZERO) -> Any:  # noqa: A001
    """Round to the nearest whole number; ties away from zero unless asked otherwise."""
    try:
        method = RoundingMethod(rounding_method)
    except ValueError:
        raise ValueError(f"nanojax.lax.round: rounding_method must be 0 (AWAY_FROM_ZERO) or "
                         f"1 (TO_NEAREST_EVEN), got {rounding_method!r}") from None
    _check("round", x)
    dtype = x.dtype if isinstance(x, Tracer) else np.result_type(x)
    if dtype.kind != "f":
        raise TypeError(f"nanojax.lax.round: rounds floating-point values, got {dtype}")
    if method is RoundingMethod.TO_NEAREST_EVEN:
        return _apply("round", P.round_p, (x,))
    # Truncate toward zero, then step away where the dropped part is at least
    # a half: x - trunc(x) is exact, so no value near a half is misjudged.
    # From 2**52 up every float is whole (inf and NaN stay as they are), and
    # leaving those out keeps inf - inf from ever being computed.
    fraction_possible = _apply("round", P.lt_p, (P.abs_p.bind(x), 2.0 ** 52))
    small = P.select_n(fraction_possible, 0.0, x)
    whole = P.select_n(P.lt_p.bind(small, 0.0), P.floor_p.bind(small), P.ceil_p.bind(small))
    step = P.ge_p.bind(P.abs_p.bind(P.sub_p.bind(small, whole)), 0.5)
    rounded = P.select_n(step, whole, P.add_p.bind(whole, P.sign_p.bind(small)))
    return P.select_n(fraction_possible, x, rounded)


def rsqrt(x: Any) -> Any:
    """``1 / sqrt(x)``, elementwise (the 1.0 takes ``x``'s float dtype)."""
    return _apply("rsqrt", P.div_p, (1.0, _apply("rsqrt", P.sqrt_p, (x,))))


def clamp(low: Any, x: Any, high: Any, /) -> Any:
    """JAX's ``clamp(min, x, max)``: ``x`` held between the two, ``lax.min(lax.max(x, min), max)``.

    Positional, as it is always called: inside lax, ``min`` and ``max`` are functions.
    """
    return _apply("clamp", P.min_p, (_apply("clamp", P.max_p, (x, low)), high))


def select(pred: Any, on_true: Any, on_false: Any) -> Any:
    """``on_true`` where the boolean ``pred`` holds, ``on_false`` elsewhere."""
    _check("select", pred)
    dtype = P.dtype_of(pred) if isinstance(pred, (Tracer, np.ndarray, np.generic)) else None
    if dtype != np.bool_ and type(pred) is not bool:
        raise TypeError(f"nanojax.lax.select: pred must be boolean, got {describe(pred)}; "
                        "use lax.select_n for an integer selector")
    return _as("select", select_n, pred, on_false, on_true)


def select_n(which: Any, *cases: Any) -> Any:
    """``cases[which]`` elementwise: a boolean ``which`` picks ``cases[1]`` where true."""
    if not cases:
        raise ValueError("nanojax.lax.select_n: needs at least one case")
    if len(cases) == 1:
        return cases[0]
    return _apply("select_n", P.select_n_p, (which, *cases))


def convert_element_type(operand: Any, new_dtype: Any) -> Any:
    """``operand`` as ``new_dtype`` (a float to an int truncates toward zero)."""
    try:
        dtype = np.dtype(new_dtype)
    except TypeError as err:
        raise reworded("lax.convert_element_type", err) from None
    if isinstance(operand, Tracer) and operand.dtype == dtype and not operand.aval.weak_type:
        return operand                          # nothing to convert, as in JAX
    return _apply("convert_element_type", P.convert_element_type_p, (operand,),
                  new_dtype=dtype)


def stop_gradient(x: Any) -> Any:
    """``x``, with no gradient flowing back through it."""
    return _apply("stop_gradient", P.stop_gradient_p, (x,))


# ----- Reductions --------------------------------------------------------------------

def _reduction(name: str, prim: Primitive) -> Any:
    def fn(operand: Any, axes: Sequence[int]) -> Any:
        shape = _shape(name, operand)
        dims = _ints(name, "axes", axes)
        if builtins.min(dims, default=0) < 0 or list(dims) != sorted(dims):
            dims = tuple(sorted(d % len(shape) if -len(shape) <= d < 0 else d for d in dims))
        if len(set(dims)) != len(dims):
            raise ValueError(f"nanojax.lax.{name}: axes {tuple(axes)} repeat an axis")
        if name in ("reduce_max", "reduce_min"):
            _nonempty(name, shape, dims)
        return _apply(name, prim, (operand,), axes=dims)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Reduce ``operand`` over ``axes`` (primitive ``{prim.name}``)."
    return fn


reduce_sum = _reduction("reduce_sum", P.reduce_sum_p)
reduce_max = _reduction("reduce_max", P.reduce_max_p)
reduce_min = _reduction("reduce_min", P.reduce_min_p)
reduce_prod = _reduction("reduce_prod", P.reduce_prod_p)


def _nonempty(name: str, shape: tuple[int, ...], dims: Sequence[int]) -> None:
    # A max or min over no elements has no value: said at trace time, not at run time.
    if any(0 <= d < len(shape) and shape[d] == 0 for d in dims):
        raise ValueError(f"nanojax.lax.{name}: cannot reduce an array of shape {shape} over "
                         f"its empty axes {tuple(dims)}")


def _argreduction(name: str, prim: Primitive) -> Any:
    def fn(operand: Any, axis: int, index_dtype: Any) -> Any:
        if not is_int(axis):
            raise TypeError(f"nanojax.lax.{name}: axis must be an int, got {_describe(axis)}")
        try:
            dtype = np.dtype(index_dtype)
        except TypeError as err:
            raise reworded(f"lax.{name}", err) from None
        if dtype.kind not in "iu":
            raise TypeError(f"nanojax.lax.{name}: index_dtype must be an integer type, got "
                            f"{dtype}")
        _nonempty(name, _shape(name, operand), (int(axis),))
        out = _apply(name, prim, (operand,), axes=(int(axis),),
                     index_dtype=np.dtype(np.int64))
        return convert_element_type(out, dtype)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"The index of the {name[3:]}imum along ``axis``, as ``index_dtype``."
    return fn


argmax = _argreduction("argmax", P.argmax_p)
argmin = _argreduction("argmin", P.argmin_p)


def cumsum(operand: Any, axis: int = 0, reverse: bool = False) -> Any:
    """Running sums along ``axis`` (from the end when ``reverse``)."""
    if not is_int(axis):
        raise TypeError(f"nanojax.lax.cumsum: axis must be an int, got {_describe(axis)}")
    return _apply("cumsum", P.cumsum_p, (operand,), axis=int(axis), reverse=bool(reverse))


# ----- Shapes ------------------------------------------------------------------------

def broadcast_in_dim(operand: Any, shape: Sequence[int],
                     broadcast_dimensions: Sequence[int]) -> Any:
    """``operand`` broadcast to ``shape``, its axis i becoming ``broadcast_dimensions[i]``."""
    sizes = _ints("broadcast_in_dim", "shape", shape)
    if any(d < 0 for d in sizes):
        raise ValueError(f"nanojax.lax.broadcast_in_dim: shape {sizes} has a negative size")
    return _apply("broadcast_in_dim", P.broadcast_in_dim_p, (operand,), shape=sizes,
                  broadcast_dimensions=_ints("broadcast_in_dim", "broadcast_dimensions",
                                             broadcast_dimensions))


def broadcast(operand: Any, sizes: Sequence[int]) -> Any:
    """``operand`` with new leading axes of ``sizes``."""
    sizes = _ints("broadcast", "sizes", sizes)
    shape = tuple(_shape("broadcast", operand))
    return _as("broadcast", broadcast_in_dim, operand, sizes + shape,
               tuple(range(len(sizes), len(sizes) + len(shape))))


def reshape(operand: Any, new_sizes: Sequence[int],
            dimensions: Sequence[int] | None = None) -> Any:
    """``operand``'s elements in row-major order as ``new_sizes`` (after permuting
    its axes by ``dimensions``, if given)."""
    if dimensions is not None:
        operand = _as("reshape", transpose, operand, dimensions)
    sizes = _ints("reshape", "new_sizes", new_sizes)
    if any(d < 0 for d in sizes):       # JAX's lax.reshape has no -1: every size is given
        raise ValueError(f"nanojax.lax.reshape: new_sizes {sizes} has a negative size")
    return _apply("reshape", P.reshape_p, (operand,), new_sizes=sizes)


def transpose(operand: Any, permutation: Sequence[int]) -> Any:
    """``operand`` with axis i taken from axis ``permutation[i]``."""
    perm = _ints("transpose", "permutation", permutation)
    shape = _shape("transpose", operand)
    if sorted(perm) != list(range(len(shape))):
        raise ValueError(f"nanojax.lax.transpose: permutation {perm} is not a permutation of "
                         f"the axes of an array of shape {shape}")
    return _apply("transpose", P.transpose_p, (operand,), permutation=perm)


def squeeze(array: Any, dimensions: Sequence[int]) -> Any:
    """``array`` without the axes ``dimensions``, each of size 1."""
    shape = _shape("squeeze", array)
    dims = _ints("squeeze", "dimensions", dimensions)
    dims = tuple(sorted(d % len(shape) if -len(shape) <= d < 0 else d for d in dims))
    if any(not 0 <= d < len(shape) or shape[d] != 1 for d in dims):
        raise ValueError(f"nanojax.lax.squeeze: dimensions {dims} must be axes of size 1 of "
                         f"an array of shape {shape}")
    return _apply("squeeze", P.squeeze_p, (array,), dimensions=dims)


def expand_dims(array: Any, dimensions: Sequence[int]) -> Any:
    """``array`` with axes of size 1 inserted at ``dimensions`` (of the result)."""
    shape = list(_shape("expand_dims", array))
    given = _ints("expand_dims", "dimensions", dimensions)
    ndim = len(shape) + len(given)
    dims = sorted(d % ndim if -ndim <= d < 0 else d for d in given)
    if len(set(dims)) != len(dims) or any(not 0 <= d < ndim for d in dims):
        raise ValueError(f"nanojax.lax.expand_dims: dimensions {given} are not "
                         f"distinct axes of a {ndim}-d result")
    for d in dims:
        shape.insert(d, 1)
    kept = tuple(i for i in range(ndim) if i not in dims)
    return _as("expand_dims", broadcast_in_dim, array, shape, kept)


def concatenate(operands: Sequence[Any], dimension: int) -> Any:
    """``operands`` joined along axis ``dimension``."""
    if isinstance(operands, Tracer) or not isinstance(operands, (list, tuple)) or not operands:
        raise TypeError("nanojax.lax.concatenate: operands must be a non-empty sequence of "
                        f"arrays, got {_describe(operands)}")
    if not is_int(dimension):
        raise TypeError(f"nanojax.lax.concatenate: dimension must be an int, got "
                        f"{_describe(dimension)}")
    shapes = [_shape("concatenate", x) for x in operands]
    if not 0 <= dimension < len(shapes[0]):
        raise ValueError(f"nanojax.lax.concatenate: dimension {dimension} is not an axis of "
                         f"operands of shapes {', '.join(builtins.map(str, shapes))}")
    return _apply("concatenate", P.concatenate_p, tuple(operands), dimension=int(dimension))


def full(shape: Sequence[int], fill_value: Any, dtype: Any = None) -> Any:
    """An array of ``shape`` filled with ``fill_value`` (which may be traced)."""
    sizes = _ints("full", "shape", shape)
    if _shape("full", fill_value) != ():
        raise TypeError(f"nanojax.lax.full: fill_value must be a scalar, got one of shape "
                        f"{_shape('full', fill_value)}")
    value = fill_value if dtype is None else _as("full", convert_element_type, fill_value,
                                                 dtype)
    return _as("full", broadcast_in_dim, value, sizes, ())


def iota(dtype: Any, size: int) -> np.ndarray:
    """``0, 1, ..., size - 1`` in ``dtype``: a constant, as ``np.arange``."""
    (n,) = _ints("iota", "size", (size,))
    if n < 0:
        raise ValueError(f"nanojax.lax.iota: size must be non-negative, got {n}")
    return np.arange(n, dtype=np.dtype(dtype))


def broadcasted_iota(dtype: Any, shape: Sequence[int], dimension: int) -> np.ndarray:
    """An array of ``shape`` holding each element's index along ``dimension``."""
    sizes = _ints("broadcasted_iota", "shape", shape)
    (d,) = _ints("broadcasted_iota", "dimension", (dimension,))
    if not 0 <= d < len(sizes):
        raise ValueError(f"nanojax.lax.broadcasted_iota: dimension {d} is not an axis of "
                         f"shape {sizes}")
    ones = [1] * len(sizes)
    ones[d] = sizes[d]
    return np.broadcast_to(np.arange(sizes[d], dtype=np.dtype(dtype)).reshape(ones),
                           sizes).copy()


class Precision(enum.Enum):
    """``precision=`` of ``dot_general`` and ``dot``: accepted, with nothing to choose.

    NumPy computes in the operands' own precision, which is what HIGHEST asks for.
    """

    DEFAULT = 0
    HIGH = 1
    HIGHEST = 2


# ----- Contractions ----------------------------------------------------------------

def _preferred(x: Any, preferred_element_type: Any) -> Any:
    # NumPy accumulates in the operands' type: asking for another one converts them.
    if preferred_element_type is None:
        return x
    return _as("dot_general", convert_element_type, x, preferred_element_type)


def dot_general(lhs: Any, rhs: Any, dimension_numbers: Any, precision: Any = None,
                preferred_element_type: Any = None) -> Any:
    """The contraction ``((lhs_contract, rhs_contract), (lhs_batch, rhs_batch))``.

    ``precision`` is accepted and has nothing to choose: NumPy computes in the
    operands' own precision.
    """
    try:
        (lc, rc), (lb, rb) = dimension_numbers
        dims = ((_ints("dot_general", "contracting dimensions", lc),
                 _ints("dot_general", "contracting dimensions", rc)),
                (_ints("dot_general", "batch dimensions", lb),
                 _ints("dot_general", "batch dimensions", rb)))
    except (TypeError, ValueError):
        raise TypeError("nanojax.lax.dot_general: dimension_numbers must be "
                        "((lhs_contracting, rhs_contracting), (lhs_batch, rhs_batch)), got "
                        f"{dimension_numbers!r}") from None
    (lc, rc), (lb, rb) = dims
    for side, axes in (("lhs", lc + lb), ("rhs", rc + rb)):
        if len(set(axes)) != len(axes):
            raise ValueError(f"nanojax.lax.dot_general: the {side} contracting and batch "
                             f"dimensions {axes} repeat an axis")
    if len(lc) != len(rc) or len(lb) != len(rb):
        raise ValueError("nanojax.lax.dot_general: lhs and rhs need as many contracting "
                         f"dimensions, and as many batch dimensions, as each other; got "
                         f"{dims}")
    lhs = _preferred(lhs, preferred_element_type)
    rhs = _preferred(rhs, preferred_element_type)
    return _apply("dot_general", P.dot_general_p, (lhs, rhs), dimension_numbers=dims)


def dot(lhs: Any, rhs: Any, precision: Any = None, preferred_element_type: Any = None) -> Any:
    """Vector and matrix products: ``lhs``'s last axis against ``rhs``'s first."""
    ndim = len(_shape("dot", lhs))
    if ndim == 0 or len(_shape("dot", rhs)) == 0:
        raise ValueError("nanojax.lax.dot: operands must be at least 1-d; use lax.mul for "
                         "scalars")
    return _as("dot", dot_general, lhs, rhs, (((ndim - 1,), (0,)), ((), ())), precision,
               preferred_element_type)


__dir__ = public_dir(globals(), "linalg")


from nanojax.array import export as _export_arrays  # noqa: E402

_export_arrays(globals())   # the public face hands out arrays with JAX's methods
