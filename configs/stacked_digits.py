r"""DCGAN on stacked digits: 1,000 modes, the Stacked MNIST benchmark offline.

Three random digits of scikit-learn's digits stacked as the R, G and B
channels (the ``stacked_digits`` TFDS builder, 60,000 triples, label
100·r + 10·g + b), as in the Stacked MNIST experiments of Metz et al. 2017
and Srivastava et al. 2017, at 16×16×3. The model and optimiser are those
of configs/dcgan_digits.py with 10,000 steps.

Command:
  python experiments/train.py --config=configs/stacked_digits.py \
      --workdir=/tmp/stacked_digits

Expected: the final grid shows coloured triples of digits. Over the 5
seeds of the ``baseline`` of ``configs/sweeps/stacked_digits_tricks.py``
(trained as this config trains;
``docs/reproduction_data/stacked_digits_tricks-2026-11-24.csv``, mean ±
95 % interval): 988.2 ± 6.9 of the 1,000 modes (per seed, 0 to 4:
986, 989, 982, 997, 987), reverse KL 0.329 ± 0.050, over 25,600 samples
scored by the project's digits classifier (each channel classified);
8.04 ± 0.39 minutes a run on the 2-core CPU of 2026-11-24, two runs side
by side, one per core (the step alone runs at about 40 steps/s on both
cores). Measured at commit 437c324, before the float path of 35ce0bf: the
figures vary by machine and float path (each seed follows another
trajectory), so a run of yours is another sample of the same distribution.
"""

from gan_jax import config as config_lib


def get_config():
  config = config_lib.load('dcgan_digits.py', relative_to=__file__)
  config.data.name = 'stacked_digits'
  config.data.channels = 3
  config.num_train_steps = 10_000
  # Modes are counted over 25,600 samples, as in PacGAN's Stacked MNIST
  # tables (VEEGAN: 26,000), against 10,000 real triples.
  config.eval.num_samples = 25_600
  config.eval_every = 5_000
  return config
