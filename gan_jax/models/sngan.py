"""SNGAN's standard CNN and ResNet (Miyato et al. 2018, Tables 3 and 4).

The two CIFAR-10 architectures of "Spectral Normalization for Generative
Adversarial Networks". Their critics have no normalisation layer: the
spectral normalisation is the ``spectral_norm`` trick, which reparameterises
every critic weight (the projection embedding included), so these critics
can also be trained without it or with other tricks for ablations.

* Standard CNN (Table 3): generator z → dense → M×M×8w → three ×2
  upsamplings (4×4 stride-2 transposed convolutions in the paper) halving the
  channels, with batch norm and ReLU → 3×3 conv → tanh, M = resolution / 8;
  critic: seven convolutions (3×3 stride 1 and 4×4 stride 2 alternating, 64
  to 512 channels for w = 64) with LeakyReLU(0.1), then a dense output.
* ResNet (Table 4, the appendix's blocks): generator z → dense → 4×4×w →
  up-blocks (BN, ReLU, nearest ×2, 3×3 conv, BN, ReLU, 3×3 conv; 1×1-conv
  shortcut) to the resolution → BN, ReLU, 3×3 conv, tanh; critic: an
  "optimised" first down-block, down-blocks to 8×8, two plain blocks, ReLU,
  global sum pooling, dense. At 32×32 this is exactly the paper's CIFAR
  network (3 up-blocks of 256; critic blocks of 128); other resolutions add
  or remove up- and down-blocks.

With ``num_classes > 0`` the generator uses conditional batch norm and the
critic a projection output (Miyato & Koyama 2018), as in their conditional
ResNets.
"""

import math
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax.models import common
from gan_jax.models import conv
from gan_jax.models import layers
from gan_jax.models import upsampling

# The chainer SNGAN code initialises residual convolutions with Glorot
# uniform scaled by √2 and everything else with plain Glorot uniform.
_RESIDUAL_INIT = nn.initializers.variance_scaling(2.0, 'fan_avg', 'uniform')
_PLAIN_INIT = nn.initializers.xavier_uniform()


def _square(shape: Sequence[int], allowed: Sequence[int], name: str) -> int:
  height, width = shape[:2]
  if height != width or height not in allowed:
    raise ValueError(f'{name} needs square images of size '
                     f'{", ".join(map(str, allowed))}; got {tuple(shape)}')
  return height


def _conv(features: int, kernel: int, stride: int = 1,
          init=_PLAIN_INIT, use_bias: bool = True) -> nn.Conv:
  return conv.Conv(features, (kernel, kernel), strides=(stride, stride),
                          padding='SAME', kernel_init=init, use_bias=use_bias)


class SNGANCNNGenerator(nn.Module):
  """The standard CNN generator (Table 3a).

  Attributes:
    output_shape: ``(height, width, channels)``, square, height in 16, 32, 48
      or 64 (32: CIFAR-10, 48: STL-10 in the paper).
    width: channels of the first feature map (512 in the paper); every
      upsampling halves them.
    normalization: ``batch`` (the paper), ``layer`` or ``none``.
    upsampling: ``transposed`` (the paper), ``subpixel`` or
      ``nearest`` (``gan_jax.models.upsampling``).
    num_classes: > 0 for conditional batch norm; set by the library.
    batch_axis: the mesh axis a sharded train step splits the batch over,
      so batch statistics are global (:mod:`gan_jax.global_batch`); set by
      the library.
  """
  output_shape: Sequence[int]
  width: int = 512
  normalization: str = 'batch'
  upsampling: str = 'transposed'
  num_classes: int = 0
  batch_axis: str | None = None

  @nn.compact
  def __call__(self, z, labels=None, train: bool = True):
    size = _square(self.output_shape, (16, 32, 48, 64), 'the SNGAN CNN')
    norm = lambda h: layers.normalize(h, self.normalization, train, labels,
                                      self.num_classes, self.batch_axis)
    start, features = size // 8, self.width
    bias = layers.needs_bias(self.normalization)
    h = nn.Dense(start * start * features, use_bias=bias)(z)
    h = jax.nn.relu(norm(h.reshape(z.shape[0], start, start, features)))
    for _ in range(3):
      features //= 2
      h = jax.nn.relu(norm(upsampling.Upsample(features, self.upsampling,
                                               use_bias=bias)(h)))
    return jnp.tanh(_conv(self.output_shape[-1], 3)(h))


