"""feature_matching: zero at a match, the right gradient, replace mode."""

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax import models
from gan_jax import tricks


def _view(real_features, fake_features):
  out = lambda f: models.CriticOutput(jnp.zeros(f.shape[0]), f)
  return tricks.CriticView(None, None, None, out(real_features),
                           out(fake_features), None)


def _loss(trick, real_features, fake_features):
  info = tricks.StepInfo(jnp.int32(0), jax.random.PRNGKey(0))
  terms = trick.generator_loss({'adversarial': jnp.float32(2.0)},
                               _view(real_features, fake_features), (), info)
  return terms


def test_zero_loss_and_gradient_when_feature_means_match():
  real = jax.random.normal(jax.random.PRNGKey(0), (16, 8))
  fake = real[::-1]  # Same mean, different samples.
  trick = tricks.feature_matching(weight=3.0)
  value, grad = jax.value_and_grad(
      lambda f: _loss(trick, real, f)['feature_matching'])(fake)
  np.testing.assert_allclose(value, 0, atol=1e-10)
  np.testing.assert_allclose(grad, 0, atol=1e-6)


def test_gradient_moves_fake_means_towards_real_means():
  real = jnp.ones((4, 3)) * jnp.array([1.0, 2.0, 3.0])
  fake = jnp.zeros((4, 3))
  trick = tricks.feature_matching(weight=1.0)
  value, grad = jax.value_and_grad(
      lambda f: _loss(trick, real, f)['feature_matching'])(fake)
  np.testing.assert_allclose(value, 1 + 4 + 9)
  # d/df_i ‖m_r − mean(f)‖² = −2 (m_r − mean(f)) / n for every sample i.
  np.testing.assert_allclose(grad, -2 * np.broadcast_to([1, 2, 3], (4, 3)) / 4)
  # The real side gets the opposite gradient (BiGAN's encoder, whose codes
  # are part of the real pairs, learns from it).
  grad_real = jax.grad(
      lambda r: _loss(trick, r, fake)['feature_matching'])(real)
  np.testing.assert_allclose(grad_real, -grad)


def test_added_or_replacing_the_adversarial_loss():
  real, fake = jnp.ones((2, 2)), jnp.zeros((2, 2))
  added = _loss(tricks.feature_matching(weight=0.5), real, fake)
  assert set(added) == {'adversarial', 'feature_matching'}
  np.testing.assert_allclose(added['feature_matching'], 0.5 * 2)
  replaced = _loss(tricks.feature_matching(replace=True), real, fake)
  assert set(replaced) == {'feature_matching'}
