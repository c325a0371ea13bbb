"""``ravel_pytree``: a pytree of arrays as one flat vector, and the way back.

Optimizers and solvers that want a single vector (a Newton step, an L-BFGS
history) work on ``ravel_pytree(params)[0]``; ``unravel`` rebuilds the
parameters' pytree from such a vector. Both directions are written with
``jnp``, so they trace under ``grad``, ``vmap`` and ``jit``.

Examples:
    >>> import numpy as np
    >>> from nanojax.flatten_util import ravel_pytree
    >>> flat, unravel = ravel_pytree({"b": np.array([1.0, 2.0]), "w": np.eye(2)})
    >>> flat
    array([1., 2., 1., 0., 0., 1.])
    >>> unravel(flat * 10)["w"]
    array([[10.,  0.],
           [ 0., 10.]])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from nanojax import lax
from nanojax import numpy as jnp
from nanojax import primitives as P
from nanojax.tree_util import tree_flatten, tree_unflatten

__all__ = ["ravel_pytree"]


def ravel_pytree(pytree: Any) -> tuple[Any, Callable[[Any], Any]]:
    """``(flat, unravel)``: the leaves raveled and concatenated, and the inverse.

    The vector has the leaves' promoted dtype; ``unravel`` gives each leaf
    back its own shape and dtype.
    """
    leaves, treedef = tree_flatten(pytree)
    shapes = [P.shape_of(x) for x in leaves]
    dtypes = [np.dtype(P.dtype_of(x)) for x in leaves]
    sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
    total = sum(sizes)
    dtype = np.result_type(*dtypes) if dtypes else np.dtype(np.float64)
    if leaves:
        flat = jnp.concatenate([jnp.ravel(jnp.asarray(x, dtype=dtype)) for x in leaves])
    else:
        flat = np.zeros(0, dtype)
    starts = np.cumsum([0] + sizes)

    def unravel(vector: Any) -> Any:
        if P.shape_of(vector) != (total,):
            raise ValueError(f"nanojax.flatten_util.ravel_pytree: unravel expected an array "
                             f"of shape {(total,)}, got shape {P.shape_of(vector)}")
        parts = [lax.convert_element_type(
                     jnp.reshape(vector[int(starts[i]):int(starts[i + 1])], shapes[i]),
                     dtypes[i])
                 for i in range(len(leaves))]
        return tree_unflatten(treedef, parts)

    return flat, unravel


from nanojax.array import export as _export_arrays  # noqa: E402

_export_arrays(globals())   # the public face hands out arrays with JAX's methods
