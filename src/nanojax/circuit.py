"""The circuit view: every gate, and on every wire its value and its pull.

The guide draws its circuits twice: once with the values flowing forward on
the wires, once with the gradients flowing back. ``nj.circuit(f)(*args)``
records ``f`` once on the tape (the interpreter ``grad`` uses), runs one
backward pass that keeps every wire's pull instead of freeing it, and returns
a ``Circuit`` that shows both pictures at once: as a table (``str(c)``), as
an SVG drawing (``c.svg()``, what Jupyter shows) or as Graphviz DOT
(``c.dot()``).

Examples:
    >>> import nanojax as nj
    >>> def forward_circuit(x, y, z):
    ...     q = x + y
    ...     f = q * z
    ...     return f
    >>> c = nj.circuit(forward_circuit)(-2.0, 5.0, -4.0)
    >>> print(c)
    wire  gate     value  grad
    x     input       -2    -4
    y     input        5    -4
    z     input       -4     3
    q     add x y      3    -4
    f     mul q z    -12     1  (output)
    >>> print(c.grads["x"], c.values["q"])
    -4.0 3.0
"""

from __future__ import annotations

import inspect
import math
import sys
from typing import Any, NamedTuple
from collections.abc import Callable, Sequence

import numpy as np

from nanojax import primitives as P
from nanojax.ad_util import match_input
from nanojax.api_util import check_callable, name_transformed
from nanojax.core import Primitive, Tracer, get_aval, pp_param, var_name
from nanojax.tape import TapeEntry, TapeTrace, TapeTracer, backward_pass, record, seed_outputs
from nanojax.tree_util import PyTreeDef, tree_flatten, tree_unflatten

__all__ = ["circuit", "Circuit", "Wire", "format_value"]

_NO_GRAD = "—"      # the grad column of a wire no pull flows on (ints, bools, no pull)
_SHOWN = 3          # how many of an array's values a table cell shows
_LONG = 24          # a gate parameter longer than this is elided (dot_general's, say)


class Wire(NamedTuple):
    """One wire of a circuit: the gate driving it, its value and its pull.

    ``gate`` is the primitive's name (``"input"`` for an input wire) and
    ``args`` the gate's inputs: wire names, constants written out. ``grad``
    is the pull of the output on this wire, d(output)/d(wire), or ``None``
    where no pull flows (integer and boolean wires, or no pull at all).
    """

    name: str
    gate: str
    args: tuple[str, ...]
    params: dict
    value: Any
    grad: Any


# ----- Recording: the tape, plus the gates autodiff may skip -----------------

class _CircuitTrace(TapeTrace):
    """A tape that also keeps the gates with no derivative.

    Comparisons and ``stop_gradient`` stay off the tape (no pull passes
    through them, so the backward pass must not see them), but they are gates
    of the picture all the same: each gets a wire and an entry of its own.
    """

    __slots__ = ("off_tape",)
    keeps_every_value = True             # the picture shows every wire's value

    def __init__(self) -> None:
        super().__init__("nanojax.circuit")
        self.off_tape: list[TapeEntry] = []

    def constant_gate(self, prim: Primitive, params: dict, nodes: Sequence[int],
                      primals: Sequence[Any], ans: Any) -> TapeTracer:
        node = self.num_nodes
        self.num_nodes = node + 1
        self.off_tape.append(TapeEntry(prim, params, nodes, primals, ans, node))
        return TapeTracer(self, ans, node)

    def gates(self) -> list[TapeEntry]:
        """Every gate, on the tape or off it, in the order the gates ran."""
        entries = [TapeEntry._make(entry) for entry in self.tape] + self.off_tape
        return sorted(entries, key=_first_node)


def _first_node(entry: TapeEntry) -> int:
    node = entry.out_node
    return node[0] if isinstance(node, tuple) else node


def _call_keeping_locals(fun: Callable, args: tuple, kwargs: dict) -> tuple[Any, dict]:
    """Call ``fun``; also return the local variables of its frame as it returns.

    They let an intermediate wire take the name the user gave it
    (``q = x + y`` names the wire ``q``). A profile hook is the one way to see
    a frame's locals at its return; an active profiler is left undisturbed
    (and the wires get letters instead).
    """
    code = getattr(inspect.unwrap(fun), "__code__", None)
    if code is None or sys.getprofile() is not None:
        return fun(*args, **kwargs), {}
    seen: dict[str, Any] = {}

    def hook(frame: Any, event: str, arg: Any) -> None:
        if event == "return" and frame.f_code is code:
            seen.clear()                  # the outermost call returns last
            seen.update(frame.f_locals)

    sys.setprofile(hook)
    try:
        out = fun(*args, **kwargs)
    finally:
        sys.setprofile(None)
    return out, seen


