"""The examples' one piece of shared plumbing: pictures when matplotlib is there.

Not an example itself (the leading underscore keeps the smoke test from
running it). matplotlib is an optional extra, so every picture goes through
``pyplot()``, which says so and returns None when it is missing.
"""

from pathlib import Path


def pyplot():
    """``matplotlib.pyplot`` drawing to files only, or None when not installed."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: skipping the picture")
        return None
    return plt


def save(fig, path: Path) -> None:
    """Write ``fig`` to ``path`` (making its folder) and let it go."""
    import matplotlib.pyplot as plt
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"saved {path}")
