"""What a user reads: strict JSON with undefined values as null, left out of
TensorBoard; short runs still log and evaluate their final step."""

import json
import math
import os
import struct

import numpy as np
import pytest
from tensorboardX.proto import event_pb2

from gan_jax import ablation
from gan_jax import metric_writer
from gan_jax import plotting
from gan_jax import strict_json
from gan_jax import sweep_results
from gan_jax import train
from tests import helpers


def _refuse(token):
  raise ValueError(f'not JSON: {token}')


def strict_loads(text: str):
  """``json.loads`` that refuses NaN and ±Infinity, as strict parsers do."""
  return json.loads(text, parse_constant=_refuse)


def tensorboard_tags(workdir) -> dict[str, list[int]]:
  """``{tag: [steps]}`` of the scalars in ``workdir``'s event files (TFRecord:
  length, its CRC, the Event proto, its CRC)."""
  tags: dict[str, list[int]] = {}
  for name in sorted(os.listdir(workdir)):
    if not name.startswith('events.out.tfevents'):
      continue
    with open(os.path.join(workdir, name), 'rb') as f:
      data = f.read()
    offset = 0
    while offset < len(data):
      length, = struct.unpack('<Q', data[offset:offset + 8])
      event = event_pb2.Event.FromString(
          data[offset + 12:offset + 12 + length])
      offset += 12 + length + 4
      for value in event.summary.value:
        tags.setdefault(value.tag, []).append(event.step)
  return tags


def test_undefined_to_null_in_nested_values_and_numpy_scalars():
  record = {'a': math.nan, 'b': [1.5, -math.inf, np.float32('nan')],
            'c': {'d': np.float64(math.inf), 'e': np.int64(3)},
            'f': True, 'g': 'text', 'h': None, 'i': np.float32(0.5),
            'j': np.array(math.nan)}
  text = strict_json.dumps(record)
  assert strict_loads(text) == {'a': None, 'b': [1.5, None, None],
                                'c': {'d': None, 'e': 3}, 'f': True,
                                'g': 'text', 'h': None, 'i': 0.5, 'j': None}
  assert math.isnan(strict_json.null_to_nan(None))
  assert strict_json.null_to_nan(2.0) == 2.0


def test_metric_writer_writes_null_and_sends_only_defined_values(tmp_path):
  writer = metric_writer.MetricWriter(str(tmp_path))
  writer.write(10, {'critic_loss': 0.5, 'eval/reverse_kl': math.nan,
                    'eval/fd': np.float32('inf'), 'eval/modes': 3})
  writer.close()
  with open(tmp_path / 'metrics.jsonl') as f:
    lines = [strict_loads(line) for line in f]
  assert lines == [{'step': 10, 'critic_loss': 0.5, 'eval/reverse_kl': None,
                    'eval/fd': None, 'eval/modes': 3}]
  assert tensorboard_tags(tmp_path) == {'critic_loss': [10],
                                        'eval/modes': [10]}
  # A resumed run reads the file back (steps of null lines included).
  metric_writer.MetricWriter(str(tmp_path), resume_step=10).close()
  with open(tmp_path / 'metrics.jsonl') as f:
    assert len(f.readlines()) == 1


@pytest.mark.slow
def test_a_run_shorter_than_its_periods_logs_and_evaluates_its_final_step(
    tmp_path):
  """6 steps, log, eval, samples and checkpoints every 100: step 6 is
  logged and evaluated. The untrained generator puts no sample within 3
  std of a mode, so reverse KL is undefined: null in eval.json and
  metrics.jsonl (strict JSON), absent from TensorBoard."""
  config = helpers.tiny_config(
      num_train_steps=6, steps_per_call=3, log_every=100, eval_every=100,
      sample_every=100, checkpoint_every=100)
  config.eval.num_samples = 200
  results = train.train_and_evaluate(config, str(tmp_path))
  assert results['high_quality'] == 0 and math.isnan(results['reverse_kl'])
  text = (tmp_path / 'eval.json').read_text()
  assert 'NaN' not in text
  record = strict_loads(text)
  assert record['step'] == 6 and record['reverse_kl'] is None
  assert record['modes'] == 0
  with open(tmp_path / 'metrics.jsonl') as f:
    lines = [strict_loads(line) for line in f]
  assert [line['step'] for line in lines] == [6]
  assert lines[0]['eval/reverse_kl'] is None and 'critic_loss' in lines[0]
  tags = tensorboard_tags(tmp_path)
  assert tags['eval/modes'] == [6] and tags['critic_loss'] == [6]
  assert 'eval/reverse_kl' not in tags
  assert os.listdir(tmp_path / 'samples') == ['step_00000006.png']


