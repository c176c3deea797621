"""SNGAN standard CNN and ResNet: shapes, the paper's sizes, conditioning."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import models


def shapes(name, resolution, num_classes=0, batch=2):
  g = models.build_generator(name, {}, (resolution, resolution, 3),
                             num_classes)
  d = models.build_critic(name, {}, num_classes)
  labels = (jax.ShapeDtypeStruct((batch,), jnp.int32),) if num_classes else ()
  z = jax.ShapeDtypeStruct((batch, 128), jnp.float32)
  key = jax.random.PRNGKey(0)
  g_vars = jax.eval_shape(
      lambda z, *y: g.init(key, z, *y, train=False), z, *labels)
  x = jax.eval_shape(lambda v, z, *y: g.apply(v, z, *y, train=False),
                     g_vars, z, *labels)
  d_vars = jax.eval_shape(
      lambda x, *y: d.init(key, x, *y, train=False), x, *labels)
  out = jax.eval_shape(lambda v, x, *y: d.apply(v, x, *y, train=False),
                       d_vars, x, *labels)
  count = lambda v: sum(int(np.prod(p.shape))
                        for p in jax.tree.leaves(v['params']))
  return x.shape, out, count(g_vars), count(d_vars)


@pytest.mark.parametrize('name,resolutions', [
    ('sngan_cnn', (16, 32, 48, 64)), ('sngan_resnet', (16, 32, 64))])
@pytest.mark.parametrize('num_classes', [0, 10])
def test_output_shapes(name, resolutions, num_classes):
  for resolution in resolutions:
    x_shape, out, _, _ = shapes(name, resolution, num_classes)
    assert x_shape == (2, resolution, resolution, 3)
    assert out.logits.shape == (2,)
    assert out.features.shape[0] == 2


def test_resnet_has_the_papers_size_at_32():
  """Miyato et al.'s CIFAR-10 ResNet: about 4.3 M generator and 1.0 M
  critic parameters (3 up-blocks of 256, 4 critic blocks of 128)."""
  _, out, g_params, d_params = shapes('sngan_resnet', 32)
  assert 4.2e6 < g_params < 4.4e6
  assert 1.0e6 < d_params < 1.1e6
  assert out.features.shape == (2, 128)  # Global sum pooling.


def test_cnn_critic_features_are_the_last_map():
  _, out, _, _ = shapes('sngan_cnn', 32)
  assert out.features.shape == (2, 4 * 4 * 512)


def test_unsupported_resolution_is_named():
  g = models.build_generator('sngan_resnet', {}, (24, 24, 3))
  with pytest.raises(ValueError, match='SNGAN ResNet needs square images of '
                     'size 16, 32, 64; got'):
    g.init(jax.random.PRNGKey(0), jnp.zeros((1, 8)))


def test_conditional_critic_needs_labels():
  d = models.build_critic('sngan_resnet', {}, num_classes=10)
  with pytest.raises(ValueError, match='projection critic is '
                     'class-conditional and needs labels'):
    d.init(jax.random.PRNGKey(0), jnp.zeros((1, 16, 16, 3)))
