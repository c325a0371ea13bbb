"""``lax.dynamic_slice`` and its family, and lax's small everyday names.

Each is checked against a NumPy reference of JAX's documented semantics
(negative starts count from the end, starts are clamped so the window fits),
eagerly and under ``jit`` with traced starts; gradients against central
differences, first and second order; ``vmap`` over starts against a loop.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import lax

RNG = np.random.default_rng(11)


def _begin(start: int, dim: int, size: int, allow_negative: bool = True) -> int:
    if allow_negative and start < 0:
        start += dim
    return min(max(start, 0), dim - size)


def _reference_slice(x, starts, sizes, allow_negative=True):
    begins = [_begin(s, d, n, allow_negative) for s, d, n in zip(starts, x.shape, sizes)]
    return x[tuple(slice(b, b + n) for b, n in zip(begins, sizes))]


def _reference_update(x, u, starts):
    out = x.copy()
    begins = [_begin(s, d, n) for s, d, n in zip(starts, x.shape, u.shape)]
    out[tuple(slice(b, b + n) for b, n in zip(begins, u.shape))] = u
    return out


STARTS = [(0, 0), (1, 2), (-1, -2), (5, 9), (-9, 1), (2, -4)]


@pytest.mark.parametrize("starts", STARTS)
@pytest.mark.parametrize("sizes", [(2, 3), (3, 5), (0, 2), (1, 1)])
def test_dynamic_slice_matches_the_clamping_reference_eagerly_and_traced(starts, sizes):
    x = np.arange(15.0).reshape(3, 5)
    want = _reference_slice(x, starts, sizes)
    np.testing.assert_array_equal(lax.dynamic_slice(x, starts, sizes), want)
    traced = nj.jit(lambda x, i, j: lax.dynamic_slice(x, (i, j), sizes))
    np.testing.assert_array_equal(traced(x, *starts), want)
    as_array = nj.jit(lambda x, s: lax.dynamic_slice(x, s, sizes))
    np.testing.assert_array_equal(as_array(x, np.array(starts)), want)


def test_dynamic_slice_without_negative_indices_clamps_them_to_zero():
    x = np.arange(10.0)
    got = lax.dynamic_slice(x, (-3,), (4,), allow_negative_indices=False)
    np.testing.assert_array_equal(got, x[:4])
    traced = nj.jit(lambda i: lax.dynamic_slice(x, (i,), (4,), allow_negative_indices=False))
    np.testing.assert_array_equal(traced(-3), x[:4])


def test_a_concrete_dynamic_slice_is_a_copy():
    x = np.arange(6.0)
    out = lax.dynamic_slice(x, (1,), (3,))
    out[0] = 100.0
    assert x[1] == 1.0


@pytest.mark.parametrize("starts", STARTS)
def test_dynamic_update_slice_matches_the_clamping_reference(starts):
    x = RNG.normal(size=(3, 5))
    u = RNG.normal(size=(2, 3))
    want = _reference_update(x, u, starts)
    before = x.copy()
    np.testing.assert_array_equal(lax.dynamic_update_slice(x, u, starts), want)
    traced = nj.jit(lambda x, u, i, j: lax.dynamic_update_slice(x, u, (i, j)))
    np.testing.assert_array_equal(traced(x, u, *starts), want)
    np.testing.assert_array_equal(x, before)             # the operand is never written


def test_the_in_dim_forms_are_dynamic_slice_along_one_axis():
    x = RNG.normal(size=(4, 6))
    for i, axis in itertools.product((-7, -1, 0, 2, 5), (0, 1, -1)):
        ax = axis % 2
        starts = [0, 0]
        starts[ax] = i
        sizes = list(x.shape)
        sizes[ax] = 2
        want = _reference_slice(x, starts, sizes)
        np.testing.assert_array_equal(lax.dynamic_slice_in_dim(x, i, 2, axis), want)
        one = _reference_slice(x, starts, [1 if k == ax else n for k, n in enumerate(x.shape)])
        np.testing.assert_array_equal(lax.dynamic_index_in_dim(x, i, axis), one)
        np.testing.assert_array_equal(lax.dynamic_index_in_dim(x, i, axis, keepdims=False),
                                      np.squeeze(one, ax))
        u = RNG.normal(size=one.shape)
        np.testing.assert_array_equal(lax.dynamic_update_slice_in_dim(x, u, i, axis),
                                      _reference_update(x, u, starts))
        np.testing.assert_array_equal(lax.dynamic_update_index_in_dim(x, np.squeeze(u, ax), i,
                                                                      axis),
                                      _reference_update(x, u, starts))


@pytest.mark.parametrize("start", [0, 2, -1, 7])
def test_dynamic_slice_gradients_match_central_differences(start):
    x = RNG.normal(size=(5, 4))
    nj.check_grads(lambda x: jnp.tanh(lax.dynamic_slice(x, (start, 1), (3, 2))) ** 2, (x,),
                   order=2)
    i = np.int64(start)
    nj.check_grads(lambda x: lax.dynamic_slice_in_dim(x, i, 3) * x[:3], (x,), order=2,
                   modes=("rev",))
    # A traced start: the slice is a gather on index arrays.
    g = nj.grad(lambda x, i: jnp.sum(lax.dynamic_slice(x, (i, 1), (3, 2)) ** 2))(x, start)
    want = np.zeros_like(x)
    b = _begin(start, 5, 3)
    want[b:b + 3, 1:3] = 2 * x[b:b + 3, 1:3]
    np.testing.assert_allclose(g, want)


@pytest.mark.parametrize("start", [0, 3, -2])
def test_dynamic_update_slice_gradients_match_central_differences(start):
    x, u = RNG.normal(size=(6, 3)), RNG.normal(size=(2, 3))
    nj.check_grads(lambda x, u: jnp.sin(lax.dynamic_update_slice(x, u, (start, 0))), (x, u),
                   order=2)
    traced = nj.grad(lambda x, u, i: jnp.sum(lax.dynamic_update_slice(x, u, (i, 0)) ** 2),
                     argnums=(0, 1))
    gx, gu = traced(x, u, start)
    b = _begin(start, 6, 2)
    want_x = 2 * x
    want_x[b:b + 2] = 0.0
    np.testing.assert_allclose(gx, want_x)
    np.testing.assert_allclose(gu, 2 * u)


def test_vmap_over_start_indices_matches_a_loop():
    x = RNG.normal(size=(8, 5))
    starts = np.array([0, 3, -1, 9, -20])
    got = nj.vmap(lambda i: lax.dynamic_slice_in_dim(x, i, 3))(starts)
    np.testing.assert_array_equal(got, np.stack([lax.dynamic_slice_in_dim(x, int(i), 3)
                                                 for i in starts]))
    u = RNG.normal(size=(5, 2, 5))
    got = nj.vmap(lambda u, i: lax.dynamic_update_slice_in_dim(x, u, i, 0))(u, starts)
    np.testing.assert_array_equal(got, np.stack([
        lax.dynamic_update_slice_in_dim(x, u[k], int(i), 0) for k, i in enumerate(starts)]))


def test_a_jitted_loop_reads_a_window_per_step():
    # The pattern of a sequence model: a window at a traced offset, one per step.
    series = np.arange(20.0)
    window = nj.jit(lambda t: jnp.sum(lax.dynamic_slice_in_dim(series, t, 4)))
    assert [float(window(t)) for t in range(0, 20, 5)] == [6.0, 26.0, 46.0, 66.0]


@pytest.mark.parametrize("call,message", [
    (lambda: lax.dynamic_slice(np.ones((3, 4)), (1,), (2, 2)), "1 start indices"),
    (lambda: lax.dynamic_slice(np.ones((3, 4)), (1, 1), (4, 2)), "do not fit"),
    (lambda: lax.dynamic_slice(np.ones((3, 4)), (1.0, 1), (2, 2)), "integer scalar"),
    (lambda: lax.dynamic_slice(np.ones((3, 4)), 1, (2, 2)), "sequence"),
    (lambda: lax.dynamic_update_slice(np.ones(4), np.ones(2, np.float32), (1,)), "dtypes"),
    (lambda: lax.dynamic_update_slice(np.ones(4), np.ones((1, 2)), (1,)), "rank"),
    (lambda: lax.dynamic_slice_in_dim(np.ones(4), 1, 2, axis=3), "axis"),
])
def test_bad_arguments_get_a_sentence_naming_the_function(call, message):
    with pytest.raises(TypeError, match=f"nanojax.lax.dynamic_.*{message}"):
        call()


# ----- rsqrt, clamp, select, iota, Precision --------------------------------------

def test_rsqrt_clamp_and_select_compute_what_jax_documents():
    x = np.array([0.25, 1.0, 4.0])
    np.testing.assert_array_equal(lax.rsqrt(x), 1.0 / np.sqrt(x))
    assert lax.rsqrt(np.float32(4.0)).dtype == np.float32
    np.testing.assert_array_equal(lax.clamp(-1.0, np.array([-3.0, 0.5, 2.0]), 1.0),
                                  [-1.0, 0.5, 1.0])
    pred = np.array([True, False, True])
    np.testing.assert_array_equal(lax.select(pred, x, -x), np.where(pred, x, -x))
    with pytest.raises(TypeError, match=r"nanojax\.lax\.select: pred must be boolean"):
        lax.select(np.array([1, 0, 1]), x, -x)


def test_rsqrt_clamp_and_select_differentiate():
    x = RNG.uniform(0.5, 2.0, size=(3, 2))
    nj.check_grads(lax.rsqrt, (x,), order=2)
    nj.check_grads(lambda x: lax.clamp(0.7, x, 1.6), (x,), order=2)
    pred = x > 1.0
    nj.check_grads(lambda x: lax.select(pred, jnp.sin(x), x * x), (x,), order=2)
    np.testing.assert_array_equal(nj.jit(lambda x: lax.clamp(0.7, x, 1.6))(x),
                                  lax.clamp(0.7, x, 1.6))


def test_iota_and_broadcasted_iota():
    np.testing.assert_array_equal(lax.iota(np.int32, 4), np.arange(4, dtype=np.int32))
    assert lax.iota(np.float64, 3).dtype == np.float64
    got = lax.broadcasted_iota(np.int64, (2, 3), 1)
    np.testing.assert_array_equal(got, [[0, 1, 2], [0, 1, 2]])
    np.testing.assert_array_equal(lax.broadcasted_iota(np.int64, (2, 3), 0), [[0] * 3, [1] * 3])
    got[0, 0] = 9                                    # its own memory, writeable
    with pytest.raises(ValueError, match=r"nanojax\.lax\.broadcasted_iota"):
        lax.broadcasted_iota(np.int64, (2, 3), 2)


def test_precision_is_accepted_by_the_contractions():
    a, b = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4))
    for p in lax.Precision:
        np.testing.assert_array_equal(lax.dot(a, b, precision=p), a @ b)


def test_a_zero_d_operand_has_no_axis_to_slice_along():
    with pytest.raises(TypeError, match=r"nanojax\.lax\.dynamic_slice_in_dim: axis 0"):
        lax.dynamic_slice_in_dim(np.float64(1.0), 0, 1)
    assert lax.dynamic_slice(np.array(2.0), (), ()) == 2.0


# ----- pad -------------------------------------------------------------------------

def _reference_pad(x, value, config):
    for axis, (low, high, interior) in enumerate(config):
        n = x.shape[axis]
        if interior and n > 1:
            shape = list(x.shape)
            shape[axis] = n + (n - 1) * interior
            spread = np.full(shape, value, x.dtype)
            index = [slice(None)] * x.ndim
            index[axis] = slice(None, None, interior + 1)
            spread[tuple(index)] = x
            x = spread
        widths = [(0, 0)] * x.ndim
        widths[axis] = (max(low, 0), max(high, 0))
        x = np.pad(x, widths, constant_values=value)
        index = [slice(None)] * x.ndim
        index[axis] = slice(max(-low, 0), x.shape[axis] - max(-high, 0))
        x = x[tuple(index)]
    return x


PAD_CONFIGS = [[(1, 2, 0), (0, 0, 0)], [(0, 0, 1), (2, 1, 2)], [(-1, 1, 0), (1, -2, 1)],
               [(2, -3, 1), (0, 0, 0)], [(0, 0, 0), (-3, 0, 0)]]


@pytest.mark.parametrize("config", PAD_CONFIGS)
def test_pad_matches_the_reference_eagerly_and_under_jit(config):
    x = RNG.normal(size=(3, 4))
    want = _reference_pad(x, -2.5, config)
    np.testing.assert_array_equal(lax.pad(x, -2.5, config), want)
    np.testing.assert_array_equal(nj.jit(lambda x, v: lax.pad(x, v, config))(x, -2.5), want)
    ints = np.arange(12).reshape(3, 4)
    np.testing.assert_array_equal(lax.pad(ints, 7, config), _reference_pad(ints, 7, config))


@pytest.mark.parametrize("config", PAD_CONFIGS)
def test_pad_gradients_reach_the_operand_and_the_padding_value(config):
    x = RNG.normal(size=(3, 4))
    nj.check_grads(lambda x, v: jnp.sin(lax.pad(x, v, config)), (x, 0.3), order=2)


def test_pad_refuses_a_bad_config():
    x = np.ones((2, 3))
    with pytest.raises(TypeError, match=r"nanojax\.lax\.pad: padding_config"):
        lax.pad(x, 0.0, [(1, 1, 0)])
    with pytest.raises(ValueError, match=r"nanojax\.lax\.pad: interior"):
        lax.pad(x, 0.0, [(0, 0, -1), (0, 0, 0)])
    with pytest.raises(ValueError, match=r"nanojax\.lax\.pad: padding \(-3, 0\) crops"):
        lax.pad(x, 0.0, [(-3, 0, 0), (0, 0, 0)])
    with pytest.raises(TypeError, match=r"nanojax\.lax\.pad: padding_value must be a scalar"):
        lax.pad(x, np.ones(2), [(0, 0, 0), (0, 0, 0)])


def test_an_array_made_under_jit_is_a_constant_that_traced_indices_can_gather_from():
    # As in JAX: jnp.asarray inside a traced function gives a value of the circuit.
    table = np.arange(10.0) ** 2
    lookup = nj.jit(lambda i: jnp.asarray(table)[i] + jnp.take(table, i))
    assert lookup(3) == 18.0
    np.testing.assert_array_equal(nj.jit(nj.vmap(lambda i: jnp.array(table)[i]))(
        np.array([1, 4])), [1.0, 16.0])
    assert nj.jit(nj.grad(lambda x, i: jnp.asarray(table)[i] * x))(2.0, 3) == 9.0
    # Eagerly it stays a NumPy array of its own.
    assert type(jnp.asarray(table)) is nj.array.ArrayImpl
    with pytest.raises(nj.errors.TracerArrayConversionError):
        nj.jit(lambda i: np.asarray(table)[i])(3)          # NumPy's own cannot take a tracer
