"""``einsum``: NumPy's whole Einstein-summation grammar, on plain and traced values.

With no traced value among the operands this is ``numpy.einsum`` itself,
after refusing what NumPy would quietly wrap in an object array. With a
traced value the subscripts are parsed and checked here, then the sum is
built from a handful of primitives: ``gather`` takes diagonals (a letter
repeated in one operand), ``reduce_sum`` sums letters that nothing else
needs, and the operands are contracted two at a time with ``dot_general``,
in a greedy order that keeps every intermediate result small. So a traced
einsum is a short, loop-free circuit that ``grad``, ``vmap`` and ``jit``
handle like any other.

Supported everywhere: explicit (``->``) and implicit output, spaces, ``...``
with NumPy broadcasting (size-1 axes and different ``...`` ranks), repeated
letters, any number of operands, the sublist form ``einsum(x, [0, 1], y,
[1, 2], [0, 2])`` and ``optimize`` (a bool, ``'greedy'``, ``'optimal'`` or
an ``einsum_path`` list, which is followed as given).

Examples:
    >>> import numpy as np
    >>> import nanojax as nj
    >>> from nanojax.numpy._einsum import einsum
    >>> a, b = np.arange(6.0).reshape(2, 3), np.ones((3, 3))
    >>> einsum("ij,jk,kk->i", a, b, b)
    array([ 9., 36.])
    >>> nj.grad(lambda x: einsum("ii->", x))(np.ones((2, 2)))      # d trace / dx
    array([[1., 0.],
           [0., 1.]])
    >>> nj.jit(lambda x: einsum(x, [0, 1], x, [1, 2], [0, 2]))(np.eye(2))
    array([[1., 0.],
           [0., 1.]])
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from nanojax import primitives as P
from nanojax.core import Tracer

__all__ = ["einsum"]

_PREFIX = "nanojax.numpy.einsum: "
_ELLIPSIS = "..."
_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
# The sublist form numbers its labels 0..51; NumPy maps them to these
# letters, so implicit-output order is the same in both forms.
# string.ascii_uppercase + string.ascii_lowercase, spelled out: importing
# string costs every program its import time.
_SUBLIST_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_NUMBER_TYPES = (int, float, bool, complex, np.generic)
# NumPy keywords we accept only at their default values.
_NUMPY_DEFAULTS = {"out": None, "dtype": None, "order": "K", "casting": "safe"}
_PATH_ALGORITHMS = ("greedy", "optimal")
# NumPy errors that a bad call can raise; each is re-raised with our wording.
_NUMPY_ERRORS = (ValueError, TypeError, IndexError, RuntimeError, KeyError)


def einsum(*operands: Any, optimize: Any = False, **kwargs: Any) -> Any:
    """``numpy.einsum(subscripts, *operands)`` or ``numpy.einsum(op0, sublist0, ...)``.

    ``optimize`` is checked and an explicit ``einsum_path`` is followed;
    otherwise a traced sum always uses the greedy order. As in NumPy, only
    ``optimize=False`` refuses ``...`` axes that the output leaves out (any
    other value sums them).
    """
    _check_keywords(kwargs)
    args = _decode_subscripts(operands)
    positions = _operand_positions(args)
    path = _check_optimize(optimize, len(positions))
    if not any(_holds_tracer(args[k]) for k in positions):
        _check_eagerly(args, positions, optimize)
    # Plain arrays take the traced path's steps too (its primitives run at
    # once): np.einsum sums in another order, and eager and jit must agree to
    # the bit.
    return _traced(args, positions, optimize, path)


# ----- Arguments --------------------------------------------------------------

def _check_keywords(kwargs: dict) -> None:
    for name, value in kwargs.items():
        if name not in _NUMPY_DEFAULTS:
            raise TypeError(f"{_PREFIX}got an unexpected keyword argument {name!r}")
        default = _NUMPY_DEFAULTS[name]
        if not (value is default or (isinstance(value, str) and value == default)):
            raise NotImplementedError(f"{_PREFIX}the keyword {name}={_brief(value)} is not "
                                      f"supported (only its default {default!r} is)")


def _brief(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"<{type(value).__name__}>"


def _decode_subscripts(args: tuple) -> tuple:
    # NumPy takes bytes subscripts too; decoding once lets the parser see text.
    if args and isinstance(args[0], bytes):
        try:
            return (args[0].decode("ascii"),) + args[1:]
        except UnicodeDecodeError:
            raise ValueError(f"{_PREFIX}subscripts {args[0]!r} must be ASCII") from None
    return args


def _operand_positions(args: tuple) -> list[int]:
    """Where the operands are among ``args``, for either calling form."""
    if not args:
        raise ValueError(f"{_PREFIX}expected a subscripts string and at least one "
                         "operand (or operands each followed by its sublist)")
    if isinstance(args[0], str):
        if len(args) == 1:
            raise ValueError(f"{_PREFIX}subscripts {args[0]!r} were given no operands")
        return list(range(1, len(args)))
    if len(args) < 2:
        raise ValueError(f"{_PREFIX}the sublist form needs at least one operand followed "
                         "by its list of axis labels")
    return list(range(0, len(args) - 1, 2))


def _holds_tracer(x: Any) -> bool:
    if isinstance(x, Tracer):
        return True
    return isinstance(x, (list, tuple)) and any(_holds_tracer(e) for e in x)


def _numeric_array(x: Any, index: int) -> Any:
    """``x`` as a NumPy array (or number), refusing None, strings and objects."""
    if type(x) is np.ndarray or isinstance(x, _NUMBER_TYPES):
        array = x
    elif isinstance(x, (list, tuple)) or hasattr(x, "__array__"):
        try:
            array = np.asarray(x)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{_PREFIX}cannot make an array from operand {index} "
                            f"({x!r:.50}): {err}") from None
    else:
        raise TypeError(f"{_PREFIX}operand {index} must be an array or a number, got "
                        f"{type(x).__name__} ({x!r:.50})")
    if np.asarray(array).dtype.kind in "OSUVMm":
        raise TypeError(f"{_PREFIX}operand {index} holds {np.asarray(array).dtype} "
                        f"values ({x!r:.50}), which are not numeric; use numeric arrays")
    return array


def _traced_operand(x: Any, index: int) -> Any:
    if isinstance(x, Tracer):
        return x
    if isinstance(x, (list, tuple)) and _holds_tracer(x):
        from nanojax.numpy import asarray  # late: that package imports this module
        return asarray(x)
    return np.asarray(_numeric_array(x, index))


# ----- optimize -----------------------------------------------------------------

def _check_optimize(optimize: Any, n_operands: int) -> list[tuple[int, ...]] | None:
    """Validate ``optimize``; return the explicit contraction path, if it is one."""
    if optimize is None or isinstance(optimize, (bool, np.bool_)):
        return None
    if isinstance(optimize, str):
        if optimize not in _PATH_ALGORITHMS:
            raise ValueError(f"{_PREFIX}optimize={optimize!r} is not a path algorithm; "
                             f"use one of {_PATH_ALGORITHMS}, a bool or an einsum_path list")
        return None
    if isinstance(optimize, (list, tuple)) and optimize:
        head = optimize[0]
        if isinstance(head, str) and head == "einsum_path":
            return _check_path(optimize[1:], n_operands)
        # (algorithm, memory limit), as NumPy accepts; the limit changes nothing here.
        limit = optimize[-1]
        if (len(optimize) == 2 and isinstance(head, str) and head in _PATH_ALGORITHMS
                and isinstance(limit, (int, float)) and not isinstance(limit, bool)):
            return None
    raise TypeError(f"{_PREFIX}optimize must be a bool, 'greedy', 'optimal' or a list "
                    f"['einsum_path', (i, j), ...], got {optimize!r:.60}")


def _check_path(steps: Sequence, n_operands: int) -> list[tuple[int, ...]]:
    # Each step contracts the listed operands of the current list and appends
    # the result to its end, as in numpy.einsum_path.
    path, remaining = [], n_operands
    for step in steps:
        if not isinstance(step, (list, tuple)) or not step:
            raise TypeError(f"{_PREFIX}each step of an einsum_path must be a non-empty "
                            f"tuple of operand positions, got {step!r:.40}")
        if not all(_is_index(k) for k in step):
            raise TypeError(f"{_PREFIX}einsum_path step {tuple(step)!r:.40} must hold ints")
        step = tuple(operator.index(k) for k in step)
        if any(not 0 <= k < remaining for k in step):
            raise IndexError(f"{_PREFIX}einsum_path step {step} names an operand outside "
                             f"the {remaining} that are left at that point")
        if len(set(step)) != len(step):
            raise ValueError(f"{_PREFIX}einsum_path step {step} names an operand twice")
        path.append(step)
        remaining -= len(step) - 1
    if remaining != 1:
        raise RuntimeError(f"{_PREFIX}the einsum_path leaves {remaining} operands "
                           "uncontracted; it must end with a single result")
    return path


def _is_index(k: Any) -> bool:
    return isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_))


# ----- The eager path -------------------------------------------------------------

def _check_eagerly(args: tuple, positions: list[int], optimize: Any) -> None:
    """Refuse what NumPy would refuse, with its error type and our sentence."""
    operands = list(args)
    for i, k in enumerate(positions):
        operands[k] = _numeric_array(operands[k], i)
    try:
        _plan(_subscripts(operands, positions), [np.shape(operands[k]) for k in positions],
              optimize)
    except _NUMPY_ERRORS:
        try:                       # NumPy's exception type, when NumPy refuses too
            np.einsum(*operands, optimize=optimize)
        except _NUMPY_ERRORS as numpy_err:
            raise _explained(numpy_err, operands, positions, optimize) from None
        raise


def _explained(err: Exception, args: list, positions: list[int], optimize: Any) -> Exception:
    """NumPy's error, re-worded by our own checks (which say what was wrong)."""
    try:
        _plan(_subscripts(args, positions), [np.shape(args[k]) for k in positions],
              optimize)
    except _NUMPY_ERRORS as ours:
        return type(err)(str(ours))
    return type(err)(f"{_PREFIX}{err}")


