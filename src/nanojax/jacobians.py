"""Whole Jacobians: ``jacrev``, ``jacfwd`` and ``hessian``.

A Jacobian is many derivatives at once. Reverse mode pulls every row of the
identity (one per output number) back through one recorded ``vjp``; forward
mode pushes every column (one per input number) through ``jvp``. Both batch
the identity with ``vmap``, so each gate runs once on the whole basis rather
than once per row in a Python loop.

The result has the shape ``out.shape + in.shape`` per (output leaf, input
leaf) pair: a pytree of outputs whose leaves are pytrees of inputs.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

from nanojax import primitives as P
from nanojax.api_util import (argnums_partial, check_argnums, check_callable, check_float_leaves,
                              check_inputs, name_transformed)
from nanojax.autodiff import jvp_of, split_aux, vjp_of
from nanojax.batching import vmap
from nanojax.core import own_memory
from nanojax.source_info import boundary
from nanojax.tree_util import tree_flatten, tree_unflatten

__all__ = ["jacrev", "jacfwd", "hessian", "jacobian"]


def _basis(leaves: list, dtype: Any) -> list:
    """Rows of the identity, split into pytree-shaped pieces: [n x leaf shape]."""
    sizes = [int(np.prod(P.shape_of(x), dtype=np.int64)) for x in leaves]
    n = sum(sizes)
    eye = np.eye(n, dtype=dtype)
    pieces, start = [], 0
    for x, k in zip(leaves, sizes):
        pieces.append(eye[:, start:start + k].reshape((n,) + P.shape_of(x)))
        start += k
    return pieces


def _check_float_outputs(leaves: list, name: str) -> None:
    for leaf in leaves:
        dtype = P.dtype_of(leaf)
        if dtype.kind != "f":
            raise TypeError(f"{name}: the function returned a {dtype} output, but a Jacobian "
                            "needs real float outputs; return jnp.astype(out, float), or "
                            "leave integer results out of the differentiated function")


def _float_dtype(leaves: list) -> np.dtype:
    dtypes = [P.dtype_of(x) for x in leaves if np.issubdtype(P.dtype_of(x), np.inexact)]
    return np.result_type(*dtypes) if dtypes else np.dtype(np.float64)


def _split_args(fun: Callable, args: tuple, argnums: Any, name: str) -> tuple:
    """The function of the differentiated arguments only, and their checked leaves."""
    nums = check_argnums(argnums, len(args), name)
    in_leaves, in_tree = tree_flatten(tuple(args[i] for i in nums))
    in_leaves = check_inputs(in_leaves, name)
    check_float_leaves(in_leaves, name)
    return (argnums_partial(fun, args, nums, {}), tree_unflatten(in_tree, in_leaves),
            in_leaves, in_tree)


def _assemble(out_leaves: list, out_tree: Any, in_leaves: list, in_tree: Any,
              block: Callable[[int, int], Any], argnums: Any) -> Any:
    """out_tree of in_tree of blocks, with the argnums tuple unwrapped for an int."""
    blocks = own_memory([block(j, i) for j in range(len(out_leaves))
                         for i in range(len(in_leaves))], in_leaves)
    rows = []
    for j in range(len(out_leaves)):
        row = blocks[j * len(in_leaves):(j + 1) * len(in_leaves)]
        per_input = tree_unflatten(in_tree, row)
        rows.append(per_input[0] if isinstance(argnums, int) else per_input)
    return tree_unflatten(out_tree, rows)


def _options(holomorphic: bool, allow_int: bool, who: str) -> None:
    if holomorphic:
        raise TypeError(f"{who}: holomorphic=True differentiates complex functions, and "
                        "nanojax does not support complex numbers yet")
    if allow_int:
        raise NotImplementedError(f"{who}: allow_int=True is not supported for Jacobians; "
                                  "pass float inputs (or use grad with allow_int)")


def jacrev(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
           holomorphic: bool = False, allow_int: bool = False) -> Callable:
    """The Jacobian by reverse mode: one ``vjp`` per output number, batched.

    With ``has_aux``, ``fun`` returns ``(out, aux)`` and the Jacobian
    function returns ``(jacobian, aux)``.

    Examples:
        >>> import numpy as np
        >>> import nanojax as nj
        >>> nj.jacrev(lambda x: x * x)(np.array([1.0, 2.0]))
        array([[2., 0.],
               [0., 4.]])
    """
    check_callable(fun, "nanojax.jacrev")
    _options(holomorphic, allow_int, "nanojax.jacrev")

    def jac(*args: Any) -> Any:
        restricted, diff, in_leaves, in_tree = _split_args(fun, args, argnums,
                                                           "nanojax.jacrev")
        out, pull, *aux = vjp_of(restricted, diff, has_aux, "nanojax.jacrev")
        out_leaves, out_tree = tree_flatten(out)
        _check_float_outputs(out_leaves, "nanojax.jacrev")
        pieces = _basis(out_leaves, _float_dtype(out_leaves))
        rows = vmap(lambda *ct: tree_flatten(pull(tree_unflatten(out_tree, ct)))[0])(*pieces)
        starts = np.cumsum([0] + [int(np.prod(P.shape_of(o), dtype=np.int64))
                                  for o in out_leaves])

        def block(j: int, i: int) -> Any:
            part = rows[i][starts[j]:starts[j + 1]]
            return P.reshape(part, P.shape_of(out_leaves[j]) + P.shape_of(in_leaves[i]))
        result = _assemble(out_leaves, out_tree, in_leaves, in_tree, block, argnums)
        return (result, aux[0]) if has_aux else result

    return name_transformed(boundary(jac), "jacrev", fun, doc=False)


def jacobian(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
             holomorphic: bool = False, allow_int: bool = False) -> Callable:
    """The Jacobian, as JAX's ``jacobian``: ``jacrev``.

    >>> import numpy as np
    >>> import nanojax as nj
    >>> nj.jacobian(lambda x: x[0] * x)(np.array([2.0, 3.0]))
    array([[4., 0.],
           [3., 2.]])
    """
    return jacrev(fun, argnums, has_aux, holomorphic, allow_int)


def jacfwd(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
           holomorphic: bool = False) -> Callable:
    """The Jacobian by forward mode: one ``jvp`` per input number, batched.

    With ``has_aux``, ``fun`` returns ``(out, aux)`` and the Jacobian
    function returns ``(jacobian, aux)``.

    Examples:
        >>> import numpy as np
        >>> import nanojax as nj
        >>> nj.jacfwd(lambda x: x * x)(np.array([1.0, 2.0]))
        array([[2., 0.],
               [0., 4.]])
    """
    check_callable(fun, "nanojax.jacfwd")
    _options(holomorphic, False, "nanojax.jacfwd")

    def jac(*args: Any) -> Any:
        restricted, diff, in_leaves, in_tree = _split_args(fun, args, argnums,
                                                           "nanojax.jacfwd")
        pieces = _basis(in_leaves, _float_dtype(in_leaves))
        out_trees = []
        plain, aux = split_aux(restricted, "nanojax.jacfwd") if has_aux else (restricted, [])

        def push(*tangent_leaves):
            # The outputs come out of the same jvp, so fun runs once: its
            # values do not depend on the tangents, hence out_axes None.
            out, tangent_out = jvp_of(plain, diff, tree_unflatten(in_tree, tangent_leaves),
                                      "nanojax.jacfwd")
            out_leaves, out_tree = tree_flatten(out)
            out_trees.append(out_tree)
            return out_leaves, tree_flatten(tangent_out)[0], aux
        out_leaves, cols, aux = vmap(push, out_axes=(None, 0, None))(*pieces)
        out_tree = out_trees[0]
        _check_float_outputs(out_leaves, "nanojax.jacfwd")
        starts = np.cumsum([0] + [int(np.prod(P.shape_of(x), dtype=np.int64))
                                  for x in in_leaves])

        def block(j: int, i: int) -> Any:
            part = cols[j][starts[i]:starts[i + 1]]          # (in_size, *out_shape)
            out_shape, in_shape = P.shape_of(out_leaves[j]), P.shape_of(in_leaves[i])
            k = len(out_shape)
            moved = P.transpose(part, tuple(range(1, k + 1)) + (0,)) if k else part
            return P.reshape(moved, out_shape + in_shape)
        result = _assemble(out_leaves, out_tree, in_leaves, in_tree, block, argnums)
        return (result, aux[0]) if has_aux else result

    return name_transformed(boundary(jac), "jacfwd", fun, doc=False)


def hessian(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False,
            holomorphic: bool = False) -> Callable:
    """Second derivatives, ``jacfwd(jacrev(fun))``: shape in.shape + in.shape.

    Examples:
        >>> import numpy as np
        >>> import nanojax as nj
        >>> nj.hessian(lambda x: (x ** 3).sum())(np.array([1.0, 2.0]))
        array([[ 6.,  0.],
               [ 0., 12.]])
    """
    check_callable(fun, "nanojax.hessian")
    _options(holomorphic, False, "nanojax.hessian")
    inner = jacfwd(jacrev(fun, argnums, has_aux), argnums, has_aux)

    def hess(*args: Any) -> Any:
        _split_args(fun, args, argnums, "nanojax.hessian")      # its errors, by name
        return inner(*args)
    return name_transformed(boundary(hess), "hessian", fun, doc=False)
