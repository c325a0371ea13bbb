"""JAX's own examples, mnist_classifier.py and mnist_vae.py, run on nanojax.

The copies in tests/jax_examples/ differ from JAX's files only in their
imports (``jax`` -> ``nanojax``) and their data (a synthetic stand-in with
MNIST's shapes, few images); each test runs one as ``__main__``, as
``python mnist_classifier.py`` would, and checks that it learned, and that
it printed JAX's numbers: the literals below are what the same files print
under JAX 0.10.2 with ``jax_enable_x64`` (from benchmarks/compare_jax_examples.py,
which runs both side by side).
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp

EXAMPLES = Path(__file__).parent / "jax_examples"


@pytest.fixture
def run_example(monkeypatch, capsys, tmp_path):
    """Run ``tests/jax_examples/<name>`` as a script with ``num_train`` images; its
    globals and its printed lines."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import synthetic_datasets

    def run(name: str, num_train: int) -> tuple[dict, str]:
        monkeypatch.setattr(synthetic_datasets, "NUM_TRAIN", num_train)
        capsys.readouterr()
        scope = runpy.run_path(str(EXAMPLES / name), run_name="__main__")
        return scope, capsys.readouterr().out
    return run


# Training and test accuracy after each of the 10 epochs, as JAX prints them.
JAX_CLASSIFIER_ACCURACIES = [
    0.078125, 0.125, 0.078125, 0.125, 0.078125, 0.125, 0.078125, 0.125, 0.078125, 0.125,
    0.1015625, 0.125, 0.1328125, 0.1875, 0.2109375, 0.25, 0.2578125, 0.1875, 0.2890625, 0.15625]

# The test ELBO after epochs 0, 10, ..., 90 and 99, as JAX prints it.
JAX_VAE_ELBOS = {0: -545.4845246165733, 10: -543.8659256816246, 20: -542.9567981907014,
                 30: -542.00369905267, 40: -541.3102768268886, 50: -540.8636426523087,
                 60: -540.7874615937515, 70: -540.9449044809514, 80: -540.9841099877325,
                 90: -541.0877701411083, 99: -541.200329160418}


def test_mnist_classifier_learns(run_example):
    scope, out = run_example("mnist_classifier.py", num_train=128)   # one batch an epoch
    printed = [float(a) for a in re.findall(r"set accuracy (\S+)", out)]
    assert printed == JAX_CLASSIFIER_ACCURACIES
    accuracies = [float(a) for a in re.findall(r"Training set accuracy (\S+)", out)]
    assert len(accuracies) == 10                                       # num_epochs
    assert accuracies[-1] > accuracies[0] + 0.05
    batch = (scope["train_images"], scope["train_labels"])
    first = scope["loss"](scope["init_params"], batch)
    last = scope["loss"](scope["get_params"](scope["opt_state"]), batch)
    assert last < first - 0.1, (first, last)


@pytest.mark.skipif(not (hasattr(jnp, "logaddexp") and hasattr(nj, "device_put")),
                    reason="mnist_vae.py needs jnp.logaddexp and nj.device_put, which come "
                           "with other parts of issue 12")
def test_mnist_vae_learns(run_example, tmp_path):
    _, out = run_example("mnist_vae.py", num_train=32)           # one batch an epoch
    elbos = [float(e) for e in re.findall(r"^\s*\d+ (\S+) \(", out, re.MULTILINE)]
    assert len(elbos) == 100                                           # num_epochs
    np.testing.assert_allclose([elbos[e] for e in JAX_VAE_ELBOS], list(JAX_VAE_ELBOS.values()),
                               rtol=1e-13)
    assert elbos[-1] > elbos[0] + 1.0, (elbos[0], elbos[-1])           # the ELBO rises
    grid = np.load(tmp_path / "mnist_vae_099.png.npy")
    assert grid.shape == (280, 280)                                    # 10 x 10 images


# The training-set loss of the final parameters after 10 epochs, as JAX computes it:
# example -> (training images, the variable holding the parameters, JAX's loss).
# (The spmd example trains on all batches but the last, so it gets two.)
JAX_FROMSCRATCH_LOSSES = {
    "mnist_classifier_fromscratch.py": (128, "params", 3.13482407949665),
    "spmd_mnist_classifier_fromscratch.py": (256, "replicated_params", 3.2833035497485827)}


@pytest.mark.parametrize("name", sorted(JAX_FROMSCRATCH_LOSSES))
def test_mnist_classifiers_from_scratch_end_where_jax_ends(run_example, name):
    # The spmd one builds a one-axis mesh of all devices (one here), device_puts with
    # NamedSharding, reshards, and jits with donate_argnums: one device's meaning.
    num_train, params, jax_loss = JAX_FROMSCRATCH_LOSSES[name]
    scope, out = run_example(name, num_train=num_train)
    assert len(re.findall(r"Training set accuracy", out)) == 10
    batch = (scope["train_images"], scope["train_labels"])
    final = float(scope["loss"](scope[params], batch))
    assert final == pytest.approx(jax_loss, rel=1e-13)
    initial = scope["init_random_params"](scope["param_scale"], scope["layer_sizes"],
                                          np.random.RandomState(0))
    assert final < float(scope["loss"](initial, batch)) - 0.5
