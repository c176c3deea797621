r"""The trick ablation on the ring of 8 Gaussians (configs/ring8.py).

Variants (``gan_jax.sweeps.trick_ablation``): the plain non-saturating GAN,
each trick alone, the four-trick chain, each other loss, WGAN (weight
clipping) and WGAN-GP, all with the MLPs and optimiser of configs/ring8.py
(latent 256, 2×128 ReLU, batch 512, Adam 1e-3 / 1e-4, b1 0.5), 25k
generator updates, scored on 2,500 samples (modes, high-quality fraction,
reverse KL; the VEEGAN / PacGAN protocol). 10 seeds each. Also
``wgan_gp_toy_settings``: WGAN-GP with its authors' 2-D settings (λ 0.1,
Adam 1e-4 / 1e-4, b2 0.9; ``gan_jax.sweeps.WGAN_GP_TOY_SETTINGS``), the
setting of the published WGAN-GP row.

Command:
  python experiments/ablate.py --sweep=configs/sweeps/ring_tricks.py \
      --workdir=/tmp/sweeps/ring_tricks

Expected: docs/reproductions.md has the table this produced and the
published numbers beside it.
"""

from gan_jax import config as config_lib
from gan_jax import sweeps


def get_config():
  return config_lib.load('../ring8.py', relative_to=__file__)


def get_sweep():
  variants = (sweeps.trick_ablation(get_config().loss)
              + [sweeps.WGAN_GP_TOY_SETTINGS])
  return sweeps.Sweep(variants, seeds=10, metrics=sweeps.MIXTURE_METRICS)
