"""generator_ema: equals a hand-rolled EMA; evaluation uses it."""

import jax
import numpy as np

from gan_jax import train
from gan_jax import tricks
from tests.helpers import assert_trees_close, init_state, run_steps, tiny_config


def test_matches_a_hand_rolled_average():
  config = tiny_config(tricks='generator_ema')
  config.trick_args.generator_ema.decay = 0.9
  config.trick_args.generator_ema.start_step = 2
  gan = train.build(config)
  state = init_state(gan)
  average = state.generator.params
  for step in range(6):
    state, _ = run_steps(gan, state, 1, 1)
    rate = 1.0 if step < 2 else 0.1
    average = jax.tree.map(lambda a, p: a + rate * (p - a), average,
                           state.generator.params)
  assert_trees_close(state.tricks[0].params, average, rtol=1e-6, atol=1e-7)
  assert tricks.changes_eval_params(gan.tricks)
  assert_trees_close(
      gan.tricks.generator_for_eval(state.generator.params, state.tricks),
      average, rtol=1e-6, atol=1e-7)


def test_raw_and_average_generate_differently():
  config = tiny_config(tricks='generator_ema')
  gan = train.build(config)
  state, _ = run_steps(gan, init_state(gan), 10, 10)
  generate = train.make_generate(gan)
  key = jax.random.PRNGKey(0)
  assert not np.allclose(generate(state, key, 8, False),
                         generate(state, key, 8, True))
  assert not tricks.changes_eval_params(train.build(tiny_config()).tricks)
