"""Every script in examples/ runs, and the claims the examples make hold.

Each example is a script with ``main(argv)``, ``--steps`` and ``--out``. The
smoke test finds them with a glob (a new example is picked up without being
listed here) and runs each as a script with few steps; the other tests run
them in-process, with fixed keys and, where the claim needs it, their default
step counts, and check the numbers they print.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_"))
SKIPPED_PICTURE = "matplotlib not installed: skipping the picture"

# A line (or part of one) each example must print even with few steps.
KEY_LINES = {
    "svm_force_vs_hinge": "max |force - nj.grad| over",
    "two_layer_net": "max |guide's pull + nj.grad|",
    "spiral_multiclass": "softmax         MLP 2-100-3",
    "regression_l2": "lowest validation error at alpha",
    "momentum_vs_sgd": "spiral net, step 0.1    Nesterov 0.9",
    "per_example_grads": "max |vmap - loop|",
    "numerical_vs_analytic_cost": "numerical (ms)",
    "chapter4_convnet": "the first layer's filters, and the glyph each fires hardest for:",
    "chapter4_rnn": "sample after training:",
    "chapter4_word2vec": "nearest neighbour of the same kind:",
    "chapter4_tsne": "max |nj.grad - the paper's gradient| at a random map:",
}
PICTURES = {"spiral_multiclass": "spiral_decision_boundary.png",
            "regression_l2": "regression_l2.png",
            "momentum_vs_sgd": "momentum_vs_sgd.png",
            "numerical_vs_analytic_cost": "numerical_vs_analytic_cost.png",
            "chapter4_convnet": "chapter4_convnet_filters.png",
            "chapter4_rnn": "chapter4_rnn_loss.png",
            "chapter4_word2vec": "chapter4_word2vec.png",
            "chapter4_tsne": "chapter4_tsne.png",
            "per_example_grads": "per_example_grads.png"}


def run(name: str, capsys, *args: str) -> str:
    """Run ``examples/<name>.py``'s ``main(args)`` in this process; return its stdout."""
    path = ROOT / "examples" / f"{name}.py"
    if str(path.parent) not in sys.path:     # as when run as a script: its folder first
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(list(args)) == 0
    return capsys.readouterr().out


def number_after(text: str, label: str) -> float:
    match = re.search(re.escape(label) + r"\s*(-?[\d.]+(?:e[-+]?\d+)?)", text)
    assert match, f"no number after {label!r} in:\n{text}"
    return float(match.group(1))


