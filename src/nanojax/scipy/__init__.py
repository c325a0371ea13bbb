"""``nanojax.scipy``: SciPy's API for transformable code, as ``jax.scipy``."""

from nanojax.scipy import special  # noqa: F401
