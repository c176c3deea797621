"""Config validation: one clear line per bad value."""

import os

import jax
import jax.numpy as jnp
import pytest

from gan_jax import config as config_lib
from gan_jax.train import state as train_state


@pytest.mark.parametrize('key,value,message', [
    ('loss', 'wgan', "unknown loss 'wgan'; allowed: hinge, least_squares"),
    ('tricks', 'spectral_nrom', "unknown trick 'spectral_nrom'"),
    ('data.name', 'cifar11', "unknown dataset 'cifar11'"),
    ('model.critic', 'transformer', "unknown critic 'transformer'"),
    ('model.generator_args.activation', 'relu6', "unknown activation 'relu6'"),
    ('batch_size', 0, 'config.batch_size=0 must be a positive integer'),
    ('num_train_steps', -5, 'config.num_train_steps=-5 must be a positive'),
    ('optim.n_critic', 0, 'config.optim.n_critic=0 must be a positive'),
    ('scan_unroll', 0, 'config.scan_unroll=0 must be a positive integer'),
    ('optim.d_lr', 0.0, r'config.optim.d_lr=0.0 must be a finite number > 0'),
    ('optim.d_lr', float('inf'), r'config.optim.d_lr=inf must be a finite'),
    ('optim.b1', 1.0, r'config.optim.b1=1.0 must be in \[0, 1\)'),
    ('seed', -1, r'config.seed=-1 must be an integer in \[0, 2\*\*32\)'),
    ('seed', 2**32 + 5, r'config.seed=4294967301 must be an integer'),
    ('parallel', 'pjit',
     "config.parallel='pjit'; allowed: auto, none, shard_map, pmap"),
    ('cpu_scheduler', 'lifo',
     "config.cpu_scheduler='lifo'; allowed: concurrency, memory"),
    ('cpu_kernels', 'mkl',
     "config.cpu_kernels='mkl'; allowed: ynn_reductions, xla, ynn"),
    ('optim.lr_schedule', 'cosine',
     "config.optim.lr_schedule='cosine'; allowed: constant, linear_decay"),
])
def test_bad_values(key, value, message):
  config = config_lib.base()
  *parents, leaf = key.split('.')
  node = config
  for p in parents:
    node = node[p]
  node[leaf] = value
  with pytest.raises(config_lib.ConfigError, match=message) as info:
    config_lib.validate(config)
  assert '\n' not in str(info.value)


def test_base_config_is_valid():
  config_lib.validate(config_lib.base())


def test_linear_decay_steps_the_learning_rate_once_per_train_step():
  # Adam with b1 = 0 on a constant gradient moves a parameter by the
  # learning rate each update (up to eps and float32 rounding), so the
  # updates read the rates off.
  config = config_lib.base()
  config.optim.lr_schedule = 'linear_decay'
  config.optim.b1 = 0.0
  config.num_train_steps = 4

  def rates(learning_rate, updates_per_step, updates):
    optimizer = train_state.optimizer(config, learning_rate, updates_per_step)
    params = jnp.zeros(())

    def step(state, _):
      update, state = optimizer.update(jnp.ones(()), state, params)
      return state, -update

    _, seen = jax.lax.scan(step, optimizer.init(params), length=updates)
    return [float(rate) for rate in seen]

  # Generator: step t uses lr (1 - t/4); the critic (n_critic 2) keeps one
  # rate for both updates of a step; 0 once the run is over.
  close = lambda values: pytest.approx(values, rel=1e-4, abs=1e-9)
  assert rates(0.4, 1, 5) == close([0.4, 0.3, 0.2, 0.1, 0.0])
  assert rates(0.4, 2, 8) == close([0.4, 0.4, 0.3, 0.3, 0.2, 0.2, 0.1, 0.1])
  config.optim.lr_schedule = 'constant'
  assert rates(0.4, 2, 3) == close([0.4] * 3)


@pytest.mark.parametrize('penalty', ['gradient_penalty', 'r1_penalty',
                                     'r2_penalty', 'dragan_penalty'])
def test_input_gradient_penalties_refuse_a_batch_norm_critic(penalty):
  config = config_lib.base()
  config.tricks = f'spectral_norm,{penalty}'
  config.model.critic_args.normalization = 'batch'
  with pytest.raises(config_lib.ConfigError,
                     match=f"trick '{penalty}' penalises per-sample critic "
                     "gradients, which a critic with "
                     "model.critic_args.normalization='batch' does not have"):
    config_lib.validate(config)
  config.model.critic_args.normalization = 'layer'
  config_lib.validate(config)


@pytest.mark.parametrize('critic_args, key', [
    (dict(minibatch_stddev=True), 'minibatch_stddev=True'),
    (dict(minibatch_discrimination=4), 'minibatch_discrimination=4'),
    (dict(normalization='none', minibatch_stddev=True),
     'minibatch_stddev=True'),
])
def test_input_gradient_penalties_refuse_minibatch_features(critic_args, key):
  config = config_lib.base()
  config.tricks = 'r1_penalty'
  config.model.critic_args.update(critic_args)
  with pytest.raises(config_lib.ConfigError,
                     match=f'model.critic_args.{key} does not have'):
    config_lib.validate(config)


def test_input_gradient_penalties_look_through_a_wrapper_critics_trunk():
  config = config_lib.load(os.path.join(
      os.path.dirname(__file__), '..', 'configs', 'bigan_digits.py'))
  config.tricks = 'gradient_penalty'
  config_lib.validate(config)
  config.model.critic_args.trunk_args = {}  # the DCGAN trunk's batch norm
  with pytest.raises(config_lib.ConfigError,
                     match="model.critic_args.trunk_args.normalization="
                     "'batch' does not have .* set it to 'layer'"):
    config_lib.validate(config)


def test_batch_norm_critic_is_fine_without_a_penalty():
  config = config_lib.base()
  config.tricks = 'spectral_norm,instance_noise'
  config.model.critic_args.normalization = 'batch'
  config_lib.validate(config)
