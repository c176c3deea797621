r"""Ring of 8 Gaussians, MLP GAN, non-saturating loss, no trick.

The 2-D mixture protocol of Metz et al. 2017 reused by VEEGAN and PacGAN:
8 modes on the unit circle, std 0.01; 2,500 samples are scored by
``gan_jax.metrics.mode_coverage``. Generator: latent 256 → 2 ReLU layers of
128 → 2; critic: 2 → 2 ReLU layers of 128 → 1; Adam with b1 0.5 and
learning rates 1e-3 (G) / 1e-4 (D), batch 512, 25k generator updates (the
setting of the Unrolled GAN / VEEGAN / GDPP 2-D experiments).

Command:
  python experiments/train.py --config=configs/ring8.py --workdir=/tmp/ring8

Expected (2-core CPU, seeds 0, 1, 2; about 2 minutes each): modes 8, 1, 6;
high_quality 0.76, 0.92, 0.23; reverse_kl 0.07, 2.08, 0.61. The plain GAN is
erratic across seeds; add
``--config.tricks=spectral_norm,one_sided_label_smoothing,feature_matching,instance_noise``
for 8 modes on each of three seeds (measured on a GPU; README.md, "Results").
"""

from gan_jax import config as config_lib


def get_config():
  config = config_lib.base()
  config.data.name = 'ring8'
  return config
