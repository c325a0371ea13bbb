"""Bad inputs give clear errors that say what went wrong and what to do.

Each test pins the exception type and the words a user needs in the message
(the offending shape, type or function, and the way out), never a raw NumPy
traceback.
"""

import re

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import errors

X = np.array([0.5, -1.0, 2.0])


# ----- grad of a non-scalar output ---------------------------------------------------

@pytest.mark.parametrize("f,shape", [
    (lambda x: x * 2.0, "(3,)"),
    (lambda x: jnp.outer(x, x), "(3, 3)"),
    (lambda x: jnp.sum(x, keepdims=True), "(1,)"),
], ids=["vector", "matrix", "keepdims"])
def test_grad_of_non_scalar_output_names_the_shape_and_jacrev(f, shape):
    with pytest.raises(TypeError, match="scalar") as info:
        nj.grad(f)(X)
    assert shape in str(info.value)
    assert "jacrev" in str(info.value)


def test_grad_of_tuple_output_is_a_scalar_output_error():
    with pytest.raises(TypeError, match=r"scalar.*jacrev"):
        nj.grad(lambda x: (jnp.sum(x), jnp.sum(x)))(X)


def test_value_and_grad_of_non_scalar_output_raises_too():
    with pytest.raises(TypeError, match=r"\(3,\).*jacrev"):
        nj.value_and_grad(lambda x: x * 2.0)(X)


def test_grad_of_integer_output_asks_for_floats():
    with pytest.raises(TypeError, match="float"):
        nj.grad(lambda x: jnp.argmax(x))(X)


# ----- integer and boolean inputs to grad ---------------------------------------------

@pytest.mark.parametrize("arg", [
    3, True, np.int64(3), np.arange(3), np.array([True, False]), {"w": np.arange(2)},
    [1.0, 2],
], ids=["int", "bool", "np_int", "int_array", "bool_array", "int_in_dict", "int_in_list"])
def test_grad_with_integer_or_boolean_input_says_to_pass_floats(arg):
    with pytest.raises(TypeError, match=r"(?i)pass floats") as info:
        nj.grad(lambda a: 1.0)(arg)
    assert re.search(r"int|bool", str(info.value))


def test_integer_argument_outside_argnums_is_fine():
    assert nj.grad(lambda x, n: x ** n)(2.0, 3) == 12.0


@pytest.mark.parametrize("transform", [
    lambda f, a: nj.value_and_grad(f)(a),
    lambda f, a: nj.grad(f, argnums=(0,))(a),
    lambda f, a: nj.numerical_grad(f)(a),
], ids=["value_and_grad", "grad_tuple_argnums", "numerical_grad"])
def test_other_gradient_entry_points_reject_integer_inputs(transform):
    with pytest.raises(TypeError, match=r"(?i)float"):
        transform(lambda a: a * 1.0, 3)


# ----- non-array values as array inputs --------------------------------------------------

class Opaque:
    pass


BAD_VALUES = [("str", "abc"), ("None", None), ("object", Opaque()), ("dict", {"a": 1.0}),
              ("bytes", b"x")]

EAGER_CALLS = [
    ("exp", lambda b: jnp.exp(b)), ("tanh", lambda b: jnp.tanh(b)),
    ("square", lambda b: jnp.square(b)), ("add", lambda b: jnp.add(X, b)),
    ("maximum", lambda b: jnp.maximum(b, 0.0)), ("power", lambda b: jnp.power(X, b)),
    ("sum", lambda b: jnp.sum(b)), ("max", lambda b: jnp.max(b)),
    ("mean", lambda b: jnp.mean(b)), ("var", lambda b: jnp.var(b)),
    ("argmax", lambda b: jnp.argmax(b)), ("dot", lambda b: jnp.dot(X, b)),
    ("matmul", lambda b: jnp.matmul(X, b)), ("outer", lambda b: jnp.outer(X, b)),
    ("einsum", lambda b: jnp.einsum("i,i->", X, b)),
    ("reshape", lambda b: jnp.reshape(b, (1,))), ("transpose", lambda b: jnp.transpose(b)),
    ("expand_dims", lambda b: jnp.expand_dims(b, 0)),
    ("broadcast_to", lambda b: jnp.broadcast_to(b, (2,))),
    ("concatenate", lambda b: jnp.concatenate([X, b])), ("stack", lambda b: jnp.stack([X, b])),
    ("where", lambda b: jnp.where(X > 0, b, X)), ("clip", lambda b: jnp.clip(b, 0.0, 1.0)),
    ("asarray", lambda b: jnp.asarray(b)), ("array", lambda b: jnp.array(b)),
]


