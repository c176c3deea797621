"""Evaluation of generated samples against the dataset they imitate."""

import numpy as np

from gan_jax import data
from gan_jax import metrics


def evaluate(dataset: data.Dataset, samples: np.ndarray) -> dict[str, float]:
  """The dataset's metrics for ``samples``.

  For 2-D mixtures: :func:`gan_jax.metrics.mode_coverage` (modes covered,
  fraction of high-quality samples, reverse KL to uniform over modes). Image
  datasets have no sample metric yet (FID, KID, mode counts come with the
  evaluation suite): an empty dict.
  """
  if isinstance(dataset, data.GaussianMixture):
    return metrics.mode_coverage(samples, dataset.centers, dataset.std)
  return {}
