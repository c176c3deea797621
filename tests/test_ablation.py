"""Ablation sweeps: variants, vmapped seeds, resumable sweeps, aggregation."""

import csv
import json
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import ablation
from gan_jax import checkpoint
from gan_jax import config as config_lib
from gan_jax import losses
from gan_jax import sweep_results
from gan_jax import sweeps
from gan_jax import train
from gan_jax import tricks

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_TINY_SWEEP = '''
from gan_jax import config as config_lib
from gan_jax import sweeps


def get_config():
  config = config_lib.load({ring8!r})
  # The tiny ring8 of the end-to-end tests (test_entry_point.py), whose
  # compiled programs the baseline's runs share; a rolled loop compiles in
  # 60 % of the time, to the same bits (tests/train/test_step.py).
  config.batch_size = 32
  config.model.latent_dim = 8
  config.model.generator_args.width = config.model.critic_args.width = 16
  config.num_train_steps = 20
  config.steps_per_call = 5
  config.scan_unroll = 1
  config.log_every = config.eval_every = 10
  config.checkpoint_every = config.sample_every = 20
  config.eval.num_samples = 200
  return config


def get_sweep():
  return sweeps.Sweep([sweeps.Variant('baseline'),
                       sweeps.Variant('hinge+sn', {{'loss': 'hinge',
                                                    'tricks': 'spectral_norm',
                                                    'eval.num_samples': 300}})],
                      seeds=2, metrics=('modes', 'high_quality'))
'''


def _tiny_config(seed: int) -> config_lib.ml_collections.ConfigDict:
  """ring8 with spectral norm, shrunk as tests.helpers.tiny_config."""
  config = config_lib.load(os.path.join(REPO, 'configs', 'ring8.py'))
  config.update(num_train_steps=20, steps_per_call=10, log_every=10,
                eval_every=10, checkpoint_every=20, sample_every=20,
                seed=seed, tricks='spectral_norm', batch_size=32,
                scan_unroll=1)
  config.model.latent_dim = 8
  config.model.generator_args.width = config.model.critic_args.width = 16
  config.eval.num_samples = 500
  return config


def _ablate(*args) -> subprocess.CompletedProcess:
  return subprocess.run([sys.executable, 'experiments/ablate.py', *args],
                        cwd=REPO, capture_output=True, text=True, timeout=900)


def _mtimes(directory) -> dict[str, float]:
  return {os.path.join(root, name): os.path.getmtime(os.path.join(root, name))
          for root, _, names in os.walk(directory) for name in names}


def test_product_names_and_merges_overrides():
  variants = sweeps.product(
      {'ns': {'loss': 'non_saturating'}, 'hinge': {'loss': 'hinge'}},
      {'': {}, 'sn': {'tricks': 'spectral_norm', 'loss': 'wasserstein'}})
  assert [(v.name, v.overrides) for v in variants] == [
      ('ns', {'loss': 'non_saturating'}),
      ('ns+sn', {'loss': 'wasserstein', 'tricks': 'spectral_norm'}),
      ('hinge', {'loss': 'hinge'}),
      ('hinge+sn', {'loss': 'wasserstein', 'tricks': 'spectral_norm'})]


def test_trick_ablation_has_every_trick_and_loss_and_validates():
  # Every registered trick and loss today; a new one joins the ablation
  # only when ABLATED_TRICKS / ABLATED_LOSSES name it (the next test).
  assert set(sweeps.ABLATED_TRICKS) == set(tricks.TRICKS)
  assert set(sweeps.ABLATED_LOSSES) == set(losses.LOSSES)
  names = [v.name for v in sweeps.trick_ablation('non_saturating')]
  assert names[0] == 'baseline' and 'four_tricks' in names
  assert {'spectral_norm', 'one_sided_label_smoothing', 'feature_matching',
          'instance_noise', 'gradient_penalty', 'weight_clipping',
          'minimax', 'hinge', 'least_squares', 'wasserstein',
          'wasserstein+weight_clipping',
          'wasserstein+gradient_penalty'} <= set(names)
  assert 'non_saturating' not in names  # The baseline's loss.
  from_hinge = [v.name for v in sweeps.trick_ablation('hinge')]
  assert 'non_saturating' in from_hinge and 'hinge' not in from_hinge
  base = config_lib.load(os.path.join(REPO, 'configs', 'ring8.py'))
  for variant in sweeps.trick_ablation(base.loss):
    config_lib.validate(sweeps.run_config(base, variant, 0))