# ----- Parsing: subscripts to per-operand label lists -------------------------------

class _Subscripts(NamedTuple):
    """Parsed subscripts: letters and ``...`` per operand, and the output's.

    ``output`` is None in implicit mode. In the sublist form each int label is
    stored as NumPy's letter for it; ``describe`` turns it back for messages.
    """

    inputs: tuple[tuple[str, ...], ...]
    output: tuple[str, ...] | None
    sublist: bool

    def describe(self, label: str) -> str:
        if label.startswith(_ELLIPSIS):
            return "the '...' axes"
        if self.sublist:
            return f"label {_SUBLIST_LETTERS.index(label)}"
        return f"letter {label!r}"


def _subscripts(args: Sequence, positions: list[int]) -> _Subscripts:
    if isinstance(args[0], str):
        return _parse_string(args[0], len(positions))
    return _parse_sublists(args, positions)


def _parse_string(text: str, n_operands: int) -> _Subscripts:
    compact = text.replace(" ", "")
    inputs_text, arrow, output_text = compact.partition("->")
    if any(c in "->" for c in inputs_text + output_text):
        raise ValueError(f"{_PREFIX}subscripts {text!r} use '-' or '>' other than in the "
                         "one '->' that introduces the output")
    terms = inputs_text.split(",")
    if len(terms) != n_operands:
        raise ValueError(f"{_PREFIX}subscripts {text!r} describe {len(terms)} "
                         f"operand{'s' * (len(terms) != 1)}, but {n_operands} "
                         f"{'were' if n_operands != 1 else 'was'} given")
    inputs = tuple(_parse_term(t, text, f"operand {k}") for k, t in enumerate(terms))
    output = _parse_term(output_text, text, "the output") if arrow else None
    return _Subscripts(inputs, output, sublist=False)


