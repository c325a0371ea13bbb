"""What do the debugging aids cost, off and on? Each configuration in its own process.

Run from the repository root::

    .venv/bin/python benchmarks/bench_debug.py              # a few minutes
    .venv/bin/python benchmarks/bench_debug.py --quick      # a smoke run (tests use it)
    .venv/bin/python benchmarks/bench_debug.py --baseline main

The driver of ``harness.py`` spawns ``bench_debug.py --worker CASE CONFIG``
once for every (case, configuration), with glibc's default malloc (no
``MALLOC_*``, ``GLIBC_TUNABLES`` or ``LD_PRELOAD``) and 1 BLAS thread, and
shows medians over 3 processes, each the median of 7 runs.

Cases, each a small workload where Python overhead is most of the time, so
that any cost of a hook shows:

1. ``eager_chain``: 16 jnp operations on a 16-element array, eagerly.
2. ``grad_mlp``: ``grad`` of a 8-16-1 tanh MLP's squared loss on 32 points.
3. ``jit_call``: a call of ``jit(grad(hinge))`` on Python floats (the
   guide's SVM step), the path where jit's per-call overhead is the time.
4. ``make_jaxpr``: tracing ``grad`` of the MLP loss to a jaxpr (a fresh
   trace each call): what recording each equation's source line costs.

Configurations:

- ``bypass``: this code with source recording bypassed (staging records no
  ``source_info``): the baseline every ratio is against.
- ``off``: this code as users run it, checks off (source lines recorded).
- ``nans``: ``jax_debug_nans`` on.
- ``before``: the commit given by ``--baseline`` (default: the commit
  before the NaN checks and source lines were added), extracted with
  ``git archive`` and imported in its own process. Other commits lie
  between it and this one, so it bounds rather than isolates the hooks' cost.

Each result is checked against a hand-written NumPy version (``np.allclose``);
``make_jaxpr`` only against its own first trace (the same number of equations).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness

ROOT = harness.ROOT
# The commit before adf43af (NaN/inf checks, source_info on equations).
DEFAULT_BASELINE = "adf43af^"
BASELINE_ENV = "NANOJAX_BENCH_DEBUG_BASELINE_SRC"


def _baseline_src(rev: str) -> str:
    """``src/`` of commit ``rev``, extracted once into a temporary directory."""
    sha = subprocess.run(["git", "rev-parse", "--verify", f"{rev}^{{commit}}"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.strip()
    where = Path(tempfile.gettempdir()) / f"nanojax-bench-debug-{sha[:12]}"
    if not (where / "src" / "nanojax" / "__init__.py").exists():
        where.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", sha, "src"], cwd=ROOT,
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(where)], input=archive, check=True)
    return str(where / "src")


def _import(config: str) -> tuple[Any, Any]:
    if config == "before":
        src = os.environ.get(BASELINE_ENV)
        if not src:
            raise RuntimeError(f"{BASELINE_ENV} is not set: run the driver, not a worker")
        sys.path.insert(0, src)
    import nanojax as nj
    import nanojax.numpy as jnp
    if config == "before":
        assert nj.__file__.startswith(os.environ[BASELINE_ENV]), nj.__file__
    elif config == "bypass":
        import nanojax.staging as staging
        staging.staged_source = lambda: None  # type: ignore[attr-defined]
    elif config == "nans":
        nj.config.update("jax_debug_nans", True)
    return nj, jnp


# ----- The workloads, and their hand-written NumPy references -----------------------

def _chain(np_: Any, x: Any) -> Any:
    y = np_.sin(x) * 2.0 + 1.0
    y = np_.exp(-y) + np_.cos(y)
    y = np_.tanh(y) * y - 0.5
    y = np_.sqrt(y * y + 1.0)
    y = np_.log(y) + np_.maximum(y, 0.2)
    return np_.sum(y * x)


def _mlp_data() -> tuple[dict, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    params = {"w1": rng.standard_normal((8, 16)) * 0.3, "b1": np.zeros(16),
              "w2": rng.standard_normal(16) * 0.3, "b2": np.float64(0.1)}
    return params, rng.standard_normal((32, 8)), rng.standard_normal(32)


def _mlp_loss(jnp: Any) -> Any:
    def loss(params: dict, x: Any, y: Any) -> Any:
        h = jnp.tanh(x @ params["w1"] + params["b1"])
        return jnp.mean((h @ params["w2"] + params["b2"] - y) ** 2)
    return loss


def _mlp_grad_by_hand(params: dict, x: np.ndarray, y: np.ndarray) -> dict:
    h = np.tanh(x @ params["w1"] + params["b1"])
    d = 2.0 * (h @ params["w2"] + params["b2"] - y) / len(y)
    dh = np.outer(d, params["w2"]) * (1.0 - h * h)
    return {"w1": x.T @ dh, "b1": dh.sum(0), "w2": h.T @ d, "b2": d.sum()}


def _hinge(jnp: Any) -> Any:
    def loss(a: Any, b: Any, c: Any, x: float, y: float, label: float) -> Any:
        return jnp.maximum(0.0, -label * (a * x + b * y + c) + 1.0)
    return loss


def _hinge_grad_by_hand(a: float, b: float, c: float, x: float, y: float,
                        label: float) -> tuple:
    active = -label * (a * x + b * y + c) + 1.0 > 0.0
    return (-label * x, -label * y, -label) if active else (0.0, 0.0, 0.0)


SVM_POINT = (0.5, -0.3, 0.1, 1.2, -0.7, 1.0)


def implementation(config: str, case: str, quick: bool) -> tuple:
    nj, jnp = _import(config)
    if case == "eager_chain":
        x = np.linspace(0.1, 1.6, 16)
        return (lambda: _chain(jnp, x)), (lambda: _chain(np, x))
    if case == "grad_mlp":
        params, x, y = _mlp_data()
        g = nj.grad(_mlp_loss(jnp))
        return (lambda: g(params, x, y)), (lambda: _mlp_grad_by_hand(params, x, y))
    if case == "jit_call":
        step = nj.jit(nj.grad(_hinge(jnp), argnums=(0, 1, 2)))
        return (lambda: step(*SVM_POINT)), (lambda: _hinge_grad_by_hand(*SVM_POINT))
    if case == "make_jaxpr":
        params, x, y = _mlp_data()
        trace = nj.make_jaxpr(nj.grad(_mlp_loss(jnp)))
        bypass_count = len(trace(params, x, y).eqns)
        return (lambda: len(trace(params, x, y).eqns)), (lambda: bypass_count)
    raise ValueError(case)


SUITE = harness.Suite(
    title="bench_debug: what the debugging aids cost",
    script=Path(__file__).resolve(),
    cases=("eager_chain", "grad_mlp", "jit_call", "make_jaxpr"),
    impls=("bypass", "off", "nans", "before"),
    labels={"bypass": "source recording bypassed", "off": "checks off (as shipped)",
            "nans": "jax_debug_nans on", "before": "commit before the checks"},
    implementation=implementation,
    goal=1.10,
    goal_for=("off",),
    quick_cases=("jit_call", "make_jaxpr"),
    notes=(("ratios are against 'source recording bypassed' (this code, staging recording no "
            "source lines); the goal is for 'checks off': no cost on the eager, grad and jit "
            "paths; on make_jaxpr its ratio is what recording source lines costs"),
           ("1 BLAS thread (OPENBLAS/OMP/MKL_NUM_THREADS=1) and glibc's default malloc: no "
            "environment tweaks")),
)


def alternate(quick: bool) -> None:
    """Every configuration of this code in one process, taking turns: drift cancels.

    The table above runs each configuration in its own process, as a user
    would; on a shared machine its medians move by more than the hooks
    cost. Here ``bypass``, ``off`` and ``nans`` alternate call batch by call
    batch (7 rounds), timed in CPU time (``time.process_time``, so the
    machine's other processes do not count), and each ratio is the median
    over rounds of the round's ratio to ``bypass``.
    """
    import statistics
    import time

    import nanojax as nj
    import nanojax.staging as staging
    recording = staging.staged_source

    def configure(config: str) -> None:
        staging.staged_source = recording if config != "bypass" else (lambda: None)
        nj.config.update("jax_debug_nans", config == "nans")

    rounds = 1 if quick else 7
    print(f"alternating in one process, CPU time, {rounds} rounds "
          "(ratio: median over rounds of each round's ratio to 'bypass'):")
    for case in SUITE.quick_cases if quick else SUITE.cases:
        run, _ = implementation("off", case, quick)
        for _ in range(0 if quick else 3):
            run()
        start = time.process_time()
        run()
        number = 1 if quick else max(1, round(0.05 / max(time.process_time() - start, 1e-6)))
        times: dict[str, list[float]] = {"bypass": [], "off": [], "nans": []}
        for _ in range(rounds):
            for config in times:
                configure(config)
                start = time.process_time()
                for _ in range(number):
                    run()
                times[config].append((time.process_time() - start) / number * 1e6)
        configure("off")
        cells = []
        for config, ts in times.items():
            ratio = statistics.median(t / b for t, b in zip(ts, times["bypass"]))
            cells.append(f"{config} {harness.fmt_us(statistics.median(ts))} us {ratio:.2f}x")
        print(f"  {case:<12} " + ", ".join(cells))


def main(argv: list[str]) -> int:
    if "--alternate" in argv:
        alternate("--quick" in argv)
        return 0
    if "--worker" in argv:
        return harness.main(SUITE, argv)
    rev = DEFAULT_BASELINE
    if "--baseline" in argv:
        k = argv.index("--baseline")
        rev = argv[k + 1]
        argv = argv[:k] + argv[k + 2:]
    suite = SUITE
    try:
        os.environ[BASELINE_ENV] = _baseline_src(rev)
    except (OSError, subprocess.CalledProcessError) as err:
        print(f"note: the 'before' rows are skipped: no commit {rev} to extract ({err})")
        suite = dataclasses.replace(SUITE, impls=SUITE.impls[:-1])
    else:
        print(f"baseline ('before'): {rev} = "
              + subprocess.run(["git", "log", "-1", "--format=%h %s", rev], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()[:90])
    status = harness.main(suite, argv)
    print()
    env = harness.child_env(1)
    alt = subprocess.run([sys.executable, str(SUITE.script), "--alternate"]
                         + (["--quick"] if "--quick" in argv else []),
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    print(alt.stdout.rstrip() or f"alternating run failed: {alt.stderr.strip()[-300:]}")
    return status or alt.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
