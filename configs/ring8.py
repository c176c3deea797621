r"""Ring of 8 Gaussians, MLP GAN, non-saturating loss, no trick.

The 2-D mixture protocol of Metz et al. 2017 reused by VEEGAN and PacGAN:
8 modes on the unit circle, std 0.01; 2,500 samples are scored by
``gan_jax.metrics.mode_coverage``. Generator: latent 256 → 2 ReLU layers of
128 → 2; critic: 2 → 2 ReLU layers of 128 → 1; Adam with b1 0.5 and
learning rates 1e-3 (G) / 1e-4 (D), batch 512, 25k generator updates (the
setting of the Unrolled GAN / VEEGAN / GDPP 2-D experiments).

Command:
  python experiments/train.py --config=configs/ring8.py --workdir=/tmp/ring8

Expected (2-core CPU, about 2.5 minutes a run; 10 seeds of
``configs/sweeps/ring_tricks.py``, docs/reproductions.md): modes
3.5 ± 2.1 (per seed 6, 5, 8, 0, 1, 7, 1, 5, 1, 1), high_quality 0.43 ± 0.23:
the plain GAN is erratic across seeds and often collapses to one mode. With
``--config.tricks=spectral_norm,one_sided_label_smoothing,feature_matching,instance_noise``
every seed covers the 8 modes, high_quality 0.84 ± 0.04, reverse_kl
0.010 ± 0.010.
"""

from gan_jax import config as config_lib


def get_config():
  config = config_lib.base()
  config.data.name = 'ring8'
  return config
