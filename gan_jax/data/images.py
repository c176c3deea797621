"""Image datasets as the train loop sees them: a shape and a batch iterator."""

import dataclasses
import math

from gan_jax.data import pipeline
from gan_jax.data import tfds_sources

_IN_MEMORY_BYTES = 1 << 30


@dataclasses.dataclass(frozen=True)
class ImageDataset:
  """A TFDS image dataset read through the grain pipeline.

  Attributes:
    name: the dataset's TFDS name (``digits``, ``stacked_digits``, ``mnist`` …).
    data_dir: where it is prepared (``''``: TFDS's usual directory).
    sample_shape: ``(height, width, channels)`` the experiment trains at; the
      pipeline resizes and adapts channels to it.
    num_classes: classes of the dataset's ``label`` feature (0 if it has
      none), for class-conditional models.
    split: the TFDS split read, with TFDS's slicing (``train``,
      ``train[:1297]``, ``train[80%:]`` …).
  """
  name: str
  data_dir: str
  sample_shape: tuple[int, int, int]
  num_classes: int = 0
  split: str = 'train'

  def batches(self, batch_size: int, seed: int, process_index: int = 0,
              process_count: int = 1):
    """An endless, checkpointable iterator of ``{'image', 'label'}`` batches.

    Datasets of at most 1 GiB of stored images are read into memory once
    (:class:`pipeline.InMemorySource`); the batches are the same either way.
    """
    source = tfds_sources.data_source(self.name, self.data_dir, self.split)
    stored = tfds_sources.builder(self.name, self.data_dir).info.features[
        'image'].shape
    if len(source) * math.prod(stored) <= _IN_MEMORY_BYTES:
      source = pipeline.InMemorySource(source)
    return pipeline.image_batches(
        source,
        batch_size=batch_size, seed=seed, image_shape=self.sample_shape,
        process_index=process_index, process_count=process_count)


  def examples(self, limit: int, seed: int = 0):
    """Up to ``limit`` distinct examples at ``sample_shape`` (evaluation's
    real reference set): ``(images, labels)`` numpy arrays."""
    return pipeline.image_examples(
        tfds_sources.data_source(self.name, self.data_dir, self.split),
        image_shape=self.sample_shape, limit=limit, seed=seed)


def image_dataset(name: str, data_dir: str, image_size: int,
                  channels: int, split: str = 'train') -> ImageDataset:
  """The ``split`` of dataset ``name`` at ``image_size``² × ``channels``
  (0: as stored).

  Prepares the embedded datasets on first use; raises
  ``tfds_sources.DatasetUnavailableError`` for an official dataset that is not
  prepared, or a split it does not have, before any training work.
  """
  dataset_builder = tfds_sources.builder(name, data_dir)
  try:
    dataset_builder.as_data_source(split=split)
  except (ValueError, AssertionError) as e:
    raise tfds_sources.DatasetUnavailableError(
        f'dataset {name!r} has no split {split!r}; allowed: '
        f'{", ".join(dataset_builder.info.splits)} or a slice of one '
        '(train[:1297], train[80%:])') from e
  features = dataset_builder.info.features
  height, width, native_channels = features['image'].shape
  size = image_size or height
  label = features['label'] if 'label' in features else None
  return ImageDataset(name, data_dir,
                      (size, size if image_size else width,
                       channels or native_channels),
                      num_classes=getattr(label, 'num_classes', 0) or 0,
                      split=split)
