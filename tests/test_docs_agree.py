"""The figures the README, docs and config docstrings quote match their CSVs.

Every expected figure measured over seeds is quoted from a results.csv kept
in docs/reproduction_data/. Each claim below names the document, the CSVs,
the variant and the text the document must contain, with ``{metric}``
fields filled in from the CSVs by the project's own aggregation
(``gan_jax.sweep_results``: mean ± half-width of the 95 % interval,
Student's t, to the precision ``sweep_results.cell`` gives). A figure that
drifts from its CSV, or a CSV that changes under a figure, fails here.
Whitespace (line wrapping) is ignored. No training: reads files only.

Fields, for each metric ``m`` of the CSV:
  ``{m}``           mean ± interval over the finished seeds
  ``{m_pct}``       the same in percent
  ``{m_per_seed}``  the finished seeds' values in seed order, 3 significant
                    digits ("1, 1, 7"; "13.7, 12.9")
  ``{seeds}``       number of finished seeds
  ``{minutes}``     mean ± interval of the runs' wall time in minutes
  ``{collapsed}``   the seeds that ended on one mode or none ("0, 1 and 6")
"""

import os

import pytest

from gan_jax import config as config_lib
from gan_jax import sweep_results
from gan_jax import sweeps

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = 'docs/reproduction_data'
RING = [f'{DATA}/ring_tricks-2026-11-24.csv',
        f'{DATA}/ring_tricks-2026-11-25.csv']
# Seeds 0-2 of four_tricks, with the code of a51ee21 (a new float path).
RING_2026_12_07 = [f'{DATA}/ring_tricks-2026-12-07.csv']
DIGITS = [f'{DATA}/digits_seeds-2026-12-07.csv']
STACKED = [f'{DATA}/stacked_digits_tricks-{day}.csv'
           for day in ('2026-11-24', '2026-11-25', '2026-12-02', '2026-12-04',
                       '2026-12-06')]

# (document, CSVs, variant, text the document contains)
CLAIMS = [
    ('configs/ring8.py', RING, 'baseline',
     'modes {modes} (per seed, 0 to 9: {modes_per_seed}), high_quality '
     '{high_quality}, reverse_kl {reverse_kl}, {minutes} minutes a run'),
    ('README.md', RING, 'baseline', 'of its {seeds} measured seeds, '
     '{collapsed} ended on a single mode of the 8'),
    ('configs/ring8.py', RING_2026_12_07, 'four_tricks',
     'covered the 8 modes too: modes {modes} over {seeds} seeds, high_quality '
     '{high_quality} (per seed, 0 to 2: {high_quality_per_seed}), reverse_kl '
     '{reverse_kl}, {minutes} minutes a run'),
    ('README.md', RING_2026_12_07, 'four_tricks',
     '{seeds} of {seeds} on that EPYC, seed 0 included'),
    ('README.md', RING, 'baseline',
     '| ring8, no trick | {modes} | {high_quality_pct} | {reverse_kl} |'),
    ('docs/reproductions.md', RING, 'baseline',
     '| gan_jax `baseline` | {modes} | {high_quality_pct} | {reverse_kl} |'),
    ('README.md', RING, 'wgan_gp_toy_settings',
     '| ring8, `wgan_gp_toy_settings` | {modes} | {high_quality_pct} | '
     '{reverse_kl} |'),
    ('configs/stacked_digits.py', STACKED, 'baseline',
     '{modes} of the 1,000 modes (per seed, 0 to 4: {modes_per_seed}), '
     'reverse KL {reverse_kl},'),
    ('configs/stacked_digits.py', STACKED, 'baseline',
     '{minutes} minutes a run'),
    ('README.md', STACKED, 'baseline',
     '{modes} of 1,000 modes, reverse KL {reverse_kl} ({seeds} seeds'),
    ('configs/dcgan_digits.py', DIGITS, 'dcgan_digits',
     'over {seeds} seeds (``configs/sweeps/digits_seeds.py``, variant '
     '``dcgan_digits``; docs/reproduction_data/digits_seeds-2026-12-07.csv): '
     'fd {fd} (per seed, 0 to 4: {fd_per_seed}), kid_mean {kid_mean}, '
     'is_mean {is_mean}, precision {precision}, recall {recall}, coverage '
     '{coverage}, one_nn_accuracy {one_nn_accuracy}'),
    ('configs/dcgan_digits.py', DIGITS, 'dcgan_digits',
     '{minutes} minutes a run'),
    ('README.md', DIGITS, 'dcgan_digits',
     '5,000 steps in {minutes} minutes on a 2-core CPU shared with other '
     'jobs (mean ± 95 % interval over {seeds} seeds;'),
    ('README.md', DIGITS, 'dcgan_digits',
     'to `eval.json`: fd {fd} over those {seeds} seeds'),
    ('README.md', DIGITS, 'dcgan_digits',
     '2,000 samples vs the 1,797 digits: fd {fd}, kid_mean {kid_mean}, '
     'is_mean {is_mean}, precision {precision}, recall {recall}, coverage '
     '{coverage}, 1-NN {one_nn_accuracy}; 5,000 steps in {minutes} minutes'),
    ('README.md', DIGITS, 'dcgan_digits',
     'against {fd} over {seeds} seeds for `dcgan_digits.py`'),
    ('configs/conditional_digits.py', DIGITS, 'conditional_digits',
     'over {seeds} seeds (``configs/sweeps/digits_seeds.py``, variant '
     '``conditional_digits``; docs/reproduction_data/digits_seeds-2026-12-07'
     '.csv): is_mean {is_mean} (per seed, 0 to 4: {is_mean_per_seed}; real '
     'digits 9.19), precision {precision}, recall {recall}, fd {fd} (per '
     'seed, 0 to 4: {fd_per_seed}), kid_mean {kid_mean}, coverage '
     '{coverage}, one_nn_accuracy {one_nn_accuracy}'),
    ('configs/conditional_digits.py', DIGITS, 'conditional_digits',
     '{minutes} minutes a run'),
    ('README.md', DIGITS, 'conditional_digits',
     '| `conditional_digits.py` | {seeds} seeds (same sweep and CSV)'),
    ('README.md', DIGITS, 'conditional_digits',
     'is_mean {is_mean} (seeds 0 and 1 above real digits\' 9.19), precision '
     '{precision}, recall {recall}, fd {fd}:'),
    ('README.md', DIGITS, 'conditional_digits',
     '5,000 steps in {minutes} minutes |'),
]


