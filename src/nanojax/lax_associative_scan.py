"""``lax.associative_scan``: a running combination in O(log n) whole-array steps.

The one parallel prefix scan of nanojax, used both by the public
``lax.associative_scan`` and by the derivative rules of the cumulative
reductions (``nanojax.primitives.cumulative``). It is JAX's odd-even
recursion (Blelloch's): combine neighbouring pairs, scan the half-length
result, then fill in the even places. Every step is a slice, a
concatenation or a reshape of whole arrays and one call of the combining
function on them, so the scan of n elements calls it about 2 log2(n) times,
and grad, vmap and jit come from the primitives it is made of.

Examples:
    >>> import numpy as np
    >>> from nanojax import lax
    >>> lax.associative_scan(lax.add, np.arange(1.0, 6.0))
    array([ 1.,  3.,  6., 10., 15.])
    >>> lax.associative_scan(lax.mul, np.arange(1.0, 5.0), reverse=True)
    array([24., 24., 12.,  4.])
"""

from __future__ import annotations

from typing import Any
from collections.abc import Callable

import numpy as np

from nanojax.core import Tracer
from nanojax.numpy._args import check_numeric, describe, is_int
from nanojax.tree_util import tree_flatten, tree_unflatten

__all__ = ["associative_scan", "scan_leaves"]


def _slice(x: Any, axis: int, start: int | None, stop: int | None, step: int = 1) -> Any:
    from nanojax.numpy import _indexing
    return _indexing.getitem(x, (slice(None),) * axis + (slice(start, stop, step),))


def _interleave(even: Any, odd: Any, axis: int) -> Any:
    """``even[0], odd[0], even[1], odd[1], ...`` along ``axis`` (``even`` may be one longer)."""
    from nanojax.primitives import concatenate, reshape, shape_of
    extra = shape_of(even)[axis] - shape_of(odd)[axis]
    if extra:                                    # pad odd to even's length, then drop it
        odd = concatenate([odd, _slice(even, axis, 0, 1)], axis)
    shape = shape_of(even)
    pair = shape[:axis + 1] + (1,) + shape[axis + 1:]
    both = concatenate([reshape(even, pair), reshape(odd, pair)], axis + 1)
    merged = reshape(both, shape[:axis] + (2 * shape[axis],) + shape[axis + 1:])
    return _slice(merged, axis, 0, -1) if extra else merged


def scan_leaves(combine: Callable[[list, list], list], leaves: list, axis: int,
                reverse: bool = False) -> list:
    """The running ``combine`` of arrays ``leaves`` (all as long along ``axis``).

    ``combine(a, b)`` takes and returns lists of arrays, one per leaf: the
    flat form both faces reduce to (a single array is a list of one).
    """
    if reverse:
        leaves = [_slice(x, axis, None, None, -1) for x in leaves]
    out = _scan(combine, leaves, axis)
    return [_slice(x, axis, None, None, -1) for x in out] if reverse else out


def _scan(combine: Callable[[list, list], list], xs: list, axis: int) -> list:
    from nanojax.primitives import concatenate, shape_of
    n = shape_of(xs[0])[axis]
    if n < 2:
        return xs
    odd = _scan(combine, combine([_slice(x, axis, 0, -1, 2) for x in xs],
                                 [_slice(x, axis, 1, None, 2) for x in xs]), axis)
    later = [_slice(x, axis, 2, None, 2) for x in xs]
    even = combine([_slice(o, axis, 0, -1) for o in odd] if n % 2 == 0 else odd, later)
    even = [concatenate([_slice(x, axis, 0, 1), e], axis) for x, e in zip(xs, even)]
    return [_interleave(e, o, axis) for e, o in zip(even, odd)]


def _leaf(x: Any) -> Any:
    if isinstance(x, Tracer):
        return x
    check_numeric("lax.associative_scan", x)
    return np.asarray(x)


def associative_scan(fn: Callable, elems: Any, reverse: bool = False, axis: int = 0) -> Any:
    """The running ``fn`` of ``elems`` along ``axis``: ``e0, fn(e0, e1), fn(fn(e0, e1), e2), ...``

    ``elems`` is an array or a pytree of arrays, all of the same length along
    ``axis``; ``fn(a, b)`` combines two pytrees of that structure, whole
    arrays at a time (so it must work elementwise on slices), and must be
    associative, as JAX requires: the scan groups the combinations as a
    tree, not left to right. ``reverse`` runs it from the end.
    """
    if not callable(fn):
        what = (f"an array of shape {tuple(fn.shape)}" if isinstance(fn, (Tracer, np.ndarray))
                else describe(fn))
        raise TypeError(f"nanojax.lax.associative_scan: fn must be a function, got {what}")
    flat, tree = tree_flatten(elems)
    if not flat:
        raise ValueError("nanojax.lax.associative_scan: elems has no arrays to scan")
    leaves = [_leaf(x) for x in flat]
    shapes = [tuple(x.shape) for x in leaves]
    # As in JAX, a negative axis counts from the end of the first element's axes.
    rank = len(shapes[0])
    if not is_int(axis) or not -rank <= int(axis) < rank:
        raise ValueError(f"nanojax.lax.associative_scan: axis {axis!r} is not an axis of "
                         f"elems of shape {shapes[0]}")
    ax = int(axis) % rank
    if any(len(s) <= ax or s[ax] != shapes[0][ax] for s in shapes):
        raise ValueError(f"nanojax.lax.associative_scan: every element must have the same "
                         f"length along axis {axis}, got shapes "
                         f"{', '.join(map(str, shapes))}")

    def combine(a: list, b: list) -> list:
        out = fn(tree_unflatten(tree, a), tree_unflatten(tree, b))
        out_flat, out_tree = tree_flatten(out)
        if out_tree != tree:
            raise TypeError(f"nanojax.lax.associative_scan: fn must return the structure of "
                            f"elems, {tree}, but returned {out_tree}")
        for o, x in zip(out_flat, a):
            if tuple(np.shape(o)) != tuple(x.shape):
                raise TypeError(f"nanojax.lax.associative_scan: fn must keep its operands' "
                                f"shapes (it is applied to whole slices), but turned "
                                f"{tuple(x.shape)} into {tuple(np.shape(o))}")
        return out_flat

    out = scan_leaves(combine, leaves, ax, bool(reverse))
    # Plain arrays own their memory: a length-1 scan would hand back the input itself.
    out = [o if isinstance(o, Tracer) else np.array(o) for o in out]
    return tree_unflatten(tree, out)
