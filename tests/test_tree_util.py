"""Pytrees: flattening, rebuilding, mapping, custom nodes and tree definitions."""

import collections

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import tree_util as tu

Point = collections.namedtuple("Point", ["x", "y"])

TREES = [
    ("leaf", 1.0, [1.0]),
    ("array_leaf", np.arange(3.0), None),
    ("tuple", (1, 2, 3), [1, 2, 3]),
    ("list", [1, [2, 3]], [1, 2, 3]),
    ("dict_sorted", {"b": 2, "a": 1, "c": 3}, [1, 2, 3]),
    ("nested", {"z": [1, (2, {"y": 3, "x": 4})], "a": 5}, [5, 1, 2, 4, 3]),
    ("namedtuple", Point(x=1, y=[2, 3]), [1, 2, 3]),
    ("none_inside", {"a": None, "b": (1, None, 2)}, [1, 2]),
    ("none", None, []),
    ("empty", ((), [], {}), []),
    ("one_tuple", (1,), [1]),
]


@pytest.mark.parametrize("name,tree,leaves", TREES, ids=[t[0] for t in TREES])
def test_flatten_gives_leaves_left_to_right_with_sorted_dict_keys(name, tree, leaves):
    got, _ = tu.tree_flatten(tree)
    if leaves is None:
        assert len(got) == 1 and got[0] is tree
    else:
        assert got == leaves
    assert tu.tree_leaves(tree) == got


