"""×2 upsampling layers for convolutional generators.

* ``transposed``: a 4×4 stride-2 transposed convolution (DCGAN, Radford et
  al. 2016; SNGAN's CNN), with the parameters of one (a ``[4, 4, in, out]``
  kernel and a bias). How it is computed is chosen per backend
  (``implementation``), never changing the function or its parameters: as a
  transposed convolution (``conv_transpose``), or as its four output phases
  (``phases``): each output pixel of parity (a, b) is a 2×2 window of the
  input times four taps of the kernel, so one 2×2 convolution of the input
  padded by one pixel, to four times the channels
  (:func:`phase_kernel_from_transposed`), followed by picking each phase's
  window and depth-to-space, is the transposed convolution with the same
  multiply-adds per output pixel (plus one border row and column). XLA's CPU
  backend differentiates the transposed form about 5× slower than an
  ordinary convolution, so ``auto`` uses the phases on CPU and the
  transposed form elsewhere. (An earlier version ran a 3×3 convolution
  whose kernel held the four phases with zeros in the unused taps: 9
  multiply-adds per output where 4 do; the DCGAN step on CPU is about 20%
  faster with the 2×2 form, ``benchmarks/run.py``.)
* ``subpixel``: a free 3×3 convolution to four times the channels followed
  by depth-to-space (Shi et al. 2016): a larger function family than the
  transposed convolution (each output phase sees 3×3 inputs, not 2×2).
* ``nearest``: nearest-neighbour ×2 resize then a 3×3 convolution (Odena et
  al. 2016), without checkerboard artefacts.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.models import convolution

MODES = ('transposed', 'subpixel', 'nearest')
IMPLEMENTATIONS = ('auto', 'conv_transpose', 'phases')
_NHWC = ('NHWC', 'HWIO', 'NHWC')

# For output phase a ∈ {0, 1} (row or column parity) and position p ∈ {0, 1}
# in a 2×2 window of the input padded by one pixel, the tap of the 4-tap
# transposed kernel that connects them. From lax.conv_transpose with 'SAME'
# padding, stride 2, kernel 4: y[2m] = w0·x[m-1] + w2·x[m] (the window
# starting at padded row m), y[2m+1] = w1·x[m] + w3·x[m+1] (starting at
# padded row m + 1, i.e. offset by the phase).
_PHASE_TAPS = np.array([[0, 2], [1, 3]])


def check_mode(mode: str) -> str:
  """Returns ``mode``; ValueError naming the allowed modes otherwise."""
  if mode not in MODES:
    raise ValueError(f'unknown upsampling {mode!r}; allowed: {", ".join(MODES)}')
  return mode


def resolve_implementation(implementation: str) -> str:
  """``auto`` -> how the default backend computes a transposed convolution."""
  if implementation not in IMPLEMENTATIONS:
    raise ValueError(f'unknown implementation {implementation!r}; allowed: '
                     f'{", ".join(IMPLEMENTATIONS)}')
  if implementation == 'auto':
    return 'phases' if jax.default_backend() == 'cpu' else 'conv_transpose'
  return implementation


def depth_to_space(x: jax.Array) -> jax.Array:
  """``[b, h, w, 4c]`` -> ``[b, 2h, 2w, c]``, channel (2a + b)·c + k to pixel (2i+a, 2j+b)."""
  batch, height, width, channels = x.shape
  c = channels // 4
  x = x.reshape(batch, height, width, 2, 2, c).transpose(0, 1, 3, 2, 4, 5)
  return x.reshape(batch, 2 * height, 2 * width, c)


def phase_kernel_from_transposed(kernel: jax.Array) -> jax.Array:
  """Maps a ``[4, 4, in, out]`` transposed kernel to the ``[2, 2, in, 4·out]``
  kernel of its four output phases, phase (a, b) in channels
  (2a + b)·out ... (2a + b + 1)·out."""
  kernel = jnp.asarray(kernel)
  return jnp.concatenate([kernel[_PHASE_TAPS[a]][:, _PHASE_TAPS[b]]
                          for a in range(2) for b in range(2)], axis=-1)


def nearest_double(x: jax.Array) -> jax.Array:
  """``[b, h, w, c]`` -> ``[b, 2h, 2w, c]``, each pixel repeated 2×2."""
  batch, height, width, channels = x.shape
  return jax.image.resize(x, (batch, 2 * height, 2 * width, channels),
                          'nearest')


def _phases(x: jax.Array, kernel: jax.Array) -> jax.Array:
  """The transposed convolution as one 2×2 convolution and depth-to-space."""
  _, height, width, _ = x.shape
  # Padding inside the convolution, not a padded copy: 8% faster DCGAN
  # step on CPU.
  y = convolution.conv_general_dilated(
      x, phase_kernel_from_transposed(kernel).astype(x.dtype), (1, 1),
      ((1, 1), (1, 1)), dimension_numbers=_NHWC)
  y = y.reshape(*y.shape[:3], 4, kernel.shape[-1])  # [b, h+1, w+1, 4, out]
  # Phase (a, b)'s windows start at padded pixel (m + a, n + b).
  return depth_to_space(jnp.concatenate(
      [y[:, a:a + height, b:b + width, 2 * a + b]
       for a in range(2) for b in range(2)], axis=-1))


def transposed_conv(x: jax.Array, kernel: jax.Array,
                    implementation: str = 'auto') -> jax.Array:
  """The 4×4 stride-2 'SAME' transposed convolution of ``x`` (NHWC) with
  ``kernel`` (``[4, 4, in, out]``), computed the ``implementation`` way."""
  if resolve_implementation(implementation) == 'phases':
    return _phases(x, kernel)
  return jax.lax.conv_transpose(x, kernel.astype(x.dtype), (2, 2), 'SAME',
                                dimension_numbers=_NHWC)


class Upsample(nn.Module):
  """Doubles height and width and maps to ``features`` channels.

  Attributes:
    features: output channels.
    mode: ``transposed``, ``subpixel`` or ``nearest`` (module docstring).
    use_bias: add a learned bias.
    implementation: how ``transposed`` is computed (``auto``: per backend).
  """
  features: int
  mode: str = 'transposed'
  use_bias: bool = True
  implementation: str = 'auto'

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    mode = check_mode(self.mode)
    if mode == 'transposed':
      kernel = self.param('kernel', nn.initializers.lecun_normal(),
                          (4, 4, x.shape[-1], self.features))
      y = transposed_conv(x, kernel, self.implementation)
    elif mode == 'subpixel':
      y = depth_to_space(convolution.Conv(4 * self.features, (3, 3),
                                          padding='SAME', use_bias=False)(x))
    else:
      y = convolution.Conv(self.features, (3, 3), padding='SAME',
                           use_bias=False)(nearest_double(x))
    if self.use_bias:
      y = y + self.param('bias', nn.initializers.zeros, (self.features,))
    return y
