"""Fréchet distance between Gaussian fits of two feature sets (the FID formula).

FID (Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge
to a Local Nash Equilibrium") fits a Gaussian to the Inception
pool features of real and of generated images and reports the Fréchet
(2-Wasserstein) distance between the two Gaussians:

  d² = ‖μa − μb‖² + Tr(Σa + Σb − 2 (Σa Σb)^{1/2}).

The usual implementation calls ``scipy.linalg.sqrtm`` on the non-symmetric
product Σa Σb, which can return complex values, NaNs or large errors when the
covariances are singular (fewer samples than dimensions, dead features). Here
only the trace of the square root is needed, and Σa Σb is similar to the
symmetric PSD matrix √Σa Σb √Σa (they share eigenvalues), so

  Tr (Σa Σb)^{1/2} = Σ_i √λ_i(√Σa Σb √Σa),

which needs a Cholesky factorisation of Σa (Lᵀ Σb L is similar to Σa Σb too;
when Σa is singular, an eigendecomposition gives √Σa instead) and one
symmetric eigenvalue problem (``numpy.linalg.eigvalsh``), stays real, and is
exact up to rounding even for rank-deficient covariances:
eigenvalues at rounding level (tiny negative ones included) are set to 0
before the square root, which would otherwise magnify them. Everything is
float64.

:class:`FeatureStatistics` accumulates the mean and covariance batch by batch
(Chan et al. 1979 pairwise update), so 50k × 2048 features never need to be in
memory at once.
"""

from __future__ import annotations

import numpy as np


def _clip_rounding(eigvals: np.ndarray) -> np.ndarray:
  """Sets eigenvalues at rounding level (|λ| ≤ dim · eps · max λ) to 0.

  A PSD matrix's eigenvalues come out of ``eigh`` with absolute errors of
  about dim · eps · max λ, so smaller ones (negative ones in particular) are
  indistinguishable from 0. Zeroing them matters because the square root
  magnifies them: the 51 null directions of a 50-sample covariance in 100-D
  would otherwise add ~51 · √(1e-15 · max λ) of noise, a 1e-8 relative error.
  """
  tol = eigvals.shape[0] * np.finfo(np.float64).eps * max(eigvals.max(), 0.0)
  return np.where(eigvals > tol, eigvals, 0.0)


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
  """Symmetric square root of a (nearly) PSD matrix via ``eigh``."""
  eigvals, eigvecs = np.linalg.eigh(matrix)
  return (eigvecs * np.sqrt(_clip_rounding(eigvals))) @ eigvecs.T


def _trace_sqrt_product(sigma_a: np.ndarray, sigma_b: np.ndarray) -> float:
  """Tr (Σa Σb)^{1/2} as Σ √λ of a symmetric PSD matrix similar to Σa Σb.

  With the Cholesky factor Σa = L Lᵀ that matrix is Lᵀ Σb L (= L⁻¹ Σa Σb L);
  a Cholesky factorisation costs n³/3 flops against about 9n³ for the
  eigendecomposition behind √Σa, which is used only when Σa is too singular
  to factor. Both are backward stable (the factor reproduces Σa up to
  rounding), so the eigenvalues come out equally accurate either way.
  """
  try:
    lower = np.linalg.cholesky(sigma_a)
    middle = lower.T @ sigma_b @ lower
  except np.linalg.LinAlgError:  # Σa singular: not positive definite.
    root_a = _psd_sqrt(sigma_a)
    middle = root_a @ sigma_b @ root_a
  middle = 0.5 * (middle + middle.T)  # Rounding asymmetry off for eigvalsh.
  eigvals = np.linalg.eigvalsh(middle)
  return float(np.sum(np.sqrt(_clip_rounding(eigvals))))


def frechet_distance_from_statistics(mu_a, sigma_a, mu_b, sigma_b) -> float:
  """Fréchet distance between N(mu_a, sigma_a) and N(mu_b, sigma_b).

  Heusel et al. 2017: ‖μa − μb‖² + Tr(Σa + Σb − 2 (Σa Σb)^{1/2}), with
  the trace of the root computed by eigendecomposition (see module docstring)
  so singular covariances give a finite, real answer.

  Args:
    mu_a: ``[dim]`` mean of the first set.
    sigma_a: ``[dim, dim]`` covariance of the first set (symmetric PSD).
    mu_b: ``[dim]`` mean of the second set.
    sigma_b: ``[dim, dim]`` covariance of the second set.

  Returns:
    The squared Fréchet distance as a float (FID when the inputs are
    Inception pool-3 statistics). Identical statistics give 0 up to rounding
    (values of order ±1e-10 relative to Tr Σ are rounding noise).
  """
  mu_a = np.asarray(mu_a, np.float64)
  mu_b = np.asarray(mu_b, np.float64)
  sigma_a = np.asarray(sigma_a, np.float64)
  sigma_b = np.asarray(sigma_b, np.float64)
  dim = mu_a.shape[-1] if mu_a.ndim == 1 else -1
  if (mu_a.ndim != 1 or mu_b.shape != mu_a.shape
      or sigma_a.shape != (dim, dim) or sigma_b.shape != (dim, dim)):
    raise ValueError(f'expected means [dim] and covariances [dim, dim]; got '
                     f'{mu_a.shape}, {sigma_a.shape}, {mu_b.shape}, '
                     f'{sigma_b.shape}')
  diff = mu_a - mu_b
  return float(diff @ diff + np.trace(sigma_a) + np.trace(sigma_b)
               - 2.0 * _trace_sqrt_product(sigma_a, sigma_b))


