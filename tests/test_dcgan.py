"""DCGAN models and the upsampling choices."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import models
from gan_jax.models import upsampling


def test_subpixel_computes_exactly_the_transposed_convolution():
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 5, 6, 3))
  transposed = nn.ConvTranspose(4, (4, 4), strides=(2, 2), padding='SAME',
                                use_bias=False)
  kernel = transposed.init(jax.random.PRNGKey(1), x)['params']['kernel']
  expected = transposed.apply({'params': {'kernel': kernel}}, x)
  layer = upsampling.Upsample(4, 'subpixel', use_bias=False)
  got = layer.apply({'params': {'Conv_0': {
      'kernel': upsampling.subpixel_kernel_from_transposed(kernel)}}}, x)
  assert got.shape == expected.shape == (2, 10, 12, 4)
  np.testing.assert_allclose(got, expected, atol=1e-5)


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
  z = jnp.ones((2, 16))
  g_vars = g.init(jax.random.PRNGKey(0), z, train=False)
  x = g.apply(g_vars, z, train=False)
  assert x.shape == (2, resolution, resolution, 3)
  assert float(jnp.abs(x).max()) <= 1.0
  out = d.apply(d.init(jax.random.PRNGKey(1), x, train=False), x, train=False)
  assert out.logits.shape == (2,)
  assert out.features.shape == (2, 4 * 4 * 8 * 2 ** (int(np.log2(resolution)) - 3))


def test_auto_is_subpixel_on_cpu_and_bad_values_are_named():
  assert upsampling.resolve('auto') == (
      'subpixel' if jax.default_backend() == 'cpu' else 'transposed')
  with pytest.raises(ValueError, match="unknown upsampling 'bilinear'"):
    upsampling.resolve('bilinear')
  g = models.build_generator('dcgan', {}, (12, 12, 1))
  with pytest.raises(ValueError, match='DCGAN resolution 12 not supported'):
    g.init(jax.random.PRNGKey(0), jnp.ones((1, 4)))
