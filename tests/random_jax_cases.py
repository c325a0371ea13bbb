"""The cases of tests/test_random_jax_bits.py: expressions in ``r`` (a random module:
``nanojax.random`` or ``jax.random``), ``jnp`` and ``np``, with how many ulps a float
result may be from JAX's. Kept apart from the test so that the JAX-side generator
(benchmarks/gen_random_jax_bits.py) needs neither pytest nor nanojax's test setup."""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

# (id, expression, ulps). The expressions only use names both libraries share.
CASES: list[tuple[str, str, int]] = [
    ("key0", "r.PRNGKey(0)", 0),
    ("key_neg", "r.PRNGKey(-1)", 0),
    ("key_big", "r.PRNGKey(2**32 + 5)", 0),
    ("key_neg_big", "r.PRNGKey(-2**40 - 3)", 0),
    ("key_int32", "r.PRNGKey(np.int32(-7))", 0),
    ("key_uint64", "r.PRNGKey(np.uint64(2**64 - 2))", 0),
    ("split", "r.split(r.PRNGKey(0))", 0),
    ("split5", "r.split(r.PRNGKey(42), 5)", 0),
    ("split_shape", "r.split(r.PRNGKey(3), (2, 3))", 0),
    ("fold_in", "r.fold_in(r.PRNGKey(0), 7)", 0),
    ("fold_in_big", "r.fold_in(r.PRNGKey(11), 2**32 - 1)", 0),
    ("fold_in_i64", "r.fold_in(r.PRNGKey(11), np.int64(-1))", 0),
    ("bits32", "r.bits(r.PRNGKey(0), (5,), np.uint32)", 0),
    ("bits64", "r.bits(r.PRNGKey(1), (2, 3), np.uint64)", 0),
    ("bits8", "r.bits(r.PRNGKey(2), (7,), np.uint8)", 0),
    ("bits16", "r.bits(r.PRNGKey(2), (3,), np.uint16)", 0),
    ("bits_default", "r.bits(r.PRNGKey(5), (2,))", 0),
    ("uniform", "r.uniform(r.PRNGKey(0), (6,))", 0),
    ("uniform_2d", "r.uniform(r.PRNGKey(9), (2, 3))", 0),
    ("uniform_scalar", "r.uniform(r.PRNGKey(4))", 0),
    ("uniform_f32", "r.uniform(r.PRNGKey(0), (6,), np.float32)", 0),
    ("uniform_f16", "r.uniform(r.PRNGKey(0), (4,), np.float16)", 0),
    ("uniform_bounds", "r.uniform(r.PRNGKey(1), (5,), minval=-2.0, maxval=3.0)", 2),
    ("uniform_array_bounds",
     "r.uniform(r.PRNGKey(1), (3,), minval=jnp.array([0., 1., 2.]), maxval=5.0)", 2),
    ("normal", "r.normal(r.PRNGKey(0), (8,))", 4),
    ("normal_2d", "r.normal(r.PRNGKey(123), (3, 4))", 4),
    ("normal_f32", "r.normal(r.PRNGKey(0), (8,), np.float32)", 4),
    ("randint", "r.randint(r.PRNGKey(0), (8,), 0, 10)", 0),
    ("randint_neg", "r.randint(r.PRNGKey(3), (6,), -100, 1000)", 0),
    ("randint_i32", "r.randint(r.PRNGKey(3), (6,), 0, 2**31 - 1, np.int32)", 0),
    ("randint_i8", "r.randint(r.PRNGKey(4), (6,), -5, 100, np.int8)", 0),
    ("randint_full", "r.randint(r.PRNGKey(4), (4,), -2**63, 2**63 - 1)", 0),
    ("randint_arr", "r.randint(r.PRNGKey(5), (2, 3), jnp.array([0, 10, 20]), 30)", 0),
    ("bernoulli", "r.bernoulli(r.PRNGKey(0), 0.3, (10,))", 0),
    ("bernoulli_p", "r.bernoulli(r.PRNGKey(2), jnp.array([0.1, 0.5, 0.9]))", 0),
    ("rademacher", "r.rademacher(r.PRNGKey(0), (8,))", 0),
    ("gumbel", "r.gumbel(r.PRNGKey(0), (6,))", 0),
    ("gumbel_f32", "r.gumbel(r.PRNGKey(0), (6,), np.float32)", 4),
    ("exponential", "r.exponential(r.PRNGKey(0), (6,))", 1),
    ("laplace", "r.laplace(r.PRNGKey(0), (6,))", 1),
    ("logistic", "r.logistic(r.PRNGKey(0), (6,))", 1),
    ("cauchy", "r.cauchy(r.PRNGKey(0), (6,))", 1),
    ("truncated_normal", "r.truncated_normal(r.PRNGKey(0), -1.0, 2.0, (6,))", 512),
    ("permutation", "r.permutation(r.PRNGKey(0), 10)", 0),
    ("permutation_arr", "r.permutation(r.PRNGKey(1), jnp.arange(12.0).reshape(4, 3))", 0),
    ("permutation_axis1", "r.permutation(r.PRNGKey(1), jnp.arange(12).reshape(3, 4), 1)", 0),
    ("permutation_indep",
     "r.permutation(r.PRNGKey(2), jnp.arange(12).reshape(3, 4), 1, True)", 0),
    ("permutation_big", "r.permutation(r.PRNGKey(2), 3000)[:10]", 0),
    ("choice", "r.choice(r.PRNGKey(0), 10, (5,))", 0),
    ("choice_noreplace", "r.choice(r.PRNGKey(0), 10, (5,), replace=False)", 0),
    ("choice_p", "r.choice(r.PRNGKey(1), 4, (8,), p=jnp.array([0.1, 0.2, 0.3, 0.4]))", 0),
    ("choice_p_noreplace",
     ("r.choice(r.PRNGKey(1), 4, (3,), replace=False, p=jnp.array([0.1, 0.2, 0.3, 0.4]))"
      ".astype(np.int64)"), 0),   # JAX returns int32 here (top_k's indices),
    ("choice_arr", "r.choice(r.PRNGKey(3), jnp.arange(10.0) * 2, (2, 2))", 0),
    ("categorical", "r.categorical(r.PRNGKey(0), jnp.array([0.1, 1.0, -0.5, 2.0]), shape=(8,))",
     0),
    ("categorical_batch",
     "r.categorical(r.PRNGKey(1), jnp.log(jnp.array([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]])))", 0),
    ("categorical_axis0",
     "r.categorical(r.PRNGKey(1), jnp.array([[0.2, 0.8, 0.1], [0.5, 0.5, 3.0]]), axis=0)", 0),
    ("categorical_noreplace",
     "r.categorical(r.PRNGKey(2), jnp.zeros(6), shape=(4,), replace=False)", 0),
    ("pareto", "r.pareto(r.PRNGKey(0), 3.0, (5,))", 4),
    ("rayleigh", "r.rayleigh(r.PRNGKey(0), 2.0, (5,))", 0),
    ("weibull_min", "r.weibull_min(r.PRNGKey(0), 2.0, 1.5, (5,))", 4),
    ("wald", "r.wald(r.PRNGKey(0), 1.5, (5,))", 8),
    ("triangular", "r.triangular(r.PRNGKey(0), 0.0, 0.3, 1.0, (5,))", 2),
    ("geometric", "r.geometric(r.PRNGKey(0), 0.3, (8,))", 0),
    ("lognormal", "r.lognormal(r.PRNGKey(0), 0.5, (5,))", 8),
    ("maxwell", "r.maxwell(r.PRNGKey(0), (5,))", 8),
    ("double_sided_maxwell", "r.double_sided_maxwell(r.PRNGKey(0), 1.0, 2.0, (5,))", 8),
    ("multivariate_normal",
     ("r.multivariate_normal(r.PRNGKey(0), jnp.array([1.0, -1.0]), "
      "jnp.array([[2.0, 0.5], [0.5, 1.0]]), (3,))"), 16),
    ("orthogonal", "r.orthogonal(r.PRNGKey(0), 3)", 64),
    ("normal_after_split", "r.normal(r.split(r.PRNGKey(7))[1], (4,))", 4),
    ("uniform_after_fold", "r.uniform(r.fold_in(r.PRNGKey(7), 3), (4,))", 0),
    # nn.initializers (``init``) and stax (``stax``): a model built from the same key
    # starts from JAX's parameters. The truncated normal behind glorot_normal and
    # he_normal goes through erf_inv twice, so its small values are tens of ulps apart.
    ("init_glorot_normal", "init.glorot_normal()(r.PRNGKey(0), (4, 3))", 64),
    ("init_glorot_uniform", "init.glorot_uniform()(r.PRNGKey(0), (4, 3))", 2),
    ("init_he_normal", "init.he_normal()(r.PRNGKey(1), (2, 3, 2, 4))", 64),
    ("init_lecun_uniform", "init.lecun_uniform()(r.PRNGKey(1), (5, 2))", 2),
    ("init_variance_scaling",
     "init.variance_scaling(2.0, 'fan_out', 'normal', in_axis=0, out_axis=1)(r.PRNGKey(2), (3, 6))",
     8),
    ("init_normal", "init.normal(0.5)(r.PRNGKey(3), (5,))", 4),
    ("init_truncated_normal", "init.truncated_normal(0.5)(r.PRNGKey(3), (5,))", 512),
    ("init_orthogonal", "init.orthogonal()(r.PRNGKey(4), (3, 5))", 64),
    ("stax_serial_dense",
     "flat(stax.serial(stax.Dense(3), stax.Relu, stax.Dense(2))[0](r.PRNGKey(0), (-1, 4))[1])",
     64),
    ("stax_fanout_parallel",
     ("flat(stax.serial(stax.Dense(4), stax.FanOut(2), stax.parallel(stax.Dense(2), "
      "stax.serial(stax.Dense(3), stax.Softplus)))[0](r.PRNGKey(5), (-1, 3))[1])"), 64),
    ("stax_conv_batchnorm",
     ("flat(stax.serial(stax.Conv(2, (2, 2)), stax.BatchNorm(), stax.Relu, stax.Flatten, "
      "stax.Dense(3))[0](r.PRNGKey(6), (-1, 4, 4, 1))[1])"), 64),
]


def evaluate(expr: str, random_module: Any, numpy_module: Any) -> np.ndarray:
    # The expressions are this file's own constants, so that one text runs on both libraries;
    # ``stax`` and ``init`` come from the same library as ``random_module``.
    library = random_module.__name__.split(".")[0]
    names = {"r": random_module, "jnp": numpy_module, "np": np, "flat": _flat,
             "stax": importlib.import_module(f"{library}.example_libraries.stax"),
             "init": importlib.import_module(f"{library}.nn.initializers")}
    return np.asarray(eval(expr, names))  # noqa: S307


def _flat(tree: Any) -> np.ndarray:
    """A tree of arrays (nested lists and tuples), raveled and joined in order."""
    if isinstance(tree, (list, tuple)):
        parts = [_flat(t) for t in tree]
        return np.concatenate(parts) if parts else np.zeros(0)
    return np.ravel(np.asarray(tree, np.float64))
