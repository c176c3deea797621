"""The pure train step: fusion, critic updates per step, trick hooks,
determinism."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import train
from gan_jax import tricks
from tests.helpers import assert_trees_close, tiny_config
from tests.helpers import init_state as init
from tests.helpers import run_steps as run


@pytest.mark.slow
def test_fusing_steps_does_not_change_the_trajectory():
  gan = train.build(tiny_config())
  unfused, _ = run(gan, init(gan), 6, steps_per_call=1)
  fused, _ = run(gan, init(gan), 6, steps_per_call=6)
  assert int(fused.step) == 6
  assert_trees_close(unfused, fused, rtol=1e-5, atol=1e-6)


def test_unrolling_the_fused_steps_keeps_every_bit():
  """config.scan_unroll changes how the fused steps' loop is compiled, not
  what it computes: 5 steps (not a multiple of 4: one unrolled trip and
  a remainder) give the same state and per-step metrics rolled and
  unrolled."""
  results = []
  for unroll in (1, 4):
    gan = train.build(tiny_config(scan_unroll=unroll))
    fused = jax.jit(train.make_fused_steps(gan, 5, per_step=True))
    results.append(fused(init(gan)))
  for x, y in zip(jax.tree.leaves(results[0]), jax.tree.leaves(results[1]),
                  strict=True):
    np.testing.assert_array_equal(x, y)
  # The option reaches the loop (here with scan_unroll=4).
  assert 'unroll=4' in str(jax.make_jaxpr(
      train.make_fused_steps(gan, 5))(init(gan)))


@pytest.mark.slow
def test_same_seed_is_bit_identical_and_seeds_differ():
  gan = train.build(tiny_config())
  a, metrics_a = run(gan, init(gan, seed=0), 4, 2)
  b, metrics_b = run(gan, init(gan, seed=0), 4, 2)
  c, _ = run(gan, init(gan, seed=1), 4, 2)
  for x, y in zip(jax.tree.leaves((a, metrics_a)),
                  jax.tree.leaves((b, metrics_b))):
    np.testing.assert_array_equal(x, y)
  assert not np.allclose(a.generator.params['Dense_0']['kernel'],
                         c.generator.params['Dense_0']['kernel'])


def test_n_critic_updates_per_generator_update():
  config = tiny_config()
  config.optim.n_critic = 3
  gan = train.build(config)
  state, _ = run(gan, init(gan), 4, 2)
  adam_count = lambda opt_state: int(opt_state.inner_state[0].count)
  assert adam_count(state.critic.opt_state) == 12
  assert adam_count(state.generator.opt_state) == 4


@pytest.mark.parametrize('loss', ['minimax', 'non_saturating', 'wasserstein',
                                  'hinge', 'least_squares'])
def test_smoke_every_loss_trains_a_few_finite_steps(loss):
  gan = train.build(tiny_config(loss=loss))
  state, metrics = run(gan, init(gan), 10, 5)
  assert all(np.isfinite(v) for v in jax.device_get(metrics).values())
  assert all(np.isfinite(x).all() for x in jax.tree.leaves(state))


def counting_trick():
  """A trick that counts how often each hook runs and perturbs nothing."""
  hooks = ('critic_params', 'after_critic_update', 'after_generator_update')

  def init(params, key):
    del key
    assert set(params._fields) == {'generator', 'critic'}
    return {h: jnp.zeros((), jnp.int32) for h in hooks}

  def counter(hook):
    def count(params, state, info=None):
      del info
      return params, {**state, hook: state[hook] + 1}
    return count

  def critic_loss(terms, view, state, info):
    assert view.real.shape == view.fake.shape == (32, 2)
    assert view.real_out.logits.shape == (32,)
    return {**terms, 'probe': 0.0 * jnp.mean(view.apply(view.real).logits)}

  return tricks.make(init=init, critic_loss=critic_loss,
                     **{h: counter(h) for h in hooks})


def test_hooks_run_once_per_update_and_state_is_kept():
  config = tiny_config()
  config.optim.n_critic = 2
  gan = train.build(config)._replace(tricks=tricks.chain(counting_trick()))
  state, metrics = run(gan, init(gan), 3, 3)
  counts = state.tricks[0]
  # critic_params runs in the generator update too, but only the critic
  # update keeps its state: once per critic update.
  assert int(counts['critic_params']) == 6
  assert int(counts['after_critic_update']) == 6
  assert int(counts['after_generator_update']) == 3
  assert 'critic/probe' in metrics and 'critic/adversarial' in metrics


def test_chain_applies_tricks_in_order():
  scale = tricks.make(real_target=lambda t, state, info: t * 0.9)
  shift = tricks.make(real_target=lambda t, state, info: t - 0.1)
  info = tricks.StepInfo(jnp.int32(0), jax.random.PRNGKey(0))
  one = jnp.float32(1.0)
  np.testing.assert_allclose(
      tricks.chain(scale, shift).real_target(one, ((), ()), info), 0.8)
  np.testing.assert_allclose(
      tricks.chain(shift, scale).real_target(one, ((), ()), info), 0.81)


def test_trick_hooks_change_training():
  """A trick that stops critic learning via after_critic_update."""
  freeze = tricks.make(
      init=lambda params, key: params.critic,
      after_critic_update=lambda params, state, info: (state, state))
  gan = train.build(tiny_config())._replace(tricks=tricks.chain(freeze))
  start = init(gan)
  state, _ = run(gan, start, 2, 2)
  assert_trees_close(state.critic.params, start.critic.params, rtol=0, atol=0)
  assert not np.allclose(state.generator.params['Dense_0']['kernel'],
                         start.generator.params['Dense_0']['kernel'])


def test_unknown_hook_is_rejected():
  with pytest.raises(TypeError,
                     match="unknown trick hooks \\['critic_input'\\]"):
    tricks.make(critic_input=lambda *a: a)
