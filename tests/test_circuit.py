"""nj.circuit: the guide's annotated circuits, values forward and pulls back."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax.tape import TapeTrace, backward_pass
from nanojax.circuit import Circuit, _param_names, format_value

ROOT = Path(__file__).resolve().parent.parent


def forward_circuit(x, y, z):
    q = x + y
    f = q * z
    return f


def neuron(a, b, c, x, y):
    return nj.nn.sigmoid(a * x + b * y + c)


def matvec(params, x):
    h = np.tanh(params["W"] @ x + params["b"])
    return h.sum()


MATVEC_ARGS = ({"W": np.arange(6.0).reshape(2, 3) / 10, "b": np.array([0.5, -1.0])},
               np.array([1.0, -2.0, 3.0]))


@pytest.fixture(scope="module")
def guide() -> Circuit:
    return nj.circuit(forward_circuit)(-2.0, 5.0, -4.0)


@pytest.fixture(scope="module")
def the_neuron() -> Circuit:
    return nj.circuit(neuron)(1.0, 2.0, -3.0, -1.0, 3.0)


def rounded(d: dict, names, digits: int = 3) -> list:
    return [round(float(d[n]), digits) for n in names]


# ----- The guide's pictures ------------------------------------------------------

def test_guide_circuit_has_the_values_of_the_first_picture(guide):
    assert [w.name for w in guide.wires] == ["x", "y", "z", "q", "f"]
    assert rounded(guide.values, "xyzqf") == [-2, 5, -4, 3, -12]
    assert guide.outputs == ("f",) and guide.output == -12


def test_guide_circuit_has_the_pulls_of_the_second_picture(guide):
    assert rounded(guide.grads, "xyzqf") == [-4, -4, 3, -4, 1]


def test_guide_circuit_gates_name_their_input_wires(guide):
    gates = [(w.gate, w.args) for w in guide.wires if w.gate != "input"]
    assert gates == [("add", ("x", "y")), ("mul", ("q", "z"))]


def test_guide_circuit_table_reads_like_the_guide(guide):
    rows = [line.split() for line in guide.table().splitlines()]
    assert rows[0] == ["wire", "gate", "value", "grad"]
    assert ["q", "add", "x", "y", "3", "-4"] in rows
    assert ["f", "mul", "q", "z", "-12", "1", "(output)"] in rows
    assert str(guide) == repr(guide) == guide.table()


def test_neuron_output_and_pulls_on_the_inputs(the_neuron):
    assert round(float(the_neuron.output), 4) == 0.8808
    assert rounded(the_neuron.grads, "abcxy") == [-0.105, 0.315, 0.105, 0.105, 0.21]
    expected = nj.grad(neuron, argnums=(0, 1, 2, 3, 4))(1.0, 2.0, -3.0, -1.0, 3.0)
    np.testing.assert_allclose([the_neuron.grads[n] for n in "abcxy"], expected)


def test_neuron_add_gates_pass_the_pull_through_unchanged(the_neuron):
    gates = [w for w in the_neuron.wires if w.gate != "input"]
    assert [w.gate for w in gates] == ["mul", "mul", "add", "add", "logistic"]
    s = float(the_neuron.output)
    local = s * (1 - s)                      # the sigmoid gate's own derivative
    for w in gates[:-1]:                     # every wire below the sigmoid feels s(1-s)
        assert float(w.grad) == pytest.approx(local)
    assert float(gates[-1].grad) == 1.0


def test_neuron_table_contains_the_guides_numbers(the_neuron):
    table = the_neuron.table()
    for number in ["0.8808", "-0.105", "0.315", "0.105", "0.210"]:
        assert number in table, number


def test_a_branching_wire_sums_its_pulls():
    c = nj.circuit(lambda x: x * x)(3.0)
    assert c.wires[1].args == ("x", "x")
    assert float(c.grads["x"]) == 6.0        # 3 from each branch
    assert "shape=point" in c.dot()          # the junction where the pulls add


def test_an_array_circuit_shows_shapes_and_matches_grad():
    c = nj.circuit(matvec)(*MATVEC_ARGS)
    names = [w.name for w in c.wires]
    assert names[:3] == ["params['W']", "params['b']", "x"]
    assert "h" in names                      # a local variable names its wire
    table = c.table()
    for shape in ["f64[2,3]", "f64[2]", "f64[3]"]:
        assert shape in table
    assert "dot_general" in table and "reduce_sum[axes=(0,)]" in table
    g_params, g_x = nj.grad(matvec, argnums=(0, 1))(*MATVEC_ARGS)
    np.testing.assert_allclose(c.grads["params['W']"], g_params["W"])
    np.testing.assert_allclose(c.grads["params['b']"], g_params["b"])
    np.testing.assert_allclose(c.grads["x"], g_x)
    np.testing.assert_allclose(c.grads["h"], np.ones(2))   # the sum pulls each element by 1


# ----- Names ----------------------------------------------------------------------

def test_unnamed_intermediates_get_letters_that_skip_the_inputs(the_neuron):
    assert [w.name for w in the_neuron.wires] == list("abcxydefgh")


def test_a_rebound_parameter_keeps_its_input_name():
    def f(x):
        x = x * 2.0
        return x
    c = nj.circuit(f)(3.0)
    assert [w.name for w in c.wires] == ["x", "a"]


def test_pytree_and_star_args_inputs_are_named_by_their_path():
    Params = namedtuple("Params", "w b")
    c = nj.circuit(lambda p, *xs: p.w * xs[0] + p.b + xs[1])(Params(2.0, 1.0), 3.0, 4.0)
    assert [w.name for w in c.wires][:4] == ["p.w", "p.b", "xs[0]", "xs[1]"]
    assert rounded(c.grads, ["p.w", "p.b", "xs[0]", "xs[1]"]) == [3, 1, 2, 1]


def test_without_a_signature_inputs_are_a_b_c_like_a_jaxpr():
    assert _param_names(max, 3) == ["a", "b", "c"]


def test_an_active_profiler_is_left_alone_and_letters_are_used():
    sys.setprofile(lambda *a: None)
    try:
        c = nj.circuit(forward_circuit)(-2.0, 5.0, -4.0)
        assert sys.getprofile() is not None
    finally:
        sys.setprofile(None)
    assert [w.name for w in c.wires] == ["x", "y", "z", "a", "b"]


# ----- Outputs, pulls and dtypes --------------------------------------------------------

def test_a_nonscalar_output_is_pulled_by_one_everywhere_with_a_note():
    c = nj.circuit(lambda x: x * np.array([1.0, 2.0]))(np.array([3.0, 4.0]))
    np.testing.assert_allclose(c.grads["x"], [1.0, 2.0])
    assert any("sum" in n for n in c.notes) and "note:" in c.table()


def test_pull_says_what_to_pull_the_output_with():
    c = nj.circuit(forward_circuit, pull=-1.0)(-2.0, 5.0, -4.0)
    assert rounded(c.grads, "xyzqf") == [4, 4, -3, 4, -1]
    with pytest.raises(ValueError, match="structure"):
        nj.circuit(forward_circuit, pull=(1.0, 1.0))(-2.0, 5.0, -4.0)


def test_several_outputs_give_values_unless_a_pull_is_given():
    f = lambda x, y: (x * y, x + y)  # noqa: E731
    c = nj.circuit(f)(2.0, 3.0)
    assert c.grads == {} and c.outputs == ("a", "b") and "outputs" in c.notes[0]
    pulled = nj.circuit(f, pull=(1.0, 1.0))(2.0, 3.0)
    assert rounded(pulled.grads, "xy") == [4, 3]


def test_integer_wires_carry_values_only():
    c = nj.circuit(lambda x, n: x * n)(2.0, np.int64(3))
    assert c.grads["x"] == 3.0 and "n" not in c.grads
    assert "n" in c.notes[0] and "—" in c.table()
    ints = nj.circuit(lambda x, y: x * y)(-2, 3)
    assert ints.values["a"] == -6 and ints.grads == {} and "-2.0" in ints.notes[0]


def test_plain_numpy_and_comparison_gates_are_drawn():
    c = nj.circuit(lambda x: np.exp(jnp.where(x > 0, x, 0.0)))(np.array([1.0, -2.0]))
    gates = [w.gate for w in c.wires if w.gate != "input"]
    assert gates == ["gt", "select_n", "exp"]
    assert c.wires[1].grad is None           # a comparison's boolean wire has no pull
    np.testing.assert_allclose(c.grads["x"], [np.e, 0.0])


def test_stop_gradient_stops_the_pull():
    c = nj.circuit(lambda x: nj.stop_gradient(x * 2.0) * x)(3.0)
    assert rounded(c.grads, "xabc") == [6, 0, 3, 1]


def test_keyword_arguments_pass_through_unrecorded():
    c = nj.circuit(lambda x, scale=1.0: x * scale)(3.0, scale=2.0)
    assert [w.args for w in c.wires] == [(), ("x", "2.0")]
    assert c.grads["x"] == 2.0


def test_backward_pass_keeps_every_pull_only_when_asked():
    with TapeTrace() as trace:
        x = trace.new_input(3.0)
        out = (x * 2.0) * x
    kept = backward_pass(trace.tape, trace.num_nodes, {out.node: 1.0}, keep=True)
    freed = backward_pass(trace.tape, trace.num_nodes, {out.node: 1.0})
    assert kept[1:] == [3.0, 1.0] and freed[1:] == [None, None]
    assert kept[0] == freed[0] == 12.0


# ----- Errors ---------------------------------------------------------------------------

def test_a_non_callable_is_a_type_error():
    with pytest.raises(TypeError, match="circuit"):
        nj.circuit(3.0)


@pytest.mark.parametrize("bad", ["hello", object(), np.array(["a", "b"]), {"mode": "fast"}])
def test_inputs_that_are_not_arrays_or_numbers_are_type_errors(bad):
    with pytest.raises(TypeError, match="not an array or a number"):
        nj.circuit(lambda x: x)(bad)


def test_an_input_that_is_traced_is_a_type_error():
    with pytest.raises(TypeError, match="outside of jit, grad"):
        nj.grad(lambda x: nj.circuit(lambda y: y)(x).output)(1.0)


# ----- Formatting and DOT -----------------------------------------------------------------

def test_numbers_are_formatted_compactly():
    assert format_value(0.8807970779778823) == "0.8808"
    assert format_value(-12.0) == "-12" and format_value(True) == "True"
    assert format_value(np.arange(5.0)) == "f64[5] [0, 1, 2, ...]"
    assert format_value(np.float32(0.25)) == "0.2500"


def dot_nodes(dot: str) -> list[str]:
    return re.findall(r"^  (\w+) \[", dot, re.MULTILINE)


@pytest.mark.parametrize("name", ["guide", "the_neuron"])
def test_dot_is_a_digraph_with_one_node_per_wire(name, request):
    c = request.getfixturevalue(name)
    dot = c.dot()
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    assert dot.count("{") == dot.count("}")
    wire_nodes = [n for n in dot_nodes(dot) if re.fullmatch(r"w\d+", n)]
    assert len(wire_nodes) == len(set(wire_nodes)) == len(c.wires)
    assert "rankdir=LR" in dot and 'color="red"' in dot
    for w in c.wires:
        assert f"{w.name} = {format_value(w.value)}" in dot


def test_dot_escapes_user_strings():
    key = 'a<b>"}\n&'
    dot = nj.circuit(lambda d: d[key] * 2.0)({key: 1.0}).dot()
    assert key not in dot and "a&lt;b&gt;" in dot and "&amp;" in dot
    assert "\n&" not in dot


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz is not installed")
@pytest.mark.parametrize("name", ["guide", "the_neuron"])
def test_dot_renders_with_graphviz(name, request):
    dot = request.getfixturevalue(name).dot()
    done = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr
    assert "<svg" in done.stdout


def test_the_reference_page_is_all_doctests():
    page = (ROOT / "docs" / "api" / "circuit.md").read_text()
    blocks = re.findall(r"^```(\w*)\n(.*?)^```", page, re.MULTILINE | re.DOTALL)
    assert blocks and all(lang == "python" and ">>>" in body for lang, body in blocks)


# ----- SVG: the guide's drawing ------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"


def svg_texts(svg: str) -> list[str]:
    """Every text element's content, parsed (so the SVG must be well-formed XML)."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def boxes(svg: str) -> list[ET.Element]:
    return [r for r in ET.fromstring(svg).iter(f"{SVG}rect") if r.get("stroke")]


