"""Derivatives: the tape (reverse mode) and tangents (forward mode).

The tape interpreter is the guide's backprop made literal. The forward pass
computes every gate on real values and records it, in order, with the values
it saw. The backward pass walks the tape in reverse: each gate multiplies the
pull from above by its local derivative (its ``vjp`` rule) and adds the
result into its inputs' pulls, with ``+`` because a wire that branches sums
its gradients.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from nanojax import primitives as P
from nanojax.core import (Primitive, ShapedArray, Trace, Tracer, check_callable, get_aval,
                          own_memory, pop_trace, push_trace)
from nanojax.tree_util import tree_flatten, tree_unflatten

__all__ = ["vjp", "grad", "value_and_grad", "jvp", "check_inputs"]

# Scalars whose shape is () without asking: the backward pass skips its check.
_SCALAR_FLOATS = {float, np.float64}
# Python numbers stay Python numbers: scalar circuits run fastest on them.
_PY_NUMBERS = {float, int, bool}


_NUMERIC_KINDS = frozenset("biufc")
_PLAIN_OUTPUTS = frozenset({float, int, bool, complex, np.float64})


def check_inputs(leaves: Sequence[Any], fn_name: str) -> list:
    """The leaves as valid array inputs, or a TypeError naming ``fn_name``.

    Arrays, NumPy scalars, Python numbers and tracers pass. An ndarray
    subclass becomes a plain ndarray, as JAX does: ``np.matrix`` would turn
    ``*`` into a matrix product. A masked array is refused: dropping its
    mask would silently change the answer.
    """
    out = []
    for x in leaves:
        kind = type(x)
        if kind is float or kind is np.float64:      # the scalar circuits' hot path
            out.append(x)
            continue
        if kind is not np.ndarray and kind not in _PY_NUMBERS and kind is not complex:
            if isinstance(x, np.ma.MaskedArray):
                raise TypeError(f"{fn_name}: masked arrays are not supported (the mask "
                                "would be ignored); pass x.filled(value) or a plain array")
            if isinstance(x, np.ndarray):
                x = np.asarray(x)
            elif not isinstance(x, (np.generic, Tracer)):
                raise TypeError(
                    f"{fn_name}: an argument of type {kind.__name__} ({x!r:.60}) is not "
                    "a valid input; pass NumPy arrays, Python numbers, or tuples, lists "
                    "and dicts of them (mark other arguments static, or close over them)")
        dtype = getattr(x, "dtype", None)          # Python numbers have none
        if dtype is not None and dtype.kind not in _NUMERIC_KINDS:
            raise TypeError(f"{fn_name}: an argument of dtype {dtype} is not numeric; "
                            "pass arrays of numbers")
        out.append(x)
    return out


def check_outputs(leaves: Sequence[Any], fn_name: str) -> None:
    """Refuse outputs that are not arrays or numbers (a str, None, an object)."""
    for x in leaves:
        kind = type(x)
        if kind in _PLAIN_OUTPUTS or isinstance(x, Tracer):
            continue
        if not isinstance(x, (np.ndarray, np.generic)) or x.dtype.kind not in _NUMERIC_KINDS:
            raise TypeError(f"{fn_name}: the function returned {_describe(x)} ({x!r:.40}), "
                            "which is not an array; return arrays or numbers (or "
                            "pytrees of them)")


# ----- Reverse mode: the tape ------------------------------------------------

class TapeTracer(Tracer):
    """A value on the tape: its primal and the number of the wire it is on."""

    __slots__ = ("primal", "node")

    def __init__(self, trace: TapeTrace, primal: Any, node: int) -> None:
        self._trace = trace
        self.primal = primal
        self.node = node

    @property
    def aval(self) -> ShapedArray:
        return get_aval(self.primal)

    # Read straight off the value: these are asked for on every gate.
    @property
    def shape(self) -> tuple[int, ...]:
        return getattr(self.primal, "shape", ())

    @property
    def dtype(self) -> np.dtype:
        return P.dtype_of(self.primal)

    def to_concrete_value(self, what: str) -> Any:
        p = self.primal
        return p.to_concrete_value(what) if isinstance(p, Tracer) else p


def _refuse_complex(ans: Any, prim: Primitive, who: str) -> None:
    dtype = getattr(ans, "dtype", None)
    if dtype is not None and dtype.kind == "c" or type(ans) is complex:
        raise TypeError(f"{who}: {prim.name} produced a complex value, and nanojax does "
                        "not differentiate complex numbers yet; keep the differentiated "
                        "computation real (carry real and imaginary parts as two arrays)")


class TapeTrace(Trace):
    """Computes each gate and records it: (primitive, params, wires, values, output).

    ``who`` is the public name of the transformation, for error messages.
    """

    __slots__ = ("tape", "num_nodes", "who")

    def __init__(self, who: str = "nanojax.vjp") -> None:
        super().__init__()
        self.tape: list[tuple] = []
        self.num_nodes = 0
        self.who = who

    def new_input(self, primal: Any) -> TapeTracer:
        self.num_nodes += 1
        return TapeTracer(self, primal, self.num_nodes - 1)

    def process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        # Unwrap this trace's tracers to (value, wire); others are constants (-1).
        if len(args) == 2:             # most gates: spelled out, no lists
            x, y = args
            if type(x) is TapeTracer and x._trace is self:
                nx, x = x.node, x.primal
            else:
                nx = -1
            if type(y) is TapeTracer and y._trace is self:
                ny, y = y.node, y.primal
            else:
                ny = -1
            primals, nodes = (x, y), (nx, ny)
        else:
            primals, nodes = self.unwrap(args, TapeTracer, "primal", "node", -1)
        # At level 0 nothing below can be traced: skip bind's tracer scan.
        ans = (prim.impl(*primals, **params) if self.level == 0
               else prim.bind(*primals, **params))
        if not prim.differentiable:
            return _as_numpy(ans)
        if type(ans) not in _SCALAR_FLOATS:            # floats: the hot path
            for a in (ans if prim.multiple_results else (ans,)):
                _refuse_complex(a, prim, self.who)
        if prim.multiple_results:           # one wire per output; the entry holds them all
            first = self.num_nodes
            self.num_nodes = first + len(ans)
            out_nodes = tuple(range(first, first + len(ans)))
            self.tape.append((prim, params, nodes, primals, ans, out_nodes))
            return [TapeTracer(self, a, n) for a, n in zip(ans, out_nodes)]
        node = self.num_nodes
        self.num_nodes = node + 1
        self.tape.append((prim, params, nodes, primals, ans, node))
        return TapeTracer(self, ans, node)


_TO_NUMPY = {float: np.float64, bool: np.bool_, int: np.int64}


def _as_numpy(ans: Any) -> Any:
    """A gate's constant result (no derivative): a Python number as NumPy's scalar.

    Under JAX it would be a traced array; here it leaves the trace, but it
    keeps array methods (``(x > 0).astype(float)``, ``(x ** 0).reshape(1)``).
    """
    to_numpy = _TO_NUMPY.get(type(ans))
    return ans if to_numpy is None else to_numpy(ans)


def unbroadcast(ct: Any, shape: tuple[int, ...]) -> Any:
    """Sum a cotangent back to the shape of the input that was broadcast."""
    ct_shape = P.shape_of(ct)
    lead = len(ct_shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape) if d == 1 and ct_shape[lead + i] != 1)
    if lead < 0 or any(d != 1 and ct_shape[lead + i] not in (1, d)
                       for i, d in enumerate(shape)):
        return P.broadcast_to(ct, shape)
    if axes:
        ct = P.reduce_sum(ct, axes)
    if P.shape_of(ct) != shape:
        ct = P.reshape(ct, shape) if int(np.prod(P.shape_of(ct))) == int(np.prod(shape)) \
            else P.broadcast_to(ct, shape)
    return ct


def backward_pass(tape: list, num_nodes: int, seeds: dict[int, Any], keep: bool = False) -> list:
    """Walk the tape in reverse; return the cotangent of every wire (None = 0).

    Each gate's pull is freed once passed on, unless ``keep``: then every
    wire keeps its pull (``nj.circuit`` shows them all).
    """
    cts: list[Any] = [None] * num_nodes
    for node, g in seeds.items():
        cts[node] = g
    for prim, params, nodes, primals, ans, node in reversed(tape):
        if type(node) is tuple:       # several outputs: their pulls go in as a list
            if all(cts[n] is None for n in node):
                continue
            g = [_zeros_like(a) if cts[n] is None else cts[n] for n, a in zip(node, ans)]
            if not keep:
                for n in node:
                    cts[n] = None
        else:
            g = cts[node]
            if g is None:
                continue
            if not keep:
                cts[node] = None          # used once: let its memory go
        parts = prim.vjp_args
        if parts is None or len(parts) != len(nodes):       # e.g. a 3-case select_n
            parts = None
            if prim.vjp is None:
                raise NotImplementedError(
                    f"reverse-mode differentiation (grad, vjp, jacrev) of the primitive "
                    f"{prim.name} is not implemented; use forward mode (jvp, jacfwd) or "
                    "wrap the computation in nj.custom_vjp with a backward rule")
            in_cts = prim.vjp(g, ans, *primals, **params)
        else:
            in_cts = parts
        for k, in_node in enumerate(nodes):
            if in_node < 0:
                continue
            ct = in_cts[k]
            if ct is None:
                continue
            if parts is not None:     # a per-argument rule: only needed pulls are computed
                ct = ct(g, ans, *primals, **params)
                if ct is None:
                    continue
            x = primals[k]
            if not (type(ct) in _SCALAR_FLOATS and type(x) in _SCALAR_FLOATS):
                shape = getattr(x, "shape", ())
                if getattr(ct, "shape", ()) != shape:
                    ct = unbroadcast(ct, shape)
            prev = cts[in_node]
            cts[in_node] = ct if prev is None else P.add_p.bind(prev, ct)
    return cts


_FLOAT_ZERO = np.float64(0.0)      # NumPy scalars are immutable: one can be shared


def _zeros_like(x: Any) -> Any:
    if type(x) is float or type(x) is np.float64:
        return _FLOAT_ZERO
    return np.zeros(P.shape_of(x), P.dtype_of(x))[()] if not P.shape_of(x) \
        else np.zeros(P.shape_of(x), P.dtype_of(x))


def _match_input(ct: Any, x: Any) -> Any:
    """Give a cotangent its input's dtype and a writeable, own-memory array."""
    if ct is None:
        return _zeros_like(x)
    if type(ct) is np.float64 and (type(x) is float or type(x) is np.float64):
        return ct                                   # the scalar circuits' common case
    dtype = P.dtype_of(x)
    if not isinstance(ct, Tracer):
        if isinstance(ct, np.ndarray):
            if ct.dtype != dtype or not ct.flags.writeable:
                ct = ct.astype(dtype)
        elif type(ct) is not dtype.type:
            ct = dtype.type(ct)
    elif ct.dtype != dtype:
        ct = P.convert_element_type(ct, dtype)
    return ct


