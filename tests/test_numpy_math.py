"""jax.numpy's maths, reductions, statistics and dtype functions, against NumPy.

One table, ``CASES``: a function, its arguments and keywords, and which
arguments it is differentiable in. Every row is checked eagerly (NumPy's own
call: the same values and dtype), traced under ``jit`` (the composition of
gates: NumPy's values to a few ulps, NumPy's dtype), under ``vmap`` against
a Python loop over the first argument's rows (where ``batch`` says so), and,
for the differentiable rows, ``grad`` against central differences eagerly,
under ``jit`` and under ``vmap``. Errors, edge values and the dtype helpers
follow the table.
"""

from __future__ import annotations

import builtins
import dataclasses
import io
import warnings
from typing import Any

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import lax

RNG = np.random.default_rng(7)
X = RNG.normal(size=(3, 4))
Y = RNG.normal(size=(3, 4))
V = RNG.normal(size=6)
U = RNG.uniform(-0.9, 0.9, size=(3, 4))          # inside (-1, 1)
BIG = RNG.uniform(1.2, 3.0, size=(3, 4))         # above 1
POS = RNG.uniform(0.5, 2.0, size=(3, 4))
INTS = RNG.integers(-5, 6, size=(3, 4))
NATS = RNG.integers(0, 7, size=10)
SPECIAL = np.array([0.0, -0.0, 1.5, -2.5, np.inf, -np.inf, np.nan, 1e-310, 3.0, -8.0])
NANS = np.where(RNG.random((4, 5)) < 0.3, np.nan, RNG.normal(size=(4, 5)))
MASK = X > -0.3
XP = np.sort(RNG.uniform(-2, 2, size=7))
FP = RNG.normal(size=7)


@dataclasses.dataclass
class Case:
    name: str
    args: tuple
    kwargs: dict = dataclasses.field(default_factory=dict)
    grad: tuple = ()           # argnums the function is differentiable in here
    batch: bool = True         # vmap over the first argument's rows is meaningful
    label: str = ""
    rtol: float = 1e-13
    jit: bool = True           # False: a traced call needs another argument (bincount's length)

    @property
    def id(self) -> str:
        return self.name + (f"-{self.label}" if self.label else "")


def c(name, *args, grad=(), batch=True, label="", rtol=1e-13, jit=True, **kwargs):
    return Case(name, args, kwargs, grad, batch, label, rtol, jit)


