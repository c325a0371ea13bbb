"""A convolutional net finds four glyphs anywhere in a noisy 8x8 image (Chapter 4).

Each image holds one 3x3 glyph (a plus, a cross, a ring or a tee) at a
random place, under Gaussian noise. The net is

    conv 3x3, 6 filters, SAME -> relu -> max over the whole image -> dense 4

so each filter is a glyph detector slid over every position, and the global
max pool reports how strongly it fired anywhere: what the dense layer sees
does not depend on where the glyph is. Trained full-batch with Adam, the
gradient from one jitted ``value_and_grad``. It prints the loss, the train
and test accuracy and the learned filters (rounded), and with matplotlib it
saves chapter4_convnet_filters.png in --out: a few test images and the six
filters, each labelled with the glyph it responds to most. Run:

    python examples/chapter4_convnet.py [--steps 200] [--out docs/images]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import lax, losses

import _plotting  # the examples' shared picture helper (this folder)

GLYPHS = {"plus": [[0, 1, 0], [1, 1, 1], [0, 1, 0]],
          "cross": [[1, 0, 1], [0, 1, 0], [1, 0, 1]],
          "ring": [[1, 1, 1], [1, 0, 1], [1, 1, 1]],
          "tee": [[1, 1, 1], [0, 1, 0], [0, 1, 0]]}
NAMES = list(GLYPHS)
SIZE, FILTERS = 8, 6
LAYOUT = ("NHWC", "HWIO", "NHWC")


def glyph_images(rng: np.random.Generator, n: int, noise: float = 0.3
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``n`` images (n, 8, 8, 1), one random glyph each at a random place, and their labels."""
    labels = rng.integers(0, len(NAMES), n)
    images = noise * rng.standard_normal((n, SIZE, SIZE))
    rows, cols = rng.integers(0, SIZE - 2, (2, n))
    for image, label, r, c in zip(images, labels, rows, cols):
        image[r:r + 3, c:c + 3] += GLYPHS[NAMES[label]]
    return images[..., None], labels


def init_params(key: Any) -> dict:
    k1, k2 = nj.random.split(key)
    return {"w1": nj.random.normal(k1, (3, 3, 1, FILTERS)) * np.sqrt(2 / 9),
            "b1": np.zeros(FILTERS),
            "w2": nj.random.normal(k2, (FILTERS, len(NAMES))) * np.sqrt(2 / FILTERS),
            "b2": np.zeros(len(NAMES))}


def features(params: dict, x: Any) -> Any:
    """How strongly each filter fires anywhere in each image: (N, FILTERS)."""
    h = lax.conv_general_dilated(x, params["w1"], (1, 1), "SAME", dimension_numbers=LAYOUT)
    return jnp.max(nj.nn.relu(h + params["b1"]), axis=(1, 2))


def net(params: dict, x: Any) -> Any:
    return features(params, x) @ params["w2"] + params["b2"]


def loss(params: dict, x: Any, y: Any) -> Any:
    return jnp.mean(losses.softmax_cross_entropy(net(params, x), y))


def accuracy(params: dict, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(net(params, x), axis=1) == y))


def favourite_glyphs(params: dict) -> list[str]:
    """For each filter, the clean glyph (centered) that makes it fire hardest."""
    clean = np.zeros((len(NAMES), SIZE, SIZE, 1))
    for i, name in enumerate(NAMES):
        clean[i, 3:6, 3:6, 0] = GLYPHS[name]
    return [NAMES[i] for i in np.argmax(features(params, clean), axis=0)]


def train(steps: int, seed: int = 0, n_train: int = 400, n_test: int = 1000) -> dict:
    rng = np.random.default_rng(seed)
    x, y = glyph_images(rng, n_train)
    x_test, y_test = glyph_images(rng, n_test)
    params = init_params(nj.random.key(seed))
    opt = nj.optim.adam(0.02)
    state = opt.init(params)
    value_and_grad = nj.jit(nj.value_and_grad(loss))
    losses_at = {}
    start = time.perf_counter()
    for step in range(steps):
        value, grads = value_and_grad(params, x, y)
        updates, state = opt.update(grads, state, params)
        params = nj.optim.apply_updates(params, updates)
        losses_at[step] = float(value)
    return {"params": params, "losses": losses_at, "seconds": time.perf_counter() - start,
            "train_accuracy": accuracy(params, x, y),
            "test_accuracy": accuracy(params, x_test, y_test), "x_test": x_test,
            "y_test": y_test}


def plot(r: dict, path: Path) -> None:
    plt = _plotting.pyplot()
    if plt is None:
        return
    w = np.asarray(r["params"]["w1"])[:, :, 0, :]
    favourite = favourite_glyphs(r["params"])
    fig, axes = plt.subplots(2, FILTERS, figsize=(1.4 * FILTERS, 3.2))
    guesses = np.argmax(net(r["params"], r["x_test"][:FILTERS]), axis=1)
    for k in range(FILTERS):
        ax = axes[0, k]
        ax.imshow(r["x_test"][k, :, :, 0], cmap="gray")
        ax.set_title(f"{NAMES[r['y_test'][k]]} -> {NAMES[guesses[k]]}", fontsize=8)
        ax = axes[1, k]
        ax.imshow(w[:, :, k], cmap="RdBu_r", vmin=-np.abs(w).max(), vmax=np.abs(w).max())
        ax.set_title(f"filter {k}: {favourite[k]}", fontsize=8)
    for ax in axes.ravel():
        ax.set_xticks([]), ax.set_yticks([])
    fig.suptitle("Test images (label -> guess) and the first layer's 3x3 filters", fontsize=9)
    _plotting.save(fig, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="Adam steps (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the images and the init")
    parser.add_argument("--out", default=".", help="directory for the picture")
    opts = parser.parse_args(argv)
    r = train(opts.steps, opts.seed)
    print(f"convnet on 400 noisy 8x8 glyph images (4 kinds), {opts.steps} Adam steps of "
          f"jit(value_and_grad) in {r['seconds']:.2f} s")
    shown = sorted({0, opts.steps // 4, opts.steps // 2, opts.steps - 1})
    print("loss " + ", ".join(f"step {s}: {r['losses'][s]:.3f}" for s in shown))
    print(f"train accuracy {r['train_accuracy']:.3f}, test accuracy {r['test_accuracy']:.3f} "
          "(1000 test images)")
    w = np.asarray(r["params"]["w1"])[:, :, 0, :]
    print("the first layer's filters, and the glyph each fires hardest for:")
    for k, name in enumerate(favourite_glyphs(r["params"])):
        rows = ["  ".join(f"{v:5.1f}" for v in row) for row in w[:, :, k]]
        print(f"filter {k} ({name}):\n    " + "\n    ".join(rows))
    plot(r, Path(opts.out) / "chapter4_convnet_filters.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
