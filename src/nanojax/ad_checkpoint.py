"""``jax.ad_checkpoint``: ``checkpoint``, its policies, and ``checkpoint_name``.

``checkpoint_name(x, name)`` labels an intermediate for a policy such as
``checkpoint_policies.save_only_these_names(name)``. nanojax's checkpoint
saves no intermediate under any policy (recomputing is always correct), so
a label changes no value and no derivative: ``checkpoint_name`` returns
``x`` itself, under every transformation.

Examples:
    >>> import nanojax as nj
    >>> import nanojax.numpy as jnp
    >>> from nanojax.ad_checkpoint import checkpoint, checkpoint_name, checkpoint_policies
    >>> def layer(w, x):
    ...     return jnp.tanh(checkpoint_name(w @ x, "pre_activation"))
    >>> f = checkpoint(layer, policy=checkpoint_policies.save_only_these_names("pre_activation"))
    >>> g = nj.grad(lambda w: jnp.sum(f(w, jnp.ones(2))))(jnp.eye(2))
    >>> print(round(float(g[0, 0]), 6))     # 1 - tanh(1)**2, as without the label
    0.419974
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from nanojax.api_util import check_callable, check_inputs
from nanojax.checkpoint import checkpoint, checkpoint_policies, remat
from nanojax.tree_util import SequenceKey, keystr, tree_flatten, tree_flatten_with_path

__all__ = ["checkpoint", "checkpoint_name", "checkpoint_policies", "print_saved_residuals",
           "remat"]


def checkpoint_name(x: Any, name: str) -> Any:
    """``x`` (any pytree), labelled ``name`` for checkpoint policies; see the module doc."""
    if not isinstance(name, str):
        raise TypeError(f"nanojax.ad_checkpoint.checkpoint_name: name must be a string, got "
                        f"{type(name).__name__} ({name!r:.40})")
    return x


def _short(x: Any) -> str:
    dtype = np.asarray(x).dtype
    kind = {"f": "f", "i": "i", "u": "u", "b": "bool", "c": "c"}.get(dtype.kind, dtype.kind)
    bits = "" if kind == "bool" else str(dtype.itemsize * 8)
    return f"{kind}{bits}[{','.join(map(str, np.shape(x)))}]"


def _argument_names(fun: Callable, args: tuple, kwargs: dict) -> list[str]:
    """A name for each leaf of ``(args, kwargs)``: ``W1``, ``params['w']``, ``#0``."""
    try:
        params = list(inspect.signature(fun).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = []
    for path, _ in tree_flatten_with_path((args, kwargs))[0]:
        where, first, rest = path[0], path[1], path[2:]
        if isinstance(where, SequenceKey) and where.idx == 0:      # positional
            i = first.idx
            star = next((k for k, p in enumerate(params)
                         if p.kind is inspect.Parameter.VAR_POSITIONAL), None)
            if star is not None and i >= star:
                head = f"{params[star].name}[{i - star}]"
            else:
                head = params[i].name if i < len(params) else f"#{i}"
        else:
            head = str(getattr(first, "key", first))
        names.append(head + keystr(rest))
    return names


def print_saved_residuals(f: Callable, *args: Any, **kwargs: Any) -> None:
    """Print what ``grad`` keeps of ``f``'s forward pass at ``args`` for its backward pass.

    One line per array held on the tape, with where it came from: an
    argument, or the output of a gate. A ``checkpoint``-ed function keeps
    only its inputs (it recomputes the rest on the way back).

    >>> import nanojax.numpy as jnp
    >>> def f(W, x):
    ...     return jnp.sum(jnp.sin(jnp.dot(W, x)))
    >>> print_saved_residuals(f, jnp.ones((2, 3)), jnp.ones(3))
    f64[2,3] from the argument W
    f64[3] from the argument x
    f64[2] output of dot_general
    f64[2] output of sin
    >>> print_saved_residuals(checkpoint(f), jnp.ones((2, 3)), jnp.ones(3))
    f64[2,3] from the argument W
    f64[3] from the argument x
    """
    who = "nanojax.ad_checkpoint.print_saved_residuals"
    check_callable(f, who)
    from nanojax.tape import record
    flat, in_tree = tree_flatten((args, kwargs))
    flat = check_inputs(flat, who)
    trace = record(lambda a, k: f(*a, **k), flat, in_tree, False, who)[0]
    names = _argument_names(f, args, kwargs)
    arguments: dict[int, str] = {}         # argument index -> line
    others: list[str] = []
    seen: set[int] = set()
    made_by: dict[int, str] = {}           # wire -> the gate that drives it
    for prim, _params, in_nodes, in_values, out_value, out_node in trace.tape:
        for node, value in zip(in_nodes, in_values):
            if not isinstance(value, np.ndarray) or id(value) in seen:
                continue                   # a number, or an array the rules do not read
            seen.add(id(value))
            if 0 <= node < len(flat):
                arguments[node] = f"{_short(value)} from the argument {names[node]}"
            elif node < 0:
                others.append(f"{_short(value)} from a constant")
            else:
                others.append(f"{_short(value)} output of {made_by.get(node, 'a gate')}")
        wires = out_node if isinstance(out_node, tuple) else (out_node,)
        outs = out_value if isinstance(out_node, tuple) else [out_value]
        for node, value in zip(wires, outs):
            made_by[node] = prim.name
            if isinstance(value, np.ndarray) and id(value) not in seen:
                seen.add(id(value))
                others.append(f"{_short(value)} output of {prim.name}")
    for line in [arguments[i] for i in sorted(arguments)] + others:
        print(line)
