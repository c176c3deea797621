"""historical_averaging: running means of past parameters and the penalty."""

import jax
import numpy as np

from gan_jax import train
from tests.helpers import assert_trees_close, init_state, run_steps, tiny_config


def test_running_means_and_penalty():
  config = tiny_config(tricks='historical_averaging')
  config.optim.n_critic = 2
  config.trick_args.historical_averaging.weight = 0.5
  gan = train.build(config)
  state = init_state(gan)
  generator_history = [state.generator.params]
  for _ in range(4):
    previous = state
    state, metrics = run_steps(gan, state, 1, 1)
    generator_history.append(state.generator.params)
  trick_state = state.tricks[0]
  mean = jax.tree.map(lambda *xs: np.mean(xs, axis=0), *generator_history)
  assert_trees_close(trick_state.generator_mean, mean, rtol=1e-5, atol=1e-6)
  assert int(trick_state.generator_count) == 5
  assert int(trick_state.critic_count) == 1 + 4 * 2
  # The last generator loss term: weight · ‖θ − θ̄‖², θ and θ̄ before the update.
  distance = sum(np.sum((a - b) ** 2) for a, b in zip(
      jax.tree.leaves(previous.generator.params),
      jax.tree.leaves(previous.tricks[0].generator_mean)))
  np.testing.assert_allclose(metrics['generator/historical_averaging'],
                             0.5 * distance, rtol=1e-4)
