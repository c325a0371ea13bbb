"""The last jax.numpy names: bits, windows, i0, unwrap, roots/polydiv, histogramdd,
vectorize and friends, and the I/O functions, against NumPy.

``CASES`` rows run eagerly (NumPy's values and dtype), under ``jit`` (NumPy's
values to rounding, its dtype), under ``vmap`` against a Python loop over the
first argument, and, where marked, ``grad`` against central differences.
"""

from __future__ import annotations

import dataclasses
import io
import math

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp

RNG = np.random.default_rng(3)
INTS = RNG.integers(-300, 300, size=(3, 5))
BITS = RNG.integers(0, 2, size=(3, 11))
BYTES = RNG.integers(0, 256, size=(3, 4)).astype(np.uint8)
X = RNG.normal(size=(3, 6)) * 2
PHASE = np.cumsum(RNG.uniform(-3, 3, size=(3, 8)), axis=1)
POLY = np.array([[2.0, -3.0, -5.0, 6.0], [1.0, 0.5, -2.0, 1.5], [3.0, 1.0, 1.0, -1.0]])
POINTS = RNG.uniform(0, 1, size=(3, 20, 2))


@dataclasses.dataclass
class Case:
    name: str
    fn: object                 # our function of the arrays
    ref: object                # NumPy's
    args: tuple
    grad: bool = False
    batch: bool = True
    label: str = ""
    rtol: float = 1e-12
    rows: bool = False         # the args stack examples: eager and jit run on the first

    @property
    def id(self) -> str:
        return self.name + (f"-{self.label}" if self.label else "")

    @property
    def example(self) -> tuple:
        return tuple(a[0] for a in self.args) if self.rows else self.args


def same(name, *args, grad=False, batch=True, label="", rtol=1e-12, **kw):
    """A row whose NumPy twin has the same name and arguments."""
    return Case(name, lambda *a: getattr(jnp, name)(*a, **kw),
                lambda *a: getattr(np, name)(*a, **kw), args, grad, batch, label, rtol)


