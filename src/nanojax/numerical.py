"""The guide's Strategy #2: derivatives by nudging inputs, and the gradient check.

``numerical_grad`` needs nothing but the ability to run the function, which
makes it slow (two runs per input number) but hard to get wrong. That is why
it referees every analytic rule in nanojax: ``check_grads`` compares ``jvp``
and ``vjp`` (and their derivatives, for ``order=2``) against it.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

from nanojax.api_util import check_argnums, check_float_inputs
from nanojax.autodiff import jvp, vjp
from nanojax.tree_util import tree_flatten, tree_map, tree_unflatten

__all__ = ["numerical_grad", "check_grads"]


def _as_float_leaf(x: Any) -> np.ndarray:
    return np.array(x, dtype=np.result_type(np.asarray(x).dtype, np.float64), copy=True)


def _scalar(value: Any, fn_name: str) -> float:
    arr = np.asarray(value)
    if arr.shape != ():
        raise TypeError(f"{fn_name} requires a function with a scalar output, but the "
                        f"output had shape {arr.shape}")
    return float(arr)


def numerical_grad(fun: Callable, argnums: int | Sequence[int] = 0, eps: float = 1e-6,
                   method: str = "central") -> Callable:
    """The gradient by finite differences, shaped exactly like ``grad``'s.

    ``method="forward"`` is the guide's ``(f(x + h) - f(x)) / h``;
    ``"central"`` is ``(f(x + h) - f(x - h)) / 2h``, whose error shrinks like
    h**2 instead of h.

    Examples:
        >>> import nanojax as nj
        >>> dx, dy = nj.numerical_grad(lambda x, y: x * y, argnums=(0, 1),
        ...                            eps=1e-4, method="forward")(-2.0, 3.0)
        >>> print(round(dx, 6), round(dy, 6))
        3.0 -2.0
    """
    if method not in ("central", "forward"):
        raise ValueError("nanojax.numerical_grad: method must be 'central' or 'forward', "
                         f"got {method!r}")
    if not eps > 0:
        raise ValueError(f"nanojax.numerical_grad: eps must be positive, got {eps!r}")

    def numerical_grad_fun(*args: Any, **kwargs: Any) -> Any:
        nums = check_argnums(argnums, len(args), "nanojax.numerical_grad")
        check_float_inputs(args, nums, "nanojax.numerical_grad")
        full = list(args)

        def f() -> float:
            return _scalar(fun(*full, **kwargs), "nanojax.numerical_grad")

        base = f() if method == "forward" else 0.0     # read by forward differences only
        grads = []
        for i in nums:
            leaves, tree = tree_flatten(args[i])
            work = [_as_float_leaf(x) for x in leaves]
            out_leaves = []
            for leaf in work:
                g = np.zeros_like(leaf)
                for pos in np.ndindex(leaf.shape):
                    orig = leaf[pos]
                    leaf[pos] = orig + eps
                    full[i] = tree_unflatten(tree, _unwrap(work, leaves))
                    up = f()
                    if method == "central":
                        leaf[pos] = orig - eps
                        full[i] = tree_unflatten(tree, _unwrap(work, leaves))
                        g[pos] = (up - f()) / (2 * eps)
                    else:
                        g[pos] = (up - base) / eps
                    leaf[pos] = orig
                out_leaves.append(g[()] if g.shape == () else g)
            full[i] = args[i]
            grads.append(tree_unflatten(tree, out_leaves))
        return grads[0] if isinstance(argnums, int) else tuple(grads)

    return numerical_grad_fun


def _unwrap(work: list, originals: list) -> list:
    # Each input goes back in as the type it was given: a scalar as a scalar,
    # a 0-d array as a 0-d array.
    return [w.copy() if isinstance(o, np.ndarray) else w[()] for w, o in zip(work, originals)]


# ----- check_grads ----------------------------------------------------------------

def _random_like(tree: Any, rng: np.random.Generator) -> Any:
    return tree_map(lambda x: _leafify(rng.standard_normal(np.shape(x)), x), tree)


def _leafify(value: np.ndarray, like: Any) -> Any:
    return value if isinstance(like, np.ndarray) else value[()]


def _axpy(a: float, xs: Any, ys: Any) -> Any:
    return tree_map(lambda x, y: _leafify(np.asarray(y) + a * np.asarray(x), y), xs, ys)


def _flat_array(tree: Any) -> np.ndarray:
    leaves = tree_flatten(tree)[0]
    if not leaves:
        return np.zeros(0)
    return np.concatenate([np.ravel(np.asarray(x, dtype=np.float64)) for x in leaves])


def _compare(analytic: Any, numeric: Any, atol: float, rtol: float, what: str) -> None:
    a, n = _flat_array(analytic), _flat_array(numeric)
    if a.shape != n.shape:
        raise AssertionError(f"{what}: analytic result has {a.size} numbers, numerical "
                             f"has {n.size}")
    err = np.abs(a - n) - (atol + rtol * np.abs(n))
    if err.size and (np.max(err) > 0 or not np.all(np.isfinite(a) == np.isfinite(n))):
        worst = int(np.argmax(np.where(np.isnan(err), np.inf, err)))
        raise AssertionError(
            f"{what} mismatch: worst at flat position {worst}: analytic {a[worst]!r} vs "
            f"numerical {n[worst]!r} (|diff| {abs(a[worst] - n[worst]):.3g}, allowed "
            f"{atol + rtol * abs(n[worst]):.3g}); analytic={a}, numerical={n}")


def _check_jvp(f: Callable, args: Sequence[Any], eps: float, atol: float, rtol: float,
               rng: np.random.Generator) -> None:
    tangents = _random_like(args, rng)
    _, t_out = jvp(f, args, tangents)
    up = f(*_axpy(eps, tangents, args))
    down = f(*_axpy(-eps, tangents, args))
    numeric = tree_map(lambda u, d: (np.asarray(u) - np.asarray(d)) / (2 * eps), up, down)
    _compare(t_out, numeric, atol, rtol, "JVP (forward mode)")


def _check_vjp(f: Callable, args: Sequence[Any], eps: float, atol: float, rtol: float,
               rng: np.random.Generator) -> None:
    out, pull = vjp(f, *args)
    ct = _random_like(out, rng)
    analytic = pull(ct)

    def projected(*xs):
        o = f(*xs)
        return float(sum(np.sum(np.asarray(a) * np.asarray(b))
                         for a, b in zip(tree_flatten(o)[0], tree_flatten(ct)[0])))

    numeric = numerical_grad(projected, argnums=tuple(range(len(args))), eps=eps)(*args)
    _compare(analytic, numeric, atol, rtol, "VJP (reverse mode)")


def check_grads(fun: Callable, args: Sequence[Any], order: int = 1,
                modes: Sequence[str] = ("fwd", "rev"), atol: float | None = None,
                rtol: float | None = None, eps: float | None = None) -> None:
    """Check ``fun``'s derivatives against central differences.

    Reverse mode compares each input's cotangent with the numerical gradient
    of ``<ct, fun(x)>`` for a random ``ct``; forward mode compares ``jvp``
    along a random direction with ``(fun(x + h v) - fun(x - h v)) / 2h``.
    ``order=2`` checks the derivatives of those derivatives as well. Raises
    ``AssertionError`` naming the worst mismatch.

    Examples:
        >>> import nanojax as nj
        >>> nj.check_grads(lambda a, b: a * a + b * b, (3.0, -1.0), order=2)
    """
    args = tuple(args)
    if order not in (1, 2, 3):
        raise ValueError(f"nanojax.check_grads: order must be 1, 2 or 3, got {order!r}")
    bad = set(modes) - {"fwd", "rev"}
    if bad or not modes:
        raise ValueError("nanojax.check_grads: modes must be a non-empty subset of "
                         f"('fwd', 'rev'), got {modes!r}")
    check_float_inputs(args, tuple(range(len(args))), "nanojax.check_grads")
    args = tree_map(lambda x: _leafify(_as_float_leaf(x), x), args)
    eps = 1e-5 if eps is None else eps
    atol = 1e-5 if atol is None else atol
    rtol = 1e-5 if rtol is None else rtol
    rng = np.random.default_rng(0)

    def check(f: Callable, k: int) -> None:
        if "fwd" in modes:
            _check_jvp(f, args, eps, atol, rtol, rng)
            if k > 1:
                tangents = _random_like(args, rng)
                check(lambda *xs: jvp(f, xs, tangents)[1], k - 1)
        if "rev" in modes:
            _check_vjp(f, args, eps, atol, rtol, rng)
            if k > 1:
                ct = _random_like(f(*args), rng)
                check(lambda *xs: vjp(f, *xs)[1](ct), k - 1)

    check(fun, order)
