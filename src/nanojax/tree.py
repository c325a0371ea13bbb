"""``nanojax.tree``: the pytree utilities under JAX's short names.

The same functions as ``nanojax.tree_util`` (``tree.map`` is
``tree_util.tree_map``), as ``jax.tree`` is to ``jax.tree_util``.

Examples:
    >>> import nanojax as nj
    >>> nj.tree.map(lambda x: x * 2, {"a": 1.0, "b": (2.0, 3.0)})
    {'a': 2.0, 'b': (4.0, 6.0)}
    >>> nj.tree.leaves([1, {"x": 3}])
    [1, 3]
"""

from __future__ import annotations

import dataclasses
from typing import Any

from nanojax.tree_util import tree_all as all  # noqa: A004 - JAX's name
from nanojax.tree_util import tree_broadcast as broadcast
from nanojax.tree_util import tree_flatten as flatten
from nanojax.tree_util import tree_flatten_with_path as flatten_with_path
from nanojax.tree_util import tree_leaves as leaves
from nanojax.tree_util import tree_leaves_with_path as leaves_with_path
from nanojax.tree_util import tree_map as map  # noqa: A004 - JAX's name
from nanojax.tree_util import tree_map_with_path as map_with_path
from nanojax.tree_util import tree_reduce as reduce
from nanojax.tree_util import tree_reduce_associative as reduce_associative
from nanojax.tree_util import tree_structure as structure
from nanojax.tree_util import tree_transpose as transpose
from nanojax.tree_util import tree_unflatten as unflatten

__all__ = ["all", "broadcast", "flatten", "flatten_with_path", "leaves", "leaves_with_path",
           "map", "map_with_path", "reduce", "reduce_associative", "static", "structure",
           "transpose", "unflatten"]


def static(**kwargs: Any) -> Any:
    """A dataclass field marked static: ``register_dataclass`` makes it a meta field.

    ``dataclasses.field(**kwargs)`` with ``metadata`` holding ``static=True``.
    """
    metadata = dict(kwargs.pop("metadata", None) or {})
    metadata["static"] = True
    return dataclasses.field(metadata=metadata, **kwargs)
