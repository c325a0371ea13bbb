"""Linear algebra: jnp.linalg, nanojax.scipy.linalg and nanojax.lax.linalg.

Values against NumPy (and SciPy's conventions, from their definitions:
SciPy itself is not a dependency), on single matrices and stacks; ``jit``
against eager to the bit; ``vmap`` against a Python loop for every
primitive's batch rule; the derivatives of the functions written from the
primitives (each primitive's own rules are in test_primitive_rules.py's
``LINALG_RULES``); the errors; and the acceptance case, Gaussian-process
regression differentiated through ``cholesky`` and ``solve_triangular``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import lax
from nanojax.scipy import linalg as sla
from nanojax.tree_util import tree_leaves

RNG = np.random.default_rng(0)


def spd(*shape):
    x = RNG.standard_normal(shape)
    return x @ np.swapaxes(x, -1, -2) + shape[-1] * np.eye(shape[-1])


def conditioned(*shape):
    return RNG.standard_normal(shape) + 3.0 * np.eye(shape[-1])


A = conditioned(4, 4)
S = spd(4, 4)
STACK = conditioned(2, 3, 3)
SPD_STACK = spd(2, 3, 3)
TALL = RNG.standard_normal((5, 3))
WIDE = RNG.standard_normal((3, 5))
B = RNG.standard_normal((4, 2))
b = RNG.standard_normal(4)
LOWER = np.tril(A)
UPPER = np.triu(A)


def _forward_substitution(t, rhs, lower):
    """A reference triangular solve, written out (SciPy's, without SciPy)."""
    n = t.shape[0]
    x = np.zeros_like(rhs)
    order = range(n) if lower else range(n - 1, -1, -1)
    for i in order:
        x[i] = (rhs[i] - t[i] @ x) / t[i, i]
    return x


def _expm_series(m):
    out, term = np.eye(len(m)), np.eye(len(m))
    for k in range(1, 60):
        term = term @ m / k
        out = out + term
    return out


# ----- Values against NumPy, and jit against eager ----------------------------------

VALUE_CASES = [
    ("inv", jnp.linalg.inv, np.linalg.inv, (A,)),
    ("inv-stack", jnp.linalg.inv, np.linalg.inv, (STACK,)),
    ("solve-vector", jnp.linalg.solve, np.linalg.solve, (A, b)),
    ("solve-matrix", jnp.linalg.solve, np.linalg.solve, (A, B)),
    ("solve-stack-broadcast", jnp.linalg.solve, np.linalg.solve, (STACK, STACK[0, :, :2])),
    ("det", jnp.linalg.det, np.linalg.det, (A,)),
    ("det-stack", jnp.linalg.det, np.linalg.det, (STACK,)),
    ("slogdet", lambda a: tuple(jnp.linalg.slogdet(a)), lambda a: tuple(np.linalg.slogdet(a)),
     (-STACK,)),
    ("cholesky", jnp.linalg.cholesky, np.linalg.cholesky, (S,)),
    ("cholesky-upper", lambda a: jnp.linalg.cholesky(a, upper=True),
     lambda a: np.linalg.cholesky(a).T, (S,)),
    ("cholesky-stack", jnp.linalg.cholesky, np.linalg.cholesky, (SPD_STACK,)),
    ("eigvalsh", jnp.linalg.eigvalsh, np.linalg.eigvalsh, (SPD_STACK,)),
    ("eigh-reconstructs", lambda a: (lambda w, v: v @ (w[..., None] * np.swapaxes(v, -1, -2)))(
        *jnp.linalg.eigh(a)), lambda a: a, (SPD_STACK,)),
    ("svdvals", jnp.linalg.svdvals, lambda a: np.linalg.svd(a, compute_uv=False), (WIDE,)),
    ("svd-reconstructs", lambda a: (lambda u, s, vh: (u * s[..., None, :]) @ vh)(
        *jnp.linalg.svd(a, full_matrices=False)), lambda a: a, (TALL,)),
    ("svd-full-shapes", lambda a: [x.shape for x in jnp.linalg.svd(a)],
     lambda a: [x.shape for x in np.linalg.svd(a)], (WIDE,)),
    ("svd-hermitian", lambda a: jnp.linalg.svd(a, hermitian=True).S,
     lambda a: np.linalg.svd(a, hermitian=True).S, (S - 5 * np.eye(4),)),
    ("qr-r", lambda a: jnp.linalg.qr(a, mode="r"), lambda a: np.linalg.qr(a, mode="r"), (TALL,)),
    ("qr-complete", lambda a: tuple(jnp.linalg.qr(a, mode="complete")),
     lambda a: tuple(np.linalg.qr(a, mode="complete")), (TALL,)),
    ("qr-stack", lambda a: tuple(jnp.linalg.qr(a)), lambda a: tuple(np.linalg.qr(a)), (STACK,)),
    ("pinv", jnp.linalg.pinv, np.linalg.pinv, (TALL,)),
    ("pinv-stack", jnp.linalg.pinv, np.linalg.pinv, (STACK,)),
    ("matrix_power-5", lambda a: jnp.linalg.matrix_power(a, 5),
     lambda a: np.linalg.matrix_power(a, 5), (A,)),
    ("matrix_power-minus-3", lambda a: jnp.linalg.matrix_power(a, -3),
     lambda a: np.linalg.matrix_power(a, -3), (STACK,)),
    ("matrix_power-0", lambda a: jnp.linalg.matrix_power(a, 0),
     lambda a: np.linalg.matrix_power(a, 0), (A,)),
    ("matrix_rank", jnp.linalg.matrix_rank, np.linalg.matrix_rank, (TALL @ WIDE,)),
    ("matrix_rank-stack", jnp.linalg.matrix_rank, np.linalg.matrix_rank, (STACK,)),
    ("lstsq", lambda a, y: jnp.linalg.lstsq(a, y)[:2], lambda a, y: np.linalg.lstsq(a, y)[:2],
     (TALL, B[:, 0].repeat(2)[:5])),
    ("lstsq-rank-s", lambda a, y: jnp.linalg.lstsq(a, y)[2:],
     lambda a, y: np.linalg.lstsq(a, y)[2:], (TALL, RNG.standard_normal((5, 2)))),
    ("tensorinv", lambda a: jnp.linalg.tensorinv(a, 1), lambda a: np.linalg.tensorinv(a, 1),
     (A.reshape(4, 2, 2),)),
    ("tensorsolve", jnp.linalg.tensorsolve, np.linalg.tensorsolve, (A.reshape(2, 2, 4), B[:2])),
    ("multi_dot", lambda *xs: jnp.linalg.multi_dot(xs), lambda *xs: np.linalg.multi_dot(xs),
     (b, A, TALL[:4], WIDE)),
    *((f"norm-matrix-{o}", lambda a, o=o: jnp.linalg.norm(a, ord=o),
       lambda a, o=o: np.linalg.norm(a, ord=o), (A,))
      for o in [None, "fro", "nuc", np.inf, -np.inf, 1, -1, 2, -2]),
    *((f"norm-vector-{o}", lambda v, o=o: jnp.linalg.norm(v, ord=o),
       lambda v, o=o: np.linalg.norm(v, ord=o), (b,))
      for o in [None, np.inf, -np.inf, 0, 1, -1, 2, -2, 3, 0.5]),
    ("norm-axis-pair-keepdims", lambda x: jnp.linalg.norm(x, ord=1, axis=(2, 0), keepdims=True),
     lambda x: np.linalg.norm(x, ord=1, axis=(2, 0), keepdims=True), (STACK,)),
    ("norm-axis-int", lambda x: jnp.linalg.norm(x, ord=3, axis=-1),
     lambda x: np.linalg.norm(x, ord=3, axis=-1), (STACK,)),
    ("scipy-cholesky-upper", sla.cholesky, lambda a: np.linalg.cholesky(a).T, (S,)),
    ("scipy-cholesky-reads-one-triangle", lambda a: sla.cholesky(a, lower=True),
     lambda a: np.linalg.cholesky(a), (np.tril(S) + 9.0 * np.triu(S, 1),)),
    ("scipy-solve_triangular-lower", lambda a, y: sla.solve_triangular(a, y, lower=True),
     lambda a, y: _forward_substitution(np.tril(a), y, True), (LOWER, b)),
    ("scipy-solve_triangular-upper-T", lambda a, y: sla.solve_triangular(a, y, trans="T"),
     lambda a, y: _forward_substitution(np.triu(a).T, y, True), (UPPER, B)),
    ("scipy-solve_triangular-unit", lambda a, y: sla.solve_triangular(
        a, y, lower=True, unit_diagonal=True),
     lambda a, y: _forward_substitution(np.tril(a, -1) + np.eye(4), y, True), (LOWER, b)),
    ("scipy-cho_solve", lambda a, y: sla.cho_solve(sla.cho_factor(a), y),
     np.linalg.solve, (S, B)),
    ("scipy-cho_solve-lower", lambda a, y: sla.cho_solve(sla.cho_factor(a, lower=True), y),
     np.linalg.solve, (S, b)),
    ("scipy-lu_solve", lambda a, y: sla.lu_solve(sla.lu_factor(a), y), np.linalg.solve, (A, B)),
    ("scipy-lu_solve-T", lambda a, y: sla.lu_solve(sla.lu_factor(a), y, trans=1),
     lambda a, y: np.linalg.solve(a.T, y), (A, b)),
    ("scipy-lu-reconstructs", lambda a: (lambda p, lo, up: p @ lo @ up)(*sla.lu(a)), lambda a: a,
     (TALL,)),
    ("scipy-lu-permute_l", lambda a: (lambda pl, u: pl @ u)(*sla.lu(a, permute_l=True)),
     lambda a: a, (WIDE,)),
    ("scipy-solve-pos", lambda a, y: sla.solve(a, y, assume_a="pos"), np.linalg.solve, (S, B)),
    ("scipy-solve", sla.solve, np.linalg.solve, (A, b)),
    ("scipy-inv", sla.inv, np.linalg.inv, (A,)),
    ("scipy-det", sla.det, np.linalg.det, (A,)),
    ("scipy-expm", sla.expm, _expm_series, (2.0 * A,)),
    ("scipy-expm-small", sla.expm, _expm_series, (0.01 * A,)),
    ("lax-triangular_solve-right", lambda a, y: lax.linalg.triangular_solve(a, y, lower=True),
     lambda a, y: _forward_substitution(np.tril(a).T, y.T, False).T, (LOWER, B.T)),
]
VALUE_IDS = [c[0] for c in VALUE_CASES]


@pytest.mark.parametrize("name, fn, ref, args", VALUE_CASES, ids=VALUE_IDS)
def test_values_match_numpy(name, fn, ref, args):
    for got, want in zip(tree_leaves(fn(*args)), tree_leaves(ref(*args)), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, fn, ref, args", VALUE_CASES, ids=VALUE_IDS)
def test_jit_gives_eagers_bits(name, fn, ref, args):
    if "shapes" in name:
        return                                  # a Python value, not an array
    for got, want in zip(tree_leaves(nj.jit(fn)(*args)), tree_leaves(fn(*args)), strict=True):
        np.testing.assert_array_equal(got, want)


def test_integer_matrices_are_promoted_to_float64_as_numpy_does():
    ints = np.array([[2, 1], [1, 3]])
    for fn in (jnp.linalg.inv, jnp.linalg.det, jnp.linalg.cholesky, sla.cholesky,
               lambda a: jnp.linalg.eigh(a).eigenvalues):
        out = fn(ints)
        assert out.dtype == np.float64
    np.testing.assert_allclose(jnp.linalg.inv(ints), np.linalg.inv(ints))
    np.testing.assert_allclose(jnp.linalg.solve([[2, 0], [0, 4]], [2, 2]), [1.0, 0.5])


def test_float32_stays_float32():
    a32 = A.astype(np.float32)
    assert jnp.linalg.inv(a32).dtype == np.float32
    assert jnp.linalg.cholesky(S.astype(np.float32)).dtype == np.float32
    assert jnp.linalg.svd(a32)[1].dtype == np.float32


def test_lu_pivots_are_jaxs_int32_zero_based_row_swaps():
    lu, piv = sla.lu_factor(A)
    assert piv.dtype == np.int32 and piv.shape == (4,)
    # Applying the swaps in order gives the permutation lax.linalg.lu reports.
    rows = np.arange(4)
    for i, p in enumerate(piv):
        rows[[i, p]] = rows[[p, i]]
    _, pivots, perm = lax.linalg.lu(A)
    np.testing.assert_array_equal(pivots, piv)
    np.testing.assert_array_equal(perm, rows)
    np.testing.assert_array_equal(lax.linalg.lu_pivots_to_permutation(piv, 4), rows)
    lower = np.tril(lu, -1) + np.eye(4)
    np.testing.assert_allclose(A[perm], lower @ np.triu(lu), atol=1e-12)
    # Partial pivoting: every multiplier is at most 1 in size.
    assert np.max(np.abs(np.tril(lu, -1))) <= 1.0


def test_lu_of_a_singular_matrix_eliminates_what_it_can():
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    lu, _, perm = lax.linalg.lu(singular)
    np.testing.assert_allclose(singular[perm], (np.tril(lu, -1) + np.eye(2)) @ np.triu(lu))
    assert lu[1, 1] == 0.0


def test_cholesky_of_a_matrix_that_is_not_positive_definite_is_nan_as_in_jax():
    stack = np.stack([S, -S])
    out = jnp.linalg.cholesky(stack)
    np.testing.assert_allclose(out[0], np.linalg.cholesky(S))
    assert np.all(np.isnan(out[1]))
    assert np.all(np.isnan(nj.jit(sla.cholesky)(-S)))


def test_lstsq_returns_jaxs_four_tuple():
    x, resid, rank, s = jnp.linalg.lstsq(TALL, np.ones(5))
    ref = np.linalg.lstsq(TALL, np.ones(5))
    np.testing.assert_allclose(x, ref[0])
    np.testing.assert_allclose(resid, ref[1])
    assert int(rank) == ref[2] == 3
    np.testing.assert_allclose(s, ref[3])
    # numpy_resid: NumPy's empty residuals where the system is not overdetermined.
    assert jnp.linalg.lstsq(WIDE, np.ones(3), numpy_resid=True)[1].shape == (0,)


def test_plain_numpy_calls_on_traced_values_are_ours():
    # np.linalg.<name>(tracer) dispatches to nanojax.numpy.linalg.<name>.
    g = nj.grad(lambda a: np.linalg.slogdet(a)[1])(A)
    np.testing.assert_allclose(g, np.linalg.inv(A).T)
    g = nj.grad(lambda a: np.linalg.det(a))(A)
    np.testing.assert_allclose(g, np.linalg.det(A) * np.linalg.inv(A).T)


# ----- Derivatives of the functions written from the primitives --------------------

GRAD_CASES = [
    ("pinv", jnp.linalg.pinv, (TALL,)),
    ("lstsq", lambda a, y: jnp.linalg.lstsq(a, y)[0], (TALL, RNG.standard_normal(5))),
    ("matrix_power", lambda a: jnp.linalg.matrix_power(a, 3), (A / 3,)),
    ("matrix_power-negative", lambda a: jnp.linalg.matrix_power(a, -2), (A,)),
    ("multi_dot", lambda x, y, z: jnp.linalg.multi_dot([x, y, z]), (b, A, B)),
    ("tensorsolve", jnp.linalg.tensorsolve, (A.reshape(2, 2, 4), B[:2])),
    ("svd-hermitian", lambda a: jnp.linalg.svd(a, hermitian=True).S, (S - 5 * np.eye(4),)),
    *((f"norm-matrix-{o}", lambda a, o=o: jnp.linalg.norm(a, ord=o), (A,))
      for o in ["fro", "nuc", np.inf, 1, 2, -2]),
    *((f"norm-vector-{o}", lambda v, o=o: jnp.linalg.norm(v, ord=o), (b,))
      for o in [np.inf, -1, 3, 0.5]),
    ("scipy-cho_solve", lambda a, y: sla.cho_solve(sla.cho_factor(a), y), (S, B)),
    ("scipy-lu_solve", lambda a, y: sla.lu_solve(sla.lu_factor(a), y, trans=1), (A, B)),
    ("scipy-solve-pos", lambda a, y: sla.solve(a, y, assume_a="pos"), (S, b)),
    ("scipy-lu-u", lambda a: sla.lu(a)[2], (A,)),
    ("scipy-expm", sla.expm, (A / 2,)),
]


@pytest.mark.parametrize("name, fn, args", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_composite_derivatives_match_finite_differences(name, fn, args):
    nj.check_grads(fn, args, order=2, modes=("fwd", "rev"))


def test_symmetrized_functions_have_symmetric_gradients():
    for fn in (lambda a: jnp.sum(jnp.linalg.cholesky(a)),
               lambda a: jnp.sum(jnp.linalg.eigh(a).eigenvalues ** 3)):
        g = nj.grad(fn)(S)
        np.testing.assert_allclose(g, g.T, atol=1e-12)
    # scipy's cholesky reads one triangle: the other has no derivative.
    g = nj.grad(lambda a: jnp.sum(sla.cholesky(a, lower=True)))(S)
    assert np.all(np.triu(g, 1) == 0)


def test_unsupported_derivative_cases_say_so():
    with pytest.raises(NotImplementedError, match="qr: derivatives"):
        nj.grad(lambda a: jnp.sum(jnp.linalg.qr(a)[0]))(WIDE)
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        nj.grad(lambda a: jnp.sum(jnp.linalg.svd(a)[0]))(TALL)


def test_second_derivatives_compose_with_jit_and_vmap():
    f = lambda a: jnp.linalg.slogdet(a).logabsdet  # noqa: E731
    hess = nj.jit(nj.hessian(f))(A)
    np.testing.assert_allclose(hess, nj.hessian(f)(A), rtol=1e-12)
    per_example = nj.vmap(nj.grad(lambda a: jnp.sum(jnp.linalg.inv(a))))(STACK)
    loop = np.stack([nj.grad(lambda a: jnp.sum(jnp.linalg.inv(a)))(m) for m in STACK])
    np.testing.assert_allclose(per_example, loop, rtol=1e-12)


# ----- vmap against a loop: every primitive's batch rule ----------------------------

VMAP_CASES = [
    ("cholesky", jnp.linalg.cholesky, (spd(3, 4, 4),)),
    ("triangular_solve", lambda a, y: lax.linalg.triangular_solve(a, y, left_side=True,
                                                                   lower=True),
     (conditioned(3, 4, 4), RNG.standard_normal((3, 4, 2)))),
    ("inv", jnp.linalg.inv, (conditioned(3, 4, 4),)),
    ("solve", jnp.linalg.solve, (conditioned(3, 4, 4), RNG.standard_normal((3, 4)))),
    ("det", jnp.linalg.det, (conditioned(3, 4, 4),)),
    ("slogdet", lambda a: tuple(jnp.linalg.slogdet(a)), (conditioned(3, 4, 4),)),
    ("eigh", lambda a: (lambda w, v: (w, v ** 2))(*jnp.linalg.eigh(a)), (spd(3, 4, 4),)),
    ("svd", lambda a: [x ** 2 for x in jnp.linalg.svd(a, full_matrices=False)],
     (RNG.standard_normal((3, 5, 3)),)),
    ("svd-values", jnp.linalg.svdvals, (RNG.standard_normal((3, 2, 4)),)),
    ("qr", lambda a: tuple(jnp.linalg.qr(a)), (RNG.standard_normal((3, 5, 3)),)),
    ("lu", lax.linalg.lu, (RNG.standard_normal((3, 4, 5)),)),
]


@pytest.mark.parametrize("name, fn, args", VMAP_CASES, ids=[c[0] for c in VMAP_CASES])
def test_vmap_matches_a_loop(name, fn, args):
    loop = [fn(*(x[i] for x in args)) for i in range(3)]
    for in_axes in [0] + ([(0, None), (None, 0)] if len(args) == 2 else []):
        batched_args = [x if ax == 0 else x[0] for x, ax in
                        zip(args, in_axes if isinstance(in_axes, tuple) else (0,) * len(args))]
        out = nj.vmap(fn, in_axes=in_axes)(*batched_args)
        want = loop if in_axes == 0 else [
            fn(*(x[i] if ax == 0 else x for x, ax in zip(batched_args, in_axes)))
            for i in range(3)]
        for k, leaf in enumerate(tree_leaves(out)):
            np.testing.assert_allclose(leaf, np.stack([tree_leaves(w)[k] for w in want]),
                                       rtol=1e-10, atol=1e-12)


def test_vmap_along_another_axis():
    stack = np.moveaxis(spd(3, 4, 4), 0, 2)            # the examples along axis 2
    out = nj.vmap(jnp.linalg.cholesky, in_axes=2, out_axes=1)(stack)
    for i in range(3):
        np.testing.assert_allclose(out[:, i], np.linalg.cholesky(stack[:, :, i]))


# ----- Errors ----------------------------------------------------------------------

ERROR_CASES = [
    (lambda: jnp.linalg.inv(TALL), ValueError, "nanojax.numpy.linalg.inv: expects square"),
    (lambda: jnp.linalg.det(b), ValueError, "nanojax.numpy.linalg.det: expects a matrix"),
    (lambda: jnp.linalg.cholesky(np.ones((2, 2), complex)), TypeError,
     "nanojax.numpy.linalg.cholesky: complex matrices are not supported"),
    (lambda: jnp.linalg.inv(np.ones((2, 2), np.float16)), TypeError, "float16"),
    (lambda: jnp.linalg.solve(A, np.ones(3)), ValueError,
     "nanojax.numpy.linalg.solve: b of shape"),
    (lambda: jnp.linalg.solve(STACK, np.ones((4, 3, 1))), ValueError, "do not broadcast"),
    (lambda: jnp.linalg.inv(np.zeros((2, 2))), np.linalg.LinAlgError, "singular"),
    (lambda: jnp.linalg.qr(A, mode="raw"), ValueError, "mode must be"),
    (lambda: jnp.linalg.eigh(A, UPLO="X"), ValueError, "UPLO must be"),
    (lambda: jnp.linalg.matrix_power(A, 1.5), TypeError, "exponent must be a Python int"),
    (lambda: nj.jit(lambda a: jnp.linalg.norm(a, ord="nuc", axis=0))(A), ValueError,
     "invalid norm order 'nuc' for vectors"),
    (lambda: nj.jit(lambda a: jnp.linalg.norm(a, ord=3, axis=(0, 1)))(A), ValueError,
     "invalid norm order 3 for matrices"),
    (lambda: nj.jit(lambda a: jnp.linalg.norm(a, axis=(0, 0)))(A), ValueError, "duplicate axes"),
    (lambda: sla.solve_triangular(A, np.ones(4), trans=3), ValueError, "trans must be"),
    (lambda: sla.solve_triangular(A, np.ones((3, 2))), ValueError,
     "nanojax.scipy.linalg.solve_triangular: b of shape"),
    (lambda: sla.solve(A, b, assume_a="banded"), ValueError, "assume_a must be"),
    (lambda: lax.linalg.cholesky([[1.0]]), TypeError,
     "nanojax.lax.linalg.cholesky: takes arrays"),
    (lambda: lax.linalg.triangular_solve(A, B), ValueError, "must have 4 columns"),
    (lambda: lax.linalg.triangular_solve(STACK, B), ValueError, "same batch dimensions"),
    (lambda: jnp.linalg.lstsq(STACK, b), ValueError, "a must be 2-D"),
    (lambda: jnp.linalg.tensorinv(TALL, 1), ValueError, "not square"),
]


@pytest.mark.parametrize("call, kind, message", ERROR_CASES)
def test_bad_input_gets_a_sentence_naming_the_function(call, kind, message):
    with pytest.raises(kind, match=message.replace(".", r"\.").replace("(", r"\(")):
        call()


def test_shape_errors_are_the_same_under_jit():
    with pytest.raises(ValueError, match=r"nanojax\.numpy\.linalg\.inv: expects square"):
        nj.jit(jnp.linalg.inv)(TALL)
    with pytest.raises(ValueError, match=r"nanojax\.numpy\.linalg\.solve"):
        nj.grad(lambda a: jnp.sum(jnp.linalg.solve(a, np.ones(3))))(A)


# ----- Acceptance: Gaussian-process regression ---------------------------------------

GP_X = np.sort(RNG.uniform(-3.0, 3.0, 20))
GP_Y = np.sin(GP_X) + 0.1 * RNG.standard_normal(20)


def gp_negative_log_marginal_likelihood(log_params):
    """RBF kernel, hyperparameters (lengthscale, signal variance, noise variance) as logs."""
    lengthscale, signal, noise = jnp.exp(log_params)
    d = (GP_X[:, None] - GP_X[None, :]) / lengthscale
    k = signal * jnp.exp(-0.5 * d * d) + noise * jnp.eye(len(GP_X))
    chol = sla.cholesky(k, lower=True)
    alpha = sla.solve_triangular(chol, GP_Y, lower=True)         # L^-1 y
    log_det = 2.0 * jnp.sum(jnp.log(jnp.diagonal(chol)))
    return 0.5 * jnp.dot(alpha, alpha) + 0.5 * log_det + 0.5 * len(GP_X) * np.log(2 * np.pi)


def _gp_reference(log_params):
    lengthscale, signal, noise = np.exp(log_params)
    d = (GP_X[:, None] - GP_X[None, :]) / lengthscale
    k = signal * np.exp(-0.5 * d * d) + noise * np.eye(len(GP_X))
    return (0.5 * GP_Y @ np.linalg.solve(k, GP_Y) + 0.5 * np.linalg.slogdet(k)[1]
            + 0.5 * len(GP_X) * np.log(2 * np.pi))


@pytest.mark.parametrize("transform", ["eager", "jit"])
def test_gaussian_process_gradient_matches_finite_differences(transform):
    theta = np.log(np.array([0.8, 1.3, 0.05]))
    nll = gp_negative_log_marginal_likelihood
    value_and_grad = nj.value_and_grad(nll)
    if transform == "jit":
        value_and_grad = nj.jit(value_and_grad)
    value, grad = value_and_grad(theta)
    np.testing.assert_allclose(value, _gp_reference(theta), rtol=1e-12)
    np.testing.assert_allclose(grad, nj.numerical_grad(nll)(theta), rtol=1e-6, atol=1e-7)
    assert np.max(np.abs(grad)) > 0.1           # a gradient that could be wrong
    nj.check_grads(nj.jit(nll) if transform == "jit" else nll, (theta,), order=2,
                   modes=("fwd", "rev"))


def test_gaussian_process_example_fits_the_data(capsys):
    path = Path(__file__).resolve().parent.parent / "examples" / "gaussian_process.py"
    spec = importlib.util.spec_from_file_location("example_gaussian_process", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    assert module.main(["--steps", "100"]) == 0
    out = capsys.readouterr().out
    assert float(out.split("at the start:")[1].split()[0]) < 1e-6
    start, end = (float(v) for v in out.split("likelihood:")[1].split("after")[0].split("->"))
    assert end < start
    assert float(out.split("rmse")[1]) < 0.2


def test_nanojax_scipy_is_reachable_as_an_attribute_without_an_import():
    import subprocess
    import sys
    code = ("import nanojax as nj, numpy as np, sys; "
            "assert 'nanojax.scipy' not in sys.modules; "
            "print(nj.scipy.linalg.solve_triangular(np.eye(2), np.ones(2), lower=True))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[1. 1.]"


# ----- The Array API names: matrix_norm ... cond, eig, eigvals (the scipy-stats branch) ----

_STACK = np.random.default_rng(21).normal(size=(3, 4, 4))


@pytest.mark.parametrize("name, fn, ref, args", [
    ("matrix_norm", lambda x: jnp.linalg.matrix_norm(x), lambda x: np.linalg.norm(x, axis=(-2, -1)),
     (_STACK,)),
    ("matrix_norm-nuc", lambda x: jnp.linalg.matrix_norm(x, ord="nuc", keepdims=True),
     lambda x: np.linalg.norm(x, ord="nuc", axis=(-2, -1), keepdims=True), (_STACK,)),
    ("vector_norm", lambda x: jnp.linalg.vector_norm(x), lambda x: np.linalg.norm(x.ravel()),
     (_STACK,)),
    ("vector_norm-axis", lambda x: jnp.linalg.vector_norm(x, axis=1, ord=1),
     lambda x: np.linalg.norm(x, ord=1, axis=1), (_STACK,)),
    ("vecdot", lambda x, y: jnp.linalg.vecdot(x, y), lambda x, y: np.sum(x * y, axis=-1),
     (_STACK, _STACK[0])),
    ("trace", lambda x: jnp.linalg.trace(x, offset=1), lambda x: np.trace(x, 1, -2, -1),
     (_STACK,)),
    ("tensordot", lambda x, y: jnp.linalg.tensordot(x, y, axes=1),
     lambda x, y: np.tensordot(x, y, 1), (_STACK[0], _STACK[1])),
    ("outer", jnp.linalg.outer, np.outer, (_STACK[0, 0], _STACK[0, 1, :3])),
    ("matrix_transpose", jnp.linalg.matrix_transpose, lambda x: np.swapaxes(x, -1, -2),
     (_STACK,)),
    ("matmul", jnp.linalg.matmul, np.matmul, (_STACK, _STACK[0])),
    ("diagonal", lambda x: jnp.linalg.diagonal(x, offset=-1),
     lambda x: np.diagonal(x, -1, -2, -1), (_STACK,)),
    ("cross", jnp.linalg.cross, np.cross, (_STACK[:, :, :3], _STACK[0, :, 1:])),
    ("cond", jnp.linalg.cond, np.linalg.cond, (_STACK,)),
    ("cond-fro", lambda x: jnp.linalg.cond(x, "fro"), lambda x: np.linalg.cond(x, "fro"),
     (_STACK,)),
    ("cond-1", lambda x: jnp.linalg.cond(x, 1), lambda x: np.linalg.cond(x, 1), (_STACK,)),
])
def test_array_api_linalg_names_match_numpy(name, fn, ref, args):
    want = ref(*args)
    got = fn(*args)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_array_equal(nj.jit(fn)(*args), got)
    if np.ndim(args[0]) == 3 and name not in ("vector_norm",):
        looped = np.stack([fn(args[0][i], *args[1:]) for i in range(3)])
        np.testing.assert_allclose(nj.vmap(fn, (0,) + (None,) * (len(args) - 1))(*args), looped,
                                   rtol=1e-13)
    total = lambda *a: jnp.sum(fn(*a))    # noqa: E731
    nj.check_grads(total, args, order=1, modes=("fwd", "rev"))


def test_array_api_linalg_errors():
    with pytest.raises(ValueError, match=r"^nanojax.numpy.linalg.outer: the arguments must be 1-D"):
        jnp.linalg.outer(np.ones((2, 2)), np.ones(2))
    with pytest.raises(ValueError, match=r"^nanojax.numpy.linalg.cross: the arguments must have 3"):
        jnp.linalg.cross(np.ones(2), np.ones(2))
    with pytest.raises(ValueError, match=r"^nanojax.numpy.linalg.matrix_norm: x must have"):
        jnp.linalg.matrix_norm(np.ones(3))
    assert jnp.linalg.cond(np.array([[1.0, 1.0], [1.0, 1.0]]), 1) == np.inf


def test_eig_values_vectors_jit_vmap():
    a = _STACK
    w, v = jnp.linalg.eig(a)
    assert w.dtype == np.complex128 and v.dtype == np.complex128 and w.shape == (3, 4)
    np.testing.assert_allclose(a @ v, v * w[:, None, :], atol=1e-12)
    np.testing.assert_array_equal(jnp.linalg.eigvals(a), np.linalg.eigvals(a))
    # Real eigenvalues still come out complex, as in JAX.
    assert jnp.linalg.eigvals(np.diag([1.0, 2.0])).dtype == np.complex128
    assert jnp.linalg.eigvals(np.eye(2, dtype=np.float32)).dtype == np.complex64
    staged = nj.jit(jnp.linalg.eig)(a)
    np.testing.assert_array_equal(staged.eigenvalues, w)
    np.testing.assert_array_equal(staged.eigenvectors, v)
    np.testing.assert_array_equal(nj.vmap(jnp.linalg.eigvals)(a),
                                  np.stack([jnp.linalg.eigvals(m) for m in a]))


@pytest.mark.parametrize("how", ["grad", "jvp"])
def test_eig_refuses_differentiation_clearly(how):
    with pytest.raises(TypeError, match=r"eig.*complex"):
        if how == "grad":
            nj.vjp(jnp.linalg.eigvals, _STACK[0])
        else:
            nj.jvp(jnp.linalg.eigvals, (_STACK[0],), (_STACK[1],))
    with pytest.raises(ValueError, match=r"^nanojax.numpy.linalg.eig"):
        jnp.linalg.eig(np.ones((2, 3)))


@pytest.mark.parametrize("name,call", [
    ("inv", lambda: jnp.linalg.inv(np.zeros((2, 2)))),
    ("solve", lambda: jnp.linalg.solve(np.zeros((2, 2)), np.ones(2))),
])
def test_a_singular_matrix_is_refused_with_the_public_name_and_what_to_do(name, call):
    with pytest.raises(np.linalg.LinAlgError, match=rf"^nanojax\.numpy\.linalg\.{name}: .*pinv"):
        call()
