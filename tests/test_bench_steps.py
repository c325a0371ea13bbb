"""``benchmarks/bench_steps.py`` spawns its workers, checks its numbers, prints its tables.

Timings are never asserted: only that ``--quick`` exits 0 with every check
passed and a row (with a ratio) for every workload, that the memory columns
are filled for nanojax's jit, and, as units, the live-set computation and the
workers' environment.
"""

import functools
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nanojax as nj
import nanojax.numpy as jnp

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_steps.py"
RATIO = r"\d+(\.\d+)?x"
BYTES = r"\d+(\.\d+)? (B|KiB|MiB)"
WORKLOAD_ROWS = ("spiral_step", "mnist_step", "svm_step", "svm_step_alt", "per_example",
                 "hessian", "scaling 300x100")


@functools.cache
def _load():
    spec = importlib.util.spec_from_file_location("bench_steps", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_steps"] = module   # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _row(out: str, workload: str, impl: str) -> str:
    for line in out.splitlines():
        cells = re.split(r"\s{2,}", line)
        if cells[0] == workload and len(cells) > 1 and cells[1].startswith(impl):
            return line
    raise AssertionError(f"no row {workload!r} / {impl!r} in:\n{out}")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    json_path = tmp_path_factory.mktemp("bench_steps") / "results.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--json", str(json_path)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    return proc, json_path


def test_quick_run_exits_zero(quick_run):
    proc, _ = quick_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "FAILED" not in proc.stdout


def test_quick_run_checks_passed(quick_run):
    checks = [line for line in quick_run[0].stdout.splitlines() if line.startswith("check:")]
    assert all(line.endswith(": ok") for line in checks), checks
    for workload in ("spiral_step", "mnist_step", "svm_step", "per_example", "hessian",
                     "scaling"):
        for impl in ("nanojax jit", "nanojax eager"):
            assert any(line.startswith(f"check: {workload}: {impl} ") for line in checks), \
                (workload, impl, checks)


def test_quick_run_header_says_how_it_measured(quick_run):
    header = quick_run[0].stdout.splitlines()[0]
    assert "allocator: glibc default malloc" in header
    assert "BLAS threads: 1" in header
    assert "each implementation in its own process" in header
    assert "not what users get" not in quick_run[0].stdout   # no raised table in --quick


@pytest.mark.parametrize("workload", WORKLOAD_ROWS)
def test_quick_run_has_a_ratio_row_per_workload(quick_run, workload):
    out = quick_run[0].stdout
    hand = "hand update" if workload.startswith("svm") else ("closed form" if workload in (
        "per_example", "hessian") else "hand NumPy step")
    assert re.search(r"\b1\.00x\b", _row(out, workload, hand))
    for impl in ("nanojax jit", "nanojax eager"):
        assert re.search(RATIO, _row(out, workload, impl))


@pytest.mark.parametrize("workload, goal", [
    ("spiral_step", "1.0"), ("mnist_step", "1.0"), ("svm_step_alt", "5.0"),
    ("per_example", "2.0"), ("hessian", "2.5")])
def test_quick_run_jit_rows_have_goals_and_memory(quick_run, workload, goal):
    row = _row(quick_run[0].stdout, workload, "nanojax jit")
    assert re.search(RATIO + rf"\s+<= {re.escape(goal)}x\s+(ok|MISSED)", row), row
    # peak, live set, peak/live (and its goal, for arrays), held, (peak+held)/live
    assert re.search(BYTES + r"\s+" + BYTES + r"\s+\d+\.\d\d", row), row


def test_quick_run_writes_json(quick_run):
    _, json_path = quick_run
    data = json.loads(json_path.read_text())
    records = data["tables"]["default"]
    assert {r["workload"] for r in records} >= set(WORKLOAD_ROWS)
    jit = [r for r in records if r["impl"] == "nanojax_jit"]
    assert jit and all(r["live_bytes"] > 0 and r["peak_bytes"] >= 0 for r in jit)
    assert data["header"].startswith("nanojax step benchmarks")


def test_largest_live_set_by_hand():
    def f(x):
        a = jnp.sin(x)
        b = jnp.cos(x)
        c = a * b
        return jnp.sum(c), a
    closed = nj.make_jaxpr(f)(np.ones(3))
    assert [e.primitive.name for e in closed.eqns] == ["sin", "cos", "mul", "reduce_sum"]
    # a, b, c are f64[3] (24 bytes), the sum 8. a is an output: live to the end.
    # sin: a = 24; cos: a + b = 48; mul: a + b + c = 72; sum: a + c + sum = 56.
    assert _load().largest_live_set(closed) == 72


def test_largest_live_set_leaves_out_inputs_and_literals():
    def g(x):
        return x, jnp.sum(x * 2.0)
    closed = nj.make_jaxpr(g)(np.ones(1000))
    assert [e.primitive.name for e in closed.eqns] == ["mul", "reduce_sum"]
    # The input (8000 bytes) is returned but is no intermediate; 2.0 is a literal.
    # mul: 8000 (x * 2.0); reduce_sum: 8000 + 8.
    assert _load().largest_live_set(closed) == 8008


def test_largest_live_set_of_a_lowered_jit():
    closed = nj.jit(lambda x: jnp.exp(x) + 1.0).lower(np.ones((4, 5))).jaxpr
    assert [e.primitive.name for e in closed.eqns] == ["exp", "add"]
    # exp: e^x = 160 bytes; add: e^x, read there for the last time, + the output = 320.
    assert _load().largest_live_set(closed) == 320


ALLOCATOR_VARS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_ARENA_MAX",
                  "MALLOC_TOP_PAD_", "GLIBC_TUNABLES", "LD_PRELOAD")


