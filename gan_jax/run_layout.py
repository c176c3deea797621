"""How the train states of the runs trained together sit on the devices.

One run is trained in the layout of its data parallelism
(:class:`gan_jax.parallel.DataParallel`). Several runs that differ only in
their seed can instead be trained as one computation: their states are
stacked on a leading *seed axis* and the fused train steps are ``jax.vmap`` ed
over it, so N small models make one program of N-times wider operations
instead of N dispatch-bound ones (the main speed lever of seed sweeps on an
accelerator). Each run keeps its own PRNG key inside its state, so a
vmapped run draws the same data, latents and noise as the same seed trained
alone. Results agree up to the float rounding of batched operations,
which training amplifies: on ring8 the states agree to ~1e-6 after a few
steps, but ~1 % of the generator's weights differ after 20, so a vmapped
run is a sample of the same distribution over seeds, not a bit-identical
copy of the sequential run.

The stacked layout uses one device: seeds are the parallelism, not the
batch.
"""

import dataclasses
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax import parallel

PyTree = Any


class RunLayout:
  """The train state(s) of ``num_runs`` runs in the layout the step needs.

  Args:
    data_parallel: how one run spreads over devices (used when
      ``num_runs == 1``).
    num_runs: 1 for one run; more for runs stacked on a seed axis.
  """

  def __init__(self, data_parallel: parallel.DataParallel, num_runs: int):
    self.stacked = num_runs > 1
    self.num_runs = num_runs
    self.data_parallel = (
        dataclasses.replace(data_parallel, mode='none')
        if self.stacked else data_parallel)

  @property
  def batch_axis(self) -> str | None:
    return self.data_parallel.batch_axis

  def to_step(self, states: list[PyTree]) -> PyTree:
    """The runs' globally replicated states -> the step's input."""
    if not self.stacked:
      return self.data_parallel.from_global(states[0])
    return jax.tree.map(lambda *x: jnp.stack(x), *states)

  def to_runs(self, state: PyTree) -> list[PyTree]:
    """The step's state -> each run's globally replicated state."""
    if not self.stacked:
      return [self.data_parallel.to_global(state)]
    return self.split(state)

  def split(self, tree: PyTree) -> list[PyTree]:
    """Outputs of the step (e.g. metrics, on the host) -> one per run."""
    if not self.stacked:
      return [tree]
    return [jax.tree.map(lambda x, i=i: x[i], tree)
            for i in range(self.num_runs)]

  def put_batches(self, batches: list[tuple]) -> tuple:
    """Each run's host batches (``HostBatches.take``) -> the step's input."""
    if not self.stacked:
      return self.data_parallel.put_batches(batches[0])
    return jax.tree.map(lambda *x: np.stack(x), *batches)

  def batch_shapes(self, shapes: tuple) -> tuple:
    """One run's batch shapes -> the shapes of :meth:`put_batches`."""
    if not self.stacked:
      return self.data_parallel.batch_shapes(shapes)
    return jax.tree.map(lambda s: jax.ShapeDtypeStruct(
        (self.num_runs, *s.shape), s.dtype), shapes)

  def compile(self, fused_steps: Callable, state: PyTree,
              batch_shapes: tuple) -> Callable:
    """Compiles one run's fused steps for this layout (state donated)."""
    if self.stacked:
      fused_steps = jax.vmap(fused_steps)
    return self.data_parallel.compile(fused_steps, state, batch_shapes)
