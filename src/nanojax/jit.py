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
import inspect
import math
from typing import Any, Callable, Sequence

import numpy as np

from nanojax.autodiff import check_inputs
from nanojax.core import ClosedJaxpr, Literal, Tracer, Var, check_callable, eval_jaxpr
from nanojax.simplify import simplify
from nanojax.staging import _abstractify, trace_to_jaxpr
from nanojax.tree_util import PyTreeDef, tree_flatten, tree_unflatten

__all__ = ["jit", "Lowered"]

# Argument types whose abstract value is fixed by the type alone.
_SCALAR_TYPES = {float: "f64", int: "i64", bool: "bool", np.float64: "f64",
                 np.float32: "f32", np.int64: "i64", np.int32: "i32", np.bool_: "bool"}
_PY_TO_NUMPY = {float: np.float64, int: np.int64, bool: np.bool_}
_PY_SCALAR_DTYPES = {np.dtype(np.float64), np.dtype(np.int64), np.dtype(np.bool_)}


# ----- Code generation ----------------------------------------------------------

def _scalar_logistic(x):
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else (lambda e: e / (1.0 + e))(math.exp(x))


def _scalar_sign(x):
    if x != x:                                   # NaN
        return x
    if isinstance(x, float):                     # Python and NumPy floats
        return 1.0 if x > 0 else -1.0 if x < 0 else x
    return int(x > 0) - int(x < 0)


_NAMESPACE = {"_exp": math.exp, "_log": math.log, "_log1p": math.log1p,
              "_tanh": math.tanh, "_sin": math.sin, "_cos": math.cos,
              "_sqrt": math.sqrt, "_logistic": _scalar_logistic,
              "_floor": lambda x: float(math.floor(x)) if x == x and abs(x) != math.inf else x,
              "_sign": _scalar_sign, "_f64": np.float64, "_i64": np.int64,
              "_bool": np.bool_, "_f32": np.float32, "_np": np}

# Python expressions for equations whose operands are all scalars.
_SCALAR_EXPR = {
    "add": "{0} + {1}", "sub": "{0} - {1}", "mul": "{0} * {1}", "div": "{0} / {1}",
    "neg": "-{0}", "abs": "abs({0})", "stop_gradient": "{0}",
    "max": "{0} if {0} > {1} or {0} != {0} else {1}",
    "min": "{0} if {0} < {1} or {0} != {0} else {1}",
    "exp": "_exp({0})", "log": "_log({0})", "log1p": "_log1p({0})", "tanh": "_tanh({0})",
    "sin": "_sin({0})", "cos": "_cos({0})", "sqrt": "_sqrt({0})",
    "logistic": "_logistic({0})", "sign": "_sign({0})", "floor": "_floor({0})",
    "relu": "{0} if {0} > 0 or {0} != {0} else 0.0",
    "eq": "{0} == {1}", "ne": "{0} != {1}", "lt": "{0} < {1}", "le": "{0} <= {1}",
    "gt": "{0} > {1}", "ge": "{0} >= {1}",
}
# Operators that NumPy arrays implement as the very same ufuncs, and NumPy
# calls that are exactly what a primitive's impl does on arrays.
_ARRAY_EXPR = {"add": "{0} + {1}", "sub": "{0} - {1}", "mul": "{0} * {1}",
               "div": "{0} / {1}", "neg": "-{0}", "eq": "{0} == {1}", "ne": "{0} != {1}",
               "lt": "{0} < {1}", "le": "{0} <= {1}", "gt": "{0} > {1}", "ge": "{0} >= {1}",
               "exp": "_np.exp({0})", "log": "_np.log({0})", "tanh": "_np.tanh({0})",
               "log1p": "_np.log1p({0})", "sin": "_np.sin({0})", "cos": "_np.cos({0})",
               "sqrt": "_np.sqrt({0})", "abs": "_np.abs({0})", "sign": "_np.sign({0})",
               "floor": "_np.floor({0})",
               "max": "_np.maximum({0}, {1})", "min": "_np.minimum({0}, {1})",
               "relu": "_np.maximum({0}, 0)"}


