"""Pytrees: nested tuples, lists, dicts and registered classes of arrays.

Every transformation flattens its inputs to a list of leaves, works on the
leaves, and unflattens its outputs with the same structure. Dicts flatten in
sorted-key order; ``None`` is an empty subtree; namedtuples are nodes.

Examples:
    >>> from nanojax import tree_util
    >>> leaves, tree = tree_util.tree_flatten({"b": (1.0, 2.0), "a": 3.0})
    >>> leaves
    [3.0, 1.0, 2.0]
    >>> tree_util.tree_unflatten(tree, [x * 10 for x in leaves])
    {'a': 30.0, 'b': (10.0, 20.0)}
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any, NamedTuple

import numpy as np

__all__ = ["PyTreeDef", "tree_flatten", "tree_unflatten", "tree_leaves",
           "tree_structure", "tree_map", "register_pytree_node",
           "treedef_is_leaf", "all_leaves"]


# The aux data a flatten function returns is hashable; what it means is the node
# type's own business, so the unflatten function takes it as Any (a function written
# for a tuple of keys, say, is a fine unflatten function).
class _NodeType(NamedTuple):
    to_iterable: Callable[[Any], tuple[Iterable[Any], Hashable]]
    from_iterable: Callable[[Any, Iterable[Any]], Any]


_registry: dict[type, _NodeType] = {}


def register_pytree_node(nodetype: type,
                         flatten_func: Callable[[Any], tuple[Iterable[Any], Hashable]],
                         unflatten_func: Callable[[Any, Iterable[Any]], Any]) -> None:
    """Make instances of ``nodetype`` pytree nodes.

    ``flatten_func(x)`` returns ``(children, aux_data)`` with ``aux_data``
    hashable; ``unflatten_func(aux_data, children)`` rebuilds the node.
    """
    _registry[nodetype] = _NodeType(flatten_func, unflatten_func)


def _sorted_keys(d: dict) -> list:
    try:
        return sorted(d)
    except TypeError as e:
        raise TypeError("nanojax.tree_util: pytree dicts must have sortable keys (all of one "
                        f"comparable type); got keys {list(d)!r}") from e


register_pytree_node(tuple, lambda t: (t, None), lambda _, xs: tuple(xs))
register_pytree_node(list, lambda t: (t, None), lambda _, xs: list(xs))
register_pytree_node(
    dict,
    lambda d: (lambda ks: ([d[k] for k in ks], tuple(ks)))(_sorted_keys(d)),
    lambda ks, xs: dict(zip(ks, xs)))
register_pytree_node(type(None), lambda _: ((), None), lambda _, __: None)


def _node_type(x: Any) -> _NodeType | None:
    node = _registry.get(type(x))
    if node is None and isinstance(x, tuple) and hasattr(type(x), "_fields"):
        cls = type(x)
        node = _NodeType(lambda t: (tuple(t), None), lambda _, xs: cls(*xs))
    return node


class PyTreeDef:
    """The shape of a pytree without its leaves; hashable, comparable."""

    __slots__ = ("node_type", "aux", "children", "num_leaves", "_key", "_hash")

    def __init__(self, node_type: type | None, aux: Any,
                 children: tuple[PyTreeDef, ...]) -> None:
        self.node_type = node_type      # None means "a leaf"
        self.aux = aux
        self.children = children
        self.num_leaves: int = 1 if node_type is None else sum(c.num_leaves for c in children)
        self._key = (node_type, aux, children)
        self._hash = hash(self._key)    # children's hashes are cached too: no deep walk

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, PyTreeDef) and self._hash == other._hash
                                 and self._key == other._key)

    def __hash__(self) -> int:
        return self._hash

    def _repr(self) -> str:
        if self.node_type is None:
            return "*"
        parts = [c._repr() for c in self.children]
        if self.node_type is tuple:
            return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
        if self.node_type is list:
            return "[" + ", ".join(parts) + "]"
        if self.node_type is dict:
            return "{" + ", ".join(f"{k!r}: {p}" for k, p in zip(self.aux, parts)) + "}"
        if self.node_type is type(None):
            return "None"
        return f"{self.node_type.__name__}(" + ", ".join(parts) + ")"

    def __repr__(self) -> str:
        return f"PyTreeDef({self._repr()})"

    def unflatten(self, leaves: Iterable[Any]) -> Any:
        return tree_unflatten(self, leaves)


_LEAF = PyTreeDef(None, None, ())


def _flatten(x: Any, leaves: list, is_leaf: Callable[[Any], bool] | None) -> PyTreeDef:
    if is_leaf is not None and is_leaf(x):
        leaves.append(x)
        return _LEAF
    node = _node_type(x)
    if node is None:
        leaves.append(x)
        return _LEAF
    children, aux = node.to_iterable(x)
    return _treedef(type(x), aux, tuple([_flatten(c, leaves, is_leaf) for c in children]))


# One PyTreeDef per structure: every call with the same structure (the same
# dict of parameters, say) reuses it instead of building and hashing anew.
_INTERNED: dict[tuple, PyTreeDef] = {}


def _treedef(node_type: type, aux: Hashable, children: tuple) -> PyTreeDef:
    key = (node_type, aux, children)
    try:
        treedef = _INTERNED.get(key)
    except TypeError:                   # unhashable aux from a registered node
        return PyTreeDef(node_type, aux, children)
    if treedef is None:
        if len(_INTERNED) > 10_000:     # a program that keeps inventing structures
            _INTERNED.clear()
        treedef = _INTERNED[key] = PyTreeDef(node_type, aux, children)
    return treedef


# Types that are always leaves, for the common flat-tuple-of-arrays fast path.
_PLAIN_LEAVES = {float, int, bool, complex, np.float64, np.float32, np.int64, np.ndarray}
_FLAT_TUPLES: dict[int, PyTreeDef] = {}


def tree_flatten(tree: Any, is_leaf: Callable[[Any], bool] | None = None
                 ) -> tuple[list[Any], PyTreeDef]:
    """Return ``(leaves, treedef)``: the leaves left to right and the structure."""
    if is_leaf is None and type(tree) not in _registry and not isinstance(tree, tuple):
        return [tree], _LEAF           # a lone leaf (a function's single output, say)
    if type(tree) is tuple and is_leaf is None:
        for x in tree:
            if type(x) not in _PLAIN_LEAVES:
                break
        else:
            treedef = _FLAT_TUPLES.get(len(tree))
            if treedef is None:
                treedef = _FLAT_TUPLES[len(tree)] = PyTreeDef(tuple, None, (_LEAF,) * len(tree))
            return list(tree), treedef
    leaves: list[Any] = []
    try:
        treedef = _flatten(tree, leaves, is_leaf)
    except RecursionError:
        # Python's recursion limit is reached only by a container that holds
        # itself, or by nesting thousands deep; neither is a pytree to trace.
        raise ValueError("nanojax.tree_util.tree_flatten: the pytree contains itself (a "
                         "list, tuple or dict that holds itself, directly or not) or is "
                         "nested too deeply to flatten; pass a finite tree of arrays") from None
    return leaves, treedef


def _unflatten(treedef: PyTreeDef, it: Any) -> Any:
    if treedef.node_type is None:
        return next(it)
    children = [_unflatten(c, it) for c in treedef.children]
    node = _registry.get(treedef.node_type)
    if node is None:                    # a namedtuple class
        return treedef.node_type(*children)
    return node.from_iterable(treedef.aux, children)


def tree_unflatten(treedef: PyTreeDef, leaves: Iterable[Any]) -> Any:
    """Rebuild a pytree of structure ``treedef`` from ``leaves``."""
    leaves = list(leaves)
    if _FLAT_TUPLES.get(len(leaves)) is treedef:
        return tuple(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(f"nanojax.tree_util.tree_unflatten: {treedef} expects "
                         f"{treedef.num_leaves} leaves, got {len(leaves)}")
    return _unflatten(treedef, iter(leaves))


def tree_leaves(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> list[Any]:
    """The leaves of ``tree``, left to right."""
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree: Any, is_leaf: Callable[[Any], bool] | None = None) -> PyTreeDef:
    """The ``PyTreeDef`` of ``tree``."""
    return tree_flatten(tree, is_leaf)[1]


def treedef_is_leaf(treedef: PyTreeDef) -> bool:
    return treedef.node_type is None


def all_leaves(iterable: Iterable[Any]) -> bool:
    return all(_node_type(x) is None for x in iterable)


def tree_map(f: Callable[..., Any], tree: Any, *rest: Any,
             is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """Apply ``f`` leaf by leaf to ``tree`` and the trees in ``rest``.

    The trees in ``rest`` must have ``tree``'s structure.

    >>> tree_map(lambda x, y: x + y, (1, [2]), (10, [20]))
    (11, [22])
    """
    leaves, treedef = tree_flatten(tree, is_leaf)
    others = []
    for r in rest:
        r_leaves, r_def = tree_flatten(r, is_leaf)
        if r_def != treedef:
            raise ValueError(f"nanojax.tree_util.tree_map: trees have different structures: "
                             f"{treedef} and {r_def}")
        others.append(r_leaves)
    return tree_unflatten(treedef, [f(*xs) for xs in zip(leaves, *others)])
