"""Evaluation of generated samples against the dataset they imitate.

One :class:`Evaluator` per experiment, used by training (every
``eval_every`` steps and at the end) and by ``experiments/evaluate.py``:

* 2-D mixtures: :func:`gan_jax.metrics.mode_coverage` (modes covered,
  high-quality fraction, reverse KL).
* Sequences: :func:`gan_jax.metrics.sequence_metrics` (motif recovery and
  coverage, k-mer spectrum distance to ``eval.num_reference`` training
  sequences, uniqueness, novelty).
* Images: features and class probabilities of generated and real images
  from a feature extractor (``config.eval.feature_extractor``), then every
  sample metric of :mod:`gan_jax.metrics`: ``fd`` (Fréchet distance, FID
  when the extractor is Inception), ``kid_mean``/``kid_std``,
  ``is_mean``/``is_std``, ``mode_score``, ``precision``/``recall``,
  ``density``/``coverage``, ``one_nn_accuracy`` on the features, ``swd`` on
  the pixels; for ``stacked_digits`` also the mode count ``modes`` and
  ``reverse_kl`` over the 1,000 digit triples.

The real reference set is up to ``eval.num_reference`` distinct training
examples, preprocessed like training batches; its features are cached on
disk per dataset, split, image shape, extractor and count.
"""

import hashlib
import json
import os
from typing import Any

from absl import logging
import jax
import ml_collections
import numpy as np

from gan_jax import data
from gan_jax import parallel
from gan_jax import metrics
from gan_jax.data import tfds_sources
from gan_jax.metrics.features import digits_classifier
from gan_jax.metrics.features import inception

EXTRACTORS = ('auto', 'digits_classifier', 'inception', 'none')
_DIGIT_DATASETS = ('digits', 'stacked_digits')
_REFERENCE_SEED = 0
_PROBE_SIZE = 64  # Examples scored to list the metric names.
_KMER_SIZE = 3  # k of the sequences' k-mer spectrum distance.


def extractor_name(eval_config: ml_collections.ConfigDict,
                   dataset_name: str) -> str:
  """The feature extractor ``eval.feature_extractor`` resolves to.

  ``auto``: the project's digits classifier for the digits datasets, else
  Inception when ``eval.inception_weights`` is set, else ``none`` (only
  pixel-space metrics).

  Raises:
    ValueError: an unknown name, or ``inception`` without weights.
  """
  name = eval_config.feature_extractor
  if name not in EXTRACTORS:
    raise ValueError(f'unknown eval.feature_extractor {name!r}; allowed: '
                     f'{", ".join(EXTRACTORS)}')
  if name == 'auto':
    if dataset_name in _DIGIT_DATASETS:
      return 'digits_classifier'
    return 'inception' if eval_config.inception_weights else 'none'
  if name == 'inception':
    inception.require_weights_path(eval_config.inception_weights)
  return name


class Features:
  """Features and class probabilities of a set of images (numpy)."""

  def __init__(self, features: np.ndarray, probs: np.ndarray,
               channel_probs: np.ndarray | None = None):
    self.features = features
    self.probs = probs
    self.channel_probs = channel_probs

  def arrays(self) -> dict[str, np.ndarray]:
    out = {'features': self.features, 'probs': self.probs}
    if self.channel_probs is not None:
      out['channel_probs'] = self.channel_probs
    return out


def _make_extractor(name: str, eval_config, dataset, data_parallel):
  """``images -> Features`` for the extractor ``name`` (not ``none``)."""
  if name == 'digits_classifier':
    extract = digits_classifier.DigitsExtractor(
        dataset.data_dir, per_channel=dataset.name == 'stacked_digits',
        data_parallel=data_parallel)
    logging.info('digits classifier: %.1f%% held-out accuracy',
                 100 * extract.held_out_accuracy, extra={'console': False})
    return lambda images: Features(*extract(images))
  extract = inception.make_fid_inception(eval_config.inception_weights,
                                         data_parallel=data_parallel)
  # The Inception Score of Salimans et al. (and its reference code) takes
  # the softmax of the 1008 logits without the final layer's bias.
  bias = np.asarray(parallel.local_copy(
      extract.variables['params']['fc']['bias']), np.float64)

  def inception_features(images):
    pool3, logits = extract(images)
    logits = np.asarray(logits, np.float64) - bias
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    return Features(np.asarray(pool3), probs / probs.sum(axis=1, keepdims=True))
  return inception_features


