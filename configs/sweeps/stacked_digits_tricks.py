r"""The trick ablation on stacked digits (configs/stacked_digits.py).

The Stacked MNIST mode-collapse benchmark built offline: 1,000 modes (three
stacked digits), DCGAN at 16×16×3, batch 64, 10k generator updates; modes
and reverse KL to the uniform distribution over 25,600 samples, counted by
the project's digits classifier. Variants as in ``ring_tricks.py``
(``gan_jax.sweeps.trick_ablation``); 5 seeds each (vmapped on an
accelerator, one after the other on CPU). The variants with an
input-gradient penalty (``gradient_penalty``, ``r1_penalty``,
``r2_penalty``, ``dragan_penalty``, ``wasserstein+gradient_penalty``)
replace the critic's batch norm by layer norm, as Gulrajani et al. 2017
(§4) do: with batch statistics a sample's critic gradient depends on the
whole batch and the penalties are not defined.

Command:
  python experiments/ablate.py --sweep=configs/sweeps/stacked_digits_tricks.py \
      --workdir=/tmp/sweeps/stacked_digits_tricks

Expected: docs/reproductions.md has the table this produced and the
published numbers beside it.
"""

from gan_jax import config as config_lib
from gan_jax import sweeps


def get_config():
  config = config_lib.load('../stacked_digits.py', relative_to=__file__)
  # The final evaluation only: the table reads nothing else, and one
  # evaluation of 25,600 samples took 45-80 s of a 6-8 minute run on one
  # CPU core. Training is the same either way (evaluation has its own key,
  # and checkpoints still end a fused call at step 5,000).
  config.eval_every = config.num_train_steps
  return config


def get_sweep():
  variants = sweeps.trick_ablation(
      get_config().loss,
      penalty_overrides={'model.critic_args.normalization': 'layer'})
  return sweeps.Sweep(variants, seeds=5, metrics=('modes', 'reverse_kl'))
