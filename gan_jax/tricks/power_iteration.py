"""Spectral-norm estimation by power iteration, for weights of any rank.

Used by the ``spectral_norm`` trick (Miyato et al. 2018) and by the
``critic_sigma_max`` diagnostic.
"""

import jax
import jax.numpy as jnp


def is_weight_matrix(param: jax.Array) -> bool:
  """Normalised parameters: at least two dimensions (dense or conv kernels)."""
  return param.ndim >= 2


def as_matrix(param: jax.Array) -> jax.Array:
  """A kernel as ``[fan_in, out_features]`` (conv kernels flattened)."""
  return param.reshape(-1, param.shape[-1])


def normalize(x, eps=1e-12):
  return x / (jnp.linalg.norm(x) + eps)


def power_iteration(matrix: jax.Array, u: jax.Array, num_iterations: int):
  """Refines ``u`` towards the top right singular vector of ``matrix``.

  Returns (u, v, σ) with σ = vᵀ matrix u differentiable in ``matrix`` and
  u, v constants for autodiff.
  """
  fixed = jax.lax.stop_gradient(matrix)
  for _ in range(num_iterations):
    v = normalize(fixed @ u)
    u = normalize(fixed.T @ v)
  u, v = jax.lax.stop_gradient(u), jax.lax.stop_gradient(v)
  return u, v, v @ matrix @ u
