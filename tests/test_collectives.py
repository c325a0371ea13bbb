"""Named axes and collectives: vmap(axis_name=...), lax.psum & co., pmap, the device names.

Each collective is checked against a NumPy reference written per example
(what a program running on one device per example computes), with its
operand batched along axis 0 or 1, or not batched at all (then it is the
same on every example). Then: nested named vmaps and tuples of names; an
unnamed vmap around a named one against a Python loop (the batch rule at
another axis); jit inside and outside; derivatives of and through every
collective against finite differences, per example (grad inside the vmap,
whose meaning is the gradient of the sum over examples, as in JAX) and of
the whole; pmap training against full-batch training; the errors.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import lax
from nanojax.collectives import (all_gather_p, all_to_all_p, axis_index_p, pmax_p, pmin_p,
                                 ppermute_p, psum_p, psum_scatter_p)

RNG = np.random.default_rng(0)
N = 4                                     # examples along the named axis
X = RNG.normal(size=(N, 3, 2))            # one (3, 2) value per example


def named(fn: Callable, name: str = "i", **kw) -> Callable:
    return nj.vmap(fn, axis_name=name, **kw)


def per_example(fn_of_all: Callable) -> Callable:
    """The reference: example b's output from all examples' values ``xs`` (NumPy)."""
    return lambda xs: np.stack([fn_of_all(xs, b) for b in range(len(xs))])


def _ppermute_reference(perm):
    sources = {d: s for s, d in perm}
    return lambda xs, b: xs[sources[b]] if b in sources else np.zeros_like(xs[0])


def _all_to_all_reference(split, concat, tiled):
    def ref(xs, b):
        chunks = [np.split(x, len(xs), axis=split)[b] for x in xs]
        if tiled:
            return np.concatenate(chunks, axis=concat)
        return np.stack([np.squeeze(c, split) for c in chunks], axis=concat)
    return ref


# (label, the collective on one example, the reference on all examples, example shape)
COLLECTIVES = [
    ("psum", lambda x: lax.psum(x, "i"), lambda xs, b: xs.sum(0), (3, 2)),
    ("pmean", lambda x: lax.pmean(x, "i"), lambda xs, b: xs.mean(0), (3, 2)),
    ("pmax", lambda x: lax.pmax(x, "i"), lambda xs, b: xs.max(0), (3, 2)),
    ("pmin", lambda x: lax.pmin(x, "i"), lambda xs, b: xs.min(0), (3, 2)),
    ("all_gather", lambda x: lax.all_gather(x, "i"), lambda xs, b: xs, (3, 2)),
    ("all_gather-axis=1", lambda x: lax.all_gather(x, "i", axis=1),
     lambda xs, b: np.moveaxis(xs, 0, 1), (3, 2)),
    ("all_gather-axis=-1", lambda x: lax.all_gather(x, "i", axis=-1),
     lambda xs, b: np.moveaxis(xs, 0, -1), (3, 2)),
    ("all_gather-tiled-axis=1", lambda x: lax.all_gather(x, "i", axis=1, tiled=True),
     lambda xs, b: np.concatenate(list(xs), axis=1), (3, 2)),
    ("psum_scatter", lambda x: lax.psum_scatter(x, "i"), lambda xs, b: xs.sum(0)[b], (N, 2)),
    ("psum_scatter-dim=1", lambda x: lax.psum_scatter(x, "i", scatter_dimension=1),
     lambda xs, b: xs.sum(0)[:, b], (3, N)),
    ("psum_scatter-tiled", lambda x: lax.psum_scatter(x, "i", tiled=True),
     lambda xs, b: xs.sum(0)[2 * b:2 * b + 2], (2 * N, 3)),
    ("ppermute-shift", lambda x: lax.ppermute(x, "i", [(0, 1), (1, 2), (2, 3)]),
     _ppermute_reference([(0, 1), (1, 2), (2, 3)]), (3, 2)),
    ("ppermute-cycle", lambda x: lax.ppermute(x, "i", [(b, (b + 1) % N) for b in range(N)]),
     _ppermute_reference([(b, (b + 1) % N) for b in range(N)]), (3, 2)),
    ("all_to_all-0-0", lambda x: lax.all_to_all(x, "i", 0, 0),
     _all_to_all_reference(0, 0, False), (N, 3)),
    ("all_to_all-0-1", lambda x: lax.all_to_all(x, "i", 0, 1),
     _all_to_all_reference(0, 1, False), (N, 3)),
    ("all_to_all-1-0", lambda x: lax.all_to_all(x, "i", 1, 0),
     _all_to_all_reference(1, 0, False), (3, N)),
    ("all_to_all-tiled-1-0", lambda x: lax.all_to_all(x, "i", 1, 0, tiled=True),
     _all_to_all_reference(1, 0, True), (3, 2 * N)),
    ("axis_index", lambda x: x * lax.axis_index("i"), lambda xs, b: xs[b] * b, (3, 2)),
]
CASES = [pytest.param(fn, ref, shape, id=label) for label, fn, ref, shape in COLLECTIVES]


def _examples(shape: tuple) -> np.ndarray:
    return np.random.default_rng(len(shape) * 7 + shape[0]).normal(size=(N, *shape))


@pytest.mark.parametrize("fn, ref, shape", CASES)
def test_collective_matches_numpy_per_example(fn, ref, shape):
    xs = _examples(shape)
    want = per_example(ref)(xs)
    np.testing.assert_allclose(named(fn)(xs), want, rtol=1e-13, atol=1e-13)
    # The batch axis elsewhere in the input and the output.
    got = named(fn, in_axes=1, out_axes=1)(np.moveaxis(xs, 0, 1))
    np.testing.assert_allclose(got, np.moveaxis(want, 0, 1), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("fn, ref, shape", CASES)
def test_collective_of_an_unbatched_operand_sees_it_on_every_example(fn, ref, shape):
    x = _examples(shape)[0]
    want = per_example(ref)(np.stack([x] * N))
    got = named(fn, in_axes=None, axis_size=N)(x)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("fn, ref, shape", CASES)
def test_collective_under_jit_is_bit_for_bit_the_eager_value(fn, ref, shape):
    xs = _examples(shape)
    eager = named(fn)(xs)
    for got in (nj.jit(named(fn))(xs), named(nj.jit(fn))(xs), nj.pmap(fn, "i")(xs)):
        assert got.dtype == eager.dtype and got.tobytes() == eager.tobytes()


@pytest.mark.parametrize("fn, ref, shape", CASES)
def test_staged_avals_and_values_match_eager_under_the_named_axis(fn, ref, shape):
    xs = _examples(shape)
    seen = []

    def staged(x):
        closed = nj.make_jaxpr(fn)(x)
        (aval,) = closed.out_avals
        (out,) = nj.eval_jaxpr(closed.jaxpr, closed.consts, x)
        seen.append(aval)
        return out
    got, eager = named(staged)(xs), named(fn)(xs)
    assert (seen[0].shape, seen[0].dtype) == (eager.shape[1:], eager.dtype)
    np.testing.assert_array_equal(got, eager)


@pytest.mark.parametrize("fn, ref, shape", CASES)
def test_unnamed_vmap_around_a_named_one_matches_a_python_loop(fn, ref, shape):
    # The outer vmap batches the collective over axis "i" with the rule of
    # another axis: it must commute with it.
    xs = np.stack([_examples(shape) + k for k in range(3)])
    inner = named(fn)
    want = np.stack([inner(x) for x in xs])
    np.testing.assert_allclose(nj.vmap(inner)(xs), want, rtol=1e-13, atol=1e-13)
    moved = nj.vmap(inner, in_axes=2, out_axes=1)(np.moveaxis(xs, 0, 2))
    np.testing.assert_allclose(moved, np.moveaxis(want, 0, 1), rtol=1e-13, atol=1e-13)


def test_psum_of_a_python_number_is_the_axis_size_and_axis_size_agrees():
    out = named(lambda x: (lax.psum(1, "i"), lax.axis_size("i")), in_axes=None,
                axis_size=5)(0.0)
    np.testing.assert_array_equal(out[0], np.full(5, 5))
    np.testing.assert_array_equal(out[1], np.full(5, 5))


def test_dtypes_follow_jax():
    ints = np.arange(6, dtype=np.int32).reshape(3, 2)
    s = named(lambda x: lax.psum(x, "i"))(ints)
    assert s.dtype == np.int32 and (s == ints.sum(0)).all()
    b = named(lambda x: lax.psum(x, "i"))(ints > 2)          # booleans count as int32
    assert b.dtype == np.int32 and (b == (ints > 2).sum(0)).all()
    assert named(lambda x: lax.pmean(x, "i"))(ints).dtype == np.float64
    assert named(lambda x: lax.axis_index("i"))(ints).dtype == np.int32
    assert named(lambda x: lax.pmax(x, "i"))(ints.astype(np.float32)).dtype == np.float32


def test_collectives_take_pytrees():
    tree = {"a": X, "b": (X[:, 0], X[:, :, 1])}
    out = named(lambda t: lax.psum(t, "i"))(tree)
    np.testing.assert_allclose(out["a"], np.broadcast_to(X.sum(0), X.shape))
    np.testing.assert_allclose(out["b"][1], np.broadcast_to(X[:, :, 1].sum(0), (N, 3)))


# ----- Nested named axes ------------------------------------------------------------

XY = RNG.normal(size=(3, N, 2))           # axis "i" of size 3 outside, "j" of size N inside


def nested(fn: Callable) -> Callable:
    return nj.vmap(nj.vmap(fn, axis_name="j"), axis_name="i")


def test_nested_vmaps_reduce_over_the_axis_named():
    np.testing.assert_allclose(nested(lambda x: lax.psum(x, "i"))(XY),
                               np.broadcast_to(XY.sum(0), XY.shape), rtol=1e-13)
    np.testing.assert_allclose(nested(lambda x: lax.psum(x, "j"))(XY),
                               np.broadcast_to(XY.sum(1, keepdims=True), XY.shape), rtol=1e-13)
    np.testing.assert_allclose(nested(lambda x: lax.psum(x, ("i", "j")))(XY),
                               np.broadcast_to(XY.sum((0, 1)), XY.shape), rtol=1e-13)
    np.testing.assert_allclose(nested(lambda x: lax.pmax(x, ("j", "i")))(XY),
                               np.broadcast_to(XY.max((0, 1)), XY.shape))
    np.testing.assert_allclose(nested(lambda x: lax.pmean(x, ("i", "j")))(XY),
                               np.broadcast_to(XY.mean((0, 1)), XY.shape), rtol=1e-13)


def test_a_collective_over_the_outer_axis_of_a_value_only_the_inner_axis_batches():
    # w varies along "j" only: over "i" it is the same on every example.
    w = RNG.normal(size=(N, 2))
    f = nj.vmap(nj.vmap(lambda x, w: x + lax.psum(w, "i"), in_axes=(0, 0), axis_name="j"),
                in_axes=(0, None), axis_name="i")
    np.testing.assert_allclose(f(XY, w), XY + 3 * w, rtol=1e-13)
    g = nj.vmap(nj.vmap(lambda x, w: lax.all_gather(w, "i"), in_axes=(0, 0), axis_name="j"),
                in_axes=(0, None), axis_name="i")
    np.testing.assert_allclose(g(XY, w), np.broadcast_to(w[None, :, None], (3, N, 3, 2)))


def test_axis_index_of_nested_and_tuple_names():
    i, j, ij = nested(lambda x: (lax.axis_index("i"), lax.axis_index("j"),
                                 lax.axis_index(("i", "j"))))(XY)
    np.testing.assert_array_equal(i, np.broadcast_to(np.arange(3)[:, None], (3, N)))
    np.testing.assert_array_equal(j, np.broadcast_to(np.arange(N), (3, N)))
    np.testing.assert_array_equal(ij, np.arange(3 * N).reshape(3, N))
    assert nested(lambda x: lax.axis_size(("i", "j")) + 0 * x[0])(XY)[0, 0] == 3 * N


def test_an_inner_name_shadows_the_outer_one():
    f = nj.vmap(nj.vmap(lambda x: lax.psum(x, "i"), axis_name="i"), axis_name="i")
    np.testing.assert_allclose(f(XY), np.broadcast_to(XY.sum(1, keepdims=True), XY.shape))


# ----- jit and make_jaxpr -------------------------------------------------------------

def test_jit_inside_vmap_stages_the_collective_and_reruns_it_per_axis_size():
    calls = []

    def f(x):
        calls.append(1)
        return x - lax.pmean(x, "i") + lax.axis_index("i")
    jitted = nj.jit(f)
    for n in (3, 5, 3):
        xs = np.arange(float(n))
        np.testing.assert_allclose(named(jitted)(xs), xs - xs.mean() + np.arange(n))
    assert len(calls) == 2                    # traced once per axis size
    # Unbatched operands: the circuit still runs under the named axis.
    out = named(jitted, in_axes=None, axis_size=4)(1.0)
    np.testing.assert_allclose(out, np.arange(4.0))


def test_jit_inside_vmap_of_an_all_gather_keys_on_the_axis_size():
    jitted = nj.jit(lambda x: lax.all_gather(x, "i").sum(0) * 2.0)
    for n in (2, 6):
        xs = RNG.normal(size=(n, 3))
        np.testing.assert_allclose(named(jitted)(xs), np.broadcast_to(2 * xs.sum(0), (n, 3)))


def test_make_jaxpr_records_the_collective_inside_and_its_batching_outside():
    inside = []
    named(lambda x: inside.append(nj.make_jaxpr(lambda v: lax.psum(v, "i"))(x)) or x)(X)
    assert [e.primitive.name for e in inside[0].eqns] == ["psum"]
    assert inside[0].eqns[0].params == {"axis_name": "i"}
    outside = nj.make_jaxpr(named(lambda v: lax.psum(v, "i")))(X)
    assert "psum" not in {e.primitive.name for e in outside.eqns}
    assert "reduce_sum" in {e.primitive.name for e in outside.eqns}


def test_scan_and_cond_bodies_find_the_named_axis():
    def f(x):
        def step(c, x_t):
            return c + lax.psum(x_t, "i") * lax.axis_index("i"), c
        return lax.scan(step, jnp.zeros(2), x)
    xs = RNG.normal(size=(N, 3, 2))
    carry, ys = named(f)(xs)
    total = xs.sum(0)                        # (3, 2): the psum of each step
    np.testing.assert_allclose(carry, np.arange(N)[:, None] * total.sum(0), rtol=1e-12)
    np.testing.assert_allclose(ys[:, 1], np.arange(N)[:, None] * total[0], rtol=1e-12)
    g = named(lambda x: lax.cond(x[0] > 0, lambda v: lax.pmax(v, "i"), lambda v: -v, x))
    xs2 = np.array([[1.0, 2.0], [-1.0, 5.0], [3.0, 0.0]])
    np.testing.assert_allclose(g(xs2), [[3.0, 5.0], [1.0, -5.0], [3.0, 5.0]])


# ----- Derivatives ----------------------------------------------------------------------

def _loss_terms(fn: Callable) -> Callable:
    """An uneven smooth scalar of each example's output."""
    def term(x):
        y = fn(x)
        weights = np.arange(1.0, 1.0 + np.prod(y.shape)).reshape(y.shape) / 7.0
        return jnp.sum(jnp.sin(y * 1.3 + 0.2) * weights)
    return term


