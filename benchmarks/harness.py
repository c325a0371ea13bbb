"""The driver the side-by-side benchmarks share: one process per implementation, medians.

A benchmark script describes itself as a ``Suite`` (its cases, its
implementations, a function making one timed call and its reference) and
ends with ``sys.exit(harness.main(SUITE))``. The driver spawns
``<script> --worker CASE IMPL`` once for every (case, implementation), with
glibc's default malloc (no ``MALLOC_*``, ``GLIBC_TUNABLES`` or
``LD_PRELOAD`` in the child's environment) and ``--blas-threads`` BLAS
threads (default 1: ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` and
``MKL_NUM_THREADS``). The worker builds seeded data, checks the
implementation against the reference (``np.allclose``), calls it 3 times to
warm up, and reports the median and minimum of 7 runs, each looping the call
for about 0.1 s. Every worker runs ``--rounds`` times (default 3), one after
another, and the table shows the median over rounds, with each median's ratio
to the limit's (the first implementation). A missed goal is reported, not an
error; a failed check exits with status 1. A worker may also report extra
numbers (``Suite.extra``), printed below the table.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
REPEAT, RUN_SECONDS, WARMUP_CALLS = 7, 0.1, 3
BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


class CheckFailed(Exception):
    pass


@dataclasses.dataclass
class Suite:
    """What a benchmark script measures.

    ``implementation(impl, case, quick) -> (run, reference)``: one timed call
    and the limit's result to check it against. ``optional``: implementations
    needing a module that may be missing (impl -> module name). ``goal``: the
    largest ratio wanted for nanojax's rows. ``extra(impl, case, quick)``:
    more numbers for the notes (a dict of name -> text), or None. ``skip``:
    (case, impl) pairs not worth running.
    """

    title: str
    script: Path
    cases: tuple[str, ...]
    impls: tuple[str, ...]
    labels: dict[str, str]
    implementation: Callable[[str, str, bool], tuple[Callable[[], Any], Callable[[], Any]]]
    goal: float
    notes: tuple[str, ...] = ()
    quick_cases: tuple[str, ...] = ()
    optional: dict[str, str] = dataclasses.field(default_factory=dict)
    extra: Callable[[str, str, bool], dict | None] | None = None
    rtol: float = 1e-9
    skip: frozenset = frozenset()      # (case, impl) pairs not run
    goal_for: tuple[str, ...] | None = None     # the rows the goal is for (None: all ours)


def leaves(tree: Any) -> list:
    if isinstance(tree, (tuple, list)):
        return [leaf for t in tree for leaf in leaves(t)]
    if isinstance(tree, dict):
        return [leaf for k in sorted(tree) for leaf in leaves(tree[k])]
    return [np.asarray(tree)]


def blas_threads() -> str:
    try:
        import threadpoolctl
    except ImportError:
        return f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')} (OPENBLAS_NUM_THREADS)"
    counts = [p["num_threads"] for p in threadpoolctl.threadpool_info()
              if p.get("user_api") == "blas"]
    return f"{max(counts) if counts else 'unknown'} (threadpoolctl)"


def worker(suite: Suite, case: str, impl: str, quick: bool) -> int:
    try:
        run, reference = suite.implementation(impl, case, quick)
        got, want = leaves(run()), leaves(reference())
        if len(got) != len(want) or not all(
                g.shape == e.shape and np.allclose(g, e, rtol=suite.rtol, atol=suite.rtol)
                for g, e in zip(got, want)):
            raise CheckFailed(f"{case}: {suite.labels[impl]} differs from "
                              f"{suite.labels[suite.impls[0]]}")
        for _ in range(0 if quick else WARMUP_CALLS):
            run()
        number = 1
        if not quick:
            start = time.perf_counter()
            run()
            number = max(1, round(RUN_SECONDS / max(time.perf_counter() - start, 1e-9)))
        runs = []
        for _ in range(1 if quick else REPEAT):
            start = time.perf_counter()
            for _ in range(number):
                run()
            runs.append((time.perf_counter() - start) / number * 1e6)
        result: dict = {"median_us": statistics.median(runs), "min_us": min(runs),
                        "blas": blas_threads()}
        if suite.extra is not None:
            result["extra"] = suite.extra(impl, case, quick)
    except CheckFailed as err:
        result = {"failed": str(err)}
    except Exception as err:  # noqa: BLE001 - reported by the driver
        result = {"crashed": f"{type(err).__name__}: {err}"}
    print(json.dumps(result))
    return 0


def child_env(blas: int) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith("MALLOC_") or k in ("GLIBC_TUNABLES", "LD_PRELOAD"))}
    for name in BLAS_THREAD_VARS:
        env[name] = str(blas)
    src = str(ROOT / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def spawn(suite: Suite, case: str, impl: str, quick: bool, env: dict) -> dict:
    cmd = [sys.executable, str(suite.script), "--worker", case, impl] + (
        ["--quick"] if quick else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"crashed": (proc.stderr.strip().splitlines() or ["no output"])[-1]}


def fmt_us(us: float) -> str:
    return f"{us:.0f}" if us >= 100 else f"{us:.1f}"


def main(suite: Suite, argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=suite.title)
    p.add_argument("--quick", action="store_true", help="small size, one run of one call")
    p.add_argument("--rounds", type=int, default=3, help="processes per worker (median)")
    p.add_argument("--blas-threads", type=int, default=1, metavar="N")
    p.add_argument("--worker", nargs=2, metavar=("CASE", "IMPL"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker(suite, *args.worker, args.quick)

    cases = [c for c in suite.cases if not args.quick or c in suite.quick_cases]
    impls = [i for i in suite.impls if i not in suite.optional or available(suite.optional[i])]
    rounds = 1 if args.quick else args.rounds
    env = child_env(args.blas_threads)
    results: dict[tuple[str, str], list[dict]] = {}
    for _ in range(rounds):                       # rounds interleave the processes
        for case in cases:
            for impl in impls:
                if (case, impl) not in suite.skip:
                    results.setdefault((case, impl), []).append(spawn(suite, case, impl,
                                                                      args.quick, env))

    failures, notes, rows = [], [], []
    blas = sorted({r["blas"] for rs in results.values() for r in rs if "blas" in r})
    limit = suite.impls[0]
    for case in cases:
        medians = {}
        for impl in impls:
            if (case, impl) in suite.skip:
                continue
            rs = results[(case, impl)]
            bad = next((r for r in rs if "failed" in r or "crashed" in r), None)
            if bad is not None:
                text = bad.get("failed") or bad["crashed"]
                (notes if impl in suite.optional and "crashed" in bad else failures).append(
                    f"{case} {suite.labels[impl]}: {text}")
                continue
            medians[impl] = (statistics.median(r["median_us"] for r in rs),
                             statistics.median(r["min_us"] for r in rs))
            for name, text in (rs[0].get("extra") or {}).items():
                notes.append(f"{case} {suite.labels[impl]}: {name}: {text}")
        base = medians.get(limit, (float("nan"),))[0]
        for impl, (median, low) in medians.items():
            ratio = median / base
            ours = impl != limit and impl not in suite.optional
            goal = "" if not ours or (suite.goal_for is not None
                                      and impl not in suite.goal_for) else (
                f"<= {suite.goal:.1f}x " + ("ok" if ratio <= suite.goal else "MISSED"))
            rows.append((case, suite.labels[impl], fmt_us(median), fmt_us(low), f"{ratio:.2f}x",
                         goal))

    mode = ("quick smoke run, 1 run of 1 call: timings are not meaningful" if args.quick else
            f"median of {REPEAT} runs per process, median over {rounds} processes")
    print(f"{suite.title}: python {platform.python_version()}, numpy {np.__version__}, "
          f"BLAS threads: {', '.join(blas) or 'unknown'}, glibc default malloc, {mode}, "
          "each implementation in its own process\n")
    for case in cases:
        print(f"check: {case}: every implementation matches {suite.labels[limit]} (np.allclose)"
              if not any(f.startswith(case + " ") for f in failures) else f"check: {case}: FAILED")
    print()
    titles = ("case", "implementation", "median us", "min us", "ratio", "goal")
    widths = [max(len(r[i]) for r in rows + [titles]) for i in range(len(titles))]
    for n, row in enumerate([titles] + rows):
        print("  ".join(c.ljust(wd) for c, wd in zip(row, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * wd for wd in widths))
    print()
    for impl, module in suite.optional.items():
        if not available(module):
            print(f"note: {module} is not installed: the {suite.labels[impl]} rows are skipped "
                  f"(pip install {module})")
    for note in (*suite.notes, *notes):
        print(f"note: {note}")
    for failure in failures:
        print(f"FAILED {failure}")
    return 1 if failures else 0
