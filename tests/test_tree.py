"""nanojax.tree, the key-path half of tree_util, and flatten_util.ravel_pytree.

Expected values follow JAX's documentation of jax.tree / jax.tree_util.
"""

import collections
import dataclasses
import operator

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import tree_util as tu
from nanojax.flatten_util import ravel_pytree
from nanojax.tree_util import DictKey, FlattenedIndexKey, GetAttrKey, SequenceKey

Point = collections.namedtuple("Point", ["x", "y"])


# ----- nanojax.tree is tree_util under JAX's short names ------------------------------

@pytest.mark.parametrize("short, long", [
    ("all", "tree_all"), ("broadcast", "tree_broadcast"), ("flatten", "tree_flatten"),
    ("flatten_with_path", "tree_flatten_with_path"), ("leaves", "tree_leaves"),
    ("leaves_with_path", "tree_leaves_with_path"), ("map", "tree_map"),
    ("map_with_path", "tree_map_with_path"), ("reduce", "tree_reduce"),
    ("reduce_associative", "tree_reduce_associative"), ("structure", "tree_structure"),
    ("transpose", "tree_transpose"), ("unflatten", "tree_unflatten"),
])
def test_tree_names_are_the_tree_util_functions(short, long):
    assert getattr(nj.tree, short) is getattr(tu, long)


# ----- Key paths ---------------------------------------------------------------------

class Unkeyed:
    def __init__(self, a, b):
        self.a, self.b = a, b


tu.register_pytree_node(Unkeyed, lambda u: ((u.a, u.b), None), lambda _, c: Unkeyed(*c))


@pytest.mark.parametrize("tree, paths", [
    ([1, {"x": 3}], [(SequenceKey(0),), (SequenceKey(1), DictKey("x"))]),
    ({"b": (1, 2), "a": 3}, [(DictKey("a"),), (DictKey("b"), SequenceKey(0)),
                             (DictKey("b"), SequenceKey(1))]),
    (Point(1, [2]), [(GetAttrKey("x"),), (GetAttrKey("y"), SequenceKey(0))]),
    (Unkeyed(1, 2), [(FlattenedIndexKey(0),), (FlattenedIndexKey(1),)]),
    ((None, 5), [(SequenceKey(1),)]),
    (7, [()]),
], ids=["doc-example", "dict-sorted", "namedtuple", "registered-without-keys", "none", "leaf"])
def test_flatten_with_path_gives_jax_key_paths(tree, paths):
    pairs, treedef = nj.tree.flatten_with_path(tree)
    assert [p for p, _ in pairs] == paths
    assert [x for _, x in pairs] == tu.tree_leaves(tree)
    assert treedef == tu.tree_structure(tree)
    assert nj.tree.leaves_with_path(tree) == pairs


def test_keystr_prints_paths_as_jax():
    path = (DictKey("a"), SequenceKey(0), GetAttrKey("w"), FlattenedIndexKey(2))
    assert tu.keystr(path) == "['a'][0].w[<flat index 2>]"
    assert tu.keystr(path, simple=True, separator="/") == "a/0/w/2"
    assert tu.keystr(()) == ""
    assert repr(DictKey("a")) == "DictKey(key='a')" and repr(SequenceKey(1)) == "SequenceKey(idx=1)"


def test_map_with_path_passes_the_path_first_and_maps_other_trees():
    assert nj.tree.map_with_path(lambda p, x: x + p[0].idx, [1, 2, 3]) == [1, 3, 5]
    out = nj.tree.map_with_path(lambda p, x, y: (tu.keystr(p), x + y), {"a": 1, "b": 2},
                                {"a": 10, "b": 20})
    assert out == {"a": ("['a']", 11), "b": ("['b']", 22)}


def test_is_leaf_may_take_the_path():
    pairs, _ = nj.tree.flatten_with_path({"a": (1, 2), "b": (3, 4)},
                                         is_leaf=lambda p, x: p == (DictKey("a"),),
                                         is_leaf_takes_path=True)
    assert [x for _, x in pairs] == [(1, 2), 3, 4]


# ----- Registering classes -----------------------------------------------------------

@tu.register_pytree_node_class
class Pair:
    def __init__(self, a, b):
        self.a, self.b = a, b

    def tree_flatten(self):
        return (self.a, self.b), "pair"

    @classmethod
    def tree_unflatten(cls, aux, children):
        assert aux == "pair"
        return cls(*children)


