"""NumPy's API for transformable code: ``import nanojax.numpy as jnp``.

With no traced value among the arguments, every function here is a single
check followed by the NumPy call, and returns plain NumPy arrays. With a
traced value it binds nanojax primitives, so the call is recorded,
differentiated or staged by whatever transformation is running. Either way
the values, dtypes and errors are NumPy's: an error names the function
(``nanojax.numpy.sum: ...``) and has the type NumPy gives it.

This module defines ``sum``, ``max``, ``abs``, ``round``, ``all``... under
their NumPy names, so inside it a bare ``sum`` is never Python's:
``builtins.sum`` is spelled out, and a test keeps it that way.

Examples:
    >>> import nanojax.numpy as jnp
    >>> jnp.tanh(jnp.array([0.0, 1.0]))
    array([0.        , 0.76159416])
"""

from __future__ import annotations

# Plain NumPy names that need no tracing.
from numpy import (bool_, dtype, e, float16, float32, float64, inf, int8, int16,  # noqa: F401
                   int32, int64, nan, newaxis, pi, uint8)
from nanojax.array import Array as ndarray  # noqa: F401  (JAX's: arrays and tracers)

# One module per concern; each function is NumPy's call when nothing is
# traced and a circuit of gates when something is.
from nanojax.numpy._ufuncs import *  # noqa: F403
from nanojax.numpy._shapes import *  # noqa: F403
from nanojax.numpy._creation import *  # noqa: F403
from nanojax.numpy._reductions import *  # noqa: F403
from nanojax.numpy._linear import *  # noqa: F403
from nanojax.numpy._einsum import einsum  # noqa: F401  (NumPy's whole grammar)
from nanojax.numpy._pad import pad  # noqa: F401
from nanojax.numpy._sorting import argsort, sort  # noqa: F401
from nanojax.numpy._cumulative import (cumprod, cumulative_prod, cumulative_sum,  # noqa: F401
                                       lexsort, nancumprod, nancumsum)
from nanojax.numpy._rearranging import array_split, flip, roll, split, tile  # noqa: F401
from nanojax.numpy._indexing import (at, diagonal, getitem, repeat, take,  # noqa: F401
                                     take_along_axis, trace)
from nanojax.numpy._structure import *  # noqa: F403
from nanojax.numpy._searching import *  # noqa: F403
from nanojax.numpy._products import *  # noqa: F403
from nanojax.numpy._math import *  # noqa: F403
from nanojax.numpy._dtypes import *  # noqa: F403
from nanojax.numpy._statistics import *  # noqa: F403
from nanojax.numpy._dtypes import __getattr__  # noqa: F401  (bfloat16 & co: a sentence)
from nanojax.numpy import linalg  # noqa: F401
from nanojax.numpy._bits import *  # noqa: F403
from nanojax.numpy._signal import *  # noqa: F403
from nanojax.numpy._polyroots import *  # noqa: F403
from nanojax.numpy._histogramdd import *  # noqa: F403
from nanojax.numpy._functional import *  # noqa: F403
from nanojax.numpy._io import *  # noqa: F403
from nanojax.numpy import _tracer_methods  # noqa: F401  (installs operators)
from nanojax.array import export as _export_arrays

del numpy_or_traced  # noqa: F821  (the modules' tool, not one of NumPy's names)
# The star imports bring each module's own tools along (typing names, np,
# the primitives): they are not NumPy's names, so dir(jnp) does not list them.
for _tool in ("Any", "Callable", "Sequence", "P", "Tracer", "builtins", "np", "annotations",
              "innermost_staging_trace", "plain_asarray", "staged_constant", "where_"):
    globals().pop(_tool, None)
del _tool
__all__ = sorted(name for name in globals() if not name.startswith("_"))

# The public face hands out arrays with JAX's methods (x.at[i].set(v)); the
# modules inside keep computing with plain NumPy arrays.
_export_arrays(globals(), [name for name in __all__ if name not in (
    # They answer questions about shapes and dtypes: no arrays to hand out.
    "broadcast_shapes", "einsum_path", "finfo", "iinfo", "iscomplexobj", "isdtype",
    "isrealobj", "isscalar", "issubdtype", "iterable", "ndim", "promote_types", "reduction",
    "result_type", "size")])
del _export_arrays
