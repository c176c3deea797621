"""×2 upsampling layers for convolutional generators.

* ``transposed``: a 4×4 stride-2 transposed convolution (DCGAN, Radford et
  al. 2016; SNGAN's CNN), with the parameters of one (a ``[4, 4, in, out]``
  kernel and a bias), computed by
  :func:`gan_jax.models.conv.transposed_conv_4x4_stride2`.
* ``subpixel``: a free 3×3 convolution to four times the channels followed
  by depth-to-space (Shi et al. 2016): a larger function family than the
  transposed convolution (each output phase sees 3×3 inputs, not 2×2).
* ``nearest``: nearest-neighbour ×2 resize then a 3×3 convolution (Odena et
  al. 2016), without checkerboard artefacts.
"""

import flax.linen as nn
import jax

from gan_jax.models import conv

MODES = ('transposed', 'subpixel', 'nearest')


def check_mode(mode: str) -> str:
  """Returns ``mode``; ValueError naming the allowed modes otherwise."""
  if mode not in MODES:
    raise ValueError(f'unknown upsampling {mode!r}; '
                     f'allowed: {", ".join(MODES)}')
  return mode


def depth_to_space(x: jax.Array) -> jax.Array:
  """``[b, h, w, 4c]`` -> ``[b, 2h, 2w, c]``, channel (2a + b)·c + k to pixel
  (2i+a, 2j+b)."""
  batch, height, width, channels = x.shape
  c = channels // 4
  x = x.reshape(batch, height, width, 2, 2, c).transpose(0, 1, 3, 2, 4, 5)
  return x.reshape(batch, 2 * height, 2 * width, c)


def nearest_double(x: jax.Array) -> jax.Array:
  """``[b, h, w, c]`` -> ``[b, 2h, 2w, c]``, each pixel repeated 2×2."""
  batch, height, width, channels = x.shape
  return jax.image.resize(x, (batch, 2 * height, 2 * width, channels),
                          'nearest')


class Upsample(nn.Module):
  """Doubles height and width and maps to ``features`` channels.

  Attributes:
    features: output channels.
    mode: ``transposed``, ``subpixel`` or ``nearest`` (module docstring).
    use_bias: add a learned bias.
  """
  features: int
  mode: str = 'transposed'
  use_bias: bool = True

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    mode = check_mode(self.mode)
    if mode == 'transposed':
      kernel = self.param('kernel', nn.initializers.lecun_normal(),
                          (4, 4, x.shape[-1], self.features))
      y = conv.transposed_conv_4x4_stride2(x, kernel)
    elif mode == 'subpixel':
      y = depth_to_space(conv.Conv(4 * self.features, (3, 3),
                                   padding='SAME', use_bias=False)(x))
    else:
      y = conv.Conv(self.features, (3, 3), padding='SAME',
                    use_bias=False)(nearest_double(x))
    if self.use_bias:
      y = y + self.param('bias', nn.initializers.zeros, (self.features,))
    return y
