"""Training on images: DCGAN on digits, sample grids, resume with the next
batch."""

import json
import os

import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest

from gan_jax import config as config_lib
from gan_jax import train

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


@pytest.fixture(scope='module')
def data_dir(tmp_path_factory):
  return str(tmp_path_factory.mktemp('tfds'))


def tiny_dcgan(data_dir, num_train_steps):
  """The shipped default config, shrunk: 8×8 digits, width 8, batch 16,
  pixel-space evaluation only (the classifier is tested elsewhere)."""
  config = config_lib.load(os.path.join(REPO, 'configs', 'dcgan_digits.py'))
  config.eval.feature_extractor = 'none'
  config.data.update(data_dir=data_dir, image_size=8)
  config.model.latent_dim = 8
  config.model.generator_args.width = config.model.critic_args.width = 8
  config.batch_size = 16
  config.optim.n_critic = 2
  config.update(num_train_steps=num_train_steps, log_every=2, sample_every=2,
                eval_every=2, checkpoint_every=2)
  config.eval.num_samples = 16
  return config


def final_checkpoint(workdir):
  """The run's latest checkpoint, restored as orbax saved it."""
  manager = ocp.CheckpointManager(os.path.join(workdir, 'checkpoints'))
  restored = manager.restore(manager.latest_step(), args=ocp.args.Composite(
      state=ocp.args.StandardRestore(), loop=ocp.args.JsonRestore()))
  manager.close()
  return restored


@pytest.mark.slow
def test_dcgan_on_digits_writes_grids_and_resumes_on_the_next_batch(
    data_dir, tmp_path):
  config_lib.validate(tiny_dcgan(data_dir, 4))
  straight, resumed = str(tmp_path / 'straight'), str(tmp_path / 'resumed')
  train.train_and_evaluate(tiny_dcgan(data_dir, 4), straight)
  train.train_and_evaluate(tiny_dcgan(data_dir, 2), resumed)
  train.train_and_evaluate(tiny_dcgan(data_dir, 4), resumed)

  assert sorted(os.listdir(os.path.join(straight, 'samples'))) == [
      'step_00000002.png', 'step_00000004.png']
  with open(os.path.join(straight, 'eval.json')) as f:
    assert set(json.load(f)) == {'step', 'swd', 'feature_extractor',
                                 'protocol'}
  a, b = final_checkpoint(straight), final_checkpoint(resumed)
  assert a.loop == b.loop and a.loop['data']['next_index'] == 4 * 2
  for x, y in zip(jax.tree.leaves(a.state), jax.tree.leaves(b.state),
                  strict=True):
    np.testing.assert_array_equal(x, y)