def _record(fun: Callable, flat: list, in_tree: Any, has_aux: bool,
            who: str = "nanojax.vjp") -> tuple:
    """Run ``fun`` on tape tracers standing for ``flat``; return what pulling needs."""
    trace = push_trace(TapeTrace, who)
    try:
        tracers = [trace.new_input(x) for x in flat]
        out = fun(*tree_unflatten(in_tree, tracers))
        aux = None
        if has_aux:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise TypeError(f"{who}: with has_aux=True, the function must return a pair "
                                f"(output, aux); it returned {_describe(out)}")
            out, aux = out
        out_flat, out_tree = tree_flatten(out)
    finally:
        pop_trace(trace)
    out_nodes = [o.node if type(o) is TapeTracer and o._trace is trace else -1
                 for o in out_flat]
    if -1 in out_nodes:               # a constant output: check what it is
        check_outputs(out_flat, who)
        for o in out_flat:
            if not isinstance(o, Tracer):
                _refuse_complex(o, _OUTPUT, who)
    out_primals = [o.primal if n >= 0 else o for o, n in zip(out_flat, out_nodes)]
    if has_aux:    # aux leaves its values, not this (now dead) trace's tracers
        aux_flat, aux_tree = tree_flatten(aux)
        aux = tree_unflatten(aux_tree, [a.primal if type(a) is TapeTracer and a._trace is trace
                                        else a for a in aux_flat])
    return trace, out_primals, out_tree, out_nodes, aux


