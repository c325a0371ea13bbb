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
DOCS = sorted((ROOT / "docs").glob("*.md"))
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
    assert {p.name for p in DOCS} >= {"index.md", "chapter1.md", "design.md"}


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
    assert list(SECTIONS)[:4] == ["gate", "circuit", "neuron", "ninja"]


def test_tour_main_is_callable_in_process(capsys):
    from nanojax.tour import main

    assert main(["--section", "gate"]) == 0
    assert "-5.87" in capsys.readouterr().out
