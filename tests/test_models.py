"""nanojax.models: stax-shaped layers, their math, dropout, and the guide's training runs."""

from __future__ import annotations

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import models
from nanojax.tree_util import tree_leaves, tree_map, tree_structure

KEY = nj.random.key(0)
X6, Y6 = nj.datasets.hackers_guide()


def assert_trees_close(a, b, **tol):
    assert tree_structure(a) == tree_structure(b)
    for x, y in zip(tree_leaves(a), tree_leaves(b)):
        np.testing.assert_allclose(x, y, **tol)


# ----- Shapes: what init promises is what apply delivers (stax's check) ---------------

LAYERS = {
    "Dense": models.Dense(3),
    "Relu": models.Relu,
    "Sigmoid": models.Sigmoid,
    "Tanh": models.Tanh,
    "Dropout": models.Dropout(0.3),
    "serial": models.serial(models.Dense(4), models.Tanh, models.Dropout(0.5),
                            models.Dense(3), models.Sigmoid),
    "serial_empty": models.serial(),
    "svm": models.svm(2),
    "mlp": models.mlp([2, 5, 4, 3]),
}


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("input_shape", [(-1, 2), (None, 2), (7, 2), (2,), (3, 4, 2)])
def test_init_output_shape_agrees_with_apply(name, input_shape):
    init, apply = LAYERS[name]
    out_shape, params = init(KEY, input_shape)
    batch = 5                                   # stands in for -1 / None
    x = nj.random.normal(nj.random.key(1), [batch if d in (-1, None) else d for d in input_shape])
    out = apply(params, x, key=nj.random.key(2))
    assert tuple(batch if d in (-1, None) else d for d in out_shape) == out.shape
    assert out_shape[:1] == tuple(input_shape)[:1] or len(input_shape) == 1


def test_params_are_pytrees_of_arrays_with_nothing_for_parameterless_layers():
    _, params = models.mlp([2, 3, 1])[0](KEY)
    (W1, b1), relu, (W2, b2) = params
    assert relu == ()
    assert [W1.shape, b1.shape, W2.shape, b2.shape] == [(2, 3), (3,), (3, 1), (1,)]
    assert all(isinstance(leaf, np.ndarray) for leaf in tree_leaves(params))


def test_init_is_deterministic_in_the_key():
    init, _ = models.mlp([2, 4, 1])
    assert_trees_close(init(KEY)[1], init(KEY)[1], rtol=0)
    assert not np.allclose(init(KEY)[1][0][0], init(nj.random.key(1))[1][0][0])


# ----- Dense ---------------------------------------------------------------------------

def test_dense_computes_x_at_W_plus_b():
    init, apply = models.Dense(3, b_init=models.normal(1.0))
    _, (W, b) = init(KEY, (-1, 2))
    np.testing.assert_allclose(apply((W, b), X6), X6 @ W + b)
    np.testing.assert_allclose(apply((W, b), X6[0]), X6[0] @ W + b)


@pytest.mark.parametrize("transform", [lambda f: f, nj.jit], ids=["eager", "jit"])
def test_dense_says_expected_and_actual_features(transform):
    init, apply = models.Dense(3)
    _, params = init(KEY, (-1, 2))
    with pytest.raises(ValueError, match=r"expected inputs with 2 features.*got shape \(4, 5\)"):
        transform(apply)(params, np.ones((4, 5)))


def test_init_needs_a_known_feature_count():
    with pytest.raises(ValueError, match="known number of features"):
        models.Dense(3)[0](KEY, (2, -1))
    with pytest.raises(ValueError, match="positive integer"):
        models.Dense(0)


def test_builders_check_the_input_shape_they_were_built_for():
    with pytest.raises(ValueError, match=r"built for 2 input features.*\(-1, 3\)"):
        models.svm(2)[0](KEY, (-1, 3))
    with pytest.raises(ValueError, match="at least one layer"):
        models.mlp([2])


def test_a_layer_constructor_passed_uncalled_gets_a_hint():
    with pytest.raises(TypeError, match=r"layer 0 .*did you mean Dense\(...\)"):
        models.serial(models.Dense, models.Relu)
    with pytest.raises(TypeError, match="activation must be a layer"):
        models.mlp([2, 3, 1], activation=nj.nn.relu)


# ----- Dropout -------------------------------------------------------------------------

RATE = 0.3
_, DROP = models.Dropout(RATE)
ONES = np.ones(10_000)


def test_dropout_drops_a_rate_fraction_and_keeps_the_expectation():
    out = DROP((), ONES, key=KEY)
    assert abs(np.mean(out == 0) - RATE) < 0.02
    assert set(np.unique(out)) == {0.0, 1 / (1 - RATE)}
    assert abs(out.mean() - 1.0) < 0.03


