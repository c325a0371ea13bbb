"""``lax.conv_general_dilated`` and ``lax.reduce_window``, against their definitions.

The references are the definitions written as loops in NumPy: spread the
input by its dilation, pad or crop it, then for every output position and
every window offset multiply (or reduce) what the window sees. No strided
views, no im2col: they share nothing with the implementation but NumPy's
arithmetic. Layouts are checked by building each operand in the canonical
layout and moving its axes by letter (``np.einsum("NCHW->NHWC", x)``).
Then: gradients against central differences to order 2 in both modes,
``vmap`` against a loop, ``jit`` against eager bit for bit, the errors,
pooling as stax writes it, ``conv_transpose``, and a small CNN that learns.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import lax

RNG = np.random.default_rng(3)
ROOT = Path(__file__).resolve().parents[1]


# ----- The references ------------------------------------------------------------

def _same_pads(n: int, k: int, s: int, lower: bool = False) -> tuple[int, int]:
    """SAME: as many windows as ceil(n / s), the odd padding element at the end."""
    total = max((math.ceil(n / s) - 1) * s + k - n, 0)
    small = total // 2
    return (total - small, small) if lower else (small, total - small)


def _spread(x: np.ndarray, dilation, pads, fill: float) -> np.ndarray:
    """Dilate the trailing ``len(pads)`` axes of ``x``, then pad them (negative: crop)."""
    lead = x.ndim - len(pads)
    shape = x.shape[:lead] + tuple((n - 1) * d + 1 if n else 0
                                   for n, d in zip(x.shape[lead:], dilation))
    out = np.full(shape, fill, dtype=float)
    out[(Ellipsis,) + tuple(slice(None, None, d) for d in dilation)] = x
    for j, (lo, hi) in enumerate(pads):
        axis = lead + j
        widths = [(0, 0)] * out.ndim
        widths[axis] = (max(lo, 0), max(hi, 0))
        out = np.pad(out, widths, constant_values=fill)
        crop = [slice(None)] * out.ndim
        crop[axis] = slice(max(-lo, 0), out.shape[axis] - max(-hi, 0))
        out = out[tuple(crop)]
    return out


def reference_conv(lhs, rhs, strides, pads, lhs_dilation, rhs_dilation, groups):
    """(N, C, spatial...) and (O, I, spatial...) to (N, O, spatial...), loop by loop."""
    x = _spread(lhs, lhs_dilation, pads, 0.0)
    n, c = lhs.shape[:2]
    o = rhs.shape[0]
    kernel = rhs.shape[2:]
    spans = [(k - 1) * d + 1 for k, d in zip(kernel, rhs_dilation)]
    outs = [max(0, (m - span) // s + 1) for m, span, s in zip(x.shape[2:], spans, strides)]
    out = np.zeros((n, o) + tuple(outs))
    cg, og = c // groups, o // groups
    for pos in np.ndindex(*outs):
        for off in np.ndindex(*kernel):
            at = tuple(p * s + k * d for p, s, k, d in zip(pos, strides, off, rhs_dilation))
            seen = x[(slice(None), slice(None)) + at]                  # (N, C)
            for g in range(groups):
                w = rhs[(slice(g * og, (g + 1) * og), slice(None)) + off]  # (Og, Cg)
                out[(slice(None), slice(g * og, (g + 1) * og)) + pos] += \
                    seen[:, g * cg:(g + 1) * cg] @ w.T
    return out


def reference_reduce_window(x, init, op, window, strides, pads, base_dilation,
                            window_dilation):
    """Every window's reduction, starting from init; padding and holes hold init."""
    spread = _spread(x, base_dilation, pads, init)
    spans = [(k - 1) * d + 1 for k, d in zip(window, window_dilation)]
    outs = [max(0, (m - span) // s + 1) for m, span, s in zip(spread.shape, spans, strides)]
    out = np.zeros(outs)
    for pos in np.ndindex(*outs):
        acc = init
        for off in np.ndindex(*window):
            acc = op(acc, spread[tuple(p * s + k * d for p, s, k, d in
                                       zip(pos, strides, off, window_dilation))])
        out[pos] = acc
    return out


# ----- Convolution values ----------------------------------------------------------

def _canonical_letters(spec: str, rhs_spec: str, first: str, second: str) -> str:
    return first + second + "".join(ch for ch in rhs_spec if ch not in "OI")


class Conv:
    """One configuration: canonical shapes, parameters, and the layout to call it in."""

    def __init__(self, lhs, rhs, strides, padding, lhs_dilation=None, rhs_dilation=None,
                 groups=1, layout=None):
        self.lhs, self.rhs, self.strides, self.padding = lhs, rhs, strides, padding
        nsp = len(lhs) - 2
        self.ld = lhs_dilation or (1,) * nsp
        self.rd = rhs_dilation or (1,) * nsp
        self.groups = groups
        letters = "HWD"[:nsp] if nsp <= 3 else None
        self.layout = layout or ("NC" + letters, "OI" + letters, "NC" + letters)

    def canon(self, which: int) -> str:
        spec = self.layout[which]
        rhs_spec = self.layout[1]
        return _canonical_letters(spec, rhs_spec, *("NC" if which != 1 else "OI"))

    def arrays(self, rng=RNG):
        lhs, rhs = rng.normal(size=self.lhs), rng.normal(size=self.rhs)
        return (np.einsum(f"{self.canon(0)}->{self.layout[0]}", lhs).copy(),
                np.einsum(f"{self.canon(1)}->{self.layout[1]}", rhs).copy(), lhs, rhs)

    def pads(self):
        if not isinstance(self.padding, str):
            return list(self.padding)
        spans = [(k - 1) * d + 1 for k, d in zip(self.rhs[2:], self.rd)]
        if self.padding == "VALID":
            return [(0, 0)] * len(spans)
        return [_same_pads(n, k, s, self.padding == "SAME_LOWER")
                for n, k, s in zip(self.lhs[2:], spans, self.strides)]

    def expected(self, lhs, rhs):
        out = reference_conv(lhs, rhs, self.strides, self.pads(), self.ld, self.rd, self.groups)
        return np.einsum(f"{self.canon(2)}->{self.layout[2]}", out)

    def fn(self):
        return lambda x, w: lax.conv_general_dilated(
            x, w, self.strides, self.padding, lhs_dilation=self.ld, rhs_dilation=self.rd,
            dimension_numbers=self.layout, feature_group_count=self.groups)

    def __repr__(self):
        return (f"{self.layout[0]}{self.lhs}*{self.rhs}-s{self.strides}-{self.padding}"
                f"-ld{self.ld}-rd{self.rd}-g{self.groups}").replace(" ", "")


CONVS = [
    Conv((2, 3, 7), (4, 3, 3), (1,), "VALID"),
    Conv((2, 2, 8), (3, 2, 3), (2,), "SAME"),
    Conv((1, 2, 7), (2, 2, 2), (3,), "SAME_LOWER", rhs_dilation=(2,)),
    Conv((1, 1, 4), (1, 1, 3), (1,), [(2, 1)], lhs_dilation=(3,)),
    Conv((2, 2, 9), (2, 2, 3), (1,), [(-1, -2)]),
    Conv((2, 3, 6, 5), (4, 3, 3, 2), (1, 1), "VALID"),
    Conv((1, 2, 7, 8), (3, 2, 3, 3), (2, 3), [(1, 2), (0, 1)]),
    Conv((2, 3, 7, 6), (4, 3, 3, 3), (2, 2), "SAME", layout=("NHWC", "HWIO", "NHWC")),
    Conv((1, 2, 6, 6), (2, 2, 3, 2), (1, 1), "SAME", rhs_dilation=(2, 2)),
    Conv((2, 4, 5, 5), (6, 2, 3, 3), (1, 1), "VALID", groups=2),
    Conv((1, 3, 6, 6), (6, 1, 3, 3), (1, 1), "SAME", groups=3,
         layout=("NHWC", "HWIO", "NHWC")),                      # depthwise, multiplier 2
    Conv((1, 2, 3, 4), (2, 2, 2, 2), (1, 2), [(1, -1), (2, 0)], lhs_dilation=(2, 1),
         rhs_dilation=(1, 2)),
    Conv((1, 2, 4, 5), (3, 2, 2, 3), (2, 1), [(0, 1), (1, 1)], layout=("HWCN", "WIOH", "CNHW")),
    Conv((1, 1, 8, 7), (1, 1, 3, 2), (3, 2), "VALID"),          # strides that do not divide
    Conv((1, 1, 2, 2), (2, 1, 3, 3), (1, 1), [(2, 2), (1, 1)]),  # kernel larger than input
    Conv((1, 2, 4, 4, 3), (2, 2, 2, 2, 2), (1, 2, 1), "SAME"),
    Conv((1, 4, 3, 4, 4), (2, 2, 2, 1, 2), (1, 1, 2), [(0, 1), (1, 0), (1, 1)],
         rhs_dilation=(1, 1, 2), groups=2, layout=("NDHWC", "DHWIO", "NDHWC")),
    Conv((1, 1, 2), (1, 1, 3), (1,), "VALID"),                  # no window fits: empty
    Conv((3, 2), (4, 2), (), ()),                               # no spatial dims: a matmul
]


@pytest.mark.parametrize("cfg", CONVS, ids=repr)
def test_conv_matches_the_loop_reference(cfg):
    x, w, lhs, rhs = cfg.arrays()
    got = cfg.fn()(x, w)
    want = cfg.expected(lhs, rhs)
    assert isinstance(got, np.ndarray) and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    staged = nj.jit(cfg.fn())(x, w)
    np.testing.assert_array_equal(staged, got)


def test_the_default_layout_and_the_wrappers():
    x, w = RNG.normal(size=(2, 3, 6, 5)), RNG.normal(size=(4, 3, 3, 2))
    want = reference_conv(x, w, (2, 1), [_same_pads(6, 3, 2), _same_pads(5, 2, 1)],
                          (1, 1), (1, 1), 1)
    np.testing.assert_allclose(lax.conv(x, w, (2, 1), "SAME"), want, atol=1e-12)
    np.testing.assert_allclose(lax.conv_general_dilated(x, w, (2, 1), "SAME"), want, atol=1e-12)
    want = reference_conv(x, w, (1, 1), [(1, 0), (0, 2)], (2, 1), (1, 2), 1)
    got = lax.conv_with_general_padding(x, w, (1, 1), [(1, 0), (0, 2)], (2, 1), (1, 2))
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_lowercase_padding_and_dimension_number_objects_are_accepted():
    x, w = RNG.normal(size=(1, 5, 5, 2)), RNG.normal(size=(3, 3, 2, 4))
    dn = lax.conv_dimension_numbers(x.shape, w.shape, ("NHWC", "HWIO", "NHWC"))
    assert dn == lax.ConvDimensionNumbers((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))
    by_strings = lax.conv_general_dilated(x, w, (1, 1), "SAME",
                                          dimension_numbers=("NHWC", "HWIO", "NHWC"))
    np.testing.assert_array_equal(
        lax.conv_general_dilated(x, w, (1, 1), "same", dimension_numbers=dn), by_strings)


def test_padtype_to_pads_splits_the_odd_element_as_jax_documents():
    assert lax.padtype_to_pads((5, 6), (3, 2), (2, 1), "SAME") == [(1, 1), (0, 1)]
    assert lax.padtype_to_pads((6,), (4,), (1,), "SAME") == [(1, 2)]
    assert lax.padtype_to_pads((6,), (4,), (1,), "SAME_LOWER") == [(2, 1)]
    assert lax.padtype_to_pads((6, 3), (4, 9), (3, 1), "VALID") == [(0, 0), (0, 0)]
    assert lax.padtype_to_pads((7,), (2,), (3,), "SAME") == [(0, 1)]


def test_integer_and_float32_operands_keep_numpys_dtype():
    x, w = np.arange(12).reshape(1, 1, 12), np.array([[[1, 2, 3]]])
    got = lax.conv_general_dilated(x, w, (1,), "VALID")
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got[0, 0], np.correlate(np.arange(12), [1, 2, 3]))
    x32, w32 = x.astype(np.float32), w.astype(np.float32)
    assert lax.conv_general_dilated(x32, w32, (1,), "VALID").dtype == np.float32
    out = lax.conv_general_dilated(x32, w32, (1,), "VALID", preferred_element_type=np.float64)
    assert out.dtype == np.float64


def test_the_result_owns_its_memory_and_the_operands_are_untouched():
    x, w = RNG.normal(size=(1, 1, 4, 4)), RNG.normal(size=(1, 1, 1, 1))
    x0, w0 = x.copy(), w.copy()
    out = lax.conv(x, w, (1, 1), "VALID")
    out[...] = 0.0
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)
    assert out.flags.writeable and out.flags.c_contiguous