def _parse_term(term: str, text: str, where: str) -> tuple[str, ...]:
    items: list[str] = []
    i = 0
    while i < len(term):
        c = term[i]
        if c == ".":
            if term[i:i + 3] != _ELLIPSIS:
                raise ValueError(f"{_PREFIX}the subscripts of {where} in {text!r} have a "
                                 "'.' that is not part of an ellipsis '...'")
            _add_ellipsis(items, where)
            i += 3
            continue
        if c not in _LETTERS:
            raise ValueError(f"{_PREFIX}invalid character {c!r} in subscripts {text!r}; "
                             "only letters a-z and A-Z, ',', '...', '->' and spaces are "
                             "allowed")
        items.append(c)
        i += 1
    return tuple(items)


def _add_ellipsis(items: list[str], where: str) -> None:
    if _ELLIPSIS in items:
        raise ValueError(f"{_PREFIX}the subscripts of {where} have more than one '...'")
    items.append(_ELLIPSIS)


def _parse_sublists(args: Sequence, positions: list[int]) -> _Subscripts:
    inputs = tuple(_parse_sublist(args[k + 1], f"operand {i}")
                   for i, k in enumerate(positions))
    has_output = len(args) % 2 == 1
    output = _parse_sublist(args[-1], "the output") if has_output else None
    return _Subscripts(inputs, output, sublist=True)


