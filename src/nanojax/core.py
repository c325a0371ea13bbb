"""The data model: abstract values, primitives, tracers, traces and jaxprs.

A function is a circuit of primitives. ``Primitive.bind`` is the only way a
primitive is applied: with no tracer among its arguments it runs the NumPy
``impl`` straight away; otherwise it hands the application to the trace (the
interpreter) of the highest-level tracer among the arguments. Each
transformation is one such interpreter, and a per-thread stack gives nested
transformations their levels, so ``grad(grad(f))`` never confuses the inner
derivative with the outer one.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, NamedTuple, Union
from collections.abc import Callable, Sequence

import numpy as np

from nanojax.dtypes import PY_SCALAR_DTYPES, PY_TO_NUMPY
from nanojax.source_info import CURRENT
from nanojax.errors import (ConcretizationTypeError, TracerArrayConversionError,
                            TracerBoolConversionError, UnexpectedTracerError,
                            dropped_derivative_message)

__all__ = ["ShapedArray", "Primitive", "PerPrimitive", "Lowering", "Trace", "Tracer", "Var",
           "Literal", "JaxprEqn", "Jaxpr", "ClosedJaxpr", "eval_jaxpr", "get_aval",
           "concrete_value", "ZERO", "NOT_BATCHED"]


# ----- Abstract values ------------------------------------------------------

_SHORT_DTYPE = {"float64": "f64", "float32": "f32", "float16": "f16",
                "int64": "i64", "int32": "i32", "int16": "i16", "int8": "i8",
                "uint64": "u64", "uint32": "u32", "uint16": "u16", "uint8": "u8",
                "bool": "bool", "complex128": "c128", "complex64": "c64"}


class ShapedArray:
    """The abstract value of an array: its shape and dtype, nothing more.

    ``weak_type`` marks a Python scalar, which (as in NumPy 2) takes the dtype
    of whatever array it meets instead of forcing its own.
    """

    __slots__ = ("shape", "dtype", "weak_type")

    def __init__(self, shape: Sequence[int], dtype: Any, weak_type: bool = False) -> None:
        self.shape = tuple(shape)
        self.dtype = np.dtype(dtype)
        self.weak_type = weak_type

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def str_short(self) -> str:
        name = _SHORT_DTYPE.get(self.dtype.name, self.dtype.name)
        return f"{name}[{','.join(map(str, self.shape))}]"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, ShapedArray) and self.shape == other.shape
                and self.dtype == other.dtype and self.weak_type == other.weak_type)

    def __hash__(self) -> int:
        return hash((self.shape, self.dtype, self.weak_type))

    def __repr__(self) -> str:
        return f"ShapedArray({self.dtype.name}[{','.join(map(str, self.shape))}])"

    __str__ = str_short


def get_aval(x: Any) -> ShapedArray:
    """The ``ShapedArray`` of a tracer, array, NumPy scalar or Python number."""
    if isinstance(x, Tracer):
        return x.aval
    t = type(x)
    dtype = PY_SCALAR_DTYPES.get(t)
    if dtype is not None:                # a Python number; all but bool are weak
        return ShapedArray((), dtype, weak_type=t is not bool)
    if isinstance(x, (np.ndarray, np.generic)):
        return ShapedArray(x.shape, x.dtype)
    raise TypeError(f"nanojax: {x!r:.50} of type {t.__name__} is not a valid array value; "
                    "nanojax works on NumPy arrays, Python numbers and lists of numbers")


# ----- Primitives and bind --------------------------------------------------

class PerPrimitive:
    """A rule made for its primitive: ``make(prim) -> rule``.

    Family helpers (every elementwise gate batches the same way, say) build
    rules that need the primitive they belong to; passing the factory to
    ``Primitive`` keeps the declaration in one piece, with nothing patched on
    afterwards.
    """

    __slots__ = ("make",)

    def __init__(self, make: Callable[[Primitive], Callable]) -> None:
        self.make = make


class Lowering(NamedTuple):
    """How ``jit`` writes a primitive as one line of Python, exactly as ``impl``.

    ``float_expr``: a Python expression (``"{0} + {1}"``) for operands that
    are all float64 scalars: bit-identical to NumPy there, and many times
    faster; with ``mixed`` it also serves an int64 operand beside a float64
    one (both convert it as NumPy does) and Python ints together (as they
    compute eagerly). ``array_expr``: a NumPy expression
    for an array result (``ndarray`` operators are the ufuncs). ``ufunc``:
    the name of the NumPy ufunc that ``impl`` is, for any other operands.
    ``custom(writer, ins, params, in_avals, out_aval)``: for the rest, an
    ``(expression, is_float_math)`` pair or None. Without any of these, the
    line calls ``impl``. ``into(params, in_avals, out_aval)``: None, or a
    ``form(writer, ins, out)`` giving an expression that computes the very
    same array into the existing array named ``out`` (a ufunc's is derived:
    ``out=``); ``elementwise`` says that ``out`` may be one of the operands.
    """

    float_expr: str | None = None
    mixed: bool = False
    array_expr: str | None = None
    ufunc: str | None = None
    custom: Callable | None = None
    into: Callable | None = None
    elementwise: bool = False


# A rule as a declaration gives it: the function itself, a factory that makes
# it for each primitive of a family, or None for "no such rule".
Rule = Union[Callable, "PerPrimitive", None]


class Primitive:
    """A gate of the circuit, declared once with every rule that interpreters need.

    ``impl(*args, **params)``: NumPy. ``abstract_eval(*avals, **params)``: the
    output ``ShapedArray``. ``jvp(primals, tangents, ans, **params)``: the
    output tangent (``None`` tangents are zeros). ``vjp_args``: one rule per
    argument, ``rule(g, ans, *args, **params)`` giving that argument's
    cotangent (None: zero, or "no gradient" for the rule itself), written
    with nanojax operations so the backward pass can itself be traced; the
    backward pass computes only the cotangents it needs (not the one of a
    constant input, say). ``vjp(g, ans, *args, **params)``, all cotangents at
    once, is derived from them, or given for a gate whose arity varies.
    ``batch(axis_size, args, dims, **params)``: ``(out, out_dim)`` for
    ``vmap``, where ``dims[i]`` is the batch axis of ``args[i]`` (None if it
    is not batched). A primitive that is not ``differentiable``
    (comparisons, argmax) has zero derivative everywhere, so autodiff passes
    its output through as a constant. ``may_alias`` says whether ``impl`` can
    return (a view of) an operand's memory: True, False, or
    ``may_alias(params) -> bool``; ``jit`` copies an output only where it may
    share memory with an input or another output. ``lowering``: how ``jit``
    writes it (see ``Lowering``). ``simplify(ins, params, known)``: an atom
    the output equals (``x`` for ``x * 1``), or None; see ``nanojax.simplify``.
    ``layout``: the memory order of ``impl``'s array result, which ``jit``
    must reproduce (a sum iterates in memory order, so the order changes
    its bits): ``"operands"`` (C order whenever every array operand is,
    as NumPy's ufuncs, reductions and copies give), ``"c"`` (always C
    order), ``layout(params, in_avals, operands_c) -> bool``, or None (unknown).
    ``symmetric``: swapping the two operands swaps their pulls, so where
    both are the same wire (``x * x``) the backward pass computes one pull
    and adds it to itself. ``residuals``: what of a gate the eager tape keeps
    for the vjp rules: None (operands and result), ``"operands"``, ``"ans"``
    (the result, and the operands' shapes and dtypes) or ``"shapes"`` (only
    shapes and dtypes); the rest is freed as the forward pass moves on.
    ``joint_jvp(primals, tangents, **params) -> (ans, tangents)``: for a
    gate whose tangents are best computed with its value in one go (a loop
    runs once, carrying both), used instead of binding it and then ``jvp``.
    ``vjp_fwd(*args, **params) -> (ans, residuals)``: what the tape runs
    instead of the gate, keeping ``residuals`` (a list), which its ``vjp``
    rule then receives after the operands (a loop keeps the carry of each
    step, rather than running again to find them). ``prune(params,
    used_outputs)``: for a gate with several results, a smaller gate that
    computes at least the used ones, as ``(params, used_inputs,
    kept_outputs)`` masks, or None if it cannot shrink (the simplifier drops
    what a loop computes for nobody). Any rule may be a ``PerPrimitive``
    factory.
    """

    __slots__ = ("name", "impl", "abstract_eval", "jvp", "vjp", "vjp_args", "batch",
                 "differentiable", "multiple_results", "may_alias", "lowering", "simplify",
                 "layout", "symmetric", "residuals", "joint_jvp", "vjp_fwd", "prune")

    def __init__(self, name: str, impl: Callable, abstract_eval: Rule, *,
                 jvp: Rule = None, vjp: Rule = None,
                 vjp_args: Sequence[Rule] | None = None,
                 batch: Rule = None, differentiable: bool = True,
                 multiple_results: bool = False,
                 may_alias: bool | Callable[[dict], bool] = True,
                 lowering: Lowering | None = None,
                 simplify: Callable | None = None,
                 layout: str | Callable | None = None, symmetric: bool = False,
                 residuals: str | None = None, joint_jvp: Callable | None = None,
                 vjp_fwd: Callable | None = None, prune: Callable | None = None) -> None:
        def own(rule: Any) -> Any:
            return rule.make(self) if isinstance(rule, PerPrimitive) else rule
        self.name = name
        self.impl = impl
        self.abstract_eval = own(abstract_eval)
        self.jvp = own(jvp)
        self.vjp_args = None if vjp_args is None else tuple(map(own, vjp_args))
        arity = _fixed_arity(impl)
        if self.vjp_args is not None and arity is not None and len(self.vjp_args) != arity:
            raise TypeError(f"nanojax.core.Primitive: {name} takes {arity} operands but "
                            f"has {len(self.vjp_args)} vjp_args rules; give one per operand")
        self.vjp = own(vjp) if vjp is not None else (
            None if self.vjp_args is None else _vjp_from_args(self.vjp_args))
        self.batch = own(batch)
        self.differentiable = differentiable
        self.multiple_results = multiple_results
        self.may_alias = may_alias            # unknown (the default): assume a view
        self.lowering = lowering
        self.simplify = simplify
        self.layout = layout
        self.symmetric = symmetric
        if residuals not in (None, "operands", "ans", "shapes"):
            raise ValueError(f"nanojax.core.Primitive: {name}: residuals must be None, "
                             f"'operands', 'ans' or 'shapes', got {residuals!r}")
        self.residuals = residuals
        self.joint_jvp = joint_jvp
        self.vjp_fwd = vjp_fwd
        self.prune = prune

    def bind(self, *args: Any, **params: Any) -> Any:
        # The eager path: one scan for tracers, then NumPy.
        top = None
        for a in args:
            if isinstance(a, Tracer):
                t = a._trace
                if not t.alive:
                    raise UnexpectedTracerError(a)
                if top is None or t.level > top.level:
                    top = t
        if top is None:
            return self.impl(*args, **params)
        return top.process(self, args, params)

    def __repr__(self) -> str:
        return self.name


def _vjp_from_args(rules: tuple) -> Callable:
    def vjp(g: Any, ans: Any, *args: Any, **params: Any) -> tuple:
        return tuple(ZERO if rule is None else rule(g, ans, *args, **params) for rule in rules)
    return vjp


def _fixed_arity(impl: Callable) -> int | None:
    """How many operands ``impl`` takes, where its signature fixes it (else None).

    A ufunc knows its ``nin``; a Python function without ``*args`` or defaults
    takes its positional parameters (parameters of the gate are keywords).
    Builtins and partials say nothing cheaply, so they are not checked.
    """
    if isinstance(impl, np.ufunc):
        return impl.nin
    code = getattr(impl, "__code__", None)
    if code is None or code.co_flags & _CO_VARARGS or getattr(impl, "__defaults__", None):
        return None
    return code.co_argcount


_CO_VARARGS = 0x04                 # inspect.CO_VARARGS, without importing inspect


# ----- Zeros and "not batched": named, never materialized --------------------

ZERO = None
"""A zero tangent or cotangent. It is never materialized: a rule returns it
for "no contribution", and the interpreters skip it instead of adding zeros."""

NOT_BATCHED = None
"""The batch axis of a value ``vmap`` does not batch (it is the same for every
example): what batch rules receive in ``dims`` and may return as ``out_dim``."""


# ----- Traces and tracers ---------------------------------------------------

class _TraceState(threading.local):
    def __init__(self) -> None:
        self.stack: list[Trace] = []
        # Inside ``nanojax.ensure_compile_time_eval()``: arrays made from
        # constants stay NumPy values, even while jit records.
        self.eager_constants = 0


_state = _TraceState()


class Trace:
    """An interpreter at one level of this thread's trace stack.

    A trace is opened and closed by ``with``: entering puts it on top of every
    live trace (its level), leaving takes it off and ends it, so that its
    tracers raise ``UnexpectedTracerError`` if they are used afterwards::

        with TapeTrace("nanojax.grad") as trace:
            ...

    Subclasses name the tracers they make (``tracer_type``) and the data a
    value that is not one of them has here (``constant_data``): a constant.
    """

    __slots__ = ("level", "alive")
    tracer_type: type[Tracer]
    constant_data: Any = None

    def __init__(self) -> None:
        self.level = -1                   # set on entering
        self.alive = True

    def __enter__(self) -> Any:
        stack = _state.stack
        self.level = len(stack)
        stack.append(self)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        stack = _state.stack
        if stack and stack[-1] is self:
            stack.pop()
        else:                 # a generator or an exception unwound out of order
            stack.remove(self)
        self.alive = False

    def process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        raise NotImplementedError

    def unwrap(self, args: Sequence[Any]) -> tuple[list, list]:
        """Split ``args`` into their values and this trace's data on each.

        A tracer of this trace gives its ``payload()``; anything else is a
        constant here and gives ``(arg, constant_data)``.
        """
        values, data = [], []
        kind, constant = self.tracer_type, self.constant_data
        for a in args:
            if type(a) is kind and a._trace is self:
                value, extra = a.payload()
                values.append(value)
                data.append(extra)
            else:
                values.append(a)
                data.append(constant)
        return values, data

    def __repr__(self) -> str:
        return f"{type(self).__name__}(level={self.level})"


def innermost_staging_trace() -> Trace | None:
    """The staging trace (``jit``, ``make_jaxpr``) nearest the top of this thread's stack.

    None inside ``ensure_compile_time_eval``: constants are computed, not recorded.
    """
    if _state.eager_constants:
        return None
    for trace in reversed(_state.stack):
        if getattr(trace, "is_staging", False):
            return trace
    return None


class Tracer:
    """A value flowing through a transformed function.

    Subclasses carry what their interpreter needs (a primal and a tangent, a
    place on a tape, a variable of a jaxpr). The NumPy surface installs the
    operator overloads and NumPy protocols on this class.
    """

    __slots__ = ("_trace",)
    __array_priority__ = 1000
    _trace: Trace

    if TYPE_CHECKING:
        # Installed at import by nanojax.numpy._tracer_methods; declared here
        # so that code written with them type-checks.
        def __getattr__(self, name: str) -> Any: ...
        def __getitem__(self, idx: Any) -> Any: ...
        def __add__(self, other: Any) -> Any: ...
        def __radd__(self, other: Any) -> Any: ...
        def __sub__(self, other: Any) -> Any: ...
        def __rsub__(self, other: Any) -> Any: ...
        def __mul__(self, other: Any) -> Any: ...
        def __rmul__(self, other: Any) -> Any: ...
        def __truediv__(self, other: Any) -> Any: ...
        def __rtruediv__(self, other: Any) -> Any: ...
        def __pow__(self, other: Any) -> Any: ...
        def __rpow__(self, other: Any) -> Any: ...
        def __matmul__(self, other: Any) -> Any: ...
        def __rmatmul__(self, other: Any) -> Any: ...
        def __neg__(self) -> Any: ...
        def __lt__(self, other: Any) -> Any: ...
        def __le__(self, other: Any) -> Any: ...
        def __gt__(self, other: Any) -> Any: ...
        def __ge__(self, other: Any) -> Any: ...

    @property
    def aval(self) -> ShapedArray:
        raise NotImplementedError

    def payload(self) -> tuple[Any, Any]:
        """``(value, data)``: what its interpreter's ``Trace.unwrap`` takes it apart to."""
        raise NotImplementedError

    @property
    def shape(self) -> tuple[int, ...]:
        return self.aval.shape

    @property
    def dtype(self) -> np.dtype:
        return self.aval.dtype

    @property
    def ndim(self) -> int:
        return len(self.aval.shape)

    @property
    def size(self) -> int:
        return self.aval.size

    def __len__(self) -> int:
        shape = self.aval.shape
        if not shape:
            raise TypeError("nanojax: len() of a 0-d (scalar) traced value")
        return shape[0]

    def to_concrete_value(self, what: str) -> Any:
        """The value this tracer stands for, or a ConcretizationTypeError."""
        raise ConcretizationTypeError(what, self.aval.str_short())

    def _check_alive(self) -> None:
        if not self._trace.alive:
            raise UnexpectedTracerError(self)

    def __bool__(self) -> bool:
        self._check_alive()
        try:
            return bool(self.to_concrete_value("bool()"))
        except ConcretizationTypeError as e:
            raise TracerBoolConversionError(self.aval.str_short(), e.depends) from None

    def _refuse_conversion(self, what: str) -> None:
        """float(), int(), complex(), math.*: never a Python number from a tracer.

        Under jit and vmap the value is abstract; under grad and jvp it is
        known, but a Python number carries no derivative, so the answer
        would be silently wrong (float(x) * x would differentiate to x).
        """
        self._check_alive()
        self.to_concrete_value(what)         # raises if the value is abstract
        raise ConcretizationTypeError(what, self.aval.str_short(),
                                      dropped_derivative_message(what, self.aval.str_short()))

    def __float__(self) -> float:
        self._refuse_conversion("float()")
        raise AssertionError  # unreachable

    def __int__(self) -> int:
        self._refuse_conversion("int()")
        raise AssertionError  # unreachable

    def __complex__(self) -> complex:
        self._refuse_conversion("complex()")
        raise AssertionError  # unreachable

    def item(self, *args: Any) -> Any:
        self._refuse_conversion("item()")

    def tolist(self) -> Any:
        self._refuse_conversion("tolist()")

    def __index__(self) -> int:
        self._check_alive()
        return int(np.asarray(self.to_concrete_value("Using it as an index")).__index__())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TracerArrayConversionError(self.aval.str_short())

    def __iter__(self):
        if not self.aval.shape:
            raise TypeError("nanojax: iteration over a 0-d (scalar) traced value")
        return (self[i] for i in range(self.aval.shape[0]))

    def __format__(self, spec: str) -> str:
        if not spec:
            return repr(self)
        return format(self.to_concrete_value("Formatting"), spec)

    def __repr__(self) -> str:
        return f"Traced<{self.aval.str_short()}>with<{type(self._trace).__name__}>"

    def __setitem__(self, idx: Any, value: Any) -> None:
        raise TypeError("nanojax: traced values are immutable: x[idx] = v is not allowed. "
                        "Use x.at[idx].set(v), which returns a new array.")


