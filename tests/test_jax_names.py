"""The top-level and submodule names of jax with their one-CPU meaning: jax.ops segment
reductions, jax.image, sharding and shard_map, the runtime names, the profiler, typing,
custom_derivatives.closure_convert, distributed, version, nn.logmeanexp."""

from __future__ import annotations

import io
import contextlib

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import image, ops
from nanojax.sharding import Mesh, NamedSharding, PartitionSpec, SingleDeviceSharding

RNG = np.random.default_rng(5)
DATA = RNG.normal(size=(7, 3))
IDS = np.array([0, 3, 3, 1, 0, 3, 5])          # 5 is out of range for 4 segments: dropped
SEGMENT_OPS = {"segment_sum": (np.add, 0.0), "segment_prod": (np.multiply, 1.0),
               "segment_max": (np.maximum, -np.inf), "segment_min": (np.minimum, np.inf)}


def _loop(name, data, ids, n):
    op, identity = SEGMENT_OPS[name]
    out = np.full((n,) + data.shape[1:], identity)
    for row, i in zip(data, ids):
        if 0 <= i < n:
            out[i] = op(out[i], row)
    return out


@pytest.mark.parametrize("name", sorted(SEGMENT_OPS))
def test_segment_ops_match_a_loop_eagerly_jitted_and_vmapped(name):
    fn = getattr(ops, name)
    want = _loop(name, DATA, IDS, 4)
    np.testing.assert_allclose(fn(DATA, IDS, num_segments=4), want, rtol=1e-13)
    np.testing.assert_array_equal(nj.jit(lambda d, i: fn(d, i, 4))(DATA, IDS),
                                  fn(DATA, IDS, num_segments=4))
    ids2 = np.stack([IDS, IDS[::-1], np.zeros(7, int)])
    data2 = np.stack([DATA, -DATA, DATA * 2])
    got = nj.vmap(lambda d, i: fn(d, i, 4))(data2, ids2)
    np.testing.assert_allclose(got, [_loop(name, d, i, 4) for d, i in zip(data2, ids2)],
                               rtol=1e-13)


@pytest.mark.parametrize("name", sorted(SEGMENT_OPS))
def test_segment_ops_are_differentiable(name):
    fn = getattr(ops, name)
    nonempty = np.array([0, 1, 3])              # segment 2 is empty: +-inf, no gradient
    nj.check_grads(lambda d: fn(d, IDS, 4)[nonempty], (DATA,), order=2, modes=("fwd", "rev"))


def test_segment_options():
    np.testing.assert_allclose(ops.segment_sum(DATA, IDS), _loop("segment_sum", DATA, IDS, 6))
    clipped = ops.segment_sum(DATA, IDS, 4, mode="clip")
    np.testing.assert_allclose(clipped, _loop("segment_sum", DATA, np.minimum(IDS, 3), 4))
    ints = ops.segment_max(np.array([1, 5, 2]), np.array([0, 0, 2]), 3)
    np.testing.assert_array_equal(ints, [5, np.iinfo(np.int64).min, 2])
    with pytest.raises(TypeError, match=r"nanojax\.ops\.segment_sum: segment_ids is traced"):
        nj.jit(ops.segment_sum)(DATA, IDS)
    with pytest.raises(ValueError, match=r"nanojax\.ops\.segment_min: segment_ids must be 1-D"):
        ops.segment_min(DATA, IDS[:3], 4)
    with pytest.raises(ValueError, match=r"nanojax\.ops\.segment_prod: mode must be"):
        ops.segment_prod(DATA, IDS, 4, mode="wrap")
    with pytest.raises(TypeError, match=r"nanojax\.ops\.segment_max: segment_ids must be int"):
        ops.segment_max(DATA, IDS * 1.0, 4)


# ----- jax.image -------------------------------------------------------------------

def _linear_1d(x, m):
    """Half-pixel-centre linear interpolation, edges clamped (upsampling only)."""
    n = x.shape[0]
    c = np.clip((np.arange(m) + 0.5) * n / m - 0.5, 0, n - 1)
    lo = np.floor(c).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    return x[lo] * (1 - (c - lo)) + x[hi] * (c - lo)


