"""Debugging that points at the user's line: NaN/inf checks, source lines, retraces."""

from __future__ import annotations

import re

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax.core import Primitive
from nanojax.tape import TapeTrace

HERE = "test_debugging.py"


def line_of(marker: str) -> int:
    """The line of this file holding ``marker`` (a comment at the end of a line)."""
    with open(__file__) as f:
        for k, text in enumerate(f, 1):
            if text.rstrip().endswith(f"# {marker}"):
                return k
    raise AssertionError(marker)


@pytest.fixture(autouse=True)
def checks_off():
    yield
    nj.config.update("jax_debug_nans", False)
    nj.config.update("jax_debug_infs", False)


def log_sum(x):
    y = jnp.log(x)  # LOG
    return jnp.sum(y)


def zero_times_sqrt(x):
    return 0.0 * jnp.sqrt(x)  # SQRT


# ----- NaN and inf checks ---------------------------------------------------------

def test_eager_nan_names_primitive_and_line():
    with nj.debug_nans(), pytest.raises(
            FloatingPointError,
            match=rf"invalid value \(nan\) encountered in log at {HERE}:{line_of('EAGER')}"):
        jnp.log(-np.ones(2))  # EAGER


def test_eager_nan_of_python_float():
    with nj.debug_nans(), pytest.raises(FloatingPointError, match="in sqrt"):
        jnp.sqrt(-1.0)


def test_config_flag_and_off_again():
    nj.config.update("jax_debug_nans", True)
    assert nj.config.jax_debug_nans is True
    with pytest.raises(FloatingPointError):
        nj.grad(log_sum)(-np.ones(2))
    nj.config.update("jax_debug_nans", False)
    with np.errstate(invalid="ignore"):
        assert np.isnan(nj.grad(log_sum)(-np.ones(2))).all() is np.False_  # 1/x: finite
        assert np.isnan(jnp.log(-1.0))


def test_grad_forward_nan():
    with nj.debug_nans(), pytest.raises(
            FloatingPointError,
            match=rf"in log at {HERE}:{line_of('LOG')} \(the forward pass of nanojax.grad\)"):
        nj.grad(log_sum)(-np.ones(2))


def test_grad_backward_only_nan_names_the_forward_gate():
    # sqrt(0) * 0 is 0 forward; its pull is 0 * (0.5 / 0) = nan, born on the way back.
    with nj.debug_nans(), pytest.raises(
            FloatingPointError,
            match=rf"the pull through sqrt at {HERE}:{line_of('SQRT')} is nan"):
        nj.grad(zero_times_sqrt)(0.0)


def test_jit_reruns_equation_by_equation():
    f = nj.jit(log_sum)
    f(np.ones(2))                   # compiled before the check is on: still found
    with nj.debug_nans(), pytest.raises(FloatingPointError) as info:
        f(-np.ones(2))
    message = str(info.value)
    assert f"in log at {HERE}:{line_of('LOG')}" in message
    assert "re-running the jitted function log_sum equation by equation" in message


def test_jit_grad_backward_nan():
    with nj.debug_nans(), pytest.raises(
            FloatingPointError,
            match=rf"the pull through sqrt at {HERE}:{line_of('SQRT')} is nan.*re-running"):
        nj.jit(nj.grad(zero_times_sqrt))(0.0)


def test_jit_vmap_grad_backward_nan():
    with nj.debug_nans(), pytest.raises(
            FloatingPointError, match=rf"the pull through sqrt at {HERE}:{line_of('SQRT')}"):
        nj.jit(nj.vmap(nj.grad(zero_times_sqrt)))(np.array([1.0, 0.0]))


def test_vmap_grad_backward_nan():
    with nj.debug_nans(), pytest.raises(
            FloatingPointError, match=rf"the pull through sqrt at {HERE}:{line_of('SQRT')}"):
        nj.vmap(nj.grad(zero_times_sqrt))(np.array([1.0, 0.0]))


def zero_times_sqrt_sum(x):
    return jnp.sum(zero_times_sqrt(x))


