"""Regression tests for the defects that outside testing found (issue 8).

Each section is one item of the issue: a minimal reproducer of the wrong
answer, crash or unclear error, and what users of NumPy and JAX (float64)
expect instead. Where the fix closed a class of bugs, the section covers the
class, not only the reported case.
"""

from __future__ import annotations

import ast
import builtins
import math
import pathlib
import sys

import numpy as np
import pytest

import nanojax as nj
from nanojax.array import ArrayImpl
import nanojax.numpy as jnp
from nanojax import losses, nn
from nanojax.errors import ConcretizationTypeError

SRC = pathlib.Path(nj.__file__).parent


def numeric_grad(f, x, eps=1e-6):
    return nj.numerical_grad(f, eps=eps)(x)


# ----- 1. Creation functions with traced arguments -------------------------------------

def test_linspace_differentiates_in_its_traced_endpoints():
    f = lambda x: jnp.sum(jnp.linspace(x, 2 * x, 3) ** 2)           # noqa: E731
    np.testing.assert_allclose(nj.grad(f)(1.5), numeric_grad(f, 1.5), rtol=1e-7)
    g = lambda a, b: jnp.sum(jnp.linspace(a, b, 5, endpoint=False) * np.arange(5.0))  # noqa: E731
    ga, gb = nj.grad(g, argnums=(0, 1))(1.0, 3.0)
    np.testing.assert_allclose([ga, gb], nj.numerical_grad(g, argnums=(0, 1))(1.0, 3.0),
                               rtol=1e-7)


@pytest.mark.parametrize("kwargs", [{}, {"endpoint": False}, {"num": 1}, {"num": 0},
                                    {"axis": 1}, {"retstep": True}])
def test_traced_linspace_values_equal_numpys_to_the_bit(kwargs):
    start, stop = np.array([0.1, -2.0]), np.array([3.7, 5.0])
    kwargs = {"num": 7, **kwargs}
    want = np.linspace(start, stop, **kwargs)
    got = nj.jit(lambda a, b: jnp.linspace(a, b, **kwargs))(start, stop)
    for w, g in zip(*((want, got) if kwargs.get("retstep") else ((want,), (got,)))):
        assert np.array_equal(np.asarray(w), np.asarray(g))


@pytest.mark.parametrize("transform", [nj.grad, nj.jit])
def test_arange_with_a_traced_argument_is_a_concretization_error(transform):
    with pytest.raises(ConcretizationTypeError, match=r"nanojax.numpy.arange"):
        transform(lambda x: jnp.sum(jnp.arange(x, 5.0)))(1.0)


def test_traced_sizes_are_concretization_errors_under_jit():
    with pytest.raises(ConcretizationTypeError):
        nj.jit(lambda n: jnp.zeros(n))(3)
    with pytest.raises(ConcretizationTypeError):
        nj.jit(lambda x, n: jnp.linspace(x, 1.0, n))(0.0, 3)


# ----- 2. jit closing over tracers of enclosing transformations ---------------------------

def test_jit_closing_over_an_outer_tracer_differentiates():
    inner = lambda x: nj.jit(lambda y: x * y)(2.0)               # noqa: E731
    assert nj.grad(inner)(3.0) == 2.0
    assert nj.jvp(inner, (3.0,), (1.0,))[1] == 2.0
    np.testing.assert_array_equal(nj.vmap(inner)(np.arange(3.0)), [0.0, 2.0, 4.0])
    assert nj.jit(inner)(3.0) == 6.0
    assert nj.grad(lambda x: nj.jit(lambda y: x * y)(x))(3.0) == 6.0    # closure and arg


def test_a_jitted_function_called_twice_under_grad_never_reuses_a_dead_tracer():
    def f(x):
        return nj.jit(lambda y: jnp.sin(x) * y)(1.0)
    assert nj.grad(f)(0.0) == 1.0
    np.testing.assert_allclose(nj.grad(f)(1.0), math.cos(1.0))


# ----- 3. float(), int(), complex(), math.* on values being differentiated ----------------

@pytest.mark.parametrize("convert", [float, int, complex, math.exp, math.sin,
                                     lambda x: x.item()],
                         ids=["float", "int", "complex", "math.exp", "math.sin", "item"])
@pytest.mark.parametrize("transform", ["grad", "jvp", "jacrev", "jit", "vmap"])
def test_python_numbers_from_traced_values_are_refused(convert, transform):
    f = lambda x: convert(x) * x                                     # noqa: E731
    run = {"grad": lambda: nj.grad(f)(3.0), "jvp": lambda: nj.jvp(f, (3.0,), (1.0,)),
           "jacrev": lambda: nj.jacrev(f)(3.0), "jit": lambda: nj.jit(f)(3.0),
           "vmap": lambda: nj.vmap(f)(np.ones(2))}[transform]
    with pytest.raises(ConcretizationTypeError):
        run()


def test_the_refusal_under_grad_names_the_fix():
    with pytest.raises(ConcretizationTypeError, match=r"stop_gradient.*") as info:
        nj.grad(lambda x: float(x) * x)(3.0)
    assert "derivative" in str(info.value) and "jnp" in str(info.value)


def test_comparisons_and_stop_gradient_still_give_python_values_under_grad():
    assert nj.grad(lambda x: x * x if x > 0 else -x)(3.0) == 6.0
    assert nj.grad(lambda x: float(nj.stop_gradient(x)) * x)(3.0) == 3.0
    assert nj.grad(lambda x: x ** int(nj.stop_gradient(x)))(2.0) == 4.0


# ----- 4. Duplicate argnums ------------------------------------------------------------

@pytest.mark.parametrize("transform", [nj.grad, nj.value_and_grad, nj.jacrev, nj.jacfwd,
                                       nj.hessian, nj.numerical_grad])
def test_duplicate_argnums_are_refused(transform):
    with pytest.raises(ValueError, match="more than once"):
        transform(lambda x, y: x * y, argnums=(0, 0))(1.0, 2.0)
    with pytest.raises(ValueError, match="more than once"):
        transform(lambda x, y: x * y, argnums=(1, -1))(1.0, 2.0)


# ----- 5. ndarray subclasses ------------------------------------------------------------

MATRIX = np.asarray([[1.0, 2.0], [3.0, 4.0]]).view(np.matrix)


