"""A small convolutional net learns to tell bars apart: conv, pooling, dense, jit(grad).

The images are 8x8 and noisy, of three kinds: a horizontal bar, a vertical
bar, or a diagonal one, each at a random place. No single pixel says which
kind an image is (every pixel is lit in some image of each kind); a 3x3
filter does, wherever the bar is, and that is what a convolution shares
across the image. The net is stax's shape written out with lax:

    conv 3x3, 8 filters, SAME -> relu -> max pool 2x2
    conv 3x3, 16 filters, SAME -> relu -> average pool 2x2 -> dense 3

in NHWC layout (``lax.conv_general_dilated`` with ``("NHWC", "HWIO",
"NHWC")``), pooled with ``lax.reduce_window``, and trained with Adam on the
whole batch, the gradient from one jitted ``value_and_grad``.

    .venv/bin/python examples/cnn.py [--steps 150]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import lax, losses

SIZE, CLASSES = 8, 3
LAYOUT = ("NHWC", "HWIO", "NHWC")


def bars(rng: np.random.Generator, n_per_class: int, noise: float = 0.3
         ) -> tuple[np.ndarray, np.ndarray]:
    """``n_per_class`` images of each kind, (N, 8, 8, 1), and their labels 0, 1, 2."""
    images, labels = [], []
    for label in range(CLASSES):
        for _ in range(n_per_class):
            img = np.zeros((SIZE, SIZE))
            at = rng.integers(1, SIZE - 1)
            if label == 0:
                img[at, :] = 1.0
            elif label == 1:
                img[:, at] = 1.0
            else:                       # a diagonal, either way, anywhere
                offset = rng.integers(-3, 4)
                img = np.eye(SIZE, k=offset)
                if rng.random() < 0.5:
                    img = img[:, ::-1]
            images.append(img + noise * rng.standard_normal((SIZE, SIZE)))
            labels.append(label)
    order = rng.permutation(len(labels))
    return np.stack(images)[order, :, :, None], np.array(labels)[order]


def init_params(key: Any) -> dict:
    k1, k2, k3 = nj.random.split(key, 3)

    def he(k: Any, shape: tuple, fan_in: int) -> np.ndarray:
        return nj.random.normal(k, shape) * np.sqrt(2.0 / fan_in)
    return {"conv1": {"w": he(k1, (3, 3, 1, 8), 9), "b": np.zeros(8)},
            "conv2": {"w": he(k2, (3, 3, 8, 16), 72), "b": np.zeros(16)},
            "dense": {"w": he(k3, (2 * 2 * 16, CLASSES), 64), "b": np.zeros(CLASSES)}}


def conv(layer: dict, x: Any) -> Any:
    return lax.conv_general_dilated(x, layer["w"], (1, 1), "SAME",
                                    dimension_numbers=LAYOUT) + layer["b"]


def max_pool(x: Any) -> Any:
    return lax.reduce_window(x, -np.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")


def avg_pool(x: Any) -> Any:
    return lax.reduce_window(x, 0.0, lax.add, (1, 2, 2, 1), (1, 2, 2, 1), "VALID") / 4.0


def net(params: dict, x: Any) -> Any:
    """Logits, (N, 3), of images (N, 8, 8, 1)."""
    h = max_pool(nj.nn.relu(conv(params["conv1"], x)))
    h = avg_pool(nj.nn.relu(conv(params["conv2"], h)))
    h = jnp.reshape(h, (h.shape[0], -1))
    return h @ params["dense"]["w"] + params["dense"]["b"]


def loss(params: dict, x: Any, y: Any) -> Any:
    return jnp.mean(losses.softmax_cross_entropy(net(params, x), y))


def accuracy(params: dict, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(net(params, x), axis=1) == y))


def train(steps: int, seed: int = 0, n_per_class: int = 100) -> dict:
    """Train from scratch; the numbers the example prints, and the parameters."""
    rng = np.random.default_rng(seed)
    x, y = bars(rng, n_per_class)
    x_test, y_test = bars(rng, n_per_class)
    params = init_params(nj.random.key(seed))
    opt = nj.optim.adam(0.01)
    state = opt.init(params)
    value_and_grad = nj.jit(nj.value_and_grad(loss))
    start = time.perf_counter()
    first = last = float("nan")
    for step in range(steps):
        value, grads = value_and_grad(params, x, y)
        updates, state = opt.update(grads, state, params)
        params = nj.optim.apply_updates(params, updates)
        first = float(value) if step == 0 else first
        last = float(value)
    seconds = time.perf_counter() - start
    return {"params": params, "first_loss": first, "last_loss": last, "seconds": seconds,
            "train_accuracy": accuracy(params, x, y),
            "test_accuracy": accuracy(params, x_test, y_test), "n_train": len(y)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150, help="Adam steps (default 150)")
    parser.add_argument("--out", default=None, help="unused: this example draws nothing")
    opts = parser.parse_args(argv)
    r = train(opts.steps)
    print(f"CNN on {r['n_train']} noisy 8x8 bar images (3 kinds), {opts.steps} Adam steps "
          f"of jit(value_and_grad) in {r['seconds']:.2f} s")
    print(f"loss {r['first_loss']:.3f} -> {r['last_loss']:.3f}")
    print(f"train accuracy {r['train_accuracy']:.3f}, test accuracy {r['test_accuracy']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
