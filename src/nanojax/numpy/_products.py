"""jax.numpy's products beyond dot and matmul: tensordot, vdot, inner, kron, cross,
matvec, vecmat, vecdot, and NumPy's einsum_path.

The contractions take the traced steps on plain arrays too (``dot_general``
runs at once), as ``dot`` does, so eager and ``jit`` results are the same
bits. ``kron`` and ``cross`` are NumPy's own products elementwise, so they
call NumPy when nothing is traced.

Examples:
    >>> import numpy as np
    >>> import nanojax.numpy as jnp
    >>> jnp.tensordot(np.ones((2, 3)), np.ones((3, 4)), axes=1).shape
    (2, 4)
    >>> jnp.cross(np.array([1., 0., 0.]), np.array([0., 1., 0.]))
    array([0., 0., 1.])
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

import nanojax.numpy as jnp
from nanojax import primitives as P
from nanojax.errors import ShapeMismatchError
from nanojax.core import Tracer
from nanojax.numpy import _args, _indexing
from nanojax.numpy._args import has_tracer, numpy_or_traced, operand

__all__ = ["cross", "einsum_path", "inner", "kron", "matvec", "tensordot", "vdot", "vecdot",
           "vecmat"]


def _axis_list(name: str, axes: Any, ndim: int) -> list[int]:
    items = [axes] if _args.is_int(axes) else list(axes)
    if not builtins.all(map(_args.is_int, items)):
        raise _args.error(name, TypeError, f"axes must be ints, got {_args.describe(axes)}")
    out = []
    for ax in items:
        if not -ndim <= ax < ndim:
            raise _args.error(name, ValueError, f"axis {ax} is out of bounds for an array of "
                              f"dimension {ndim}")
        out.append(int(ax) % ndim)
    return out


def tensordot(a: Any, b: Any, axes: Any = 2, *, precision: Any = None,
              preferred_element_type: Any = None) -> Any:
    """The sum of products over the last ``axes`` axes of ``a`` and the first of ``b``,
    or over the axes of the pair ``axes = (axes_a, axes_b)``."""
    a, b = operand(a, "tensordot"), operand(b, "tensordot")
    na, nb = len(P.shape_of(a)), len(P.shape_of(b))
    if _args.is_int(axes):
        if not 0 <= axes <= builtins.min(na, nb):
            raise _args.error("tensordot", ValueError, f"axes={axes} is more than the "
                              f"dimensions of the operands ({na} and {nb})")
        ca, cb = list(range(na - axes, na)), list(range(axes))
    else:
        try:
            axes_a, axes_b = axes
        except (TypeError, ValueError):
            raise _args.error("tensordot", TypeError, "axes must be an int or a pair of "
                              "sequences of axes") from None
        ca, cb = _axis_list("tensordot", axes_a, na), _axis_list("tensordot", axes_b, nb)
        if len(ca) != len(cb):
            raise _args.error("tensordot", ValueError, "shape-mismatch for sum: the two axis "
                              "lists differ in length")
    sa, sb = P.shape_of(a), P.shape_of(b)
    for i, j in zip(ca, cb):
        if sa[i] != sb[j]:
            raise _args.error("tensordot", ValueError, f"shape-mismatch for sum: {sa} axis {i} "
                              f"has size {sa[i]} but {sb} axis {j} has {sb[j]}")
    if na == 0 or nb == 0:
        return jnp.multiply(a, b)
    out = P.dot_general(a, b, ((tuple(ca), tuple(cb)), ((), ())))
    if preferred_element_type is not None:
        out = jnp.astype(out, preferred_element_type)
    return out


def vdot(a: Any, b: Any, *, precision: Any = None, preferred_element_type: Any = None) -> Any:
    """The dot product of the flattened arrays, the first conjugated."""
    a, b = operand(a, "vdot"), operand(b, "vdot")
    if P.dtype_of(a).kind == "c":
        a = jnp.conj(a)
    a, b = jnp.ravel(a), jnp.ravel(b)
    if P.shape_of(a) != P.shape_of(b):
        raise _args.error("vdot", ValueError, f"the arrays have {P.shape_of(a)[0]} and "
                          f"{P.shape_of(b)[0]} elements")
    return P.dot_general(a, b, (((0,), (0,)), ((), ())))


def inner(a: Any, b: Any, *, precision: Any = None, preferred_element_type: Any = None) -> Any:
    """The sum of products over the last axes of ``a`` and ``b``."""
    a, b = operand(a, "inner"), operand(b, "inner")
    na, nb = len(P.shape_of(a)), len(P.shape_of(b))
    if na == 0 or nb == 0:
        return jnp.multiply(a, b)
    if P.shape_of(a)[-1] != P.shape_of(b)[-1]:
        raise _args.error("inner", ShapeMismatchError, f"shapes {P.shape_of(a)} and "
                          f"{P.shape_of(b)} are not aligned: their last dimensions differ")
    return P.dot_general(a, b, (((na - 1,), (nb - 1,)), ((), ())))


@numpy_or_traced(arrays=2)
def kron(a: Any, b: Any) -> Any:
    """The Kronecker product: blocks of ``b`` scaled by each entry of ``a``."""
    a, b = operand(a, "kron"), operand(b, "kron")
    nd = builtins.max(len(P.shape_of(a)), len(P.shape_of(b)))
    sa = (1,) * (nd - len(P.shape_of(a))) + P.shape_of(a)
    sb = (1,) * (nd - len(P.shape_of(b))) + P.shape_of(b)
    # NumPy's steps: interleave new axes, multiply (broadcasting), merge the pairs.
    a2 = jnp.reshape(a, tuple(v for d in sa for v in (d, 1)))
    b2 = jnp.reshape(b, tuple(v for d in sb for v in (1, d)))
    return jnp.reshape(jnp.multiply(a2, b2), tuple(x * y for x, y in zip(sa, sb)))


def cross(a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1,
          axis: int | None = None) -> Any:
    """The cross product of 3-vectors (or 2-vectors, as having z = 0) along the given
    axes, broadcasting the others."""
    if axis is not None:
        axisa = axisb = axisc = axis
    if not has_tracer((a, b)):
        return _args.call_numpy("cross", np.cross, a, b, axisa, axisb, axisc)
    a, b = operand(a, "cross"), operand(b, "cross")
    a = jnp.moveaxis(a, _args.axis_index("cross", axisa, len(P.shape_of(a))), -1)
    b = jnp.moveaxis(b, _args.axis_index("cross", axisb, len(P.shape_of(b))), -1)
    na, nb = P.shape_of(a)[-1], P.shape_of(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise _args.error("cross", ValueError, "incompatible dimensions for cross product "
                          "(dimension must be 2 or 3)")

    def part(x: Any, i: int) -> Any:
        return _indexing.getitem(x, (Ellipsis, i))
    a0, a1, b0, b1 = part(a, 0), part(a, 1), part(b, 0), part(b, 1)
    if na == 2 and nb == 2:
        return jnp.subtract(jnp.multiply(a0, b1), jnp.multiply(a1, b0))
    # NumPy's products, term by term (a missing z component is zero).
    if na == 3 and nb == 3:
        a2, b2 = part(a, 2), part(b, 2)
        c = [jnp.subtract(jnp.multiply(a1, b2), jnp.multiply(a2, b1)),
             jnp.subtract(jnp.multiply(a2, b0), jnp.multiply(a0, b2)),
             jnp.subtract(jnp.multiply(a0, b1), jnp.multiply(a1, b0))]
    elif na == 2:
        b2 = part(b, 2)
        c = [jnp.multiply(a1, b2), jnp.negative(jnp.multiply(a0, b2)),
             jnp.subtract(jnp.multiply(a0, b1), jnp.multiply(a1, b0))]
    else:
        a2 = part(a, 2)
        c = [jnp.negative(jnp.multiply(a2, b1)), jnp.multiply(a2, b0),
             jnp.subtract(jnp.multiply(a0, b1), jnp.multiply(a1, b0))]
    shape = np.broadcast_shapes(*(P.shape_of(x) for x in c))
    out = jnp.stack([jnp.broadcast_to(x, shape) for x in c], axis=-1)
    return jnp.moveaxis(out, -1, _args.axis_index("cross", axisc, len(shape) + 1))


def _conj(x: Any) -> Any:
    return jnp.conj(x) if P.dtype_of(x).kind == "c" else x


def matvec(x1: Any, x2: Any, /) -> Any:
    """Matrix times vector over stacks: (..., m, n) and (..., n) give (..., m)."""
    x1, x2 = operand(x1, "matvec"), operand(x2, "matvec")
    if len(P.shape_of(x1)) < 2 or len(P.shape_of(x2)) < 1:
        raise _args.error("matvec", ValueError, "x1 must be at least 2-D and x2 at least 1-D")
    return _indexing.getitem(jnp.matmul(x1, jnp.expand_dims(x2, -1)), (Ellipsis, 0))


def vecmat(x1: Any, x2: Any, /) -> Any:
    """Conjugated vector times matrix over stacks: (..., n) and (..., n, m) give (..., m)."""
    x1, x2 = operand(x1, "vecmat"), operand(x2, "vecmat")
    if len(P.shape_of(x1)) < 1 or len(P.shape_of(x2)) < 2:
        raise _args.error("vecmat", ValueError, "x1 must be at least 1-D and x2 at least 2-D")
    return _indexing.getitem(jnp.matmul(jnp.expand_dims(_conj(x1), -2), x2),
                             (Ellipsis, 0, builtins.slice(None)))


def vecdot(x1: Any, x2: Any, /, *, axis: int = -1, precision: Any = None,
           preferred_element_type: Any = None) -> Any:
    """The dot product of vectors along ``axis`` (the first conjugated), the other axes
    broadcast."""
    x1, x2 = operand(x1, "vecdot"), operand(x2, "vecdot")
    try:
        shape = np.broadcast_shapes(P.shape_of(x1), P.shape_of(x2))
    except ValueError as err:
        raise _args.reworded("vecdot", err) from None
    if not shape:
        raise _args.error("vecdot", ValueError, "the operands must be at least 1-D")
    ax = _args.axis_index("vecdot", axis, len(shape))
    x1 = jnp.moveaxis(jnp.broadcast_to(_conj(x1), shape), ax, -1)
    x2 = jnp.moveaxis(jnp.broadcast_to(x2, shape), ax, -1)
    out = jnp.matmul(jnp.expand_dims(x1, -2), jnp.expand_dims(x2, -1))
    return _indexing.getitem(out, (Ellipsis, 0, 0))


def einsum_path(subscripts: str, /, *operands: Any, optimize: Any = "auto") -> tuple:
    """NumPy's contraction order for ``einsum`` (it looks at the shapes only)."""
    shapes = [P.shape_of(operand(x, "einsum_path")) if isinstance(x, Tracer)
              else np.shape(x) for x in operands]
    how = "greedy" if optimize in ("auto", True) else optimize
    dummies = [_args.dummy(s, np.float64) for s in shapes]
    return _args.call_numpy("einsum_path", lambda: np.einsum_path(subscripts, *dummies,
                                                                  optimize=how))