def _type_named(info, value):
    name = type(value).__name__
    return name in str(info.value) or (value is None and "None" in str(info.value))


def _cases(calls):
    # where(c, None, y) is the form with x missing: tested on its own below.
    return [pytest.param(call, bad, id=f"{fn_name}-{bad_name}")
            for fn_name, call in calls for bad_name, bad in BAD_VALUES
            if not (fn_name == "where" and bad is None)]


@pytest.mark.parametrize("call,bad", _cases(EAGER_CALLS))
def test_eager_jnp_call_with_non_array_names_the_type(call, bad):
    with pytest.raises(TypeError) as info:
        call(bad)
    assert _type_named(info, bad), str(info.value)


def test_where_with_only_one_of_x_and_y_says_so():
    with pytest.raises(TypeError, match="both x and y"):
        jnp.where(X > 0, None, X)
    with pytest.raises(TypeError, match="both x and y"):
        nj.grad(lambda t: jnp.sum(jnp.where(t > 0, t, None)))(X)


TRACED_CALLS = [
    ("add", lambda t, b: jnp.add(t, b)), ("operator_mul", lambda t, b: t * b),
    ("operator_rmul", lambda t, b: b * t), ("operator_gt", lambda t, b: t > b),
    ("maximum", lambda t, b: jnp.maximum(t, b)), ("power", lambda t, b: jnp.power(t, b)),
    ("dot", lambda t, b: jnp.dot(t, b)), ("matmul", lambda t, b: jnp.matmul(t, b)),
    ("operator_matmul", lambda t, b: t @ b), ("outer", lambda t, b: jnp.outer(t, b)),
    ("einsum", lambda t, b: jnp.einsum("i,i->", t, b)),
    ("concatenate", lambda t, b: jnp.concatenate([t, b])),
    ("stack", lambda t, b: jnp.stack([t, b])), ("where", lambda t, b: jnp.where(t > 0, b, t)),
    ("at_set", lambda t, b: t.at[0].set(b)), ("at_add", lambda t, b: t.at[0].add(b)),
    ("np_add", lambda t, b: np.add(t, b)), ("np_dot", lambda t, b: np.dot(t, b)),
]


@pytest.mark.parametrize("call,bad", _cases(TRACED_CALLS))
def test_traced_jnp_call_with_non_array_names_the_type(call, bad):
    with pytest.raises(TypeError) as info:
        nj.grad(lambda t: jnp.sum(call(t, bad)))(X)
    assert _type_named(info, bad), str(info.value)


def test_traced_call_with_string_array_is_rejected():
    with pytest.raises(TypeError, match="numeric"):
        nj.grad(lambda t: jnp.sum(jnp.add(t, np.array(["a", "b", "c"]))))(X)


@pytest.mark.parametrize("arg,type_name", [
    ("abc", "str"), (Opaque(), "Opaque"), (b"x", "bytes"), ({"k": Opaque()}, "Opaque"),
], ids=["str", "object", "bytes", "object_in_dict"])
def test_grad_of_non_array_argument_names_the_type(arg, type_name):
    with pytest.raises(TypeError, match=type_name):
        nj.grad(lambda a: 1.0)(arg)


@pytest.mark.parametrize("transform", [
    lambda f: nj.vjp(f, "abc"),
    lambda f: nj.jvp(f, ("abc",), ("abc",)),
    lambda f: nj.make_jaxpr(f)("abc"),
], ids=["vjp", "jvp", "make_jaxpr"])
def test_other_transformations_reject_strings_naming_the_type(transform):
    with pytest.raises(TypeError, match="str"):
        transform(lambda a: a)


# ----- shape mismatches under make_jaxpr ------------------------------------------------

SHAPE_ERRORS = [
    ("add", lambda a, b: a + b, (3,), (4,)),
    ("mul", lambda a, b: a * b, (2, 3), (3, 2)),
    ("sub", lambda a, b: jnp.subtract(a, b), (2, 3), (2,)),
    ("max", lambda a, b: jnp.maximum(a, b), (5,), (2,)),
    ("dot", lambda a, b: jnp.dot(a, b), (2, 3), (4,)),
    ("matmul", lambda a, b: a @ b, (2, 3), (4, 2)),
    ("matmul", lambda a, b: jnp.matmul(a, b), (2, 2, 3), (3, 3, 2)),
    ("concatenate", lambda a, b: jnp.concatenate([a, b]), (2, 3), (2, 4)),
    ("stack", lambda a, b: jnp.stack([a, b]), (3,), (2,)),
    ("select_n", lambda a, b: jnp.where(a > 0, a, b), (3,), (2,)),
    ("einsum", lambda a, b: jnp.einsum("ij,jk->ik", a, b), (2, 3), (4, 2)),
    ("at", lambda a, b: a.at[0].set(b), (2,), (3,)),     # row 0 of a (2, 2) below
]