@pytest.mark.parametrize("transform", [
    lambda f: nj.jit(f), lambda f: nj.vmap(f), lambda f: (lambda x: nj.jvp(f, (x,), (x,))[0]),
], ids=["jit", "vmap", "jvp"])
def test_np_matrix_inputs_multiply_elementwise_as_in_jax(transform):
    out = transform(lambda x: x * x)(MATRIX)
    assert type(out) is ArrayImpl and isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, [[1.0, 4.0], [9.0, 16.0]])


def test_np_matrix_constants_multiply_elementwise_too():
    np.testing.assert_array_equal(nj.jit(lambda x: x * MATRIX)(np.ones((2, 2))), MATRIX.A)
    np.testing.assert_array_equal(nj.grad(lambda x: jnp.sum(x * MATRIX))(np.ones((2, 2))),
                                  MATRIX.A)


@pytest.mark.parametrize("run", [
    lambda m: nj.grad(lambda x: jnp.sum(x))(m), lambda m: nj.jit(lambda x: x + 1.0)(m),
    lambda m: nj.vmap(lambda x: x + 1.0)(m), lambda m: nj.jit(lambda x: x + m)(np.ones(2)),
    lambda m: nj.grad(lambda x: jnp.sum(x * m))(np.ones(2)), lambda m: jnp.asarray(m),
], ids=["grad", "jit", "vmap", "jit-constant", "grad-constant", "asarray"])
def test_masked_arrays_are_refused(run):
    with pytest.raises(TypeError, match="masked"):
        run(np.ma.array([1.0, 2.0], mask=[0, 1]))


# ----- 6. Complex numbers under differentiation ------------------------------------------

@pytest.mark.parametrize("run", [
    lambda: nj.grad(lambda x: x * 1j)(1.0),
    lambda: nj.grad(lambda x: jnp.abs(x * 1j))(1.0),
    lambda: nj.grad(lambda x: jnp.sum(jnp.abs(x * np.array([1j, 2.0]))))(np.ones(2)),
    lambda: nj.grad(lambda x: x * 2.0)(1.0 + 1j),
    lambda: nj.jacrev(lambda x: x)(np.ones(2, complex)),
    lambda: nj.jacfwd(lambda x: x)(np.ones(2, complex)),
    lambda: nj.hessian(lambda x: jnp.sum(x))(np.ones(2, complex)),
    lambda: nj.vjp(lambda x: x, 1j),
    lambda: nj.jvp(lambda x: x * 1j, (1.0,), (1.0,)),
], ids=["output", "intermediate", "complex-constant", "grad-input", "jacrev-input",
        "jacfwd-input", "hessian-input", "vjp-input", "jvp-output"])
def test_complex_values_under_differentiation_are_refused_with_the_reason(run):
    with pytest.raises(TypeError, match="complex"):
        run()


def test_complex_values_work_where_nothing_is_differentiated():
    np.testing.assert_array_equal(nj.jit(lambda z: z * 2.0)(1.0 + 2j), 2.0 + 4j)
    np.testing.assert_array_equal(nj.vmap(lambda z: z * 1j)(np.ones(2)), [1j, 1j])


# ----- 7. Integer inputs to every differentiating transformation ----------------------------

@pytest.mark.parametrize("run", [
    lambda: nj.hessian(lambda x: jnp.sum(x * x))(np.arange(3)),
    lambda: nj.jacrev(lambda x: x * x)(np.arange(3)),
    lambda: nj.jacfwd(lambda x: x * x)(np.arange(3)),
    lambda: nj.vjp(lambda x: x * x, np.arange(3)),
    lambda: nj.jvp(lambda x: x * x, (np.arange(3),), (np.ones(3),)),
    lambda: nj.jvp(lambda x: x * x, (np.ones(3),), (np.arange(3),)),
    lambda: nj.jacrev(lambda x: x)(True),
], ids=["hessian", "jacrev", "jacfwd", "vjp", "jvp-primal", "jvp-tangent", "bool"])
def test_integer_inputs_are_refused_as_grad_refuses_them(run):
    with pytest.raises(TypeError, match="float"):
        run()


def test_jacobians_of_integer_outputs_are_refused():
    with pytest.raises(TypeError, match="float outputs"):
        nj.jacrev(lambda x: jnp.argmax(x))(np.ones(3))
    with pytest.raises(TypeError, match="float outputs"):
        nj.jacfwd(lambda x: jnp.argmax(x))(np.ones(3))


# ----- 8. custom_vjp backward rules of the wrong shape --------------------------------------

def _custom(bwd_result):
    @nj.custom_vjp
    def f(x, y):
        return x * y
    f.defvjp(lambda x, y: (x * y, (x, y)), lambda res, g: bwd_result(*res, g))
    return f


@pytest.mark.parametrize("transform", ["grad", "vmap-grad", "jit-grad"])
def test_custom_vjp_cotangent_of_the_wrong_shape_names_the_rule_argument_and_shapes(transform):
    f = _custom(lambda x, y, g: (np.ones(3), g * x))
    run = {"grad": lambda: nj.grad(f)(1.0, 2.0),
           "vmap-grad": lambda: nj.vmap(nj.grad(f))(np.ones(2), np.ones(2)),
           "jit-grad": lambda: nj.jit(nj.grad(f))(1.0, 2.0)}[transform]
    with pytest.raises(ValueError) as info:
        run()
    message = str(info.value)
    assert "f" in message and "bwd" in message and "argument 0" in message
    assert "(3,)" in message and "()" in message


def test_custom_vjp_batched_inputs_off_axis_zero_get_their_own_cotangents():
    f = _custom(lambda x, y, g: (g * y, g * x))
    x, y = np.arange(6.0).reshape(3, 2), np.arange(3.0) + 1.0      # examples: x's columns
    got = nj.vmap(nj.grad(lambda a, b: jnp.sum(f(a, b))), in_axes=(1, None))(x, y)
    np.testing.assert_array_equal(got, np.broadcast_to(y, (2, 3)))
    got_y = nj.vmap(nj.grad(lambda a, b: jnp.sum(f(a, b)), argnums=1), in_axes=(1, None))(x, y)
    np.testing.assert_array_equal(got_y, x.T)


# ----- 9. The same errors and values under every transformation as without one ---------------

