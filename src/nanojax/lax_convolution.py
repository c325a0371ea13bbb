"""``lax.conv_general_dilated`` and its family, and ``lax.reduce_window``.

A convolution slides a kernel over the spatial axes of an input: strides
skip windows, ``lhs_dilation`` spreads the input (a transposed
convolution), ``rhs_dilation`` spreads the kernel (atrous), padding adds or
crops at the edges, and ``feature_group_count`` splits the features into
groups that convolve separately (depthwise when every group has one
feature). ``dimension_numbers`` says where the batch, feature and spatial
axes are, as JAX spells it. Everything is checked here, with a sentence
naming the function, before the primitive is bound.

Examples:
    >>> import numpy as np
    >>> from nanojax import lax
    >>> x = np.arange(5.0).reshape(1, 1, 5)           # (batch, feature, width)
    >>> lax.conv_general_dilated(x, np.ones((1, 1, 2)), (1,), "VALID")
    array([[[1., 3., 5., 7.]]])
    >>> lax.conv(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), (1, 1), "SAME")[0, 0]
    array([[4., 6., 6., 4.],
           [6., 9., 9., 6.],
           [6., 9., 9., 6.],
           [4., 6., 6., 4.]])
    >>> lax.reduce_window(np.arange(6.0), -np.inf, lax.max, (2,), (2,), "VALID")
    array([1., 3., 5.])
"""

from __future__ import annotations

import math
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

from nanojax import primitives as P
from nanojax.lax_args import int_tuple, operand as _operand
from nanojax.core import Tracer
from nanojax.numpy._args import check_numeric, describe, is_int
from nanojax.primitives.convolution import (ConvDimensionNumbers, _conv_shape, _identity,
                                            _window_shape, dilate_dim, window_out_dim)

__all__ = ["ConvDimensionNumbers", "conv", "conv_dimension_numbers", "conv_general_dilated",
           "conv_general_permutations", "conv_general_shape_tuple", "conv_transpose",
           "conv_transpose_shape_tuple", "conv_with_general_padding", "padtype_to_pads",
           "reduce_window", "reduce_window_shape_tuple"]


# ----- Arguments ----------------------------------------------------------------


def _real(name: str, what: str, x: Any) -> None:
    kind = x.dtype.kind
    if kind == "c":
        raise TypeError(f"nanojax.lax.{name}: complex {what} ({x.dtype}) is not supported yet")
    if kind == "b":
        raise TypeError(f"nanojax.lax.{name}: {what} is boolean; pass numbers "
                        "(convert with astype)")


def _ints(name: str, what: str, values: Any, n: int) -> tuple[int, ...]:
    out = int_tuple(name, what, values)
    if len(out) != n:
        raise ValueError(f"nanojax.lax.{name}: {what} has {len(out)} entries, but the operand "
                         f"has {n} {'spatial ' if 'dilation' in what or 'strides' in what else ''}"
                         "dimensions to apply them to")
    return out


def _positive(name: str, what: str, values: tuple[int, ...]) -> tuple[int, ...]:
    if any(v < 1 for v in values):
        raise ValueError(f"nanojax.lax.{name}: {what} must be positive, got {values}")
    return values


def _pairs(name: str, padding: Any, n: int) -> tuple[tuple[int, int], ...]:
    try:
        rows = [tuple(row) for row in padding]
    except TypeError:
        rows = None
    if rows is None or not all(len(r) == 2 and all(is_int(v) for v in r) for r in rows):
        raise TypeError(f"nanojax.lax.{name}: padding must be 'SAME', 'SAME_LOWER', 'VALID' or "
                        f"a sequence of (low, high) int pairs, got {describe(padding)}")
    if len(rows) != n:
        raise ValueError(f"nanojax.lax.{name}: padding has {len(rows)} (low, high) pairs for "
                         f"{n} dimensions")
    return tuple((int(lo), int(hi)) for lo, hi in rows)


