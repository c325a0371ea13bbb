"""What a gradient costs: finite differences against backprop, as inputs grow.

Chapter 1 of the Hacker's guide computes the gradient two ways. The numerical
way nudges one input at a time and runs the circuit again, so a function of n
inputs costs n extra forward passes (2n for central differences, which
nj.numerical_grad uses). The analytic way, backprop, gets all n partial
derivatives from one forward and one backward pass. The guide's verdict, in
numbers: here f(x) = sum(tanh(W x)) with W of shape (8, n), for n = 1, 10,
100, ...; nj.numerical_grad's time grows in proportion to n (a little faster
at the largest n, where each forward pass starts to cost more than Python's
overhead), nj.grad's stays about flat, and both give the same gradient.

    .venv/bin/python examples/numerical_vs_analytic_cost.py [--steps 10000] [--out DIR]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import nanojax as nj
import nanojax.numpy as jnp

import _plotting  # the examples' shared picture helper (this folder)


def seconds(fn, budget=0.05):
    """Best time of a few calls (one call if it is already slow)."""
    best, spent = float("inf"), 0.0
    while spent < budget:
        start = time.perf_counter()
        out = fn()
        took = time.perf_counter() - start
        best, spent = min(best, took), spent + took
    return out, best


def plot(ns, numerical, analytic, path):
    plt = _plotting.pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(5, 3.8))
    ax.loglog(ns, numerical, "o-", label="nj.numerical_grad (2n forward passes)")
    ax.loglog(ns, analytic, "s-", label="nj.grad (one forward, one backward)")
    ax.loglog(ns, numerical[0] * np.asarray(ns) / ns[0], "k:", lw=1, label="proportional to n")
    ax.set_xlabel("number of inputs n")
    ax.set_ylabel("seconds per gradient")
    ax.legend(fontsize=8)
    _plotting.save(fig, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10000,
                        help="the largest n; n goes 1, 10, 100, ... up to it (default 10000)")
    parser.add_argument("--out", default=".", help="directory for the picture")
    opts = parser.parse_args(argv)

    ns = [10 ** k for k in range(len(str(max(opts.steps, 1))))]
    print(f"{'n':>6}{'numerical (ms)':>16}{'analytic (ms)':>15}{'ratio':>9}{'max |diff|':>12}")
    numerical, analytic = [], []
    for n in ns:
        W = np.asarray(nj.random.normal(nj.random.key(n), (8, n))) / np.sqrt(n)
        x = np.asarray(nj.random.normal(nj.random.key(0), (n,)))
        def f(x):
            return jnp.sum(jnp.tanh(W @ x))
        g_num, t_num = seconds(lambda: nj.numerical_grad(f)(x))
        g_ana, t_ana = seconds(lambda: nj.grad(f)(x))
        numerical.append(t_num)
        analytic.append(t_ana)
        print(f"{n:>6}{t_num * 1e3:>16.3f}{t_ana * 1e3:>15.3f}{t_num / t_ana:>9.1f}"
              f"{np.max(np.abs(g_num - g_ana)):>12.1e}")
    if len(ns) > 2:
        # The slope of log(time) against log(n): 1 means proportional to n, 0 flat.
        def slope(t):
            return np.polyfit(np.log(ns[1:]), np.log(t[1:]), 1)[0]
        print(f"log-log slope from n = 10 on: numerical {slope(numerical):.2f}, "
              f"analytic {slope(analytic):.2f}")
    plot(ns, numerical, analytic, Path(opts.out) / "numerical_vs_analytic_cost.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
