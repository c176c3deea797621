r"""Runs an ablation sweep and aggregates it with confidence intervals.

  python experiments/ablate.py --sweep=configs/sweeps/ring_tricks.py \
      --workdir=/tmp/sweeps/ring [--seeds=10] [--vmap_seeds=true] \
      [--config.num_train_steps=5000 ...]

The sweep file's ``get_config()`` is the base experiment, its
``get_sweep()`` the variants and seeds (:mod:`gan_jax.sweeps`);
``--config.KEY=VALUE`` overrides apply to every run, after the variants'
own values. Run ``k`` of a variant is an ordinary run in
``WORKDIR/<variant>/seed_<seed>/`` (``seed`` = the base seed + k), so it can
be inspected, evaluated and resumed alone. Re-running trains only what is
not finished; a stopped sweep continues where it stopped (``--seeds`` can
grow a finished sweep; ``--variants=a,b`` trains only those, to spread a
sweep over several sessions or machines). Several processes may run the
same command on one workdir at once (one per core): each run is trained by
one of them, the others skip it (``gan_jax.ablation.claim``).
``--aggregate_only`` rewrites the results without training.

Writes ``WORKDIR/results.csv`` (one row per run), ``results.md`` (mean ±
95 % interval per variant), ``metrics.png`` and ``curves.png``.

The console shows gan_jax's own lines; everything libraries print goes to
WORKDIR/ablate.log (``--show_library_output`` prints it on the console too).
Compiled programs are kept for the next run (``--compilation_cache_dir``).

Exit status: 0 when done, also after SIGTERM / SIGINT (the runs under way
saved a checkpoint); 2 for bad input, in one line before any training (or a
run's workdir in use by a process outside the sweep); 1 for an unexpected
error (one line; the traceback in WORKDIR/ablate.log).
"""

import dataclasses
import os
import sys

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from gan_jax import ablation
from gan_jax import compilation_cache
from gan_jax import config as config_lib
from gan_jax import console
from gan_jax import preemption
from gan_jax import sweep_results
from gan_jax import xla_cpu

_SWEEP = flags.DEFINE_string('sweep', None, 'A sweep file '
                             '(configs/sweeps/*.py).')
# The sweep file is also the config file: its get_config() is the base,
# and --config.KEY=VALUE overrides parse against it.
_CONFIG = config_flags.DEFINE_config_file(
    'config', None, 'Set by --sweep; use --config.KEY=VALUE for overrides.',
    lock_config=True)
_WORKDIR = flags.DEFINE_string('workdir', None, 'Directory of the sweep.')
_SEEDS = flags.DEFINE_integer('seeds', None, 'Seeds per variant (default: '
                              'the sweep\'s).')
_VMAP = flags.DEFINE_bool('vmap_seeds', None, 'Train a variant\'s seeds as '
                          'one vmapped computation (default: the sweep\'s; '
                          'if it says nothing, on accelerators only).')
_VARIANTS = flags.DEFINE_list('variants', None, 'Train only these variants '
                              '(default: all); the results list every run.')
_AGGREGATE_ONLY = flags.DEFINE_bool('aggregate_only', False,
                                    'Write the results of what has run; '
                                    'train nothing.')
_COMPILATION_CACHE = compilation_cache.define_flag()
_CPU_TUNING = xla_cpu.define_flag()
_SHOW_LIBRARY_OUTPUT = console.define_flag()
flags.mark_flags_as_required(['sweep', 'workdir'])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {" ".join(argv[1:])}')
  console.quiet_library_logs()
  workdir = _WORKDIR.value
  if not _SHOW_LIBRARY_OUTPUT.value:
    console.route_output(None)  # Until the sweep's directory exists.
  try:
    module = config_lib.load_module(_SWEEP.value)
    if not hasattr(module, 'get_sweep'):
      raise config_lib.ConfigError(
          f'--sweep={_SWEEP.value} has no get_sweep(); a sweep file defines '
          'get_config() (the base) and get_sweep() (see gan_jax/sweeps.py)')
    sweep = module.get_sweep()
    if _SEEDS.value is not None and _SEEDS.value <= 0:
      raise config_lib.ConfigError(
          f'--seeds={_SEEDS.value}; allowed: a positive number of seeds')
    for name, flag in (('seeds', _SEEDS), ('vmap_seeds', _VMAP)):
      if flag.value is not None:
        sweep = dataclasses.replace(sweep, **{name: flag.value})
    # The --config.KEY=VALUE overrides (also --noconfig.KEY, flagfiles).
    overrides = config_flags.get_override_values(flags.FLAGS['config'])
    runs = ablation.plan(_CONFIG.value, sweep, workdir, overrides)
    unknown = sorted(set(_VARIANTS.value or ()) - {r.variant for r in runs})
    if unknown:
      raise config_lib.ConfigError(
          f'--variants: unknown {", ".join(unknown)}; allowed: '
          f'{", ".join(v.name for v in sweep.variants)}')
  except config_lib.ConfigError as e:
    console.error(str(e))
    sys.exit(2)
  os.makedirs(workdir, exist_ok=True)
  compilation_cache.enable(_COMPILATION_CACHE.value)
  xla_cpu.apply(_CPU_TUNING.value)
  log_path = os.path.join(workdir, 'ablate.log')
  if not _SHOW_LIBRARY_OUTPUT.value:
    console.route_output(log_path)
  try:
    if not _AGGREGATE_ONLY.value:
      ablation.train_pending(
          [r for r in runs if r.variant in (_VARIANTS.value or [r.variant])],
          ablation.vmap_seeds(sweep))
  except config_lib.ConfigError as e:
    console.error(str(e))
    sys.exit(2)
  except preemption.Preempted as e:
    logging.info('%s', e)
  except Exception as e:  # pylint: disable=broad-except
    console.exit_on_unexpected(e, log_path)
  finally:
    sweep_results.write(workdir, runs, sweep.metrics)
    logging.info('results: %s', os.path.join(workdir, 'results.md'))


def _parse(argv: list[str]) -> list[str]:
  """``--sweep=FILE`` is also the config file (see ``_CONFIG``)."""
  if any(a == '--config' or a.startswith('--config=') for a in argv[1:]):
    print('error: ablate.py takes --sweep=FILE, not --config=FILE (use '
          '--config.KEY=VALUE to override a value)', file=sys.stderr)
    sys.exit(2)
  sweep = [a.split('=', 1)[1] for a in argv[1:] if a.startswith('--sweep=')]
  return console.parse_flags_or_exit(
      argv, default_config=sweep[-1] if sweep else None)


if __name__ == '__main__':
  app.run(main, flags_parser=_parse)
