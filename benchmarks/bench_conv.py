"""How close is lax.conv_general_dilated to a hand-written NumPy im2col convolution?

Run from the repository root::

    .venv/bin/python benchmarks/bench_conv.py            # about a minute
    .venv/bin/python benchmarks/bench_conv.py --quick    # a smoke run (tests use it)

The shared driver (``harness.py``) spawns ``bench_conv.py --worker CASE
IMPL`` once for every (case, implementation), with glibc's default malloc
(no ``MALLOC_*``, ``GLIBC_TUNABLES`` or ``LD_PRELOAD`` in the child's
environment) and ``--blas-threads`` BLAS threads (default 1:
``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` and ``MKL_NUM_THREADS``). The
worker builds seeded data, checks the implementation against the hand
version (``np.allclose``), calls it 3 times to warm up, and reports the
median and minimum of 7 runs, each looping the call for about 0.1 s. Every
worker runs ``--rounds`` times (default 3), one after another, and the table
shows the median over rounds.

Cases, each a 3x3 convolution with SAME padding, stride 1, NHWC/HWIO layout,
float64, at two sizes (``small``: 8 images of 16x16, 8 to 16 channels;
``medium``: 32 images of 32x32, 16 to 32 channels):

1. ``fwd``: the convolution. The hand version pads the input, copies the
   nine shifted views into a patch matrix (im2col) and does one matmul:
   the limit for NumPy. nanojax eager and ``jit``; JAX ``jit``.
2. ``grad``: the value and both gradients of ``sum(conv(x, w) * ct)``. The
   hand version is the forward above, then ``dw = cols.T @ ct`` and
   ``dcols = ct @ w.T`` folded back onto the padded input (col2im, nine
   slice additions). nanojax: eager ``value_and_grad``, and under ``jit``.

The goal: nanojax within 2x of the hand version (ratio <= 2.0); a missed
goal is reported, not an error. A failed check exits with status 1.
Nothing runs on import.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

SCRIPT = Path(__file__).resolve()
sys.path.insert(0, str(SCRIPT.parent))
import harness  # noqa: E402  (benchmarks/harness.py: the shared driver)

SIZES = {"small": (8, 16, 16, 8, 16), "medium": (32, 32, 32, 16, 32)}   # N, H, W, C, O
CASES = tuple(f"{kind}_{size}" for size in SIZES for kind in ("fwd", "grad"))
IMPLS = ("hand", "nanojax_eager", "nanojax_jit", "jax_jit")
LABELS = {"hand": "hand NumPy im2col", "nanojax_eager": "nanojax eager",
          "nanojax_jit": "nanojax jit", "jax_jit": "jax jit"}
LAYOUT = ("NHWC", "HWIO", "NHWC")
GOAL = 2.0


# ----- The hand-written limit ------------------------------------------------------

def hand_patches(x: np.ndarray, k: int) -> np.ndarray:
    """im2col for a k x k SAME window: (N, H, W, k, k, C), from nine shifted slices."""
    n, h, w, c = x.shape
    lo = (k - 1) // 2
    padded = np.zeros((n, h + k - 1, w + k - 1, c))
    padded[:, lo:lo + h, lo:lo + w] = x
    cols = np.empty((n, h, w, k, k, c))
    for i in range(k):
        for j in range(k):
            cols[:, :, :, i, j, :] = padded[:, i:i + h, j:j + w, :]
    return cols


def hand_fwd(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    n, h, wd, c = x.shape
    k, o = w.shape[0], w.shape[-1]
    cols = hand_patches(x, k)
    return (cols.reshape(n * h * wd, k * k * c) @ w.reshape(k * k * c, o)).reshape(n, h, wd, o)


def hand_grad(x: np.ndarray, w: np.ndarray, ct: np.ndarray) -> tuple:
    n, h, wd, c = x.shape
    k, o = w.shape[0], w.shape[-1]
    lo = (k - 1) // 2
    cols = hand_patches(x, k).reshape(n * h * wd, k * k * c)
    out = cols @ w.reshape(k * k * c, o)
    ct2 = ct.reshape(n * h * wd, o)
    value = float(np.sum(out * ct2))
    dw = (cols.T @ ct2).reshape(w.shape)
    dcols = (ct2 @ w.reshape(k * k * c, o).T).reshape(n, h, wd, k, k, c)
    dpadded = np.zeros((n, h + k - 1, wd + k - 1, c))
    for i in range(k):
        for j in range(k):
            dpadded[:, i:i + h, j:j + wd, :] += dcols[:, :, :, i, j, :]
    return value, (dpadded[:, lo:lo + h, lo:lo + wd], dw)


# ----- The implementations -----------------------------------------------------------

def data(size: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, h, w, c, o = SIZES[size]
    rng = np.random.default_rng(0)
    return (rng.standard_normal((n, h, w, c)), rng.standard_normal((3, 3, c, o)) / 12,
            rng.standard_normal((n, h, w, o)))


def make(lib: Any, lax: Any, jnp: Any, kind: str, jit: bool) -> Callable:
    def conv(x: Any, w: Any) -> Any:
        return lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=LAYOUT)
    if kind == "fwd":
        fn: Callable = conv
    else:
        def loss(x: Any, w: Any, ct: Any) -> Any:
            return jnp.sum(conv(x, w) * ct)
        fn = lib.value_and_grad(loss, argnums=(0, 1))
    return lib.jit(fn) if jit else fn


def implementation(impl: str, case: str, quick: bool = False
                   ) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """(one timed call, the hand version's result to check it against)."""
    kind, size = case.split("_")
    x, w, ct = data(size)
    args = (x, w) if kind == "fwd" else (x, w, ct)
    hand: Callable = hand_fwd if kind == "fwd" else hand_grad
    if impl == "hand":
        return (lambda: hand(*args)), (lambda: hand(*args))
    if impl.startswith("nanojax"):
        import nanojax
        import nanojax.numpy
        fn = make(nanojax, nanojax.lax, nanojax.numpy, kind, impl == "nanojax_jit")
        return (lambda: fn(*args)), (lambda: hand(*args))
    import jax
    jax.config.update("jax_enable_x64", True)
    fn = make(jax, jax.lax, jax.numpy, kind, True)
    on_device = tuple(jax.numpy.asarray(a) for a in args)
    return (lambda: jax.block_until_ready(fn(*on_device))), (lambda: hand(*args))


SUITE = harness.Suite(
    title="nanojax conv benchmark", script=SCRIPT, cases=CASES, impls=IMPLS, labels=LABELS,
    implementation=implementation, goal=GOAL,
    quick_cases=tuple(c for c in CASES if c.endswith("small")), optional={"jax_jit": "jax"},
    notes=(("ratio: median / the hand im2col version's median, same case; fwd: 3x3 SAME conv, "
            "NHWC/HWIO, float64; grad: value and both gradients"),
           *(f"{name}: {n} images of {h}x{w}, {c} to {o} channels"
             for name, (n, h, w, c, o) in SIZES.items())))


if __name__ == "__main__":
    sys.exit(harness.main(SUITE))
