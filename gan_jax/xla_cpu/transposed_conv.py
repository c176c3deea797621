"""The DCGAN upsampling's transposed convolution as four output phases.

A 4×4 stride-2 'SAME' transposed convolution
(:func:`gan_jax.models.conv.transposed_conv_4x4_stride2`) computed as its
four output phases: each output pixel of parity (a, b) is a 2×2 window of
the input times four taps of the kernel, so one 2×2 convolution of the
input padded by one pixel, to four times the channels
(:func:`phase_kernel_from_transposed`), followed by picking each phase's
window and depth-to-space, is the transposed convolution with the same
multiply-adds per output pixel (plus one border row and column). The same
function to float rounding; XLA:CPU differentiates the transposed form far
more slowly than an ordinary convolution (docs/performance.md, "What the
CPU tuning does").
"""

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.models import conv
from gan_jax.models import upsampling

_NHWC = ('NHWC', 'HWIO', 'NHWC')

# For output phase a ∈ {0, 1} (row or column parity) and position p ∈ {0, 1}
# in a 2×2 window of the input padded by one pixel, the tap of the 4-tap
# transposed kernel that connects them. From lax.conv_transpose with 'SAME'
# padding, stride 2, kernel 4: y[2m] = w0·x[m-1] + w2·x[m] (the window
# starting at padded row m), y[2m+1] = w1·x[m] + w3·x[m+1] (starting at
# padded row m + 1, i.e. offset by the phase).
_PHASE_TAPS = np.array([[0, 2], [1, 3]])


def phase_kernel_from_transposed(kernel: jax.Array) -> jax.Array:
  """Maps a ``[4, 4, in, out]`` transposed kernel to the ``[2, 2, in, 4·out]``
  kernel of its four output phases, phase (a, b) in channels
  (2a + b)·out ... (2a + b + 1)·out."""
  kernel = jnp.asarray(kernel)
  return jnp.concatenate([kernel[_PHASE_TAPS[a]][:, _PHASE_TAPS[b]]
                          for a in range(2) for b in range(2)], axis=-1)


def phases(x: jax.Array, kernel: jax.Array) -> jax.Array:
  """The transposed convolution as one 2×2 convolution and depth-to-space.

  The 2×2 convolution goes through :func:`gan_jax.models.conv
  .conv_general_dilated`, so it gets the kernel gradient in use.
  """
  _, height, width, _ = x.shape
  # Padding inside the convolution, not a padded copy (faster on CPU).
  y = conv.conv_general_dilated(
      x, phase_kernel_from_transposed(kernel).astype(x.dtype), (1, 1),
      ((1, 1), (1, 1)), dimension_numbers=_NHWC)
  y = y.reshape(*y.shape[:3], 4, kernel.shape[-1])  # [b, h+1, w+1, 4, out]
  # Phase (a, b)'s windows start at padded pixel (m + a, n + b).
  return upsampling.depth_to_space(jnp.concatenate(
      [y[:, a:a + height, b:b + width, 2 * a + b]
       for a in range(2) for b in range(2)], axis=-1))
