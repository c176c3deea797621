"""train_and_evaluate in-process: diagnostics and raw-vs-EMA evaluation."""

import json
import os

import numpy as np
import pytest

from gan_jax import config as config_lib
from gan_jax import train
from tests.helpers import tiny_config


@pytest.mark.slow
def test_diagnostics_and_ema_evaluations_are_logged(tmp_path):
  config = tiny_config(tricks='spectral_norm,generator_ema', num_train_steps=20,
                       steps_per_call=10, log_every=10, eval_every=20,
                       sample_every=20, checkpoint_every=20)
  config.eval.num_samples = 100
  results = train.train_and_evaluate(config, str(tmp_path))
  with open(tmp_path / 'metrics.jsonl') as f:
    records = [json.loads(line) for line in f]
  assert [r['step'] for r in records] == [10, 20]
  for key in ('critic_sigma_max', 'critic_input_grad_norm', 'critic_real',
              'critic_fake', 'critic_param_norm', 'critic_update_norm',
              'generator_param_norm', 'generator_update_norm'):
    assert key in records[0], key
  assert abs(records[-1]['critic_sigma_max'] - 1) < 0.2
  assert {'eval/modes', 'eval/raw/modes'} <= set(records[-1])
  with open(tmp_path / 'eval.json') as f:
    assert set(json.load(f)) == {'step', 'modes', 'high_quality', 'reverse_kl',
                                 'raw/modes', 'raw/high_quality',
                                 'raw/reverse_kl', 'protocol'}
  assert set(results) >= {'modes', 'raw/modes'}
  assert sorted(os.listdir(tmp_path / 'samples')) == [
      'step_00000020.png', 'step_00000020_raw.png']


@pytest.mark.slow
def test_every_eval_competes_for_best_and_resume_past_the_end_refused(
    tmp_path, monkeypatch):
  # Evaluations at steps 2, 4, 6, 8 with scripted scores, the best at 4; a
  # regular checkpoint only at the end.
  scores = {2: 0.1, 4: 0.9, 6: 0.3, 8: 0.2}
  evaluate_state = train.evaluate_state

  def scripted(gan, evaluator, state, *args):
    results, samples = evaluate_state(gan, evaluator, state, *args)
    return {**results, 'high_quality': scores[int(state.step)]}, samples

  monkeypatch.setattr(train.sampling, 'evaluate_state', scripted)
  config = tiny_config(num_train_steps=8, steps_per_call=2, log_every=2,
                       eval_every=2, sample_every=8, checkpoint_every=8,
                       best_metric='high_quality', best_mode='max')
  config.eval.num_samples = 100
  train.train_and_evaluate(config, str(tmp_path))
  assert os.listdir(tmp_path / 'checkpoints') == ['8']
  assert os.listdir(tmp_path / 'checkpoints_best') == ['4']

  # The finished run resumed with fewer steps: one line, nothing rewritten.
  with open(tmp_path / 'eval.json') as f:
    finished = f.read()
  config.num_train_steps = 6
  with pytest.raises(config_lib.ConfigError,
                     match='holds a checkpoint of step 8, past '
                     'config.num_train_steps=6; train it to at least 8'):
    train.train_and_evaluate(config, str(tmp_path))
  with open(tmp_path / 'eval.json') as f:
    assert f.read() == finished


@pytest.mark.slow
def test_evaluating_more_often_leaves_training_unchanged(tmp_path):
  # What lets a sweep evaluate only at the end (configs/sweeps/
  # stacked_digits_tricks.py) and still report the runs of a sweep that
  # also evaluated midway: evaluation draws from its own key.
  finals = []
  for eval_every in (2, 8):
    config = tiny_config(num_train_steps=8, steps_per_call=2, log_every=2,
                         eval_every=eval_every, sample_every=8,
                         checkpoint_every=8)
    config.eval.num_samples = 100
    workdir = tmp_path / str(eval_every)
    finals.append(train.train_and_evaluate(config, str(workdir)))
    with open(workdir / 'metrics.jsonl') as f:
      records = [json.loads(line) for line in f]
    finals.append([{k: v for k, v in r.items() if 'loss' in k}
                   for r in records])
  assert len(finals[1]) == 4 and finals[1][0]  # Losses at steps 2-8.
  np.testing.assert_equal(finals[0], finals[2])  # NaN KL equals NaN.
  assert finals[1] == finals[3]