ELEMENTWISE = [
    c("arcsin", U, grad=(0,)), c("arccos", U, grad=(0,)), c("arctan", X, grad=(0,)),
    c("arcsinh", X * 100, grad=(0,)), c("arccosh", BIG, grad=(0,)), c("arctanh", U, grad=(0,)),
    c("asin", U, grad=(0,)), c("acos", U, grad=(0,)), c("atan", X, grad=(0,)),
    c("asinh", X, grad=(0,)), c("acosh", BIG, grad=(0,)), c("atanh", U, grad=(0,)),
    c("atan2", X, Y, grad=(0, 1)),
    c("sinh", X, grad=(0,)), c("cosh", X, grad=(0,)), c("cbrt", X + 3.0, grad=(0,)),
    c("cbrt", SPECIAL, label="special"),
    c("log2", POS, grad=(0,)), c("log10", POS, grad=(0,)), c("exp2", X, grad=(0,)),
    c("log2", INTS + 6, label="ints"), c("log2", np.array([1.0, 2.0, 8.0, 1024.0]), label="powers"),
    c("hypot", X, Y, grad=(0, 1)), c("hypot", SPECIAL, SPECIAL[::-1], label="special"),
    c("hypot", np.array([1e300, 3.0]), np.array([1e300, 4.0]), label="no-overflow"),
    c("sinc", X, grad=(0,)), c("sinc", SPECIAL, label="special"),
    c("deg2rad", X * 90, grad=(0,)), c("rad2deg", X, grad=(0,)),
    c("radians", INTS, label="ints"), c("degrees", X.astype(np.float32), label="f32"),
    c("logaddexp", X, Y, grad=(0, 1)), c("logaddexp2", X, Y, grad=(0, 1)),
    c("logaddexp", SPECIAL, SPECIAL[::-1], label="special"),
    c("logaddexp", np.array([1000.0, -np.inf, 2.0]), np.array([1000.0, -np.inf, 2.0]),
      label="ties"),
    c("logaddexp2", SPECIAL, SPECIAL[::-1], label="special"),
    c("copysign", X, Y, grad=(0,)), c("copysign", SPECIAL, -SPECIAL[::-1], label="special"),
    c("signbit", SPECIAL), c("signbit", INTS, label="ints"),
    c("nextafter", X, Y), c("nextafter", SPECIAL, np.zeros(10), label="special"),
    c("spacing", SPECIAL), c("spacing", X.astype(np.float32), label="f32"),
    c("heaviside", INTS * 1.0, 0.5), c("heaviside", SPECIAL, 0.25, label="special"),
    c("fmin", X, Y, grad=(0, 1)), c("fmax", X, Y, grad=(0, 1)),
    c("fmin", SPECIAL, SPECIAL[::-1], label="special"),
    c("fmax", SPECIAL, SPECIAL[::-1], label="special"),
    c("float_power", POS, Y, grad=(0, 1)), c("float_power", INTS, 2, label="ints"),
    c("float_power", POS.astype(np.float32), 1.5, label="f32"),
    c("ldexp", X, INTS, grad=(0,)), c("ldexp", np.array([1e-300, 1.5, 3.0]),
                                      np.array([1100, -1074, 2]), label="extremes"),
    c("ldexp", X.astype(np.float32), INTS, label="f32"),
    c("frexp", X * 1000, grad=(0,)), c("frexp", SPECIAL, label="special"),
    c("frexp", np.array([5e-324, 1.7e308, 0.5, 1.0, -4.0]), label="extremes"),
    c("modf", X * 5, grad=(0,)), c("modf", SPECIAL, label="special"),
    c("rint", X * 3), c("around", X * 3, 1), c("round", X * 30, -1, label="decimals"),
    c("positive", X, grad=(0,)), c("pow", POS, Y, grad=(0, 1)), c("fabs", X),
    c("conj", X, grad=(0,)), c("conjugate", X), c("real", X, grad=(0,)), c("imag", X),
    c("angle", SPECIAL), c("angle", INTS, True, label="deg"),
    c("isneginf", SPECIAL), c("isposinf", SPECIAL), c("isreal", SPECIAL),
    c("iscomplex", SPECIAL), c("nan_to_num", SPECIAL, grad=()),
    c("nan_to_num", SPECIAL, nan=1.0, posinf=2.0, neginf=-3.0, label="values"),
    c("nan_to_num", INTS, label="ints"),
    c("divmod", X * 5, POS), c("gcd", INTS, 12), c("lcm", INTS, NATS[:4]),
    c("isclose", X, X + 1e-9), c("isclose", SPECIAL, SPECIAL, equal_nan=True, label="nan"),
    c("isclose", INTS, INTS + 1, atol=1.0, label="ints"),
    c("allclose", X, X * (1 + 1e-7), batch=False), c("allclose", X, Y, batch=False, label="far"),
    c("array_equal", X, X.copy(), batch=False), c("array_equal", X, X[:2], batch=False,
                                                  label="shapes"),
    c("array_equal", SPECIAL, SPECIAL, equal_nan=True, batch=False, label="nan"),
    c("array_equiv", X, X[:1], batch=False), c("array_equiv", X, X[:1] + 1, batch=False,
                                               label="differ"),
]

