"""Every trick: trains ring8 with finite metrics, chains, checkpoints."""

import jax
import numpy as np
import pytest

from gan_jax import checkpoint
from gan_jax import config as config_lib
from gan_jax import train
from gan_jax import tricks
from tests.helpers import assert_trees_close, init_state, run_steps, tiny_config


@pytest.mark.slow
@pytest.mark.parametrize('name', sorted(tricks.TRICKS))
def test_smoke_every_trick_trains_a_few_finite_steps(name):
  loss = 'wasserstein' if name == 'weight_clipping' else 'non_saturating'
  gan = train.build(tiny_config(tricks=name, loss=loss))
  state, metrics = run_steps(gan, init_state(gan), 4, 4)
  assert all(np.isfinite(v) for v in jax.device_get(metrics).values()), metrics
  assert all(np.isfinite(x).all() for x in jax.tree.leaves(state))


def test_chain_order_is_the_config_order():
  config = tiny_config(tricks='instance_noise, spectral_norm, generator_ema')
  gan = train.build(config)
  state = init_state(gan)
  assert [type(s).__name__ for s in state.tricks] == [
      'tuple', 'SpectralNormState', 'GeneratorEmaState']


@pytest.mark.slow
def test_trick_states_round_trip_through_a_checkpoint(tmp_path):
  config = tiny_config(tricks=','.join(sorted(tricks.TRICKS)),
                       loss='least_squares')
  gan = train.build(config)
  state, _ = run_steps(gan, init_state(gan), 2, 2)
  saver = checkpoint.Checkpointer(str(tmp_path), keep=1)
  saver.save(2, state, {'next_index': 7}, {'seed': 0})
  saver.close()
  template = init_state(gan, seed=1)
  restored = checkpoint.Checkpointer(
      str(tmp_path), keep=1).restore_latest(template)
  assert restored.step == 2 and restored.loop == {'next_index': 7}
  restored = restored.state
  assert_trees_close(restored, state, rtol=0, atol=0)
  assert int(restored.step) == 2


def test_unknown_trick_argument_is_a_config_error():
  config = config_lib.base()
  config.tricks = 'gradient_penalty'
  config.trick_args.gradient_penalty['lambda'] = 5.0
  with pytest.raises(config_lib.ConfigError,
                     match="unknown argument 'lambda' for trick "
                           "'gradient_penalty'; allowed: weight, target"):
    config_lib.validate(config)
