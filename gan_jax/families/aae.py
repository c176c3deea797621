"""The adversarial autoencoder (Makhzani, Shlens, Jaitly, Goodfellow & Frey
2016).

An autoencoder whose code distribution is shaped by a GAN: the encoder E is
the generator of codes, and a critic on the code space tells prior samples
z ~ p(z) = N(0, I) (real) from codes E(x) of data (fake). The encoder and
decoder minimise the reconstruction error of Dec(E(x)) plus the adversarial
loss on E(x), so the aggregated posterior q(z) = E_x q(z|x) matches the prior
and the decoder turns prior samples into data: ``Dec(z)`` is the sampler the
usual sample metrics score.

The paper alternates a reconstruction phase and a regularisation phase per
minibatch; here both terms are summed in the generator side's one update
(``reconstruction_weight`` balances them), which is how most
reimplementations train it, and the critic is updated in between as for any
GAN.

Evaluation adds ``reconstruction_mse`` (mean squared pixel error of
Dec(E(x)) on the reference images, pixels in [-1, 1]) and ``code_mmd``, the
Gaussian-kernel MMD² between the codes of those images and as many prior
samples (≈ 0 when the aggregated posterior matches the prior). The codes
scored are the encoder's outputs in evaluation mode: with
``stochastic=True`` (``gan_jax.models.Autoencoder``) those are the means
μ(x), without the spread σ(x) adds to the aggregated posterior, so there
``code_mmd`` stays above 0 at the optimum; the default encoder is
deterministic, and its codes are the aggregated posterior's samples.

Reference:
  Makhzani et al. 2016, "Adversarial Autoencoders", ICLR workshop.
"""

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax import metrics
from gan_jax.families import base
from gan_jax.families.batches import in_chunks
from gan_jax.families.bigan import init_encoder_decoder


def _code_shape(sample_shape, latent_dim):
  del sample_shape
  return (latent_dim,)


def _evaluate(models: base.EvalModels, images: np.ndarray, key):
  codes = in_chunks(lambda x: models.generator('encode', x), images)
  reconstructions = in_chunks(lambda c: models.generator(None, c), codes)
  prior = np.asarray(jax.random.normal(key, codes.shape))
  return {'reconstruction_mse': float(np.mean(np.square(
              reconstructions - images))),
          'code_mmd': metrics.gaussian_mmd2(codes, prior)}


def aae(reconstruction_weight: float = 1.0) -> base.Family:
  """The adversarial autoencoder; the generator side is ``config.model.
  generator = 'autoencoder'``, the critic a code-space one (``mlp``).

  Args:
    reconstruction_weight: multiplier of the mean squared reconstruction
      error (pixels in [-1, 1]) in the generator side's loss.
  """
  if reconstruction_weight < 0:
    raise ValueError(f'reconstruction_weight={reconstruction_weight} must be '
                     '>= 0')

  def pair(generator, images, z, state):
    codes, state = generator('encode', images, state)
    reconstructions, state = generator(None, codes, state)
    error = jnp.mean(jnp.square(reconstructions - images))
    return base.Pair(real=z, fake=codes, terms={
        'reconstruction': reconstruction_weight * error}), state

  return base.Family(
      pair=pair,
      generator_adversarial=base.fake_adversarial,
      critic_terms=base.no_critic_terms,
      init_generator=init_encoder_decoder,
      critic_input_shape=_code_shape,
      evaluate=_evaluate,
      metric_names=('code_mmd', 'reconstruction_mse'),
  )