def test_dropout_is_the_identity_when_not_training():
    for out in (DROP((), ONES, train=False), DROP((), ONES, key=KEY, train=False)):
        assert np.shares_memory(out, ONES) and out.shape == ONES.shape   # ONES, as ours
    np.testing.assert_array_equal(models.Dropout(0.0)[1]((), ONES), ONES)


def test_dropout_masks_depend_on_the_key_only():
    np.testing.assert_array_equal(DROP((), ONES, key=KEY), DROP((), ONES, key=KEY))
    assert (DROP((), ONES, key=KEY) != DROP((), ONES, key=nj.random.key(1))).mean() > 0.3


def test_dropout_without_a_key_says_what_to_do():
    with pytest.raises(ValueError, match=r"key=k.*train=False"):
        DROP((), ONES)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_dropout_rate_must_be_a_probability_below_one(rate):
    with pytest.raises(ValueError, match=r"probability of dropping.*\[0, 1\)"):
        models.Dropout(rate)


def test_serial_gives_each_dropout_its_own_key():
    _, apply = models.serial(models.Dropout(0.5), models.Dropout(0.5))
    out = apply(((), ()), ONES, key=KEY)
    # Independent masks keep a quarter of the units (x4); one shared mask, a half.
    assert abs(np.mean(out == 4.0) - 0.25) < 0.02


def test_dropout_under_jit_and_vmap_over_keys():
    x = ONES[:50]
    np.testing.assert_array_equal(nj.jit(DROP)((), x, key=KEY), DROP((), x, key=KEY))
    keys = nj.random.split(KEY, 3)
    rows = nj.vmap(lambda k: DROP((), x, key=k))(keys)
    for row, k in zip(rows, keys):
        np.testing.assert_array_equal(row, DROP((), x, key=k))
    assert not np.array_equal(rows[0], rows[1])


def test_dropout_gradient_flows_through_the_kept_units_only():
    g = nj.grad(lambda x: jnp.sum(DROP((), x, key=KEY)))(ONES[:100])
    np.testing.assert_array_equal(g, DROP((), ONES[:100], key=KEY))


# ----- Transformations through a whole model -------------------------------------------

NET = models.mlp([2, 4, 3], activation=models.Tanh, b_init=models.normal(0.5))
NET_PARAMS = NET[0](KEY)[1]


def squared_loss(params, X, targets):
    return jnp.mean((NET[1](params, X) - targets) ** 2)


TARGETS = np.arange(18.0).reshape(6, 3) / 18


def test_grads_through_a_model_match_numerical_grad():
    assert_trees_close(nj.grad(squared_loss)(NET_PARAMS, X6, TARGETS),
                       nj.numerical_grad(squared_loss)(NET_PARAMS, X6, TARGETS),
                       rtol=1e-6, atol=1e-9)


def test_jit_apply_equals_eager():
    _, apply = models.serial(NET, models.Dropout(0.5))
    params = (NET_PARAMS, ())
    np.testing.assert_allclose(nj.jit(apply)(params, X6, key=KEY), apply(params, X6, key=KEY))
    evaluate = nj.jit(apply, static_argnames="train")   # a setting, not data
    np.testing.assert_allclose(evaluate(params, X6, train=False), apply(params, X6, train=False))
    with pytest.raises(TypeError, match="static_argnames"):
        nj.jit(apply)(params, X6, train=False)


def test_per_example_grads_by_vmap_of_grad():
    per_example = nj.vmap(nj.grad(squared_loss), in_axes=(None, 0, 0))(NET_PARAMS, X6, TARGETS)
    for i in range(6):
        one = nj.grad(squared_loss)(NET_PARAMS, X6[i], TARGETS[i])
        assert_trees_close(tree_map(lambda g: g[i], per_example), one, rtol=1e-10)


def test_a_step_makes_new_params_and_leaves_the_old_ones_alone():
    before = tree_map(np.copy, NET_PARAMS)
    grads = nj.grad(squared_loss)(NET_PARAMS, X6, TARGETS)
    after = tree_map(lambda p, g: p - 0.1 * g, NET_PARAMS, grads)
    assert_trees_close(NET_PARAMS, before, rtol=0)
    assert squared_loss(after, X6, TARGETS) < squared_loss(NET_PARAMS, X6, TARGETS)


# ----- Initialization ------------------------------------------------------------------

@pytest.mark.parametrize("initializer, std", [
    (models.normal(0.1), 0.1), (models.glorot_normal(), np.sqrt(2 / 300)),
    (models.xavier_normal(), np.sqrt(2 / 300)), (models.he_normal(), np.sqrt(2 / 200)),
    (models.uniform(0.5), 0.5 / np.sqrt(3))])
