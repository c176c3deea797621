r"""SN-GAN, ResNet, hinge loss, CIFAR-10 (Miyato et al. 2018).

The CIFAR-10 ResNet of Table 4 (generator z(128) → 4×4×256 → three residual
up-blocks of 256 channels → BN, ReLU, 3×3 conv, tanh; critic: four residual
blocks of 128 channels, the first two downsampling, ReLU, global sum
pooling, dense), spectral normalisation of every critic weight, hinge loss,
batch 64, n_critic 5, Adam(2e-4, b1 0, b2 0.9), 50k generator updates, as
in the paper's ResNet experiments, with both learning rates decayed linearly
to 0 over the 50k updates as the authors' code does
(pfnet-research/sngan_projection, configs/sn_cifar10_unconditional.yml:
``iteration: 50000``, ``iteration_decay_start: 0``; train.py: ``LinearShift``
of Adam's alpha, one rate for a generator update and its 5 critic updates).

Where this still differs from the authors' code:
  * the generator update uses 64 samples; theirs uses 128
    (``n_gen_samples: 128``; the critic sees 64 real and 64 generated per
    update in both). gan_jax's train step draws the generator's samples in
    the critic's batch size, and has no separate generator batch yet;
  * each of their iterations updates the generator first, then the critic 5
    times; here the 5 critic updates come first (the same alternation,
    shifted by half a step);
  * images are scaled by x / 127.5 − 1; theirs by x / 128 − 1 plus uniform
    noise in [0, 1/128) (dequantisation).

CIFAR-10 must be prepared first on a machine with internet:
  tfds build cifar10 --data_dir=DIR --file_format=array_record
Command:
  python experiments/train.py --config=configs/sngan_resnet_cifar10.py \
      --workdir=/tmp/sngan_resnet --config.data.data_dir=DIR

Expected: the paper reports FID 21.7 (10k real vs 5k generated); pass
``--config.eval.inception_weights=PATH`` for FID (see sngan_cnn_cifar10.py).
Not reproduced here: no CIFAR-10 and no GPU in this environment; one
generator step (with its 5 critic updates) takes about 24 s on a 2-core CPU
(``benchmarks/run.py``). ``--config.model.conditional=True`` gives the
class-conditional ResNet with conditional batch norm and a projection
critic (Miyato & Koyama 2018).
"""

from gan_jax import config as config_lib
from gan_jax import models


def get_config():
  config = config_lib.load('sngan_cnn_cifar10.py', relative_to=__file__)
  config.model.generator = 'sngan_resnet'
  config.model.critic = 'sngan_resnet'
  config.model.generator_args = models.default_args('generator', 'sngan_resnet')
  config.model.critic_args = models.default_args('critic', 'sngan_resnet')
  config.optim.g_lr = 2e-4
  config.optim.d_lr = 2e-4
  config.optim.b1 = 0.0
  config.optim.b2 = 0.9
  config.optim.lr_schedule = 'linear_decay'
  config.num_train_steps = 50_000
  return config
