"""Writes logged metrics to ``metrics.jsonl`` and TensorBoard event files."""

import json
import os

import tensorboardX


def _logged_step(line: str) -> int | None:
  """The step of a metrics.jsonl line; None for a line cut short."""
  try:
    return json.loads(line)['step']
  except (json.JSONDecodeError, KeyError, TypeError):
    return None


class MetricWriter:
  """Appends one JSON object per call to ``metrics.jsonl`` and TensorBoard.

  On a resumed run (``resume_step`` > 0), lines logged after the checkpoint
  the run resumes from are dropped first, so the file never holds a step
  twice: those steps are about to be trained (and logged) again. So is a
  last line cut short by a killed process.
  """

  def __init__(self, workdir: str, resume_step: int = 0):
    self._path = os.path.join(workdir, 'metrics.jsonl')
    if os.path.exists(self._path):
      with open(self._path) as f:
        lines = [line for line in f if line.strip()]
      kept = [line for line in lines
              if _logged_step(line) is not None
              and _logged_step(line) <= resume_step]
      if len(kept) != len(lines):
        with open(self._path + '.tmp', 'w') as f:
          f.writelines(kept)
        os.replace(self._path + '.tmp', self._path)
    # purge_step hides events logged after the checkpoint from TensorBoard.
    self._tensorboard = tensorboardX.SummaryWriter(
        workdir, purge_step=resume_step or None)

  def write(self, step: int, scalars: dict[str, float]) -> None:
    with open(self._path, 'a') as f:
      f.write(json.dumps({'step': step, **scalars}) + '\n')
    for name, value in scalars.items():
      self._tensorboard.add_scalar(name, value, step)

  def write_image(self, step: int, name: str, image) -> None:
    """A uint8 ``[H, W, 3]`` image to TensorBoard."""
    self._tensorboard.add_image(name, image, step, dataformats='HWC')

  def close(self) -> None:
    self._tensorboard.close()