# ----- Naming the wires -------------------------------------------------------

def _param_names(fun: Callable, nargs: int) -> list[str]:
    """The names of ``fun``'s positional parameters; a, b, c... without a signature."""
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):       # builtins and ufuncs may have none
        params = []
    names: list[str] = []
    for p in params:
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.append(p.name)
        elif p.kind is p.VAR_POSITIONAL:
            names += [f"{p.name}[{i}]" for i in range(max(nargs - len(names), 0))]
            break
    letters = (n for n in map(var_name, range(2 * nargs + 26)) if n not in names)
    return [names[i] if i < len(names) else next(letters) for i in range(nargs)]


def _leaf_names(prefix: str, treedef: PyTreeDef) -> list[str]:
    """``params['W']``, ``xs[0]``, ``p.W``: one name per leaf, the way you would index it."""
    kind = treedef.node_type
    if kind is None:
        return [prefix]
    if kind is dict:
        labels = [f"[{k!r}]" for k in treedef.aux]
    elif isinstance(kind, type) and issubclass(kind, tuple) and hasattr(kind, "_fields"):
        labels = [f".{field}" for field in kind._fields]
    else:
        labels = [f"[{i}]" for i in range(len(treedef.children))]
    return [name for label, child in zip(labels, treedef.children)
            for name in _leaf_names(prefix + label, child)]


def _check_leaf(name: str, x: Any) -> None:
    if isinstance(x, Tracer):
        raise TypeError(f"nanojax.circuit: argument {name} is a traced value; the circuit view "
                        "shows concrete values, so call nj.circuit outside of jit, grad "
                        "and vmap")
    ok = type(x) in (float, int, bool) or (
        isinstance(x, (np.ndarray, np.generic)) and x.dtype.kind in "biufc")
    if not ok:
        raise TypeError(f"nanojax.circuit: argument {name} is a {type(x).__name__} ({x!r:.40}), "
                        "not an array or a number. Pass NumPy arrays, Python numbers, or "
                        "tuples, lists and dicts of them; give other arguments as keywords "
                        "(they pass through unchanged) or close over them.")


def _wire_names(inputs: list[str], gates: list[TapeEntry], local_names: dict[int, str]
                ) -> dict[Any, str]:
    """Inputs by parameter, then locals by variable name, the rest a, b, c..."""
    names: dict[Any, str] = dict(enumerate(inputs))
    used = set(inputs)
    for node, name in local_names.items():
        if node not in names and name not in used:
            names[node] = name
            used.add(name)
    letters = (n for n in map(var_name, range(sys.maxsize)) if n not in used)
    for gate in gates:
        for node in _out_nodes(gate):
            if node not in names:
                names[node] = next(letters)
    return names


def _out_nodes(gate: TapeEntry) -> tuple[int, ...]:
    """The wires a gate drives: one, or one per result (``scan``, ``while_loop``...)."""
    node = gate.out_node
    return node if isinstance(node, tuple) else (node,)


# ----- Formatting -------------------------------------------------------------

def _format_scalar(v: Any) -> str:
    if isinstance(v, (bool, int, complex)):
        return str(v)
    if not math.isfinite(v):
        return str(v)
    if v == int(v) and abs(v) < 1e6:      # the guide's -4, 3, -12
        return str(int(v))
    return f"{v:#.4g}"


def format_value(x: Any) -> str:
    """A compact cell: scalars to 4 significant digits, arrays as type and first values.

    >>> format_value(0.8807970779778823), format_value(-4.0)
    ('0.8808', '-4')
    >>> import numpy as np
    >>> format_value(np.arange(6.0).reshape(2, 3))
    'f64[2,3] [0, 1, 2, ...]'
    """
    if isinstance(x, (np.ndarray, np.generic)) and x.ndim:
        head = ", ".join(_format_scalar(v) for v in x.ravel()[:_SHOWN].tolist())
        more = ", ..." if x.size > _SHOWN else ""
        return f"{get_aval(x).str_short()} [{head}{more}]"
    return _format_scalar(x.item() if isinstance(x, (np.ndarray, np.generic)) else x)