def _count(name: str, what: str, v: Any) -> int:
    if not is_int(v) or int(v) < 1:
        raise ValueError(f"nanojax.lax.{name}: {what} must be a positive integer, got "
                         f"{describe(v)}")
    return int(v)


def _preferred(name: str, x: Any, dtype: Any) -> Any:
    if dtype is None:
        return x
    try:
        target = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"nanojax.lax.{name}: preferred_element_type must be a dtype, got "
                        f"{describe(dtype)}") from None
    if x.dtype == target:
        return x
    return P.convert_element_type_p.bind(x, new_dtype=target)


# ----- Dimension numbers and padding ---------------------------------------------------

def conv_general_permutations(dimension_numbers: Sequence[str]
                              ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """The axis permutations that string ``dimension_numbers`` stand for.

    Spatial axes are matched by their letters and ordered as in the kernel's
    spec, as in JAX.

    Examples:
        >>> from nanojax import lax
        >>> lax.conv_general_permutations(("NHWC", "HWIO", "NHWC"))
        ((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))
    """
    return _permutations("conv_general_permutations", dimension_numbers)


def _permutations(name: str, dimension_numbers: Any
                  ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    try:
        lhs, rhs, out = dimension_numbers
        ok = all(isinstance(s, str) for s in (lhs, rhs, out))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise TypeError(f"nanojax.lax.{name}: dimension_numbers must be None, a "
                        "ConvDimensionNumbers or three strings such as ('NCHW', 'OIHW', "
                        f"'NCHW'), got {describe(dimension_numbers)}")
    if not len(lhs) == len(rhs) == len(out):
        raise ValueError(f"nanojax.lax.{name}: the specs {dimension_numbers!r} must have the "
                         "same length")
    for spec, letters in ((lhs, "NC"), (rhs, "OI"), (out, "NC")):
        if len(set(spec)) != len(spec) or not all(c in spec for c in letters):
            raise ValueError(f"nanojax.lax.{name}: the spec {spec!r} in {dimension_numbers!r} "
                             f"must name {letters[0]!r} and {letters[1]!r} once each, and "
                             "each spatial dimension once")
    spatial = set(rhs) - set("OI")
    if set(lhs) - set("NC") != spatial or set(out) - set("NC") != spatial:
        raise ValueError(f"nanojax.lax.{name}: the spatial dimensions of {dimension_numbers!r} "
                         "must be the same letters in all three specs")

    def order(spec: str, first: str, second: str) -> tuple[int, ...]:
        rest = sorted((i for i, c in enumerate(spec) if c not in (first, second)),
                      key=lambda i: rhs.index(spec[i]))
        return (spec.index(first), spec.index(second)) + tuple(rest)
    return order(lhs, "N", "C"), order(rhs, "O", "I"), order(out, "N", "C")


def conv_dimension_numbers(lhs_shape: Sequence[int], rhs_shape: Sequence[int],
                           dimension_numbers: Any) -> ConvDimensionNumbers:
    """``dimension_numbers`` (None, strings or a ``ConvDimensionNumbers``) as axis indices.

    Examples:
        >>> from nanojax import lax
        >>> lax.conv_dimension_numbers((1, 5, 5, 3), (3, 3, 3, 8), ("NHWC", "HWIO", "NHWC"))
        ConvDimensionNumbers(lhs_spec=(0, 3, 1, 2), rhs_spec=(3, 2, 0, 1), out_spec=(0, 3, 1, 2))
    """
    return _dimension_numbers("conv_dimension_numbers", tuple(lhs_shape), tuple(rhs_shape),
                              dimension_numbers)


def _dimension_numbers(name: str, lhs_shape: tuple, rhs_shape: tuple,
                       dimension_numbers: Any) -> ConvDimensionNumbers:
    nd = len(lhs_shape)
    if len(rhs_shape) != nd:
        raise ValueError(f"nanojax.lax.{name}: lhs and rhs must have the same number of "
                         f"dimensions, got shapes {lhs_shape} and {rhs_shape}")
    if nd < 2:
        raise ValueError(f"nanojax.lax.{name}: lhs and rhs need a batch and a feature "
                         f"dimension at least, got shapes {lhs_shape} and {rhs_shape}")
    if dimension_numbers is None:
        return P.canonical_dimension_numbers(nd)
    if isinstance(dimension_numbers, ConvDimensionNumbers):
        specs = []
        for spec in dimension_numbers:
            try:
                items = tuple(spec)
            except TypeError:
                items = None
            if items is None or sorted(items) != list(range(nd)) or not all(
                    is_int(a) for a in items):
                raise ValueError(f"nanojax.lax.{name}: each spec of {dimension_numbers} must "
                                 f"be a permutation of the {nd} axes of lhs and rhs")
            specs.append(tuple(int(a) for a in items))
        return ConvDimensionNumbers(*specs)
    perms = _permutations(name, dimension_numbers)
    if len(perms[0]) != nd:
        raise ValueError(f"nanojax.lax.{name}: lhs has {nd} dimensions (shape {lhs_shape}) but "
                         f"dimension_numbers {tuple(dimension_numbers)!r} describe "
                         f"{len(perms[0])}")
    return ConvDimensionNumbers(*perms)


def padtype_to_pads(in_shape: Sequence[int], window_shape: Sequence[int],
                    window_strides: Sequence[int], padding: str) -> list[tuple[int, int]]:
    """The (low, high) padding that ``"SAME"``, ``"SAME_LOWER"`` or ``"VALID"`` means.

    SAME pads so that ``ceil(n / stride)`` windows fit, the odd element at
    the end (at the start for SAME_LOWER); VALID pads nothing.

    Examples:
        >>> from nanojax import lax
        >>> lax.padtype_to_pads((5, 6), (3, 2), (2, 1), "SAME")
        [(1, 1), (0, 1)]
    """
    return _padtype_to_pads("padtype_to_pads", tuple(in_shape), tuple(window_shape),
                            tuple(window_strides), padding)


def _padtype_to_pads(name: str, in_shape: tuple, window_shape: tuple, strides: tuple,
                     padding: str) -> list[tuple[int, int]]:
    kind = padding.upper() if isinstance(padding, str) else None
    if kind not in ("SAME", "SAME_LOWER", "VALID"):
        raise ValueError(f"nanojax.lax.{name}: padding must be 'SAME', 'SAME_LOWER' or "
                         f"'VALID', got {padding!r}")
    if kind == "VALID":
        return [(0, 0)] * len(in_shape)
    pads = []
    for n, k, s in zip(in_shape, window_shape, strides):
        total = max((-(-n // s) - 1) * s + k - n, 0)
        low = total // 2 if kind == "SAME" else total - total // 2
        pads.append((low, total - low))
    return pads


# ----- Convolutions -------------------------------------------------------------------

def conv_general_dilated(lhs: Any, rhs: Any, window_strides: Sequence[int], padding: Any,
                         lhs_dilation: Sequence[int] | None = None,
                         rhs_dilation: Sequence[int] | None = None,
                         dimension_numbers: Any = None, feature_group_count: int = 1,
                         batch_group_count: int = 1, precision: Any = None,
                         preferred_element_type: Any = None) -> Any:
    """The general n-d convolution (cross-correlation, as in JAX and XLA).

    ``padding``: ``"SAME"``, ``"SAME_LOWER"``, ``"VALID"`` or ``(low, high)``
    per spatial dimension (negative crops). ``dimension_numbers``: None
    (``("NCHW", "OIHW", "NCHW")`` and its n-d analogues), three strings, or a
    ``ConvDimensionNumbers``. ``precision`` is accepted with nothing to
    choose (NumPy computes in the operands' precision);
    ``preferred_element_type`` converts both operands first.
    ``batch_group_count`` other than 1 is not supported.

    Examples:
        >>> import numpy as np
        >>> from nanojax import lax
        >>> x = np.ones((1, 4, 4, 2))                      # NHWC
        >>> w = np.ones((3, 3, 2, 5))                      # HWIO
        >>> lax.conv_general_dilated(x, w, (2, 2), "SAME",
        ...                          dimension_numbers=("NHWC", "HWIO", "NHWC")).shape
        (1, 2, 2, 5)
        >>> y = np.arange(3.0).reshape(1, 1, 3)
        >>> lax.conv_general_dilated(y, np.ones((1, 1, 1)), (1,), [(0, 0)], lhs_dilation=(2,))
        array([[[0., 0., 1., 0., 2.]]])
    """
    return _conv("conv_general_dilated", lhs, rhs, window_strides, padding, lhs_dilation,
                 rhs_dilation, dimension_numbers, feature_group_count, batch_group_count,
                 preferred_element_type)


def _conv(name: str, lhs: Any, rhs: Any, window_strides: Any, padding: Any,
          lhs_dilation: Any, rhs_dilation: Any, dimension_numbers: Any,
          feature_group_count: Any, batch_group_count: Any,
          preferred_element_type: Any) -> Any:
    x, w = _operand(name, lhs, what="lhs"), _operand(name, rhs, what="rhs")
    _real(name, "lhs", x)
    _real(name, "rhs", w)
    lhs_shape, rhs_shape = tuple(x.shape), tuple(w.shape)
    dnums = _dimension_numbers(name, lhs_shape, rhs_shape, dimension_numbers)
    nsp = len(lhs_shape) - 2
    strides = _positive(name, "window_strides", _ints(name, "window_strides", window_strides,
                                                      nsp))
    ld = (1,) * nsp if lhs_dilation is None else _positive(
        name, "lhs_dilation", _ints(name, "lhs_dilation", lhs_dilation, nsp))
    rd = (1,) * nsp if rhs_dilation is None else _positive(
        name, "rhs_dilation", _ints(name, "rhs_dilation", rhs_dilation, nsp))
    groups = _count(name, "feature_group_count", feature_group_count)
    if _count(name, "batch_group_count", batch_group_count) != 1:
        raise NotImplementedError(f"nanojax.lax.{name}: batch_group_count > 1 is not "
                                  f"supported (got {batch_group_count}); split the batch and "
                                  "convolve each group, or use feature_group_count")
    lhs_spec, rhs_spec, _ = dnums
    kernel = tuple(rhs_shape[a] for a in rhs_spec[2:])
    if isinstance(padding, str):
        if any(d != 1 for d in ld):
            raise ValueError(f"nanojax.lax.{name}: string padding {padding!r} is not defined "
                             "with lhs_dilation; give explicit (low, high) pairs, or use "
                             "lax.conv_transpose")
        pads = tuple(_padtype_to_pads(name, tuple(lhs_shape[a] for a in lhs_spec[2:]),
                                      tuple(dilate_dim(k, r) for k, r in zip(kernel, rd)),
                                      strides, padding))
    else:
        pads = _pairs(name, padding, nsp)
    x = _preferred(name, x, preferred_element_type)
    w = _preferred(name, w, preferred_element_type)
    params = dict(window_strides=strides, padding=pads, lhs_dilation=ld, rhs_dilation=rd,
                  dimension_numbers=dnums, feature_group_count=groups)
    _conv_shape(f"nanojax.lax.{name}", lhs_shape, rhs_shape, **params)
    return P.conv_general_dilated_p.bind(x, w, **params)


def conv(lhs: Any, rhs: Any, window_strides: Sequence[int], padding: str,
         precision: Any = None, preferred_element_type: Any = None) -> Any:
    """``conv_general_dilated`` in NCHW/OIHW layout with no dilation."""
    return _conv("conv", lhs, rhs, window_strides, padding, None, None, None, 1, 1,
                 preferred_element_type)


def conv_with_general_padding(lhs: Any, rhs: Any, window_strides: Sequence[int],
                              padding: Any, lhs_dilation: Sequence[int] | None,
                              rhs_dilation: Sequence[int] | None, precision: Any = None,
                              preferred_element_type: Any = None) -> Any:
    """``conv_general_dilated`` in NCHW/OIHW layout, with dilations."""
    return _conv("conv_with_general_padding", lhs, rhs, window_strides, padding, lhs_dilation,
                 rhs_dilation, None, 1, 1, preferred_element_type)


_TRANSPOSE_DEFAULTS = {2: ("NC", "IO", "NC"), 3: ("NHC", "HIO", "NHC"),
                       4: ("NHWC", "HWIO", "NHWC"), 5: ("NHWDC", "HWDIO", "NHWDC")}


def _transpose_padding(k: int, s: int, padding: str) -> tuple[int, int]:
    # The padding of the stride-dilated input that undoes a forward SAME or
    # VALID convolution's shape: the output is the forward conv's input shape.
    if padding == "SAME":
        total = k + s - 2
        low = k - 1 if s > k - 1 else -(-total // 2)
    else:
        total = k + s - 2 + max(k - s, 0)
        low = k - 1
    return low, total - low


def conv_transpose(lhs: Any, rhs: Any, strides: Sequence[int], padding: Any,
                   rhs_dilation: Sequence[int] | None = None, dimension_numbers: Any = None,
                   transpose_kernel: bool = False, precision: Any = None,
                   preferred_element_type: Any = None) -> Any:
    """A transposed ("fractionally strided") convolution, as ``jax.lax.conv_transpose``.

    The input is dilated by ``strides`` and convolved with stride 1;
    ``"SAME"`` and ``"VALID"`` pad so that the output has the shape of the
    input of the forward convolution this transposes (Keras'
    ``Conv2DTranspose``). Layouts default to NHWC/HWIO. With
    ``transpose_kernel`` the kernel is flipped and its I and O axes swapped,
    which makes this the gradient of the forward convolution.

    Examples:
        >>> import numpy as np
        >>> from nanojax import lax
        >>> lax.conv_transpose(np.ones((1, 3, 3, 1)), np.ones((3, 3, 1, 1)), (2, 2),
        ...                    "SAME").shape
        (1, 6, 6, 1)
    """
    name = "conv_transpose"
    x, w = _operand(name, lhs, what="lhs"), _operand(name, rhs, what="rhs")
    nd = len(x.shape)
    if dimension_numbers is None:
        if nd not in _TRANSPOSE_DEFAULTS:
            raise ValueError(f"nanojax.lax.{name}: has default dimension_numbers for 2- to 5-d "
                             f"operands only, got {nd}-d; pass dimension_numbers")
        dimension_numbers = _TRANSPOSE_DEFAULTS[nd]
    dnums = _dimension_numbers(name, tuple(x.shape), tuple(w.shape), dimension_numbers)
    nsp = nd - 2
    rd = (1,) * nsp if rhs_dilation is None else _positive(
        name, "rhs_dilation", _ints(name, "rhs_dilation", rhs_dilation, nsp))
    steps = _positive(name, "strides", _ints(name, "strides", strides, nsp))
    if isinstance(padding, str):
        if padding not in ("SAME", "VALID"):
            raise ValueError(f"nanojax.lax.{name}: padding must be 'SAME', 'VALID' or (low, "
                             f"high) pairs, got {padding!r}")
        kernel = [w.shape[a] for a in dnums.rhs_spec[2:]]
        pads: Any = [_transpose_padding(dilate_dim(k, r), s, padding)
                     for k, r, s in zip(kernel, rd, steps)]
    else:
        pads = padding
    if transpose_kernel:
        flip = tuple(slice(None, None, -1) if a in dnums.rhs_spec[2:] else slice(None)
                     for a in range(nd))
        w = P.gather(w, indexer=P.Indexer.from_static(flip))
        perm = list(range(nd))
        o, i = dnums.rhs_spec[:2]
        perm[o], perm[i] = i, o
        w = P.transpose(w, perm)
    return _conv(name, x, w, (1,) * nsp, pads, steps, rd, dnums, 1, 1, preferred_element_type)


# ----- Output shapes without operands (for layer libraries such as stax) -------------

def _shape_of_conv(name: str, lhs_shape: Sequence[int], rhs_shape: Sequence[int],
                   padding: Any, dimension_numbers: Any, strides: tuple[int, ...],
                   lhs_dilation: tuple[int, ...]) -> tuple[int, ...]:
    lhs, rhs = tuple(lhs_shape), tuple(rhs_shape)
    dnums = _dimension_numbers(name, lhs, rhs, dimension_numbers)
    if not isinstance(padding, str):
        padding = _pairs(name, padding, len(lhs) - 2)
    return _conv_shape(f"nanojax.lax.{name}", lhs, rhs, window_strides=strides, padding=padding,
                       lhs_dilation=lhs_dilation, rhs_dilation=(1,) * (len(lhs) - 2),
                       dimension_numbers=dnums, feature_group_count=1)


def _spatial_strides(name: str, lhs_shape: Sequence[int], window_strides: Any
                     ) -> tuple[int, tuple[int, ...]]:
    nsp = len(tuple(lhs_shape)) - 2
    return nsp, _positive(name, "window_strides", _ints(name, "window_strides", window_strides,
                                                        nsp))


def conv_general_shape_tuple(lhs_shape: Sequence[int], rhs_shape: Sequence[int],
                             window_strides: Sequence[int], padding: Any,
                             dimension_numbers: Any) -> tuple[int, ...]:
    """The shape ``conv_general_dilated`` gives operands of these shapes (no dilation).

    The batch dimension passes through as it is, so an unknown batch written
    ``-1`` stays ``-1``.

    Examples:
        >>> from nanojax import lax
        >>> lax.conv_general_shape_tuple((-1, 28, 28, 1), (5, 5, 1, 8), (2, 2), "SAME",
        ...                              ("NHWC", "HWIO", "NHWC"))
        (-1, 14, 14, 8)
    """
    name = "conv_general_shape_tuple"
    nsp, strides = _spatial_strides(name, lhs_shape, window_strides)
    if isinstance(padding, str):
        dnums = _dimension_numbers(name, tuple(lhs_shape), tuple(rhs_shape), dimension_numbers)
        padding = _padtype_to_pads(name, tuple(lhs_shape[a] for a in dnums.lhs_spec[2:]),
                                   tuple(rhs_shape[a] for a in dnums.rhs_spec[2:]), strides,
                                   padding)
    return _shape_of_conv(name, lhs_shape, rhs_shape, padding, dimension_numbers, strides,
                          (1,) * nsp)


def conv_transpose_shape_tuple(lhs_shape: Sequence[int], rhs_shape: Sequence[int],
                               window_strides: Sequence[int], padding: Any,
                               dimension_numbers: Any) -> tuple[int, ...]:
    """The shape ``conv_transpose`` gives operands of these shapes.

    Examples:
        >>> from nanojax import lax
        >>> lax.conv_transpose_shape_tuple((-1, 7, 7, 8), (3, 3, 8, 4), (2, 2), "SAME",
        ...                                ("NHWC", "HWIO", "NHWC"))
        (-1, 14, 14, 4)
    """
    name = "conv_transpose_shape_tuple"
    nsp, strides = _spatial_strides(name, lhs_shape, window_strides)
    if isinstance(padding, str):
        if padding not in ("SAME", "VALID"):
            raise ValueError(f"nanojax.lax.{name}: padding must be 'SAME', 'VALID' or (low, "
                             f"high) pairs, got {padding!r}")
        dnums = _dimension_numbers(name, tuple(lhs_shape), tuple(rhs_shape), dimension_numbers)
        padding = [_transpose_padding(rhs_shape[a], s, padding)
                   for a, s in zip(dnums.rhs_spec[2:], strides)]
    return _shape_of_conv(name, lhs_shape, rhs_shape, padding, dimension_numbers, (1,) * nsp,
                          strides)


def reduce_window_shape_tuple(operand_shape: Sequence[int], window_dimensions: Sequence[int],
                              window_strides: Sequence[int], padding: Sequence[tuple[int, int]],
                              base_dilation: Sequence[int] | None = None,
                              window_dilation: Sequence[int] | None = None) -> tuple[int, ...]:
    """The shape ``reduce_window`` gives an operand of ``operand_shape``.

    An unknown dimension (``-1`` or ``None``, a batch) passes through where
    its window is 1 wide with stride 1 and no padding, as pooling layers' are.

    Examples:
        >>> from nanojax import lax
        >>> lax.reduce_window_shape_tuple((-1, 6, 6, 3), (1, 2, 2, 1), (1, 2, 2, 1),
        ...                               [(0, 0)] * 4)
        (-1, 3, 3, 3)
    """
    name = "reduce_window_shape_tuple"
    shape = tuple(operand_shape)
    nd = len(shape)
    window = _positive(name, "window_dimensions",
                       _ints(name, "window_dimensions", window_dimensions, nd))
    strides = _positive(name, "window_strides", _ints(name, "window_strides", window_strides,
                                                      nd))
    pads = _pairs(name, padding, nd)
    bd = (1,) * nd if base_dilation is None else _ints(name, "base_dilation", base_dilation, nd)
    wd = (1,) * nd if window_dilation is None else _ints(name, "window_dilation",
                                                         window_dilation, nd)
    out = []
    for n, k, s, (lo, hi), b, w in zip(shape, window, strides, pads, bd, wd):
        if n is None or n < 0:
            if (k, s, lo, hi, b) != (1, 1, 0, 0, 1):
                raise ValueError(f"nanojax.lax.{name}: an unknown dimension ({n}) of "
                                 f"{shape} needs a window of 1 with stride 1 and no padding")
            out.append(n)
        else:
            out.append(window_out_dim(n, k, s, lo, hi, b, w))
    return tuple(out)


# ----- Windowed reductions -------------------------------------------------------------

def _monoid(computation: Callable) -> str | None:
    """Which reduction ``computation`` is: "sum", "max", "min", or None."""
    from nanojax import lax
    import nanojax.numpy as jnp
    for kind, fns in (("sum", (lax.add, jnp.add, np.add)),
                      ("max", (lax.max, jnp.maximum, np.maximum)),
                      ("min", (lax.min, jnp.minimum, np.minimum))):
        if any(computation is f for f in fns):
            return kind
    return None


_WINDOW_PRIMS = {"sum": "reduce_window_sum", "max": "reduce_window_max",
                 "min": "reduce_window_min"}


def reduce_window(operand: Any, init_value: Any, computation: Callable,
                  window_dimensions: Sequence[int], window_strides: Sequence[int],
                  padding: Any, base_dilation: Sequence[int] | None = None,
                  window_dilation: Sequence[int] | None = None) -> Any:
    """Reduce every window of ``operand`` with ``computation``, starting from ``init_value``.

    ``computation``: ``lax.add``, ``lax.max`` or ``lax.min`` (or
    ``jnp.add``/``jnp.maximum``/``jnp.minimum``, or NumPy's ufuncs of those
    names). As in XLA, padding and the holes of ``base_dilation`` hold
    ``init_value``, and each window's reduction starts from it; with the
    reduction's identity (0, -inf, inf) as ``init_value`` this is one
    primitive, ``reduce_window_sum``/``max``/``min``. Pooling is written with
    it, as in stax:

    Examples:
        >>> import numpy as np
        >>> from nanojax import lax
        >>> x = np.arange(16.0).reshape(4, 4)
        >>> lax.reduce_window(x, -np.inf, lax.max, (2, 2), (2, 2), "VALID")    # max pool
        array([[ 5.,  7.],
               [13., 15.]])
        >>> lax.reduce_window(x, 0.0, lax.add, (2, 2), (2, 2), "VALID") / 4    # avg pool
        array([[ 2.5,  4.5],
               [10.5, 12.5]])
    """
    name = "reduce_window"
    kind = _monoid(computation)
    if kind is None:
        raise TypeError(f"nanojax.lax.{name}: computation must be lax.add, lax.max or lax.min "
                        f"(or jnp.add/maximum/minimum, np.add/maximum/minimum), got "
                        f"{describe(computation)}")
    if isinstance(operand, (list, tuple, dict)):
        raise TypeError(f"nanojax.lax.{name}: takes one array operand; a pytree of operands "
                        "(variadic reduce_window) is not supported")
    x = _operand(name, operand, what="operand")
    if x.dtype.kind == "c":
        raise TypeError(f"nanojax.lax.{name}: complex operands ({x.dtype}) are not supported "
                        "yet")
    if kind == "sum" and x.dtype.kind == "b":
        raise TypeError(f"nanojax.lax.{name}: cannot add up a boolean operand; convert it to "
                        "numbers first")
    shape = tuple(x.shape)
    nd = len(shape)
    window = _positive(name, "window_dimensions",
                       _ints(name, "window_dimensions", window_dimensions, nd))
    strides = _positive(name, "window_strides", _ints(name, "window_strides", window_strides,
                                                      nd))
    bd = (1,) * nd if base_dilation is None else _positive(
        name, "base_dilation", _ints(name, "base_dilation", base_dilation, nd))
    wd = (1,) * nd if window_dilation is None else _positive(
        name, "window_dilation", _ints(name, "window_dilation", window_dilation, nd))
    if isinstance(padding, str):
        pads = tuple(_padtype_to_pads(name, shape, tuple(dilate_dim(k, d) for k, d in
                                                         zip(window, wd)), strides, padding))
    else:
        pads = _pairs(name, padding, nd)
    params = dict(window_dimensions=window, window_strides=strides, padding=pads,
                  base_dilation=bd, window_dilation=wd)
    _window_shape(f"nanojax.lax.{name}", shape, **params)
    init, identity = _init(name, kind, init_value, x.dtype)
    out = P.ALL_PRIMITIVES[_WINDOW_PRIMS[kind]].bind(x, **params)
    if identity:
        return out
    if kind != "sum":
        return (P.max_p if kind == "max" else P.min_p).bind(out, init)
    # Each window also adds init once, and once more for each place it covers
    # that holds no element of the operand (padding, or a dilation's hole).
    covered = P.reduce_window_sum_p.impl(np.ones(shape, x.dtype), **params)
    extra = (1 + math.prod(window) - covered).astype(x.dtype)
    return P.add_p.bind(out, P.mul_p.bind(init, extra))


def _init(name: str, kind: str, init_value: Any, dtype: np.dtype) -> tuple[Any, bool]:
    """``init_value`` in the operand's dtype, and whether it is the reduction's identity."""
    if isinstance(init_value, Tracer):
        if init_value.shape != () or init_value.dtype != dtype:
            raise TypeError(f"nanojax.lax.{name}: init_value must be a scalar of the operand's "
                            f"dtype {dtype}, got {init_value.aval.str_short()}")
        return init_value, False
    check_numeric(f"lax.{name}", init_value)
    v = np.asarray(init_value)
    if v.shape != ():
        raise TypeError(f"nanojax.lax.{name}: init_value must be a scalar, got one of shape "
                        f"{v.shape}")
    identity = _identity(kind, dtype)
    infinite = {"max": -np.inf, "min": np.inf}.get(kind)
    with np.errstate(invalid="ignore"):
        if v == identity or (infinite is not None and v == infinite):
            return identity, True
        if dtype.kind in "iub" and not (np.isfinite(v) and v == np.round(v)):
            raise ValueError(f"nanojax.lax.{name}: init_value {init_value!r} is not a value of "
                             f"the operand's dtype {dtype}")
    return v.astype(dtype)[()], False