def _array_call(name: str, ins: list[str], params: dict, in_avals: list) -> str | None:
    """A NumPy expression for a structural gate on arrays, where one is exact."""
    if name == "dot_general":
        (lc, rc), (lb, rb) = params["dimension_numbers"]
        ln, rn = (a.ndim for a in in_avals)
        if not lb and len(lc) == 1 and 1 <= ln <= 2 and 1 <= rn <= 2:
            lhs = f"{ins[0]}.T" if ln == 2 and lc[0] == 0 else ins[0]
            rhs = f"{ins[1]}.T" if rn == 2 and rc[0] == 1 else ins[1]
            return f"{lhs} @ {rhs}"
    elif name in ("reduce_sum", "reduce_max", "reduce_min") and params["axes"]:
        ufunc = {"reduce_sum": "add", "reduce_max": "maximum", "reduce_min": "minimum"}[name]
        return f"_np.{ufunc}.reduce({ins[0]}, axis={tuple(params['axes'])!r})"
    elif name == "select_n" and len(ins) == 3 and in_avals[0].dtype == np.bool_:
        return f"_np.where({ins[0]}, {ins[2]}, {ins[1]})"
    elif name == "integer_pow" and params["y"] == 2:
        return f"{ins[0]} * {ins[0]}"
    elif name == "transpose":
        return f"_np.transpose({ins[0]}, {tuple(params['permutation'])!r})"
    elif name == "reshape":
        return f"_np.reshape({ins[0]}, {tuple(params['new_sizes'])!r})"
    return None
_OUT_WRAP = {"f64": "_f64", "i64": "_i64", "bool": "_bool"}


class Lowered:
    """What ``jit`` runs for one signature: the simplified jaxpr and its Python."""

    def __init__(self, jaxpr: ClosedJaxpr, source: str) -> None:
        self.jaxpr = jaxpr
        self.source = source

    def as_text(self) -> str:
        return self.source

    def __str__(self) -> str:
        return self.source


class _Compiled:
    __slots__ = ("fn", "jaxpr", "source", "out_tree")

    def __init__(self, closed: ClosedJaxpr, out_tree: PyTreeDef) -> None:
        self.jaxpr = closed
        self.out_tree = out_tree
        self.source, self.fn = _generate(closed, out_tree)


def _literal_text(lit: Literal, namespace: dict) -> str:
    val = lit.val.item() if isinstance(lit.val, np.generic) else lit.val
    if type(val) in (int, bool) or (type(val) is float and math.isfinite(val)):
        if lit.aval.dtype in _PY_SCALAR_DTYPES or lit.aval.weak_type:
            return repr(val)
    name = f"_k{len(namespace)}"
    namespace[name] = lit.val
    return name


def _is_scalar(aval: Any) -> bool:
    return aval.shape == () and aval.dtype in _PY_SCALAR_DTYPES


