"""The image input pipeline on grain: shard, shuffle, repeat, preprocess, batch.

Each process reads its own disjoint shard of the source (every
``process_count``-th record from ``process_index``), shuffles it with the
run's seed (a new permutation every epoch), repeats forever, batches,
converts uint8 images to float32 in [-1, 1] at the experiment's image shape
(one vectorised resize per batch), and prefetches in a background thread
so the train step never waits on Python. The iterator's position is a small
dict (``get_state`` / ``set_state``) that checkpoints store, so a resumed
run continues with exactly the next batch.
"""

import functools
from typing import Any, Sequence

import grain
import grain.experimental
import jax
import numpy as np


@functools.lru_cache(maxsize=None)
def resize_matrix(in_size: int, out_size: int) -> np.ndarray:
  """The ``[out_size, in_size]`` linear map of a 1-D bilinear resize.

  Row o holds the weights of the input pixels in output pixel o, as
  computed by ``jax.image.resize(..., 'linear')`` (half-pixel centres, a
  triangle filter widened when shrinking, i.e. antialiased like PIL).
  Resizing is separable, so two such matrices resize a whole batch of
  images with two matrix products instead of one library call per image
  and channel.
  """
  return np.asarray(jax.image.resize(np.eye(in_size, dtype=np.float32),
                                     (out_size, in_size), 'linear'))


def to_float_images(images: np.ndarray, shape: Sequence[int]) -> np.ndarray:
  """uint8 ``[b, h, w, c]`` -> float32 ``[b, *shape]`` in [-1, 1].

  Resizes bilinearly when the spatial size differs, repeats a single channel
  to three or averages three to one, so any image config runs on any image
  dataset (e.g. a 32×32×3 model on 8×8 grayscale digits).
  """
  height, width, channels = shape
  x = np.asarray(images, np.float32)
  if x.shape[1] != height:
    x = np.einsum('oh,bhwc->bowc', resize_matrix(x.shape[1], height), x)
  if x.shape[2] != width:
    x = np.einsum('ow,bhwc->bhoc', resize_matrix(x.shape[2], width), x)
  if x.shape[-1] != channels:
    if x.shape[-1] == 1:
      x = np.repeat(x, channels, axis=-1)
    elif channels == 1:
      x = x.mean(axis=-1, keepdims=True)
    else:
      raise ValueError(f'cannot adapt {x.shape[-1]} channels to {channels}')
  return x / 127.5 - 1.0


def read_records(source, indices) -> list[dict[str, Any]]:
  """The records at ``indices``, read in one call when ``source`` can (TFDS
  data sources decode a batch several times faster than record by record)."""
  indices = [int(i) for i in indices]
  if hasattr(source, '__getitems__'):
    return source.__getitems__(indices)
  return [source[i] for i in indices]


def record_label(record: dict[str, Any]) -> int:
  """A record's class; 0 for datasets without a ``label`` feature (e.g.
  ``celeb_a``), whose ``num_classes`` is 0, so the value is never used."""
  return record.get('label', 0)


class InMemorySource:
  """A random-access source of ``{'image', 'label'}`` records held as two
  numpy arrays, read once from another source.

  Reading a TFDS record decodes it (about 0.3-0.5 ms each on this 2-core
  machine, so 20-30 ms for a batch of 64, slower than a small model's
  step); from memory the whole pipeline takes about 7 ms a batch. Worth it
  for datasets that fit in memory: the embedded ones, MNIST, CIFAR-10.
  """

  def __init__(self, source, chunk: int = 2_000):
    images, labels = [], []
    for start in range(0, len(source), chunk):
      records = read_records(source, range(start,
                                           min(start + chunk, len(source))))
      images.append(np.stack([np.asarray(r['image'], np.uint8)
                              for r in records]))
      labels.append(np.array([record_label(r) for r in records], np.int32))
    self.images = np.concatenate(images)
    self.labels = np.concatenate(labels)

  def __len__(self) -> int:
    return len(self.labels)

  def __getitem__(self, index: int) -> dict[str, np.ndarray]:
    return {'image': self.images[index], 'label': self.labels[index]}


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
    'label': int32 [b]}``.
  """
  if batch_size % process_count:
    raise ValueError(f'batch_size {batch_size} is not divisible by the '
                     f'{process_count} processes')
  shape = tuple(image_shape)

  def select(record: dict[str, Any]) -> dict[str, np.ndarray]:
    return {'image': np.asarray(record['image'], np.uint8),
            'label': np.asarray(record_label(record), np.int32)}

  def preprocess(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {'image': to_float_images(batch['image'], shape),
            'label': batch['label']}

  dataset = (grain.MapDataset.source(source)[process_index::process_count]
             .seed(seed).shuffle().repeat(None).map(select)
             .batch(batch_size // process_count, drop_remainder=True)
             .map(preprocess).to_iter_dataset())
  if prefetch:
    dataset = grain.experimental.ThreadPrefetchIterDataset(
        dataset, prefetch_buffer_size=prefetch)
  return iter(dataset)


def image_examples(source, *, image_shape: Sequence[int], limit: int,
                   seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
  """Up to ``limit`` distinct examples of ``source``, preprocessed as in
  training: a seeded random subset (all of them when ``limit`` ≥ the size).

  Returns:
    ``(images, labels)``: float32 ``[n, *image_shape]`` in [-1, 1], int32
    ``[n]``.
  """
  count = min(limit, len(source))
  order = grain.MapDataset.range(len(source)).seed(seed).shuffle()[:count]
  images, labels = [], []
  for start in range(0, count, 1000):
    records = read_records(source, [order[i] for i in
                                    range(start, min(start + 1000, count))])
    images.append(to_float_images(
        np.stack([np.asarray(r['image'], np.uint8) for r in records]),
        tuple(image_shape)))
    labels.append(np.array([record_label(r) for r in records], np.int32))
  return np.concatenate(images), np.concatenate(labels)
