"""Datasets by name.

``from_config(config.data)`` returns the dataset of an experiment:

* a :class:`GaussianMixture` (``ring8``, ``grid25``), sampled on device
  inside the train step (``sample(key, n)``), so training never waits on the
  host for data;
* an :class:`ImageDataset` for any other name: the embedded ``digits`` and
  ``stacked_digits`` (prepared on first use, offline) or an official TFDS
  dataset prepared under ``data.data_dir``, read through the grain pipeline.
"""

from typing import Callable

from gan_jax.data.batch import Batch
from gan_jax.data.images import ImageDataset, image_dataset
from gan_jax.data.mixtures import GaussianMixture, grid, ring
from gan_jax.data.tfds_sources import (EMBEDDED, DatasetUnavailableError,
                                      UnknownDatasetError)

MIXTURES: dict[str, Callable[[], GaussianMixture]] = {
    'ring8': ring,
    'grid25': grid,
}

Dataset = GaussianMixture | ImageDataset


def get(name: str, data_dir: str = '', image_size: int = 0,
        channels: int = 0) -> Dataset:
  """The dataset called ``name``.

  Raises:
    DatasetUnavailableError (a ValueError): one line naming the dataset and
      what is allowed, or where it was looked for and how to prepare it.
  """
  if name in MIXTURES:
    return MIXTURES[name]()
  try:
    return image_dataset(name, data_dir, image_size, channels)
  except UnknownDatasetError as e:
    allowed = ', '.join(sorted(MIXTURES) + sorted(EMBEDDED))
    raise DatasetUnavailableError(
        f'unknown dataset {name!r}; allowed: {allowed} or the name of a '
        'prepared TFDS dataset') from e


def from_config(data_config) -> Dataset:
  """The dataset described by ``config.data``."""
  return get(data_config.name, data_config.data_dir, data_config.image_size,
             data_config.channels)


def is_on_device(dataset: Dataset) -> bool:
  """Whether batches are drawn on device inside the step (no host input)."""
  return isinstance(dataset, GaussianMixture)


__all__ = ['Batch', 'DatasetUnavailableError', 'EMBEDDED', 'GaussianMixture',
           'ImageDataset', 'MIXTURES', 'from_config', 'get', 'grid',
           'is_on_device', 'ring']
