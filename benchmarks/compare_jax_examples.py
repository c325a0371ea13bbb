"""Optional: do JAX's mnist examples give JAX's numbers under nanojax?

Runs the copies of JAX's ``examples/mnist_classifier.py`` and ``mnist_vae.py``
in tests/jax_examples/ twice, each time in a process of its own: once as they
are (nanojax) and once with their imports turned back to ``jax`` (JAX with
``jax_enable_x64``, since nanojax computes in float64 as NumPy does). Both
read the same synthetic stand-in for MNIST. Prints, per example, how far the
numbers the program prints (accuracies, test ELBOs) and its final parameters
are apart. Needs JAX; says so and exits without it.

    python benchmarks/compare_jax_examples.py [--num-train N] [--epochs-vae E]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "tests" / "jax_examples"

# Run in the child: the example as __main__, then its final parameters saved.
_CHILD = r"""
import os, runpy, sys
import numpy as np
sys.path.insert(0, {examples!r})
import synthetic_datasets
synthetic_datasets.NUM_TRAIN = {num_train}
if {use_jax}:
    import jax
    jax.config.update("jax_enable_x64", True)
    from jax import tree_util
else:
    sys.path.insert(0, {src!r})
    from nanojax import tree_util
scope = runpy.run_path({script!r}, run_name="__main__")
leaves = tree_util.tree_leaves(scope["get_params"](scope["opt_state"]))
np.savez({out!r}, *[np.asarray(leaf) for leaf in leaves])
"""


def _as_jax(source: str) -> str:
    """The example's source with its nanojax imports turned back into JAX's."""
    return re.sub(r"\bnanojax\b", "jax", source)


def run(name: str, use_jax: bool, num_train: int, epochs: int | None,
        workdir: Path) -> tuple[list[float], list[np.ndarray]]:
    """The numbers ``name`` prints, and its final parameters, from a fresh process."""
    source = (EXAMPLES / name).read_text()
    if use_jax:
        source = _as_jax(source)
    if epochs is not None:
        source = re.sub(r"num_epochs = \d+", f"num_epochs = {epochs}", source)
    tag = "jax" if use_jax else "nanojax"
    script = workdir / f"{tag}_{name}"
    script.write_text(source)
    out = workdir / f"{tag}_{name}.npz"
    child = _CHILD.format(examples=str(EXAMPLES), num_train=num_train, use_jax=use_jax,
                          src=str(ROOT / "src"), script=str(script), out=str(out))
    env = dict(os.environ, TMPDIR=str(workdir))
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                          env=env, check=False)
    if done.returncode:
        raise SystemExit(f"{name} under {tag} failed:\n{done.stderr[-2000:]}")
    # Accuracies ("Training set accuracy 0.5") and ELBOs ("  3 -512.25 (0.1 sec)").
    numbers = [float(v) for v in re.findall(
        r"accuracy (\S+)|^\s*\d+ (\S+) \(", done.stdout, re.MULTILINE) for v in v if v]
    with np.load(out) as saved:
        params = [saved[k] for k in saved.files]
    return numbers, params


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(a))), 1e-300))


def compare(name: str, num_train: int, epochs: int | None, workdir: Path) -> dict:
    jax_numbers, jax_params = run(name, True, num_train, epochs, workdir)
    nj_numbers, nj_params = run(name, False, num_train, epochs, workdir)
    assert len(jax_numbers) == len(nj_numbers) and len(jax_params) == len(nj_params)
    worst_printed = _relative(np.array(jax_numbers), np.array(nj_numbers))
    return {"example": name, "printed": len(jax_numbers),
            "printed_identical": jax_numbers == nj_numbers,
            "printed_max_rel_diff": worst_printed,
            "first": (jax_numbers[0], nj_numbers[0]), "last": (jax_numbers[-1], nj_numbers[-1]),
            "param_leaves": len(jax_params),
            "params_max_rel_diff": max(_relative(a, b) for a, b in zip(jax_params, nj_params))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-train", type=int, default=128)
    parser.add_argument("--epochs-vae", type=int, default=100)
    args = parser.parse_args()
    if importlib.util.find_spec("jax") is None:
        print("compare_jax_examples: JAX is not installed; nothing to compare")
        return 0
    import jax
    print(f"JAX {jax.__version__} (x64) against nanojax, {args.num_train} synthetic training "
          "images, each run in a process of its own")
    with tempfile.TemporaryDirectory() as tmp:
        for name, epochs in (("mnist_classifier.py", None), ("mnist_vae.py", args.epochs_vae)):
            print(json.dumps(compare(name, args.num_train, epochs, Path(tmp))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
