"""JAX's persistent compilation cache, as the entry points use it.

A run compiles its train step, sampling and evaluation programs, which on
a CPU takes longer than a short run trains (docs/performance.md); every run
of a sweep, and every resumed run, compiles the same programs again. The
entry points (``experiments/*.py``) therefore point JAX's persistent cache
at a directory, so a program compiled once is read back in a fraction of
the time. JAX's cache key covers the program, the compile options,
``XLA_FLAGS``, the jax/jaxlib versions and the devices, so a hit runs the
executable a fresh compile would build: results do not change.

Where: ``--compilation_cache_dir`` of the entry points; by default JAX's
own ``JAX_COMPILATION_CACHE_DIR`` if it is set, else
``$XDG_CACHE_HOME/gan_jax/jax_compilation`` (``~/.cache/...``); ``''``
turns it off. The directory is capped at :data:`MAX_BYTES`, the least
recently used programs making room. ``import gan_jax`` leaves JAX's
configuration alone: only :func:`enable` changes it.
"""

import os

from absl import flags
import jax

# The cache's size cap; JAX evicts least recently used entries beyond it.
MAX_BYTES = 2 * 2 ** 30
# Programs compiled faster than this are not worth a file (JAX's default).
MIN_COMPILE_SECONDS = 1.0


def default_dir() -> str:
  """``JAX_COMPILATION_CACHE_DIR`` if set, else the user's cache directory."""
  if os.environ.get('JAX_COMPILATION_CACHE_DIR'):
    return os.environ['JAX_COMPILATION_CACHE_DIR']
  cache_home = os.environ.get('XDG_CACHE_HOME') or os.path.join(
      os.path.expanduser('~'), '.cache')
  return os.path.join(cache_home, 'gan_jax', 'jax_compilation')


def enable(directory: str) -> None:
  """Reads and writes compiled programs in ``directory`` ('' : off)."""
  if not directory:
    return
  jax.config.update('jax_compilation_cache_dir', directory)
  jax.config.update('jax_persistent_cache_min_compile_time_secs',
                    MIN_COMPILE_SECONDS)
  jax.config.update('jax_compilation_cache_max_size', MAX_BYTES)


def define_flag() -> flags.FlagHolder:
  """The entry points' ``--compilation_cache_dir`` flag."""
  return flags.DEFINE_string(
      'compilation_cache_dir', default_dir(), 'Where compiled programs are '
      "kept for later runs (JAX's persistent cache); '' turns it off.")
