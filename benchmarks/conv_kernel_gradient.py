r"""Kernel-gradient time of XLA's convolution against per-tap dots.

  python benchmarks/conv_kernel_gradient.py [--batch=64] [--repeats=5]

For the convolution layers of the DCGAN and SN-GAN configs at 32×32 (input
size, kernel, stride, channels), times the kernel gradient as
``lax.conv_general_dilated``'s VJP computes it and as
:mod:`gan_jax.xla_cpu.kernel_gradient` computes it per kernel tap (one dot per
tap), alternating, median of ``--repeats`` rounds, and prints milliseconds,
the speed-up and which one ``kernel_gradient.conv_general_dilated`` uses on this
machine (its autotuner, :mod:`gan_jax.xla_cpu.autotune`, times the same two
and takes the per-tap form when it is 1.2× faster or more). Both are
compiled with the XLA options train steps are compiled with by default
(:func:`gan_jax.xla_cpu.compiler_options.compiler_options`), as the
autotuner does.
"""

import functools
import statistics
import time

from absl import app
from absl import flags
import jax
from jax import lax
import numpy as np

from gan_jax.xla_cpu import compiler_options
from gan_jax.xla_cpu import kernel_gradient

_BATCH = flags.DEFINE_integer('batch', 64, 'Batch size.')
_REPEATS = flags.DEFINE_integer('repeats', 5, 'Timed rounds per side.')

_BY_ONE = ((1, 1), (1, 1))
# (name, input height = width, kernel, stride, in channels, out channels,
# padding). The DCGAN generator's layers are the 2×2 convolutions of their
# output phases (gan_jax.xla_cpu.transposed_conv), padded by one pixel.
LAYERS = (
    ('dcgan critic 1', 32, 4, 2, 3, 32, 'SAME'),
    ('dcgan critic 2', 16, 4, 2, 32, 64, 'SAME'),
    ('dcgan critic 3', 8, 4, 2, 64, 128, 'SAME'),
    ('dcgan generator 4->8 phases', 4, 2, 1, 128, 256, _BY_ONE),
    ('dcgan generator 8->16 phases', 8, 2, 1, 64, 128, _BY_ONE),
    ('dcgan generator 16->32 phases', 16, 2, 1, 32, 12, _BY_ONE),
    ('sngan generator 16', 16, 3, 1, 256, 256, 'SAME'),
    ('sngan generator 32', 32, 3, 1, 256, 256, 'SAME'),
    ('sngan generator 32 shortcut', 32, 1, 1, 256, 256, 'SAME'),
    ('sngan generator to rgb', 32, 3, 1, 256, 3, 'SAME'),
    ('sngan critic first', 32, 3, 1, 3, 128, 'SAME'),
    ('sngan critic 32', 32, 3, 1, 128, 128, 'SAME'),
    ('sngan critic 16', 16, 3, 1, 128, 128, 'SAME'),
    ('sngan critic 8', 8, 3, 1, 128, 128, 'SAME'),
)
_NHWC = ('NHWC', 'HWIO', 'NHWC')


def _time(function, *args) -> float:
  jax.block_until_ready(function(*args))
  start = time.perf_counter()
  jax.block_until_ready(function(*args))
  return time.perf_counter() - start


def main(argv):
  del argv
  rng = np.random.default_rng(0)
  print(f'{"layer":34} {"lax ms":>9} {"per-tap ms":>11} {"speed-up":>9} '
        f'{"used":>8}')
  for name, size, kernel, stride, c_in, c_out, padding in LAYERS:
    strides = (stride, stride)
    if isinstance(padding, str):
      padding = lax.padtype_to_pads((size, size), (kernel, kernel), strides,
                                    padding)
    padding = tuple(map(tuple, padding))
    x = rng.standard_normal((_BATCH.value, size, size, c_in), np.float32)
    w = rng.standard_normal((kernel, kernel, c_in, c_out), np.float32)
    out_shape = jax.eval_shape(
        lambda x, w: lax.conv_general_dilated(
            x, w, strides, padding, dimension_numbers=_NHWC), x, w)
    g = rng.standard_normal(out_shape.shape, np.float32)
    # Compiled with the options train steps and the autotuner use.
    sides = {side: jax.jit(functools.partial(
        gradient, strides=strides, padding=padding, precision=None)).lower(
            x, g, w).compile(compiler_options.compiler_options())
             for side, gradient in (
                 ('lax', kernel_gradient.xla_kernel_gradient),
                 ('per-tap', kernel_gradient.per_tap_kernel_gradient))}
    times = {side: [] for side in sides}
    for _ in range(_REPEATS.value):
      for side, function in sides.items():
        times[side].append(_time(function, x, g, w))
    lax_ms, tap_ms = (1e3 * statistics.median(times[s]) for s in sides)
    used = ('per-tap' if kernel_gradient.per_tap_pays(x, w, strides, padding,
                                                   None) else 'lax')
    print(f'{name:34} {lax_ms:9.2f} {tap_ms:11.2f} {lax_ms / tap_ms:8.2f}× '
          f'{used:>8}', flush=True)


if __name__ == '__main__':
  app.run(main)
