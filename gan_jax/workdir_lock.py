"""A run holds its workdir exclusively for as long as it runs.

Two processes training one workdir (the same command started twice, a
cluster job resubmitted while the first still runs) would both write its
checkpoints and ``metrics.jsonl``: saves collide, log lines interleave. So a
run takes an exclusive ``fcntl.flock`` on ``WORKDIR/run.lock`` before it
touches anything else in the workdir, and a second run on it is refused in
one line naming the holder. As with the per-run locks of sweeps
(:func:`gan_jax.ablation.claim`), the kernel releases the lock when its
process ends, however it ends (``kill -9`` included), so a crashed run
leaves nothing to clean up by hand.

The processes of one multi-host run are one run: process 0 takes the lock
and tells the others whether it got it. Locks are re-entrant within a
process: an entry point that holds a workdir can call
:func:`gan_jax.train.train_and_evaluate`, which holds it too.
"""

import contextlib
import datetime
import fcntl
import os
import socket
import sys
from typing import Iterator

import jax
from jax.experimental import multihost_utils
import numpy as np

from gan_jax import config as config_lib

LOCK_FILE = 'run.lock'


class WorkdirBusy(config_lib.ConfigError):
  """Another process holds the workdir (reported like bad input: exit 2)."""


_held: dict[str, int] = {}  # Real path of a held workdir -> nesting depth.


def _holder_line() -> str:
  started = datetime.datetime.now().astimezone().isoformat(timespec='seconds')
  command = ' '.join(sys.argv)
  return (f'pid {os.getpid()} on {socket.gethostname()}, since {started}: '
          f'{command}')


def _try_lock(path: str):
  """The open lock file, locked; None if another process holds it."""
  lock = open(path, 'a+')  # pylint: disable=consider-using-with
  try:
    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
  except BlockingIOError:
    lock.close()
    return None
  lock.truncate(0)
  lock.write(_holder_line() + '\n')
  lock.flush()
  return lock


def _holder(path: str) -> str:
  try:
    with open(path) as f:
      return f.read().strip() or 'a process that has not said who it is'
  except OSError:
    return 'another process'


@contextlib.contextmanager
def hold(workdir: str, disposable: tuple[str, ...] = ()) -> Iterator[None]:
  """Holds ``workdir`` (created if missing) until the block ends.

  A workdir this call created and the block left with nothing but the lock
  and the ``disposable`` files (a log of a run refused at once) is removed
  again: a refused run leaves no trace.

  Raises:
    WorkdirBusy: another run holds it; nothing was written.
    ConfigError: ``workdir`` is a file or cannot be written.
  """
  key = os.path.realpath(workdir)
  if key in _held:
    _held[key] += 1
    try:
      yield
    finally:
      _held[key] -= 1
    return
  config_lib.check_writable_dir(workdir)
  path = os.path.join(workdir, LOCK_FILE)
  lock = None
  created = not os.path.exists(workdir)
  if jax.process_index() == 0:
    os.makedirs(workdir, exist_ok=True)
    lock = _try_lock(path)
  got_it = lock is not None
  if jax.process_count() > 1:
    got_it = bool(multihost_utils.broadcast_one_to_all(np.int32(got_it)))
  if not got_it:
    raise WorkdirBusy(f'workdir {workdir!r} is in use by another run '
                      f'({_holder(path)}); wait for it to end or use another '
                      'workdir')
  _held[key] = 1
  try:
    yield
  finally:
    del _held[key]
    if lock is not None:
      left = set(os.listdir(workdir))
      if created and left <= {LOCK_FILE, *disposable}:
        for name in left:
          os.remove(os.path.join(workdir, name))
        os.rmdir(workdir)
      lock.close()  # Releases the lock.
