"""nanojax.random against JAX 0.10 (x64): the same keys give the same numbers.

The expected values are JAX's outputs, stored as literals in
``tests/random_jax_expected.py`` (written by ``benchmarks/gen_random_jax_bits.py``,
which needs JAX; these tests do not). Each case is an expression in ``r``
(``nanojax.random`` here, ``jax.random`` in the generator) and ``jnp``. ``ulps``
is how far a value may be from JAX's: 0 where every operation matches XLA's,
a few where XLA evaluates ``log1p``, ``erf_inv``, ``exp`` or a multiply-add
with different rounding than NumPy (see the report in the branch history).
"""

from __future__ import annotations

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import random as r

try:
    from tests.random_jax_cases import CASES, evaluate
except ImportError:                       # run from inside tests/
    from random_jax_cases import CASES, evaluate  # type: ignore[no-redef]

try:
    from tests import random_jax_expected as _expected
except ImportError:                       # run from inside tests/
    import random_jax_expected as _expected  # type: ignore[no-redef]

EXPECTED = _expected.EXPECTED


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_same_numbers_as_jax(case) -> None:
    name, expr, ulps = case
    dtype, shape, values = EXPECTED[name]
    want = np.array(values, dtype=dtype).reshape(shape)
    got = evaluate(expr, r, jnp)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape)
    if ulps == 0 or want.dtype.kind != "f":
        np.testing.assert_array_equal(got, want)
    else:
        off = np.abs(got - want) / np.spacing(np.abs(want))
        assert float(off.max()) <= ulps, f"{float(off.max())} ulps from JAX's (allowed {ulps})"


def test_every_case_has_an_expected_value() -> None:
    assert set(EXPECTED) == {c[0] for c in CASES}


def test_jit_and_vmap_give_the_same_bits() -> None:
    k = r.PRNGKey(3)
    eager = r.normal(k, (5,))
    np.testing.assert_array_equal(nj.jit(lambda k: r.normal(k, (5,)))(k), eager)
    keys = r.split(k, 4)
    batched = nj.vmap(lambda k: r.uniform(k, (3,)))(keys)
    np.testing.assert_array_equal(batched, np.stack([r.uniform(kk, (3,)) for kk in keys]))
    np.testing.assert_array_equal(nj.jit(r.PRNGKey)(np.int64(-5)), r.PRNGKey(-5))
    folded = nj.vmap(lambda d: r.fold_in(k, d))(jnp.arange(3))
    np.testing.assert_array_equal(folded, np.stack([r.fold_in(k, i) for i in range(3)]))
