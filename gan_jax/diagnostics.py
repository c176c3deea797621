"""Stability diagnostics computed at log steps (not inside the train step).

* ``critic_sigma_max``: the largest singular value, by exact SVD on the host,
  over the critic's effective weight matrices: the ones its forward pass
  uses after the ``critic_params`` hooks. ≈ 1 under spectral normalisation
  (Miyato et al. 2018), typically well above 1 without.
* ``critic_input_grad_norm``: mean ‖∇ₓ D(x)‖ over a real batch, the quantity
  gradient penalties act on (Gulrajani et al. 2017; Mescheder et al. 2018).
"""

from typing import Callable

import jax
import numpy as np

from gan_jax import models
from gan_jax.tricks import base as tricks_base
from gan_jax.tricks import critic_gradients
from gan_jax.tricks import power_iteration


def make_diagnose(critic, tricks: tricks_base.Trick) -> Callable[..., dict]:
  """``(critic_player, trick_state, real, labels) -> dict`` of floats.

  ``labels`` are the real batch's labels for a conditional critic, else None.
  """

  @jax.jit
  def on_device(critic_player, trick_state, real, labels):
    used, _ = tricks.critic_params(critic_player.params, trick_state)
    apply = lambda x: models.apply(critic, used, critic_player.model_state, x,
                                   train=False, labels=labels)[0]
    norms = critic_gradients.per_sample_norms(
        critic_gradients.input_gradients(apply, real))
    matrices = [power_iteration.as_matrix(p) for p in jax.tree.leaves(used)
                if power_iteration.is_weight_matrix(p)]
    return norms.mean(), matrices

  def diagnose(critic_player, trick_state, real,
               labels=None) -> dict[str, float]:
    grad_norm, matrices = jax.device_get(on_device(critic_player, trick_state,
                                                   real, labels))
    sigma_max = max(float(np.linalg.svd(m, compute_uv=False)[0])
                    for m in matrices)
    return {'critic_sigma_max': sigma_max,
            'critic_input_grad_norm': float(grad_norm)}

  return diagnose