def _buffer(x: np.ndarray) -> Any:
    """The array (or object) owning ``x``'s memory.

    NumPy points most views straight at it, but a view taken as a subclass
    (``x.view(ArrayImpl)``) keeps the view it was taken of as its base.
    """
    while isinstance(x.base, np.ndarray):
        x = x.base
    return x if x.base is None else x.base


def own_memory(outputs: list, inputs: Sequence[Any] = ()) -> list:
    """``outputs``, each array in memory of its own.

    An output is copied if it is read-only, or shares memory with one of
    ``inputs`` or with an earlier output; a fresh result costs nothing.
    Users get mutable NumPy arrays, so writing into a returned array must
    never change an argument or another result.
    """
    for o in outputs:
        if isinstance(o, np.ndarray):
            break
    else:
        return outputs                       # numbers only: nothing can be shared
    taken: set[int] | None = None
    result = []
    for o in outputs:
        if isinstance(o, np.ndarray):
            if taken is None:
                taken = {id(_buffer(x)) for x in inputs if isinstance(x, np.ndarray)}
            buffer = _buffer(o)
            if id(buffer) in taken or not o.flags.writeable:
                o = np.array(o)
                buffer = o
            taken.add(id(buffer))
            if type(o) is np.ndarray:
                o = o.view(_ArrayImpl)      # handed to the user: with JAX's methods
        result.append(o)
    return result


