"""benchmarks/bench_conv.py runs, checks every implementation, and prints its ratios.

Timings are never asserted: only that ``--quick`` exits 0, that the
correctness checks passed, and that each row carries a ratio.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_conv.py"


@pytest.fixture(scope="module")
def quick_run():
    return subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True,
                          text=True, timeout=300, cwd=ROOT)


def test_quick_run_exits_zero_and_its_checks_pass(quick_run):
    assert quick_run.returncode == 0, quick_run.stdout + quick_run.stderr
    assert "FAILED" not in quick_run.stdout
    checks = [line for line in quick_run.stdout.splitlines() if line.startswith("check:")]
    assert len(checks) == 2 and all("matches hand NumPy im2col" in c for c in checks)


@pytest.mark.parametrize("case", ["fwd_small", "grad_small"])
@pytest.mark.parametrize("impl", ["hand NumPy im2col", "nanojax eager", "nanojax jit"])
def test_quick_run_prints_a_ratio_row(quick_run, case, impl):
    rows = [line for line in quick_run.stdout.splitlines()
            if line.startswith(case) and impl in line]
    assert len(rows) == 1 and re.search(r"\d+\.\d\dx", rows[0]), quick_run.stdout
    assert "BLAS threads: 1" in quick_run.stdout


def test_the_hand_gradient_is_the_gradient():
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import bench_conv
    finally:
        sys.path.remove(str(SCRIPT.parent))
    import nanojax as nj
    import numpy as np
    x, w, ct = bench_conv.data("small")
    value, (dx, dw) = bench_conv.hand_grad(x, w, ct)
    got_value, (gx, gw) = bench_conv.make(nj, nj.lax, nj.numpy, "grad", False)(x, w, ct)
    np.testing.assert_allclose(value, got_value, rtol=1e-12)
    np.testing.assert_allclose(dx, gx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dw, gw, rtol=1e-10, atol=1e-12)