@pytest.mark.parametrize("method", ["linear", "cubic", "lanczos3", "lanczos5"])
def test_resize_preserves_constants_and_is_differentiable(method):
    img = np.full((2, 5, 4, 3), 2.5)
    for shape in [(2, 9, 7, 3), (2, 3, 2, 3)]:
        np.testing.assert_allclose(image.resize(img, shape, method), np.full(shape, 2.5),
                                   rtol=1e-12)
    x = RNG.normal(size=(5, 4))
    nj.check_grads(lambda a: image.resize(a, (7, 3), method), (x,), order=1,
                   modes=("fwd", "rev"))
    np.testing.assert_allclose(nj.jit(lambda a: image.resize(a, (7, 3), method))(x),
                               image.resize(x, (7, 3), method), rtol=1e-14)


def test_linear_upsampling_is_half_pixel_interpolation():
    x = RNG.normal(size=5)
    np.testing.assert_allclose(image.resize(x, (12,), "bilinear"), _linear_1d(x, 12),
                               rtol=1e-12)
    batch = np.stack([x, 2 * x])
    np.testing.assert_allclose(nj.vmap(lambda v: image.resize(v, (12,), "linear"))(batch),
                               [_linear_1d(v, 12) for v in batch], rtol=1e-12)


def test_linear_downsampling_by_two_with_antialias_averages_with_the_neighbours():
    x = np.arange(8.0)
    np.testing.assert_allclose(image.resize(x, (4,), "linear", antialias=False),
                               [0.5, 2.5, 4.5, 6.5])
    out = image.resize(x, (4,), "linear")          # the kernel is twice as wide
    assert out[1] == pytest.approx(2.5) and out[0] > 0.5


def test_nearest_picks_the_sample_each_centre_falls_in():
    x = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(image.resize(x, (6, 2), "nearest"),
                                  x[np.array([0, 0, 1, 1, 2, 2])][:, np.array([1, 3])])


def test_scale_and_translate_differentiates_in_its_scale():
    x = RNG.normal(size=(6,))
    same = image.scale_and_translate(x, (6,), (0,), np.array([1.0]), np.array([0.0]))
    np.testing.assert_allclose(same, x, atol=1e-12)
    shifted = image.scale_and_translate(x, (6,), (0,), np.array([1.0]), np.array([1.0]),
                                        antialias=False)
    np.testing.assert_allclose(shifted[1:], x[:-1], atol=1e-12)
    f = lambda s: jnp.sum(image.scale_and_translate(x, (9,), (0,), s, np.array([0.3])) ** 2)  # noqa: E731
    s0 = np.array([1.4])
    np.testing.assert_allclose(nj.grad(f)(s0), nj.numerical_grad(f)(s0), rtol=1e-5)


def test_image_errors_are_sentences():
    with pytest.raises(ValueError, match=r"nanojax\.image: unknown resize method 'area'"):
        image.resize(np.ones(3), (4,), "area")
    with pytest.raises(ValueError, match=r"nanojax\.image\.resize: shape must have length"):
        image.resize(np.ones(3), (4, 1), "linear")
    with pytest.raises(ValueError, match=r"nanojax\.image\.scale_and_translate: dimension 1"):
        image.scale_and_translate(np.ones((3, 2)), (4, 3), (0,), np.ones(1), np.zeros(1))
    assert image.ResizeMethod.from_string("tricubic") is image.ResizeMethod.CUBIC


# ----- sharding, shard_map ------------------------------------------------------------