RUNNERS = {
    "eager": lambda f, x: f(x),
    "jit": lambda f, x: nj.jit(f)(x),
    "grad": lambda f, x: nj.grad(lambda v: jnp.sum(f(v)))(x),
    "vmap": lambda f, x: nj.vmap(f)(x[None]),
    "jvp": lambda f, x: nj.jvp(f, (x,), (x,)),
}

OUT_OF_RANGE = [
    ("transpose", lambda x: jnp.transpose(x, (0, 5))),
    ("transpose-repeated", lambda x: jnp.transpose(x, (0, 0))),
    ("expand_dims", lambda x: jnp.expand_dims(x, 7)),
    ("concatenate", lambda x: jnp.concatenate([x, x], axis=5)),
    ("stack", lambda x: jnp.stack([x, x], axis=5)),
    ("sum", lambda x: jnp.sum(x, axis=2)),
    ("sum-tuple", lambda x: jnp.sum(x, axis=(0, -3))),
    ("mean", lambda x: jnp.mean(x, axis=-3)),
    ("squeeze", lambda x: jnp.squeeze(x, 4)),
    ("cumsum", lambda x: jnp.cumsum(x, axis=3)),
    ("argmax", lambda x: jnp.argmax(x, axis=2)),
    ("swapaxes", lambda x: jnp.swapaxes(x, 0, 9)),
    ("moveaxis", lambda x: jnp.moveaxis(x, 0, 9)),
]


@pytest.mark.parametrize("name,f", OUT_OF_RANGE, ids=[c[0] for c in OUT_OF_RANGE])
@pytest.mark.parametrize("how", list(RUNNERS))
def test_out_of_range_axes_raise_numpys_error_everywhere(name, f, how):
    x = np.arange(6.0).reshape(2, 3)
    if how == "vmap":
        # Under vmap a batched argument still has the example's axes only.
        with pytest.raises((np.exceptions.AxisError, ValueError)) as info:
            nj.vmap(f)(x[None])
    else:
        with pytest.raises((np.exceptions.AxisError, ValueError)) as info:
            RUNNERS[how](f, x)
    assert str(info.value).startswith("nanojax.numpy."), str(info.value)
    with pytest.raises(type(info.value)):       # the type NumPy raises for the same call
        {"transpose": lambda: np.transpose(x, (0, 5)),
         "transpose-repeated": lambda: np.transpose(x, (0, 0)),
         "expand_dims": lambda: np.expand_dims(x, 7),
         "concatenate": lambda: np.concatenate([x, x], axis=5),
         "stack": lambda: np.stack([x, x], axis=5), "sum": lambda: np.sum(x, axis=2),
         "sum-tuple": lambda: np.sum(x, axis=(0, -3)), "mean": lambda: np.mean(x, axis=-3),
         "squeeze": lambda: np.squeeze(x, 4), "cumsum": lambda: np.cumsum(x, axis=3),
         "argmax": lambda: np.argmax(x, axis=2), "swapaxes": lambda: np.swapaxes(x, 0, 9),
         "moveaxis": lambda: np.moveaxis(x, 0, 9)}[name]()


BAD_INDEXES = [
    ("short-mask", np.array([True, False]), IndexError),
    ("long-mask", np.array([True, False, True, False]), IndexError),
    ("float-slice", slice(0.5, 2), TypeError),
    ("float-index", 1.5, IndexError),
    ("too-many", (0, 0), IndexError),
    ("out-of-bounds", 3, IndexError),
    ("float-array", np.array([0.0, 1.0]), IndexError),
]


@pytest.mark.parametrize("idx,error", [c[1:] for c in BAD_INDEXES],
                         ids=[c[0] for c in BAD_INDEXES])
@pytest.mark.parametrize("how", ["jit", "grad", "jvp"])
def test_bad_indexes_raise_numpys_error_everywhere(idx, error, how):
    f = lambda x: x[idx]                                            # noqa: E731
    with pytest.raises(error) as info:
        RUNNERS[how](f, np.arange(3.0))
    assert "nanojax.numpy.ndarray.__getitem__" in str(info.value)
    with pytest.raises(error):                  # eagerly it is NumPy's own indexing
        np.arange(3.0)[idx]
    with pytest.raises(error, match=r"nanojax.numpy.ndarray.__getitem__"):
        jnp.at(np.arange(3.0))[idx].get()


@pytest.mark.parametrize("ddof", [0, 1, 3, 4, 10])
@pytest.mark.parametrize("how", ["jit", "grad-value"])
def test_var_with_any_ddof_matches_numpy(ddof, how):
    x = np.arange(4.0)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning) if ddof >= 4 else _nothing():
        want = np.var(x, ddof=ddof)
    with np.errstate(all="ignore"):
        got = (nj.jit(lambda v: jnp.var(v, ddof=ddof))(x) if how == "jit"
               else nj.value_and_grad(lambda v: jnp.var(v, ddof=ddof))(x)[0])
    assert np.array_equal(got, want, equal_nan=True), (got, want)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# ----- 10. Non-numeric input and output, everywhere -----------------------------------------

NON_NUMERIC_CALLS = [
    ("ravel", lambda: jnp.ravel(None)), ("stack", lambda: jnp.stack(["a", "a"])),
    ("equal", lambda: jnp.equal(np.ones(2), None)), ("add", lambda: jnp.add("a", 1.0)),
    ("sum", lambda: jnp.sum("abc")), ("reshape", lambda: jnp.reshape(None, (1,))),
    ("transpose", lambda: jnp.transpose(["a"])), ("where", lambda: jnp.where(True, "a", 1)),
    ("asarray", lambda: jnp.asarray(object())), ("stop_gradient", lambda: nj.stop_gradient("a")),
    ("sigmoid", lambda: nn.sigmoid(None)), ("relu", lambda: nn.relu("a")),
    ("zeros_like", lambda: jnp.zeros_like("a")), ("full_like", lambda: jnp.full_like("a", 1)),
    ("concatenate", lambda: jnp.concatenate([None, None])),
    ("maximum", lambda: jnp.maximum(np.ones(2), {1: 2})),
]


@pytest.mark.parametrize("name,call", NON_NUMERIC_CALLS, ids=[c[0] for c in NON_NUMERIC_CALLS])
def test_non_numeric_input_is_refused_with_the_functions_name(name, call):
    with pytest.raises(TypeError) as info:
        call()
    assert str(info.value).startswith("nanojax."), str(info.value)
    assert name in str(info.value)


