"""Reductions: sums, products, maxima and minima over axes, argmax/argmin, cumsum."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nanojax.core import Lowering, PerPrimitive, Primitive, ShapedArray
from nanojax.primitives.base import (_batch_unary, _register, dtype_of, shape_of)
from nanojax.primitives.elementwise import convert_element_type, div, eq, mul, select_n

# ----- Reductions -------------------------------------------------------------

def _check_axes(name: str, aval: ShapedArray, axes: tuple) -> None:
    for a in axes:
        if not 0 <= a < aval.ndim:
            raise ValueError(f"{name}: axis {a} is out of range for an array of "
                             f"shape {aval.shape}")


def _reduced_aval(name, dtype_fn=None):
    def abstract_eval(x, *, axes, **_):
        _check_axes(name, x, axes)
        shape = tuple(d for i, d in enumerate(x.shape) if i not in axes)
        return ShapedArray(shape, x.dtype if dtype_fn is None else dtype_fn(x))
    return abstract_eval


_batch_reduce = PerPrimitive(_batch_unary(
    lambda size, *, axes, **p: dict(p, axes=tuple(a + 1 for a in axes))))


def _reduction_lowering(ufunc: str) -> Lowering:
    """``_np.<ufunc>.reduce(x, axis=...)``: the impl's own call, without its checks."""
    def applies(params, in_avals, out_aval):
        return bool(params["axes"]) and in_avals[0].size and out_aval.shape != ()

    def custom(w, ins, params, in_avals, out_aval):
        # (To a scalar too: the impl's call returns NumPy's scalar, as this does.)
        if params["axes"] and in_avals[0].size:
            return f"_np.{ufunc}.reduce({ins[0]}, axis={w.bind(tuple(params['axes']), '_a')})", \
                False
        return None

    def into(params, in_avals, out_aval):
        if not applies(params, in_avals, out_aval):
            return None
        # With out=, reduce computes in out's dtype: the output's, as without it.
        return lambda w, ins, out: (f"_np.{ufunc}.reduce({ins[0]}, "
                                    f"axis={w.bind(tuple(params['axes']), '_a')}, out={out})")
    return Lowering(custom=custom, into=into)


def _reduces_nothing(params: dict) -> bool:
    # A reduction over no axes returns its operand itself.
    return not params["axes"]


def _kept_dims(ndim: int, axes: tuple) -> tuple[int, ...]:
    return tuple(i for i in range(ndim) if i not in axes)


def _reduce_sum_impl(x, *, axes):
    # Over no axes too: NumPy adds to the identity 0.0, which turns -0.0 into
    # +0.0 (and booleans into integers).
    return np.add.reduce(x, axis=axes)


def _simplify_reduce_sum(ins, params, known):
    # Over no axes an integer sum is its operand; a float one adds it to 0.0
    # (not an identity on -0.0), and a bool one changes dtype: kept.
    return ins[0] if not params["axes"] and ins[0].aval.dtype.kind in "iu" else None


reduce_sum_p = _register(Primitive(
    "reduce_sum", _reduce_sum_impl,
    _reduced_aval("reduce_sum", lambda x: np.sum(np.ones(1, x.dtype)).dtype),
    vjp_args=(lambda g, ans, x, *, axes: broadcast_in_dim(
        g, shape_of(x), _kept_dims(len(shape_of(x)), axes)),),
    jvp=lambda primals, tangents, ans, *, axes: (
        None if tangents[0] is None else reduce_sum(tangents[0], axes)),
    batch=_batch_reduce, may_alias=False, lowering=_reduction_lowering("add"),
    simplify=_simplify_reduce_sum, layout="operands", residuals="shapes"))


def _chooser_locations(x, ans, axes):
    """Where x attains its reduced max/min, as a 0/1 mask, and the tie counts."""
    kept = _kept_dims(len(shape_of(x)), axes)
    hits = convert_element_type(eq(x, broadcast_in_dim(ans, shape_of(x), kept)), dtype_of(ans))
    return hits, reduce_sum(hits, axes), kept


def _reduce_chooser(name: str, np_fn: Callable, ufunc: str) -> Primitive:
    # Ties share the pull equally, as in JAX.
    def vjp(g, ans, x, *, axes):
        hits, counts, kept = _chooser_locations(x, ans, axes)
        return mul(hits, broadcast_in_dim(div(g, counts), shape_of(x), kept))

    def jvp(primals, tangents, ans, *, axes):
        if tangents[0] is None:
            return None
        hits, counts, _ = _chooser_locations(primals[0], ans, axes)
        return div(reduce_sum(mul(tangents[0], hits), axes), counts)

    def impl(x, *, axes):
        if not axes:
            return x
        if np.size(x) == 0:
            raise ValueError(f"{name}: cannot reduce an empty array (it has no identity)")
        return np_fn(x, axis=axes)
    return _register(Primitive(
        name, impl, _reduced_aval(name), vjp_args=(vjp,), jvp=jvp, batch=_batch_reduce,
        may_alias=_reduces_nothing, lowering=_reduction_lowering(ufunc), layout="operands"))


