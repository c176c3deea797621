"""Data parallelism over devices and hosts: the mesh, the step wrappers, and
multi-host start-up.

One per-device train step is written with the mesh axis name ``'data'``
(:data:`AXIS`) and explicit collectives (:mod:`gan_jax.global_batch`:
gradients and every batch statistic are averaged over the axis). It runs

* ``none``: on one device, with no axis (the axis helpers are no-ops);
* ``shard_map``: under ``jax.shard_map`` over a one-axis mesh of every
  device of every process, inside ``jax.jit``: parameters replicated, the
  global batch split into equal contiguous row blocks;
* ``pmap``: under ``jax.pmap`` with the same axis name (JAX keeps pmap in
  maintenance mode and implements it on shard_map; it is here because users
  ask for it). Only the wrapper and the layout of arrays differ.

Both sharded modes use pmap's autodiff semantics (``check_vma=False``): the
gradient of a per-device loss w.r.t. replicated parameters stays
per-device, and averaging it with ``pmean`` gives the gradient of the
global-batch loss, including the terms that flow through cross-replica
batch statistics. (With shard_map's default ``check_vma=True`` JAX would
already sum it over devices.)

``auto`` (the default of ``config.parallel``) is ``shard_map`` when there is
more than one device, else ``none``.

Outside the step, the train state lives "globally replicated" (a
``NamedSharding`` with an empty spec over the mesh), the layout orbax
checkpoints and multi-host jit computations need; :class:`DataParallel`
converts to and from pmap's stacked layout. Evaluation generates and
featurises samples with their rows sharded over the same axis
(:meth:`DataParallel.put_rows` / :meth:`DataParallel.get_rows`); nothing in
evaluation mixes examples, so jit partitions it exactly.

Multi-host: every process runs the same program (JAX's multi-controller
model). :func:`initialize_distributed` starts ``jax.distributed`` before
anything touches the devices; each process feeds only its own shard of the
data (:meth:`DataParallel.put_batches` assembles the global batch with
``jax.make_array_from_process_local_data``); only process 0 writes files
other than checkpoints (:func:`is_writer`).
"""

import dataclasses
import functools
import os
from typing import Any, Callable

from absl import logging
import jax
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
import numpy as np

from gan_jax.xla_cpu import compiler_options as xla_cpu_options

AXIS = 'data'
MODES = ('auto', 'none', 'shard_map', 'pmap')

PyTree = Any


def resolve_mode(mode: str) -> str:
  """``auto`` → ``shard_map`` with more than one device, else ``none``."""
  if mode == 'auto':
    return 'shard_map' if jax.device_count() > 1 else 'none'
  return mode


def check_config(mode: str, batch_size: int) -> str | None:
  """Why ``config.parallel=mode`` cannot run ``batch_size`` on the devices
  there are (one line), or None if it can. Touches the devices: call after
  :func:`initialize_distributed`."""
  if mode not in MODES:
    return f'config.parallel={mode!r}; allowed: {", ".join(MODES)}'
  mode = resolve_mode(mode)
  if mode == 'none':
    if jax.process_count() > 1:
      return (f'config.parallel=none cannot run on {jax.process_count()} '
              'processes; allowed: auto, shard_map, pmap')
    return None
  devices = jax.device_count()
  if batch_size % devices:
    return (f'config.batch_size={batch_size} is not divisible by the '
            f'{devices} devices of config.parallel={mode}; use a multiple '
            f'of {devices}')
  return None


def is_writer() -> bool:
  """Whether this process writes logs, samples and evaluations (process 0)."""
  return jax.process_index() == 0


def _on_tpu_pod() -> bool:
  """Whether this is one worker of a multi-host TPU slice (Cloud TPU VMs set
  TPU_WORKER_HOSTNAMES to the comma-separated list of the slice's hosts)."""
  return ',' in os.environ.get('TPU_WORKER_HOSTNAMES', '')


