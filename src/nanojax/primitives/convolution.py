"""Convolutions and windowed reductions: conv_general_dilated, reduce_window_{sum,max,min}.

Both families slide a window over the (dilated, padded) spatial axes of an
operand. The impl builds that input once (one allocation holds the
dilation's holes and the padding), takes every window as a strided view
(``as_strided``: no copy), and then does one NumPy call: a convolution is
one ``matmul`` of the windows (copied into a patch matrix, im2col) with the
kernel; a windowed sum or max is one reduction over the window axes.

The derivative rules are written with the primitives themselves, so they
differentiate again. A convolution is linear in each operand: its pull on
the input is a convolution of the cotangent with the flipped kernel, the
strides turned into input dilation; its pull on the kernel is a
convolution of the input with the cotangent. A windowed sum pulls back as a
windowed sum of the cotangent; a windowed max sends each window's pull to
the element it selected (the first maximum, as XLA's select-and-scatter),
found by ``reduce_window_index``, a primitive with no derivative, and moved
there by gather and scatter-add, whose rules already exist.

The rules and batch rules work in a canonical layout (batch, feature,
spatial...; out feature, in feature, spatial...), reached with transposes,
which cost views.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from nanojax.core import PerPrimitive, Primitive, ShapedArray
from nanojax.primitives.base import _proto, _register, _sum_jvps, dtype_of, shape_of


class ConvDimensionNumbers(NamedTuple):
    """Where a convolution's dimensions are, as axis indices (JAX's meaning).

    ``lhs_spec``: (batch, feature, spatial...) of the input; ``rhs_spec``:
    (out feature, in feature, spatial...) of the kernel; ``out_spec``:
    (batch, feature, spatial...) of the output. Spatial axes pair up in order.
    """

    lhs_spec: tuple[int, ...]
    rhs_spec: tuple[int, ...]
    out_spec: tuple[int, ...]


def canonical_dimension_numbers(ndim: int) -> ConvDimensionNumbers:
    spec = tuple(range(ndim))
    return ConvDimensionNumbers(spec, spec, spec)


# ----- Shapes shared by both families -------------------------------------------

def dilate_dim(n: int, d: int) -> int:
    """The length of ``n`` elements with ``d - 1`` holes between neighbours."""
    return 0 if n == 0 else (n - 1) * d + 1


def window_out_dim(n: int, window: int, stride: int, lo: int, hi: int, base_dilation: int,
                   window_dilation: int) -> int:
    """How many windows fit along one axis (0 when not even one does)."""
    padded = lo + dilate_dim(n, base_dilation) + hi
    span = dilate_dim(window, window_dilation)
    return 0 if padded < span else (padded - span) // stride + 1


def transpose_padding(in_dims: Sequence[int], window_dims: Sequence[int],
                      strides: Sequence[int], out_dims: Sequence[int], padding: Sequence[Any],
                      base_dilation: Sequence[int], window_dilation: Sequence[int]
                      ) -> tuple[tuple[int, int], ...]:
    """Padding of the cotangent so that a window pass over it lands on the input.

    The pull on the input of a windowed gate with these parameters is the same
    gate over the cotangent dilated by the strides, with the window flipped
    and this padding: the window spans must line up with where they came from.
    """
    pads = []
    for n, k, s, o, (lo, _), bd, wd in zip(in_dims, window_dims, strides, out_dims, padding,
                                          base_dilation, window_dilation):
        span = dilate_dim(k, wd)
        before = span - lo - 1
        after = dilate_dim(n, bd) + span - 1 - dilate_dim(o, s) - before
        pads.append((before, after))
    return tuple(pads)


def _spread(x: np.ndarray, axes: tuple, dilation: tuple, padding: tuple, fill: Any
            ) -> np.ndarray:
    """``x`` with holes of ``fill`` along ``axes`` and padded (cropped, if negative).

    One allocation: each kept element of ``x`` is written where it lands.
    Without dilation or padding, ``x`` itself.
    """
    if all(d == 1 for d in dilation) and all(lo == 0 == hi for lo, hi in padding):
        return x
    shape = list(x.shape)
    dest: list[Any] = [slice(None)] * x.ndim
    src: list[Any] = [slice(None)] * x.ndim
    for ax, d, (lo, hi) in zip(axes, dilation, padding):
        n = x.shape[ax]
        length = lo + dilate_dim(n, d) + hi
        shape[ax] = length
        # element i lands at lo + i * d; keep those inside [0, length)
        first = max(0, -(lo // d)) if lo < 0 else 0
        last = min(n - 1, (length - 1 - lo) // d) if length > lo else -1
        if last < first:
            src[ax] = dest[ax] = slice(0, 0)
        else:
            src[ax] = slice(first, last + 1)
            dest[ax] = slice(lo + first * d, lo + last * d + 1, d)
    out = np.full(shape, fill, dtype=x.dtype)
    out[tuple(dest)] = x[tuple(src)]
    return out


# ----- conv_general_dilated -----------------------------------------------------

def _conv_impl(lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
               dimension_numbers, feature_group_count):
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    dtype = np.result_type(lhs, rhs)
    lhs = np.asarray(lhs, dtype)
    rhs = np.asarray(rhs, dtype)
    nsp = len(lhs_spec) - 2
    spatial = tuple(range(1, nsp + 1))
    # Features last (N, spatial..., C), so that each patch row reads its
    # channels together; the kernel as (spatial..., I, O).
    x = lhs.transpose((lhs_spec[0],) + lhs_spec[2:] + (lhs_spec[1],))
    w = rhs.transpose(rhs_spec[2:] + (rhs_spec[1], rhs_spec[0]))
    x = _spread(x, spatial, lhs_dilation, padding, 0)
    kernel = w.shape[:nsp]
    out_sp = tuple(window_out_dim(x.shape[a], k, s, 0, 0, 1, d) for a, k, s, d in
                   zip(spatial, kernel, window_strides, rhs_dilation))
    n, c, o = x.shape[0], x.shape[-1], w.shape[-1]
    g = feature_group_count
    cg, og = c // g, o // g
    st = x.strides
    sp_strides = tuple(st[a] * s for a, s in zip(spatial, window_strides))
    k_strides = tuple(st[a] * d for a, d in zip(spatial, rhs_dilation))
    p, k = int(np.prod(out_sp, dtype=np.int64)), int(np.prod(kernel, dtype=np.int64))
    if g == 1:
        windows = as_strided(x, (n,) + out_sp + kernel + (c,),
                             (st[0],) + sp_strides + k_strides + (st[-1],), writeable=False)
        out = windows.reshape(n * p, k * c) @ w.reshape(k * c, o)     # the one copy: im2col
    else:
        windows = as_strided(x, (g, n) + out_sp + kernel + (cg,),
                             (st[-1] * cg, st[0]) + sp_strides + k_strides + (st[-1],),
                             writeable=False)
        wg = w.reshape(kernel + (cg, g, og)).transpose(
            (nsp + 1,) + tuple(range(nsp + 1)) + (nsp + 2,)).reshape(g, k * cg, og)
        out = np.matmul(windows.reshape(g, n * p, k * cg), wg)
        out = out.transpose(1, 0, 2)
    out = out.reshape((n,) + out_sp + (o,))
    # (N, spatial..., O) to the output's layout, in C order.
    order = (0,) + tuple(range(2, nsp + 2)) + (1,)      # canonical index of each axis here
    perm = tuple(order.index(out_spec.index(a)) for a in range(nsp + 2))
    return np.ascontiguousarray(out.transpose(perm))


def _conv_shape(name, lhs_shape, rhs_shape, *, window_strides, padding, lhs_dilation,
                rhs_dilation, dimension_numbers, feature_group_count):
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    nd = len(lhs_shape)
    if len(rhs_shape) != nd or nd < 2:
        raise ValueError(f"{name}: lhs and rhs must have the same number of dimensions, at "
                         f"least 2, got shapes {lhs_shape} and {rhs_shape}")
    for spec in dimension_numbers:
        if sorted(spec) != list(range(nd)):
            raise ValueError(f"{name}: dimension_numbers {tuple(dimension_numbers)} must give "
                             f"each spec as a permutation of the {nd} axes")
    nsp = nd - 2
    for what, v in (("window_strides", window_strides), ("lhs_dilation", lhs_dilation),
                    ("rhs_dilation", rhs_dilation), ("padding", padding)):
        if len(v) != nsp:
            raise ValueError(f"{name}: {what} has {len(v)} entries for {nsp} spatial "
                             "dimensions")
    for what, v in (("window_strides", window_strides), ("lhs_dilation", lhs_dilation),
                    ("rhs_dilation", rhs_dilation)):
        if any(s < 1 for s in v):
            raise ValueError(f"{name}: {what} must be positive, got {tuple(v)}")
    g = feature_group_count
    c, i = lhs_shape[lhs_spec[1]], rhs_shape[rhs_spec[1]]
    o = rhs_shape[rhs_spec[0]]
    if g < 1:
        raise ValueError(f"{name}: feature_group_count must be a positive integer, got {g}")
    if c % g:
        raise ValueError(f"{name}: feature_group_count {g} does not divide the lhs feature "
                         f"dimension of size {c}")
    if c // g != i:
        raise ValueError(f"{name}: the lhs feature dimension ({c}) divided by "
                         f"feature_group_count ({g}) must equal the rhs input feature "
                         f"dimension ({i})")
    if o % g:
        raise ValueError(f"{name}: the rhs output feature dimension ({o}) must be a multiple "
                         f"of feature_group_count ({g})")
    out = [0] * nd
    out[out_spec[0]] = lhs_shape[lhs_spec[0]]
    out[out_spec[1]] = o
    for j in range(nsp):
        n, k = lhs_shape[lhs_spec[2 + j]], rhs_shape[rhs_spec[2 + j]]
        if k == 0:
            raise ValueError(f"{name}: the kernel has an empty spatial dimension (shape "
                             f"{rhs_shape}); every window needs at least one element")
        lo, hi = padding[j]
        if lo + dilate_dim(n, lhs_dilation[j]) + hi < 0:
            raise ValueError(f"{name}: padding {tuple(padding[j])} crops more than the "
                             f"{dilate_dim(n, lhs_dilation[j])} elements of spatial "
                             f"dimension {j}")
        out[out_spec[2 + j]] = window_out_dim(n, k, window_strides[j], lo, hi,
                                              lhs_dilation[j], rhs_dilation[j])
    return tuple(out)


def _conv_aval(lhs, rhs, **params):
    shape = _conv_shape("conv_general_dilated", lhs.shape, rhs.shape, **params)
    return ShapedArray(shape, np.result_type(_proto(lhs), _proto(rhs)))


def _canon(x, spec):
    """``x`` with its axes in the canonical order ``spec`` names them in."""
    return x if tuple(spec) == tuple(range(len(spec))) else transpose(x, spec)


def _uncanon(x, spec):
    inverse = tuple(int(i) for i in np.argsort(spec))
    return x if inverse == tuple(range(len(spec))) else transpose(x, inverse)


def _conv_canonical(lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
                    feature_group_count):
    return conv_general_dilated_p.bind(
        lhs, rhs, window_strides=tuple(window_strides),
        padding=tuple((int(lo), int(hi)) for lo, hi in padding),
        lhs_dilation=tuple(lhs_dilation), rhs_dilation=tuple(rhs_dilation),
        dimension_numbers=canonical_dimension_numbers(len(shape_of(lhs))),
        feature_group_count=feature_group_count)


def _empty_output(shape: tuple[int, ...]) -> bool:
    return 0 in shape


def _conv_vjp_lhs(g, ans, lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
                  dimension_numbers, feature_group_count):
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    lhs_shape = tuple(shape_of(lhs)[a] for a in lhs_spec)
    if _empty_output(shape_of(g)):
        return np.zeros(shape_of(lhs), dtype_of(g))
    w = _canon(rhs, rhs_spec)                      # (G * Og, Cg, K...)
    gc = _canon(g, out_spec)                       # (N, G * Og, S_out...)
    o, cg = shape_of(w)[:2]
    kernel = shape_of(w)[2:]
    nsp = len(kernel)
    grp = feature_group_count
    # Input and output features swap roles, group by group: (G * Cg, Og, K...).
    w = reshape(w, (grp, o // grp, cg) + kernel)
    w = transpose(w, (0, 2, 1) + tuple(range(3, 3 + nsp)))
    w = reshape(w, (grp * cg, o // grp) + kernel)
    w = gather(w, indexer=Indexer.from_static(
        (slice(None), slice(None)) + (slice(None, None, -1),) * nsp))
    pads = transpose_padding(lhs_shape[2:], kernel, window_strides, shape_of(gc)[2:],
                             padding, lhs_dilation, rhs_dilation)
    out = _conv_canonical(gc, w, window_strides=lhs_dilation, padding=pads,
                          lhs_dilation=window_strides, rhs_dilation=rhs_dilation,
                          feature_group_count=grp)
    return _uncanon(out, lhs_spec)


def _conv_vjp_rhs(g, ans, lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
                  dimension_numbers, feature_group_count):
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    if _empty_output(shape_of(g)):
        return np.zeros(shape_of(rhs), dtype_of(g))
    x = _canon(lhs, lhs_spec)                      # (N, G * Cg, S_in...)
    gc = _canon(g, out_spec)                       # (N, G * Og, S_out...)
    n, c = shape_of(x)[:2]
    s_in = shape_of(x)[2:]
    nsp = len(s_in)
    kernel = tuple(shape_of(rhs)[a] for a in rhs_spec[2:])
    grp = feature_group_count
    # The batch becomes the contracted feature, group by group: the input as
    # (Cg, G * N, S_in...), the cotangent as the kernel (G * Og, N, S_out...).
    sp = tuple(range(3, 3 + nsp))
    x = transpose(reshape(x, (n, grp, c // grp) + s_in), (2, 1, 0) + sp)
    x = reshape(x, (c // grp, grp * n) + s_in)
    gk = transpose(gc, (1, 0) + tuple(range(2, 2 + nsp)))
    pads = []
    for j in range(nsp):
        lo = padding[j][0]
        span = dilate_dim(kernel[j], rhs_dilation[j])
        hi = (dilate_dim(shape_of(gc)[2 + j], window_strides[j])
              - dilate_dim(s_in[j], lhs_dilation[j]) + span - lo - 1)
        pads.append((lo, hi))
    out = _conv_canonical(x, gk, window_strides=rhs_dilation, padding=pads,
                          lhs_dilation=lhs_dilation, rhs_dilation=window_strides,
                          feature_group_count=grp)          # (Cg, G * Og, K...)
    out = transpose(out, (1, 0) + tuple(range(2, 2 + nsp)))
    return _uncanon(out, rhs_spec)


def _conv_jvp(primals, tangents, ans, **params):
    (lhs, rhs), (tl, tr) = primals, tangents
    return _sum_jvps([None if tl is None else conv_general_dilated_p.bind(tl, rhs, **params),
                      None if tr is None else conv_general_dilated_p.bind(lhs, tr, **params)])


def _batched_canon(x, bdim, spec, size):
    """The batch axis first, then the example's axes in canonical order."""
    x = move_to_front(x, bdim, size)
    return transpose(x, (0,) + tuple(1 + a for a in spec))


