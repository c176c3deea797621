r"""The ablation of ring_tricks.py on the grid of 25 Gaussians.

Base: configs/grid25.py (25 modes at {-4, -2, 0, 2, 4}², std 0.05; the same
MLPs, optimiser, 25k steps and 2,500 scored samples as the ring). Variants
from ``gan_jax.sweeps.trick_ablation`` and ``wgan_gp_toy_settings``
(WGAN-GP with its authors' 2-D settings), 10 seeds each.

Command:
  python experiments/ablate.py --sweep=configs/sweeps/grid_tricks.py \
      --workdir=/tmp/sweeps/grid_tricks

Expected: docs/reproductions.md, beside the published numbers.
"""

from gan_jax import config as config_lib
from gan_jax import sweeps


def get_config():
  return config_lib.load('../grid25.py', relative_to=__file__)


def get_sweep():
  variants = (sweeps.trick_ablation(get_config().loss)
              + [sweeps.WGAN_GP_TOY_SETTINGS])
  return sweeps.Sweep(variants, seeds=10, metrics=sweeps.MIXTURE_METRICS)
