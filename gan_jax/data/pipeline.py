"""The image input pipeline on grain: shard, shuffle, repeat, preprocess, batch.

Each process reads its own disjoint shard of the source (every
``process_count``-th record from ``process_index``), shuffles it with the
run's seed (a new permutation every epoch), repeats forever, converts uint8
images to float32 in [-1, 1] at the experiment's image shape, batches, and
prefetches in a background thread so the train step never waits on Python.
The iterator's position is a small dict (``get_state`` / ``set_state``) that
checkpoints store, so a resumed run continues with exactly the next batch.
"""

from typing import Any, Sequence

import grain
import grain.experimental
import numpy as np
from PIL import Image


def to_float_image(image: np.ndarray, shape: Sequence[int]) -> np.ndarray:
  """uint8 ``[h, w, c]`` -> float32 ``shape`` in [-1, 1].

  Resizes bilinearly when the spatial size differs, repeats a single channel
  to three or averages three to one, so any image config runs on any image
  dataset (e.g. a 32×32×3 model on 8×8 grayscale digits).
  """
  height, width, channels = shape
  if image.shape[:2] != (height, width):
    image = np.stack([
        np.asarray(Image.fromarray(image[..., c]).resize(
            (width, height), Image.Resampling.BILINEAR))
        for c in range(image.shape[-1])], axis=-1)
  if image.shape[-1] != channels:
    if image.shape[-1] == 1:
      image = np.repeat(image, channels, axis=-1)
    elif channels == 1:
      image = np.round(image.mean(axis=-1, keepdims=True)).astype(np.uint8)
    else:
      raise ValueError(f'cannot adapt {image.shape[-1]} channels to {channels}')
  return image.astype(np.float32) / 127.5 - 1.0


def image_batches(source, *, batch_size: int, seed: int,
                  image_shape: Sequence[int], process_index: int = 0,
                  process_count: int = 1, prefetch: int = 2):
  """An endless, checkpointable iterator of this process's batches.

  Args:
    source: a random-access source of ``{'image': uint8 [h, w, c], 'label'}``
      records (e.g. a TFDS data source).
    batch_size: the global batch size; each process yields
      ``batch_size // process_count`` examples per batch.
    seed: shuffling seed.
    image_shape: ``(height, width, channels)`` the model expects.
    process_index, process_count: this process's shard.
    prefetch: batches prepared ahead in a background thread (0: none).

  Returns:
    A grain ``DatasetIterator`` of ``{'image': float32 [b, *image_shape],
    'label': int64 [b]}``.
  """
  if batch_size % process_count:
    raise ValueError(f'batch_size {batch_size} is not divisible by the '
                     f'{process_count} processes')
  shape = tuple(image_shape)

  def preprocess(record: dict[str, Any]) -> dict[str, np.ndarray]:
    return {'image': to_float_image(np.asarray(record['image']), shape),
            'label': np.asarray(record['label'], np.int64)}

  dataset = (grain.MapDataset.source(source)[process_index::process_count]
             .seed(seed).shuffle().repeat(None).map(preprocess)
             .batch(batch_size // process_count, drop_remainder=True)
             .to_iter_dataset())
  if prefetch:
    dataset = grain.experimental.ThreadPrefetchIterDataset(
        dataset, prefetch_buffer_size=prefetch)
  return iter(dataset)
