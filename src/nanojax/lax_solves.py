"""``lax.custom_root`` and ``lax.custom_linear_solve``: solvers differentiated implicitly.

A solver's iterations (Newton steps, conjugate gradients) are not what one
wants to differentiate: their derivative is costly, inexact, or not defined
(a ``while_loop`` has no reverse mode). What the solver computes is defined
by an equation instead, and so is its derivative. For a root ``y*`` of
``f(p, y) = 0`` the implicit function theorem gives ``dy*/dp = -(df/dy)^-1
df/dp``; for ``x = A^-1 b`` the pull of a cotangent ``g`` is ``b_bar =
A^-T g`` and, through ``A``, minus ``x`` weighted by it. As in JAX, the
parameters ``p`` are whatever ``f`` (or ``matvec``) closes over: the function
is traced once, and the traced values it reads become explicit inputs.

Both are ``nanojax.custom_vjp`` functions: ``grad``, ``vjp``, ``jacrev``,
``vmap`` and ``jit`` apply, but forward mode (``jvp``, ``jacfwd``,
``hessian``) is refused with a clear error, where JAX has it.

Examples:
    >>> import nanojax as nj
    >>> from nanojax import lax
    >>> def newton_sqrt(x):
    ...     def solve(f, y):
    ...         for _ in range(30):                 # Newton's method, not differentiated
    ...             y = y - f(y) / (2.0 * y)
    ...         return y
    ...     return lax.custom_root(lambda y: y * y - x, 1.0, solve,
    ...                            lambda g, y: y / g(1.0))
    >>> print(newton_sqrt(2.0), nj.grad(newton_sqrt)(4.0))    # 1 / (2 sqrt(4))
    1.414213562373095 0.25
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

import numpy as np

from nanojax.core import ShapedArray, Tracer, eval_jaxpr, get_aval
from nanojax.numpy._args import check_numeric, describe
from nanojax.tree_util import tree_flatten, tree_leaves, tree_map, tree_unflatten

__all__ = ["custom_linear_solve", "custom_root"]


def _what(x: Any) -> str:
    """A value for a message: an array and a tracer of it read the same."""
    if isinstance(x, (Tracer, np.ndarray)):
        return f"an array of type {get_aval(x).str_short()}"
    return describe(x)


def _leaf(name: str, x: Any) -> Any:
    if isinstance(x, Tracer):
        return x
    check_numeric(f"lax.{name}", x)
    return np.asarray(x)


def _closure(name: str, what: str, fn: Callable, example: Any) -> tuple[Callable, list]:
    """``fn`` as ``call(params, y)``, its traced closed-over values made ``params``.

    ``fn`` must map pytrees like ``example`` to pytrees like it (same
    structure, shapes and dtypes), as a root function or a linear map does.
    """
    from nanojax.jaxpr_transforms import hoist_tracers
    from nanojax.staging import trace_to_jaxpr
    if not callable(fn):
        raise TypeError(f"nanojax.lax.{name}: {what} must be a function, got {_what(fn)}")
    flat, tree = tree_flatten(example)
    avals = [ShapedArray(get_aval(x).shape, get_aval(x).dtype) for x in flat]
    closed, out_tree = trace_to_jaxpr(fn, avals, tree_flatten((example,))[1],
                                      f"nanojax.lax.{name}")
    out_avals = [ShapedArray(a.shape, a.dtype) for a in closed.out_avals]
    if out_tree != tree or out_avals != avals:
        raise TypeError(f"nanojax.lax.{name}: {what} must return the structure, shapes and "
                        f"dtypes of its input ({tree}: "
                        f"{', '.join(a.str_short() for a in avals)}), got {out_tree}: "
                        f"{', '.join(a.str_short() for a in out_avals)}")
    closed, params = hoist_tracers(closed)

    def call(p: list, y: Any) -> Any:
        return tree_unflatten(tree, eval_jaxpr(closed.jaxpr, closed.consts, *p,
                                               *tree_leaves(y)))
    return call, params


def _split(name: str, out: Any, has_aux: bool) -> tuple[Any, Any]:
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise TypeError(f"nanojax.lax.{name}: with has_aux=True, solve must return a pair "
                        f"(solution, aux), got {_what(out)}")
    return out


def _transposed(call: Callable, params: list, at: Any) -> Callable:
    """The transpose of the linear map ``v -> d call(params, y)/dy . v`` at ``y = at``."""
    from nanojax.autodiff import vjp
    _, pull = vjp(lambda y: call(params, y), at)
    return lambda w: pull(w)[0]


def _pull_params(call: Callable, params: list, at: Any, weight: Any) -> list:
    """``-(d call(p, at)/dp)^T weight``: the parameters' share of an implicit pull."""
    from nanojax.autodiff import vjp
    import nanojax.numpy as jnp
    _, pull = vjp(lambda p: call(p, at), params)
    return [jnp.negative(c) for c in pull(weight)[0]]


