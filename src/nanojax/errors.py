"""Errors that say what went wrong and what to do about it.

All are ``TypeError`` subclasses, as in JAX, so code that already
catches ``TypeError`` around a conversion keeps working.
"""

from nanojax.source_info import where_suffix

__all__ = ["ConcretizationTypeError", "TracerBoolConversionError",
           "TracerArrayConversionError", "UnexpectedTracerError", "ShapeMismatchError"]


class ShapeMismatchError(TypeError, ValueError):
    """Operands whose shapes do not fit together (a product's contracted axes,
    broadcasting). JAX raises a ``TypeError`` for these and NumPy a
    ``ValueError``; this is both, so code written for either catches it."""


class ConcretizationTypeError(TypeError):
    """A concrete Python value was needed from a value that is abstract here.

    Under ``jit`` and ``make_jaxpr`` the arguments are shapes and dtypes
    only, and under ``vmap`` a value stands for a whole batch of values, so
    ``float(x)``, ``int(x)`` or an ``if`` on ``x`` cannot be decided.
    """

    def __init__(self, what: str, aval: object, message: str | None = None,
                 depends: str = "") -> None:
        self.depends = depends
        if message is not None:             # a cause other than abstract values
            super().__init__(message + where_suffix())
            return
        super().__init__(
            f"{what} needs a concrete value, but got a traced value with "
            f"shape/dtype {aval}{where_suffix()}{depends}. Under jit and make_jaxpr a function's "
            "arguments are only shapes and dtypes while it is traced, and under "
            "vmap each value stands for a whole batch. Use jnp.where(cond, a, b) "
            "to choose between values elementwise; under jit, mark the argument "
            "static (jit(f, static_argnums=...)) if it is a setting rather than "
            "data.")


def dropped_derivative_message(what: str, aval: object) -> str:
    """Why ``float(x)``, ``int(x)`` or ``math.exp(x)`` fails under grad or jvp."""
    return (f"{what} on a value being differentiated ({aval}) would turn it into a "
            "Python constant and silently drop its derivative. Keep it an array and use "
            "nanojax.numpy functions on it (jnp.exp(x), not math.exp(x)); to use its "
            "value as a constant on purpose, write float(nj.stop_gradient(x)).")


class TracerBoolConversionError(ConcretizationTypeError):
    """``bool()`` (an ``if``, ``while``, ``and``/``or``) on an abstract tracer."""

    def __init__(self, aval: object, depends: str = "") -> None:
        super().__init__("A Python `if`/`while`/bool() on a traced value", aval,
                         depends=depends)


class TracerArrayConversionError(TypeError):
    """``numpy.asarray`` was called on a traced value."""

    def __init__(self, aval: object) -> None:
        super().__init__(
            f"numpy.asarray() was called on a traced value ({aval}){where_suffix()}. Turning "
            "it into a plain NumPy array would silently drop it out of the "
            "transformation. Use nanojax.numpy (jnp) functions, or the NumPy "
            "functions nanojax supports, on traced values instead.")


class UnexpectedTracerError(TypeError):
    """A tracer was used after the transformation that made it had ended.

    This usually means a traced value was stored in a global, a closure or an
    object attribute inside a transformed function and used later.
    """

    def __init__(self, tracer: object) -> None:
        super().__init__(
            f"Encountered a tracer ({tracer!r}) whose transformation has "
            f"already ended{where_suffix()}: it escaped, probably stored in a global variable, "
            "a closure or an attribute inside a grad/jit/vmap'd function. "
            "Return values from the transformed function instead of storing "
            "them as side effects.")
