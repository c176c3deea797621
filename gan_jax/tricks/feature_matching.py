"""Feature matching (Salimans et al. 2016, Sec. 3.1).

The generator matches the mean of the critic's last hidden features on real
data: ‖E f(x) − E f(G(z))‖². Added to the adversarial generator loss with a
weight, or replacing it (``replace=True``, the paper's formulation), which
gives the generator a fixed target to chase instead of the critic's current
decision boundary.

Both sides are differentiated. In a plain GAN that changes nothing: the
real features depend only on the critic, which the generator update holds
fixed. In BiGAN / ALI (``gan_jax.families.bigan``) the real pairs
(x, E(x)) come from the encoder, part of the generator's player, which so
gets the feature-matching signal too, as it gets the adversarial one.

References:
  Salimans, Goodfellow, Zaremba, Cheung, Radford & Chen 2016, "Improved
  Techniques for Training GANs", NeurIPS.
"""

import jax
import jax.numpy as jnp

from gan_jax import global_batch
from gan_jax.tricks import base


def feature_distance(real_features: jax.Array, fake_features: jax.Array,
                     batch_axis: str | None = None) -> jax.Array:
  """‖mean(real) − mean(fake)‖² over the (global) batch."""
  real_mean = global_batch.mean(real_features, batch_axis)
  fake_mean = global_batch.mean(fake_features, batch_axis)
  return jnp.sum(jnp.square(real_mean - fake_mean))


def feature_matching(weight: float = 1.0, replace: bool = False) -> base.Trick:
  """Adds (or substitutes) the feature-matching loss of the generator.

  Args:
    weight: multiplier of ‖E f(x) − E f(G(z))‖².
    replace: drop the adversarial generator loss and keep only this one.

  Returns:
    A trick acting at the ``generator_loss`` hook.
  """

  def generator_loss(terms, view, state, info):
    del state
    terms = dict(terms)
    if replace:
      terms.pop('adversarial', None)
    terms['feature_matching'] = weight * feature_distance(
        view.real_out.features, view.fake_out.features, info.batch_axis)
    return terms

  return base.make(generator_loss=generator_loss)