@tu.register_pytree_with_keys_class
class Named:
    def __init__(self, w, b):
        self.w, self.b = w, b

    def tree_flatten_with_keys(self):
        return ((GetAttrKey("w"), self.w), (GetAttrKey("b"), self.b)), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        return cls(*children)


@tu.register_dataclass
@dataclasses.dataclass
class Layer:
    w: np.ndarray
    b: np.ndarray
    act: str = dataclasses.field(default="tanh", metadata=dict(static=True))
    scale: float = nj.tree.static(default=1.0)


def test_register_pytree_node_class_round_trips_and_differentiates():
    p = Pair(np.array([1.0, 2.0]), 3.0)
    leaves, treedef = tu.tree_flatten(p)
    assert len(leaves) == 2 and tu.tree_unflatten(treedef, leaves).b == 3.0
    g = nj.grad(lambda p: jnp.sum(p.a * p.b))(p)
    assert isinstance(g, Pair)
    np.testing.assert_allclose(g.a, [3.0, 3.0])
    np.testing.assert_allclose(g.b, 3.0)


def test_register_pytree_with_keys_names_the_children():
    pairs, _ = tu.tree_flatten_with_path(Named(1.0, 2.0))
    assert [tu.keystr(p) for p, _ in pairs] == [".w", ".b"]
    assert tu.tree_map(lambda x: x * 2, Named(1.0, 2.0)).b == 4.0


def test_register_dataclass_keeps_static_fields_in_the_structure():
    layer = Layer(np.ones(2), np.zeros(2), act="relu", scale=2.0)
    pairs, treedef = tu.tree_flatten_with_path(layer)
    assert [tu.keystr(p) for p, _ in pairs] == [".w", ".b"]
    assert treedef != tu.tree_structure(Layer(np.ones(2), np.zeros(2)))
    back = tu.tree_unflatten(treedef, [np.full(2, 5.0), np.ones(2)])
    assert back.act == "relu" and back.scale == 2.0
    np.testing.assert_array_equal(back.w, [5.0, 5.0])
    out = nj.jit(lambda ly: ly.w * ly.scale + ly.b)(layer)
    np.testing.assert_array_equal(out, [2.0, 2.0])


def test_register_dataclass_with_explicit_fields_and_errors():
    class Plain:
        def __init__(self, x, n):
            self.x, self.n = x, n
    tu.register_dataclass(Plain, data_fields=["x"], meta_fields=["n"])
    assert tu.tree_leaves(Plain(1.5, 3)) == [1.5]
    assert tu.tree_map(lambda v: v + 1, Plain(1.5, 3)).n == 3

    class NotADataclass:
        pass
    with pytest.raises(TypeError, match="not a dataclass"):
        tu.register_dataclass(NotADataclass)

    @dataclasses.dataclass
    class Two:
        a: float
        b: float
    with pytest.raises(ValueError, match="missing"):
        tu.register_dataclass(Two, data_fields=["a"], meta_fields=[])


def test_register_static_and_duplicate_registration():
    @tu.register_static
    @dataclasses.dataclass(frozen=True)
    class Config:
        depth: int

    tree = {"cfg": Config(3), "x": 1.0}
    assert tu.tree_leaves(tree) == [1.0]
    assert tu.tree_structure(tree) != tu.tree_structure({"cfg": Config(4), "x": 1.0})
    with pytest.raises(ValueError, match="already registered"):
        tu.register_pytree_node(Config, lambda c: ((), c), lambda c, _: c)
    with pytest.raises(TypeError, match="no tree_flatten"):
        tu.register_pytree_node_class(type("Bare", (), {}))


def test_partial_is_a_pytree_through_jit_and_grad():
    scale = tu.Partial(lambda a, x: a * x, 3.0)
    leaves, treedef = tu.tree_flatten(scale)
    assert leaves == [3.0]
    assert tu.tree_unflatten(treedef, [4.0])(2.0) == 8.0
    assert nj.jit(lambda f, x: f(x))(scale, 2.0) == 6.0
    g = nj.grad(lambda f: f(2.0))(scale)
    assert isinstance(g, tu.Partial) and g.args == (2.0,)


# ----- Whole-tree operations ----------------------------------------------------------

