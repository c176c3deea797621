"""Fréchet distance (FID formula) and streaming feature statistics."""

import numpy as np
import pytest
import scipy.linalg

from gan_jax.metrics import FeatureStatistics
from gan_jax.metrics import frechet_distance
from gan_jax.metrics import frechet_distance_from_statistics


def _sqrtm_fid(a, b):
  """Heusel et al. 2017 formula with scipy's sqrtm, as in the reference code."""
  mu_a, mu_b = a.mean(0), b.mean(0)
  sigma_a, sigma_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
  covmean = scipy.linalg.sqrtm(sigma_a @ sigma_b)
  assert np.abs(covmean.imag).max() < 1e-8  # Well-behaved case only.
  return (np.sum((mu_a - mu_b) ** 2) + np.trace(sigma_a) + np.trace(sigma_b)
          - 2 * np.trace(covmean.real))


def _nuclear_norm_fid(a, b):
  """Exact even for rank-deficient covariances: with Σa = AᵀA and Σb = BᵀB,
  Tr (Σa Σb)^{1/2} is the sum of the singular values of A Bᵀ."""
  centred_a = (a - a.mean(0)) / np.sqrt(len(a) - 1)
  centred_b = (b - b.mean(0)) / np.sqrt(len(b) - 1)
  trace_sqrt = np.linalg.svd(centred_a @ centred_b.T, compute_uv=False).sum()
  return (np.sum((a.mean(0) - b.mean(0)) ** 2) + np.sum(centred_a ** 2)
          + np.sum(centred_b ** 2) - 2 * trace_sqrt)


def test_matches_sqrtm_on_well_conditioned_data():
  rng = np.random.default_rng(0)
  a = rng.normal(size=(400, 8))
  b = rng.normal(size=(300, 8)) @ rng.normal(size=(8, 8)) * 0.5 + 0.3
  fd = frechet_distance(a, b)
  assert isinstance(fd, float)
  np.testing.assert_allclose(fd, _sqrtm_fid(a, b), rtol=1e-9)
  np.testing.assert_allclose(fd, _nuclear_norm_fid(a, b), rtol=1e-9)


def test_identical_sets_give_zero():
  features = np.random.default_rng(1).normal(size=(200, 16)) * 3 + 1
  assert abs(frechet_distance(features, features)) < 1e-9


def test_rank_deficient_features_are_finite_real_and_exact():
  rng = np.random.default_rng(2)
  a = rng.normal(size=(50, 100))  # Covariance rank 49 < 100.
  b = rng.normal(size=(50, 100)) * 1.5 + 0.2
  fd = frechet_distance(a, b)
  assert isinstance(fd, float) and np.isfinite(fd)
  np.testing.assert_allclose(fd, _nuclear_norm_fid(a, b), rtol=1e-9)
  assert abs(frechet_distance(a, a)) < 1e-9


# Σa positive definite (Cholesky factor) and singular (eigendecomposition),
# Σb singular in both.
@pytest.mark.parametrize('std_a', [[1.0, 2.0, 0.5, 0.3], [1.0, 2.0, 0.5, 0.0]])
def test_from_statistics_closed_form_for_diagonal_gaussians(std_a):
  # Commuting covariances: d² = ‖μa − μb‖² + Σ (σa − σb)².
  std_a = np.array(std_a)
  std_b = np.array([3.0, 2.0, 0.0, 1.0])
  mu_a, mu_b = np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 1.0, 0.0, 3.0])
  fd = frechet_distance_from_statistics(mu_a, np.diag(std_a ** 2),
                                        mu_b, np.diag(std_b ** 2))
  np.testing.assert_allclose(fd, 5.0 + np.sum((std_a - std_b) ** 2), rtol=1e-12)


def test_from_statistics_rejects_mismatched_shapes():
  with pytest.raises(ValueError):
    frechet_distance_from_statistics(np.zeros(3), np.eye(3), np.zeros(2),
                                     np.eye(2))


def test_streaming_statistics_equal_batch_statistics_on_uneven_chunks():
  rng = np.random.default_rng(3)
  # A large offset: a naive sum-of-squares accumulator would lose digits here.
  features = rng.normal(size=(203, 12)) * 0.01 + 1e4
  stats = FeatureStatistics()
  start = 0
  for size in [1, 7, 0, 64, 2, 100, 29]:
    stats.update(features[start:start + size].astype(np.float64))
    start += size
  assert start == len(features) and stats.count == len(features)
  np.testing.assert_allclose(stats.mean, features.mean(0), rtol=1e-14)
  np.testing.assert_allclose(stats.covariance, np.cov(features, rowvar=False),
                             rtol=1e-7, atol=1e-13)
  fd = frechet_distance_from_statistics(stats.mean, stats.covariance,
                                        stats.mean, stats.covariance)
  assert abs(fd) < 1e-12


def test_merge_equals_single_accumulator():
  rng = np.random.default_rng(4)
  first, second = rng.normal(size=(30, 5)), rng.normal(size=(11, 5)) + 2
  stats_a, stats_b = FeatureStatistics(), FeatureStatistics()
  stats_a.update(first)
  stats_b.update(second)
  merged = stats_a.merge(stats_b)
  assert merged.count == 41 and stats_a.count == 30 and stats_b.count == 11
  both = np.concatenate([first, second])
  np.testing.assert_allclose(merged.mean, both.mean(0), rtol=1e-13)
  np.testing.assert_allclose(merged.covariance, np.cov(both, rowvar=False),
                             rtol=1e-12, atol=1e-14)
  np.testing.assert_allclose(FeatureStatistics().merge(stats_a).covariance,
                             stats_a.covariance)


def test_statistics_errors():
  stats = FeatureStatistics()
  with pytest.raises(ValueError):
    _ = stats.mean
  stats.update(np.ones((1, 3)))
  with pytest.raises(ValueError):
    _ = stats.covariance
  with pytest.raises(ValueError):
    stats.update(np.ones((2, 4)))
  with pytest.raises(ValueError):
    stats.update(np.ones(3))
