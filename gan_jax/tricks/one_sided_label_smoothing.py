"""One-sided label smoothing (Salimans et al. 2016, Sec. 3.4).

The critic is asked to output ``real_target`` (e.g. 0.9) instead of 1 on real
data, while fake targets stay 0. Smoothing only the real side keeps the
optimal critic D*(x) = real_target · p_data / (p_data + p_g) free of the
spurious incentive, present when fake targets are smoothed too, to leave
samples where p_data ≈ 0 alone. Only meaningful for objectives with a target
(``minimax``, ``non_saturating``, ``least_squares``); configuring it with
another loss is a config error (see ``gan_jax.tricks.from_config``).

References:
  Salimans, Goodfellow, Zaremba, Cheung, Radford & Chen 2016, "Improved
  Techniques for Training GANs", NeurIPS.
"""

import jax.numpy as jnp

from gan_jax.tricks import base


def one_sided_label_smoothing(real_target: float = 0.9) -> base.Trick:
  """Sets the critic's target on real data to ``real_target``.

  Args:
    real_target: the label for real data, in (0, 1].

  Returns:
    A trick acting at the ``real_target`` hook.
  """
  if not 0 < real_target <= 1:
    raise ValueError(f'real_target={real_target} must be in (0, 1]')

  def set_target(target, state, info):
    del state, info
    return jnp.full_like(target, real_target)

  return base.make(real_target=set_target)
