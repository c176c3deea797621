"""Model options: minibatch discrimination / stddev, virtual batch norm,
norms, dropout."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import models
from gan_jax import train
from gan_jax.models import layers
from tests.helpers import init_state, run_steps, tiny_config


def test_minibatch_stddev_by_hand():
  x = jnp.array([[0.0, 1.0], [10.0, 10.0], [2.0, 3.0], [10.0, 10.0]])
  out = layers.minibatch_stddev(x, group_size=2)
  # Groups pair example i with i + 2: {0, 2} and {1, 3}.
  # Group {0, 2}: per-feature stds are 1 and 1 -> 1. Group {1, 3}: 0.
  np.testing.assert_allclose(out[:, :2], x)
  np.testing.assert_allclose(out[:, 2], [1, 0, 1, 0], atol=1e-3)


def test_minibatch_stddev_needs_a_divisible_batch():
  with pytest.raises(ValueError,
                     match='batch 6 is not divisible by group size 4'):
    layers.minibatch_stddev(jnp.zeros((6, 3)), group_size=4)


def test_minibatch_discrimination_sees_a_collapsed_batch():
  layer = layers.MinibatchDiscrimination(num_kernels=3, kernel_dim=2)
  collapsed = jnp.ones((5, 4))
  params = layer.init(jax.random.PRNGKey(0), collapsed)
  out = layer.apply(params, collapsed)
  assert out.shape == (5, 4 + 3)
  # exp(-0) from each of the 4 other examples; the self term is excluded.
  np.testing.assert_allclose(out[:, 4:], 4.0)
  diverse = layer.apply(params, 10 * jax.random.normal(jax.random.PRNGKey(1),
                                                        (5, 4)))
  assert np.all(diverse[:, 4:] < 1.0)


def test_virtual_batch_norm_makes_examples_independent_of_their_batch():
  g = models.build_generator(
      'mlp', dict(width=16, normalization='virtual_batch',
                  vbn_reference_size=8), (2,))
  z = jax.random.normal(jax.random.PRNGKey(0), (6, 4))
  variables = g.init(jax.random.PRNGKey(1), z)
  assert variables['constants']['reference_z'].shape == (8, 4)
  whole = g.apply(variables, z)
  alone = g.apply(variables, z[2:3])
  np.testing.assert_allclose(whole[2:3], alone, rtol=1e-5, atol=1e-6)


def test_batch_norm_without_reference_depends_on_the_batch():
  g = models.build_generator('mlp', dict(width=16, normalization='batch'), (2,))
  z = jax.random.normal(jax.random.PRNGKey(0), (6, 4))
  variables = g.init(jax.random.PRNGKey(1), z)
  whole, _ = g.apply(variables, z, train=True, mutable=['batch_stats'])
  part, _ = g.apply(variables, z[:3], train=True, mutable=['batch_stats'])
  assert not np.allclose(whole[:3], part)


def test_generator_dropout_stays_on_at_sampling_time():
  g = models.build_generator('mlp', dict(width=16, dropout=0.5), (2,))
  z = jnp.ones((4, 4))
  variables = g.init({'params': jax.random.PRNGKey(0),
                      'dropout': jax.random.PRNGKey(0)}, z)
  a = g.apply(variables, z, train=False,
              rngs={'dropout': jax.random.PRNGKey(1)})
  b = g.apply(variables, z, train=False,
              rngs={'dropout': jax.random.PRNGKey(2)})
  assert not np.allclose(a, b)


@pytest.mark.parametrize('generator_args,critic_args', [
    # Each generator option beside a critic option: one program for two.
    (dict(normalization='batch'), dict(normalization='layer')),
    (dict(normalization='layer'), dict(normalization='batch')),
    (dict(normalization='virtual_batch'), dict(minibatch_discrimination=8)),
    (dict(dropout=0.2), dict(minibatch_stddev=True)),
])
@pytest.mark.slow
def test_smoke_each_option_trains_and_moves_batch_statistics(
    generator_args, critic_args):
  config = tiny_config()
  config.model.generator_args.update(generator_args)
  config.model.critic_args.update(critic_args)
  gan = train.build(config)
  start = init_state(gan)
  state, metrics = run_steps(gan, start, 4, 4)
  assert all(np.isfinite(v) for v in jax.device_get(metrics).values())
  for player, args in (('generator', generator_args),
                       ('critic', critic_args)):
    if args.get('normalization') == 'batch':  # Its statistics are updated.
      assert not np.allclose(
          jax.tree.leaves(getattr(state, player).model_state['batch_stats'])[0],
          jax.tree.leaves(getattr(start, player).model_state['batch_stats'])[0])


def test_unknown_normalization_is_a_config_error():
  from gan_jax import config as config_lib  # pylint: disable=g-import-not-at-top
  config = config_lib.base()
  config.model.critic_args.normalization = 'virtual_batch'
  with pytest.raises(config_lib.ConfigError,
                     match="unknown normalization 'virtual_batch'"):
    config_lib.validate(config)