def initialize_distributed(coordinator_address: str | None = None,
                           num_processes: int | None = None,
                           process_id: int | None = None) -> bool:
  """Starts JAX's multi-controller runtime when the run spans processes.

  With explicit arguments (any GPU or CPU cluster) they go to
  ``jax.distributed.initialize``; without them on a TPU pod
  ``initialize()`` detects the slice itself; on a single host nothing is
  done. On CPU the cross-process collectives use gloo.

  Returns:
    Whether ``jax.distributed`` was initialised.
  """
  explicit = (coordinator_address, num_processes, process_id)
  if all(value is None for value in explicit):
    if not _on_tpu_pod():
      return False
    jax.distributed.initialize()
    return True
  if any(value is None for value in explicit):
    raise ValueError('multi-process runs need all of --coordinator_address, '
                     '--num_processes and --process_id; got '
                     f'{coordinator_address!r}, {num_processes!r}, '
                     f'{process_id!r}')
  if not 0 <= process_id < num_processes:
    raise ValueError(f'--process_id={process_id} must be in [0, '
                     f'{num_processes})')
  jax.config.update('jax_cpu_collectives_implementation', 'gloo')
  jax.distributed.initialize(coordinator_address, num_processes, process_id)
  logging.info('process %d of %d, %d of %d devices local',
               jax.process_index(), jax.process_count(),
               jax.local_device_count(), jax.device_count())
  return True