def _generate(closed: ClosedJaxpr, out_tree: PyTreeDef) -> tuple[str, Callable]:
    jaxpr = closed.jaxpr
    namespace: dict[str, Any] = dict(_NAMESPACE)
    names: dict[Var, str] = {}

    def name_of(v: Var) -> str:
        names[v] = f"v{len(names)}"
        return names[v]

    def atom(a: Any) -> str:
        return _literal_text(a, namespace) if isinstance(a, Literal) else names[a]

    for v, c in zip(jaxpr.constvars, closed.consts):
        namespace[name_of(v)] = c
    args = [name_of(v) for v in jaxpr.invars]
    body, scalar_math = [], False
    for eqn in jaxpr.eqns:
        ins = [atom(a) for a in eqn.invars]
        outs = [name_of(v) for v in eqn.outvars]
        prim, params = eqn.primitive, eqn.params
        scalar = all(_is_scalar(a.aval) for a in eqn.invars) and _is_scalar(
            eqn.outvars[0].aval)
        if scalar and prim.name in _SCALAR_EXPR:
            expr = _SCALAR_EXPR[prim.name].format(*ins)
            scalar_math = True
        elif scalar and prim.name == "integer_pow":
            y = params["y"]
            expr = f"{ins[0]} * {ins[0]}" if y == 2 else f"{ins[0]} ** {y!r}"
            scalar_math = True
        elif scalar and prim.name == "select_n" and len(ins) == 3:
            expr = f"{ins[2]} if {ins[0]} else {ins[1]}"
        elif prim.name in _ARRAY_EXPR and not scalar:
            expr = _ARRAY_EXPR[prim.name].format(*ins)
        elif not scalar and (call := _array_call(prim.name, ins, params,
                                                 [a.aval for a in eqn.invars])) is not None:
            expr = call
        else:
            fn_name = f"_p{len(namespace)}"
            namespace[fn_name] = (functools.partial(prim.impl, **params) if params
                                  else prim.impl)
            expr = f"{fn_name}({', '.join(ins)})"
        comma = "," if prim.multiple_results else ""     # unpack a list of results
        body.append(f"{', '.join(outs)}{comma} = {expr}")
    results, constvars, returned = [], set(jaxpr.constvars), set()
    for v in jaxpr.outvars:
        text = atom(v)
        short = v.aval.str_short().split("[")[0]
        if v.aval.shape == () and short in _OUT_WRAP:
            text = f"{_OUT_WRAP[short]}({text})"     # NumPy scalars, as eager returns
        elif v.aval.shape != () and isinstance(v, Var) and v not in jaxpr.invars:
            # The caller owns its arrays: never a constant that the next call
            # returns again, the same array twice, or a read-only broadcast view.
            text = f"_copy({text})" if v in constvars or v in returned else f"_own({text})"
            returned.add(v)
        results.append(text)
    namespace["_copy"] = np.array
    namespace["_own"] = _own
    ret = _return_expr(results, out_tree)
    namespace["_unflatten"] = functools.partial(tree_unflatten, out_tree)
    lines = [f"def jitted({', '.join(args)}):"]
    if scalar_math:
        # Python math raises where NumPy warns (1/0, exp(1000), log(-1)): then
        # the call is redone with NumPy's semantics.
        lines.append("    try:")
        lines += [f"        {line}" for line in body] + [f"        return {ret}"]
        lines.append("    except (ArithmeticError, ValueError):")
        lines.append(f"        return _numpy_semantics({', '.join(args)})")
        namespace["_numpy_semantics"] = _interpreted(closed, out_tree)
    else:
        lines += [f"    {line}" for line in body] + [f"    return {ret}"]
    source = "\n".join(lines) + "\n"
    exec(compile(source, "<nanojax.jit>", "exec"), namespace)  # noqa: S102 - our own code
    return source, namespace["jitted"]


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
        outs = [_PY_TO_NUMPY[type(o)](o) if type(o) in _PY_TO_NUMPY else
                np.array(o) if isinstance(o, np.ndarray) else o for o in outs]
        return tree_unflatten(out_tree, outs)
    return run


def _own(x: np.ndarray) -> np.ndarray:
    return x if x.flags.writeable else x.copy()


# ----- The cache and the call path -----------------------------------------------

def _leaf_signature(x: Any) -> Any:
    t = type(x)
    if t in _SCALAR_TYPES:
        return t
    if isinstance(x, Tracer):
        aval = x.aval
        return ("tracer", aval.shape, aval.dtype.str)
    return (x.shape, x.dtype.str)


def _plain_signature(tree: Any, leaves: list) -> Any:
    """The cache key of plain tuples/lists/dicts of arrays and numbers, or None.

    It collects the leaves in ``tree_flatten``'s order as it goes, so a call
    with the usual arguments (a dict of parameters, a batch) skips building a
    PyTreeDef; anything else (tracers, registered nodes) returns None and
    takes the general path.
    """
    kind = type(tree)
    if kind is np.ndarray:
        leaves.append(tree)
        return (tree.shape, tree.dtype)
    if kind in _SCALAR_TYPES:
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


def _check_static(value: Any, where: str) -> Any:
    try:
        hash(value)
    except TypeError:
        raise TypeError(f"jit: static argument {where} must be hashable (it is part of "
                        f"the cache key), but got an unhashable {type(value).__name__}. "
                        "Pass it as a tuple, or make it a regular (traced) argument.") from None
    return value


def _static_by_name(fun: Callable, nums: tuple, names: tuple) -> tuple[tuple, tuple, dict]:
    """As in JAX, a static argument may be passed by position or by name.

    When only one of static_argnums/static_argnames is given, the other is
    inferred from ``fun``'s signature. Also returns {position: name} of the
    positional parameters.
    """
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):          # no introspectable signature
        return nums, names, {}
    positional = {i: p.name for i, p in enumerate(params)
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)}
    by_name = {p.name: i for i, p in enumerate(params) if p.kind is p.POSITIONAL_OR_KEYWORD}
    if not names:
        names = tuple(positional[i] for i in nums if positional.get(i) in by_name)
    if not nums:
        nums = tuple(by_name[n] for n in names if n in by_name)
    return nums, names, positional


