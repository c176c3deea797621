"""A critic of (image, code) pairs: the discriminator of ALI / BiGAN.

D(x, z) sees an image and a code together (Dumoulin et al. 2017, Donahue et
al. 2017): real pairs (x, E(x)) against generated ones (G(z), z). Its input
is one flat array, the image flattened and the code concatenated, so every
trick that acts on critic inputs (instance noise, gradient penalties) and
the diagnostics work on pairs unchanged; the module splits it back.
"""

import math
from typing import Any, Mapping, Sequence

import flax
import flax.linen as nn
import jax.numpy as jnp

from gan_jax.models import common


def join(x, z):
  """``[batch, *sample_shape]`` images and ``[batch, d]`` codes -> the flat
  ``[batch, prod(sample_shape) + d]`` input of :class:`JointCritic`."""
  return jnp.concatenate([x.reshape(x.shape[0], -1), z], axis=-1)


class JointCritic(nn.Module):
  """D(x, z): an image trunk and a code MLP, joined by an MLP.

  ALI's discriminator: D_x(x) and D_z(z) computed apart, concatenated, then
  D_xz; dropout (0.2 in the paper) in the code and joint parts.

  Attributes:
    sample_shape: the images' shape; set by the library.
    latent_dim: the codes' size; set by the library.
    trunk: name of the critic whose features represent the image.
    trunk_args: its constructor arguments.
    width: units of each code and joint layer.
    depth: layers of the code MLP and of the joint MLP each.
    dropout: dropout rate in the code and joint layers (training only).
    batch_axis: the mesh axis of a sharded step; set by the library.
  """
  sample_shape: Sequence[int]
  latent_dim: int
  trunk: str = 'dcgan'
  trunk_args: Mapping[str, Any] = flax.core.FrozenDict()
  width: int = 512
  depth: int = 2
  dropout: float = 0.2
  batch_axis: str | None = None

  @nn.compact
  def __call__(self, inputs, train: bool = True) -> common.CriticOutput:
    from gan_jax import models  # pylint: disable=g-import-not-at-top
    size = math.prod(self.sample_shape)
    if inputs.shape[-1] != size + self.latent_dim:
      raise ValueError(f'joint critic input of size {inputs.shape[-1]}; '
                       f'expected {size} (image) + {self.latent_dim} (code)')
    x = inputs[:, :size].reshape(-1, *self.sample_shape)
    z = inputs[:, size:]
    trunk = models.build_critic(self.trunk, self.trunk_args,
                                batch_axis=self.batch_axis)
    image_features = trunk(x, train=train).features
    act = common.activation('leaky_relu')

    def mlp(h):
      for _ in range(self.depth):
        h = act(nn.Dense(self.width)(h))
        h = nn.Dropout(self.dropout, deterministic=not train)(h)
      return h

    code_features = mlp(z)
    features = mlp(jnp.concatenate(
        [image_features.reshape(x.shape[0], -1), code_features], axis=-1))
    return common.CriticOutput(logits=nn.Dense(1)(features)[:, 0],
                               features=features)
