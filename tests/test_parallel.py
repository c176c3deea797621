"""Data parallelism on simulated CPU devices and local processes.

JAX fixes its device count when it starts, so each check runs in a
subprocess with ``XLA_FLAGS=--xla_force_host_platform_device_count=N``.
"""

import functools
import json
import os
import re
import signal
import socket
import subprocess
import sys
from unittest import mock

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import config as config_lib
from gan_jax import data
from gan_jax import parallel
from gan_jax import train
from gan_jax.xla_cpu import compiler_options

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env(devices: int) -> dict[str, str]:
  # The suite's own XLA_FLAGS (tests/conftest.py) and the device count.
  return {**os.environ,
          'XLA_FLAGS': ' '.join(filter(None, [
              os.environ.get('XLA_FLAGS'),
              f'--xla_force_host_platform_device_count={devices}'])),
          'PYTHONPATH': REPO}


def _equivalence(config: str, steps: int, *overrides: str) -> dict:
  result = subprocess.run(
      [sys.executable, 'tests/parallel_equivalence.py', config, str(steps),
       'none,shard_map,pmap', *overrides],
      cwd=REPO, env=_env(8), capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  return json.loads(result.stdout.strip().splitlines()[-1])


def _assert_modes_agree(results: dict):
  """Losses and every state leaf of shard_map and pmap match the
  single-device run, up to float reordering."""
  reference = np.array(results['none']['losses'])
  for mode in ('shard_map', 'pmap'):
    assert results[mode]['num_shards'] == 8
    np.testing.assert_allclose(results[mode]['losses'], reference, rtol=2e-5,
                               atol=1e-6)
    for path, diff in results[mode]['param_diffs'].items():
      assert diff <= 2e-5, (mode, path, diff)


@pytest.mark.slow
def test_ring8_with_batch_dependent_tricks_and_layers_equal_across_modes():
  # Feature matching (batch means), DRAGAN (batch std, per-example noise),
  # instance noise, spectral norm (trick state), minibatch discrimination and
  # minibatch stddev (cross-example features): all over the global batch.
  results = _equivalence(
      'configs/ring8.py', 3, '--batch_size=64',
      '--tricks=spectral_norm,feature_matching,instance_noise,dragan_penalty',
      '--model.critic_args.minibatch_discrimination=4',
      '--model.critic_args.minibatch_stddev=true',
      '--model.generator_args.normalization=batch')
  _assert_modes_agree(results)
  assert results['none']['step'] == results['pmap']['step'] == 3


@pytest.mark.slow
def test_dcgan_digits_batch_norm_equal_across_modes():
  results = _equivalence('configs/dcgan_digits.py', 3, '--batch_size=16',
                         '--model.critic_args.minibatch_stddev=true',
                         '--data.image_size=8')  # The quickest to compile.
  _assert_modes_agree(results)


@pytest.mark.slow
@pytest.mark.parametrize('config, overrides', [
    # The joint critic's dropout masks are drawn per device: off here.
    ('configs/bigan_digits.py', ('--model.critic_args.dropout=0.0',)),
    # The labelled batch is the same on every device.
    ('configs/ssgan_digits.py', ('--family_args.ssgan.baseline_steps=0',)),
])
def test_other_families_equal_across_modes(config, overrides):
  results = _equivalence(config, 2, '--batch_size=16', '--data.image_size=8',
                         *overrides)
  _assert_modes_agree(results)


@pytest.mark.slow
def test_batch_size_not_divisible_by_devices_is_one_line_exit_2(tmp_path):
  result = subprocess.run(
      [sys.executable, 'experiments/train.py', '--config=configs/ring8.py',
       f'--workdir={tmp_path / "run"}', '--config.batch_size=12'],
      cwd=REPO, env=_env(8), capture_output=True, text=True, timeout=120)
  assert result.returncode == 2
  assert result.stderr.strip() == (
      'error: config.batch_size=12 is not divisible by the 8 devices of '
      'config.parallel=shard_map; use a multiple of 8')
  assert not (tmp_path / 'run').exists()


def test_incomplete_multi_process_flags_are_one_line_exit_2(entry_point,
                                                           tmp_path):
  # Forked from a process that imported jax and gan_jax (conftest.py).
  result = entry_point('experiments/train.py', '--config=configs/ring8.py',
                       f'--workdir={tmp_path / "run"}', '--num_processes=2',
                       timeout=120)
  assert result.returncode == 2
  assert result.stderr.startswith('error: multi-process runs need all of '
                                  '--coordinator_address, --num_processes')
  assert len(result.stderr.strip().splitlines()) == 1
  assert not (tmp_path / 'run').exists()


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    return s.getsockname()[1]


@pytest.mark.slow
@pytest.mark.usefixtures('trained_digits_classifier')
def test_two_processes_train_checkpoint_resume_and_agree(tmp_path):
  # The digits dataset and classifier (the fixture) are prepared here
  # first, so the two processes only read them.
  from gan_jax import data
  data.get('digits')

  workdir = tmp_path / 'run'
  port = _free_port()
  workers = [subprocess.Popen(
      [sys.executable, 'tests/multiprocess_worker.py', str(i), '2', str(port),
       str(workdir)], cwd=REPO, env=_env(2), stdout=subprocess.PIPE,
      stderr=subprocess.PIPE, text=True) for i in range(2)]
  outputs = [w.communicate(timeout=600) for w in workers]
  for worker, (_, stderr) in zip(workers, outputs):
    assert worker.returncode == 0, stderr[-3000:]
  reports = [json.loads(line.split(' ', 1)[1]) for out, _ in outputs
             for line in out.splitlines() if line.startswith('RESULT ')]
  assert [r['process'] for r in reports] == [0, 1]
  assert reports[0]['devices'] == [2, 4] and reports[0]['mode'] == 'shard_map'
  assert reports[0]['step'] == 6
  assert reports[0]['checkpoint_steps'][-1] == 6
  # Both processes restored the same state and computed the same metrics.
  assert reports[0]['digest'] == reports[1]['digest']
  assert reports[0]['results'] == reports[1]['results']
  assert np.isfinite(reports[0]['results']['fd'])

  # Process 0 alone wrote the run's files: one metrics line per logged
  # step across the resume, the config with where it ran, one eval.json.
  with open(workdir / 'metrics.jsonl') as f:
    steps = [json.loads(line)['step'] for line in f]
  assert steps == [2, 4, 6]
  with open(workdir / 'config.json') as f:
    saved = json.load(f)
  assert (saved['process_count'], saved['device_count']) == (2, 4)
  assert saved['parallel'] == 'shard_map'
  with open(workdir / 'eval.json') as f:
    assert json.load(f)['step'] == 6
  assert sorted(os.listdir(workdir / 'samples')) == [
      'step_00000004.png', 'step_00000006.png']


@pytest.mark.slow
def test_sigterm_to_one_process_stops_all_at_one_step(tmp_path):
  """jax.distributed's preemption service and orbax's sync point: every
  process stops at the same step, after saving the same checkpoint."""
  workdir, port = tmp_path / 'run', _free_port()
  workers = [subprocess.Popen(
      [sys.executable, 'experiments/train.py', '--config=configs/ring8.py',
       f'--workdir={workdir}', f'--coordinator_address=127.0.0.1:{port}',
       '--num_processes=2', f'--process_id={i}', '--config.batch_size=32',
       '--config.model.latent_dim=8', '--config.num_train_steps=5000',
       '--config.model.generator_args.width=16',
       '--config.model.critic_args.width=16', '--config.steps_per_call=10',
       # A rolled loop compiles quicker, to the same bits
       # (tests/train/test_step.py).
       '--config.scan_unroll=1',
       '--config.log_every=5000', '--config.checkpoint_every=5000',
       '--config.eval_every=5000', '--config.sample_every=5000'],
      cwd=REPO, env=_env(1), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
      text=True) for i in range(2)]
  for worker in workers:
    for line in worker.stderr:
      if 'compiled 1 train program' in line:
        break
  workers[1].send_signal(signal.SIGTERM)
  outputs = [w.communicate(timeout=300) for w in workers]
  lines = []
  for worker, (_, stderr) in zip(workers, outputs):
    assert worker.returncode == 0, stderr[-3000:]
    lines.append(stderr.strip().splitlines()[-1].split('] ', 1)[1])
  assert lines[0] == lines[1], lines
  step = int(lines[0].split()[3].rstrip(','))
  assert lines[0] == f'preempted at step {step}, checkpoint saved'
  assert 0 < step < 5000
  assert os.listdir(workdir / 'checkpoints') == [str(step)]


def _dcgan_step_inputs(batch_size: int):
  """configs/dcgan_digits.py at ``batch_size``: its config, experiment,
  initial state and one step's batch of uniform noise images."""
  config = config_lib.load(os.path.join(REPO, 'configs/dcgan_digits.py'))
  config.batch_size = batch_size
  gan = train.build(config)
  state = jax.jit(functools.partial(train.init_state, gan))(
      jax.random.PRNGKey(0))
  images = np.random.default_rng(0).uniform(
      -1, 1, (1, gan.n_critic, batch_size, *gan.dataset.sample_shape)
  ).astype(np.float32)
  return config, gan, state, data.Batch(
      images, np.zeros(images.shape[:3], np.int32))


@pytest.mark.slow
def test_memory_cpu_scheduler_same_step_in_less_memory():
  # XLA:CPU's two orders of the same operations: identical results, and
  # the memory-optimised one keeps fewer buffers live (a DCGAN step).
  _, gan, state, batch = _dcgan_step_inputs(16)
  step = jax.jit(train.make_fused_steps(gan, 1))
  temp_bytes, results = {}, {}
  for scheduler in compiler_options.CPU_SCHEDULERS:
    compiled = step.lower(state, batch).compile(
        compiler_options.compiler_options(scheduler))
    temp_bytes[scheduler] = compiled.memory_analysis().temp_size_in_bytes
    results[scheduler] = compiled(state, batch)
  assert temp_bytes['memory'] < 0.7 * temp_bytes['concurrency']
  jax.tree.map(np.testing.assert_array_equal, results['concurrency'],
               results['memory'])
  # DataParallel compiles with its scheduler's options (an invalid one
  # makes XLA refuse, so they reach the compiler).
  with mock.patch.dict(compiler_options.CPU_SCHEDULERS,
                       {'memory': {'xla_cpu_scheduler_type': 'NOPE'}}):
    with pytest.raises(Exception, match='NOPE'):
      parallel.DataParallel('none', 'memory').compile(
          train.make_fused_steps(gan, 1), state, (batch,))
  with pytest.raises(ValueError, match="unknown cpu_scheduler 'lifo'"):
    parallel.DataParallel('none', 'lifo')


@pytest.mark.slow
def test_cpu_kernels_compute_the_same_step():
  """Every choice of XLA:CPU kernels gives the same DCGAN step up to float
  rounding, DataParallel passes the choice to the compiler, and
  ``ynn_reductions`` leaves no batch reduction to XLA's reduce-windows."""
  config, gan, state, batch = _dcgan_step_inputs(8)
  results, programs = {}, {}
  for kernels in compiler_options.CPU_KERNELS:
    step = parallel.DataParallel('none', cpu_kernels=kernels).compile(
        train.make_fused_steps(gan, 1),
        jax.tree.map(jnp.copy, state), (batch,))
    programs[kernels] = step.as_text()
    results[kernels] = step(jax.tree.map(jnp.copy, state), batch)
  xla_state, xla_metrics = results['xla']
  for kernels, (other_state, other_metrics) in results.items():
    jax.tree.map(functools.partial(np.testing.assert_allclose, rtol=1e-4),
                 xla_metrics, other_metrics)
    # Adam's first update is ±lr where a gradient is not ~0; a gradient at
    # rounding level may get any update up to lr, either way.
    jax.tree.map(functools.partial(np.testing.assert_allclose, rtol=0,
                                   atol=2 * config.optim.g_lr),
                 xla_state.generator.params, other_state.generator.params)
    jax.tree.map(functools.partial(np.testing.assert_allclose, rtol=0,
                                   atol=2 * config.optim.d_lr),
                 xla_state.critic.params, other_state.critic.params)
  # XLA's own batch-norm statistics are reduce-windows over [b, h, w, c]
  # maps; YNNPACK fusions replace them in ynn_reductions.
  map_reduce_window = re.compile(r'f32\[\d+(,\d+){3}\]\S* reduce-window\(')
  assert map_reduce_window.search(programs['xla'])
  assert 'ynn_fusion' not in programs['xla']
  assert not map_reduce_window.search(programs['ynn_reductions'])
  assert 'ynn_fusion' in programs['ynn_reductions']
  with mock.patch.dict(compiler_options.CPU_KERNELS,
                       {'ynn': {'xla_cpu_experimental_ynn_fusion_type':
                                'NOPE'}}):
    with pytest.raises(Exception, match='NOPE'):
      parallel.DataParallel('none', cpu_kernels='ynn').compile(
          train.make_fused_steps(gan, 1), state, (batch,))
  with pytest.raises(ValueError, match="unknown cpu_kernels 'mkl'"):
    parallel.DataParallel('none', cpu_kernels='mkl')