CASES = [
    same("bitwise_count", INTS), same("bitwise_count", INTS.astype(np.int8), label="int8"),
    same("bitwise_count", INTS.astype(np.uint16), label="uint16"),
    same("bitwise_count", np.array([np.iinfo(np.int64).min, -1, 0]), batch=False,
         label="extremes"),
    same("bitwise_count", BITS.astype(bool), label="bool"),
    Case("bitwise_left_shift", lambda a: jnp.bitwise_left_shift(a, 3),
         lambda a: np.left_shift(a, 3), (INTS,)),
    Case("bitwise_right_shift", lambda a: jnp.bitwise_right_shift(a, 2),
         lambda a: np.right_shift(a, 2), (INTS,)),
    same("packbits", BITS), same("packbits", BITS, axis=-1, label="axis"),
    same("packbits", BITS, axis=0, bitorder="little", label="little"),
    same("packbits", BITS.astype(bool), axis=1, label="bool", batch=False),
    same("unpackbits", BYTES), same("unpackbits", BYTES, axis=1, label="axis", batch=False),
    same("unpackbits", BYTES, axis=0, count=5, bitorder="little", label="count"),
    same("unpackbits", BYTES, axis=-1, count=-3, label="negative-count"),
    same("unpackbits", BYTES, axis=-1, count=40, label="padding-count"),
    same("i0", X, grad=True), same("i0", X.astype(np.float32), label="f32", rtol=1e-6),
    same("i0", INTS[:, :3] % 7, label="ints"),
    Case("kaiser", lambda b: jnp.kaiser(7, b), lambda b: np.kaiser(7, b),
         (3.0,), grad=True, batch=False),
    same("unwrap", PHASE, grad=True), same("unwrap", PHASE, axis=0, label="axis0", batch=False),
    same("unwrap", PHASE, discont=4.0, label="discont"),
    same("unwrap", PHASE, period=4.0, label="period"),
    same("unwrap", (PHASE * 10).astype(int), period=40, label="ints"),
    Case("roots", lambda p: jnp.roots(p, strip_zeros=False),
         lambda p: np.sort_complex(np.roots(p)), (POLY,), rows=True),
    Case("polydiv", lambda u, v: jnp.polydiv(u, v)[0], lambda u, v: np.polydiv(u, v)[0],
         (POLY, POLY[:, 1:3]), grad=True, rows=True),
    Case("polydiv", lambda u, v: jnp.polydiv(u, v)[1][-2:],
         lambda u, v: np.polydiv(u, v)[1], (POLY, POLY[:, 1:]), grad=True, label="remainder",
         rows=True),
    Case("histogramdd", lambda s: jnp.histogramdd(s, bins=3)[0],
         lambda s: np.histogramdd(s, bins=3)[0], (POINTS,), rows=True),
    Case("histogramdd", lambda s, w: jnp.histogramdd(s, bins=(2, 3), weights=w)[0],
         lambda s, w: np.histogramdd(s, bins=(2, 3), weights=w)[0],
         (POINTS, POINTS[:, :, 0] ** 2), label="weights", rows=True),
    Case("histogramdd", lambda s: jnp.histogramdd(s, bins=2, range=[(0, 1), (0, 2)],
                                                  density=True)[0],
         lambda s: np.histogramdd(s, bins=2, range=[(0, 1), (0, 2)], density=True)[0],
         (POINTS,), label="density", rows=True),
    Case("vectorize", jnp.vectorize(lambda a, b: jnp.dot(a, b), signature="(n),(n)->()"),
         lambda a, b: np.einsum("...i,...i", a, b), (X, X[::-1]), grad=True),
    Case("apply_along_axis", lambda a: jnp.apply_along_axis(jnp.cumsum, 0, a),
         lambda a: np.apply_along_axis(np.cumsum, 0, a), (X,), grad=True),
    Case("apply_along_axis", lambda a: jnp.apply_along_axis(lambda v: jnp.outer(v, v), 1, a),
         lambda a: np.apply_along_axis(lambda v: np.outer(v, v), 1, a), (X,), grad=True,
         label="matrix-out", batch=False),
    Case("apply_over_axes", lambda a: jnp.apply_over_axes(jnp.sum, a, [0, 1]),
         lambda a: np.apply_over_axes(np.sum, a, [0, 1]), (X,), grad=True, batch=False),
]


def _close(got, want, rtol):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got, want)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-12, equal_nan=True)


def _roots_sorted(case, out):
    return np.sort_complex(np.asarray(out)) if case.name == "roots" else out


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_eager_matches_numpy(case):
    _close(_roots_sorted(case, case.fn(*case.example)), case.ref(*case.example), case.rtol)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_jit_matches_numpy_and_eager_of_the_traced_code(case):
    got = nj.jit(case.fn)(*case.example)
    _close(_roots_sorted(case, got), case.ref(*case.example), case.rtol)


@pytest.mark.parametrize("case", [c for c in CASES if c.batch], ids=lambda c: c.id)
def test_vmap_matches_a_loop(case):
    got = nj.vmap(case.fn)(*case.args)
    want = np.stack([case.fn(*(a[i] for a in case.args)) for i in range(len(case.args[0]))])
    np.testing.assert_allclose(_roots_sorted(case, got) if case.name != "roots" else
                               np.sort_complex(np.asarray(got)), _roots_sorted(case, want),
                               rtol=max(case.rtol, 1e-10), atol=1e-12)


