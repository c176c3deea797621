"""Checkpoints of a run with orbax-checkpoint's CheckpointManager.

A checkpoint holds three items:

* ``state``: the train state pytree (parameters, optimiser, trick and EMA
  states, PRNG key, step), saved asynchronously: orbax copies it to host
  memory and writes it in a background thread while training goes on.
* ``loop``: JSON of what the training loop needs to go on exactly where it
  stopped (the data iterator's position, the partial log window) and the
  state's fingerprint.
* ``config``: the run's config, so a checkpoint describes itself.

A checkpoint that cannot be read (truncated or missing files, or contents
that do not match the fingerprint saved with them) is moved aside, never
deleted, once an older one has been read; when none can be read nothing is
touched. A checkpoint that reads but whose
arrays do not fit the train state of the current config is a config error,
not corruption. Optionally a second manager keeps the best checkpoint by an
evaluation metric. Orbax writes a checkpoint under a temporary name and
renames it when complete, so a process killed while saving leaves no
half-written step behind.
"""

import os
from typing import Any, NamedTuple

from absl import logging
import jax
from jax.experimental import multihost_utils
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp

from gan_jax import parallel

PyTree = Any


class ShapeMismatch(ValueError):
  """A readable checkpoint whose arrays do not fit the train state asked for."""


class NoReadableCheckpoint(RuntimeError):
  """A run has checkpoints, but none of them can be read."""


class Restored(NamedTuple):
  """A restored checkpoint: its step, train state and loop state."""
  step: int
  state: PyTree
  loop: dict


def _leaf_names(tree) -> list[str]:
  return [jax.tree_util.keystr(path, simple=True, separator='/')
          for path, _ in jax.tree_util.tree_flatten_with_path(tree)[0]]


@jax.jit
def _fingerprint(tree) -> list[jax.Array]:
  """One uint32 checksum per leaf: sum of its 32-bit words, word ``i``
  weighted by ``2i + 1`` (mod 2**32), so any single changed word changes it.

  Hand-written because orbax and tensorstore verify no checksums on read:
  a checkpoint with bytes overwritten in place restores wrong values
  silently (tried with orbax-checkpoint 0.12.8).
  """
  def checksum(x):
    x = jnp.asarray(x)
    if x.dtype == jnp.bool_:
      words = x.astype(jnp.uint32)
    else:
      unsigned = jnp.dtype(f'uint{8 * x.dtype.itemsize}')
      words = jax.lax.bitcast_convert_type(x, unsigned).astype(jnp.uint32)
    words = words.reshape(-1)
    weights = 2 * jnp.arange(words.size, dtype=jnp.uint32) + 1
    return jnp.sum(words * weights, dtype=jnp.uint32)
  return [checksum(x) for x in jax.tree.leaves(tree)]


def fingerprint(state: PyTree) -> list[int]:
  """The per-leaf checksums of ``state`` (any layout), as ints."""
  return [int(x) for x in jax.device_get(
      parallel.local_copy(_fingerprint(state)))]


def _describe_mismatch(saved, wanted) -> str:
  """The first difference between the saved and wanted leaves, or ''."""
  have = dict(zip(_leaf_names(saved), jax.tree.leaves(saved)))
  want = dict(zip(_leaf_names(wanted), jax.tree.leaves(wanted)))
  for name in [*want, *(name for name in have if name not in want)]:
    if name not in have:
      return f'the checkpoint has no {name}'
    if name not in want:
      return f'the config has no {name}'
    if (tuple(have[name].shape) != tuple(want[name].shape)
        or np.dtype(have[name].dtype) != np.dtype(want[name].dtype)):
      return (f'{name} is {have[name].dtype}{list(have[name].shape)} in the '
              f'checkpoint, {want[name].dtype}{list(want[name].shape)} in '
              'the config')
  return ''


def _item_handlers() -> dict:
  """How each item is stored; a manager reading checkpoints it did not write
  needs them to read their metadata."""
  return {'state': ocp.StandardCheckpointHandler(),
          'loop': ocp.JsonCheckpointHandler(),
          'config': ocp.JsonCheckpointHandler()}


