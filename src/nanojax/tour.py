"""The tour that ``python -m nanojax`` runs: the guide's Chapters 1 to 4, live.

Each section is a small function registered with ``@section(name, title)``
in ``SECTIONS``, an ordered dict; ``--section NAME`` runs one of them.
Chapter 1 has the gate, the circuit, the neuron and the backprop ninja;
Chapter 2 the SVM, the 2-layer net and loss functions; Chapter 3 softmax on
the spiral; Chapter 4 ("networks in the wild") a tiny conv net and a tiny
recurrent net, a second or two each. Every number printed
is computed on the spot, and deterministically: the only randomness is a
seeded NumPy generator and ``nj.random`` keys with fixed seeds.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

import nanojax as nj
import nanojax.numpy as jnp

__all__ = ["SECTIONS", "section", "main"]

LABEL = 30          # width of the label column


class Section(NamedTuple):
    name: str
    title: str
    run: Callable[[], None]


SECTIONS: dict[str, Section] = {}


def section(name: str, title: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Register a tour section; sections run in the order they are defined."""
    def register(fn: Callable[[], None]) -> Callable[[], None]:
        SECTIONS[name] = Section(name, title, fn)
        return fn
    return register


# ----- Printing helpers ------------------------------------------------------

def _header(sec: Section) -> None:
    print(f"\n== {sec.name}: {sec.title} ==")


def _row(label: str, text: str) -> None:
    print(f"  {label:<{LABEL}}{text}")


def _vec(values: Sequence[float], fmt: str = "7.4f") -> str:
    return "[" + ", ".join(f"{float(v):{fmt}}" for v in values) + "]"


def _compact(values: Iterable[float]) -> str:
    return "[" + ", ".join(f"{float(v):.4g}" for v in values) + "]"


def _jaxpr(fun: Callable, *args: float) -> None:
    for line in str(nj.make_jaxpr(fun)(*args)).splitlines():
        print(f"    {line}")


def _max_diff(analytic: Sequence[float], numerical: Sequence[float]) -> float:
    return float(np.max(np.abs(np.subtract(analytic, numerical))))


def _checked(fun: Callable, args: Sequence[float]) -> tuple[tuple, float]:
    """``nj.grad`` in every argument, and its largest gap to central differences."""
    argnums = tuple(range(len(args)))
    analytic = nj.grad(fun, argnums=argnums)(*args)
    numerical = nj.numerical_grad(fun, argnums=argnums)(*args)
    return analytic, _max_diff(analytic, numerical)


# ----- Chapter 1: real-valued circuits -----------------------------------------

def multiply_gate(x, y):
    return x * y


@section("gate", "a single gate, f(x, y) = x * y, and three ways to pull it up")
def _gate() -> None:
    x, y = -2.0, 3.0
    _row("forward", f"x, y = -2, 3  ->  f = {multiply_gate(x, y):g}")

    rng = np.random.default_rng(0)
    tweak, best = 0.01, (-np.inf, x, y)
    for _ in range(100):
        x_try = x + tweak * (rng.random() * 2 - 1)
        y_try = y + tweak * (rng.random() * 2 - 1)
        best = max(best, (multiply_gate(x_try, y_try), x_try, y_try))   # by output
    out, bx, by = best
    _row("#1 random search, 100 tries", f"x = {bx:.4f}, y = {by:.4f}, f = {out:.4f}")

    numerical = nj.numerical_grad(multiply_gate, argnums=(0, 1), eps=1e-4,
                                  method="forward")(x, y)
    _row("#2 numerical gradient", f"{_vec(numerical)}  forward difference, h = 1e-4")
    analytic = nj.grad(multiply_gate, argnums=(0, 1))(x, y)
    _row("#3 analytic gradient", f"{_vec(analytic)}  nj.grad: exactly [y, x]")
    x, y = x + 0.01 * analytic[0], y + 0.01 * analytic[1]
    _row("one step of 0.01", f"x = {x:.2f}, y = {y:.2f}")
    _row("forward again", f"f = {multiply_gate(x, y):.2f}  (up from -6)")


def forward_circuit(x, y, z):
    q = x + y
    return q * z


