"""The training loop: fused train calls, and what is due between them.

:class:`TrainLoop` trains one run, or seeds stacked for one vmapped
computation (:mod:`gan_jax.run_layout`), from a restored or initial state
to the end. Between calls it checks the finished steps' metrics (a run
whose metrics are not finite is set aside as diverged), and at the steps
where they are due writes the log line, evaluates, writes samples and
saves checkpoints; a requested stop saves one checkpoint of the step
reached and ends with :class:`gan_jax.preemption.Preempted`.
"""

import os
import time
from typing import Callable

from absl import logging
import jax
import jax.numpy as jnp
import numpy as np

from gan_jax import data
from gan_jax import diagnostics
from gan_jax import evaluation
from gan_jax import parallel
from gan_jax import plotting
from gan_jax import preemption
from gan_jax import run_layout
from gan_jax.train import divergence
from gan_jax.train import progress
from gan_jax.train import sampling
from gan_jax.train import step as step_lib
from gan_jax.train import workdir_files
from gan_jax.train.state import Gan


class TrainLoop:
  """The loop of :func:`gan_jax.train.runs.train_held_runs` for ``runs``
  (each a :class:`gan_jax.train.runs.Run`), from ``states`` at step
  ``start``; :meth:`train` runs it."""

  def __init__(self, gan: Gan, layout: run_layout.RunLayout,
               evaluator: evaluation.Evaluator, runs: list, start: int,
               stops: preemption.StopRequests):
    self.gan, self.layout, self.evaluator = gan, layout, evaluator
    self.runs, self.start, self.stops = runs, start, stops
    self.config = runs[0].config  # The runs differ in their seed only.
    self.total = self.config.num_train_steps
    self.writes = parallel.is_writer()
    self.generate = sampling.make_generate(gan, layout.data_parallel)
    self.family_evaluate = sampling.make_family_evaluate(gan)
    self.diagnose = diagnostics.make_diagnose(gan.critic, gan.tricks)
    self.real_critic_inputs = sampling.make_real_critic_inputs(gan)
    self.eval_seconds = []  # Each evaluation's wall time, for the ETA.
    self.periods = (self.config.log_every, self.config.sample_every,
                    self.config.checkpoint_every, self.config.eval_every)

  # --- Compiling.

  def compile(self, lengths: list[int], state,
              save_tuning: Callable[[], None]) -> dict[int, Callable]:
    """The fused train programs of the call ``lengths``; then records the
    CPU tuning they were traced with (:mod:`gan_jax.xla_cpu`)."""
    compiled = {}
    started = time.perf_counter()
    for length in sorted(set(lengths)):
      compiled[length] = self.layout.compile(
          step_lib.make_fused_steps(self.gan, length, self.layout.batch_axis,
                                    per_step=True),
          state, self.layout.batch_shapes(self.runs[0].feeder.shapes(length)))
    if compiled:
      logging.info('compiled %d train program(s) in %.1fs', len(compiled),
                   time.perf_counter() - started)
    if self.writes:  # The programs' tuning choices are made: recorded first.
      save_tuning()
    return compiled

  # --- Evaluation, samples and diagnostics of one run's state.

  def evaluate(self, run, state) -> dict[str, float]:
    return sampling.evaluate_state(
        self.gan, self.evaluator, state, run.eval_key,
        self.config.eval.num_samples, self.generate, self.family_evaluate)[0]

  def save_samples(self, run, step: int, state) -> None:
    """Sample grids (images), scatter plots (2-D) or FASTA files
    (sequences), from fixed latents. Every process generates (the rows are
    sharded); process 0 writes."""
    for _, raw in sampling.eval_variants(self.gan):
      path = os.path.join(run.workdir, 'samples', f'step_{step:08d}'
                          f'{"_raw" if raw else ""}.png')
      if isinstance(self.gan.dataset, data.SequenceDataset):
        self._sequence_samples(run, step, state, raw, path)
      elif data.is_on_device(self.gan.dataset):
        self._point_samples(run, step, state, raw, path)
      else:
        self._image_samples(run, step, state, raw, path)

  def _sequence_samples(self, run, step: int, state, raw: bool,
                        path: str) -> None:
    shown = self.generate(state, run.eval_key, sampling.GRID_COLUMNS ** 2,
                          raw)
    if self.writes:
      plotting.save_fasta(path.replace('.png', '.fasta'),
                          self.gan.dataset.decode(shown),
                          f'step {step}{" raw" if raw else ""} sample')

  def _point_samples(self, run, step: int, state, raw: bool,
                     path: str) -> None:
    """The evaluated samples themselves, against as many real ones."""
    num_samples = self.config.eval.num_samples
    samples = sampling.generate_samples(self.gan, self.generate, state,
                                        run.eval_key, num_samples, raw)
    if self.writes:
      real = np.asarray(self.gan.dataset.sample(run.eval_key, num_samples))
      plotting.save_scatter(
          path, real, samples, title=f'{self.config.data.name}, step {step}'
          f'{" (raw)" if raw else ""}')

  def _image_samples(self, run, step: int, state, raw: bool,
                     path: str) -> None:
    """A grid, one row per class for a conditional generator."""
    columns = sampling.GRID_COLUMNS
    if self.gan.num_classes:
      labels = sampling.grid_classes(self.gan.num_classes).repeat(columns)
      shown = self.generate(state, run.eval_key, len(labels), raw, labels)
    else:
      shown = self.generate(state, run.eval_key, columns ** 2, raw)
    if self.writes:
      grid = plotting.image_grid(shown, columns=columns)
      plotting.save_image(path, grid)
      run.writer.write_image(step, 'samples' + ('_raw' if raw else ''), grid)

  def diagnose_state(self, run, state) -> dict[str, float]:
    """Diagnostics on process 0's own copy of the state and its last batch."""
    gan = self.gan
    state = parallel.local_copy(state)
    real = (step_lib.sample_real_batch(gan, state)
            if data.is_on_device(gan.dataset)
            else jax.tree.map(jnp.asarray, run.feeder.last))
    labels = real.labels[0] if gan.num_classes else None
    record = self.diagnose(
        state.critic, state.tricks,
        self.real_critic_inputs(state, real.images[0], labels), labels)
    if self.config.skip_nonfinite_updates:
      record.update({f'{name}_skipped_updates':
                     int(player.opt_state.total_notfinite)
                     for name, player in (('critic', state.critic),
                                          ('generator', state.generator))})
    return record

  # --- Checkpoints.

  @staticmethod
  def loop_state(run, events_pending: bool = False) -> dict:
    """What a checkpoint keeps of the loop: the input position, the log
    window, and whether the step's events are still due (and the batches
    to replay for them)."""
    loop = {'data': run.feeder.get_state(),
            'log_window': run.window.to_json(),
            'events_pending': events_pending}
    if events_pending:
      loop['last_take'] = run.feeder.last_take()
    return loop

  def save(self, run, step: int, state, events_pending: bool = False) -> None:
    run.checkpoints.save(step, state, self.loop_state(run, events_pending),
                         run.resolved_config)

  # --- Finite metrics, divergence.

  def live(self) -> list[tuple[object, int]]:
    """The runs not set aside, with their index in the layout."""
    return [(run, i) for i, run in enumerate(self.runs) if not run.diverged]

  def check(self, calls) -> None:
    """Moves the calls' metrics to the log windows once they are finite;
    a diverged run is set aside (:meth:`diverge`)."""
    for first_step, metrics in calls:
      per_run = self.layout.split(jax.device_get(parallel.local_copy(metrics)))
      for run, index in self.live():
        try:
          divergence.check_finite(per_run[index], first_step,
                                  self.config.skip_nonfinite_updates)
        except divergence.Diverged as e:
          self.diverge(run, e, per_run[index], first_step)
          continue
        run.window.add(per_run[index])

  def diverge(self, run, error: divergence.Diverged, metrics,
              first_step: int) -> None:
    """Sets ``run`` aside: its finite steps since the last log line are
    logged (at the step before ``error.step``) and ``diverged.json`` says
    where it diverged; the error names the last checkpoint and a remedy."""
    finite = error.step - first_step
    if finite:
      run.window.add({name: values[:finite]
                      for name, values in metrics.items()})
    run.diverged = divergence.Diverged(
        error.step, error.quantities, divergence.divergence_advice(
            self.config, max(run.checkpoints.steps(), default=None)))
    if self.writes:
      record = run.window.average()
      if record:
        run.writer.write(error.step - 1, record)
      workdir_files.write_diverged(run.workdir, error)
    if self.layout.stacked:  # A single run's caller reports it.
      logging.warning('%s%s', run.label, run.diverged)

  # --- What is due at a step.

  def eta(self, step: int, steps_per_sec: float) -> str:
    """Time to the end: training at ``steps_per_sec`` plus the evaluations
    still due, each as long as the mean one so far."""
    every, total = self.config.eval_every, self.total
    evaluations = total // every - step // every + (total % every != 0)
    seconds = (total - step) / steps_per_sec
    if evaluations and not self.eval_seconds:
      return f'{progress.format_eta(seconds)} + {evaluations} evaluation(s)'
    return progress.format_eta(
        seconds + evaluations * np.mean(self.eval_seconds or [0]))

  def log_record(self, run, step: int, state,
                 steps_per_sec: float | None) -> dict[str, float]:
    """The log line's record (the window's means, the rate, diagnostics),
    and the line on the console."""
    record = run.window.average()
    if steps_per_sec:
      record['steps_per_sec'] = steps_per_sec
    if self.writes:
      record.update(self.diagnose_state(run, state))
    losses = ' '.join(f'{k} {v:.4g}' for k, v in sorted(record.items())
                      if k.endswith('_loss'))
    rate = (f' | {steps_per_sec:.0f} steps/s | ETA '
            f'{self.eta(step, steps_per_sec)}' if steps_per_sec else '')
    logging.info('%sstep %d/%d | %s%s', run.label, step, self.total, losses,
                 rate)
    return record

  def events(self, run, step: int, state, steps_per_sec: float | None,
             stop: bool) -> bool:
    """The log line, evaluation and samples due at ``step``. Returns False
    when they are left for the resumed run: a stop was requested before
    them, or during the evaluation (which is abandoned)."""
    due = {name: progress.is_due(step, every, self.total) for name, every in (
        ('log', self.config.log_every), ('eval', self.config.eval_every),
        ('samples', self.config.sample_every))}
    if stop:
      return not any(due.values())
    record = (self.log_record(run, step, state, steps_per_sec)
              if due['log'] else {})
    if due['eval']:
      started = time.perf_counter()
      try:
        with self.stops.interruptible():
          run.results = self.evaluate(run, state)
      except preemption.Interrupted:
        return False
      self.eval_seconds.append(time.perf_counter() - started)
      record.update({f'eval/{k}': v for k, v in run.results.items()})
    if due['log']:
      run.window = progress.LogWindow()
    if due['eval']:
      # Every evaluation competes for the best checkpoint, not only those
      # at checkpoint steps.
      run.checkpoints.save_if_best(step, state, self.loop_state(run),
                                   run.resolved_config, run.results)
    if due['samples']:
      self.save_samples(run, step, state)
    if record and self.writes:
      run.writer.write(step, record)
    return True

  def after_call(self, step: int, state, steps_per_sec: float,
                 stop: bool) -> None:
    """Each live run's events at ``step`` and its checkpoint if due; on a
    stop (requested, or an evaluation interrupted), one checkpoint of this
    step for every run, then :class:`gan_jax.preemption.Preempted`."""
    run_states = self.layout.to_runs(state)
    saved = set()
    for run, index in self.live():
      done = self.events(run, step, run_states[index], steps_per_sec, stop)
      stop = stop or not done
      if not done or (step < self.total and progress.is_due(
          step, self.config.checkpoint_every, self.total)):
        self.save(run, step, run_states[index], events_pending=not done)
        saved.add(index)
    if stop:
      for run, index in self.live():
        if index not in saved:
          self.save(run, step, run_states[index])
      raise preemption.Preempted(step)

  # --- The loop.

  def train(self, states: list, save_tuning: Callable[[], None]
            ) -> list[dict[str, float] | divergence.Diverged]:
    """Trains to the end; returns each run's final metrics or divergence."""
    start, total = self.start, self.total
    lengths = progress.chunk_lengths(start, total, self.config.steps_per_call,
                                     self.periods)
    state = self.layout.to_step(states)
    compiled = self.compile(lengths, state, save_tuning)
    for run, index in self.live():  # Events a stopped run left undone.
      if run.events_pending and not self.events(run, start, states[index],
                                                None, False):
        raise preemption.Preempted(start)  # Its checkpoint still says so.
    step, unchecked = start, []  # Calls whose metrics are not checked yet.
    # Training throughput: steps since the last log over the time spent in
    # train calls since then (evaluations, samples and saves left out).
    window_step, window_seconds = start, 0.0
    window_start = time.perf_counter()
    for length in lengths:
      state, metrics = compiled[length](state, *self.layout.put_batches(
          [run.feeder.take(length) for run in self.runs]))
      unchecked.append((step + 1, metrics))
      step += length
      # The previous call is checked while this one runs: one call stays in
      # flight, and a diverged run stops one call late at most.
      self.check(unchecked[:-1])
      del unchecked[:-1]
      if not self.live():
        break
      stop = step < total and self.stops.should_stop()
      if not stop and not any(progress.is_due(step, p, total)
                              for p in self.periods):
        continue
      self.check(unchecked)  # Nothing non-finite is logged, evaluated, saved.
      unchecked.clear()
      if not self.live():
        break
      window_seconds += time.perf_counter() - window_start
      self.after_call(step, state, (step - window_step) / window_seconds, stop)
      if progress.is_due(step, self.config.log_every, total):
        window_step, window_seconds = step, 0.0
      window_start = time.perf_counter()
    return self.finish(state, bool(lengths))

  def finish(self, state, trained: bool
             ) -> list[dict[str, float] | divergence.Diverged]:
    """Each run's outcome: its divergence, or its final evaluation (written
    to eval.json, summarised on the console) and last checkpoint."""
    run_states = self.layout.to_runs(state)
    outcomes = []
    for index, run in enumerate(self.runs):
      if run.diverged:
        outcomes.append(run.diverged)
        continue
      if not run.results:  # A finished run, resumed: evaluate its final state.
        run.results = self.evaluate(run, run_states[index])
      if self.writes:
        workdir_files.write_eval_json(
            os.path.join(run.workdir, 'eval.json'), self.total, run.results,
            self.evaluator.protocol)
      logging.info('%s', progress.summary(run, self.total,
                                          self.evaluator.protocol))
      if trained:
        # Saved last, so a run whose final checkpoint exists has its eval
        # written.
        self.save(run, self.total, run_states[index])
      outcomes.append(run.results)
    return outcomes
