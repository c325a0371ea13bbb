"""nanojax's arrays: NumPy arrays with JAX's ``.at``, from every public entry point."""

import pickle

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import lax, nn, random
from nanojax.array import ArrayImpl
from nanojax.example_libraries import optimizers, stax
from nanojax.scipy import special

X = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
KEY = random.PRNGKey(0)

PRODUCERS = {
    "jnp.zeros": lambda: jnp.zeros(3),
    "jnp.array": lambda: jnp.array([1.0, 2.0]),
    "jnp.asarray": lambda: jnp.asarray(X),
    "jnp.tanh": lambda: jnp.tanh(X),
    "jnp.add": lambda: jnp.add(X, 1.0),
    "jnp.sum(axis)": lambda: jnp.sum(X, axis=0),
    "jnp.reshape": lambda: jnp.reshape(X, (3, 2)),
    "jnp.concatenate": lambda: jnp.concatenate([X, X]),
    "jnp.split": lambda: jnp.split(X, 3, axis=1)[0],
    "jnp.linalg.inv": lambda: jnp.linalg.inv(np.eye(2) * 2.0),
    "lax.add": lambda: lax.add(X, X),
    "lax.scan": lambda: lax.scan(lambda c, x: (c + x, c), 0.0, np.ones(3))[1],
    "nn.relu": lambda: nn.relu(X),
    "nn.initializers": lambda: nn.initializers.glorot_normal()(KEY, (3, 2)),
    "random.normal": lambda: random.normal(KEY, (3,)),
    "special.erf": lambda: special.erf(X),
    "grad": lambda: nj.grad(lambda x: jnp.sum(x ** 2))(X),
    "jit": lambda: nj.jit(lambda x: x * 2.0)(X),
    "vmap": lambda: nj.vmap(jnp.sum)(X),
    "jacfwd": lambda: nj.jacfwd(jnp.sin)(np.ones(2)),
    "stax.Dense": lambda: stax.Dense(2)[0](KEY, (1, 3))[1][0],
    "optimizers.get_params": lambda: optimizers.sgd(0.1)[2](optimizers.sgd(0.1)[0](X)),
    "x.at[].set": lambda: jnp.zeros(3).at[0].set(1.0),
}


@pytest.mark.parametrize("name", sorted(PRODUCERS))
def test_every_public_entry_point_hands_out_arrays_with_at(name):
    out = PRODUCERS[name]()
    assert type(out) is ArrayImpl and isinstance(out, np.ndarray)
    assert isinstance(out, jnp.ndarray) and isinstance(out, nj.Array)
    updated = out.at[(0,) * out.ndim].set(7.0)
    assert updated[(0,) * out.ndim] == 7.0 and type(updated) is ArrayImpl


def test_at_updates_eagerly_match_numpy_and_leave_the_array_alone():
    x = jnp.arange(6.0)
    before = np.array(x)
    idx = np.array([1, 3, 3])
    want = np.array(x)
    np.add.at(want, idx, 2.0)
    np.testing.assert_array_equal(x.at[idx].add(2.0), want)
    np.testing.assert_array_equal(x.at[1:3].set(-1.0), [0, -1, -1, 3, 4, 5])
    np.testing.assert_array_equal(x.at[np.array([0, 5])].multiply(3.0), [0, 1, 2, 3, 4, 15])
    np.testing.assert_array_equal(x.at[2].max(10.0), [0, 1, 10, 3, 4, 5])
    np.testing.assert_array_equal(x.at[2].min(-1.0), [0, 1, -1, 3, 4, 5])
    assert x.at[9].get(mode="fill", fill_value=-5.0) == -5.0
    np.testing.assert_array_equal(x, before)


def test_traced_values_are_jnp_ndarrays_too():
    seen = []

    @nj.jit
    def f(x):
        seen.append((isinstance(x, jnp.ndarray), isinstance(x, nj.Array),
                     isinstance(x, np.ndarray)))
        return x.at[0].set(1.0)
    np.testing.assert_array_equal(f(jnp.zeros(2)), [1.0, 0.0])
    assert seen == [(True, True, False)]


def test_numpy_code_on_nanojax_arrays_behaves_as_on_numpy_arrays():
    x = jnp.asarray(X)
    assert type(np.sin(x)) is ArrayImpl
    assert type(x.sum()) is np.float64 and type(np.sum(x)) is np.float64
    assert type(x[0, 0]) is np.float64
    assert repr(x[0]) == repr(np.asarray(X)[0])
    y = np.array(x)
    y.sort(axis=1)                          # NumPy's methods keep NumPy's meaning
    x2 = jnp.asarray(X[:, ::-1])
    x2.sort(axis=1)
    np.testing.assert_array_equal(x2, np.sort(X[:, ::-1], axis=1))
    loaded = pickle.loads(pickle.dumps(x))  # a pickle needs no nanojax
    assert type(loaded) is np.ndarray
    np.testing.assert_array_equal(loaded, X)


def test_outputs_own_their_memory_after_the_view():
    x = np.arange(4.0).reshape(2, 2)      # itself a view: its base owns the memory
    out = nj.jvp(nj.stop_gradient, (x,), (np.ones((2, 2)),))[0]
    out[...] = -1.0
    np.testing.assert_array_equal(x, np.arange(4.0).reshape(2, 2))


