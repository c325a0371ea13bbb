"""``jit``: stage once per signature, simplify, generate Python, cache.

The first call with a new signature (pytree structure, shapes, dtypes,
static values) records the function as a jaxpr, runs ``simplify`` on it and
writes one line of straight-line Python per equation: NumPy calls for arrays,
plain Python arithmetic and ``math`` for scalars (many times faster than
NumPy on 0-d values). Later calls with that signature run the compiled code
directly. Called with tracers (inside ``grad``, ``vmap``, ``make_jaxpr``), a
jitted function evaluates its jaxpr on them, so it composes with everything.

The generated source holds only names nanojax chose and numbers; parameters
and constants are bound as values in its namespace, never written as text.
"""

from __future__ import annotations

import functools
import logging
import math
import weakref
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

from nanojax.api_util import (argnums_partial, check_callable, check_inputs, check_static,
                              name_transformed, static_by_name)
from nanojax.collectives import axis_env, uses_named_axes
from nanojax.core import ClosedJaxpr, Literal, Tracer, Var, eval_jaxpr
from nanojax.memory_plan import (EXTERNAL, POOL_LIMIT_BYTES, WorkspacePool, c_ordered,
                                 plan_memory)
from nanojax.dtypes import F64, I64, PY_SCALAR_DTYPES, PY_TO_NUMPY, SCALAR_TYPES
from nanojax.debug import uses_debug_callbacks
from nanojax.simplify import simplify
from nanojax.source_info import arg_labels, at_boundary
from nanojax.staging import abstractify, trace_to_jaxpr
from nanojax.tree_util import PyTreeDef, tree_flatten, tree_unflatten
from nanojax.array import ArrayImpl

__all__ = ["jit", "Lowered", "clear_caches", "JIT_DISABLED", "set_jit_disabled", "set_jit_check"]

# The dtypes of Python's float, int and bool, whose literals read back exactly.
_PY_LITERAL_DTYPES = {PY_SCALAR_DTYPES[t] for t in (float, int, bool)}


# ----- Code generation ----------------------------------------------------------
# Each line is what the primitive's own ``lowering`` says (primitives.py), and
# computes exactly what its impl computes, to the bit: eager and jitted code
# agree on -0.0, inf and NaN too.

_NAMESPACE = {"_f64": np.float64, "_i64": np.int64, "_bool": np.bool_, "_c128": np.complex128,
              "_np": np}


def _is_f64_scalar(aval: Any) -> bool:
    return aval.shape == () and aval.dtype == F64


class _Writer:
    """Names for a jaxpr's variables, and values bound in the code's namespace."""

    def __init__(self, jaxpr: Any, consts: list) -> None:
        self.namespace: dict[str, Any] = dict(_NAMESPACE)
        self.names: dict[Var, str] = {}
        self.helpers: list[str] = []        # functions the code calls: loops, branches
        # Python float math raises where NumPy warns, and the call is then
        # redone with NumPy: a debug callback would run twice. With one in
        # the circuit, float64 scalars compute with NumPy (the same bits).
        self.float_math = not uses_debug_callbacks(jaxpr)
        for v, c in zip(jaxpr.constvars, consts):
            self.namespace[self.name(v)] = c

    def name(self, v: Var) -> str:
        self.names[v] = f"v{len(self.names)}"
        return self.names[v]

    def block(self, closed: ClosedJaxpr, in_names: list[str]) -> tuple[list[str], list[str], bool]:
        """Lines computing the outputs of a body (a branch, a loop step) from ``in_names``.

        Returns the lines, the expressions of the outputs and whether they
        use Python float math. The body is simplified first, and written
        one line per equation like the circuit around it, but without the
        memory plan: a loop step's variables are simply rebound each time.
        """
        closed = simplify(closed)
        jaxpr = closed.jaxpr
        for v, c in zip(jaxpr.constvars, closed.consts):
            self.namespace[self.name(v)] = c
        for v, name in zip(jaxpr.invars, in_names, strict=True):
            self.names[v] = name
        lines, float_math = [], False
        for eqn in jaxpr.eqns:
            expr, fm = _expression(self, eqn)
            float_math |= fm
            outs = [self.name(v) for v in eqn.outvars]
            lines.append(_assignment(outs, eqn.primitive.multiple_results, expr))
        return lines, [self.atom(v) for v in jaxpr.outvars], float_math

    def helper(self, prefix: str, args: list[str], lines: list[str]) -> str:
        """Define a function of generated ``lines`` before the jitted one; return its name."""
        name = f"{prefix}{len(self.helpers)}"
        self.helpers.append("\n".join([f"def {name}({', '.join(args)}):",
                                        *(f"    {line}" for line in lines)]))
        return name

    def bind(self, value: Any, prefix: str = "_k") -> str:
        """A name for ``value`` in the namespace: the source never holds its repr."""
        name = f"{prefix}{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def atom(self, a: Any) -> str:
        if not isinstance(a, Literal):
            return self.names[a]
        val = a.val
        if type(val) in (np.float64, np.int64, np.bool_):
            val = val.item()                  # the very same number, as Python's own
        # Python's own int, float and bool literals read back exactly.
        if (type(val) in (int, bool) or (type(val) is float and math.isfinite(val))) and (
                a.aval.dtype in _PY_LITERAL_DTYPES or a.aval.weak_type):
            return repr(val)
        return self.bind(val)


