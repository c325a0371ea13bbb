"""``optax.tree`` (and ``optax.tree_utils``): arithmetic on whole pytrees of arrays.

Each function maps over the leaves (``None`` leaves, as optax's masked
states have them, are kept as ``None``) or reduces them to one number.
``nanojax.optim.tree.add(a, b)`` is ``optax.tree.add``;
``nanojax.optim.tree_utils.tree_add`` its older spelling.

Examples:
    >>> from nanojax.optim import tree
    >>> a, b = {"w": jnp.ones(2), "b": 2.0}, {"w": jnp.arange(2.0), "b": 1.0}
    >>> {k: v.tolist() for k, v in tree.add_scale(a, 0.5, b).items()}
    {'b': 2.5, 'w': [1.0, 1.5]}
    >>> float(tree.vdot(a, b)), float(tree.norm(b)), tree.size(a)
    (3.0, 1.4142135623730951, 3)
"""

from __future__ import annotations

import builtins
import functools
import operator
import types
from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax.tree_util import tree_leaves, tree_map

__all__ = ["add", "add_scale", "allclose", "batch_shape", "bias_correction", "cast",
           "cast_like", "clip", "conj", "div", "dtype", "full_like", "get", "max", "min",
           "mul", "norm", "ones_like", "real", "scale", "set", "size", "sub", "sum",
           "update_infinity_moment", "update_moment", "update_moment_per_elem_norm", "vdot",
           "where", "zeros_like"]

_WHERE = "nanojax.optim.tree"


def _is_none(x: Any) -> bool:
    return x is None


def _map(f: Any, *trees: Any) -> Any:
    """``tree_map`` that keeps ``None`` leaves of the first tree as ``None``."""
    return tree_map(lambda x, *ys: None if x is None else f(x, *ys), *trees, is_leaf=_is_none)


def add(tree_x: Any, tree_y: Any, *other_trees: Any) -> Any:
    """``tree_x + tree_y (+ ...)``, leaf by leaf."""
    return _map(lambda *xs: functools.reduce(operator.add, xs), tree_x, tree_y, *other_trees)


def sub(tree_x: Any, tree_y: Any) -> Any:
    """``tree_x - tree_y``, leaf by leaf."""
    return _map(operator.sub, tree_x, tree_y)


def mul(tree_x: Any, tree_y: Any) -> Any:
    """``tree_x * tree_y``, leaf by leaf."""
    return _map(operator.mul, tree_x, tree_y)


def div(tree_x: Any, tree_y: Any) -> Any:
    """``tree_x / tree_y``, leaf by leaf."""
    return _map(operator.truediv, tree_x, tree_y)


def scale(scalar: Any, tree: Any) -> Any:
    """``scalar * tree``."""
    return _map(lambda x: scalar * x, tree)


def add_scale(tree_x: Any, scalar: Any, tree_y: Any) -> Any:
    """``tree_x + scalar * tree_y``."""
    scalar = jnp.asarray(scalar)        # as optax: Python-number leaves come back as arrays
    return _map(lambda x, y: x + scalar * y, tree_x, tree_y)


def vdot(tree_x: Any, tree_y: Any) -> Any:
    """The inner product of two trees: the sum over leaves of ``vdot(x, y)``."""
    products = [jnp.vdot(x, y) for x, y in zip(tree_leaves(tree_x), tree_leaves(tree_y))]
    return functools.reduce(operator.add, products, jnp.asarray(0.0))


def tree_sum(tree: Any) -> Any:
    """The sum of every element of every leaf."""
    return functools.reduce(operator.add, [jnp.sum(x) for x in tree_leaves(tree)],
                            jnp.asarray(0.0))


def tree_max(tree: Any) -> Any:
    """The largest element of any leaf (``-inf`` for an empty tree)."""
    return functools.reduce(jnp.maximum, [jnp.max(x) for x in tree_leaves(tree)],
                            jnp.asarray(-np.inf))


def tree_min(tree: Any) -> Any:
    """The smallest element of any leaf (``inf`` for an empty tree)."""
    return functools.reduce(jnp.minimum, [jnp.min(x) for x in tree_leaves(tree)],
                            jnp.asarray(np.inf))


def size(tree: Any) -> int:
    """How many elements the leaves hold together."""
    return builtins.sum(int(np.size(x)) for x in tree_leaves(tree))