def concrete_value(x: Any, what: str) -> Any:
    """``x`` itself if it is concrete, the tracer's concrete value otherwise."""
    return x.to_concrete_value(what) if isinstance(x, Tracer) else x


# ----- Jaxprs: the recorded circuit -----------------------------------------

class Var:
    """A wire of a jaxpr, typed by its abstract value."""

    __slots__ = ("aval",)

    def __init__(self, aval: ShapedArray) -> None:
        self.aval = aval

    def __repr__(self) -> str:
        return f"Var({self.aval.str_short()})"


class Literal:
    """A scalar constant written inline in an equation."""

    __slots__ = ("val", "aval")

    def __init__(self, val: Any, aval: ShapedArray | None = None) -> None:
        self.val = val
        self.aval = get_aval(val) if aval is None else aval

    def __str__(self) -> str:
        val = self.val.item() if isinstance(self.val, (np.generic, np.ndarray)) else self.val
        return f"{val!r}:{self.aval.str_short()}"

    __repr__ = __str__


class JaxprEqn:
    """``outvars = primitive[params] invars``.

    ``source_info``: where the user's code applied the primitive, a
    ``(filename, line)`` pair captured while staging (None if unknown);
    staged inside a pull the NaN checks watch, ``(filename, line, gate,
    gate's file:line)``.
    """

    __slots__ = ("primitive", "invars", "outvars", "params", "source_info")

    def __init__(self, primitive: Primitive, invars: list, outvars: list[Var],
                 params: dict, source_info: tuple | None = None) -> None:
        self.primitive = primitive
        self.invars = invars
        self.outvars = outvars
        self.params = params
        self.source_info = source_info

    def __repr__(self) -> str:
        return f"JaxprEqn({self.primitive.name})"


