"""Console behaviour of the entry points: gan_jax's own lines, one-line errors.

orbax-checkpoint logs every save step by step at INFO, jax announces the
platforms it did not find, TFDS every dataset it looks for (with progress
bars), and a failing orbax read prints thousands of lines of tracebacks
from its threads. Once an entry point holds its workdir it calls
:func:`route_output`: from then on everything printed (Python and C++
logs, progress bars, tracebacks of other threads) goes to a log file in
the workdir, and the console shows gan_jax's own log lines and the
entry point's final ``error: ...`` line (:func:`error`). Library INFO
records are dropped everywhere (:func:`quiet_library_logs`); their
warnings go to the log file.
"""

import atexit
import datetime
import importlib.util
import logging
import os
import sys
import tempfile
import traceback
from typing import NoReturn

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


_OWN_DIRS = (os.path.dirname(os.path.abspath(__file__)),)
_console = None  # The terminal's stream, once output goes to a log file.
_pending = None  # The temporary log file in use, if any.
_log_start = []  # [path, size before this invocation] of the workdir's log.


def _is_own(record: logging.LogRecord) -> bool:
  """A record of gan_jax or of the running entry point, meant for the
  console (a record logged with ``extra={'console': False}`` is detail for
  the log file only)."""
  path = os.path.abspath(record.pathname)
  own = (path.startswith(_OWN_DIRS)
         or path == os.path.abspath(sys.argv[0]))
  return own and getattr(record, 'console', True)


class _ConsoleFilter(logging.Filter):

  def filter(self, record: logging.LogRecord) -> bool:
    return record.levelno >= logging.INFO and _is_own(record)


def route_output(log_path: str | None) -> None:
  """Sends everything printed from now on to ``log_path`` (appended); only
  gan_jax's own log lines still reach the console, and also the file.

  Redirects the process's file descriptors 1 and 2, so C++ logs and
  tracebacks printed by other threads or at exit land in the file too.
  ``None``: to a temporary file, before the entry point holds its workdir
  (data prepared while the config is validated prints a lot); the next
  call moves what it holds to the top of the workdir's log. A temporary
  file still in use at exit is removed.
  """
  global _console, _pending
  if _console is None:
    _console = os.fdopen(os.dup(2), 'w', buffering=1)
    handler = logging.StreamHandler(_console)
    handler.setFormatter(absl_logging.PythonFormatter())
    handler.addFilter(_ConsoleFilter())
    logging.getLogger().addHandler(handler)
    atexit.register(_remove_pending)
  sys.stdout.flush()
  sys.stderr.flush()
  held = _pending
  if log_path is None:
    fd, _pending = tempfile.mkstemp(prefix='gan_jax-', suffix='.log')
  else:
    fd, _pending = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                           0o644), None
    _log_start[:] = [log_path, os.fstat(fd).st_size]
  if held:  # It begins with this invocation's header.
    with open(held, 'rb') as f:
      os.write(fd, f.read())
    os.remove(held)
  else:
    now = datetime.datetime.now().astimezone().isoformat(timespec='seconds')
    os.write(fd, f'--- {now}, pid {os.getpid()}: {" ".join(sys.argv)}\n'
             .encode())
  os.dup2(fd, 1)
  os.dup2(fd, 2)
  os.close(fd)


def discard_log() -> None:
  """Takes back what this invocation appended to the workdir's log: a run
  refused as bad input leaves its workdir as it was (the error line is on
  the console)."""
  sys.stdout.flush()
  sys.stderr.flush()
  if _log_start and os.path.exists(_log_start[0]):  # Not removed with its
    os.truncate(*_log_start)  # new workdir (gan_jax.workdir_lock).


def _remove_pending() -> None:
  if _pending and os.path.exists(_pending):
    os.remove(_pending)


def define_flag() -> flags.FlagHolder:
  """The entry points' ``--show_library_output`` flag."""
  return flags.DEFINE_bool(
      'show_library_output', False, 'Print what libraries print (their '
      'logs, progress bars and tracebacks) on the console, not only into the '
      'log file in the workdir.')


def exit_on_unexpected(e: Exception, log_path: str) -> NoReturn:
  """Ends an entry point on an error that is not the user's (a bug, a
  full disk): the traceback into the log file, one line on the console,
  exit status 1. Without routed output the traceback is shown as usual."""
  global _pending
  if _console is None:
    raise e
  traceback.print_exc()  # Into the log file.
  log_path, _pending = _pending or log_path, None  # Kept, to be read.
  error(f'{type(e).__name__}: {e} (the traceback is in {log_path})')
  sys.exit(1)


def error(message: str) -> None:
  """Prints ``error: message``, the last line of a failing entry point, on
  the console (and into the log file when output is routed)."""
  line = f'error: {message}'
  print(line, file=sys.stderr, flush=True)
  if _console is not None:
    print(line, file=_console, flush=True)


def _unknown_config_override(argv: list[str], config_flag: str) -> str | None:
  """Describes the first ``--config.a.b=v`` in ``argv`` naming a missing key.

  absl leaves the flag's value unset when an override fails, so the config
  file is loaded again here to look the keys up.
  """
  files = [a.split('=', 1)[1] for a in argv
           if a.startswith(f'--{config_flag}=')]
  if not files:
    return None
  spec = importlib.util.spec_from_file_location('_config',
                                                files[-1].split(':')[0])
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
        node = (config_flags.config_path.get_value(parent, config) if parent
                else config)
        allowed = (f'; allowed under {parent or "config"}: '
                   + ', '.join(sorted(node.keys())))
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
