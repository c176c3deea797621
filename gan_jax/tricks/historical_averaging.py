"""Historical averaging (Salimans et al. 2016, Sec. 3.3).

Each player's loss gets ``weight`` · ‖θ − θ̄‖², θ̄ the running mean of all its
past parameter values (one value per update). Inspired by fictitious play,
it damps the oscillations that keep gradient descent from the game's
equilibrium.

References:
  Salimans, Goodfellow, Zaremba, Cheung, Radford & Chen 2016, "Improved
  Techniques for Training GANs", NeurIPS.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from gan_jax.tricks import base


class HistoricalAveragingState(NamedTuple):
  """Running means of the past parameters and how many values they hold."""
  generator_mean: Any
  critic_mean: Any
  generator_count: jax.Array
  critic_count: jax.Array


def _squared_distance(params, mean) -> jax.Array:
  # squared=True: no square root, so the gradient is finite at θ = θ̄.
  return optax.tree.norm(
      jax.tree.map(lambda p, m: p - jax.lax.stop_gradient(m), params, mean),
      squared=True)


def _running_mean(mean, params, count):
  """The mean of ``count`` values updated with one more, ``params``."""
  new_count = count + 1
  return (jax.tree.map(lambda m, p: m + (p - m) / new_count, mean, params),
          new_count)


def historical_averaging(weight: float = 1e-3) -> base.Trick:
  """Adds ``weight`` · ‖θ − mean of past θ‖² to both players' losses.

  Args:
    weight: the penalty's multiplier.

  Returns:
    A trick acting at the loss hooks and after each update.
  """

  def init(params, key):
    del key
    one = jnp.ones((), jnp.int32)
    return HistoricalAveragingState(params.generator, params.critic, one, one)

  def critic_loss(terms, view, state, info):
    del info
    return {**terms, 'historical_averaging': weight * _squared_distance(
        view.params.critic, state.critic_mean)}

  def generator_loss(terms, view, state, info):
    del info
    return {**terms, 'historical_averaging': weight * _squared_distance(
        view.params.generator, state.generator_mean)}

  def after_critic_update(params, state, info):
    del info
    mean, count = _running_mean(state.critic_mean, params, state.critic_count)
    return params, state._replace(critic_mean=mean, critic_count=count)

  def after_generator_update(params, state, info):
    del info
    mean, count = _running_mean(state.generator_mean, params,
                                state.generator_count)
    return params, state._replace(generator_mean=mean, generator_count=count)

  return base.make(init=init, critic_loss=critic_loss,
                   generator_loss=generator_loss,
                   after_critic_update=after_critic_update,
                   after_generator_update=after_generator_update)