# A jitted function called inside grad (or another jit) runs its jaxpr
# equation by equation: each reports the line it was traced from, not the call.
JITTED_INSIDE = {
    "grad(jit(f))": lambda: nj.grad(nj.jit(zero_times_sqrt))(0.0),
    "jit(grad(jit(f)))": lambda: nj.jit(nj.grad(nj.jit(zero_times_sqrt)))(0.0),
    "vmap(grad(jit(f)))": lambda: nj.vmap(nj.grad(nj.jit(zero_times_sqrt)))(np.array([1.0, 0.0])),
    "grad(jit(vmap(f)))": lambda: nj.grad(
        lambda x: jnp.sum(nj.jit(nj.vmap(zero_times_sqrt))(x)))(np.array([1.0, 0.0])),
    "grad(jit(jit(f)))": lambda: nj.grad(nj.jit(lambda x: nj.jit(zero_times_sqrt)(x)))(0.0),
}


@pytest.mark.parametrize("name", list(JITTED_INSIDE))
def test_backward_nan_of_a_jitted_function_names_the_gate_inside(name):
    with nj.debug_nans(), pytest.raises(
            FloatingPointError,
            match=rf"the pull through sqrt at {HERE}:{line_of('SQRT')} is nan") as info:
        JITTED_INSIDE[name]()
    assert str(info.value).count(f"{HERE}:") <= 2          # the gate, and the call


def test_forward_nan_of_a_jitted_function_names_the_gate_inside():
    with nj.debug_nans(), pytest.raises(
            FloatingPointError,
            match=rf"in log at {HERE}:{line_of('LOG')} \(the forward pass of nanojax.grad\)$"):
        nj.grad(nj.jit(log_sum))(-np.ones(2))
    for outer in (lambda x: nj.jit(log_sum)(x) * 2.0, nj.vmap(nj.jit(log_sum))):
        with nj.debug_nans(), pytest.raises(
                FloatingPointError,
                match=rf"in log at {HERE}:{line_of('LOG')}, found by re-running"):
            nj.jit(outer)(-np.ones((2, 2)))


def test_a_jitted_function_staged_inside_another_keeps_its_lines():
    text = nj.make_jaxpr(lambda x: nj.jit(log_sum)(x) * 2.0)(np.ones(3)).pretty_print(
        source_info=True)
    assert re.search(rf"= log a\s+# {HERE}:{line_of('LOG')}", text)
    from nanojax.source_info import CURRENT
    assert CURRENT.source is None              # put back after the evaluation


def test_infs():
    with nj.debug_infs(), pytest.raises(FloatingPointError,
                                        match=r"debug_infs: .*\(inf\) encountered in log"):
        jnp.log(0.0)
    with nj.debug_nans(), np.errstate(divide="ignore"):
        assert jnp.log(0.0) == -np.inf       # only NaNs are checked
    with nj.debug_infs(), pytest.raises(FloatingPointError, match="debug_infs"):
        nj.jit(lambda x: 1.0 / x)(np.zeros(2))


def test_good_values_pass_and_agree():
    x = np.array([0.5, 2.0])
    expected = nj.grad(log_sum)(x)
    with nj.debug_nans(), nj.debug_infs():
        np.testing.assert_array_equal(nj.grad(log_sum)(x), expected)
        np.testing.assert_array_equal(nj.jit(nj.grad(log_sum))(x), expected)
        np.testing.assert_array_equal(nj.vmap(nj.grad(zero_times_sqrt))(x),
                                      nj.vmap(nj.grad(zero_times_sqrt))(x))


def test_nan_input_propagated_by_a_primitive_is_reported():
    # No NumPy error (nothing new is made), but the gate's result is checked.
    with nj.debug_nans(), pytest.raises(FloatingPointError, match="in mul"):
        nj.grad(lambda x: jnp.sum(x * 2.0))(np.array([np.nan]))


def test_off_costs_nothing_the_originals_are_back():
    bind, process = Primitive.bind, TapeTrace.process
    err = np.geterr()
    with nj.debug_nans():
        assert Primitive.bind is not bind and TapeTrace.process is not process
    assert Primitive.bind is bind and TapeTrace.process is process
    assert np.geterr() == err
    from nanojax.jit import _SLOW_PATH
    assert _SLOW_PATH == [False]


def test_debug_nans_restores_previous_value():
    nj.config.update("jax_debug_nans", True)
    with nj.debug_nans(False):
        assert not nj.config.jax_debug_nans
        with np.errstate(invalid="ignore"):
            assert np.isnan(jnp.sqrt(-np.ones(1))).all()
    assert nj.config.jax_debug_nans


