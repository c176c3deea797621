"""Nothing lost: kill -9 and signals, corrupt checkpoints, config changes,
divergence and skipped updates (issue 7)."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import checkpoint
from gan_jax import config as config_lib
from gan_jax import data
from gan_jax import preemption
from gan_jax import train
from tests.helpers import init_state, tiny_config

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
RING8 = ['--config=configs/ring8.py', '--config.batch_size=32',
         '--config.model.latent_dim=8',
         '--config.model.generator_args.width=16',
         '--config.model.critic_args.width=16', '--config.eval.num_samples=200']


def start(workdir, *flags):
  return subprocess.Popen(
      [sys.executable, 'experiments/train.py', f'--workdir={workdir}', *flags],
      cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run(workdir, *flags):
  process = start(workdir, *flags)
  stdout, stderr = process.communicate(timeout=600)
  return process.returncode, stdout, stderr


def metrics_without_timing(workdir):
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    records = [json.loads(line) for line in f]
  return [{k: v for k, v in r.items() if k != 'steps_per_sec'}
          for r in records]


def final_state(workdir):
  """The train state of the run's latest checkpoint, as numpy leaves."""
  config = config_lib.from_run(workdir)
  gan = train.build(config)
  checkpoints = checkpoint.Checkpointer(
      os.path.join(workdir, 'checkpoints'), config.keep_checkpoints)
  restored = checkpoints.restore(checkpoints.steps()[-1], init_state(gan))
  checkpoints.close()
  return restored.step, jax.tree.leaves(jax.device_get(restored.state))


def assert_same_run(a, b):
  """Bit for bit: every logged metric (timing aside) and every state leaf."""
  assert metrics_without_timing(a) == metrics_without_timing(b)
  (step_a, leaves_a), (step_b, leaves_b) = final_state(a), final_state(b)
  assert step_a == step_b
  for x, y in zip(leaves_a, leaves_b, strict=True):
    np.testing.assert_array_equal(x, y)


def wait_for_line(process, text):
  """Reads the process's stderr until a line containing ``text``."""
  for line in process.stderr:
    if text in line:
      return
  raise AssertionError(f'{text!r} never came: exit {process.wait()}')


@pytest.mark.slow
def test_kill_9_or_sigterm_then_resume_equals_an_uninterrupted_run(tmp_path):
  # The shipped fused loop (scan_unroll 4, five steps a call): the other
  # end-to-end runs of tiny ring8 roll it, which compiles quicker to the
  # same bits (test_train_step.py).
  flags = [*RING8, '--config.num_train_steps=400',
           '--config.steps_per_call=5', '--config.log_every=25',
           '--config.checkpoint_every=50', '--config.eval_every=200',
           '--config.sample_every=400']
  straight, killed, stopped = (str(tmp_path / name) for name in
                               ('straight', 'killed', 'stopped'))
  reference = start(straight, *flags)
  # The other two start once the reference has compiled its train program:
  # they read it from the persistent cache instead of all three compiling.
  wait_for_line(reference, 'train program(s)')
  victim = start(killed, *flags)
  preempted = start(stopped, *flags)

  # SIGTERM: a checkpoint of the step reached, one last line, exit 0.
  wait_for_line(preempted, 'train program(s)')
  preempted.send_signal(signal.SIGTERM)
  _, stderr = preempted.communicate(timeout=600)
  assert preempted.returncode == 0, stderr
  line = stderr.strip().splitlines()[-1].split('] ', 1)[1]
  step = int(line.split()[3].rstrip(','))
  assert line == f'preempted at step {step}, checkpoint saved'
  assert 0 < step < 400
  assert max(map(int, os.listdir(os.path.join(stopped, 'checkpoints')))) == (
      step)
  assert not os.path.exists(os.path.join(stopped, 'eval.json'))

  # kill -9 somewhere after the first checkpoint.
  checkpoints = os.path.join(killed, 'checkpoints')
  deadline = time.time() + 300
  while not (os.path.isdir(checkpoints) and
             any(name.isdigit() for name in os.listdir(checkpoints))):
    assert victim.poll() is None and time.time() < deadline
    time.sleep(0.02)
  time.sleep(0.2)  # Into the middle of the next stretch of steps.
  # Paused there, the victim still holds its workdir: the same command on
  # it is refused at once.
  victim.send_signal(signal.SIGSTOP)
  code, _, refused = run(killed, *flags)
  assert code == 2 and refused.startswith(
      f"error: workdir '{killed}' is in use by another run "
      f'(pid {victim.pid} on '), refused
  assert len(refused.splitlines()) == 1
  victim.send_signal(signal.SIGKILL)
  victim.communicate()
  assert victim.returncode == -signal.SIGKILL
  assert reference.communicate(timeout=600) and reference.returncode == 0

  resumed = [start(workdir, *flags) for workdir in (killed, stopped)]
  for process in resumed:
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr
    assert 'resumed from the checkpoint of step' in stderr
  for workdir in (killed, stopped):
    steps = [r['step'] for r in metrics_without_timing(workdir)]
    assert steps == list(range(25, 401, 25))  # None twice, none missing.
    assert_same_run(workdir, straight)


