"""``lax.conv_general_dilated`` with a weight gradient XLA:CPU runs fast.

XLA's CPU backend computes a convolution's kernel gradient (the correlation
of the layer's input with its output gradient, contracting over batch and
space) several times slower than the forward convolution: 4× at 16×16×128
and 8× at 32×32×128 (batch 64, 3×3), measured by
``benchmarks/conv_kernel_gradient.py``, which makes it the largest cost of a
convolutional GAN's step on CPU. The same gradient is a sum over kernel taps
of plain matrix products,

  ∂L/∂W[i, j] = Σ_{b, y, x} X_pad[b, s·y + i, s·x + j, :]ᵀ ∂L/∂Y[b, y, x, :],

one ``[c_in, c_out]`` dot per tap over a strided window of the padded
input, which XLA runs as a GEMM near the machine's peak. Each tap copies its input
window, so the dots pay off only when each copied element takes part in
enough multiply-adds: with few output channels (a generator's last, RGB
layer) XLA's own gradient is faster, and is kept.

:func:`conv_general_dilated` is a drop-in for ``lax.conv_general_dilated``
and :data:`Conv` is ``flax.linen.Conv`` computed with it (same parameters and
names): the same
function and input gradient, with the kernel gradient computed per tap
(``jax.custom_vjp``) on CPU for channels-last convolutions without dilation
or feature groups to at least 32 output channels; everything else, and
every other backend (whose convolution libraries compute the kernel
gradient well), is ``lax.conv_general_dilated`` itself. Reverse-over-reverse differentiation
(gradient penalties) goes through the custom rule.
"""

import functools
import itertools

import flax.linen as nn
import jax
from jax import lax

# The channels-last layout of Flax's Conv for 2 spatial dimensions.
_CHANNELS_LAST = ('NHWC', 'HWIO', 'NHWC')
# Fewer output channels than this: XLA's kernel gradient is faster
# (benchmarks/conv_kernel_gradient.py).
_MIN_OUT_CHANNELS = 32


def conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=None,
                         rhs_dilation=None, dimension_numbers=None,
                         feature_group_count=1, batch_group_count=1,
                         precision=None, preferred_element_type=None):
  """``lax.conv_general_dilated``, with a per-tap kernel gradient on CPU."""
  plain = functools.partial(
      lax.conv_general_dilated, lhs, rhs, window_strides, padding,
      lhs_dilation=lhs_dilation, rhs_dilation=rhs_dilation,
      dimension_numbers=dimension_numbers,
      feature_group_count=feature_group_count,
      batch_group_count=batch_group_count, precision=precision,
      preferred_element_type=preferred_element_type)
  undilated = all(d == 1 for d in (lhs_dilation or ()) + (rhs_dilation or ()))
  if (jax.default_backend() != 'cpu' or lhs.ndim != 4 or not undilated
      or rhs.shape[-1] < _MIN_OUT_CHANNELS
      or feature_group_count != 1 or batch_group_count != 1
      or preferred_element_type is not None
      or lax.conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
      != lax.conv_dimension_numbers(lhs.shape, rhs.shape, _CHANNELS_LAST)):
    return plain()
  if isinstance(padding, str):
    padding = lax.padtype_to_pads(lhs.shape[1:-1], rhs.shape[:-2],
                                  window_strides, padding)
  return _channels_last_conv(lhs, rhs, tuple(window_strides),
                             tuple(map(tuple, padding)), precision)


# ``flax.linen.Conv`` with the kernel gradient above; modules keep the names
# and parameters of ``nn.Conv`` (``Conv_0``, ``kernel``, ``bias``).
Conv = functools.partial(nn.Conv, conv_general_dilated=conv_general_dilated)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def _channels_last_conv(inputs, kernel, strides, padding, precision):
  return lax.conv_general_dilated(inputs, kernel, strides, padding,
                                  dimension_numbers=_CHANNELS_LAST,
                                  precision=precision)


def _forward(inputs, kernel, strides, padding, precision):
  outputs = _channels_last_conv(inputs, kernel, strides, padding, precision)
  return outputs, (inputs, kernel)


def _backward(strides, padding, precision, residuals, output_gradient):
  inputs, kernel = residuals
  _, input_vjp = jax.vjp(
      lambda x: lax.conv_general_dilated(x, kernel, strides, padding,
                                         dimension_numbers=_CHANNELS_LAST,
                                         precision=precision), inputs)
  (input_gradient,) = input_vjp(output_gradient)
  return input_gradient, _kernel_gradient(
      inputs, output_gradient, kernel, strides, padding, precision)


_channels_last_conv.defvjp(_forward, _backward)


def _kernel_gradient(inputs, output_gradient, kernel, strides, padding,
                     precision):
  """``[kh, kw, c_in, c_out]``: one dot per tap of the strided input window
  against the output gradient, contracting batch and space."""
  padded = lax.pad(inputs, jax.numpy.zeros((), inputs.dtype),
                   [(0, 0, 0), *[(lo, hi, 0) for lo, hi in padding],
                    (0, 0, 0)])
  out_height, out_width = output_gradient.shape[1:3]
  taps = []
  for i, j in itertools.product(range(kernel.shape[0]),
                                range(kernel.shape[1])):
    window = lax.slice(
        padded, (0, i, j, 0),
        (padded.shape[0], i + strides[0] * (out_height - 1) + 1,
         j + strides[1] * (out_width - 1) + 1, padded.shape[3]),
        (1, *strides, 1))
    taps.append(lax.dot_general(
        window, output_gradient, (((0, 1, 2), (0, 1, 2)), ((), ())),
        precision=precision))
  return jax.numpy.stack(taps).reshape(kernel.shape).astype(kernel.dtype)
