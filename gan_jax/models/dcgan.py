"""DCGAN generator and critic (Radford, Metz & Chintala 2016).

The architecture guidelines of the paper: strided convolutions in the critic
and fractionally-strided (×2 upsampling) convolutions in the generator, no
pooling, no hidden dense layer beyond the generator's projection of z, batch
norm with ReLU in the generator, LeakyReLU(0.2) in the critic, tanh output.
Resolution 8, 16, 32 or 64: the generator projects z to a 4×4 map and doubles
it until the resolution; the critic halves it back to 4×4.

With ``num_classes > 0`` (``config.model.conditional``) both are
class-conditional as in Miyato & Koyama 2018: conditional batch norm in the
generator, a projection output layer in the critic.
"""

import math
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax.models import common
from gan_jax.models import conv
from gan_jax.models import layers
from gan_jax.models import upsampling

RESOLUTIONS = (8, 16, 32, 64)


def _num_doublings(resolution: int) -> int:
  if resolution not in RESOLUTIONS:
    raise ValueError(f'DCGAN resolution {resolution} not supported; allowed: '
                     f'{", ".join(map(str, RESOLUTIONS))}')
  return int(math.log2(resolution // 4))


class DCGANGenerator(nn.Module):
  """z -> ``output_shape`` = (resolution, resolution, channels) in [-1, 1].

  Attributes:
    output_shape: ``(height, width, channels)``, height == width in 8..64.
    width: channels of the last hidden map; each map closer to z doubles it.
    normalization: ``batch`` (the paper), ``layer`` or ``none``.
    upsampling: ``transposed`` (the paper), ``subpixel`` or ``nearest``
      (``gan_jax.models.upsampling``).
    num_classes: > 0 for a class-conditional generator (per-class scale and
      offset in every normalisation); set by the library.
    batch_axis: the mesh axis a sharded train step splits the batch over,
      so batch statistics are global (:mod:`gan_jax.global_batch`); set by
      the library.
  """
  output_shape: Sequence[int]
  width: int = 64
  normalization: str = 'batch'
  upsampling: str = 'transposed'
  num_classes: int = 0
  batch_axis: str | None = None

  @nn.compact
  def __call__(self, z, labels=None, train: bool = True):
    height, width, channels = self.output_shape
    if height != width:
      raise ValueError(f'DCGAN needs square images, got {self.output_shape}')
    doublings = _num_doublings(height)
    features = self.width * 2 ** (doublings - 1)
    bias = layers.needs_bias(self.normalization)
    h = nn.Dense(4 * 4 * features, use_bias=bias)(z).reshape(
        z.shape[0], 4, 4, features)
    norm = lambda h: layers.normalize(h, self.normalization, train, labels,
                                      self.num_classes, self.batch_axis)
    h = jax.nn.relu(norm(h))
    for _ in range(doublings - 1):
      features //= 2
      h = upsampling.Upsample(features, self.upsampling, use_bias=bias)(h)
      h = jax.nn.relu(norm(h))
    out = upsampling.Upsample(channels, self.upsampling)(h)
    return jnp.tanh(out)


class DCGANCritic(nn.Module):
  """Images -> logits, with the last convolutional map as features.

  Attributes:
    width: channels of the first convolution; each stride-2 convolution
      doubles them.
    normalization: after every convolution but the first: ``batch`` (the
      paper), ``layer`` or ``none`` (use none or layer with gradient
      penalties, Gulrajani et al. 2017).
    minibatch_stddev: append the minibatch standard deviation map (Karras et
      al. 2018) before the output layer.
    minibatch_stddev_group: its group size.
    num_classes: > 0 for a projection critic; set by the library.
    batch_axis: the mesh axis a sharded train step splits the batch over,
      so batch statistics are global (:mod:`gan_jax.global_batch`); set by
      the library.
  """
  width: int = 64
  normalization: str = 'batch'
  minibatch_stddev: bool = False
  minibatch_stddev_group: int = 4
  num_classes: int = 0
  batch_axis: str | None = None

  @nn.compact
  def __call__(self, x, labels=None,
               train: bool = True) -> common.CriticOutput:
    doublings = _num_doublings(x.shape[1])
    act = common.activation('leaky_relu')
    h = x.astype(jnp.float32)
    features = self.width
    for index in range(doublings):
      h = conv.Conv(features, (4, 4), strides=(2, 2), padding='SAME',
                           use_bias=not index or layers.needs_bias(
                               self.normalization))(h)
      if index:
        h = layers.normalize(h, self.normalization, train,
                             batch_axis=self.batch_axis)
      h = act(h)
      features *= 2
    feature_map = h
    if self.minibatch_stddev:
      h = layers.minibatch_stddev(h, self.minibatch_stddev_group,
                                  self.batch_axis)
    logits = layers.ProjectionLogits(self.num_classes)(
        h.reshape(h.shape[0], -1), labels)
    return common.CriticOutput(logits=logits,
                               features=feature_map.reshape(h.shape[0], -1))
