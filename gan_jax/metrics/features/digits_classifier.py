"""A digit classifier the project trains itself: offline features for metrics.

Fréchet distance, KID, Inception Score, mode score and the Stacked MNIST mode
count all need a pretrained network. The Inception network cannot be
downloaded here, so for the embedded ``digits`` and ``stacked_digits``
datasets the project trains its own small CNN on scikit-learn's 8×8 digits,
with a fixed seed, and caches it under the data directory. Its penultimate
activations (128-d) play the role of Inception's pool3 features and its
softmax the role of Inception's class probabilities, in the spirit of the
MNIST classifiers used for Stacked MNIST mode counts (Metz et al. 2017;
Srivastava et al. 2017). Scores computed with it are labelled
``feature_extractor: digits_classifier`` and are not comparable with
Inception-based FID.

Images of any size are first resized (bilinear, antialiased) to 8×8. For
``digits`` the channels are averaged (a 32×32×3 config on digits repeats
the grey channel); for ``stacked_digits`` each channel is classified on its
own: the features are the three feature vectors concatenated, the class
probabilities the product distribution over the 1,000 modes, and
``channel_probs`` the ``[n, 3, 10]`` per-channel probabilities that
``stacked_modes`` counts.
"""

import json
import os
from typing import NamedTuple

from absl import logging
import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from gan_jax.data import digits as digits_data
from gan_jax.data import tfds_sources

VERSION = 1  # Part of the cache path: bump when the recipe below changes.
MIN_HELD_OUT_ACCURACY = 0.97
_SEED = 0
_HELD_OUT = 297  # Of the 1,797 digits; the other 1,500 train.
_STEPS, _BATCH, _LEARNING_RATE = 1_500, 128, 1e-3
_INPUT_SIZE = 8


class DigitsCNN(nn.Module):
  """8×8×1 images in [-1, 1] -> (128-d features, 10 logits)."""

  @nn.compact
  def __call__(self, x):
    h = jax.nn.relu(nn.Conv(32, (3, 3))(x))
    h = jax.nn.relu(nn.Conv(64, (3, 3), strides=(2, 2))(h))
    h = jax.nn.relu(nn.Conv(128, (3, 3), strides=(2, 2))(h))
    features = jax.nn.relu(nn.Dense(128)(h.reshape(h.shape[0], -1)))
    return features, nn.Dense(10)(features)


def _as_input(images: np.ndarray) -> np.ndarray:
  return images.astype(np.float32) / 127.5 - 1.0


def _split():
  images, labels = digits_data.digit_images()
  order = np.random.default_rng(_SEED).permutation(len(labels))
  held_out, train = order[:_HELD_OUT], order[_HELD_OUT:]
  return ((_as_input(images[train]), labels[train]),
          (_as_input(images[held_out]), labels[held_out]))


def train_classifier() -> tuple[dict, float]:
  """Trains the CNN on 1,500 digits; returns its params and the accuracy on
  the 297 held-out ones. Deterministic for a given machine and jax version."""
  (x, y), (x_test, y_test) = _split()
  x, y = jnp.asarray(x), jnp.asarray(y)
  model = DigitsCNN()
  key = jax.random.PRNGKey(_SEED)
  params = model.init(key, x[:1])['params']
  optimizer = optax.adam(_LEARNING_RATE)
  opt_state = optimizer.init(params)

  @jax.jit
  def step(params, opt_state, key):
    index = jax.random.choice(key, len(y), (_BATCH,), replace=False)

    def loss_fn(p):
      logits = model.apply({'params': p}, x[index])[1]
      return optax.softmax_cross_entropy_with_integer_labels(
          logits, y[index]).mean()

    updates, opt_state = optimizer.update(jax.grad(loss_fn)(params),
                                          opt_state)
    return optax.apply_updates(params, updates), opt_state

  for i in range(_STEPS):
    params, opt_state = step(params, opt_state, jax.random.fold_in(key, i))
  logits = model.apply({'params': params}, x_test)[1]
  accuracy = float(np.mean(np.argmax(logits, -1) == y_test))
  return params, accuracy


def _cache_dir(data_dir: str) -> str:
  return os.path.join(tfds_sources.check_data_dir(data_dir), 'gan_jax',
                      f'digits_classifier_v{VERSION}')


