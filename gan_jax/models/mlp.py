"""Multilayer perceptrons for low-dimensional data (2-D mixtures).

The defaults follow the 2-D mixture experiments of Metz et al. 2017
("Unrolled Generative Adversarial Networks") and the VEEGAN / PacGAN papers
that reuse their protocol: fully connected ReLU layers of 128 units.
"""

import math
from typing import Sequence

import flax.linen as nn
import jax.numpy as jnp

from gan_jax.models import common


class MLPGenerator(nn.Module):
  """Maps latent vectors to samples of shape ``output_shape``.

  Attributes:
    output_shape: shape of one generated sample, e.g. ``(2,)``.
    width: units per hidden layer.
    depth: number of hidden layers.
    activation: name from ``common.ACTIVATIONS``.
  """
  output_shape: Sequence[int]
  width: int = 128
  depth: int = 2
  activation: str = 'relu'

  @nn.compact
  def __call__(self, z, train: bool = True):
    del train  # No train-only behaviour (dropout, batch norm) in this model.
    act = common.activation(self.activation)
    h = z
    for _ in range(self.depth):
      h = act(nn.Dense(self.width)(h))
    out = nn.Dense(math.prod(self.output_shape))(h)
    return out.reshape((z.shape[0], *self.output_shape))


class MLPCritic(nn.Module):
  """Scores samples; returns the logits and the last hidden features.

  Attributes:
    width: units per hidden layer.
    depth: number of hidden layers (at least 1, so there are features).
    activation: name from ``common.ACTIVATIONS``.
  """
  width: int = 128
  depth: int = 1
  activation: str = 'relu'

  @nn.compact
  def __call__(self, x, train: bool = True) -> common.CriticOutput:
    del train
    act = common.activation(self.activation)
    h = x.reshape((x.shape[0], -1)).astype(jnp.float32)
    for _ in range(self.depth):
      h = act(nn.Dense(self.width)(h))
    logits = nn.Dense(1)(h)[:, 0]
    return common.CriticOutput(logits=logits, features=h)
