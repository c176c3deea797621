"""Statistics and random draws over the global batch, from a per-device step.

Under data parallelism (:mod:`gan_jax.parallel`) each device runs the same
step on its rows of the global batch, with the devices named by a mesh axis
(``batch_axis``, ``'data'``). Whatever depends on more than one example —
batch-norm statistics, minibatch features, feature-matching means, the
standard deviation of a batch — must be computed over the global batch, or
a sharded run would train a different model from the single-device run on
the same global batch. Random draws are made for the whole global batch and
sliced, so device ``i`` gets exactly the numbers rows ``i·b … (i+1)·b − 1``
get on one device.

Every function takes ``batch_axis=None`` to mean "not sharded": then it is
the plain single-device computation, so models and tricks call them
unconditionally.
"""

from typing import Callable, Sequence

import jax
import jax.numpy as jnp


def num_shards(batch_axis: str | None) -> int:
  """How many devices share the batch (1 when not sharded)."""
  return 1 if batch_axis is None else jax.lax.axis_size(batch_axis)


def mean(x: jax.Array, batch_axis: str | None, axis: int = 0) -> jax.Array:
  """The mean over the global batch of ``x``'s per-device ``axis``.

  Every device holds the same number of rows, so the mean of the per-device
  means is the global mean.
  """
  local = jnp.mean(x, axis=axis)
  return local if batch_axis is None else jax.lax.pmean(local, batch_axis)


def gather(x: jax.Array, batch_axis: str | None) -> jax.Array:
  """All rows of the global batch, in global order, on every device."""
  if batch_axis is None:
    return x
  return jax.lax.all_gather(x, batch_axis, axis=0, tiled=True)


def average(tree, batch_axis: str | None):
  """The average over devices of per-device values (gradients, metrics)."""
  return tree if batch_axis is None else jax.lax.pmean(tree, batch_axis)


def local_rows(x: jax.Array, batch_axis: str | None,
               axis: int = 0) -> jax.Array:
  """This device's rows of ``x``, whose ``axis`` runs over the global batch."""
  if batch_axis is None:
    return x
  rows = x.shape[axis] // num_shards(batch_axis)
  start = jax.lax.axis_index(batch_axis) * rows
  return jax.lax.dynamic_slice_in_dim(x, start, rows, axis=axis)


def draw(sampler: Callable[[jax.Array, tuple[int, ...]], jax.Array],
         key: jax.Array, shape: Sequence[int],
         batch_axis: str | None) -> jax.Array:
  """This device's ``shape`` rows of ``sampler(key, global shape)``.

  ``shape`` is per device; the global draw has ``num_shards`` times its
  rows. Drawing the global array on every device costs a few random numbers
  per example (latents, noise) and makes a sharded run draw exactly what
  the single-device run draws.
  """
  shape = tuple(shape)
  global_shape = (shape[0] * num_shards(batch_axis), *shape[1:])
  return local_rows(sampler(key, global_shape), batch_axis)


def device_key(key: jax.Array, batch_axis: str | None) -> jax.Array:
  """A key of this device's own, for randomness drawn inside a module at
  the per-device shape (dropout), so devices do not repeat each other."""
  if batch_axis is None:
    return key
  return jax.random.fold_in(key, jax.lax.axis_index(batch_axis))
