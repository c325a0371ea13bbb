"""Pytrees: nested tuples, lists, dicts and registered classes of arrays.

Every transformation flattens its inputs to a list of leaves, works on the
leaves, and unflattens its outputs with the same structure. Dicts flatten in
sorted-key order; ``None`` is an empty subtree; namedtuples are nodes.

Every leaf also has a *key path*, the keys that lead to it from the root
(``DictKey``, ``SequenceKey``, ``GetAttrKey``, ``FlattenedIndexKey``), as in
JAX: ``tree_flatten_with_path`` and ``tree_map_with_path`` hand them out and
``keystr`` prints them.

Examples:
    >>> from nanojax import tree_util
    >>> leaves, tree = tree_util.tree_flatten({"b": (1.0, 2.0), "a": 3.0})
    >>> leaves
    [3.0, 1.0, 2.0]
    >>> tree_util.tree_unflatten(tree, [x * 10 for x in leaves])
    {'a': 30.0, 'b': (10.0, 20.0)}
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, NamedTuple, TypeVar

import numpy as np

from nanojax.array import ArrayImpl

__all__ = ["PyTreeDef", "tree_flatten", "tree_unflatten", "tree_leaves",
           "tree_structure", "tree_map", "register_pytree_node",
           "treedef_is_leaf", "all_leaves",
           "register_pytree_node_class", "register_pytree_with_keys",
           "register_pytree_with_keys_class", "register_dataclass", "register_static",
           "tree_flatten_with_path", "tree_leaves_with_path", "tree_map_with_path",
           "keystr", "DictKey", "SequenceKey", "GetAttrKey", "FlattenedIndexKey",
           "KeyEntry", "KeyPath", "Partial", "tree_reduce", "tree_reduce_associative",
           "tree_all", "tree_transpose", "tree_broadcast", "treedef_children",
           "treedef_tuple", "flatten_one_level", "flatten_one_level_with_keys",
           "is_tree_node"]

_T = TypeVar("_T")


# The aux data a flatten function returns is hashable; what it means is the node
# type's own business, so the unflatten function takes it as Any (a function written
# for a tuple of keys, say, is a fine unflatten function).
class _NodeType(NamedTuple):
    to_iterable: Callable[[Any], tuple[Iterable[Any], Hashable]]
    from_iterable: Callable[[Any, Iterable[Any]], Any]
    # ``x -> (((key, child), ...), aux)``; None: the children's keys are their
    # flat positions (FlattenedIndexKey), as JAX gives a node registered without keys.
    with_keys: Callable[[Any], tuple[Iterable[tuple[Any, Any]], Hashable]] | None = None


_registry: dict[type, _NodeType] = {}


def register_pytree_node(nodetype: type,
                         flatten_func: Callable[[Any], tuple[Iterable[Any], Hashable]],
                         unflatten_func: Callable[[Any, Iterable[Any]], Any],
                         flatten_with_keys_func: Callable | None = None) -> None:
    """Make instances of ``nodetype`` pytree nodes.

    ``flatten_func(x)`` returns ``(children, aux_data)`` with ``aux_data``
    hashable; ``unflatten_func(aux_data, children)`` rebuilds the node.
    ``flatten_with_keys_func(x)``, if given, returns ``(((key, child), ...),
    aux_data)``: the key of each child for key paths.
    """
    if not isinstance(nodetype, type):
        raise TypeError(f"nanojax.tree_util.register_pytree_node: nodetype must be a class, "
                        f"got {nodetype!r:.60}")
    if nodetype in _registry:
        raise ValueError(f"nanojax.tree_util.register_pytree_node: {nodetype.__name__} is "
                         "already registered as a pytree node")
    for f in (flatten_func, unflatten_func):
        if not callable(f):
            raise TypeError("nanojax.tree_util.register_pytree_node: flatten_func and "
                            f"unflatten_func must be functions, got {f!r:.60}")
    _registry[nodetype] = _NodeType(flatten_func, unflatten_func, flatten_with_keys_func)


def _sorted_keys(d: dict) -> list:
    try:
        return sorted(d)
    except TypeError as e:
        raise TypeError("nanojax.tree_util: pytree dicts must have sortable keys (all of one "
                        f"comparable type); got keys {list(d)!r}") from e


# ----- Keys: how a child is reached from its node -------------------------------------

class DictKey(NamedTuple):
    """The key of a dict entry: prints as ``['a']``."""

    key: Hashable

    def __str__(self) -> str:
        return f"[{self.key!r}]"


class SequenceKey(NamedTuple):
    """The position in a tuple or list: prints as ``[0]``."""

    idx: int

    def __str__(self) -> str:
        return f"[{self.idx!r}]"


class GetAttrKey(NamedTuple):
    """An attribute (a namedtuple's field, a dataclass's): prints as ``.name``."""

    name: str

    def __str__(self) -> str:
        return f".{self.name}"


class FlattenedIndexKey(NamedTuple):
    """The flat position of a child of a node registered without keys."""

    key: int

    def __str__(self) -> str:
        return f"[<flat index {self.key}>]"


KeyEntry = Any                 # any hashable key with a __str__, as in JAX
KeyPath = tuple               # a tuple of KeyEntry, root first


def _simple_key(k: Any) -> str:
    for field in ("key", "idx", "name"):
        if isinstance(k, (DictKey, SequenceKey, GetAttrKey, FlattenedIndexKey)) \
                and hasattr(k, field):
            return str(getattr(k, field))
    return str(k)


def keystr(keys: KeyPath, *, simple: bool = False, separator: str = "") -> str:
    """A key path as text: ``"['a'][0].w"``; ``simple`` drops the brackets.

    >>> keystr((DictKey('a'), SequenceKey(0)))
    "['a'][0]"
    >>> keystr((DictKey('a'), SequenceKey(0)), simple=True, separator='/')
    'a/0'
    """
    return separator.join(_simple_key(k) if simple else str(k) for k in keys)


def _dict_with_keys(d: dict) -> tuple[list, tuple]:
    ks = _sorted_keys(d)
    return [(DictKey(k), d[k]) for k in ks], tuple(ks)


register_pytree_node(tuple, lambda t: (t, None), lambda _, xs: tuple(xs),
                     lambda t: ([(SequenceKey(i), c) for i, c in enumerate(t)], None))
register_pytree_node(list, lambda t: (t, None), lambda _, xs: list(xs),
                     lambda t: ([(SequenceKey(i), c) for i, c in enumerate(t)], None))
register_pytree_node(
    dict,
    lambda d: (lambda ks: ([d[k] for k in ks], tuple(ks)))(_sorted_keys(d)),
    lambda ks, xs: dict(zip(ks, xs)), _dict_with_keys)
register_pytree_node(type(None), lambda _: ((), None), lambda _, __: None,
                     lambda _: ((), None))


def _node_type(x: Any) -> _NodeType | None:
    node = _registry.get(type(x))
    if node is None and isinstance(x, tuple) and hasattr(type(x), "_fields"):
        cls: Any = type(x)
        node = _NodeType(lambda t: (tuple(t), None), lambda _, xs: cls(*xs),
                         lambda t: (tuple((GetAttrKey(f), c) for f, c in zip(cls._fields, t)),
                                    None))
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
        try:
            self._hash = hash(self._key)    # children's hashes are cached too: no deep walk
        except TypeError:
            # Unhashable aux data (a dict of static fields, say): as in JAX, the node
            # hashes by its type and children, and __eq__ still compares the aux data.
            self._hash = hash((node_type, children))

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

    @property
    def num_nodes(self) -> int:
        """Nodes and leaves together (``None`` counts as a node, as in JAX)."""
        return 1 + sum(c.num_nodes for c in self.children)

    def flatten_up_to(self, tree: Any) -> list[Any]:
        """The subtrees of ``tree`` at this structure's leaves (it is a prefix of ``tree``)."""
        out: list[Any] = []
        _flatten_up_to(self, tree, out, self, tree)
        return out


