"""gradient_penalty, r1_penalty, r2_penalty, dragan_penalty vs independent
autodiff."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import models
from gan_jax import tricks

KEY = jax.random.PRNGKey(3)


def _tiny_critic():
  critic = models.build_critic('mlp', dict(width=8, depth=2,
                                           activation='tanh'))
  x = jnp.zeros((1, 2))
  params = critic.init(jax.random.PRNGKey(0), x)
  apply = lambda inputs: critic.apply(params, inputs)
  return apply, params, critic


def _view(apply, real, fake):
  return tricks.CriticView(apply, real, fake, apply(real), apply(fake), None)


def _per_sample_gradients(apply, x):
  """An independent route: vmap of the gradient of a one-sample function."""
  single = lambda xi: apply(xi[None]).logits[0]
  return jax.vmap(jax.grad(single))(x)


def _penalty(trick, view):
  info = tricks.StepInfo(jnp.int32(0), KEY)
  terms = trick.critic_loss({'adversarial': jnp.float32(0.0)}, view, (), info)
  (name,) = set(terms) - {'adversarial'}
  return name, terms[name]


def _batches():
  real = jax.random.normal(jax.random.PRNGKey(1), (16, 2))
  fake = 2 + jax.random.normal(jax.random.PRNGKey(2), (16, 2))
  return real, fake


def test_gradient_penalty_matches_independent_autodiff():
  apply, _, _ = _tiny_critic()
  real, fake = _batches()
  name, value = _penalty(tricks.gradient_penalty(weight=10.0),
                         _view(apply, real, fake))
  alpha = jax.random.uniform(KEY, (16,))[:, None]
  grads = _per_sample_gradients(apply, alpha * real + (1 - alpha) * fake)
  expected = 10 * np.mean((np.linalg.norm(grads, axis=1) - 1) ** 2)
  assert name == 'gradient_penalty'
  np.testing.assert_allclose(value, expected, rtol=1e-5)


@pytest.mark.parametrize('factory,on_real', [(tricks.r1_penalty, True),
                                              (tricks.r2_penalty, False)])
def test_r1_r2_match_independent_autodiff(factory, on_real):
  apply, _, _ = _tiny_critic()
  real, fake = _batches()
  name, value = _penalty(factory(gamma=4.0), _view(apply, real, fake))
  grads = _per_sample_gradients(apply, real if on_real else fake)
  expected = 4.0 / 2 * np.mean(np.sum(grads ** 2, axis=1))
  assert name == ('r1_penalty' if on_real else 'r2_penalty')
  np.testing.assert_allclose(value, expected, rtol=1e-5)


def test_dragan_matches_independent_autodiff():
  apply, _, _ = _tiny_critic()
  real, fake = _batches()
  name, value = _penalty(tricks.dragan_penalty(weight=10.0, perturbation=0.5),
                         _view(apply, real, fake))
  noise_key, alpha_key = jax.random.split(KEY)
  perturbed = real + 0.5 * np.std(real) * jax.random.uniform(noise_key,
                                                               real.shape)
  alpha = jax.random.uniform(alpha_key, (16,))[:, None]
  grads = _per_sample_gradients(apply, real + alpha * (perturbed - real))
  expected = 10 * np.mean((np.linalg.norm(grads, axis=1) - 1) ** 2)
  assert name == 'dragan_penalty'
  np.testing.assert_allclose(value, expected, rtol=1e-5)


def test_penalties_on_a_linear_critic_by_hand():
  # D(x) = w·x + b has ∇D = w everywhere.
  w = jnp.array([3.0, 4.0])  # ‖w‖ = 5.
  apply = lambda x: models.CriticOutput(x @ w + 1.0, x)
  real, fake = _batches()
  view = _view(apply, real, fake)
  np.testing.assert_allclose(_penalty(tricks.gradient_penalty(), view)[1],
                             10 * (5 - 1) ** 2, rtol=1e-6)
  np.testing.assert_allclose(_penalty(tricks.r1_penalty(gamma=2.0), view)[1],
                             25.0, rtol=1e-6)
  # Another target γ: λ (‖∇D‖/γ − 1)² (Karras et al. 2018), 0 at γ = 5.
  np.testing.assert_allclose(
      _penalty(tricks.gradient_penalty(target=2.5), view)[1], 10.0, rtol=1e-6)
  assert _penalty(tricks.gradient_penalty(target=5.0), view)[1] == (
      pytest.approx(0.0, abs=1e-10))


@pytest.mark.parametrize('kwargs,expected', [
    (dict(weight=1.0), 9.0),  # test_all_correct: (4 − 1)².
    (dict(weight=2.3), 9.0 * 2.3),  # test_python_scalar_weight.
    (dict(weight=1.0, target=2.0), 1.0),  # test_loss_with_gradient_norm_target.
])
def test_gradient_penalty_matches_tf_gan_published_values(kwargs, expected):
  # tensorflow/gan, tensorflow_gan/python/losses/losses_impl_test.py,
  # GradientPenaltyTest: these generated and real points and a critic that
  # multiplies its input by 2; TF-GAN differentiates the sum of the critic's
  # outputs, so here D(x) = 2 Σ_i x_i, gradient (2, 2, 2, 2), norm 4
  # wherever the interpolate falls.
  fake = jnp.array([[3.1, 2.3, -12.3, 32.1]])
  real = jnp.array([[-12.3, 23.2, 16.3, -43.2]])
  apply = lambda x: models.CriticOutput(2.0 * jnp.sum(x, axis=1), x)
  name, value = _penalty(tricks.gradient_penalty(**kwargs),
                         _view(apply, real, fake))
  assert name == 'gradient_penalty'
  np.testing.assert_allclose(value, expected, rtol=1e-6)


def test_gradient_penalty_rejects_a_non_positive_target():
  with pytest.raises(ValueError):
    tricks.gradient_penalty(target=0.0)


def test_penalty_gradient_reaches_the_critic_parameters():
  _, params, critic = _tiny_critic()
  real, fake = _batches()

  def penalty(p):
    apply = lambda x: critic.apply(p, x)
    return _penalty(tricks.gradient_penalty(), _view(apply, real, fake))[1]

  grads = jax.grad(penalty)(params)
  assert all(np.isfinite(g).all() for g in jax.tree.leaves(grads))
  assert max(np.abs(g).max() for g in jax.tree.leaves(grads)) > 0
