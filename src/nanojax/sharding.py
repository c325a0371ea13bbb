"""``jax.sharding`` and ``shard_map``, with their meaning on one CPU device.

A sharding says how an array is split over devices. nanojax has one device,
so every mesh has all its axes of size 1, every sharding keeps the whole
array on the CPU, and a shard is the array itself. The names exist so that
programs written for many devices run unchanged on one:
``NamedSharding(make_mesh((1,), ("data",)), P("data"))`` is accepted by
``device_put``, and ``shard_map`` runs the function once on the whole
arrays with each mesh axis bound as a named axis of size 1, so
``lax.psum(x, "data")`` inside is ``x`` and ``lax.axis_index("data")`` is 0,
exactly what one device computes. A mesh that needs more than one device is
refused with a sentence.

Examples:
    >>> import numpy as np
    >>> import nanojax as nj
    >>> from nanojax.sharding import NamedSharding, PartitionSpec as P
    >>> mesh = nj.make_mesh((1,), ("data",))
    >>> x = nj.device_put(np.arange(4.0), NamedSharding(mesh, P("data")))
    >>> f = nj.shard_map(lambda x: nj.lax.psum(x, "data") * 2, mesh=mesh, in_specs=P("data"),
    ...                  out_specs=P("data"))
    >>> f(x)
    array([0., 2., 4., 6.])
"""

from __future__ import annotations

import contextlib
import enum
import math
import threading
from typing import Any
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from nanojax.devices import Device, devices

__all__ = ["AxisType", "Mesh", "NamedSharding", "P", "PartitionSpec", "Sharding",
           "SingleDeviceSharding", "get_mesh", "make_mesh", "reshard", "set_mesh", "shard_map",
           "use_mesh"]


class PartitionSpec(tuple):
    """For each dimension of an array, the mesh axis (a name, a tuple of names, or
    None for "not split") it is split over: ``P("data", None)``."""

    def __new__(cls, *partitions: Any) -> PartitionSpec:
        for p in partitions:
            names = p if isinstance(p, tuple) else (p,)
            if not all(n is None or isinstance(n, str) for n in names):
                raise TypeError(f"nanojax.sharding.PartitionSpec: each entry must be a mesh "
                                f"axis name, a tuple of them or None, got {p!r}")
        return super().__new__(cls, partitions)

    def __repr__(self) -> str:
        return f"PartitionSpec({', '.join(map(repr, self))})"

    def names(self) -> set:
        out: set[str] = set()
        for p in self:
            out.update(n for n in (p if isinstance(p, tuple) else (p,)) if n is not None)
        return out


P = PartitionSpec


class AxisType(enum.Enum):
    """How a mesh axis is sharded: by the compiler (``Auto``), as the types say
    (``Explicit``), or by hand in ``shard_map`` (``Manual``). On one device the
    three mean the same; a mesh keeps what it was given."""

    Auto = enum.auto()
    Explicit = enum.auto()
    Manual = enum.auto()


class Mesh:
    """Devices laid out on named axes. On one CPU the only devices array is the CPU
    in every position of an all-ones shape: ``Mesh(np.array(nj.devices()), ("x",))``."""

    def __init__(self, devices: Any, axis_names: Any, *, axis_types: Any = None) -> None:
        names = (axis_names,) if isinstance(axis_names, str) else tuple(axis_names)
        grid = np.asarray(devices, dtype=object)
        if grid.ndim != len(names):
            raise ValueError(f"nanojax.sharding.Mesh: devices has {grid.ndim} dimensions but "
                             f"{len(names)} axis names were given")
        if len(set(names)) != len(names) or not all(isinstance(n, str) for n in names):
            raise ValueError(f"nanojax.sharding.Mesh: axis names must be distinct strings, got "
                             f"{names}")
        if grid.size != 1 or not isinstance(grid.reshape(-1)[0], Device):
            raise ValueError(f"nanojax.sharding.Mesh: a mesh of shape {grid.shape} needs "
                             f"{grid.size} devices, but nanojax has one (the CPU); every "
                             "axis must have size 1")
        self.devices = grid
        self.axis_names = names
        self.axis_types = axis_types

    @property
    def shape(self) -> dict[str, int]:
        return dict.fromkeys(self.axis_names, 1)

    @property
    def axis_sizes(self) -> tuple[int, ...]:
        return (1,) * len(self.axis_names)

    @property
    def size(self) -> int:
        return 1

    @property
    def device_ids(self) -> np.ndarray:
        return np.zeros(self.devices.shape, int)

    def __enter__(self) -> Mesh:
        _MESHES.stack.append(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        _MESHES.stack.pop()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mesh) and other.axis_names == self.axis_names

    def __hash__(self) -> int:
        return hash(("Mesh", self.axis_names))

    def __repr__(self) -> str:
        return f"Mesh({', '.join(f'{n!r}: 1' for n in self.axis_names)})"