def test_disable_jit_still_works_with_checks():
    f = nj.jit(log_sum)
    with nj.disable_jit(), nj.debug_nans(), pytest.raises(
            FloatingPointError, match=rf"in log at {HERE}:{line_of('LOG')}"):
        f(-np.ones(2))


# ----- Source lines -----------------------------------------------------------------

def test_pretty_print_source_info():
    jaxpr = nj.make_jaxpr(log_sum)(np.ones(3))
    text = jaxpr.pretty_print(source_info=True)
    assert re.search(rf"= log a\s+# {HERE}:{line_of('LOG')}", text)
    assert "#" not in str(jaxpr)             # the plain print is JAX's
    assert jaxpr.pretty_print() == str(jaxpr)


@nj.custom_vjp
def clipped(x):
    return x


def _clipped_fwd(x):
    return x, None


def _clipped_bwd(res, g):
    return (jnp.clip(g, -1.0, 1.0),)  # CUSTOM_BWD


clipped.defvjp(_clipped_fwd, _clipped_bwd)


def test_backward_equations_are_at_the_line_asking_for_the_derivative():
    def f(x):
        return jnp.sum(x * clipped(jnp.sin(x)))  # FORWARD
    text = nj.make_jaxpr(nj.grad(f))(np.ones(2)).pretty_print(source_info=True)  # ASKING
    assert re.search(rf"= sin b\s+# {HERE}:{line_of('FORWARD')}", text)
    assert re.search(rf"= cos b\s+# {HERE}:{line_of('ASKING')}", text)
    # A custom_vjp's bwd is the user's code: its equations at its own lines.
    assert re.search(rf"= max -1.0:f64\[\] \w+\s+# {HERE}:{line_of('CUSTOM_BWD')}", text)


def branchy(x, y):
    if x > 0:  # BRANCH
        return x
    return y


def bad_shapes(w, x):
    return jnp.sum(jnp.tanh(w * x) + jnp.ones(5))  # SHAPES


def last_user_line(e: BaseException) -> str:
    """``file:line`` of the last frame of the (filtered) traceback outside nanojax."""
    import os
    import traceback

    from nanojax.source_info import is_internal
    user = [f for f in traceback.extract_tb(e.__traceback__) if not is_internal(f.filename)]
    return f"{os.path.basename(user[-1].filename)}:{user[-1].lineno}"


def test_bool_conversion_names_line_and_argument():
    with pytest.raises(nj.errors.TracerBoolConversionError) as info:
        nj.jit(branchy)(1.0, 2.0)
    message = str(info.value)
    assert f"(at {HERE}:{line_of('BRANCH')})" in message
    assert "depends on argument `x`, traced by jit" in message


def test_concretization_names_the_pytree_leaf():
    def f(params, z):
        return float(params["b"]) + z  # FLOAT
    with pytest.raises(nj.errors.ConcretizationTypeError) as info:
        nj.make_jaxpr(f)({"a": 1.0, "b": 2.0}, 3.0)
    assert f"(at {HERE}:{line_of('FLOAT')})" in str(info.value)
    assert "depends on argument `params['b']`, traced by make_jaxpr" in str(info.value)


def test_shape_error_under_jit_vmap_grad_names_the_line():
    with pytest.raises(ValueError, match="could not be broadcast") as info:
        nj.jit(nj.vmap(nj.grad(bad_shapes), in_axes=(None, 0)))(1.0, np.ones((2, 3)))
    assert last_user_line(info.value) == f"{HERE}:{line_of('SHAPES')}"


def test_vmap_size_mismatch_and_unsupported_numpy_name_the_call():
    with pytest.raises(ValueError, match="inconsistent sizes") as info:
        nj.vmap(lambda a, b: a + b)(np.ones(2), np.ones(3))  # VMAP
    assert last_user_line(info.value) == f"{HERE}:{line_of('VMAP')}"
    with pytest.raises(TypeError, match=r"numpy\.real_if_close") as info2:
        nj.jit(lambda x: np.real_if_close(x))(np.ones(2))  # REAL_IF_CLOSE
    assert last_user_line(info2.value) == f"{HERE}:{line_of('REAL_IF_CLOSE')}"