def test_stop_requests_on_sigint_and_sigterm():
  previous = signal.getsignal(signal.SIGINT)
  for signum in (signal.SIGTERM, signal.SIGINT):
    with preemption.StopRequests(lambda step: False) as stops:
      assert not stops.should_stop()
      os.kill(os.getpid(), signum)
      assert stops.should_stop()
      if signum == signal.SIGINT:  # A second Ctrl-C stops at once.
        with pytest.raises(KeyboardInterrupt):
          os.kill(os.getpid(), signal.SIGINT)
  assert signal.getsignal(signal.SIGINT) is previous


def _small_checkpoints(directory):
  gan = train.build(tiny_config())
  state = init_state(gan)
  saver = checkpoint.Checkpointer(directory, keep=3)
  for step in (10, 20):
    saver.save(step, state.replace(step=jnp.int32(step)), {'at': step}, {})
  saver.close()
  return state


def _largest_file(directory):
  files = [os.path.join(root, name) for root, _, names in os.walk(directory)
           for name in names]
  return max(files, key=os.path.getsize)


def _truncate(directory):
  path = _largest_file(os.path.join(directory, 'state'))
  with open(path, 'r+b') as f:
    f.truncate(os.path.getsize(path) // 2)


def _overwrite_in_place(directory):
  path = _largest_file(os.path.join(directory, 'state'))
  with open(path, 'r+b') as f:
    f.seek(os.path.getsize(path) // 2)
    f.write(bytes(64))


@pytest.mark.parametrize('corrupt', [
    _truncate, _overwrite_in_place,
    pytest.param(lambda d: shutil.rmtree(os.path.join(d, 'state')),
                 marks=pytest.mark.slow),
    pytest.param(lambda d: os.remove(os.path.join(d, 'loop', 'metadata')),
                 marks=pytest.mark.slow),
    pytest.param(lambda d: os.remove(os.path.join(d, 'state',
                                                  'manifest.ocdbt')),
                 marks=pytest.mark.slow),
], ids=['truncated', 'overwritten', 'no_state', 'no_loop', 'no_manifest'])
def test_unreadable_latest_checkpoint_is_set_aside_not_deleted(tmp_path,
                                                               corrupt,
                                                               caplog):
  directory = str(tmp_path / 'checkpoints')
  state = _small_checkpoints(directory)
  corrupt(os.path.join(directory, '20'))
  files_before = sorted(os.path.relpath(os.path.join(r, n), directory + '/20')
                        for r, _, ns in os.walk(directory + '/20') for n in ns)

  checkpoints = checkpoint.Checkpointer(directory, keep=3)
  restored = checkpoints.restore_latest(state)
  assert restored.step == 10 and restored.loop == {'at': 10}
  assert checkpoints.steps() == [10]
  checkpoints.close()
  warnings = [r.getMessage() for r in caplog.records
              if r.levelname == 'WARNING' and 'unreadable' in r.getMessage()]
  assert len(warnings) == 1 and 'checkpoint of step 20 is unreadable' in (
      warnings[0]) and '\n' not in warnings[0]
  aside = str(tmp_path / 'checkpoints_unreadable' / '20')
  assert sorted(os.path.relpath(os.path.join(r, n), aside)
                for r, _, ns in os.walk(aside) for n in ns) == files_before


def test_no_readable_checkpoint_is_an_error_and_moves_nothing(tmp_path):
  directory = str(tmp_path / 'checkpoints')
  state = _small_checkpoints(directory)
  for step in ('10', '20'):
    _truncate(os.path.join(directory, step))
  checkpoints = checkpoint.Checkpointer(directory, keep=3)
  with pytest.raises(checkpoint.NoReadableCheckpoint,
                     match='none of the checkpoints in .* can be read '
                     r'\(step 20: .*nothing was changed'):
    checkpoints.restore_latest(state)
  assert checkpoints.steps() == [10, 20]
  checkpoints.close()
  assert not os.path.exists(directory + '_unreadable')


@pytest.mark.slow
def test_checkpoint_of_other_shapes_is_a_config_error_not_corruption(
    tmp_path):
  directory = str(tmp_path / 'checkpoints')
  _small_checkpoints(directory)
  wider = init_state(train.build(tiny_config(
      **{'model.generator_args.width': 32})))
  checkpoints = checkpoint.Checkpointer(directory, keep=3)
  with pytest.raises(checkpoint.ShapeMismatch,
                     match=r'generator/params/Dense_0/bias is float32\[16\] '
                     r'in the checkpoint, float32\[32\] in the config'):
    checkpoints.restore_latest(wider)
  assert checkpoints.steps() == [10, 20]  # Nothing set aside.
  checkpoints.close()


def _snapshot(directory):
  """Every file's contents, but the lock's (it says who holds the workdir)."""
  snapshot = {}
  for root, _, names in os.walk(directory):
    for name in names:
      if name != 'run.lock':
        with open(os.path.join(root, name), 'rb') as f:
          snapshot[os.path.join(root, name)] = f.read()
  return snapshot


@pytest.mark.slow
def test_config_changes_and_an_unreadable_checkpoint_on_resume(entry_point,
                                                               tmp_path):
  workdir = str(tmp_path / 'run')
  # test_entry_point.py's runs: shared compiled programs.
  flags = [*RING8, '--config.steps_per_call=5', '--config.scan_unroll=1',
           '--config.log_every=10', '--config.checkpoint_every=20',
           '--config.eval_every=20', '--config.sample_every=20']
  assert run(workdir, *flags, '--config.num_train_steps=40')[0] == 0
  before = _snapshot(workdir)

  # Refused before any work: forked from a process that imported jax and
  # gan_jax (conftest.py).
  refused = entry_point(
      'experiments/train.py', f'--workdir={workdir}', *flags,
      '--config.num_train_steps=40', '--config.loss=hinge',
      '--config.model.latent_dim=16')
  code, stderr = refused.returncode, refused.stderr
  assert code == 2
  assert stderr.strip().splitlines() == [
      f"error: workdir '{workdir}' holds a run of a different config (loss: "
      "'non_saturating' -> 'hinge'; model.latent_dim: 8 -> 16); use a new "
      'workdir, or --config.allow_config_change=True to resume it with this '
      'config']
  # Allowed, but the checkpoint cannot hold the new shapes: one line, too.
  code, _, stderr = run(workdir, *flags, '--config.num_train_steps=40',
                        '--config.model.latent_dim=16',
                        '--config.allow_config_change=True')
  assert code == 2 and len(stderr.strip().splitlines()) == 1
  assert 'does not fit the config: generator/params/Dense_0/kernel' in stderr
  assert _snapshot(workdir) == before

  # The latest checkpoint is truncated: set aside with a warning, the run
  # goes on from the one before. Run length and logging may change; an
  # allowed change keeps the old config next to the new one.
  _truncate(os.path.join(workdir, 'checkpoints', '40'))
  code, _, stderr = run(workdir, *flags, '--config.num_train_steps=60',
                        '--config.log_every=20', '--config.loss=hinge',
                        '--config.allow_config_change=True')
  assert code == 0, stderr
  assert 'checkpoint of step 40 is unreadable' in stderr
  assert 'resumed from the checkpoint of step 20' in stderr
  assert os.path.isdir(os.path.join(workdir, 'checkpoints_unreadable', '40'))
  assert sorted(os.listdir(os.path.join(workdir, 'checkpoints'))) == [
      '20', '40', '60']
  with open(os.path.join(workdir, 'config_until_step_20.json')) as f:
    assert json.load(f)['loss'] == 'non_saturating'
  with open(os.path.join(workdir, 'config.json')) as f:
    assert json.load(f)['loss'] == 'hinge'
  assert [r['step'] for r in metrics_without_timing(workdir)] == [
      10, 20, 40, 60]


@pytest.mark.slow
def test_divergence_stops_without_saving_the_diverged_state(tmp_path):
  workdir = str(tmp_path / 'run')
  # A critic learning rate of 1e14 blows up in its second update.
  code, _, stderr = run(workdir, *RING8, '--config.num_train_steps=20',
                        '--config.optim.d_lr=1e14',
                        '--config.steps_per_call=1', '--config.log_every=1',
                        '--config.checkpoint_every=1',
                        '--config.eval_every=20', '--config.sample_every=20')
  assert code == 3
  last = stderr.strip().splitlines()[-1]
  assert last.startswith('error: diverged at step 2: critic/adversarial=nan')
  assert last.endswith('; the checkpoint of step 1 holds the last finite '
                       'state; resume with --config.skip_nonfinite_updates='
                       'True to skip updates whose gradients are not finite')
  assert os.listdir(os.path.join(workdir, 'checkpoints')) == ['1']
  assert [r['step'] for r in metrics_without_timing(workdir)] == [1]


def test_divergence_message_is_true_to_the_case_and_finite_steps_logged(
    tmp_path):
  # Finite updates that overflow the parameters: skipping cannot help, and
  # no checkpoint is due before it.
  # The issue's case: ring8's MLPs at learning rates of 1e6.
  config = tiny_config(num_train_steps=20, steps_per_call=5, log_every=10,
                       checkpoint_every=20, eval_every=20, sample_every=20,
                       skip_nonfinite_updates=True, **{
                           'optim.d_lr': 1e6, 'optim.g_lr': 1e6,
                           'model.latent_dim': 256,
                           'model.generator_args.width': 128,
                           'model.critic_args.width': 128,
                           'eval.num_samples': 200})
  workdir = str(tmp_path / 'run')
  with pytest.raises(train.Diverged) as diverged:
    train.train_and_evaluate(config, workdir)
  message, step = str(diverged.value), diverged.value.step
  assert 11 < step < 20 and '_param_norm=' in message
  assert 'no checkpoint was saved before it, so a rerun starts at step 0' in (
      message)
  assert 'skip_nonfinite_updates is already on' in message
  assert 'lower --config.optim.d_lr' in message
  assert not os.listdir(os.path.join(workdir, 'checkpoints'))
  # The steps since the last log line are logged, at the last finite one.
  assert [r['step'] for r in metrics_without_timing(workdir)] == [10, step - 1]
  with open(os.path.join(workdir, train.DIVERGED_FILE)) as f:
    assert json.load(f)['step'] == step


def test_stop_during_an_evaluation_abandons_it_and_resume_redoes_it(
    tmp_path, monkeypatch):
  config = tiny_config(num_train_steps=20, steps_per_call=5, log_every=10,
                       eval_every=10, sample_every=10, checkpoint_every=20,
                       **{'eval.num_samples': 200})
  straight, stopped = str(tmp_path / 'straight'), str(tmp_path / 'stopped')
  expected = train.train_and_evaluate(config, straight)

  evaluate, signalled = train.evaluate_state, []

  def slow_first_evaluation(*args, **kwargs):
    if not signalled:  # SIGTERM comes during an evaluation of a minute.
      signalled.append(time.monotonic())
      os.kill(os.getpid(), signal.SIGTERM)
      time.sleep(60)
    return evaluate(*args, **kwargs)

  monkeypatch.setattr(train.sampling, 'evaluate_state', slow_first_evaluation)
  with pytest.raises(preemption.Preempted) as preempted:
    train.train_and_evaluate(config, stopped)
  assert time.monotonic() - signalled[0] < 10  # Saved and stopped at once.
  assert preempted.value.step == 10
  # One checkpoint, of the step reached; the evaluation, its log line and
  # its samples are left for the resumed run.
  assert os.listdir(os.path.join(stopped, 'checkpoints')) == ['10']
  assert not os.path.exists(os.path.join(stopped, 'metrics.jsonl'))
  assert not os.listdir(os.path.join(stopped, 'samples'))

  monkeypatch.undo()
  np.testing.assert_equal(train.train_and_evaluate(config, stopped), expected)
  assert metrics_without_timing(stopped) == metrics_without_timing(straight)
  assert sorted(os.listdir(os.path.join(stopped, 'samples'))) == [
      'step_00000010.png', 'step_00000020.png']


def _batch(gan, state, poisoned: bool):
  """The step's real batch; ``poisoned``: one NaN example per critic update."""
  batch = train.sample_real_batch(gan, state)
  if poisoned:
    batch = data.Batch(batch.images.at[:, 0].set(jnp.nan), batch.labels)
  return batch


@pytest.mark.slow
@pytest.mark.parametrize('skip', [False, True])
def test_nonfinite_gradients_diverge_or_are_skipped(skip):
  gan = train.build(tiny_config(skip_nonfinite_updates=skip))
  step = jax.jit(train.make_train_step(gan))
  state = init_state(gan)
  state, _ = step(state, _batch(gan, state, poisoned=False))
  before = state
  state, metrics = step(state, _batch(gan, state, poisoned=True))
  per_step = {k: np.asarray(v)[None] for k, v in metrics.items()}
  if not skip:
    with pytest.raises(train.Diverged, match=r'^diverged at step 2: '
                       r'critic/adversarial=nan, critic_loss=nan'):
      train.check_finite(per_step, 2, skip_nonfinite_updates=False)
    assert not np.isfinite(state.critic.params['Dense_0']['kernel']).all()
    return
  train.check_finite(per_step, 2, skip_nonfinite_updates=True)
  assert not np.isfinite(per_step['critic_loss']).all()
  for x, y in zip(jax.tree.leaves(before.critic.params),
                  jax.tree.leaves(state.critic.params)):
    np.testing.assert_array_equal(x, y)  # The update was skipped...
  assert int(state.critic.opt_state.total_notfinite) == 1
  assert int(state.generator.opt_state.total_notfinite) == 0
  # ... and the next finite one is applied.
  state, _ = step(state, _batch(gan, state, poisoned=False))
  assert not np.array_equal(state.critic.params['Dense_0']['kernel'],
                            before.critic.params['Dense_0']['kernel'])


def test_best_checkpoint_by_metric(tmp_path):
  state = init_state(train.build(tiny_config()))
  directory = str(tmp_path / 'checkpoints')
  saver = checkpoint.Checkpointer(directory, keep=1, best_metric='fd',
                                  best_mode='min')
  for step, fd in ((1, 3.0), (2, 1.0), (3, 2.0)):
    at_step = state.replace(step=jnp.int32(step))
    saver.save(step, at_step, {}, {})
    saver.save_if_best(step, at_step, {}, {}, {'fd': fd, 'kid_mean': 0.0})
  saver.save_if_best(2, state, {}, {}, {'fd': 0.5})  # Reached again: kept.
  saver.close()
  assert os.listdir(directory + '_best') == ['2']
  reader = checkpoint.Checkpointer(directory, keep=1, best_metric='fd')
  assert reader.steps() == [3]
  restored = reader.restore_best(state)
  assert restored.step == 2 and int(restored.state.step) == 2
  reader.close()
