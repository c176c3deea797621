"""GAN objectives: values, gradients, stability and the optimal critic."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import losses
from tests.helpers import optimal_critic_outputs, samples_of

REAL = np.array([0.0, 2.0, -0.5], np.float32)
FAKE = np.array([-1.0, 1.0], np.float32)


def _sigmoid(x):
  return 1 / (1 + np.exp(-np.asarray(x, np.float64)))


def test_minimax_critic_is_binary_cross_entropy_by_hand():
  # softplus values: sp(0)=log 2, sp(-2)=log(1+e^-2), sp(.5)=log(1+e^.5).
  real_term = (np.log(2) + np.log1p(np.exp(-2)) + np.log1p(np.exp(0.5))) / 3
  fake_term = (np.log1p(np.exp(-1)) + np.log1p(np.exp(1))) / 2
  got = losses.get('minimax').critic(REAL, FAKE, 1.0)
  np.testing.assert_allclose(got, real_term + fake_term, rtol=1e-6)
  np.testing.assert_allclose(got, 1.4113124, rtol=1e-6)


@pytest.mark.parametrize('name,expected', [
    ('minimax', lambda f: np.mean(np.log(1 - _sigmoid(f)))),
    ('non_saturating', lambda f: -np.mean(np.log(_sigmoid(f)))),
    ('wasserstein', lambda f: -np.mean(f)),
    ('hinge', lambda f: -np.mean(f)),
    ('least_squares', lambda f: 0.5 * np.mean((f - 1) ** 2)),
])
def test_generator_loss_values(name, expected):
  np.testing.assert_allclose(losses.get(name).generator(FAKE), expected(FAKE),
                             rtol=1e-6)


@pytest.mark.parametrize('name,expected', [
    ('minimax', lambda r, f, t: -np.mean(t * np.log(_sigmoid(r))
                                         + (1 - t) * np.log(1 - _sigmoid(r)))
     - np.mean(np.log(1 - _sigmoid(f)))),
    ('wasserstein', lambda r, f, t: np.mean(f) - np.mean(r)),
    ('hinge', lambda r, f, t: np.mean(np.maximum(0, 1 - r))
     + np.mean(np.maximum(0, 1 + f))),
    ('least_squares', lambda r, f, t: 0.5 * np.mean((r - t) ** 2)
     + 0.5 * np.mean(f ** 2)),
])
@pytest.mark.parametrize('target', [1.0, 0.9])
def test_critic_loss_values(name, expected, target):
  np.testing.assert_allclose(losses.get(name).critic(REAL, FAKE, target),
                             expected(REAL, FAKE, target), rtol=1e-6)


# TF-GAN's published expectations (tensorflow/gan,
# tensorflow_gan/python/losses/losses_impl_test.py, _LossesTest and its
# subclasses): these critic outputs, and each loss to 5 decimals.
TF_GAN_REAL = np.array([-5.0, 1.4, 12.5, 2.7], np.float32)
TF_GAN_FAKE = np.array([10.0, 4.4, -5.5, 3.6], np.float32)
# TF-GAN's cross-entropy critic losses default to label_smoothing=0.25,
# which tf.losses.sigmoid_cross_entropy applies as 1 · (1 − 0.25) + 0.25 / 2:
# a real target of 0.875. Its minimax generator loss is minus its critic loss
# with real logits of 1 (ones_like), so it carries the constant
# −softplus(−1) = −log(1 + e⁻¹) that E log(1 − D(G(z))) does not: the same
# gradients, the value shifted by 0.3132617.
_TF_GAN_MINIMAX_OFFSET = np.log1p(np.exp(-1.0))


@pytest.mark.parametrize('name,tf_gan_name,generator,critic,target', [
    ('least_squares', 'LeastSquaresLossTest', 17.69625, 41.73375, 1.0),
    ('non_saturating', 'ModifiedLossTest', 1.38582, 6.19637, 0.875),
    ('minimax', 'MinimaxLossTest', -4.82408 + _TF_GAN_MINIMAX_OFFSET,
     6.19637, 0.875),
    ('wasserstein', 'WassersteinLossTest', -3.12500, 0.22500, 1.0),
    ('hinge', 'HingeWassersteinLossTest', -3.12500, 6.7500, 1.0),
])
def test_losses_match_tf_gan_published_values(name, tf_gan_name, generator,
                                               critic, target):
  del tf_gan_name  # The TF-GAN test class the values come from.
  loss = losses.get(name)
  assert float(loss.generator(TF_GAN_FAKE)) == pytest.approx(generator,
                                                             abs=1e-5)
  assert float(loss.critic(TF_GAN_REAL, TF_GAN_FAKE, target)) == (
      pytest.approx(critic, abs=1e-5))


def test_critic_target_only_matters_where_declared():
  for name, loss in losses.LOSSES.items():
    changed = loss.critic(REAL, FAKE, 0.9) != loss.critic(REAL, FAKE, 1.0)
    assert bool(changed) == loss.uses_real_target, name


def test_gradients_match_closed_forms():
  n = len(FAKE)
  grad = lambda name: jax.grad(losses.get(name).generator)(jnp.asarray(FAKE))
  # d/dl log(1 - σ(l)) = -σ(l);  d/dl -log σ(l) = -(1 - σ(l)).
  np.testing.assert_allclose(grad('minimax'), -_sigmoid(FAKE) / n, rtol=1e-6)
  np.testing.assert_allclose(grad('non_saturating'),
                             -(1 - _sigmoid(FAKE)) / n, rtol=1e-6)
  np.testing.assert_allclose(grad('least_squares'), (FAKE - 1) / n, rtol=1e-6)
  np.testing.assert_allclose(grad('wasserstein'), -np.ones(n) / n)
  # Cross-entropy critic: d/dl_real = (σ(l) - t) / n_real.
  d_real = jax.grad(losses.get('minimax').critic)(jnp.asarray(REAL), FAKE, 0.9)
  np.testing.assert_allclose(d_real, (_sigmoid(REAL) - 0.9) / len(REAL),
                             rtol=1e-5)
  d_hinge = jax.grad(losses.get('hinge').critic, argnums=1)(
      REAL, jnp.array([-2.0, 1.0]))
  np.testing.assert_allclose(d_hinge, [0.0, 0.5])  # Only 1 + f > 0 counts.


def test_saturation_is_why_the_non_saturating_loss_exists():
  # A critic confidently rejecting fakes (logit -30): the minimax generator
  # gradient vanishes, the non-saturating one does not (Goodfellow et al. 2014).
  fake = jnp.full((4,), -30.0)
  g_minimax = jax.grad(losses.get('minimax').generator)(fake)
  g_ns = jax.grad(losses.get('non_saturating').generator)(fake)
  assert np.abs(g_minimax).max() < 1e-12
  np.testing.assert_allclose(g_ns, -0.25, rtol=1e-6)


@pytest.mark.parametrize('name', sorted(losses.LOSSES))
def test_finite_for_extreme_logits(name):
  loss = losses.get(name)
  extreme = jnp.array([-1e4, -100.0, 100.0, 1e4])
  for value, grads in [
      jax.value_and_grad(loss.critic, argnums=(0, 1))(extreme, extreme, 1.0),
      jax.value_and_grad(loss.generator)(extreme)]:
    assert np.isfinite(value)
    assert all(np.isfinite(g).all() for g in jax.tree.leaves(grads))


# Fixed discrete densities on four points; the data never visits point 3.
P_DATA = np.array([0.5, 0.3, 0.2, 0.0])
P_G = np.array([0.1, 0.2, 0.3, 0.4])


def test_minimax_optimal_critic_and_value():
  d_star = P_DATA / (P_DATA + P_G)
  loss = losses.get('minimax')
  logits, min_critic_loss = optimal_critic_outputs(loss, P_DATA, P_G)
  np.testing.assert_allclose(_sigmoid(logits[:3]), d_star[:3], atol=2e-3)
  assert _sigmoid(logits[3]) < 0.02  # D* = 0 where only the generator goes.
  # max_D V(D, G) = -log 4 + 2 JSD(p_data ‖ p_g), and the critic loss is -V.
  m = (P_DATA + P_G) / 2
  kl = lambda p, q: np.sum(
      np.where(p > 0, p * np.log(np.where(p > 0, p, 1) / q), 0))
  jsd = 0.5 * kl(P_DATA, m) + 0.5 * kl(P_G, m)
  exact_logits = np.log(d_star[:3] / (1 - d_star[:3]))
  at_d_star = loss.critic(exact_logits[samples_of(P_DATA)],
                          np.append(exact_logits, -1e4)[samples_of(P_G)], 1.0)
  np.testing.assert_allclose(-at_d_star, -np.log(4) + 2 * jsd, rtol=1e-5)
  np.testing.assert_allclose(-min_critic_loss, -np.log(4) + 2 * jsd, atol=2e-3)


def test_least_squares_optimal_critic():
  # Mao et al. 2017, Prop. 1 with a=0, b=1: D* = p_data / (p_data + p_g).
  outputs, _ = optimal_critic_outputs(losses.get('least_squares'), P_DATA, P_G)
  np.testing.assert_allclose(outputs, P_DATA / (P_DATA + P_G), atol=2e-3)


def test_unknown_loss_names_the_choices():
  with pytest.raises(ValueError, match="unknown loss 'wgan'.*hinge"):
    losses.get('wgan')
