"""MLP generator and critic: shapes, features, argument checking."""

import jax
import jax.numpy as jnp
import pytest

from gan_jax import models


def test_generator_and_critic_shapes():
  g = models.build_generator('mlp', dict(width=16, depth=3), output_shape=(2,))
  d = models.build_critic('mlp',
                          dict(width=8, depth=2, activation='leaky_relu'))
  z = jnp.ones((5, 4))
  g_vars = g.init(jax.random.PRNGKey(0), z)
  x = g.apply(g_vars, z)
  assert x.shape == (5, 2)
  assert len(g_vars['params']) == 4  # 3 hidden layers and the output layer.
  d_vars = d.init(jax.random.PRNGKey(1), x)
  out = d.apply(d_vars, x)
  assert isinstance(out, models.CriticOutput)
  assert out.logits.shape == (5,) and out.features.shape == (5, 8)


def test_unknown_model_argument_names_the_allowed_ones():
  with pytest.raises(ValueError,
                     match="unknown argument 'hidden'.*width, depth"):
    models.build_critic('mlp', dict(hidden=3))
  with pytest.raises(
      ValueError,
      match="unknown generator 'resnet'; allowed: autoencoder, dcgan, mlp"):
    models.build_generator('resnet', {}, (2,))


def test_unknown_activation():
  d = models.build_critic('mlp', dict(activation='swishy'))
  with pytest.raises(ValueError, match="unknown activation 'swishy'"):
    d.init(jax.random.PRNGKey(0), jnp.ones((1, 2)))
