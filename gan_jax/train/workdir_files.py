"""The files a run writes in its workdir besides checkpoints and metrics.

``config.json`` (and ``config_until_step_S.json`` on an allowed config
change), ``eval.json`` / ``eval_step_S.json`` and ``diverged.json``, all
strict JSON (:mod:`gan_jax.strict_json`); docs/running.md lists every file.
"""

import os

import ml_collections

from gan_jax import config as config_lib
from gan_jax import strict_json

DIVERGED_FILE = 'diverged.json'


def write_eval_json(path: str, step: int, results: dict[str, float],
                    protocol: dict) -> None:
  """Writes an evaluation: the step, the metrics (``null`` where undefined,
  e.g. ``reverse_kl`` with no high-quality sample), the protocol."""
  extractor = ({'feature_extractor': protocol['feature_extractor']}
               if 'feature_extractor' in protocol else {})
  strict_json.write(path, {'step': step, **results, **extractor,
                           'protocol': protocol}, sort_keys=False)


def start_files(workdir: str, config: ml_collections.ConfigDict,
                resolved: dict, start: int) -> None:
  """The files a run writes before training: samples/, config.json (the
  old one kept on an allowed config change); a stale diverged.json goes."""
  os.makedirs(os.path.join(workdir, 'samples'), exist_ok=True)
  config_path = os.path.join(workdir, 'config.json')
  if config_lib.config_changes(config, workdir):  # Allowed.
    os.replace(config_path, os.path.join(
        workdir, f'config_until_step_{start}.json'))
  strict_json.write(config_path, resolved)
  diverged_path = os.path.join(workdir, DIVERGED_FILE)
  if os.path.exists(diverged_path):
    os.remove(diverged_path)


def write_diverged(workdir: str, error) -> None:
  """``diverged.json``: the step and the non-finite quantities of
  ``error`` (a :class:`gan_jax.train.divergence.Diverged`), as strings."""
  strict_json.write(os.path.join(workdir, DIVERGED_FILE), {
      'step': error.step,
      'quantities': {k: str(v) for k, v in error.quantities.items()}})
