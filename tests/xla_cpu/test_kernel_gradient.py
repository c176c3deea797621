"""gan_jax.xla_cpu.kernel_gradient: lax's convolution, kernel gradient per
tap where it pays."""

import flax.linen as nn
import jax
from jax import lax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.models import conv
from gan_jax.xla_cpu import autotune
from gan_jax.xla_cpu import kernel_gradient

_NHWC = ('NHWC', 'HWIO', 'NHWC')


def _inputs(height, kernel_size, channels=(32, 32), batch=2, seed=0):
  keys = jax.random.split(jax.random.PRNGKey(seed), 3)
  x = jax.random.normal(keys[0], (batch, height, height + 1, channels[0]))
  w = jax.random.normal(keys[1], (*kernel_size, *channels))
  return x, w, keys[2]


def _assert_close(got, want):
  """Equal up to float32 rounding of sums whose terms reach max |want|."""
  np.testing.assert_allclose(got, want, rtol=2e-5,
                             atol=2e-6 * np.abs(want).max())


def _loss(conv, strides, padding):
  """A non-linear scalar of the output, so every gradient entry matters."""
  def loss(x, w):
    y = conv(x, w, strides, padding, dimension_numbers=_NHWC)
    return jnp.sum(jnp.sin(y) * jnp.arange(y.shape[-1]))
  return loss


@pytest.fixture(params=['per_tap', 'xla', 'auto'])
def mode(request, monkeypatch):
  """Each way of computing the kernel gradient; ``per_tap`` is the custom
  rule wherever it applies, whatever this machine's timings say."""
  monkeypatch.setenv(kernel_gradient.KERNEL_GRADIENT_ENV, request.param)
  return request.param


@pytest.mark.parametrize('kernel_size,strides,padding', [
    ((3, 3), (1, 1), 'SAME'),
    ((4, 4), (2, 2), 'SAME'),
    ((1, 1), (1, 1), 'VALID'),
    ((3, 2), (2, 1), ((2, 0), (1, 3))),
    ((3, 3), (2, 2), ((-1, 1), (0, 0))),  # Negative padding crops.
    ((3, 3), (1, 1), ((2, 0), (-1, 1))),
])
def test_function_and_gradients_equal_lax(kernel_size, strides, padding,
                                          mode):
  x, w, _ = _inputs(9, kernel_size)
  ours = _loss(kernel_gradient.conv_general_dilated, strides, padding)
  theirs = _loss(lax.conv_general_dilated, strides, padding)
  np.testing.assert_allclose(ours(x, w), theirs(x, w), rtol=1e-6)
  for got, want in zip(jax.grad(ours, (0, 1))(x, w),
                       jax.grad(theirs, (0, 1))(x, w)):
    _assert_close(got, want)


def _gradient_jaxpr(channels, strides):
  x, w, _ = _inputs(8, (4, 4), channels=channels)
  return str(jax.make_jaxpr(jax.grad(_loss(kernel_gradient.conv_general_dilated,
                                           strides, 'SAME'), 1))(x, w))


@pytest.mark.parametrize('strides', [(1, 1), (2, 2)])
def test_modes_choose_the_kernel_gradient(strides, monkeypatch):
  """``per_tap`` takes the custom rule's dots, ``xla`` lax's gradient (in
  the same custom rule, so that the forward pass is one program either
  way), and ``auto`` does what the autotuner answers for the layer."""
  env = kernel_gradient.KERNEL_GRADIENT_ENV
  monkeypatch.setenv(env, 'per_tap')
  assert 'dot_general' in _gradient_jaxpr((32, 3), strides)
  monkeypatch.setenv(env, 'xla')
  assert 'dot_general' not in _gradient_jaxpr((32, 3), strides)
  monkeypatch.setenv(env, 'auto')
  asked = []
  for answer in (True, False):
    monkeypatch.setattr(
        autotune, 'prefers_challenger',
        lambda key, *_, answer=answer: asked.append(key) or answer)
    assert ('dot_general' in _gradient_jaxpr((32, 3), strides)) == answer
  assert len(asked) == 2 and 'w[4, 4, 32, 3]' in asked[0]
  assert f'strides {list(strides)}' in asked[0]


def test_an_unknown_mode_is_refused_naming_the_allowed(monkeypatch):
  monkeypatch.setenv(kernel_gradient.KERNEL_GRADIENT_ENV, 'fast')
  with pytest.raises(ValueError, match="'fast'.*auto, per_tap, xla"):
    _gradient_jaxpr((32, 32), (1, 1))


@pytest.mark.parametrize('channels,strides', [((32, 3), (1, 1)),
                                              ((3, 32), (2, 2)),
                                              ((3, 32), (1, 1))])
def test_few_channel_layers_equal_lax(channels, strides, mode):
  x, w, _ = _inputs(9, (4, 4), channels=channels)
  ours = _loss(kernel_gradient.conv_general_dilated, strides, 'SAME')
  theirs = _loss(lax.conv_general_dilated, strides, 'SAME')
  for got, want in zip(jax.grad(ours, (0, 1))(x, w),
                       jax.grad(theirs, (0, 1))(x, w)):
    _assert_close(got, want)


def test_gradient_penalty_second_order_equals_lax(mode):
  """Reverse over reverse (WGAN-GP's ‖∇x D‖ differentiated in the params)."""
  x, w, _ = _inputs(8, (3, 3))

  def penalty(conv):
    def critic(x, w):
      return jnp.sum(jnp.tanh(conv(x, w, (2, 2), 'SAME',
                                   dimension_numbers=_NHWC)))
    return lambda w: jnp.sum(jax.grad(critic)(x, w) ** 2)

  _assert_close(jax.grad(penalty(kernel_gradient.conv_general_dilated))(w),
                jax.grad(penalty(lax.conv_general_dilated))(w))


@pytest.mark.parametrize('options', [
    dict(rhs_dilation=(2, 2)), dict(lhs_dilation=(2, 1)),
    dict(feature_group_count=1, precision=lax.Precision.HIGHEST)])
def test_other_convolutions_equal_lax(options):
  x, w, _ = _inputs(9, (3, 3))
  def loss(conv):
    return lambda w: jnp.sum(jnp.sin(conv(
        x, w, (1, 1), ((1, 1), (1, 1)), dimension_numbers=_NHWC, **options)))
  _assert_close(jax.grad(loss(kernel_gradient.conv_general_dilated))(w),
                jax.grad(loss(lax.conv_general_dilated))(w))


def test_the_models_conv_with_it_installed_equals_flax_conv():
  """gan_jax.models.conv.Conv computes with it within ``conv.use`` (as the
  CPU tuning installs it) and is Flax's layer: same parameters, values and
  gradients."""
  x, _, key = _inputs(8, (3, 3))
  ours = conv.Conv(32, (3, 3), strides=2)
  plain = nn.Conv(32, (3, 3), strides=2)
  params = plain.init(key, x)
  grad = lambda module: jax.grad(
      lambda p: jnp.sum(jnp.sin(module.apply(p, x))))
  assert 'custom_vjp_call' not in str(jax.make_jaxpr(grad(ours))(params))
  with conv.use(conv_general_dilated=kernel_gradient.conv_general_dilated):
    tuned = grad(ours)(params)
    assert 'custom_vjp_call' in str(jax.make_jaxpr(grad(ours))(params))
  for got, want in zip(jax.tree.leaves(tuned),
                       jax.tree.leaves(grad(plain)(params))):
    _assert_close(got, want)