def _is_weak_int_scalar(aval: Any) -> bool:
    return aval.shape == () and aval.dtype == I64 and aval.weak_type


def _is_mixed_scalars(in_avals: list, out_aval: Any) -> bool:
    """An int64 scalar beside a float64 one, giving a float64."""
    return (out_aval.shape == () and out_aval.dtype == F64 and len(in_avals) == 2
            and all(a.shape == () for a in in_avals)
            and {a.dtype for a in in_avals} == {F64, I64})


def _expression(w: _Writer, eqn: Any) -> tuple[str, bool]:
    """The Python expression of one equation, and whether it is Python float math.

    Every form comes from the primitive's own ``lowering`` (see
    ``core.Lowering``); without one, the line calls its ``impl``.
    """
    prim, params = eqn.primitive, eqn.params
    ins = [w.atom(a) for a in eqn.invars]
    in_avals = [a.aval for a in eqn.invars]
    out_aval: Any = eqn.outvars[0].aval if eqn.outvars else None    # a debug callback: none
    low = prim.lowering
    if low is not None:
        if low.custom is not None:
            custom = low.custom(w, ins, params, in_avals, out_aval)
            if custom is not None:
                return custom
        if low.float_expr is not None and out_aval.shape == () and (
                (w.float_math and all(map(_is_f64_scalar, in_avals)))
                or (low.mixed and ((w.float_math and _is_mixed_scalars(in_avals, out_aval))
                                   or all(map(_is_weak_int_scalar, in_avals))))):
            # Python numbers stay Python numbers, as they do eagerly: a weak
            # int times a weak int is Python's int, which meets a uint8 array
            # as a weak scalar, where NumPy's int64 would widen it.
            return low.float_expr.format(*ins), True
        if low.array_expr is not None and out_aval.shape != ():
            return low.array_expr.format(*ins), False
        if low.ufunc is not None and not params:
            return f"_np.{low.ufunc}({', '.join(ins)})", False
    fn = functools.partial(prim.impl, **params) if params else prim.impl
    return f"{w.bind(fn, '_p')}({', '.join(ins)})", False


def _assignment(outs: list[str], multiple: bool, expr: str) -> str:
    if not multiple:
        return f"{outs[0]} = {expr}"
    return f"{', '.join(outs)}, = {expr}" if outs else expr      # unpack a list of results


_OUT_WRAP = {"f64": "_f64", "i64": "_i64", "bool": "_bool", "c128": "_c128"}


class Lowered:
    """What ``jit`` runs for one signature: the simplified jaxpr and its Python."""

    def __init__(self, jaxpr: ClosedJaxpr, source: str) -> None:
        self.jaxpr = jaxpr
        self.source = source

    def as_text(self) -> str:
        return self.source

    def __str__(self) -> str:
        return self.source


class _Staged:
    """A circuit run by binding its primitives, not compiled.

    Its constants include tracers of an enclosing transformation, or it
    applies collectives, whose values come from the ``vmap`` that names
    their axis: binding them there is what computes them.
    """

    __slots__ = ("jaxpr", "out_tree", "source")

    def __init__(self, closed: ClosedJaxpr, out_tree: PyTreeDef,
                 why: str = "closes over traced values of an enclosing transformation") -> None:
        self.jaxpr = closed
        self.out_tree = out_tree
        self.source = f"# not compiled: the function {why}\n"