def test_one_device_meshes_and_shardings():
    mesh = nj.make_mesh((1, 1), ("data", "model"))
    assert mesh.shape == {"data": 1, "model": 1} and mesh.size == 1
    assert Mesh(np.array(nj.devices()), "x").axis_names == ("x",)
    s = NamedSharding(mesh, nj.P("data", None))
    assert s.shard_shape((8, 3)) == (8, 3) and s.num_devices == 1 and s.is_fully_replicated
    assert s == NamedSharding(mesh, PartitionSpec("data", None))
    x = np.arange(3.0)
    for sharding in (s, SingleDeviceSharding(nj.devices()[0])):
        y = nj.device_put(x, sharding)
        assert y is not x and np.array_equal(y, x)
    np.testing.assert_array_equal(nj.reshard(x, s), x)
    with nj.set_mesh(mesh):
        assert nj.sharding.get_mesh() is mesh
    assert nj.sharding.get_mesh() is None
    with pytest.raises(ValueError, match=r"nanojax\.make_mesh: a mesh of shape \(2, 4\) needs 8"):
        nj.make_mesh((2, 4), ("a", "b"))
    with pytest.raises(ValueError, match=r"nanojax\.sharding\.NamedSharding: .*'batch'"):
        NamedSharding(mesh, nj.P("batch"))
    with pytest.raises(TypeError, match=r"nanojax\.sharding\.PartitionSpec: each entry"):
        nj.P(3)


def test_shard_map_on_one_device_binds_the_mesh_axes_with_size_one():
    mesh = nj.make_mesh((1,), ("i",))

    def body(x):
        return nj.lax.psum(x, "i") + nj.lax.axis_index("i"), nj.lax.pmean(x * 2, "i")
    f = nj.shard_map(body, mesh=mesh, in_specs=nj.P("i"), out_specs=(nj.P("i"), nj.P()))
    x = np.arange(4.0)
    np.testing.assert_array_equal(f(x)[0], x)
    np.testing.assert_array_equal(nj.jit(f)(x)[1], 2 * x)
    np.testing.assert_array_equal(nj.grad(lambda v: jnp.sum(f(v)[1]))(x), np.full(4, 2.0))
    with nj.set_mesh(mesh):
        g = nj.shard_map(out_specs=nj.P())(lambda v: nj.lax.psum(v, "i"))
        np.testing.assert_array_equal(g(x), x)
    with pytest.raises(ValueError, match=r"nanojax\.shard_map: no mesh"):
        nj.shard_map(lambda v: v, out_specs=nj.P())(x)
    with pytest.raises(ValueError, match=r"nanojax\.shard_map: .* more than the array's 1"):
        nj.shard_map(lambda v: v, mesh=mesh, in_specs=nj.P("i", None), out_specs=nj.P())(x)


# ----- runtime names ---------------------------------------------------------------

def test_process_and_host_names_describe_one_process():
    assert (nj.host_count(), nj.host_id(), nj.host_ids(), nj.process_indices()) == (1, 0, [0], [0])
    assert nj.Device is nj.devices.__globals__["Device"]
    assert nj.effects_barrier() is None
    with nj.checking_leaks():
        assert nj.config.read("jax_check_tracer_leaks") is True
    assert nj.config.read("jax_check_tracer_leaks") is False
    text = nj.print_environment_info(return_string=True)
    assert f"numpy:      {np.__version__}" in text
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        nj.print_environment_info()
    assert buf.getvalue() == text


def test_make_array_functions_assemble_the_one_shard():
    s = SingleDeviceSharding(nj.devices()[0])
    full = np.arange(6.0).reshape(2, 3)
    seen = []
    out = nj.make_array_from_callback((2, 3), s, lambda idx: seen.append(idx) or full[idx])
    np.testing.assert_array_equal(out, full)
    assert seen == [(slice(None), slice(None))]
    np.testing.assert_array_equal(nj.make_array_from_single_device_arrays((2, 3), s, [full]),
                                  full)
    np.testing.assert_array_equal(nj.make_array_from_process_local_data(s, full), full)
    with pytest.raises(ValueError, match=r"nanojax\.make_array_from_callback: the data has"):
        nj.make_array_from_callback((3, 3), s, lambda idx: full)
    with pytest.raises(ValueError, match=r"expected one array"):
        nj.make_array_from_single_device_arrays((2, 3), s, [full, full])
    with pytest.raises(TypeError, match=r"sharding must be"):
        nj.make_array_from_callback((2, 3), "cpu", lambda idx: full)


