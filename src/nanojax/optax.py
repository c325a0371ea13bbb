"""``nanojax.optim`` under optax's name, for programs that ``import optax``.

``import nanojax.optax as optax`` gives the same objects as ``nanojax.optim``.

Examples:
    >>> import nanojax.optax as optax
    >>> from nanojax import optim
    >>> optax.adamw is optim.adamw
    True
"""

from nanojax import optim as _optim

__all__ = list(_optim.__all__)
globals().update({name: getattr(_optim, name) for name in __all__})