class _MeshStack(threading.local):
    def __init__(self) -> None:
        self.stack: list[Mesh] = []


_MESHES = _MeshStack()


def make_mesh(axis_shapes: Sequence[int], axis_names: Sequence[str], *, devices: Any = None,
              axis_types: Any = None) -> Mesh:
    """A ``Mesh`` of the given axis sizes; on one CPU each size must be 1."""
    shape = tuple(int(s) for s in axis_shapes)
    if len(shape) != len(tuple(axis_names)):
        raise ValueError(f"nanojax.make_mesh: {len(shape)} axis sizes but "
                         f"{len(tuple(axis_names))} axis names")
    if math.prod(shape) != 1:
        raise ValueError(f"nanojax.make_mesh: a mesh of shape {shape} needs "
                         f"{math.prod(shape)} devices, but nanojax has one (the CPU); use "
                         "size 1 for every axis")
    chosen = globals()["devices"]() if devices is None else list(devices)
    return Mesh(np.array(chosen[:1], dtype=object).reshape(shape), tuple(axis_names),
                axis_types=axis_types)


@contextlib.contextmanager
def set_mesh(mesh: Mesh) -> Iterator[Mesh]:
    """Make ``mesh`` the current one inside the block (what ``shard_map`` and
    ``get_mesh`` use when no mesh is passed)."""
    if not isinstance(mesh, Mesh):
        raise TypeError(f"nanojax.set_mesh: expected a Mesh, got {type(mesh).__name__}")
    with mesh:
        yield mesh


use_mesh = set_mesh


def get_mesh() -> Mesh | None:
    """The mesh of the innermost ``set_mesh`` block, or None."""
    return _MESHES.stack[-1] if _MESHES.stack else None


class Sharding:
    """How an array is laid out over devices; here, always the whole array on the CPU."""

    @property
    def device_set(self) -> set[Device]:
        return set(devices())

    @property
    def addressable_devices(self) -> set[Device]:
        return set(devices())

    @property
    def num_devices(self) -> int:
        return 1

    @property
    def is_fully_replicated(self) -> bool:
        return True

    @property
    def is_fully_addressable(self) -> bool:
        return True

    def shard_shape(self, global_shape: Sequence[int]) -> tuple[int, ...]:
        """The shape of each shard: the whole array's."""
        return tuple(global_shape)

    def devices_indices_map(self, global_shape: Sequence[int]) -> dict[Device, tuple]:
        """Each device and the part of the array it holds: the CPU, all of it."""
        return {devices()[0]: tuple(slice(None) for _ in global_shape)}

    def addressable_devices_indices_map(self, global_shape: Sequence[int]) -> dict:
        return self.devices_indices_map(global_shape)


class SingleDeviceSharding(Sharding):
    """The whole array on one device."""

    def __init__(self, device: Device, *, memory_kind: str | None = None) -> None:
        if not isinstance(device, Device):
            raise TypeError(f"nanojax.sharding.SingleDeviceSharding: expected one of "
                            f"nanojax.devices(), got {type(device).__name__}")
        self.memory_kind = memory_kind

    def __repr__(self) -> str:
        return "SingleDeviceSharding(device=CpuDevice(id=0))"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SingleDeviceSharding)

    def __hash__(self) -> int:
        return hash(SingleDeviceSharding)


def _check_spec(who: str, mesh: Mesh, spec: Any, ndim: int | None = None) -> None:
    if not isinstance(spec, PartitionSpec):
        raise TypeError(f"{who}: expected a PartitionSpec (P(...)), got {type(spec).__name__}")
    unknown = spec.names() - set(mesh.axis_names)
    if unknown:
        raise ValueError(f"{who}: {spec} names mesh axes {sorted(unknown)} that the mesh "
                         f"{mesh} does not have")
    if ndim is not None and len(spec) > ndim:
        raise ValueError(f"{who}: {spec} has {len(spec)} entries, more than the array's "
                         f"{ndim} dimensions")