@pytest.mark.parametrize("prim,f,sa,sb", SHAPE_ERRORS,
                         ids=[f"{s[0]}-{s[2]}-{s[3]}" for s in SHAPE_ERRORS])
def test_shape_mismatch_under_make_jaxpr_names_the_operation_and_both_shapes(prim, f, sa, sb):
    a = np.ones((2,) + sa) if prim == "at" else np.ones(sa)
    with pytest.raises(ValueError) as info:
        nj.make_jaxpr(f)(a, np.ones(sb))
    msg = str(info.value)
    assert prim in msg, msg
    assert str(sa) in msg and str(sb) in msg, msg


@pytest.mark.parametrize("prim,f,shape", [
    ("reshape", lambda a: jnp.reshape(a, (4,)), (2, 3)),
    ("broadcast_to", lambda a: jnp.broadcast_to(a, (2, 4)), (3,)),
    ("squeeze", lambda a: jnp.squeeze(a, 0), (2, 3)),
], ids=["reshape", "broadcast_to", "squeeze"])
def test_single_operand_shape_errors_name_the_operation_and_shape(prim, f, shape):
    with pytest.raises(ValueError) as info:
        nj.make_jaxpr(f)(np.ones(shape))
    assert prim in str(info.value) and str(shape) in str(info.value)


def test_shape_mismatch_under_grad_is_the_same_clear_error():
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        nj.grad(lambda a: jnp.sum(a + np.ones(4)))(np.ones(3))


# ----- unsupported NumPy functions on tracers -----------------------------------------------

UNSUPPORTED = [
    ("fft", lambda x: np.fft.fft(x)),
    ("rfft", lambda x: np.fft.rfft(x)),
    ("isnat", lambda x: np.isnat(x)),
    ("real_if_close", lambda x: np.real_if_close(x)),
    ("ifft", lambda x: np.fft.ifft(x)),
    ("reduce", lambda x: np.add.reduce(x)),
    ("array2string", lambda x: np.array2string(x)),
]


@pytest.mark.parametrize("name,f", UNSUPPORTED, ids=[u[0] for u in UNSUPPORTED])
@pytest.mark.parametrize("transform", ["grad", "make_jaxpr"])
def test_unsupported_numpy_function_on_tracer_names_the_function(name, f, transform):
    with pytest.raises(TypeError, match="not supported") as info:
        if transform == "grad":
            nj.grad(lambda x: jnp.sum(f(x)))(X)
        else:
            nj.make_jaxpr(f)(X)
    assert name in str(info.value)


def test_unsupported_numpy_function_message_gives_its_module():
    with pytest.raises(TypeError, match=r"numpy\.fft\.fft"):
        nj.grad(lambda x: jnp.sum(np.fft.fft(x)))(X)
    with pytest.raises(TypeError, match=r"numpy\.fft\.ifft"):
        nj.grad(lambda x: jnp.sum(np.fft.ifft(x)))(X)


def test_unsupported_numpy_function_eagerly_is_just_numpy():
    np.testing.assert_array_equal(np.diff(X), [-1.5, 3.0])


# ----- tracers that escaped their transformation -------------------------------------------

def _leak_from(transform):
    leaked = []

    def f(x):
        leaked.append(x * 2.0)
        return jnp.sum(x)
    transform(f)(X)
    return leaked[0]


LEAKERS = [("grad", nj.grad), ("make_jaxpr", nj.make_jaxpr),
           ("vjp", lambda f: lambda x: nj.vjp(f, x)),
           ("jvp", lambda f: lambda x: nj.jvp(f, (x,), (x,)))]

USES = [
    ("operator", lambda t: t + 1.0), ("jnp", lambda t: jnp.sin(t)),
    ("numpy", lambda t: np.tanh(t)), ("reduction", lambda t: t.sum()),
    ("index", lambda t: t[0]), ("in_new_grad", lambda t: nj.grad(lambda y: jnp.sum(y * t))(X)),
]