# ----- Convolution derivatives, vmap, jit ------------------------------------------

GRAD_CONVS = [c for c in CONVS if 0 not in c.expected(*c.arrays()[2:]).shape]


@pytest.mark.parametrize("cfg", GRAD_CONVS[::2], ids=repr)
def test_conv_gradients_match_central_differences_to_second_order(cfg):
    x, w, _, _ = cfg.arrays()
    nj.check_grads(cfg.fn(), (x, w), order=2, modes=("fwd", "rev"))


def test_an_empty_output_has_zero_gradients():
    cfg = CONVS[-2]
    x, w, _, _ = cfg.arrays()
    gx, gw = nj.grad(lambda x, w: jnp.sum(cfg.fn()(x, w)), argnums=(0, 1))(x, w)
    assert gx.shape == x.shape and gw.shape == w.shape and not gx.any() and not gw.any()


def _loop(fn, in_axes, args):
    size = next(a.shape[ax] for a, ax in zip(args, in_axes) if ax is not None)
    return np.stack([fn(*[a if ax is None else np.take(a, b, axis=ax)
                          for a, ax in zip(args, in_axes)]) for b in range(size)])


VMAP_CONVS = [CONVS[6], CONVS[10], CONVS[12], CONVS[16]]


@pytest.mark.parametrize("cfg", VMAP_CONVS, ids=repr)
@pytest.mark.parametrize("in_axes", [(0, 0), (0, None), (None, 0), (2, 1)])
def test_vmap_of_conv_matches_a_loop(cfg, in_axes):
    examples = [cfg.arrays() for _ in range(3)]
    args = [examples[0][i] if ax is None else np.stack([e[i] for e in examples], axis=ax)
            for i, ax in enumerate(in_axes)]
    got = nj.vmap(cfg.fn(), in_axes=in_axes)(*args)
    np.testing.assert_allclose(got, _loop(cfg.fn(), in_axes, args), rtol=1e-12, atol=1e-12)


