"""Runs the variants × seeds of a sweep (:mod:`gan_jax.sweeps`), resumably.

Every run is an ordinary run (:func:`gan_jax.train.train_and_evaluate`) in
``<workdir>/<variant>/seed_<seed>/``. A run is *finished* when its
``eval.json`` is of its final step and was computed with the evaluation
config asked for now (else it is evaluated again, not retrained), and
*diverged* when it holds ``diverged.json`` and the sweep does not now skip
non-finite updates (the remedy its error names; else it resumes with
them). Both are skipped when the sweep is run again; an unfinished run
resumes from its checkpoint. All run configs are built and validated, and
checked against what their workdirs hold, before anything is trained.

Several processes may train one sweep directory at once (one per core, or
per machine where the directory is shared and supports ``flock``): each run
is trained by the process that first locks ``<variant>/seed_<seed>.lock``
beside its workdir, and the others skip it (:func:`claim`).

Each run's ``wall_time.json`` accumulates the wall-clock seconds spent
training and evaluating it (a vmapped group's time is shared equally by
its runs), for the wall-time column of the results.
"""

import contextlib
import dataclasses
import fcntl
import json
import os
import time
from typing import Any, Iterator

from absl import logging
import jax
import ml_collections

from gan_jax import config as config_lib
from gan_jax import strict_json
from gan_jax import sweeps
from gan_jax import train

WALL_TIME_FILE = 'wall_time.json'


@dataclasses.dataclass(frozen=True)
class Run:
  """One run of a sweep."""
  variant: str
  seed: int
  config: ml_collections.ConfigDict
  workdir: str


def plan(base: ml_collections.ConfigDict, sweep: sweeps.Sweep, workdir: str,
         command_line: dict[str, Any] | None = None) -> list[Run]:
  """Every run of the sweep, its config validated.

  Raises:
    ConfigError: a bad sweep, override or run config, or a run's workdir
      holding a run of another config (naming the variant); ``workdir``
      not a writable directory.
  """
  sweeps.check(sweep)
  config_lib.check_writable_dir(workdir)
  runs = []
  for variant in sweep.variants:
    for index in range(sweep.seeds):
      config = sweeps.run_config(base, variant, index, command_line)
      run = Run(variant.name, config.seed, config, os.path.join(
          workdir, variant.name, f'seed_{config.seed}'))
      try:
        config_lib.validate(config)
        config_lib.check_resume(config, run.workdir)
      except config_lib.ConfigError as e:
        raise config_lib.ConfigError(f'variant {variant.name!r}: {e}') from e
      runs.append(run)
  return runs


# What a diverged run's error suggests; a sweep that now sets them retries it.
_DIVERGENCE_REMEDIES = ('skip_nonfinite_updates', 'max_consecutive_skips')


def status(run: Run) -> str:
  """``finished``, ``diverged`` or ``pending``: not started, unfinished,
  or to be evaluated or resumed again with a changed config (see the
  module docstring)."""
  if not os.path.isfile(os.path.join(run.workdir, 'config.json')):
    return 'pending'
  trained = config_lib.from_run(run.workdir)
  if os.path.exists(os.path.join(run.workdir, train.DIVERGED_FILE)):
    remedied = any(trained.get(key) != run.config.get(key)
                   for key in _DIVERGENCE_REMEDIES)
    return 'pending' if remedied else 'diverged'
  path = os.path.join(run.workdir, 'eval.json')
  if not os.path.exists(path):
    return 'pending'
  with open(path) as f:
    final = json.load(f).get('step') == run.config.num_train_steps
  if final and not config_lib.differences(trained.eval, run.config.eval):
    return 'finished'
  return 'pending'


def wall_time(run: Run) -> float | None:
  """Seconds spent on ``run`` so far, or None if it never ran."""
  path = os.path.join(run.workdir, WALL_TIME_FILE)
  if not os.path.exists(path):
    return None
  with open(path) as f:
    return json.load(f)['seconds']


def _add_wall_time(runs: list[Run], seconds: float) -> None:
  """Shares ``seconds`` equally among the runs that started (have files)."""
  started = [run for run in runs if os.path.isdir(run.workdir)]
  for run in started:
    strict_json.write(os.path.join(run.workdir, WALL_TIME_FILE), {
        'seconds': (wall_time(run) or 0.0) + seconds / len(started),
        'trained_together_with': len(runs)})


def vmap_seeds(sweep: sweeps.Sweep) -> bool:
  """The sweep's ``vmap_seeds``; if None, whether JAX runs on an
  accelerator (see :class:`gan_jax.sweeps.Sweep`)."""
  if sweep.vmap_seeds is None:
    return jax.default_backend() != 'cpu'
  return sweep.vmap_seeds


def lock_path(run: Run) -> str:
  """The file whose lock says that a process is training ``run``."""
  return run.workdir + '.lock'