def test_registering_a_trick_or_loss_leaves_the_shipped_sweeps_as_they_are(
    monkeypatch):
  def variants():
    return {name: [(v.name, v.overrides) for v in config_lib.load_module(
        os.path.join(REPO, 'configs', 'sweeps', f'{name}.py')
        ).get_sweep().variants]
            for name in ('ring_tricks', 'grid_tricks', 'stacked_digits_tricks')}

  shipped = variants()
  monkeypatch.setitem(tricks.TRICKS, 'a_new_trick',
                      tricks.TRICKS['spectral_norm'])
  monkeypatch.setitem(losses.LOSSES, 'a_new_loss', losses.LOSSES['hinge'])
  assert variants() == shipped


def test_penalty_variants_get_the_penalty_overrides_and_others_do_not():
  overrides = {'model.critic_args.normalization': 'layer'}
  variants = {v.name: v.overrides for v in sweeps.trick_ablation(
      'non_saturating', penalty_overrides=overrides)}
  for name in ('gradient_penalty', 'r1_penalty', 'r2_penalty',
               'dragan_penalty', 'wasserstein+gradient_penalty'):
    assert variants[name]['model.critic_args.normalization'] == 'layer', name
  for name in ('baseline', 'spectral_norm', 'four_tricks', 'hinge',
               'wasserstein+weight_clipping'):
    assert 'model.critic_args.normalization' not in variants[name], name


def test_every_shipped_sweep_validates():
  for name in ('ring_tricks', 'grid_tricks', 'stacked_digits_tricks'):
    path = os.path.join(REPO, 'configs', 'sweeps', f'{name}.py')
    module = config_lib.load_module(path)
    base, sweep = module.get_config(), module.get_sweep()
    for variant in sweep.variants:
      config_lib.validate(sweeps.run_config(base, variant, 0))


@pytest.mark.parametrize('sweep, message', [
    (sweeps.Sweep([sweeps.Variant('a'), sweeps.Variant('a')]),
     "variant names must be unique: a repeated"),
    (sweeps.Sweep([sweeps.Variant('a/b')]), "variant name 'a/b' is not a"),
    (sweeps.Sweep([sweeps.Variant('a')], seeds=0), 'seeds=0 must be a'),
    (sweeps.Sweep([sweeps.Variant('a', {'seed': 3})]),
     "variant 'a' sets seed; a sweep sets each run's seed"),
])
def test_bad_sweeps_are_refused(sweep, message):
  with pytest.raises(config_lib.ConfigError, match=message):
    sweeps.check(sweep)


def test_run_config_applies_variant_then_command_line_and_the_seed():
  base = config_lib.base()
  variant = sweeps.Variant('v', {'loss': 'hinge', 'optim.n_critic': 5})
  config = sweeps.run_config(base, variant, 3, {'optim.n_critic': 2})
  assert (config.loss, config.optim.n_critic, config.seed) == ('hinge', 2, 3)
  assert base.loss == 'non_saturating'  # The base is not changed.
  with pytest.raises(config_lib.ConfigError,
                     match="variant 'bad' sets unknown config key 'optim.lr'"):
    sweeps.run_config(base, sweeps.Variant('bad', {'optim.lr': 1.0}), 0)


def test_mean_and_interval_is_students_t():
  mean, half = sweep_results.mean_and_interval([1.0, 2.0, 3.0])
  # t(0.975, 2) = 4.3027, standard error 1 / sqrt(3).
  assert mean == 2.0 and half == pytest.approx(4.3027 / np.sqrt(3), rel=1e-4)
  mean, half = sweep_results.mean_and_interval([5.0, float('nan')])
  assert mean == 5.0 and np.isnan(half)
  # Equal values (whose float mean may differ from them in the last bit).
  mean, half = sweep_results.mean_and_interval([np.log(8)] * 10)
  assert (mean, half) == (np.log(8), 0.0)
  assert sweep_results.cell(mean, half, 10, 10) == '2.079 ± 0.000'