SETTINGS = [
    ("nanojax.optim.scale", lambda: nj.optim.scale("abc")),
    ("nanojax.optim.add_decayed_weights", lambda: nj.optim.add_decayed_weights(None)),
    ("nanojax.optim.constant_schedule", lambda: nj.optim.constant_schedule("0.1")),
    ("nanojax.optim.scale_by_schedule", lambda: nj.optim.scale_by_schedule(0.1)),
    ("nanojax.optim.chain", lambda: nj.optim.chain("sgd")),
    ("nanojax.optim.trace", lambda: nj.optim.trace("0.9")),
    ("nanojax.optim.clip_by_global_norm", lambda: nj.optim.clip_by_global_norm(None)),
    ("nanojax.optim.apply_updates", lambda: nj.optim.apply_updates("abc", "abc")),
    ("nanojax.models.normal", lambda: nj.models.normal("abc")),
    ("nanojax.models.uniform", lambda: nj.models.uniform(None)),
    ("nanojax.models.Dropout", lambda: nj.models.Dropout("abc")),
    ("nanojax.models.mlp", lambda: nj.models.mlp("abc")),
    ("nanojax.models.svm", lambda: nj.models.svm(None)),
    ("nanojax.random.randint", lambda: nj.random.randint(nj.random.key(0), (2,), "a", 3)),
    ("nanojax.numpy.stack", lambda: jnp.stack("abc")),
    ("nanojax.numpy.concatenate", lambda: jnp.concatenate(3.0)),
]


@pytest.mark.parametrize("name,call", SETTINGS, ids=[c[0] for c in SETTINGS])
def test_optimizer_model_and_sampler_settings_refuse_non_numbers(name, call):
    with pytest.raises(TypeError) as info:
        call()
    assert str(info.value).startswith(name), str(info.value)


@pytest.mark.parametrize("run", [
    lambda f: nj.vmap(f)(np.ones(3)), lambda f: nj.vjp(f, 1.0), lambda f: nj.jit(f)(1.0),
    lambda f: nj.grad(f)(1.0), lambda f: nj.jacrev(f)(1.0), lambda f: nj.jacfwd(f)(1.0),
    lambda f: nj.jvp(f, (1.0,), (1.0,)), lambda f: nj.make_jaxpr(f)(1.0),
], ids=["vmap", "vjp", "jit", "grad", "jacrev", "jacfwd", "jvp", "make_jaxpr"])
@pytest.mark.parametrize("result", ["a", object()], ids=["str", "object"])
def test_functions_returning_non_arrays_are_refused_by_every_transformation(run, result):
    with pytest.raises(TypeError) as info:
        run(lambda x: result)
    assert str(info.value).startswith("nanojax."), str(info.value)


# ----- 11. Losses with masked (-inf) and huge logits ------------------------------------------

MASKED = np.array([[0.5, -np.inf, 1.0]])


def test_softmax_cross_entropy_with_a_masked_logit_is_optaxs_value():
    np.testing.assert_allclose(losses.softmax_cross_entropy(MASKED, np.array([0])),
                               [np.log(np.exp(0.5) + np.exp(1.0)) - 0.5])
    grad = nj.grad(lambda s: losses.softmax_cross_entropy(s, np.array([0]))[0])(MASKED)
    p = np.exp([0.5, 1.0]) / np.exp([0.5, 1.0]).sum()
    np.testing.assert_allclose(grad, [[p[0] - 1.0, 0.0, p[1]]])


def test_softmax_cross_entropy_of_huge_logits_is_finite():
    with np.errstate(over="ignore"):
        out = losses.softmax_cross_entropy(np.array([[1e308, -1e308], [-1e308, 1e308]]),
                                           np.array([0, 0]))
    np.testing.assert_array_equal(out, [0.0, np.inf])
    assert not np.signbit(out[0])


@pytest.mark.parametrize("how", ["eager", "jit"])
def test_multiclass_hinge_with_a_masked_logit_has_its_value_and_gradient(how):
    loss = lambda s: losses.multiclass_hinge(s, np.array([0]))[0]     # noqa: E731
    run = (lambda f: f) if how == "eager" else nj.jit
    assert run(loss)(MASKED) == 1.5
    np.testing.assert_array_equal(run(nj.grad(loss))(MASKED), [[-1.0, 0.0, 1.0]])


def test_losses_never_multiply_inf_by_zero():
    # Under a NaN-raising error state an inf * 0 anywhere would raise.
    with np.errstate(invalid="raise"):
        nj.grad(lambda s: jnp.sum(losses.softmax_cross_entropy(s, np.array([0]))))(MASKED)
        nj.grad(lambda s: jnp.sum(losses.multiclass_hinge(s, np.array([0]))))(MASKED)


# ----- 12. Every array a transformation returns is its own memory --------------------------

ALIASING = [
    ("x*1", lambda x: x * 1.0), ("identity", lambda x: x), ("x+0", lambda x: x + 0.0),
    ("reshape", lambda x: x.reshape(4)), ("T", lambda x: x.T), ("slice", lambda x: x[0]),
    ("ravel", jnp.ravel), ("astype", lambda x: x.astype(np.float64)),
    ("stop_gradient", nj.stop_gradient), ("asarray", jnp.asarray),
    ("where", lambda x: jnp.where(True, x, 0.0)), ("squeeze", lambda x: x[None][0]),
    ("broadcast", lambda x: jnp.broadcast_to(x[0], (2, 2))),
    ("y-and-yT", lambda x: (x * 2.0, (x * 2.0).T)), ("x-and-x", lambda x: (x, x)),
    ("x-and-xT", lambda x: (x, x.T)), ("pytree", lambda x: {"a": x, "b": [x[0]]}),
    ("sum-no-axes", lambda x: jnp.sum(x, axis=())),
]

TRANSFORMS = {
    "jit": lambda f: nj.jit(f),
    "vmap": lambda f: lambda x: nj.vmap(f)(x[None]),      # a view of x: still x's memory
    "jvp-primal": lambda f: lambda x: nj.jvp(f, (x,), (np.ones_like(x),))[0],
    "jvp-tangent": lambda f: lambda x: nj.jvp(f, (np.ones_like(x),), (x,))[1],
    "vjp-primal": lambda f: lambda x: nj.vjp(f, x)[0],
}


