"""The WGAN-GP gradient penalty (Gulrajani et al. 2017).

Enforces the 1-Lipschitz constraint of the Wasserstein critic softly:
λ · E[(‖∇D(x̂)‖ − 1)²] on x̂ uniformly interpolated between paired real and
generated samples, where the optimal critic has unit gradient norm.

Another gradient norm γ can be asked for, in the form of Karras et al. 2018
(Progressive GAN, γ = 750 on CIFAR-10: λ (‖∇D‖ − γ)² / γ², their code's
``wgan_lambda / wgan_target**2``) and of TF-GAN's
``wasserstein_gradient_penalty(target=γ)``: λ · E[(‖∇D(x̂)‖ / γ − 1)²], so
that λ keeps its meaning whatever γ is (a γ-Lipschitz critic is a
1-Lipschitz one scaled by γ).

References:
  Gulrajani, Ahmed, Arjovsky, Dumoulin & Courville 2017, "Improved Training of
  Wasserstein GANs", NeurIPS.
  Karras, Aila, Laine & Lehtinen 2018, "Progressive Growing of GANs for
  Improved Quality, Stability, and Variation", ICLR (the target, with their
  CIFAR-10 setup; code: progressive_growing_of_gans, loss.py).
"""

import jax
import jax.numpy as jnp

from gan_jax import global_batch
from gan_jax.tricks import base
from gan_jax.tricks import critic_gradients


def gradient_penalty(weight: float = 10.0, target: float = 1.0) -> base.Trick:
  """Adds ``weight`` · E[(‖∇D(x̂)‖ / target − 1)²] to the critic loss.

  Args:
    weight: λ (10 in the paper).
    target: γ, the gradient norm asked for on the interpolates (1 in
      Gulrajani et al.; 750 in Karras et al.'s CIFAR-10 runs), > 0. The
      penalty is scaled by 1/γ² as theirs and TF-GAN's are: target 2 on a
      critic of gradient norm 4 gives λ · 1, not λ · 4.

  Returns:
    A trick acting at the ``critic_loss`` hook.
  """
  if not target > 0:
    raise ValueError(f'target={target} must be > 0')

  def critic_loss(terms, view, state, info):
    del state
    alpha = global_batch.draw(jax.random.uniform, info.key,
                              (view.real.shape[0],), info.batch_axis)
    alpha = critic_gradients.broadcast_per_sample(alpha, view.real)
    interpolates = alpha * view.real + (1 - alpha) * view.fake
    norms = critic_gradients.per_sample_norms(
        critic_gradients.input_gradients(view.apply, interpolates))
    return {**terms,
            'gradient_penalty': weight * jnp.mean(
                jnp.square(norms / target - 1.0))}

  return base.make(critic_loss=critic_loss)