@pytest.mark.slow
def test_tiny_sweep_writes_results_and_reruns_train_nothing(tmp_path):
  sweep_file = tmp_path / 'tiny.py'
  sweep_file.write_text(_TINY_SWEEP.format(
      ring8=os.path.join(REPO, 'configs', 'ring8.py')))
  out = tmp_path / 'sweep'
  # One run first, as if the sweep had stopped there; then the full sweep,
  # evaluated on 400 samples (the command line overrides the variant's 300).
  first = _ablate(f'--sweep={sweep_file}', f'--workdir={out}', '--seeds=1',
                  '--variants=baseline')
  assert first.returncode == 0, first.stderr
  checkpoints = _mtimes(out / 'baseline' / 'seed_0' / 'checkpoints')
  full = _ablate(f'--sweep={sweep_file}', f'--workdir={out}',
                 '--config.eval.num_samples=400', '--vmap_seeds=true')
  assert full.returncode == 0, full.stderr
  assert 'runs 3-4 of 4 (hinge+sn, seeds 0, 1, vmapped)' in full.stderr
  # Seed 0 of the baseline is finished but was scored on 200 samples: it is
  # evaluated again, not retrained, while seed 1 trains (one after the
  # other: they start from different steps).
  assert 'runs 1-2 of 4 (baseline, seeds 0, 1, vmapped)' in full.stderr
  assert 'resumed from steps [20, 0]: training the runs one after' in (
      full.stderr)
  assert _mtimes(out / 'baseline' / 'seed_0' / 'checkpoints') == checkpoints
  with open(out / 'baseline' / 'seed_0' / 'eval.json') as f:
    assert json.load(f)['protocol']['num_samples'] == 400

  with open(out / 'results.csv') as f:
    rows = list(csv.DictReader(f))
  assert [(r['name'], r['seed'], r['status']) for r in rows] == [
      ('baseline', '0', 'finished'), ('baseline', '1', 'finished'),
      ('hinge+sn', '0', 'finished'), ('hinge+sn', '1', 'finished')]
  for row in rows:
    assert 0 <= float(row['modes']) <= 8 and float(row['wall_time_s']) > 0
  # Each run is an ordinary run: its config, and the override for all.
  run = config_lib.from_run(str(out / 'hinge+sn' / 'seed_1'))
  assert (run.loss, run.tricks, run.seed) == ('hinge', 'spectral_norm', 1)
  assert run.eval.num_samples == 400
  table = (out / 'results.md').read_text()
  assert '| variant | modes | high_quality | seeds finished |' in table
  assert '| hinge+sn |' in table and '2/2' in table
  for picture in ('metrics.png', 'curves.png'):
    assert (out / picture).stat().st_size > 1000

  runs_before = {v: _mtimes(out / v) for v in ('baseline', 'hinge+sn')}
  again = _ablate(f'--sweep={sweep_file}', f'--workdir={out}',
                  '--config.eval.num_samples=400')
  assert again.returncode == 0, again.stderr
  assert 'sweep: nothing to train (4 runs finished or diverged)' in (
      again.stderr)
  assert ' of 4 (' not in again.stderr
  assert {v: _mtimes(out / v) for v in runs_before} == runs_before


