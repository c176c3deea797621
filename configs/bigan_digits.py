r"""ALI / BiGAN on the 8×8 digits at 16×16: an encoder learned adversarially.

The generator side is ``autoencoder``: DCGAN's generator G: z(32) -> 16×16×1
and an encoder E: DCGAN-critic trunk -> dense -> z(32) (deterministic as in
BiGAN; ``--config.model.generator_args.stochastic=True`` gives ALI's
Gaussian encoder). The critic D(x, z) is ``joint``: a DCGAN-critic trunk on
x, an MLP on z, and an MLP on both (dropout 0.2, as in ALI). Loss
non_saturating (the critic's loss with swapped labels for G and E), Adam(2e-4,
b1 0.5), batch 64; see gan_jax/families/bigan.py.

Command:
  python experiments/train.py --config=configs/bigan_digits.py \
      --workdir=/tmp/bigan_digits

Expected (2-core CPU): see docs/families.md for the measured
steps/s and eval.json (samples scored like dcgan_digits, plus
reconstruction_mse of G(E(x)) and latent_reconstruction_mse of E(G(z))).
"""

from gan_jax import config as config_lib


def get_config():
  config = config_lib.load('dcgan_digits.py', relative_to=__file__)
  config.family = 'bigan'
  config.model.latent_dim = 32
  config.model.generator = 'autoencoder'
  config.model.generator_args = dict(
      decoder='dcgan',
      decoder_args=dict(width=32, normalization='batch',
                        upsampling='transposed'),
      encoder='dcgan',
      encoder_args=dict(width=32, normalization='batch'),
      stochastic=False)
  config.model.critic = 'joint'
  config.model.critic_args = dict(
      trunk='dcgan', trunk_args=dict(width=32, normalization='none'),
      width=256, depth=2, dropout=0.2)
  # The samples' FD is best early and rises later (docs/families.md): keep
  # the best checkpoint too.
  config.best_metric = 'fd'
  return config