def _parse_sublist(sublist: Any, where: str) -> tuple[str, ...]:
    if not isinstance(sublist, (list, tuple)):
        raise TypeError(f"{_PREFIX}in the sublist form, the subscripts of {where} must be a "
                        f"list of ints and Ellipsis, got {type(sublist).__name__} "
                        f"({sublist!r:.40})")
    items: list[str] = []
    for label in sublist:
        if label is Ellipsis:
            _add_ellipsis(items, where)
        elif not _is_index(label):
            raise TypeError(f"{_PREFIX}the sublist of {where} holds {label!r:.20}; axis "
                            "labels must be ints in [0, 52) or Ellipsis")
        elif not 0 <= label < len(_SUBLIST_LETTERS):
            raise ValueError(f"{_PREFIX}the sublist of {where} holds label {int(label)}; "
                             "axis labels must be in [0, 52)")
        else:
            items.append(_SUBLIST_LETTERS[int(label)])
    return tuple(items)


# ----- Planning: labels for every axis, the output, and each label's size ---------

class _Plan(NamedTuple):
    """Every axis of every operand labelled, ``...`` axes included.

    ``...`` axes are labelled ``'...0'``, ``'...1'``, ... counting from the
    left of the widest ``...``, so operands with fewer of them line up on the
    right, as NumPy broadcasting does.
    """

    inputs: tuple[tuple[str, ...], ...]
    output: tuple[str, ...]
    sizes: dict[str, int]


def _plan(subs: _Subscripts, shapes: list[tuple[int, ...]], optimize: Any) -> _Plan:
    widths = [_ellipsis_width(term, shape, k, subs)
              for k, (term, shape) in enumerate(zip(subs.inputs, shapes))]
    widest = max(widths)
    inputs = tuple(_expand(term, _ellipsis_labels(widest - w, widest))
                   for term, w in zip(subs.inputs, widths))
    output = _output_labels(subs, widest, optimize)
    return _Plan(inputs, output, _label_sizes(subs, inputs, shapes))


def _ellipsis_width(term: tuple[str, ...], shape: tuple[int, ...], k: int,
                    subs: _Subscripts) -> int:
    """How many axes the operand's ``...`` stands for (0 if it has none)."""
    n_letters = len(term) - (_ELLIPSIS in term)
    width = len(shape) - n_letters
    if width < 0:
        raise ValueError(f"{_PREFIX}operand {k} has {len(shape)} "
                         f"ax{'es' if len(shape) != 1 else 'is'} (shape {shape}) but its "
                         f"subscripts {_show(term, subs)} name {n_letters}")
    if width > 0 and _ELLIPSIS not in term:
        raise ValueError(f"{_PREFIX}operand {k} has {len(shape)} axes (shape {shape}) but "
                         f"its subscripts {_show(term, subs)} name only {n_letters} and "
                         "have no '...' to stand for the rest")
    return width


