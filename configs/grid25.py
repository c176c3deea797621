r"""Grid of 25 Gaussians, MLP GAN, non-saturating loss, no trick.

25 modes at {-4, -2, 0, 2, 4}², std 0.05 (the VEEGAN / PacGAN protocol);
2,500 samples are scored by ``gan_jax.metrics.mode_coverage``. Same MLPs and
optimiser as ``configs/ring8.py`` (the VEEGAN paper uses one architecture for
both): generator latent 256 → 2 ReLU layers of 128 → 2; critic 2 → 2 ReLU
layers of 128 → 1; Adam with b1 0.5 and learning rates 1e-3 (G) / 1e-4 (D),
batch 512, 25k generator updates.

Command:
  python experiments/train.py --config=configs/grid25.py --workdir=/tmp/grid25

Expected (2-core CPU, seeds 0, 1, 2; about 2 minutes each): modes 21, 22, 23;
high_quality 0.13, 0.12, 0.07; reverse_kl 0.84, 0.79, 0.44: most modes are
reached by streaks between them, few samples land on a mode.
"""

from gan_jax import config as config_lib


def get_config():
  config = config_lib.base()
  config.data.name = 'grid25'
  return config
