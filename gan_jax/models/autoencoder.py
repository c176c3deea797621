"""An encoder-decoder pair as one generator-side player.

The generator side of ALI / BiGAN (Dumoulin et al. 2017; Donahue et al.
2017) and of the adversarial autoencoder (Makhzani et al. 2016) has two
networks trained together: a decoder (generator) G: z -> x and an encoder
E: x -> z. Both are built from the registered models: the decoder is any
generator, the encoder is any critic's trunk (its last hidden features)
followed by a dense layer to the code. ``__call__`` decodes, so sampling,
evaluation and sample grids treat this module like any generator;
``encode`` maps images to codes.
"""

from typing import Any, Mapping, Sequence

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp


class Autoencoder(nn.Module):
  """Decoder ``z -> x`` (``__call__``) and encoder ``x -> z`` (``encode``).

  Attributes:
    output_shape: the samples' shape; set by the library.
    latent_dim: the code's size (``config.model.latent_dim``); set by the
      library.
    decoder: name of the generator that decodes (``dcgan``, ``mlp`` …).
    decoder_args: its constructor arguments.
    encoder: name of the critic whose trunk encodes; its features feed a
      dense layer to the code (the trunk's own output layer is unused and
      receives no gradient).
    encoder_args: its constructor arguments.
    stochastic: ALI's encoder q(z|x) = N(μ(x), σ(x)²), sampled with the
      reparameterisation trick in training (the mean at evaluation); False:
      BiGAN's deterministic encoder.
    batch_axis: the mesh axis of a sharded step (batch statistics); set by
      the library.
  """
  output_shape: Sequence[int]
  latent_dim: int
  decoder: str = 'dcgan'
  decoder_args: Mapping[str, Any] = flax.core.FrozenDict()
  encoder: str = 'dcgan'
  encoder_args: Mapping[str, Any] = flax.core.FrozenDict()
  stochastic: bool = False
  batch_axis: str | None = None

  def setup(self):
    # Imported here: the registry imports this module.
    from gan_jax import models  # pylint: disable=g-import-not-at-top
    self.decoder_net = models.build_generator(
        self.decoder, self.decoder_args, self.output_shape,
        batch_axis=self.batch_axis)
    self.encoder_net = models.build_critic(
        self.encoder, self.encoder_args, batch_axis=self.batch_axis)
    self.to_code = nn.Dense(self.latent_dim * (2 if self.stochastic else 1))

  def __call__(self, z, train: bool = True):
    return self.decoder_net(z, train=train)

  def encode(self, x, train: bool = True):
    features = self.encoder_net(x, train=train).features
    code = self.to_code(features.reshape(features.shape[0], -1))
    if not self.stochastic:
      return code
    mean, log_std = jnp.split(code, 2, axis=-1)
    if not train:
      return mean
    noise = jax.random.normal(self.make_rng('sample'), mean.shape, mean.dtype)
    return mean + jnp.exp(log_std) * noise

  def initialize(self, z, x, train: bool = False):
    """Both networks (what ``init`` must call to create every parameter)."""
    return self(z, train=train), self.encode(x, train=train)
