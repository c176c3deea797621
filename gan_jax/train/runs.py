"""Runs: setting them up, holding their workdirs, restoring, training.

:func:`train_and_evaluate` trains one experiment in its workdir;
:func:`train_and_evaluate_seeds` trains runs that differ in their seed only
as one vmapped computation, each in its own workdir. Both hold the
workdirs (:mod:`gan_jax.workdir_lock`), compute with the CPU tuning the runs
recorded (:mod:`gan_jax.xla_cpu`), restore each run from its newest
readable checkpoint and hand them to :class:`gan_jax.train.loop.TrainLoop`.
"""

import contextlib
import dataclasses
import functools
import json
import os
import time
from typing import Callable

from absl import logging
import jax
import ml_collections

from gan_jax import checkpoint
from gan_jax import config as config_lib
from gan_jax import evaluation
from gan_jax import metric_writer
from gan_jax import parallel
from gan_jax import preemption
from gan_jax import run_layout
from gan_jax import workdir_lock
from gan_jax import xla_cpu
from gan_jax.data import host_batches
from gan_jax.train import divergence
from gan_jax.train import loop
from gan_jax.train import progress
from gan_jax.train import sampling
from gan_jax.train import state as state_lib
from gan_jax.train import workdir_files
from gan_jax.train.state import Gan


def resolved_config(config: ml_collections.ConfigDict,
                     mode: str) -> dict:
  """The config as config.json and checkpoints record it: resolved, with the
  parallel mode used and the processes and devices the run had."""
  resolved = json.loads(config.to_json_best_effort())
  resolved.update(parallel=mode, **config_lib.runtime_info())
  return resolved


def check_best_metric(config: ml_collections.ConfigDict, gan: Gan,
                       evaluator: evaluation.Evaluator) -> None:
  if not config.best_metric:
    return
  names = [prefix + name for prefix, _ in sampling.eval_variants(gan)
           for name in evaluator.metric_names()] + list(
               gan.family.metric_names)
  if config.best_metric not in names:
    raise config_lib.ConfigError(
        f'config.best_metric={config.best_metric!r} is not a metric of this '
        f'evaluation; allowed: {", ".join(sorted(names))}')


def train_and_evaluate(config: ml_collections.ConfigDict,
                       workdir: str) -> dict[str, float]:
  """Trains the experiment ``config`` in ``workdir`` and evaluates it.

  Writes ``config.json``, ``metrics.jsonl``, TensorBoard events,
  ``samples/*.png``, ``checkpoints/`` and ``eval.json`` (docs/running.md).
  Resumes from the newest readable checkpoint in ``workdir`` if there is
  one, onto exactly the trajectory of an uninterrupted run.

  Runs on every device of every process (``config.parallel``, see
  :mod:`gan_jax.parallel`); each process calls this function, only process
  0 writes files other than checkpoints.

  Returns:
    The final evaluation metrics (also in ``eval.json``).

  Raises:
    config_lib.ConfigError: before anything is written, when ``workdir``
      holds a run of another config (:func:`config_lib.check_resume`), its
      checkpoint does not fit this config or none of its checkpoints can
      be read, or ``best_metric`` is unknown.
    Diverged: a loss or parameter became non-finite (no checkpoint of it;
      ``diverged.json`` in ``workdir`` says where).
    preemption.Preempted: SIGTERM / SIGINT; a checkpoint of the step
      reached was saved.
  """
  outcome, = train_runs([config], [workdir])
  if isinstance(outcome, divergence.Diverged):
    raise outcome
  return outcome


def train_and_evaluate_seeds(configs: list[ml_collections.ConfigDict],
                             workdirs: list[str]
                             ) -> list[dict[str, float] | divergence.Diverged]:
  """Trains runs that differ only in ``seed`` as one vmapped computation.

  Each run is an ordinary run of :func:`train_and_evaluate` in its own
  workdir (same files, resumable alone), but their states are stacked and
  every fused call trains all of them (:mod:`gan_jax.run_layout`), on one
  device. A run that diverges stops being logged, saved and evaluated
  (its ``diverged.json`` says where); the others go on. Runs resumed from
  checkpoints of different steps are trained one after the other instead.

  Returns:
    Per run, its final evaluation metrics or the :class:`Diverged` error.

  Raises:
    config_lib.ConfigError: the configs differ in more than their seed, or
      as :func:`train_and_evaluate`, before anything is written.
    preemption.Preempted: as :func:`train_and_evaluate`; every run saved.
  """
  if len(configs) != len(workdirs) or not configs:
    raise ValueError(f'{len(configs)} configs for {len(workdirs)} workdirs')
  for config in configs[1:]:
    changes = config_lib.differences(configs[0], config, ignore=('seed',))
    if changes:
      raise config_lib.ConfigError(
          f'vmapped runs must differ in their seed only: {"; ".join(changes)}')
  try:
    return train_runs(configs, workdirs)
  except StepsDiffer as e:
    logging.info('%s: training the runs one after the other', e)
    outcomes = []
    for config, workdir in zip(configs, workdirs):
      outcomes += train_runs([config], [workdir])
    return outcomes


class StepsDiffer(Exception):
  """The runs of a vmapped group resumed from different steps."""