def custom_root(f: Callable, initial_guess: Any, solve: Callable, tangent_solve: Callable,
                has_aux: bool = False) -> Any:
    """A root of ``f`` found by ``solve``, differentiated by the implicit function theorem.

    ``solve(f, initial_guess)`` returns ``y`` with ``f(y) = 0`` (pytrees
    shaped like ``initial_guess``; with ``has_aux``, a pair ``(y, aux)``, aux
    not differentiated). ``tangent_solve(g, v)`` solves the linear system
    ``g(x) = v`` for a linear ``g``: ``lambda g, v: v / g(1.0)`` for a scalar.
    Reverse mode calls it with the transpose of ``f``'s derivative at the
    root, so it must solve any linear map it is given (as both of JAX's
    suggestions do). The gradient flows to the values ``f`` closes over;
    none flows to ``initial_guess``.
    """
    name = "custom_root"
    from nanojax.custom import custom_vjp
    guess = tree_map(lambda x: _leaf(name, x), initial_guess)
    call, params = _closure(name, "f", f, guess)
    if not callable(solve) or not callable(tangent_solve):
        raise TypeError(f"nanojax.lax.{name}: solve and tangent_solve must be functions, got "
                        f"{_what(solve)} and {_what(tangent_solve)}")

    def root(p: list, y0: Any) -> Any:
        return solve(lambda y: call(p, y), y0)

    def root_fwd(p: list, y0: Any) -> tuple:
        out = root(p, y0)
        return out, (p, _split(name, out, has_aux)[0])

    def root_bwd(res: tuple, g: Any) -> tuple:
        p, y = res
        g_y = _split(name, g, has_aux)[0]
        weight = tangent_solve(_transposed(call, p, y), g_y)
        return _pull_params(call, p, y, weight), None

    root_vjp = custom_vjp(root)
    root_vjp.defvjp(root_fwd, root_bwd)
    out = root_vjp(params, guess)
    _split(name, out, has_aux)
    return out


def custom_linear_solve(matvec: Callable, b: Any, solve: Callable,
                        transpose_solve: Callable | None = None, symmetric: bool = False,
                        has_aux: bool = False) -> Any:
    """``x`` with ``matvec(x) = b``, found by ``solve``, differentiated through the equation.

    ``solve(matvec, b)`` returns the solution (with ``has_aux``, a pair
    ``(x, aux)``); its steps are not differentiated. Reverse mode solves the
    transposed system ``transpose_solve(vecmat, g)``, ``vecmat`` being
    ``matvec``'s transpose (derived by autodiff), or ``solve`` again when
    ``symmetric``; it needs one of the two. The cotangent reaches ``b`` and
    the values ``matvec`` closes over (the matrix), as in JAX.
    """
    name = "custom_linear_solve"
    from nanojax.custom import custom_vjp
    rhs = tree_map(lambda x: _leaf(name, x), b)
    call, params = _closure(name, "matvec", matvec, rhs)
    if not callable(solve) or not (transpose_solve is None or callable(transpose_solve)):
        raise TypeError(f"nanojax.lax.{name}: solve and transpose_solve must be functions, got "
                        f"{_what(solve)} and {_what(transpose_solve)}")

    def linear(p: list, v: Any) -> Any:
        return solve(lambda y: call(p, y), v)

    def linear_fwd(p: list, v: Any) -> tuple:
        out = linear(p, v)
        return out, (p, _split(name, out, has_aux)[0])

    def linear_bwd(res: tuple, g: Any) -> tuple:
        p, x = res
        g_x = _split(name, g, has_aux)[0]
        if symmetric:
            weight = solve(lambda y: call(p, y), g_x)
        elif transpose_solve is None:
            raise TypeError(f"nanojax.lax.{name}: reverse-mode differentiation needs "
                            "transpose_solve (or symmetric=True for a symmetric matvec)")
        else:
            weight = transpose_solve(_transposed(call, p, x), g_x)
        return _pull_params(call, p, x, weight), weight

    linear_vjp = custom_vjp(linear)
    linear_vjp.defvjp(linear_fwd, linear_bwd)
    out = linear_vjp(params, rhs)
    _split(name, out, has_aux)
    return out
