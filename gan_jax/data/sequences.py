"""Discrete sequences (proteins by default) as one-hot arrays, sampled on
device.

A :class:`SequenceDataset` holds every training sequence as integer tokens
and draws batches of one-hot ``[length, vocabulary]`` float arrays inside the
train step, like the 2-D mixtures: generators of discrete data emit (relaxed)
one-hot sequences and critics read them (Gumbel-softmax GANs, Kusner &
Hernández-Lobato 2016; FBGAN, Gupta & Zou 2019; ProteinGAN, Repecka et al.
2021).

Two sources:

* ``motifs`` — synthetic proteins with planted motifs (:func:`planted_motifs`):
  ``num_sequences`` sequences of ``length`` residues drawn i.i.d. from the
  UniProtKB/Swiss-Prot amino-acid composition, each with one of
  ``num_motifs`` motifs of ``motif_length`` residues (drawn uniformly from
  the alphabet, distinct) written at a uniformly drawn position; motif and
  position are chosen per sequence, everything from ``seed``. A generator
  that learned the data writes the motifs; background residues almost never
  form one by chance (≈ length · num_motifs / 20^motif_length).
* ``fasta`` — real sequences from a FASTA file (``fasta_path``): every
  record's residues, upper-cased, over ``alphabet``; records shorter than
  ``length`` are right-padded with the gap symbol ``-`` (then part of the
  vocabulary), longer ones are an error.
"""

import dataclasses
import os

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.data.batch import Batch

AMINO_ACIDS = 'ACDEFGHIKLMNPQRSTVWY'
GAP = '-'
# UniProtKB/Swiss-Prot's amino-acid composition (%, its release statistics,
# rounded), in AMINO_ACIDS order.
_SWISS_PROT_COMPOSITION = np.array([
    8.25, 1.37, 5.45, 6.75, 3.86, 7.07, 2.27, 5.96, 5.84, 9.66,
    2.42, 4.06, 4.70, 3.93, 5.53, 6.56, 5.34, 6.87, 1.08, 2.92])


class FastaError(ValueError):
  """A FASTA file that cannot be read as sequences; the message says where."""


@dataclasses.dataclass(frozen=True, eq=False)
class SequenceDataset:
  """Sequences of one length over a vocabulary, as integer tokens.

  Attributes:
    name: ``motifs`` or ``fasta``.
    vocabulary: the symbols, index = token (the alphabet, then ``-`` if
      some sequence is padded).
    tokens: ``[num_sequences, length]`` int32.
    motifs: the planted motifs (``motifs`` data), else ().
    motif_labels: ``[num_sequences]`` index of each sequence's motif
      (zeros without motifs).
  """
  name: str
  vocabulary: str
  tokens: np.ndarray
  motifs: tuple[str, ...] = ()
  motif_labels: np.ndarray | None = None

  @property
  def sample_shape(self) -> tuple[int, int]:
    return (self.tokens.shape[1], len(self.vocabulary))

  @property
  def num_classes(self) -> int:
    """Class labels are not offered to models (no conditional form)."""
    return 0

  def sample_batch(self, key: jax.Array, num_samples: int) -> Batch:
    """``[num_samples, length, vocabulary]`` one-hot float32 sequences
    drawn uniformly with replacement, with their motif indices."""
    index = jax.random.randint(key, (num_samples,), 0, len(self.tokens))
    tokens = jnp.asarray(self.tokens)[index]
    labels = (jnp.asarray(self.motif_labels)[index]
              if self.motif_labels is not None
              else jnp.zeros((num_samples,), jnp.int32))
    return Batch(jax.nn.one_hot(tokens, len(self.vocabulary),
                                dtype=jnp.float32), labels.astype(jnp.int32))

  def sample(self, key: jax.Array, num_samples: int) -> jax.Array:
    return self.sample_batch(key, num_samples).images

  def decode(self, one_hot: np.ndarray) -> list[str]:
    """``[n, length, vocabulary]`` (one-hot or scores) -> n strings."""
    symbols = np.array(list(self.vocabulary))
    return [''.join(row) for row in symbols[np.argmax(one_hot, axis=-1)]]

  def strings(self) -> list[str]:
    symbols = np.array(list(self.vocabulary))
    return [''.join(row) for row in symbols[self.tokens]]