@section("circuit", "two gates, f(x, y, z) = (x + y) * z, and backprop")
def _circuit() -> None:
    x, y, z = -2.0, 5.0, -4.0
    print("  recorded by nj.make_jaxpr:")
    _jaxpr(forward_circuit, x, y, z)
    _row("forward", f"x, y, z = -2, 5, -4  ->  q = {x + y:g}, f = {forward_circuit(x, y, z):g}")
    grads, diff = _checked(forward_circuit, (x, y, z))
    _row("gradient [dx, dy, dz]", _vec(grads))
    _row("", f"max |diff| to numerical {diff:.1e}")
    x, y, z = (v + 0.01 * g for v, g in zip((x, y, z), grads))
    _row("one step of 0.01", f"x = {x:.2f}, y = {y:.2f}, z = {z:.2f}")
    _row("forward again", f"q = {x + y:.2f}, f = {forward_circuit(x, y, z):.2f}  (up from -12)")


def neuron(a, b, c, x, y):
    return nj.nn.sigmoid(a * x + b * y + c)


@section("neuron", "a single neuron, f = sigmoid(a*x + b*y + c)")
def _neuron() -> None:
    params = (1.0, 2.0, -3.0, -1.0, 3.0)
    print("  recorded by nj.make_jaxpr (sigmoid is one gate, logistic):")
    _jaxpr(neuron, *params)
    _row("forward", f"a, b, c, x, y = 1, 2, -3, -1, 3  ->  f = {neuron(*params):.4f}")
    grads, diff = _checked(neuron, params)
    _row("gradient [da,db,dc,dx,dy]", _vec(grads, "7.3f"))
    _row("", f"max |diff| to numerical {diff:.1e}")
    stepped = [v + 0.01 * g for v, g in zip(params, grads)]
    _row("one step of 0.01", f"f = {neuron(*stepped):.5f}  (up from {neuron(*params):.5f})")
    sig = nj.nn.sigmoid
    _row("sigmoid at -5, 0, 5", ", ".join(f"{sig(v):.4f}" for v in (-5.0, 0.0, 5.0)))
    s, ds = sig(3.0), nj.grad(sig)(3.0)
    _row("sigmoid at 3, s(1 - s)", f"{s:.4f}, {ds:.4f}")
    _row("", f"(the guide rounds s to 0.95 first: {0.95 * (1 - 0.95):.4f})")


@section("ninja", "becoming a backprop ninja: local gradients, chained")
def _ninja() -> None:
    a, b, c, d = 3.0, -2.0, 1.0, 2.0
    print(f"  at a={a:g}, b={b:g}, c={c:g}, d={d:g}; nj.grad against central differences")
    _row("circuit", f"{'gradient (nj.grad)':<37}max |diff|")
    circuits: list[tuple[str, Callable, tuple[float, ...]]] = [
        ("a * a", lambda a: a * a, (a,)),
        ("a*a + b*b + c*c", lambda a, b, c: a * a + b * b + c * c, (a, b, c)),
        ("((a*b + c) * d)**2", lambda a, b, c, d: ((a * b + c) * d) ** 2, (a, b, c, d)),
        ("1 / a", lambda a: 1.0 / a, (a,)),
        ("(a + b) / (c + d)", lambda a, b, c, d: (a + b) / (c + d), (a, b, c, d)),
        ("max(a, b)", jnp.maximum, (a, b)),
        ("relu(a), a > 0", nj.nn.relu, (a,)),
        ("relu(b), b < 0", nj.nn.relu, (b,)),
    ]
    for label, fun, args in circuits:
        grads, diff = _checked(fun, args)
        _row(label, f"{_compact(grads):<37}{diff:.1e}")
    tie = nj.grad(jnp.maximum, argnums=(0, 1))(a, a)
    _row("max(a, a), a tie", f"{_compact(tie)}  split in half, as in JAX")
    _row("relu at exactly 0", f"{nj.grad(nj.nn.relu)(0.0):g}  (numerical: "
         f"{nj.numerical_grad(nj.nn.relu)(0.0):g}, it straddles the kink)")
    dx, dy = nj.grad(multiply_gate, argnums=(0, 1))(a, a)
    _row("x * x, a wire that branches", f"{nj.grad(lambda x: x * x)(a):g} = {dx:g} + {dy:g}"
         "  (the two pulls add)")


# ----- Chapter 2: machine learning ----------------------------------------------