@pytest.mark.parametrize("name", ["guide", "the_neuron"])
def test_svg_is_well_formed_and_shows_every_value_and_pull(name, request):
    c = request.getfixturevalue(name)
    svg = c.svg()
    texts = svg_texts(svg)
    for w in c.wires:
        assert f"{w.name} = {format_value(w.value)}" in texts, w.name
        assert format_value(w.grad) in texts, w.name
    assert len(boxes(svg)) == len([w for w in c.wires if w.gate != "input"])
    assert c._repr_svg_() == svg


def test_svg_draws_the_guides_operators_in_boxes(guide):
    texts = svg_texts(guide.svg())
    assert "+" in texts and "*" in texts and "output" in texts


def test_svg_lays_gates_out_left_to_right_by_depth(the_neuron):
    lefts = [float(r.get("x")) for r in boxes(the_neuron.svg())]   # mul mul add add logistic
    assert lefts[0] == lefts[1] < lefts[2] < lefts[3] < lefts[4]
    tops = [float(r.get("y")) for r in boxes(the_neuron.svg())]
    assert tops[0] != tops[1]                 # one depth's gates are stacked, not overlaid


def test_svg_of_a_branching_wire_forks_at_a_dot():
    c = nj.circuit(lambda x, y: jnp.maximum(x * y, x) + y / x)(2.0, 3.0)
    root = ET.fromstring(c.svg())
    junctions = [e for e in root.iter(f"{SVG}circle") if e.get("r") == "3"
                 and e.get("fill") != "white" and not e.get("stroke")]
    assert len(junctions) == 2 + 1            # x and y fork; one output dot
    texts = svg_texts(c.svg())
    assert "x = 2" in texts and format_value(c.grads["x"]) in texts


