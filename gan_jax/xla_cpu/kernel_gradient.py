"""``lax.conv_general_dilated`` with a kernel gradient XLA:CPU runs fast.

XLA's CPU backend can compute a convolution's kernel gradient (the
correlation of the layer's input with its output gradient, contracting over
batch and space) far more slowly than the forward convolution. The same
gradient is a sum over kernel taps of plain matrix products,

  ∂L/∂W[i, j] = Σ_{b, y, x} X_pad[b, s·y + i, s·x + j, :]ᵀ ∂L/∂Y[b, y, x, :],

one ``[c_in, c_out]`` dot per tap, which XLA runs as a GEMM near the
machine's peak. Each tap copies a shifted operand (the output gradient at
stride 1, the input's strided window otherwise), so the dots pay off only
when each copied element meets enough multiply-adds: which form is faster
depends on the layer and the machine (docs/performance.md, "What the CPU
tuning does"; ``benchmarks/conv_kernel_gradient.py``).

:func:`conv_general_dilated` is a drop-in for ``lax.conv_general_dilated``
(:mod:`gan_jax.xla_cpu` installs it in :mod:`gan_jax.models.conv`): the
same function and input gradient, with the kernel gradient computed per tap
(``jax.custom_vjp``) for channels-last convolutions without dilation or
feature groups where :mod:`gan_jax.xla_cpu.autotune` finds that faster on
this machine, timing both the first time a layer's gradient is traced with
its shapes (``GAN_JAX_CONV_KERNEL_GRADIENT``: ``auto``, the default;
``per_tap`` or ``xla`` to force one wherever the per-tap form applies). A
run keeps the choices it made (``xla_cpu.json`` in its workdir). The two
forms agree to float rounding, not bit for bit. Everything else is
``lax.conv_general_dilated`` itself. Reverse-over-reverse differentiation
(gradient penalties) goes through the custom rule.
"""

import functools
import itertools
import os

import jax
from jax import lax

from gan_jax.xla_cpu import autotune

# The channels-last layout of Flax's Conv for 2 spatial dimensions.
_CHANNELS_LAST = ('NHWC', 'HWIO', 'NHWC')
# How eligible convolutions compute their kernel gradient on CPU.
KERNEL_GRADIENTS = ('auto', 'per_tap', 'xla')
KERNEL_GRADIENT_ENV = 'GAN_JAX_CONV_KERNEL_GRADIENT'


def kernel_gradient_mode() -> str:
  """``$GAN_JAX_CONV_KERNEL_GRADIENT`` (default ``auto``), checked."""
  mode = os.environ.get(KERNEL_GRADIENT_ENV, 'auto')
  if mode not in KERNEL_GRADIENTS:
    raise ValueError(f'{KERNEL_GRADIENT_ENV}={mode!r} is not one of '
                     f'{", ".join(KERNEL_GRADIENTS)}')
  return mode


def conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=None,
                         rhs_dilation=None, dimension_numbers=None,
                         feature_group_count=1, batch_group_count=1,
                         precision=None, preferred_element_type=None):
  """``lax.conv_general_dilated``, with a per-tap kernel gradient where
  that is faster."""
  plain = functools.partial(
      lax.conv_general_dilated, lhs, rhs, window_strides, padding,
      lhs_dilation=lhs_dilation, rhs_dilation=rhs_dilation,
      dimension_numbers=dimension_numbers,
      feature_group_count=feature_group_count,
      batch_group_count=batch_group_count, precision=precision,
      preferred_element_type=preferred_element_type)
  undilated = all(d == 1 for d in (lhs_dilation or ()) + (rhs_dilation or ()))
  if (lhs.ndim != 4 or not undilated
      or feature_group_count != 1 or batch_group_count != 1
      or preferred_element_type is not None
      or lax.conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
      != lax.conv_dimension_numbers(lhs.shape, rhs.shape, _CHANNELS_LAST)):
    return plain()
  if isinstance(padding, str):
    padding = lax.padtype_to_pads(lhs.shape[1:-1], rhs.shape[:-2],
                                  window_strides, padding)
  strides, padding = tuple(window_strides), tuple(map(tuple, padding))
  # Through the custom rule whatever the mode, so that the forward
  # computation is the same whichever gradient a layer gets.
  return _channels_last_conv(lhs, rhs, strides, padding, precision)


def per_tap_pays(inputs, kernel, strides, padding, precision) -> bool:
  """Whether this layer's kernel gradient is computed per tap (module
  docstring): as the run recorded it, as the mode says, or as timed on this
  machine. Asked when the gradient is traced, so that functions never
  differentiated (sampling, evaluation at large batches) time nothing."""
  mode = kernel_gradient_mode()
  outputs = jax.eval_shape(
      functools.partial(_lax_conv, strides=strides, padding=padding,
                        precision=precision), inputs, kernel)
  shapes = [jax.ShapeDtypeStruct(a.shape, a.dtype)
            for a in (inputs, outputs, kernel)]
  key = (f'conv_kernel_gradient {inputs.dtype} x{list(inputs.shape)} '
         f'w{list(kernel.shape)} strides {list(strides)} padding '
         f'{[list(p) for p in padding]} precision {precision}')
  return autotune.decide(
      key, *(functools.partial(gradient, strides=strides, padding=padding,
                               precision=precision)
             for gradient in (xla_kernel_gradient, per_tap_kernel_gradient)),
      shapes, forced=None if mode == 'auto' else mode == 'per_tap')


def _lax_conv(inputs, kernel, strides, padding, precision):
  return lax.conv_general_dilated(inputs, kernel, strides, padding,
                                  dimension_numbers=_CHANNELS_LAST,
                                  precision=precision)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def _channels_last_conv(inputs, kernel, strides, padding, precision):
  return _lax_conv(inputs, kernel, strides, padding, precision)


def _forward(inputs, kernel, strides, padding, precision):
  outputs = _channels_last_conv(inputs, kernel, strides, padding, precision)
  return outputs, (inputs, kernel)


def _backward(strides, padding, precision, residuals, output_gradient):
  inputs, kernel = residuals
  _, input_vjp = jax.vjp(
      lambda x: _lax_conv(x, kernel, strides, padding, precision), inputs)
  (input_gradient,) = input_vjp(output_gradient)
  kernel_gradient = (
      per_tap_kernel_gradient if per_tap_pays(inputs, kernel, strides, padding,
                                        precision)
      else xla_kernel_gradient)
  return input_gradient, kernel_gradient(inputs, output_gradient, kernel,
                                         strides, padding, precision)


_channels_last_conv.defvjp(_forward, _backward)


def xla_kernel_gradient(inputs, output_gradient, kernel, strides, padding,
                         precision):
  """The kernel gradient as XLA computes it (lax's VJP)."""
  _, kernel_vjp = jax.vjp(
      lambda w: _lax_conv(inputs, w, strides, padding, precision), kernel)
  return kernel_vjp(output_gradient)[0]


def per_tap_kernel_gradient(inputs, output_gradient, kernel, strides, padding,
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