def test_reduce_all_and_reduce_associative():
    tree = [1, (2, 3), [4, 5, 6]]
    assert nj.tree.reduce(operator.add, tree) == 21
    assert nj.tree.reduce(operator.add, tree, 100) == 121
    assert nj.tree.reduce_associative(operator.add, tree) == 21
    assert nj.tree.reduce_associative(operator.add, [], identity=0) == 0
    with pytest.raises(ValueError, match="identity"):
        nj.tree.reduce_associative(operator.add, [])
    with pytest.raises(TypeError, match="initializer"):
        nj.tree.reduce(operator.add, [])
    assert nj.tree.all([True, (1, 2)]) and not nj.tree.all({"a": True, "b": 0})
    assert nj.tree.all([])


def test_transpose_as_in_the_jax_docs():
    tree = [(1, 2, 3), (4, 5, 6)]
    outer, inner = nj.tree.structure(["*", "*"]), nj.tree.structure(("*", "*", "*"))
    assert nj.tree.transpose(outer, inner, tree) == ([1, 4], [2, 5], [3, 6])
    assert nj.tree.transpose(outer, None, tree) == ([1, 4], [2, 5], [3, 6])
    with pytest.raises(TypeError, match="inner structure"):
        nj.tree.transpose(outer, inner, [(1, 2, 3), (4, 5)])


def test_broadcast_as_in_the_jax_docs():
    assert nj.tree.broadcast((1, 2, 3), (0, {"a": 0, "b": 0}, (0, 0))) == \
        (1, {"a": 2, "b": 2}, (3, 3))
    with pytest.raises(ValueError, match="prefix"):
        nj.tree.broadcast((1, 2), (0, 0, 0))


def test_treedef_helpers():
    treedef = tu.tree_structure({"a": (1, 2), "b": None})
    children = tu.treedef_children(treedef)
    assert children == [tu.tree_structure((0, 0)), tu.tree_structure(None)]
    assert tu.treedef_tuple(children) == tu.tree_structure(((0, 0), None))
    assert treedef.num_nodes == 5 and treedef.num_leaves == 2
    assert treedef.flatten_up_to({"a": (1, [2, 3]), "b": None}) == [1, [2, 3]]
    assert tu.flatten_one_level({"b": 1, "a": 2}) == ([2, 1], ("a", "b"))
    assert tu.flatten_one_level_with_keys([5]) == ([(SequenceKey(0), 5)], None)
    with pytest.raises(ValueError, match="leaf"):
        tu.flatten_one_level(1.0)
    assert tu.is_tree_node((1,)) and tu.is_tree_node(Point) and not tu.is_tree_node(1.0)
    assert tu.all_leaves([(1, 2)], is_leaf=lambda x: isinstance(x, tuple))


# ----- ravel_pytree ---------------------------------------------------------------------

def test_ravel_pytree_values_order_and_dtypes():
    tree = {"b": np.array([[1.0, 2.0]], np.float32), "a": 3, "c": (np.arange(2.0),)}
    flat, unravel = ravel_pytree(tree)
    np.testing.assert_array_equal(flat, [3.0, 1.0, 2.0, 0.0, 1.0])
    assert flat.dtype == np.float64           # the promoted dtype of the leaves
    back = unravel(flat * 2)
    assert back["b"].dtype == np.float32 and back["b"].shape == (1, 2)
    assert back["a"].dtype == np.int64 and back["a"] == 6
    np.testing.assert_array_equal(back["c"][0], [0.0, 2.0])


def test_ravel_pytree_of_an_empty_tree_and_a_wrong_vector():
    flat, unravel = ravel_pytree({})
    assert flat.shape == (0,) and unravel(flat) == {}
    _, unravel = ravel_pytree((np.ones(2), 1.0))
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        unravel(np.ones(4))


def test_ravel_pytree_under_grad_jit_and_vmap():
    params = {"w": np.array([[1.0, -2.0], [0.5, 3.0]]), "b": np.array([0.1, -0.2])}
    flat, unravel = ravel_pytree(params)

    def loss(v):
        p = unravel(v)
        return jnp.sum(jnp.tanh(p["w"] @ p["b"] + p["b"]) ** 2)
    nj.check_grads(loss, (flat,), order=2, modes=("fwd", "rev"))
    g = nj.grad(lambda p: loss(ravel_pytree(p)[0]))(params)
    np.testing.assert_allclose(ravel_pytree(g)[0], nj.grad(loss)(flat), rtol=1e-12)
    np.testing.assert_array_equal(nj.jit(loss)(flat), loss(flat))
    batch = np.stack([flat, 2 * flat])
    np.testing.assert_allclose(nj.vmap(loss)(batch), [loss(flat), loss(2 * flat)], rtol=1e-12)