class _Compiled:
    __slots__ = ("fn", "jaxpr", "source", "out_tree", "namespace")

    def __init__(self, closed: ClosedJaxpr, out_tree: PyTreeDef, args_c: list[bool]) -> None:
        self.jaxpr = closed
        self.out_tree = out_tree
        self.source, self.fn = _generate(closed, out_tree, args_c)
        self.namespace = self.fn.__globals__

    def guarded(self, types: tuple, other_types: Callable) -> Callable:
        """The same code behind a check of its arguments' types (``other_types`` if not).

        For a call on scalars only, checking ``type(v) is float`` in Python is
        cheaper than building the tuple of types a dict lookup needs: the
        guide's SVM step calls its jitted gradient a thousand times a second.
        """
        # The helpers (loops, branches) are defined already, in the namespace.
        own = self.source[self.source.index("def jitted("):]
        args = own.split("(", 1)[1].split(")", 1)[0]
        names = [a.strip() for a in args.split(",") if a.strip()]
        ns = dict(self.namespace, _other_types=other_types)
        checks = []
        for k, (name, t) in enumerate(zip(names, types, strict=True)):
            ns[f"_type{k}"] = t
            checks.append(f"type({name}) is not _type{k}")
        head, body = own.split("\n", 1)
        source = (f"{head}\n    if {' or '.join(checks)}:\n"
                  f"        return _other_types({', '.join(names)})\n{body}")
        exec(compile(source, "<nanojax.jit>", "exec"), ns)  # noqa: S102 - our own code
        return ns["jitted"]


def _generate(closed: ClosedJaxpr, out_tree: PyTreeDef, args_c: list[bool]
              ) -> tuple[str, Callable]:
    jaxpr = closed.jaxpr
    w = _Writer(jaxpr, closed.consts)
    args = [w.name(v) for v in jaxpr.invars]
    plan = plan_memory(jaxpr, closed.consts, args_c, lambda eqn: _into_form(eqn) is not None,
                       _is_elementwise, use_workspace=REUSE_BUFFERS)
    # Which buffers each variable may live in: an input's or constant's
    # (EXTERNAL), or one allocated here (the variable that made it). An output
    # is copied only if it may share memory with the caller's arrays or with
    # an earlier output, so returning fresh results costs nothing.
    buffers = plan.buffers
    views = [f"_w{k}" for k in range(len(plan.views))]
    viewed: set[Var] = set()          # buffers some other variable is a view of
    body, scalar_math = [], False
    for i, eqn in enumerate(jaxpr.eqns):
        home = plan.home.get(eqn.outvars[0]) if eqn.outvars else None
        reuse = None if home is not None else _reusable_operand(
            eqn, plan.dies_after.get(i, ()), buffers, viewed, plan.c_order)
        into = views[home] if home is not None else w.names[reuse] if reuse is not None \
            else None
        form = _into_form(eqn) if into is not None else None
        if form is not None and into is not None:
            # Into its workspace view, or into the memory of an operand that
            # dies here and owns it: memory already paged in.
            expr, float_math = form(w, [w.atom(a) for a in eqn.invars], into), False
        else:
            expr, float_math = _expression(w, eqn)
        scalar_math |= float_math
        outs = [w.name(v) for v in eqn.outvars]
        body.append(_assignment(outs, eqn.primitive.multiple_results, expr))
        if plan.dies_after.get(i):
            body.append(f"del {', '.join(w.names[v] for v in plan.dies_after[i])}")
        for v in eqn.outvars:          # a view lives in its operands' buffers
            viewed.update(b for b in buffers[v] if b is not v and isinstance(b, Var))
    results: list[str] = []
    claimed: set[str] = set()
    for v in jaxpr.outvars:
        text = w.atom(v)
        short = v.aval.str_short().split("[")[0]
        if v.aval.shape == () and short in _OUT_WRAP:
            text = f"{_OUT_WRAP[short]}({text})"     # NumPy scalars, as eager returns
        elif isinstance(v, Var):
            mine = buffers[v]
            if mine & claimed or EXTERNAL in mine:
                text = f"_copy({text})"
            elif v not in mine:
                text = f"_own({text})"     # a view of a fresh array: copy if read-only
            claimed |= mine
            if v.aval.shape != ():
                text = f"{text}.view(_ArrayImpl)"    # handed out with JAX's methods
        results.append(text)
    w.namespace["_copy"] = np.array
    w.namespace["_own"] = _own
    w.namespace["_ArrayImpl"] = ArrayImpl
    ret = _return_expr(results, out_tree)
    w.namespace["_unflatten"] = functools.partial(tree_unflatten, out_tree)
    if views:
        body = _with_workspace(w, plan, views, body)
    lines = [f"def jitted({', '.join(args)}):"]
    if scalar_math:
        # Python math raises where NumPy warns (1/0, an overflowing power):
        # then the call is redone with NumPy's semantics.
        lines.append("    try:")
        lines += [f"        {line}" for line in body] + [f"        return {ret}"]
        lines.append("    except ArithmeticError:")
        lines.append(f"        return _numpy_semantics({', '.join(args)})")
        w.namespace["_numpy_semantics"] = _interpreted(closed, out_tree)
    else:
        lines += [f"    {line}" for line in body] + [f"    return {ret}"]
    source = "".join(f"{h}\n\n\n" for h in w.helpers) + "\n".join(lines) + "\n"
    exec(compile(source, "<nanojax.jit>", "exec"), w.namespace)  # noqa: S102 - our own code
    return source, w.namespace["jitted"]


