"""The composition matrix: every transformation nested inside every other.

Each function is ``f(params, example) -> scalar loss``. Each composition runs
it through a nesting of grad, jit, vmap, jacfwd/jacrev and check_grads, and
is compared with the reference it must equal: the same transformation
applied eagerly, or a Python loop over the examples.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax.tree_util import tree_leaves, tree_map, tree_structure

RNG = np.random.default_rng(3)
B = 4


# ----- The functions ------------------------------------------------------------------

def neuron(params, example):
    """The guide's neuron on Python-float weights: sigmoid(w0*x0 + w1*x1 + w2)."""
    (w0, w1, w2), (x0, x1) = params, example
    return nj.nn.sigmoid(w0 * x0 + w1 * x1 + w2)


def mlp_loss(params, example):
    x, y = example
    h = nj.nn.relu(jnp.dot(params["W1"], x) + params["b1"])
    out = jnp.tanh(jnp.dot(params["W2"], h) + params["b2"])
    return jnp.sum((out - y) ** 2)


def softmax_loss(params, example):
    x, label = example
    return -nj.nn.log_softmax(jnp.dot(x, params["W"]) + params["b"])[label]


def index_where_loss(w, example):
    idx, scale = example
    picked = w[idx]
    return jnp.sum(jnp.where(picked > 0.0, picked ** 2, -scale * picked)) + jnp.max(w) * scale


class Case(NamedTuple):
    name: str
    fun: Callable
    params: Any
    batch: Any          # a pytree whose leaves lead with the example axis


CASES = [
    Case("neuron", neuron, (2.0, -3.0, -3.0),
         (np.array([-1.0, 0.5, 2.0, -0.3]), np.array([-2.0, 1.0, -0.7, 0.1]))),
    Case("mlp", mlp_loss,
         {"W1": RNG.normal(size=(5, 3)), "b1": RNG.normal(size=5),
          "W2": RNG.normal(size=(2, 5)), "b2": RNG.normal(size=2)},
         (RNG.normal(size=(B, 3)), RNG.normal(size=(B, 2)))),
    Case("softmax", softmax_loss, {"W": RNG.normal(size=(4, 3)), "b": RNG.normal(size=3)},
         (RNG.normal(size=(B, 4)), np.array([0, 2, 1, 2]))),
    Case("index-where", index_where_loss, np.array([0.5, -1.2, 2.0, -0.3, 0.9]),
         (np.array([[0, 1, 1], [4, 2, 0], [3, 3, 3], [1, 4, 2]]),
          np.array([1.0, 2.0, 0.5, -1.5]))),
]


def example(case: Case, i: int) -> Any:
    return tree_map(lambda leaf: leaf[i], case.batch)


def loop(fn: Callable, case: Case) -> Any:
    """fn(params, example_i) for every example, stacked along a new first axis."""
    outs = [fn(case.params, example(case, i)) for i in range(B)]
    return tree_map(lambda *o: np.stack([np.asarray(v) for v in o]), *outs)


def direction(case: Case) -> Any:
    return tree_map(lambda p: np.cos(np.arange(np.size(p)) + 1.0).reshape(np.shape(p))
                    if np.ndim(p) else 0.7, case.params)


def along(case: Case) -> Callable:
    """t -> f(params + t * direction, example 0): a scalar function of a scalar."""
    d, x0 = direction(case), example(case, 0)
    return lambda t: case.fun(tree_map(lambda p, v: p + t * v, case.params, d), x0)


# ----- The compositions: (run, reference) ----------------------------------------------

def _sum_of_loop_grads(case: Case) -> Any:
    return tree_map(lambda g: g.sum(axis=0), loop(nj.grad(case.fun), case))


