"""The critic's gradient with respect to its inputs, shared by the penalties."""

from typing import Callable

import jax
import jax.numpy as jnp
import optax

from gan_jax.models.common import CriticOutput


def input_gradients(apply: Callable[[jax.Array], CriticOutput],
                    x: jax.Array) -> jax.Array:
  """∇ₓ D(x) for every sample of ``x`` (the logits are per-sample, so the
  gradient of their sum is each sample's own gradient)."""
  return jax.grad(lambda inputs: jnp.sum(apply(inputs).logits))(x)


def per_sample_norms(gradients: jax.Array) -> jax.Array:
  """``[batch]`` Euclidean norms, with a finite gradient at zero."""
  flat = gradients.reshape(gradients.shape[0], -1)
  return optax.safe_norm(flat, min_norm=1e-12, axis=1)


def per_sample_squared_norms(gradients: jax.Array) -> jax.Array:
  """``[batch]`` squared Euclidean norms."""
  return jnp.sum(jnp.square(gradients.reshape(gradients.shape[0], -1)), axis=1)


def broadcast_per_sample(values: jax.Array, like: jax.Array) -> jax.Array:
  """``[batch]`` values shaped to broadcast against ``like``
  ``[batch, ...]``."""
  return values.reshape((-1,) + (1,) * (like.ndim - 1))