_LEAF = PyTreeDef(None, None, ())


def _flatten_up_to(treedef: PyTreeDef, x: Any, out: list, whole: PyTreeDef,
                   full: Any) -> None:
    if treedef.node_type is None:
        out.append(x)
        return
    node = _node_type(x)
    children: Any = ()
    aux: Any = None
    if node is not None:
        children, aux = node.to_iterable(x)
        children = list(children)
    if (node is None or type(x) is not treedef.node_type or aux != treedef.aux
            or len(children) != len(treedef.children)):
        raise ValueError(f"nanojax.tree_util: the trees have different structures: "
                         f"{whole} is not a prefix of {tree_structure(full)}")
    for c, sub in zip(children, treedef.children):
        _flatten_up_to(sub, c, out, whole, full)


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
_PLAIN_LEAVES = {float, int, bool, complex, np.float64, np.float32, np.int64, np.ndarray,
                 ArrayImpl}
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


def all_leaves(iterable: Iterable[Any], is_leaf: Callable[[Any], bool] | None = None) -> bool:
    """Whether every element of ``iterable`` is a leaf."""
    if is_leaf is None:
        return all(_node_type(x) is None for x in iterable)
    return all(is_leaf(x) or _node_type(x) is None for x in iterable)


def tree_map(f: Callable[..., Any], tree: Any, *rest: Any,
             is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """Apply ``f`` leaf by leaf to ``tree`` and the trees in ``rest``.

    The trees in ``rest`` must have ``tree``'s structure.

    >>> tree_map(lambda x, y: x + y, (1, [2]), (10, [20]))
    (11, [22])
    """
    leaves, treedef = tree_flatten(tree, is_leaf)
    others = [_leaves_like(treedef, r, is_leaf, "tree_map") for r in rest]
    return tree_unflatten(treedef, [f(*xs) for xs in zip(leaves, *others)])


def _leaves_like(treedef: PyTreeDef, other: Any, is_leaf: Callable | None, who: str
                 ) -> list[Any]:
    """The leaves of ``other`` matching those of ``treedef``, which must be a prefix of it.

    As in JAX, the other trees of ``tree_map`` may go deeper than the first:
    a leaf of the first meets a whole subtree of the others.
    """
    r_leaves, r_def = tree_flatten(other, is_leaf)
    if r_def == treedef:                   # the usual case: same structure
        return r_leaves
    try:
        return treedef.flatten_up_to(other)
    except ValueError:
        raise ValueError(f"nanojax.tree_util.{who}: trees have different structures: "
                         f"{treedef} is not a prefix of {r_def}") from None


# ----- Key paths ------------------------------------------------------------------------

def _keyed_children(node: _NodeType, x: Any) -> tuple[list[tuple[Any, Any]], Any]:
    if node.with_keys is not None:
        keyed, aux = node.with_keys(x)
        return list(keyed), aux
    children, aux = node.to_iterable(x)
    return [(FlattenedIndexKey(i), c) for i, c in enumerate(children)], aux


def _flatten_with_path(x: Any, path: tuple, out: list, is_leaf: Callable | None,
                       takes_path: bool) -> PyTreeDef:
    if is_leaf is not None and (is_leaf(path, x) if takes_path else is_leaf(x)):
        out.append((path, x))
        return _LEAF
    node = _node_type(x)
    if node is None:
        out.append((path, x))
        return _LEAF
    keyed, aux = _keyed_children(node, x)
    return _treedef(type(x), aux, tuple([_flatten_with_path(c, (*path, k), out, is_leaf,
                                                            takes_path) for k, c in keyed]))


def tree_flatten_with_path(tree: Any, is_leaf: Callable[..., bool] | None = None,
                           is_leaf_takes_path: bool = False
                           ) -> tuple[list[tuple[KeyPath, Any]], PyTreeDef]:
    """Like ``tree_flatten``, with each leaf's key path: ``([(path, leaf), ...], treedef)``.

    >>> tree_flatten_with_path([1, {'x': 3}])[0]
    [((SequenceKey(idx=0),), 1), ((SequenceKey(idx=1), DictKey(key='x')), 3)]
    """
    out: list[tuple[KeyPath, Any]] = []
    try:
        treedef = _flatten_with_path(tree, (), out, is_leaf, is_leaf_takes_path)
    except RecursionError:
        raise ValueError("nanojax.tree_util.tree_flatten_with_path: the pytree contains "
                         "itself or is nested too deeply to flatten") from None
    return out, treedef


def tree_leaves_with_path(tree: Any, is_leaf: Callable[..., bool] | None = None,
                          is_leaf_takes_path: bool = False) -> list[tuple[KeyPath, Any]]:
    """The ``(key path, leaf)`` pairs of ``tree``, left to right."""
    return tree_flatten_with_path(tree, is_leaf, is_leaf_takes_path)[0]


def tree_map_with_path(f: Callable[..., Any], tree: Any, *rest: Any,
                       is_leaf: Callable[..., bool] | None = None,
                       is_leaf_takes_path: bool = False) -> Any:
    """``tree_map`` whose ``f(path, x, *xs)`` also gets each leaf's key path.

    >>> tree_map_with_path(lambda path, x: x + path[0].idx, [1, 2, 3])
    [1, 3, 5]
    """
    pairs, treedef = tree_flatten_with_path(tree, is_leaf, is_leaf_takes_path)
    # The other trees are matched against the first's structure (a prefix of theirs).
    others = [_leaves_like(treedef, r, None if is_leaf_takes_path else is_leaf,
                           "tree_map_with_path") for r in rest]
    return tree_unflatten(treedef, [f(p, x, *xs) for (p, x), *xs in zip(pairs, *others)])


# ----- Registering classes -------------------------------------------------------------

def register_pytree_node_class(cls: type[_T]) -> type[_T]:
    """Class decorator: ``x.tree_flatten()`` and ``cls.tree_unflatten(aux, children)``.

    >>> @register_pytree_node_class
    ... class Pair:
    ...     def __init__(self, a, b):
    ...         self.a, self.b = a, b
    ...     def tree_flatten(self):
    ...         return (self.a, self.b), None
    ...     @classmethod
    ...     def tree_unflatten(cls, aux, children):
    ...         return cls(*children)
    >>> tree_leaves(Pair(1.0, (2.0, 3.0)))
    [1.0, 2.0, 3.0]
    """
    for method in ("tree_flatten", "tree_unflatten"):
        if not callable(getattr(cls, method, None)):
            raise TypeError(f"nanojax.tree_util.register_pytree_node_class: {cls.__name__} "
                            f"has no {method} method; define tree_flatten(self) -> "
                            "(children, aux) and the classmethod tree_unflatten(aux, children)")
    register_pytree_node(cls, lambda x: x.tree_flatten(), cls.tree_unflatten)  # type: ignore[attr-defined]
    return cls


def register_pytree_with_keys(nodetype: type,
                              flatten_with_keys: Callable[[Any], tuple[Iterable, Hashable]],
                              unflatten_func: Callable[[Any, Iterable[Any]], Any],
                              flatten_func: Callable | None = None) -> None:
    """``register_pytree_node`` whose flatten function names each child's key.

    ``flatten_with_keys(x)`` returns ``(((key, child), ...), aux_data)``.
    """
    if flatten_func is None:
        def flatten_func(x: Any) -> tuple[list, Hashable]:
            keyed, aux = flatten_with_keys(x)
            return [c for _, c in keyed], aux
    register_pytree_node(nodetype, flatten_func, unflatten_func, flatten_with_keys)


def register_pytree_with_keys_class(cls: type[_T]) -> type[_T]:
    """Class decorator: ``tree_flatten_with_keys(self)`` and ``tree_unflatten``."""
    for method in ("tree_flatten_with_keys", "tree_unflatten"):
        if not callable(getattr(cls, method, None)):
            raise TypeError(f"nanojax.tree_util.register_pytree_with_keys_class: "
                            f"{cls.__name__} has no {method} method")
    flatten = getattr(cls, "tree_flatten", None)
    register_pytree_with_keys(cls, lambda x: x.tree_flatten_with_keys(),
                              cls.tree_unflatten,  # type: ignore[attr-defined]
                              None if flatten is None else (lambda x: x.tree_flatten()))
    return cls


def register_dataclass(nodetype: type[_T], data_fields: Sequence[str] | None = None,
                       meta_fields: Sequence[str] | None = None,
                       drop_fields: Sequence[str] = ()) -> type[_T]:
    """A dataclass as a node: ``data_fields`` are children, ``meta_fields`` static.

    For a dataclass both lists may be left out: a field declared with
    ``dataclasses.field(metadata=dict(static=True))`` is a meta field, the
    others are data. The class is rebuilt with ``nodetype(**fields)``.

    >>> import dataclasses
    >>> @register_dataclass
    ... @dataclasses.dataclass
    ... class Params:
    ...     w: float
    ...     name: str = dataclasses.field(default="w", metadata=dict(static=True))
    >>> tree_leaves(Params(2.0))
    [2.0]
    """
    who = "nanojax.tree_util.register_dataclass"
    if data_fields is None or meta_fields is None:
        if not dataclasses.is_dataclass(nodetype):
            raise TypeError(f"{who}: {nodetype.__name__} is not a dataclass, so data_fields "
                            "and meta_fields must both be given")
        given = set(data_fields or ()) | set(meta_fields or ()) | set(drop_fields)
        rest = [f for f in dataclasses.fields(nodetype) if f.init and f.name not in given]
        if meta_fields is None:
            meta_fields = [f.name for f in rest if f.metadata.get("static", False)]
        if data_fields is None:
            data_fields = [f.name for f in rest if not f.metadata.get("static", False)]
    data, meta = tuple(data_fields), tuple(meta_fields)
    if set(data) & set(meta):
        raise ValueError(f"{who}: fields {sorted(set(data) & set(meta))} are listed both as "
                         "data_fields and as meta_fields")
    if dataclasses.is_dataclass(nodetype):
        init = {f.name for f in dataclasses.fields(nodetype) if f.init}
        missing = init - set(data) - set(meta) - set(drop_fields)
        unknown = (set(data) | set(meta)) - init
        if missing or unknown:
            raise ValueError(f"{who}: data_fields and meta_fields must list the init fields "
                             f"of {nodetype.__name__} ({sorted(init)}); "
                             + (f"missing {sorted(missing)}" if missing else
                                f"not init fields: {sorted(unknown)}"))

    def unflatten(aux: tuple, children: Iterable[Any]) -> Any:
        return nodetype(**dict(zip(data, children)), **dict(zip(meta, aux)))

    register_pytree_node(
        nodetype, lambda x: ([getattr(x, f) for f in data], tuple(getattr(x, m) for m in meta)),
        unflatten,
        lambda x: ([(GetAttrKey(f), getattr(x, f)) for f in data],
                   tuple(getattr(x, m) for m in meta)))
    return nodetype


def register_static(cls: type[_T]) -> type[_T]:
    """Instances of ``cls`` are nodes without children: part of the structure, not leaves.

    They must be hashable, as the structure is part of ``jit``'s cache key.
    """
    register_pytree_node(cls, lambda x: ((), x), lambda x, _: x, lambda x: ((), x))
    return cls


class Partial(functools.partial):
    """``functools.partial`` as a pytree: the arguments are leaves, the function static.

    So a partially applied function may be passed through ``jit`` and ``vmap``
    and returned from them.

    >>> import nanojax as nj
    >>> add = Partial(lambda x, y: x + y, 1.0)
    >>> nj.jit(lambda f, y: f(y))(add, 2.0)
    np.float64(3.0)
    """


def _partial_unflatten(func: Callable, children: Iterable[Any]) -> Partial:
    args, keywords = children
    return Partial(func, *args, **keywords)


register_pytree_node(Partial, lambda p: ((p.args, p.keywords), p.func), _partial_unflatten)


# ----- Whole-tree operations -----------------------------------------------------------

class _NoInit:
    def __repr__(self) -> str:
        return "<no initializer>"


_NO_INIT: Any = _NoInit()


def tree_reduce(function: Callable[[Any, Any], Any], tree: Any, initializer: Any = _NO_INIT,
                is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """``functools.reduce`` over the leaves.

    >>> import operator
    >>> tree_reduce(operator.add, [1, (2, 3), [4, 5, 6]])
    21
    """
    leaves = tree_leaves(tree, is_leaf)
    if initializer is _NO_INIT:
        if not leaves:
            raise TypeError("nanojax.tree_util.tree_reduce: the tree has no leaves and no "
                            "initializer was given")
        return functools.reduce(function, leaves)
    return functools.reduce(function, leaves, initializer)


def tree_reduce_associative(operation: Callable[[Any, Any], Any], tree: Any, *,
                            identity: Any = _NO_INIT,
                            is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """Reduce the leaves pairwise, in a balanced tree of ``operation`` calls."""
    leaves = tree_leaves(tree, is_leaf)
    if not leaves:
        if identity is _NO_INIT:
            raise ValueError("nanojax.tree_util.tree_reduce_associative: the tree has no "
                             "leaves and no identity was given")
        return identity
    while len(leaves) > 1:
        pairs = [operation(a, b) for a, b in zip(leaves[::2], leaves[1::2])]
        leaves = pairs + ([leaves[-1]] if len(leaves) % 2 else [])
    return leaves[0]


def tree_all(tree: Any, *, is_leaf: Callable[[Any], bool] | None = None) -> bool:
    """``all()`` of the leaves (``True`` for a tree without leaves)."""
    return all(tree_leaves(tree, is_leaf))


def tree_transpose(outer_treedef: PyTreeDef, inner_treedef: PyTreeDef | None,
                   pytree_to_transpose: Any) -> Any:
    """Turn a tree of structure (outer, inner) into one of structure (inner, outer).

    ``inner_treedef`` None: read from the tree.

    >>> outer, inner = tree_structure([0, 0]), tree_structure((0, 0, 0))
    >>> tree_transpose(outer, inner, [(1, 2, 3), (4, 5, 6)])
    ([1, 4], [2, 5], [3, 6])
    """
    subtrees = outer_treedef.flatten_up_to(pytree_to_transpose)
    if inner_treedef is None:
        inner_treedef = tree_structure(subtrees[0]) if subtrees else _LEAF
    columns = []
    for sub in subtrees:
        leaves, sub_def = tree_flatten(sub)
        if sub_def != inner_treedef:
            raise TypeError(f"nanojax.tree_util.tree_transpose: a subtree at a leaf of the outer "
                            f"structure {outer_treedef} has structure {sub_def}, not the inner "
                            f"structure {inner_treedef}")
        columns.append(leaves)
    rows = [tree_unflatten(outer_treedef, [col[j] for col in columns])
            for j in range(inner_treedef.num_leaves)]
    return tree_unflatten(inner_treedef, rows)


def tree_broadcast(prefix_tree: Any, full_tree: Any,
                   is_leaf: Callable[[Any], bool] | None = None) -> Any:
    """Repeat each leaf of ``prefix_tree`` over the subtree of ``full_tree`` it heads.

    >>> tree_broadcast((1, 2, 3), (0, {'a': 0, 'b': 0}, (0, 0)))
    (1, {'a': 2, 'b': 2}, (3, 3))
    """
    leaves, treedef = tree_flatten(prefix_tree, is_leaf)
    subtrees = _leaves_like(treedef, full_tree, is_leaf, "tree_broadcast")
    return tree_unflatten(treedef, [tree_map(lambda _, v=v: v, sub, is_leaf=is_leaf)
                                    for v, sub in zip(leaves, subtrees)])


def treedef_children(treedef: PyTreeDef) -> list[PyTreeDef]:
    """The structures of the root's children."""
    return list(treedef.children)


def treedef_tuple(treedefs: Iterable[PyTreeDef]) -> PyTreeDef:
    """The structure of a tuple whose elements have the structures ``treedefs``."""
    return _treedef(tuple, None, tuple(treedefs))


def flatten_one_level(tree: Any) -> tuple[list[Any], Hashable]:
    """The children and aux data of the root node; a ValueError for a leaf."""
    node = _node_type(tree)
    if node is None:
        raise ValueError(f"nanojax.tree_util.flatten_one_level: {tree!r:.50} is a leaf, "
                         "not a pytree node")
    children, aux = node.to_iterable(tree)
    return list(children), aux


def flatten_one_level_with_keys(tree: Any) -> tuple[list[tuple[Any, Any]], Hashable]:
    """``flatten_one_level`` with each child's key: ``([(key, child), ...], aux)``."""
    node = _node_type(tree)
    if node is None:
        raise ValueError(f"nanojax.tree_util.flatten_one_level_with_keys: {tree!r:.50} is a "
                         "leaf, not a pytree node")
    return _keyed_children(node, tree)


def is_tree_node(x: Any) -> bool:
    """Whether ``x`` (a value, or a type) is a pytree node rather than a leaf."""
    if isinstance(x, type):
        return x in _registry or (issubclass(x, tuple) and hasattr(x, "_fields"))
    return _node_type(x) is not None
