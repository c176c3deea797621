"""spectral_norm: σ ≈ 1 after iterating, no gradient through u, one step per
critic update."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import train
from gan_jax import tricks
from gan_jax.tricks import power_iteration as sn
from tests.helpers import init_state, run_steps, tiny_config


def _params():
  keys = jax.random.split(jax.random.PRNGKey(0), 3)
  return {'dense': {'kernel': 3 * jax.random.normal(keys[0], (64, 32)),
                    'bias': jnp.full((32,), 5.0)},
          'conv': {'kernel': jax.random.normal(keys[1], (3, 3, 16, 32))},
          'norm': {'scale': jnp.full((32,), 7.0)}}


def _top_singular_value(kernel):
  return np.linalg.svd(np.asarray(kernel).reshape(-1, kernel.shape[-1]),
                       compute_uv=False)[0]


def test_effective_top_singular_value_is_one_after_iterating():
  params = _params()
  trick = tricks.spectral_norm()
  state = trick.init(tricks.Params(None, params), jax.random.PRNGKey(1))
  step = jax.jit(trick.critic_params)
  for _ in range(100):  # One power iteration per call, as per critic update.
    used, state = step(params, state)
  for name in ('dense', 'conv'):
    assert _top_singular_value(params[name]['kernel']) > 2
    np.testing.assert_allclose(_top_singular_value(used[name]['kernel']), 1.0,
                               rtol=0.01)
  # Biases and norm scales are masked.
  np.testing.assert_array_equal(used['dense']['bias'], params['dense']['bias'])
  np.testing.assert_array_equal(used['norm']['scale'], params['norm']['scale'])


def test_more_power_iterations_per_update_converge_faster():
  params = _params()
  errors = []
  for n in (1, 60):
    trick = tricks.spectral_norm(n_power_iterations=n)
    state = trick.init(tricks.Params(None, params), jax.random.PRNGKey(1))
    used, _ = trick.critic_params(params, state)
    errors.append(abs(_top_singular_value(used['conv']['kernel']) - 1))
  assert errors[1] < errors[0] and errors[1] < 0.01


def test_no_gradient_through_the_power_iteration():
  params = _params()
  trick = tricks.spectral_norm()
  state = trick.init(tricks.Params(None, params), jax.random.PRNGKey(1))

  def total(u, params):
    used, new_state = trick.critic_params(params, state._replace(u=u))
    return sum(jnp.sum(x) for x in jax.tree.leaves((used, new_state)))

  grad_u, grad_params = jax.grad(total, argnums=(0, 1))(state.u, params)
  for g in jax.tree.leaves(grad_u):
    np.testing.assert_array_equal(g, 0)
  # The gradient does flow to the weights, through σ(W) = vᵀ W u.
  assert np.abs(grad_params['dense']['kernel']).max() > 0


def test_state_advances_once_per_critic_update_not_in_generator_updates():
  config = tiny_config(tricks='spectral_norm')
  gan = train.build(config)
  start = init_state(gan)
  state, _ = run_steps(gan, start, 1, 1)
  # One critic update: exactly one power iteration on the initial weights;
  # the generator update, which also applies the critic, leaves u alone.
  u0, u1 = start.tricks[0].u, state.tricks[0].u
  assert sorted(u1) == ['Dense_0/kernel', 'Dense_1/kernel', 'Dense_2/kernel']
  for name, u in u1.items():
    layer = name.split('/')[0]
    kernel = start.critic.params[layer]['kernel']
    expected, _, _ = sn.power_iteration(sn.as_matrix(kernel), u0[name], 1)
    np.testing.assert_allclose(u, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_training_with_spectral_norm_keeps_the_critic_near_1_lipschitz():
  from gan_jax import diagnostics  # pylint: disable=g-import-not-at-top
  results = {}
  for names in ('', 'spectral_norm'):
    gan = train.build(tiny_config(tricks=names))
    state, _ = run_steps(gan, init_state(gan), 200, 100)
    diagnose = diagnostics.make_diagnose(gan.critic, gan.tricks)
    results[names] = diagnose(state.critic, state.tricks,
                              train.sample_real_batch(gan, state).images[0])
  assert abs(results['spectral_norm']['critic_sigma_max'] - 1) < 0.05
  assert results['']['critic_sigma_max'] > 1.2
