r"""Adversarial autoencoder on the 8×8 digits at 16×16.

The generator side is ``autoencoder``: an encoder (DCGAN-critic trunk ->
dense -> code of 8) and a decoder (DCGAN generator, code -> 16×16×1). A
critic on the code space (MLP, 2 × 256 units) tells prior samples
z ~ N(0, I) from codes E(x); encoder and decoder minimise the mean squared
reconstruction error plus the adversarial loss on E(x) (Makhzani et al.
2016; gan_jax/families/aae.py). Samples are Dec(z) for z from the prior.
Loss non_saturating, Adam(2e-4, b1 0.5), batch 64.

Command:
  python experiments/train.py --config=configs/aae_digits.py \
      --workdir=/tmp/aae_digits

Expected (2-core CPU): see docs/families.md for the measured
steps/s and eval.json (samples scored like dcgan_digits, plus
reconstruction_mse and code_mmd, the MMD² between codes and prior).
"""

from gan_jax import config as config_lib


def get_config():
  # The encoder and decoder of bigan_digits.py; a code of 8 and a code critic.
  config = config_lib.load('bigan_digits.py', relative_to=__file__)
  config.family = 'aae'
  config.best_metric = ''
  config.model.latent_dim = 8
  config.model.critic = 'mlp'
  config.model.critic_args = dict(width=256, depth=2, activation='leaky_relu')
  config.family_args.aae.reconstruction_weight = 1.0
  return config