@pytest.mark.slow
def test_vmapped_seeds_equal_sequential_runs(tmp_path):
  """Over a few steps: batched matmuls round differently, and training
  amplifies it (after 20 steps ~1 % of the generator's weights differ),
  so equality is checked where it is float rounding (~1e-6; up to 2.3e-5
  after 6 steps when XLA has one thread, e.g. under ``taskset -c 0``, whose
  products block and round differently)."""
  configs = [_tiny_config(seed) for seed in (0, 1)]
  for config in configs:
    config.update(num_train_steps=6, steps_per_call=3, log_every=3,
                  eval_every=6, checkpoint_every=6, sample_every=6)
  vmapped = train.train_and_evaluate_seeds(
      configs, [str(tmp_path / f'vmapped_{c.seed}') for c in configs])
  sequential = [train.train_and_evaluate(c, str(tmp_path / f'alone_{c.seed}'))
                for c in configs]
  assert vmapped[0] != vmapped[1]  # The seeds differ...
  gan = train.build(configs[0])
  template = train.init_state(gan, jax.random.PRNGKey(0))
  vmapped_states = []
  for config, results, alone in zip(configs, vmapped, sequential):
    assert results == pytest.approx(alone, rel=1e-3, abs=1e-3, nan_ok=True)
    states = [checkpoint.Checkpointer(
        str(tmp_path / f'{kind}_{config.seed}' / 'checkpoints'), 1
    ).restore(6, template).state for kind in ('vmapped', 'alone')]
    for a, b in zip(*(jax.tree.leaves(s) for s in states)):
      np.testing.assert_allclose(a, b, rtol=1e-4, atol=5e-5)
    vmapped_states.append(states[0])
    logs = [[json.loads(line) for line in open(
        tmp_path / f'{kind}_{config.seed}' / 'metrics.jsonl')]
            for kind in ('vmapped', 'alone')]
    assert [line['step'] for line in logs[0]] == [3, 6]
    for a, b in zip(*logs):
      assert a['step'] == b['step']
      assert a['critic_loss'] == pytest.approx(b['critic_loss'], rel=1e-4)
  # ... in their trained weights too.
  assert not np.array_equal(
      *(s.generator.params['Dense_0']['kernel'] for s in vmapped_states))


def test_vmapped_runs_must_differ_in_seed_only(tmp_path):
  other = _tiny_config(1)
  other.loss = 'hinge'
  with pytest.raises(config_lib.ConfigError,
                     match="differ in their seed only: loss: 'non_saturating'"
                     " -> 'hinge'"):
    train.train_and_evaluate_seeds([_tiny_config(0), other],
                                   [str(tmp_path / 'a'), str(tmp_path / 'b')])
  assert not os.listdir(tmp_path)


def _poison_seed(monkeypatch, seed: int) -> None:
  """Makes the critic of the run of ``seed`` start with NaN weights (the
  configs of vmapped runs differ in their seed only, so no config value
  can make one diverge and not the other)."""
  init_state = train.init_state
  poisoned_key = jax.random.split(jax.random.PRNGKey(seed))[0]

  def poisoned(gan, key):
    state = init_state(gan, key)
    hit = jnp.all(key == poisoned_key)
    critic = jax.tree.map(lambda p: jnp.where(hit, jnp.nan, p),
                          state.critic.params)
    return state.replace(critic=state.critic.replace(params=critic))

  monkeypatch.setattr(train.state, 'init_state', poisoned)


@pytest.mark.slow
@pytest.mark.parametrize('head_start', [0, 10])
def test_a_diverged_seed_is_recorded_and_the_others_go_on(
    tmp_path, monkeypatch, head_start):
  """Vmapped (both from step 0) and one after the other (seed 0 resumed
  from a checkpoint of step 10): seed 1 diverges, seed 0 finishes."""
  configs = [_tiny_config(seed) for seed in (0, 1)]
  workdirs = [str(tmp_path / f'seed_{c.seed}') for c in configs]
  if head_start:
    ahead = _tiny_config(0)
    ahead.num_train_steps = head_start
    train.train_and_evaluate(ahead, workdirs[0])
  _poison_seed(monkeypatch, 1)
  finished, diverged = train.train_and_evaluate_seeds(configs, workdirs)
  assert isinstance(diverged, train.Diverged) and diverged.step <= 10
  with open(os.path.join(workdirs[1], train.DIVERGED_FILE)) as f:
    assert json.load(f)['step'] == diverged.step
  assert not os.path.exists(os.path.join(workdirs[1], 'eval.json'))
  with open(os.path.join(workdirs[0], 'eval.json')) as f:
    record = json.load(f)
  assert record['step'] == 20 and record['modes'] == finished['modes']


