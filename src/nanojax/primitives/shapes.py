"""Shape primitives: broadcast_in_dim, reshape, transpose, squeeze, concatenate."""

from __future__ import annotations

import numpy as np

from nanojax.core import Lowering, PerPrimitive, Primitive, ShapedArray
from nanojax.primitives.base import (_batch_unary, _proto, _register, dtype_of, move_to_front,
                                     same, shape_of)

# ----- Shape operations -------------------------------------------------------

def _broadcast_in_dim_impl(x, *, shape, broadcast_dimensions):
    x = np.asarray(x)
    expanded = [1] * len(shape)
    for src, dst in enumerate(broadcast_dimensions):
        expanded[dst] = x.shape[src]
    return np.broadcast_to(x.reshape(expanded), shape)


def _broadcast_in_dim_aval(x, *, shape, broadcast_dimensions):
    ok = len(broadcast_dimensions) == x.ndim and all(
        0 <= d < len(shape) and x.shape[i] in (1, shape[d])
        for i, d in enumerate(broadcast_dimensions))
    if not ok or list(broadcast_dimensions) != sorted(set(broadcast_dimensions)):
        raise ValueError(f"broadcast_in_dim: cannot broadcast an operand of shape "
                         f"{x.shape} to {shape} along dimensions {broadcast_dimensions}")
    return ShapedArray(shape, x.dtype, x.weak_type)


def _broadcast_in_dim_vjp(g, ans, x, *, shape, broadcast_dimensions):
    x_shape = shape_of(x)
    summed = tuple(i for i in range(len(shape)) if i not in broadcast_dimensions) + tuple(
        d for i, d in enumerate(broadcast_dimensions) if x_shape[i] == 1 and shape[d] != 1)
    summed = tuple(sorted(summed))
    return reshape(reduce_sum(g, summed), x_shape) if summed else reshape(g, x_shape)


broadcast_in_dim_p = _register(Primitive(
    "broadcast_in_dim", _broadcast_in_dim_impl, _broadcast_in_dim_aval,
    vjp_args=(_broadcast_in_dim_vjp,),
    jvp=lambda primals, tangents, ans, **p: (
        None if tangents[0] is None else broadcast_in_dim(tangents[0], **p)),
    batch=PerPrimitive(_batch_unary(lambda size, *, shape, broadcast_dimensions: dict(
        shape=(size,) + shape,
        broadcast_dimensions=(0,) + tuple(d + 1 for d in broadcast_dimensions)))),
    simplify=same, layout="operands", residuals="shapes"))


def _reshape_aval(x, *, new_sizes):
    if int(np.prod(new_sizes, dtype=np.int64)) != x.size:
        raise ValueError(f"reshape: cannot reshape an array of shape {x.shape} "
                         f"({x.size} elements) into shape {new_sizes}")
    return ShapedArray(new_sizes, x.dtype, x.weak_type)


def _lower_with(call: str, param: str) -> Lowering:
    """``_np.<call>(x, <param>)`` on arrays, the parameter bound by name."""
    def custom(w, ins, params, in_avals, out_aval):
        if out_aval.shape == ():
            return None
        return f"_np.{call}({ins[0]}, {w.bind(tuple(params[param]), '_a')})", False
    return Lowering(custom=custom)


reshape_p = _register(Primitive(
    "reshape", lambda x, *, new_sizes: np.reshape(x, new_sizes), _reshape_aval,
    vjp_args=(lambda g, ans, x, *, new_sizes: reshape(g, shape_of(x)),),
    jvp=lambda primals, tangents, ans, *, new_sizes: (
        None if tangents[0] is None else reshape(tangents[0], new_sizes)),
    batch=PerPrimitive(_batch_unary(lambda size, *, new_sizes: dict(
        new_sizes=(size,) + new_sizes))),
    lowering=_lower_with("reshape", "new_sizes"), simplify=same,
    layout="operands", residuals="shapes"))        # a view keeps C order; a copy is made in C order


def _transpose_aval(x, *, permutation):
    if sorted(permutation) != list(range(x.ndim)):
        raise ValueError(f"transpose: {permutation} is not a permutation of the "
                         f"axes of an array of shape {x.shape}")
    return ShapedArray(tuple(x.shape[p] for p in permutation), x.dtype, x.weak_type)


