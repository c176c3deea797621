"""Generators and critics of discrete sequences (one-hot ``[length, vocab]``).

A generator of discrete data cannot pass gradients through sampling a
token. Two remedies are implemented:

* the Gumbel-softmax relaxation (Jang, Gu & Poole 2017; Maddison, Mnih & Teh
  2017; for GANs Kusner & Hernández-Lobato 2016): in training, a token is
  softmax((logits + g) / τ) with Gumbel noise g, a point of the simplex the
  critic reads like a one-hot vector; ``straight_through`` emits the hard
  one-hot token forward and the relaxed gradient backward. At evaluation
  tokens are exact categorical samples (Gumbel-max);
* the policy gradient of SeqGAN (``gan_jax.families.seqgan``), which needs an
  autoregressive generator with token log-probabilities and rollouts:
  :class:`SequenceRNNGenerator`.

The convolutional generator and critic follow the residual 1-D convolutional
networks of the WGAN-GP language model (Gulrajani et al. 2017), used for
proteins by FBGAN (Gupta & Zou 2019).
"""

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax.models import common


def _gumbel(key, shape):
  return jax.random.gumbel(key, shape, jnp.float32)


def tokens_from_logits(logits, key, train: bool, temperature: float,
                       straight_through: bool):
  """One-hot tokens from ``[..., vocab]`` logits: Gumbel-softmax samples in
  training (hard forward if ``straight_through``), exact categorical samples
  (Gumbel-max) otherwise."""
  noisy = logits + _gumbel(key, logits.shape)
  hard = jax.nn.one_hot(jnp.argmax(noisy, -1), logits.shape[-1],
                        dtype=logits.dtype)
  if not train:
    return hard
  soft = jax.nn.softmax(noisy / temperature, axis=-1)
  return soft + jax.lax.stop_gradient(hard - soft) if straight_through else soft


def _conv1d(features: int, kernel_size: int) -> nn.Conv:
  """A 1-D convolution over ``[batch, length, channels]``, Flax's own: as a
  2-D convolution with the CPU tuning's kernel gradient
  (:mod:`gan_jax.xla_cpu`) it was slower (docs/performance.md)."""
  return nn.Conv(features, (kernel_size,), padding='SAME')


class _ResidualBlock(nn.Module):
  """h + 0.3 · conv(relu(conv(relu(h)))), as the WGAN-GP language model."""
  width: int
  kernel_size: int

  @nn.compact
  def __call__(self, h):
    first = _conv1d(self.width, self.kernel_size)
    second = _conv1d(self.width, self.kernel_size)
    return h + 0.3 * second(jax.nn.relu(first(jax.nn.relu(h))))


class SequenceGenerator(nn.Module):
  """z -> ``output_shape = (length, vocab)`` tokens (Gumbel-softmax).

  Attributes:
    output_shape: ``(length, vocabulary)``; set by the library.
    width: channels of the residual blocks.
    depth: residual blocks.
    kernel_size: width of the convolutions.
    temperature: τ of the Gumbel-softmax relaxation (training only).
    straight_through: hard one-hot tokens forward, relaxed gradients back.
  """
  output_shape: Sequence[int]
  width: int = 128
  depth: int = 3
  kernel_size: int = 5
  temperature: float = 0.75
  straight_through: bool = False

  @nn.compact
  def __call__(self, z, train: bool = True):
    if self.temperature <= 0:
      raise ValueError(f'temperature={self.temperature} must be > 0')
    length, vocabulary = self.output_shape
    h = nn.Dense(length * self.width)(z).reshape(-1, length, self.width)
    for _ in range(self.depth):
      h = _ResidualBlock(self.width, self.kernel_size)(h)
    logits = nn.Conv(vocabulary, (1,))(jax.nn.relu(h))
    return tokens_from_logits(logits, self.make_rng('sample'), train,
                              self.temperature, self.straight_through)