def _show(term: tuple[str, ...], subs: _Subscripts) -> str:
    if subs.sublist:
        return repr([Ellipsis if c == _ELLIPSIS else _SUBLIST_LETTERS.index(c)
                     for c in term])
    return repr("".join(term))


def _ellipsis_labels(start: int, stop: int) -> tuple[str, ...]:
    return tuple(f"{_ELLIPSIS}{i}" for i in range(start, stop))


def _expand(term: tuple[str, ...], ellipsis: tuple[str, ...]) -> tuple[str, ...]:
    if _ELLIPSIS not in term:
        return term
    k = term.index(_ELLIPSIS)
    return term[:k] + ellipsis + term[k + 1:]


def _output_labels(subs: _Subscripts, widest: int, optimize: Any) -> tuple[str, ...]:
    everything = [c for term in subs.inputs for c in term if c != _ELLIPSIS]
    if subs.output is None:
        # Implicit mode: '...' first, then the labels used exactly once, in
        # character-code order (so 'B' comes before 'a', as in NumPy).
        once = sorted(c for c in set(everything) if everything.count(c) == 1)
        lead = _ellipsis_labels(0, widest) if any(_ELLIPSIS in t for t in subs.inputs) else ()
        return lead + tuple(once)
    for c in subs.output:
        if c == _ELLIPSIS:
            continue
        if subs.output.count(c) > 1:
            raise ValueError(f"{_PREFIX}{subs.describe(c)} appears more than once in the "
                             "output")
        if c not in everything:
            raise ValueError(f"{_PREFIX}{subs.describe(c)} is in the output but in no "
                             "input")
    # NumPy's unoptimized einsum (optimize=False) refuses to sum '...' axes
    # away; its optimized one sums them.
    if widest and _ELLIPSIS not in subs.output and optimize is False:
        raise ValueError(f"{_PREFIX}the inputs' '...' stands for {widest} "
                         f"ax{'es' if widest != 1 else 'is'} but the output has no '...' "
                         f"to keep {'them' if widest != 1 else 'it'} (add one, or pass "
                         "optimize=True to sum them)")
    return _expand(subs.output, _ellipsis_labels(0, widest))


def _label_sizes(subs: _Subscripts, inputs: tuple[tuple[str, ...], ...],
                 shapes: list[tuple[int, ...]]) -> dict[str, int]:
    """Each label's size, after checking that every use of it agrees."""
    sizes: dict[str, int] = {}
    first: dict[str, int] = {}                # the operand that set sizes[label]
    for k, (labels, shape) in enumerate(zip(inputs, shapes)):
        own: dict[str, int] = {}
        for label, n in zip(labels, shape):
            if label in own and own[label] != n:
                raise ValueError(f"{_PREFIX}{subs.describe(label)} is repeated in operand "
                                 f"{k} (shape {shape}), so its axes must have equal sizes "
                                 f"to take a diagonal, got {own[label]} and {n}")
            own[label] = n
        for label, n in own.items():
            known = sizes.get(label)
            if known is None or known == 1:
                sizes[label], first[label] = n, k
            elif n not in (1, known):
                raise _size_mismatch(subs, label, first[label], known, k, n, shapes)
    return sizes


def _size_mismatch(subs: _Subscripts, label: str, k0: int, n0: int, k1: int, n1: int,
                   shapes: list[tuple[int, ...]]) -> ValueError:
    a, b = shapes[k0], shapes[k1]
    if label.startswith(_ELLIPSIS):
        return ValueError(f"{_PREFIX}the '...' axes of operand {k0} (shape {a}) and operand "
                          f"{k1} (shape {b}) do not broadcast together ({n0} vs {n1})")
    return ValueError(f"{_PREFIX}{subs.describe(label)} has size {n0} in operand {k0} "
                      f"(shape {a}) but {n1} in operand {k1} (shape {b}); sizes must "
                      "match or be 1")


