"""Writes logged metrics to ``metrics.jsonl`` and TensorBoard event files."""

import json
import math
import os

import tensorboardX

from gan_jax import strict_json


def _logged_step(line: str) -> int | None:
  """The step of a metrics.jsonl line; None for a line cut short."""
  try:
    return json.loads(line)['step']
  except (json.JSONDecodeError, KeyError, TypeError):
    return None


class MetricWriter:
  """Appends one JSON object per call to ``metrics.jsonl`` and TensorBoard.

  An undefined value (NaN, ±inf: ``eval/reverse_kl`` when no sample is high
  quality) is ``null`` in ``metrics.jsonl`` (strict JSON,
  :mod:`gan_jax.strict_json`) and is not sent to TensorBoard, which has no
  way to show it (tensorboardX would warn at every such step).

  On a resumed run (``resume_step`` > 0), lines logged after the checkpoint
  the run resumes from are dropped first, so the file never holds a step
  twice: those steps are about to be trained (and logged) again. So is a
  last line cut short by a killed process. What is kept is sorted by step,
  each step once (its last line), whatever an earlier crash left in the file.
  """

  def __init__(self, workdir: str, resume_step: int = 0):
    self._path = os.path.join(workdir, 'metrics.jsonl')
    if os.path.exists(self._path):
      with open(self._path) as f:
        lines = [line for line in f if line.strip()]
      by_step = {}
      for line in lines:
        step = _logged_step(line)
        if step is not None and step <= resume_step:
          by_step[step] = line if line.endswith('\n') else line + '\n'
      kept = [by_step[step] for step in sorted(by_step)]
      if kept != lines:
        with open(self._path + '.tmp', 'w') as f:
          f.writelines(kept)
        os.replace(self._path + '.tmp', self._path)
    # purge_step hides events of the steps about to be logged again (those
    # after ``resume_step``) from TensorBoard.
    self._tensorboard = tensorboardX.SummaryWriter(
        workdir, purge_step=resume_step + 1 if resume_step else None)

  def write(self, step: int, scalars: dict[str, float]) -> None:
    with open(self._path, 'a') as f:
      f.write(strict_json.dumps({'step': step, **scalars}) + '\n')
    for name, value in scalars.items():
      if math.isfinite(value):
        self._tensorboard.add_scalar(name, value, step)

  def write_image(self, step: int, name: str, image) -> None:
    """A uint8 ``[H, W, 3]`` image to TensorBoard."""
    self._tensorboard.add_image(name, image, step, dataformats='HWC')

  def close(self) -> None:
    self._tensorboard.close()