class SNGANCNNCritic(nn.Module):
  """The standard CNN critic (Table 3b), LeakyReLU(0.1), no normalisation.

  Attributes:
    width: channels of the first two convolutions (64 in the paper); they
      double every stride-2 convolution, to 8·width in the last.
    num_classes: > 0 for a projection output; set by the library.
  """
  width: int = 64
  num_classes: int = 0

  @nn.compact
  def __call__(self, x, labels=None,
               train: bool = True) -> common.CriticOutput:
    del train  # No layer behaves differently in training.
    act = lambda h: jax.nn.leaky_relu(h, negative_slope=0.1)
    h = x.astype(jnp.float32)
    for level in range(3):
      features = self.width * 2 ** level
      h = act(_conv(features, 3)(h))
      h = act(_conv(features, 4, stride=2)(h))
    h = act(_conv(self.width * 8, 3)(h))
    return layers.critic_output(h, labels, self.num_classes)


class GeneratorBlock(nn.Module):
  """Residual up-block: BN, ReLU, ×2, conv3, BN, ReLU, conv3 + shortcut."""
  features: int
  normalization: str
  num_classes: int
  batch_axis: str | None

  @nn.compact
  def __call__(self, x, labels, train: bool):
    norm = lambda h: layers.normalize(h, self.normalization, train, labels,
                                      self.num_classes, self.batch_axis)
    h = upsampling.nearest_double(jax.nn.relu(norm(x)))
    h = _conv(self.features, 3, init=_RESIDUAL_INIT,
              use_bias=layers.needs_bias(self.normalization))(h)
    h = _conv(self.features, 3, init=_RESIDUAL_INIT)(jax.nn.relu(norm(h)))
    shortcut = _conv(self.features, 1)(upsampling.nearest_double(x))
    return h + shortcut


class CriticBlock(nn.Module):
  """Residual critic block, halving the resolution when ``downsample``.

  The first block of the critic (``first``) is the "optimised" block of the
  SNGAN code: no activation before its first convolution, and the shortcut
  pools before its 1×1 convolution.
  """
  features: int
  downsample: bool
  first: bool = False

  @nn.compact
  def __call__(self, x):
    pool = lambda h: (nn.avg_pool(h, (2, 2), strides=(2, 2))
                      if self.downsample else h)
    h = x if self.first else jax.nn.relu(x)
    h = _conv(self.features, 3, init=_RESIDUAL_INIT)(h)
    h = _conv(self.features, 3, init=_RESIDUAL_INIT)(jax.nn.relu(h))
    h = pool(h)
    if self.first:
      shortcut = _conv(self.features, 1)(pool(x))
    elif self.downsample or x.shape[-1] != self.features:
      shortcut = pool(_conv(self.features, 1)(x))
    else:
      shortcut = x
    return h + shortcut


class SNGANResNetGenerator(nn.Module):
  """The ResNet generator (Table 4a at 32×32).

  Attributes:
    output_shape: ``(height, width, channels)``, square, height 16, 32 or 64.
    width: channels of every block (256 in the paper).
    normalization: ``batch`` (the paper), ``layer`` or ``none``.
    num_classes: > 0 for conditional batch norm; set by the library.
    batch_axis: the mesh axis a sharded train step splits the batch over,
      so batch statistics are global (:mod:`gan_jax.global_batch`); set by
      the library.
  """
  output_shape: Sequence[int]
  width: int = 256
  normalization: str = 'batch'
  num_classes: int = 0
  batch_axis: str | None = None

  @nn.compact
  def __call__(self, z, labels=None, train: bool = True):
    size = _square(self.output_shape, (16, 32, 64), 'the SNGAN ResNet')
    h = nn.Dense(4 * 4 * self.width, kernel_init=_PLAIN_INIT)(z)
    h = h.reshape(z.shape[0], 4, 4, self.width)
    for _ in range(int(math.log2(size // 4))):
      h = GeneratorBlock(self.width, self.normalization, self.num_classes,
                         self.batch_axis)(h, labels, train)
    h = jax.nn.relu(layers.normalize(h, self.normalization, train, labels,
                                     self.num_classes, self.batch_axis))
    return jnp.tanh(_conv(self.output_shape[-1], 3)(h))


class SNGANResNetCritic(nn.Module):
  """The ResNet critic (Table 4c at 32×32): down-blocks to 8×8, two plain
  blocks, ReLU, global sum pooling, dense (or projection) output.

  Attributes:
    width: channels of every block (128 in the paper).
    num_classes: > 0 for a projection output; set by the library.
  """
  width: int = 128
  num_classes: int = 0

  @nn.compact
  def __call__(self, x, labels=None,
               train: bool = True) -> common.CriticOutput:
    del train  # No layer behaves differently in training.
    size = _square(x.shape[1:], (16, 32, 64), 'the SNGAN ResNet')
    h = x.astype(jnp.float32)
    num_down = int(math.log2(size // 8))
    for index in range(num_down + 2):
      h = CriticBlock(self.width, downsample=index < num_down,
                      first=index == 0)(h)
    return layers.critic_output(jnp.sum(jax.nn.relu(h), axis=(1, 2)),
                                labels, self.num_classes)