def test_ablate_bad_input_is_one_line_and_writes_nothing(tmp_path):
  sweep_file = tmp_path / 'bad.py'
  sweep_file.write_text(_TINY_SWEEP.format(
      ring8=os.path.join(REPO, 'configs', 'ring8.py')).replace(
          "'tricks': 'spectral_norm'", "'tricks': 'spectral_nrom'"))
  result = _ablate(f'--sweep={sweep_file}', f'--workdir={tmp_path / "out"}')
  assert result.returncode == 2
  assert result.stderr.strip().splitlines() == [
      "error: variant 'hinge+sn': unknown trick 'spectral_nrom'; allowed: "
      + ', '.join(sorted(__import__('gan_jax').tricks.TRICKS))]
  assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize('args, message', [
    (['--seeds=0'], 'error: --seeds=0; allowed: a positive number of seeds'),
    (['--sweep=configs/ring8.py'], 'error: --sweep=configs/ring8.py has no '
     'get_sweep(); a sweep file defines get_config() (the base) and '
     'get_sweep() (see gan_jax/sweeps.py)'),
    (['--workdir=README.md'],
     "error: workdir 'README.md' is a file, not a directory"),
])
def test_ablate_bad_flags_are_one_line(entry_point, args, message):
  # Forked from a process that imported jax and gan_jax (conftest.py); the
  # test above runs ablate.py in a fresh process.
  result = entry_point('experiments/ablate.py',
                       '--sweep=configs/sweeps/ring_tricks.py',
                       '--workdir=/nonexistent_sweep', *args)
  assert result.returncode == 2
  assert result.stderr.strip() == message
  assert not os.path.exists('/nonexistent_sweep')


def test_a_run_of_another_config_is_refused_before_training(tmp_path):
  base = _tiny_config(0)
  sweep = sweeps.Sweep([sweeps.Variant('a'), sweeps.Variant('b')], seeds=1)
  workdir = tmp_path / 'b' / 'seed_0'
  workdir.mkdir(parents=True)
  other = _tiny_config(0)
  other.loss = 'hinge'
  (workdir / 'config.json').write_text(other.to_json())
  with pytest.raises(config_lib.ConfigError,
                     match="variant 'b': workdir .* holds a run of a "
                     "different config \\(loss: 'hinge' -> 'non_saturating'"):
    ablation.plan(base, sweep, str(tmp_path))


def test_a_diverged_run_is_retried_only_with_the_remedy(tmp_path):
  config = _tiny_config(0)
  (tmp_path / 'config.json').write_text(config.to_json())
  (tmp_path / train.DIVERGED_FILE).write_text('{"step": 10}')
  run = ablation.Run('v', 0, config, str(tmp_path))
  assert ablation.status(run) == 'diverged'
  config.log_every = 5  # Not a remedy: it would diverge again.
  assert ablation.status(run) == 'diverged'
  config.skip_nonfinite_updates = True
  assert ablation.status(run) == 'pending'


def _hold_lock_in_another_process(path) -> subprocess.Popen:
  """A process that holds ``flock`` on ``path`` until it is killed."""
  holder = subprocess.Popen(
      [sys.executable, '-c', 'import fcntl, time\n'
       f'f = open({str(path)!r}, "a")\n'
       'fcntl.flock(f, fcntl.LOCK_EX)\n'
       'print("held", flush=True)\n'
       'time.sleep(600)\n'], stdout=subprocess.PIPE, text=True)
  assert holder.stdout.readline().strip() == 'held'
  return holder


def test_a_run_is_claimed_by_one_process_and_freed_when_it_dies(tmp_path):
  runs = [ablation.Run('v', seed, _tiny_config(seed),
                       str(tmp_path / 'v' / f'seed_{seed}'))
          for seed in (0, 1)]
  with ablation.claim(runs) as held:
    assert held == runs
    with ablation.claim(runs) as again:  # Another open file, as elsewhere.
      assert again == []
  holder = _hold_lock_in_another_process(ablation.lock_path(runs[0]))
  try:
    with ablation.claim(runs) as held:
      assert held == runs[1:]
  finally:
    holder.kill()  # SIGKILL: no chance to release anything itself.
    holder.wait()
  with ablation.claim(runs) as held:
    assert held == runs
  assert not os.path.exists(runs[0].workdir)  # Claiming creates no run.