REDUCTIONS = [
    c("sum", X, axis=1, where=MASK, initial=2.0, grad=(0,)),
    c("sum", INTS, dtype=np.float32, label="dtype"),
    c("prod", X, axis=0, where=MASK, grad=(0,)),
    c("max", X, axis=1, where=MASK, initial=-5.0, grad=(0,)),
    c("min", X, initial=0.0, label="initial"),
    c("mean", X, axis=0, where=MASK, grad=(0,)), c("mean", INTS, dtype=np.float32, label="dtype"),
    c("var", X, axis=1, where=MASK, ddof=1, grad=(0,)), c("std", X, correction=1, grad=(0,)),
    c("any", X > 0, axis=0, where=MASK), c("all", X > -1, where=MASK),
    c("argmax", X, axis=1, keepdims=True), c("ptp", X, axis=0, keepdims=True),
    c("cumsum", X, axis=0, dtype=np.float32),
    c("nansum", NANS, axis=1, grad=(0,)), c("nanprod", NANS, axis=0, grad=(0,)),
    c("nanmax", NANS, axis=1, grad=(0,)), c("nanmin", NANS, grad=(0,), label="all"),
    c("nanmax", np.array([[np.nan, np.nan], [1.0, np.nan]]), axis=1, label="all-nan"),
    c("nanargmax", NANS, axis=0), c("nanargmin", NANS, axis=1),
    c("nanmean", NANS, axis=1, grad=(0,)), c("nanvar", NANS, axis=0, ddof=1, grad=(0,)),
    c("nanstd", NANS, grad=(0,)), c("nansum", INTS, label="ints"),
    c("count_nonzero", INTS, axis=0), c("count_nonzero", INTS, axis=1, keepdims=True),
]

STATISTICS = [
    c("median", X, grad=(0,)), c("median", X, axis=1, keepdims=True, label="axis"),
    c("median", V[:5], label="odd"), c("median", INTS, axis=0, label="ints"),
    c("median", NANS, axis=1, label="nan"),
    c("nanmedian", NANS, axis=1, grad=(0,)), c("nanmedian", NANS, label="all"),
    *(c("quantile", X, q, axis=ax, method=m, grad=(0,) if m in ("linear", "midpoint") else (),
        label=f"{m}-{ax}")
      for m in ("linear", "lower", "higher", "midpoint", "nearest")
      for q, ax in [(0.3, None), (np.array([0.1, 0.5, 0.9]), 1)]),
    c("quantile", X, 0.25, axis=(0, 1), keepdims=True, label="keepdims"),
    c("quantile", INTS, 0.5, label="ints"),
    c("nanquantile", NANS, np.array([0.2, 0.7]), axis=1, grad=(0,)),
    c("percentile", X, 40.0, axis=0, grad=(0, 1)), c("nanpercentile", NANS, 75.0, axis=0),
    c("average", X, grad=(0,)), c("average", X, 1, Y ** 2, grad=(0, 2), label="weights"),
    c("average", X, 1, V[:4] ** 2, True, label="returned"),
    c("average", INTS, 0, POS[:, 0], label="ints"),
    c("cov", X, grad=(0,), batch=False), c("cov", X, Y, rowvar=False, label="y", batch=False),
    c("cov", X, bias=True, aweights=POS[0], label="aweights", grad=(0,), batch=False),
    c("cov", X, fweights=np.array([1, 2, 1, 3]), ddof=2, label="fweights", batch=False),
    c("cov", V, label="1d"), c("corrcoef", X, grad=(0,), batch=False),
    c("corrcoef", X, Y, label="y", batch=False),
    c("histogram", V, grad=(), batch=False), c("histogram", V, 4, (-1.0, 1.0), label="range",
                                               batch=False),
    c("histogram", V, np.array([-2.0, -0.5, 0.0, 3.0]), weights=np.abs(V), label="edges",
      batch=False),
    c("histogram", V, 5, density=True, label="density", batch=False),
    c("histogram", np.ones(4), 3, label="constant", batch=False),
    c("histogram_bin_edges", V, 5, batch=False), c("histogram_bin_edges", INTS, 3, label="ints",
                                                    batch=False),
    c("histogram2d", V, V[::-1], 3, batch=False),
    c("histogram2d", V, V ** 2, [2, 4], weights=np.abs(V), density=True, label="weighted",
      batch=False),
    c("bincount", NATS, batch=False, jit=False),
    c("bincount", NATS, np.abs(V[:1]).repeat(10), label="weights", batch=False, jit=False),
    c("diff", X, grad=(0,)), c("diff", X, 2, 0, label="n=2"),
    c("diff", X, 1, -1, 0.5, np.ones((3, 1)), label="prepend-append", grad=(0,)),
    c("diff", X > 0, label="bool"),
    c("ediff1d", X, grad=(0,), batch=False), c("ediff1d", V, [9.0], [-1.0, -2.0],
                                               label="ends", batch=False),
    c("interp", X, XP, FP, grad=(0, 2), batch=False),
    c("interp", np.concatenate([XP, [-5.0, 5.0]]), XP, FP, -1.0, 2.0, label="ends-hits",
      batch=False),
    c("interp", V * 4, XP, FP, period=2.0, label="period", batch=False),
    *(c(fn, V, V[:3] * 2, mode=mode, grad=(0, 1), batch=False, label=mode)
      for fn in ("convolve", "correlate") for mode in ("full", "same", "valid")),
    c("correlate", V[:3], V, mode="same", label="short-a", batch=False),
    c("convolve", NATS, NATS[:3], label="ints", batch=False),
    c("polyval", V[:4], X, grad=(0, 1), batch=False),
    c("polyval", INTS[0], INTS, label="ints", batch=False),
    c("polyadd", V[:4], V[:2], grad=(0, 1), batch=False),
    c("polysub", V[:2], V[:4], grad=(0, 1), batch=False),
    c("polymul", V[:4], V[:2], grad=(0, 1), batch=False),
    c("polyder", V, 2, grad=(0,), batch=False), c("polyint", V[:4], 2, [1.0, 2.0], grad=(0,),
                                                   batch=False),
    c("poly", V[:3], grad=(0,), batch=False),
    c("polyfit", V, V ** 3 + 0.5 * V ** 2 - V + 0.25, 3, grad=(1,), batch=False, rtol=1e-9),
    c("trapezoid", X, grad=(0,)), c("trapezoid", X, np.arange(4.0) ** 2, label="x", grad=(0, 1)),
    c("trapezoid", X, dx=0.5, axis=0, label="dx"),
    c("gradient", X, batch=False, grad=(0,)), c("gradient", V, 0.5, label="dx", batch=False),
    c("gradient", V, np.cumsum(POS.ravel()[:6]), edge_order=2, label="coords", grad=(0,),
      batch=False),
    c("gradient", X, axis=1, edge_order=2, label="axis", batch=False),
]

