"""``jax.version``: the version of the package, as a string and as a tuple.

    >>> import nanojax as nj
    >>> nj.version.__version__ == nj.__version__
    True
"""

__all__ = ["__version__", "__version_info__"]

__version__ = "0.1.0"
__version_info__ = tuple(int(part) for part in __version__.split("."))
