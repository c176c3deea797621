"""DCGAN models and the upsampling choices."""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import models
from gan_jax.models import conv
from gan_jax.models import upsampling
from gan_jax.xla_cpu import transposed_conv


@pytest.mark.parametrize('tuned', [False, True])
def test_transposed_upsampling_is_flax_conv_transpose_either_way(tuned):
  """lax's transposed convolution and the CPU tuning's four phases
  (gan_jax.xla_cpu.transposed_conv) give Flax's layer, values and
  gradients."""
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 5, 6, 3))
  transposed = nn.ConvTranspose(4, (4, 4), strides=(2, 2), padding='SAME')
  params = transposed.init(jax.random.PRNGKey(1), x)['params']
  params['bias'] = jax.random.normal(jax.random.PRNGKey(2), (4,))
  expected = transposed.apply({'params': params}, x)
  layer = upsampling.Upsample(4, 'transposed')
  assert jax.tree.map(jnp.shape, layer.init(jax.random.PRNGKey(1), x)) == (
      {'params': jax.tree.map(jnp.shape, params)})
  with conv.use(transposed_conv_4x4_stride2=(transposed_conv.phases if tuned
                                             else None)):
    got = layer.apply({'params': params}, x)
    grad = lambda f: jax.grad(lambda p: jnp.sum(jnp.sin(f(p))))(params)
    got_grad = grad(lambda p: layer.apply({'params': p}, x))
  assert got.shape == expected.shape == (2, 10, 12, 4)
  np.testing.assert_allclose(got, expected, atol=1e-5)
  assert_close = functools.partial(np.testing.assert_allclose, atol=1e-4)
  jax.tree.map(assert_close, got_grad,
               grad(lambda p: transposed.apply({'params': p}, x)))


def test_depth_to_space_places_phases():
  x = jnp.arange(4.0).reshape(1, 1, 1, 4)
  np.testing.assert_array_equal(upsampling.depth_to_space(x)[0, :, :, 0],
                                [[0, 1], [2, 3]])


@pytest.mark.parametrize('mode', ['transposed', 'subpixel', 'nearest'])
@pytest.mark.parametrize('resolution', [8, 16, 32, 64])
def test_shapes(mode, resolution):
  g = models.build_generator('dcgan', dict(width=8, upsampling=mode),
                             (resolution, resolution, 3))
  d = models.build_critic('dcgan', dict(width=8))

  def generate_and_judge(z):
    x = g.apply(g.init(jax.random.PRNGKey(0), z, train=False), z,
                train=False)
    return x, d.apply(d.init(jax.random.PRNGKey(1), x, train=False), x,
                      train=False)

  # Shapes by tracing alone; the values (the final tanh keeps samples in
  # [-1, 1], the same layer at every resolution) computed at 8×8, where
  # running the layers op by op is cheapest.
  if resolution == 8:
    x, out = generate_and_judge(jnp.ones((2, 16)))
    assert float(jnp.abs(x).max()) <= 1.0
  else:
    x, out = jax.eval_shape(generate_and_judge,
                            jax.ShapeDtypeStruct((2, 16), jnp.float32))
  assert x.shape == (2, resolution, resolution, 3)
  assert out.logits.shape == (2,)
  assert out.features.shape == (
      2, 4 * 4 * 8 * 2 ** (int(np.log2(resolution)) - 3))


def test_bad_values_are_named():
  with pytest.raises(ValueError, match="unknown upsampling 'bilinear'"):
    upsampling.check_mode('bilinear')
  g = models.build_generator('dcgan', dict(upsampling='auto'), (8, 8, 1))
  with pytest.raises(ValueError, match="unknown upsampling 'auto'; allowed: "
                     'transposed, subpixel, nearest'):
    g.init(jax.random.PRNGKey(0), jnp.ones((1, 4)))
  g = models.build_generator('dcgan', {}, (12, 12, 1))
  with pytest.raises(ValueError, match='DCGAN resolution 12 not supported'):
    g.init(jax.random.PRNGKey(0), jnp.ones((1, 4)))
