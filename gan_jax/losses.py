"""GAN objectives as pure functions of critic outputs.

Each objective is a :class:`GanLoss`: a critic loss and a generator loss, both
minimised, both taking the critic's raw outputs (logits, before any sigmoid).
Probabilities are never formed explicitly: every log-sigmoid is written with
``softplus`` so that saturated critics give finite losses and gradients.

The critic loss takes ``real_target``, the label the critic is asked to give
real data (1 normally; 0.9 under one-sided label smoothing, Salimans et al.
2016). Objectives for which a target has no meaning (``wasserstein``,
``hinge``) declare ``uses_real_target=False`` and ignore the argument; tricks
that change the target check that flag when they are configured.

References:
  Goodfellow et al. 2014, "Generative Adversarial Nets" (minimax and the
    non-saturating generator loss).
  Arjovsky et al. 2017, "Wasserstein GAN".
  Lim & Ye 2017, "Geometric GAN"; Miyato et al. 2018 (hinge loss).
  Mao et al. 2017, "Least Squares Generative Adversarial Networks".
"""

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

Array = jax.Array


class GanLoss(NamedTuple):
  """A GAN objective.

  Attributes:
    critic: ``(real_logits, fake_logits, real_target) -> scalar`` to minimise
      over the critic.
    generator: ``fake_logits -> scalar`` to minimise over the generator.
    uses_real_target: whether ``critic`` depends on ``real_target``.
  """
  critic: Callable[[Array, Array, Array | float], Array]
  generator: Callable[[Array], Array]
  uses_real_target: bool


def _binary_cross_entropy(logits: Array, target: Array | float) -> Array:
  """Mean of -[t log σ(l) + (1 - t) log(1 - σ(l))], written with softplus."""
  # -log σ(l) = softplus(-l); -log(1 - σ(l)) = softplus(l).
  return jnp.mean(target * jax.nn.softplus(-logits)
                  + (1.0 - target) * jax.nn.softplus(logits))


def _cross_entropy_critic(real_logits, fake_logits, real_target=1.0):
  """-E_data[log D(x)] - E_g[log(1 - D(G(z)))], i.e. -V(D, G) of the minimax
  game."""
  return (_binary_cross_entropy(real_logits, real_target)
          + _binary_cross_entropy(fake_logits, 0.0))


def _minimax_generator(fake_logits):
  """E_z[log(1 - D(G(z)))]: the saturating loss of the original minimax game."""
  return -jnp.mean(jax.nn.softplus(fake_logits))


def _non_saturating_generator(fake_logits):
  """-E_z[log D(G(z))]: same fixed point, strong gradients when D rejects G."""
  return jnp.mean(jax.nn.softplus(-fake_logits))


def _wasserstein_critic(real_logits, fake_logits, real_target=1.0):
  """E_g[f(G(z))] - E_data[f(x)]: the negated Kantorovich-Rubinstein
  estimate."""
  del real_target  # A critic score, not a probability: no target.
  return jnp.mean(fake_logits) - jnp.mean(real_logits)


def _negated_mean_generator(fake_logits):
  """-E_z[f(G(z))]: the generator loss of both WGAN and the hinge GAN."""
  return -jnp.mean(fake_logits)


def _hinge_critic(real_logits, fake_logits, real_target=1.0):
  """E_data[max(0, 1 - f(x))] + E_g[max(0, 1 + f(G(z)))]."""
  del real_target  # The margin plays the target's role.
  return (jnp.mean(jax.nn.relu(1.0 - real_logits))
          + jnp.mean(jax.nn.relu(1.0 + fake_logits)))


def _least_squares_critic(real_logits, fake_logits, real_target=1.0):
  """½ E_data[(D(x) - t)²] + ½ E_g[D(G(z))²]  (Mao et al.'s a=0, b=t)."""
  return 0.5 * (jnp.mean(jnp.square(real_logits - real_target))
                + jnp.mean(jnp.square(fake_logits)))


def _least_squares_generator(fake_logits):
  """½ E_z[(D(G(z)) - 1)²]  (Mao et al.'s c=1)."""
  return 0.5 * jnp.mean(jnp.square(fake_logits - 1.0))


LOSSES: dict[str, GanLoss] = {
    'minimax': GanLoss(_cross_entropy_critic, _minimax_generator, True),
    'non_saturating': GanLoss(_cross_entropy_critic, _non_saturating_generator,
                              True),
    'wasserstein': GanLoss(_wasserstein_critic, _negated_mean_generator, False),
    'hinge': GanLoss(_hinge_critic, _negated_mean_generator, False),
    'least_squares': GanLoss(_least_squares_critic, _least_squares_generator,
                             True),
}


def get(name: str) -> GanLoss:
  """Returns the objective called ``name``; ValueError naming the choices."""
  if name not in LOSSES:
    raise ValueError(
        f'unknown loss {name!r}; allowed: {", ".join(sorted(LOSSES))}')
  return LOSSES[name]