def conj(tree: Any) -> Any:
    """The complex conjugate of each leaf."""
    return _map(jnp.conj, tree)


def real(tree: Any) -> Any:
    """The real part of each leaf."""
    return _map(jnp.real, tree)


def norm(tree: Any, ord: Any = None, squared: bool = False) -> Any:  # noqa: A002
    """The norm of all the leaves as one vector: ``ord`` None or 2 (default), 1 or inf."""
    if ord is None or ord == 2:
        squares = tree_sum(_map(lambda x: jnp.real(x * jnp.conj(x)), tree))
        return squares if squared else jnp.sqrt(squares)
    if ord == 1:
        out = tree_sum(_map(jnp.abs, tree))
    elif ord in (np.inf, "inf", "infinity"):
        out = tree_max(_map(jnp.abs, tree))
    else:
        raise ValueError(f"{_WHERE}.norm: ord must be None, 1, 2 or inf, got {ord!r}")
    return out * out if squared else out


def batch_shape(tree: Any, shape: tuple[int, ...] = ()) -> Any:
    """Each leaf broadcast to leading batch dimensions ``shape``."""
    return _map(lambda x: jnp.broadcast_to(x, (*shape, *jnp.shape(x))), tree)


def zeros_like(tree: Any, dtype: Any = None) -> Any:
    """A tree of zeros shaped (and typed, unless ``dtype``) as ``tree``."""
    return _map(lambda x: jnp.zeros_like(x, dtype=dtype), tree)


def ones_like(tree: Any, dtype: Any = None) -> Any:
    """A tree of ones shaped (and typed, unless ``dtype``) as ``tree``."""
    return _map(lambda x: jnp.ones_like(x, dtype=dtype), tree)


def full_like(tree: Any, fill_value: Any, dtype: Any = None) -> Any:
    """A tree filled with ``fill_value``, shaped as ``tree``."""
    return _map(lambda x: jnp.full_like(x, fill_value, dtype=dtype), tree)


def clip(tree: Any, min_value: Any = None, max_value: Any = None) -> Any:
    """Each leaf clipped to ``[min_value, max_value]`` (None: no bound)."""
    return _map(lambda x: jnp.clip(x, min_value, max_value), tree)


def where(condition: Any, tree_x: Any, tree_y: Any) -> Any:
    """``jnp.where(condition, x, y)`` leaf by leaf (one condition for all)."""
    return _map(lambda x, y: jnp.where(condition, x, y), tree_x, tree_y)


def update_moment(updates: Any, moments: Any, decay: Any, order: Any) -> Any:
    """``(1 - decay) * g**order + decay * m``: an exponential moving average."""
    return _map(lambda g, m: (1 - decay) * (g ** order) + decay * m, updates, moments)


def update_infinity_moment(updates: Any, moments: Any, decay: Any, eps: Any) -> Any:
    """``max(|g| + eps, decay * m)``: adamax's infinity-norm moment."""
    return _map(lambda g, m: jnp.maximum(jnp.abs(g) + eps, decay * m), updates, moments)


def update_moment_per_elem_norm(updates: Any, moments: Any, decay: Any, order: Any) -> Any:
    """``update_moment`` of ``|g|**order`` (the same for real leaves)."""
    def orderth(g: Any) -> Any:
        return g ** order if jnp.isrealobj(g) else (jnp.abs(g) ** 2) ** (order / 2)
    return _map(lambda g, m: (1 - decay) * orderth(g) + decay * m, updates, moments)


def bias_correction(moment: Any, decay: Any, count: Any) -> Any:
    """``moment / (1 - decay**count)``, in each moment's dtype."""
    correction = 1 - decay ** count
    return _map(lambda m: (m / correction).astype(jnp.asarray(m).dtype), moment)


def allclose(a: Any, b: Any, rtol: float = 1e-5, atol: float = 1e-8,
             equal_nan: bool = False) -> bool:
    """Whether every pair of leaves is ``allclose``."""
    leaves_a, leaves_b = tree_leaves(a), tree_leaves(b)
    return len(leaves_a) == len(leaves_b) and all(
        bool(jnp.allclose(x, y, rtol=rtol, atol=atol, equal_nan=equal_nan))
        for x, y in zip(leaves_a, leaves_b))