def _same(a, b):
    """Equal as trees, with each container of the same type."""
    assert type(a) is type(b)
    if isinstance(a, dict):
        assert set(a) == set(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b


@pytest.mark.parametrize("name,tree,leaves", TREES, ids=[t[0] for t in TREES])
def test_unflatten_of_flatten_rebuilds_the_tree(name, tree, leaves):
    got, treedef = tu.tree_flatten(tree)
    _same(tu.tree_unflatten(treedef, got), tree)
    _same(treedef.unflatten(got), tree)


@pytest.mark.parametrize("name,tree,leaves", TREES, ids=[t[0] for t in TREES])
def test_unflatten_with_new_leaves_keeps_structure(name, tree, leaves):
    got, treedef = tu.tree_flatten(tree)
    new = tu.tree_unflatten(treedef, [f"leaf{i}" for i in range(len(got))])
    assert tu.tree_structure(new) == treedef
    assert tu.tree_leaves(new) == [f"leaf{i}" for i in range(len(got))]


def test_unflatten_with_wrong_number_of_leaves_raises():
    _, treedef = tu.tree_flatten((1, [2, 3]))
    with pytest.raises(ValueError, match="3 leaves"):
        tu.tree_unflatten(treedef, [1, 2])


def test_dict_keys_come_back_sorted_after_unflatten():
    leaves, treedef = tu.tree_flatten({"b": 2, "a": 1})
    assert leaves == [1, 2]
    assert list(tu.tree_unflatten(treedef, leaves)) == ["a", "b"]


def test_dict_with_unsortable_keys_says_so():
    with pytest.raises(TypeError, match="sortable"):
        tu.tree_flatten({1: "a", "b": 2})


def test_none_is_an_empty_subtree_not_a_leaf():
    leaves, treedef = tu.tree_flatten([None, 1.0, None])
    assert leaves == [1.0]
    assert tu.tree_unflatten(treedef, [5.0]) == [None, 5.0, None]
    assert tu.tree_map(lambda x: x * 2, {"a": None, "b": 3}) == {"a": None, "b": 6}


def test_namedtuple_is_a_node_and_keeps_its_type_and_fields():
    p = Point(x=np.ones(2), y=3.0)
    leaves, treedef = tu.tree_flatten(p)
    assert len(leaves) == 2
    q = tu.tree_unflatten(treedef, [0.0, 1.0])
    assert type(q) is Point and q.x == 0.0 and q.y == 1.0
    assert treedef != tu.tree_structure((1.0, 2.0))     # not a plain tuple


def test_is_leaf_stops_descent():
    tree = {"a": (1, 2), "b": [3, (4, 5)]}
    leaves = tu.tree_leaves(tree, is_leaf=lambda x: isinstance(x, tuple))
    assert leaves == [(1, 2), 3, (4, 5)]


# ----- custom nodes ----------------------------------------------------------------

class Linear:
    """A layer holding weights and a bias, with a static name."""

    def __init__(self, w, b, name="dense"):
        self.w, self.b, self.name = w, b, name


tu.register_pytree_node(
    Linear,
    lambda layer: ((layer.w, layer.b), layer.name),
    lambda name, children: Linear(*children, name=name))


def test_registered_class_flattens_to_its_children_and_rebuilds():
    layer = Linear(np.ones((2, 2)), np.zeros(2), name="first")
    leaves, treedef = tu.tree_flatten({"layer": layer, "scale": 2.0})
    assert len(leaves) == 3
    rebuilt = tu.tree_unflatten(treedef, leaves)
    assert isinstance(rebuilt["layer"], Linear) and rebuilt["layer"].name == "first"
    np.testing.assert_array_equal(rebuilt["layer"].w, layer.w)


def test_registered_class_aux_data_is_part_of_the_structure():
    a = tu.tree_structure(Linear(1.0, 2.0, name="a"))
    b = tu.tree_structure(Linear(1.0, 2.0, name="b"))
    assert a != b
    assert a == tu.tree_structure(Linear(3.0, 4.0, name="a"))


def test_tree_map_over_registered_class():
    out = tu.tree_map(lambda x: x * 10, Linear(1.0, 2.0, name="k"))
    assert isinstance(out, Linear) and (out.w, out.b, out.name) == (10.0, 20.0, "k")


def test_grad_through_registered_class():
    layer = Linear(np.array([1.0, 2.0]), 0.5)
    g = nj.grad(lambda lyr, x: jnp.sum(lyr.w * x) + lyr.b ** 2)(layer, np.array([3.0, 4.0]))
    assert isinstance(g, Linear) and g.name == "dense"
    np.testing.assert_array_equal(g.w, [3.0, 4.0])
    assert g.b == 1.0


# ----- tree_map ------------------------------------------------------------------------

def test_tree_map_single_tree():
    out = tu.tree_map(lambda x: x + 1, {"a": [1, 2], "b": (3,)})
    assert out == {"a": [2, 3], "b": (4,)}


def test_tree_map_several_trees_combines_matching_leaves():
    a = {"w": np.array([1.0, 2.0]), "b": 1.0}
    b = {"w": np.array([10.0, 20.0]), "b": 2.0}
    c = {"w": 2.0, "b": 3.0}
    out = tu.tree_map(lambda x, y, z: x + y * z, a, b, c)
    np.testing.assert_array_equal(out["w"], [21.0, 42.0])
    assert out["b"] == 7.0


@pytest.mark.parametrize("other", [
    {"w": 1.0}, {"w": 1.0, "c": 2.0}, [1.0, 2.0], {"w": (1.0,)},
], ids=["missing_key", "other_key", "list", "shallower"])
def test_tree_map_with_mismatched_structures_raises(other):
    with pytest.raises(ValueError, match="structure"):
        tu.tree_map(lambda x, y: x + y, {"w": 1.0, "b": 2.0}, other)


def test_tree_map_other_trees_may_go_deeper_than_the_first():
    # As in JAX: the first tree is a prefix of the others, and each of its
    # leaves meets the whole subtree there (None included).
    out = tu.tree_map(lambda x, y: (x, y), {"w": 1.0, "b": 2.0}, {"w": (1.0,), "b": None})
    assert out == {"w": (1.0, (1.0,)), "b": (2.0, None)}


def test_tree_map_is_leaf():
    out = tu.tree_map(lambda t: sum(t), [(1, 2), (3, 4)], is_leaf=lambda x: isinstance(x, tuple))
    assert out == [3, 7]


# ----- PyTreeDef ----------------------------------------------------------------------

def test_treedef_equality_ignores_leaf_values():
    assert tu.tree_structure({"a": 1, "b": [2, 3]}) == tu.tree_structure(
        {"b": [np.ones(3), "x"], "a": 0})


@pytest.mark.parametrize("a,b", [
    ((1, 2), [1, 2]), ((1, 2), (1, 2, 3)), ({"a": 1}, {"b": 1}), ((1, (2,)), (1, 2)),
    (Point(1, 2), (1, 2)), (None, (None,)), (1.0, (1.0,)),
], ids=["tuple_list", "length", "keys", "nesting", "namedtuple_tuple", "none", "leaf"])
def test_treedef_inequality_for_different_structures(a, b):
    assert tu.tree_structure(a) != tu.tree_structure(b)


def test_treedef_is_hashable_and_usable_as_a_key():
    s1 = tu.tree_structure({"a": (1, 2), "b": [3]})
    s2 = tu.tree_structure({"b": [30], "a": (10, 20)})
    s3 = tu.tree_structure({"a": (1, 2), "b": [3, 4]})
    assert hash(s1) == hash(s2)
    cache = {s1: "first"}
    assert cache[s2] == "first" and s3 not in cache
    assert len({s1, s2, s3}) == 2


def test_treedef_num_leaves_and_repr():
    s = tu.tree_structure({"a": (1, None), "b": [2, 3]})
    assert s.num_leaves == 3
    assert repr(s) == "PyTreeDef({'a': (*, None), 'b': [*, *]})"


def test_treedef_is_leaf_and_all_leaves():
    assert tu.treedef_is_leaf(tu.tree_structure(1.0))
    assert not tu.treedef_is_leaf(tu.tree_structure((1.0,)))
    assert tu.all_leaves([1.0, np.ones(2)])
    assert not tu.all_leaves([1.0, (2.0,)])


class _WithStaticDict:
    """JAX's Gotchas' CustomClass: a pytree whose aux data is a dict (unhashable)."""

    def __init__(self, x, mul):
        self.x, self.mul = x, mul

    @nj.jit
    def calc(self, y):
        return self.x * y if self.mul else y


tu.register_pytree_node(_WithStaticDict, lambda c: ((c.x,), {"mul": c.mul}),
                        lambda aux, children: _WithStaticDict(*children, **aux))


def test_unhashable_aux_data_is_compared_not_hashed():
    # As in JAX: the treedef hashes by node type and children; == compares the aux data,
    # so jit's cache tells mul=True from mul=False.
    c = _WithStaticDict(2, True)
    assert c.calc(3) == 6
    c.mul = False
    assert c.calc(3) == 3
    assert _WithStaticDict(jnp.array(2), True).calc(3) == 6
    a, b = tu.tree_structure(_WithStaticDict(1, True)), tu.tree_structure(_WithStaticDict(5, True))
    assert a == b and hash(a) == hash(b)
    assert a != tu.tree_structure(_WithStaticDict(1, False))
