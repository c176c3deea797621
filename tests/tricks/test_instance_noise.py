"""instance_noise: the noise std follows the schedule and reaches 0."""

import jax
import jax.numpy as jnp
import numpy as np
import optax

from gan_jax import tricks


def _noise_std(trick, step):
  x = jnp.zeros((20_000, 2))
  info = tricks.StepInfo(jnp.int32(step), jax.random.PRNGKey(step))
  real, fake = trick.critic_inputs(x, x + 1, (), info)
  return float(jnp.std(real)), float(jnp.std(fake - 1)), real, fake


def test_default_linear_decay_to_zero():
  trick = tricks.instance_noise(std=0.2, decay_steps=1000)
  for step, expected in [(0, 0.2), (500, 0.1), (750, 0.05)]:
    real_std, fake_std, _, _ = _noise_std(trick, step)
    np.testing.assert_allclose([real_std, fake_std], expected, rtol=0.03)
  for step in (1000, 5000):
    _, _, real, fake = _noise_std(trick, step)
    np.testing.assert_array_equal(real, 0)
    np.testing.assert_array_equal(fake, 1)


def test_any_optax_schedule():
  trick = tricks.instance_noise(std=optax.exponential_decay(0.4, 100, 0.5))
  np.testing.assert_allclose(_noise_std(trick, 100)[0], 0.2, rtol=0.03)


def test_real_and_fake_get_independent_noise():
  _, _, real, fake = _noise_std(tricks.instance_noise(), 0)
  assert abs(np.corrcoef(real[:, 0], fake[:, 0])[0, 1]) < 0.05