class Jaxpr:
    """A circuit: constants, inputs, a list of equations, outputs."""

    __slots__ = ("constvars", "invars", "outvars", "eqns")

    def __init__(self, constvars: list[Var], invars: list[Var], outvars: list,
                 eqns: list[JaxprEqn]) -> None:
        self.constvars = constvars
        self.invars = invars
        self.outvars = outvars
        self.eqns = eqns

    def __str__(self) -> str:
        return pp_jaxpr(self)

    __repr__ = __str__

    def pretty_print(self, *, source_info: bool = False) -> str:
        """The printed jaxpr; with ``source_info``, each equation's user ``file:line``."""
        return pp_jaxpr(self, source_info=source_info)


class ClosedJaxpr:
    """A jaxpr together with the values of its constants."""

    __slots__ = ("jaxpr", "consts")

    def __init__(self, jaxpr: Jaxpr, consts: list) -> None:
        self.jaxpr = jaxpr
        self.consts = consts

    @property
    def eqns(self) -> list[JaxprEqn]:
        return self.jaxpr.eqns

    @property
    def in_avals(self) -> list[ShapedArray]:
        return [v.aval for v in self.jaxpr.invars]

    @property
    def out_avals(self) -> list[ShapedArray]:
        return [v.aval for v in self.jaxpr.outvars]

    def __call__(self, *args: Any) -> list:
        return eval_jaxpr(self.jaxpr, self.consts, *args)

    def __str__(self) -> str:
        return pp_jaxpr(self.jaxpr)

    __repr__ = __str__

    def pretty_print(self, *, source_info: bool = False) -> str:
        """The printed jaxpr; with ``source_info``, each equation ends with
        ``# file:line``, where the user's code applied it (JAX's keyword).

        >>> import nanojax as nj
        >>> print(nj.make_jaxpr(lambda x: x * 2.0)(1.0).pretty_print(source_info=True))
        ... # doctest: +ELLIPSIS
        { lambda ; a:f64[]. let
            b:f64[] = mul a 2.0:f64[]  # <doctest ...>:1
          in (b,) }
        """
        return pp_jaxpr(self.jaxpr, source_info=source_info)

    def _repr_html_(self) -> str:
        """Jupyter shows the printed jaxpr as it is: monospace, spaces kept."""
        import html
        return f"<pre>{html.escape(str(self))}</pre>"


