r"""The tables of docs/reproductions.md: sweep results beside published ones.

  python experiments/reproduction_tables.py \
      --ring=/tmp/sweeps/ring_tricks --grid=/tmp/sweeps/grid_tricks \
      --stacked=/tmp/sweeps/stacked_digits_tricks

Reads each sweep's ``results.csv`` (written by experiments/ablate.py, which
lists every planned run, pending ones included; several per sweep, comma
separated, are merged: a sweep run in parts on several machines, or the
copies kept in docs/reproduction_data/) and prints two markdown
tables: the 2-D mixtures (ring of 8, grid of 25) and stacked digits. Each
cell is the mean over the finished seeds ± the half-width of its 95 %
interval (Student's t), as in ``results.md``; a variant with no finished
seed says "not run", never a number. The published rows
(``PUBLISHED_MIXTURES``, ``PUBLISHED_STACKED``) are the papers' own
numbers, each with the paper and table it comes from.
"""

import os
import sys

from absl import app
from absl import flags

from gan_jax import sweep_results
from gan_jax import sweeps

_RESULTS_HELP = ('Results of configs/sweeps/{}.py: sweep workdirs and/or '
                 'results.csv files (e.g. docs/reproduction_data/*.csv), '
                 'merged.')
_RING = flags.DEFINE_list('ring', None, _RESULTS_HELP.format('ring_tricks'))
_GRID = flags.DEFINE_list('grid', None, _RESULTS_HELP.format('grid_tricks'))
_STACKED = flags.DEFINE_list('stacked', None,
                             _RESULTS_HELP.format('stacked_digits_tricks'))

# (model and source, ring modes, ring HQ %, grid modes, grid HQ %); None
# where the paper reports no figure. High quality = within 3 std of a mean.
PUBLISHED_MIXTURES = (
    ('GAN (VEEGAN, Srivastava et al. 2017, Table 1)', '1', '99.3', '3.3',
     '0.5'),
    ('Unrolled GAN (VEEGAN Table 1)', '7.6', '35.6', '23.6', '16'),
    ('VEEGAN (Srivastava et al. 2017, Table 1)', '8', '52.9', '24.6', '40'),
    ('WGAN-GP (GDPP, Elfeki et al. 2019, Table 1)', '6.8', '59.6', '24.2',
     '28.7'),
    ('GDPP-GAN (Elfeki et al. 2019, Table 1)', '8.0', '71.7', '24.8', '68.5'),
    ('PacGAN4 (Lin et al. 2018, own architecture, 10 trials)', '7.8 ± 0.1',
     '95.9 ± 1.4', '24.8 ± 0.2', '93.6 ± 0.6'),
)
# (model and source, modes of 1,000, reverse KL to uniform).
PUBLISHED_STACKED = (
    ('DCGAN (VEEGAN, Srivastava et al. 2017, Table 2)', '99', '3.4'),
    ('PacDCGAN2 (Lin et al. 2018, Table 3)', '1000', '0.06'),
    ('WGAN-GP (GDPP, Elfeki et al. 2019, Table 2)', '995', '0.148'),
    ('GDPP-GAN (Elfeki et al. 2019, Table 2)', '1000', '0.135'),
)
_NOT_REPORTED = '–'
_MIXTURE_METRICS = sweeps.MIXTURE_METRICS


def summaries(sources: list[str] | None, metrics: tuple[str, ...],
              percent: tuple[str, ...] = ()) -> dict[str, dict]:
  """``{variant: summary}`` of the merged rows of ``sources`` (sweep
  workdirs or results.csv files; empty if None); the ``percent`` metrics,
  fractions in the CSV, scaled to %."""
  row_lists = []
  for source in sources or ():
    if source.endswith('.csv'):
      path, hint = source, ''
    else:
      path = os.path.join(source, 'results.csv')
      hint = f'; run experiments/ablate.py with --workdir={source} first'
    if not os.path.exists(path):
      raise FileNotFoundError(f'{path} does not exist{hint}')
    row_lists.append(sweep_results.read_csv(path))
  rows = sweep_results.merge(row_lists)
  for row in rows:
    for metric in percent:
      if metric in row:
        row[metric] *= 100
  return {s['name']: s for s in sweep_results.summarise(rows, list(metrics))}


