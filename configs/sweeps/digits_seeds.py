r"""The two digits jobs over seeds: the figures the README and configs quote.

``dcgan_digits`` is ``configs/dcgan_digits.py`` (the default job) as it is;
``conditional_digits`` is ``configs/conditional_digits.py`` (the same with
``model.conditional=True``; ``tests/test_docs_agree.py`` checks that the
two are the same config). Each run is the config's own command with another
seed, evaluation and wall time included, so a row's mean ± 95 % interval
(Student's t over the finished seeds) is what a user of that command can
expect on a machine like the one that measured it.

Command:
  python experiments/ablate.py --sweep=configs/sweeps/digits_seeds.py \
      --workdir=/tmp/sweeps/digits_seeds [--variants=dcgan_digits]

Expected: the figures in ``configs/dcgan_digits.py`` and
``configs/conditional_digits.py`` and the README's Images table, computed
from the results.csv this wrote (kept as
``docs/reproduction_data/digits_seeds-<date>.csv``).
"""

from gan_jax import config as config_lib
from gan_jax import sweeps


def get_config():
  return config_lib.load('../dcgan_digits.py', relative_to=__file__)


def get_sweep():
  return sweeps.Sweep(
      [sweeps.Variant('dcgan_digits'),
       sweeps.Variant('conditional_digits', {'model.conditional': True})],
      seeds=5,
      metrics=('fd', 'kid_mean', 'is_mean', 'precision', 'recall', 'coverage',
               'one_nn_accuracy'))
