"""The DRAGAN gradient penalty (Kodali et al. 2017).

Penalises λ · E[(‖∇D(x̂)‖ − 1)²] only in a neighbourhood of the real data,
where sharp critic gradients around real points signal the local equilibria
associated with mode collapse. As in the authors' code: x_p = x + c · std(x) ·
U[0, 1) elementwise, std over the whole real batch, and x̂ uniformly between x
and x_p.

References:
  Kodali, Abernethy, Hays & Kira 2017, "On Convergence and Stability of GANs",
  arXiv:1705.07215.
"""

import jax
import jax.numpy as jnp

from gan_jax import global_batch
from gan_jax.tricks import base
from gan_jax.tricks import critic_gradients


def dragan_penalty(weight: float = 10.0,
                   perturbation: float = 0.5) -> base.Trick:
  """Adds ``weight`` · E[(‖∇D(x̂)‖ − 1)²] around perturbed real data.

  Args:
    weight: λ (10 in the paper).
    perturbation: c, the size of the perturbation in units of the data std.

  Returns:
    A trick acting at the ``critic_loss`` hook.
  """

  def critic_loss(terms, view, state, info):
    del state
    noise_key, alpha_key = jax.random.split(info.key)
    real, axis = view.real, info.batch_axis
    # The standard deviation of all entries of the (global) real batch.
    mean = global_batch.mean(jnp.mean(real.reshape(real.shape[0], -1), 1), axis)
    mean_square = global_batch.mean(
        jnp.mean(jnp.square(real.reshape(real.shape[0], -1)), 1), axis)
    std = jnp.sqrt(jnp.maximum(mean_square - jnp.square(mean), 0.0))
    uniform = lambda key, shape: global_batch.draw(
        lambda k, s: jax.random.uniform(k, s, real.dtype), key, shape, axis)
    perturbed = real + perturbation * std * uniform(noise_key, real.shape)
    alpha = critic_gradients.broadcast_per_sample(
        uniform(alpha_key, (real.shape[0],)), real)
    points = real + alpha * (perturbed - real)
    norms = critic_gradients.per_sample_norms(
        critic_gradients.input_gradients(view.apply, points))
    return {**terms, 'dragan_penalty': weight * jnp.mean(jnp.square(norms - 1))}

  return base.make(critic_loss=critic_loss)
