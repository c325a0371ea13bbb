"""``jax.test_util``: a function's derivatives checked against central differences.

``check_grads(f, args, order)`` checks ``jvp`` (mode ``"fwd"``), ``vjp``
(``"rev"``) and ``linearize`` (``"lin"``) of ``f`` at ``args`` against
finite differences along a random direction, and, up to ``order``, the
derivatives of those derivatives; it raises ``AssertionError`` saying which
check failed. As in JAX, a tolerance is per dtype (``1e-5`` for float64,
``2e-3`` for float32), may be given as a number or a ``{dtype: tol}`` dict,
and is scaled by the number of elements compared.

Examples:
    >>> import nanojax.numpy as jnp
    >>> check_grads(lambda x, y: jnp.sin(x) * y, (1.5, jnp.arange(3.0)), order=2)
    >>> check_grads(lambda x: jnp.where(x > 0, x, 0.5 * x), (jnp.array([1.0, -2.0]),), 1,
    ...             modes=["rev"])
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nanojax.api import linearize
from nanojax.autodiff import jvp, vjp
from nanojax.tree_util import tree_leaves, tree_map

__all__ = ["check_grads", "check_jvp", "check_vjp"]

EPS = 1e-4
# How far a derivative may be from its finite difference, per element, by dtype (JAX's).
_GRADIENT_TOLERANCE = {np.dtype(np.float16): 1e-2, np.dtype(np.float32): 2e-3,
                       np.dtype(np.float64): 1e-5}


def _tolerance(dtype: np.dtype, tol: Any) -> float:
    default = _GRADIENT_TOLERANCE.get(np.dtype(dtype), 1e-5)
    if tol is None:
        return default
    if isinstance(tol, dict):
        merged = {np.dtype(k): v for k, v in tol.items()}
        return float(merged.get(np.dtype(dtype), default))
    return float(tol)


def _dtype(x: Any) -> np.dtype:
    return np.asarray(x).dtype


def _check_floats(args: Any, who: str) -> None:
    for i, leaf in enumerate(tree_leaves(args)):
        if not np.issubdtype(_dtype(leaf), np.floating):
            raise TypeError(f"nanojax.test_util.{who}: input leaf {i} is of dtype "
                            f"{_dtype(leaf)}; derivatives are checked at real floating-point "
                            "inputs, so pass floats (make integer arguments static by closing "
                            "over them)")


def _rand_like(rng: np.random.RandomState, x: Any) -> Any:
    sample = np.asarray(rng.randn(*np.shape(x)), dtype=_dtype(x))
    return sample.item() if isinstance(x, (int, float)) else sample


def _scaled(xs: Any, a: float) -> Any:
    return tree_map(lambda x: np.multiply(x, np.asarray(a, _dtype(x)), dtype=_dtype(x)), xs)


def _numerical_jvp(f: Callable, primals: Any, tangents: Any, eps: float) -> Any:
    delta = _scaled(tangents, eps)
    plus = f(*tree_map(lambda p, d: np.add(p, d, dtype=_dtype(p)), primals, delta))
    minus = f(*tree_map(lambda p, d: np.subtract(p, d, dtype=_dtype(p)), primals, delta))

    def difference(a: Any, b: Any) -> np.ndarray:
        with np.errstate(invalid="ignore"):   # inf - inf is no change
            return np.where(np.equal(a, b), np.zeros((), _dtype(a)),
                            np.subtract(a, b, dtype=_dtype(a)))
    return _scaled(tree_map(difference, plus, minus), 0.5 / eps)


def _inner_product(xs: Any, ys: Any) -> float:
    return sum((float(np.dot(np.ravel(x), np.ravel(y)))
                for x, y in zip(tree_leaves(xs), tree_leaves(ys))), 0.0)


def _check_close(xs: Any, ys: Any, atol: Any, rtol: Any, err_msg: str) -> None:
    x_leaves, y_leaves = tree_leaves(xs), tree_leaves(ys)
    # Raised, not asserted: the checks must hold under ``python -O`` too.
    if len(x_leaves) != len(y_leaves):
        raise AssertionError(f"{err_msg}: {len(x_leaves)} outputs against {len(y_leaves)}")
    for x, y in zip(x_leaves, y_leaves):
        a, b = np.asarray(x), np.asarray(y)
        if a.shape != b.shape:
            raise AssertionError(f"{err_msg}: shape {a.shape} against {b.shape}")
        a_tol = max(_tolerance(a.dtype, atol), _tolerance(b.dtype, atol))
        r_tol = max(_tolerance(a.dtype, rtol), _tolerance(b.dtype, rtol))
        np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64),
                                   atol=a_tol * max(a.size, 1), rtol=r_tol * max(b.size, 1),
                                   err_msg=err_msg)


def check_jvp(f: Callable, f_jvp: Callable, args: Sequence[Any], atol: Any = None,
              rtol: Any = None, eps: float = EPS, err_msg: str = "") -> None:
    """Check ``f_jvp(args, tangents) -> (f(*args), tangent_out)`` against ``f`` and
    a central difference along a random tangent."""
    args = tuple(args)
    tangent = tree_map(functools.partial(_rand_like, np.random.RandomState(0)), args)
    out, tangent_out = f_jvp(args, tangent)
    _check_close(out, f(*args), atol, rtol, f"{err_msg} primal".strip())
    _check_close(tangent_out, _numerical_jvp(f, args, tangent, eps), atol, rtol,
                 f"{err_msg} tangent".strip())


def check_vjp(f: Callable, f_vjp: Callable, args: Sequence[Any], atol: Any = None,
              rtol: Any = None, eps: float = EPS, err_msg: str = "") -> None:
    """Check ``f_vjp(*args) -> (f(*args), vjp_fun)``: ``<t, vjp_fun(c)>`` must equal
    ``<jvp(t), c>`` (from a central difference) for random ``t`` and ``c``."""
    args = tuple(args)
    out, vjp_fun = f_vjp(*args)
    _check_close(out, f(*args), atol, rtol, f"{err_msg} primal".strip())
    rng = np.random.RandomState(0)
    tangent = tree_map(functools.partial(_rand_like, rng), args)
    cotangent = tree_map(functools.partial(_rand_like, rng), out)
    cotangent_out = vjp_fun(cotangent)
    tangent_out = _numerical_jvp(f, args, tangent, eps)
    _check_close(_inner_product(tangent, cotangent_out), _inner_product(tangent_out, cotangent),
                 atol, rtol, f"{err_msg} cotangent projection".strip())


def check_grads(f: Callable, args: Sequence[Any], order: int,
                modes: Sequence[str] = ("fwd", "rev"), atol: Any = None, rtol: Any = None,
                eps: float | None = None) -> None:
    """Check ``f``'s derivatives at ``args`` up to ``order`` in each of ``modes``
    (``"fwd"``, ``"rev"``, ``"lin"``); raises ``AssertionError`` if one is off."""
    if isinstance(order, bool) or not isinstance(order, int) or order < 1:
        raise ValueError(f"nanojax.test_util.check_grads: order must be a positive int, got "
                         f"{order!r}")
    unknown = [m for m in modes if m not in ("fwd", "rev", "lin")]
    if unknown:
        raise ValueError(f"nanojax.test_util.check_grads: unknown mode(s) {unknown}; the modes "
                         "are 'fwd', 'rev' and 'lin'")
    args = tuple(args)
    _check_floats(args, "check_grads")
    eps = eps or EPS
    check = functools.partial(check_jvp, atol=atol, rtol=rtol, eps=eps)
    check_rev = functools.partial(check_vjp, atol=atol, rtol=rtol, eps=eps)

    def recurse(f: Callable, args: tuple, order: int, err_msg: str = "") -> None:
        if "fwd" in modes:
            message = f"{err_msg} JVP of order {order}".strip()
            check(f, functools.partial(jvp, f), args, err_msg=message)
            if order > 1:
                recurse(functools.partial(jvp, f), (args, args), order - 1, message)
        if "rev" in modes:
            message = f"{err_msg} VJP of order {order}".strip()
            check_rev(f, functools.partial(vjp, f), args, err_msg=message)
            if order > 1:
                def f_vjp(*primals: Any) -> Any:
                    out, vjp_fun = vjp(f, *primals)
                    return vjp_fun(out)
                recurse(f_vjp, args, order - 1, message)
        if "lin" in modes:
            message = f"{err_msg} linearize of order {order}".strip()
            check(f, functools.partial(_jvp_by_linearize, f), args, err_msg=message)
            if order > 1:
                recurse(functools.partial(_jvp_by_linearize, f), (args, args), order - 1,
                        message)

    recurse(f, args, order)


def _jvp_by_linearize(f: Callable, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple:
    out, f_lin = linearize(f, *primals)
    return out, f_lin(*tangents)