# ----- The traced path ---------------------------------------------------------------

class _Term(NamedTuple):
    """An operand (or intermediate result) with one label per axis."""

    value: Any
    labels: tuple[str, ...]


def _traced(args: tuple, positions: list[int], optimize: Any,
            path: list[tuple[int, ...]] | None) -> Any:
    operands = [_traced_operand(args[k], i) for i, k in enumerate(positions)]
    plan = _plan(_subscripts(args, positions), [P.shape_of(x) for x in operands], optimize)
    result_dtype = np.result_type(*(P.dtype_of(x) for x in operands))
    # Booleans: NumPy's einsum is "any of the ands"; summing 0/1 integers and
    # testing for nonzero gives the same, with primitives that know integers.
    work_dtype = np.dtype(np.int64) if result_dtype == np.bool_ else result_dtype
    terms = [_Term(_cast(x, work_dtype), labels) for x, labels in zip(operands, plan.inputs)]
    terms = [_squeeze_broadcast(_take_diagonals(t), plan.sizes) for t in terms]
    # Sum away labels that one operand alone has and the output drops:
    # that shrinks the operand before any contraction has to carry them.
    terms = [_sum_labels(t, _needed(plan.output, terms, skip=(k,)))
             for k, t in enumerate(terms)]
    result = _contract_all(terms, plan.output, plan.sizes, path)
    result = _sum_labels(result, set(plan.output))
    return _cast(_transpose_to(result, plan.output), result_dtype)


def _cast(x: Any, dtype: np.dtype) -> Any:
    if P.dtype_of(x) == dtype:
        return x
    return x.astype(dtype) if isinstance(x, np.ndarray) else P.convert_element_type(x, dtype)


def _needed(output: tuple[str, ...], terms: list[_Term], skip: tuple[int, ...]) -> set[str]:
    """Labels the output or any term outside ``skip`` still uses."""
    needed = set(output)
    for k, t in enumerate(terms):
        if k not in skip:
            needed.update(t.labels)
    return needed


def _take_diagonals(term: _Term) -> _Term:
    """One axis per label: ``x[i, i, j] -> y[i, j]`` for a letter used twice."""
    x, labels = term
    for label in dict.fromkeys(labels):             # distinct labels, in order
        where = [k for k, c in enumerate(labels) if c == label]
        if len(where) == 1:
            continue
        # Bring the repeated axes to the front: NumPy indexing then puts the
        # diagonal's axis there too, whatever the rank.
        rest = [k for k in range(len(labels)) if k not in where]
        x = _permute(x, tuple(where + rest))
        n = P.shape_of(x)[0]
        diagonal = np.arange(n)
        indexer = P.Indexer((P.Indexer.ARRAY,) * len(where))
        x = P.gather(x, *([diagonal] * len(where)), indexer=indexer)
        labels = (label,) + tuple(labels[k] for k in rest)
    return _Term(x, labels)


def _squeeze_broadcast(term: _Term, sizes: dict[str, int]) -> _Term:
    """Drop size-1 axes whose label is longer elsewhere: they broadcast.

    Without the axis the label is simply absent from this operand, which is
    what broadcasting means for a product or a sum.
    """
    x, labels = term
    shape = P.shape_of(x)
    keep = [k for k, (c, n) in enumerate(zip(labels, shape)) if not (n == 1 and sizes[c] != 1)]
    if len(keep) == len(labels):
        return term
    return _Term(P.reshape(x, tuple(shape[k] for k in keep)), tuple(labels[k] for k in keep))


def _sum_labels(term: _Term, keep: set[str]) -> _Term:
    x, labels = term
    axes = tuple(k for k, c in enumerate(labels) if c not in keep)
    if not axes:
        return term
    return _Term(P.reduce_sum(x, axes), tuple(c for c in labels if c in keep))


