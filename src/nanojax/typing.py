"""``jax.typing``: the annotations for arguments, ``ArrayLike`` and ``DTypeLike``.

    >>> import numpy as np
    >>> from nanojax.typing import ArrayLike
    >>> def f(x: ArrayLike) -> np.ndarray:
    ...     return np.asarray(x)
"""

from __future__ import annotations

from typing import Any, Protocol, Union

import numpy as np

from nanojax.api import Array

__all__ = ["ArrayLike", "DTypeLike"]


class _SupportsDType(Protocol):
    @property
    def dtype(self) -> np.dtype: ...


# What jnp functions take as an array: arrays (traced ones too), NumPy scalars and
# Python numbers (a list is not: JAX's ArrayLike leaves it out on purpose).
ArrayLike = Union[  # noqa: UP007 - a runtime alias, usable on 3.9's isinstance
    Array, np.ndarray, np.bool_, np.number, bool, int, float, complex]
# What a dtype= argument takes.
DTypeLike = Union[  # noqa: UP007
    str, type[Any], np.dtype, _SupportsDType]