def _arrays(tree):
    return [leaf for leaf in nj.tree_util.tree_leaves(tree) if isinstance(leaf, np.ndarray)]


@pytest.mark.parametrize("name,f", ALIASING, ids=[c[0] for c in ALIASING])
@pytest.mark.parametrize("transform", list(TRANSFORMS))
def test_outputs_never_share_memory_with_inputs_or_each_other(name, f, transform):
    x = np.arange(4.0).reshape(2, 2)
    before = x.copy()
    outs = _arrays(TRANSFORMS[transform](f)(x))
    for o in outs:
        assert o.flags.writeable
        o[...] = -7.0
    np.testing.assert_array_equal(x, before)
    for i, a in enumerate(outs):
        for b in outs[i + 1:]:
            assert not np.shares_memory(a, b)


@pytest.mark.parametrize("pull", ["vjp", "grad-sum", "grad-custom"])
def test_cotangents_never_share_memory_with_their_seeds_or_each_other(pull):
    x, y = np.ones(3), np.ones(3)
    if pull == "vjp":
        ct = np.arange(3.0)
        outs = nj.vjp(lambda a, b: a + b, x, y)[1](ct)
        assert not np.shares_memory(outs[0], ct)
    elif pull == "grad-sum":
        outs = nj.grad(lambda a, b: jnp.sum(a + b), argnums=(0, 1))(x, y)
    else:
        @nj.custom_vjp
        def f(a):
            return a * 2.0
        f.defvjp(lambda a: (a * 2.0, a), lambda res, g: (res,))    # bwd returns an input
        outs = (nj.grad(lambda a: jnp.sum(f(a)))(x),)
        assert not np.shares_memory(outs[0], x)
    for i, a in enumerate(outs):
        for b in outs[i + 1:]:
            assert not np.shares_memory(a, b)


def test_jit_copies_nothing_when_no_output_can_alias():
    src = nj.jit(lambda x, y: (x * y + 1.0, jnp.tanh(x))).lower(np.ones(3), np.ones(3)).as_text()
    assert "_copy" not in src and "_own" not in src
    src = nj.jit(lambda x: (x, x * 2.0)).lower(np.ones(3)).as_text()
    assert src.count("_copy") == 1


# ----- 13. The builtins that nanojax.numpy shadows ---------------------------------------------

