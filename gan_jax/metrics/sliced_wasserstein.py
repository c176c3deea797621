"""Sliced Wasserstein-1 distance between two point sets.

Karras et al. 2018 ("Progressive Growing of GANs", Sec. 5) compare
real and generated images with the sliced Wasserstein distance (Rabin et al.
2011) of local image patches: project both sets onto random unit directions,
where the 1-D Wasserstein-1 distance is the mean absolute difference of the
sorted projections, and average over directions. Here it applies to any
feature vectors or flattened images, without the Laplacian-pyramid patch
extraction.

Unequal set sizes: the 1-D distance is computed exactly as
∫₀¹ |F⁻¹(t) − G⁻¹(t)| dt between the two empirical quantile functions, which
are step functions with steps at multiples of 1/n and 1/m; on each interval
between consecutive steps both are constant. For n = m this is the mean
absolute difference of sorted projections, and in general it equals
``scipy.stats.wasserstein_distance`` on each projection.
"""

import numpy as np


def _quantile_pairing(n: int, m: int) -> tuple[np.ndarray, np.ndarray,
                                              np.ndarray]:
  """Indices into sorted sets of sizes n and m, and weights of each interval.

  In units of 1/(nm) the quantile steps sit at integers i·m and j·n; on the
  interval (s, e] between consecutive steps the sorted-a index is s // m and
  the sorted-b index s // n. Exact integer arithmetic, no float ties.
  """
  steps = np.union1d(np.arange(n + 1, dtype=np.int64) * m,
                     np.arange(m + 1, dtype=np.int64) * n)
  starts = steps[:-1]
  weights = np.diff(steps) / (n * m)
  return starts // m, starts // n, weights


def sliced_wasserstein(a, b, num_projections: int = 128,
                       seed: int = 0) -> float:
  """Sliced Wasserstein-1 distance between rows of ``a`` and rows of ``b``.

  Directions are ``numpy.random.default_rng(seed)`` standard normals
  normalised to unit length (uniform on the sphere), shared by both sets.

  Args:
    a: ``[n, ...]`` points (trailing axes are flattened, so images work).
    b: ``[m, ...]`` points with the same trailing shape; m may differ from n
      (see module docstring).
    num_projections: number of random directions.
    seed: seed of the directions.

  Returns:
    The mean over directions of the 1-D Wasserstein-1 distance, in the units
    of the inputs (0 for identical sets).
  """
  a = np.asarray(a, np.float64)
  b = np.asarray(b, np.float64)
  if (a.ndim < 2 or a.shape[1:] != b.shape[1:]
      or a.shape[0] == 0 or b.shape[0] == 0):
    raise ValueError(f'a {a.shape} and b {b.shape} must be non-empty [n, ...] '
                     'arrays with the same trailing shape')
  if num_projections < 1:
    raise ValueError(f'num_projections must be positive, got {num_projections}')
  a = a.reshape(a.shape[0], -1)
  b = b.reshape(b.shape[0], -1)
  rng = np.random.default_rng(seed)
  directions = rng.standard_normal((a.shape[1], num_projections))
  directions /= np.linalg.norm(directions, axis=0, keepdims=True)
  sorted_a = np.sort(a @ directions, axis=0)
  sorted_b = np.sort(b @ directions, axis=0)
  if a.shape[0] == b.shape[0]:
    return float(np.mean(np.abs(sorted_a - sorted_b)))
  index_a, index_b, weights = _quantile_pairing(a.shape[0], b.shape[0])
  per_direction = weights @ np.abs(sorted_a[index_a] - sorted_b[index_b])
  return float(np.mean(per_direction))