COMPOSITIONS = {
    "grad(jit(f))": (
        lambda c: nj.grad(nj.jit(c.fun))(c.params, example(c, 0)),
        lambda c: nj.grad(c.fun)(c.params, example(c, 0))),
    "jit(grad(f))": (
        lambda c: nj.jit(nj.grad(c.fun))(c.params, example(c, 0)),
        lambda c: nj.grad(c.fun)(c.params, example(c, 0))),
    "vmap(grad(f))": (
        lambda c: nj.vmap(nj.grad(c.fun), in_axes=(None, 0))(c.params, c.batch),
        lambda c: loop(nj.grad(c.fun), c)),
    "grad(sum(vmap(f)))": (
        lambda c: nj.grad(lambda p: jnp.sum(nj.vmap(c.fun, in_axes=(None, 0))(p, c.batch)))(
            c.params),
        _sum_of_loop_grads),
    "jit(vmap(grad(f)))": (
        lambda c: nj.jit(nj.vmap(nj.grad(c.fun), in_axes=(None, 0)))(c.params, c.batch),
        lambda c: loop(nj.grad(c.fun), c)),
    "jit(grad(grad(f)))": (
        lambda c: nj.jit(nj.grad(nj.grad(along(c))))(0.0),
        lambda c: nj.grad(nj.grad(along(c)))(0.0)),
    "vmap(jacfwd(jacrev(f)))": (
        lambda c: nj.vmap(nj.jacfwd(nj.jacrev(c.fun)), in_axes=(None, 0))(c.params, c.batch),
        lambda c: loop(nj.jacfwd(nj.jacrev(c.fun)), c)),
    "vmap(jit(f))": (
        lambda c: nj.vmap(nj.jit(c.fun), in_axes=(None, 0))(c.params, c.batch),
        lambda c: loop(c.fun, c)),
    "vmap(grad(jit(f)))": (
        lambda c: nj.vmap(nj.grad(nj.jit(c.fun)), in_axes=(None, 0))(c.params, c.batch),
        lambda c: loop(nj.grad(c.fun), c)),
    "jit(grad(jit(grad(f))))": (
        lambda c: nj.jit(nj.grad(nj.jit(nj.grad(along(c)))))(0.0),
        lambda c: nj.grad(nj.grad(along(c)))(0.0)),
    "jit(jacrev(f))": (
        lambda c: nj.jit(nj.jacrev(c.fun))(c.params, example(c, 0)),
        lambda c: nj.jacrev(c.fun)(c.params, example(c, 0))),
}


def assert_tree_close(got: Any, want: Any) -> None:
    assert tree_structure(got) == tree_structure(want)
    for g, w in zip(tree_leaves(got), tree_leaves(want)):
        assert np.shape(g) == np.shape(w), (np.shape(g), np.shape(w))
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("composition", list(COMPOSITIONS))
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_composition_matches_its_eager_or_loop_reference(case, composition):
    run, reference = COMPOSITIONS[composition]
    assert_tree_close(run(case), reference(case))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_check_grads_of_jit_passes_to_order_two_in_both_modes(case):
    x0 = example(case, 0)
    nj.check_grads(nj.jit(lambda p: case.fun(p, x0)), (case.params,), order=2,
                   modes=("fwd", "rev"))


# ----- The references are right: they agree with finite differences ------------------

@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_reference_gradient_agrees_with_numerical_grad(case):
    x0 = example(case, 0)
    got = nj.grad(case.fun)(case.params, x0)
    want = nj.numerical_grad(case.fun)(case.params, x0)
    for g, w in zip(tree_leaves(got), tree_leaves(want)):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_reference_second_derivative_agrees_with_numerical_grad(case):
    g = along(case)
    second = nj.grad(nj.grad(g))(0.0)
    np.testing.assert_allclose(second, nj.numerical_grad(nj.grad(g))(0.0), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_reference_hessian_quadratic_form_matches_second_derivative(case):
    hess = nj.jacfwd(nj.jacrev(case.fun))(case.params, example(case, 0))
    d = direction(case)
    leaves_d, tree_d = tree_leaves(d), tree_structure(d)
    # A params-tree of params-trees: row i holds the blocks H_ij, shaped p_i + p_j.
    rows = tree_leaves(hess, is_leaf=lambda t: tree_structure(t) == tree_d)
    total = 0.0
    for di, row in zip(leaves_d, rows):
        for dj, block in zip(leaves_d, tree_leaves(row)):
            assert np.shape(block) == np.shape(di) + np.shape(dj)
            total += np.ravel(di) @ np.reshape(block, (np.size(di), np.size(dj))) @ np.ravel(dj)
    np.testing.assert_allclose(total, nj.grad(nj.grad(along(case)))(0.0), rtol=1e-10)
