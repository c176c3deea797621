r"""DCGAN on scikit-learn's 8×8 digits, upscaled to 16×16: the default job.

The embedded digits dataset (1,797 real handwritten digits shipped with
scikit-learn) is prepared on first use under ``data.data_dir``, offline.
DCGAN (Radford et al. 2016) at 16×16×1: generator z(64) → 4×4×64 → 8×8×32 →
16×16×1 with batch norm and ReLU; critic with stride-2 convolutions and
LeakyReLU(0.2); non-saturating loss, Adam(2e-4, b1 0.5) for both players,
batch 64.

Command (``--config`` may be left out: this is the default):
  python experiments/train.py --config=configs/dcgan_digits.py \
      --workdir=/tmp/dcgan_digits

Expected: the final grid shows clearly recognisable digits
(docs/dcgan_digits_step5000.png). eval.json, with the project's digits
classifier, 2,000 samples against the 1,797 digits, as mean ± 95 % interval
over 5 seeds (``configs/sweeps/digits_seeds.py``, variant ``dcgan_digits``;
docs/reproduction_data/digits_seeds-2026-12-07.csv): fd 15.1 ± 3.3 (per
seed, 0 to 4: 13.7, 12.9, 19.7, 14.9, 14.1), kid_mean 34 ± 14, is_mean
7.14 ± 0.13, precision 0.468 ± 0.015, recall 0.848 ± 0.045, coverage
0.459 ± 0.025, one_nn_accuracy 0.822 ± 0.023 (real digits against real
digits: fd 3.3, is 9.2, precision and recall 0.92-0.93, 1-NN 0.50).
3.93 ± 0.91 minutes a run (5,000 steps, evaluations included; seed 0's also
trains the classifier, once) on a 2-core AMD EPYC while other jobs shared
the cores (load average 4-13). The figures vary by machine: another CPU
or jax version rounds differently, the same seed follows another
trajectory, and a single run can land outside the interval for the mean.
"""

from gan_jax import config as config_lib


def get_config():
  config = config_lib.base()
  config.data.name = 'digits'
  config.data.image_size = 16
  config.data.channels = 1
  config.model.generator = 'dcgan'
  config.model.critic = 'dcgan'
  config.model.latent_dim = 64
  config.model.generator_args = dict(width=32, normalization='batch',
                                     upsampling='transposed')
  config.model.critic_args = dict(width=32, normalization='batch',
                                  minibatch_stddev=False,
                                  minibatch_stddev_group=4)
  config.batch_size = 64
  config.optim.g_lr = 2e-4
  config.optim.d_lr = 2e-4
  config.num_train_steps = 5_000
  # One step per call: XLA:CPU runs convolutions inside a lax.scan loop about
  # ten times slower; at ~30 ms a step, dispatch costs little. Raise it on
  # accelerators.
  config.steps_per_call = 1
  config.log_every = 250
  config.sample_every = 1_000
  config.eval_every = 1_000
  config.checkpoint_every = 1_000
  config.eval.num_samples = 2_000
  return config