def _with_workspace(w: _Writer, plan: Any, views: list[str], body: list[str]) -> list[str]:
    """The body between taking a workspace and giving it back.

    A workspace small enough is kept between calls (in a pool, one per call
    running at once); a larger one is made for each call and dropped.
    """
    unpack = f"{', '.join(views)}{',' if len(views) == 1 else ''} = _ws"
    if plan.workspace_bytes <= POOL_LIMIT_BYTES:
        pool = WorkspacePool(plan.make_workspace)
        w.namespace["_take"], w.namespace["_give_back"] = pool.take, pool.give_back
        return ["_ws = _take()", unpack, *body, "_give_back(_ws)"]
    w.namespace["_take"] = plan.make_workspace
    return ["_ws = _take()", unpack, *body, "del _ws"]


REUSE_BUFFERS = True     # tests turn it off to check that reuse changes no bit


def _into_form(eqn: Any) -> Callable | None:
    """How to write the equation's result into a given array, or None.

    ``form(writer, ins, out)`` is the expression; it computes the very bits
    of the equation's ``impl``, into memory already there.
    """
    low = eqn.primitive.lowering
    if low is None or eqn.primitive.multiple_results:
        return None
    if low.into is not None:
        return low.into(eqn.params, [a.aval for a in eqn.invars], eqn.outvars[0].aval)
    if low.ufunc is not None and not eqn.params:
        return lambda w, ins, out: f"_np.{low.ufunc}({', '.join(ins)}, out={out})"
    return None


def _is_elementwise(eqn: Any) -> bool:
    low = eqn.primitive.lowering
    return low is not None and (low.ufunc is not None or low.elementwise) and not eqn.params


def _reusable_operand(eqn: Any, dying: Any, buffers: dict, viewed: set, c_order: dict
                      ) -> Var | None:
    """An operand an elementwise equation may overwrite with its result, or None.

    It must die at this equation, have the output's shape and dtype, and own
    its memory outright: made here (not an argument's, a constant's, an
    output's, a workspace view), and no other variable a view of it. Then
    ``out=`` computes the very same bits into memory that is already paged
    in, instead of asking malloc for a fresh array. The operands must agree
    on the layout NumPy would give a fresh result: all in C order, or one.
    """
    if not REUSE_BUFFERS or not _is_elementwise(eqn) or _into_form(eqn) is None:
        return None
    arrays = [a for a in eqn.invars if isinstance(a, Var) and a.aval.shape != ()]
    if len(arrays) > 1 and not c_order[eqn.outvars[0]]:
        return None
    out = eqn.outvars[0].aval
    if out.shape == ():
        return None
    for a in eqn.invars:
        if (isinstance(a, Var) and a in dying and a.aval.shape == out.shape
                and a.aval.dtype == out.dtype and buffers.get(a) == frozenset({a})
                and a not in viewed):
            return a
    return None




def _return_expr(results: list[str], out_tree: PyTreeDef) -> str:
    if out_tree.node_type is None:
        return results[0]
    if out_tree.node_type is tuple and all(c.node_type is None for c in out_tree.children):
        return "(" + ", ".join(results) + ("," if len(results) == 1 else "") + ")"
    return "_unflatten((" + ", ".join(results) + ("," if len(results) == 1 else "") + "))"