def _conv_batch(size, vals, dims, *, window_strides, padding, lhs_dilation, rhs_dilation,
                dimension_numbers, feature_group_count):
    # As JAX does: the vmapped axis is folded into the input batch (lhs
    # batched), into the output features (rhs batched) or into the feature
    # groups (both), so one convolution does every example.
    (lhs, rhs), (ld, rd) = vals, dims
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    params = dict(window_strides=window_strides, padding=padding, lhs_dilation=lhs_dilation,
                  rhs_dilation=rhs_dilation)
    grp = feature_group_count
    if ld is not None and rd is not None:
        x = _batched_canon(lhs, ld, lhs_spec, size)       # (B, N, C, S...)
        w = _batched_canon(rhs, rd, rhs_spec, size)       # (B, O, I, K...)
        b, n, c = shape_of(x)[:3]
        s = shape_of(x)[3:]
        x = reshape(transpose(x, (1, 0) + tuple(range(2, len(s) + 3))), (n, b * c) + s)
        w = reshape(w, (b * shape_of(w)[1],) + shape_of(w)[2:])
        out = _conv_canonical(x, w, feature_group_count=b * grp, **params)
        o = shape_of(out)[1] // b
        out = reshape(out, (n, b, o) + shape_of(out)[2:])
        out = transpose(out, (1, 0) + tuple(range(2, len(shape_of(out)))))
    elif ld is not None:
        x = _batched_canon(lhs, ld, lhs_spec, size)
        b, n = shape_of(x)[:2]
        x = reshape(x, (b * n,) + shape_of(x)[2:])
        out = _conv_canonical(x, _canon(rhs, rhs_spec), feature_group_count=grp, **params)
        out = reshape(out, (b, n) + shape_of(out)[1:])
    else:
        w = _batched_canon(rhs, rd, rhs_spec, size)       # (B, G * Og, I, K...)
        b, o = shape_of(w)[:2]
        rest = shape_of(w)[2:]
        nr = len(rest)
        w = reshape(w, (b, grp, o // grp) + rest)
        w = transpose(w, (1, 0, 2) + tuple(range(3, 3 + nr)))
        w = reshape(w, (grp * b * (o // grp),) + rest)
        out = _conv_canonical(_canon(lhs, lhs_spec), w, feature_group_count=grp, **params)
        n = shape_of(out)[0]
        s = shape_of(out)[2:]
        out = reshape(out, (n, grp, b, o // grp) + s)
        out = transpose(out, (2, 0, 1, 3) + tuple(range(4, 4 + len(s))))
        out = reshape(out, (b, n, o) + s)
    inverse = tuple(int(i) for i in np.argsort(out_spec))
    return transpose(out, (0,) + tuple(1 + a for a in inverse)), 0


conv_general_dilated_p = _register(Primitive(
    "conv_general_dilated", _conv_impl, _conv_aval,
    vjp_args=(_conv_vjp_lhs, _conv_vjp_rhs), jvp=_conv_jvp, batch=_conv_batch,
    may_alias=False, layout="c", residuals="operands"))


# ----- Windowed reductions ------------------------------------------------------

def _identity(kind: str, dtype: np.dtype) -> Any:
    """The value a window pads with: what its reduction ignores."""
    if kind == "sum":
        return np.zeros((), dtype)[()]
    if dtype.kind == "f":
        return dtype.type(-np.inf if kind == "max" else np.inf)
    if dtype.kind == "b":
        return np.bool_(kind == "min")
    info = np.iinfo(dtype)
    return dtype.type(info.min if kind == "max" else info.max)


def _window_view(x, fill, *, window_dimensions, window_strides, padding, base_dilation,
                 window_dilation):
    """Every window of ``x`` as a strided view: (windows along each axis..., window...)."""
    nd = x.ndim
    x = _spread(x, tuple(range(nd)), base_dilation, padding, fill)
    out = tuple(window_out_dim(n, k, s, 0, 0, 1, d) for n, k, s, d in
                zip(x.shape, window_dimensions, window_strides, window_dilation))
    st = x.strides
    return as_strided(x, out + tuple(window_dimensions),
                      tuple(a * s for a, s in zip(st, window_strides))
                      + tuple(a * d for a, d in zip(st, window_dilation)), writeable=False)


def _window_shape(name, shape, *, window_dimensions, window_strides, padding, base_dilation,
                  window_dilation):
    nd = len(shape)
    for what, v in (("window_dimensions", window_dimensions),
                    ("window_strides", window_strides), ("padding", padding),
                    ("base_dilation", base_dilation), ("window_dilation", window_dilation)):
        if len(v) != nd:
            raise ValueError(f"{name}: {what} has {len(v)} entries for an operand of shape "
                             f"{shape}; give one per axis")
    for what, v in (("window_dimensions", window_dimensions),
                    ("window_strides", window_strides), ("base_dilation", base_dilation),
                    ("window_dilation", window_dilation)):
        if any(s < 1 for s in v):
            raise ValueError(f"{name}: {what} must be positive, got {tuple(v)}")
    out = []
    for n, k, s, (lo, hi), bd, wd in zip(shape, window_dimensions, window_strides, padding,
                                         base_dilation, window_dilation):
        if lo + dilate_dim(n, bd) + hi < 0:
            raise ValueError(f"{name}: padding {(lo, hi)} crops more than the "
                             f"{dilate_dim(n, bd)} elements of an axis")
        out.append(window_out_dim(n, k, s, lo, hi, bd, wd))
    return tuple(out)


def _window_aval(name, dtype=None):
    def abstract_eval(x, **params):
        return ShapedArray(_window_shape(name, x.shape, **params),
                           x.dtype if dtype is None else dtype)
    return abstract_eval


def _window_batch(prim):
    def rule(size, vals, dims, *, window_dimensions, window_strides, padding, base_dilation,
             window_dilation, **rest):
        x = move_to_front(vals[0], dims[0], size)
        return prim.bind(x, window_dimensions=(1,) + tuple(window_dimensions),
                         window_strides=(1,) + tuple(window_strides),
                         padding=((0, 0),) + tuple(padding),
                         base_dilation=(1,) + tuple(base_dilation),
                         window_dilation=(1,) + tuple(window_dilation), **rest), 0
    return rule


def _window_axes(ndim: int) -> tuple[int, ...]:
    return tuple(range(ndim, 2 * ndim))


def _reduce_window_sum_impl(x, **params):
    x = np.asarray(x)
    view = _window_view(x, _identity("sum", x.dtype), **params)
    return np.add.reduce(view, axis=_window_axes(x.ndim), dtype=x.dtype)


def _reduce_window_sum_vjp(g, ans, x, *, window_dimensions, window_strides, padding,
                           base_dilation, window_dilation):
    # Each input element adds into every window that covers it: the same
    # (all-ones, so unflipped) window slid over the cotangent spread by the strides.
    if _empty_output(shape_of(g)):
        return np.zeros(shape_of(x), dtype_of(g))
    pads = transpose_padding(shape_of(x), window_dimensions, window_strides, shape_of(g),
                             padding, base_dilation, window_dilation)
    return reduce_window_sum_p.bind(
        g, window_dimensions=window_dimensions, window_strides=base_dilation, padding=pads,
        base_dilation=window_strides, window_dilation=window_dilation)


reduce_window_sum_p: Primitive = _register(Primitive(
    "reduce_window_sum", _reduce_window_sum_impl, _window_aval("reduce_window_sum"),
    vjp_args=(_reduce_window_sum_vjp,),
    jvp=lambda primals, tangents, ans, **p: (
        None if tangents[0] is None else reduce_window_sum_p.bind(tangents[0], **p)),
    batch=PerPrimitive(_window_batch), may_alias=False, layout="c", residuals="shapes"))


def _reduce_window_index_impl(x, *, chooser, **params):
    x = np.asarray(x)
    size = x.size
    values = _window_view(x, _identity(chooser, x.dtype), **params)
    places = _window_view(np.arange(size, dtype=np.int64).reshape(x.shape), size, **params)
    out = values.shape[:x.ndim]
    flat = (int(np.prod(values.shape[x.ndim:], dtype=np.int64)),)
    pick = (np.argmax if chooser == "max" else np.argmin)(values.reshape(out + flat), axis=-1)
    return np.take_along_axis(places.reshape(out + flat), pick[..., None], axis=-1)[..., 0]


def _reduce_window_index_batch(size, vals, dims, **params):
    # Run over the whole batch (a window of 1 along it), then turn the
    # positions in the batch into positions in each example.
    x = move_to_front(vals[0], dims[0], size)
    found = _window_batch(reduce_window_index_p)(size, [x], [0], **params)[0]
    per_example = int(np.prod(shape_of(x)[1:], dtype=np.int64))
    offsets = (np.arange(size, dtype=np.int64) * per_example).reshape(
        (size,) + (1,) * (len(shape_of(found)) - 1))
    local = sub(found, offsets)
    return select_n(eq(found, size * per_example), local, np.int64(per_example)), 0


# Where each window's max (or min) is, as a position in the flattened operand;
# a window of nothing but padding gives the operand's size. The first in the
# window wins a tie, as XLA's select does with ``ge`` (``le`` for min).
reduce_window_index_p: Primitive = _register(Primitive(
    "reduce_window_index", _reduce_window_index_impl,
    lambda x, *, chooser, **p: _window_aval("reduce_window_index", np.dtype(np.int64))(x, **p),
    differentiable=False, batch=_reduce_window_index_batch, may_alias=False))


def _chosen_tangent(t, x, params, chooser):
    size = int(np.prod(shape_of(x), dtype=np.int64))
    where = reduce_window_index_p.bind(x, chooser=chooser, **params)
    padded = concatenate([reshape(t, (size,)), np.zeros((1,), dtype_of(t))], 0)
    return gather(padded, where, indexer=Indexer((Indexer.ARRAY,)))


def _chosen_pull(g, x, params, chooser):
    size = int(np.prod(shape_of(x), dtype=np.int64))
    where = reduce_window_index_p.bind(x, chooser=chooser, **params)
    pulled = scatter_add(np.zeros((size + 1,), dtype_of(g)), g, where,
                         indexer=Indexer((Indexer.ARRAY,)))
    return reshape(gather(pulled, indexer=Indexer.from_static((slice(0, size),))), shape_of(x))


def _reduce_window_chooser(chooser: str) -> Primitive:
    name = f"reduce_window_{chooser}"
    reduce = np.maximum if chooser == "max" else np.minimum

    def impl(x, **params):
        x = np.asarray(x)
        view = _window_view(x, _identity(chooser, x.dtype), **params)
        return reduce.reduce(view, axis=_window_axes(x.ndim))

    def vjp(g, ans, x, **params):
        if _empty_output(shape_of(g)):
            return np.zeros(shape_of(x), dtype_of(g))
        return _chosen_pull(g, x, params, chooser)

    def jvp(primals, tangents, ans, **params):
        if tangents[0] is None:
            return None
        if _empty_output(shape_of(ans)):
            return np.zeros(shape_of(ans), dtype_of(tangents[0]))
        return _chosen_tangent(tangents[0], primals[0], params, chooser)
    return _register(Primitive(
        name, impl, _window_aval(name), vjp_args=(vjp,), jvp=jvp,
        batch=PerPrimitive(_window_batch), may_alias=False, layout="c"))


reduce_window_max_p = _reduce_window_chooser("max")
reduce_window_min_p = _reduce_window_chooser("min")


from nanojax.primitives.base import move_to_front  # noqa: E402
from nanojax.primitives.elementwise import eq, select_n, sub  # noqa: E402
from nanojax.primitives.indexing import Indexer, gather, scatter_add  # noqa: E402
from nanojax.primitives.shapes import concatenate, reshape, transpose  # noqa: E402
