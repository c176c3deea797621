"""A sweep's results: results.csv, results.md and plots, from its run dirs.

``results.csv`` has one row per run: ``name`` (the variant), ``seed``,
``status`` (finished, diverged, pending), every final metric of its
``eval.json`` (empty unless finished) and ``wall_time_s``.

``results.md`` has one row per variant: each metric's mean over the
finished seeds ± the half-width of its 95 % confidence interval (Student's
t with n − 1 degrees of freedom: the interval for the mean of a few
seeds; the mean alone with one seed, "–" with none), the number of
finished seeds, and how many diverged. Diverged runs have no final metrics
and are counted apart rather than given a value; a metric undefined for a
seed (NaN, ``null`` in its eval.json, e.g. reverse KL when no sample is
near any mode: the worst collapse) is left out of its cell, which then
says over how many seeds it averages. Pending runs are not in the table at
all.
"""

import csv
import json
import math
import os

import numpy as np
from scipy import stats

from gan_jax import ablation
from gan_jax import plotting
from gan_jax import strict_json
from gan_jax import train

_NOT_METRICS = ('step', 'protocol', 'feature_extractor')


def final_metrics(run: ablation.Run) -> dict[str, float]:
  """The numeric final metrics of a finished run's eval.json; NaN for one
  written as ``null`` (undefined, see :mod:`gan_jax.strict_json`)."""
  with open(os.path.join(run.workdir, 'eval.json')) as f:
    record = json.load(f)
  return {k: float(strict_json.null_to_nan(v)) for k, v in record.items()
          if k not in _NOT_METRICS and (v is None or (
              isinstance(v, (int, float)) and not isinstance(v, bool)))}


def mean_and_interval(values, confidence: float = 0.95
                      ) -> tuple[float, float]:
  """The mean of the finite ``values`` and the half-width of its confidence
  interval (Student's t); the half-width is NaN for fewer than two values.
  (A metric can be undefined for a run, e.g. reverse KL with no sample
  near a mode; the table says how many values each cell averages.)
  Equal values have a zero half-width (not the rounding error of their
  mean: ten runs that all end on one mode, KL ln 8 each)."""
  values = np.asarray(values, np.float64)
  values = values[np.isfinite(values)]
  mean = float(np.mean(values)) if values.size else math.nan
  if values.size < 2:
    return mean, math.nan
  if np.all(values == values[0]):
    return float(values[0]), 0.0
  sem = np.std(values, ddof=1) / math.sqrt(values.size)
  return mean, float(stats.t.ppf(0.5 + confidence / 2, values.size - 1) * sem)


def collect(runs: list[ablation.Run]) -> list[dict]:
  """One row per run (see the module docstring)."""
  rows = []
  for run in runs:
    state = ablation.status(run)
    row = {'name': run.variant, 'seed': run.seed, 'status': state}
    if state == 'finished':
      row.update(final_metrics(run))
    elif state == 'diverged':
      with open(os.path.join(run.workdir, train.DIVERGED_FILE)) as f:
        row['diverged_at_step'] = json.load(f)['step']
    row['wall_time_s'] = ablation.wall_time(run)
    rows.append(row)
  return rows


def metric_names(rows: list[dict], wanted: tuple[str, ...] = ()) -> list[str]:
  """``wanted`` if given, else every metric found in finished rows, sorted."""
  if wanted:
    return list(wanted)
  found = {k for row in rows if row['status'] == 'finished' for k in row}
  return sorted(found - {'name', 'seed', 'status', 'wall_time_s',
                         'diverged_at_step'})


def _private_tmp(path: str) -> str:
  """A temporary name for ``path`` that no other process writes to: the
  processes training one sweep each write its results when they end."""
  return f'{path}.{os.getpid()}.tmp'


def write_csv(path: str, rows: list[dict]) -> None:
  columns = ['name', 'seed', 'status'] + metric_names(rows) + [
      'diverged_at_step', 'wall_time_s']
  with open(_private_tmp(path), 'w', newline='') as f:
    writer = csv.DictWriter(f, columns, restval='')
    writer.writeheader()
    for row in rows:
      writer.writerow({k: ('' if v is None else v) for k, v in row.items()})
  os.replace(_private_tmp(path), path)


def read_csv(path: str) -> list[dict]:
  """The rows of a ``results.csv`` as :func:`collect` returns them (empty
  cells left out, numbers as floats, ``seed`` an int)."""
  with open(path, newline='') as f:
    rows = []
    for record in csv.DictReader(f):
      row = {k: v for k, v in record.items() if v != ''}
      for key in row.keys() - {'name', 'status'}:
        row[key] = float(row[key])
      row['seed'] = int(row['seed'])
      row.setdefault('wall_time_s', None)
      rows.append(row)
  return rows


def merge(row_lists: list[list[dict]]) -> list[dict]:
  """The rows of several results.csv of one sweep as one list.

  A sweep spread over machines or sessions leaves several files, each
  listing every planned run and finishing some. Per variant and seed, a run
  that ran (finished or diverged) replaces one that is pending; a run that
  ran in two files is an error (a seed measured twice would count twice).
  Order: first appearance.
  """
  merged: dict[tuple[str, int], dict] = {}
  for rows in row_lists:
    for row in rows:
      key = (row['name'], row['seed'])
      if key not in merged or merged[key]['status'] == 'pending':
        merged[key] = row
      elif row['status'] != 'pending':
        raise ValueError(f'variant {key[0]} seed {key[1]} ran in two of the '
                         'results given; keep one of them')
  return list(merged.values())