@dataclasses.dataclass
class Run:
  """One run of those trained together: its files and host-side state."""
  config: ml_collections.ConfigDict
  workdir: str
  checkpoints: checkpoint.Checkpointer
  feeder: host_batches.HostBatches
  eval_key: jax.Array
  window: progress.LogWindow = dataclasses.field(
      default_factory=progress.LogWindow)
  writer: metric_writer.MetricWriter | None = None
  resolved_config: dict = dataclasses.field(default_factory=dict)
  label: str = ''  # Prefix of its log lines ('seed 3: ' in a group).
  results: dict[str, float] = dataclasses.field(default_factory=dict)
  diverged: divergence.Diverged | None = None
  # Its checkpoint was saved by a stop that came before the log line,
  # evaluation or samples due at its step: they are done first on resume.
  events_pending: bool = False
  started: float = 0.0  # time.perf_counter() when the call to train began.

  def close(self) -> None:
    self.checkpoints.close()  # Waits for the saves under way.
    self.feeder.close()
    if self.writer:
      self.writer.close()


def train_runs(configs, workdirs
               ) -> list[dict[str, float] | divergence.Diverged]:
  """Holds the runs' workdirs (:mod:`gan_jax.workdir_lock`), then trains."""
  with contextlib.ExitStack() as held:
    for workdir in workdirs:
      held.enter_context(workdir_lock.hold(workdir))
    try:
      tuning = held.enter_context(xla_cpu.for_runs(
          workdirs, configs[0].cpu_scheduler, configs[0].cpu_kernels))
    except ValueError as e:  # Runs that recorded different tunings.
      raise config_lib.ConfigError(str(e)) from e
    return train_held_runs(configs, workdirs, tuning)


def train_held_runs(configs, workdirs, save_tuning: Callable[[], None]
                     ) -> list[dict[str, float] | divergence.Diverged]:
  """Sets up, restores and trains the runs (stacked if more than one);
  ``save_tuning`` records the CPU tuning they train with
  (:func:`gan_jax.xla_cpu.for_runs`)."""
  started = time.perf_counter()
  for config, workdir in zip(configs, workdirs):
    config_lib.check_resume(config, workdir)
  config = configs[0]
  gan = state_lib.build(config)
  layout = run_layout.RunLayout(
      parallel.DataParallel(parallel.resolve_mode(config.parallel),
                            config.cpu_scheduler, config.cpu_kernels),
      len(configs))
  writes = parallel.is_writer()
  evaluator = evaluation.Evaluator(config, gan.dataset, layout.data_parallel)
  check_best_metric(config, gan, evaluator)

  runs, states = [], []
  try:
    for config, workdir in zip(configs, workdirs):
      run, state = _restored_run(config, workdir, gan, layout, started)
      runs.append(run)
      states.append(state)
    starts = [int(parallel.local_copy(state.step)) for state in states]
    if len(set(starts)) > 1:
      raise StepsDiffer(f'the runs resumed from steps {starts}')
    for run in runs:
      run.resolved_config = resolved_config(run.config,
                                             layout.data_parallel.mode)
      if writes:
        workdir_files.start_files(run.workdir, run.config,
                                  run.resolved_config, starts[0])
        # Pending events rewrite the line of the resumed step.
        run.writer = metric_writer.MetricWriter(
            run.workdir, resume_step=starts[0] - int(run.events_pending))
    with preemption.StopRequests(runs[0].checkpoints.reached_preemption
                                 ) as stops:
      return loop.TrainLoop(gan, layout, evaluator, runs, starts[0],
                            stops).train(states, save_tuning)
  finally:
    for run in runs:
      run.close()


def _restored_run(config, workdir: str, gan: Gan,
                  layout: run_layout.RunLayout, started: float
                  ) -> tuple[Run, state_lib.TrainState]:
  """The run of ``workdir`` and its state: restored from its newest
  readable checkpoint (with the loop's state: input position, log window,
  events still due), else initial. ConfigError for a checkpoint that does
  not fit or cannot be read, or one past the end."""
  state_key, eval_key = jax.random.split(jax.random.PRNGKey(config.seed))
  # Globally replicated: the layout of checkpoints and of evaluation.
  state = layout.data_parallel.replicate(
      jax.jit(functools.partial(state_lib.init_state, gan))(state_key))
  run = Run(config, workdir, checkpoint.Checkpointer(
      os.path.join(workdir, 'checkpoints'), config.keep_checkpoints,
      config.best_metric, config.best_mode),
            host_batches.HostBatches(gan, config.seed), eval_key,
            label=f'seed {config.seed}: ' if layout.stacked else '',
            started=started)
  try:
    restored = run.checkpoints.restore_latest(state)
  except (checkpoint.ShapeMismatch, checkpoint.NoReadableCheckpoint) as e:
    run.close()
    raise config_lib.ConfigError(str(e)) from e
  if restored:
    state = restored.state
    run.window = progress.LogWindow(restored.loop['log_window'])
    # Every process reads the same number of batches from its own shard,
    # so the position saved (by process 0) is every process's.
    run.feeder.set_state(restored.loop['data'])
    run.events_pending = restored.loop.get('events_pending', False)
    if run.events_pending:
      run.feeder.replay(restored.loop.get('last_take', {}))
    logging.info('%sresumed from the checkpoint of step %d', run.label,
                 restored.step)
  step = int(parallel.local_copy(state.step))
  if step > config.num_train_steps:
    run.close()
    raise config_lib.ConfigError(
        f'{workdir!r} holds a checkpoint of step {step}, past '
        f'config.num_train_steps={config.num_train_steps}; train it to at '
        f'least {step} steps or use a new workdir')
  return run, state