def _number(value: float) -> str:
  return f'{value:.3g}'


def figures(csvs: list[str], variant: str) -> dict[str, str]:
  """The fields of ``variant`` over the merged ``csvs`` (see above)."""
  rows = sweep_results.merge(
      [sweep_results.read_csv(os.path.join(REPO, p)) for p in csvs])
  finished = sorted((r for r in rows
                     if r['name'] == variant and r['status'] == 'finished'),
                    key=lambda r: r['seed'])
  assert finished, f'{variant} has no finished seed in {csvs}'
  metrics = sweep_results.metric_names(finished)
  fields = {'seeds': str(len(finished))}
  for metric in metrics:
    values = [r.get(metric, float('nan')) for r in finished]
    for suffix, scale in (('', 1), ('_pct', 100)):
      scaled = [v * scale for v in values]
      mean, half_width = sweep_results.mean_and_interval(scaled)
      count = sum(v == v for v in scaled)
      fields[metric + suffix] = sweep_results.cell(
          mean, half_width, count, len(finished))
    fields[metric + '_per_seed'] = ', '.join(_number(v) for v in values)
  collapsed = [str(r['seed']) for r in finished if r.get('modes', 2) <= 1]
  fields['collapsed'] = ' and '.join(
      [', '.join(collapsed[:-1]), collapsed[-1]] if len(collapsed) > 1
      else collapsed)
  minutes = [r['wall_time_s'] / 60 for r in finished]
  fields['minutes'] = sweep_results.cell(
      *sweep_results.mean_and_interval(minutes), len(minutes), len(minutes))
  return fields


def _flat(text: str) -> str:
  return ' '.join(text.split())


@pytest.mark.parametrize(
    'document,csvs,variant,template', CLAIMS,
    ids=[f'{c[0]}:{c[2]}:{i}' for i, c in enumerate(CLAIMS)])
def test_quoted_figures_match_their_csv(document, csvs, variant, template):
  expected = _flat(template.format_map(figures(csvs, variant)))
  with open(os.path.join(REPO, document), encoding='utf-8') as f:
    text = _flat(f.read())
  assert expected in text, (
      f'{document} should say {expected!r} (computed from {", ".join(csvs)})')


def test_the_digits_sweep_runs_the_configs_it_is_quoted_for():
  """configs/sweeps/digits_seeds.py's variants are the two configs."""
  module = config_lib.load_module(
      os.path.join(REPO, 'configs/sweeps/digits_seeds.py'))
  base = module.get_config()
  for variant in module.get_sweep().variants:
    config = config_lib.load(os.path.join(REPO, f'configs/{variant.name}.py'))
    assert sweeps.run_config(base, variant, 0).to_dict() == config.to_dict()
