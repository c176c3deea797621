"""Test-session setup: one persistent XLA compilation cache for the suite.

Many tests compile the same programs again: the subprocess tests start
``experiments/train.py`` several times with one config (kill -9 and resume,
the workdir contract, multi-process runs), and the two xdist workers build
the same tiny experiments. Compiling is most of such a process's time on
CPU (a 400-step ring8 run took 25.7 CPU-seconds, and 11.5 when run again
with the cache; the kill -9 test, whose five processes share programs,
150 CPU-seconds without the cache and 110 starting from an empty one), so
the suite shares JAX's persistent cache (and the convolution autotuner's
answers, below). The cache key covers the program, the
compile options, XLA_FLAGS and the JAX version, so a hit runs the very
executable a fresh compile would build; an unreadable entry is recompiled.

Likewise the data that the embedded datasets and the digits classifier
prepare on first use (TFDS's usual directory, ``$TFDS_DATA_DIR``): the
60,000 stacked digits and the classifier (about 40 CPU-seconds to train)
are made once for the suite, not per worker or per run of a test, and
nothing is written to ``~/tensorflow_datasets``. Tests of the preparation
itself use directories of their own.

Set here, before any test module imports jax, and inherited by every
subprocess through the environment. A cache directory the user already
exported wins.
"""

import fcntl
import json
import os
import subprocess
import sys
import tempfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# In pytest's cache directory: kept out of git, emptied by --cache-clear.
os.environ.setdefault('JAX_COMPILATION_CACHE_DIR',
                      os.path.join(REPO, '.pytest_cache', 'd',
                                   'jax_compilation'))

# XLA:CPU compiles the suite's programs at backend optimisation level 0:
# compiling is most of what a test of a few steps costs, and level 0
# compiles faster (docs/performance.md, "Test suite"). The programs compute
# the same functions; every comparison in the suite is between two
# computations under the same flags, or to a reference within a stated
# tolerance. Runs and benchmarks compile at the default level.
#
# The flags the suite was started with, kept for the digits classifier
# (below); set once, by pytest's main process, whose workers inherit it.
os.environ.setdefault('GAN_JAX_TEST_USER_XLA_FLAGS',
                      os.environ.get('XLA_FLAGS', ''))
if '--xla_backend_optimization_level' not in os.environ.get('XLA_FLAGS', ''):
  os.environ['XLA_FLAGS'] = ' '.join(
      filter(None, [os.environ.get('XLA_FLAGS'),
                    '--xla_backend_optimization_level=0']))

# The convolution autotuner's answers (gan_jax.xla_cpu.autotune) beside it:
# the workers and subprocesses of a run time each layer once between them.
os.environ.setdefault('GAN_JAX_AUTOTUNE_CACHE',
                      os.path.join(REPO, '.pytest_cache', 'd', 'autotune.json'))

# Emptied by --cache-clear as well.
os.environ.setdefault('TFDS_DATA_DIR',
                      os.path.join(REPO, '.pytest_cache', 'd',
                                   'tensorflow_datasets'))


@pytest.fixture(scope='session')
def trained_digits_classifier():
  """``(params, held-out accuracy)`` of the digits classifier in the
  suite's data directory, trained there on first use (load_or_train
  refuses one below 97 %). The workers take turns: one trains, the other
  waits and reads it back, where each would otherwise train its own."""
  from gan_jax.metrics.features import digits_classifier as classifier  # pylint: disable=g-import-not-at-top
  data_dir = os.environ['TFDS_DATA_DIR']
  os.makedirs(data_dir, exist_ok=True)
  with open(os.path.join(data_dir, '.digits_classifier.lock'), 'a') as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
      # Trained, if need be, at XLA's default optimisation level, as users'
      # runs train it: 1,500 steps run some twenty times slower at the
      # suite's level 0, and the suite scores with the users' classifier.
      env = {**os.environ,
             'XLA_FLAGS': os.environ['GAN_JAX_TEST_USER_XLA_FLAGS']}
      subprocess.run(
          [sys.executable, '-c', 'from gan_jax.metrics.features import '
           'digits_classifier as c; c.load_or_train()'],
          cwd=REPO, env=env, check=True, capture_output=True)
      return classifier.load_or_train()
    finally:
      fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope='session')
def entry_point():
  """``entry_point(script, *args, cwd=REPO, timeout=300)``: what
  ``python script *args`` returns (a CompletedProcess with text output),
  run in a child forked from a server that has imported jax and gan_jax
  (tests/entry_point_server.py): for command lines that stop before any
  work, such as mistyped inputs, whose fresh processes would spend
  seconds importing. One server per test process."""
  log = tempfile.TemporaryFile(mode='w+')
  server = subprocess.Popen(
      [sys.executable, os.path.join(REPO, 'tests', 'entry_point_server.py')],
      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
      cwd=REPO)

  def run(script, *args, cwd=REPO, timeout=300):
    argv = [script, *args]
    server.stdin.write(json.dumps({'argv': argv, 'cwd': str(cwd),
                                   'timeout': timeout}) + '\n')
    server.stdin.flush()
    line = server.stdout.readline()
    if not line:
      log.seek(0)
      raise RuntimeError(f'the entry-point server ended: {log.read()}')
    reply = json.loads(line)
    return subprocess.CompletedProcess(argv, reply['returncode'],
                                       reply['stdout'], reply['stderr'])

  yield run
  server.stdin.close()
  server.wait(timeout=60)
  log.close()
