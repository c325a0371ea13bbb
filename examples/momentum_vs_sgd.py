"""Plain SGD, momentum and Nesterov momentum, on a banana valley and a spiral net.

Chapter 3 of the Hacker's guide lists momentum among the tricks of the
trade. Plain gradient descent steps along the current pull only; in a long
narrow valley that pull points mostly across the valley, so it zig-zags from
wall to wall and creeps along the floor. Momentum keeps a running sum of the
pulls, a velocity: the across-the-valley parts alternate in sign and cancel,
the along-the-valley parts agree and add up. Nesterov's variant takes the
step from where the velocity is about to carry it. All three use the same
step size here, on

- the Rosenbrock function (1 - x)^2 + 100 (y - x^2)^2, a curved valley with
  its minimum 0 at (1, 1), from (-1.5, 2);
- the softmax loss of a 2-100-3 ReLU net on the spiral (full batch).

    .venv/bin/python examples/momentum_vs_sgd.py [--steps 500] [--out DIR]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import losses, models, optim

import _plotting  # the examples' shared picture helper (this folder)


def rosenbrock(p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def spiral_problem():
    X, y = nj.datasets.spiral(nj.random.key(0), 100, 3)
    init_fn, apply = models.mlp([2, 100, 3])
    _, params = init_fn(nj.random.key(1))

    def loss(params):
        return jnp.mean(losses.softmax_cross_entropy(apply(params, X), y)) \
            + 1e-3 * losses.l2_penalty(params)
    return loss, params


def optimizers(lr):
    return {"SGD": optim.sgd(lr),
            "momentum 0.9": optim.sgd(lr, momentum=0.9),
            "Nesterov 0.9": optim.sgd(lr, momentum=0.9, nesterov=True)}


def losses_along_the_way(loss, params, opt, steps):
    """Run ``steps`` updates; return the loss before each one."""
    @nj.jit
    def step(params, state):
        value, grads = nj.value_and_grad(loss)(params)
        updates, state = opt.update(grads, state, params)
        return optim.apply_updates(params, updates), state, value

    state, curve = opt.init(params), []
    for _ in range(steps):
        params, state, value = step(params, state)
        curve.append(float(value))
    return curve


STYLES = {"SGD": {"color": "tab:blue", "lw": 1.8},
          "momentum 0.9": {"color": "tab:orange", "lw": 3.2, "alpha": 0.8},
          "Nesterov 0.9": {"color": "tab:green", "lw": 1.4, "ls": "--"}}


def plot(curves, path):
    plt = _plotting.pyplot()
    if plt is None:
        return
    from matplotlib.ticker import FormatStrFormatter, LogLocator
    fig, axes = plt.subplots(1, len(curves), figsize=(10, 4.2))
    for ax, (problem, by_opt) in zip(axes, curves.items()):
        for name, curve in by_opt.items():
            # Momentum and Nesterov nearly coincide on the spiral: Nesterov is
            # dashed on top of a wide momentum line, so both stay visible.
            ax.semilogy(np.arange(1, len(curve) + 1), curve, **STYLES[name],
                        label=f"{name}: {curve[-1]:.4g} at step {len(curve)}")
        start = max(curve[0] for curve in by_opt.values())
        peak = max(max(curve) for curve in by_opt.values())
        low = min(min(curve) for curve in by_opt.values())
        if peak > 2 * start:                # an early overshoot would squash the rest: clip it
            ax.set_ylim(low / 2, 2 * start)
            name, curve = max(by_opt.items(), key=lambda kv: max(kv[1]))
            ax.annotate(f"{name} overshoots to {peak:.3g}\nat step {int(np.argmax(curve)) + 1}",
                        (1 + int(np.argmax(curve)), 2 * start), xytext=(30, -30),
                        textcoords="offset points", fontsize=8,
                        arrowprops={"arrowstyle": "->", "lw": 0.8})
        decades = np.log10(ax.get_ylim()[1] / ax.get_ylim()[0])
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0) if decades > 2 else
                                              np.arange(1.0, 10.0)))
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(FormatStrFormatter(""))
        ax.set_title(problem, fontsize=10)
        ax.set_xlabel("step")
        ax.set_ylabel("loss (log scale)")
        ax.grid(True, which="major", lw=0.4, alpha=0.5)
        ax.legend(fontsize=8)
    _plotting.save(fig, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500, help="steps per run (default 500)")
    parser.add_argument("--out", default=".", help="directory for the picture")
    opts = parser.parse_args(argv)

    spiral_loss, spiral_params = spiral_problem()
    problems = {"Rosenbrock, step 0.001": (rosenbrock, np.array([-1.5, 2.0]), 1e-3),
                "spiral net, step 0.1": (spiral_loss, spiral_params, 0.1)}
    marks = sorted({max(opts.steps // 10, 1), max(opts.steps // 2, 1), opts.steps})
    print(f"{'problem':<24}{'optimizer':<15}" + "".join(f"{f'step {m}':>12}" for m in marks))
    curves = {}
    for problem, (loss, params, lr) in problems.items():
        curves[problem] = {}
        for name, opt in optimizers(lr).items():
            curve = losses_along_the_way(loss, params, opt, opts.steps)
            curves[problem][name] = curve
            print(f"{problem:<24}{name:<15}" + "".join(f"{curve[m - 1]:>12.4g}" for m in marks))
    plot(curves, Path(opts.out) / "momentum_vs_sgd.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
