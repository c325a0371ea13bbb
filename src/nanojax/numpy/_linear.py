"""Products: dot, matmul, outer (einsum has a module of its own)."""

from __future__ import annotations

from typing import Any

import numpy as np

from nanojax import primitives as P
from nanojax.errors import ShapeMismatchError
from nanojax.numpy._args import numpy_or_traced
from nanojax.numpy._args import operand as _operand
from nanojax.numpy._creation import asarray
from nanojax.numpy._shapes import broadcast_to, ravel, reshape
from nanojax.numpy._ufuncs import multiply


def dot(a: Any, b: Any) -> Any:
    """``numpy.dot``: a scalar product, matrix product or tensor contraction."""
    # Plain arrays take the traced steps too (the primitives run at once): np.dot
    # sums N-d products in another order than dot_general's matmul, and even a
    # length-1 product differs in the sign of a zero; eager and jit must agree.
    a, b = _operand(a, "dot"), _operand(b, "dot")
    na, nb = len(P.shape_of(a)), len(P.shape_of(b))
    if na == 0 or nb == 0:
        return multiply(a, b)
    rc = 0 if nb == 1 else nb - 2
    _check_contract("dot", a, b, na - 1, rc)
    return P.dot_general(a, b, (((na - 1,), (rc,)), ((), ())))


def _check_contract(name: str, a: Any, b: Any, ia: int, ib: int) -> None:
    sa, sb = P.shape_of(a), P.shape_of(b)
    if sa[ia] != sb[ib]:
        raise ShapeMismatchError(f"nanojax.numpy.{name}: shapes {sa} and {sb} are not aligned: "
                         f"{sa[ia]} (axis {ia}) != {sb[ib]} (axis {ib})")


def matmul(a: Any, b: Any, /) -> Any:
    """``a @ b`` with NumPy's rules for 1-D operands and stacks of matrices."""
    # Plain arrays take the traced steps too, as in dot: eager and jit agree.
    a, b = _operand(a, "matmul"), _operand(b, "matmul")
    na, nb = len(P.shape_of(a)), len(P.shape_of(b))
    if na == 0 or nb == 0:
        raise ValueError("nanojax.numpy.matmul: operands must be at least 1-D (use * "
                         "for scalars)")
    if na <= 2 and nb <= 2:
        rc = 0 if nb == 1 else nb - 2
        _check_contract("matmul", a, b, na - 1, rc)
        return P.dot_general(a, b, (((na - 1,), (rc,)), ((), ())))
    # A stack of matrices: as np.matmul, a vector is a one-row (or one-column)
    # matrix, and the leading axes broadcast; dot_general then calls np.matmul.
    sa, sb = P.shape_of(a), P.shape_of(b)
    a2 = reshape(a, (1,) + sa) if na == 1 else a
    b2 = reshape(b, sb + (1,)) if nb == 1 else b
    try:
        batch = np.broadcast_shapes(P.shape_of(a2)[:-2], P.shape_of(b2)[:-2])
    except ValueError:
        raise ValueError(f"nanojax.numpy.matmul: the batch dimensions of shapes "
                         f"{sa} and {sb} do not broadcast") from None
    a2 = broadcast_to(a2, batch + P.shape_of(a2)[-2:])
    b2 = broadcast_to(b2, batch + P.shape_of(b2)[-2:])
    n = len(batch)
    _check_contract("matmul", a2, b2, n + 1, n)
    out = P.dot_general(a2, b2, (((n + 1,), (n,)), (tuple(range(n)), tuple(range(n)))))
    if na == 1 or nb == 1:                    # drop the vector's added axis
        shape_out = P.shape_of(out)
        drop = n if na == 1 else n + 1
        out = reshape(out, shape_out[:drop] + shape_out[drop + 1:])
    return out


@numpy_or_traced(arrays=2)
def outer(a: Any, b: Any) -> Any:
    """The outer product of two vectors (inputs are flattened)."""
    return multiply(reshape(ravel(asarray(a)), (-1, 1)), reshape(ravel(asarray(b)), (1, -1)))