def _short_reason(error: Exception) -> str:
  """Why a checkpoint could not be read, in a few words: the error's first
  sentence, without the dumps orbax and TensorStore append to it."""
  text = ' '.join(str(error).split()).split(' See full TensorStore')[0]
  return (f'{type(error).__name__}: {text[:120]}'
          f'{"..." if len(text) > 120 else ""}')


class Checkpointer:
  """Saves and restores a run's checkpoints (see the module docstring).

  Args:
    directory: where the numbered checkpoint directories live.
    keep: how many of the latest checkpoints to keep.
    best_metric: an evaluation metric; when set, the checkpoint with its best
      value is also kept, in ``<directory>_best``.
    best_mode: ``'min'`` or ``'max'``: which value of ``best_metric`` is best.
    asynchronous: write in a background thread (the default); False blocks
      in :meth:`save` until the checkpoint is written (benchmarks compare).
    reader: only reads checkpoints of a run that may be training now
      (``experiments/evaluate.py``): leaves its unfinished saves alone.
  """

  def __init__(self, directory: str, keep: int, best_metric: str = '',
               best_mode: str = 'min', asynchronous: bool = True,
               reader: bool = False):
    self.directory = directory
    self._manager = ocp.CheckpointManager(
        directory, item_handlers=_item_handlers(),
        options=ocp.CheckpointManagerOptions(
            max_to_keep=keep, create=True,
            # Left by a killed process; the run holds its workdir alone
            # (gan_jax.workdir_lock), so no save of another is under way.
            cleanup_tmp_directories=not reader,
            enable_async_checkpointing=asynchronous))
    self._best_metric = best_metric
    self._best = None
    if best_metric:
      self._best = ocp.CheckpointManager(
          self.best_directory, item_handlers=_item_handlers(),
          options=ocp.CheckpointManagerOptions(
              max_to_keep=1, create=True, best_mode=best_mode,
              cleanup_tmp_directories=not reader,
              best_fn=lambda metrics: metrics[best_metric]))

  @property
  def best_directory(self) -> str:
    return self.directory + '_best'

  def steps(self) -> list[int]:
    """The steps that have a checkpoint, oldest first."""
    return sorted(self._manager.all_steps())

  def best_step(self) -> int | None:
    """The step of the best checkpoint; None without ``best_metric`` or
    before the first evaluation."""
    return self._best.best_step() if self._best else None

  def restore_latest(self, state) -> Restored | None:
    """The newest readable checkpoint; None if there is no checkpoint.

    Newer unreadable ones are then reported, one warning line each, and
    moved to ``<directory>_unreadable/`` (never deleted). ``state`` gives
    the structure, shapes and dtypes to restore into.

    Raises:
      ShapeMismatch: a readable checkpoint does not fit ``state``.
      NoReadableCheckpoint: there are checkpoints but none can be read;
        nothing was moved (starting over would drop the run's log).
    """
    failures = []
    for step in reversed(self.steps()):
      try:
        restored = self.restore(step, state)
      except ShapeMismatch:
        raise
      except Exception as e:  # pylint: disable=broad-except
        # Anything that stops a checkpoint from being read (orbax, tensorstore
        # and JSON raise many types) makes it unreadable.
        failures.append((step, _short_reason(e)))
        logging.info('checkpoint of step %d cannot be read: %r', step, e,
                     extra={'console': False})  # In full, for the log file.
        continue
      for failed, reason in failures:
        logging.warning('checkpoint of step %d is unreadable (%s); moved to '
                        '%s, resuming from step %d', failed, reason,
                        self._set_aside(failed), step)
      return restored
    if failures:
      raise NoReadableCheckpoint(
          f'none of the checkpoints in {self.directory!r} can be read '
          f'(step {failures[0][0]}: {failures[0][1]}); nothing was changed: '
          'move them away to train this workdir from the start')
    return None

  def restore(self, step: int, state) -> Restored:
    """The checkpoint of ``step``, restored into the layout of ``state``.

    Raises:
      ValueError: there is no checkpoint of ``step`` (names the ones there).
      ShapeMismatch: its arrays do not fit ``state``.
      Exception: it cannot be read, or its contents do not match their
        fingerprint.
    """
    return self._restore(self._manager, step, state)

  def restore_best(self, state) -> Restored:
    """The best checkpoint by ``best_metric`` (see :meth:`restore`).

    Raises:
      ValueError: there is none (no ``best_metric``, or no evaluation yet).
    """
    step = self.best_step()
    if step is None:
      raise ValueError(f'{self.best_directory!r} holds no best checkpoint '
                       '(config.best_metric unset, or no evaluation yet)')
    return self._restore(self._best, step, state)

  def _restore(self, manager, step: int, state) -> Restored:
    steps = sorted(manager.all_steps())
    if step not in steps:
      raise ValueError(f'no checkpoint of step {step}; checkpoints: '
                       f'{", ".join(map(str, steps)) or "none"}')
    saved = manager.item_metadata(step)['state'].tree
    mismatch = _describe_mismatch(saved, state)
    if mismatch:
      raise ShapeMismatch(f'the checkpoint of step {step} in '
                          f'{manager.directory!s} does not fit the config: '
                          f'{mismatch}')
    restored = manager.restore(step, args=ocp.args.Composite(
        state=ocp.args.StandardRestore(state), loop=ocp.args.JsonRestore()))
    loop = dict(restored.loop)
    expected = loop.pop('fingerprint')
    actual = fingerprint(restored.state)
    if actual != expected:
      bad = next(name for name, a, b in zip(_leaf_names(state), actual,
                                            expected) if a != b)
      raise ValueError(f'contents do not match the saved fingerprint ({bad})')
    return Restored(step, restored.state, loop)

  def _args(self, state, loop: dict, config: dict) -> ocp.args.Composite:
    return ocp.args.Composite(
        state=ocp.args.StandardSave(state),
        loop=ocp.args.JsonSave({**loop, 'fingerprint': fingerprint(state)}),
        config=ocp.args.JsonSave(config))

  def save(self, step: int, state, loop: dict, config: dict) -> None:
    """Saves ``state`` (asynchronously), the loop state and the config."""
    self._manager.save(step, args=self._args(state, loop, config))

  def save_if_best(self, step: int, state, loop: dict, config: dict,
                   metrics: dict[str, float]) -> None:
    """Saves into the best-checkpoint directory, keeping there the one with
    the best ``best_metric`` (a no-op without it, or when that directory
    already holds ``step``: a resumed run reaching it again)."""
    if (self._best and self._best_metric in metrics
        and step not in self._best.all_steps()):
      self._best.save(step, args=self._args(state, loop, config),
                      metrics={self._best_metric: metrics[self._best_metric]})

  def reached_preemption(self, check: int) -> bool:
    """Whether the processes of a multi-process run agreed to stop at their
    ``check``-th check (orbax's preemption sync point; see
    :mod:`gan_jax.preemption`)."""
    return self._manager.reached_preemption(check)

  def _set_aside(self, step: int) -> str:
    """Moves the checkpoint of ``step`` out of the manager's directory."""
    aside = self.directory + '_unreadable'
    os.makedirs(aside, exist_ok=True)
    target = os.path.join(aside, str(step))
    suffix = 0
    while os.path.exists(target):
      suffix += 1
      target = os.path.join(aside, f'{step}.{suffix}')
    if parallel.is_writer():
      os.replace(os.path.join(self.directory, str(step)), target)
    if jax.process_count() > 1:  # The others wait until it has moved.
      multihost_utils.sync_global_devices(f'set aside checkpoint {step}')
    self._manager.reload()
    return target

  def wait(self) -> None:
    """Blocks until every started save is complete."""
    self._manager.wait_until_finished()
    if self._best:
      self._best.wait_until_finished()

  def close(self) -> None:
    self.wait()
    self._manager.close()
    if self._best:
      self._best.close()