class _Output:                      # stands in for a primitive in output errors
    name = "the function"


_OUTPUT = _Output()


def _pull(trace: TapeTrace, flat: list, seeds: dict[int, Any], extra_inputs: Sequence = ()
          ) -> list:
    cts = backward_pass(trace.tape, trace.num_nodes, seeds)
    grads = [_match_input(cts[i], x) for i, x in enumerate(flat)]
    for g in grads:
        if type(g) is not np.float64:         # scalar pulls share no memory
            return own_memory(grads, (*flat, *extra_inputs))
    return grads


def _describe(x: Any) -> str:
    if isinstance(x, Tracer):
        return f"an array of shape {x.shape}"
    return f"a {type(x).__name__}" + (f" of length {len(x)}" if isinstance(x, (tuple, list)) else "")


def seed_outputs(ct: Any, out_tree: Any, out_nodes: list[int], out_primals: list,
                 who: str, what: str) -> dict[int, Any]:
    """The pull on each output wire, checked against the output's structure and shapes."""
    ct_flat, ct_tree = tree_flatten(ct)
    ct_flat = check_inputs(ct_flat, who)
    if ct_tree != out_tree:
        raise ValueError(f"{who}: the {what} has structure {ct_tree} but the "
                         f"function's output has structure {out_tree}")
    seeds: dict[int, Any] = {}
    for n, c, o in zip(out_nodes, ct_flat, out_primals):
        if P.shape_of(c) != P.shape_of(o):
            raise ValueError(f"{who}: a {what} of shape {P.shape_of(c)} was given "
                             f"for an output of shape {P.shape_of(o)}")
        if n >= 0:   # a wire that is an output twice gets both pulls
            seeds[n] = c if n not in seeds else P.add_p.bind(seeds[n], c)
    return seeds