def _format_const(x: Any) -> str:
    """A constant written into a gate: its value, or its type if it is a big array."""
    if isinstance(x, np.ndarray) and x.size > _SHOWN:
        return get_aval(x).str_short()
    if isinstance(x, np.ndarray) and x.ndim:
        return "[" + ", ".join(map(_format_const, x.ravel().tolist())) + "]"
    v = x.item() if isinstance(x, (np.ndarray, np.generic)) else x
    if isinstance(v, float) and len(repr(v)) <= 8:
        return repr(v)                    # 2.0 in a gate reads as code, as in a jaxpr
    return format_value(v)


def _gate_head(w: Wire) -> str:
    """``reduce_sum[axes=(0,)]``; a long parameter shows as ``...`` (``Wire.params`` has it)."""
    shown = [f"{k}={pp_param(p)}" for k, p in w.params.items()]
    shown = [s if len(s) <= _LONG else "..." for s in shown]
    params = " ".join(dict.fromkeys(shown))
    return w.gate + (f"[{params}]" if params else "")


def _gate_text(w: Wire) -> str:
    return " ".join([_gate_head(w), *w.args]) if w.gate != "input" else "input"


def _esc(s: str) -> str:
    """Text safe inside a Graphviz HTML label (user strings never go in raw).

    Labels are element text, never attribute values, so ``&``, ``<`` and
    ``>`` are all that need escaping; control characters become spaces.

    >>> _esc("params['<b>']")
    "params['&lt;b&gt;']"
    """
    import html                   # only pictures need it: not paid for at import
    return "".join(" " if ord(ch) < 32 else ch for ch in html.escape(str(s), quote=False))


# ----- The circuit ------------------------------------------------------------

