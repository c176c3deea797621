r"""SN-GAN, ResNet, hinge loss, CIFAR-10 (Miyato et al. 2018).

The CIFAR-10 ResNet of Table 4 (generator z(128) → 4×4×256 → three residual
up-blocks of 256 channels → BN, ReLU, 3×3 conv, tanh; critic: four residual
blocks of 128 channels, the first two downsampling, ReLU, global sum
pooling, dense), spectral normalisation of every critic weight, hinge loss,
batch 64, n_critic 5, Adam(2e-4, b1 0, b2 0.9), 50k generator updates, as
in the paper's ResNet experiments. (The authors' code also decays the
learning rates linearly to 0; this config keeps them constant.)

CIFAR-10 must be prepared first on a machine with internet:
  tfds build cifar10 --data_dir=DIR --file_format=array_record
Command:
  python experiments/train.py --config=configs/sngan_resnet_cifar10.py --workdir=/tmp/sngan_resnet --config.data.data_dir=DIR

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
  config.num_train_steps = 50_000
  return config