def vjp(fun: Callable, *primals: Any, has_aux: bool = False):
    """Run ``fun`` forward and return ``(out, vjp_fn)`` (and ``aux``).

    ``vjp_fn(ct)`` pulls a cotangent ``ct`` shaped like ``out`` back to the
    inputs and returns a tuple with one cotangent per primal.

    Examples:
        >>> import nanojax as nj
        >>> out, pull = nj.vjp(lambda x, y: x * y, -2.0, 3.0)
        >>> print(out, pull(1.0))
        -6.0 (np.float64(3.0), np.float64(-2.0))
    """
    check_callable(fun, "nanojax.vjp")
    return vjp_of(fun, primals, has_aux, "nanojax.vjp")


def vjp_of(fun: Callable, primals: Sequence[Any], has_aux: bool, who: str):
    """``vjp``, with ``who`` (``nanojax.jacrev``, say) naming the caller in errors."""
    flat, in_tree = tree_flatten(tuple(primals))
    flat = check_inputs(flat, who)
    _check_float_leaves(flat, who)
    trace, out_primals, out_tree, out_nodes, aux = _record(fun, flat, in_tree, has_aux, who)
    out_primals = own_memory(out_primals, flat)

    def vjp_fn(ct: Any) -> tuple:
        seeds = seed_outputs(ct, out_tree, out_nodes, out_primals, f"{who}'s vjp_fn",
                             "cotangent")
        return tuple(tree_unflatten(in_tree, _pull(trace, flat, seeds,
                                                   tree_flatten(ct)[0])))

    out = tree_unflatten(out_tree, out_primals)
    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def _check_argnums(argnums: int | Sequence[int], nargs: int, fn_name: str) -> tuple:
    nums = (argnums,) if isinstance(argnums, (int, str)) else (
        tuple(argnums) if isinstance(argnums, (tuple, list)) else ())
    if not nums or any(not isinstance(i, (int, np.integer)) or isinstance(i, bool)
                       for i in nums):
        raise TypeError(f"{fn_name}: argnums must be an int or a non-empty tuple of "
                        f"ints, got {argnums!r}")
    for i in nums:
        if not -nargs <= i < nargs:     # a TypeError, as in JAX
            raise TypeError(f"{fn_name}: argnums {argnums!r} refers to argument {i}, "
                            f"but the function was called with {nargs} positional "
                            "arguments")
    resolved = tuple(int(i) % nargs for i in nums)
    if len(set(resolved)) != len(resolved):
        raise ValueError(f"{fn_name}: argnums {argnums!r} names an argument more than "
                         "once; list each argument to differentiate once")
    return resolved


