"""gan_jax.xla_cpu.threefry: JAX's random bits, with the unrolled CPU
lowering, applied by gan_jax.xla_cpu.apply() and not by importing gan_jax."""

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from gan_jax.xla_cpu import threefry

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
    threefry.threefry2x32, threefry._threefry2x32_rolled])
def test_hash_matches_known_answers(key, count, expected, hash_function):
  words = [jax.device_put(np.uint32(w), _CPU) for w in (*key, *count)]
  direct = jax.jit(hash_function)(*words)
  through_jax = jax.jit(jax.extend.random.threefry_2x32)(
      jax.device_put(np.array(key, np.uint32), _CPU),
      jax.device_put(np.array(count, np.uint32), _CPU))
  assert [int(w) for w in direct] == list(expected)
  assert [int(w) for w in through_jax] == list(expected)


_SCRIPT = """
import json, sys
import jax, numpy as np


def lowered(size):
  return jax.jit(lambda key: jax.random.normal(key, (size,))).trace(
      jax.random.key(0)).lower(lowering_platforms=('cpu',)).as_text()


def draws():
  key = jax.random.key(7)
  k1, k2 = jax.random.split(key)
  return dict(
      normal=jax.jit(lambda k: jax.random.normal(k, (513, 7)))(k1),
      bits=jax.random.bits(k2, (1001,)),
      uniform=jax.jit(lambda k: jax.random.uniform(k, (3, 5, 9)))(key))


before, jax_draws = lowered(2048), draws()
import gan_jax, gan_jax.train, gan_jax.evaluation, gan_jax.xla_cpu
after_import = lowered(2048)
gan_jax.xla_cpu.apply()
after_apply = lowered(2048)
np.savez(sys.argv[1], **{'jax_' + k: v for k, v in jax_draws.items()},
         **{'tuned_' + k: v for k, v in draws().items()})
print(json.dumps({
    'import_unchanged': after_import == before,
    'apply_changed': after_apply != before,
    'loops': {n: lowered(n).count('stablehlo.while') for n in (1023, 1024)},
}))
"""


def test_only_apply_changes_the_lowering_and_the_bits_stay_jax_s(tmp_path):
  """In one process: a random draw's lowered program is the same before
  and after ``import gan_jax`` (and its training modules); after
  ``xla_cpu.apply()`` draws of 1,024 numbers or more are lowered without a
  loop, smaller ones keep JAX's rolled loop, and the draws (unrolled
  normal, rolled bits, uniform, a key split) are the bits JAX's own
  lowering drew before."""
  path = tmp_path / 'draws.npz'
  result = subprocess.run(
      [sys.executable, '-c', _SCRIPT, str(path)], check=True,
      capture_output=True, text=True,
      env=dict(os.environ, JAX_PLATFORMS='cpu'))
  outcome = json.loads(result.stdout.strip().splitlines()[-1])
  assert outcome == {'import_unchanged': True, 'apply_changed': True,
                     'loops': {'1023': 1, '1024': 0}}
  with np.load(path) as saved:
    for name in ('normal', 'bits', 'uniform'):
      np.testing.assert_array_equal(saved['tuned_' + name],
                                    saved['jax_' + name])
