"""Image evaluation end to end: the digits classifier, the Evaluator,
evaluate.py."""

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from gan_jax import config as config_lib
from gan_jax import data
from gan_jax import evaluation
from gan_jax.metrics.features import digits_classifier

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def digits_config(name='digits', size=16, channels=1):
  config = config_lib.base()
  config.data.name = name
  config.data.image_size = size
  config.data.channels = channels
  config.eval.num_reference = 400
  return config


@pytest.mark.slow
def test_digits_classifier_is_accurate_and_cached(trained_digits_classifier,
                                                  tmp_path, monkeypatch):
  # Trained once for the suite (tests/conftest.py), by load_or_train.
  params, accuracy = trained_digits_classifier
  assert accuracy >= digits_classifier.MIN_HELD_OUT_ACCURACY
  # In a new data_dir it is trained on first use, kept, and read back
  # after: the same params and accuracy, and no second training. (The
  # training is the suite's own, not repeated: 40 CPU-seconds.)
  trainings = []
  monkeypatch.setattr(digits_classifier, 'train_classifier',
                      lambda: trainings.append(1) or (params, accuracy))
  first = digits_classifier.load_or_train(str(tmp_path))
  cached, cached_accuracy = digits_classifier.load_or_train(str(tmp_path))
  assert trainings == [1] and first[1] == cached_accuracy == accuracy
  assert jax.tree.structure(cached) == jax.tree.structure(params)
  for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(cached)):
    np.testing.assert_array_equal(a, b)


@pytest.mark.slow
@pytest.mark.usefixtures('trained_digits_classifier')
def test_real_images_score_like_real_images():
  """Real digits against other real digits: near-ideal scores; noise: bad."""
  config = digits_config()
  dataset = data.from_config(config.data)
  evaluator = evaluation.Evaluator(config, dataset)
  assert evaluator.protocol['feature_extractor'] == 'digits_classifier'
  held_out, _ = dataset.examples(1797, seed=1)
  reference = {tuple(x.ravel()) for x in evaluator.real_images}
  held_out = np.array([x for x in held_out
                       if tuple(x.ravel()) not in reference][:400])
  real = evaluator(held_out)
  noise = evaluator(np.random.default_rng(0).uniform(-1, 1, held_out.shape))
  for key in ('fd', 'kid_mean', 'swd'):
    assert real[key] < noise[key] / 5, key
  assert real['is_mean'] > 8 > noise['is_mean']
  assert real['precision'] > 0.6 > noise['precision']
  assert real['recall'] > 0.6 > noise['recall']
  assert 0.4 < real['one_nn_accuracy'] < 0.65
  assert noise['one_nn_accuracy'] > 0.95


@pytest.mark.slow
@pytest.mark.usefixtures('trained_digits_classifier')
def test_stacked_digits_count_modes():
  config = digits_config('stacked_digits', 8, 3)
  dataset = data.from_config(config.data)
  evaluator = evaluation.Evaluator(config, dataset)
  real_images, labels = dataset.examples(300, seed=5)
  results = evaluator(real_images)
  expected_modes = len(np.unique(labels))
  assert abs(results['modes'] - expected_modes) <= 0.03 * expected_modes
  one_mode = evaluator(np.repeat(real_images[:1], 50, axis=0))
  assert one_mode['modes'] == 1
  np.testing.assert_allclose(one_mode['reverse_kl'], np.log(1000))


def test_extractor_choice_and_errors():
  config = digits_config()
  assert evaluation.extractor_name(config.eval, 'digits') == 'digits_classifier'
  assert evaluation.extractor_name(config.eval, 'cifar10') == 'none'
  config.eval.inception_weights = '/weights.npz'
  assert evaluation.extractor_name(config.eval, 'cifar10') == 'inception'
  config.eval.inception_weights = ''
  config.eval.feature_extractor = 'inception'
  with pytest.raises(config_lib.ConfigError, match='eval.inception_weights'):
    config_lib.validate(config)
  config.eval.feature_extractor = 'vgg'
  with pytest.raises(config_lib.ConfigError,
                     match="unknown eval.feature_extractor 'vgg'; allowed: "
                     'auto, digits_classifier, inception, none'):
    config_lib.validate(config)


def evaluate(*flags):
  return subprocess.run([sys.executable, 'experiments/evaluate.py', *flags],
                        cwd=REPO, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
@pytest.mark.usefixtures('trained_digits_classifier')
def test_evaluate_script_matches_the_training_evaluation(entry_point,
                                                         tmp_path):
  workdir = str(tmp_path / 'run')
  train = subprocess.run(
      [sys.executable, 'experiments/train.py', f'--workdir={workdir}',
       '--config.num_train_steps=4', '--config.log_every=2',
       '--config.sample_every=2', '--config.eval_every=2',
       '--config.checkpoint_every=2', '--config.eval.num_samples=300',
       '--config.eval.num_reference=300', '--config.batch_size=16',
       # The default config's DCGAN at its smallest: quicker to compile in
       # each of the five processes.
       '--config.data.image_size=8', '--config.model.generator_args.width=8',
       '--config.model.critic_args.width=8'],
      cwd=REPO, capture_output=True, text=True, timeout=600)
  assert train.returncode == 0, train.stderr
  with open(os.path.join(workdir, 'eval.json')) as f:
    trained = json.load(f)
  assert trained['feature_extractor'] == 'digits_classifier'
  assert trained['protocol']['num_reference'] == 300
  os.remove(os.path.join(workdir, 'eval.json'))
  result = evaluate(f'--workdir={workdir}')
  assert result.returncode == 0, result.stderr
  with open(os.path.join(workdir, 'eval.json')) as f:
    assert json.load(f) == trained
  early = evaluate(f'--workdir={workdir}', '--checkpoint_step=2',
                   '--num_samples=100')
  assert early.returncode == 0, early.stderr
  with open(os.path.join(workdir, 'eval_step_2.json')) as f:
    evaluated = json.load(f)
  assert evaluated['step'] == 2 and evaluated['protocol']['num_samples'] == 100
  # Refused before any work: forked from a process that imported jax and
  # gan_jax (conftest.py).
  missing = entry_point('experiments/evaluate.py', f'--workdir={workdir}',
                        '--checkpoint_step=3')
  assert missing.returncode == 2
  assert 'no checkpoint of step 3; checkpoints: 2, 4' in missing.stderr
  nothing = entry_point('experiments/evaluate.py',
                        f'--workdir={tmp_path / "empty"}')
  assert nothing.returncode == 2 and 'holds no run' in nothing.stderr