def _check_float_leaves(leaves: Sequence[Any], fn_name: str) -> None:
    for leaf in leaves:
        kind = type(leaf)
        if kind is float or kind is np.float64:
            continue
        dtype = P.dtype_of(leaf) if kind in P._PY_DTYPES or hasattr(leaf, "dtype") else None
        if dtype is not None and dtype.kind == "c":
            raise TypeError(
                f"{fn_name}: complex inputs are not supported yet (got {dtype}); nanojax "
                "differentiates real functions of real floats only, so pass the real and "
                "imaginary parts as two float arrays")
        if dtype is None or dtype.kind != "f":
            got = dtype if dtype is not None else kind.__name__
            raise TypeError(
                f"{fn_name} requires real-valued float inputs, but got a value of type "
                f"{got}. Pass floats (3.0, not 3; np.asarray(x, dtype=float) for "
                "arrays), or leave the argument out of argnums if it is not "
                "differentiated.")


def _check_float_inputs(args: Sequence[Any], nums: tuple, fn_name: str) -> None:
    for i in nums:
        _check_float_leaves(tree_flatten(args[i])[0], f"{fn_name} (argument {i})")


def value_and_grad(fun: Callable, argnums: int | Sequence[int] = 0,
                   has_aux: bool = False) -> Callable:
    """Like ``grad``, but return ``(value, grad)`` (``((value, aux), grad)``).

    Examples:
        >>> import nanojax as nj
        >>> value, g = nj.value_and_grad(lambda x, y: x * y)(-2.0, 3.0)
        >>> print(value, g)
        -6.0 3.0
    """
    check_callable(fun, "nanojax.grad")
    checked_nums: dict[int, tuple] = {}      # argnums resolved per argument count

    def value_and_grad_fun(*args: Any, **kwargs: Any):
        nums = checked_nums.get(len(args))
        if nums is None:
            nums = checked_nums[len(args)] = _check_argnums(argnums, len(args),
                                                            "nanojax.grad")
        flat, in_tree = tree_flatten(tuple([args[i] for i in nums]))
        flat = check_inputs(flat, "nanojax.grad")
        _check_float_leaves(flat, "nanojax.grad")

        def restricted(*diff_args):
            full = list(args)
            for i, a in zip(nums, diff_args):
                full[i] = a
            return fun(*full, **kwargs)

        trace, outs, out_tree, nodes, aux = _record(restricted, flat, in_tree, has_aux,
                                                    "nanojax.grad")
        if out_tree.node_type is not None or P.shape_of(outs[0]) != ():
            what = (f"shape {P.shape_of(outs[0])}" if out_tree.node_type is None
                    else f"the structure {out_tree}")
            raise TypeError(
                f"nanojax.grad requires a function with a scalar output, but the output "
                f"had {what}. Use nj.jacrev or nj.vjp for non-scalar outputs, or reduce "
                "the output (e.g. jnp.sum) first.")
        value, node = outs[0], nodes[0]
        dtype = P.dtype_of(value)
        if dtype.kind != "f":
            raise TypeError(f"nanojax.grad requires a real-valued float output, got {dtype}; "
                            "return a float (jnp.astype(out, float) for an int or bool)")
        grads = tree_unflatten(in_tree, _pull(trace, flat, {node: dtype.type(1.0)}
                                              if node >= 0 else {}))
        if type(value) is np.ndarray:       # f(x) = x on a 0-d array, say
            value = own_memory([value], flat)[0]
        g = grads[0] if isinstance(argnums, int) else grads
        return ((value, aux) if has_aux else value), g

    value_and_grad_fun.__name__ = f"value_and_grad({getattr(fun, '__name__', 'fun')})"
    value_and_grad_fun.__doc__ = fun.__doc__
    return value_and_grad_fun


