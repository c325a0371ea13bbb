"""The tour that ``python -m nanojax`` runs: the guide's Chapter 1, live.

Each section is a small function registered with ``@section(name, title)``
in ``SECTIONS``, an ordered dict; ``--section NAME`` runs one of them, and
later chapters (the SVM, the 2-layer net, loss functions) join by adding
theirs. Every number printed is computed on the spot, and deterministically:
the only randomness is a seeded NumPy generator.
"""

from __future__ import annotations

import argparse
from typing import Callable, NamedTuple, Sequence

import numpy as np

import nanojax as nj
import nanojax.numpy as jnp

__all__ = ["SECTIONS", "section", "main"]

LABEL = 30          # width of the label column


class Section(NamedTuple):
    name: str
    title: str
    run: Callable[[], None]


SECTIONS: dict[str, Section] = {}


def section(name: str, title: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Register a tour section; sections run in the order they are defined."""
    def register(fn: Callable[[], None]) -> Callable[[], None]:
        SECTIONS[name] = Section(name, title, fn)
        return fn
    return register


# ----- Printing helpers ------------------------------------------------------

def _header(sec: Section) -> None:
    print(f"\n== {sec.name}: {sec.title} ==")


def _row(label: str, text: str) -> None:
    print(f"  {label:<{LABEL}}{text}")


def _vec(values: Sequence[float], fmt: str = "7.4f") -> str:
    return "[" + ", ".join(f"{float(v):{fmt}}" for v in values) + "]"


def _compact(values: Sequence[float]) -> str:
    return "[" + ", ".join(f"{float(v):.4g}" for v in values) + "]"


def _jaxpr(fun: Callable, *args: float) -> None:
    for line in str(nj.make_jaxpr(fun)(*args)).splitlines():
        print(f"    {line}")


def _max_diff(analytic: Sequence[float], numerical: Sequence[float]) -> float:
    return float(np.max(np.abs(np.subtract(analytic, numerical))))


def _checked(fun: Callable, args: Sequence[float]) -> tuple[tuple, float]:
    """``nj.grad`` in every argument, and its largest gap to central differences."""
    argnums = tuple(range(len(args)))
    analytic = nj.grad(fun, argnums=argnums)(*args)
    numerical = nj.numerical_grad(fun, argnums=argnums)(*args)
    return analytic, _max_diff(analytic, numerical)


# ----- Chapter 1: real-valued circuits -----------------------------------------

def multiply_gate(x, y):
    return x * y


@section("gate", "a single gate, f(x, y) = x * y, and three ways to pull it up")
def _gate() -> None:
    x, y = -2.0, 3.0
    _row("forward", f"x, y = -2, 3  ->  f = {multiply_gate(x, y):g}")

    rng = np.random.default_rng(0)
    tweak, best = 0.01, (-np.inf, x, y)
    for _ in range(100):
        x_try = x + tweak * (rng.random() * 2 - 1)
        y_try = y + tweak * (rng.random() * 2 - 1)
        best = max(best, (multiply_gate(x_try, y_try), x_try, y_try))   # by output
    out, bx, by = best
    _row("#1 random search, 100 tries", f"x = {bx:.4f}, y = {by:.4f}, f = {out:.4f}")

    numerical = nj.numerical_grad(multiply_gate, argnums=(0, 1), eps=1e-4,
                                  method="forward")(x, y)
    _row("#2 numerical gradient", f"{_vec(numerical)}  forward difference, h = 1e-4")
    analytic = nj.grad(multiply_gate, argnums=(0, 1))(x, y)
    _row("#3 analytic gradient", f"{_vec(analytic)}  nj.grad: exactly [y, x]")
    x, y = x + 0.01 * analytic[0], y + 0.01 * analytic[1]
    _row("one step of 0.01", f"x = {x:.2f}, y = {y:.2f}")
    _row("forward again", f"f = {multiply_gate(x, y):.2f}  (up from -6)")


def forward_circuit(x, y, z):
    q = x + y
    return q * z


@section("circuit", "two gates, f(x, y, z) = (x + y) * z, and backprop")
def _circuit() -> None:
    x, y, z = -2.0, 5.0, -4.0
    print("  recorded by nj.make_jaxpr:")
    _jaxpr(forward_circuit, x, y, z)
    _row("forward", f"x, y, z = -2, 5, -4  ->  q = {x + y:g}, f = {forward_circuit(x, y, z):g}")
    grads, diff = _checked(forward_circuit, (x, y, z))
    _row("gradient [dx, dy, dz]", _vec(grads))
    _row("", f"max |diff| to numerical {diff:.1e}")
    x, y, z = (v + 0.01 * g for v, g in zip((x, y, z), grads))
    _row("one step of 0.01", f"x = {x:.2f}, y = {y:.2f}, z = {z:.2f}")
    _row("forward again", f"q = {x + y:.2f}, f = {forward_circuit(x, y, z):.2f}  (up from -12)")


def neuron(a, b, c, x, y):
    return nj.nn.sigmoid(a * x + b * y + c)


@section("neuron", "a single neuron, f = sigmoid(a*x + b*y + c)")
def _neuron() -> None:
    params = (1.0, 2.0, -3.0, -1.0, 3.0)
    print("  recorded by nj.make_jaxpr (sigmoid is one gate, logistic):")
    _jaxpr(neuron, *params)
    _row("forward", f"a, b, c, x, y = 1, 2, -3, -1, 3  ->  f = {neuron(*params):.4f}")
    grads, diff = _checked(neuron, params)
    _row("gradient [da,db,dc,dx,dy]", _vec(grads, "7.3f"))
    _row("", f"max |diff| to numerical {diff:.1e}")
    stepped = [v + 0.01 * g for v, g in zip(params, grads)]
    _row("one step of 0.01", f"f = {neuron(*stepped):.5f}  (up from {neuron(*params):.5f})")
    sig = nj.nn.sigmoid
    _row("sigmoid at -5, 0, 5", ", ".join(f"{sig(v):.4f}" for v in (-5.0, 0.0, 5.0)))
    s, ds = sig(3.0), nj.grad(sig)(3.0)
    _row("sigmoid at 3, s(1 - s)", f"{s:.4f}, {ds:.4f}")
    _row("", f"(the guide rounds s to 0.95 first: {0.95 * (1 - 0.95):.4f})")


@section("ninja", "becoming a backprop ninja: local gradients, chained")
def _ninja() -> None:
    a, b, c, d = 3.0, -2.0, 1.0, 2.0
    print(f"  at a={a:g}, b={b:g}, c={c:g}, d={d:g}; nj.grad against central differences")
    _row("circuit", f"{'gradient (nj.grad)':<37}max |diff|")
    circuits = [
        ("a * a", lambda a: a * a, (a,)),
        ("a*a + b*b + c*c", lambda a, b, c: a * a + b * b + c * c, (a, b, c)),
        ("((a*b + c) * d)**2", lambda a, b, c, d: ((a * b + c) * d) ** 2, (a, b, c, d)),
        ("1 / a", lambda a: 1.0 / a, (a,)),
        ("(a + b) / (c + d)", lambda a, b, c, d: (a + b) / (c + d), (a, b, c, d)),
        ("max(a, b)", jnp.maximum, (a, b)),
        ("relu(a), a > 0", nj.nn.relu, (a,)),
        ("relu(b), b < 0", nj.nn.relu, (b,)),
    ]
    for label, fun, args in circuits:
        grads, diff = _checked(fun, args)
        _row(label, f"{_compact(grads):<37}{diff:.1e}")
    tie = nj.grad(jnp.maximum, argnums=(0, 1))(a, a)
    _row("max(a, a), a tie", f"{_compact(tie)}  split in half, as in JAX")
    _row("relu at exactly 0", f"{nj.grad(nj.nn.relu)(0.0):g}  (numerical: "
         f"{nj.numerical_grad(nj.nn.relu)(0.0):g}, it straddles the kink)")
    dx, dy = nj.grad(multiply_gate, argnums=(0, 1))(a, a)
    _row("x * x, a wire that branches", f"{nj.grad(lambda x: x * x)(a):g} = {dx:g} + {dy:g}"
         "  (the two pulls add)")


# ----- Command line ----------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    listing = "\n".join(f"  {s.name:<10}{s.title}" for s in SECTIONS.values())
    parser = argparse.ArgumentParser(
        prog="python -m nanojax",
        description="A tour of Karpathy's Hacker's guide to Neural Networks, "
                    "computed with nanojax.",
        epilog=f"sections, in order:\n{listing}",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-s", "--section", action="append", metavar="NAME",
                        help="run only this section (repeat for several)")
    parser.add_argument("-l", "--list", action="store_true",
                        help="list the sections and exit")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the tour, or the sections named with ``--section``; return the exit code.

    An unknown section name exits with status 2 and the list of valid names.
    """
    parser = _parser()
    opts = parser.parse_args(argv)
    if opts.list:
        for s in SECTIONS.values():
            print(f"{s.name:<10}{s.title}")
        return 0
    names = opts.section or list(SECTIONS)
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        parser.error(f"unknown section {unknown[0]!r}; choose from: {', '.join(SECTIONS)}")
    if opts.section is None:
        print("nanojax tour: Chapter 1 of Karpathy's Hacker's guide to Neural Networks")
    for name in names:
        _header(SECTIONS[name])
        SECTIONS[name].run()
    return 0
