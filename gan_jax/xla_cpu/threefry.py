"""Threefry-2x32 lowered as straight-line code on CPU: the same bits, faster.

Every random draw in gan_jax (latents, the real points of the Gaussian
mixtures, instance noise) goes through JAX's default PRNG, the Threefry-2x32
hash with 20 rounds (Salmon et al. 2011, "Parallel random numbers: as easy
as 1, 2, 3"). On CPU, JAX lowers that hash as a loop of five trips; XLA
cannot fuse a loop with the operations around it, so every draw makes
several passes over memory. On GPU and TPU JAX lowers it unrolled.
:func:`register` gives the CPU backend the unrolled form too for draws of
at least 1,024 numbers: XLA then fuses the hash with the conversion to
floats and the normal transform. Smaller hashes (key splitting and folding,
per-example scalars) keep a loop: unrolled, each call site is some 200
operations to compile for no measurable gain.

The bits are those of JAX's lowering (tests/xla_cpu/test_threefry.py checks
the hash against the published known-answer vectors and draws against a
process without this lowering), so streams, seeds and results are
unchanged; the speed-up is in docs/performance.md ("What the CPU tuning
does"). Registering changes JAX's lowering for the whole process, so only
:func:`gan_jax.xla_cpu.apply` does it, when an entry point asks.

Hand-written rather than taken from JAX because JAX's lowerings are
private (``jax._src``); the registration uses the public
``jax.interpreters.mlir`` API.
"""

from jax import lax
from jax.extend import random as jax_random
from jax.interpreters import mlir
import jax.numpy as jnp
import numpy as np

# Rotation constants of Threefry-2x32, alternating every four rounds.
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
# Threefish's key-schedule parity constant.
_KEY_PARITY = np.uint32(0x1BD11BDA)
_MIN_UNROLLED_HASHES = 1024


def _rotate_left(x, distance):
  distance = lax.convert_element_type(distance, np.uint32)
  return (lax.shift_left(x, distance)
          | lax.shift_right_logical(x, np.uint32(32) - distance))


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


def _threefry2x32_rolled(key1, key2, count1, count2):
  """:func:`threefry2x32` as a loop over the five groups of rounds: the same
  bits in a fifth of the code, for draws too small to gain from unrolling."""
  shape = np.broadcast_shapes(*(np.shape(x) for x in
                                (key1, key2, count1, count2)))
  schedule = (key1, key2, key1 ^ key2 ^ _KEY_PARITY)
  rotations = np.array(_ROTATIONS, np.uint32)

  def group(index, carry):
    x1, x2, schedule, rotations = carry
    for distance in rotations[0]:
      x1 = x1 + x2
      x2 = _rotate_left(x2, distance) ^ x1
    x1 = x1 + schedule[1]
    x2 = x2 + schedule[2] + (index + 1).astype(np.uint32)
    return (x1, x2, (schedule[1], schedule[2], schedule[0]),
            (rotations[1], rotations[0]))

  start = (jnp.broadcast_to(count1 + schedule[0], shape),
           jnp.broadcast_to(count2 + schedule[1], shape))
  x1, x2, _, _ = lax.fori_loop(
      0, 5, group, (*start, schedule, (rotations[0], rotations[1])))
  return x1, x2


def _lowering(ctx, *words):
  """Unrolled for draws of at least ``_MIN_UNROLLED_HASHES`` hashes, rolled
  below: the unrolled hash is some 200 operations at every call site, and
  the many small hashes of key splitting and folding gain no speed from it
  but cost compile time (docs/performance.md)."""
  hashes = np.prod(ctx.avals_out[0].shape, dtype=int)
  hash_function = (threefry2x32 if hashes >= _MIN_UNROLLED_HASHES
                   else _threefry2x32_rolled)
  return mlir.lower_fun(hash_function, multiple_results=True)(ctx, *words)


def register() -> None:
  """Lowers JAX's threefry primitive on CPU with :func:`_lowering` from now
  on (functions already compiled keep theirs). Idempotent."""
  mlir.register_lowering(jax_random.threefry2x32_p, _lowering,
                         platform='cpu')