def test_svg_of_several_outputs_marks_each_output_and_says_values_only():
    c = nj.circuit(lambda x, y: (x * y, x + y, x * 2.0))(2.0, 3.0)
    texts = svg_texts(c.svg())
    assert {"output 0", "output 1", "output 2"} <= set(texts)
    assert {"a = 6", "b = 5", "c = 4", "2.0"} <= set(texts)
    assert any("values only" in t for t in texts)
    pulled = nj.circuit(lambda x, y: (x * y, x + y), pull=(1.0, -1.0))(2.0, 3.0)
    texts = svg_texts(pulled.svg())
    assert rounded(pulled.grads, "xyab") == [2, 1, 1, -1]     # x*y - (x + y)
    assert {"x = 2", "2", "y = 3", "1", "a = 6", "b = 5", "-1"} <= set(texts)


def test_svg_escapes_names():
    key = 'a<b>"&\n'
    svg = nj.circuit(lambda d: d[key] * 2.0)({key: 1.0}).svg()
    assert key not in svg and "a&lt;b&gt;" in svg and "&amp;" in svg
    assert f"d[{key!r}] = 1".replace("\n", " ") in svg_texts(svg)


def test_svg_of_arrays_and_dead_ends():
    def f(x):
        unused = jnp.sin(x)               # noqa: F841 -- a gate nothing reads
        return jnp.sum(x * x)
    c = nj.circuit(f)(np.arange(4.0))
    texts = svg_texts(c.svg())
    assert "x = f64[4] [0, 1, 2, ...]" in texts and "f64[4] [0, 2, 4, ...]" in texts
    assert any(t.startswith("unused = f64[4]") for t in texts)


