"""JAX's example libraries: ``stax`` (layers) and ``optimizers`` (init/update/get_params).

Exactly ``jax.example_libraries``' names and meaning, so that programs
written for them run with ``jax`` changed to ``nanojax`` in their imports::

    from nanojax.example_libraries import optimizers, stax
"""
