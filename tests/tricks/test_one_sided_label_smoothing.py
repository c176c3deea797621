"""one_sided_label_smoothing: the smoothed optimal critic and the loss check."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import config as config_lib
from gan_jax import losses
from gan_jax import tricks
from tests.helpers import optimal_critic_outputs

P_DATA = np.array([0.5, 0.3, 0.2])
P_G = np.array([0.1, 0.2, 0.7])


def _target(trick):
  info = tricks.StepInfo(jnp.int32(0), jax.random.PRNGKey(0))
  return trick.real_target(jnp.float32(1.0), ((),), info)


@pytest.mark.parametrize('loss', ['minimax', 'non_saturating'])
def test_optimal_critic_is_scaled_by_the_real_target(loss):
  target = _target(tricks.chain(tricks.one_sided_label_smoothing(0.9)))
  np.testing.assert_allclose(target, 0.9)
  logits, _ = optimal_critic_outputs(losses.get(loss), P_DATA, P_G,
                                     real_target=target)
  d = 1 / (1 + np.exp(-logits))
  np.testing.assert_allclose(d, 0.9 * P_DATA / (P_DATA + P_G), atol=2e-3)


@pytest.mark.parametrize('loss', ['wasserstein', 'hinge'])
def test_losses_without_a_target_are_a_config_error(loss):
  config = config_lib.base()
  config.loss = loss
  config.tricks = 'one_sided_label_smoothing'
  with pytest.raises(config_lib.ConfigError,
                     match=f"changes the real target, which loss '{loss}'"):
    config_lib.validate(config)


def test_bad_target_is_a_config_error():
  config = config_lib.base()
  config.tricks = 'one_sided_label_smoothing'
  config.trick_args.one_sided_label_smoothing.real_target = 1.5
  with pytest.raises(config_lib.ConfigError, match='real_target=1.5 must be'):
    config_lib.validate(config)