transpose_p = _register(Primitive(
    "transpose", lambda x, *, permutation: np.transpose(x, permutation), _transpose_aval,
    vjp_args=(lambda g, ans, x, *, permutation: transpose(
        g, tuple(int(i) for i in np.argsort(permutation))),),
    jvp=lambda primals, tangents, ans, *, permutation: (
        None if tangents[0] is None else transpose(tangents[0], permutation)),
    batch=PerPrimitive(_batch_unary(lambda size, *, permutation: dict(
        permutation=(0,) + tuple(p + 1 for p in permutation)))),
    lowering=_lower_with("transpose", "permutation"),
    simplify=lambda ins, params, known: (
        ins[0] if params["permutation"] == tuple(range(len(params["permutation"]))) else None),
    layout=lambda params, in_avals, operands_c: (operands_c[0] and list(params["permutation"])
                                       == sorted(params["permutation"])), residuals="shapes"))


def _squeeze_aval(x, *, dimensions):
    for d in dimensions:
        if not 0 <= d < x.ndim or x.shape[d] != 1:
            raise ValueError(f"squeeze: cannot squeeze axis {d} of an array of shape "
                             f"{x.shape}; only axes of size 1 can be squeezed")
    return ShapedArray(tuple(s for i, s in enumerate(x.shape) if i not in dimensions),
                       x.dtype, x.weak_type)


squeeze_p = _register(Primitive(
    "squeeze", lambda x, *, dimensions: np.squeeze(x, dimensions), _squeeze_aval,
    vjp_args=(lambda g, ans, x, *, dimensions: reshape(g, shape_of(x)),),
    jvp=lambda primals, tangents, ans, *, dimensions: (
        None if tangents[0] is None else squeeze(tangents[0], dimensions)),
    batch=PerPrimitive(_batch_unary(lambda size, *, dimensions: dict(
        dimensions=tuple(d + 1 for d in dimensions)))),
    simplify=same, residuals="shapes"))


def _concatenate_aval(*xs, dimension):
    first = xs[0]
    for x in xs:
        same = x.ndim == first.ndim and all(
            a == b for i, (a, b) in enumerate(zip(x.shape, first.shape)) if i != dimension)
        if not same or not 0 <= dimension < x.ndim:
            shapes = ", ".join(str(y.shape) for y in xs)
            raise ValueError(f"concatenate: along axis {dimension}, arrays must "
                             f"match in every other axis; got shapes {shapes}")
    shape = list(first.shape)
    shape[dimension] = sum(x.shape[dimension] for x in xs)
    dtype = np.result_type(*(_proto(x) for x in xs))
    return ShapedArray(shape, dtype)


def _concatenate_vjp(g, ans, *xs, dimension):
    cts, start = [], 0
    for x in xs:
        size = shape_of(x)[dimension]
        index = (slice(None),) * dimension + (slice(start, start + size),)
        cts.append(gather(g, indexer=Indexer.from_static(index)))
        start += size
    return tuple(cts)


def _concatenate_jvp(primals, tangents, ans, *, dimension):
    if all(t is None for t in tangents):
        return None
    return concatenate([np.zeros(shape_of(x), dtype_of(ans)) if t is None else t
                        for x, t in zip(primals, tangents)], dimension)


# Its arity varies, so its vjp is the one rule for all its operands.
concatenate_p = _register(Primitive(
    "concatenate", lambda *xs, dimension: np.concatenate(xs, axis=dimension),
    _concatenate_aval, vjp=_concatenate_vjp, jvp=_concatenate_jvp,
    batch=lambda size, vals, dims, *, dimension: (concatenate(
        [move_to_front(v, d, size) for v, d in zip(vals, dims)], dimension + 1), 0),
    may_alias=False))


# ----- The functions rules are written with (thin binds) ------------------------

def reshape(x, shape): return reshape_p.bind(x, new_sizes=tuple(shape))
def transpose(x, perm): return transpose_p.bind(x, permutation=tuple(perm))
def squeeze(x, dims): return squeeze_p.bind(x, dimensions=tuple(dims))
def concatenate(xs, dim): return concatenate_p.bind(*xs, dimension=dim)


def broadcast_in_dim(x, shape, broadcast_dimensions):
    return broadcast_in_dim_p.bind(x, shape=tuple(shape),
                                   broadcast_dimensions=tuple(broadcast_dimensions))


def broadcast_to(x, shape):
    """NumPy-style broadcast (trailing axes aligned) as a broadcast_in_dim."""
    x_shape = shape_of(x)
    if x_shape == tuple(shape):
        return x
    lead = len(shape) - len(x_shape)
    return broadcast_in_dim(x, shape, tuple(range(lead, len(shape))))


from nanojax.primitives.indexing import Indexer, gather  # noqa: E402
from nanojax.primitives.reductions import reduce_sum  # noqa: E402
