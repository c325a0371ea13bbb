"""word2vec: skip-gram with negative sampling learns which words go together (Chapter 4).

The corpus is made up: 400 short sentences from templates, one set of
templates per kind of word (royalty, animals, food, colours, numbers), so
words of one kind appear in the same contexts and no two kinds share any.
Each word gets two vectors, one for when it is the center word and one for
when it is a context word. For every (center, context) pair within two
words of each other, the loss pulls the dot product of their vectors up
(through log sigmoid) and pushes down the dot products of the center with
five "negative" words drawn from the unigram distribution to the power 3/4.
Minibatches of 256 pairs, Adam, the step jitted.

It prints the loss, the three nearest neighbours (cosine similarity) of a
word of each kind, and how often a word's nearest neighbour is of its own
kind; with matplotlib it saves chapter4_word2vec.png in --out: the
embedding projected onto its two main directions (PCA). Run:

    python examples/chapter4_word2vec.py [--steps 500] [--out docs/images]
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

KINDS = {"royal": ["king", "queen", "prince", "princess"],
         "animal": ["cat", "dog", "horse", "cow"],
         "food": ["apple", "bread", "cheese", "soup"],
         "colour": ["red", "blue", "green", "yellow"],
         "number": ["one", "two", "three", "four"]}
TEMPLATES = {"royal": ["the {} rules the land", "the {} wears a crown", "long live the {}"],
             "animal": ["the {} eats grass", "the {} runs in the field", "feed the {} today"],
             "food": ["we eat {} for dinner", "the {} is tasty", "buy some {} today"],
             "colour": ["the door is painted {}", "a {} flower", "{} is my favourite colour"],
             "number": ["i have {} apples", "{} plus {} makes more", "count to {}"]}
DIM, NEGATIVES, WINDOW, BATCH = 10, 5, 2, 256


def corpus(rng: np.random.Generator, n: int = 400) -> list[list[str]]:
    sentences = []
    for _ in range(n):
        kind = list(KINDS)[rng.integers(len(KINDS))]
        template = TEMPLATES[kind][rng.integers(len(TEMPLATES[kind]))]
        words = rng.choice(KINDS[kind], template.count("{}"))
        sentences.append(template.format(*words).split())
    return sentences


def skipgram_pairs(sentences: list[list[str]], index: dict[str, int]
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Every (center, context) pair of word ids at most WINDOW words apart."""
    centers, contexts = [], []
    for s in sentences:
        for i, w in enumerate(s):
            for j in range(max(0, i - WINDOW), min(len(s), i + WINDOW + 1)):
                if j != i:
                    centers.append(index[w])
                    contexts.append(index[s[j]])
    return np.array(centers), np.array(contexts)


def loss(params: dict, center: Any, context: Any, negatives: Any) -> Any:
    v = jnp.take(params["center"], center, axis=0)              # (B, DIM)
    u = jnp.take(params["context"], context, axis=0)            # (B, DIM)
    u_neg = jnp.take(params["context"], negatives, axis=0)      # (B, NEGATIVES, DIM)
    together = -nj.nn.softplus(-jnp.sum(v * u, axis=-1))        # log sigmoid(v . u)
    apart = -nj.nn.softplus(jnp.sum(v[:, None, :] * u_neg, axis=-1))   # log sigmoid(-v . u')
    return -jnp.mean(together + jnp.sum(apart, axis=-1))


def train(steps: int, seed: int = 0) -> dict:
    sentences = corpus(np.random.default_rng(seed))
    vocab = sorted({w for s in sentences for w in s})
    index = {w: i for i, w in enumerate(vocab)}
    centers, contexts = skipgram_pairs(sentences, index)
    counts = np.bincount([index[w] for s in sentences for w in s], minlength=len(vocab))
    noise = counts ** 0.75 / np.sum(counts ** 0.75)
    k_center, k_context, k_steps = nj.random.split(nj.random.key(seed), 3)
    params = {"center": nj.random.normal(k_center, (len(vocab), DIM)) * 0.1,
              "context": nj.random.normal(k_context, (len(vocab), DIM)) * 0.1}
    opt = nj.optim.adam(0.05)
    state = opt.init(params)
    value_and_grad = nj.jit(nj.value_and_grad(loss))
    history = []
    start = time.perf_counter()
    for step in range(steps):
        k_batch, k_neg = nj.random.split(nj.random.fold_in(k_steps, step))
        batch = np.asarray(nj.random.randint(k_batch, (BATCH,), 0, len(centers)))
        negatives = nj.random.choice(k_neg, len(vocab), (BATCH, NEGATIVES), p=noise)
        value, grads = value_and_grad(params, centers[batch], contexts[batch], negatives)
        updates, state = opt.update(grads, state, params)
        params = nj.optim.apply_updates(params, updates)
        history.append(float(value))
    return {"params": params, "vocab": vocab, "history": history, "pairs": len(centers),
            "sentences": sentences, "seconds": time.perf_counter() - start}


def nearest(embedding: np.ndarray, vocab: list[str], word: str, n: int = 3) -> list[str]:
    unit = embedding / np.linalg.norm(embedding, axis=1, keepdims=True)
    similarity = unit @ unit[vocab.index(word)]
    return [vocab[i] for i in np.argsort(-similarity)[1:n + 1]]


def plot(embedding: np.ndarray, vocab: list[str], path: Path) -> None:
    plt = _plotting.pyplot()
    if plt is None:
        return
    centered = embedding - embedding.mean(axis=0)
    _, _, directions = np.linalg.svd(centered, full_matrices=False)
    xy = centered @ directions[:2].T
    kind_of = {w: k for k, words in KINDS.items() for w in words}
    colours = dict(zip(KINDS, ["#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00"]))
    fig, ax = plt.subplots(figsize=(6, 5))
    for (x, y), word in zip(xy, vocab):
        colour = colours.get(kind_of.get(word, ""), "#999999")
        ax.scatter([x], [y], c=colour, s=12)
        ax.annotate(word, (x, y), fontsize=7, color=colour, xytext=(2, 2),
                    textcoords="offset points")
    ax.set_title("word2vec embedding, first two principal directions", fontsize=9)
    ax.set_xticks([]), ax.set_yticks([])
    _plotting.save(fig, path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500, help="Adam steps (default 500)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the corpus and the init")
    parser.add_argument("--out", default=".", help="directory for the picture")
    opts = parser.parse_args(argv)
    r = train(opts.steps, opts.seed)
    vocab, embedding = r["vocab"], np.asarray(r["params"]["center"])
    print(f"corpus: {len(r['sentences'])} sentences, {len(vocab)} words, {r['pairs']} "
          f"skip-gram pairs; {opts.steps} Adam steps of {BATCH} pairs in {r['seconds']:.1f} s")
    every = max(opts.steps // 5, 1)
    print("loss " + ", ".join(f"step {s}: {r['history'][s]:.3f}"
                              for s in [*range(0, opts.steps, every), opts.steps - 1]))
    for words in KINDS.values():
        print(f"nearest to {words[0]:>5}: {', '.join(nearest(embedding, vocab, words[0]))}")
    kind_of = {w: k for k, words in KINDS.items() for w in words}
    same = [kind_of.get(nearest(embedding, vocab, w, 1)[0]) == kind for w, kind in kind_of.items()]
    print(f"nearest neighbour of the same kind: {sum(same)} of {len(same)} words")
    plot(embedding, vocab, Path(opts.out) / "chapter4_word2vec.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