def svm_pull(score, label):
    """The SVM's force specification: pull a score toward its label's side of the margin."""
    if label == 1 and score < 1:
        return 1.0
    if label == -1 and score > -1:
        return -1.0
    return 0.0


def svm_loss(params, x, label):
    """The loss whose negative gradient is the SVM's pull plus the springs on a and b."""
    a, b, c = params
    return nj.losses.hinge(a * x[0] + b * x[1] + c, label) + 0.5 * (a * a + b * b)


def svm_cost(params, X, labels, alpha=0.5):
    """All of ``X`` at once: the summed hinge loss plus ``alpha * (a**2 + b**2)``."""
    w, c = params[:2], params[2]
    return jnp.sum(nj.losses.hinge(X @ w + c, labels)) + alpha * jnp.sum(w ** 2)


def _accuracy(scores: Any, labels: Any) -> float:
    return float(np.mean(np.where(np.asarray(scores) > 0, 1, -1) == labels))


def _svm_by_hand(picks, X, labels):
    """The guide's "simpler code": one point per step, its pull, the springs."""
    a, b, c = 1.0, -2.0, -1.0
    for i in picks:
        (x, y), label = X[i], labels[i]
        pull = svm_pull(a * x + b * y + c, label)
        a, b, c = a + 0.01 * (x * pull - a), b + 0.01 * (y * pull - b), c + 0.01 * pull
    return a, b, c


@section("svm", "a support vector machine, f = a*x + b*y + c, trained by SGD")
def _svm() -> None:
    X, labels = nj.datasets.hackers_guide()
    a, b, c = 1.0, -2.0, -1.0
    _row("data", f"{len(X)} points, labels {', '.join(f'{v:+d}' for v in labels)}")
    for point, label in (((1.2, 0.7), 1), ((-0.3, 0.5), -1)):
        score = a * point[0] + b * point[1] + c
        _row(f"score of [{point[0]:g}, {point[1]:g}]",
             f"{score:.1f} at a, b, c = 1, -2, -1; label {label:+d}  ->  pull "
             f"{svm_pull(score, label):g}")
        pulls = [0.0 - g for g in nj.grad(svm_loss)((a, b, c), np.array(point), label)]
        _row("", f"pulls on a, b, c {_compact(pulls)}  (-nj.grad of hinge + springs)")

    picks = nj.random.randint(nj.random.key(0), (400,), 0, len(X))
    one, many = (a, b, c), np.array([a, b, c])
    downhill = nj.jit(nj.grad(svm_cost))
    print("  training accuracy, step size 0.01:")
    print(f"    {'step':>4}   one random point per step   all six points per step")
    for step, i in enumerate(picks):
        grads = nj.grad(svm_loss)(one, X[i], labels[i])
        one = tuple(p - 0.01 * g for p, g in zip(one, grads))
        many = many - 0.01 * downhill(many, X, labels)
        if step % 25 == 0:
            print(f"    {step:4d}   {_accuracy(X @ one[:2] + one[2], labels):<28.3f}"
                  f"{_accuracy(X @ many[:2] + many[2], labels):.3f}")
    same = np.allclose(one, _svm_by_hand(picks, X, labels), rtol=0, atol=1e-12)
    _row("same as the guide's own loop", f"{same}  (a, b, c = {_compact(one)})")
    finals = [round(_accuracy(X @ p[:2] + p[2], labels), 3) for p in (
        _svm_by_hand(nj.random.randint(nj.random.key(s), (400,), 0, len(X)), X, labels)
        for s in range(50))]
    counts = ", ".join(f"{finals.count(acc)} at {acc:.3f}" for acc in sorted(set(finals)))
    _row("one point per step, 50 keys", f"final accuracy: {counts}")

    def mean_cost(params):                     # what one random point's step descends, on average
        w, bias = params[:2], params[2]
        return jnp.mean(nj.losses.hinge(X @ w + bias, labels)) + 0.5 * jnp.sum(w ** 2)

    average = nj.jit(nj.grad(mean_cost))
    bottom = np.array([a, b, c])
    for step_size in (0.1, 0.01, 0.001):       # down to the bottom of what SGD averages
        for _ in range(300):
            bottom = bottom - step_size * average(bottom)
    _row("lowest mean hinge + springs", f"a, b, c = {_compact(np.round(bottom, 3))}: "
         f"accuracy {_accuracy(X @ bottom[:2] + bottom[2], labels):.3f},")
    _row("", f"[1.2, 0.7] scores {1.2 * bottom[0] + 0.7 * bottom[1] + bottom[2]:.3f}: "
         "the springs outweigh it")


