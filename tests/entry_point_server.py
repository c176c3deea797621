"""Runs entry-point command lines in processes forked from this one.

A test of what ``python experiments/train.py ...`` does with a mistyped
input (one line, exit 2, nothing written) spends three CPU-seconds
importing jax, orbax and TFDS for a few milliseconds of work. This server
imports those once; each command line then runs in a child forked from it,
as the script's ``__main__`` with its own ``sys.argv``, working directory,
environment, stdout and stderr, and exits with the script's status. The
children share only the imported modules: nothing has run in this process
that a fresh one would not have run before the script's first line.
What importing itself prints is not seen here: tests of each entry point
keep a run in a fresh process too.

Protocol: one JSON request a line on stdin, ``{"argv": [script, *args],
"cwd": ..., "timeout": seconds}``; one JSON reply a line on stdout,
``{"returncode": ..., "stdout": ..., "stderr": ...}``. A child past its
timeout is killed (returncode -9). The children have the server's
environment. tests/conftest.py starts one server per test process (the
``entry_point`` fixture).
"""

import json
import os
import runpy
import signal
import sys
import tempfile
import time

# What the entry points import (experiments/*.py), so that the children
# find them loaded.
from absl import app  # noqa: F401
from absl import flags  # noqa: F401
from absl import logging  # noqa: F401
import jax  # noqa: F401
from ml_collections import config_flags  # noqa: F401

from gan_jax import ablation  # noqa: F401
from gan_jax import checkpoint  # noqa: F401
from gan_jax import compilation_cache  # noqa: F401
from gan_jax import config as config_lib  # noqa: F401
from gan_jax import console  # noqa: F401
from gan_jax import evaluation  # noqa: F401
from gan_jax import parallel  # noqa: F401
from gan_jax import preemption  # noqa: F401
from gan_jax import strict_json  # noqa: F401
from gan_jax import sweep_results  # noqa: F401
from gan_jax import train  # noqa: F401
from gan_jax import workdir_lock  # noqa: F401


def _child(argv, cwd, stdout, stderr):
  """The script as ``python argv[0] argv[1:]`` would run it; never returns."""
  code = 1
  try:
    os.chdir(cwd)
    os.dup2(stdout.fileno(), 1)
    os.dup2(stderr.fileno(), 2)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # Not the server's requests.
    sys.argv = list(argv)
    sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))
    try:
      runpy.run_path(argv[0], run_name='__main__')
      code = 0
    except SystemExit as e:
      if e.code is None:
        code = 0
      elif isinstance(e.code, int):
        code = e.code
      else:
        print(e.code, file=sys.stderr)
        code = 1
  except BaseException:  # pylint: disable=broad-except
    import traceback  # pylint: disable=g-import-not-at-top
    traceback.print_exc()
    code = 1
  finally:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # pylint: disable=protected-access


def run(request):
  """Forks a child for one request; waits for it; returns the reply."""
  with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
    pid = os.fork()
    if pid == 0:
      _child(request['argv'], request['cwd'], stdout, stderr)
    deadline = time.monotonic() + request.get('timeout', 300)
    while True:
      done, status = os.waitpid(pid, os.WNOHANG)
      if done:
        break
      if time.monotonic() > deadline:
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        break
      time.sleep(0.005)
    output = []
    for f in (stdout, stderr):
      f.seek(0)
      output.append(f.read().decode(errors='replace'))
  return {'returncode': os.waitstatus_to_exitcode(status),
          'stdout': output[0], 'stderr': output[1]}


def main():
  replies = os.fdopen(os.dup(1), 'w')
  # Whatever else writes to this process's stdout must not mix with replies.
  os.dup2(2, 1)
  for line in sys.stdin:
    replies.write(json.dumps(run(json.loads(line))) + '\n')
    replies.flush()


if __name__ == '__main__':
  main()
