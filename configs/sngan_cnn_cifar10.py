r"""SN-GAN, standard CNN, hinge loss, CIFAR-10 (Miyato et al. 2018).

The standard CNN of Table 3 (generator z(128) → 4×4×512 → three 4×4
stride-2 transposed convolutions with batch norm and ReLU → 3×3 conv → tanh;
critic of seven convolutions with LeakyReLU(0.1)), spectral normalisation
of every critic weight (the ``spectral_norm`` trick, one power iteration per
critic update), hinge loss, batch 64, n_critic 5 and Adam(1e-4, b1 0.5,
b2 0.9): setting A of the paper's Table 1, 100k generator updates.

CIFAR-10 must be prepared first on a machine with internet:
  tfds build cifar10 --data_dir=DIR --file_format=array_record
Command:
  python experiments/train.py --config=configs/sngan_cnn_cifar10.py \
      --workdir=/tmp/sngan_cnn --config.data.data_dir=DIR

Expected: the paper reports FID 25.5 (10k real vs 5k generated) for this
setting with the hinge loss. For FID pass pytorch-fid's Inception weights,
``--config.eval.inception_weights=PATH`` (eval.json then has ``fd`` with
``feature_extractor: inception``); without them only pixel metrics are
computed. Not reproduced here: no CIFAR-10 and no GPU in this environment;
one step took 8.9 s on a 2-core CPU before the per-tap convolution kernel
gradient (not re-measured since). Any image dataset
works at 32×32×3, e.g. ``--config.data.name=digits`` (resized and
channel-adapted), which is how the tests run it.
"""

from gan_jax import config as config_lib
from gan_jax import models


def get_config():
  config = config_lib.base()
  config.data.name = 'cifar10'
  config.data.image_size = 32
  config.data.channels = 3
  config.model.generator = 'sngan_cnn'
  config.model.critic = 'sngan_cnn'
  config.model.latent_dim = 128
  config.model.generator_args = models.default_args('generator', 'sngan_cnn')
  config.model.critic_args = models.default_args('critic', 'sngan_cnn')
  config.loss = 'hinge'
  config.tricks = 'spectral_norm'
  config.batch_size = 64
  config.optim.n_critic = 5
  config.optim.g_lr = 1e-4
  config.optim.d_lr = 1e-4
  config.optim.b1 = 0.5
  config.optim.b2 = 0.9
  config.num_train_steps = 100_000
  # Each step is large (5 critic updates); fusing saves little, and XLA:CPU
  # slows convolutions inside lax.scan loops.
  config.steps_per_call = 1
  config.log_every = 500
  config.eval.num_samples = 5_000  # The paper's FID protocol (5k generated).
  return config
