"""The guide's 2-layer neural network, trained with nj.grad instead of by hand.

Chapter 2 of the Hacker's guide grows the SVM into a net: three ReLU neurons,
each a linear classifier of (x, y), and a fourth linear classifier on top of
them. The guide then writes out the backward pass, line by painful line
("wow this is tedious"). Here the same net is models.mlp([2, 3, 1]), the cost
is the SVM's hinge plus the springs on every weight (not the biases), and
nj.grad writes the backward pass. We check it against the guide's hand
backprop, then train with SGD, one random example per step, step size 0.01.

One change from the guide: the springs are 10 times weaker (0.1). The guide's
spring of strength 1 pulls on each weight as hard as a misclassified example
does, and shrinks the untrained net by 1% a step; with it the accuracy keeps
wandering between 0.5 and 1.0 for thousands of steps (try --spring 1).

    .venv/bin/python examples/two_layer_net.py [--steps 400] [--seed 0] [--spring 0.1]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np

import nanojax as nj
import nanojax.numpy as jnp
from nanojax import models

# Every parameter starts at Math.random() - 0.5, as in the guide.
init_fn, net = models.mlp([2, 3, 1], W_init=models.uniform(0.5), b_init=models.uniform(0.5))


def loss(params, x, label, spring):
    score = net(params, x)[0]
    # Half the sum of squared weights: its gradient is the guide's pull -w.
    return nj.losses.hinge(score, label) + 0.5 * spring * nj.losses.l2_penalty(params)


def guide_backward(params, x, label, spring):
    """The guide's hand-written backward pass, vectorized: the pulls, i.e. -gradient."""
    (W1, b1), _, (W2, b2) = params
    n = np.maximum(0, x @ W1 + b1)                    # the three hidden neurons
    score = n @ W2[:, 0] + b2[0]
    pull = 1.0 if label == 1 and score < 1 else -1.0 if label == -1 and score > -1 else 0.0
    dn = np.where(n > 0, W2[:, 0] * pull, 0.0)        # ReLU: no pull if it did not fire
    return ((np.outer(x, dn) - spring * W1, dn), (),
            ((n * pull)[:, None] - spring * W2, np.array([pull])))


optimizer = nj.optim.sgd(0.01)


@nj.jit
def train_step(params, opt_state, x, label, spring):
    grads = nj.grad(loss)(params, x, label, spring)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return nj.optim.apply_updates(params, updates), opt_state


def accuracy(params, X, y):
    return float(np.mean(np.where(net(params, X)[:, 0] > 0, 1, -1) == y))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400, help="SGD steps (default 400)")
    parser.add_argument("--seed", type=int, default=0, help="key for init and examples")
    parser.add_argument("--spring", type=float, default=0.1,
                        help="strength of the pull of each weight toward zero (guide: 1.0)")
    parser.add_argument("--out", default=None, help="unused: this example draws nothing")
    opts = parser.parse_args(argv)

    X, y = nj.datasets.hackers_guide()
    k_init, k_pick = nj.random.split(nj.random.key(opts.seed))
    _, params = init_fn(k_init)

    # nj.grad against the guide's backward pass, on each of the six examples.
    leaves = nj.tree_util.tree_leaves
    diff = max(float(np.max(np.abs(h + a)))                 # pull = -gradient
               for i in range(len(X))
               for h, a in zip(leaves(guide_backward(params, X[i], y[i], opts.spring)),
                               leaves(nj.grad(loss)(params, X[i], float(y[i]), opts.spring))))
    print(f"2-layer net, 3 ReLU neurons, {sum(jnp.size(p) for p in leaves(params))} parameters;"
          f" max |guide's pull + nj.grad| over the six examples: {diff:.1e}")

    picks = np.asarray(nj.random.randint(k_pick, (opts.steps,), 0, len(X)))
    opt_state = optimizer.init(params)
    for it, i in enumerate(picks):
        params, opt_state = train_step(params, opt_state, X[i], float(y[i]), opts.spring)
        if it % 25 == 0:
            print(f"training accuracy at iteration {it}: {accuracy(params, X, y):.4f}")
    final = accuracy(params, X, y)
    print(f"after {opts.steps} steps: training accuracy {final:.4f}"
          + ("" if final == 1.0 else "  (not 1.0: try more --steps, or a weaker --spring)"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