@pytest.mark.parametrize("use_name,use", USES, ids=[u[0] for u in USES])
@pytest.mark.parametrize("leak_name,transform", LEAKERS, ids=[lk[0] for lk in LEAKERS])
def test_using_a_leaked_tracer_raises_unexpected_tracer_error(leak_name, transform,
                                                              use_name, use):
    t = _leak_from(transform)
    with pytest.raises(errors.UnexpectedTracerError, match=r"(?i)transformation has already ended"):
        use(t)


def test_unexpected_tracer_error_is_a_type_error_as_in_jax():
    assert issubclass(errors.UnexpectedTracerError, TypeError)


@pytest.mark.parametrize("conv", [bool, float, int], ids=lambda c: c.__name__)
def test_concrete_conversion_of_leaked_tracer_raises_unexpected_tracer_error(conv):
    leaked = []
    nj.grad(lambda x: (leaked.append(x * 2.0), x)[1])(1.5)
    with pytest.raises(errors.UnexpectedTracerError):
        conv(leaked[0])


# ----- concretization under make_jaxpr -------------------------------------------------------

def branchy(x):
    if x > 0:
        return x
    return -x


def loopy(x):
    while x < 10.0:
        x = x * 2.0
    return x


@pytest.mark.parametrize("f", [branchy, loopy, lambda x: x > 0 and x < 1,
                               lambda x: jnp.sum(x) if jnp.max(x) > 0 else x],
                         ids=["if", "while", "and", "if_on_reduction"])
def test_python_control_flow_under_make_jaxpr_raises_tracer_bool_conversion_error(f):
    with pytest.raises(errors.TracerBoolConversionError) as info:
        nj.make_jaxpr(f)(1.0)
    msg = str(info.value)
    assert "jnp.where" in msg and "static" in msg


def test_tracer_bool_conversion_error_hierarchy():
    assert issubclass(errors.TracerBoolConversionError, errors.ConcretizationTypeError)
    assert issubclass(errors.ConcretizationTypeError, TypeError)
    with pytest.raises(TypeError):          # catchable as a plain TypeError
        nj.make_jaxpr(branchy)(1.0)


@pytest.mark.parametrize("conv", [float, int, complex], ids=lambda c: c.__name__)
def test_scalar_conversion_under_make_jaxpr_raises_concretization_error(conv):
    with pytest.raises(errors.ConcretizationTypeError, match=conv.__name__) as info:
        nj.make_jaxpr(lambda x: conv(x))(1.0)
    assert not isinstance(info.value, errors.TracerBoolConversionError)
    assert "jnp.where" in str(info.value) and "static" in str(info.value)


def test_traced_value_as_python_index_under_make_jaxpr_raises_concretization_error():
    with pytest.raises(errors.ConcretizationTypeError):
        nj.make_jaxpr(lambda x, i: [1.0, 2.0][i] * x)(1.0, 1)


def test_control_flow_on_static_argument_is_fine():
    jx = nj.make_jaxpr(lambda x, n: x * 2.0 if n > 0 else x, static_argnums=1)(1.0, 1)
    assert [e.primitive.name for e in jx.jaxpr.eqns] == ["mul"]


# ----- numpy.asarray on a tracer ---------------------------------------------------------------

@pytest.mark.parametrize("conv", [np.asarray, np.array, lambda t: np.asarray(t, float)],
                         ids=["asarray", "array", "asarray_dtype"])
def test_numpy_asarray_of_tracer_under_grad_raises_type_error(conv):
    with pytest.raises(TypeError, match="traced value") as info:
        nj.grad(lambda x: jnp.sum(conv(x)))(X)
    assert "jnp" in str(info.value)


def test_numpy_asarray_of_tracer_under_make_jaxpr_raises_type_error():
    with pytest.raises(TypeError, match="traced value"):
        nj.make_jaxpr(lambda x: np.asarray(x))(X)


def test_item_assignment_on_tracer_points_to_at():
    def f(x):
        x[0] = 1.0
        return jnp.sum(x)
    with pytest.raises(TypeError, match=r"\.at\["):
        nj.grad(f)(X)


# ----- argnums and has_aux misuse ------------------------------------------------------------

@pytest.mark.parametrize("argnums", [2, -3, (0, 2), (5,)], ids=str)
def test_argnums_out_of_range_names_the_argument_count(argnums):
    with pytest.raises(TypeError, match="argnums") as info:
        nj.grad(lambda a, b: a * b, argnums=argnums)(1.0, 2.0)
    assert "2 positional" in str(info.value)


