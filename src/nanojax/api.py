"""JAX's top-level utilities beside the transformations.

``eval_shape`` and ``ShapeDtypeStruct`` (shapes without computing),
``linearize`` and ``linear_transpose`` (derivatives as linear functions),
``Array`` and ``typeof`` (types), and the context managers and switches
that programs written for JAX call: ``named_call``, ``named_scope``,
``ensure_compile_time_eval``, ``default_backend``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from nanojax.api_util import (check_callable, check_float_leaves, check_inputs,
                              name_transformed)
from nanojax.autodiff import jvp_of, vjp_of
from nanojax.core import ClosedJaxpr, Literal, ShapedArray, Tracer, _state, eval_jaxpr, \
    get_aval, own_memory
from nanojax.source_info import boundary
from nanojax.staging import trace_to_jaxpr
from nanojax.tree_util import PyTreeDef, tree_flatten, tree_map, tree_unflatten

__all__ = ["ShapeDtypeStruct", "eval_shape", "Array", "typeof", "linearize",
           "linear_transpose", "named_call", "named_scope", "ensure_compile_time_eval",
           "default_backend"]


# ----- Types ----------------------------------------------------------------------------

class ShapeDtypeStruct:
    """A shape and a dtype standing for an array (what ``eval_shape`` returns).

    >>> ShapeDtypeStruct((2, 3), np.float32)
    ShapeDtypeStruct(shape=(2, 3), dtype=float32)
    """

    __slots__ = ("shape", "dtype", "sharding", "weak_type")

    def __init__(self, shape: Sequence[int], dtype: Any, sharding: Any = None, *,
                 weak_type: bool = False) -> None:
        try:
            self.shape = tuple(int(d) for d in shape)
        except TypeError:
            raise TypeError(f"nanojax.ShapeDtypeStruct: shape must be a sequence of ints, got "
                            f"{shape!r:.60}") from None
        if any(d < 0 for d in self.shape):
            raise ValueError(f"nanojax.ShapeDtypeStruct: shape {self.shape} has a negative "
                             "dimension")
        if dtype is None:
            raise TypeError("nanojax.ShapeDtypeStruct: dtype must be given (a NumPy dtype), "
                            "got None")
        self.dtype = np.dtype(dtype)
        self.sharding = sharding
        self.weak_type = bool(weak_type)

    @classmethod
    def like(cls, x: Any) -> ShapeDtypeStruct:
        """The shape and dtype of ``x`` (an array, a traced value, a number, a struct).

        >>> ShapeDtypeStruct.like(np.zeros((2, 1), np.int32))
        ShapeDtypeStruct(shape=(2, 1), dtype=int32)
        """
        if isinstance(x, ShapeDtypeStruct):
            return cls(x.shape, x.dtype, x.sharding, weak_type=x.weak_type)
        try:
            aval = get_aval(x)
        except TypeError:
            raise TypeError(f"nanojax.ShapeDtypeStruct.like: expected an array, a traced value "
                            f"or a number, got {type(x).__name__} ({x!r:.40})") from None
        return cls(aval.shape, aval.dtype)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("nanojax.ShapeDtypeStruct: len() of a 0-d struct")
        return self.shape[0]

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, ShapeDtypeStruct) and self.shape == other.shape
                and self.dtype == other.dtype and self.sharding == other.sharding
                and self.weak_type == other.weak_type)

    def __hash__(self) -> int:
        return hash((self.shape, self.dtype, self.weak_type))

    def __repr__(self) -> str:
        weak = ", weak_type=True" if self.weak_type else ""
        return f"ShapeDtypeStruct(shape={self.shape}, dtype={self.dtype.name}{weak})"


from nanojax.array import Array  # noqa: E402  (re-exported: nanojax.Array)


def typeof(x: Any) -> ShapedArray:
    """The abstract value of ``x``: its shape and dtype (``ShapedArray(float64[3])``)."""
    try:
        return get_aval(x)
    except TypeError:
        raise TypeError(f"nanojax.typeof: {x!r:.50} of type {type(x).__name__} is not an "
                        "array value") from None


def _aval(x: Any, who: str) -> ShapedArray:
    """An argument's abstract value: an array's, a number's, a ShapeDtypeStruct's."""
    if isinstance(x, ShapeDtypeStruct):
        return ShapedArray(x.shape, x.dtype, x.weak_type)
    if hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(
            x, (np.ndarray, np.generic, Tracer)):
        return ShapedArray(x.shape, x.dtype)
    try:
        return get_aval(check_inputs([x], who)[0])
    except TypeError:
        raise TypeError(f"{who}: an argument of type {type(x).__name__} ({x!r:.50}) is not "
                        "an array, a number or a ShapeDtypeStruct") from None


def eval_shape(fun: Callable, *args: Any, **kwargs: Any) -> Any:
    """The shapes and dtypes ``fun(*args, **kwargs)`` would return, without computing it.

    Arguments may be arrays, numbers or anything with ``.shape`` and
    ``.dtype`` (a ``ShapeDtypeStruct``); the result is a pytree of
    ``ShapeDtypeStruct``.

    >>> import nanojax as nj
    >>> import nanojax.numpy as jnp
    >>> nj.eval_shape(lambda x, w: jnp.tanh(x @ w), nj.ShapeDtypeStruct((8, 3), np.float32),
    ...               np.ones((3, 5), np.float32))
    ShapeDtypeStruct(shape=(8, 5), dtype=float32)
    """
    check_callable(fun, "nanojax.eval_shape")
    flat, in_tree = tree_flatten((args, kwargs))
    avals = [_aval(x, "nanojax.eval_shape") for x in flat]
    closed, out_tree = trace_to_jaxpr(lambda a, k: fun(*a, **k), avals, in_tree,
                                      "nanojax.eval_shape")
    return tree_unflatten(out_tree, [ShapeDtypeStruct(a.shape, a.dtype, weak_type=a.weak_type)
                                     for a in closed.out_avals])


# ----- Derivatives as linear functions -------------------------------------------------

def _check_like(flat: list, tree: PyTreeDef, avals: list, expected: PyTreeDef, who: str,
                what: str) -> None:
    if tree != expected:
        raise ValueError(f"{who}: the {what} have structure {tree}, but {expected} was "
                         "expected")
    for x, a in zip(flat, avals):
        aval = get_aval(x)
        if aval.shape != a.shape:
            raise ValueError(f"{who}: a {what[:-1]} of shape {aval.shape} was given where "
                             f"shape {a.shape} was expected")
        if aval.dtype != a.dtype and not (aval.weak_type and aval.dtype.kind in "fi"
                                          and a.dtype.kind == "f"):
            raise ValueError(f"{who}: a {what[:-1]} of dtype {aval.dtype} was given where "
                             f"{a.dtype} was expected")


@boundary
def linearize(fun: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """``(fun(*primals), f_jvp)``: the value, and the derivative as a linear function.

    ``f_jvp(*tangents)`` is ``jvp(fun, primals, tangents)[1]``, but the
    primal computation is done once, here: ``f_jvp`` is a recorded circuit
    of the tangent operations only, evaluated on each call. With
    ``has_aux``, ``fun`` returns ``(out, aux)`` and so does this, as
    ``(out, f_jvp, aux)``.

    >>> import nanojax as nj
    >>> import nanojax.numpy as jnp
    >>> y, f_jvp = nj.linearize(jnp.sin, 0.5)
    >>> print(round(float(y), 6), round(float(f_jvp(2.0)), 6))
    0.479426 1.755165
    """
    who = "nanojax.linearize"
    check_callable(fun, who)
    p_flat, p_tree = tree_flatten(tuple(primals))
    p_flat = check_inputs(p_flat, who)
    check_float_leaves(p_flat, who)
    avals = [ShapedArray(get_aval(p).shape, get_aval(p).dtype) for p in p_flat]
    results: dict[str, Any] = {}

    def plain(*args: Any) -> Any:
        if not has_aux:
            return fun(*args)
        out = fun(*args)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise TypeError(f"{who}: with has_aux=True, the function must return a pair "
                            f"(output, aux), got {type(out).__name__}")
        from nanojax.forward import JVPTracer
        results["aux"] = tree_map(lambda a: a.primal if isinstance(a, JVPTracer) else a, out[1])
        return out[0]

    def tangent_map(*tangents: Any) -> Any:
        # The primal values are computed for real while the tangents are
        # recorded: constants made on the way (jnp.asarray) are values too.
        _state.eager_constants += 1
        try:
            out, t_out = jvp_of(plain, tree_unflatten(p_tree, p_flat), tangents, who)
        finally:
            _state.eager_constants -= 1
        results["out"] = out
        return out, t_out

    closed, pair_tree = trace_to_jaxpr(tangent_map, avals, p_tree, who)
    out_tree, tangent_tree = pair_tree.children
    n_out = out_tree.num_leaves
    out = results["out"]
    if any(isinstance(leaf, Tracer) for leaf in tree_flatten(out)[0]):
        # A loop's jvp is one primitive computing primal and tangent together, so its
        # primal outputs were recorded too: the values come from one evaluation of the
        # circuit (tangents zero; they do not change the primal).
        zeros = [np.zeros(a.shape, a.dtype) for a in avals]
        outs = eval_jaxpr(closed.jaxpr, closed.consts, *zeros)[:n_out]
        out = tree_unflatten(out_tree, own_memory(outs, closed.consts))

    @boundary
    def f_jvp(*tangents: Any) -> Any:
        t_flat, t_tree = tree_flatten(tuple(tangents))
        t_flat = check_inputs(t_flat, f"{who}'s f_jvp")
        _check_like(t_flat, t_tree, avals, p_tree, f"{who}'s f_jvp", "tangents")
        outs = eval_jaxpr(closed.jaxpr, closed.consts, *t_flat)[n_out:]
        return tree_unflatten(tangent_tree, own_memory(outs, (*t_flat, *closed.consts)))

    f_jvp.__name__ = f"linearize({getattr(fun, '__name__', 'fun')})"
    if has_aux:
        return out, f_jvp, results["aux"]
    return out, f_jvp


# Primitives affine in all their float operands (integer operands: indices, a
# predicate, must not depend on the input), and those linear in one operand.
_AFFINE = frozenset({"add", "sub", "neg", "concatenate", "select_n", "gather", "scatter",
                     "scatter-add", "reduce_sum", "broadcast_in_dim", "reshape", "transpose",
                     "squeeze", "convert_element_type", "contiguous", "cumsum",
                     "reduce_window_sum"})
_BILINEAR = frozenset({"mul", "dot_general", "conv_general_dilated"})


def _check_linear(closed: ClosedJaxpr, who: str) -> None:
    """A TypeError unless every gate the inputs reach is linear in them.

    Together with ``f(0) == 0`` (checked by the caller) this makes the
    function linear: each gate is affine in what depends on the inputs.
    """
    linear = {id(v) for v in closed.jaxpr.invars}
    for eqn in closed.jaxpr.eqns:
        hit = [not isinstance(a, Literal) and id(a) in linear for a in eqn.invars]
        if not any(hit):
            continue
        name = eqn.primitive.name
        floats = [a.aval.dtype.kind == "f" for a in eqn.invars]
        ok = (name in _AFFINE and not any(h and not f for h, f in zip(hit, floats))) or \
             (name in _BILINEAR and sum(hit) == 1) or (name == "div" and hit == [True, False])
        ok = ok and all(v.aval.dtype.kind == "f" for v in eqn.outvars)
        if not ok:
            raise TypeError(f"{who}: the function is not linear in its inputs: it applies "
                            f"'{name}' to a value that depends on them in a way that is not "
                            "linear; linear_transpose needs a linear function (use vjp for "
                            "any other)")
        linear.update(id(v) for v in eqn.outvars)


def linear_transpose(fun: Callable, *primals: Any, reduce_axes: Sequence = ()) -> Callable:
    """The transpose of the linear function ``fun``: ``ct -> tuple of input cotangents``.

    ``primals`` (arrays or ``ShapeDtypeStruct``) give the inputs' shapes and
    dtypes only. ``fun`` must be linear: a gate that is not (``sin``, a
    product of two inputs, adding a constant) is a ``TypeError``. For a
    linear function the transpose is its vjp at any point, here at zero.

    >>> import nanojax as nj
    >>> t = nj.linear_transpose(lambda x, y: 2.0 * x + y, 1.0, 1.0)
    >>> t(3.0)
    (np.float64(6.0), np.float64(3.0))
    """
    who = "nanojax.linear_transpose"
    check_callable(fun, who)
    if tuple(reduce_axes):
        raise NotImplementedError(f"{who}: reduce_axes is not supported (JAX has removed it)")
    flat, in_tree = tree_flatten(tuple(primals))
    avals = [_aval(x, who) for x in flat]
    avals = [ShapedArray(a.shape, a.dtype) for a in avals]
    for a in avals:
        if a.dtype.kind != "f":
            raise TypeError(f"{who}: inputs must be real floats, got {a.dtype}")
    closed, out_tree = trace_to_jaxpr(fun, avals, in_tree, who)
    _check_linear(closed, who)
    zeros = [np.zeros(a.shape, a.dtype) if a.shape else a.dtype.type(0) for a in avals]
    at_zero = eval_jaxpr(closed.jaxpr, closed.consts, *zeros)
    if any(np.any(np.asarray(o) != 0) for o in at_zero):
        raise TypeError(f"{who}: the function is affine, not linear: it is not zero at zero "
                        "(it adds a constant); linear_transpose needs a linear function")
    out_avals = closed.out_avals

    def run(*xs: Any) -> list:
        return eval_jaxpr(closed.jaxpr, closed.consts, *xs)

    def transpose(*cts: Any) -> tuple:
        ct = cts[0] if len(cts) == 1 else cts
        ct_flat, ct_tree = tree_flatten(ct)
        ct_flat = check_inputs(ct_flat, f"{who}'s transpose")
        _check_like(ct_flat, ct_tree, out_avals, out_tree, f"{who}'s transpose",
                    "cotangents")
        _, pull = vjp_of(run, zeros, False, who)
        return tuple(tree_unflatten(in_tree, list(pull(ct_flat))))

    return name_transformed(transpose, "linear_transpose", fun, doc=False)


# ----- Names, scopes and switches ------------------------------------------------------

def named_call(fun: Callable, *, name: str | None = None) -> Callable:
    """``fun``, named ``name`` (JAX labels its equations; here it is only the name)."""
    check_callable(fun, "nanojax.named_call")

    @functools.wraps(fun)
    def named(*args: Any, **kwargs: Any) -> Any:
        return fun(*args, **kwargs)
    if name is not None:
        named.__name__ = name
    return named


@contextmanager
def named_scope(name: str) -> Iterator[None]:
    """A context naming the operations inside it (a no-op here: jaxprs carry no names)."""
    if not isinstance(name, str):
        raise TypeError(f"nanojax.named_scope: the name must be a string, got "
                        f"{type(name).__name__}")
    yield


@contextmanager
def ensure_compile_time_eval() -> Iterator[None]:
    """Compute, rather than record, what depends on constants only, even under ``jit``.

    Outside it too, nanojax computes every operation on NumPy values at once;
    inside, arrays made from constants (``jnp.asarray(table)``) also stay
    NumPy arrays instead of becoming constants of the recorded circuit, so
    their values can be read while tracing.

    >>> import nanojax as nj
    >>> import nanojax.numpy as jnp
    >>> @nj.jit
    ... def f(x):
    ...     with nj.ensure_compile_time_eval():
    ...         n = int(jnp.sum(jnp.asarray([1, 2, 3])))
    ...     return x * n
    >>> f(2.0)
    np.float64(12.0)
    """
    _state.eager_constants += 1
    try:
        yield
    finally:
        _state.eager_constants -= 1


def default_backend() -> str:
    """The backend computations run on: ``"cpu"``, NumPy's."""
    return "cpu"