class Circuit:
    """A function recorded at some arguments: its wires, values and pulls.

    Attributes:
        wires: every ``Wire``, inputs first, then one per gate in the order
            the gates ran.
        values: ``{wire name: value}``.
        grads: ``{wire name: pull of the output}`` for the wires a pull flows
            on (float wires, when the circuit was pulled).
        outputs: the names of the output wires (``None`` for an output that
            is a constant).
        output: what the function returned.
        pull: what the output was pulled with (``None``: values only).
        notes: sentences that say how to read this circuit.
    """

    def __init__(self, wires: list[Wire], outputs: list[str | None], output: Any,
                 pull: Any, notes: list[str]) -> None:
        self.wires = tuple(wires)
        self.outputs = tuple(outputs)
        self.output = output
        self.pull = pull
        self.notes = tuple(notes)
        self.values = {w.name: w.value for w in wires}
        self.grads = {w.name: w.grad for w in wires if w.grad is not None}

    def table(self) -> str:
        """One row per wire: name, the gate that drives it, its value, its pull."""
        rows = [("wire", "gate", "value", "grad")] + [
            (w.name, _gate_text(w), format_value(w.value),
             _NO_GRAD if w.grad is None else format_value(w.grad)) for w in self.wires]
        width = [max(len(r[i]) for r in rows) for i in range(4)]
        # Numbers line up on the right, arrays (type, then values) on the left.
        num = ">" if all(np.ndim(w.value) == 0 for w in self.wires) else "<"
        outs = set(self.outputs)
        lines = []
        for k, (name, gate, value, grad) in enumerate(rows):
            mark = "  (output)" if k and name in outs else ""
            last = f"{grad:>{width[3]}}" if num == ">" else grad      # the last column: no padding
            lines.append(f"{name:<{width[0]}}  {gate:<{width[1]}}  {value:{num}{width[2]}}  "
                         f"{last}{mark}".rstrip())
        return "\n".join(lines + [f"note: {n}" for n in self.notes])

    def dot(self) -> str:
        """Graphviz DOT of the same picture, left to right.

        Inputs and gates are nodes, one per wire; each wire is an edge
        labelled with its value (black) and its pull (red). A wire that
        branches first meets a dot, where its pulls add up.
        """
        wire_node = {w.name: f"w{i}" for i, w in enumerate(self.wires)}
        lines = ["digraph circuit {", "  rankdir=LR;",
                 '  graph [fontname="Helvetica", fontsize=11];',
                 '  node [fontname="Helvetica", fontsize=12];',
                 '  edge [fontname="Helvetica", fontsize=11];',
                 ('  label=<values flow forward (black), pulls flow back '
                 '(<font color="red">red</font>)>;'),
                 "  labelloc=b;"]
        uses: dict[str, list[str]] = {w.name: [] for w in self.wires}
        consts: list[tuple[str, str, str]] = []
        for w in self.wires:
            node = wire_node[w.name]
            if w.gate == "input":
                lines.append(f"  {node} [shape=plaintext, label=<{_esc(w.name)}>];")
                continue
            params = _gate_head(w)[len(w.gate):]
            small = f'<br/><font point-size="9">{_esc(params)}</font>' if params else ""
            lines.append(f"  {node} [shape=ellipse, label=<{_esc(w.gate)}{small}>];")
            for arg in w.args:
                if arg in uses:
                    uses[arg].append(node)
                else:
                    consts.append((f"k{len(consts)}", arg, node))
        for k, name in enumerate(self.outputs):
            if name is not None:
                label = "output" if len(self.outputs) == 1 else f"output {k}"
                lines.append(f"  out{k} [shape=plaintext, label=<{label}>];")
                uses[name].append(f"out{k}")
        for const, text, node in consts:
            lines.append(f'  {const} [shape=plaintext, fontcolor=gray40, label=<{_esc(text)}>];')
            lines.append(f"  {const} -> {node} [color=gray60];")
        for i, w in enumerate(self.wires):
            lines += self._wire_edges(i, w, uses[w.name])
        return "\n".join(lines + ["}"])

    def _wire_edges(self, i: int, w: Wire, targets: list[str]) -> list[str]:
        label = f"{_esc(w.name)} = {_esc(format_value(w.value))}"
        if w.grad is not None:
            label += f'<br/><font color="red">{_esc(format_value(w.grad))}</font>'
        if len(targets) == 1:
            return [f"  w{i} -> {targets[0]} [label=<{label}>];"]
        if not targets:
            return []
        # A branching wire: its pull is the sum of the pulls of its branches.
        return ([f"  j{i} [shape=point];", f"  w{i} -> j{i} [label=<{label}>, arrowhead=none];"]
                + [f"  j{i} -> {t};" for t in targets])

    def svg(self) -> str:
        """An SVG picture in the guide's style: gates as boxes, left to right by depth.

        Each wire carries its name and value above it and its pull below it,
        in red; a wire that branches forks at a dot, where its pulls add up.
        Jupyter shows it on its own (``_repr_svg_``); elsewhere write the text
        to a ``.svg`` file and open it in a browser.
        """
        from nanojax.circuit_svg import circuit_svg   # only pictures need it
        return circuit_svg(self)

    def _repr_svg_(self) -> str:
        return self.svg()

    def __str__(self) -> str:
        return self.table()

    __repr__ = __str__


# ----- nj.circuit ---------------------------------------------------------------

def _seeds(pull: Any, outs: list, out_tree: PyTreeDef, out_nodes: list[int]
           ) -> tuple[dict[int, Any], Any, list[str]]:
    """What to pull the output with: (seeds by wire, the pull, notes)."""
    if pull is not None:
        return seed_outputs(pull, out_tree, out_nodes, outs, "nanojax.circuit", "pull"), pull, []
    if len(outs) != 1:
        return {}, None, [(f"the function has {len(outs)} outputs: values only "
                          "(pass pull=..., one per output, to see pulls)")]
    out, node = outs[0], out_nodes[0]
    dtype, shape = P.dtype_of(out), P.shape_of(out)
    if not np.issubdtype(dtype, np.inexact):
        return {}, None, [(f"the output is {get_aval(out).str_short()}, not float: no pull "
                          "flows, values only (pass floats such as -2.0, not -2, to see pulls)")]
    one = dtype.type(1.0) if not shape else np.ones(shape, dtype)
    notes = [] if not shape else [
        (f"the output is {get_aval(out).str_short()}, not a scalar: grad is the pull of "
        "its sum (a pull of 1 on every element)")]
    if node < 0:
        notes.append("the output does not depend on the inputs: every pull is 0")
    return ({node: one} if node >= 0 else {}), tree_unflatten(out_tree, [one]), notes