def test_initializers_have_their_spread(initializer, std):
    w = initializer(KEY, (200, 100))
    assert w.shape == (200, 100) and w.dtype == np.float64
    assert abs(w.mean()) < 0.05 * std and abs(w.std() / std - 1) < 0.03
    np.testing.assert_array_equal(w, initializer(KEY, (200, 100)))


def test_uniform_is_the_guides_math_random_minus_a_half():
    w = models.initializers.uniform()(KEY, (1000,))
    assert -0.5 <= w.min() < -0.45 and 0.45 < w.max() < 0.5


def test_constant_initializers_and_the_namespace():
    assert (models.initializers.zeros(KEY, (2, 3)) == 0).all()
    assert (models.initializers.ones(KEY, (3,)) == 1).all()
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        models.glorot_normal()(KEY, (3,))


def deep_tanh_activation_std(W_init):
    layers = [models.Dense(100, W_init=W_init), models.Tanh] * 10
    init, apply = models.serial(*layers)
    _, params = init(KEY, (-1, 100))
    return apply(params, nj.random.normal(nj.random.key(1), (50, 100))).std()


def test_initialization_decides_whether_a_deep_net_is_alive():
    # Each layer scales the spread by about std * sqrt(100): 0.1 with std 0.01,
    # so after ten layers nothing is left; Glorot keeps it near 1.
    assert deep_tanh_activation_std(models.normal(0.01)) < 1e-8
    assert deep_tanh_activation_std(models.glorot_normal()) > 0.1


# ----- The guide's six points ------------------------------------------------------------

def weights_l2(params):
    """The guide's regularization: squares of the weights, not the biases."""
    return sum(jnp.sum(p * p) for p in tree_leaves(params) if jnp.ndim(p) >= 2)


def hinge_cost(apply, alpha):
    def cost(params, X, y):
        scores = jnp.reshape(apply(params, X), (-1,))   # (N, 1) -> (N,), like y
        return jnp.sum(jnp.maximum(0.0, 1.0 - y * scores)) + alpha * weights_l2(params)
    return cost


def sgd(cost, params, steps=400, step_size=0.01, batch=lambda t: (X6, Y6)):
    step = nj.jit(nj.grad(cost))
    for t in range(steps):
        grads = step(params, *batch(t))
        params = tree_map(lambda p, g: p - step_size * g, params, grads)
    return params


def accuracy(apply, params):
    scores = np.reshape(apply(params, X6), -1)
    return np.mean(np.where(scores > 0, 1, -1) == Y6)


@pytest.mark.parametrize("model", [models.svm(2), models.mlp([2, 3, 1])], ids=["svm", "mlp"])
def test_the_guides_classifiers_fit_its_six_points(model):
    # Batch SGD on the guide's cost: summed hinge loss + alpha * (a^2 + b^2 + ...).
    init, apply = model
    _, params = init(nj.random.key(0))
    trained = sgd(hinge_cost(apply, alpha=0.1), params)
    assert accuracy(apply, params) < 1.0
    assert accuracy(apply, trained) == 1.0


def guide_hand_loop(picks):
    """The guide's last SVM loop, pull and all, in plain Python."""
    a, b, c = 1.0, -2.0, -1.0
    for i in picks:
        (x, y), label = X6[i], Y6[i]
        score = a * x + b * y + c
        pull = 1.0 if label == 1 and score < 1 else -1.0 if label == -1 and score > -1 else 0.0
        a, b, c = a + 0.01 * (x * pull - a), b + 0.01 * (y * pull - b), c + 0.01 * pull
    return a, b, c


def test_grad_reproduces_the_guides_hand_written_svm_loop():
    # One random point per step from a, b, c = 1, -2, -1; the guide's pull of -a
    # and -b towards zero is the gradient of 0.5 * (a^2 + b^2).
    _, apply = models.svm(2)
    params = (np.array([[1.0], [-2.0]]), np.array([-1.0]))
    picks = np.asarray(nj.random.randint(nj.random.key(0), (400,), 0, 6))
    (W, b) = sgd(hinge_cost(apply, alpha=0.5), params,
                 batch=lambda t: (X6[picks[t]:picks[t] + 1], Y6[picks[t]:picks[t] + 1]))
    np.testing.assert_allclose([W[0, 0], W[1, 0], b[0]], guide_hand_loop(picks), rtol=1e-12)
    # A regularization this strong leaves [1.2, 0.7] near score 0: 5 of 6 on
    # most keys (the guide's printout, 6 of 6, was a lucky run).
    assert accuracy(apply, (W, b)) >= 5 / 6
