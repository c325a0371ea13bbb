"""benchmarks/bench_debug.py runs, checks every configuration, and prints its ratios.

Timings are never asserted: only that ``--quick`` exits 0, that the
correctness checks passed, and that each row carries a ratio.
"""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_debug.py"


def test_quick_run_checks_every_configuration_and_prints_ratios():
    run = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--baseline", "HEAD"],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    out = run.stdout
    assert run.returncode == 0, out + run.stderr
    assert "FAILED" not in out
    labels = ["source recording bypassed", "checks off (as shipped)", "jax_debug_nans on"]
    if "'before' rows are skipped" not in out:
        labels.append("commit before the checks")
    for case in ("jit_call", "make_jaxpr"):
        assert f"check: {case}: every implementation matches" in out
        for label in labels:
            (row,) = [line for line in out.splitlines() if line.startswith(case) and label in line]
            assert re.search(r"\d+\.\d\dx", row)
    assert "BLAS threads: 1" in out and "glibc default malloc" in out
    assert re.search(r"make_jaxpr +bypass [\d.]+ us 1\.00x, off [\d.]+ us [\d.]+x, nans", out)
