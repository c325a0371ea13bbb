"""A character-level recurrent net learns to write like five sonnets (Chapter 4).

A vanilla RNN reads the text one character at a time and, at each step,
scores every character as a guess for the next one:

    h_t = tanh(x_t @ Wxh + h_{t-1} @ Whh + bh),    scores_t = h_t @ Why + by

The loop over time is ``lax.scan``, so ``nj.grad`` differentiates through
every step (backprop through time) and ``nj.jit`` compiles the whole
sequence once. Training takes random 25-character chunks of
``nj.datasets.sonnets()`` (lower-cased), 32 at a time, with Adam behind a
clip of the gradient's global norm at 5. It prints the loss every so often
and a sample before and after training, drawn with ``nanojax.random`` from
the net's own probabilities; with matplotlib it saves chapter4_rnn_loss.png
(the training loss) in --out. Run:

    python examples/chapter4_rnn.py [--steps 600] [--out docs/images]
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

TEXT = nj.datasets.sonnets().lower()
CHARS = sorted(set(TEXT))
V, HIDDEN, LENGTH, BATCH = len(CHARS), 64, 25, 32
IDS = np.array([CHARS.index(c) for c in TEXT])


def init_params(key: Any, hidden: int = HIDDEN) -> dict:
    k1, k2, k3 = nj.random.split(key, 3)
    return {"Wxh": nj.random.normal(k1, (V, hidden)) * 0.1,
            "Whh": nj.random.normal(k2, (hidden, hidden)) * 0.1, "bh": np.zeros(hidden),
            "Why": nj.random.normal(k3, (hidden, V)) * 0.1, "by": np.zeros(V)}


def cell(params: dict, h: Any, x: Any) -> tuple[Any, Any]:
    """One step: the new hidden state and the scores for the next character."""
    h = jnp.tanh(x @ params["Wxh"] + h @ params["Whh"] + params["bh"])
    return h, h @ params["Why"] + params["by"]


def loss(params: dict, inputs: Any, targets: Any) -> Any:
    """Mean cross-entropy of the next character; ``inputs``, ``targets``: (time, batch) ids."""
    h0 = jnp.zeros((inputs.shape[1], params["Whh"].shape[0]))
    _, scores = lax.scan(lambda h, x: cell(params, h, x), h0, nj.nn.one_hot(inputs, V))
    return jnp.mean(losses.softmax_cross_entropy(scores, targets))


def chunks(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """BATCH random chunks of the text, (LENGTH, BATCH): each input and the character after it."""
    starts = rng.integers(0, len(IDS) - LENGTH - 1, BATCH)
    chunk = np.stack([IDS[s:s + LENGTH + 1] for s in starts], axis=1)
    return chunk[:-1], chunk[1:]


def sample(params: dict, key: Any, n: int, first: str = "s") -> str:
    """``n`` characters after ``first``, each drawn from the net's softmax."""
    h, c, out = np.zeros(params["Whh"].shape[0]), CHARS.index(first), [first]
    for k in nj.random.split(key, n):
        h, scores = cell(params, h, nj.nn.one_hot(c, V))
        c = int(nj.random.choice(k, V, p=np.asarray(nj.nn.softmax(scores))))
        out.append(CHARS[c])
    return "".join(out)


def train(steps: int, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    params = init_params(nj.random.key(seed))
    opt = nj.optim.chain(nj.optim.clip_by_global_norm(5.0), nj.optim.adam(0.01))
    state = opt.init(params)
    value_and_grad = nj.jit(nj.value_and_grad(loss))
    history, norms = [], []
    start = time.perf_counter()
    for _ in range(steps):
        inputs, targets = chunks(rng)
        value, grads = value_and_grad(params, inputs, targets)
        norms.append(float(nj.optim.global_norm(grads)))
        updates, state = opt.update(grads, state, params)
        params = nj.optim.apply_updates(params, updates)
        history.append(float(value))
    return {"params": params, "history": history, "norms": norms,
            "seconds": time.perf_counter() - start}


def plot(history: list[float], path: Path) -> None:
    plt = _plotting.pyplot()
    if plt is None:
        return
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot(history, lw=0.8)
    ax.axhline(np.log(V), color="gray", ls="--", lw=0.8, label=f"guessing: log {V}")
    ax.set_xlabel("step"), ax.set_ylabel("cross-entropy per character")
    ax.set_title("Character-level RNN on the sonnets", fontsize=9)
    ax.legend(fontsize=8)
    _plotting.save(fig, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600, help="Adam steps (default 600)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the chunks and the init")
    parser.add_argument("--out", default=".", help="directory for the picture")
    opts = parser.parse_args(argv)
    print(f"text: {len(TEXT)} characters, {V} distinct; RNN with {HIDDEN} hidden units, "
          f"chunks of {LENGTH}, batches of {BATCH}")
    untrained = init_params(nj.random.key(opts.seed))
    print("sample before training:\n" + sample(untrained, nj.random.key(1), 120))
    r = train(opts.steps, opts.seed)
    print(f"{opts.steps} steps of jit(value_and_grad) through lax.scan in {r['seconds']:.1f} s; "
          f"gradient norm at most {max(r['norms']):.2f}, so the clip at 5 acted on "
          f"{sum(n > 5.0 for n in r['norms'])} of them")
    every = max(opts.steps // 6, 1)
    for step in [*range(0, opts.steps, every), opts.steps - 1]:
        print(f"step {step:4d}: loss {r['history'][step]:.3f}")
    print("sample after training:\n" + sample(r["params"], nj.random.key(1), 300))
    plot(r["history"], Path(opts.out) / "chapter4_rnn_loss.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
