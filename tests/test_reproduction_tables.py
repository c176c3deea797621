"""experiments/reproduction_tables.py: sweep results beside published ones."""

import contextlib
import importlib.util
import io
import os
import subprocess
import sys

from absl import flags

from gan_jax import sweep_results

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(REPO, 'experiments', 'reproduction_tables.py')

_spec = importlib.util.spec_from_file_location('reproduction_tables', SCRIPT)
reproduction_tables = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reproduction_tables)


def _tables(*args) -> subprocess.CompletedProcess:
  """The script's main with these flags, in this process (a process of its
  own costs seconds of imports; test_missing_results_is_one_line_error
  runs one): its exit status, stdout and stderr."""
  flags.FLAGS.unparse_flags()
  argv = flags.FLAGS(['reproduction_tables.py', *args], known_only=True)
  stdout, stderr, code = io.StringIO(), io.StringIO(), 0
  with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
    try:
      reproduction_tables.main(argv)
    except SystemExit as e:
      code = e.code
  return subprocess.CompletedProcess(args, code, stdout.getvalue(),
                                     stderr.getvalue())


def test_measured_cells_beside_published_and_nothing_unmeasured(tmp_path):
  rows = [
      {'name': 'baseline', 'seed': 0, 'status': 'finished', 'modes': 6.0,
       'high_quality': 0.5, 'reverse_kl': 0.1, 'wall_time_s': 60.0},
      {'name': 'baseline', 'seed': 1, 'status': 'finished', 'modes': 8.0,
       'high_quality': 0.7, 'reverse_kl': float('nan'), 'wall_time_s': 60.0},
      {'name': 'hinge', 'seed': 0, 'status': 'pending', 'wall_time_s': None},
      {'name': 'hinge', 'seed': 1, 'status': 'diverged',
       'diverged_at_step': 100, 'wall_time_s': 30.0},
      # No sample high quality on any seed; one run's time unknown.
      {'name': 'minimax', 'seed': 0, 'status': 'finished', 'modes': 0.0,
       'high_quality': 0.0, 'reverse_kl': float('nan'), 'wall_time_s': 120.0},
      {'name': 'minimax', 'seed': 1, 'status': 'finished', 'modes': 0.0,
       'high_quality': 0.0, 'reverse_kl': float('nan'), 'wall_time_s': None}]
  (tmp_path / 'ring').mkdir()
  sweep_results.write_csv(str(tmp_path / 'ring' / 'results.csv'), rows)
  result = _tables(f'--ring={tmp_path / "ring"}')
  assert result.returncode == 0, result.stderr
  lines = result.stdout.splitlines()
  assert ('| PacGAN4 (Lin et al. 2018, own architecture, 10 trials) | '
          '7.8 ± 0.1 | 95.9 ± 1.4 | – | 24.8 ± 0.2 | 93.6 ± 0.6 |') in (
              result.stdout)
  # Two seeds: t(0.975, 1) = 12.706 times the standard error; high quality
  # as a percentage; reverse KL is defined for one seed of two; no grid.
  assert ('| gan_jax `baseline` | 7 ± 13 | 60 ± 127 | '
          '0.100 (1 of 2 seeds) | not run | not run | not run | 2/2; 0 | '
          '1.0; – |') in lines
  assert ('| gan_jax `hinge` | not run | not run | not run | not run | '
          'not run | not run | 0/2 (1 diverged); 0 | 0.5; – |') in lines
  assert ('| gan_jax `minimax` | 0.000 ± 0.000 | 0.000 ± 0.000 | '
          'undefined (0 of 2 seeds) | not run | not run | not run | 2/2; 0 | '
          '2.0; – |') in lines
  assert 'Stacked digits' not in result.stdout


def test_missing_results_is_one_line_error(tmp_path):
  result = subprocess.run([sys.executable, SCRIPT, f'--stacked={tmp_path}'],
                          cwd=REPO, capture_output=True, text=True,
                          timeout=300)
  assert result.returncode == 2
  assert result.stderr.strip() == (
      f'error: {tmp_path}/results.csv does not exist; run experiments/'
      f'ablate.py with --workdir={tmp_path} first')
  assert _tables().stderr.strip() == (
      'error: give --ring, --grid and/or --stacked')


def _row(seed, status, modes=None):
  row = {'name': 'baseline', 'seed': seed, 'status': status,
         'wall_time_s': None if status == 'pending' else 60.0}
  if modes is not None:
    row.update(modes=modes, high_quality=0.5, reverse_kl=0.1)
  return row


def test_results_of_several_machines_are_merged(tmp_path):
  # Each machine's results.csv lists both seeds and finished one of them.
  sweep_results.write_csv(str(tmp_path / 'a.csv'),
                          [_row(0, 'finished', 6.0), _row(1, 'pending')])
  (tmp_path / 'b').mkdir()
  sweep_results.write_csv(str(tmp_path / 'b' / 'results.csv'),
                          [_row(0, 'pending'), _row(1, 'finished', 8.0)])
  result = _tables(f'--ring={tmp_path / "a.csv"},{tmp_path / "b"}')
  assert result.returncode == 0, result.stderr
  assert ('| gan_jax `baseline` | 7 ± 13 | 50.0 ± 0.0 | 0.100 ± 0.000 | '
          'not run | not run | not run | 2/2; 0 | 1.0; – |') in result.stdout


def test_a_seed_measured_twice_is_one_line_error(tmp_path):
  for name in ('a.csv', 'b.csv'):
    sweep_results.write_csv(str(tmp_path / name), [_row(0, 'finished', 6.0)])
  result = _tables(f'--ring={tmp_path / "a.csv"},{tmp_path / "b.csv"}')
  assert result.returncode == 2
  assert result.stderr.strip() == ('error: variant baseline seed 0 ran in '
                                   'two of the results given; keep one of '
                                   'them')
  missing = tmp_path / 'c.csv'
  assert _tables(f'--grid={missing}').stderr.strip() == (
      f'error: {missing} does not exist')
