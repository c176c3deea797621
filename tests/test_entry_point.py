"""experiments/train.py end to end: the workdir contract, resume, bad input."""

import json
import os
import re
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Tiny ring8, as in the config-change and sweep tests, which share its
# compiled programs; a rolled loop compiles in 60 % of the time, to the same
# bits (tests/train/test_step.py). The kill -9 test
# (tests/train/test_checkpointing.py) runs the default loop.
TINY = ['--config.batch_size=32', '--config.model.latent_dim=8',
        '--config.model.generator_args.width=16',
        '--config.model.critic_args.width=16', '--config.steps_per_call=5',
        '--config.scan_unroll=1',
        '--config.log_every=10', '--config.sample_every=20',
        '--config.eval_every=20', '--config.checkpoint_every=20',
        '--config.eval.num_samples=200']


def train(workdir, *flags, config='configs/ring8.py'):
  return subprocess.run(
      [sys.executable, 'experiments/train.py', f'--config={config}',
       f'--workdir={workdir}', *TINY, *flags],
      cwd=REPO, capture_output=True, text=True, timeout=300)


def read_metrics(workdir):
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    return [json.loads(line) for line in f]


def without_timing(records):
  return [{k: v for k, v in r.items() if k != 'steps_per_sec'} for r in records]


@pytest.mark.slow
def test_workdir_contract_and_resume(tmp_path):
  resumed, straight = str(tmp_path / 'resumed'), str(tmp_path / 'straight')
  first = train(resumed, '--config.num_train_steps=20')
  assert first.returncode == 0, first.stderr
  assert 'step 20/20' in first.stderr and 'steps/s' in first.stderr
  # The console: gan_jax's own lines, ending with the summary; what
  # libraries print goes to train.log.
  lines = first.stderr.strip().splitlines()
  for line in lines:
    assert line.startswith('  ') or re.match(
        r'[IWE]\d{4} [\d:.]+ +\d+ '
        r'(train|runs|loop|checkpoint|tfds_sources)\.py:\d+\] ', line), line
  assert 'done: step 20 of 20 in ' in lines[-3] and lines[-3].endswith(
      f'workdir {resumed}')
  assert lines[-2].startswith('  final scores: modes ')
  assert lines[-1].startswith('  protocol: num_samples 200')

  names = set(os.listdir(resumed))
  assert {'config.json', 'metrics.jsonl', 'eval.json', 'samples',
          'checkpoints', 'train.log', 'run.lock'} <= names
  assert any(n.startswith('events.out.tfevents') for n in names)
  assert os.listdir(os.path.join(resumed, 'samples')) == ['step_00000020.png']
  assert os.listdir(os.path.join(resumed, 'checkpoints')) == ['20']
  with open(os.path.join(resumed, 'config.json')) as f:
    assert json.load(f)['num_train_steps'] == 20
  with open(os.path.join(resumed, 'eval.json')) as f:
    assert set(json.load(f)) == {'step', 'modes', 'high_quality', 'reverse_kl',
                                  'protocol'}
  records = read_metrics(resumed)
  assert [r['step'] for r in records] == [10, 20]
  assert {'critic_loss', 'generator_loss', 'critic/adversarial',
          'generator/adversarial', 'steps_per_sec'} <= set(records[0])
  assert 'eval/modes' in records[1]

  # The uninterrupted reference runs beside the resumed one (after the
  # first, so that both read its compiled programs from the cache).
  reference = subprocess.Popen(
      [sys.executable, 'experiments/train.py', '--config=configs/ring8.py',
       f'--workdir={straight}', *TINY, '--config.num_train_steps=40'],
      cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
  second = train(resumed, '--config.num_train_steps=40')
  assert second.returncode == 0, second.stderr
  assert 'resumed from the checkpoint of step 20' in second.stderr
  assert sorted(os.listdir(os.path.join(resumed, 'samples'))) == [
      'step_00000020.png', 'step_00000040.png']

  reference_stderr = reference.communicate(timeout=300)[1]
  assert reference.returncode == 0, reference_stderr
  assert [r['step'] for r in read_metrics(resumed)] == [10, 20, 30, 40]
  assert without_timing(read_metrics(resumed)) == without_timing(
      read_metrics(straight))
  for workdir in (resumed, straight):
    with open(os.path.join(workdir, 'eval.json')) as f:
      assert json.load(f)['step'] == 40

  # A finished run resumed again trains nothing and keeps its log.
  again = train(resumed, '--config.num_train_steps=40')
  assert again.returncode == 0, again.stderr
  assert [r['step'] for r in read_metrics(resumed)] == [10, 20, 30, 40]


@pytest.mark.parametrize('flag,message', [
    ('--config.loss=wgan', "error: unknown loss 'wgan'; allowed: hinge"),
    ('--config.batch_size=-1',
     'error: config.batch_size=-1 must be a positive'),
    ('--config.optim.lrr=3', "error: unknown config key 'optim.lrr'"),
    ('--config.optim.d_lr=fast', 'error: flag --config.optim.d_lr=fast: could'),
    ('--config=configs/ring9.py', 'error: cannot load the config file: '
     "[Errno 2] No such file or directory: 'configs/ring9.py'"),
])
def test_bad_config_value_is_one_line_exit_2_nothing_written(
    entry_point, tmp_path, flag, message):
  workdir = tmp_path / 'run'
  # Forked from a process that imported jax and gan_jax (conftest.py); the
  # test below runs train.py in a fresh process.
  result = entry_point('experiments/train.py', '--config=configs/ring8.py',
                       f'--workdir={workdir}', *TINY, flag)
  assert result.returncode == 2
  lines = result.stderr.strip().splitlines()
  assert len(lines) == 1 and lines[0].startswith(message), result.stderr
  assert not workdir.exists()


def test_more_bad_inputs_each_one_line_exit_2_nothing_written(entry_point,
                                                              tmp_path):
  cases = [
      ('--config.tricks=spectral_norm,dropout',
       "error: unknown trick 'dropout'; allowed: dragan_penalty"),
      ('--config.data.name=mnist2',
       "error: unknown dataset 'mnist2'; allowed: grid25, ring8"),
      ('--config.model.generator=stylegan',
       "error: unknown generator 'stylegan'; allowed: autoencoder, dcgan, mlp"),
      ('--config.num_train_steps=0',
       'error: config.num_train_steps=0 must be a positive integer'),
      ('--config.best_metric=fid', "error: config.best_metric='fid' is not a "
       'metric of this evaluation; allowed: high_quality, modes, reverse_kl'),
      ('--config.best_mode=lowest',
       "error: config.best_mode='lowest'; allowed: min, max"),
      ('--workdir=README.md',
       "error: workdir 'README.md' is a file, not a directory"),
  ]
  for i, (flag, message) in enumerate(cases):
    # Forked from a process that imported jax and gan_jax (conftest.py).
    result = entry_point('experiments/train.py', '--config=configs/ring8.py',
                         f'--workdir={tmp_path / str(i)}', *TINY, flag)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr
    assert not (tmp_path / str(i)).exists()


def test_default_config_is_dcgan_digits_and_reports_bad_keys(tmp_path):
  # A fresh process: nothing that importing prints comes before the line.
  result = subprocess.run(
      [sys.executable, 'experiments/train.py', f'--workdir={tmp_path / "run"}',
       '--config.optim.lrr=3'], cwd=REPO, capture_output=True, text=True,
      timeout=120)
  assert result.returncode == 2
  assert result.stderr.startswith("error: unknown config key 'optim.lrr'")
  assert len(result.stderr.strip().splitlines()) == 1
  assert not (tmp_path / 'run').exists()


@pytest.mark.slow
def test_only_the_entry_points_turn_the_compilation_cache_on(tmp_path):
  # `import gan_jax` leaves JAX's configuration alone; the default cache
  # directory is JAX's own variable if set, else the user's cache.
  env = {k: v for k, v in os.environ.items()
         if k not in ('JAX_COMPILATION_CACHE_DIR', 'XDG_CACHE_HOME')}
  env['HOME'] = str(tmp_path)
  probe = subprocess.run(
      [sys.executable, '-c', 'import gan_jax, jax\n'
       'from gan_jax import compilation_cache\n'
       'print(jax.config.jax_compilation_cache_dir)\n'
       'print(compilation_cache.default_dir())'],
      cwd=REPO, capture_output=True, text=True, env=env, timeout=120)
  assert probe.stdout.split() == [
      'None', str(tmp_path / '.cache' / 'gan_jax' / 'jax_compilation')]
  env['JAX_COMPILATION_CACHE_DIR'] = str(tmp_path / 'mine')
  # The entry point enables it; the run's train program (ring8's own MLPs:
  # seconds to compile, above the cache's threshold) lands there.
  result = subprocess.run(
      [sys.executable, 'experiments/train.py', '--config=configs/ring8.py',
       f'--workdir={tmp_path / "run"}', '--config.num_train_steps=5',
       '--config.steps_per_call=5', '--config.eval.num_samples=50'],
      cwd=REPO, capture_output=True, text=True, env=env, timeout=300)
  assert result.returncode == 0, result.stderr
  assert os.listdir(tmp_path / 'mine')
