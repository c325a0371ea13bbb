"""t-SNE: a 2-D map of 10-D data that keeps each point's neighbours (Chapter 4).

The data are five Gaussian blobs in 10 dimensions (``nj.datasets.blobs``
with random centers). t-SNE turns the distances between points into
probabilities P (a Gaussian around each point, its width set so that each
point has about ``--perplexity`` effective neighbours), does the same for
points Y in the plane with a heavy-tailed Student-t kernel (Q), and moves Y
downhill on KL(P || Q). The cost is written with ``jnp``; ``nj.grad`` of it
is checked against the closed-form gradient of the t-SNE paper (van der
Maaten and Hinton, 2008),

    dC/dy_i = 4 * sum_j (p_ij - q_ij) (y_i - y_j) / (1 + |y_i - y_j|^2),

and then used, jitted, by gradient descent with momentum and the paper's
early exaggeration (P times 4 for the first 50 steps). It prints the cost
and, as a measure of how well each map keeps neighbours, the share of
points whose nearest neighbour has the same label: in 10-D, in the t-SNE
map and in the best linear 2-D map (PCA). With matplotlib it saves
chapter4_tsne.png in --out: the PCA map next to the t-SNE map. Run:

    python examples/chapter4_tsne.py [--steps 500] [--out docs/images]
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

import _plotting  # the examples' shared picture helper (this folder)


def squared_distances(X: np.ndarray) -> np.ndarray:
    sq = np.sum(X ** 2, axis=1)
    return np.maximum(sq[:, None] + sq[None, :] - 2 * X @ X.T, 0.0)


def affinities(X: np.ndarray, perplexity: float) -> np.ndarray:
    """The symmetric P of t-SNE: each row's Gaussian width found by bisection on its entropy."""
    D, n = squared_distances(X), len(X)
    P = np.zeros((n, n))
    for i in range(n):
        d = np.delete(D[i], i)
        d = d - d.min()                 # the same p after normalizing, and no underflow
        lo, hi, beta = 0.0, np.inf, 1.0     # beta = 1 / (2 sigma^2)
        for _ in range(64):
            p = np.exp(-d * beta)
            p /= p.sum()
            entropy = -np.sum(p * np.log(np.maximum(p, 1e-300)))
            if entropy > np.log(perplexity):    # too many neighbours: narrow the Gaussian
                lo, beta = beta, beta * 2 if hi == np.inf else (beta + hi) / 2
            else:
                hi, beta = beta, (lo + beta) / 2
        P[i, np.arange(n) != i] = p
    return (P + P.T) / (2 * n)


def kl_cost(Y: Any, P: np.ndarray) -> Any:
    """KL(P || Q) for a map Y (n, 2), Q from the Student-t kernel; P has a zero diagonal."""
    eye = np.eye(len(P))
    d2 = jnp.sum((Y[:, None, :] - Y[None, :, :]) ** 2, axis=-1)
    kernel = (1 - eye) / (1 + d2)
    Q = kernel / jnp.sum(kernel)
    # + eye keeps log away from the diagonal's zeros, where P is 0 anyway.
    return jnp.sum(P * (jnp.log(P + eye) - jnp.log(Q + eye)))


def paper_gradient(Y: np.ndarray, P: np.ndarray) -> np.ndarray:
    diff = Y[:, None, :] - Y[None, :, :]
    kernel = 1 / (1 + np.sum(diff ** 2, axis=-1))
    np.fill_diagonal(kernel, 0.0)
    Q = kernel / kernel.sum()
    return 4 * np.sum(((P - Q) * kernel)[:, :, None] * diff, axis=1)


def embed(P: np.ndarray, steps: int, key: Any, record: set[int], learning_rate: float = 100.0
          ) -> tuple[np.ndarray, dict[int, float]]:
    """Gradient descent with momentum from a tiny random start, as in the paper.

    Returns the map and the cost after each step in ``record``.
    """
    Y = 1e-2 * np.asarray(nj.random.normal(key, (len(P), 2)))
    velocity = np.zeros_like(Y)
    grad, cost = nj.jit(nj.grad(kl_cost)), nj.jit(kl_cost)
    costs = {}
    for step in range(steps):
        exaggeration = 4.0 if step < 50 else 1.0    # clusters form first, then settle
        momentum = 0.5 if step < 100 else 0.8
        velocity = momentum * velocity - learning_rate * grad(Y, exaggeration * P)
        Y = Y + velocity
        if step in record:
            costs[step] = float(cost(Y, P))
    return Y, costs


def neighbour_agreement(Z: np.ndarray, y: np.ndarray) -> float:
    """The share of points whose nearest other point has the same label."""
    D = squared_distances(Z)
    np.fill_diagonal(D, np.inf)
    return float(np.mean(y[np.argmin(D, axis=1)] == y))


def pca(X: np.ndarray) -> np.ndarray:
    centered = X - X.mean(axis=0)
    _, _, directions = np.linalg.svd(centered, full_matrices=False)
    return centered @ directions[:2].T


def data(seed: int, n_per_class: int = 40) -> tuple[np.ndarray, np.ndarray]:
    k_centers, k_points = nj.random.split(nj.random.key(seed))
    centers = 1.5 * np.asarray(nj.random.normal(k_centers, (5, 10)))
    return nj.datasets.blobs(k_points, n_per_class=n_per_class, centers=centers, std=1.0)


def plot(maps: dict, y: np.ndarray, path: Path) -> None:
    plt = _plotting.pyplot()
    if plt is None:
        return
    fig, axes = plt.subplots(1, 2, figsize=(8, 4))
    for ax, (title, Z) in zip(axes, maps.items()):
        ax.scatter(Z[:, 0], Z[:, 1], c=y, cmap="tab10", s=8, vmin=0, vmax=9)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([]), ax.set_yticks([])
    fig.suptitle("Five blobs in 10-D, mapped to the plane", fontsize=10)
    _plotting.save(fig, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500, help="descent steps (default 500)")
    parser.add_argument("--perplexity", type=float, default=20.0, help="default 20")
    parser.add_argument("--seed", type=int, default=0, help="seed for the data and the start")
    parser.add_argument("--out", default=".", help="directory for the picture")
    opts = parser.parse_args(argv)
    X, y = data(opts.seed)
    P = affinities(X, opts.perplexity)
    Y0 = np.asarray(nj.random.normal(nj.random.key(opts.seed + 1), (len(X), 2)))
    check = np.abs(np.asarray(nj.grad(kl_cost)(Y0, P)) - paper_gradient(Y0, P)).max()
    print(f"{len(X)} points in 10-D, 5 blobs; perplexity {opts.perplexity:g}")
    print(f"max |nj.grad - the paper's gradient| at a random map: {check:.1e}")
    start = time.perf_counter()
    shown = {0, 49, opts.steps // 2, opts.steps - 1} & set(range(opts.steps))
    Y, costs = embed(P, opts.steps, nj.random.key(opts.seed + 2), shown)
    print(f"{opts.steps} steps of jit(grad) in {time.perf_counter() - start:.1f} s")
    print("KL(P || Q) " + ", ".join(f"step {s}: {costs[s]:.3f}" for s in sorted(shown)))
    Z = pca(X)
    print("points whose nearest neighbour has the same label:")
    for name, points in [("in 10-D", X), ("t-SNE map", Y), ("PCA map", Z)]:
        print(f"  {name:10} {neighbour_agreement(points, y):.3f}")
    plot({"PCA (best linear map)": Z, "t-SNE": Y}, y, Path(opts.out) / "chapter4_tsne.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
