"""Three spiral arms, two multiclass losses, a line and a net (Chapter 3).

Chapter 3 of the Hacker's guide lists the two usual ways to score k classes:
the structured (multiclass) SVM, which wants the right class to beat every
other by a margin of 1, and softmax (multinomial logistic regression), which
wants the right class to get all the probability. We train both, first on a
linear classifier (scores = X @ W + b: three straight lines, and no line can
separate spiral arms) and then on a net with one hidden layer of 100 ReLUs,
full batch, with momentum. Run:

    .venv/bin/python examples/spiral_multiclass.py [--steps 1000] [--out docs/images]

With matplotlib installed it saves spiral_decision_boundary.png in --out.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import losses, models

import _plotting  # the examples' shared picture helper (this folder)

LOSSES = {"multiclass SVM": losses.multiclass_hinge, "softmax": losses.softmax_cross_entropy}
MODELS = {"linear": [2, 3], "MLP 2-100-3": [2, 100, 3]}
REG = 1e-3          # L2 strength: a gentle spring on every weight
POINTS, REGIONS = ["#e41a1c", "#377eb8", "#4daf4a"], ["#fbb4ae", "#b3cde3", "#ccebc5"]


def train(sizes, loss_per_example, X, y, steps, seed=1):
    """Full-batch training with nj.train.fit; returns (apply, params, accuracy, loss)."""
    init_fn, apply = models.mlp(sizes)
    _, params = init_fn(nj.random.key(seed))

    def loss_fn(params, batch):
        Xb, yb = batch
        return jnp.mean(loss_per_example(apply(params, Xb), yb)) + REG * losses.l2_penalty(params)

    def accuracy(params, data):
        return float(np.mean(np.argmax(apply(params, data[0]), axis=1) == data[1]))

    params, history = nj.train.fit(loss_fn, params, nj.optim.sgd(0.5, momentum=0.9),
                                   lambda step: (X, y), num_steps=steps, log_every=steps,
                                   accuracy_fn=accuracy, train_data=(X, y))
    return apply, params, history["train_accuracy"][-1], float(loss_fn(params, (X, y)))


def plot(results, X, y, path):
    plt = _plotting.pyplot()
    if plt is None:
        return
    xx, yy = np.meshgrid(np.linspace(-1.1, 1.1, 200), np.linspace(-1.1, 1.1, 200))
    grid = np.c_[xx.ravel(), yy.ravel()]
    fig, axes = plt.subplots(2, 2, figsize=(6, 5), sharex=True, sharey=True)
    for ax, ((loss_name, model_name), (apply, params, acc)) in zip(axes.ravel(), results.items()):
        # Each grid point gets the class with the highest score: the decision regions.
        regions = np.argmax(apply(params, grid), axis=1).reshape(xx.shape)
        ax.contourf(xx, yy, regions, levels=[-0.5, 0.5, 1.5, 2.5], colors=REGIONS)
        ax.scatter(X[:, 0], X[:, 1], c=np.take(POINTS, y), s=6)
        ax.set_title(f"{loss_name}, {model_name}: {acc:.2f}", fontsize=9)
        ax.set_xticks([]), ax.set_yticks([])
    fig.suptitle("Spiral decision boundaries (train accuracy)", fontsize=10)
    _plotting.save(fig, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000, help="full-batch steps (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="key for the spiral")
    parser.add_argument("--out", default=".", help="directory for the picture")
    opts = parser.parse_args(argv)

    X, y = nj.datasets.spiral(nj.random.key(opts.seed), n_per_class=100, n_classes=3)
    print(f"spiral: {len(X)} points, 3 classes; {opts.steps} steps of SGD with momentum 0.9,"
          f" step size 0.5, L2 {REG:g}")
    print(f"{'loss':<16}{'model':<14}{'final loss':>10}{'train accuracy':>16}")
    results = {}
    for loss_name, loss_per_example in LOSSES.items():
        for model_name, sizes in MODELS.items():
            apply, params, acc, final_loss = train(sizes, loss_per_example, X, y, opts.steps)
            results[loss_name, model_name] = apply, params, acc
            print(f"{loss_name:<16}{model_name:<14}{final_loss:>10.4f}{acc:>16.4f}")
    plot(results, X, y, Path(opts.out) / "spiral_decision_boundary.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