DIFFERENTIABLE = [c for c in COLLECTIVES if c[0] != "axis_index"] + [
    ("psum-times-x", lambda x: lax.psum(x, "i") * x, None, (3, 2)),
    ("axis_index-times-x", lambda x: lax.axis_index("i") * x ** 2, None, (3, 2)),
]
GRAD_CASES = [pytest.param(fn, shape, id=label) for label, fn, _, shape in DIFFERENTIABLE]


@pytest.mark.parametrize("fn, shape", GRAD_CASES)
def test_grad_inside_vmap_is_the_gradient_of_the_sum_over_examples(fn, shape):
    # JAX's meaning: each example's cotangent pulls on every example it read
    # (psum's transpose is psum), so example b gets d(sum of all losses)/dx_b.
    xs = _examples(shape)
    term = _loss_terms(fn)
    per_example_grads = named(nj.grad(term))(xs)
    total = lambda xs: jnp.sum(named(term)(xs))  # noqa: E731
    np.testing.assert_allclose(per_example_grads, nj.numerical_grad(total)(xs),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(nj.grad(total)(xs), per_example_grads, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("fn, shape", GRAD_CASES)
def test_jvp_inside_vmap_matches_finite_differences(fn, shape):
    xs, ts = _examples(shape), _examples(shape)[::-1].copy()
    tangent = named(lambda x, t: nj.jvp(fn, (x,), (t,))[1])(xs, ts)
    eps = 1e-6
    fd = (named(fn)(xs + eps * ts) - named(fn)(xs - eps * ts)) / (2 * eps)
    np.testing.assert_allclose(tangent, fd, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("fn, shape", GRAD_CASES)
def test_derivatives_of_the_whole_vmap_to_second_order(fn, shape):
    xs = _examples(shape)
    nj.check_grads(named(fn), (xs,), order=2, modes=("fwd", "rev"))
    # And of per-example gradients (the vjp rules differentiated again).
    nj.check_grads(named(nj.grad(_loss_terms(fn))), (xs,), order=1, modes=("fwd", "rev"))


def test_pmax_shares_the_pull_among_ties():
    xs = np.array([1.0, 3.0, 3.0, 2.0])
    np.testing.assert_allclose(named(nj.grad(lambda x: lax.pmax(x, "i")))(xs),
                               [0.0, 2.0, 2.0, 0.0])        # 4 pulls, shared by 2
    np.testing.assert_allclose(nj.grad(lambda xs: jnp.sum(named(lambda x: lax.pmax(x, "i"))(
        xs)))(xs), [0.0, 2.0, 2.0, 0.0])


def test_per_example_gradients_of_a_pmean_ed_loss_are_the_full_batch_gradient():
    w = RNG.normal(size=3)
    xb, yb = RNG.normal(size=(8, 3)), RNG.normal(size=8)
    loss = lambda w, x, y: (jnp.dot(x, w) - y) ** 2  # noqa: E731
    grads = named(lambda x, y: lax.pmean(nj.grad(loss)(w, x, y), "i"))(xb, yb)
    full = nj.grad(lambda w: jnp.mean((xb @ w - yb) ** 2))(w)
    np.testing.assert_allclose(grads, np.broadcast_to(full, (8, 3)), rtol=1e-12)


# ----- pmap -------------------------------------------------------------------------------

def test_pmap_data_parallel_training_matches_full_batch_training():
    key = RNG.normal(size=(4, 1))
    params = {"w": RNG.normal(size=(3, 1)) * 0.1, "b": np.zeros(1)}
    x = RNG.normal(size=(16, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3 + 0.01 * key.repeat(4, 0)

    def loss(p, x, y):
        return jnp.mean((x @ p["w"] + p["b"] - y) ** 2)

    def parallel_step(p, x, y):
        g = lax.pmean(nj.grad(loss)(p, x, y), "devices")
        return nj.tree_util.tree_map(lambda a, b: a - 0.1 * b, p, g)

    step = nj.pmap(parallel_step, "devices", in_axes=(None, 0, 0))
    full_step = nj.jit(lambda p, x, y: nj.tree_util.tree_map(
        lambda a, b: a - 0.1 * b, p, nj.grad(loss)(p, x, y)))
    shards = (x.reshape(4, 4, 3), y.reshape(4, 4, 1))
    p_par, p_full = params, params
    for _ in range(5):
        replicated = step(p_par, *shards)
        for leaf in nj.tree_util.tree_leaves(replicated):     # every device agrees
            np.testing.assert_allclose(leaf, np.broadcast_to(leaf[0], leaf.shape), rtol=1e-14)
        p_par = nj.tree_util.tree_map(lambda a: a[0], replicated)
        p_full = full_step(p_full, x, y)
    for a, b in zip(nj.tree_util.tree_leaves(p_par), nj.tree_util.tree_leaves(p_full)):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_pmap_static_arguments_in_axes_and_any_axis_size():
    f = nj.pmap(lambda x, k, s: x * k + lax.axis_index("d") * s, "d",
                in_axes=(0, None, 0), static_broadcasted_argnums=(1,))
    xs = np.arange(12.0).reshape(6, 2)
    s = np.ones(6)
    np.testing.assert_allclose(f(xs, 3, s), xs * 3 + np.arange(6)[:, None])
    np.testing.assert_allclose(f(xs, 2, s), xs * 2 + np.arange(6)[:, None])
    assert nj.pmap(lambda x: x + 1.0)(np.zeros(3)).shape == (3,)       # no name needed
    with pytest.raises(ValueError, match=r"^nanojax.pmap: backend 'gpu'"):
        nj.pmap(lambda x: x, backend="gpu")


def test_device_names_have_their_one_cpu_meaning():
    (cpu,) = nj.devices()
    assert (cpu.platform, cpu.id) == ("cpu", 0) and nj.local_devices() == [cpu]
    assert nj.device_count() == nj.local_device_count() == nj.process_count() == 1
    assert nj.process_index() == 0
    a = np.arange(3.0)
    put = nj.device_put({"a": a, "n": 2.0}, cpu)
    assert isinstance(put["a"], np.ndarray) and put["a"] is not a
    put["a"][0] = 7.0
    assert a[0] == 0.0                                       # its own memory
    assert isinstance(put["n"], np.ndarray) and put["n"] == 2.0
    assert nj.device_get(a) is a and nj.block_until_ready(a) is a
    g = nj.grad(lambda x: jnp.sum(nj.device_put(x) ** 2))(a)
    np.testing.assert_allclose(g, 2 * a)
    with pytest.raises(TypeError, match=r"^nanojax.device_put: device must be"):
        nj.device_put(a, "gpu:0")


# ----- Errors ---------------------------------------------------------------------------

ERRORS = [
    ("psum-unbound", lambda x: lax.psum(x, "i"), NameError, "nanojax.lax.psum: unbound axis"),
    ("axis_index-unbound", lambda x: lax.axis_index("i"), NameError,
     "nanojax.lax.axis_index: unbound axis name: 'i'"),
    ("psum-wrong-name", named(lambda x: lax.psum(x, "j")), NameError,
     r"nanojax.lax.psum: unbound axis name: 'j'.*names bound here: 'i'"),
    ("groups", named(lambda x: lax.psum(x, "i", axis_index_groups=[[0, 1], [2, 3]])),
     NotImplementedError, "nanojax.lax.psum: axis_index_groups is not supported"),
    ("pmax-groups", named(lambda x: lax.pmax(x, "i", axis_index_groups=[[0, 1, 2, 3]])),
     NotImplementedError, "nanojax.lax.pmax: axis_index_groups"),
    ("perm-range", named(lambda x: lax.ppermute(x, "i", [(0, 4)])), ValueError,
     r"nanojax.lax.ppermute: perm pair \(0, 4\) is out of range"),
    ("perm-repeated-destination", named(lambda x: lax.ppermute(x, "i", [(0, 1), (2, 1)])),
     ValueError, "nanojax.lax.ppermute: perm names a destination twice"),
    ("perm-not-pairs", named(lambda x: lax.ppermute(x, "i", [0, 1])), TypeError,
     "nanojax.lax.ppermute: perm must be a sequence of"),
    ("perm-floats", named(lambda x: lax.ppermute(x, "i", [(0.0, 1.0)])), TypeError,
     "nanojax.lax.ppermute: perm must be"),
    ("psum_scatter-size", named(lambda x: lax.psum_scatter(x, "i")), ValueError,
     "nanojax.lax.psum_scatter: dimension 0 of the operand has size 3"),
    ("all_gather-axis", named(lambda x: lax.all_gather(x, "i", axis=3)), ValueError,
     "nanojax.lax.all_gather: axis 3 is out of range"),
    ("all_to_all-size", named(lambda x: lax.all_to_all(x, "i", 0, 1)), ValueError,
     "nanojax.lax.all_to_all: split_axis 0 has size 3"),
    ("positional-axis", named(lambda x: lax.psum(x, 0)), TypeError,
     "nanojax.lax.psum: positional axes"),
    ("string-operand", named(lambda x: lax.psum("a", "i")), TypeError, "nanojax.lax.psum:"),
    ("unhashable-name", lambda x: nj.vmap(lambda v: v, axis_name=["i"])(x), TypeError,
     "nanojax.vmap: axis_name must be hashable"),
]


@pytest.mark.parametrize("fn, error, match", [pytest.param(*e[1:], id=e[0]) for e in ERRORS])
def test_bad_calls_raise_clear_errors_eagerly_and_under_jit(fn, error, match):
    for f in (fn, nj.jit(fn)):
        with pytest.raises(error, match=f"^{match}"):
            f(X)


def test_a_circuit_recorded_for_one_axis_size_refuses_another():
    closed = []
    named(lambda x: closed.append(nj.make_jaxpr(lambda v: lax.all_gather(v, "i"))(x)) or x)(X)
    run = named(lambda x: nj.eval_jaxpr(closed[0].jaxpr, closed[0].consts, x)[0])
    np.testing.assert_allclose(run(X), np.broadcast_to(X, (N, *X.shape)))
    with pytest.raises(ValueError, match=r"^nanojax.lax.all_gather: the circuit was recorded "
                                         "for an axis of size 4, but the axis it runs on has "
                                         "size 2"):
        run(X[:2])


def test_every_collective_primitive_is_tested_here():
    # test_batching's table cannot name an axis around its rows: these are
    # exempt there and checked by the tests above (see CASES).
    prims = {psum_p, pmax_p, pmin_p, all_gather_p, psum_scatter_p, ppermute_p, all_to_all_p,
             axis_index_p}
    recorded = set()
    for fn, _, shape in (c.values for c in CASES):
        named(lambda x, fn=fn: recorded.update(
            e.primitive for e in nj.make_jaxpr(fn)(x).eqns) or x)(_examples(shape))
    assert prims <= recorded