def test_leaked_tracer_names_the_line():
    leaked = []
    nj.jit(lambda x: leaked.append(x) or x)(1.0)
    with pytest.raises(nj.errors.UnexpectedTracerError) as info:
        jnp.sin(leaked[0])  # LEAK
    assert f"(at {HERE}:{line_of('LEAK')})" in str(info.value)


def frames_of(e: BaseException) -> list[str]:
    import traceback
    return [f.filename for f in traceback.extract_tb(e.__traceback__)]


def test_traceback_filtering_drops_internal_frames_unless_off():
    from nanojax.source_info import is_internal
    with pytest.raises(nj.errors.TracerBoolConversionError) as info:
        nj.jit(branchy)(1.0, 2.0)
    internal = [f for f in frames_of(info.value) if is_internal(f)]
    assert len(internal) == 1               # the boundary re-raising it, no more
    assert not getattr(info.value, "__notes__", None)
    nj.config.update("jax_traceback_filtering", "off")
    try:
        with pytest.raises(nj.errors.TracerBoolConversionError) as info:
            nj.jit(branchy)(1.0, 2.0)
        with pytest.raises(ValueError) as shape_error:
            nj.jit(nj.vmap(nj.grad(bad_shapes), in_axes=(None, 0)))(1.0, np.ones((2, 3)))
    finally:
        nj.config.update("jax_traceback_filtering", "auto")
    assert len([f for f in frames_of(info.value) if is_internal(f)]) > 5
    # The whole traceback is kept; the message names the user's line all the same.
    assert str(shape_error.value).endswith(f"(at {HERE}:{line_of('SHAPES')})")
    assert not getattr(shape_error.value, "__notes__", None)


# ----- Every error raised while tracing names the user's line in its message ---------

def shape_mismatch(x):
    return jnp.sum(jnp.tanh(x) + jnp.ones(5))  # KIND_SHAPE


def concretize(x):
    return jnp.sum(x) * int(x[0])  # KIND_CONCRETE


def branch(x):
    if x[0] > 0:  # KIND_BOOL
        return jnp.sum(x)
    return -jnp.sum(x)


def unsupported_numpy(x):
    return jnp.sum(np.real_if_close(x))  # KIND_NUMPY


def inner_vmap_sizes(x):
    return jnp.sum(nj.vmap(jnp.multiply)(x, jnp.ones(4)))  # KIND_VMAP


KINDS = {"shape": (shape_mismatch, ValueError, "could not be broadcast", "KIND_SHAPE"),
         "concretization": (concretize, nj.errors.ConcretizationTypeError, r"int\(\)",
                            "KIND_CONCRETE"),
         "bool": (branch, nj.errors.TracerBoolConversionError, "bool", "KIND_BOOL"),
         "numpy": (unsupported_numpy, TypeError, r"numpy\.real_if_close is not supported",
                   "KIND_NUMPY"),
         "vmap size": (inner_vmap_sizes, ValueError, "inconsistent sizes", "KIND_VMAP")}
X3, X23 = np.array([0.5, 1.0, 2.0]), np.array([[0.5, 1.0, 2.0], [1.5, 2.5, 3.5]])
TRANSFORMS = {"jit": lambda f: nj.jit(f)(X3), "make_jaxpr": lambda f: nj.make_jaxpr(f)(X3),
              "vmap": lambda f: nj.vmap(f)(X23), "grad": lambda f: nj.grad(f)(X3),
              "jit(vmap(grad))": lambda f: nj.jit(nj.vmap(nj.grad(f)))(X23)}


@pytest.mark.parametrize("transform", list(TRANSFORMS))
@pytest.mark.parametrize("kind", list(KINDS))
def test_every_tracing_error_names_the_users_line(kind, transform):
    fun, error, text, marker = KINDS[kind]
    if kind == "bool" and transform == "grad":
        assert TRANSFORMS[transform](fun).shape == (3,)     # grad's values are concrete
        return
    with pytest.raises(error, match=text) as info:
        TRANSFORMS[transform](fun)
    message = str(info.value)
    assert f"(at {HERE}:{line_of(marker)})" in message
    assert message.count(f"{HERE}:") == 1                   # said once, however deep
    if kind in ("concretization", "bool") and transform != "grad":
        who = {"vmap": None, "make_jaxpr": "make_jaxpr"}.get(transform, "jit")
        assert (f"depends on argument `x`, traced by {who}" in message if who
                else "differs from example to example (batched by vmap)" in message)