@dataclasses.dataclass(frozen=True)
class DataParallel:
  """How a run spreads over devices; see the module docstring.

  Attributes:
    mode: ``none``, ``shard_map`` or ``pmap`` (resolved, not ``auto``).
    cpu_scheduler: how XLA:CPU orders the step's operations
      (:data:`gan_jax.xla_cpu.compiler_options.CPU_SCHEDULERS`); ignored on
      other backends.
    cpu_kernels: which kernels XLA:CPU computes it with
      (:data:`gan_jax.xla_cpu.compiler_options.CPU_KERNELS`); ignored on
      other backends.
  """
  mode: str
  cpu_scheduler: str = 'concurrency'
  cpu_kernels: str = 'ynn_reductions'

  def __post_init__(self):
    if self.mode not in MODES[1:]:
      raise ValueError(f'unknown parallel mode {self.mode!r}; allowed: '
                       f'{", ".join(MODES)}')
    xla_cpu_options.check(self.cpu_scheduler, self.cpu_kernels)

  @property
  def batch_axis(self) -> str | None:
    """The axis name the per-device step is written with (None: one device)."""
    return None if self.mode == 'none' else AXIS

  @functools.cached_property
  def mesh(self) -> Mesh:
    devices = jax.devices() if self.batch_axis else jax.devices()[:1]
    return Mesh(np.array(devices), (AXIS,))

  @property
  def num_shards(self) -> int:
    """How many devices split the global batch."""
    return self.mesh.size

  def _replicated(self) -> NamedSharding:
    return NamedSharding(self.mesh, P())

  def _rows(self, leading: int = 0) -> NamedSharding:
    return NamedSharding(self.mesh, P(*(None,) * leading, AXIS))

  # --- The train state: global (checkpoints, evaluation) <-> step layout.

  def replicate(self, tree: PyTree) -> PyTree:
    """Globally replicated arrays: the same values on every device of the
    mesh, from values that are equal on all processes."""
    sharding = self._replicated()
    return jax.tree.map(
        lambda x: jax.make_array_from_callback(
            np.shape(x), sharding,
            lambda index, v=_local_value(x): v[index]), tree)

  def to_global(self, tree: PyTree) -> PyTree:
    """The step layout -> globally replicated arrays (identity unless pmap;
    no copies: pmap's per-device replicas become the global array's)."""
    if self.mode != 'pmap':
      return tree
    sharding = self._replicated()

    def unstack(x):
      shape = x.shape[1:]
      return jax.make_array_from_single_device_arrays(
          shape, sharding,
          [s.data.reshape(shape) for s in x.addressable_shards])

    return jax.tree.map(unstack, tree)

  def from_global(self, tree: PyTree) -> PyTree:
    """Globally replicated arrays -> the step layout (inverse of
    :meth:`to_global`): for pmap, stacked over a leading axis of local
    devices."""
    if self.mode != 'pmap':
      return tree
    count = jax.local_device_count()
    return jax.pmap(lambda x: x)(jax.tree.map(
        lambda x: np.broadcast_to(_local_value(x), (count, *np.shape(x))),
        tree))

  # --- Batches.

  def put_batches(self, tree: PyTree) -> PyTree:
    """This process's ``[steps, n_critic, local batch, ...]`` numpy batches
    -> the step's input: a global array with the batch axis sharded, or
    pmap's ``[local devices, steps, n_critic, rows, ...]``."""
    if self.mode == 'none':
      return tree
    if self.mode == 'pmap':
      count = jax.local_device_count()
      return jax.tree.map(lambda x: np.moveaxis(x.reshape(
          *x.shape[:2], count, x.shape[2] // count, *x.shape[3:]), 2, 0), tree)
    sharding = self._rows(leading=2)
    return jax.tree.map(
        lambda x: jax.make_array_from_process_local_data(
            sharding, x, (*x.shape[:2], x.shape[2] * jax.process_count(),
                          *x.shape[3:])), tree)

  def batch_shapes(self, tree: PyTree) -> PyTree:
    """``jax.ShapeDtypeStruct`` s of :meth:`put_batches` applied to arrays of
    the (local) shapes in ``tree``, for ahead-of-time compilation."""
    if self.mode == 'none':
      return tree
    if self.mode == 'pmap':
      count = jax.local_device_count()
      return jax.tree.map(lambda x: jax.ShapeDtypeStruct(
          (count, *x.shape[:2], x.shape[2] // count, *x.shape[3:]), x.dtype),
                          tree)
    sharding = self._rows(leading=2)
    return jax.tree.map(lambda x: jax.ShapeDtypeStruct(
        (*x.shape[:2], x.shape[2] * jax.process_count(), *x.shape[3:]),
        x.dtype, sharding=sharding), tree)

  # --- The step.

  def compile(self, per_device: Callable, state: PyTree,
              batches: tuple = ()) -> Callable:
    """Compiles ``per_device(state, *batches) -> (state, metrics)``, written
    with :attr:`batch_axis`, for this mode; the state argument is donated.

    ``state`` is in the step layout, ``batches`` are shapes from
    :meth:`batch_shapes` (empty for data sampled inside the step); the
    metrics come back equal on every device, as one value each.
    """
    options = xla_cpu_options.compiler_options(self.cpu_scheduler,
                                               self.cpu_kernels)
    if self.mode == 'none':
      return jax.jit(per_device, donate_argnums=0).lower(
          state, *batches).compile(options)
    if self.mode == 'pmap':
      step = jax.pmap(per_device, axis_name=AXIS, donate_argnums=0)
      compiled = step.lower(state, *batches).compile(options)
      run = lambda state, *b: _first_of_metrics(compiled(state, *b))
    else:
      per_device = jax.shard_map(
          per_device, mesh=self.mesh,
          in_specs=(P(),) + (P(None, None, AXIS),) * len(batches),
          out_specs=P(), check_vma=False)
      shapes = jax.tree.map(
          lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype,
                                         sharding=self._replicated()), state)
      run = jax.jit(per_device, donate_argnums=0).lower(
          shapes, *batches).compile(options)
    if jax.default_backend() != 'cpu':
      return run
    # Several CPU devices (simulated ones, in tests and on laptops): with
    # many multi-device calls queued, XLA:CPU's collectives were seen to
    # deadlock (dcgan_digits, 8 simulated devices on 2 cores, shard_map:
    # "only 7 of 8 threads arrived" at an all-reduce). Waiting for each call
    # avoids it and costs little on CPU, where dispatch barely overlaps.
    return lambda *args: jax.block_until_ready(run(*args))

  # --- Rows of evaluation (samples, features).

  def put_rows(self, x: np.ndarray) -> jax.Array:
    """``x`` (``[n, ...]``, the same on every process) with its rows
    zero-padded to a multiple of the devices and sharded over them."""
    x = _local_value(x)
    pad = -x.shape[0] % self.num_shards
    if pad:
      x = np.concatenate([x, np.zeros((pad, *x.shape[1:]), x.dtype)])
    sharding = self._rows()
    return jax.make_array_from_callback(x.shape, sharding,
                                        lambda index: x[index])

  def get_rows(self, x: jax.Array, num_rows: int) -> np.ndarray:
    """The first ``num_rows`` rows of a row-sharded array, as numpy, on every
    process."""
    if jax.process_count() > 1:
      x = multihost_utils.process_allgather(x, tiled=True)
    return np.asarray(x)[:num_rows]

  def rows_sharding(self) -> NamedSharding:
    """The sharding of :meth:`put_rows` arrays (for a jit's out_shardings)."""
    return self._rows()


def _local_value(x) -> np.ndarray:
  """A numpy copy of ``x`` from this process's first replica (arrays that
  span processes are not fully addressable)."""
  if isinstance(x, jax.Array) and not x.is_fully_addressable:
    return np.asarray(x.addressable_data(0))
  return np.asarray(x)


def _first_of_metrics(outputs):
  state, metrics = outputs
  return state, jax.tree.map(lambda m: m[0], metrics)


def local_copy(tree: PyTree) -> PyTree:
  """This process's own copy of globally replicated arrays, on one local
  device, for work that only process 0 does (diagnostics, sample grids):
  computing on it involves no other process."""
  return jax.tree.map(
      lambda x: x.addressable_data(0) if isinstance(x, jax.Array) else x,
      tree)
