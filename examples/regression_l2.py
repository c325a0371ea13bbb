"""Regression with an L2 penalty: the springs on the weights, made visible.

Chapter 3 of the Hacker's guide: regression needs only "tiny changes to the
cost function": the score is the prediction itself and the loss is its
squared distance to the target. Here a polynomial of degree 9 is fit to 12
noisy samples of sin(pi x): flexible enough to thread every training point
and wiggle wildly in between. Adding alpha * (sum of squared weights), the
guide's spring on every weight, pulls the weights toward zero; as alpha grows
the weight norm shrinks, the fit smooths, and the error on held-out points
first falls, then rises again when the springs win over the data. Run:

    .venv/bin/python examples/regression_l2.py [--steps 2000] [--out DIR]
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

DEGREE = 9
STRENGTHS = [0.0, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]


def features(x, degree):
    return np.stack([x ** k for k in range(1, degree + 1)], axis=1)   # x, x^2, ..., x^d


def make_data(seed):
    k_x, k_noise, k_split = nj.random.split(nj.random.key(seed), 3)
    x = np.asarray(nj.random.uniform(k_x, (24,), minval=-1.0, maxval=1.0))
    t = np.sin(np.pi * x) + 0.25 * np.asarray(nj.random.normal(k_noise, (24,)))
    x_tr, t_tr, x_val, t_val = nj.datasets.train_val_split(k_split, x[:, None], t, 0.5)
    return x_tr[:, 0], t_tr, x_val[:, 0], t_val


def fit(x, t, degree, alpha, steps):
    """Minimize mse + alpha * l2_penalty over a Dense(1) layer of polynomial features."""
    init_fn, apply = models.Dense(1)
    _, params = init_fn(nj.random.key(1), (-1, degree))

    def predict(params, x):
        return apply(params, features(x, degree))[:, 0]

    def loss_fn(params, batch):
        x, t = batch
        # l2_penalty takes the weights W and leaves the bias alone, as the guide does.
        return jnp.mean(losses.mse(predict(params, x), t)) + alpha * losses.l2_penalty(params)

    # Adam: plain gradient descent crawls on x^9 features, whose scales differ wildly.
    params, _ = nj.train.fit(loss_fn, params, nj.optim.adam(0.05), lambda step: (x, t),
                             num_steps=steps, log_every=steps)
    return lambda x: predict(params, x), params


def plot(fits, rows, x_tr, t_tr, x_val, t_val, path):
    """Left: the six fits, every one in full; right: the errors against alpha."""
    plt = _plotting.pyplot()
    if plt is None:
        return
    xs = np.linspace(-1, 1, 200)
    fig, (ax, err) = plt.subplots(1, 2, figsize=(10, 5), width_ratios=(3, 2))
    ax.plot(xs, np.sin(np.pi * xs), "k:", lw=1.2, label="sin(pi x)")
    colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(fits)))
    top = 2.0
    for (label, f), colour in zip(fits.items(), colours):
        ys = f(xs)
        top = max(top, float(ys.max()))
        ax.plot(xs, ys, lw=1.6, color=colour, label=label)
    ax.scatter(x_tr, t_tr, c="k", s=18, zorder=3, label="train")
    ax.scatter(x_val, t_val, facecolors="none", edgecolors="k", s=18, zorder=3, label="validation")
    ax.set_ylim(-2, top + 0.3)                # every curve whole, alpha = 0's overshoot too
    ax.set_xlabel("x")
    ax.set_ylabel("prediction")
    ax.legend(fontsize=8, loc="upper left", ncol=2)
    ax.set_title(f"degree-{DEGREE} polynomial, mse + alpha * L2", fontsize=10)

    # alpha = 0 has no place on a log axis: it sits one decade left of the smallest alpha.
    alphas = [a for a, *_ in rows]
    smallest = min(a for a in alphas if a > 0)
    where = [a if a > 0 else smallest / 10 for a in alphas]
    err.loglog(where, [r[1] for r in rows], "o-", color="k", label="train mse")
    err.loglog(where, [r[2] for r in rows], "s--", color="tab:red", label="validation mse")
    best = min(range(len(rows)), key=lambda i: rows[i][2])
    err.annotate(f"lowest validation error:\nalpha = {alphas[best]:g}",
                 (where[best], rows[best][2]), xytext=(55, -55), textcoords="offset points",
                 ha="center", fontsize=8,
                 arrowprops={"arrowstyle": "->", "lw": 0.8})
    err.set_xticks(where, ["0"] + [f"{a:g}" for a in alphas[1:]], fontsize=8)
    err.minorticks_off()
    err.yaxis.set_major_formatter(plt.FormatStrFormatter("%g"))
    err.set_yticks([0.03, 0.1, 0.3, 1.0, 3.0])
    err.set_xlabel("alpha (the spring's strength)")
    err.set_ylabel("mean squared error")
    err.legend(fontsize=8)
    err.set_title("too little spring overfits, too much underfits", fontsize=10)
    _plotting.save(fig, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000, help="Adam steps per fit (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="key for the data")
    parser.add_argument("--out", default=".", help="directory for the picture")
    opts = parser.parse_args(argv)

    x_tr, t_tr, x_val, t_val = make_data(opts.seed)
    def mse(f, x, t):
        return float(np.mean((f(x) - t) ** 2))
    line, _ = fit(x_tr, t_tr, 1, 0.0, opts.steps)
    print(f"{len(x_tr)} train and {len(x_val)} validation points of sin(pi x) + noise")
    print(f"a straight line: train mse {mse(line, x_tr, t_tr):.4f}, "
          f"validation mse {mse(line, x_val, t_val):.4f}")
    print(f"degree {DEGREE}: {'alpha':>8}{'|W|':>10}{'train mse':>12}{'val mse':>10}")
    fits, rows = {}, []
    for alpha in STRENGTHS:
        f, (W, _) = fit(x_tr, t_tr, DEGREE, alpha, opts.steps)
        rows.append((alpha, mse(f, x_tr, t_tr), mse(f, x_val, t_val)))
        print(f"{'':10}{alpha:>8g}{np.linalg.norm(W):>10.3f}{rows[-1][1]:>12.4f}"
              f"{rows[-1][2]:>10.4f}")
        fits[f"alpha = {alpha:g}"] = f
    best = min(rows, key=lambda r: r[2])
    print(f"lowest validation error at alpha = {best[0]:g}: choose alpha on held-out data")
    plot(fits, rows, x_tr, t_tr, x_val, t_val, Path(opts.out) / "regression_l2.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
