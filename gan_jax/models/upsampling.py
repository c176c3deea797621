"""×2 upsampling layers for convolutional generators, and how they relate.

* ``transposed``: a 4×4 stride-2 transposed convolution (DCGAN, Radford et
  al. 2016).
* ``subpixel``: a 3×3 convolution to four times the channels followed by
  depth-to-space (Shi et al. 2016). With the weights mapped by
  :func:`subpixel_kernel_from_transposed` it computes exactly the function of
  ``transposed``; its weight gradient is an ordinary convolution, which XLA's
  CPU backend differentiates several times faster than the transposed form.
* ``nearest``: nearest-neighbour ×2 resize then a 3×3 convolution (Odena et
  al. 2016), a different function family without checkerboard artefacts.

``auto`` picks per backend: ``subpixel`` on CPU, ``transposed`` elsewhere.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

MODES = ('auto', 'transposed', 'subpixel', 'nearest')

# For output phase a ∈ {0, 1} (row or column parity) and input offset
# d ∈ {-1, 0, +1}, the tap of the 4-tap transposed kernel that connects them
# (-1: none). Derived from lax.conv_transpose with 'SAME' padding, stride 2,
# kernel 4: y[2m] = w0·x[m-1] + w2·x[m], y[2m+1] = w1·x[m] + w3·x[m+1].
_TAPS = np.array([[0, 2, -1], [-1, 1, 3]])


def resolve(mode: str) -> str:
  """``auto`` -> the mode to use on the default backend."""
  if mode not in MODES:
    raise ValueError(f'unknown upsampling {mode!r}; allowed: {", ".join(MODES)}')
  if mode == 'auto':
    return 'subpixel' if jax.default_backend() == 'cpu' else 'transposed'
  return mode


def depth_to_space(x: jax.Array) -> jax.Array:
  """``[b, h, w, 4c]`` -> ``[b, 2h, 2w, c]``, channel (2a + b)·c + k to pixel (2i+a, 2j+b)."""
  batch, height, width, channels = x.shape
  c = channels // 4
  x = x.reshape(batch, height, width, 2, 2, c).transpose(0, 1, 3, 2, 4, 5)
  return x.reshape(batch, 2 * height, 2 * width, c)


def subpixel_kernel_from_transposed(kernel: jax.Array) -> jax.Array:
  """Maps a ``[4, 4, in, out]`` transposed kernel to the ``[3, 3, in, 4·out]``
  sub-pixel kernel computing the same function."""
  kernel = jnp.asarray(kernel)
  padded = jnp.concatenate([kernel, jnp.zeros_like(kernel[:1])], axis=0)
  padded = jnp.concatenate([padded, jnp.zeros_like(padded[:, :1])], axis=1)
  phases = []
  for a in range(2):
    for b in range(2):
      rows = _TAPS[a][:, None]  # -1 indexes the zero row added above.
      cols = _TAPS[b][None, :]
      phases.append(padded[rows, cols])  # [3, 3, in, out]
  return jnp.concatenate(phases, axis=-1)


class Upsample(nn.Module):
  """Doubles height and width and maps to ``features`` channels."""
  features: int
  mode: str = 'auto'
  use_bias: bool = True

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    mode = resolve(self.mode)
    if mode == 'transposed':
      return nn.ConvTranspose(self.features, (4, 4), strides=(2, 2),
                              padding='SAME', use_bias=self.use_bias)(x)
    if mode == 'subpixel':
      y = nn.Conv(4 * self.features, (3, 3), padding='SAME', use_bias=False)(x)
      y = depth_to_space(y)
      if self.use_bias:
        y = y + self.param('bias', nn.initializers.zeros, (self.features,))
      return y
    batch, height, width, channels = x.shape
    y = jax.image.resize(x, (batch, 2 * height, 2 * width, channels), 'nearest')
    return nn.Conv(self.features, (3, 3), padding='SAME',
                   use_bias=self.use_bias)(y)