def test_vmap_size_mismatch_at_the_call_names_the_calling_line():
    with pytest.raises(ValueError) as info:
        nj.vmap(jnp.add)(np.ones(2), np.ones(3))  # VMAP_CALL
    assert f"(at {HERE}:{line_of('VMAP_CALL')})" in str(info.value)
    with pytest.raises(TypeError) as info2:
        nj.grad(lambda x: x * 1.0)(np.ones(2))  # NOT_SCALAR
    assert f"(at {HERE}:{line_of('NOT_SCALAR')})" in str(info2.value)


def test_an_error_the_users_code_raises_is_left_as_it_is():
    def f(x):
        raise ValueError("my own message")
    for transform in (nj.jit, nj.vmap, nj.grad):
        with pytest.raises(ValueError) as info:
            transform(f)(X3)
        assert str(info.value) == "my own message"
        assert not getattr(info.value, "__notes__", None)


# ----- Retraces ---------------------------------------------------------------------

@pytest.fixture
def explain():
    nj.config.update("jax_explain_cache_misses", True)
    yield
    nj.config.update("jax_explain_cache_misses", False)


def retrace_messages(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "nanojax"]


def test_explain_cache_misses_names_argument_and_shapes(explain, caplog):
    def scale(x, n):
        return x * n
    f = nj.jit(scale, static_argnums=1)
    with caplog.at_level("WARNING", logger="nanojax"):
        f(np.ones(3), 2)
        f(np.ones(3), 2)                  # a hit: nothing logged
        assert retrace_messages(caplog) == []
        f(np.ones(4), 2)
        f(np.ones(4), 3)
        f(np.ones(4, np.float32), 3)
        f(1.0, 3)
        f([1.0], 3)
    messages = retrace_messages(caplog)
    assert messages[0] == ("nanojax.jit: tracing scale again (trace 2) because argument `x` "
                           "changed shape (3,) -> (4,)")
    assert "static argument 1 changed value 2 -> 3" in messages[1]
    assert "argument `x` changed dtype float64 -> float32" in messages[2]
    assert "Python float (weak type); a weak-type change" in messages[3]
    assert "tree structure changed" in messages[4]
    assert f.trace_count() == 6 and f._cache_size() == 6


def test_trace_count_and_warning_past_ten_traces_without_the_flag(caplog):
    g = nj.jit(lambda x: x + 1.0)
    with caplog.at_level("WARNING", logger="nanojax"):
        for k in range(13):
            g(np.ones(k))
        g(np.ones(3))                      # cached: no trace
    assert g.trace_count() == 13
    messages = retrace_messages(caplog)
    assert len(messages) == 1               # once, at the 11th trace
    assert "traced 11 times" in messages[0] and "changed shape (9,) -> (10,)" in messages[0]


def test_clear_cache_then_retrace_is_explained(explain, caplog):
    f = nj.jit(lambda x: x * 2.0)
    f(1.0)
    f.clear_cache()
    with caplog.at_level("WARNING", logger="nanojax"):
        f(1.0)
    assert f.trace_count() == 2
    assert retrace_messages(caplog) == [
        "nanojax.jit: tracing <lambda> again (trace 2) because its cache was cleared"]


# ----- debug.print and debug.callback -------------------------------------------------

def printing(x):
    nj.debug.print("x = {}", x)
    y = jnp.sin(x)
    nj.debug.print("y = {y}", y=y)
    return jnp.sum(y * y)


X = np.array([0.5, 1.0])
EXPECTED_ARRAY = f"x = {X}\ny = {np.sin(X)}\n"
EXPECTED_EXAMPLES = "".join(f"x = {v}\n" for v in X) + "".join(f"y = {v}\n" for v in np.sin(X))


@pytest.mark.parametrize("transform", [lambda f: f, nj.jit, nj.grad,
                                       lambda f: nj.jit(nj.grad(f))],
                         ids=["eager", "jit", "grad", "jit(grad)"])
def test_debug_print_values_in_order(transform, capsys):
    transform(printing)(X)
    assert capsys.readouterr().out == EXPECTED_ARRAY


