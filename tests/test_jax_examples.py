"""JAX's own examples, mnist_classifier.py and mnist_vae.py, run on nanojax.

The copies in tests/jax_examples/ differ from JAX's files only in their
imports (``jax`` -> ``nanojax``) and their data (a synthetic stand-in with
MNIST's shapes, few images); each test runs one as ``__main__``, as
``python mnist_classifier.py`` would, and checks that it learned.
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


def test_mnist_classifier_learns(run_example):
    scope, out = run_example("mnist_classifier.py", num_train=128)   # one batch an epoch
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
    assert elbos[-1] > elbos[0] + 1.0, (elbos[0], elbos[-1])           # the ELBO rises
    grid = np.load(tmp_path / "mnist_vae_099.png.npy")
    assert grid.shape == (280, 280)                                    # 10 x 10 images
