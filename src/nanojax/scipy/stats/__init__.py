"""``nanojax.scipy.stats``: SciPy's distributions as ``jax.scipy.stats`` offers them.

One module per distribution, each a handful of functions (``logpdf``,
``pdf``, ``cdf``, ``logcdf``, ``sf``, ``logsf``, ``ppf``, ``isf``; ``logpmf``
and ``pmf`` for discrete ones) taking SciPy's ``loc``/``scale`` arguments.
Everything is written with ``jnp`` and ``nanojax.scipy.special``, so it
differentiates, batches and stages.

>>> import nanojax as nj
>>> from nanojax.scipy import stats
>>> print(float(nj.grad(stats.norm.logpdf)(1.5)))      # -x
-1.5
"""

from nanojax.scipy.stats import (bernoulli, beta, binom, cauchy, chi2, dirichlet,
                                 expon, gamma, geom, laplace, logistic, multivariate_normal,
                                 nbinom, norm, poisson, t, truncnorm, uniform, vonmises)

__all__ = ["bernoulli", "beta", "binom", "cauchy", "chi2", "dirichlet", "expon", "gamma", "geom",
           "laplace", "logistic", "multivariate_normal", "nbinom", "norm", "poisson", "t",
           "truncnorm", "uniform", "vonmises"]


from nanojax.array import export as _export_arrays

for _dist in __all__:   # the public face hands out arrays with JAX's methods
    _export_arrays(vars(globals()[_dist]))
del _dist
