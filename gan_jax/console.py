"""Console behaviour of the entry points: quiet library logs, one-line flag errors.

orbax-checkpoint logs every save step by step at INFO, jax announces the
platforms it did not find and TFDS every dataset it looks for; they drown the
progress lines. Their warnings and errors still come through.
"""

import importlib.util
import logging
import sys

from absl import flags
from absl import logging as absl_logging
from ml_collections import config_flags

_CHATTY_PACKAGES = ('/orbax/', '/jax/_src/', '/tensorflow_datasets/')


class _DropLibraryInfo(logging.Filter):

  def filter(self, record: logging.LogRecord) -> bool:
    return (record.levelno >= logging.WARNING
            or not any(p in record.pathname for p in _CHATTY_PACKAGES))


def quiet_library_logs() -> None:
  """Drops INFO records of orbax and jax from absl's log handler."""
  handler = absl_logging.get_absl_handler()
  if not any(isinstance(f, _DropLibraryInfo) for f in handler.filters):
    handler.addFilter(_DropLibraryInfo())


def _unknown_config_override(argv: list[str], config_flag: str) -> str | None:
  """Describes the first ``--config.a.b=v`` in ``argv`` naming a missing key.

  absl leaves the flag's value unset when an override fails, so the config
  file is loaded again here to look the keys up.
  """
  files = [a.split('=', 1)[1] for a in argv if a.startswith(f'--{config_flag}=')]
  if not files:
    return None
  spec = importlib.util.spec_from_file_location('_config', files[-1].split(':')[0])
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  config = module.get_config()
  prefix = f'--{config_flag}.'
  for arg in argv[1:]:
    if not arg.startswith(prefix):
      continue
    path = arg[len(prefix):].split('=', 1)[0]
    try:
      config_flags.config_path.get_value(path, config)
    except (AttributeError, KeyError, IndexError):
      parent, _, _ = path.rpartition('.')
      try:
        node = config_flags.config_path.get_value(parent, config) if parent else config
        allowed = f'; allowed under {parent or "config"}: ' + ', '.join(sorted(node.keys()))
      except (AttributeError, KeyError, IndexError):
        allowed = ''
      return f'unknown config key {path!r} (--{config_flag}.{path}){allowed}'
  return None


def parse_flags_or_exit(argv: list[str], config_flag: str | None = 'config',
                        default_config: str | None = None) -> list[str]:
  """absl flag parsing that reports bad flags in one line and exits with 2.

  Covers a missing or broken config file, an override of a key the config
  does not have, and a value of the wrong type; all before any work
  (``config_flag=None``: a program without a config flag). Without
  ``--config=FILE`` on the command line, ``default_config`` is used (given
  here rather than as the flag's default, which ml_collections would load,
  overrides included, at import time, outside this error handling).
  """
  if default_config and not any(
      a == f'--{config_flag}' or a.startswith(f'--{config_flag}=')
      for a in argv[1:]):
    argv = [argv[0], f'--{config_flag}={default_config}', *argv[1:]]
  try:
    remaining = flags.FLAGS(argv)
    if config_flag:
      flags.FLAGS[config_flag].value.keys()  # Raises if the file did not load.
    return remaining
  except (flags.Error, AttributeError, KeyError, OSError, TypeError,
          ValueError) as e:
    message = ' '.join(str(e).split())
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    if 'Traceback' in str(e) and lines[-1].startswith('gan_jax.config.'
                                                      'ConfigError'):
      # The config file's own check: its message, without the traceback.
      message = lines[-1].split(': ', 1)[1]
    if isinstance(e, OSError):
      reason = [line.strip() for line in str(e).splitlines() if line.strip()]
      message = f'cannot load the config file: {reason[-1]}'
    if isinstance(e, (AttributeError, KeyError)):
      try:
        message = _unknown_config_override(argv, config_flag) or message
      except Exception:  # pylint: disable=broad-except
        pass  # The config file itself fails: report the original error.
    print(f'error: {message}', file=sys.stderr)
    sys.exit(2)