@pytest.fixture
def tuned_environment(monkeypatch):
    for name in ALLOCATOR_VARS:
        monkeypatch.setenv(name, "1" if name.startswith("MALLOC") else "something")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "8")
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")


def test_child_env_default_malloc(tuned_environment):
    env = _load().child_env(raised=False, blas_threads=1)
    assert not [name for name in ALLOCATOR_VARS if name in env]
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        assert env[name] == "1"
    assert env["PYTHONPATH"].split(os.pathsep) == [str(ROOT / "src"), "/elsewhere"]
    assert os.environ["MALLOC_ARENA_MAX"] == "1"      # ours is left as it was


def test_child_env_raised_thresholds(tuned_environment):
    env = _load().child_env(raised=True, blas_threads=3)
    assert env["MALLOC_MMAP_THRESHOLD_"] == "33554432"
    assert env["MALLOC_TRIM_THRESHOLD_"] == "268435456"
    assert not [name for name in ("MALLOC_ARENA_MAX", "MALLOC_TOP_PAD_", "GLIBC_TUNABLES",
                                  "LD_PRELOAD") if name in env]
    assert env["OPENBLAS_NUM_THREADS"] == env["OMP_NUM_THREADS"] == "3"


def test_worker_reports_a_failed_check(monkeypatch, capsys):
    bench = _load()
    monkeypatch.setattr(bench, "hessian_closed_form",
                        lambda X, t: lambda w: np.zeros((w.size, w.size)))
    assert bench.main(["--worker", "hessian", "nanojax_jit", "--quick"]) == 1
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "differ from the closed form" in out["failed"]


def test_driver_exits_nonzero_on_a_failed_check(monkeypatch, capsys):
    bench = _load()

    def failing_spawn(job, env, quick):
        return {"workload": job.workload, "impl": job.impl, "results": [], "failed": "boom"}
    monkeypatch.setattr(bench, "spawn", failing_spawn)
    assert bench.main(["--quick", "--only", "hessian"]) == 1
    assert "FAILED check: hessian nanojax_jit: boom" in capsys.readouterr().out


def test_goal_formatting():
    bench = _load()
    assert [bench.fmt_goal(g) for g in (1.0, 1.05, 2.5, 60.0)] == \
        ["<= 1.0", "<= 1.05", "<= 2.5", "<= 60.0"]


def test_merge_rounds_takes_the_median_of_medians_and_the_least_minimum():
    bench = _load()

    def output(median, low):
        return {"workload": "spiral_step", "impl": "hand",
                "results": [{"impl": "hand", "median_us": median, "min_us": low}]}
    merged = bench.merge_rounds([[output(5.0, 4.0)], [output(9.0, 8.0)], [output(6.0, 3.0)]])
    assert merged[0]["results"][0] == {"impl": "hand", "median_us": 6.0, "min_us": 3.0,
                                       "rounds": 3}