class SequenceCritic(nn.Module):
  """One-hot sequences -> logits; features are the last residual map.

  Attributes:
    width: channels of the residual blocks.
    depth: residual blocks.
    kernel_size: width of the convolutions.
  """
  width: int = 128
  depth: int = 3
  kernel_size: int = 5

  @nn.compact
  def __call__(self, x, train: bool = True) -> common.CriticOutput:
    del train
    h = nn.Conv(self.width, (1,))(x.astype(jnp.float32))
    for _ in range(self.depth):
      h = _ResidualBlock(self.width, self.kernel_size)(h)
    features = h.reshape(h.shape[0], -1)
    return common.CriticOutput(logits=nn.Dense(1)(features)[:, 0],
                               features=features)


class SequenceRNNGenerator(nn.Module):
  """An autoregressive GRU generator: tokens one at a time given z.

  The hidden state starts at tanh(W z); each step reads the previous token
  (a start vector of zeros first) and emits the logits of the next one.
  ``__call__`` samples a sequence (Gumbel-softmax in training, so it also
  trains as an ordinary GAN generator); ``sample``, ``log_prob`` and
  ``rollout`` serve SeqGAN's policy gradient. The positions are unrolled
  in Python (a sequence of length L compiles L steps).

  Attributes:
    output_shape: ``(length, vocabulary)``; set by the library.
    width: GRU units.
    embedding: size of the token embedding.
    temperature, straight_through: the Gumbel-softmax relaxation of
      ``__call__`` in training.
  """
  output_shape: Sequence[int]
  width: int = 128
  embedding: int = 32
  temperature: float = 0.75
  straight_through: bool = False

  def setup(self):
    self.start = nn.Dense(self.width)
    self.embed = nn.Dense(self.embedding, use_bias=False)
    self.cell = nn.GRUCell(self.width)
    self.head = nn.Dense(self.output_shape[1])

  def _decode(self, z, choose):
    """Runs the GRU for ``length`` steps; ``choose(i, logits)`` returns the
    token emitted at position ``i`` (fed back as the next input). Returns
    the tokens ``[batch, length, vocab]`` and the logits."""
    length, vocabulary = self.output_shape
    h = jnp.tanh(self.start(z))
    token = jnp.zeros((z.shape[0], vocabulary), jnp.float32)
    tokens, all_logits = [], []
    for i in range(length):
      h, _ = self.cell(h, self.embed(token))
      logits = self.head(h)
      token = choose(i, logits)
      tokens.append(token)
      all_logits.append(logits)
    return jnp.stack(tokens, 1), jnp.stack(all_logits, 1)

  def __call__(self, z, train: bool = True):
    if self.temperature <= 0:
      raise ValueError(f'temperature={self.temperature} must be > 0')
    key = self.make_rng('sample')
    return self._decode(z, lambda i, logits: tokens_from_logits(
        logits, jax.random.fold_in(key, i), train, self.temperature,
        self.straight_through))[0]

  def sample(self, z, train: bool = True):
    """Exact categorical samples (hard one-hot), without a gradient path."""
    del train
    key = self.make_rng('sample')
    return jax.lax.stop_gradient(self._decode(z, lambda i, logits: (
        tokens_from_logits(logits, jax.random.fold_in(key, i), False, 1.0,
                           False)))[0])

  def log_prob(self, inputs, train: bool = True):
    """``(tokens, z) -> [batch, length]`` log π(y_i | y_<i, z), teacher
    forced on the one-hot ``tokens``."""
    del train
    tokens, z = inputs
    _, logits = self._decode(z, lambda i, logits: tokens[:, i])
    return jnp.sum(jax.nn.log_softmax(logits) * tokens, axis=-1)

  def rollout(self, inputs, train: bool = True):
    """``(tokens, z, prefix) -> tokens``: row r keeps its first
    ``prefix[r]`` tokens and samples the rest (Monte Carlo completion)."""
    del train
    tokens, z, prefix = inputs
    key = self.make_rng('sample')

    def choose(i, logits):
      sampled = tokens_from_logits(logits, jax.random.fold_in(key, i), False,
                                   1.0, False)
      return jnp.where((i < prefix)[:, None], tokens[:, i], sampled)

    return jax.lax.stop_gradient(self._decode(z, choose)[0])