def _interpreted(closed: ClosedJaxpr, out_tree: PyTreeDef) -> Callable:
    def run(*args: Any) -> Any:
        with np.errstate(all="ignore"):
            outs = eval_jaxpr(closed.jaxpr, closed.consts, *args)
        outs = [PY_TO_NUMPY[type(o)](o) if type(o) in PY_TO_NUMPY else
                np.array(o).view(ArrayImpl) if isinstance(o, np.ndarray) and o.ndim else
                np.array(o) if isinstance(o, np.ndarray) else o for o in outs]
        return tree_unflatten(out_tree, outs)
    return run


def _own(x: np.ndarray) -> np.ndarray:
    return x if x.flags.writeable else x.copy()


# ----- The cache and the call path -----------------------------------------------

def _leaf_signature(x: Any) -> Any:
    t = type(x)
    if t in SCALAR_TYPES:
        return t
    if isinstance(x, Tracer):
        aval = x.aval
        return ("tracer", aval.shape, aval.dtype.str)
    # The memory order too: the code writes C-ordered results where NumPy would.
    return (x.shape, x.dtype.str, c_ordered(x))


def _plain_signature(tree: Any, leaves: list) -> Any:
    """The cache key of plain tuples/lists/dicts of arrays and numbers, or None.

    It collects the leaves in ``tree_flatten``'s order as it goes, so a call
    with the usual arguments (a dict of parameters, a batch) skips building a
    PyTreeDef; anything else (tracers, registered nodes) returns None and
    takes the general path.
    """
    kind = type(tree)
    if kind is np.ndarray or kind is ArrayImpl:
        # Computed with as a plain array: NumPy is slower on subclasses.
        leaves.append(tree if kind is np.ndarray else tree.view(np.ndarray))
        return (tree.shape, tree.dtype, tree.ndim < 2 or tree.flags.c_contiguous
                or c_ordered(tree))
    if kind in SCALAR_TYPES:
        leaves.append(tree)
        return kind
    if kind is tuple or kind is list:
        parts = []
        for child in tree:
            sig = _plain_signature(child, leaves)
            if sig is None:
                return None
            parts.append(sig)
        return (kind, tuple(parts))
    if kind is dict:
        try:
            keys = sorted(tree)
        except TypeError:
            return None
        parts = []
        for k in keys:
            sig = _plain_signature(tree[k], leaves)
            if sig is None:
                return None
            parts.append(sig)
        return (dict, tuple(keys), tuple(parts))
    return None


# ----- Retraces made visible --------------------------------------------------------

_MANY_TRACES = 10        # past this many traces of one function, a warning says why
_LOGGER = logging.getLogger("nanojax")


def _explaining() -> bool:
    from nanojax import config
    return bool(config.read("jax_explain_cache_misses"))


def _log_retrace(name: str, count: int, old: Any, new: Any,
                 labels: Callable[[], list[str]]) -> None:
    why = _explain_miss(old, new, labels)
    if count == _MANY_TRACES + 1:
        _LOGGER.warning("nanojax.jit: %s has been traced %d times, each new signature "
                        "tracing it again (this time because %s); pass arrays of fixed "
                        "shapes, or mark settings static", name, count, why)
    else:
        _LOGGER.warning("nanojax.jit: tracing %s again (trace %d) because %s", name, count,
                        why)


def _describe_leaf(sig: Any) -> str:
    if isinstance(sig, type):
        weak = " (weak type)" if sig in (float, int, complex) else ""
        return f"a Python {sig.__name__}{weak}" if sig.__module__ == "builtins" \
            else f"a NumPy {sig.__name__} scalar"
    if sig[0] == "tracer":
        return f"a traced {np.dtype(sig[2]).name}{list(sig[1])}"
    return f"a {np.dtype(sig[1]).name} array of shape {sig[0]}"


