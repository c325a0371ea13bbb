"""Every function nanojax.numpy exports is checked somewhere, and none leaks internals.

The differential tables (test_numpy_surface, test_numpy_math, test_numpy_structure and the
files of each family) run the functions against NumPy eagerly and under jit, vmap and grad.
This file keeps them complete: a new jnp function that no test names fails here until it
gets a row. The aliases below get their rows here: each must be NumPy's function of the
same name, eagerly and traced.
"""

from __future__ import annotations

import re
import types
from pathlib import Path

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp

TESTS = Path(__file__).resolve().parent
X = np.array([[0.5, -1.5, 2.0], [3.0, -0.25, 1.0]])
INTS = np.array([[3, 0, 5], [1, 2, 4]])

# name -> (array arguments, static arguments, differentiable in the first)
ALIASES = {
    "absolute": ((X,), (), True),
    "amax": ((X,), (), True),
    "amin": ((X,), (), True),
    "reciprocal": ((X,), (), True),
    "true_divide": ((X, X[::-1]), (), True),
    "fix": ((X,), (), False),
    "rot90": ((X,), (), True),
    "hstack": ((X, X[::-1]), (), False),
    "vstack": ((X, X[::-1]), (), False),
    "take_along_axis": ((X, np.argsort(X, axis=1)), (1,), True),
    "logical_xor": ((X > 0, X < 1), (), False),
    "bitwise_invert": ((INTS,), (), False),
    "in1d": ((INTS.ravel(), np.array([0, 4])), (), False),
    "unique_values": ((INTS.ravel() % 3,), (), False),
    "unique_inverse": ((INTS.ravel() % 3,), (), False),
}
# Their NumPy functions, where NumPy spells them otherwise.
NUMPY_NAME = {"bitwise_invert": "invert", "in1d": "isin"}


def _functions() -> list[str]:
    return [n for n in jnp.__all__ if callable(getattr(jnp, n))
            and not isinstance(getattr(jnp, n), (type, types.ModuleType))]


def test_every_jnp_function_is_named_by_a_test():
    text = "".join(p.read_text() for p in TESTS.rglob("test_*.py") if p.name != Path(__file__).name)
    unnamed = [n for n in _functions()
               if n not in ALIASES and not re.search(rf"(jnp\.{n}\b|[\"']{n}[\"'])", text)]
    assert not unnamed, f"jnp functions no test names (add rows): {unnamed}"


def test_dir_of_jnp_lists_numpy_names_not_internals():
    for name in ("np", "Any", "Tracer", "P", "builtins", "annotations", "plain_asarray"):
        assert name not in jnp.__all__ and not hasattr(jnp, name)


def _numpy(name, arrays, statics):
    if name in ("hstack", "vstack"):
        return getattr(np, name)(arrays)
    if name == "unique_values":
        return np.unique(*arrays)
    if name == "unique_inverse":
        return np.unique(*arrays, return_inverse=True)[1]
    return getattr(np, NUMPY_NAME.get(name, name))(*arrays, *statics)


def _ours(name, arrays, statics):
    fn = getattr(jnp, name)
    if name in ("hstack", "vstack"):
        return fn(arrays)
    out = fn(*arrays, *statics)
    return out.inverse_indices if name == "unique_inverse" else out


@pytest.mark.parametrize("name", sorted(ALIASES))
def test_alias_matches_numpy_eagerly_and_traced(name):
    arrays, statics, differentiable = ALIASES[name]
    want = _numpy(name, arrays, statics)
    np.testing.assert_array_equal(_ours(name, arrays, statics), want)
    if name.startswith("unique"):
        return                 # a size known only from the values: eager only (jit wants size=)
    np.testing.assert_array_equal(nj.jit(lambda *a: _ours(name, a, statics))(*arrays), want)
    if differentiable:
        def fn(x):
            return jnp.sum(_ours(name, (x, *arrays[1:]), statics) ** 2)
        np.testing.assert_allclose(nj.grad(fn)(arrays[0]), nj.numerical_grad(fn)(arrays[0]),
                                   rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("module", [nj.nn, nj.random, nj.models, nj.lax, nj.optim])
def test_dir_of_a_module_lists_its_public_names_only(module):
    listed = dir(module)
    assert set(module.__all__) <= set(listed)
    for internal in ("np", "Any", "Tracer", "P", "annotations", "math"):
        assert internal not in listed
    if module is nj.lax:
        assert "linalg" in listed
    if module is nj.nn:
        assert "initializers" in listed