@section("net", "a 2-layer neural network, 3 ReLU neurons, trained the same way")
def _net() -> None:
    X, labels = nj.datasets.hackers_guide()
    init, net = nj.models.mlp([2, 3, 1], W_init=nj.models.uniform(0.5),
                              b_init=nj.models.uniform(0.5))
    _, params = init(nj.random.key(0))

    def point_loss(params, x, label):
        return nj.losses.hinge(net(params, x)[0], label) + 0.5 * nj.losses.l2_penalty(params)

    def cost(params):
        scores = net(params, X)[:, 0]
        return jnp.sum(nj.losses.hinge(scores, labels)) + 0.5 * nj.losses.l2_penalty(params)

    (W1, b1), _, (W2, b2) = params
    x, label = X[0], labels[0]
    n = np.maximum(0, x @ W1 + b1)                     # the guide's backward pass, by hand
    pull = svm_pull(n @ W2[:, 0] + b2[0], label)
    dn = W2[:, 0] * pull * (n > 0)
    by_hand = [np.outer(x, dn) - W1, dn, n * pull - W2[:, 0], pull]
    (gW1, gb1), _, (gW2, gb2) = nj.grad(point_loss)(params, x, label)
    diff = max(float(np.max(np.abs(h + g))) for h, g in
               zip(by_hand, [gW1, gb1, gW2[:, 0], gb2]))
    _row("model", "nj.models.mlp([2, 3, 1]), params uniform in [-0.5, 0.5]")
    _row("hand backprop of one point", f"max |diff| to -nj.grad {diff:.1e}")

    downhill = nj.jit(nj.grad(cost))
    history = []
    for step in range(400):
        params = nj.tree_util.tree_map(lambda p, g: p - 0.01 * g, params, downhill(params))
        if step % 25 == 0:
            history.append(_accuracy(net(params, X)[:, 0], labels))
    print("  training accuracy every 25 steps, all six points per step:")
    for start in range(0, len(history), 4):
        print("    " + "  ".join(f"{25 * (start + k):3d}: {acc:.3f}"
                                  for k, acc in enumerate(history[start:start + 4])))


@section("loss", "loss functions: the guide's 2-D SVM cost, and minimizing it")
def _loss() -> None:
    X, labels = nj.datasets.hackers_guide_cost()
    w, alpha = np.array([0.1, 0.2, 0.3]), 0.1

    def cost(w):
        return jnp.sum(nj.losses.hinge(X @ w[:2] + w[2], labels)) + alpha * (w[0] ** 2 + w[1] ** 2)

    scores = X @ w[:2] + w[2]
    print("  w = [0.1, 0.2, 0.3], alpha = 0.1, on X = [[1.2, 0.7], [-0.3, 0.5], [3, 2.5]]")
    for i, (score, c) in enumerate(zip(scores, nj.losses.hinge(scores, labels))):
        _row(f"cost for example {i} is {c:.3f}", f"score {score:.3f}, label {labels[i]:+d}")
    reg = alpha * nj.losses.l2_penalty({"W": w[:2, None], "b": w[2:]})
    print(f"  regularization cost for current model is {reg:.3f}")
    print(f"  total cost is {cost(w):.3f}")
    downhill = nj.jit(nj.grad(cost))
    _row("gradient of the cost", f"{_compact(downhill(w))}  (nj.grad)")
    for _ in range(100):
        w = w - 0.05 * downhill(w)
    costs = nj.losses.hinge(X @ w[:2] + w[2], labels)
    _row("after 100 steps of 0.05", f"total cost {cost(w):.3f}, per example "
         f"{_compact(np.round(costs, 3) + 0.0)}: only the regularization is left")


# ----- Chapter 3: backprop in practice -------------------------------------------

