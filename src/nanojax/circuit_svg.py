"""A circuit drawn the way the guide draws it: gates as boxes, numbers on the wires.

``Circuit.svg()`` lays the gates out left to right by depth (the longest
path from an input), stacks the gates of one depth in a column, and draws
every wire as a line that runs right from its source and turns once, just
before the gate it enters. Above each wire is its value (black), below it
its pull (red). Pure Python: the text is an SVG document, nothing to install.

Examples:
    >>> import nanojax as nj
    >>> svg = nj.circuit(lambda x, y: x * y)(-2.0, 3.0).svg()
    >>> svg.startswith("<svg") and "x = -2" in svg and ">3</text>" in svg
    True
"""

from __future__ import annotations

from typing import NamedTuple

# circuit.py imports this module only when a picture is asked for, so the
# import back into it finds it loaded.
from nanojax.circuit import Circuit, Wire, _esc, _gate_head, _gate_text, format_value

__all__ = ["circuit_svg"]

FONT = 12                 # wire labels: monospace, so a label's width is known
CHAR = 0.6 * FONT         # a monospace character's advance
ROW = 56                  # the vertical pitch of stacked inputs and gates
GAP = 26                  # the least room between two boxes of one column
LANE = 8                  # room between two wires turning in one gap
STUB = 12                 # the straight run into a gate's input
MARGIN = 16
VALUE, PULL, INK, FAINT = "#111111", "#d62728", "#444444", "#888888"
SANS = "Helvetica, Arial, sans-serif"

# The guide's boxes show an operator; other gates show their primitive's name.
SYMBOLS = {"add": "+", "sub": "\u2212", "mul": "*", "div": "/", "neg": "\u2212x"}


class _Node(NamedTuple):
    """Where a wire starts: a gate's box (or an input's dot) and its output port."""

    x: float          # left edge of the box; an input's dot
    y: float          # top edge of the box; an input's dot
    w: float
    h: float

    def port_in(self, k: int, n: int) -> tuple[float, float]:
        return self.x, self.y + self.h * (k + 1) / (n + 1)

    def port_out(self) -> tuple[float, float]:
        return self.x + self.w, self.y + self.h / 2


def _num(v: float) -> str:
    return f"{round(v, 1):g}"


def _text_width(s: str, size: float = FONT) -> float:
    return len(s) * 0.6 * size


def _labels(w: Wire) -> tuple[str, str | None]:
    return f"{w.name} = {format_value(w.value)}", (
        None if w.grad is None else format_value(w.grad))


def _gate_lines(w: Wire) -> tuple[str, str]:
    """The box's big line (operator or name) and small line (parameters)."""
    return SYMBOLS.get(w.gate, w.gate), _gate_head(w)[len(w.gate):]


def _const_width(w: Wire, index: dict[str, int]) -> float:
    """Room inside a box, on its left, for the constants written at its inputs."""
    consts = [a for a in w.args if a not in index]
    return max((_text_width(a, 10) + 6 for a in consts), default=0.0)


def _box_size(w: Wire, index: dict[str, int]) -> tuple[float, float]:
    big, small = _gate_lines(w)
    big_size = 24 if len(big) <= 2 else 14
    width = max(44.0, _text_width(big, big_size) + 16, _text_width(small, 10) + 12)
    return width + _const_width(w, index), max(44.0, 20.0 * len(w.args) + 4)


