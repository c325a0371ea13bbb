"""The benchmark script runs, checks its numbers, and prints its table.

Timings are never asserted: only that ``benchmarks/bench_grad.py --quick``
exits 0, that its correctness checks passed, and that the ratio rows are
there.
"""

import importlib.machinery
import importlib.util
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "bench_grad.py"
RATIO = r"\d+(\.\d+)?x"


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench_grad", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(out: str, case: str, impl: str) -> str:
    for line in out.splitlines():
        if line.startswith(case) and impl in line:
            return line
    raise AssertionError(f"no row {case!r} / {impl!r} in:\n{out}")


@pytest.fixture(scope="module")
def quick_run():
    return subprocess.run([sys.executable, str(SCRIPT), "--quick"], capture_output=True,
                          text=True, timeout=300, cwd=ROOT)


def test_quick_run_exits_zero(quick_run):
    assert quick_run.returncode == 0, quick_run.stdout + quick_run.stderr
    assert "FAILED" not in quick_run.stdout


def test_quick_run_checks_passed(quick_run):
    checks = [line for line in quick_run.stdout.splitlines() if line.startswith("check:")]
    assert len(checks) == 3, quick_run.stdout
    assert all(line.endswith(": ok") for line in checks)
    assert any("MLP: nanojax grad" in line for line in checks)
    assert any("jnp.maximum" in line for line in checks)
    assert any("Python if" in line for line in checks)


def test_quick_run_prints_ratio_rows(quick_run):
    out = quick_run.stdout
    assert re.search(r"\b1\.0x\b", _row(out, "mlp_grad", "hand NumPy"))
    assert re.search(RATIO + r"\s+<= 1\.5x", _row(out, "mlp_grad", "nanojax grad"))
    assert re.search(r"\b1\.0x\b", _row(out, "svm_step", "hand update"))
    for impl in ("nanojax grad, jnp.maximum", "nanojax grad, Python if"):
        assert re.search(RATIO + r"\s+<= 100x", _row(out, "svm_step", impl))
    assert "<= 50 ms" in _row(out, "import", "import nanojax (beyond numpy)")
    assert re.search(r"(jax|autograd) is not installed|jax jit", out)


def test_formatting():
    bench = _load_bench()
    assert [bench.sig2(x) for x in (1.46, 5.93, 183.2, 0.1234, 1.0)] == \
        ["1.5", "5.9", "180", "0.12", "1.0"]
    assert [bench.fmt_time(x) for x in (27e-6, 840e-6, 176e-9, 999.6e-9)] == \
        ["27.0 us", "840 us", "176 ns", "1.00 us"]


def test_check_failure_exits_nonzero(monkeypatch, capsys):
    bench = _load_bench()
    monkeypatch.setattr(bench, "mlp_grad_hand",
                        lambda p, X, y: {k: v + 1.0 for k, v in p.items()})
    assert bench.main(["--quick", "--no-others"]) == 1
    assert "FAILED check" in capsys.readouterr().out


def _fake_module(name: str, **attrs) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)
    module.__dict__.update(attrs)
    return module


def test_optional_rows_with_stand_ins(monkeypatch, capsys):
    """jax and autograd are not installed here: stand-ins built on nanojax run
    the same code paths, so the rows print when the real ones are installed."""
    import nanojax as nj
    import nanojax.numpy as jnp

    def jax_grad(fun, argnums=0):
        return nj.grad(fun, argnums=argnums)

    fake_jnp = _fake_module("jax.numpy", **{k: getattr(jnp, k) for k in dir(jnp)
                                             if not k.startswith("__")})
    fake_jax = _fake_module(
        "jax", numpy=fake_jnp, grad=jax_grad, jit=lambda f: f,
        block_until_ready=lambda x: x, nn=types.SimpleNamespace(relu=nj.nn.relu),
        config=types.SimpleNamespace(update=lambda *a: None))
    fake_anp = _fake_module("autograd.numpy", **{k: getattr(jnp, k) for k in dir(jnp)
                                                  if not k.startswith("__")})
    fake_autograd = _fake_module("autograd", numpy=fake_anp,
                                 grad=lambda fun, argnum=0: nj.grad(fun, argnums=argnum))
    for name, module in (("jax", fake_jax), ("jax.numpy", fake_jnp),
                         ("autograd", fake_autograd), ("autograd.numpy", fake_anp)):
        monkeypatch.setitem(sys.modules, name, module)

    bench = _load_bench()
    assert bench.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "failed" not in out, out
    for impl in ("jax jit(grad)", "jax grad (eager)", "autograd grad"):
        assert re.search(RATIO + r"\s+<= 1\.5x", _row(out, "mlp_grad", impl))
    for impl in ("jax jit(grad), jnp.maximum", "jax grad (eager), Python if",
                 "autograd grad, np.maximum", "autograd grad, Python if"):
        assert re.search(RATIO + r"\s+<= 100x", _row(out, "svm_step", impl))
    checks = [line for line in out.splitlines() if line.startswith("check:")]
    assert len(checks) == 3 + 2 + 3 + 1 + 2 and all(line.endswith(": ok") for line in checks)


TRANSFORMS_SCRIPT = ROOT / "benchmarks" / "bench_transforms.py"


@pytest.fixture(scope="module")
def transforms_run():
    return subprocess.run([sys.executable, str(TRANSFORMS_SCRIPT), "--quick", "--no-others"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)


def test_transforms_benchmark_checks_pass_and_exits_zero(transforms_run):
    assert transforms_run.returncode == 0, transforms_run.stdout + transforms_run.stderr
    assert "FAILED" not in transforms_run.stdout
    assert transforms_run.stdout.count(": ok") >= 3


@pytest.mark.parametrize("case, impl", [
    ("mlp_step", "nanojax eager"), ("mlp_step", "nanojax jit"),
    ("per_example", "nanojax vmap(grad)"), ("per_example", "nanojax jit(vmap(grad))"),
    ("svm_step", "nanojax jit(grad)")])
def test_transforms_benchmark_prints_each_ratio(transforms_run, case, impl):
    assert re.search(RATIO, _row(transforms_run.stdout, case, impl))


def test_transforms_benchmark_reports_first_call_latency(transforms_run):
    assert re.search(r"\d+(\.\d+)? (ms|us|s)\b", _row(transforms_run.stdout, "first_call",
                                                      "trace+compile"))