@pytest.mark.parametrize("argnums", ["a", (), 1.0, (0, "b")], ids=repr)
def test_argnums_of_wrong_type_is_a_type_error(argnums):
    with pytest.raises(TypeError, match="argnums"):
        nj.grad(lambda a, b: a * b, argnums=argnums)(1.0, 2.0)


@pytest.mark.parametrize("out", [
    lambda x: x * 2.0, lambda x: (x, x, x), lambda x: [x * 1.0, x], lambda x: (x,),
], ids=["single", "triple", "list", "one_tuple"])
@pytest.mark.parametrize("transform", [
    lambda f: nj.grad(f, has_aux=True)(1.0),
    lambda f: nj.value_and_grad(f, has_aux=True)(1.0),
    lambda f: nj.vjp(f, 1.0, has_aux=True),
], ids=["grad", "value_and_grad", "vjp"])
def test_has_aux_with_non_pair_output_says_to_return_a_pair(transform, out):
    with pytest.raises(TypeError, match=r"has_aux.*pair"):
        transform(out)


# ----- vjp / jvp structure and shape mismatches ------------------------------------------

def test_vjp_cotangent_of_wrong_shape_names_both_shapes():
    _, pull = nj.vjp(lambda a: a * 2.0, X)
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        pull(np.ones(2))


def test_vjp_cotangent_of_wrong_structure():
    _, pull = nj.vjp(lambda a: (a, a), X)
    with pytest.raises(ValueError, match="structure"):
        pull(np.ones(3))


def test_jvp_tangent_of_wrong_shape_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        nj.jvp(lambda a: a, (X,), (np.ones(2),))


def test_jvp_primals_must_be_a_tuple():
    with pytest.raises(TypeError, match="tuple"):
        nj.jvp(lambda a: a, X, X)


# ----- an error leaves nothing behind -----------------------------------------------------

@pytest.mark.parametrize("bad", [
    lambda: nj.make_jaxpr(branchy)(1.0),
    lambda: nj.grad(lambda x: x * np.ones(2))(1.0),
    lambda: nj.grad(lambda x: jnp.sum(np.fft.fft(x)))(X),
    lambda: nj.grad(lambda x: nj.grad(lambda y: y * "a")(x))(1.0),
], ids=["concretization", "nonscalar", "unsupported", "nested"])
def test_after_an_error_transformations_still_work(bad):
    from nanojax import core
    depth = len(core._state.stack)
    with pytest.raises(TypeError):
        bad()
    assert len(core._state.stack) == depth
    assert nj.grad(lambda x: x * x)(3.0) == 6.0
    assert str(nj.make_jaxpr(lambda x: -x)(1.0)) == \
        "{ lambda ; a:f64[]. let b:f64[] = neg a in (b,) }"


@pytest.mark.parametrize("name, call", [
    ("isnan", lambda: jnp.isnan("a")),
    ("logical_and", lambda: jnp.logical_and(None, True)),
    ("any", lambda: jnp.any("abc")),
    ("cumsum", lambda: jnp.cumsum(None)),
    ("linalg.norm", lambda: jnp.linalg.norm("ab")),
])
def test_value_tests_and_cumsum_refuse_non_arrays_eagerly(name, call):
    # NumPy would answer some of these quietly (any("abc") is True).
    with pytest.raises(TypeError, match=f"nanojax.numpy.{name}: expected an array"):
        call()


@pytest.mark.parametrize("call", [
    lambda: jnp.add(jnp.ones(3), jnp.ones(4)),
    lambda: nj.jit(lambda a, b: a * b)(jnp.ones(3), jnp.ones(4)),
    lambda: jnp.dot(jnp.ones((2, 3)), jnp.ones((4, 2))),
    lambda: jnp.matmul(jnp.ones((2, 3)), jnp.ones(4)),
    lambda: jnp.inner(jnp.ones(3), jnp.ones(2)),
    lambda: nj.vmap(jnp.dot, (None, 0))(jnp.ones((5, 784)), jnp.ones((10, 10))),
], ids=["add", "jit-multiply", "dot", "matmul", "inner", "vmap-dot"])
def test_shape_mismatches_are_type_errors_as_in_jax_and_value_errors_as_in_numpy(call):
    # JAX's tutorial catches TypeError around predict(params, batch) when the shapes
    # do not fit; NumPy code catches ValueError. Both must work.
    with pytest.raises(TypeError, match=r"nanojax\.numpy") as info:
        call()
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, nj.errors.ShapeMismatchError)