class Evaluator:
  """Scores samples of one experiment; see the module docstring.

  Args:
    config: the experiment config (``data`` and ``eval`` are read).
    dataset: the experiment's dataset.
    data_parallel: a :class:`gan_jax.parallel.DataParallel` whose devices
      share the rows of feature extraction; None: the default device.
  """

  def __init__(self, config: ml_collections.ConfigDict,
               dataset: data.Dataset, data_parallel=None):
    self._dataset = dataset
    self._eval = config.eval
    self.extractor = None
    self.extract = None  # images -> Features, when there is an extractor.
    self._real = None
    if isinstance(dataset, data.GaussianMixture):
      self.protocol = {'num_samples': config.eval.num_samples}
      return
    if isinstance(dataset, data.SequenceDataset):
      self._training = dataset.strings()
      picks = np.random.default_rng(_REFERENCE_SEED).permutation(
          len(self._training))[:config.eval.num_reference]
      self._reference = [self._training[i] for i in np.sort(picks)]
      self._training = set(self._training)
      self.protocol = {'num_samples': config.eval.num_samples,
                       'num_reference': len(self._reference),
                       'reference_seed': _REFERENCE_SEED,
                       'kmer_size': _KMER_SIZE}
      return
    self.extractor = extractor_name(config.eval, dataset.name)
    self.real_images, _ = dataset.examples(config.eval.num_reference,
                                            _REFERENCE_SEED)
    self.protocol = {
        'num_samples': config.eval.num_samples,
        'num_reference': len(self.real_images),
        'reference_split': dataset.split,
        'reference_seed': _REFERENCE_SEED,
        'feature_extractor': self.extractor,
    }
    if self.extractor == 'none':
      logging.warning('no feature extractor for %r: only pixel-space metrics '
                      '(swd); set eval.inception_weights for FID',
                      dataset.name)
      return
    self.extract = _make_extractor(self.extractor, config.eval, dataset,
                                   data_parallel)
    self._real = self._cached_reference_features()

  def _cached_reference_features(self) -> Features:
    dataset = self._dataset
    key = json.dumps({**self.protocol, 'dataset': dataset.name,
                      'shape': dataset.sample_shape,
                      'weights': os.path.basename(self._eval.inception_weights)
                                 if self.extractor == 'inception' else '',
                      'version': digits_classifier.VERSION}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    path = os.path.join(tfds_sources.check_data_dir(dataset.data_dir),
                        'gan_jax', 'reference_features',
                        f'{dataset.name}_{self.extractor}_{digest}.npz')
    if os.path.exists(path):
      with np.load(path) as cached:
        return Features(**{k: cached[k] for k in cached.files})
    real = self.extract(self.real_images)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f'{path}.tmp{os.getpid()}'  # Processes may race to write.
    with open(temporary, 'wb') as f:
      np.savez(f, **real.arrays())
    os.replace(temporary, path)
    return real

  def metric_names(self) -> list[str]:
    """The names of the metrics :meth:`__call__` returns, found by scoring
    a few real examples (they depend on the dataset and the extractor)."""
    if data.is_on_device(self._dataset):
      probe = self._dataset.sample(jax.random.PRNGKey(0), _PROBE_SIZE)
    else:
      probe = self.real_images[:_PROBE_SIZE]
    return sorted(self(np.asarray(probe)))

  def __call__(self, samples: np.ndarray) -> dict[str, Any]:
    """The metrics of ``samples`` (generated, in the dataset's format)."""
    samples = np.asarray(samples, np.float32)
    if isinstance(self._dataset, data.GaussianMixture):
      return metrics.mode_coverage(samples, self._dataset.centers,
                                   self._dataset.std)
    if isinstance(self._dataset, data.SequenceDataset):
      return metrics.sequence_metrics(self._dataset.decode(samples),
                                      self._training, self._reference,
                                      self._dataset.motifs, _KMER_SIZE)
    fake = None if self.extractor == 'none' else self.extract(samples)
    return image_metrics(self.real_images, samples, self._real, fake)


def image_metrics(real_images: np.ndarray, fake_images: np.ndarray,
                  real: Features | None = None,
                  fake: Features | None = None) -> dict[str, float]:
  """Every image metric of two image sets and, if given, their features.

  ``swd`` on the pixels; with features, the feature-space metrics of the
  module docstring, and the stacked-digits mode count when the features
  carry three channels' class probabilities.
  """
  flat = lambda x: np.asarray(x, np.float32).reshape(len(x), -1)
  results = {'swd': metrics.sliced_wasserstein(flat(real_images),
                                               flat(fake_images))}
  if real is not None:
    kid_mean, kid_std = metrics.kernel_distance(
        real.features, fake.features,
        subset_size=min(1000, len(real.features), len(fake.features)))
    is_mean, is_std = metrics.inception_score(fake.probs)
    results.update({
        'fd': metrics.frechet_distance(real.features, fake.features),
        'kid_mean': kid_mean, 'kid_std': kid_std,
        'is_mean': is_mean, 'is_std': is_std,
        'mode_score': metrics.mode_score(fake.probs, real.probs),
        **metrics.neighbour_metrics(real.features, fake.features),
    })
    if fake.channel_probs is not None and fake.channel_probs.shape[1] == 3:
      results.update(metrics.stacked_modes(fake.channel_probs))
  return {k: float(v) for k, v in results.items()}
