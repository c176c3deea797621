"""Weight clipping of the Wasserstein critic (Arjovsky et al. 2017).

After every critic update each critic parameter is clipped to [−c, c], a crude
way to keep the critic in a family of K-Lipschitz functions (the paper's
Algorithm 1, c = 0.01).

References:
  Arjovsky, Chintala & Bottou 2017, "Wasserstein Generative Adversarial
  Networks", ICML.
"""

import jax
import jax.numpy as jnp

from gan_jax.tricks import base


def weight_clipping(clip: float = 0.01) -> base.Trick:
  """Clips all critic parameters to [−clip, clip] after each critic update.

  Args:
    clip: c (0.01 in the paper).

  Returns:
    A trick acting at the ``after_critic_update`` hook.
  """
  if clip <= 0:
    raise ValueError(f'clip={clip} must be > 0')

  def after_critic_update(params, state, info):
    del info
    return jax.tree.map(lambda p: jnp.clip(p, -clip, clip), params), state

  return base.make(after_critic_update=after_critic_update)