def test_an_argument_handed_back_is_the_argument():
    x = np.ones(3)
    assert type(jnp.asarray(x)) is ArrayImpl and np.shares_memory(jnp.asarray(x), x)
    a = jnp.zeros(2)
    assert jnp.asarray(a) is a


AT_INDICES = [2, -1, slice(1, 4), (slice(None), 1), np.array([0, 2, 2]), [0, 2],
              (np.array([0, 1]), np.array([2, 0])), Ellipsis, (None, 1)]


@pytest.mark.parametrize("idx", AT_INDICES, ids=[repr(i)[:20] for i in AT_INDICES])
@pytest.mark.parametrize("op", ["set", "add"])
@pytest.mark.parametrize("value", [2.5, 3, np.float32(1.5)])
def test_eager_number_updates_match_the_scatter_path(idx, op, value):
    # mode="promise_in_bounds" takes the general (primitive) path: the numbers must agree.
    for x in (jnp.arange(12.0).reshape(3, 4) + 0.5, jnp.arange(12).reshape(3, 4)):
        fast = getattr(x.at[idx], op)(value)
        general = getattr(x.at[idx], op)(value, mode="promise_in_bounds")
        assert type(fast) is ArrayImpl and fast.dtype == general.dtype
        np.testing.assert_array_equal(fast, general)


def test_eager_number_updates_refuse_what_the_general_path_refuses():
    x = jnp.zeros(3)
    with pytest.raises(IndexError, match=r"^nanojax\.numpy\.ndarray\.at: index 5 is out of"):
        x.at[5].set(1.0)
    with pytest.raises(IndexError, match="lone True/False"):
        x.at[True].add(1.0)


def test_updates_of_another_dtype_are_promoted_then_cast_back_as_in_jax():
    x = jnp.arange(4)
    # JAX (x64): [2 1 2 3], [0 2 2 3], [0 4 2 3]: 1 + 1.6 + 1.6 truncates to 4.
    np.testing.assert_array_equal(x.at[0].add(2.5), [2, 1, 2, 3])
    np.testing.assert_array_equal(x.at[1].set(2.7), [0, 2, 2, 3])
    for mode in (None, "promise_in_bounds"):      # the eager path and the scatter's
        out = x.at[np.array([1, 1])].add(1.6, mode=mode)
        np.testing.assert_array_equal(out, [0, 4, 2, 3])
        assert out.dtype == x.dtype
    out = nj.jit(lambda x: x.at[np.array([1, 1])].add(1.6))(x)
    np.testing.assert_array_equal(out, [0, 4, 2, 3])


def test_a_concrete_array_indexed_by_a_traced_value_is_a_gather_in_the_trace():
    # JAX's Gotchas: ``lax.fori_loop(0, 10, lambda i, x: x + array[i], 0)`` is 45.
    table = jnp.arange(10)
    assert int(nj.lax.fori_loop(0, 10, lambda i, x: x + table[i], 0)) == 45
    grid = jnp.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(nj.jit(lambda i: grid[:, i])(2), [2.0, 6.0, 10.0])
    np.testing.assert_array_equal(nj.vmap(lambda i: grid[i, 1:])(jnp.arange(3)),
                                  np.asarray(grid)[:, 1:])
    assert nj.grad(lambda x, i: grid[i, 2] * x)(2.0, 1) == 6.0
    assert grid[1, 2] == 6.0 and isinstance(grid[1:], type(grid))   # NumPy's eager indexing


def test_jax_array_attributes_say_one_cpu_device():
    x = jnp.arange(3.0)
    assert x.block_until_ready() is x
    assert x.devices() == {nj.devices()[0]} and x.device == nj.devices()[0]
    assert x.sharding == nj.sharding.SingleDeviceSharding(nj.devices()[0])
    assert x.is_fully_addressable and x.is_fully_replicated


@pytest.mark.parametrize("method", [
    lambda m, t: m.dot(t), lambda m, t: m[0].clip(0.5, t[0]),
    lambda m, t: m[0].take(jnp.astype(t, int)), lambda m, t: m[0].searchsorted(t),
    lambda m, t: m[0].compress(np.array([True, False, True])) * t[0],
], ids=["dot", "clip", "take", "searchsorted", "compress"])
def test_methods_of_a_concrete_array_take_traced_arguments(method):
    # optax's L-BFGS notebook: mat.dot(w - w_opt) with w traced by grad and jit.
    m = jnp.arange(9.0).reshape(3, 3)
    t = jnp.array([2.0, 0.0, 1.0])
    eager = method(m, t)
    np.testing.assert_array_equal(nj.jit(lambda t: method(m, t))(t), eager)
    np.testing.assert_array_equal(nj.vmap(lambda t: method(m, t))(jnp.stack([t, t])),
                                  np.stack([eager, eager]))


def test_augmented_assignment_with_a_traced_value_rebinds_as_in_jax():
    def f(t):
        x = jnp.ones(3)
        x += t            # JAX: x = x + t; NumPy's in-place add cannot hold a tracer
        x *= 2.0
        return x
    np.testing.assert_array_equal(nj.jit(f)(jnp.arange(3.0)), [2.0, 4.0, 6.0])
    np.testing.assert_array_equal(nj.grad(lambda t: jnp.sum(f(t)))(jnp.arange(3.0)), [2.0] * 3)
    x = jnp.ones(2)
    alias = x
    x += 1.0                      # eagerly NumPy's in-place add, as before
    assert alias is x and alias.tolist() == [2.0, 2.0]