def test_per_example_gradients_of_a_conv_net_match_a_loop():
    cfg = CONVS[10]
    x, w, _, _ = cfg.arrays()
    xs = RNG.normal(size=(4,) + x.shape)

    def loss(w, x):
        return jnp.sum(jnp.tanh(cfg.fn()(x, w)) ** 2)
    got = nj.jit(nj.vmap(nj.grad(loss), in_axes=(None, 0)))(w, xs)
    want = np.stack([nj.grad(loss)(w, e) for e in xs])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_jit_of_grad_is_bit_identical_to_eager_grad():
    cfg = CONVS[11]
    x, w, _, _ = cfg.arrays()

    def loss(x, w):
        return jnp.sum(cfg.fn()(x, w) ** 2)
    eager = nj.grad(loss, argnums=(0, 1))(x, w)
    staged = nj.jit(nj.grad(loss, argnums=(0, 1)))(x, w)
    for a, b in zip(eager, staged):
        np.testing.assert_array_equal(a, b)


def test_the_gradient_is_the_transposed_convolution_jax_describes():
    # The pull on the input of a strided SAME conv is conv_transpose of the
    # cotangent with the kernel flipped and its I/O axes swapped.
    x, w = RNG.normal(size=(2, 6, 6, 3)), RNG.normal(size=(3, 3, 3, 4))
    layout = ("NHWC", "HWIO", "NHWC")
    out, pull = nj.vjp(lambda x: lax.conv_general_dilated(
        x, w, (2, 2), "SAME", dimension_numbers=layout), x)
    ct = RNG.normal(size=out.shape)
    want = pull(ct)[0]
    got = lax.conv_transpose(ct, w, (2, 2), "SAME", dimension_numbers=layout,
                             transpose_kernel=True)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding, size", [("SAME", 6), ("VALID", 7)])