class NamedSharding(Sharding):
    """An array split over ``mesh``'s axes as ``spec`` says (on one CPU: not split)."""

    def __init__(self, mesh: Mesh, spec: PartitionSpec | None = None, *,
                 memory_kind: str | None = None) -> None:
        spec = PartitionSpec() if spec is None else spec
        if not isinstance(mesh, Mesh):
            raise TypeError(f"nanojax.sharding.NamedSharding: expected a Mesh, got "
                            f"{type(mesh).__name__}")
        _check_spec("nanojax.sharding.NamedSharding", mesh, spec)
        self.mesh, self.spec, self.memory_kind = mesh, spec, memory_kind

    def __repr__(self) -> str:
        return f"NamedSharding(mesh={self.mesh}, spec={self.spec})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, NamedSharding) and other.mesh == self.mesh
                and other.spec == self.spec)

    def __hash__(self) -> int:
        return hash((self.mesh, self.spec))


def reshard(xs: Any, out_shardings: Any) -> Any:
    """``xs`` laid out as ``out_shardings`` say: on one device, the same arrays."""
    from nanojax.devices import device_put
    return device_put(xs)


def _mesh_for(who: str, mesh: Any) -> Mesh:
    mesh = get_mesh() if mesh is None else mesh
    if mesh is None:
        raise ValueError(f"{who}: no mesh: pass mesh= or call inside `with nanojax.set_mesh(...)`")
    if not isinstance(mesh, Mesh):
        raise TypeError(f"{who}: mesh must be a Mesh, got {type(mesh).__name__}")
    return mesh


def _specs_leaves(who: str, mesh: Mesh, specs: Any, values: Any) -> None:
    """Check ``specs`` (a pytree prefix of ``values``) against the mesh and the ranks."""
    from nanojax.tree_util import tree_flatten, tree_map
    is_spec = lambda s: s is None or isinstance(s, PartitionSpec)      # noqa: E731

    def check(spec: Any, subtree: Any) -> None:
        if spec is None:
            return
        for leaf in tree_flatten(subtree)[0]:
            _check_spec(who, mesh, spec, np.ndim(leaf) if not hasattr(leaf, "ndim")
                        else leaf.ndim)
    try:
        tree_map(check, specs, values, is_leaf=is_spec)
    except (ValueError, TypeError) as err:
        if str(err).startswith(who):
            raise
        raise ValueError(f"{who}: the specs do not match the structure of the values "
                         f"({err})") from None


def shard_map(f: Callable | None = None, /, *, out_specs: Any, in_specs: Any = None,
              mesh: Any = None, axis_names: Any = frozenset(), check_vma: bool = True,
              check_rep: Any = None) -> Any:
    """``f`` run on each device's shard of the arguments: on one device, once on the
    whole arrays, with every mesh axis bound as a named axis of size 1 (so the
    collectives over them are what one device computes).

    Usable as a decorator: ``@partial(shard_map, mesh=..., in_specs=..., out_specs=...)``
    or ``@shard_map(mesh=..., ...)``.
    """
    if f is None:
        return lambda g: shard_map(g, out_specs=out_specs, in_specs=in_specs, mesh=mesh,
                                   axis_names=axis_names, check_vma=check_vma,
                                   check_rep=check_rep)
    if not callable(f):
        raise TypeError(f"nanojax.shard_map: f must be callable, got {type(f).__name__}")
    from nanojax.batching import vmap
    from nanojax.tree_util import tree_map

    def mapped(*args: Any) -> Any:
        who = "nanojax.shard_map"
        m = _mesh_for(who, mesh)
        specs = in_specs
        if specs is None or isinstance(specs, PartitionSpec):
            specs = (specs,) * len(args)
        _specs_leaves(who, m, tuple(specs), args)
        names = [n for n in m.axis_names if not axis_names or n in axis_names]
        fn = f
        for name in reversed(names):     # each mesh axis: a batch axis of size 1, named
            fn = vmap(fn, axis_name=name)
        lift = lambda x: x[None] if hasattr(x, "ndim") else np.asarray(x)[None]  # noqa: E731
        out = fn(*tree_map(lambda x: _lifted(x, len(names), lift), args))
        out = tree_map(lambda y: _lowered(y, len(names)), out)
        _specs_leaves(who, m, out_specs, out)
        return out
    return mapped


def _lifted(x: Any, times: int, lift: Callable) -> Any:
    for _ in range(times):
        x = lift(x)
    return x


def _lowered(y: Any, times: int) -> Any:
    for _ in range(times):
        y = y[0]
    return y
