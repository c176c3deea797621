r"""Trains a GAN: ``python experiments/train.py [--config=configs/X.py]
--workdir=DIR``.

Without ``--config`` it trains the default job, ``configs/dcgan_digits.py``.

Any config value can be overridden, e.g. ``--config.optim.d_lr=1e-4``
``--config.tricks=spectral_norm``. Re-running with the same workdir resumes
from its latest checkpoint, onto the trajectory of an uninterrupted run.

The run holds DIR exclusively while it runs (DIR/run.lock). The console
shows gan_jax's own lines; everything libraries print goes to DIR/train.log
(``--show_library_output`` prints it on the console too).

Exit status: 0 when done, and on SIGTERM / SIGINT after saving a checkpoint
("preempted at step N, checkpoint saved"); 2 for bad input (a config value,
a workdir holding a run of another config, or a workdir another run is
using), reported in one line before anything is written; 3 when training
diverged ("diverged at step N: ...", also in DIR/diverged.json), with no
checkpoint of the diverged state; 1 for an unexpected error (one line; the
traceback in DIR/train.log).

On one host the run uses every local device (``--config.parallel``). On
several hosts, start the same command on each with ``--coordinator_address``
(host:port of process 0), ``--num_processes`` and ``--process_id``; on a
Cloud TPU pod leave them out (``jax.distributed`` finds the slice) and use
``experiments/launch_tpu_pod.sh``.
"""

import functools
import os
import sys

from absl import app
from absl import flags
from absl import logging
import jax
from ml_collections import config_flags

from gan_jax import compilation_cache
from gan_jax import config as config_lib
from gan_jax import console
from gan_jax import parallel
from gan_jax import preemption
from gan_jax import train
from gan_jax import workdir_lock
from gan_jax import xla_cpu

_DEFAULT_CONFIG = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'configs', 'dcgan_digits.py')
_CONFIG = config_flags.DEFINE_config_file(
    'config', None, 'Path to a config file (configs/*.py); default: '
    'configs/dcgan_digits.py.', lock_config=True)
_WORKDIR = flags.DEFINE_string('workdir', None, 'Directory for all outputs.')
_COORDINATOR = flags.DEFINE_string(
    'coordinator_address', None, 'Multi-process runs: host:port of process '
    '0, reachable from every process (jax.distributed).')
_NUM_PROCESSES = flags.DEFINE_integer(
    'num_processes', None, 'Multi-process runs: how many processes.')
_PROCESS_ID = flags.DEFINE_integer(
    'process_id', None, 'Multi-process runs: this process, 0 to '
    'num_processes - 1.')
_COMPILATION_CACHE = compilation_cache.define_flag()
_CPU_TUNING = xla_cpu.define_flag()
_SHOW_LIBRARY_OUTPUT = console.define_flag()
flags.mark_flags_as_required(['workdir'])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {" ".join(argv[1:])}')
  console.quiet_library_logs()
  if not _SHOW_LIBRARY_OUTPUT.value:
    console.route_output(None)  # Until the workdir is held.
  try:
    _train(_CONFIG.value, _WORKDIR.value)
  except config_lib.ConfigError as e:
    console.error(str(e))
    console.discard_log()
    sys.exit(2)
  except train.Diverged as e:
    console.error(str(e))
    sys.exit(3)
  except preemption.Preempted as e:
    logging.info('%s', e)
  except Exception as e:  # pylint: disable=broad-except
    console.exit_on_unexpected(e, _log_path(_WORKDIR.value))


def _log_path(workdir: str) -> str:
  """This process's log file in the workdir."""
  process = jax.process_index()
  return os.path.join(workdir, f'train.process_{process}.log' if process
                      else 'train.log')


def _train(config, workdir: str) -> None:
  """Validates, holds the workdir, trains."""
  try:
    parallel.initialize_distributed(_COORDINATOR.value, _NUM_PROCESSES.value,
                                    _PROCESS_ID.value)
    config_lib.validate(config)
  except ValueError as e:  # initialize_distributed's bad flag values.
    raise config_lib.ConfigError(str(e)) from e
  compilation_cache.enable(_COMPILATION_CACHE.value)
  xla_cpu.apply(_CPU_TUNING.value)
  log_path = _log_path(workdir)
  with workdir_lock.hold(workdir, disposable=(os.path.basename(log_path),)):
    if not _SHOW_LIBRARY_OUTPUT.value:
      console.route_output(log_path)
    train.train_and_evaluate(config, workdir)


if __name__ == '__main__':
  app.run(main, flags_parser=functools.partial(
      console.parse_flags_or_exit, default_config=_DEFAULT_CONFIG))