@pytest.mark.slow
def test_a_sweep_skips_the_runs_another_process_is_training(tmp_path):
  """Two processes on one sweep directory: the run the other holds is left
  to it, the rest trained; the results list it as pending until it ends."""
  sweep_file = tmp_path / 'tiny.py'
  sweep_file.write_text(_TINY_SWEEP.format(
      ring8=os.path.join(REPO, 'configs', 'ring8.py')))
  out = tmp_path / 'sweep'
  (out / 'baseline').mkdir(parents=True)
  holder = _hold_lock_in_another_process(out / 'baseline' / 'seed_0.lock')
  try:
    result = _ablate(f'--sweep={sweep_file}', f'--workdir={out}',
                     '--variants=baseline')
  finally:
    holder.kill()
    holder.wait()
  assert result.returncode == 0, result.stderr
  assert ('baseline, seed(s) 0: trained by another process, skipped'
          in result.stderr)
  assert 'run 2 of 2 (baseline, seed 1)' in result.stderr
  assert 'run 1 of 2' not in result.stderr
  assert 'sweep: 2 of 2 runs done' in result.stderr
  assert not (out / 'baseline' / 'seed_0').exists()
  with open(out / 'results.csv') as f:
    rows = list(csv.DictReader(f))
  assert [(r['name'], r['seed'], r['status']) for r in rows
          if r['name'] == 'baseline'] == [('baseline', '0', 'pending'),
                                          ('baseline', '1', 'finished')]


def test_a_sweep_logs_run_k_of_n_and_an_eta_from_its_trained_runs(
    tmp_path, monkeypatch, caplog):
  """Fake runs on a fake clock: the lines before and after each run or
  vmapped group, runs done elsewhere counted as done at no time."""
  runs = [ablation.Run(v, seed, _tiny_config(seed),
                       str(tmp_path / v / f'seed_{seed}'))
          for v in ('a', 'b', 'c') for seed in (0, 1)]
  finished = {runs[1].workdir}  # a, seed 1: done before this invocation.
  clock = [0.0]
  monkeypatch.setattr(ablation, 'time', type('Clock', (), {
      'perf_counter': staticmethod(lambda: clock[0])}))
  monkeypatch.setattr(ablation, 'status', lambda run: (
      'finished' if run.workdir in finished else 'pending'))

  def fake_train(config, workdir):
    clock[0] += 60 * (1 + config.seed)  # Seed 0 one minute, seed 1 two.
    finished.add(workdir)

  def fake_train_seeds(configs, workdirs):
    clock[0] += 100
    finished.update(workdirs)

  monkeypatch.setattr(train, 'train_and_evaluate', fake_train)
  monkeypatch.setattr(train, 'train_and_evaluate_seeds', fake_train_seeds)

  def lines():
    text = [r.getMessage() for r in caplog.records]
    caplog.clear()
    return text

  caplog.set_level('INFO')
  with ablation.claim(runs[5:]):  # c, seed 1: held by "another process".
    ablation.train_pending(runs, vmap_seeds=False)
  assert lines() == [
      'run 1 of 5 (a, seed 0)', 'sweep: 1 of 5 runs done, ETA 0:04:00',
      'run 2 of 5 (b, seed 0)', 'sweep: 2 of 5 runs done, ETA 0:03:00',
      'run 3 of 5 (b, seed 1)', 'sweep: 3 of 5 runs done, ETA 0:02:40',
      'run 4 of 5 (c, seed 0)', 'sweep: 4 of 5 runs done, ETA 0:01:15',
      'c, seed(s) 1: trained by another process, skipped',
      'sweep: 5 of 5 runs done']
  assert finished == {r.workdir for r in runs[:5]}

  finished.clear()
  ablation.train_pending(runs, vmap_seeds=True)
  assert lines() == [
      'runs 1-2 of 6 (a, seeds 0, 1, vmapped)',
      'sweep: 2 of 6 runs done, ETA 0:03:20',
      'runs 3-4 of 6 (b, seeds 0, 1, vmapped)',
      'sweep: 4 of 6 runs done, ETA 0:01:40',
      'runs 5-6 of 6 (c, seeds 0, 1, vmapped)', 'sweep: 6 of 6 runs done']
  ablation.train_pending(runs, vmap_seeds=True)
  assert lines() == ['sweep: nothing to train (6 runs finished or diverged)']