def measured_cells(summary: dict | None, metrics: tuple[str, ...]
                   ) -> list[str]:
  """The metrics' cells of one variant, "not run" without finished seeds."""
  if summary is None or not summary['finished']:
    return ['not run'] * len(metrics)
  return [sweep_results.cell(*summary['metrics'][m], summary['finished'])
          for m in metrics]


def seeds_cell(summary: dict | None) -> str:
  if summary is None:
    return '0'
  text = f'{summary["finished"]}/{summary["planned"]}'
  if summary['diverged']:
    text += f' ({summary["diverged"]} diverged)'
  return text


def minutes_per_run(summary: dict | None) -> str:
  """Mean wall time of the finished and diverged runs with a known time."""
  if not summary or not summary['timed_runs']:
    return _NOT_REPORTED
  return f'{summary["wall_time_s"] / 60 / summary["timed_runs"]:.1f}'


def table(header: list[str], rows: list[list[str]]) -> str:
  lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
  lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
  return '\n'.join(lines) + '\n'


def mixtures_table(ring: dict[str, dict], grid: dict[str, dict]) -> str:
  metrics = _MIXTURE_METRICS
  header = ['model', 'ring modes /8', 'ring HQ %', 'ring reverse KL',
            'grid modes /25', 'grid HQ %', 'grid reverse KL',
            'seeds ring; grid', 'min per run ring; grid']
  rows = [[name, ring_modes, ring_hq, _NOT_REPORTED, grid_modes, grid_hq,
           _NOT_REPORTED, _NOT_REPORTED, _NOT_REPORTED]
          for name, ring_modes, ring_hq, grid_modes, grid_hq
          in PUBLISHED_MIXTURES]
  for variant in dict.fromkeys([*ring, *grid]):
    rows.append([f'gan_jax `{variant}`',
                 *measured_cells(ring.get(variant), metrics),
                 *measured_cells(grid.get(variant), metrics),
                 f'{seeds_cell(ring.get(variant))}; '
                 f'{seeds_cell(grid.get(variant))}',
                 f'{minutes_per_run(ring.get(variant))}; '
                 f'{minutes_per_run(grid.get(variant))}'])
  return table(header, rows)


def stacked_table(stacked: dict[str, dict]) -> str:
  metrics = ('modes', 'reverse_kl')
  header = ['model', 'modes /1000', 'reverse KL', 'seeds', 'min per run']
  rows = [[*published, _NOT_REPORTED, _NOT_REPORTED]
          for published in PUBLISHED_STACKED]
  for variant, summary in stacked.items():
    rows.append([f'gan_jax `{variant}`', *measured_cells(summary, metrics),
                 seeds_cell(summary), minutes_per_run(summary)])
  return table(header, rows)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {" ".join(argv[1:])}')
  if not (_RING.value or _GRID.value or _STACKED.value):
    print('error: give --ring, --grid and/or --stacked', file=sys.stderr)
    sys.exit(2)
  try:
    ring = summaries(_RING.value, _MIXTURE_METRICS, percent=('high_quality',))
    grid = summaries(_GRID.value, _MIXTURE_METRICS, percent=('high_quality',))
    stacked = summaries(_STACKED.value, ('modes', 'reverse_kl'))
  except (FileNotFoundError, ValueError) as e:
    print(f'error: {e}', file=sys.stderr)
    sys.exit(2)
  if ring or grid:
    print('### 2-D mixtures\n\n' + mixtures_table(ring, grid))
  if stacked:
    print('### Stacked digits\n\n' + stacked_table(stacked))


if __name__ == '__main__':
  app.run(main)