def test_jaxpr_renders_in_jupyter_as_a_pre_block():
    jaxpr = nj.make_jaxpr(lambda x: x < 2.0)(1.0)
    html = jaxpr._repr_html_()
    assert html.startswith("<pre>") and html.endswith("</pre>")
    assert "lt a 2.0" in html and "<" not in html[5:-6]


def test_docs_circuit_pictures_are_up_to_date(tmp_path):
    script = ROOT / "examples" / "draw_circuits.py"
    done = subprocess.run([sys.executable, str(script), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert done.returncode == 0, done.stderr
    made = sorted(p.name for p in tmp_path.glob("*.svg"))
    assert made
    for name in made:
        assert (tmp_path / name).read_text() == (ROOT / "docs" / "images" / name).read_text(), \
            f"docs/images/{name} is stale: run python examples/draw_circuits.py"
        assert f"images/{name}" in (ROOT / "docs" / "chapter1.md").read_text()


@pytest.mark.parametrize("fun, args", [
    (lambda x: x, (1.0,)),                                   # no gate at all
    (lambda x: 3.0, (1.0,)),                                 # a constant output
    (lambda: 1.0, ()),                                       # no inputs either
    (lambda x, y: (x, x * y), (2.0, 3.0)),                   # an input is an output
    (lambda x: jnp.where(x > 0, x, 0.0), (np.array([1.0, -2.0]),)),
], ids=["identity", "constant", "nothing", "input-output", "where"])
def test_svg_of_small_and_odd_circuits_is_well_formed(fun, args):
    c = nj.circuit(fun)(*args)
    texts = svg_texts(c.svg())
    for w in c.wires:
        assert f"{w.name} = {format_value(w.value)}" in texts


def test_a_gate_with_several_results_drives_one_wire_each():
    f = lambda x: nj.lax.scan(lambda c, a: (c * a, c), 1.0, x)[0]   # noqa: E731
    xs = np.array([1.0, 2.0, 3.0])
    c = nj.circuit(f)(xs)
    assert [w.gate for w in c.wires] == ["input", "scan", "scan"]
    assert c.values["a"] == 6.0 and c.outputs == ("a",)
    np.testing.assert_array_equal(c.values["b"], [1.0, 1.0, 2.0])    # the stacked carries
    np.testing.assert_allclose(c.grads["x"], nj.grad(f)(xs))
    assert "a = 6" in svg_texts(c.svg())
