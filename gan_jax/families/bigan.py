"""ALI / BiGAN: adversarially learned inference (Dumoulin et al. 2017;
Donahue, Krähenbühl & Darrell 2017).

A generator G: z -> x and an encoder E: x -> z are trained together against
a critic of pairs D(x, z), which tells real pairs (x, E(x)) from generated
ones (G(z), z). At the optimum the two joint distributions match, so E
inverts G: G(E(x)) ≈ x without any reconstruction loss.

The generator side minimises the critic's own objective with the labels
swapped (the pair it makes should look real, the pair E makes from data
should look generated), the non-saturating form both papers train with.
For ``minimax`` and ``non_saturating`` this is -log D(G(z), z) -
log(1 - D(x, E(x))); for ``wasserstein`` and ``least_squares`` the same
swap of the critic's objective. For ``hinge`` it is the scores themselves,
E s(x, E(x)) - E s(G(z), z), as BigBiGAN trains E and G (Donahue &
Simonyan 2019) and as the hinge GAN's generator minimises -E s(G(z)): the
swapped hinge would give no gradient once the scores pass ±1.

Evaluation adds ``reconstruction_mse`` (mean squared pixel error of
G(E(x)) over the reference images, pixels in [-1, 1]) and
``latent_reconstruction_mse`` (of E(G(z)) against z).

References:
  Dumoulin, Belghazi, Poole, Mastropietro, Lamb, Arjovsky & Courville 2017,
    "Adversarially Learned Inference", ICLR.
  Donahue, Krähenbühl & Darrell 2017, "Adversarial Feature Learning", ICLR.
"""

import math

import jax
import numpy as np

from gan_jax import losses
from gan_jax.families import base
from gan_jax.families.batches import in_chunks
from gan_jax.models import joint


def _pair(generator, images, z, state):
  codes, state = generator('encode', images, state)
  samples, state = generator(None, z, state)
  return base.Pair(real=joint.join(images, codes),
                   fake=joint.join(samples, z), terms={}), state


def _swapped_adversarial(loss, view, generator, pair, state):
  del generator, pair
  if loss == losses.get('hinge'):
    loss = losses.get('wasserstein')
  return loss.critic(view.fake_out.logits, view.real_out.logits, 1.0), state


def init_encoder_decoder(module, rngs, z, x, labels=()):
  """Parameters of both networks of an :class:`~gan_jax.models.Autoencoder`."""
  del labels
  return module.init(rngs, z, x, train=False, method='initialize')


def _joint_input(sample_shape, latent_dim):
  return (math.prod(sample_shape) + latent_dim,)


def _evaluate(models: base.EvalModels, images: np.ndarray, key):
  reconstructions = in_chunks(
      lambda x: models.generator(None, models.generator('encode', x)), images)
  latent_dim = models.generator('encode', images[:1]).shape[-1]
  z = np.asarray(jax.random.normal(key, (len(images), latent_dim)))
  codes = in_chunks(
      lambda z: models.generator('encode', models.generator(None, z)), z)
  return {'reconstruction_mse': float(np.mean(np.square(
              reconstructions - images))),
          'latent_reconstruction_mse': float(np.mean(np.square(codes - z)))}


def bigan() -> base.Family:
  """ALI / BiGAN; the generator side is ``config.model.generator =
  'autoencoder'`` (``stochastic`` for ALI's encoder), the critic ``joint``."""
  return base.Family(
      pair=_pair,
      generator_adversarial=_swapped_adversarial,
      critic_terms=base.no_critic_terms,
      init_generator=init_encoder_decoder,
      critic_input_shape=_joint_input,
      evaluate=_evaluate,
      metric_names=('latent_reconstruction_mse', 'reconstruction_mse'),
  )
