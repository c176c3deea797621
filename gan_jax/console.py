"""Console logging for the entry points: our progress lines, not library chatter.

orbax-checkpoint logs every save step by step at INFO, and jax announces the
platforms it did not find; both drown the progress lines. Their warnings and
errors still come through.
"""

import logging

_CHATTY_PACKAGES = ('/orbax/', '/jax/_src/')


class _DropLibraryInfo(logging.Filter):

  def filter(self, record: logging.LogRecord) -> bool:
    return (record.levelno >= logging.WARNING
            or not any(p in record.pathname for p in _CHATTY_PACKAGES))


def quiet_library_logs() -> None:
  """Drops INFO records of orbax and jax from absl's log handler."""
  from absl import logging as absl_logging  # pylint: disable=g-import-not-at-top
  handler = absl_logging.get_absl_handler()
  if not any(isinstance(f, _DropLibraryInfo) for f in handler.filters):
    handler.addFilter(_DropLibraryInfo())


def _unknown_config_override(argv: list[str], config_flag: str) -> str | None:
  """The first ``--config.a.b=v`` in ``argv`` whose key the config lacks."""
  # pylint: disable=g-import-not-at-top
  from absl import flags
  from ml_collections import config_flags
  config = flags.FLAGS[config_flag].value
  for arg in argv[1:]:
    prefix = f'--{config_flag}.'
    if not arg.startswith(prefix):
      continue
    path = arg[len(prefix):].split('=', 1)[0]
    try:
      config_flags.config_path.get_value(path, config)  # pytype: disable=module-attr
    except (AttributeError, KeyError, IndexError):
      return path
  return None


def parse_flags_or_exit(argv: list[str], config_flag: str = 'config') -> list[str]:
  """absl flag parsing that reports bad flags in one line and exits with 2.

  Covers a missing or broken config file, an override of a key the config
  does not have, and a value of the wrong type; all before any work.
  """
  # pylint: disable=g-import-not-at-top
  import sys
  from absl import flags
  try:
    remaining = flags.FLAGS(argv)
    flags.FLAGS[config_flag].value.keys()  # Raises if the file did not load.
    return remaining
  except (flags.Error, AttributeError, KeyError, OSError, TypeError,
          ValueError) as e:
    message = ' '.join(str(e).split())
    if isinstance(e, OSError):
      reason = [line.strip() for line in str(e).splitlines() if line.strip()]
      message = f'cannot load the config file: {reason[-1]}'
    if isinstance(e, (AttributeError, KeyError)):
      path = None
      try:
        path = _unknown_config_override(argv, config_flag)
      except Exception:  # pylint: disable=broad-except
        pass  # The config itself failed to load; report the original error.
      if path:
        message = f'unknown config key {path!r} (--{config_flag}.{path})'
    print(f'error: {message}', file=sys.stderr)
    sys.exit(2)