def test_conv_transpose_undoes_the_forward_shape(padding, size):
    x, w = RNG.normal(size=(1, 3, 3, 2)), RNG.normal(size=(3, 3, 2, 5))
    assert lax.conv_transpose(x, w, (2, 2), padding).shape == (1, size, size, 5)
    nj.check_grads(lambda x, w: lax.conv_transpose(x, w, (2, 2), padding), (x, w), order=1,
                   modes=("rev",))


# ----- Windowed reductions ----------------------------------------------------------

WINDOWS = [
    ((4, 6), (2, 2), (2, 2), "VALID", None, None),
    ((5, 7), (3, 2), (2, 3), "SAME", None, None),
    ((5, 4), (2, 3), (1, 1), "SAME_LOWER", None, (2, 1)),
    ((3, 4), (2, 2), (1, 2), [(1, 0), (2, -1)], (2, 1), (1, 2)),
    ((7,), (3,), (2,), [(-1, 2)], None, None),
    ((2, 3, 4), (1, 2, 2), (1, 1, 2), "SAME", None, None),
    ((2, 2), (3, 3), (1, 1), "VALID", None, None),              # no window fits
]
COMPUTATIONS = [("add", 0.0, lax.add, np.add), ("max", -np.inf, lax.max, np.maximum),
                ("min", np.inf, lax.min, np.minimum)]