CASES = ELEMENTWISE + REDUCTIONS + STATISTICS


def _leaves(out: Any) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _assert_same(got: Any, want: Any, rtol: float, exact: bool = False) -> None:
    got, want = _leaves(got), _leaves(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        w = np.asarray(w)
        g = np.asarray(g)
        assert g.dtype == w.dtype, (g.dtype, w.dtype)
        assert g.shape == w.shape, (g.shape, w.shape)
        if exact:
            np.testing.assert_array_equal(g, w)
        else:
            rtol = builtins.max(rtol, 1e-6) if w.dtype == np.float32 else rtol
            np.testing.assert_allclose(g, w, rtol=rtol, atol=0, equal_nan=True)
            np.testing.assert_array_equal(np.signbit(g[g == 0]), np.signbit(w[g == 0]))


def _quiet(fn, *args, **kwargs):
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args, **kwargs)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_eager_call_is_numpys(case: Case) -> None:
    want = _quiet(getattr(np, case.name), *case.args, **case.kwargs)
    got = _quiet(getattr(jnp, case.name), *case.args, **case.kwargs)
    _assert_same(got, want, 0.0, exact=True)


JITTED = [case for case in CASES if case.jit]


@pytest.mark.parametrize("case", JITTED, ids=[case.id for case in JITTED])
def test_jit_matches_numpy(case: Case) -> None:
    want = _quiet(getattr(np, case.name), *case.args, **case.kwargs)
    # The arrays are traced; the settings (an axis, a number of bins) are static.
    traced = [i for i, a in enumerate(case.args) if isinstance(a, np.ndarray)]

    def fn(*arrays):
        args = list(case.args)
        for i, a in zip(traced, arrays):
            args[i] = a
        return getattr(jnp, case.name)(*args, **case.kwargs)
    got = _quiet(nj.jit(fn), *(case.args[i] for i in traced))
    _assert_same(got, want, case.rtol)


BATCHED = [case for case in CASES if case.batch and np.ndim(case.args[0]) >= 1]


