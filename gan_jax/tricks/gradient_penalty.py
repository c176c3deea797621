"""The WGAN-GP gradient penalty (Gulrajani et al. 2017).

Enforces the 1-Lipschitz constraint of the Wasserstein critic softly:
λ · E[(‖∇D(x̂)‖ − 1)²] on x̂ uniformly interpolated between paired real and
generated samples, where the optimal critic has unit gradient norm.

References:
  Gulrajani, Ahmed, Arjovsky, Dumoulin & Courville 2017, "Improved Training of
  Wasserstein GANs", NeurIPS.
"""

import jax
import jax.numpy as jnp

from gan_jax import global_batch
from gan_jax.tricks import base
from gan_jax.tricks import critic_gradients


def gradient_penalty(weight: float = 10.0, target: float = 1.0) -> base.Trick:
  """Adds ``weight`` · E[(‖∇D(x̂)‖ − target)²] to the critic loss.

  Args:
    weight: λ (10 in the paper).
    target: the gradient norm asked for on the interpolates (1 in the paper).

  Returns:
    A trick acting at the ``critic_loss`` hook.
  """

  def critic_loss(terms, view, state, info):
    del state
    alpha = global_batch.draw(jax.random.uniform, info.key,
                              (view.real.shape[0],), info.batch_axis)
    alpha = critic_gradients.broadcast_per_sample(alpha, view.real)
    interpolates = alpha * view.real + (1 - alpha) * view.fake
    norms = critic_gradients.per_sample_norms(
        critic_gradients.input_gradients(view.apply, interpolates))
    return {**terms,
            'gradient_penalty': weight * jnp.mean(jnp.square(norms - target))}

  return base.make(critic_loss=critic_loss)