def cast(tree: Any, dtype: Any) -> Any:
    """Each floating leaf cast to ``dtype`` (None: unchanged); others as they are."""
    if dtype is None:
        return tree
    return _map(lambda x: jnp.asarray(x).astype(dtype)
                if jnp.issubdtype(jnp.asarray(x).dtype, jnp.floating) else x, tree)


def cast_like(tree: Any, other_tree: Any) -> Any:
    """Each leaf cast to the dtype of the matching leaf of ``other_tree``."""
    return _map(lambda x, y: jnp.asarray(x).astype(jnp.asarray(y).dtype), tree, other_tree)


def dtype(tree: Any, mixed_dtype_handler: str | None = None) -> Any:
    """The leaves' one dtype; with mixed dtypes an error, unless ``mixed_dtype_handler``
    is ``"promote"`` (their promoted dtype) or ``"highest"``/``"lowest"`` (by size)."""
    dtypes = {jnp.asarray(x).dtype for x in tree_leaves(tree)}
    if not dtypes:
        return np.dtype(np.float64)
    if len(dtypes) == 1:
        return dtypes.pop()
    if mixed_dtype_handler == "promote":
        return np.result_type(*dtypes)
    if mixed_dtype_handler in ("highest", "lowest"):
        pick = builtins.max if mixed_dtype_handler == "highest" else builtins.min
        return pick(dtypes, key=lambda d: (d.itemsize, d.str))
    raise ValueError(f"{_WHERE}.dtype: the leaves have several dtypes {sorted(map(str, dtypes))}; "
                     "pass mixed_dtype_handler='promote', 'highest' or 'lowest'")


# optax's names for the ones that shadow builtins (implemented as tree_<name>, so that
# this module's own code never calls a shadowed builtin by mistake).
sum = tree_sum  # noqa: A001
max = tree_max  # noqa: A001
min = tree_min  # noqa: A001


# ----- Reading and writing named fields of optimizer states ---------------------------

def _fields(node: Any) -> list[tuple[Any, Any]] | None:
    """The (name, child) pairs of a NamedTuple or dict; the children of a list or tuple
    (unnamed); None for anything else."""
    if isinstance(node, tuple) and hasattr(node, "_fields"):
        return list(zip(node._fields, node))
    if isinstance(node, dict):
        return list(node.items())
    if isinstance(node, (list, tuple)):
        return [(None, child) for child in node]
    return None


def _found(tree: Any, key: str) -> list[Any]:
    fields = _fields(tree)
    if fields is None:
        return []
    out = []
    for name, child in fields:
        if name == key:
            out.append(child)
        else:
            out.extend(_found(child, key))
    return out


def get(tree: Any, key: str, default: Any = None) -> Any:
    """The value of the one field named ``key`` anywhere in ``tree`` (NamedTuple
    fields and dict keys), such as ``get(opt_state, "count")``; ``default`` if
    there is none; a KeyError if there are several.

    >>> import nanojax as nj
    >>> opt = nj.optim.adam(0.1)
    >>> int(get(opt.init({"w": jnp.ones(2)}), "count"))
    0
    """
    values = _found(tree, key)
    if len(values) > 1:
        raise KeyError(f"{_WHERE}.get: {len(values)} fields are named {key!r}; "
                       "give the state's part that holds just one")
    return values[0] if values else default


def tree_set(tree: Any, **values: Any) -> Any:
    """``tree`` with every field named by a keyword (NamedTuple fields, dict keys)
    replaced by its value: ``set(opt_state, learning_rate=0.01)``."""
    fields = _fields(tree)
    if fields is None:
        return tree
    new = [values[name] if name in values else tree_set(child, **values)
           for name, child in fields]
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return type(tree)(*new)
    if isinstance(tree, dict):
        return type(tree)(zip(tree.keys(), new))
    return type(tree)(new)


set = tree_set  # noqa: A001


# optax.tree_utils: the same functions under their ``tree_`` names.
tree_utils = types.ModuleType("nanojax.optim.tree_utils",
                              "optax.tree_utils: nanojax.optim.tree's functions as tree_<name>.")
tree_utils.__all__ = [f"tree_{name}" for name in __all__]  # type: ignore[attr-defined]
for _name in __all__:
    setattr(tree_utils, f"tree_{_name}", globals()[_name])
