"""The host pipeline's real batches, stacked for the fused train calls."""

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax import data


class HostBatches:
  """Real batches from the host pipeline, for datasets not sampled on device.

  ``take(n)`` stacks the next ``n · n_critic`` batches into the
  :class:`data.Batch` of ``[n, n_critic, batch_size, ...]`` arrays a fused
  call scans over; for on-device datasets it gives no argument at all. The
  pipeline's position is checkpointed with the train state, so a resumed run
  reads the next batch.
  """

  def __init__(self, gan, seed: int):
    """``gan``: the experiment (:class:`gan_jax.train.state.Gan`): its
    dataset, batch size and n_critic."""
    self._gan = gan
    self._iterator = None
    self.last = None
    self._last_take = {}  # Where the last take began, and its length.
    if not data.is_on_device(gan.dataset):
      self._iterator = gan.dataset.batches(
          gan.batch_size, seed, jax.process_index(), jax.process_count())

  def shapes(self, num_steps: int) -> tuple[data.Batch, ...]:
    """Shapes of :meth:`take`: this process's share of the global batch."""
    if self._iterator is None:
      return ()
    leading = (num_steps, self._gan.n_critic,
               self._gan.batch_size // jax.process_count())
    return (data.Batch(
        jax.ShapeDtypeStruct((*leading, *self._gan.dataset.sample_shape),
                             jnp.float32),
        jax.ShapeDtypeStruct(leading, jnp.int32)),)

  def take(self, num_steps: int) -> tuple[data.Batch, ...]:
    if self._iterator is None:
      return ()
    self._last_take = {'state': self._iterator.get_state(),
                       'num_steps': num_steps}
    records = [next(self._iterator)
               for _ in range(num_steps * self._gan.n_critic)]
    batches = data.Batch(
        *(np.stack([r[key] for r in records]).reshape(
            num_steps, self._gan.n_critic, *records[0][key].shape)
          for key in ('image', 'label')))
    self.last = jax.tree.map(lambda x: x[-1], batches)
    return (batches,)

  def get_state(self) -> dict:
    return {} if self._iterator is None else self._iterator.get_state()

  def set_state(self, state: dict) -> None:
    if self._iterator is not None and state:
      self._iterator.set_state(state)

  def last_take(self) -> dict:
    """What :meth:`replay` needs to read the last take again."""
    return self._last_take

  def replay(self, last_take: dict) -> None:
    """Reads the take ``last_take`` describes again, so :attr:`last` is as
    it was then (and the position after it): a resumed run redoing the
    diagnostics of its step needs the step's batch."""
    if self._iterator is not None and last_take:
      self._iterator.set_state(last_take['state'])
      self.take(last_take['num_steps'])

  def close(self) -> None:
    if self._iterator is not None:
      self._iterator.close()