@contextlib.contextmanager
def claim(runs: list[Run]) -> Iterator[list[Run]]:
  """Yields the runs of ``runs`` that no other process holds, holding them
  until the block ends.

  A run is held by an exclusive ``fcntl.flock`` on :func:`lock_path`, which
  the kernel releases when its file is closed or its process ends, however
  it ends (SIGKILL and a lost session included): a run whose trainer died is
  free for the next process, with no stale lock to remove by hand.
  """
  with contextlib.ExitStack() as files:
    held = []
    for run in runs:
      os.makedirs(os.path.dirname(run.workdir), exist_ok=True)
      lock = files.enter_context(open(lock_path(run), 'a'))
      try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
      except BlockingIOError:
        continue
      held.append(run)
    yield held


def train_pending(runs: list[Run], vmap_seeds: bool) -> None:
  """Trains the runs that are not finished, variant by variant.

  With ``vmap_seeds`` a variant's pending seeds are one vmapped computation.
  A diverged run is recorded (its ``diverged.json``) and the sweep goes on.
  A run that another process is training (:func:`claim`) is skipped, and so
  is one that another process finished in the meantime.

  Logs the sweep's progress (:class:`Progress`): before each run or
  vmapped group ``run k of N (variant, seed s)``, after it ``sweep: d of N
  runs done, ETA …``, N being the runs pending when this call started.

  Raises:
    ConfigError: a workdir holds a run of another config (before training
      that variant).
    preemption.Preempted: SIGTERM / SIGINT; the runs under way saved.
  """
  pending = [r for r in runs if status(r) == 'pending']
  progress = Progress(len(pending))
  if not pending:
    logging.info('sweep: nothing to train (%d runs finished or diverged)',
                 len(runs))
  for variant in dict.fromkeys(run.variant for run in pending):
    mine = [r for r in pending if r.variant == variant]
    groups = [mine] if vmap_seeds and len(mine) > 1 else [[r] for r in mine]
    for group in groups:
      with claim(group) as held:
        # A held run may have been finished by another process meanwhile.
        todo = [r for r in held if status(r) == 'pending']
        _train_group(variant, todo, [r for r in group if r not in held],
                     progress, done_elsewhere=len(group) - len(todo))


def _format_duration(seconds: float) -> str:
  seconds = int(round(seconds))
  return f'{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'


class Progress:
  """A sweep's overall progress, one log line each.

  ``total`` runs are to be done in this invocation. The ETA is the runs not
  yet done times the mean wall time of the runs trained so far by this
  invocation (a vmapped group's time shared by its runs); runs another
  process trained or holds count as done, at no time.
  """

  def __init__(self, total: int):
    self.total = total
    self.done = 0
    self._trained = 0
    self._seconds = 0.0

  def start(self, variant: str, group: list[Run]) -> None:
    """Logs ``run k of N (variant, seed s)`` before ``group`` trains."""
    first = self.done + 1
    if len(group) == 1:
      logging.info('run %d of %d (%s, seed %d)', first, self.total, variant,
                   group[0].seed)
    else:
      logging.info('runs %d-%d of %d (%s, seeds %s, vmapped)', first,
                   first + len(group) - 1, self.total, variant,
                   ', '.join(str(r.seed) for r in group))

  def finish(self, trained: int, seconds: float, skipped: int = 0) -> None:
    """Counts ``trained`` runs that took ``seconds`` and ``skipped`` runs
    done elsewhere, and logs runs done of total with the ETA."""
    self.done += trained + skipped
    self._trained += trained
    self._seconds += seconds
    if self._trained and self.done < self.total:
      eta = ', ETA ' + _format_duration(
          (self.total - self.done) * self._seconds / self._trained)
    else:
      eta = ''
    logging.info('sweep: %d of %d runs done%s', self.done, self.total, eta)


def _train_group(variant: str, group: list[Run], elsewhere: list[Run],
                 progress: Progress, done_elsewhere: int) -> None:
  """Trains ``group`` (held by this process) together; ``elsewhere``: the
  runs another process holds; ``done_elsewhere``: those and the runs
  another process finished meanwhile, for ``progress``."""
  if elsewhere:
    logging.info('%s, seed(s) %s: trained by another process, skipped',
                 variant, ', '.join(str(r.seed) for r in elsewhere))
  if not group:
    progress.finish(0, 0.0, done_elsewhere)
    return
  progress.start(variant, group)
  started = time.perf_counter()
  try:
    if len(group) > 1:
      train.train_and_evaluate_seeds([r.config for r in group],
                                     [r.workdir for r in group])
    else:
      try:
        train.train_and_evaluate(group[0].config, group[0].workdir)
      except train.Diverged as e:
        logging.warning('%s seed %d: %s', variant, group[0].seed, e)
  finally:
    seconds = time.perf_counter() - started
    _add_wall_time(group, seconds)
  progress.finish(len(group), seconds, done_elsewhere)
