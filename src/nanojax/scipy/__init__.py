"""``nanojax.scipy``: the SciPy functions JAX offers (``jax.scipy``), on NumPy only.

Examples:
    >>> import numpy as np
    >>> from nanojax.scipy import linalg
    >>> linalg.solve_triangular(np.array([[2.0, 0.0], [1.0, 1.0]]), np.array([2.0, 3.0]),
    ...                         lower=True)
    array([1., 2.])
"""

from nanojax.scipy import linalg  # noqa: F401
from nanojax.scipy import special  # noqa: F401
from nanojax.scipy import stats  # noqa: F401
from nanojax.scipy import optimize  # noqa: F401
