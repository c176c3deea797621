"""Every shipped config: it validates, and one train step of it runs on digits.

Image configs whose dataset cannot be prepared offline (cifar10) run on the
embedded digits, resized and channel-adapted to the config's image shape, with
the config's own models, loss, tricks and n_critic. The batch is cut to 8 to
keep the suite fast; nothing else changes.
"""

import glob
import os

import jax
import numpy as np
import pytest

from gan_jax import config as config_lib
from gan_jax import data
from gan_jax import train
from tests import helpers

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = sorted(os.path.basename(p) for p in
                 glob.glob(os.path.join(REPO, 'configs', '*.py')))
OFFLINE_DATASETS = (tuple(data.MIXTURES) + tuple(data.EMBEDDED)
                    + tuple(data.SEQUENCES))


def offline_config(name):
  config = config_lib.load(os.path.join(REPO, 'configs', name))
  if config.data.name not in OFFLINE_DATASETS:
    config.data.name = 'digits'
  config.batch_size = 8
  config_lib.validate(config)
  return config


def small_conditional_config():
  """conditional_digits at 8×8 with narrow models: the same code paths."""
  config = offline_config('conditional_digits.py')
  config.data.image_size = 8
  config.model.generator_args.width = 8
  config.model.critic_args.width = 8
  config.optim.n_critic = 1
  return config


def one_step(config):
  gan = train.build(config)
  state = helpers.init_state(gan)
  feeder = train.HostBatches(gan, config.seed)
  batches = feeder.take(1)
  feeder.close()
  new_state, metrics = jax.jit(train.make_fused_steps(gan, 1))(state,
                                                               *batches)
  return gan, state, new_state, metrics, batches


def test_every_config_is_covered():
  assert {'dcgan_digits.py', 'conditional_digits.py', 'stacked_digits.py',
          'sngan_cnn_cifar10.py', 'sngan_resnet_cifar10.py', 'ring8.py',
          'grid25.py', 'bigan_digits.py', 'aae_digits.py', 'ssgan_digits.py',
          'seqgan_motifs.py'} <= set(CONFIGS)


@pytest.mark.slow
@pytest.mark.parametrize('name', CONFIGS)
def test_smoke_one_train_step_of_every_config(name):
  config = offline_config(name)
  gan, state, new_state, metrics, _ = one_step(config)
  assert int(new_state.step) == 1
  for key, value in metrics.items():
    assert np.isfinite(value), (name, key, value)
  for player in ('generator', 'critic'):
    before = getattr(state, player).params
    after = getattr(new_state, player).params
    assert any(not np.allclose(a, b) for a, b in
               zip(jax.tree.leaves(before), jax.tree.leaves(after))), player


def test_conditional_step_learns_only_the_classes_it_saw():
  """Labels reach both players: after one step, the class embeddings of the
  generator's conditional batch norms and the critic's projection change for
  the classes in the batch and stay exactly as they were for the others
  (Adam's update of a zero gradient is zero)."""
  gan, state, new_state, _, batches = one_step(small_conditional_config())
  seen = np.unique(batches[0].labels)
  assert 0 < len(seen) < 10
  unseen = np.setdiff1d(np.arange(10), seen)
  embeddings = {
      'generator': [state.generator.params, new_state.generator.params],
      'critic': [state.critic.params, new_state.critic.params]}
  for player, (before, after) in embeddings.items():
    paths = [(path, b, a) for (path, b), a in zip(
        jax.tree_util.tree_leaves_with_path(before), jax.tree.leaves(after))
             if 'embedding' in jax.tree_util.keystr(path)]
    assert paths, player
    for path, b, a in paths:
      if player == 'generator' and 'offset' not in jax.tree_util.keystr(path):
        continue  # Scales get the same treatment; offsets suffice.
      np.testing.assert_array_equal(a[unseen], b[unseen])
      assert not np.allclose(a[seen], b[seen]), jax.tree_util.keystr(path)


def test_conditional_generator_follows_its_labels():
  gan = train.build(small_conditional_config())
  state = helpers.init_state(gan)
  generate = train.make_generate(gan)
  key = jax.random.PRNGKey(3)
  # Perturb the class embeddings so classes differ already at initialisation.
  params = jax.tree_util.tree_map_with_path(
      lambda p, x: x + 0.5 * jax.random.normal(key, x.shape)
      if 'embedding' in jax.tree_util.keystr(p) else x, state.generator.params)
  state = state.replace(generator=state.generator.replace(params=params))
  def samples(*labels):
    return np.asarray(generate(state, key, len(labels), False,
                               np.array(labels, np.int32)))

  first, second = samples(3, 3, 7, 7), samples(3, 3, 7, 3)
  np.testing.assert_array_equal(first[:3], second[:3])  # Same z, same class.
  assert not np.allclose(first[3], second[3])  # Same z, another class.
  # By default sample i has class i % 10.
  np.testing.assert_array_equal(np.asarray(generate(state, key, 4, False)),
                                samples(0, 1, 2, 3))
  assert train.grid_classes(10).tolist() == list(range(10))
  assert train.grid_classes(1000).tolist()[:3] == [0, 111, 222]


def test_conditional_config_errors_name_the_problem():
  config = offline_config('dcgan_digits.py')
  config.model.conditional = True
  config.model.generator = 'mlp'
  config.model.generator_args = {}
  with pytest.raises(config_lib.ConfigError,
                     match="generator 'mlp' has no class-conditional form; "
                     'allowed: dcgan, sngan_cnn, sngan_resnet'):
    config_lib.validate(config)