def load_or_train(data_dir: str = '') -> tuple[dict, float]:
  """The cached classifier under ``data_dir`` (TFDS's directory if ''),
  trained and cached on first use; returns (params, held-out accuracy).

  Raises:
    RuntimeError: training reached less than 97 % held-out accuracy.
  """
  cache = _cache_dir(data_dir)
  params_path = os.path.join(cache, 'params.msgpack')
  info_path = os.path.join(cache, 'info.json')
  template = DigitsCNN().init(jax.random.PRNGKey(0),
                              jnp.zeros((1, 8, 8, 1)))['params']
  if os.path.exists(params_path) and os.path.exists(info_path):
    with open(params_path, 'rb') as f:
      params = flax.serialization.from_bytes(template, f.read())
    with open(info_path) as f:
      return params, json.load(f)['held_out_accuracy']
  logging.info('training the digits classifier that scores samples (once; '
               'kept in %s)', cache)
  params, accuracy = train_classifier()
  logging.info('digits classifier: %.1f%% accuracy on the %d held-out digits',
               100 * accuracy, _HELD_OUT)
  if accuracy < MIN_HELD_OUT_ACCURACY:
    raise RuntimeError(f'the digits classifier reached {accuracy:.3f} '
                       f'held-out accuracy, below {MIN_HELD_OUT_ACCURACY}')
  os.makedirs(cache, exist_ok=True)
  # Written to temporary names and renamed: a concurrent or interrupted
  # run never sees half a file.
  for path, content, mode in (
      (params_path, flax.serialization.to_bytes(params), 'wb'),
      (info_path, json.dumps({'held_out_accuracy': accuracy,
                              'held_out_examples': _HELD_OUT,
                              'train_examples': 1797 - _HELD_OUT,
                              'version': VERSION}), 'w')):
    temporary = f'{path}.tmp{os.getpid()}'
    with open(temporary, mode) as f:
      f.write(content)
    os.replace(temporary, path)
  return params, accuracy


class DigitsFeatures(NamedTuple):
  """What the classifier says about a batch of images.

  Attributes:
    features: ``[n, d]`` penultimate activations (d = 128, or 384 stacked).
    probs: ``[n, classes]`` class probabilities (10, or 1,000 stacked).
    channel_probs: ``[n, channels, 10]`` per-channel probabilities.
  """
  features: np.ndarray
  probs: np.ndarray
  channel_probs: np.ndarray


class DigitsExtractor:
  """Batched, jitted features of images in [-1, 1] of any size.

  Args:
    data_dir: where the classifier is cached (see :func:`load_or_train`).
    per_channel: classify each channel as its own digit (stacked digits);
      otherwise average the channels.
    batch_size: images per jitted call.
    data_parallel: a ``gan_jax.parallel.DataParallel`` whose devices share
      each batch's rows; None: the default device.
  """
  name = 'digits_classifier'

  def __init__(self, data_dir: str = '', per_channel: bool = False,
               batch_size: int = 1000, data_parallel=None):
    self.params, self.held_out_accuracy = load_or_train(data_dir)
    self.per_channel = per_channel
    self.batch_size = batch_size
    self._apply = jax.jit(self._features)
    self._data_parallel = data_parallel
    if data_parallel is not None:
      self.params = data_parallel.replicate(self.params)

  def _features(self, params, images):
    n, _, _, channels = images.shape
    x = jax.image.resize(images.astype(jnp.float32),
                         (n, _INPUT_SIZE, _INPUT_SIZE, channels), 'linear')
    if self.per_channel:
      x = x.transpose(0, 3, 1, 2).reshape(n * channels, _INPUT_SIZE,
                                           _INPUT_SIZE, 1)
    else:
      x, channels = x.mean(axis=-1, keepdims=True), 1
    features, logits = DigitsCNN().apply({'params': params}, x)
    channel_probs = jax.nn.softmax(logits).reshape(n, channels, 10)
    probs = channel_probs[:, 0]
    for c in range(1, channels):  # Independent channels: outer products.
      probs = (probs[:, :, None] * channel_probs[:, c, None, :]).reshape(n, -1)
    return features.reshape(n, -1), probs, channel_probs

  def _batch_features(self, images: np.ndarray):
    parallel = self._data_parallel
    if parallel is None:
      return jax.device_get(self._apply(self.params, images))
    outputs = self._apply(self.params, parallel.put_rows(images))
    return tuple(parallel.get_rows(x, len(images)) for x in outputs)

  def __call__(self, images: np.ndarray) -> DigitsFeatures:
    parts = [self._batch_features(images[i:i + self.batch_size])
             for i in range(0, len(images), self.batch_size)]
    return DigitsFeatures(*(np.concatenate(p) for p in zip(*parts)))