def summarise(rows: list[dict], metrics: list[str]) -> list[dict]:
  """Per variant (in row order): seeds finished / diverged / planned, and
  ``(mean, half-width, seeds with a finite value)`` of each metric over
  the finished seeds."""
  summaries = []
  for name in dict.fromkeys(row['name'] for row in rows):
    mine = [row for row in rows if row['name'] == name]
    finished = [row for row in mine if row['status'] == 'finished']
    times = [row['wall_time_s'] for row in mine
             if row['status'] != 'pending' and row['wall_time_s'] is not None]
    summaries.append({
        'name': name, 'planned': len(mine), 'finished': len(finished),
        'diverged': sum(row['status'] == 'diverged' for row in mine),
        'wall_time_s': sum(times), 'timed_runs': len(times),
        'metrics': {m: _statistics([row.get(m, math.nan) for row in finished])
                    for m in metrics}})
  return summaries


def _statistics(values: list[float]) -> tuple[float, float, int]:
  """Mean, interval half-width and number of the finite ``values``."""
  return (*mean_and_interval(values), int(np.isfinite(values).sum()))


def cell(mean: float, half_width: float, count: int, finished: int) -> str:
  """``mean ± half-width``, with ``(k of n seeds)`` if some were undefined.

  Both to the decimal of the half-width's second significant digit (the
  precision the interval supports); without an interval (one seed) or with
  a zero one, 3 decimals below 10 and 1 above.
  """
  if count == 0 < finished:
    return f'undefined (0 of {finished} seeds)'
  if math.isnan(mean):
    return '–'
  if math.isnan(half_width) or half_width == 0:
    digits = 3 if abs(mean) < 10 else 1
  else:
    digits = max(0, 1 - math.floor(math.log10(half_width)))
  text = f'{mean:.{digits}f}'
  if not math.isnan(half_width):
    text += f' ± {half_width:.{digits}f}'
  if count < finished:
    text += f' ({count} of {finished} seeds)'
  return text


def markdown_table(summaries: list[dict], metrics: list[str]) -> str:
  header = (['variant'] + metrics +
            ['seeds finished', 'diverged', 'wall time (min)'])
  lines = ['| ' + ' | '.join(header) + ' |',
           '|' + '---|' * len(header)]
  for s in summaries:
    shown = (s['finished'] or s['diverged'])
    cells = [cell(*s['metrics'][m], s['finished']) for m in metrics
             ] if shown else [
        'not run'] * len(metrics)
    lines.append('| ' + ' | '.join(
        [s['name'], *cells, f'{s["finished"]}/{s["planned"]}',
         str(s['diverged']), f'{s["wall_time_s"] / 60:.1f}']) + ' |')
  return '\n'.join(lines) + '\n'


def training_curves(runs: list[ablation.Run]) -> dict[str, dict[str, dict]]:
  """``{variant: {metric: {step: [value per seed]}}}`` from the runs'
  metrics.jsonl, for the evaluated metrics and the two losses (NaN where
  a value is undefined, ``null`` in the file)."""
  curves: dict = {}
  for run in runs:
    path = os.path.join(run.workdir, 'metrics.jsonl')
    if not os.path.exists(path):
      continue
    with open(path) as f:
      for line in f:
        record = json.loads(line)
        for key, value in record.items():
          if key.startswith('eval/') or key in ('critic_loss',
                                                'generator_loss'):
            curves.setdefault(run.variant, {}).setdefault(
                key, {}).setdefault(record['step'], []).append(
                    float(strict_json.null_to_nan(value)))
  return curves


def write(workdir: str, runs: list[ablation.Run],
          wanted_metrics: tuple[str, ...] = ()) -> list[dict]:
  """Writes results.csv, results.md, metrics.png and curves.png in
  ``workdir``; returns the per-variant summaries."""
  rows = collect(runs)
  write_csv(os.path.join(workdir, 'results.csv'), rows)
  metrics = metric_names(rows, wanted_metrics)
  summaries = summarise(rows, metrics)
  finished = sum(s['finished'] for s in summaries)
  diverged = sum(s['diverged'] for s in summaries)
  text = (f'# Sweep results\n\n{finished} runs finished, {diverged} diverged, '
          f'{len(rows) - finished - diverged} pending, of {len(rows)}. '
          'Mean over the finished seeds ± half-width of the 95 % confidence '
          'interval (Student\'s t); diverged runs are counted, not '
          'averaged; "(k of n seeds)": the metric is undefined (NaN) for '
          'the other seeds, e.g. reverse KL with no sample near a mode. '
          'Wall time: of the finished and diverged runs.\n\n'
          + markdown_table(summaries, metrics))
  path = os.path.join(workdir, 'results.md')
  with open(_private_tmp(path), 'w') as f:
    f.write(text)
  os.replace(_private_tmp(path), path)
  plotting.save_metric_intervals(
      os.path.join(workdir, 'metrics.png'), summaries, metrics, rows)
  plotting.save_training_curves(os.path.join(workdir, 'curves.png'),
                                training_curves(runs))
  return summaries