def _window_pads(shape, window, strides, padding, wd):
    if not isinstance(padding, str):
        return list(padding)
    wd = wd or (1,) * len(shape)
    spans = [(k - 1) * d + 1 for k, d in zip(window, wd)]
    if padding == "VALID":
        return [(0, 0)] * len(shape)
    return [_same_pads(n, k, s, padding == "SAME_LOWER")
            for n, k, s in zip(shape, spans, strides)]


@pytest.mark.parametrize("name, init, op, ufunc", COMPUTATIONS, ids=[c[0] for c in COMPUTATIONS])
@pytest.mark.parametrize("shape, window, strides, padding, bd, wd", WINDOWS)
def test_reduce_window_matches_the_loop_reference(name, init, op, ufunc, shape, window,
                                                  strides, padding, bd, wd):
    x = RNG.normal(size=shape)
    ones = (1,) * len(shape)
    want = reference_reduce_window(x, init, ufunc, window, strides,
                                   _window_pads(shape, window, strides, padding, wd),
                                   bd or ones, wd or ones)

    def f(x):
        return lax.reduce_window(x, init, op, window, strides, padding, bd, wd)
    got = f(x)
    assert got.shape == want.shape and got.dtype == x.dtype
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_array_equal(nj.jit(f)(x), got)


@pytest.mark.parametrize("op, init", [(lax.add, 1.5), (lax.max, 0.25), (lax.min, -0.25),
                                      (np.add, -2.0), (jnp.maximum, 0.0)])
