"""nanojax: JAX's programming model in pure Python on NumPy.

    import nanojax as nj
    import nanojax.numpy as jnp

Pure functions, composable transformations (``grad``, ``vjp``, ``jvp``,
``make_jaxpr``) and a printable jaxpr; arrays are plain NumPy arrays.
"""

from nanojax import config as config
from nanojax import datasets as datasets
from nanojax import debug as debug
from nanojax import errors as errors
from nanojax import flatten_util as flatten_util
from nanojax import lax as lax
from nanojax import losses as losses
from nanojax import models as models
from nanojax import nn as nn
from nanojax import numpy as numpy
from nanojax import optim as optim
from nanojax import random as random
from nanojax import train as train
from nanojax import tree as tree
from nanojax import tree_util as tree_util
from nanojax.api import Array as Array
from nanojax.api import ShapeDtypeStruct as ShapeDtypeStruct
from nanojax.api import default_backend as default_backend
from nanojax.api import ensure_compile_time_eval as ensure_compile_time_eval
from nanojax.api import eval_shape as eval_shape
from nanojax.api import linear_transpose as linear_transpose
from nanojax.api import linearize as linearize
from nanojax.api import named_call as named_call
from nanojax.api import named_scope as named_scope
from nanojax.api import typeof as typeof
from nanojax.autodiff import grad as grad
from nanojax.autodiff import jvp as jvp
from nanojax.autodiff import value_and_grad as value_and_grad
from nanojax.autodiff import vjp as vjp
from nanojax.batching import vmap as vmap
from nanojax.callback import pure_callback as pure_callback
from nanojax.checkpoint import checkpoint as checkpoint
from nanojax.checkpoint import checkpoint_policies as checkpoint_policies
from nanojax.checkpoint import remat as remat
from nanojax.circuit import circuit as circuit
from nanojax.config import disable_jit as disable_jit
from nanojax.core import ClosedJaxpr as ClosedJaxpr
from nanojax.core import eval_jaxpr as eval_jaxpr
from nanojax.custom_derivatives import closure_convert as closure_convert
from nanojax.debug_checks import debug_infs as debug_infs
from nanojax.debug_checks import debug_nans as debug_nans
from nanojax.custom import custom_gradient as custom_gradient
from nanojax.custom import custom_jvp as custom_jvp
from nanojax.custom import custom_vjp as custom_vjp
from nanojax.devices import Device as Device
from nanojax.devices import block_until_ready as block_until_ready
from nanojax.devices import device_count as device_count
from nanojax.devices import device_get as device_get
from nanojax.devices import device_put as device_put
from nanojax.devices import devices as devices
from nanojax.devices import local_device_count as local_device_count
from nanojax.devices import local_devices as local_devices
from nanojax.devices import process_count as process_count
from nanojax.devices import process_index as process_index
from nanojax.jacobians import hessian as hessian
from nanojax.jacobians import jacfwd as jacfwd
from nanojax.jacobians import jacobian as jacobian
from nanojax.jacobians import jacrev as jacrev
from nanojax.jit import clear_caches as clear_caches
from nanojax.jit import jit as jit
from nanojax.numerical import check_grads as check_grads
from nanojax.numerical import numerical_grad as numerical_grad
from nanojax.numpy import stop_gradient as stop_gradient
from nanojax.parallel import pmap as pmap
from nanojax.runtime import checking_leaks as checking_leaks
from nanojax.runtime import effects_barrier as effects_barrier
from nanojax.runtime import host_count as host_count
from nanojax.runtime import host_id as host_id
from nanojax.runtime import host_ids as host_ids
from nanojax.runtime import make_array_from_callback as make_array_from_callback
from nanojax.runtime import (make_array_from_process_local_data as
                             make_array_from_process_local_data)
from nanojax.runtime import (make_array_from_single_device_arrays as
                             make_array_from_single_device_arrays)
from nanojax.runtime import print_environment_info as print_environment_info
from nanojax.runtime import process_indices as process_indices
from nanojax.sharding import NamedSharding as NamedSharding
from nanojax.sharding import P as P
from nanojax.sharding import make_mesh as make_mesh
from nanojax.sharding import reshard as reshard
from nanojax.sharding import set_mesh as set_mesh
from nanojax.sharding import shard_map as shard_map
from nanojax.staging import make_jaxpr as make_jaxpr

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # Subpackages a program may reach as attributes (nj.scipy.linalg), imported
    # on first use so that `import nanojax` stays quick.
    if name in ("scipy", "ops", "image", "profiler", "sharding", "typing", "custom_derivatives",
                "distributed", "version", "test_util", "ad_checkpoint"):
        import importlib
        return importlib.import_module(f"nanojax.{name}")
    raise AttributeError(f"module 'nanojax' has no attribute {name!r}")