def frechet_distance(features_a, features_b) -> float:
  """Fréchet distance between Gaussian fits of two feature sets (FID formula).

  Fits mean and unbiased covariance (``numpy.cov``, n − 1) to each set in
  float64 and applies :func:`frechet_distance_from_statistics` (Heusel et al.
  2017). Finite and real even when a set has fewer samples than dimensions.

  Args:
    features_a: ``[n_a, dim]`` features (e.g. Inception pool-3 of real images).
    features_b: ``[n_b, dim]`` features of the other set; n_a, n_b ≥ 2.

  Returns:
    The squared Fréchet distance as a float.
  """
  stats_a = FeatureStatistics()
  stats_a.update(features_a)
  stats_b = FeatureStatistics()
  stats_b.update(features_b)
  return frechet_distance_from_statistics(
      stats_a.mean, stats_a.covariance, stats_b.mean, stats_b.covariance)


class FeatureStatistics:
  """Streaming float64 mean and covariance of feature vectors.

  FID statistics (Heusel et al. 2017) are a mean and covariance over 50k
  features of dimension 2048; this accumulator takes them batch by batch so
  the features never sit in memory together. It keeps the count, the mean
  and the centred scatter matrix M2 = Σ (x − mean)(x − mean)ᵀ and combines a
  new batch with Chan, Golub & LeVeque's (1979) pairwise update

    M2 = M2_a + M2_b + δ δᵀ · n_a n_b / n,   δ = mean_b − mean_a,

  which, unlike accumulating raw sums of outer products, does not lose
  precision when the mean is large compared with the spread.

  Example::

    stats = FeatureStatistics()
    for batch in feature_batches:
      stats.update(batch)
    fid = frechet_distance_from_statistics(stats.mean, stats.covariance, ...)
  """

  def __init__(self):
    self._count = 0
    self._mean = None
    self._m2 = None

  @property
  def count(self) -> int:
    """Number of feature vectors seen so far."""
    return self._count

  @property
  def mean(self) -> np.ndarray:
    """``[dim]`` float64 mean of all features seen (needs count ≥ 1)."""
    if self._count < 1:
      raise ValueError('no features have been added')
    return self._mean.copy()

  @property
  def covariance(self) -> np.ndarray:
    """``[dim, dim]`` unbiased (n − 1) covariance like ``numpy.cov``; n ≥ 2."""
    if self._count < 2:
      raise ValueError(f'covariance needs 2 or more samples, got {self._count}')
    cov = self._m2 / (self._count - 1)
    return 0.5 * (cov + cov.T)

  def update(self, features_batch) -> None:
    """Adds a ``[batch, dim]`` array of features (an empty batch is a no-op)."""
    batch = np.asarray(features_batch, np.float64)
    if batch.ndim != 2:
      raise ValueError(f'features must be [batch, dim], got {batch.shape}')
    if self._mean is not None and batch.shape[1] != self._mean.shape[0]:
      raise ValueError(f'feature dim {batch.shape[1]} differs from earlier '
                       f'batches ({self._mean.shape[0]})')
    if batch.shape[0] == 0:
      return
    mean = batch.mean(axis=0)
    centred = batch - mean
    self._combine(batch.shape[0], mean, centred.T @ centred)

  def merge(self, other: FeatureStatistics) -> FeatureStatistics:
    """A new accumulator holding the features of ``self`` and ``other``.

    Neither input is modified, so per-host or per-shard statistics can be
    reduced in any order.
    """
    merged = FeatureStatistics()
    for stats in (self, other):
      if stats.count:
        # pylint: disable-next=protected-access
        merged._combine(stats._count, stats._mean, stats._m2)
    return merged

  def _combine(self, count: int, mean: np.ndarray, m2: np.ndarray) -> None:
    """Chan et al. pairwise merge of (count, mean, M2) into this accumulator."""
    if self._count == 0:
      self._count, self._mean, self._m2 = count, mean.copy(), m2.copy()
      return
    if mean.shape != self._mean.shape:
      raise ValueError(f'feature dim {mean.shape[0]} differs from '
                       f'{self._mean.shape[0]}')
    total = self._count + count
    delta = mean - self._mean
    weight = self._count * count / total
    self._m2 = self._m2 + m2 + np.outer(delta, delta) * weight
    self._mean = self._mean + delta * (count / total)
    self._count = total