def eval_jaxpr(jaxpr: Jaxpr, consts: Sequence[Any], *args: Any) -> list:
    """Run a jaxpr by binding each equation's primitive.

    With arrays it computes; with tracers it re-records under whatever
    transformation they belong to. That is why everything composes.
    """
    if len(args) != len(jaxpr.invars):
        raise TypeError(f"nanojax.eval_jaxpr: the jaxpr takes {len(jaxpr.invars)} "
                        f"arguments, got {len(args)}")
    # A Python int or bool argument was staged as an int64 or bool variable:
    # it runs as one, wrapping and ORing as NumPy does, not as a Python int.
    values = [PY_TO_NUMPY[type(a)](a) if type(a) is int or type(a) is bool else a
              for a in args]
    env: dict[Var, Any] = dict(zip(jaxpr.constvars, consts, strict=True))
    env.update(zip(jaxpr.invars, values))

    def read(v: Any) -> Any:
        return v.val if isinstance(v, Literal) else env[v]

    state = CURRENT
    outer = state.source
    try:
        for eqn in jaxpr.eqns:
            # The equation's own line, not the call's, for what its bind
            # records (an enclosing jit) or reports (the NaN checks).
            state.source = eqn.source_info or outer
            ans = eqn.primitive.bind(*map(read, eqn.invars), **eqn.params)
            if eqn.primitive.multiple_results:
                env.update(zip(eqn.outvars, ans, strict=True))
            else:
                env[eqn.outvars[0]] = ans
    finally:
        state.source = outer
    return [read(v) for v in jaxpr.outvars]


