"""Forward mode: tangents pushed through the circuit alongside the values.

A ``JVPTracer`` carries a primal and its tangent; each gate's ``jvp`` rule
computes the output's tangent from the operands' tangents. A zero tangent
(``ZERO``) is never traced: a value with no tangent is a constant here.
"""

from __future__ import annotations

from typing import Any

from nanojax.ad_util import as_constant
from nanojax.api_util import refuse_complex
from nanojax.core import ZERO, Primitive, ShapedArray, Trace, Tracer, get_aval

__all__ = ["JVPTracer", "JVPTrace"]


class JVPTracer(Tracer):
    """A primal with its tangent (never ``ZERO``: a zero tangent is not traced)."""

    __slots__ = ("primal", "tangent")

    def __init__(self, trace: JVPTrace, primal: Any, tangent: Any) -> None:
        self._trace = trace
        self.primal = primal
        self.tangent = tangent

    def payload(self) -> tuple[Any, Any]:
        return self.primal, self.tangent

    @property
    def aval(self) -> ShapedArray:
        return get_aval(self.primal)

    def to_concrete_value(self, what: str) -> Any:
        p = self.primal
        return p.to_concrete_value(what) if isinstance(p, Tracer) else p


class JVPTrace(Trace):
    """Computes each gate on the primals and pushes the tangents through its ``jvp``."""

    __slots__ = ("who",)
    tracer_type = JVPTracer
    constant_data = ZERO                 # a constant's tangent

    def __init__(self, who: str = "nanojax.jvp") -> None:
        super().__init__()
        self.who = who

    def process(self, prim: Primitive, args: tuple, params: dict) -> Any:
        primals, tangents = self.unwrap(args)
        if prim.joint_jvp is not None:
            ans, t = prim.joint_jvp(primals, tangents, **params)
        else:
            ans = prim.bind(*primals, **params)
            if not prim.differentiable:
                return as_constant(ans)
            if prim.jvp is None:
                raise NotImplementedError(
                    f"{self.who}: primitive '{prim.name}' has no jvp rule: forward-mode "
                    "differentiation (jvp, jacfwd) of it is not implemented; use reverse "
                    "mode (grad, vjp, jacrev)")
            t = None
        for a in (ans if prim.multiple_results else (ans,)):
            refuse_complex(a, prim.name, self.who)
        if prim.joint_jvp is None:
            t = prim.jvp(primals, tangents, ans, **params)
        if prim.multiple_results:
            # One tangent per output (ZERO for all of them, or for some: an
            # integer output such as lu's pivots has none).
            ts = [ZERO] * len(ans) if t is ZERO else t
            return [as_constant(a) if ti is ZERO else JVPTracer(self, a, ti)
                    for a, ti in zip(ans, ts, strict=True)]
        return as_constant(ans) if t is ZERO else JVPTracer(self, ans, t)
