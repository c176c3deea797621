"""weight_clipping: every critic parameter in [-c, c] after an update."""

import jax
import numpy as np

from gan_jax import train
from tests.helpers import init_state, run_steps, tiny_config


def test_critic_parameters_are_clipped_after_each_update():
  config = tiny_config(loss='wasserstein', tricks='weight_clipping')
  config.trick_args.weight_clipping.clip = 0.05
  gan = train.build(config)
  start = init_state(gan)
  assert max(np.abs(p).max()
             for p in jax.tree.leaves(start.critic.params)) > 0.05
  state, metrics = run_steps(gan, start, 3, 3)
  leaves = jax.tree.leaves(state.critic.params)
  assert max(np.abs(p).max() for p in leaves) <= 0.05
  # Clipping binds: many weights sit on the boundary.
  assert np.mean(np.abs(leaves[1]) == 0.05) > 0.1
  assert np.isfinite(metrics['critic_loss'])