def test_reduce_window_with_another_init_value_starts_from_it_and_pads_with_it(op, init):
    x = RNG.normal(size=(4, 5))
    args = ((2, 3), (2, 1), [(1, 1), (0, 2)], (1, 2), (2, 1))
    ufunc = {lax.add: np.add, np.add: np.add, lax.max: np.maximum, jnp.maximum: np.maximum,
             lax.min: np.minimum}[op]
    want = reference_reduce_window(x, init, ufunc, *args)
    np.testing.assert_allclose(lax.reduce_window(x, init, op, *args), want, rtol=1e-12)


def test_reduce_window_gradients_reach_the_operand_and_the_init_value():
    x = RNG.permutation(20).reshape(4, 5) * 0.25
    args = ((2, 3), (1, 2), [(1, 0), (1, 1)], (2, 1), (1, 1))
    for op in (lax.add, lax.max, lax.min):
        nj.check_grads(lambda x, init, op=op: lax.reduce_window(x, init, op, *args),
                       (x, 0.6), order=2, modes=("fwd", "rev"))


def test_the_pull_of_a_max_goes_to_the_first_maximum_of_the_window():
    # Ties: the whole pull of a window goes to its first maximum (XLA's
    # select-and-scatter with ge), unlike reduce_max, which shares it.
    x = np.array([[1.0, 1.0, 1.0], [1.0, 1.0, 0.0]])
    g = nj.grad(lambda x: jnp.sum(lax.reduce_window(x, -np.inf, lax.max, (2, 2), (1, 1),
                                                    "VALID")))(x)
    np.testing.assert_array_equal(g, [[1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    t = nj.jvp(lambda x: lax.reduce_window(x, -np.inf, lax.max, (2, 2), (1, 1), "VALID"),
               (x,), (np.arange(6.0).reshape(2, 3),))[1]
    np.testing.assert_array_equal(t, [[0.0, 1.0]])


def test_vmap_of_reduce_window_and_of_its_gradient_matches_a_loop():
    xs = RNG.normal(size=(3, 4, 5))
    for op, init in ((lax.add, 0.0), (lax.max, -np.inf), (lax.min, np.inf)):
        def f(x, op=op, init=init):
            return jnp.sum(lax.reduce_window(x, init, op, (2, 2), (1, 2), "SAME") ** 2)
        for axis in (0, 2):
            moved = np.moveaxis(xs, 0, axis)
            got = nj.vmap(nj.grad(f), in_axes=axis)(moved)
            np.testing.assert_allclose(got, _loop(nj.grad(f), (axis,), [moved]), atol=1e-12)
            np.testing.assert_allclose(nj.vmap(f, in_axes=axis)(moved),
                                       _loop(f, (axis,), [moved]), atol=1e-12)


def test_integer_operands_pool_in_their_dtype():
    x = np.arange(12).reshape(3, 4)
    got = lax.reduce_window(x, -np.inf, lax.max, (2, 2), (1, 1), "VALID")
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, [[5, 6, 7], [9, 10, 11]])
    np.testing.assert_array_equal(lax.reduce_window(x, 0, lax.add, (3, 1), (1, 1), "VALID"),
                                  [x.sum(0)])


# ----- Pooling, as stax writes it --------------------------------------------------------

def test_max_pool_and_avg_pool_are_reduce_window():
    x = RNG.normal(size=(2, 6, 4, 3))                      # NHWC
    window, strides = (1, 2, 2, 1), (1, 2, 2, 1)
    max_pool = lax.reduce_window(x, -np.inf, lax.max, window, strides, "VALID")
    avg_pool = lax.reduce_window(x, 0.0, lax.add, window, strides, "VALID") / 4
    blocks = x.reshape(2, 3, 2, 2, 2, 3)
    np.testing.assert_array_equal(max_pool, blocks.max(axis=(2, 4)))
    np.testing.assert_allclose(avg_pool, blocks.mean(axis=(2, 4)), rtol=1e-14)
    nj.check_grads(lambda x: lax.reduce_window(x, 0.0, lax.add, window, strides, "VALID") / 4,
                   (x,), order=1, modes=("rev",))
    pulled = nj.grad(lambda x: jnp.sum(lax.reduce_window(x, -np.inf, lax.max, window,
                                                         strides, "VALID")))(x)
    assert pulled.sum() == max_pool.size and set(np.unique(pulled)) == {0.0, 1.0}
    np.testing.assert_array_equal(np.sort(x[pulled == 1.0]), np.sort(max_pool.ravel()))


# ----- Errors --------------------------------------------------------------------------

X4, W4 = np.ones((1, 3, 5, 5)), np.ones((2, 3, 3, 3))
conv = lax.conv_general_dilated
ERRORS = [
    (lambda: conv(X4, W4, (1, 1), "VALID", dimension_numbers=("NCH", "OIH", "NCH")),
     ValueError, r"conv_general_dilated: lhs has 4 dimensions .* describe 3"),
    (lambda: conv(X4, W4, (1, 1), "VALID", dimension_numbers=("NXHW", "OIHW", "NCHW")),
     ValueError, r"conv_general_dilated: the spec 'NXHW' .* must name 'N' and 'C'"),
    (lambda: conv(X4, W4, (1, 1), "VALID", dimension_numbers=("NCHW", "OIHW", "NCWD")),
     ValueError, r"spatial dimensions .* the same letters"),
    (lambda: conv(X4, W4, (1, 1), "VALID", dimension_numbers="NCHW"),
     TypeError, r"dimension_numbers must be None, a ConvDimensionNumbers or three strings"),
    (lambda: conv(X4, W4, (1, 1), "VALID",
                  dimension_numbers=lax.ConvDimensionNumbers((0, 1, 2, 2), (0, 1, 2, 3),
                                                             (0, 1, 2, 3))),
     ValueError, r"must be a permutation of the 4 axes"),
    (lambda: conv(X4, np.ones((2, 2, 3, 3)), (1, 1), "VALID"),
     ValueError, (r"lhs feature dimension \(3\) divided by feature_group_count \(1\) must "
                 r"equal the rhs input feature dimension \(2\)")),
    (lambda: conv(np.ones((1, 4, 5, 5)), W4, (1, 1), "VALID", feature_group_count=3),
     ValueError, r"feature_group_count 3 does not divide the lhs feature dimension of size 4"),
    (lambda: conv(np.ones((1, 4, 5, 5)), np.ones((3, 2, 3, 3)), (1, 1), "VALID",
                  feature_group_count=2),
     ValueError, (r"rhs output feature dimension \(3\) must be a multiple of "
                 r"feature_group_count \(2\)")),
    (lambda: conv(X4, W4, (1, 1), "VALID", feature_group_count=0),
     ValueError, r"feature_group_count must be a positive integer"),
    (lambda: conv(np.ones((2, 3, 5, 5)), W4, (1, 1), "VALID", batch_group_count=2),
     NotImplementedError, r"batch_group_count > 1 is not supported"),
    (lambda: conv(X4, np.ones((2, 3, 3)), (1, 1), "VALID"),
     ValueError, r"same number of dimensions, got shapes \(1, 3, 5, 5\) and \(2, 3, 3\)"),
    (lambda: conv(X4, W4, (1,), "VALID"), ValueError, r"window_strides has 1 entries"),
    (lambda: conv(X4, W4, (1, 0), "VALID"), ValueError, r"window_strides must be positive"),
    (lambda: conv(X4, W4, (1, 1), "FULL"), ValueError, r"padding must be 'SAME', "),
    (lambda: conv(X4, W4, (1, 1), [(1, 1)]), ValueError, r"padding has 1 \(low, high\) pairs"),
    (lambda: conv(X4, W4, (1, 1), [(1, 1, 1), (0, 0)]), TypeError, r"\(low, high\) int pairs"),
    (lambda: conv(X4, W4, (1, 1), "SAME", lhs_dilation=(2, 1)),
     ValueError, r"string padding 'SAME' is not defined with lhs_dilation"),
    (lambda: conv(X4, W4, (1, 1), [(-3, -3), (0, 0)]), ValueError, r"crops more than"),
    (lambda: conv(X4.tolist(), W4, (1, 1), "VALID"), TypeError, r"lhs must be an array"),
    (lambda: conv(X4 > 0, W4, (1, 1), "VALID"), TypeError, r"lhs is boolean"),
    (lambda: conv(X4 + 0j, W4, (1, 1), "VALID"), TypeError, r"complex lhs"),
    (lambda: conv(X4, np.ones((2, 3, 0, 3)), (1, 1), "VALID"), ValueError,
     r"the kernel has an empty spatial dimension"),
    (lambda: lax.conv(X4, W4, (1, 1, 1), "VALID"), ValueError, r"^nanojax\.lax\.conv: "),
    (lambda: lax.reduce_window(X4, 1.0, lax.mul, (1, 1, 2, 2), (1, 1, 1, 1), "VALID"),
     TypeError, r"reduce_window: computation must be lax.add, lax.max or lax.min"),
    (lambda: lax.reduce_window(X4, 0.0, lax.add, (2, 2), (1, 1), "VALID"),
     ValueError, r"reduce_window: window_dimensions has 2 entries"),
    (lambda: lax.reduce_window(X4 > 0, 0, lax.add, (1, 1, 2, 2), (1, 1, 1, 1), "VALID"),
     TypeError, r"cannot add up a boolean operand"),
    (lambda: lax.reduce_window(X4, np.zeros(2), lax.add, (1, 1, 2, 2), (1, 1, 1, 1), "VALID"),
     TypeError, r"init_value must be a scalar"),
    (lambda: lax.reduce_window((X4, X4), 0.0, lax.add, (1, 1, 2, 2), (1, 1, 1, 1), "VALID"),
     TypeError, r"takes one array operand"),
    (lambda: lax.reduce_window(np.arange(4), 0.5, lax.add, (2,), (1,), "VALID"),
     ValueError, r"init_value 0.5 is not a value of the operand's dtype int64"),
    (lambda: lax.reduce_window(X4, 0.0, lax.add, (1, 1, 0, 2), (1, 1, 1, 1), "VALID"),
     ValueError, r"window_dimensions must be positive"),
]


@pytest.mark.parametrize("call, kind, message", ERRORS, ids=[e[2][:40] for e in ERRORS])
def test_bad_arguments_get_a_sentence_naming_the_function(call, kind, message):
    with pytest.raises(kind, match=message) as info:
        call()
    assert str(info.value).startswith("nanojax.lax.")


def test_the_same_errors_come_under_jit():
    bad = nj.jit(lambda x: conv(x, np.ones((2, 2, 3, 3)), (1, 1), "VALID"))
    with pytest.raises(ValueError, match=r"^nanojax\.lax\.conv_general_dilated: the lhs "):
        bad(X4)
    pool = nj.jit(lambda x, init: lax.reduce_window(x, init, lax.add, (2,), (1,), "VALID"))
    with pytest.raises(TypeError, match=r"init_value must be a scalar of the operand's dtype"):
        pool(np.ones(4), np.float32(0.0))


# ----- A small CNN learns ---------------------------------------------------------------

def _example(name: str):
    path = ROOT / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_a_small_cnn_learns_the_bars_under_jit_grad():
    cnn = _example("cnn")
    result = cnn.train(steps=40, n_per_class=40)
    assert result["last_loss"] < 0.3 * result["first_loss"]
    assert result["train_accuracy"] >= 0.9, result
    assert result["test_accuracy"] >= 0.9, result


def test_the_cnn_jaxpr_holds_the_convolutions_and_pools():
    cnn = _example("cnn")
    x, y = cnn.bars(np.random.default_rng(1), 2)
    params = cnn.init_params(nj.random.key(0))
    names = [e.primitive.name for e in nj.make_jaxpr(nj.grad(cnn.loss))(params, x, y).eqns]
    assert names.count("conv_general_dilated") == 5      # 2 forward, 3 in the backward pass
    assert {"reduce_window_max", "reduce_window_sum", "reduce_window_index"} <= set(names)
