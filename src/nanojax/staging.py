"""Staging: recording a function into a jaxpr (``make_jaxpr``, and ``jit``).

Under this interpreter values are abstract (shapes and dtypes only): each
primitive's ``abstract_eval`` says what comes out and an equation is
appended. Python numbers become inline literals; arrays and tracers of outer
transformations become constants of the jaxpr.
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable, Sequence

import numpy as np

from nanojax.api_util import argnums_partial, check_callable, name_transformed, static_positions
from nanojax.core import (ClosedJaxpr, Jaxpr, JaxprEqn, Literal, Primitive, ShapedArray, Trace,
                          Tracer, Var, get_aval)
from nanojax.dtypes import NUMERIC_KINDS, PY_NUMBERS
from nanojax.errors import ConcretizationTypeError
from nanojax.source_info import arg_labels, at_boundary, staged_source
from nanojax.tree_util import PyTreeDef, tree_flatten, tree_unflatten

__all__ = ["make_jaxpr", "trace_to_jaxpr", "abstractify"]

_SCALARS = (*PY_NUMBERS, np.generic)


class StagingTracer(Tracer):
    """A variable of the jaxpr being recorded."""

    # Not "var": a tracer's attributes must not hide ndarray methods (x.var()).
    __slots__ = ("jaxpr_var",)

    def __init__(self, trace: StagingTrace, var: Var) -> None:
        self._trace = trace
        self.jaxpr_var = var

    @property
    def aval(self) -> ShapedArray:
        return self.jaxpr_var.aval

    def __repr__(self) -> str:
        # print(x) inside jit: what x is, and which argument it is or comes from.
        trace: Any = self._trace
        base = super().__repr__()
        if self.jaxpr_var in trace.invars:
            k = trace.invars.index(self.jaxpr_var)
            return f"{base} from argument `{trace.input_labels()[k]}`"
        depends = trace.depends_on(self.jaxpr_var)
        return base + depends.replace(", which depends on", " computed from").split(", traced")[0]

    def to_concrete_value(self, what: str) -> Any:
        trace: Any = self._trace
        raise ConcretizationTypeError(what, self.aval.str_short(),
                                      depends=trace.depends_on(self.jaxpr_var))


class StagingTrace(Trace):
    """Appends one equation per primitive application.

    Its operands are ``atom``s (a variable, or a constant made a literal or a
    constant variable), not ``unwrap``ped values: a jaxpr refers to wires.
    ``who`` is the public name of the transformation, for error messages.
    """

    __slots__ = ("eqns", "constvars", "consts", "keep_alive", "who", "invars", "arg_labels")
    is_staging = True               # what nanojax.numpy.asarray looks for

    def __init__(self, who: str = "nanojax.make_jaxpr") -> None:
        super().__init__()
        self.who = who
        self.eqns: list[JaxprEqn] = []
        self.constvars: dict[int, Var] = {}
        self.consts: list[Any] = []
        self.keep_alive: list[Any] = []
        self.invars: list[Var] = []
        # () -> a name per input ("x", "params['w']"), for errors; None: unnamed.
        self.arg_labels: Callable[[], list[str]] | None = None

    def input_labels(self) -> list[str]:
        """A name per input (``x``, ``params['w']``), or ``#k`` where none is known."""
        labels = None
        if self.arg_labels is not None:
            try:
                labels = self.arg_labels()
            except Exception:  # noqa: BLE001 - a name is a nicety: never hide the real error
                labels = None
        if labels is None or len(labels) != len(self.invars):
            labels = [f"#{k}" for k in range(len(self.invars))]
        return labels

    def depends_on(self, var: Var) -> str:
        """``", which depends on argument `x`, traced by jit"``: for a concretization error."""
        needed = {var}
        for eqn in reversed(self.eqns):
            if any(v in needed for v in eqn.outvars):
                needed.update(a for a in eqn.invars if isinstance(a, Var))
        hits = [k for k, v in enumerate(self.invars) if v in needed]
        if not hits:
            return ""
        labels = self.input_labels()
        names = ", ".join(f"`{labels[k]}`" for k in hits)
        which = "argument" if len(hits) == 1 else "arguments"
        return f", which depends on {which} {names}, traced by {self.who.split('.')[-1]}"

    def atom(self, x: Any) -> Var | Literal:
        if type(x) is StagingTracer and x._trace is self:
            return x.jaxpr_var
        if isinstance(x, _SCALARS) or (isinstance(x, np.ndarray) and x.ndim == 0
                                       and not isinstance(x, Tracer)):
            return Literal(x[()] if isinstance(x, np.ndarray) else x)
        # An array, or a tracer of an outer transformation: a constant here.
        var = self.constvars.get(id(x))
        if var is None:
            value = x
            if type(x) is not np.ndarray and isinstance(x, np.ndarray):
                value = _plain_array(x)   # np.matrix: elementwise *, as in eager jnp
            var = self.constvars[id(x)] = Var(get_aval(value))
            self.consts.append(value)
            self.keep_alive.append(x)     # its id is the key: it must outlive tracing
        return var

    def constant(self, x: np.ndarray) -> StagingTracer:
        """An array (not 0-d: that would be a literal) as a constant wire of this jaxpr."""
        var = self.atom(x)
        assert isinstance(var, Var)
        return StagingTracer(self, var)

    def process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        invars = [self.atom(a) for a in args]
        if len(invars) > 1 and not prim.multiple_results:
            # (A gate with several results, a loop say, does not combine its
            # operands elementwise: each literal keeps its own type.)
            invars = _typed_literals(invars)
        if prim.abstract_eval is None:
            raise NotImplementedError(f"{self.who}: primitive '{prim.name}' has no abstract_eval "
                                      "rule: staging it (jit, make_jaxpr) is not implemented")
        out_aval = prim.abstract_eval(*(v.aval for v in invars), **params)
        # The user's file:line, for pretty_print(source_info=True) and for errors.
        where = staged_source()
        if prim.multiple_results:
            outvars = [Var(a) for a in out_aval]
            self.eqns.append(JaxprEqn(prim, invars, outvars, params, where))
            return [StagingTracer(self, v) for v in outvars]
        outvar = Var(out_aval)
        self.eqns.append(JaxprEqn(prim, invars, [outvar], params, where))
        return StagingTracer(self, outvar)