def grad(fun: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
    """The gradient of a scalar function, as a function of the same arguments.

    ``argnums`` picks the argument(s) to differentiate: an int gives one
    gradient, a tuple gives a tuple. Arguments may be pytrees; the gradient
    mirrors their structure. With ``has_aux`` the function returns
    ``(value, aux)`` and the gradient function returns ``(grad, aux)``.

    Examples:
        The guide's multiply gate pulls x by y and y by x:

        >>> import nanojax as nj
        >>> dx, dy = nj.grad(lambda x, y: x * y, argnums=(0, 1))(-2.0, 3.0)
        >>> print(dx, dy)
        3.0 -2.0
    """
    vg = value_and_grad(fun, argnums, has_aux)

    def grad_fun(*args: Any, **kwargs: Any):
        value, g = vg(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    grad_fun.__name__ = f"grad({getattr(fun, '__name__', 'fun')})"
    grad_fun.__doc__ = fun.__doc__
    return grad_fun


# ----- Forward mode: tangents ---------------------------------------------------

class JVPTracer(Tracer):
    """A primal with its tangent (never None: a zero tangent is not traced)."""

    __slots__ = ("primal", "tangent")

    def __init__(self, trace: JVPTrace, primal: Any, tangent: Any) -> None:
        self._trace = trace
        self.primal = primal
        self.tangent = tangent

    @property
    def aval(self) -> ShapedArray:
        return get_aval(self.primal)

    def to_concrete_value(self, what: str) -> Any:
        p = self.primal
        return p.to_concrete_value(what) if isinstance(p, Tracer) else p


class JVPTrace(Trace):
    __slots__ = ("who",)

    def __init__(self, who: str = "nanojax.jvp") -> None:
        super().__init__()
        self.who = who

    def process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        primals, tangents = self.unwrap(args, JVPTracer, "primal", "tangent", None)
        ans = prim.bind(*primals, **params)
        if not prim.differentiable:
            return _as_numpy(ans)
        for a in (ans if prim.multiple_results else (ans,)):
            _refuse_complex(a, prim, self.who)
        if prim.jvp is None:
            raise NotImplementedError(f"forward-mode differentiation (jvp, jacfwd) of the "
                                      f"primitive {prim.name} is not implemented; use "
                                      "reverse mode (grad, vjp, jacrev)")
        t = prim.jvp(primals, tangents, ans, **params)
        return _as_numpy(ans) if t is None else JVPTracer(self, ans, t)


def jvp(fun: Callable, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """Push ``tangents`` forward through ``fun`` at ``primals``.

    Returns ``(fun(*primals), tangent_out)``.

    Examples:
        >>> import nanojax as nj
        >>> out, t = nj.jvp(lambda x, y: x * y, (-2.0, 3.0), (1.0, 0.0))
        >>> print(out, t)
        -6.0 3.0
    """
    check_callable(fun, "nanojax.jvp")
    return jvp_of(fun, primals, tangents, "nanojax.jvp")


def jvp_of(fun: Callable, primals: Sequence[Any], tangents: Sequence[Any], who: str
           ) -> tuple[Any, Any]:
    """``jvp``, with ``who`` (``nanojax.jacfwd``, say) naming the caller in errors."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(f"{who}: primals and tangents must be tuples or lists of "
                        f"arguments, got {type(primals).__name__} and "
                        f"{type(tangents).__name__}")
    p_flat, p_tree = tree_flatten(tuple(primals))
    t_flat, t_tree = tree_flatten(tuple(tangents))
    if p_tree != t_tree:
        raise ValueError(f"{who}: primals have structure {p_tree} but tangents have "
                         f"{t_tree}")
    p_flat = check_inputs(p_flat, who)
    t_flat = check_inputs(t_flat, who)
    _check_float_leaves(p_flat, who)
    _check_float_leaves(t_flat, f"{who} (tangents)")
    for p, t in zip(p_flat, t_flat):
        if P.shape_of(p) != P.shape_of(t):
            raise ValueError(f"{who}: a tangent of shape {P.shape_of(t)} was given "
                             f"for a primal of shape {P.shape_of(p)}")
    trace = push_trace(JVPTrace, who)
    try:
        tracers = [JVPTracer(trace, p, t) for p, t in zip(p_flat, t_flat)]
        out = fun(*tree_unflatten(p_tree, tracers))
        out_flat, out_tree = tree_flatten(out)
    finally:
        pop_trace(trace)
    check_outputs(out_flat, who)
    outs, touts = [], []
    for o in out_flat:
        if type(o) is JVPTracer and o._trace is trace:
            outs.append(o.primal)
            touts.append(_fit(o.tangent, o.primal))
        else:
            _refuse_complex(o, _OUTPUT, who)
            outs.append(o)
            touts.append(_zeros_like(o))
    mine = own_memory(outs + touts, (*p_flat, *t_flat))
    return (tree_unflatten(out_tree, mine[:len(outs)]),
            tree_unflatten(out_tree, mine[len(outs):]))


def _fit(t: Any, primal: Any) -> Any:
    if P.shape_of(t) != P.shape_of(primal):
        t = P.broadcast_to(t, P.shape_of(primal))
    return _match_input(t, primal)
