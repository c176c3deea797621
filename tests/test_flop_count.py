"""benchmarks/flop_count.py: model FLOPs counted from jaxprs."""

import jax
import jax.numpy as jnp
from jax import lax
import numpy as np
import pytest

from benchmarks import flop_count
from gan_jax.models import convolution
from gan_jax.models import upsampling

_NHWC = ('NHWC', 'HWIO', 'NHWC')


def _real_pairs(conv, height, width, kernel_hw) -> float:
  """(output position, tap) pairs that meet a real input pixel, found
  independently of the counter: the convolution of an image of ones with a
  kernel of ones (one channel) sums, at each output, the taps on real
  pixels; padding and dilation holes add zero."""
  ones = conv(jnp.ones((1, height, width, 1)), jnp.ones((*kernel_hw, 1, 1)))
  return float(ones.sum())


# name -> (kernel height and width, convolution).
_CONVOLUTIONS = {
    'stride 1 same': ((3, 3), lambda x, w: lax.conv_general_dilated(
        x, w, (1, 1), 'SAME', dimension_numbers=_NHWC)),
    'stride 2 same': ((4, 4), lambda x, w: lax.conv_general_dilated(
        x, w, (2, 2), 'SAME', dimension_numbers=_NHWC)),
    'valid, dilated kernel': ((2, 2), lambda x, w: lax.conv_general_dilated(
        x, w, (1, 1), 'VALID', rhs_dilation=(2, 2),
        dimension_numbers=_NHWC)),
    'transposed stride 2': ((4, 4), lambda x, w: lax.conv_transpose(
        x, w, (2, 2), 'SAME', dimension_numbers=_NHWC)),
}


@pytest.mark.parametrize('name', sorted(_CONVOLUTIONS))
def test_convolution_counts_multiply_adds_on_real_pixels(name):
  kernel_hw, conv = _CONVOLUTIONS[name]
  batch, height, width, c_in, c_out = 2, 8, 6, 5, 7
  x = jnp.ones((batch, height, width, c_in))
  w = jnp.ones((*kernel_hw, c_in, c_out))
  forward = 2 * batch * c_in * c_out * _real_pairs(conv, height, width,
                                                   kernel_hw)
  assert flop_count.count(conv, x, w) == forward
  # Input and kernel gradients each repeat the forward's multiply-adds.
  loss = lambda x, w: conv(x, w).sum()
  assert flop_count.count(jax.grad(loss, argnums=(0, 1)), x, w) == 3 * forward
  assert flop_count.count(jax.grad(loss, argnums=1), x, w) == 2 * forward


def test_gan_jax_cpu_formulations_count_as_the_model():
  # On CPU gan_jax computes transposed convolutions as four output phases
  # (with a wasted border) and kernel gradients per tap; the count is the
  # plain formulation's on every backend.
  x, w = jnp.ones((2, 8, 8, 16)), jnp.ones((4, 4, 16, 32))
  _, plain = _CONVOLUTIONS['transposed stride 2']
  assert flop_count.count(upsampling.transposed_conv, x, w) == (
      flop_count.count(plain, x, w))
  grads = lambda f: jax.grad(lambda x, w: f(x, w).sum(), argnums=(0, 1))
  assert flop_count.count(grads(upsampling.transposed_conv), x, w) == (
      flop_count.count(grads(plain), x, w))
  strided = lambda x, w: convolution.conv_general_dilated(
      x, w, (2, 2), 'SAME', dimension_numbers=_NHWC)
  w = jnp.ones((4, 4, 16, 64))
  assert flop_count.count(grads(strided), x, w) == flop_count.count(
      grads(_CONVOLUTIONS['stride 2 same'][1]), x, w)


def test_products_loops_and_branches():
  a, b = jnp.ones((3, 4, 5)), jnp.ones((3, 5, 6))
  batched = lambda a, b: jnp.einsum('bij,bjk->bik', a, b)
  assert flop_count.count(batched, a, b) == 2 * 3 * 4 * 5 * 6
  m = jnp.ones((5, 5))
  scanned = lambda x: lax.scan(lambda c, _: (c @ m, None), x, None,
                               length=7)[0]
  assert flop_count.count(scanned, jnp.ones((3, 5))) == 7 * 2 * 3 * 5 * 5
  # A cond counts its most expensive branch; jit (pjit) is looked into.
  branchy = jax.jit(lambda p, x: lax.cond(p, lambda x: x @ m @ m,
                                          lambda x: x, x))
  assert flop_count.count(branchy, True, jnp.ones((3, 5))) == 2 * (
      2 * 3 * 5 * 5)
  with pytest.raises(flop_count.UncountableLoop):
    flop_count.count(lambda x: lax.while_loop(lambda c: c.sum() < 9,
                                              lambda c: c @ m, x),
                     jnp.ones((3, 5)))


def test_datasheet_peaks_and_measured_matmul():
  assert flop_count.datasheet_flops_per_sec('NVIDIA H100 80GB HBM3') == (
      494.7e12)
  assert flop_count.datasheet_flops_per_sec('NVIDIA H100 PCIe') == 378e12
  assert flop_count.datasheet_flops_per_sec('cpu') is None
  rate = flop_count.measured_matmul_flops_per_sec(128, calls=3)
  assert np.isfinite(rate) and rate > 0