def planted_motifs(num_sequences: int = 10_000, length: int = 32,
                   num_motifs: int = 4, motif_length: int = 6,
                   seed: int = 0) -> SequenceDataset:
  """The synthetic ``motifs`` dataset (procedure in the module docstring)."""
  if not 1 <= motif_length <= length:
    raise ValueError(f'motif_length={motif_length} must be in 1..length='
                     f'{length}')
  if num_motifs < 1 or num_sequences < 1:
    raise ValueError(f'num_motifs={num_motifs} and num_sequences='
                     f'{num_sequences} must be >= 1')
  alphabet = len(AMINO_ACIDS)
  if num_motifs > alphabet ** motif_length:
    raise ValueError(f'num_motifs={num_motifs} distinct motifs of '
                     f'{motif_length} residues do not exist; at most '
                     f'{alphabet ** motif_length}')
  rng = np.random.default_rng(seed)
  motifs = set()
  while len(motifs) < num_motifs:
    motifs.add(tuple(rng.integers(0, alphabet, motif_length)))
  motifs = np.array(sorted(motifs))
  composition = _SWISS_PROT_COMPOSITION / _SWISS_PROT_COMPOSITION.sum()
  tokens = rng.choice(alphabet, size=(num_sequences, length), p=composition)
  labels = rng.integers(0, num_motifs, num_sequences)
  starts = rng.integers(0, length - motif_length + 1, num_sequences)
  columns = starts[:, None] + np.arange(motif_length)
  tokens[np.arange(num_sequences)[:, None], columns] = motifs[labels]
  return SequenceDataset(
      'motifs', AMINO_ACIDS, tokens.astype(np.int32),
      motifs=tuple(''.join(AMINO_ACIDS[t] for t in m) for m in motifs),
      motif_labels=labels.astype(np.int32))


def read_fasta(path: str) -> list[tuple[str, str]]:
  """``(header, sequence)`` records of a FASTA file, sequences upper-cased.

  Raises:
    FastaError: a missing file, text before the first ``>`` header, a record
      without residues, or no record at all — naming the line.
  """
  if not os.path.isfile(path):
    raise FastaError(f'FASTA file {path!r} does not exist')
  records = []
  with open(path) as f:
    for number, line in enumerate(f, 1):
      line = line.strip()
      if not line or line.startswith(';'):
        continue
      if line.startswith('>'):
        if records and not records[-1][1]:
          raise FastaError(f'{path}:{records[-1][2]}: record '
                           f'{records[-1][0]!r} has no residues')
        records.append([line[1:].strip(), '', number])
      elif not records:
        raise FastaError(f'{path}:{number}: expected a ">" header line '
                         f'before residues, got {line[:20]!r}')
      else:
        records[-1][1] += line.replace(' ', '').upper()
  if not records:
    raise FastaError(f'{path}: no FASTA records (no ">" header line)')
  if not records[-1][1]:
    raise FastaError(f'{path}:{records[-1][2]}: record {records[-1][0]!r} '
                     'has no residues')
  return [(header, sequence) for header, sequence, _ in records]


def from_fasta(path: str, length: int,
               alphabet: str = AMINO_ACIDS) -> SequenceDataset:
  """The ``fasta`` dataset: the file's sequences as tokens of ``length``.

  Raises:
    FastaError: the file is malformed (:func:`read_fasta`), a residue is not
      in ``alphabet``, or a sequence is longer than ``length``.
  """
  records = read_fasta(path)
  index = {symbol: i for i, symbol in enumerate(alphabet)}
  padded = any(len(sequence) < length for _, sequence in records)
  vocabulary = alphabet + (GAP if padded else '')
  tokens = np.full((len(records), length), len(alphabet), np.int32)
  for row, (header, sequence) in enumerate(records):
    if len(sequence) > length:
      raise FastaError(f'{path}: record {header!r} has {len(sequence)} '
                       f'residues, more than data.sequences.length={length}')
    for position, symbol in enumerate(sequence):
      if symbol not in index:
        raise FastaError(f'{path}: record {header!r} has {symbol!r} at '
                         f'residue {position + 1}; allowed: {alphabet}')
      tokens[row, position] = index[symbol]
  return SequenceDataset('fasta', vocabulary, tokens)
