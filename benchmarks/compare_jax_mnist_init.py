"""Optional: do JAX's mnist examples start from the same parameters under nanojax?

Builds the classifier of tests/jax_examples/mnist_classifier.py and the VAE's
encoder/decoder layers of mnist_vae.py with ``jax.example_libraries.stax`` and with
``nanojax.example_libraries.stax``, initialises both from ``random.key(0)``, and
prints the largest difference of the parameters and of the first loss on a fixed
batch. Needs JAX (x64); exits quietly without it.
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "src"))


def build(stax, random, jnp, seed=0):
    init, predict = stax.serial(stax.Dense(1024), stax.Relu, stax.Dense(1024), stax.Relu,
                                stax.Dense(10), stax.LogSoftmax)
    _, params = init(random.key(seed), (-1, 28 * 28))
    x = np.linspace(0, 1, 4 * 784).reshape(4, 784)
    t = np.eye(10)[[1, 3, 5, 7]]
    loss = -jnp.mean(jnp.sum(predict(params, x) * t, axis=1))
    return params, float(loss)


def main() -> int:
    try:
        import jax
    except ImportError:
        print("compare_jax_mnist_init: JAX is not installed; nothing to do")
        return 0
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jjnp
    import jax.random as jr
    from jax.example_libraries import stax as jstax
    import nanojax.numpy as njnp
    import nanojax.random as nr
    from nanojax.example_libraries import stax as nstax
    jp, jl = build(jstax, jr, jjnp)
    npar, nl = build(nstax, nr, njnp)
    jleaves, nleaves = jax.tree_util.tree_leaves(jp), jax.tree_util.tree_leaves(npar)
    worst = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)) / np.maximum(
        np.abs(np.asarray(a)), 1e-300))) if np.asarray(a).size else 0.0
        for a, b in zip(jleaves, nleaves))
    equal = all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(jleaves, nleaves))
    print(f"classifier params: {len(jleaves)} leaves, bit-identical: {equal}, "
          f"max relative difference {worst:.2e}")
    print(f"first loss: jax {jl!r}, nanojax {nl!r}, difference {abs(jl - nl):.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