def test_there_are_examples():
    assert {p.stem for p in EXAMPLES} >= set(KEY_LINES)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs_as_a_script(path, tmp_path):
    steps = "100" if path.stem == "numerical_vs_analytic_cost" else "20"   # there: the largest n
    result = subprocess.run([sys.executable, str(path), "--steps", steps, "--out", str(tmp_path)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert KEY_LINES.get(path.stem, "") in result.stdout and result.stdout.strip()
    if path.stem in PICTURES:
        saved = (tmp_path / PICTURES[path.stem]).exists()
        assert saved or SKIPPED_PICTURE in result.stdout


def test_svm_force_specification_is_the_gradient_of_the_hinge_loss(capsys):
    out = run("svm_force_vs_hinge", capsys)                 # the guide's 400 steps
    assert number_after(out, "max |force - nj.grad| over 400 steps:") == 0.0
    assert len(re.findall(r"training accuracy at iteration \d+:", out)) == 16
    # With the guide's springs the cost's minimum misclassifies one point; say so.
    assert "training accuracy 0.8333" in out and "misclassified: [1.2 0.7]" in out
    out = run("svm_force_vs_hinge", capsys, "--spring", "0.1")
    assert "training accuracy 1.0000" in out.splitlines()[-1]


def test_two_layer_net_matches_the_guides_backprop_and_separates_the_points(capsys):
    out = run("two_layer_net", capsys)
    assert number_after(out, "max |guide's pull + nj.grad| over the six examples:") < 1e-12
    assert "after 400 steps: training accuracy 1.0000" in out


def test_spiral_needs_a_net_and_softmax_mlp_reaches_97_percent(capsys, tmp_path):
    out = run("spiral_multiclass", capsys, "--out", str(tmp_path))   # default 1000 steps
    acc = {(line[:16].strip(), line[16:30].strip()): float(line.split()[-1])
           for line in out.splitlines() if line.startswith(("multiclass SVM", "softmax"))}
    assert len(acc) == 4
    assert acc["softmax", "MLP 2-100-3"] >= 0.97
    assert acc["multiclass SVM", "MLP 2-100-3"] >= 0.97
    assert acc["softmax", "linear"] < 0.6 and acc["multiclass SVM", "linear"] < 0.6


def test_l2_penalty_shrinks_the_weights_and_validation_chooses_alpha(capsys, tmp_path):
    # Half the default 2000 steps: every alpha > 0 has converged by then.
    out = run("regression_l2", capsys, "--steps", "1000", "--out", str(tmp_path))
    rows = [line.split() for line in out.splitlines() if re.match(r"\s{10}\s*[\d.e-]+\s+\d", line)]
    alphas, norms, train, val = ([float(r[i]) for r in rows] for i in range(4))
    assert alphas == [0.0, 1e-4, 1e-3, 1e-2, 1e-1, 1.0]
    assert norms == sorted(norms, reverse=True) and norms[0] > 20 * norms[-1]
    assert train == sorted(train)                   # the springs cost fit on the train set
    best = val.index(min(val))
    assert 0 < best < len(val) - 1                  # too little and too much both hurt
    assert f"lowest validation error at alpha = {alphas[best]:g}" in out


def test_momentum_beats_plain_sgd_on_both_problems(capsys, tmp_path):
    out = run("momentum_vs_sgd", capsys, "--out", str(tmp_path))    # default 500 steps
    final = {(line[:24].strip(), line[24:39].strip()): float(line.split()[-1])
             for line in out.splitlines() if line.startswith(("Rosenbrock", "spiral net"))}
    assert len(final) == 6
    for problem in ("Rosenbrock, step 0.001", "spiral net, step 0.1"):
        for name in ("momentum 0.9", "Nesterov 0.9"):
            assert final[problem, name] < 0.7 * final[problem, "SGD"]
    assert final["Rosenbrock, step 0.001", "Nesterov 0.9"] < 0.01


def test_per_example_gradients_match_a_loop_and_find_the_hard_examples(capsys):
    out = run("per_example_grads", capsys)
    assert number_after(out, "max |vmap - loop| + |jit - loop| =") < 1e-10
    assert number_after(out, "their mean vs nj.grad of the mean loss:") < 1e-12
    assert "nj.vmap(nj.grad)" in out and "python loop of nj.grad" in out   # timed, not asserted
    assert "the five hardest pullers" in out


def test_numerical_and_analytic_gradients_agree_at_every_size(capsys, tmp_path):
    # The script's point is the timing, which is printed and never asserted
    # here: a test must not depend on how busy the machine is.
    out = run("numerical_vs_analytic_cost", capsys, "--steps", "1000", "--out", str(tmp_path))
    rows = {int(r[0]): [float(v) for v in r[1:]] for r in
            (line.split() for line in out.splitlines()) if r and r[0].isdigit()}
    assert sorted(rows) == [1, 10, 100, 1000]
    assert all(diff < 1e-6 for *_, diff in rows.values())


# ----- Chapter 4's case studies: their claims, on shorter runs where that is enough ----------

def test_convnet_finds_the_glyphs_anywhere(capsys):
    out = run("chapter4_convnet", capsys, "--steps", "60")
    assert number_after(out, "test accuracy") >= 0.85
    assert number_after(out, "loss step 0:") > 1.0 > number_after(out, "step 59:")
    assert len(re.findall(r"^filter \d \((plus|cross|ring|tee)\):$", out, re.MULTILINE)) == 6


def test_rnn_loss_falls_and_the_clip_reports_its_work(capsys):
    out = run("chapter4_rnn", capsys, "--steps", "60")
    assert number_after(out, "step    0: loss") > 3.4          # about log 34: guessing
    assert number_after(out, "step   59: loss") < 2.6
    assert re.search(r"gradient norm at most [\d.]+, so the clip at 5 acted on \d+ of them", out)
    before = out.split("sample before training:\n")[1].split("\n60 steps")[0]
    after = out.split("sample after training:\n")[1].split("\nmatplotlib")[0]
    assert len(before) == 121 and len(after) == 301         # the first character, then n drawn
    # Untrained, a space is one character in 34; the sonnets have about one in six.
    assert before.count(" ") < 0.08 * len(before) and after.count(" ") > 0.12 * len(after)


def test_word2vec_puts_every_word_next_to_its_own_kind(capsys):
    out = run("chapter4_word2vec", capsys)                  # default 500 steps
    assert "nearest neighbour of the same kind: 20 of 20 words" in out
    assert "nearest to  king: " in out and "nearest to   one: " in out


def test_tsne_gradient_is_the_papers_and_the_map_keeps_neighbours(capsys):
    out = run("chapter4_tsne", capsys, "--steps", "300")
    assert number_after(out, "max |nj.grad - the paper's gradient| at a random map:") < 1e-12
    agreement = {name: number_after(out, f"  {name}") for name in ("in 10-D", "t-SNE map",
                                                                    "PCA map")}
    assert agreement["t-SNE map"] >= agreement["in 10-D"] - 0.02 > agreement["PCA map"]
    assert number_after(out, "step 299:") < number_after(out, "step 0:")
