"""R1 and R2 zero-centred gradient penalties (Mescheder et al. 2018).

γ/2 · E‖∇D(x)‖² on real data (R1) or on generated data (R2). Penalising the
critic's gradient where the data is makes the equilibrium locally convergent
for simultaneous and alternating gradient descent, unlike the unregularised
game and WGAN-GP.

References:
  Mescheder, Geiger & Nowozin 2018, "Which Training Methods for GANs do
  actually Converge?", ICML.
"""

import jax.numpy as jnp

from gan_jax.tricks import base
from gan_jax.tricks import critic_gradients


def _zero_centered_penalty(name: str, on_real: bool,
                           gamma: float) -> base.Trick:
  if gamma < 0:
    raise ValueError(f'gamma={gamma} must be >= 0')

  def critic_loss(terms, view, state, info):
    del state, info
    inputs = view.real if on_real else view.fake
    squared = critic_gradients.per_sample_squared_norms(
        critic_gradients.input_gradients(view.apply, inputs))
    return {**terms, name: 0.5 * gamma * jnp.mean(squared)}

  return base.make(critic_loss=critic_loss)


def r1_penalty(gamma: float = 10.0) -> base.Trick:
  """Adds γ/2 · E_data‖∇D(x)‖² to the critic loss.

  Args:
    gamma: γ (10 in the paper's CelebA/LSUN experiments).

  Returns:
    A trick acting at the ``critic_loss`` hook.
  """
  return _zero_centered_penalty('r1_penalty', True, gamma)


def r2_penalty(gamma: float = 10.0) -> base.Trick:
  """Adds γ/2 · E_z‖∇D(G(z))‖² to the critic loss.

  Args:
    gamma: γ.

  Returns:
    A trick acting at the ``critic_loss`` hook.
  """
  return _zero_centered_penalty('r2_penalty', False, gamma)