@section("spiral", "Chapter 3, softmax on the spiral: a linear layer against a ReLU net")
def _spiral() -> None:
    X, y = nj.datasets.spiral(nj.random.key(0), 100, 3)
    _row("data", f"{len(X)} points on 3 interleaved spiral arms, one class per arm")

    def trained(sizes: list[int]) -> tuple[Any, Callable]:
        init, apply = nj.models.mlp(sizes)
        _, params = init(nj.random.key(1))

        def loss(params: Any, batch: Any) -> Any:       # softmax plus the springs
            X, y = batch
            return (jnp.mean(nj.losses.softmax_cross_entropy(apply(params, X), y))
                    + 1e-3 * nj.losses.l2_penalty(params))
        params, _ = nj.train.fit(loss, params, nj.optim.sgd(1.0, momentum=0.9),
                                 lambda step: (X, y), num_steps=300, log_every=300)
        return params, apply

    for sizes in ([2, 3], [2, 50, 3]):
        params, apply = trained(sizes)
        acc = float(np.mean(np.argmax(apply(params, X), axis=1) == y))
        name = "linear 2-3" if len(sizes) == 2 else "ReLU net 2-50-3"
        _row(name, f"training accuracy {acc:.3f} after 300 steps (jit, momentum 0.9)")

    def point_loss(params: Any, x: Any, label: Any) -> Any:
        return nj.losses.softmax_cross_entropy(apply(params, x), label)

    per_point = nj.vmap(nj.grad(point_loss), in_axes=(None, 0, 0))(params, X, y)
    norms = np.sqrt(sum(np.sum(np.reshape(g, (len(X), -1)) ** 2, axis=1)
                        for g in nj.tree_util.tree_leaves(per_point)))
    wrong = np.argmax(apply(params, X), axis=1) != y
    _row("each point's own pull", f"nj.vmap(nj.grad) of the net: {len(norms)} gradients at once")
    _row("", f"|grad| median {np.median(norms):.2g}; of the {int(wrong.sum())} misclassified, "
         f"mean {np.mean(norms[wrong]):.2g}: they pull hardest")


# ----- Chapter 4: networks in the wild --------------------------------------------

