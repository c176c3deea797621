"""Multilayer perceptrons for low-dimensional data (2-D mixtures).

The defaults follow the 2-D mixture experiments of Metz et al. 2017
(Unrolled GAN) and the VEEGAN / GDPP code that reuses their protocol: fully
connected ReLU layers of 128 units. The stabilising options of Salimans et al.
2016 and Karras et al. 2018 are flags, so they can be ablated like the tricks.
"""

import math
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax.models import common
from gan_jax.models import layers

GENERATOR_NORMALIZATIONS = layers.NORMALIZATIONS + ('virtual_batch',)


class MLPGenerator(nn.Module):
  """Maps latent vectors to samples of shape ``output_shape``.

  Attributes:
    output_shape: shape of one generated sample, e.g. ``(2,)``.
    width: units per hidden layer.
    depth: number of hidden layers.
    activation: name from ``common.ACTIVATIONS``.
    normalization: after each hidden layer: ``none``, ``batch``, ``layer``, or
      ``virtual_batch`` (Salimans et al. 2016; the reference latents are drawn
      once at initialisation and kept in the ``constants`` collection).
    vbn_reference_size: size of the virtual-batch-norm reference batch.
    dropout: dropout rate after each hidden layer, applied at sampling time
      too (noise from dropout, as in Isola et al. 2017); needs a ``dropout``
      PRNG stream.
    batch_axis: the mesh axis a sharded train step splits the batch over,
      so batch statistics are global (:mod:`gan_jax.global_batch`); set by
      the library.
  """
  output_shape: Sequence[int]
  width: int = 128
  depth: int = 2
  activation: str = 'relu'
  normalization: str = 'none'
  vbn_reference_size: int = 64
  dropout: float = 0.0
  batch_axis: str | None = None

  @nn.compact
  def __call__(self, z, train: bool = True):
    if self.normalization not in GENERATOR_NORMALIZATIONS:
      raise ValueError(f'unknown generator normalization '
                       f'{self.normalization!r}; allowed: '
                       f'{", ".join(GENERATOR_NORMALIZATIONS)}')
    act = common.activation(self.activation)
    virtual = self.normalization == 'virtual_batch'
    num_reference = self.vbn_reference_size if virtual else 0
    h = z
    if virtual:
      reference = self.variable(
          'constants', 'reference_z', lambda: jax.random.normal(
              self.make_rng('params'), (num_reference, z.shape[-1]), z.dtype))
      h = jnp.concatenate([reference.value, z])
    for _ in range(self.depth):
      h = nn.Dense(self.width,
                   use_bias=layers.needs_bias(self.normalization))(h)
      if virtual:
        h = layers.VirtualBatchNorm(num_reference)(h)
      else:
        h = layers.normalize(h, self.normalization, train,
                             batch_axis=self.batch_axis)
      h = act(h)
      if self.dropout:
        h = nn.Dropout(self.dropout, deterministic=False)(h)
    out = nn.Dense(math.prod(self.output_shape))(h[num_reference:])
    return out.reshape((z.shape[0], *self.output_shape))


class MLPCritic(nn.Module):
  """Scores samples; returns the logits and the last hidden features.

  Attributes:
    width: units per hidden layer.
    depth: number of hidden layers (at least 1, so there are features).
    activation: name from ``common.ACTIVATIONS``.
    normalization: after each hidden layer: ``none``, ``batch`` or ``layer``.
    minibatch_discrimination: number of minibatch-discrimination kernels
      (Salimans et al. 2016) before the output layer; 0 for none.
    minibatch_kernel_dim: dimension of each of those kernels.
    minibatch_stddev: append the minibatch standard deviation (Karras et al.
      2018) before the output layer.
    minibatch_stddev_group: its group size.
    batch_axis: the mesh axis a sharded train step splits the batch over,
      so batch statistics are global (:mod:`gan_jax.global_batch`); set by
      the library.
  """
  width: int = 128
  depth: int = 2
  activation: str = 'relu'
  normalization: str = 'none'
  minibatch_discrimination: int = 0
  minibatch_kernel_dim: int = 5
  minibatch_stddev: bool = False
  minibatch_stddev_group: int = 4
  batch_axis: str | None = None

  @nn.compact
  def __call__(self, x, train: bool = True) -> common.CriticOutput:
    if self.depth < 1:
      raise ValueError(f'critic depth={self.depth} must be >= 1')
    act = common.activation(self.activation)
    h = x.reshape((x.shape[0], -1)).astype(jnp.float32)
    for _ in range(self.depth):
      dense = nn.Dense(self.width,
                       use_bias=layers.needs_bias(self.normalization))
      h = act(layers.normalize(dense(h), self.normalization,
                               train, batch_axis=self.batch_axis))
    features = h
    if self.minibatch_discrimination:
      h = layers.MinibatchDiscrimination(self.minibatch_discrimination,
                                         self.minibatch_kernel_dim,
                                         self.batch_axis)(h)
    if self.minibatch_stddev:
      h = layers.minibatch_stddev(h, self.minibatch_stddev_group,
                                  self.batch_axis)
    logits = nn.Dense(1)(h)[:, 0]
    return common.CriticOutput(logits=logits, features=features)
