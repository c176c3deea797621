"""Datasets by name.

``from_config(config.data)`` returns the dataset of an experiment:

* a :class:`GaussianMixture` (``ring8``, ``grid25``), sampled on device
  inside the train step (``sample(key, n)``), so training never waits on the
  host for data;
* a :class:`SequenceDataset` (``motifs``: synthetic proteins with planted
  motifs; ``fasta``: sequences of a FASTA file), configured by
  ``config.data.sequences`` and sampled on device as well;
* an :class:`ImageDataset` for any other name: the embedded ``digits`` and
  ``stacked_digits`` (prepared on first use, offline) or an official TFDS
  dataset prepared under ``data.data_dir``, read through the grain pipeline.
"""

from typing import Callable

from gan_jax.data.batch import Batch
from gan_jax.data.images import ImageDataset, image_dataset
from gan_jax.data.mixtures import GaussianMixture, grid, ring
from gan_jax.data.sequences import FastaError, SequenceDataset
from gan_jax.data import sequences as _sequences
from gan_jax.data.tfds_sources import (EMBEDDED, DatasetUnavailableError,
                                      UnknownDatasetError)

MIXTURES: dict[str, Callable[[], GaussianMixture]] = {
    'ring8': ring,
    'grid25': grid,
}

SEQUENCES = ('fasta', 'motifs')

Dataset = GaussianMixture | ImageDataset | SequenceDataset


def get(name: str, data_dir: str = '', image_size: int = 0,
        channels: int = 0, split: str = 'train') -> Dataset:
  """The dataset called ``name``.

  Raises:
    DatasetUnavailableError (a ValueError): one line naming the dataset and
      what is allowed, or where it was looked for and how to prepare it.
  """
  if name in MIXTURES:
    return MIXTURES[name]()
  try:
    return image_dataset(name, data_dir, image_size, channels, split)
  except UnknownDatasetError as e:
    allowed = ', '.join(sorted(MIXTURES) + sorted(SEQUENCES)
                        + sorted(EMBEDDED))
    raise DatasetUnavailableError(
        f'unknown dataset {name!r}; allowed: {allowed} or the name of a '
        'prepared TFDS dataset') from e


def sequence_dataset(name: str, sequences_config) -> SequenceDataset:
  """``motifs`` or ``fasta`` as ``config.data.sequences`` describes them.

  Raises:
    FastaError (a ValueError): a malformed FASTA file, naming the line.
  """
  c = sequences_config
  if name == 'fasta':
    if not c.fasta_path:
      raise FastaError('data.name=fasta needs data.sequences.fasta_path')
    return _sequences.from_fasta(c.fasta_path, c.length, c.alphabet)
  if c.alphabet != _sequences.AMINO_ACIDS:
    raise ValueError('the motifs dataset is over the 20 amino acids; '
                     f'data.sequences.alphabet={c.alphabet!r} applies to '
                     'fasta')
  return _sequences.planted_motifs(c.num_sequences, c.length, c.num_motifs,
                                   c.motif_length, c.seed)


def from_config(data_config) -> Dataset:
  """The dataset described by ``config.data``."""
  if data_config.name in SEQUENCES:
    return sequence_dataset(data_config.name, data_config.sequences)
  return get(data_config.name, data_config.data_dir, data_config.image_size,
             data_config.channels, data_config.split)


def kind(dataset: Dataset) -> str:
  """``images``, ``sequences`` or ``points`` (2-D mixtures)."""
  if isinstance(dataset, ImageDataset):
    return 'images'
  return 'sequences' if isinstance(dataset, SequenceDataset) else 'points'


def is_on_device(dataset: Dataset) -> bool:
  """Whether batches are drawn on device inside the step (no host input)."""
  return isinstance(dataset, (GaussianMixture, SequenceDataset))


__all__ = ['Batch', 'DatasetUnavailableError', 'EMBEDDED', 'FastaError',
           'GaussianMixture', 'ImageDataset', 'MIXTURES', 'SEQUENCES',
           'SequenceDataset', 'sequence_dataset', 'from_config', 'get', 'grid',
           'is_on_device', 'kind', 'ring']