@pytest.mark.parametrize("case", BATCHED, ids=[case.id for case in BATCHED])
def test_vmap_matches_a_loop(case: Case) -> None:
    x, rest = np.asarray(case.args[0]), case.args[1:]
    fn = lambda row: getattr(jnp, case.name)(row, *rest, **case.kwargs)  # noqa: E731
    if any(np.ndim(a) == np.ndim(x) for a in rest) or "where" in case.kwargs:
        pytest.skip("the other operands have the batched one's rank")
    try:
        want = [_quiet(fn, row) for row in x]
    except ValueError:            # an axis the rows do not have
        pytest.skip("the settings are for the whole array, not its rows")
    got = _quiet(nj.vmap(fn), x)
    for k, g in enumerate(_leaves(got)):
        w = np.stack([np.asarray(_leaves(r)[k]) for r in want])
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-13, equal_nan=True)


GRADS = [(case, i) for case in CASES for i in case.grad]


def _scalar(case: Case, i: int):
    weights: dict = {}

    def f(v):
        args = list(case.args)
        args[i] = v
        total = 0.0
        for k, leaf in enumerate(_leaves(getattr(jnp, case.name)(*args, **case.kwargs))):
            if not np.issubdtype(jnp.result_type(leaf), np.floating):
                continue
            w = weights.setdefault(k, np.random.default_rng(k).normal(size=np.shape(leaf)))
            total = total + jnp.sum(jnp.where(jnp.isfinite(leaf), leaf, 0.0) * w)
        return total
    return f