def _fake_finished_run(root, variant, seed, reverse_kls):
  """A finished ring8 run whose evaluations at steps 10, 20 gave
  ``reverse_kls`` (None: undefined), as a training run writes them."""
  config = helpers.tiny_config(num_train_steps=20, seed=seed)
  run = ablation.Run(variant, seed, config,
                     str(root / variant / f'seed_{seed}'))
  os.makedirs(run.workdir)
  strict_json.write(os.path.join(run.workdir, 'config.json'),
                    json.loads(config.to_json()))
  writer = metric_writer.MetricWriter(run.workdir)
  for step, value in zip((10, 20), reverse_kls):
    writer.write(step, {'critic_loss': 1.0, 'generator_loss': 0.7,
                        'eval/reverse_kl': strict_json.null_to_nan(value)})
  writer.close()
  train.write_eval_json(
      os.path.join(run.workdir, 'eval.json'), 20,
      {'modes': 1.0, 'reverse_kl': strict_json.null_to_nan(reverse_kls[-1])},
      {'num_samples': 2500})
  assert ablation.status(run) == 'finished'
  return run


def test_sweep_results_aggregate_a_null_as_undefined(tmp_path):
  runs = [_fake_finished_run(tmp_path, 'a', 0, [None, 0.5]),
          _fake_finished_run(tmp_path, 'a', 1, [0.25, None]),
          _fake_finished_run(tmp_path, 'b', 0, [None, None])]
  rows = sweep_results.collect(runs)
  assert rows[0]['reverse_kl'] == 0.5 and math.isnan(rows[1]['reverse_kl'])
  summaries = sweep_results.write(str(tmp_path), runs)
  mean, half_width, count = summaries[0]['metrics']['reverse_kl']
  assert (mean, count) == (0.5, 1) and math.isnan(half_width)
  table = (tmp_path / 'results.md').read_text()
  assert '| a | 1.000 ± 0.000 | 0.500 (1 of 2 seeds) |' in table
  assert '| b | 1.000 | undefined (0 of 1 seeds) |' in table
  rows = sweep_results.read_csv(str(tmp_path / 'results.csv'))
  assert math.isnan(rows[1]['reverse_kl'])
  curves = sweep_results.training_curves(runs)
  np.testing.assert_equal(curves['a']['eval/reverse_kl'],
                          {10: [math.nan, 0.25], 20: [0.5, math.nan]})
  np.testing.assert_equal(curves['b']['eval/reverse_kl'],
                          {10: [math.nan], 20: [math.nan]})
  assert (tmp_path / 'curves.png').stat().st_size > 1000


@pytest.mark.parametrize('steps', [[20], [10, 20]])
def test_curves_of_one_logged_step_are_drawn(tmp_path, steps):
  """A run shorter than log_every logs its final step only: one point,
  which a plain line does not show. Drawn as a marker (matplotlib's own
  record of what it drew is checked)."""
  curves = {'a': {'critic_loss': {s: [1.0, 2.0] for s in steps}}}
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  saved = {}
  original = plt.Figure.savefig

  def savefig(fig, path, *args, **kwargs):
    saved['lines'] = [line for ax in fig.axes for line in ax.get_lines()]
    return original(fig, path, *args, **kwargs)

  with pytest.MonkeyPatch.context() as patch:
    patch.setattr(plt.Figure, 'savefig', savefig)
    plotting.save_training_curves(str(tmp_path / 'curves.png'), curves)
  means = [line for line in saved['lines'] if line.get_label() == 'a']
  assert len(means) == 1 and means[0].get_marker() == 'o'
  np.testing.assert_equal(means[0].get_ydata(), [1.5] * len(steps))
