"""Stopping cleanly on SIGTERM / SIGINT: the run saves a checkpoint and exits.

Clusters announce preemption with SIGTERM; a researcher stops a run with
Ctrl-C (SIGINT). Either one asks the training loop to stop at the end of the
current fused call, save a checkpoint of that step and exit with status 0;
re-running the same command resumes from it. A second Ctrl-C stops at once.
An evaluation under way is abandoned (:meth:`StopRequests.interruptible`)
and done by the resumed run, so a run stops within seconds of the signal,
well inside the grace period clusters give.

On one process a Python handler sets a flag. On several processes they must
agree on the step to stop at, or some would wait forever in a collective
for the others: jax.distributed's preemption service catches SIGTERM (its
own handler, installed by ``jax.distributed.initialize``) and orbax's
``CheckpointManager.reached_preemption`` is the sync point every process
calls at the same steps; SIGINT is turned into SIGTERM so it takes the same
path.
"""

import contextlib
import os
import signal
from typing import Iterator

import jax


class Preempted(Exception):
  """The run stopped on a signal after saving a checkpoint of ``step``."""

  def __init__(self, step: int):
    super().__init__(f'preempted at step {step}, checkpoint saved')
    self.step = step


class Interrupted(Exception):
  """A stop was requested during an interruptible part of the loop."""


class StopRequests:
  """Context manager that turns SIGTERM and SIGINT into a stop request.

  Args:
    reached_sync_point: ``int -> bool``, the multi-process sync point
      (:meth:`gan_jax.checkpoint.Checkpointer.reached_preemption`).
  """

  def __init__(self, reached_sync_point):
    self._reached_sync_point = reached_sync_point
    self._requested = False
    self._previous = {}
    self._checks = 0
    self._interruptible = False

  def __enter__(self) -> 'StopRequests':
    multi_process = jax.process_count() > 1
    signals = (signal.SIGINT,) if multi_process else (signal.SIGINT,
                                                      signal.SIGTERM)
    for signum in signals:
      self._previous[signum] = signal.signal(
          signum, self._forward if multi_process else self._request)
    return self

  def __exit__(self, *exc_info) -> None:
    for signum, handler in self._previous.items():
      signal.signal(signum, handler)

  def _request(self, signum, frame) -> None:
    del frame
    if self._requested and signum == signal.SIGINT:
      raise KeyboardInterrupt  # A second Ctrl-C: stop now.
    self._requested = True
    if self._interruptible:
      self._interruptible = False
      raise Interrupted

  def _forward(self, signum, frame) -> None:
    del signum, frame
    if self._requested:
      raise KeyboardInterrupt
    self._requested = True
    os.kill(os.getpid(), signal.SIGTERM)

  @contextlib.contextmanager
  def interruptible(self) -> Iterator[None]:
    """A block a stop request may abandon: it raises :class:`Interrupted`
    at once (also when the request came before the block).

    For long pure computations (an evaluation) whose result the resumed run
    recomputes, so a preempted run stops within seconds. Only on one
    process: on several, stops happen at the common sync points.
    """
    if jax.process_count() > 1:
      yield
      return
    if self._requested:
      raise Interrupted
    self._interruptible = True
    try:
      yield
    finally:
      self._interruptible = False

  def should_stop(self) -> bool:
    """Whether to save and stop now; every process must call this at the
    same steps.

    The sync point is given the number of calls so far, not the training
    step: jax's preemption sync manager settles on the step after the
    highest one any process reported and stops when a process reports
    exactly that, so the numbers must count up by one.
    """
    self._checks += 1
    if jax.process_count() > 1:
      return self._reached_sync_point(self._checks)
    return self._requested
