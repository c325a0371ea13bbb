"""benchmarks/bench_scan.py runs, checks every implementation, and prints its ratios.

Timings are never asserted: only that ``--quick`` exits 0, that the
correctness checks passed, and that each row carries a ratio.
"""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_scan.py"


def test_quick_run_checks_every_implementation_and_prints_ratios_and_compile_times():
    run = subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True,
                         text=True, timeout=300, cwd=ROOT)
    out = run.stdout
    assert run.returncode == 0, out + run.stderr
    assert "FAILED" not in out and "check: T100: every implementation matches" in out
    for label in ("hand NumPy BPTT", "nanojax jit(scan)", "nanojax eager scan",
                  "nanojax jit(Python loop)"):
        (row,) = [line for line in out.splitlines() if line.startswith("T100") and label in line]
        assert re.search(r"\d+\.\d\dx", row)
    assert "BLAS threads: 1" in out
    assert len(re.findall(r"jit lower .*10 steps [\d.]+ ms, 100 steps [\d.]+ ms", out)) == 2
