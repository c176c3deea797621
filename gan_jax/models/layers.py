"""Layers behind the model options that stabilise GAN training.

Each is a Flax module or a small function; the model families switch them on
with constructor flags, so they can be ablated like the tricks.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax import global_batch
from gan_jax.models import common

NORMALIZATIONS = ('none', 'batch', 'layer')


def normalize(x: jax.Array, kind: str, train: bool,
              labels: jax.Array | None = None,
              num_classes: int = 0,
              batch_axis: str | None = None) -> jax.Array:
  """Batch norm (running statistics at eval), layer norm or nothing.

  Batch statistics are over the global batch when the step is sharded over
  ``batch_axis`` (cross-replica batch norm). With ``num_classes > 0`` the
  learned scale and offset are chosen by each example's class label
  (:class:`ClassConditionalAffine`): conditional batch norm when ``kind`` is
  ``batch``. Must be called inside a compact module (it creates
  submodules).
  """
  learned_affine = not num_classes
  if kind == 'batch':
    x = nn.BatchNorm(use_running_average=not train, momentum=0.9,
                     use_scale=learned_affine, use_bias=learned_affine,
                     axis_name=batch_axis if train else None)(x)
  elif kind == 'layer':
    x = nn.LayerNorm(use_scale=learned_affine, use_bias=learned_affine)(x)
  elif kind != 'none':
    raise ValueError(f'unknown normalization {kind!r}; allowed: '
                     f'{", ".join(NORMALIZATIONS)}')
  if num_classes:
    x = ClassConditionalAffine(num_classes)(x, labels)
  return x


def needs_bias(normalization: str) -> bool:
  """Whether a layer whose output goes straight into ``normalization``
  needs a bias of its own. Not before (virtual) batch norm: its mean
  subtraction cancels the bias, whose gradient is then exactly 0 and whose
  Adam updates would be float noise scaled up to the learning rate (and
  differ between a sharded and a single-device run)."""
  return normalization not in ('batch', 'virtual_batch')


def _require_labels(labels: jax.Array | None, what: str) -> jax.Array:
  if labels is None:
    raise ValueError(f'{what} is class-conditional and needs labels')
  return labels


class ClassConditionalAffine(nn.Module):
  """Per-class scale and offset of the last axis: x · γ[y] + β[y].

  After a normalisation without its own affine parameters this is
  conditional batch normalisation (de Vries et al. 2017; Dumoulin et al.
  2017), the generator side of the projection-discriminator cGAN (Miyato &
  Koyama 2018). γ starts at 1 and β at 0 for every class.
  """
  num_classes: int

  @nn.compact
  def __call__(self, x: jax.Array, labels: jax.Array | None) -> jax.Array:
    labels = _require_labels(labels, 'conditional normalization')
    features = x.shape[-1]
    scale = nn.Embed(self.num_classes, features,
                     embedding_init=nn.initializers.ones, name='scale')(labels)
    offset = nn.Embed(self.num_classes, features,
                      embedding_init=nn.initializers.zeros,
                      name='offset')(labels)
    broadcast = (x.shape[0],) + (1,) * (x.ndim - 2) + (features,)
    return x * scale.reshape(broadcast) + offset.reshape(broadcast)


def critic_output(features: jax.Array, labels: jax.Array | None,
                  num_classes: int):
  """The :class:`CriticOutput` of a critic whose last hidden activations are
  ``features`` (``[batch, ...]``): projection (or plain) logits on them.
  Must be called inside a compact module."""
  flat = features.reshape(features.shape[0], -1)
  return common.CriticOutput(
      logits=ProjectionLogits(num_classes)(flat, labels), features=flat)


class ProjectionLogits(nn.Module):
  """Critic output layer: ψ(φ) + ⟨V[y], φ⟩ for features φ and label y.

  The projection discriminator (Miyato & Koyama 2018, Eq. 3): the class
  enters as the inner product of a learned class embedding with the
  critic's features, instead of being concatenated to the input. With
  ``num_classes == 0`` only the unconditional term ψ(φ) (one dense unit).
  """
  num_classes: int = 0

  @nn.compact
  def __call__(self, features: jax.Array,
               labels: jax.Array | None = None) -> jax.Array:
    logits = nn.Dense(1)(features)[:, 0]
    if self.num_classes:
      labels = _require_labels(labels, 'the projection critic')
      embedding = nn.Embed(self.num_classes, features.shape[-1],
                           embedding_init=nn.initializers.xavier_uniform())
      logits += jnp.sum(embedding(labels) * features, axis=-1)
    return logits


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
    rows_out = (rows - mean) * jax.lax.rsqrt(
        sq - jnp.square(mean) + self.epsilon)
    scale = self.param('scale', nn.initializers.ones, (x.shape[-1],))
    bias = self.param('bias', nn.initializers.zeros, (x.shape[-1],))
    return jnp.concatenate([ref_out, rows_out]) * scale + bias


class MinibatchDiscrimination(nn.Module):
  """Minibatch discrimination (Salimans et al. 2016, Sec. 3.2).

  Projects each example's features to ``num_kernels`` rows of
  ``kernel_dim`` (the tensor T of the paper), and appends, per kernel, the
  sum over the other examples of exp(−L1 distance): a critic that sees these
  can tell a collapsed batch from a diverse one. The other examples are
  those of the global batch when the step is sharded over ``batch_axis``.
  """
  num_kernels: int
  kernel_dim: int = 5
  batch_axis: str | None = None

  @nn.compact
  def __call__(self, features: jax.Array) -> jax.Array:
    batch = features.shape[0]
    flat = features.reshape(batch, -1)
    m = nn.Dense(self.num_kernels * self.kernel_dim, use_bias=False,
                 kernel_init=nn.initializers.normal(0.1))(flat)
    m = m.reshape(batch, self.num_kernels, self.kernel_dim)
    everyone = global_batch.gather(m, self.batch_axis)
    # L1 distances [batch, global batch, kernels], one kernel dimension at a
    # time so the [batch, batch, kernels, kernel_dim] difference is never
    # formed.
    l1 = sum(jnp.abs(m[:, None, :, c] - everyone[None, :, :, c])
             for c in range(self.kernel_dim))
    similarity = jnp.sum(jnp.exp(-l1), axis=1) - 1.0  # Minus the self term.
    return jnp.concatenate([flat, similarity], axis=-1)


def minibatch_stddev(features: jax.Array, group_size: int = 4,
                     batch_axis: str | None = None) -> jax.Array:
  """Appends the minibatch standard deviation (Karras et al. 2018, Sec. 3).

  The batch is split into groups of ``group_size``; within each group the
  standard deviation of every feature is averaged into one number, appended
  to the features of the group's examples (as a constant feature map for
  images: ``features`` is ``[batch, ...]``, the statistic broadcast over all
  but the last axis). Groups are formed over the global batch when the step
  is sharded over ``batch_axis``.
  """
  local = features
  features = global_batch.gather(features, batch_axis)
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
  stat = global_batch.local_rows(stat, batch_axis)
  stat = jnp.broadcast_to(stat, local.shape[:-1] + (1,))
  return jnp.concatenate([local, stat], axis=-1)
