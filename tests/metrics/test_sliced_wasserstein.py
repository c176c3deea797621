"""Sliced Wasserstein-1 distance (Karras et al. 2018 / Rabin et al. 2011)."""

import numpy as np
import pytest
import scipy.stats

from gan_jax.metrics import sliced_wasserstein


def _directions(dim, num_projections, seed):
  directions = np.random.default_rng(seed).standard_normal(
      (dim, num_projections))
  return directions / np.linalg.norm(directions, axis=0)


def _loop_sliced_wasserstein(a, b, num_projections, seed):
  """One direction at a time, 1-D W1 from scipy."""
  directions = _directions(a.shape[1], num_projections, seed)
  return np.mean([scipy.stats.wasserstein_distance(a @ d, b @ d)
                  for d in directions.T])


def test_equal_sizes_match_sorted_projection_formula_and_scipy():
  rng = np.random.default_rng(0)
  a, b = rng.normal(size=(100, 7)), rng.laplace(size=(100, 7)) + 0.2
  value = sliced_wasserstein(a, b, num_projections=16, seed=3)
  assert isinstance(value, float)
  directions = _directions(7, 16, 3)
  sorted_diff = np.sort(a @ directions, 0) - np.sort(b @ directions, 0)
  np.testing.assert_allclose(value, np.abs(sorted_diff).mean(), rtol=1e-12)
  np.testing.assert_allclose(value, _loop_sliced_wasserstein(a, b, 16, 3),
                             rtol=1e-10)


@pytest.mark.parametrize('n, m', [(37, 50), (50, 37), (1, 9), (24, 36)])
def test_unequal_sizes_match_scipy(n, m):
  rng = np.random.default_rng(1)
  a, b = rng.normal(size=(n, 4)), rng.exponential(size=(m, 4))
  np.testing.assert_allclose(sliced_wasserstein(a, b, num_projections=8),
                             _loop_sliced_wasserstein(a, b, 8, 0), rtol=1e-10)


def test_known_values():
  rng = np.random.default_rng(2)
  a = rng.normal(size=(64, 5))
  assert sliced_wasserstein(a, a) == 0.0
  assert sliced_wasserstein(a, a[rng.permutation(64)]) == pytest.approx(
      0.0, abs=1e-15)
  # A shift by v moves every projection by θ·v: W1 = |θ·v| per direction.
  shift = np.array([1.0, -2.0, 0.5, 0.0, 3.0])
  directions = _directions(5, 32, 7)
  np.testing.assert_allclose(
      sliced_wasserstein(a, a + shift, num_projections=32, seed=7),
      np.abs(shift @ directions).mean(), rtol=1e-12)
  # In 1-D every unit direction is ±1, so the distance is the 1-D W1.
  np.testing.assert_allclose(
      sliced_wasserstein(a[:, :1], a[:, :1] + 0.75), 0.75, rtol=1e-12)


def test_images_are_flattened():
  rng = np.random.default_rng(3)
  images_a, images_b = rng.uniform(size=(2, 20, 4, 4, 3))
  np.testing.assert_allclose(
      sliced_wasserstein(images_a, images_b),
      sliced_wasserstein(images_a.reshape(20, -1), images_b.reshape(20, -1)))


def test_rejects_bad_inputs():
  with pytest.raises(ValueError):
    sliced_wasserstein(np.ones((5, 3)), np.ones((5, 4)))
  with pytest.raises(ValueError):
    sliced_wasserstein(np.ones(5), np.ones(5))
  with pytest.raises(ValueError):
    sliced_wasserstein(np.ones((0, 3)), np.ones((5, 3)))
  with pytest.raises(ValueError):
    sliced_wasserstein(np.ones((5, 3)), np.ones((5, 3)), num_projections=0)