@pytest.mark.parametrize("case", [c for c in CASES if c.grad], ids=lambda c: c.id)
def test_grad_matches_central_differences(case):
    x0, *rest = case.example

    def loss(x):
        return jnp.sum(jnp.sin(case.fn(x, *rest)))
    np.testing.assert_allclose(nj.grad(loss)(x0), nj.numerical_grad(loss)(x0),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(nj.jit(nj.grad(loss))(x0), nj.grad(loss)(x0), rtol=1e-13)


# ----- Windows, i0 ---------------------------------------------------------------

@pytest.mark.parametrize("name", ["bartlett", "blackman", "hamming", "hanning"])
@pytest.mark.parametrize("m", [-1, 0, 1, 2, 7])
def test_windows_are_numpys(name, m):
    np.testing.assert_array_equal(getattr(jnp, name)(m), getattr(np, name)(m))
    assert nj.jit(lambda: getattr(jnp, name)(m))().shape == (max(m, 0),)


def test_window_length_must_be_concrete():
    with pytest.raises(TypeError, match=r"nanojax\.numpy\.hanning: M is a traced value"):
        nj.jit(jnp.hanning)(4)
    with pytest.raises(TypeError, match=r"nanojax\.numpy\.kaiser: M must be an int"):
        jnp.kaiser(4.5, 1.0)


def test_i0_gradient_is_i1_and_second_derivative_checks():
    x = np.array([-2.0, 0.0, 0.5, 3.0])
    i1 = nj.scipy.special.i1(x)
    np.testing.assert_allclose(nj.vmap(nj.grad(jnp.i0))(x), i1, rtol=1e-12)
    nj.check_grads(jnp.i0, (x,), order=2, modes=("fwd", "rev"))


def test_kaiser_of_length_one_and_traced_beta():
    np.testing.assert_array_equal(nj.jit(lambda b: jnp.kaiser(1, b))(2.0), np.ones(1))
    assert nj.jit(lambda b: jnp.kaiser(0, b))(2.0).shape == (0,)
    betas = np.array([0.5, 3.0, 8.0])
    np.testing.assert_allclose(nj.vmap(lambda b: jnp.kaiser(6, b))(betas),
                               [np.kaiser(6, b) for b in betas], rtol=1e-13)


# ----- Bits ----------------------------------------------------------------------

def test_bit_functions_refuse_floats_with_a_sentence():
    with pytest.raises(TypeError, match=r"nanojax\.numpy\.bitwise_count: takes integers"):
        nj.jit(jnp.bitwise_count)(np.ones(3))
    with pytest.raises(TypeError, match=r"nanojax\.numpy\.packbits: Expected an input array of"):
        nj.jit(jnp.packbits)(np.ones(3))
    with pytest.raises(TypeError, match=r"nanojax\.numpy\.unpackbits: Expected .* unsigned byte"):
        nj.jit(jnp.unpackbits)(np.ones(3, np.int32))
    with pytest.raises(ValueError, match=r"nanojax\.numpy\.packbits: bitorder"):
        nj.jit(lambda a: jnp.packbits(a, bitorder="middle"))(BITS)


def test_packbits_round_trips_through_unpackbits_under_jit():
    f = nj.jit(lambda a: jnp.unpackbits(jnp.packbits(a, axis=1), axis=1, count=a.shape[1]))
    np.testing.assert_array_equal(f(BITS), BITS.astype(np.uint8))


# ----- unwrap, roots, polydiv -------------------------------------------------------

def test_unwrap_gradient_is_the_identity():
    g = nj.grad(lambda p: jnp.sum(jnp.unwrap(p) * np.arange(8.0)))(PHASE[0])
    np.testing.assert_array_equal(g, np.arange(8.0))


def test_unwrap_refuses_a_scalar():
    with pytest.raises(ValueError, match=r"nanojax\.numpy\.unwrap: p must be at least"):
        nj.jit(jnp.unwrap)(1.0)


def test_roots_with_leading_zeros_are_nan_and_stripping_needs_concrete_values():
    out = nj.jit(lambda p: jnp.roots(p, strip_zeros=False))(np.array([0.0, 0.0, 1.0, -3.0, 2.0]))
    assert np.isnan(out[-2:]).all()
    np.testing.assert_allclose(np.sort_complex(out[:2]), [1.0, 2.0])
    assert np.isnan(jnp.roots(np.zeros(3), strip_zeros=False)).all()
    np.testing.assert_allclose(jnp.roots(np.array([0.0, 1.0, -1.0, 0.0])), np.roots([1, -1, 0]))
    assert jnp.roots(np.array([3.0]), strip_zeros=False).shape == (0,)
    with pytest.raises(TypeError, match=r"nanojax\.numpy\.roots: p is traced.*strip_zeros=False"):
        nj.jit(jnp.roots)(np.array([1.0, 2.0]))


def test_polydiv_remainder_keeps_u_length_unless_trimmed():
    u, v = np.array([1.0, -3.0, 2.0, 5.0]), np.array([1.0, -1.0])
    q, r = jnp.polydiv(u, v)
    assert r.shape == (4,)
    np.testing.assert_allclose(jnp.polyadd(jnp.polymul(q, v), r), u)
    q2, r2 = jnp.polydiv(u, v, trim_leading_zeros=True)
    nq, nr = np.polydiv(u, v)
    np.testing.assert_allclose(q2, nq)
    np.testing.assert_allclose(r2, nr)
    q3, r3 = jnp.polydiv(np.array([1.0]), np.array([1.0, 2.0]))
    np.testing.assert_array_equal(r3, [1.0])
    np.testing.assert_array_equal(q3, [0.0])
    with pytest.raises(TypeError, match=r"nanojax\.numpy\.polydiv: trim_leading_zeros=True"):
        nj.jit(lambda a: jnp.polydiv(a, v, trim_leading_zeros=True))(u)


# ----- histogramdd --------------------------------------------------------------

def test_histogramdd_edges_and_array_like_samples():
    s = POINTS[0]
    counts, edges = nj.jit(lambda x: jnp.histogramdd(x, bins=[2, np.array([0.0, 0.3, 1.0])]))(s)
    want, wedges = np.histogramdd(s, bins=[2, np.array([0.0, 0.3, 1.0])])
    np.testing.assert_allclose(counts, want)
    for e, w in zip(edges, wedges):
        np.testing.assert_allclose(e, w)
    traced = nj.jit(lambda a, b: jnp.histogramdd((a, b), bins=2)[0])(s[:, 0], s[:, 1])
    np.testing.assert_allclose(traced, np.histogramdd((s[:, 0], s[:, 1]), bins=2)[0])


def test_histogramdd_weights_are_differentiable():
    s = POINTS[0]
    g = nj.grad(lambda w: jnp.sum(jnp.histogramdd(s, bins=2, weights=w)[0] ** 2))(np.ones(20))
    counts = np.histogramdd(s, bins=2)[0]
    cell = [np.searchsorted(np.histogramdd(s, bins=2)[1][d][1:-1], s[:, d], side="right")
            for d in range(2)]
    np.testing.assert_allclose(g, 2 * counts[cell[0], cell[1]])


def test_histogramdd_wrong_bins_length_is_a_sentence():
    with pytest.raises(ValueError, match=r"nanojax\.numpy\.histogramdd: The dimension of bins"):
        nj.jit(lambda s: jnp.histogramdd(s, bins=[2, 3, 4]))(POINTS[0])


# ----- vectorize, apply_*, fromfunction, frompyfunc --------------------------------

def test_vectorize_broadcasts_without_materializing_size_one_axes():
    f = jnp.vectorize(lambda a, b: a * b + 1.0)
    a, b = np.arange(3.0).reshape(3, 1), np.arange(4.0)
    np.testing.assert_array_equal(f(a, b), a * b + 1.0)
    np.testing.assert_array_equal(f(np.ones((1, 1)), 2.0), np.full((1, 1), 3.0))
    jaxpr = str(nj.make_jaxpr(f)(a, b))
    assert "f64[3,4]" in jaxpr and "broadcast_in_dim" not in jaxpr.split("mul")[0]


def test_vectorize_signature_with_two_outputs_and_excluded():
    def stats(x, power):
        return jnp.mean(x ** power), jnp.max(x)
    f = jnp.vectorize(stats, signature="(n)->(),()", excluded={1})
    m, mx = f(X, 2)
    np.testing.assert_allclose(m, np.mean(X ** 2, axis=1))
    np.testing.assert_array_equal(mx, np.max(X, axis=1))
    g = jnp.vectorize(lambda x, scale: x * scale)
    np.testing.assert_array_equal(g(X, scale=np.arange(6.0)), X * np.arange(6.0))


def test_vectorize_without_signature_lets_outputs_have_any_shape():
    f = jnp.vectorize(lambda x: jnp.stack([x, 2 * x]))
    assert f(np.ones((3, 4))).shape == (3, 4, 2)


@pytest.mark.parametrize("call, kind, match", [
    (lambda: jnp.vectorize(jnp.dot, signature="(n)(n)->()"), ValueError, "not a valid gufunc"),
    (lambda: jnp.vectorize(jnp.dot, signature="(n),(n)->()")(np.ones(3), np.ones(4)),
     ValueError, "inconsistent size for core dimension 'n'"),
    (lambda: jnp.vectorize(jnp.dot, signature="(n),(n)->()")(np.ones(3)), TypeError,
     "wrong number of positional arguments"),
    (lambda: jnp.vectorize(lambda x: x, signature="(n)->()")(np.ones(3)), ValueError,
     "output 0 has shape"),
    (lambda: jnp.vectorize(lambda x: x, signature="(n)->(),()")(np.ones(3)), TypeError,
     "must return a tuple"),
    (lambda: jnp.vectorize(lambda x, y: x, excluded={"y"}), TypeError, "excluded must be"),
    (lambda: jnp.vectorize(lambda x: x, excluded={3})(1.0), ValueError, "is invalid for 1"),
    (lambda: jnp.vectorize(lambda x, y: x + y)(np.ones(3), np.ones(4)), ValueError,
     "do not broadcast"),
    (lambda: jnp.vectorize(lambda x, y: x, signature="(n),(m)->()")(np.ones(3), 1.0),
     ValueError, "need at least 1"),
])
def test_vectorize_errors_are_sentences(call, kind, match):
    with pytest.raises(kind, match=r"nanojax\.numpy\.vectorize: .*" + match):
        call()


def test_apply_over_axes_refuses_a_wrong_rank():
    with pytest.raises(ValueError, match=r"nanojax\.numpy\.apply_over_axes: function is not"):
        jnp.apply_over_axes(lambda a, ax: jnp.sum(a), X, 0)
    np.testing.assert_array_equal(jnp.apply_over_axes(jnp.sum, X, 1), np.sum(X, 1, keepdims=True))


def test_fromfunction_is_numpys_and_traces():
    want = np.fromfunction(lambda i, j: i * 3 + j, (2, 3))
    np.testing.assert_array_equal(jnp.fromfunction(lambda i, j: i * 3 + j, (2, 3)), want)
    out = nj.jit(lambda s: jnp.fromfunction(lambda i, j: (i - j) * s, (3, 3)))(2.0)
    np.testing.assert_array_equal(out, np.fromfunction(lambda i, j: (i - j) * 2.0, (3, 3)))
    with pytest.raises(TypeError, match=r"nanojax\.numpy\.fromfunction: shape must be"):
        jnp.fromfunction(lambda i: i, (2.5,))


def test_frompyfunc_makes_a_ufunc_with_outer_reduce_accumulate():
    hyp = jnp.frompyfunc(lambda a, b: jnp.sqrt(a * a + b * b), nin=2, nout=1)
    a, b = np.arange(3.0), np.arange(4.0)
    np.testing.assert_allclose(hyp(a[:, None], b), np.hypot(a[:, None], b))
    np.testing.assert_allclose(hyp.outer(a, b), np.hypot.outer(a, b))
    mul = jnp.frompyfunc(lambda x, y: x * y, 2, 1, identity=1)
    np.testing.assert_allclose(mul.reduce(X, axis=1), np.prod(X, axis=1))
    np.testing.assert_allclose(mul.reduce(X, axis=None, keepdims=True),
                               np.prod(X, keepdims=True))
    np.testing.assert_allclose(mul.accumulate(X, axis=1), np.cumprod(X, axis=1))
    np.testing.assert_allclose(nj.jit(lambda x: mul.reduce(x, axis=0))(X), np.prod(X, axis=0))
    np.testing.assert_allclose(nj.grad(lambda x: mul.reduce(x, axis=None))(X[0]),
                               np.prod(X[0]) / X[0])
    assert isinstance(mul, jnp.ufunc) and mul.nargs == 3
    assert repr(mul) == "<nanojax.numpy.ufunc '<lambda>'>"
    with pytest.raises(ValueError, match=r"no identity"):
        hyp.reduce(np.zeros(0))
    with pytest.raises(ValueError, match=r"outer needs a function of two arguments"):
        jnp.frompyfunc(lambda x: x, 1, 1).outer(a, b)
    divmod_ = jnp.frompyfunc(lambda x, y: (x // y, x % y), 2, 2)
    q, r = divmod_(np.arange(6), 4)
    np.testing.assert_array_equal(q, np.arange(6) // 4)
    np.testing.assert_array_equal(r, np.arange(6) % 4)


# ----- Arrays from outside, text and files -------------------------------------------

def test_from_functions_copy_and_match_numpy():
    buf = bytearray(np.arange(4.0).tobytes())
    a = jnp.frombuffer(buf)
    buf[:8] = np.float64(9.0).tobytes()
    np.testing.assert_array_equal(a, np.arange(4.0))        # a copy: the write is not seen
    # Its own copy (handed out as a view of it).
    assert a.flags.writeable and (a.flags.owndata or a.base.flags.owndata)
    np.testing.assert_array_equal(jnp.fromstring("1 2 3", dtype=int, sep=" "), [1, 2, 3])
    with pytest.raises(ValueError, match=r"nanojax\.numpy\.fromstring: sep=''"):
        jnp.fromstring("12", sep="")
    np.testing.assert_array_equal(jnp.fromiter(iter(range(10)), int, count=3), [0, 1, 2])
    with pytest.raises(ValueError, match=r"nanojax\.numpy\.fromiter: iterator too short"):
        jnp.fromiter(range(2), float, count=3)
    src = np.arange(3.0)
    d = jnp.from_dlpack(src)
    np.testing.assert_array_equal(d, src)
    assert not np.shares_memory(d, src)
    with pytest.raises(NotImplementedError, match=r"nanojax\.numpy\.fromfile is not implemented"):
        jnp.fromfile("x.bin")


def test_fromiter_of_traced_items_is_differentiable():
    g = nj.grad(lambda x: jnp.sum(jnp.fromiter((x * k for k in range(3)), float) ** 2))(2.0)
    assert g == pytest.approx(2 * 2.0 * (0 + 1 + 4))


def test_savez_array_str_and_array_repr():
    f = io.BytesIO()
    jnp.savez(f, X, b=INTS)
    f.seek(0)
    loaded = jnp.load(f)
    np.testing.assert_array_equal(loaded["arr_0"], X)
    np.testing.assert_array_equal(loaded["b"], INTS)
    assert jnp.array_str(X, precision=2) == np.array_str(X, precision=2)
    assert jnp.array_repr(INTS) == np.array_repr(INTS)
    with pytest.raises(TypeError, match=r"nanojax\.numpy\.array_str: the array is a traced"):
        nj.jit(jnp.array_str)(X)
    with pytest.raises(TypeError, match=r"nanojax\.numpy\.savez: the array is a traced"):
        nj.jit(lambda x: jnp.savez(io.BytesIO(), x))(X)
    assert math.isclose(float(jnp.array_repr(np.float64(1.5))[6:9]), 1.5)


def test_numpy_functions_on_tracers_dispatch_to_the_new_names():
    g = nj.grad(lambda x: np.sum(np.i0(x) + np.unwrap(x, period=4.0)))(X[0])
    np.testing.assert_allclose(g, nj.scipy.special.i1(X[0]) + 1.0, rtol=1e-12)
    out = nj.jit(lambda a: np.packbits(a, axis=-1))(BITS)
    np.testing.assert_array_equal(out, np.packbits(BITS, axis=-1))