@pytest.mark.parametrize("case,i", GRADS, ids=[f"{case.id}-arg{i}" for case, i in GRADS])
def test_grad_matches_central_differences(case: Case, i: int) -> None:
    f = _scalar(case, i)
    x = np.asarray(case.args[i], dtype=np.float64)
    want = nj.numerical_grad(f)(x)
    tol = dict(rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(nj.grad(f)(x), want, **tol)
    np.testing.assert_allclose(nj.jit(nj.grad(f))(x), want, **tol)
    stacked = np.stack([x, x * 1.0])
    np.testing.assert_allclose(nj.vmap(nj.grad(f))(stacked), np.stack([want, want]), **tol)


# ----- Gradients where the composition needs care ---------------------------------------

@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2", "hypot", "fmax", "fmin"])
def test_ties_split_the_gradient_evenly(name: str) -> None:
    g = nj.grad(getattr(jnp, name), argnums=(0, 1))(1.5, 1.5)
    assert g[0] == pytest.approx(g[1]) and np.isfinite(g[0])


def test_sinc_gradient_at_zero_is_zero():
    assert nj.grad(jnp.sinc)(0.0) == 0.0


def test_var_with_a_mask_keeps_nan_out_of_the_gradient():
    x = np.array([1.0, np.nan, 3.0, 4.0])
    g = nj.grad(lambda v: jnp.nanvar(v))(x)
    assert np.isfinite(g[[0, 2, 3]]).all() and g[1] == 0.0


def test_new_gates_are_lax_functions_with_second_derivatives():
    for name, x in [("asin", 0.3), ("acos", 0.3), ("atan", 0.7), ("asinh", 0.7),
                    ("acosh", 1.7), ("atanh", 0.3), ("sinh", 0.7), ("cosh", 0.7),
                    ("cbrt", 1.7)]:
        nj.check_grads(getattr(lax, name), (x,), order=2, modes=("fwd", "rev"))
    assert lax.nextafter(1.0, 2.0) == np.nextafter(1.0, 2.0)
    assert not hasattr(lax, "signbit")


# ----- Errors -------------------------------------------------------------------------

ERRORS = [
    (lambda: jnp.sum(X, out=np.zeros(())), TypeError, "nanojax.numpy.sum: out= is not"),
    (lambda: nj.jit(lambda x: jnp.mean(x, out=x))(X), TypeError, "nanojax.numpy.mean: out="),
    (lambda: nj.jit(lambda x: jnp.max(x, where=x > 0))(X), ValueError,
     "nanojax.numpy.max: reduction operation max does not have an identity"),
    (lambda: nj.jit(lambda x: jnp.var(x, ddof=1, correction=1))(X), ValueError,
     "nanojax.numpy.var: ddof and correction"),
    (lambda: nj.jit(lambda x: jnp.quantile(x, 1.5))(X), ValueError,
     r"nanojax.numpy.quantile: Quantiles must be in the range \[0, 1\]"),
    (lambda: nj.jit(lambda x: jnp.percentile(x, 101.0))(X), ValueError,
     r"nanojax.numpy.percentile: Percentiles must be in the range \[0, 100\]"),
    (lambda: nj.jit(lambda x: jnp.quantile(x, 0.5, method="hazen"))(X), ValueError,
     "nanojax.numpy.quantile: method 'hazen' is not supported"),
    (lambda: nj.jit(lambda x: jnp.bincount(x))(NATS), TypeError,
     "nanojax.numpy.bincount: with a traced x the result's length depends"),
    (lambda: nj.jit(lambda x: jnp.bincount(x, length=3))(V), TypeError,
     "nanojax.numpy.bincount: x must be an array of non-negative integers"),
    (lambda: nj.jit(lambda x: jnp.histogram(x, bins="auto"))(V), NotImplementedError,
     "nanojax.numpy.histogram: bins='auto'"),
    (lambda: nj.jit(lambda x: jnp.histogram(x, bins=0))(V), ValueError,
     "nanojax.numpy.histogram: `bins` must be positive"),
    (lambda: nj.jit(lambda x: jnp.diff(x, -1))(V), ValueError,
     "nanojax.numpy.diff: order must be non-negative"),
    (lambda: nj.jit(lambda x: jnp.diff(x))(1.0), ValueError,
     "nanojax.numpy.diff: diff requires input that is at least one dimensional"),
    (lambda: nj.jit(lambda x: jnp.convolve(x, x, mode="middle"))(V), ValueError,
     "nanojax.numpy.convolve: mode must be one of"),
    (lambda: nj.jit(lambda x: jnp.convolve(x, x))(X), ValueError,
     "nanojax.numpy.convolve: takes one-dimensional arrays"),
    (lambda: nj.jit(lambda x: jnp.interp(x, XP, FP[:3]))(V), ValueError,
     "nanojax.numpy.interp: fp and xp are not of the same length"),
    (lambda: nj.jit(lambda x: jnp.average(x, weights=V[:3]))(X), TypeError,
     "nanojax.numpy.average: Axis must be specified"),
    (lambda: nj.jit(lambda x: jnp.gcd(x, 2))(X), TypeError, "nanojax.numpy.gcd: takes integers"),
    (lambda: nj.jit(lambda x: jnp.ldexp(x, 1.5))(X), TypeError,
     "nanojax.numpy.ldexp: the exponent must be an integer"),
    (lambda: nj.jit(lambda x: jnp.gradient(x, edge_order=3))(V), ValueError,
     "nanojax.numpy.gradient: 'edge_order' greater than 2"),
    (lambda: nj.jit(lambda x: jnp.polyder(x, -1))(V), ValueError,
     "nanojax.numpy.polyder: Order of derivative must be positive"),
    (lambda: jnp.bfloat16, AttributeError, "nanojax.numpy.bfloat16: nanojax computes with NumPy"),
    (lambda: jnp.save(io.BytesIO(), X, allow_pickle=False) or nj.jit(
        lambda x: jnp.save(io.BytesIO(), x))(X), TypeError, "nanojax.numpy.save: the array is a"),
    (lambda: jnp.result_type("not a dtype"), TypeError, "nanojax.numpy.result_type"),
]


@pytest.mark.parametrize("fn,kind,match", ERRORS, ids=[m.split(":")[0].split(".")[-1] + str(i)
                                                       for i, (_, _, m) in enumerate(ERRORS)])
def test_bad_input_raises_a_sentence_naming_the_function(fn, kind, match) -> None:
    with pytest.raises(kind, match=match):
        fn()


def test_traced_where_on_a_concrete_array_takes_the_traced_path():
    got = nj.jit(lambda m: jnp.sum(X, where=m))(MASK)
    assert got == pytest.approx(np.sum(X, where=MASK), rel=1e-14)
    got = nj.jit(lambda m: jnp.mean(X, where=m))(MASK)
    assert got == pytest.approx(np.mean(X, where=MASK), rel=1e-14)


def test_bincount_with_length_drops_larger_values_eagerly_and_traced():
    x = np.array([0, 1, 1, 5, 2])
    want = np.array([1, 2, 1])
    np.testing.assert_array_equal(jnp.bincount(x, length=3), want)
    np.testing.assert_array_equal(nj.jit(lambda v: jnp.bincount(v, length=3))(x), want)


def test_nanargmax_of_an_all_nan_slice_is_minus_one_when_traced():
    x = np.array([[np.nan, np.nan], [1.0, np.nan]])
    np.testing.assert_array_equal(nj.jit(lambda v: jnp.nanargmax(v, axis=1))(x), [-1, 0])


def test_promote_integers_false_keeps_the_integer_dtype():
    x = np.arange(4, dtype=np.int32)
    assert jnp.sum(x, promote_integers=False).dtype == np.int32
    assert nj.jit(lambda v: jnp.sum(v, promote_integers=False))(x).dtype == np.int32
    assert nj.jit(jnp.sum)(x).dtype == np.sum(x).dtype


def test_quantile_with_traced_q_differentiates_in_q():
    f = lambda q: jnp.quantile(V, q)  # noqa: E731
    np.testing.assert_allclose(nj.grad(f)(0.37), nj.numerical_grad(f)(0.37), rtol=1e-6)


def test_histogram_weights_and_edges_can_be_traced():
    edges = np.array([-2.0, 0.0, 2.0])
    counts = nj.jit(lambda w, e: jnp.histogram(V, e, weights=w)[0])(np.abs(V), edges)
    np.testing.assert_allclose(counts, np.histogram(V, edges, weights=np.abs(V))[0])


# ----- Dtype functions ----------------------------------------------------------------

def test_dtype_functions_are_numpys_and_take_traced_values():
    assert jnp.result_type(jnp.float32, 1.0) == np.float32
    assert jnp.promote_types(jnp.int32, jnp.float32) == np.float64
    assert jnp.issubdtype(jnp.int32, jnp.integer) and not jnp.issubdtype(jnp.float32,
                                                                         jnp.integer)
    assert jnp.can_cast(jnp.int8, jnp.int32) and jnp.isdtype(jnp.float32, "real floating")
    assert jnp.finfo(jnp.float32).eps == np.finfo(np.float32).eps
    assert jnp.iinfo(jnp.int16).max == 32767
    seen = {}

    def f(x):
        seen["dtype"] = jnp.result_type(x, 1)
        seen["sub"] = jnp.issubdtype(x.dtype, jnp.floating)
        seen["scalar"], seen["iterable"] = jnp.isscalar(x), jnp.iterable(x)
        return x * jnp.finfo(x).eps
    nj.jit(f)(np.float32(1.0))
    assert seen == {"dtype": np.float32, "sub": True, "scalar": True, "iterable": False}
    for name in ("float32", "int32", "complex64", "complex128", "uint32", "bool_", "bool",
                 "float_", "int_", "inexact", "floating", "integer", "number", "generic"):
        assert isinstance(getattr(jnp, name), type)


def test_isscalar_counts_zero_dimensional_arrays_as_jax_does():
    assert jnp.isscalar(1.0) and jnp.isscalar(np.float32(2)) and jnp.isscalar(np.array(3.0))
    assert not jnp.isscalar(np.ones(2)) and not jnp.isscalar([1.0])


def test_iscomplexobj_and_isrealobj_read_the_dtype():
    assert jnp.iscomplexobj(np.ones(2, complex)) and not jnp.iscomplexobj(X)
    assert jnp.isrealobj([1.0, 2.0])
    nj.jit(lambda x: x if jnp.isrealobj(x) else -x)(X)


def test_save_and_load_round_trip():
    buffer = io.BytesIO()
    jnp.save(buffer, X)
    buffer.seek(0)
    np.testing.assert_array_equal(jnp.load(buffer), X)


def test_printoptions_are_numpys():
    with jnp.printoptions(precision=2):
        assert jnp.get_printoptions()["precision"] == 2
        assert repr(np.array([1.23456])) == "array([1.23])"
    assert jnp.set_printoptions is np.set_printoptions
