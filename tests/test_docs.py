"""The docs and the tour stay runnable and truthful.

pytest runs every ``>>>`` example in ``docs/*.md`` as a doctest (see
``--doctest-glob`` in pyproject.toml); these tests make sure no code block
escapes that, that the README's example runs too, and that ``python -m
nanojax`` works and prints the guide's numbers.
"""

from __future__ import annotations

import doctest
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").rglob("*.md"))
LINK = re.compile(r"\]\(([\w./-]+\.\w+)(?:#[\w-]*)?\)")   # relative links: [text](path.ext)
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def run_tour(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nanojax", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def tour_output() -> str:
    result = run_tour()
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_docs_exist():
    assert {p.name for p in DOCS} >= {"index.md", "chapter1.md", "chapter2.md", "chapter3.md",
                                      "chapter3_tips.md", "design.md", "performance.md"}


def test_index_links_every_page_and_every_link_resolves():
    index = ROOT / "docs" / "index.md"
    linked = {(index.parent / t).resolve() for t in LINK.findall(index.read_text())}
    missing = [p.relative_to(ROOT).as_posix() for p in DOCS if p != index and p not in linked]
    assert not missing, f"docs/index.md does not link {missing}"
    for page in DOCS:
        for target in LINK.findall(page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} links a missing {target}"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_python_block_in_the_docs_is_a_doctest(path):
    for lang, body in FENCE.findall(path.read_text()):
        if lang == "python":
            assert ">>>" in body, f"{path.name}: a python block without >>> is never run:\n{body}"


def test_readme_examples_run():
    failures, tried = doctest.testfile(
        str(ROOT / "README.md"), module_relative=False, verbose=False,
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert tried > 0 and failures == 0


def test_readme_keeps_the_fresh_machine_commands():
    readme = (ROOT / "README.md").read_text()
    assert ".venv/bin/pip install -q . && .venv/bin/python -m nanojax" in readme
    assert '.venv/bin/pip install -q -e ".[test]" && .venv/bin/python -m pytest -q' in readme


def test_readme_shows_the_tours_real_output(tour_output):
    readme = (ROOT / "README.md").read_text()
    pasted = readme.split("<!-- tour output -->")[1].split("```")[1]
    lines = [line for line in pasted.splitlines()[1:] if line.strip() and line.strip() != "..."]
    assert lines
    actual = tour_output.splitlines()
    for line in lines:
        assert line in actual, f"README shows a line the tour no longer prints: {line!r}"


def test_tour_prints_the_guides_numbers(tour_output):
    for number in ["-6", "-5.87", "3.0000", "-2.0000", "-12", "-4.0000", "-11.59",
                   "2.92", "0.8808", "-0.105", "0.315", "0.210", "0.88255", "0.0475",
                   "[80, -120, -40, 100]", "[0.5, 0.5]", "logistic"]:
        assert number in tour_output, number


def tour_section(output: str, name: str) -> str:
    """The lines of one section of the tour's output, header included."""
    return output.split(f"\n== {name}:")[1].split("\n== ")[0]


def test_tour_prints_the_guides_chapter2_numbers(tour_output):
    svm, loss = tour_section(tour_output, "svm"), tour_section(tour_output, "loss")
    for number in ["-1.2", "pull 1", "-2.3", "pull 0", "[0.2, 2.7, 1]", "[-1, 2, 0]"]:
        assert number in svm, number
    for line in ["cost for example 0 is 0.440", "cost for example 1 is 1.370",
                 "cost for example 2 is 0.000", "regularization cost for current model is 0.005",
                 "total cost is 1.815", "[-1.48, -0.16, 0]", "total cost 0.189"]:
        assert line in loss, line


def accuracy_rows(section: str) -> dict[int, list[float]]:
    """``{step: [accuracies]}`` from rows such as ``  25   0.667   0.833`` or ``25: 0.333``."""
    rows: dict[int, list[float]] = {}
    for line in section.splitlines():
        if m := re.fullmatch(r"\s+(\d+)((?:\s+[01]\.\d{3})+)", line):
            rows[int(m[1])] = [float(a) for a in m[2].split()]
        for step, acc in re.findall(r"(\d+): ([01]\.\d{3})", line):
            rows.setdefault(int(step), []).append(float(acc))
    return rows


def test_tour_trains_the_svm_printing_accuracy_every_25_steps(tour_output):
    svm = tour_section(tour_output, "svm")
    rows = accuracy_rows(svm)
    assert sorted(rows) == list(range(0, 400, 25))
    one_point, all_six = zip(*(rows[step] for step in sorted(rows)))
    assert one_point[0] == all_six[0] == 0.667            # a, b, c = 1, -2, -1: 4 of 6
    assert one_point[-1] == 0.833                          # the guide's own loop stalls at 5/6
    assert all_six[-1] == 1.0                              # the batch step gets all six
    assert "same as the guide's own loop  True" in svm
    assert re.search(r"final accuracy: \d+ at 0\.833, \d+ at 1\.000", svm)


def test_tour_trains_the_2_layer_net_to_full_accuracy(tour_output):
    net = tour_section(tour_output, "net")
    rows = accuracy_rows(net)
    assert sorted(rows) == list(range(0, 400, 25))
    assert rows[375] == [1.0]
    assert "hand backprop of one point" in net


def test_tour_checks_every_gradient_numerically(tour_output):
    diffs = [float(d) for d in re.findall(r"\d\.\de[-+]\d\d", tour_output)]
    assert len(diffs) >= 10
    assert max(diffs) < 1e-6


def test_tour_is_deterministic(tour_output):
    assert run_tour().stdout == tour_output


def test_tour_runs_one_section():
    result = run_tour("--section", "neuron")
    assert result.returncode == 0
    assert "0.8808" in result.stdout and "-5.87" not in result.stdout


def test_tour_runs_chapter2_sections_alone(tour_output):
    result = run_tour("--section", "loss", "--section", "svm")
    assert result.returncode == 0
    assert "total cost is 1.815" in result.stdout and "0.8808" not in result.stdout
    assert result.stdout.index("== loss") < result.stdout.index("== svm")
    for name in ("svm", "loss"):
        assert tour_section(result.stdout, name) == tour_section(tour_output, name)


def test_tour_chapter3_and_4_sections_train_and_run_alone(tour_output):
    result = run_tour("--section", "rnn", "--section", "cnn", "--section", "spiral")
    assert result.returncode == 0 and "0.8808" not in result.stdout
    assert result.stdout.index("== rnn") < result.stdout.index("== cnn")
    for name in ("spiral", "cnn", "rnn"):
        assert tour_section(result.stdout, name) == tour_section(tour_output, name)
    spiral, cnn, rnn = (tour_section(tour_output, n) for n in ("spiral", "cnn", "rnn"))
    assert number_after(spiral, "linear 2-3                    training accuracy") < 0.6
    assert number_after(spiral, "ReLU net 2-50-3               training accuracy") > 0.95
    assert number_after(cnn, "before training               test accuracy") < 0.7
    assert number_after(cnn, "after 100 Adam steps          test accuracy") > 0.95
    assert number_after(rnn, "before training               accuracy") < 0.7
    assert number_after(rnn, "after 150 Adam steps          accuracy") > 0.95
    pulls = re.findall(r"pull of the score on x_1 \.\. x_8: ([\d. ]+)", rnn)
    before, after = ([float(v) for v in p.split()] for p in pulls)
    assert before[0] < 0.05 < 0.15 < after[0]    # trained, the score listens to x_1


def number_after(text: str, label: str) -> float:
    match = re.search(re.escape(label) + r"\s*(-?[\d.]+)", text)
    assert match, f"no number after {label!r} in:\n{text}"
    return float(match.group(1))


def test_tour_rejects_an_unknown_section_helpfully():
    result = run_tour("--section", "svm-someday")
    assert result.returncode != 0
    assert "svm-someday" in result.stderr
    assert "gate, circuit, neuron, ninja" in result.stderr


def test_tour_help_and_list_name_the_sections():
    from nanojax.tour import SECTIONS

    help_text = run_tour("--help").stdout
    listing = run_tour("--list").stdout
    for name in SECTIONS:
        assert name in help_text and name in listing
    assert list(SECTIONS) == ["gate", "circuit", "neuron", "ninja", "svm", "net", "loss",
                              "spiral", "cnn", "rnn"]


def test_tour_main_is_callable_in_process(capsys):
    from nanojax.tour import main

    assert main(["--section", "gate"]) == 0
    assert "-5.87" in capsys.readouterr().out
