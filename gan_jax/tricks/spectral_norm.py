"""Spectral normalisation of the critic's weights (Miyato et al. 2018).

Every critic weight matrix W (dense kernels, and conv kernels reshaped to
``(-1, out_features)``) is used as W / σ(W), σ(W) its largest singular value,
estimated by power iteration. Biases, norm scales and any other parameter of
fewer than two dimensions are left alone. The trick reparameterises the whole
critic parameter tree (like Haiku's ``SNParamsTree``) instead of rewriting the
model, so it applies to every critic family.

The power-iteration vectors are trick state, computed without gradient; the
gradient flows through σ(W) = vᵀ W u with u and v held fixed, as in the paper.
The iteration advances exactly once per critic update: the train step keeps the
state returned by the ``critic_params`` hook in critic updates only, however
many times the critic is applied (real, fake, penalty interpolates), and drops
it in generator updates, which use the current vectors for one more iteration.

References:
  Miyato, Kataoka, Koyama & Yoshida 2018, "Spectral Normalization for
  Generative Adversarial Networks", ICLR.
"""

from typing import NamedTuple

import jax

from gan_jax.tricks import base
from gan_jax.tricks.power_iteration import (as_matrix, is_weight_matrix,
                                             normalize, power_iteration)


class SpectralNormState(NamedTuple):
  """Right singular-vector estimates u (``[out_features]``), one per weight
  matrix, keyed by the weight's path in the parameter tree ('Dense_0/kernel').
  """
  u: dict[str, jax.Array]


def _path_name(path) -> str:
  return '/'.join(str(getattr(k, 'key', getattr(k, 'idx', k))) for k in path)


def spectral_norm(n_power_iterations: int = 1) -> base.Trick:
  """Divides each critic weight matrix by its estimated spectral norm.

  Args:
    n_power_iterations: power iterations per critic update (1 in the paper).

  Returns:
    A trick acting at the ``critic_params`` hook.
  """
  if n_power_iterations < 1:
    raise ValueError(f'n_power_iterations={n_power_iterations} must be >= 1')

  def init(params, key):
    weights = [(_path_name(path), p) for path, p in
               jax.tree_util.tree_leaves_with_path(params.critic)
               if is_weight_matrix(p)]
    keys = jax.random.split(key, max(len(weights), 1))
    return SpectralNormState(u={
        name: normalize(jax.random.normal(k, (p.shape[-1],), p.dtype))
        for k, (name, p) in zip(keys, weights)})

  def critic_params(params, state):
    new_u = {}

    def normalized(path, param):
      if not is_weight_matrix(param):
        return param
      name = _path_name(path)
      new_u[name], _, sigma = power_iteration(as_matrix(param), state.u[name],
                                              n_power_iterations)
      return param / sigma

    used = jax.tree_util.tree_map_with_path(normalized, params)
    return used, SpectralNormState(u=new_u)

  return base.make(init=init, critic_params=critic_params)