def _explain_miss(old: Any, new: Any, labels: Callable[[], list[str]]) -> str:
    """Why signature ``new`` missed the cache, compared with ``old``, the last one traced."""
    if old is None:
        return "its cache was cleared"
    o_tree, o_leaves, o_statics, o_kw, o_axes = old
    n_tree, n_leaves, n_statics, n_kw, n_axes = new
    if o_tree != n_tree:
        return f"the arguments' tree structure changed: {o_tree} -> {n_tree}"
    reasons = []
    try:
        names = labels()
    except Exception:  # noqa: BLE001 - a name is a nicety: never hide the explanation
        names = []
    if len(names) != len(n_leaves):
        names = [f"#{k}" for k in range(len(n_leaves))]
    for name, a, b in zip(names, o_leaves, n_leaves):
        if a == b:
            continue
        if isinstance(a, tuple) and isinstance(b, tuple) and a[0] != "tracer" != b[0]:
            if a[0] != b[0]:
                reasons.append(f"argument `{name}` changed shape {a[0]} -> {b[0]}")
            if a[1] != b[1]:
                reasons.append(f"argument `{name}` changed dtype {np.dtype(a[1]).name} -> "
                               f"{np.dtype(b[1]).name}")
            if a[2] != b[2]:
                reasons.append(f"argument `{name}` changed memory order "
                               f"{'C' if a[2] else 'not C'} -> {'C' if b[2] else 'not C'}")
            continue
        weak = "; a weak-type change" if (a in (float, int, complex)) != (
            b in (float, int, complex)) else ""
        reasons.append(f"argument `{name}` changed from {_describe_leaf(a)} to "
                       f"{_describe_leaf(b)}{weak}")
    for (i, a), (j, b) in zip(o_statics, n_statics):
        if i == j and a != b:
            reasons.append(f"static argument {i} changed value {a!r} -> {b!r}")
    if len(o_statics) != len(n_statics) and not reasons:
        reasons.append("a different set of static arguments was passed")
    for (k, a), (m, b) in zip(o_kw, n_kw):
        if k == m and a != b:
            reasons.append(f"static argument {k!r} changed value {a!r} -> {b!r}")
    if o_kw != n_kw and not any("static argument '" in r for r in reasons):
        reasons.append(f"the static keyword arguments changed: {dict(o_kw)} -> {dict(n_kw)}")
    if o_axes != n_axes:
        reasons.append(f"the named axes around the call changed: {o_axes} -> {n_axes}")
    return "; ".join(reasons) or "its signature is new"


# ``nanojax.disable_jit()`` and the ``jax_disable_jit`` flag: jitted functions
# then run their Python, op by op (a list, so that the flag is read per call).
JIT_DISABLED = [False]
# True while jitted calls must leave their fast path: jit disabled, or the
# NaN/inf checks on (then ``_JIT_CHECK[0]`` checks the call). One flag, read
# once per call, so that the checks cost nothing while they are off.
_SLOW_PATH = [False]
_JIT_CHECK: list[Callable | None] = [None]


def set_jit_disabled(value: bool) -> None:
    """``nanojax.disable_jit`` and the ``jax_disable_jit`` flag."""
    JIT_DISABLED[0] = bool(value)
    _SLOW_PATH[0] = JIT_DISABLED[0] or _JIT_CHECK[0] is not None


def set_jit_check(check: Callable | None) -> None:
    """``check(run, lookup, name)`` runs each jitted call from now on (None: none does)."""
    _JIT_CHECK[0] = check
    _SLOW_PATH[0] = JIT_DISABLED[0] or check is not None

# Every jitted function's cache-clearing function, for ``nanojax.clear_caches``.
_CLEARERS: weakref.WeakSet = weakref.WeakSet()


class _Clearer:
    __slots__ = ("clear", "__weakref__")

    def __init__(self, clear: Callable[[], None]) -> None:
        self.clear = clear


def clear_caches() -> None:
    """Forget every compiled signature of every jitted function (they retrace)."""
    for c in list(_CLEARERS):
        c.clear()


