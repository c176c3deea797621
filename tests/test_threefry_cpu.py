"""gan_jax.threefry_cpu: JAX's random bits, with the unrolled CPU lowering."""

import os
import subprocess
import sys

import jax
import numpy as np
import pytest

import gan_jax  # noqa: F401  (registers the lowering)
from gan_jax import threefry_cpu

# Threefry-2x32-20 known-answer vectors of the Random123 distribution
# (key words, counter words) -> output words.
_KNOWN_ANSWERS = [
    ((0x00000000, 0x00000000), (0x00000000, 0x00000000),
     (0x6b200159, 0x99ba4efe)),
    ((0xffffffff, 0xffffffff), (0xffffffff, 0xffffffff),
     (0x1cb996fc, 0xbb002be7)),
    ((0x13198a2e, 0x03707344), (0x243f6a88, 0x85a308d3),
     (0xc4923a9c, 0x483df7a0)),
]


_CPU = jax.devices('cpu')[0]


@pytest.mark.parametrize('key, count, expected', _KNOWN_ANSWERS)
@pytest.mark.parametrize('hash_function', [
    threefry_cpu.threefry2x32, threefry_cpu._threefry2x32_rolled])
def test_hash_matches_known_answers(key, count, expected, hash_function):
  words = [jax.device_put(np.uint32(w), _CPU) for w in (*key, *count)]
  direct = jax.jit(hash_function)(*words)
  through_jax = jax.jit(jax.extend.random.threefry_2x32)(
      jax.device_put(np.array(key, np.uint32), _CPU),
      jax.device_put(np.array(count, np.uint32), _CPU))
  assert [int(w) for w in direct] == list(expected)
  assert [int(w) for w in through_jax] == list(expected)


@pytest.mark.parametrize('size, loops', [(1024, 0), (1023, 1)])
def test_cpu_draws_of_1024_numbers_or_more_are_lowered_without_a_loop(
    size, loops):
  lowered = jax.jit(lambda key: jax.random.normal(key, (size,))).trace(
      jax.random.key(0)).lower(lowering_platforms=('cpu',)).as_text()
  assert lowered.count('stablehlo.while') == loops


_DRAWS = """
import sys
import jax, numpy as np
key = jax.random.key(7)
k1, k2 = jax.random.split(key)
np.savez(sys.argv[1],
         normal=jax.jit(lambda k: jax.random.normal(k, (513, 7)))(k1),
         bits=jax.random.bits(k2, (1001,)),
         uniform=jax.jit(lambda k: jax.random.uniform(k, (3, 5, 9)))(key))
"""


def test_draws_equal_jax_default_lowering(tmp_path):
  """The same program on CPU in a process that never imports gan_jax
  (JAX's own rolled lowering) and in one that imports gan_jax first draws
  the same numbers, through both forms (the normal draw is unrolled, the
  others and the key split are rolled)."""
  cpu_only = dict(os.environ, JAX_PLATFORMS='cpu')
  reference = tmp_path / 'reference.npz'
  subprocess.run([sys.executable, '-c', _DRAWS, str(reference)], check=True,
                 env=cpu_only)
  mine = tmp_path / 'mine.npz'
  subprocess.run([sys.executable, '-c', 'import gan_jax\n' + _DRAWS,
                  str(mine)], check=True, env=cpu_only)
  with np.load(reference) as expected, np.load(mine) as actual:
    for name in ('normal', 'bits', 'uniform'):
      np.testing.assert_array_equal(actual[name], expected[name])