def test_floor_divide_and_remainder_work_on_traced_values():
    np.testing.assert_allclose(nj.grad(lambda x: x % 2.0)(3.5), 1.0)
    np.testing.assert_allclose(nj.grad(lambda y: 3.5 % y, argnums=0)(2.0), -1.0)
    assert nj.jit(lambda x: x // 2.0)(3.5) == 1.0
    np.testing.assert_array_equal(nj.jit(lambda x: divmod(x, 3))(np.arange(7)),
                                  np.divmod(np.arange(7), 3))


@pytest.mark.parametrize("x,y", [(1.0, 0.1), (-7.5, 2.0), (7.5, -2.0), (5.0, 0.0), (-0.0, 3.0)])
def test_floor_divide_and_remainder_are_numpys_to_the_bit(x, y):
    with np.errstate(all="ignore"):
        for fn, ref in [(jnp.floor_divide, np.floor_divide), (jnp.remainder, np.remainder)]:
            want = ref(x, y)
            for got in (nj.jit(fn)(x, y), nj.jit(fn)(np.array([x]), y)[0]):
                assert np.array_equal(got, want, equal_nan=True)
                assert np.signbit(got) == np.signbit(want)


def _shadowing_names(tree: ast.Module) -> set[str]:
    """Builtins that a module redefines at its top level (jnp.sum, jnp.round, ...)."""
    import builtins
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                for leaf in ast.walk(target):
                    if isinstance(leaf, ast.Name):
                        names.add(leaf.id)
    return names & set(dir(builtins))


@pytest.mark.parametrize("path", sorted(SRC.rglob("*.py")), ids=lambda p: p.name)
def test_no_module_calls_a_builtin_it_shadows_by_the_bare_name(path):
    # nanojax.numpy defines sum, max, abs, round, all...: inside it a bare
    # `all(...)` is jnp.all, not Python's (floor_divide once crashed on that).
    # Function bodies must write builtins.all for Python's and _all, amax,
    # absolute... for ours, so neither can be mistaken for the other.
    tree = ast.parse(path.read_text())
    shadowed = _shadowing_names(tree)
    if path.name == "lax.py":      # its elementwise functions (max, min, abs, pow) are made
        shadowed |= set(nj.lax.__all__) & set(dir(builtins))      # at import, not written
    offenders = [f"{fn.name}:{node.lineno} {node.id}"
                 for fn in ast.walk(tree) if isinstance(fn, ast.FunctionDef)
                 for node in ast.walk(fn)
                 if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
                 and node.id in shadowed]
    assert not offenders, offenders


# ----- 14. Batched advanced indexing -----------------------------------------------------------

ADVANCED = [
    ("slice-then-array", lambda e: e[:, np.array([1, 0])]),
    ("slice-array-int", lambda e: e[:, np.array([[1, 0], [2, 2]]), 1]),
    ("none-slice-array", lambda e: e[None, :, np.array([1, 0])]),
    ("int-then-array", lambda e: e[0, np.array([1, 0])]),
    ("ellipsis-array", lambda e: e[..., np.array([1, 0])]),
    ("slice-array-slice", lambda e: e[:, np.array([2, 0]), :]),
    ("at-set", lambda e: jnp.at(e)[:, np.array([1, 0])].set(0.0)),
    ("at-add", lambda e: jnp.at(e)[:, np.array([1, 0])].add(np.arange(8.0).reshape(2, 2, 2))),
]


@pytest.mark.parametrize("name,f", ADVANCED, ids=[c[0] for c in ADVANCED])
@pytest.mark.parametrize("axis", [0, 2])
def test_vmap_of_advanced_indexing_equals_a_loop(name, f, axis):
    x = np.random.default_rng(0).normal(size=(2, 2, 3, 2))
    want = np.stack([f(e) for e in x])
    got = nj.vmap(f, in_axes=axis)(np.moveaxis(x, 0, axis))
    np.testing.assert_array_equal(got, want)


def test_jacobians_of_advanced_indexing_have_jax_shapes():
    f = lambda e: e[:, np.array([1, 0])]                                 # noqa: E731
    x = np.ones((2, 3, 2))
    assert nj.jacrev(f)(x).shape == nj.jacfwd(f)(x).shape == (2, 2, 2, 2, 3, 2)
    assert nj.hessian(lambda e: jnp.sum(f(e) ** 3))(x).shape == (2, 3, 2, 2, 3, 2)
    np.testing.assert_array_equal(nj.jacrev(f)(x), nj.jacfwd(f)(x))


# ----- 15. Generated code never depends on a value's repr ---------------------------------------

def test_jit_of_grad_of_prod_compiles():
    x = np.arange(1.0, 7.0).reshape(2, 3)
    f = nj.grad(lambda x: jnp.sum(jnp.prod(x, axis=0)))
    np.testing.assert_array_equal(nj.jit(f)(x), f(x))


@pytest.mark.parametrize("f", [
    lambda x: jnp.transpose(x, (np.int64(1), np.int64(0))),
    lambda x: jnp.sum(x, axis=np.int64(1)),
    lambda x: jnp.reshape(x, (np.int32(3), np.int64(2))),
    lambda x: x ** np.int64(3),
    lambda x: x * np.float32(2.5),
], ids=["transpose", "sum", "reshape", "power", "f32-literal"])
def test_numpy_scalars_in_parameters_compile_and_match_eager(f):
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(nj.jit(f)(x), f(x))
    assert "np.int" not in nj.jit(f).lower(x).as_text()


# ----- 16. Every transformation calls the user's function once ---------------------------------

@pytest.mark.parametrize("transform", [
    lambda f: nj.jacfwd(f)(1.5), lambda f: nj.jacrev(f)(1.5), lambda f: nj.grad(f)(1.5),
    lambda f: nj.hessian(f)(1.5), lambda f: nj.vmap(f)(np.ones(2)),
    lambda f: nj.jvp(f, (1.5,), (1.0,)), lambda f: nj.value_and_grad(f)(1.5),
    lambda f: nj.jit(f)(1.5),
], ids=["jacfwd", "jacrev", "grad", "hessian", "vmap", "jvp", "value_and_grad", "jit"])
def test_the_users_function_runs_once_and_only_on_traced_values(transform):
    seen = []

    def f(x):
        seen.append(type(x).__name__)
        return (x * x).sum()
    transform(f)
    assert len(seen) == 1, seen
    assert seen[0].endswith("Tracer"), seen


# ----- 18. A primitive without a rule names itself ------------------------------------------------

def test_a_primitive_without_an_abstract_eval_rule_names_itself_under_jit():
    from nanojax.core import Primitive
    p = Primitive("my_gate", lambda x: x * 2.0, None)
    with pytest.raises(NotImplementedError, match="my_gate"):
        nj.jit(lambda x: p.bind(x))(1.0)


def test_a_primitive_without_a_vjp_rule_raises_not_implemented_naming_it():
    from nanojax.core import Primitive
    from nanojax.primitives import elementwise_aval
    p = Primitive("my_gate", lambda x: x * 2.0, None)
    p.abstract_eval = lambda a: elementwise_aval(p, a)
    with pytest.raises(NotImplementedError, match="my_gate") as info:
        nj.grad(lambda x: p.bind(x))(1.0)
    assert "reverse-mode" in str(info.value)
    with pytest.raises(NotImplementedError, match="my_gate"):
        nj.jvp(lambda x: p.bind(x), (1.0,), (1.0,))
    with pytest.raises(NotImplementedError, match="my_gate"):
        nj.vmap(lambda x: p.bind(x))(np.ones(2))


# ----- 19. Every ndarray method and operator with a meaning works on a tracer ---------------------

METHODS = [
    ("var", lambda x: x.var()), ("var-axis", lambda x: x.var(axis=0, ddof=1)),
    ("std", lambda x: x.std()), ("ptp", lambda x: jnp.ptp(x, axis=1)),
    ("round", lambda x: x.round(1)), ("round-builtin", lambda x: round(x[0, 1]) + x),
    ("swapaxes", lambda x: x.swapaxes(0, 1)), ("mT", lambda x: x.mT),
    ("copy", lambda x: x.copy()), ("conj", lambda x: x.conj()), ("real", lambda x: x.real),
    ("imag", lambda x: x.imag), ("cumsum", lambda x: x.cumsum(axis=1)),
    ("concatenate-None", lambda x: jnp.concatenate([x, x], axis=None)),
    ("and", lambda x: (x > 0) & (x < 2)), ("or", lambda x: (x > 0) | (x < -1)),
    ("xor", lambda x: (x > 0) ^ (x < 2)), ("invert", lambda x: ~(x > 0)),
    ("int-and", lambda x: x.astype(np.int64) & 3), ("int-rand", lambda x: 6 & x.astype(int)),
    ("lshift", lambda x: x.astype(np.int64) << 2), ("rshift", lambda x: 64 >> x.astype(int)),
    ("divmod", lambda x: divmod(x, 2.0)), ("rdivmod", lambda x: divmod(7.0, x + 5.0)),
    ("floordiv", lambda x: x // 0.3), ("mod", lambda x: x % 0.3),
    ("ceil", lambda x: jnp.ceil(x)), ("np.ceil", lambda x: np.ceil(x)),
    ("np.round", lambda x: np.round(x, 1)), ("np.bitwise_and", lambda x: np.bitwise_and(
        x.astype(int), 5)),
    ("take", lambda x: x.take(np.array([2, 0, 2]), axis=1)), ("take-flat", lambda x: x.take(4)),
    ("diagonal", lambda x: x.diagonal()), ("diagonal-offset", lambda x: x.diagonal(1)),
    ("diagonal-negative", lambda x: jnp.diagonal(x.T, -1)), ("trace", lambda x: x.trace()),
    ("repeat", lambda x: x.repeat(2, axis=0)), ("repeat-counts", lambda x: x.repeat(
        np.array([1, 0, 2]), axis=1)), ("repeat-flat", lambda x: jnp.repeat(x, 2)),
    ("np.trace", lambda x: np.trace(x, 1)),
]


@pytest.mark.parametrize("name,f", METHODS, ids=[c[0] for c in METHODS])
def test_ndarray_methods_and_operators_work_on_traced_values(name, f):
    x = np.array([[0.25, 1.5, -2.0], [3.0, 0.0, 1.0]])
    want = f(x)
    for got in (nj.jit(f)(x), nj.vmap(f)(x[None])[0] if not isinstance(want, tuple) else
                tuple(v[0] for v in nj.vmap(f)(x[None]))):
        for g, w in zip(got if isinstance(want, tuple) else (got,),
                        want if isinstance(want, tuple) else (want,)):
            assert np.asarray(g).dtype == np.asarray(w).dtype
            np.testing.assert_array_equal(g, w)


def test_in_place_and_unsupported_methods_say_so_by_name():
    with pytest.raises(TypeError, match="in place"):
        nj.jit(lambda x: x.fill(0.0))(np.ones(2))
    with pytest.raises(NotImplementedError, match=r"ndarray.tobytes"):
        nj.jit(lambda x: x.tobytes())(np.ones(2))
    with pytest.raises(AttributeError, match=r"ndarray.strides"):
        nj.jit(lambda x: x.strides)(np.ones(2))


# ----- 20. Every public function says what was wrong, and its name starts the sentence ---------

UNCLEAR = [
    ("nanojax.grad", TypeError, lambda: nj.grad(lambda x: "a")(1.0)),
    ("nanojax.jacrev", TypeError, lambda: nj.jacrev(lambda x: "a")(1.0)),
    ("nanojax.jacfwd", TypeError, lambda: nj.jacfwd(lambda x: "a")(1.0)),
    ("nanojax.numpy.zeros_like", TypeError, lambda: jnp.zeros_like("a")),
    ("nanojax.numpy.full_like", TypeError, lambda: jnp.full_like("a", 1)),
    ("nanojax.jacrev", TypeError, lambda: nj.jacrev(3.0)),
    ("nanojax.jacfwd", TypeError, lambda: nj.jacfwd(3.0)),
    ("nanojax.hessian", TypeError, lambda: nj.hessian(3.0)),
    ("nanojax.numpy.sum", TypeError, lambda: jnp.sum(np.ones(3), axis="a")),
    ("nanojax.numpy.sum", TypeError, lambda: nj.jit(lambda x: jnp.sum(x, axis="a"))(np.ones(3))),
    ("nanojax.numpy.argmax", TypeError, lambda: jnp.argmax(np.ones((2, 2)), axis=(0, 1))),
    ("nanojax.numpy.argmax", TypeError,
     lambda: nj.jit(lambda x: jnp.argmax(x, axis=(0, 1)))(np.ones((2, 2)))),
    ("nanojax.numpy.einsum", ValueError, lambda: jnp.einsum("ij->k", np.ones((2, 2)))),
    ("nanojax.numpy.einsum", ValueError,
     lambda: nj.jit(lambda x: jnp.einsum("ij->k", x))(np.ones((2, 2)))),
    ("nanojax.vjp", TypeError, lambda: nj.vjp(lambda x: x, 1.0)[1]("a")),
    ("nanojax.vmap", ValueError, lambda: nj.vmap(lambda x: x, in_axes=None, axis_size=-1)),
    ("nanojax.vmap", TypeError, lambda: nj.vmap(lambda x: x, in_axes="a")),
    ("nanojax.numpy.reshape", TypeError, lambda: nj.jit(lambda x: x.reshape("a"))(np.ones(2))),
]


@pytest.mark.parametrize("prefix,error,call", UNCLEAR,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(UNCLEAR)])
def test_errors_start_with_the_public_name(prefix, error, call):
    with pytest.raises(error) as info:
        call()
    assert str(info.value).startswith(prefix), str(info.value)


def test_cyclic_pytrees_are_refused_with_a_sentence():
    cycle: list = []
    cycle.append(cycle)
    with pytest.raises(ValueError, match=r"nanojax.tree_util.tree_flatten.*itself"):
        nj.grad(lambda x: 1.0)(cycle)
    nested: dict = {}
    nested["self"] = nested
    with pytest.raises(ValueError, match="itself"):
        nj.tree_util.tree_leaves(nested)


@pytest.mark.parametrize("value", [2 ** 62, -(2 ** 62), 2 ** 40, 3])
def test_jit_integer_arithmetic_wraps_as_numpy_does(value):
    f = lambda x: x * x + x                                            # noqa: E731
    with np.errstate(over="ignore"):
        want = jnp.add(jnp.multiply(value, value), value)
        got = nj.jit(f)(value)
    assert got == want and type(got) is type(want)


def test_jit_boolean_arithmetic_is_numpys():
    # NumPy adds booleans as a logical or; Python's True + True is 2.
    f = lambda x, y: jnp.equal((x > 0) + (y > 0), x > 0)               # noqa: E731
    one = np.float64(1.0)
    assert f(one, one) == np.True_
    assert nj.jit(f)(one, one) == np.True_ and nj.jit(f)(1.0, 1.0) == np.True_


# ----- 21. Eager and jit agree to the bit (the table is in test_special_values.py) -----------

_R = np.random.default_rng(3)
BITWISE_EAGER_VS_JIT = [
    ("dot-3d", jnp.dot, (_R.normal(size=(3, 4, 50)), _R.normal(size=(50, 6)))),
    ("dot-2d", jnp.dot, (_R.normal(size=(40, 50)), _R.normal(size=(50, 30)))),
    ("einsum-matmul", lambda a, b: jnp.einsum("ij,jk->ik", a, b),
     (_R.normal(size=(40, 50)), _R.normal(size=(50, 30)))),
    ("einsum-inner", lambda a: jnp.einsum("i,i->", a, a), (_R.normal(size=500),)),
    ("einsum-sum", lambda a: jnp.einsum("ijk->", a), (_R.normal(size=(3, 4, 50)),)),
    ("clip-at-zero", lambda a: jnp.clip(a, 0.0, 0.5),
     (np.array([-0.0, 0.0, -1.0, np.nan, 0.7, 0.5]),)),
    ("clip-nan-bound", lambda a: jnp.clip(a, np.nan, 0.5), (np.array([-1.0, 0.2]),)),
    ("x+0-of-negative-zero", lambda a: a * 0.0 + 0.0, (np.array([-1.0, 2.0]),)),
    ("norm", jnp.linalg.norm, (_R.normal(size=300),)),
    ("var", lambda a: jnp.var(a, axis=0, ddof=1), (_R.normal(size=(30, 4)),)),
    ("dot-length-1-zero", jnp.dot, (np.array([-0.0]), np.array([0.0]))),
    ("dot-by-scalar", jnp.dot, (np.array([0.0, 2.0]), -1.5)),
    ("matmul-nd-vector", jnp.matmul, (_R.normal(size=(4, 1, 2)), _R.normal(size=2))),
    ("matmul-vector-nd", jnp.matmul, (_R.normal(size=3), _R.normal(size=(2, 3, 4)))),
    ("sum-0d-negative-zero", jnp.sum, (np.array(-0.0),)),
    ("sum-no-axes", lambda a: jnp.sum(a, axis=()), (np.array([-0.0, 1.0]),)),
    ("clip-upper-only", lambda a: jnp.clip(a, None, 0.0), (np.array([-0.0, 0.0, 2.0]),)),
    ("clip-lower-only", lambda a: jnp.clip(a, 0.0, None), (np.array([-0.0, 0.0, -2.0]),)),
    ("norm-9", jnp.linalg.norm, (np.array([-1.3, -0.6, 0.0, -2.3, -0.2, -1.2, -0.7, -0.5,
                                           -0.3]),)),
    ("norm-matrix", jnp.linalg.norm, (np.array([[-1.5, 0.9], [1.7, -1.55]]),)),
    ("ravel-of-a-strided-view-into-dot", lambda a: jnp.dot(jnp.ravel(a[:, 1]), jnp.ravel(a[:, 1])),
     (_R.normal(size=(9, 2)),)),
    ("norm-of-a-strided-view", lambda a: jnp.linalg.norm(a[None, :, None, 1, None]),
     (_R.normal(size=(4, 2)),)),
]


@pytest.mark.parametrize("name,f,args", BITWISE_EAGER_VS_JIT,
                         ids=[c[0] for c in BITWISE_EAGER_VS_JIT])
def test_eager_and_jit_agree_to_the_bit(name, f, args):
    with np.errstate(all="ignore"):
        eager, jitted = f(*args), nj.jit(f)(*args)
    assert np.asarray(eager).tobytes() == np.asarray(jitted).tobytes(), (eager, jitted)


DOT_SHAPES = [((4, 1, 2), (2,)), ((2,), (4, 2, 3)), ((3, 4, 5), (5,)), ((3, 4, 5), (5, 6)),
              ((2, 3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 5)), ((6, 3, 5), (4, 5, 2)),
              ((2, 3), (4, 3, 5)), ((5,), (5,)), ((3, 5), (5, 2))]


@pytest.mark.parametrize("sa,sb", DOT_SHAPES, ids=[f"{a}@{b}" for a, b in DOT_SHAPES])
@pytest.mark.parametrize("numpy_fn,jnp_fn", [(np.matmul, jnp.matmul), (np.dot, jnp.dot)],
                         ids=["matmul", "dot"])
def test_traced_dot_and_matmul_are_numpys_to_the_bit(sa, sb, numpy_fn, jnp_fn):
    # Traced, they call np.dot and np.matmul on NumPy's own layouts, so a @ b
    # under jit gives what a @ b gives eagerly.
    rng = np.random.default_rng(7)
    for _ in range(10):
        a, b = rng.normal(size=sa), rng.normal(size=sb)
        try:
            want = numpy_fn(a, b)
        except ValueError:
            return
        for got in (jnp_fn(a, b), nj.jit(jnp_fn)(a, b), nj.jit(numpy_fn)(a, b)):
            assert np.asarray(got).tobytes() == np.asarray(want).tobytes()
            assert np.shape(got) == np.shape(want)


@pytest.mark.parametrize("pick", [jnp.maximum, jnp.minimum])
def test_the_pull_of_maximum_next_to_a_nan_is_zero_on_scalars_and_arrays(pick):
    f = lambda y: jnp.sum(pick(np.nan, y))                            # noqa: E731
    assert nj.grad(f)(1.0) == 0.0
    assert nj.jit(nj.grad(f))(1.0) == 0.0
    np.testing.assert_array_equal(nj.grad(f)(np.ones(2)), [0.0, 0.0])


def test_constant_results_of_traced_scalars_keep_array_methods():
    # JAX would give traced arrays; a NumPy scalar at least has their methods.
    np.testing.assert_array_equal(nj.jacfwd(lambda x: (x ** 0).reshape(1))(2.0), [0.0])
    np.testing.assert_array_equal(nj.jacfwd(lambda x: jnp.floor(x).reshape(1))(2.5), [0.0])
    assert nj.grad(lambda x: x * (x > 0).astype(float))(2.0) == 1.0


def test_numerical_grad_gives_a_0d_array_input_back_as_an_array():
    assert nj.numerical_grad(lambda x: x.dot(x))(np.array(2.0)) == pytest.approx(4.0)


@pytest.mark.parametrize("bounds", [(0.0, 0.5), (None, 0.0), (0.0, None), (-0.0, 0.0)])
def test_clip_on_a_traced_value_is_np_clip_to_the_sign_of_zero(bounds):
    x = np.array([-0.0, 0.0, -1.0, np.nan, 0.7, 0.5])
    want = np.clip(x, *bounds)
    got = nj.jit(lambda a: jnp.clip(a, *bounds))(x)
    assert np.array_equal(got, want, equal_nan=True)
    assert np.array_equal(np.signbit(got), np.signbit(want))


# ----- 22. Staging and simplification are linear in the jaxpr's size ------------------------------

def _calls_to_compile(n: int) -> int:
    constants = [np.full(3, float(i)) for i in range(n)]

    def f(x):
        for c in constants:
            x = x + c
        return x
    count = 0

    def profile(frame, event, arg):
        nonlocal count
        count += event == "call"
    sys.setprofile(profile)
    try:
        nj.jit(f)(np.ones(3))
    finally:
        sys.setprofile(None)
    return count


def test_compiling_many_closed_over_constants_is_linear():
    # Python calls, not seconds: deterministic. A quadratic pass shows up as a
    # ratio near 16 for 4x the constants; a linear one as about 4.
    small, large = _calls_to_compile(200), _calls_to_compile(800)
    assert large / small < 5.0, (small, large)
