"""Layers behind the model options that stabilise GAN training.

Each is a Flax module or a small function; the model families switch them on
with constructor flags, so they can be ablated like the tricks.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

NORMALIZATIONS = ('none', 'batch', 'layer')


def normalize(x: jax.Array, kind: str, train: bool) -> jax.Array:
  """Batch norm (running statistics at eval), layer norm or nothing.

  Must be called inside a compact module (it creates submodules).
  """
  if kind == 'batch':
    return nn.BatchNorm(use_running_average=not train, momentum=0.9)(x)
  if kind == 'layer':
    return nn.LayerNorm()(x)
  if kind == 'none':
    return x
  raise ValueError(f'unknown normalization {kind!r}; allowed: '
                   f'{", ".join(NORMALIZATIONS)}')


class VirtualBatchNorm(nn.Module):
  """Virtual batch normalisation (Salimans et al. 2016, Sec. 3.4).

  The first ``num_reference`` rows of the input are a reference batch, fixed
  once at the start of training and run through the network with every
  batch. They are normalised with their own statistics; every other row x is
  normalised with the statistics of the reference batch plus x itself, so an
  example's output never depends on the other examples of its minibatch.
  """
  num_reference: int
  epsilon: float = 1e-5

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    n = self.num_reference
    reference = x[:n]
    ref_mean = jnp.mean(reference, axis=0)
    ref_sq = jnp.mean(jnp.square(reference), axis=0)
    # Reference rows: their own statistics.
    ref_out = (reference - ref_mean) * jax.lax.rsqrt(
        ref_sq - jnp.square(ref_mean) + self.epsilon)
    # Other rows: the reference batch with the row itself, weight 1 / (n + 1).
    rows = x[n:]
    mean = (n * ref_mean + rows) / (n + 1)
    sq = (n * ref_sq + jnp.square(rows)) / (n + 1)
    rows_out = (rows - mean) * jax.lax.rsqrt(sq - jnp.square(mean) + self.epsilon)
    scale = self.param('scale', nn.initializers.ones, (x.shape[-1],))
    bias = self.param('bias', nn.initializers.zeros, (x.shape[-1],))
    return jnp.concatenate([ref_out, rows_out]) * scale + bias


class MinibatchDiscrimination(nn.Module):
  """Minibatch discrimination (Salimans et al. 2016, Sec. 3.2).

  Projects each example's features to ``num_kernels`` rows of
  ``kernel_dim`` (the tensor T of the paper), and appends, per kernel, the
  sum over the other examples of exp(−L1 distance): a critic that sees these
  can tell a collapsed batch from a diverse one.
  """
  num_kernels: int
  kernel_dim: int = 5

  @nn.compact
  def __call__(self, features: jax.Array) -> jax.Array:
    batch = features.shape[0]
    flat = features.reshape(batch, -1)
    m = nn.Dense(self.num_kernels * self.kernel_dim, use_bias=False,
                 kernel_init=nn.initializers.normal(0.1))(flat)
    m = m.reshape(batch, self.num_kernels, self.kernel_dim)
    # L1 distances [batch, batch, kernels], one kernel dimension at a time so
    # the [batch, batch, kernels, kernel_dim] difference is never formed.
    l1 = sum(jnp.abs(m[:, None, :, c] - m[None, :, :, c])
             for c in range(self.kernel_dim))
    similarity = jnp.sum(jnp.exp(-l1), axis=1) - 1.0  # Minus the self term.
    return jnp.concatenate([flat, similarity], axis=-1)


def minibatch_stddev(features: jax.Array, group_size: int = 4) -> jax.Array:
  """Appends the minibatch standard deviation (Karras et al. 2018, Sec. 3).

  The batch is split into groups of ``group_size``; within each group the
  standard deviation of every feature is averaged into one number, appended
  to the features of the group's examples (as a constant feature map for
  images: ``features`` is ``[batch, ...]``, the statistic broadcast over all
  but the last axis).
  """
  batch = features.shape[0]
  group = min(group_size, batch)
  if batch % group:
    raise ValueError(f'minibatch stddev: batch {batch} is not divisible by '
                     f'group size {group}')
  grouped = features.reshape(group, batch // group, *features.shape[1:])
  std = jnp.sqrt(jnp.var(grouped, axis=0) + 1e-8)
  stat = jnp.mean(std.reshape(batch // group, -1), axis=1)  # [batch / group]
  stat = jnp.tile(stat, group)  # Example i belongs to group i % (batch/group).
  stat = stat.reshape((batch,) + (1,) * (features.ndim - 1))
  stat = jnp.broadcast_to(stat, features.shape[:-1] + (1,))
  return jnp.concatenate([features, stat], axis=-1)