def _permute(x: Any, perm: tuple[int, ...]) -> Any:
    return x if perm == tuple(range(len(perm))) else P.transpose(x, perm)


def _transpose_to(term: _Term, output: tuple[str, ...]) -> Any:
    return _permute(term.value, tuple(term.labels.index(c) for c in output))


# ----- Contraction order and pairwise contraction ---------------------------------------

def _contract_all(terms: list[_Term], output: tuple[str, ...], sizes: dict[str, int],
                  path: list[tuple[int, ...]] | None) -> _Term:
    terms = list(terms)
    if path is not None:
        for step in path:
            group = [terms[k] for k in step]
            for k in sorted(step, reverse=True):
                del terms[k]
            terms.append(_contract_group(group, output, terms))
        return terms[0]
    while len(terms) > 1:
        i, j = _greedy_pair(terms, output, sizes)
        b, a = terms.pop(j), terms.pop(i)
        terms.append(_contract_pair(a, b, _needed(output, terms, skip=()), output))
    return terms[0]


def _contract_group(group: list[_Term], output: tuple[str, ...], others: list[_Term]) -> _Term:
    """One step of an explicit path: its operands, two at a time, in order."""
    acc = group[0]
    for k, nxt in enumerate(group[1:], start=2):
        acc = _contract_pair(acc, nxt, _needed(output, others + group[k:], skip=()), output)
    return _sum_labels(acc, _needed(output, others, skip=()))


def _greedy_pair(terms: list[_Term], output: tuple[str, ...],
                 sizes: dict[str, int]) -> tuple[int, int]:
    """The pair whose result is smallest (then: cheapest to compute, first)."""
    best, best_cost = (0, 1), None
    for i in range(len(terms)):
        for j in range(i + 1, len(terms)):
            union = set(terms[i].labels) | set(terms[j].labels)
            kept = union & _needed(output, terms, skip=(i, j))
            cost = (_volume(kept, sizes), _volume(union, sizes))
            if best_cost is None or cost < best_cost:
                best, best_cost = (i, j), cost
    return best


def _volume(labels: set[str], sizes: dict[str, int]) -> int:
    return math.prod(sizes[c] for c in labels)


def _contract_pair(a: _Term, b: _Term, needed: set[str],
                   output: tuple[str, ...] = ()) -> _Term:
    """``a`` times ``b``, summed over the labels that ``needed`` lacks.

    Shared labels still needed are batch dimensions of ``dot_general``,
    shared ones not needed are contracted. dot_general lays its result out
    as batch, then the left operand's free axes, then the right one's; the
    operands are swapped when that puts the result in ``output``'s order,
    which saves the final transpose.
    """
    a = _sum_labels(a, needed | set(b.labels))
    b = _sum_labels(b, needed | set(a.labels))
    if not a.labels or not b.labels:        # a scalar factor: a plain product
        return _Term(P.mul(a.value, b.value), a.labels or b.labels)
    shared = [c for c in a.labels if c in b.labels]
    rank = {c: k for k, c in enumerate(output)}
    batch = sorted((c for c in shared if c in needed), key=lambda c: rank.get(c, -1))
    contract = [c for c in shared if c not in needed]
    left, right = a, b
    if _result_labels(b, a, batch) == tuple(output):
        left, right = b, a

    def axes(term: _Term, labels: list[str]) -> tuple[int, ...]:
        return tuple(term.labels.index(c) for c in labels)
    dims = ((axes(left, contract), axes(right, contract)),
            (axes(left, batch), axes(right, batch)))
    return _Term(P.dot_general(left.value, right.value, dims),
                 _result_labels(left, right, batch))


def _result_labels(left: _Term, right: _Term, batch: list[str]) -> tuple[str, ...]:
    """dot_general's output labels: batch, then each side's free labels."""
    return (tuple(batch) + tuple(c for c in left.labels if c not in right.labels)
            + tuple(c for c in right.labels if c not in left.labels))
