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

Set here, before any test module imports jax, and inherited by every
subprocess through the environment. A cache directory the user already
exported wins.
"""

import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# In pytest's cache directory: kept out of git, emptied by --cache-clear.
os.environ.setdefault('JAX_COMPILATION_CACHE_DIR',
                      os.path.join(REPO, '.pytest_cache', 'd', 'jax_compilation'))

# The convolution autotuner's answers (gan_jax.models.autotune) beside it:
# the workers and subprocesses of a run time each layer once between them.
os.environ.setdefault('GAN_JAX_AUTOTUNE_CACHE',
                      os.path.join(REPO, '.pytest_cache', 'd', 'autotune.json'))
