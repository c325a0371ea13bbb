"""Write tests/random_jax_expected.py: JAX's outputs for tests/test_random_jax_bits.py.

Optional: needs JAX (with x64); without it, it says so and exits. Run from the
repository root:  python benchmarks/gen_random_jax_bits.py
It also prints, for every case, how far nanojax's numbers are from JAX's (ulps).
"""

from __future__ import annotations

import os
import pprint
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> int:
    try:
        import jax
    except ImportError:
        print("gen_random_jax_bits: JAX is not installed; nothing to do")
        return 0
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jjnp
    import jax.random as jr
    sys.path.insert(0, ROOT)
    sys.path.insert(0, os.path.join(ROOT, "src"))
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "cases", os.path.join(ROOT, "tests", "random_jax_cases.py"))
    path = os.path.join(ROOT, "tests", "random_jax_expected.py")
    cases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cases)
    import nanojax.numpy as njnp
    import nanojax.random as nr
    lines = ['"""JAX 0.10 (x64) outputs for tests/test_random_jax_bits.py.',
             "",
             (f"Written by benchmarks/gen_random_jax_bits.py with jax {jax.__version__}; "
              'do not edit by hand."""'), ""]
    expected = {}
    for name, expr, ulps in cases.CASES:
        want = cases.evaluate(expr, jr, jjnp)
        expected[name] = (str(want.dtype), want.shape, _values(want))
        got = cases.evaluate(expr, nr, njnp)
        if got.shape != want.shape or got.dtype != want.dtype:
            status = f"MISMATCH shape/dtype {got.dtype}{got.shape} vs {want.dtype}{want.shape}"
        elif want.dtype.kind == "f":
            diff = np.abs(got.astype(np.float64) - want) / np.spacing(np.abs(want))
            diff = np.where(got == want, 0, diff)
            status = f"max {float(diff.max()) if diff.size else 0:.0f} ulp (allowed {ulps})"
        else:
            status = "equal" if (got == want).all() else "DIFFERENT"
        print(f"{name:28s} {status}")
    lines.append("EXPECTED: dict = " + pprint.pformat(expected, width=99, compact=True,
                                                      sort_dicts=False))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", path)
    return 0


def _values(a: np.ndarray) -> list:
    kind = {"f": float, "b": bool}.get(a.dtype.kind, int)
    return [kind(v) for v in a.ravel()]


if __name__ == "__main__":
    sys.exit(main())
