r"""Grid of 25 Gaussians, MLP GAN, non-saturating loss, no trick.

25 modes at {-4, -2, 0, 2, 4}², std 0.05 (the VEEGAN / PacGAN protocol);
2,500 samples are scored by ``gan_jax.metrics.mode_coverage``. Same MLPs and
optimiser as ``configs/ring8.py`` (the VEEGAN paper uses one architecture for
both): generator latent 256 → 2 ReLU layers of 128 → 2; critic 2 → 2 ReLU
layers of 128 → 1; Adam with b1 0.5 and learning rates 1e-3 (G) / 1e-4 (D),
batch 512, 25k generator updates.

Command:
  python experiments/train.py --config=configs/grid25.py --workdir=/tmp/grid25

Expected (mean ± 95 % interval over the 10 seeds of the ``baseline`` of
``configs/sweeps/grid_tricks.py``, docs/reproductions.md): modes 22.0 ± 1.5,
high_quality 0.101 ± 0.014, reverse_kl 0.69 ± 0.18: most modes are reached
by streaks between them, few samples land on a mode. The four-trick chain
does no better here (22.5 ± 1.2 modes, high_quality 0.081 ± 0.010). Both
rows were measured on a 2-core CPU that no longer exists (2.8-2.9 minutes a
run, two runs side by side, one per core) and their results.csv was not
kept, so they cannot be recomputed from docs/reproduction_data/. The
figures vary by machine: another CPU or jax version rounds differently,
and each seed follows another trajectory.
"""

from gan_jax import config as config_lib


def get_config():
  config = config_lib.base()
  config.data.name = 'grid25'
  return config
