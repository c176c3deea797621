r"""Trains a GAN: ``python experiments/train.py [--config=configs/X.py] --workdir=DIR``.

Without ``--config`` it trains the default job, ``configs/dcgan_digits.py``.

Any config value can be overridden, e.g. ``--config.optim.d_lr=1e-4``
``--config.tricks=spectral_norm``. Re-running with the same workdir resumes
from its latest checkpoint. A bad config value is reported in one line with
exit status 2, before anything is written.
"""

import functools
import os
import sys

from absl import app
from absl import flags
from ml_collections import config_flags

from gan_jax import config as config_lib
from gan_jax import console
from gan_jax import train

_DEFAULT_CONFIG = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'configs', 'dcgan_digits.py')
_CONFIG = config_flags.DEFINE_config_file(
    'config', None, 'Path to a config file (configs/*.py); default: '
    'configs/dcgan_digits.py.', lock_config=True)
_WORKDIR = flags.DEFINE_string('workdir', None, 'Directory for all outputs.')
flags.mark_flags_as_required(['workdir'])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {" ".join(argv[1:])}')
  config = _CONFIG.value
  try:
    config_lib.validate(config)
  except config_lib.ConfigError as e:
    print(f'error: {e}', file=sys.stderr)
    sys.exit(2)
  console.quiet_library_logs()
  train.train_and_evaluate(config, _WORKDIR.value)


if __name__ == '__main__':
  app.run(main, flags_parser=functools.partial(
      console.parse_flags_or_exit, default_config=_DEFAULT_CONFIG))