# ----- profiler, typing, closure_convert, distributed, version, logmeanexp -------------

def test_profiler_names_run_and_check_arguments(tmp_path):
    with nj.profiler.trace(tmp_path):
        with nj.profiler.StepTraceAnnotation("train", step_num=1):
            pass
        with pytest.raises(RuntimeError, match=r"already been started"):
            nj.profiler.start_trace(tmp_path)
    with pytest.raises(RuntimeError, match=r"No profile started"):
        nj.profiler.stop_trace()

    @nj.profiler.annotate_function(name="double")
    def double(x):
        return 2 * x
    assert double(3) == 6 and double.__name__ == "double"
    assert nj.jit(nj.profiler.annotate_function(jnp.sin))(0.5) == pytest.approx(np.sin(0.5))
    with pytest.raises(TypeError, match=r"nanojax\.profiler\.TraceAnnotation: name must be"):
        nj.profiler.TraceAnnotation(3)
    nj.profiler.save_device_memory_profile(tmp_path / "mem.prof")
    assert (tmp_path / "mem.prof").read_bytes() == b""


def test_typing_aliases_accept_what_jnp_accepts():
    import typing
    assert np.ndarray in typing.get_args(nj.typing.ArrayLike)
    assert float in typing.get_args(nj.typing.ArrayLike)
    assert np.dtype in typing.get_args(nj.typing.DTypeLike)


def test_closure_convert_hoists_closed_over_floats_for_custom_vjp():
    @nj.custom_vjp
    def apply(f_consts, x):
        f, consts = f_consts
        return f(x, *consts)

    def outer(w):
        f, consts = nj.custom_derivatives.closure_convert(lambda x: jnp.sin(x * w), 1.0)
        assert len(consts) == 1
        return f(0.5, *consts)
    np.testing.assert_allclose(nj.grad(outer)(2.0), 0.5 * np.cos(1.0), rtol=1e-13)
    f, consts = nj.closure_convert(lambda x: x * np.arange(3), 1.0)
    assert consts == []                       # integer constants stay closed
    np.testing.assert_array_equal(f(2.0), [0.0, 2.0, 4.0])
    with pytest.raises(TypeError, match=r"nanojax\.closure_convert: the converted function"):
        nj.closure_convert(lambda x: x * np.ones(2), 1.0)[0](1.0, 2.0, 3.0)
    assert nj.custom_derivatives.custom_jvp is nj.custom_jvp
    del apply


def test_distributed_initialize_for_one_process():
    with pytest.raises(ValueError, match=r"nanojax\.distributed\.initialize: num_processes=4"):
        nj.distributed.initialize("localhost:1234", num_processes=4, process_id=0)
    nj.distributed.initialize("localhost:1234", num_processes=1, process_id=0)
    try:
        assert nj.distributed.is_initialized()
        with pytest.raises(RuntimeError, match=r"only be called once"):
            nj.distributed.initialize()
    finally:
        nj.distributed.shutdown()
    assert not nj.distributed.is_initialized()


def test_version_module_matches_the_package():
    assert nj.version.__version__ == nj.__version__
    assert nj.version.__version_info__ == (0, 1, 0)


def test_logmeanexp_is_log_of_mean_of_exp():
    x = RNG.normal(size=(3, 4))
    np.testing.assert_allclose(nj.nn.logmeanexp(x, axis=1), np.log(np.mean(np.exp(x), 1)),
                               rtol=1e-13)
    mask = x > 0
    want = [np.log(np.mean(np.exp(r[m]))) for r, m in zip(x, mask)]
    np.testing.assert_allclose(nj.nn.logmeanexp(x, axis=1, where=mask), want, rtol=1e-13)
    np.testing.assert_allclose(nj.jit(nj.nn.logmeanexp)(x), np.log(np.mean(np.exp(x))),
                               rtol=1e-13)
    nj.check_grads(lambda a: nj.nn.logmeanexp(a, axis=0), (x,), order=2, modes=("fwd", "rev"))
