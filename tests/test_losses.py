"""nanojax.losses: values against NumPy references, gradients against finite
differences, the guide's printout, and the errors for bad labels.

Every loss is per-example: its output has the batch shape, and the caller
reduces. Gradients are checked with ``check_grads`` (both modes, second
order) at points away from the hinge's kink.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import losses

RNG = np.random.default_rng(0)
SCORES = np.array([0.56, 0.37, 1.1, -2.0, 0.2])
SIGNS = np.array([1, -1, 1, -1, 1])
LOGITS = RNG.normal(size=(6, 4)) * 2
CLASSES = np.array([0, 3, 1, 1, 2, 0])


def ref_multiclass_hinge(s: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.array([sum(max(0.0, s[i, j] - s[i, y[i]] + 1) for j in range(s.shape[1])
                         if j != y[i]) for i in range(len(y))])


def ref_softmax_cross_entropy(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return -np.log(p[np.arange(len(y)), y])


# ----- Values ------------------------------------------------------------------------

def test_hinge_is_max_of_zero_and_one_minus_label_times_score() -> None:
    np.testing.assert_allclose(losses.hinge(SCORES, SIGNS),
                               np.maximum(0, 1 - SIGNS * SCORES), rtol=1e-15)
    assert float(losses.hinge(0.56, 1)) == pytest.approx(0.44)


def test_squared_hinge_is_the_square_of_the_hinge() -> None:
    np.testing.assert_allclose(losses.squared_hinge(SCORES, SIGNS),
                               np.maximum(0, 1 - SIGNS * SCORES) ** 2, rtol=1e-15)


def test_multiclass_hinge_matches_the_sum_over_wrong_classes() -> None:
    np.testing.assert_allclose(losses.multiclass_hinge(LOGITS, CLASSES),
                               ref_multiclass_hinge(LOGITS, CLASSES), rtol=1e-13)


def test_softmax_cross_entropy_matches_minus_log_probability() -> None:
    np.testing.assert_allclose(losses.softmax_cross_entropy(LOGITS, CLASSES),
                               ref_softmax_cross_entropy(LOGITS, CLASSES), rtol=1e-13)


def test_softmax_cross_entropy_is_stable_for_huge_logits() -> None:
    out = losses.softmax_cross_entropy(np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 0.0]]),
                                       np.array([0, 0]))
    np.testing.assert_allclose(out, [0.0, 1e4])
    assert np.all(np.isfinite(out))


def test_mse_is_the_per_example_mean_over_trailing_axes() -> None:
    p, t = RNG.normal(size=(3, 2, 4)), RNG.normal(size=(3, 2, 4))
    np.testing.assert_allclose(losses.mse(p, t), ((p - t) ** 2).mean(axis=(1, 2)))
    np.testing.assert_allclose(losses.mse(p[:, 0, 0], t[:, 0, 0]), (p - t)[:, 0, 0] ** 2)
    np.testing.assert_allclose(losses.squared_error(p, t), (p - t) ** 2)
    assert np.shape(losses.mse(1.0, 3.0)) == () and losses.mse(1.0, 3.0) == 4.0


@pytest.mark.parametrize("loss, args, batch_shape", [
    (losses.hinge, (SCORES, SIGNS), (5,)),
    (losses.multiclass_hinge, (LOGITS, CLASSES), (6,)),
    (losses.softmax_cross_entropy, (LOGITS, CLASSES), (6,)),
    (losses.softmax_cross_entropy, (LOGITS[0], CLASSES[0]), ()),
    (losses.mse, (LOGITS, LOGITS[::-1]), (6,)),
], ids=["hinge", "multiclass_hinge", "softmax_cross_entropy", "one-example", "mse"])
def test_losses_are_per_example(loss: Callable, args: tuple, batch_shape: tuple) -> None:
    assert np.shape(loss(*args)) == batch_shape


def test_the_guides_cost_printout() -> None:
    X = np.array([[1.2, 0.7], [-0.3, 0.5], [3.0, 2.5]])
    y = np.array([1, -1, 1])
    w = np.array([0.1, 0.2, 0.3])
    costs = losses.hinge(X @ w[:2] + w[2], y)
    reg = 0.1 * losses.l2_penalty(w[:2], predicate=lambda leaf: True)
    assert [f"{c:.3f}" for c in costs] == ["0.440", "1.370", "0.000"]
    assert f"{reg:.3f}" == "0.005" and f"{costs.sum() + reg:.3f}" == "1.815"


# ----- Gradients ---------------------------------------------------------------------

GRAD_CASES = [
    pytest.param(lambda s: jnp.sum(losses.hinge(s, SIGNS)), SCORES, id="hinge"),
    pytest.param(lambda s: jnp.sum(losses.squared_hinge(s, SIGNS)), SCORES, id="squared_hinge"),
    pytest.param(lambda s: jnp.sum(losses.multiclass_hinge(s, CLASSES)), LOGITS,
                 id="multiclass_hinge"),
    pytest.param(lambda s: jnp.sum(losses.softmax_cross_entropy(s, CLASSES)), LOGITS,
                 id="softmax_cross_entropy"),
    pytest.param(lambda p: jnp.sum(losses.mse(p, LOGITS[::-1])), LOGITS, id="mse"),
    pytest.param(lambda p: jnp.sum(losses.squared_error(p, LOGITS[::-1])), LOGITS,
                 id="squared_error"),
    pytest.param(lambda w: losses.l2_penalty({"W": w, "b": w[0]}), LOGITS, id="l2_penalty"),
    pytest.param(lambda w: losses.l1_penalty({"W": w, "b": w[0]}), LOGITS, id="l1_penalty"),
]


@pytest.mark.parametrize("f, x", GRAD_CASES)
def test_loss_gradients_match_finite_differences(f: Callable, x: np.ndarray) -> None:
    nj.check_grads(f, (x,), order=2, modes=("fwd", "rev"))


def test_hinge_gradient_is_the_guides_pull() -> None:
    # Inside the margin the pull on the score is the label; outside it is 0.
    g = nj.grad(lambda s: jnp.sum(losses.hinge(s, SIGNS)))(SCORES)
    np.testing.assert_array_equal(g, np.where(SIGNS * SCORES < 1, -SIGNS, 0))


def test_hinge_gradient_is_zero_exactly_on_the_margin() -> None:
    assert nj.grad(lambda s: losses.hinge(s, 1))(1.0) == 0.0


def test_l2_penalty_pulls_weights_not_biases() -> None:
    params = [(np.ones((2, 3)), np.ones(3)), (np.full((3, 1), 2.0), np.ones(1))]
    grads = nj.grad(losses.l2_penalty)(params)
    np.testing.assert_array_equal(grads[0][0], 2 * params[0][0])
    np.testing.assert_array_equal(grads[1][0], 2 * params[1][0])
    np.testing.assert_array_equal(grads[0][1], np.zeros(3))
    np.testing.assert_array_equal(grads[1][1], np.zeros(1))


# ----- Penalties: which leaves count ------------------------------------------------------

PARAMS = {"dense1": (np.array([[1.0, -2.0], [3.0, 0.5]]), np.array([10.0, -10.0])),
          "dense2": (np.array([[-1.0], [1.0]]), np.array([7.0])), "scale": 4.0}


def test_penalties_by_default_count_leaves_with_two_or_more_dimensions() -> None:
    assert losses.l2_penalty(PARAMS) == pytest.approx(1 + 4 + 9 + 0.25 + 1 + 1)
    assert losses.l1_penalty(PARAMS) == pytest.approx(1 + 2 + 3 + 0.5 + 1 + 1)


def test_penalty_predicate_chooses_the_leaves() -> None:
    everything = losses.l2_penalty(PARAMS, predicate=lambda leaf: True)
    assert everything == pytest.approx(16.25 + 200 + 49 + 16)
    only_vectors = losses.l1_penalty(PARAMS, predicate=lambda leaf: np.ndim(leaf) == 1)
    assert only_vectors == pytest.approx(27.0)
    assert losses.l2_penalty(PARAMS, predicate=lambda leaf: False) == 0.0


def test_penalty_of_a_scalar_model_is_zero_by_default() -> None:
    assert losses.l2_penalty({"a": 1.0, "b": -2.0, "c": 3.0}) == 0.0


# ----- Under jit and vmap --------------------------------------------------------------

JIT_CASES = [
    pytest.param(losses.hinge, (SCORES, SIGNS), id="hinge"),
    pytest.param(losses.squared_hinge, (SCORES, SIGNS), id="squared_hinge"),
    pytest.param(losses.multiclass_hinge, (LOGITS, CLASSES), id="multiclass_hinge"),
    pytest.param(losses.softmax_cross_entropy, (LOGITS, CLASSES), id="softmax_cross_entropy"),
    pytest.param(losses.mse, (LOGITS, LOGITS[::-1]), id="mse"),
    pytest.param(losses.l2_penalty, (PARAMS,), id="l2_penalty"),
]


@pytest.mark.parametrize("loss, args", JIT_CASES)
def test_jit_matches_eager(loss: Callable, args: tuple) -> None:
    np.testing.assert_allclose(nj.jit(loss)(*args), loss(*args), rtol=1e-13)


@pytest.mark.parametrize("loss", [losses.multiclass_hinge, losses.softmax_cross_entropy])
def test_vmap_over_examples_matches_the_batched_call(loss: Callable) -> None:
    np.testing.assert_allclose(nj.vmap(loss)(LOGITS, CLASSES), loss(LOGITS, CLASSES),
                               rtol=1e-13)


def test_under_jit_shapes_are_still_checked() -> None:
    with pytest.raises(ValueError, match="labels of shape"):
        nj.jit(losses.softmax_cross_entropy)(LOGITS, CLASSES[:4])
    with pytest.raises(ValueError, match="same shape"):
        nj.jit(losses.hinge)(SCORES, SIGNS[:3])


def test_under_jit_label_values_are_not_checked() -> None:
    # Abstract labels have no values to check: the loss is computed as written.
    out = nj.jit(losses.hinge)(np.array([0.5]), np.array([2]))
    np.testing.assert_allclose(out, [0.0])


# ----- Bad inputs --------------------------------------------------------------------------

BAD_INPUTS = [
    pytest.param(lambda: losses.hinge(SCORES, (SIGNS + 1) // 2), ValueError,
                 "labels must be +1 or -1, got [0]", id="hinge-0-1-labels"),
    pytest.param(lambda: losses.squared_hinge([0.5, 0.5], [1, 2]), ValueError,
                 "+1 or -1, got [2]", id="squared_hinge-label-2"),
    pytest.param(lambda: losses.hinge(SCORES, SIGNS[:3]), ValueError,
                 "same shape, got (5,) and (3,)", id="hinge-batch-sizes"),
    pytest.param(lambda: losses.hinge(SCORES[:, None], SIGNS), ValueError,
                 "squeeze the scores' last axis", id="hinge-column-of-scores"),
    pytest.param(lambda: losses.softmax_cross_entropy(LOGITS, CLASSES + 1), ValueError,
                 "labels must be in [0, 4) for 4 classes, got [4]", id="softmax-out-of-range"),
    pytest.param(lambda: losses.multiclass_hinge(LOGITS, CLASSES - 1), ValueError,
                 "got [-1]", id="multiclass-negative"),
    pytest.param(lambda: losses.softmax_cross_entropy(LOGITS, CLASSES.astype(float)),
                 TypeError, "integer class indices, got dtype float64", id="softmax-float"),
    pytest.param(lambda: losses.multiclass_hinge(LOGITS, CLASSES[:5]), ValueError,
                 "labels of shape (6,) for scores of shape (6, 4), got labels of shape (5,)",
                 id="multiclass-batch-sizes"),
    pytest.param(lambda: losses.softmax_cross_entropy(1.0, 0), ValueError,
                 "(..., num_classes)", id="softmax-scalar-logits"),
    pytest.param(lambda: losses.mse(np.zeros((3, 2)), np.zeros((2, 3))), ValueError,
                 "same shape, got (3, 2) and (2, 3)", id="mse-shapes"),
]


@pytest.mark.parametrize("call, error, fragment", BAD_INPUTS)
def test_bad_input_says_what_was_expected(call: Callable, error: type, fragment: str) -> None:
    with pytest.raises(error, match=re.escape(fragment)):
        call()


def test_label_checks_name_the_loss() -> None:
    for loss in (losses.multiclass_hinge, losses.softmax_cross_entropy):
        with pytest.raises(ValueError, match=loss.__name__):
            loss(LOGITS, CLASSES + 10)
