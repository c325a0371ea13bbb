"""nanojax: JAX's programming model in pure Python on NumPy.

    import nanojax as nj
    import nanojax.numpy as jnp

Pure functions, composable transformations (``grad``, ``vjp``, ``jvp``,
``make_jaxpr``) and a printable jaxpr; arrays are plain NumPy arrays.
"""

from nanojax import datasets as datasets
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
from nanojax.autodiff import grad as grad
from nanojax.autodiff import jvp as jvp
from nanojax.autodiff import value_and_grad as value_and_grad
from nanojax.autodiff import vjp as vjp
from nanojax.batching import vmap as vmap
from nanojax.circuit import circuit as circuit
from nanojax.core import ClosedJaxpr as ClosedJaxpr
from nanojax.core import eval_jaxpr as eval_jaxpr
from nanojax.custom import custom_vjp as custom_vjp
from nanojax.jacobians import hessian as hessian
from nanojax.jacobians import jacfwd as jacfwd
from nanojax.jacobians import jacrev as jacrev
from nanojax.jit import jit as jit
from nanojax.numerical import check_grads as check_grads
from nanojax.numerical import numerical_grad as numerical_grad
from nanojax.numpy import stop_gradient as stop_gradient
from nanojax.staging import make_jaxpr as make_jaxpr

__version__ = "0.1.0"