# ----- Printing, the way JAX prints -----------------------------------------

def var_name(i: int) -> str:
    """The name of variable ``i``: a, b, ..., z, ba, bb, ... (base 26, as JAX does)."""
    s = ""
    while True:
        s = chr(ord("a") + i % 26) + s
        i //= 26
        if i == 0:
            return s


def pp_param(v: Any) -> str:
    """A parameter of an equation as a jaxpr prints it (``float64``, not ``<class ...>``)."""
    if isinstance(v, np.dtype) or (isinstance(v, type) and issubclass(v, np.generic)):
        return np.dtype(v).name
    if isinstance(v, ClosedJaxpr):
        return pp_jaxpr(v.jaxpr)
    return str(v)


def _is_jaxpr_param(v: Any) -> bool:
    return isinstance(v, ClosedJaxpr) or (
        isinstance(v, tuple) and bool(v) and all(isinstance(b, ClosedJaxpr) for b in v))


def pp_jaxpr(jaxpr: Jaxpr, width: int = 80, names: dict | None = None, indent: int = 0,
             source_info: bool = False) -> str:
    """The jaxpr as JAX prints it; a loop's or a branch's body nested inside, named on.

    ``names`` (shared with the enclosing jaxpr, so every variable has its own
    name) and ``indent`` are for those nested bodies. ``source_info``: each
    equation on its own line, followed by ``# file:line`` where it was traced.
    """
    names = {} if names is None else names
    pad = " " * indent

    def binder(v: Var) -> str:
        names[v] = var_name(len(names))
        return f"{names[v]}:{v.aval.str_short()}"

    def atom(v: Any) -> str:
        return str(v) if isinstance(v, Literal) else names.get(v, "?")

    consts = " ".join(binder(v) for v in jaxpr.constvars)
    ins = " ".join(binder(v) for v in jaxpr.invars)
    lines, nested = [], False
    for eqn in jaxpr.eqns:
        args = " ".join(atom(v) for v in eqn.invars)
        outs = " ".join(binder(v) for v in eqn.outvars)
        if any(_is_jaxpr_param(p) for p in eqn.params.values()):
            nested = True
            lines.append(_pp_nested_eqn(eqn, outs, args, names, indent + 4)
                         + _pp_source(eqn, source_info))
            continue
        params = " ".join(f"{k}={pp_param(p)}" for k, p in eqn.params.items())
        head = eqn.primitive.name + (f"[{params}]" if params else "")
        eq = f"{outs} = " if outs else ""          # a gate without outputs: just itself
        lines.append(f"{eq}{head} {args}".rstrip() + _pp_source(eqn, source_info))
    outs = ", ".join(atom(v) for v in jaxpr.outvars)
    outs = f"({outs},)" if len(jaxpr.outvars) == 1 else f"({outs})"
    header = f"{{ lambda {consts}; {ins}. let"
    # Short circuits fit on one line, equations separated by "; ", as in JAX.
    one_line = f"{header} {'; '.join(lines)} in {outs} }}"
    if len(one_line) + indent <= width and not nested and not source_info:
        return one_line
    body = "".join(f"\n{pad}    {line}" for line in lines)
    return f"{header}{body}\n{pad}  in {outs} }}"