def jit(fun: Callable | None = None, static_argnums: int | Sequence[int] | None = None,
        static_argnames: str | Sequence[str] | None = None, *,
        donate_argnums: int | Sequence[int] | None = None,
        donate_argnames: str | Sequence[str] | None = None,
        inline: bool = False, keep_unused: bool = False, device: Any = None,
        backend: str | None = None, in_shardings: Any = None, out_shardings: Any = None,
        compiler_options: Any = None, abstracted_axes: Any = None) -> Any:
    """Compile ``fun`` to straight-line NumPy/Python, once per signature.

    Static arguments are Python values baked into the trace (and the cache
    key); every other argument is abstract while tracing, so a Python ``if``
    on it raises ``ConcretizationTypeError``. ``jit(f).lower(*args)`` shows
    the generated code.

    JAX's other keywords are accepted. ``donate_argnums``/``donate_argnames``
    allow JAX to reuse an argument's memory; nanojax never writes into a
    caller's array, so donating changes nothing. ``inline``, ``keep_unused``,
    ``device``, ``backend`` (``"cpu"`` only), the shardings and
    ``compiler_options`` have nothing to choose on one CPU. Without ``fun``,
    ``jit(static_argnums=...)`` is a decorator, as
    ``functools.partial(jit, ...)`` is.

    Examples:
        >>> import nanojax as nj
        >>> f = nj.jit(lambda x, y: x * y + 1.0)
        >>> print(f(-2.0, 3.0))
        -5.0
        >>> print(f.lower(-2.0, 3.0).as_text())
        def jitted(v0, v1):
            try:
                v2 = v0 * v1
                v3 = v2 + 1.0
                return _f64(v3)
            except ArithmeticError:
                return _numpy_semantics(v0, v1)
        <BLANKLINE>
    """
    if fun is None:
        return functools.partial(
            jit, static_argnums=static_argnums, static_argnames=static_argnames,
            donate_argnums=donate_argnums, donate_argnames=donate_argnames, inline=inline,
            keep_unused=keep_unused, device=device, backend=backend,
            in_shardings=in_shardings, out_shardings=out_shardings,
            compiler_options=compiler_options, abstracted_axes=abstracted_axes)
    check_callable(fun, "nanojax.jit")
    if backend is not None and backend != "cpu":
        raise ValueError(f"nanojax.jit: backend {backend!r} is not available; nanojax runs "
                         "on the one CPU backend, 'cpu'")
    if static_argnums is None:
        static_argnums = ()
    if static_argnames is None:
        static_argnames = ()
    static_nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    static_names = ((static_argnames,) if isinstance(static_argnames, str)
                    else tuple(static_argnames))
    static_nums, static_names, positional = static_by_name(fun, static_nums, static_names)
    cache: dict[Any, _Compiled | _Staged] = {}
    fast: dict[tuple, Callable] = {}     # all-scalar positional calls: types -> code
    # (arity, code) of the last all-scalar signature called, the code checking
    # its own types; one tuple, so that a thread never sees half of an update.
    guarded: tuple[int, Callable] = (-1, lambda *args: None)
    by_signature: dict[Any, _Compiled] = {}    # plain containers of arrays: see below
    fun_name = getattr(fun, "__name__", "fun")
    traces = [0]                         # how many times fun was traced
    last_key: list[Any] = [None]         # the signature it was last traced for

    def split(args: tuple, kwargs: dict) -> tuple:
        nargs = len(args)
        statics = []
        for i in static_nums:
            if not -nargs <= i < nargs:
                if i in positional:         # passed by name, or left at its default
                    continue
                raise ValueError(f"nanojax.jit({fun_name}): static_argnums {i} is out of range for "
                                 f"a call with {nargs} positional arguments")
            statics.append((i % nargs, check_static(args[i], f"{i}")))
        static_pos = {i for i, _ in statics}
        static_kw = tuple(sorted((k, check_static(v, repr(k))) for k, v in kwargs.items()
                                 if k in static_names))
        dyn_args = tuple(a for i, a in enumerate(args) if i not in static_pos)
        dyn_kwargs = {k: v for k, v in kwargs.items() if k not in static_names}
        return tuple(sorted(statics)), static_kw, dyn_args, dyn_kwargs

    def stage(args: tuple, statics: tuple, static_kw: tuple, flat: list,
              in_tree: PyTreeDef) -> tuple[ClosedJaxpr, PyTreeDef]:
        static_pos = {i for i, _ in statics}
        dynamic = [i for i in range(len(args)) if i not in static_pos]

        def staged(dyn: tuple, kw: dict) -> Any:
            return argnums_partial(fun, args, dynamic, {**dict(static_kw), **kw})(*dyn)
        avals = [abstractify(x) for x in flat]
        return trace_to_jaxpr(staged, avals, in_tree, "nanojax.jit",
                              lambda: arg_labels(fun, args, dynamic, {}))

    def compile_for(key: Any, args: tuple, statics: tuple, static_kw: tuple, flat: list,
                    in_tree: PyTreeDef) -> _Compiled | _Staged:
        traces[0] += 1
        if traces[0] > 1 and (_explaining() or traces[0] == _MANY_TRACES + 1):
            _log_retrace(fun_name, traces[0], last_key[0], key,
                         lambda: arg_labels(fun, args, [i for i in range(len(args))
                                                        if i not in dict(statics)], {}))
        last_key[0] = key
        closed, out_tree = stage(args, statics, static_kw, flat, in_tree)
        if any(isinstance(c, Tracer) for c in closed.consts):
            # fun closes over values of an enclosing grad/vmap/jit: they are
            # this call's, so the circuit runs on them now and is not kept.
            return _Staged(closed, out_tree)
        if uses_named_axes(closed.jaxpr):
            uncompiled = _Staged(closed, out_tree, "applies collectives over named axes")
            cache[key] = uncompiled
            return uncompiled
        entry = _Compiled(simplify(closed), out_tree, [c_ordered(x) for x in flat])
        cache[key] = entry
        return entry

    def lookup(args: tuple, kwargs: dict) -> tuple[_Compiled | _Staged, list]:
        statics, static_kw, dyn_args, dyn_kwargs = split(args, kwargs)
        flat, in_tree = tree_flatten((dyn_args, dyn_kwargs))
        flat = check_inputs(flat, f"nanojax.jit({fun_name})")
        # The named axes around the call: a collective's circuit depends on their sizes.
        key = (in_tree, tuple(map(_leaf_signature, flat)), statics, static_kw, axis_env())
        cached = cache.get(key)
        entry = cached if cached is not None else compile_for(key, args, statics, static_kw,
                                                              flat, in_tree)
        return entry, flat

    def retrace(args: tuple, kwargs: dict) -> tuple[ClosedJaxpr, list]:
        """The call's circuit traced afresh (not cached), and its flat arguments."""
        statics, static_kw, dyn_args, dyn_kwargs = split(args, kwargs)
        flat, in_tree = tree_flatten((dyn_args, dyn_kwargs))
        flat = check_inputs(flat, f"nanojax.jit({fun_name})")
        return stage(args, statics, static_kw, flat, in_tree)[0], flat

    def jitted(*args: Any, **kwargs: Any) -> Any:
        try:                      # free until raised; then the error points at the user
            if slow[0]:
                if JIT_DISABLED[0]:
                    return fun(*args, **kwargs)
                check = _JIT_CHECK[0]
                if check is not None:
                    return check(lambda: dispatch(args, kwargs),
                                 lambda: retrace(args, kwargs), fun_name)
            arity, run = guarded
            if len(args) == arity and not kwargs:
                return run(*args)
            return dispatch(args, kwargs)
        except Exception as e:  # noqa: BLE001 - re-raised, unchanged but for its traceback
            raise at_boundary(e)  # noqa: B904 - the very exception, its traceback filtered

    def clear() -> None:
        nonlocal guarded
        cache.clear()
        fast.clear()
        by_signature.clear()
        last_key[0] = None
        guarded = (-1, lambda *args: None)

    def other_types(*args: Any) -> Any:
        return dispatch(args, {})

    def dispatch(args: tuple, kwargs: dict) -> Any:
        nonlocal guarded
        sig = None
        if not kwargs and not static_nums:
            run = fast.get(tuple(map(type, args)))
            if run is not None:
                return run(*args)
            leaves: list = []
            sig = _plain_signature(args, leaves)
            hit = by_signature.get(sig) if sig is not None else None
            if hit is not None:
                return hit.fn(*leaves)
        entry, flat = lookup(args, kwargs)
        if isinstance(entry, _Staged) or any(isinstance(x, Tracer) for x in flat):
            # Under another transformation: bind the circuit's primitives on
            # its tracers, so the call is differentiated, batched or staged.
            outs = eval_jaxpr(entry.jaxpr.jaxpr, entry.jaxpr.consts, *flat)
            return tree_unflatten(entry.out_tree, outs)
        if sig is not None:
            by_signature[sig] = entry
            if all(type(a) in SCALAR_TYPES for a in args):
                types = tuple(map(type, args))
                fast[types] = entry.fn
                if not static_nums and not static_names:
                    guarded = (len(args), entry.guarded(types, other_types) if args
                               else entry.fn)
        return entry.fn(*flat)

    def lower(*args: Any, **kwargs: Any) -> Lowered:
        entry, _ = lookup(args, kwargs)
        return Lowered(entry.jaxpr, entry.source)

    slow = _SLOW_PATH
    clearer = _Clearer(clear)
    _CLEARERS.add(clearer)
    jitted.trace_count = lambda: traces[0]  # type: ignore[attr-defined]
    jitted._cache_size = lambda: len(cache)  # type: ignore[attr-defined]   # JAX's name
    jitted.lower = lower  # type: ignore[attr-defined]
    jitted.clear_cache = clear  # type: ignore[attr-defined]
    jitted._clearer = clearer  # type: ignore[attr-defined]   # lives as long as jitted
    jitted.__wrapped__ = fun  # type: ignore[attr-defined]
    return name_transformed(jitted, "jit", fun)
