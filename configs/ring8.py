r"""Ring of 8 Gaussians, MLP GAN, non-saturating loss, no trick.

The 2-D mixture protocol of Metz et al. 2017 reused by VEEGAN and PacGAN:
8 modes on the unit circle, std 0.01; 2,500 samples are scored by
``gan_jax.metrics.mode_coverage``. Generator: latent 256 → 2 ReLU layers of
128 → 2; critic: 2 → 2 ReLU layers of 128 → 1; Adam with b1 0.5 and
learning rates 1e-3 (G) / 1e-4 (D), batch 512, 25k generator updates (the
setting of the Unrolled GAN / VEEGAN / GDPP 2-D experiments).

Command:
  python experiments/train.py --config=configs/ring8.py --workdir=/tmp/ring8

Expected: the plain GAN collapses in some seeds. Over the 10 seeds of the
``baseline`` of ``configs/sweeps/ring_tricks.py`` (mean ± 95 % interval;
docs/reproduction_data/ring_tricks-2026-11-25.csv, docs/reproductions.md):
modes 5.5 ± 2.3 (per seed, 0 to 9: 1, 1, 7, 8, 8, 6, 1, 8, 7, 8),
high_quality 0.57 ± 0.19, reverse_kl 0.89 ± 0.62, 3.39 ± 0.16 minutes a run
on a 2-core CPU, two runs side by side, one per core (commit 6b1b3be,
before the float path of 35ce0bf). Which seeds collapse varies by machine:
another CPU or jax version rounds differently and the same seed follows
another trajectory. Seed 0 ended on one mode there; with the code of
a51ee21 on a 2-core AMD EPYC it ends on none (one run: modes 0,
high_quality 0, reverse_kl undefined, no sample near a mode; 3.4 minutes
while other jobs shared the cores; 1 minute 31 s was reported for a run
alone on an idle machine).

The command that does not collapse, the four-trick chain:
  python experiments/train.py --config=configs/ring8.py \
      --workdir=/tmp/ring8_tricks \
      --config.tricks=spectral_norm,one_sided_label_smoothing,feature_matching,instance_noise
covered the 8 modes in each of its 10 seeds, high_quality 0.842 ± 0.041,
reverse_kl 0.0097 ± 0.0097, on a 2-core CPU that no longer exists (its
results.csv was not kept). With the code of a51ee21 on a 2-core AMD EPYC
(``--variants=four_tricks --seeds=3`` of the sweep;
docs/reproduction_data/ring_tricks-2026-12-07.csv) each of seeds 0 to 2
covered the 8 modes too: modes 8.000 ± 0.000 over 3 seeds, high_quality
0.68 ± 0.32 (per seed, 0 to 2: 0.576, 0.636, 0.82), reverse_kl
0.06 ± 0.12, 4.3 ± 1.2 minutes a run while other jobs shared the cores.
"""

from gan_jax import config as config_lib


def get_config():
  config = config_lib.base()
  config.data.name = 'ring8'
  return config
