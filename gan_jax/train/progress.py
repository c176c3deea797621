"""What is due at a step, the log window, the ETA and the final summary.

Host-side bookkeeping of the loop (:mod:`gan_jax.train.loop`): which steps
a fused call may run to, when a period is due, the per-step metrics
averaged into a log line, and the lines a finished run ends with.
"""

import time

import numpy as np


def chunk_lengths(start: int, total: int, steps_per_call: int,
                   periods: tuple[int, ...]) -> list[int]:
  """Lengths of the fused calls from ``start`` to ``total``.

  A call never runs past a step at which something happens (a multiple of
  one of ``periods``, or the end), so logs, samples, evaluations and
  checkpoints see exactly the steps they are due at.
  """
  lengths, step = [], start
  while step < total:
    next_event = min([total] + [(step // p + 1) * p for p in periods])
    length = min(steps_per_call, next_event - step)
    lengths.append(length)
    step += length
  return lengths


def is_due(step: int, every: int, total: int) -> bool:
  return step % every == 0 or step == total


def format_eta(seconds: float) -> str:
  seconds = int(round(seconds))
  return f'{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'


class LogWindow:
  """Each step's metrics since the last log line, on the host.

  Saved in checkpoints, so a resumed run logs exactly the averages an
  uninterrupted one does. Averages are over the finite values: a non-finite
  one comes only from an update skipped under ``skip_nonfinite_updates``.
  """

  def __init__(self, values: dict[str, list[float]] | None = None):
    self._values = {name: list(v) for name, v in (values or {}).items()}

  def add(self, metrics: dict[str, np.ndarray]) -> None:
    for name, values in metrics.items():
      self._values.setdefault(name, []).extend(
          float(v) for v in np.asarray(values).reshape(-1))

  def average(self) -> dict[str, float]:
    averages = {}
    for name, values in self._values.items():
      values = np.asarray(values, np.float32)
      finite = values[np.isfinite(values)]
      averages[name] = float(np.mean(finite, dtype=np.float64)
                             if finite.size else np.nan)
    return averages

  def to_json(self) -> dict[str, list[float]]:
    return {name: list(values) for name, values in self._values.items()}


def summary(run, total: int, protocol: dict) -> str:
  """The lines a finished run ends with: where it is, its scores by name
  with how they were measured, and how long it took."""
  shown = [name for name in run.results if not name.startswith('raw/')]
  scores = ', '.join(
      f'{name} {value:.4g}' if np.isfinite(value) else f'{name} undefined'
      for name, value in ((n, run.results[n]) for n in shown))
  how = ', '.join(f'{k} {v}' for k, v in protocol.items())
  took = format_eta(time.perf_counter() - run.started)
  return (f'{run.label}done: step {total} of {total} in {took} (set-up, '
          f'training and evaluation); workdir {run.workdir}\n'
          f'  final scores: {scores}\n  protocol: {how}; every score in '
          'eval.json')