def circuit_svg(c: Circuit) -> str:
    """The SVG text of ``c``: see the module docstring."""
    wires = list(c.wires)
    index = {w.name: i for i, w in enumerate(wires)}
    depth: list[int] = []
    for w in wires:
        srcs = [depth[index[a]] for a in w.args if a in index]
        depth.append(0 if w.gate == "input" else 1 + max(srcs, default=0))
    outs = [(k, index[n]) for k, n in enumerate(c.outputs) if n is not None]
    n_cols = max(depth, default=0) + 1 + (1 if outs else 0)
    out_col = n_cols - 1

    # Every connection: source wire -> [(target, port, ports)]; a gate is its wire's
    # index, output k is -1 - k.
    uses: dict[int, list[tuple[int, int, int]]] = {i: [] for i in range(len(wires))}
    for t, w in enumerate(wires):
        for k, a in enumerate(w.args):
            if a in index:
                uses[index[a]].append((t, k, len(w.args)))
    for k, i in outs:
        uses[i].append((-1 - k, 0, 1))

    labels = [_labels(w) for w in wires]
    label_w = [max(_text_width(v), _text_width(g or "")) for v, g in labels]
    cols: list[list[int]] = [[] for _ in range(n_cols)]
    for i, d in enumerate(depth):
        cols[d].append(i)
    # Inputs in the order the gates first use them (the guide's a, x, b, y, c):
    # a gate's inputs then sit side by side and skipping wires run below.
    first_use = {i: min(((t, k) for t, k, _ in uses[i] if t >= 0),
                        default=(len(wires), 0)) for i in cols[0]}
    cols[0].sort(key=lambda i: first_use[i])
    incoming = [0] * n_cols                  # the wires that turn in the gap before a column
    for targets in uses.values():
        for t, _, _ in targets:
            incoming[out_col if t < 0 else depth[t]] += 1
    # The room after a column: its widest label, a junction, the lanes of the next column.
    room = [max((label_w[i] for i in col), default=0.0) + 20 for col in cols]

    nodes: dict[int, _Node] = {}
    x = MARGIN + 6.0
    col_x: list[float] = []
    for d, col in enumerate(cols):
        if d:
            x += room[d - 1] + incoming[d] * LANE + STUB
        col_x.append(x)
        if d == 0:
            for r, i in enumerate(col):
                nodes[i] = _Node(x, MARGIN + 24 + r * ROW, 0.0, 0.0)
            continue
        members: list[tuple[float, int, float, float]] = []
        for i in col:
            w_, h_ = _box_size(wires[i], index)
            ys = [nodes[index[a]].port_out()[1] for a in wires[i].args if a in index]
            members.append((sum(ys) / len(ys) if ys else MARGIN + 24, i, w_, h_))
        if d == out_col:
            members += [(nodes[i].port_out()[1], -1 - k, 0.0, 0.0) for k, i in outs]
        members.sort(key=lambda m: m[0])
        bottom = float(MARGIN)
        for want, key, w_, h_ in members:
            top = max(want - h_ / 2, bottom + (GAP if bottom > MARGIN else 0.0))
            nodes[key] = _Node(x, top, w_, h_)
            bottom = top + h_ + (24 if h_ == 0 else 0)    # an output's text needs a row too
        x += max((nodes[i].w for i in col), default=0.0)

    parts: list[str] = []
    text_parts: list[str] = []

    def line(points: list[tuple[float, float]], colour: str = INK) -> None:
        d = "M" + " L".join(f"{_num(px)} {_num(py)}" for px, py in points)
        parts.append(f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="1.2"/>')

    def text(px: float, py: float, s: str, colour: str, anchor: str = "start",
             size: float = FONT, family: str = "monospace") -> None:
        text_parts.append(
            f'<text x="{_num(px)}" y="{_num(py)}" fill="{colour}" font-size="{_num(size)}" '
            f'font-family="{family}" text-anchor="{anchor}">{_esc(s)}</text>')

    # Which wire turns in which lane of a gap: those going down turn nearer the
    # box the higher they start, those going up the lower they start, so no
    # wire's turn crosses another's run.
    lanes: dict[tuple[int, int, int], float] = {}
    by_col: dict[int, list[tuple[int, float, float, tuple[int, int, int]]]] = {}
    for i, targets in uses.items():
        sy = nodes[i].port_out()[1]
        for t, k, n in targets:
            ty = nodes[t].port_in(k, n)[1]
            d = out_col if t < 0 else depth[t]
            going, rank = (0, sy) if ty >= sy else (1, -sy)
            by_col.setdefault(d, []).append((going, rank, ty, (i, t, k)))
    for d, conns in by_col.items():
        for lane, conn in enumerate(sorted(conns, key=lambda c: c[:3])):
            lanes[conn[3]] = col_x[d] - STUB - LANE * lane

    for i in range(len(wires)):
        sx, sy = nodes[i].port_out()
        value, grad = labels[i]
        text(sx + 6, sy - 5, value, VALUE)
        if grad is not None:
            text(sx + 6, sy + 15, grad, PULL)
        fork = sx + label_w[i] + 12
        targets = uses[i]
        if not targets:                    # a dead end still shows its numbers
            line([(sx, sy), (fork, sy)])
            continue
        start = (sx, sy)
        if len(targets) > 1:               # a wire that branches: its pulls add at the dot
            line([start, (fork, sy)])
            parts.append(f'<circle cx="{_num(fork)}" cy="{_num(sy)}" r="3" fill="{INK}"/>')
            start = (fork, sy)
        for t, k, n in targets:
            node = nodes[t]
            tx, ty = node.port_in(k, n)
            turn = lanes[(i, t, k)]
            points = [start, (turn, sy), (turn, ty), (tx, ty)] if ty != sy else [start, (tx, ty)]
            line(points)

    for i, w in enumerate(wires):
        node = nodes[i]
        if w.gate == "input":
            parts.append(f'<circle cx="{_num(node.x)}" cy="{_num(node.y)}" r="3" '
                         f'fill="white" stroke="{INK}"/>')
            continue
        big, small = _gate_lines(w)
        parts.append(f'<g><title>{_esc(_gate_text(w))}</title>'
                     f'<rect x="{_num(node.x)}" y="{_num(node.y)}" width="{_num(node.w)}" '
                     f'height="{_num(node.h)}" fill="white" stroke="{INK}"/></g>')
        inset = _const_width(w, index)
        cx, cy = node.x + inset + (node.w - inset) / 2, node.y + node.h / 2
        size = 24 if len(big) <= 2 else 14
        text(cx, cy + size * 0.35 - (5 if small else 0), big, INK, "middle", size,
             SANS)
        if small:
            text(cx, cy + 14, small, FAINT, "middle", 10)
        for k, a in enumerate(w.args):
            if a not in index:             # a constant, written inside, at the input it feeds
                px, py = node.port_in(k, len(w.args))
                text(px + 3, py + 3.5, a, FAINT, "start", 10)
    for k, _ in outs:
        node = nodes[-1 - k]
        parts.append(f'<circle cx="{_num(node.x)}" cy="{_num(node.y)}" r="3" fill="{INK}"/>')
        text(node.x + 8, node.y + 4, "output" if len(outs) == 1 else f"output {k}", INK,
             family=SANS)

    right = max([2.0 * MARGIN] + [n.x + n.w for n in nodes.values()]
                + [nodes[i].port_out()[0] + label_w[i] + 16 for i in range(len(wires))]
                + [nodes[-1 - k].x + 64 for k, _ in outs])
    bottom = max((n.y + n.h + (24 if n.h else 28) for n in nodes.values()), default=MARGIN)
    how = ("values flow forward, above the wires; pulls d(output)/d(wire) flow back, "
           "below, in red")
    legend = ([how] if c.grads else [] if c.notes else ["values only"]) + list(c.notes)
    for r, note in enumerate(legend):
        text(MARGIN, bottom + 14 + 16 * r, note, FAINT, size=11, family=SANS)
    width = max(right, MARGIN + max(_text_width(s, 11) * 0.9 for s in legend)) + MARGIN
    height = bottom + 16 * len(legend) + MARGIN
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{_num(width)}" '
            f'height="{_num(height)}" viewBox="0 0 {_num(width)} {_num(height)}">')
    background = '<rect width="100%" height="100%" fill="white"/>'
    return "\n".join([head, background, *parts, *text_parts, "</svg>"]) + "\n"
