"""benchmarks/flop_count.py: model FLOPs counted from jaxprs."""

import functools
import os

import jax
import jax.numpy as jnp
from jax import lax
import numpy as np
import pytest

from benchmarks import flop_count
from gan_jax import config as config_lib
from gan_jax import train
from gan_jax.models import conv
from gan_jax.xla_cpu import kernel_gradient
from gan_jax.xla_cpu import transposed_conv

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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
  # Input and kernel gradients each repeat the forward's multiply-adds (the
  # value is returned: a gradient alone would not need this forward).
  loss = lambda x, w: conv(x, w).sum()
  assert flop_count.count(jax.value_and_grad(loss, argnums=(0, 1)), x,
                          w) == 3 * forward
  assert flop_count.count(jax.value_and_grad(loss, argnums=1), x,
                          w) == 2 * forward
  assert flop_count.count(jax.grad(loss, argnums=1), x, w) == forward


def test_gan_jax_cpu_formulations_count_as_the_model():
  # With the CPU tuning installed, gan_jax computes transposed convolutions
  # as four output phases (with a wasted border) and kernel gradients per
  # tap; the count is the plain formulation's all the same.
  x, w = jnp.ones((2, 8, 8, 16)), jnp.ones((4, 4, 16, 32))
  _, plain = _CONVOLUTIONS['transposed stride 2']
  grads = lambda f: jax.value_and_grad(lambda x, w: f(x, w).sum(),
                                       argnums=(0, 1))
  strided = lambda x, w: conv.conv_general_dilated(
      x, w, (2, 2), 'SAME', dimension_numbers=_NHWC)
  with conv.use(conv_general_dilated=kernel_gradient.conv_general_dilated,
                transposed_conv_4x4_stride2=transposed_conv.phases):
    assert flop_count.count(conv.transposed_conv_4x4_stride2, x, w) == (
        flop_count.count(plain, x, w))
    assert flop_count.count(grads(conv.transposed_conv_4x4_stride2), x,
                            w) == flop_count.count(grads(plain), x, w)
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


def test_products_nothing_uses_are_not_counted():
  # As XLA drops them before running: at top level, inside jit and inside
  # a scan body (the generator update traces a critic pass it never uses).
  m = jnp.ones((5, 5))
  def wasteful(x):
    unused = x @ m @ m
    del unused
    return x @ m
  one = 2 * 3 * 5 * 5
  x = jnp.ones((3, 5))
  assert flop_count.count(wasteful, x) == one
  assert flop_count.count(jax.jit(wasteful), x) == one
  # The scan's per-step outputs are thrown away by the caller.
  scanned = lambda x: lax.scan(lambda c, _: (wasteful(c), c @ m @ m), x,
                               None, length=4)[0]
  assert flop_count.count(scanned, x) == 4 * one


def test_ring8_train_step_counts_the_products_by_hand():
  # configs/ring8.py: G 256 -> 128 -> 128 -> 2, D 2 -> 128 -> 128 -> 1,
  # batch 512, one critic and one generator update. Multiply-adds per
  # example of each pass (weight and input gradients each repeat a layer's
  # forward; no input gradient of a first layer, whose input is data):
  g, d = 256 * 128 + 128 * 128 + 128 * 2, 2 * 128 + 128 * 128 + 128 * 1
  g_input_grad, d_input_grad = g - 256 * 128, d - 2 * 128
  critic_update = g + 2 * d + 2 * (d + d_input_grad)
  generator_update = g + d + d + (g + g_input_grad)
  config = config_lib.load(os.path.join(REPO, 'configs/ring8.py'))
  gan = train.build(config)
  state = jax.jit(functools.partial(train.init_state, gan))(
      jax.random.PRNGKey(0))
  assert flop_count.count(train.make_fused_steps(gan, 1), state) == (
      2 * 512 * (critic_update + generator_update))


def test_datasheet_peaks_and_measured_matmul():
  assert flop_count.datasheet_flops_per_sec('NVIDIA H100 80GB HBM3') == (
      494.7e12)
  assert flop_count.datasheet_flops_per_sec('NVIDIA H100 PCIe') == 378e12
  assert flop_count.datasheet_flops_per_sec('cpu') is None
  rate = flop_count.measured_matmul_flops_per_sec(128, calls=3)
  assert np.isfinite(rate) and rate > 0
