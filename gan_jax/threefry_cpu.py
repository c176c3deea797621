"""Threefry-2x32 lowered as straight-line code on CPU: the same bits, faster.

Every random draw in gan_jax (latents, the real points of the Gaussian
mixtures, instance noise) goes through JAX's default PRNG, the Threefry-2x32
hash with 20 rounds (Salmon et al. 2011, "Parallel random numbers: as easy
as 1, 2, 3"). On CPU, JAX lowers that hash as a loop of five trips; XLA
cannot fuse a loop with the operations around it, so every draw makes
several passes over memory. On GPU and TPU JAX lowers it unrolled. :func:`register` gives the CPU backend the unrolled form too:
XLA then fuses the hash with the conversion to floats and the normal
transform.

The bits are those of JAX's lowering (tests/test_threefry_cpu.py checks the
hash against the published known-answer vectors and draws against a
process without this lowering), so streams, seeds and results are
unchanged. Measured on a 2-core CPU: a 512 × 256 normal draw 0.98 → 0.77 ms
on one core, the ring8 train step (configs/ring8.py, two such draws per
step) +9 % on one core and +7 % on two (interleaved rounds in one process).

Hand-written rather than taken from JAX because JAX's unrolled lowering is
private (``jax._src``); the registration uses the public
``jax.interpreters.mlir`` API.
"""

from jax import lax
from jax.extend import random as jax_random
from jax.interpreters import mlir
import numpy as np

# Rotation constants of Threefry-2x32, alternating every four rounds.
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
# Threefish's key-schedule parity constant.
_KEY_PARITY = np.uint32(0x1BD11BDA)


def _rotate_left(x, distance: int):
  return (lax.shift_left(x, np.uint32(distance))
          | lax.shift_right_logical(x, np.uint32(32 - distance)))


def threefry2x32(key1, key2, count1, count2):
  """The Threefry-2x32 hash of the counter words under the key words, 20
  rounds unrolled: five groups of four rounds, each followed by a key
  injection. All arguments are uint32 arrays that broadcast together."""
  schedule = (key1, key2, key1 ^ key2 ^ _KEY_PARITY)
  x1 = count1 + schedule[0]
  x2 = count2 + schedule[1]
  for group in range(5):
    for rotation in _ROTATIONS[group % 2]:
      x1 = x1 + x2
      x2 = _rotate_left(x2, rotation) ^ x1
    x1 = x1 + schedule[(group + 1) % 3]
    x2 = x2 + schedule[(group + 2) % 3] + np.uint32(group + 1)
  return x1, x2


def register() -> None:
  """Lowers JAX's threefry primitive with :func:`threefry2x32` on CPU from
  now on (functions already compiled keep theirs). Idempotent."""
  mlir.register_lowering(
      jax_random.threefry2x32_p,
      mlir.lower_fun(threefry2x32, multiple_results=True), platform='cpu')