def _plain_array(x: np.ndarray) -> np.ndarray:
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError("nanojax: a masked array cannot be a constant of a traced function "
                        "(its mask would be ignored); use x.filled(value) or a plain array")
    return np.asarray(x)


_KIND_RANK = {"i": 1, "u": 1, "f": 2, "c": 3}


def _typed_literals(invars: list) -> list:
    """Type Python-number literals by the arrays they meet, as JAX does.

    ``1 / x`` on an f64 ``x`` records ``div 1.0:f64[] a``, not ``1:i64[]``.
    The value stays a Python number, so evaluating the jaxpr computes exactly
    what the traced code did; a literal of a higher kind (``2.5`` against an
    int array) or out of the array dtype's range keeps its own type.
    """
    strong = [v.aval.dtype for v in invars
              if not v.aval.weak_type and v.aval.dtype.kind in _KIND_RANK]
    if not strong:
        return invars
    target = np.result_type(*strong)
    out = []
    for v in invars:
        if (isinstance(v, Literal) and v.aval.weak_type and v.aval.dtype != target
                and _KIND_RANK[v.aval.dtype.kind] <= _KIND_RANK[target.kind]):
            if target.kind == "f":
                v = Literal(float(v.val), ShapedArray((), target))
            elif target.kind == "c":
                v = Literal(complex(v.val), ShapedArray((), target))
            elif np.iinfo(target).min <= v.val <= np.iinfo(target).max:
                v = Literal(v.val, ShapedArray((), target))
        out.append(v)
    return out


def trace_to_jaxpr(fun: Callable, in_avals: Sequence[ShapedArray], in_tree: PyTreeDef,
                   who: str = "nanojax.make_jaxpr",
                   arg_labels: Callable[[], list[str]] | None = None
                   ) -> tuple[ClosedJaxpr, PyTreeDef]:
    """Stage ``fun`` on abstract inputs; return its jaxpr and output structure.

    ``arg_labels()`` names the inputs, for errors (see ``StagingTrace``).
    """
    with StagingTrace(who) as trace:
        invars = trace.invars = [Var(a) for a in in_avals]
        trace.arg_labels = arg_labels
        args = tree_unflatten(in_tree, [StagingTracer(trace, v) for v in invars])
        out_flat, out_tree = tree_flatten(fun(*args))
        for o in out_flat:
            if not isinstance(o, (Tracer, np.ndarray, *_SCALARS)) or (
                    isinstance(o, (np.ndarray, np.generic))
                    and o.dtype.kind not in NUMERIC_KINDS):
                raise TypeError(f"{who}: the function returned {type(o).__name__} "
                                f"({o!r:.40}), which is not an array; return arrays or "
                                "numbers (or pytrees of them)")
        outvars = [trace.atom(o) for o in out_flat]
    # Keep the constants' own objects alive with the jaxpr (ids were keys).
    jaxpr = Jaxpr(list(trace.constvars.values()), invars, outvars, trace.eqns)
    return ClosedJaxpr(jaxpr, trace.consts), out_tree


def make_jaxpr(fun: Callable,
               static_argnums: int | Sequence[int] = ()) -> Callable[..., ClosedJaxpr]:
    """Record ``fun`` as a jaxpr for arguments like the given ones.

    Examples:
        >>> import nanojax as nj
        >>> print(nj.make_jaxpr(lambda x, y: x * y)(-2.0, 3.0))
        { lambda ; a:f64[] b:f64[]. let c:f64[] = mul a b in (c,) }
    """
    check_callable(fun, "nanojax.make_jaxpr")

    def make(*args: Any, **kwargs: Any) -> ClosedJaxpr:
        static = static_positions(static_argnums, len(args), "nanojax.make_jaxpr")
        dynamic = [i for i in range(len(args)) if i not in static]
        flat, in_tree = tree_flatten(tuple(args[i] for i in dynamic))
        avals = [abstractify(x) for x in flat]
        try:
            return trace_to_jaxpr(argnums_partial(fun, args, dynamic, kwargs), avals, in_tree,
                                  arg_labels=lambda: arg_labels(fun, args, dynamic, {}))[0]
        except Exception as e:  # noqa: BLE001 - re-raised, unchanged but for its traceback
            raise at_boundary(e)  # noqa: B904 - the very exception, its traceback filtered

    return name_transformed(make, "make_jaxpr", fun, doc=False)


def abstractify(x: Any) -> ShapedArray:
    """The abstract value of an input, as ``get_aval``: a Python number stays weakly typed.

    As in JAX, ``jit(f)(x32, 3.0)`` computes in float32, as ``f(x32, 3.0)``
    does: the 3.0 takes the dtype of the array it meets.
    """
    return get_aval(x)
