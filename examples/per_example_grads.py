"""Per-example gradients: nj.vmap(nj.grad(loss)) against a Python loop.

In the guide's SGD every example pulls on the parameters separately, one at a
time. nj.grad of the mean loss gives only the sum of those pulls; to see each
example's own pull, take the gradient of the loss of one example and vmap it
over the batch, holding the params fixed (in_axes=(None, 0, 0)). That is the
same numbers as looping over the examples, computed by one batched circuit.
A use: the size of each example's pull shows which examples the net is
struggling with: here the center, where all three arms start from the same
point, so no net can be right about all of them. Such norms are also the raw
material for clipping each example's pull, as in differentially private SGD.
With matplotlib installed it saves per_example_grads.png in --out: the
spiral, every point coloured by the size of its own pull.

    .venv/bin/python examples/per_example_grads.py [--steps 300] [--out DIR]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import losses, models
from nanojax.tree_util import tree_leaves, tree_map

import _plotting  # the examples' shared picture helper (this folder)

init_fn, net = models.mlp([2, 32, 3])


def example_loss(params, x, label):
    """The loss of ONE example: x of shape (2,), an integer label."""
    return losses.softmax_cross_entropy(net(params, x), label)


def batch_loss(params, batch):
    X, y = batch
    return jnp.mean(losses.softmax_cross_entropy(net(params, X), y))


def seconds(fn, repeats=3):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return out, best


def plot(X, y, predicted, norms, steps, path):
    """The spiral, each point coloured by its own pull; misclassified points ringed."""
    plt = _plotting.pyplot()
    if plt is None:
        return
    from matplotlib.colors import LogNorm
    fig, (ax, hist) = plt.subplots(1, 2, figsize=(10, 4.4), width_ratios=(3, 2))
    scale = LogNorm(norms.min(), norms.max())
    for label, marker in zip(range(int(y.max()) + 1), "o^s"):     # one marker per arm
        arm = y == label
        dots = ax.scatter(X[arm, 0], X[arm, 1], c=norms[arm], s=24, cmap="viridis",
                          norm=scale, marker=marker, label=f"class {label}")
    wrong = predicted != y
    ax.scatter(X[wrong, 0], X[wrong, 1], s=90, facecolors="none", edgecolors="tab:red",
               lw=1.2, label=f"misclassified ({wrong.sum()})")
    fig.colorbar(dots, ax=ax, label="|gradient of its own loss|")
    ax.set_aspect("equal")
    ax.legend(fontsize=8, loc="upper left", ncol=2)
    ax.set_title(f"spiral, 2-32-3 net after {steps} steps: each point's pull", fontsize=10)
    bins = np.logspace(np.log10(norms.min()), np.log10(norms.max()), 30)
    hist.hist([norms[~wrong], norms[wrong]], bins=bins, stacked=True,
              color=["tab:gray", "tab:red"], label=["classified right", "misclassified"])
    hist.set_xscale("log")
    hist.set_xlabel("|per-example gradient| (log scale)")
    hist.set_ylabel("examples")
    hist.legend(fontsize=8)
    hist.set_title("a few examples pull hardest", fontsize=10)
    _plotting.save(fig, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="training steps first (default 300)")
    parser.add_argument("--out", default=".", help="directory for the picture")
    opts = parser.parse_args(argv)

    X, y = nj.datasets.spiral(nj.random.key(0), 100, 3)
    _, params = init_fn(nj.random.key(1))
    params, _ = nj.train.fit(batch_loss, params, nj.optim.sgd(0.5, momentum=0.9),
                             lambda step: (X, y), num_steps=opts.steps, log_every=opts.steps)

    per_example = nj.vmap(nj.grad(example_loss), in_axes=(None, 0, 0))
    g_vmap, t_vmap = seconds(lambda: per_example(params, X, y))
    compiled = nj.jit(per_example)
    compiled(params, X, y)                                     # trace once, then time
    g_jit, t_jit = seconds(lambda: compiled(params, X, y))
    one = nj.grad(example_loss)
    loop, t_loop = seconds(lambda: [one(params, X[i], y[i]) for i in range(len(X))])
    g_loop = tree_map(lambda *gs: np.stack(gs), *loop)          # stack into a batch

    diff = max(float(np.max(np.abs(a - b) + np.abs(c - b))) for a, b, c in zip(
        tree_leaves(g_vmap), tree_leaves(g_loop), tree_leaves(g_jit)))
    mean_diff = max(float(np.max(np.abs(a.mean(0) - b))) for a, b in zip(
        tree_leaves(g_vmap), tree_leaves(nj.grad(batch_loss)(params, (X, y)))))
    shapes = ", ".join(str(g.shape) for g in tree_leaves(g_vmap))
    print(f"per-example gradients of a 2-32-3 net on {len(X)} spiral points: {shapes}")
    print(f"python loop of nj.grad     {t_loop * 1e3:8.1f} ms")
    print(f"nj.vmap(nj.grad)           {t_vmap * 1e3:8.1f} ms   {t_loop / t_vmap:5.1f}x faster")
    print(f"nj.jit(nj.vmap(nj.grad))   {t_jit * 1e3:8.1f} ms   {t_loop / t_jit:5.1f}x faster")
    print(f"max |vmap - loop| + |jit - loop| = {diff:.1e}; "
          f"their mean vs nj.grad of the mean loss: {mean_diff:.1e}")

    # How hard does each example pull? The norm of its gradient, over all params.
    norms = np.sqrt(sum(np.sum(g.reshape(len(X), -1) ** 2, axis=1) for g in tree_leaves(g_vmap)))
    predicted = np.argmax(net(params, X), axis=1)
    print(f"after {opts.steps} steps: train accuracy {np.mean(predicted == y):.3f}; "
          f"median pull {np.median(norms):.3g}")
    print("the five hardest pullers:\n  example  point             label  predicted  |grad|")
    for i in np.argsort(-norms)[:5]:
        print(f"  {i:7d}  [{X[i, 0]:6.3f}, {X[i, 1]:6.3f}]  {y[i]:5d}  {predicted[i]:9d}"
              f"  {norms[i]:6.3f}")
    wrong = predicted != y
    if wrong.any():
        print(f"mean pull of the {wrong.sum()} misclassified examples: {norms[wrong].mean():.3g}, "
              f"of the rest: {norms[~wrong].mean():.3g}")
    plot(X, y, predicted, norms, opts.steps, Path(opts.out) / "per_example_grads.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