def circuit(fun: Callable, pull: Any = None) -> Callable[..., Circuit]:
    """Record ``fun`` at the given arguments as a circuit of gates, with values and pulls.

    ``nj.circuit(f)(*args)`` runs ``f`` once on the tape and once backward,
    and returns a ``Circuit``: every wire's value and its pull, the gradient
    of the output with respect to that wire, inputs and intermediates alike.
    Input wires are named after ``f``'s parameters (``params['W']`` inside
    pytrees), intermediate wires after the local variables that hold them
    when ``f`` returns, the others a, b, c... as in a jaxpr. Keyword
    arguments pass through unrecorded.

    A scalar output is pulled with 1. A non-scalar float output is pulled
    with 1 on every element: the pulls shown are those of its sum. Integer
    outputs, and several outputs, give values only, unless ``pull`` (shaped
    like the output) says what to pull with. Integer wires carry values only.

    Examples:
        The guide's neuron: the add gates pass the pull through unchanged.

        >>> import nanojax as nj
        >>> def neuron(a, b, c, x, y):
        ...     return nj.nn.sigmoid(a * x + b * y + c)
        >>> c = nj.circuit(neuron)(1.0, 2.0, -3.0, -1.0, 3.0)
        >>> print(round(float(c.output), 4), [round(float(c.grads[n]), 3) for n in "abcxy"])
        0.8808 [-0.105, 0.315, 0.105, 0.105, 0.21]
    """
    check_callable(fun, "nanojax.circuit")

    def record_circuit(*args: Any, **kwargs: Any) -> Circuit:
        flat: list = []
        names: list[str] = []
        for name, arg in zip(_param_names(fun, len(args)), args):
            leaves, tree = tree_flatten(arg)
            flat += leaves
            names += _leaf_names(name, tree)
        for name, x in zip(names, flat):
            _check_leaf(name, x)
        return _circuit_of(fun, args, kwargs, flat, names, pull)

    return name_transformed(record_circuit, "circuit", fun, doc=False)


def _circuit_of(fun: Callable, args: tuple, kwargs: dict, flat: list, names: list[str],
                pull: Any) -> Circuit:
    """One forward pass on the tape, one backward pass keeping every pull."""
    local_vars: dict[str, Any] = {}

    def run(*tracers: Any) -> Any:
        out, seen = _call_keeping_locals(fun, tracers, kwargs)
        local_vars.update(seen)
        return out

    trace = _CircuitTrace()
    _, outs, out_tree, out_nodes, _ = record(run, flat, tree_flatten(args)[1], False,
                                             "nanojax.circuit", trace)
    local_names: dict[int, str] = {}
    for var, v in local_vars.items():
        if type(v) is TapeTracer and v._trace is trace:
            local_names.setdefault(v.node, var)
    seeds, pulled, notes = _seeds(pull, outs, out_tree, out_nodes)
    cts = backward_pass(trace.tape, trace.num_nodes, seeds, keep=True, who=trace.who) \
        if pulled is not None else None
    gates = trace.gates()
    wire_names = _wire_names(names, gates, local_names)

    def grad_of(node: Any, value: Any) -> Any:
        if cts is None or not np.issubdtype(P.dtype_of(value), np.inexact):
            return None
        return match_input(cts[node], value)

    wires = [Wire(n, "input", (), {}, x, grad_of(i, x))
             for i, (n, x) in enumerate(zip(names, flat))]
    for prim, params, nodes, primals, ans, node in gates:
        if isinstance(ans, Tracer):
            raise TypeError("nanojax.circuit: a gate computed a traced value (a traced constant "
                            "was closed over); call nj.circuit outside of jit, grad and vmap")
        args_text = tuple(wire_names[n] if n >= 0 else _format_const(p)
                          for n, p in zip(nodes, primals))
        # A gate with several results drives several wires: one row (and box) each.
        results = list(zip(node, ans)) if isinstance(node, tuple) else [(node, ans)]
        for out_node, value in results:
            wires.append(Wire(wire_names[out_node], prim.name, args_text, params, value,
                              grad_of(out_node, value)))
    ints = [w.name for w in wires[:len(flat)] if w.grad is None]
    if cts is not None and ints:
        notes.append(f"{', '.join(ints)} {'is' if len(ints) == 1 else 'are'} not float: "
                     "values only (pass floats such as -2.0, not -2, to see pulls)")
    return Circuit(wires, [wire_names[n] if n >= 0 else None for n in out_nodes],
                   tree_unflatten(out_tree, outs), pulled, notes)
