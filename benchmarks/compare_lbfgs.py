"""Optional: nanojax.optim.lbfgs against scipy's L-BFGS-B and BFGS, and against optax's lbfgs.

On optax's test problems, from optax's starting points, each solver runs until
the gradient's 2-norm is below ``--tol``. Prints, per problem and solver, the
iterations, the objective evaluations (each one a value and a gradient), the
distance to the known minimiser and the time (the stopping test's gradient
included; the objectives jitted and traced beforehand). With JAX and optax
importable (``jax_enable_x64`` on, as nanojax computes in float64), it runs optax's
lbfgs step by step beside nanojax's and prints how far apart their iterates get
and whether their line searches took the same number of steps. Needs scipy;
says so and exits without it.

    PYTHONPATH=src /tmp/w/benchvenv/bin/python benchmarks/compare_lbfgs.py [--tol 1e-8]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# Times are taken with one BLAS thread unless the caller sets it (two-thread matmul
# timings on a loaded 2-core machine are bimodal); set before NumPy loads its BLAS.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

try:
    import scipy.optimize as scipy_optimize
except ImportError:
    print("compare_lbfgs: scipy is not installed; nothing to compare against")
    sys.exit(0)

import nanojax as nj  # noqa: E402
import nanojax.numpy as jnp  # noqa: E402
from nanojax import optim  # noqa: E402


def _rosenbrock(x, xnp):
    return xnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def _himmelblau(p, xnp):
    return (p[0] ** 2 + p[1] - 11.0) ** 2 + (p[0] + p[1] ** 2 - 7.0) ** 2


def _matyas(p, xnp):
    return 0.26 * (p[0] ** 2 + p[1] ** 2) - 0.48 * p[0] * p[1]


def _zakharov(x, xnp):
    ii = xnp.arange(1, x.shape[0] + 1, dtype=x.dtype)
    s2 = xnp.sum(0.5 * ii * x)
    return xnp.sum(x ** 2) + s2 ** 2 + s2 ** 4


def _steep(x, xnp):
    return xnp.mean((1e4 * x) ** 2)


# name: (objective written for any NumPy-like module, start, minimiser)
PROBLEMS = {
    "rosenbrock-2": (_rosenbrock, np.zeros(2), np.ones(2)),
    "rosenbrock-10": (_rosenbrock, np.zeros(10), np.ones(10)),
    "himmelblau": (_himmelblau, np.ones(2), np.array([3.0, 2.0])),
    "matyas": (_matyas, np.ones(2) * 6.0, np.zeros(2)),
    "zakharov": (_zakharov, np.array([600.0, 700.0, 200.0, 100.0, 90.0, 1e3]), np.zeros(6)),
    "steep": (_steep, np.ones(2), np.zeros(2)),
}


def run_nanojax(fun, x0, tol, maxiter=500):
    opt = optim.lbfgs()
    value_and_grad = optim.value_and_grad_from_state(fun)

    @nj.jit
    def step(params, state):
        value, grad = value_and_grad(params, state=state)
        updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=fun)
        return optim.apply_updates(params, updates), state

    grad = nj.jit(nj.grad(fun))
    params, state = x0, opt.init(x0)
    step(params, state), grad(x0)            # trace once, outside the timing
    start = time.perf_counter()
    evaluations, path, searches = 1, [], []
    while len(path) < maxiter:
        params, state = step(params, state)
        path.append(np.asarray(params))
        searches.append(int(state[-1].info.num_linesearch_steps))
        evaluations += searches[-1]
        if np.linalg.norm(grad(params)) < tol:
            break
    return params, len(path), evaluations, time.perf_counter() - start, path, searches


def run_scipy(fun, x0, tol, method):
    value_and_grad = nj.jit(nj.value_and_grad(fun))
    value_and_grad(x0)                       # trace once, outside the timing

    def objective(x):
        v, g = value_and_grad(x)
        return float(v), np.asarray(g, float)

    def stop(intermediate_result):
        if np.linalg.norm(objective(intermediate_result.x)[1]) < tol:
            raise StopIteration
    options = {"maxiter": 500, "gtol": 0.0}
    if method == "L-BFGS-B":
        options.update(maxcor=10, ftol=0.0)
    start = time.perf_counter()
    res = scipy_optimize.minimize(objective, x0, jac=True, method=method, callback=stop,
                                  options=options)
    return res.x, res.nit, res.nfev, time.perf_counter() - start


def run_optax(name, tol, steps):
    """optax's lbfgs iterates and line-search step counts, or None without JAX/optax."""
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jjnp
        import optax
    except ImportError:
        return None
    make, x0, _ = PROBLEMS[name]
    fun = lambda x: make(x, jjnp)    # noqa: E731
    opt = optax.lbfgs()
    value_and_grad = optax.value_and_grad_from_state(fun)

    @jax.jit
    def step(params, state):
        value, grad = value_and_grad(params, state=state)
        updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=fun)
        return optax.apply_updates(params, updates), state

    params, state = jjnp.asarray(x0), opt.init(jjnp.asarray(x0))
    path, searches = [], []
    for _ in range(steps):
        params, state = step(params, state)
        path.append(np.asarray(params))
        searches.append(int(state[-1].info.num_linesearch_steps))
    return path, searches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tol", type=float, default=1e-8)
    args = parser.parse_args()
    tuned = [v for v in os.environ if v.startswith("MALLOC_") or v in ("GLIBC_TUNABLES",
                                                                      "LD_PRELOAD")]
    allocator = f"allocator settings {tuned}" if tuned else "glibc default malloc"
    print(f"gradient norm tolerance {args.tol:g}; evals = value-and-gradient evaluations; "
          f"BLAS threads: {harness.blas_threads()}, {allocator}, all solvers in this one "
          "process")
    print(f"{'problem':<14} {'solver':<16} {'iters':>5} {'evals':>5} {'|x - x*|':>9} "
          f"{'time':>8}")
    for name, (make, x0, minimiser) in PROBLEMS.items():
        fun = lambda x, make=make: make(x, jnp)    # noqa: E731
        x, it, evals, secs, path, searches = run_nanojax(fun, x0, args.tol)
        rows = [("nanojax lbfgs", x, it, evals, secs)]
        for method in ("L-BFGS-B", "BFGS"):
            rows.append((f"scipy {method}", *run_scipy(fun, x0, args.tol, method)))
        for solver, x, it, evals, secs in rows:
            error = np.abs(np.asarray(x) - minimiser).max()
            print(f"{name:<14} {solver:<16} {it:>5} {evals:>5} {error:>9.1e} "
                  f"{secs * 1e3:>6.1f}ms")
        theirs = run_optax(name, args.tol, len(path))
        if theirs is not None:
            gap = max(np.abs(a - b).max() for a, b in zip(path, theirs[0]))
            same = "same" if searches == theirs[1] else "DIFFERENT"
            print(f"{name:<14} {'vs optax lbfgs':<16} iterates within {gap:.1e}, "
                  f"line-search steps {same}")


if __name__ == "__main__":
    main()
