"""``jax.ad_checkpoint``: ``checkpoint``, its policies, and ``checkpoint_name``.

``checkpoint_name(x, name)`` labels an intermediate for a policy such as
``checkpoint_policies.save_only_these_names(name)``. nanojax's checkpoint
saves no intermediate under any policy (recomputing is always correct), so
a label changes no value and no derivative: ``checkpoint_name`` returns
``x`` itself, under every transformation.

Examples:
    >>> import nanojax as nj
    >>> import nanojax.numpy as jnp
    >>> from nanojax.ad_checkpoint import checkpoint, checkpoint_name, checkpoint_policies
    >>> def layer(w, x):
    ...     return jnp.tanh(checkpoint_name(w @ x, "pre_activation"))
    >>> f = checkpoint(layer, policy=checkpoint_policies.save_only_these_names("pre_activation"))
    >>> g = nj.grad(lambda w: jnp.sum(f(w, jnp.ones(2))))(jnp.eye(2))
    >>> print(round(float(g[0, 0]), 6))     # 1 - tanh(1)**2, as without the label
    0.419974
"""

from __future__ import annotations

from typing import Any

from nanojax.checkpoint import checkpoint, checkpoint_policies, remat

__all__ = ["checkpoint", "checkpoint_name", "checkpoint_policies", "remat"]


def checkpoint_name(x: Any, name: str) -> Any:
    """``x`` (any pytree), labelled ``name`` for checkpoint policies; see the module doc."""
    if not isinstance(name, str):
        raise TypeError(f"nanojax.ad_checkpoint.checkpoint_name: name must be a string, got "
                        f"{type(name).__name__} ({name!r:.40})")
    return x