def _pp_source(eqn: JaxprEqn, source_info: bool) -> str:
    if not source_info or eqn.source_info is None:
        return ""
    return f"  # {format_source(eqn.source_info)}"


def format_source(info: tuple) -> str:
    """``file:line`` of a ``source_info`` pair: the file's base name, as tracebacks read."""
    import os
    return f"{os.path.basename(info[0])}:{info[1]}"


def _pp_nested_eqn(eqn: JaxprEqn, outs: str, args: str, names: dict, indent: int) -> str:
    """An equation carrying jaxprs, its parameters one per line as JAX prints them."""
    pad = " " * (indent + 2)
    parts = [f"{outs} = {eqn.primitive.name}["]
    for k, p in sorted(eqn.params.items()):
        if isinstance(p, ClosedJaxpr):
            parts.append(f"{pad}{k}={pp_jaxpr(p.jaxpr, names=names, indent=indent + 2)}")
        elif _is_jaxpr_param(p):
            parts.append(f"{pad}{k}=(")
            parts += [f"{pad}  {pp_jaxpr(b.jaxpr, names=names, indent=indent + 4)}" for b in p]
            parts.append(f"{pad})")
        else:
            parts.append(f"{pad}{k}={pp_param(p)}")
    parts.append(f"{' ' * indent}] {args}".rstrip())
    return "\n".join(parts)


from nanojax.array import Array as _Array  # noqa: E402  (arrays: NumPy's and traced ones)
from nanojax.array import ArrayImpl as _ArrayImpl  # noqa: E402
import nanojax.array as _array_module  # noqa: E402

_Array.register(Tracer)
_array_module._TRACER = Tracer  # ArrayImpl.__getitem__ hands traced indices to jnp