def test_debug_print_runs_each_call_of_compiled_code(capsys):
    f = nj.jit(printing)
    f(X)
    f(X)
    assert capsys.readouterr().out == EXPECTED_ARRAY * 2
    assert f.trace_count() == 1


@pytest.mark.parametrize("transform", [nj.vmap, lambda f: nj.jit(nj.vmap(nj.grad(f)))],
                         ids=["vmap", "jit(vmap(grad))"])
def test_debug_print_under_vmap_one_line_per_example(transform, capsys):
    transform(printing)(X)
    assert capsys.readouterr().out == EXPECTED_EXAMPLES


def test_debug_print_survives_dead_code_elimination(capsys):
    def f(x):
        nj.debug.print("unused {}", x * 3.0)
        return x
    np.testing.assert_array_equal(nj.jit(f)(X), X)
    assert capsys.readouterr().out == f"unused {X * 3.0}\n"
    assert "debug_callback" in str(nj.make_jaxpr(f)(X))


def test_debug_print_is_compiled_into_the_generated_code(capsys):
    f = nj.jit(printing)
    source = f.lower(X).as_text()
    assert source.startswith("def jitted(") and "not compiled" not in source
    lines = source.splitlines()
    calls = [k for k, line in enumerate(lines) if re.fullmatch(r"\s+_p\d+\(v\d+\)", line)]
    assert len(calls) == 2
    sin = next(k for k, line in enumerate(lines) if "sin" in line)
    assert calls[0] < sin < calls[1]            # print x, sin, print y: program order
    assert capsys.readouterr().out == ""        # tracing and compiling print nothing
    f(X)
    f(2.0 * X)
    assert capsys.readouterr().out == EXPECTED_ARRAY + f"x = {2 * X}\ny = {np.sin(2 * X)}\n"
    assert f.trace_count() == 1


def test_debug_print_in_a_compiled_loop_body_runs_each_step(capsys):
    def total(xs):
        def step(c, x):
            nj.debug.print("c={} x={}", c, x)
            return c + x, None
        nj.lax.scan(step, 0.0, xs)             # its result unused: still runs
        return jnp.sum(xs)
    f = nj.jit(total)
    assert "not compiled" not in f.lower(np.arange(3.0)).as_text()
    assert f(np.arange(3.0)) == 3.0
    assert capsys.readouterr().out == "c=0.0 x=0.0\nc=0.0 x=1.0\nc=1.0 x=2.0\n"


def test_debug_print_beside_scalar_math_runs_once(capsys):
    # 1/0 on Python floats raises, and compiled scalar code then redoes the call
    # with NumPy: a print before it must not run twice.
    f = nj.jit(lambda x: (nj.debug.print("x = {}", x), 1.0 / x)[1])
    with np.errstate(divide="ignore"):
        assert f(0.0) == np.inf
    assert f(4.0) == 0.25
    assert capsys.readouterr().out == "x = 0.0\nx = 4.0\n"


def test_debug_callback_gets_numpy_values():
    seen = []
    def f(x):
        nj.debug.callback(lambda a, scale: seen.append((type(a), a * scale)), x, scale=2.0)
        return x * x
    nj.jit(nj.grad(lambda x: jnp.sum(f(x))))(X)
    assert seen[0][0] is np.ndarray
    np.testing.assert_array_equal(seen[0][1], X * 2.0)


def test_debug_print_rejects_a_non_string_format():
    with pytest.raises(TypeError, match=r"nanojax\.debug\.print: the format must be a str"):
        nj.debug.print(3, 1.0)


def test_print_of_a_tracer_says_what_it_is(capsys):
    def f(x, y):
        print(x)
        print(x * y)
        return x
    nj.jit(f)(np.ones(3), 2.0)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Traced<f64[3]>with<StagingTrace> from argument `x`"
    assert out[1] == "Traced<f64[3]>with<StagingTrace> computed from arguments `x`, `y`"


# ----- Traceback filtering through every transformation and loop body -----------------

def bad_body(x):
    return jnp.tanh(x) + jnp.ones(5)  # BODY


