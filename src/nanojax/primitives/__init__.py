"""Every primitive, each one declaration with all of its rules, by family.

- ``base``: the registry, type and shape helpers, the batching helpers and
  the family helpers ``unary``/``binary``;
- ``elementwise``: arithmetic, transcendental functions, comparisons,
  bitwise logic, ``select_n``, conversions;
- ``reductions``: sums, products, maxima and minima, argmax, cumsum;
- ``cumulative``: cumprod, cummax, cummin, cumlogsumexp;
- ``special``: erf, erfc, erf_inv, lgamma, digamma, polygamma;
- ``transcendental``: asin ... atanh, sinh, cosh, cbrt, nextafter, signbit, gcd, lcm;
- ``shapes``: broadcast_in_dim, reshape, transpose, squeeze, concatenate;
- ``dot``: dot_general, every contraction of two arrays;
- ``indexing``: gather, scatter-add, scatter;
- ``linalg``: cholesky, triangular_solve, inv, solve, det, slogdet, eigh, svd, qr, lu.
- ``convolution``: conv_general_dilated and the windowed reductions.

A declaration gives a primitive its NumPy ``impl``, its ``abstract_eval``
(shapes and dtypes, with the error for bad shapes), its ``jvp``, its
per-argument ``vjp`` rules, its ``batch`` rule, its jit ``lowering`` and its
``simplify`` identities (see ``core.Primitive``). Rules are written with
the primitives themselves (``mul(g, y)``, never ``g * y`` on raw NumPy), so
a backward pass can be traced again: that is what makes ``grad(grad(f))``
and ``jit(grad(f))`` work. Summing a cotangent back to a broadcast input's
shape happens once, in the tape interpreter. Batch rules move batch axes
with the helpers in ``base``, so no rule loops over examples in Python.

Families call each other's functions; each imports the others at its end,
after its own definitions, so the import cycle always finds what it needs.
"""

from __future__ import annotations

from nanojax.primitives import (base, bessel, convolution, cumulative, dot, eig, elementwise,
                                indexing, linalg, reductions, shapes, special, transcendental)
from nanojax.primitives.base import *  # noqa: F403
from nanojax.primitives.base import (_PY_DTYPES, _register, ALL_PRIMITIVES,  # noqa: F401
                                     ELEMENTWISE_ARITY,
                                     broadcast_shapes, dtype_of, elementwise_aval, is_float,
                                     move_to_front, shape_of)
from nanojax.primitives.convolution import *  # noqa: F403
from nanojax.primitives.dot import *  # noqa: F403
from nanojax.primitives.elementwise import *  # noqa: F403
from nanojax.primitives.elementwise import _logistic  # noqa: F401
from nanojax.primitives.indexing import *  # noqa: F403
from nanojax.primitives.linalg import *  # noqa: F403
from nanojax.primitives.reductions import *  # noqa: F403
from nanojax.primitives.shapes import *  # noqa: F403
from nanojax.primitives.cumulative import *  # noqa: F403
from nanojax.primitives.special import *  # noqa: F403
from nanojax.primitives.transcendental import *  # noqa: F403
from nanojax.primitives.bessel import *  # noqa: F403
from nanojax.primitives.eig import *  # noqa: F403

del base, convolution, cumulative, dot, elementwise, indexing, linalg, reductions, shapes
del special, transcendental, bessel, eig
