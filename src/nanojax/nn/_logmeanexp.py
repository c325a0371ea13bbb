"""``jax.nn.logmeanexp``: the log of the mean of exponentials, stably."""

from __future__ import annotations

from typing import Any

import numpy as np

import nanojax.numpy as jnp


def logmeanexp(x: Any, axis: Any = None, where: Any = None, keepdims: bool = False) -> Any:
    """``log(mean(exp(x)))`` over ``axis`` (of the entries ``where`` keeps):
    ``logsumexp`` minus the log of how many terms there are.

    >>> import numpy as np
    >>> import nanojax as nj
    >>> float(nj.nn.logmeanexp(np.array([0.0, np.log(3.0)])))
    0.6931471805599453
    """
    from nanojax.nn import logsumexp
    x = jnp.asarray(x)
    total = logsumexp(x, axis=axis, keepdims=keepdims, where=where)
    if where is None:
        axes = range(jnp.ndim(x)) if axis is None else (
            axis if isinstance(axis, (tuple, list)) else (axis,))
        count: Any = float(np.prod([jnp.shape(x)[a] for a in axes]))
    else:
        count = jnp.sum(jnp.broadcast_to(where, jnp.shape(x)), axis=axis, keepdims=keepdims,
                        dtype=np.float64)
    return total - jnp.log(count)
