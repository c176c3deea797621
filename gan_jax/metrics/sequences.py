"""Metrics of generated discrete sequences against the training set.

The quantities protein-design GANs report (FBGAN, Gupta & Zou 2019;
ProteinGAN, Repecka et al. 2021) and a mode count for planted motifs:

* ``motif_recovery``: the fraction of generated sequences that contain at
  least one planted motif exactly (1.0 for the training data of ``motifs``);
* ``motif_coverage``: the fraction of the motifs that occur in at least one
  generated sequence (mode coverage: a collapsed generator writes few);
* ``kmer_distance``: the total variation distance (½ L1) between the k-mer
  frequency spectra of generated and real sequences (k = 3 by default; 0 for
  identical spectra, 1 for disjoint ones);
* ``uniqueness``: distinct generated sequences / generated sequences;
* ``novelty``: the fraction of generated sequences not in the training set.
"""

from collections import Counter
from typing import Sequence


def motif_recovery(samples: Sequence[str], motifs: Sequence[str]) -> float:
  """Fraction of ``samples`` containing at least one of ``motifs``."""
  return sum(any(m in s for m in motifs) for s in samples) / len(samples)


def motif_coverage(samples: Sequence[str], motifs: Sequence[str]) -> float:
  """Fraction of ``motifs`` found in at least one of ``samples``."""
  return sum(any(m in s for s in samples) for m in motifs) / len(motifs)


def kmer_spectrum(sequences: Sequence[str], k: int) -> dict[str, float]:
  """Frequencies of the overlapping k-mers of ``sequences`` (sum to 1)."""
  counts = Counter(s[i:i + k] for s in sequences
                   for i in range(len(s) - k + 1))
  total = sum(counts.values())
  return {kmer: count / total for kmer, count in counts.items()}


def kmer_distance(samples: Sequence[str], reference: Sequence[str],
                  k: int = 3) -> float:
  """Total variation distance between the k-mer spectra of two sets."""
  a, b = kmer_spectrum(samples, k), kmer_spectrum(reference, k)
  return 0.5 * sum(abs(a.get(kmer, 0.0) - b.get(kmer, 0.0))
                   for kmer in set(a) | set(b))


def uniqueness(samples: Sequence[str]) -> float:
  return len(set(samples)) / len(samples)


def novelty(samples: Sequence[str], training: Sequence[str] | set) -> float:
  """Fraction of ``samples`` that are not training sequences."""
  training = training if isinstance(training, set) else set(training)
  return sum(s not in training for s in samples) / len(samples)


def sequence_metrics(samples: Sequence[str], training: Sequence[str],
                     reference: Sequence[str], motifs: Sequence[str] = (),
                     k: int = 3) -> dict[str, float]:
  """All the metrics of the module docstring (motif ones if there are
  motifs); ``reference`` is the real set the k-mer spectrum is compared to."""
  results = {'kmer_distance': kmer_distance(samples, reference, k),
             'uniqueness': uniqueness(samples),
             'novelty': novelty(samples, training)}
  if motifs:
    results.update(motif_recovery=motif_recovery(samples, motifs),
                   motif_coverage=motif_coverage(samples, motifs))
  return results