reduce_max_p = _reduce_chooser("reduce_max", np.max, "maximum")
reduce_min_p = _reduce_chooser("reduce_min", np.min, "minimum")


def _others_product(x, axes):
    """For each element, the product of the other elements along ``axes``.

    Built from a (n, n) mask so that zeros in x are handled exactly; this costs
    O(n^2) per reduced slice, which is fine for the sizes prod is used on.
    """
    shape = shape_of(x)
    kept = _kept_dims(len(shape), axes)
    perm = kept + tuple(axes)
    n = int(np.prod([shape[a] for a in axes], dtype=np.int64))
    rest = tuple(shape[i] for i in kept)
    flat = reshape(transpose(x, perm), rest + (n,))
    tiled = broadcast_in_dim(flat, rest + (n, n), tuple(range(len(rest))) + (len(rest) + 1,))
    diagonal = np.eye(n, dtype=bool)
    others = reduce_prod(select_n(diagonal, tiled, 1.0), (len(rest) + 1,))
    inverse = tuple(np.argsort(perm))
    return transpose(reshape(others, rest + tuple(shape[a] for a in axes)), inverse)


reduce_prod_p = _register(Primitive(
    "reduce_prod", lambda x, *, axes: np.prod(x, axis=axes) if axes else x,
    _reduced_aval("reduce_prod", lambda x: np.prod(np.ones(1, x.dtype)).dtype),
    vjp_args=(lambda g, ans, x, *, axes: mul(
        broadcast_in_dim(g, shape_of(x), _kept_dims(len(shape_of(x)), axes)),
        _others_product(x, axes)),),
    jvp=lambda primals, tangents, ans, *, axes: (
        None if tangents[0] is None else
        reduce_sum(mul(tangents[0], _others_product(primals[0], axes)), axes)),
    batch=_batch_reduce, may_alias=_reduces_nothing, layout="operands"))


def _argchooser(name: str, np_fn: Callable) -> Primitive:
    def impl(x, *, axes, index_dtype):
        if np.size(x) == 0:
            raise ValueError(f"{name}: cannot take the {name[3:]} of an empty array")
        return np_fn(x, axis=axes[0]).astype(index_dtype)
    return _register(Primitive(
        name, impl, _reduced_aval(name, lambda x: np.dtype(np.int64)), differentiable=False,
        batch=_batch_reduce, may_alias=False))


argmax_p = _argchooser("argmax", np.argmax)
argmin_p = _argchooser("argmin", np.argmin)


def _argsort_aval(x, *, axis):
    _check_axes("argsort", x, (axis,))
    return ShapedArray(x.shape, np.dtype(np.int64))


# A stable sort's permutation, as JAX sorts by default: equal entries keep their
# order, and NaN sorts after everything. Values are sorted by gathering with it
# (jnp.sort), so their gradient is the gather's; the permutation has none.
argsort_p = _register(Primitive(
    "argsort", lambda x, *, axis: np.argsort(x, axis=axis, kind="stable").astype(np.int64),
    _argsort_aval, differentiable=False, may_alias=False,
    batch=PerPrimitive(_batch_unary(lambda size, *, axis: dict(axis=axis + 1)))))


def _cumsum_impl(x, *, axis, reverse):
    if not reverse:
        return np.cumsum(x, axis=axis)
    return np.flip(np.cumsum(np.flip(x, axis), axis=axis), axis)


def _cumsum_aval(x, *, axis, reverse):
    _check_axes("cumsum", x, (axis,))
    return ShapedArray(x.shape, np.cumsum(np.ones(1, x.dtype)).dtype)


# Each input adds into every later output, so its pull is the sum of the
# later pulls: a cumulative sum run the other way.
cumsum_p: Primitive = _register(Primitive(
    "cumsum", _cumsum_impl, _cumsum_aval,
    vjp_args=(lambda g, ans, x, *, axis, reverse: cumsum_p.bind(
        g, axis=axis, reverse=not reverse),),
    jvp=lambda primals, tangents, ans, **p: (
        None if tangents[0] is None else cumsum_p.bind(tangents[0], **p)),
    batch=PerPrimitive(_batch_unary(lambda size, *, axis, reverse: dict(
        axis=axis + 1, reverse=reverse))),
    may_alias=False))


# ----- The functions rules are written with (thin binds) ------------------------

def reduce_sum(x, axes): return reduce_sum_p.bind(x, axes=tuple(axes))
def reduce_prod(x, axes): return reduce_prod_p.bind(x, axes=tuple(axes))
def reduce_max(x, axes): return reduce_max_p.bind(x, axes=tuple(axes))
def reduce_min(x, axes): return reduce_min_p.bind(x, axes=tuple(axes))
def argmax(x, axis, index_dtype): return argmax_p.bind(x, axes=(axis,), index_dtype=index_dtype)
def argmin(x, axis, index_dtype): return argmin_p.bind(x, axes=(axis,), index_dtype=index_dtype)
def cumsum(x, axis, reverse=False): return cumsum_p.bind(x, axis=axis, reverse=reverse)
def argsort(x, axis): return argsort_p.bind(x, axis=axis)


from nanojax.primitives.shapes import broadcast_in_dim, reshape, transpose  # noqa: E402
