"""Chapter 1's circuits drawn as the guide draws them, with nj.circuit(f)(...).svg().

Each circuit is recorded once at the chapter's numbers; its SVG shows every
gate as a box and every wire with its value above (black) and its pull, the
gradient of the output with respect to that wire, below (red). No
matplotlib and no Graphviz: the SVG is written by nanojax itself, so this
runs with the plain install. These are the pictures in docs/chapter1.md:

    .venv/bin/python examples/draw_circuits.py --out docs/images
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

import nanojax as nj
import nanojax.numpy as jnp
from nanojax.circuit import format_value


def multiply_gate(x, y):
    return x * y


def forward_circuit(x, y, z):
    q = x + y
    f = q * z
    return f


def neuron(a, b, c, x, y):
    return nj.nn.sigmoid(a * x + b * y + c)


def square(a):
    return a * a


def squared_product(a, b, c, d):
    return ((a * b + c) * d) ** 2


def maximum(a, b):
    return jnp.maximum(a, b)


# file name -> (the circuit, the chapter's numbers)
CIRCUITS: dict[str, tuple[Callable, tuple[float, ...]]] = {
    "circuit_multiply_gate.svg": (multiply_gate, (-2.0, 3.0)),
    "circuit_forward_circuit.svg": (forward_circuit, (-2.0, 5.0, -4.0)),
    "circuit_neuron.svg": (neuron, (1.0, 2.0, -3.0, -1.0, 3.0)),
    "circuit_square.svg": (square, (3.0,)),
    "circuit_squared_product.svg": (squared_product, (3.0, -2.0, 1.0, 2.0)),
    "circuit_max.svg": (maximum, (3.0, -2.0)),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=0, help="unused: nothing is trained")
    parser.add_argument("--out", default=".", help="directory for the pictures")
    opts = parser.parse_args(argv)
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, (fun, args) in CIRCUITS.items():
        c = nj.circuit(fun)(*args)
        (out / name).write_text(c.svg())
        inputs = [w for w in c.wires if w.gate == "input"]
        pulls = ", ".join(f"{w.name} {format_value(w.grad)}" for w in inputs)
        print(f"saved {out / name}: output {format_value(c.output)}; pulls on the inputs {pulls}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
