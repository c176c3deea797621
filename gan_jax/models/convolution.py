"""``lax.conv_general_dilated`` with a kernel gradient XLA:CPU runs fast.

XLA's CPU backend computes a convolution's kernel gradient (the correlation
of the layer's input with its output gradient, contracting over batch and
space) far slower than the forward convolution: 12 s against 0.75 s for a
3×3 convolution of 256 to 256 channels at 32×32, batch 64 (an SN-GAN
generator block), 4.6 s for its 1×1 shortcut, on 2 CPU cores
(``benchmarks/conv_kernel_gradient.py``); that was most of an SN-GAN step
on CPU. The same gradient is a sum over kernel taps of plain matrix
products,

  ∂L/∂W[i, j] = Σ_{b, y, x} X_pad[b, s·y + i, s·x + j, :]ᵀ ∂L/∂Y[b, y, x, :],

one ``[c_in, c_out]`` dot per tap, which XLA runs as a GEMM near the
machine's peak (1.0 s for that layer). Each tap copies a shifted operand
(the output gradient at stride 1, the input's strided window otherwise), so
the dots pay off only when each copied element meets enough multiply-adds,
i.e. when the other operand has enough channels: at stride 1 with an RGB
input (an SN-GAN critic's first layer) XLA's own gradient is 5× faster and
is kept; a strided RGB layer or an RGB output at stride 1 gains 1.8-2×.

:func:`conv_general_dilated` is a drop-in for ``lax.conv_general_dilated``
and :data:`Conv` is ``flax.linen.Conv`` computed with it (same parameters
and names): the same function and input gradient, with the kernel gradient
computed per tap (``jax.custom_vjp``) on CPU for channels-last convolutions
without dilation or feature groups where the operand each tap does not copy
has at least 32 channels;
everything else, and every other backend (whose convolution libraries
compute the kernel gradient well), is ``lax.conv_general_dilated`` itself.
Reverse-over-reverse differentiation (gradient penalties) goes through the
custom rule.
"""

import functools
import itertools

import flax.linen as nn
import jax
from jax import lax

# The channels-last layout of Flax's Conv for 2 spatial dimensions.
_CHANNELS_LAST = ('NHWC', 'HWIO', 'NHWC')
# Fewer channels in the operand the taps do not copy (input channels at
# stride 1, output channels otherwise) than this: XLA's kernel gradient is
# faster (benchmarks/conv_kernel_gradient.py).
_MIN_CHANNELS = 32


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
  uncopied_channels = (rhs.shape[-2] if all(s == 1 for s in window_strides)
                       else rhs.shape[-1])
  if (jax.default_backend() != 'cpu' or lhs.ndim != 4 or not undilated
      or uncopied_channels < _MIN_CHANNELS
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
  """``[kh, kw, c_in, c_out]``: one dot per kernel tap, contracting batch and
  space.

  Stride 1: the input against the output gradient shifted by the tap (zero
  fill), which pairs every input pixel with the output it fed through that
  tap; measured 1.6× faster than shifting the input at 32×32×256 (each dot
  then reads the same unshifted input). Larger strides: the strided input
  window of the tap against the output gradient (shifting the gradient
  would mean dilating it by the stride, multiplying the dots' work).
  """
  zero = jax.numpy.zeros((), inputs.dtype)
  out_height, out_width = output_gradient.shape[1:3]
  taps = []
  for i, j in itertools.product(range(kernel.shape[0]),
                                range(kernel.shape[1])):
    if strides == (1, 1):
      # shifted[y, x] = output_gradient[y + lo - i, x + lo' - j], or 0.
      pads = [(tap - lo, size - out - (tap - lo), 0) for tap, (lo, _), size, out
              in zip((i, j), padding, inputs.shape[1:3],
                     (out_height, out_width))]
      lhs = inputs
      rhs = lax.pad(output_gradient, zero, [(0, 0, 0), *pads, (0, 0, 0)])
    else:
      padded = lax.pad(inputs, zero, [(0, 0, 0), *[(lo, hi, 0)
                                                   for lo, hi in padding],
                                      (0, 0, 0)])
      lhs = lax.slice(
          padded, (0, i, j, 0),
          (padded.shape[0], i + strides[0] * (out_height - 1) + 1,
           j + strides[1] * (out_width - 1) + 1, padded.shape[3]),
          (1, *strides, 1))
      rhs = output_gradient
    taps.append(lax.dot_general(lhs, rhs, (((0, 1, 2), (0, 1, 2)), ((), ())),
                                precision=precision))
  return jax.numpy.stack(taps).reshape(kernel.shape).astype(kernel.dtype)