FILTERED = {
    "jvp": lambda: nj.jvp(bad_body, (X3,), (X3,)),
    "vjp": lambda: nj.vjp(bad_body, X3),
    "jacfwd": lambda: nj.jacfwd(bad_body)(X3),
    "jacrev": lambda: nj.jacrev(bad_body)(X3),
    "hessian": lambda: nj.hessian(lambda x: jnp.sum(bad_body(x)))(X3),
    "linearize": lambda: nj.linearize(bad_body, X3),
    "cond": lambda: nj.lax.cond(True, bad_body, bad_body, X3),
    "switch": lambda: nj.lax.switch(1, [bad_body, bad_body], X3),
    "while_loop": lambda: nj.lax.while_loop(lambda c: c[0] < 2,
                                            lambda c: (c[0] + 1, bad_body(c[1])), (0, X3)),
    "fori_loop": lambda: nj.lax.fori_loop(0, 2, lambda i, c: bad_body(c), X3),
    "scan": lambda: nj.lax.scan(lambda c, x: (c, bad_body(x)), 0.0, X23),
    "map": lambda: nj.lax.map(bad_body, X23),
    "grad(scan)": lambda: nj.grad(lambda xs: nj.lax.scan(
        lambda c, x: (c + jnp.sum(bad_body(x)), None), 0.0, xs)[0])(X23),
    "vmap(cond)": lambda: nj.vmap(lambda x: nj.lax.cond(x[0] > 0, bad_body, bad_body, x))(X23),
}


@pytest.mark.parametrize("name", list(FILTERED))
def test_filtering_under_every_transformation_and_loop_body(name):
    from nanojax.source_info import is_internal
    with pytest.raises(ValueError, match="could not be broadcast") as info:
        FILTERED[name]()
    frames = frames_of(info.value)
    assert len([f for f in frames if is_internal(f)]) == 1      # the boundary, no more
    assert last_user_line(info.value) == f"{HERE}:{line_of('BODY')}"
    assert str(info.value).endswith(f"(at {HERE}:{line_of('BODY')})")
    nj.config.update("jax_traceback_filtering", "off")
    try:
        with pytest.raises(ValueError) as whole:
            FILTERED[name]()
    finally:
        nj.config.update("jax_traceback_filtering", "auto")
    assert len([f for f in frames_of(whole.value) if is_internal(f)]) > 2
    assert str(whole.value).endswith(f"(at {HERE}:{line_of('BODY')})")


def test_pullback_and_f_jvp_errors_name_the_calling_line():
    _, pull = nj.vjp(jnp.sin, X3)
    with pytest.raises(ValueError, match="cotangent") as info:
        pull(np.ones(4))  # PULL
    assert str(info.value).endswith(f"(at {HERE}:{line_of('PULL')})")
    _, f_jvp = nj.linearize(jnp.sin, X3)
    with pytest.raises(ValueError, match="tangent") as info:
        f_jvp(np.ones(4))  # F_JVP
    assert str(info.value).endswith(f"(at {HERE}:{line_of('F_JVP')})")


def test_the_users_code_is_neither_nanojax_numpy_nor_pythons_library():
    import functools

    from nanojax.source_info import is_users
    assert not is_users(nj.__file__) and not is_users("<nanojax.jit>")
    assert not is_users(np.__file__) and not is_users(np.linalg.__file__)
    assert not is_users(functools.__file__) and not is_users("<frozen importlib._bootstrap>")
    assert is_users(__file__) and is_users("<doctest debugging.md[3]>")
    assert is_users(pytest.__file__)          # an installed package is someone's code


@pytest.mark.parametrize("how", ["eager", "jit", "jvp", "linearize"])
def test_a_callback_without_arguments_runs_on_every_iteration_of_a_loop(how, capsys):
    # It used to run once, while the body was traced (found by the L-BFGS helper).
    f = lambda x: nj.lax.fori_loop(  # noqa: E731
        0, 3, lambda i, c: (nj.debug.print("tick"), c * x)[1], x)
    {"eager": lambda: f(1.5), "jit": lambda: nj.jit(f)(1.5),
     "jvp": lambda: nj.jvp(f, (1.5,), (1.0,)), "linearize": lambda: nj.linearize(f, 1.5)}[how]()
    assert capsys.readouterr().out.count("tick") == 3
    calls = []
    nj.lax.while_loop(lambda c: c < 5,
                      lambda c: (nj.debug.callback(lambda: calls.append(1)), c + 1)[1], 0)
    assert len(calls) == 5
