"""nanojax.optim.tree (optax.tree), optim.tree_utils and optim.transforms."""

from __future__ import annotations

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import optim
from nanojax.optim import tree

A = {"w": np.array([1.0, -2.0, 3.0]), "b": np.array(0.5), "k": np.arange(4.0).reshape(2, 2)}
B = {"w": np.array([0.5, 4.0, -1.0]), "b": np.array(-2.0), "k": np.ones((2, 2))}


def _flat(t):
    return np.concatenate([np.ravel(x) for x in nj.tree_util.tree_leaves(t)])


@pytest.mark.parametrize("name, f, want", [
    ("add", lambda: tree.add(A, B, B), lambda a, b: a + 2 * b),
    ("sub", lambda: tree.sub(A, B), lambda a, b: a - b),
    ("mul", lambda: tree.mul(A, B), lambda a, b: a * b),
    ("div", lambda: tree.div(A, B), lambda a, b: a / b),
    ("scale", lambda: tree.scale(3.0, A), lambda a, b: 3 * a),
    ("add_scale", lambda: tree.add_scale(A, -0.5, B), lambda a, b: a - 0.5 * b),
    ("clip", lambda: tree.clip(A, -1.0, 2.0), lambda a, b: np.clip(a, -1, 2)),
    ("where", lambda: tree.where(False, A, B), lambda a, b: b),
    ("update_moment", lambda: tree.update_moment(A, B, 0.9, 2), lambda a, b: 0.1 * a**2 + 0.9 * b),
    ("update_infinity_moment", lambda: tree.update_infinity_moment(A, B, 0.9, 1e-3),
     lambda a, b: np.maximum(np.abs(a) + 1e-3, 0.9 * b)),
    ("bias_correction", lambda: tree.bias_correction(A, 0.9, 3), lambda a, b: a / (1 - 0.9**3)),
    ("zeros_like", lambda: tree.zeros_like(A), lambda a, b: 0 * a),
    ("full_like", lambda: tree.full_like(A, 7.0), lambda a, b: 0 * a + 7),
])
def test_leafwise_functions_match_numpy(name, f, want):
    np.testing.assert_allclose(_flat(f()), want(_flat(A), _flat(B)), rtol=1e-15, atol=1e-15)


def test_reductions_treat_the_tree_as_one_vector():
    a = _flat(A)
    assert float(tree.vdot(A, B)) == pytest.approx(float(a @ _flat(B)))
    assert float(tree.sum(A)) == pytest.approx(a.sum())
    assert float(tree.max(A)) == a.max() and float(tree.min(A)) == a.min()
    assert tree.size(A) == a.size == 8
    assert float(tree.norm(A)) == pytest.approx(np.linalg.norm(a))
    assert float(tree.norm(A, squared=True)) == pytest.approx(a @ a)
    assert float(tree.norm(A, ord=1)) == pytest.approx(np.abs(a).sum())
    assert float(tree.norm(A, ord=np.inf)) == np.abs(a).max()
    with pytest.raises(ValueError, match=r"tree\.norm: ord must be"):
        tree.norm(A, ord=3)
    # and under grad: the norm's gradient is a / |a|
    g = nj.grad(tree.norm)(A)
    np.testing.assert_allclose(_flat(g), a / np.linalg.norm(a), rtol=1e-14)


def test_none_leaves_stay_none():
    masked = {"w": None, "b": np.array(1.0)}
    out = tree.add_scale(masked, 2.0, {"w": None, "b": np.array(3.0)})
    assert out["w"] is None and float(out["b"]) == 7.0


def test_dtypes_and_casts():
    mixed = {"a": np.ones(2, np.float32), "b": np.ones(2)}
    with pytest.raises(ValueError, match=r"tree\.dtype: the leaves have several"):
        tree.dtype(mixed)
    assert tree.dtype(mixed, "promote") == np.float64
    assert tree.dtype(mixed, "lowest") == np.float32
    cast = tree.cast({"a": np.ones(2), "i": np.arange(2)}, np.float32)
    assert cast["a"].dtype == np.float32 and cast["i"].dtype == np.int64
    assert tree.cast_like(mixed, {"a": np.ones(2), "b": np.ones(2, np.float32)})["a"].dtype \
        == np.float64
    assert tree.allclose(A, tree.add(A, tree.zeros_like(A))) and not tree.allclose(A, B)


def test_get_and_set_find_state_fields_by_name():
    state = optim.inject_hyperparams(optim.adam)(0.1).init({"w": jnp.ones(2)})
    assert float(tree.get(state, "learning_rate")) == pytest.approx(0.1)
    assert tree.get(state, "no_such_field", "none") == "none"
    new = tree.set(state, learning_rate=0.5)
    assert float(tree.get(new, "learning_rate")) == 0.5
    assert float(tree.get(state, "learning_rate")) == pytest.approx(0.1)      # not mutated
    chained = optim.chain(optim.adam(0.1), optim.adam(0.1)).init({"w": jnp.ones(2)})
    with pytest.raises(KeyError, match=r"tree\.get: 2 fields are named 'count'"):
        tree.get(chained, "count")


def test_the_optax_spellings_import():
    import nanojax.optim.tree as as_module
    from nanojax.optim.tree import add
    assert as_module is tree and add is tree.add
    assert optim.tree_utils.tree_add is tree.add and optim.tree_utils.tree_norm is tree.norm
    import nanojax.optax.tree_utils
    from nanojax.optax import transforms
    from nanojax.optax.tree import vdot
    assert vdot is tree.vdot and nanojax.optax.tree_utils.tree_sum is tree.sum
    assert transforms.freeze is optim.freeze and transforms.flatten is optim.flatten
    assert transforms.selective_transform is optim.selective_transform