def _bars(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` noisy 6x6 images, (n, 6, 6, 1): a horizontal bar (0) or a vertical one (1)."""
    labels = rng.integers(0, 2, n)
    images = 0.3 * rng.standard_normal((n, 6, 6))
    at = rng.integers(0, 6, n)
    for i in range(n):
        if labels[i] == 0:
            images[i, at[i], :] += 1.0
        else:
            images[i, :, at[i]] += 1.0
    return images[..., None], labels


@section("cnn", "Chapter 4, a tiny convolutional net: horizontal bars or vertical?")
def _cnn() -> None:
    rng = np.random.default_rng(0)
    X, y = _bars(rng, 200)
    X_test, y_test = _bars(rng, 200)
    k1, k2 = nj.random.split(nj.random.key(0))
    params = {"w": 0.5 * nj.random.normal(k1, (3, 3, 1, 4)), "b": np.zeros(4),
              "v": 0.5 * nj.random.normal(k2, (4, 2)), "c": np.zeros(2)}

    def logits(p: Any, x: Any) -> Any:
        h = nj.lax.conv_general_dilated(x, p["w"], (1, 1), "SAME",
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"))
        h = nj.nn.relu(h + p["b"])
        h = nj.lax.reduce_window(h, -np.inf, nj.lax.max, (1, 6, 6, 1), (1, 6, 6, 1),
                                 "VALID")[:, 0, 0, :]      # max over the whole image
        return h @ p["v"] + p["c"]

    def loss(p: Any, batch: Any) -> Any:
        x, labels = batch
        return jnp.mean(nj.losses.softmax_cross_entropy(logits(p, x), labels))

    def accuracy(p: Any, x: Any, labels: Any) -> float:
        return float(np.mean(np.argmax(logits(p, x), axis=1) == labels))

    _row("data", f"{len(X)} noisy 6x6 images, a bar across or down, anywhere")
    _row("net", "conv 3x3 (4 filters) -> relu -> max over the image -> dense 2")
    before = float(loss(params, (X, y)))
    _row("before training", f"test accuracy {accuracy(params, X_test, y_test):.3f}, "
         f"loss {before:.3f}")
    params, _ = nj.train.fit(loss, params, nj.optim.adam(0.05), lambda step: (X, y),
                             num_steps=100, log_every=100)
    _row("after 100 Adam steps", f"test accuracy {accuracy(params, X_test, y_test):.3f}, "
         f"loss {float(loss(params, (X, y))):.3f}")
    _row("", "one filter slides over every place: a bar is found wherever it is")


@section("rnn", "Chapter 4, a tiny recurrent net (lax.scan) remembers its first input")
def _rnn() -> None:
    T, H, STEPS = 8, 8, 150
    rng = np.random.default_rng(0)
    xs = rng.choice([-1.0, 1.0], size=(T, 256))          # time first, as scan wants
    labels = (xs[0] > 0).astype(np.int64)                 # the sign of the FIRST input
    k1, k2, k3 = nj.random.split(nj.random.key(0), 3)
    # Small recurrent weights: the untrained net forgets x_1 within a few steps.
    params = {"U": nj.random.normal(k1, (1, H)), "W": 0.2 * nj.random.normal(k2, (H, H)),
              "b": np.zeros(H), "V": 0.5 * nj.random.normal(k3, (H, 2))}

    def logits(p: Any, xs: Any) -> Any:
        def step(h: Any, x: Any) -> tuple[Any, None]:
            return jnp.tanh(x[:, None] @ p["U"] + h @ p["W"] + p["b"]), None
        h, _ = nj.lax.scan(step, jnp.zeros((xs.shape[1], H)), xs)
        return h @ p["V"]

    def loss(p: Any, batch: Any) -> Any:
        xs, labels = batch
        return jnp.mean(nj.losses.softmax_cross_entropy(logits(p, xs), labels))

    def accuracy(p: Any) -> float:
        return float(np.mean(np.argmax(logits(p, xs), axis=1) == labels))

    _row("data", f"256 sequences of {T} random signs; the label is the sign of the first")
    _row("net", f"h = tanh(x U + h W + b), {H} units, one lax.scan; score = h V at the end")

    def pull_on_inputs(p: Any) -> str:
        """How hard the final score pulls on each input, back through every step."""
        def score(xs: Any) -> Any:
            out = logits(p, xs)
            return jnp.sum(out[:, 1] - out[:, 0])
        g = np.mean(np.abs(nj.grad(score)(xs)), axis=1)     # one number per time step
        return " ".join(f"{v:.2f}" for v in g)

    _row("before training", f"accuracy {accuracy(params):.3f}")
    _row("", f"pull of the score on x_1 .. x_{T}: {pull_on_inputs(params)}")
    params, _ = nj.train.fit(loss, params, nj.optim.adam(0.05), lambda step: (xs, labels),
                             num_steps=STEPS, log_every=STEPS)
    _row(f"after {STEPS} Adam steps", f"accuracy {accuracy(params):.3f}")
    _row("", f"pull of the score on x_1 .. x_{T}: {pull_on_inputs(params)}")
    _row("", "backprop through time carried the pull back to x_1: the net now listens to it")


# ----- Command line ----------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    listing = "\n".join(f"  {s.name:<10}{s.title}" for s in SECTIONS.values())
    parser = argparse.ArgumentParser(
        prog="python -m nanojax",
        description="A tour of Karpathy's Hacker's guide to Neural Networks, "
                    "computed with nanojax.",
        epilog=f"sections, in order:\n{listing}",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-s", "--section", action="append", metavar="NAME",
                        help="run only this section (repeat for several)")
    parser.add_argument("-l", "--list", action="store_true",
                        help="list the sections and exit")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the tour, or the sections named with ``--section``; return the exit code.

    An unknown section name exits with status 2 and the list of valid names.
    """
    parser = _parser()
    opts = parser.parse_args(argv)
    if opts.list:
        for s in SECTIONS.values():
            print(f"{s.name:<10}{s.title}")
        return 0
    names = opts.section or list(SECTIONS)
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        parser.error(f"unknown section {unknown[0]!r}; choose from: {', '.join(SECTIONS)}")
    try:
        if opts.section is None:
            print("nanojax tour: Chapters 1 to 4 of Karpathy's Hacker's guide to Neural Networks")
        for name in names:
            _header(SECTIONS[name])
            SECTIONS[name].run()
        sys.stdout.flush()
    except BrokenPipeError:             # the reader left early (python -m nanojax | head)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0