def jit(fun: Callable, static_argnums: int | Sequence[int] = (),
        static_argnames: str | Sequence[str] = ()) -> Callable:
    """Compile ``fun`` to straight-line NumPy/Python, once per signature.

    Static arguments are Python values baked into the trace (and the cache
    key); every other argument is abstract while tracing, so a Python ``if``
    on it raises ``ConcretizationTypeError``. ``jit(f).lower(*args)`` shows
    the generated code.

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
            except (ArithmeticError, ValueError):
                return _numpy_semantics(v0, v1)
        <BLANKLINE>
    """
    check_callable(fun, "jit")
    static_nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    static_names = ((static_argnames,) if isinstance(static_argnames, str)
                    else tuple(static_argnames))
    static_nums, static_names, positional = _static_by_name(fun, static_nums, static_names)
    cache: dict[Any, _Compiled] = {}
    fast: dict[tuple, Callable] = {}     # all-scalar positional calls: types -> code
    by_signature: dict[Any, _Compiled] = {}    # plain containers of arrays: see below
    fun_name = getattr(fun, "__name__", "fun")

    def split(args: tuple, kwargs: dict) -> tuple:
        nargs = len(args)
        statics = []
        for i in static_nums:
            if not -nargs <= i < nargs:
                if i in positional:         # passed by name, or left at its default
                    continue
                raise ValueError(f"jit({fun_name}): static_argnums {i} is out of range for "
                                 f"a call with {nargs} positional arguments")
            statics.append((i % nargs, _check_static(args[i], f"{i}")))
        static_pos = {i for i, _ in statics}
        static_kw = tuple(sorted((k, _check_static(v, repr(k))) for k, v in kwargs.items()
                                 if k in static_names))
        dyn_args = tuple(a for i, a in enumerate(args) if i not in static_pos)
        dyn_kwargs = {k: v for k, v in kwargs.items() if k not in static_names}
        return tuple(sorted(statics)), static_kw, dyn_args, dyn_kwargs

    def compile_for(key: Any, statics: tuple, static_kw: tuple, dyn_args: tuple,
                    dyn_kwargs: dict, flat: list, in_tree: PyTreeDef) -> _Compiled:
        def staged(dyn, kw):
            full, it = [], iter(dyn)
            static_map = dict(statics)
            for i in range(len(dyn) + len(statics)):
                full.append(static_map[i] if i in static_map else next(it))
            return fun(*full, **dict(static_kw), **kw)
        avals = [_abstractify(x) for x in flat]
        closed, out_tree = trace_to_jaxpr(staged, avals, in_tree)
        entry = _Compiled(simplify(closed), out_tree)
        cache[key] = entry
        return entry

    def lookup(args: tuple, kwargs: dict) -> tuple[_Compiled, list]:
        statics, static_kw, dyn_args, dyn_kwargs = split(args, kwargs)
        flat, in_tree = tree_flatten((dyn_args, dyn_kwargs))
        flat = check_inputs(flat, f"jit({fun_name})")
        key = (in_tree, tuple(map(_leaf_signature, flat)), statics, static_kw)
        entry = cache.get(key)
        if entry is None:
            entry = compile_for(key, statics, static_kw, dyn_args, dyn_kwargs, flat, in_tree)
        return entry, flat

    def jitted(*args: Any, **kwargs: Any) -> Any:
        sig = None
        if not kwargs and not static_nums:
            run = fast.get(tuple(map(type, args)))
            if run is not None:
                return run(*args)
            leaves: list = []
            sig = _plain_signature(args, leaves)
            entry = by_signature.get(sig) if sig is not None else None
            if entry is not None:
                return entry.fn(*leaves)
        entry, flat = lookup(args, kwargs)
        if any(isinstance(x, Tracer) for x in flat):
            outs = eval_jaxpr(entry.jaxpr.jaxpr, entry.jaxpr.consts, *flat)
            return tree_unflatten(entry.out_tree, outs)
        if sig is not None:
            by_signature[sig] = entry
            if all(type(a) in _SCALAR_TYPES for a in args):
                fast[tuple(map(type, args))] = entry.fn
        return entry.fn(*flat)

    def lower(*args: Any, **kwargs: Any) -> Lowered:
        entry, _ = lookup(args, kwargs)
        return Lowered(entry.jaxpr, entry.source)

    jitted.lower = lower  # type: ignore[attr-defined]
    jitted.__name__ = f"jit({fun_name})"
    jitted.__doc__ = fun.__doc__
    jitted.__wrapped__ = fun  # type: ignore[attr-defined]
    return jitted
