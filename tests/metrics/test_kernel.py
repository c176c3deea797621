"""KID: unbiased polynomial-kernel MMD² (Bińkowski et al. 2018), and the
Gaussian-kernel MMD² the adversarial autoencoder reports."""

import itertools

import numpy as np
import pytest

from gan_jax.metrics import gaussian_mmd2
from gan_jax.metrics import kernel_distance
from gan_jax.metrics import polynomial_mmd2


def _kernel(x, y):
  return (np.dot(x, y) / len(x) + 1.0) ** 3


def _loop_mmd2(x, y):
  """The unbiased estimator written out term by term."""
  m, n = len(x), len(y)
  xx = sum(_kernel(x[i], x[j])
           for i, j in itertools.product(range(m), repeat=2) if i != j)
  yy = sum(_kernel(y[i], y[j])
           for i, j in itertools.product(range(n), repeat=2) if i != j)
  xy = sum(_kernel(x[i], y[j]) for i in range(m) for j in range(n))
  return xx / (m * (m - 1)) + yy / (n * (n - 1)) - 2 * xy / (m * n)


def _matrix_mmd2(x, y):
  """Full kernel matrices with the diagonals masked out."""
  d = x.shape[1]
  k_xx, k_yy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3
  k_xy = (x @ y.T / d + 1) ** 3
  off_x, off_y = ~np.eye(len(x), dtype=bool), ~np.eye(len(y), dtype=bool)
  return k_xx[off_x].mean() + k_yy[off_y].mean() - 2 * k_xy.mean()


def test_polynomial_mmd2_matches_double_loop():
  rng = np.random.default_rng(0)
  x = rng.normal(size=(12, 5))
  y = rng.normal(size=(9, 5)) * 1.3 + 0.4
  value = polynomial_mmd2(x, y)
  assert isinstance(value, float)
  np.testing.assert_allclose(value, _loop_mmd2(x, y), rtol=1e-12)
  np.testing.assert_allclose(polynomial_mmd2(y, x), value, rtol=1e-12)


def test_identical_sets_give_near_zero():
  x = np.random.default_rng(1).normal(size=(1000, 16))
  value = polynomial_mmd2(x, x)
  # Unbiased estimator on X = Y: −2/(m−1) · (mean k(x_i, x_i) − mean k).
  k = (x @ x.T / 16 + 1) ** 3
  np.testing.assert_allclose(value, -2 / 999 * (np.diag(k).mean() - k.mean()),
                             rtol=1e-9)
  assert abs(value) < 0.02
  assert polynomial_mmd2(x, x + 0.5) > 0.5


def test_same_distribution_near_zero_and_shift_positive():
  rng = np.random.default_rng(2)
  x, y = rng.normal(size=(800, 8)), rng.normal(size=(800, 8))
  assert abs(polynomial_mmd2(x, y)) < 0.01
  assert polynomial_mmd2(x, y + 0.3) > 0.1


def test_kernel_distance_subsets_follow_the_protocol():
  rng = np.random.default_rng(3)
  a = rng.normal(size=(60, 4))
  b = rng.normal(size=(45, 4)) + 0.2
  mean, std = kernel_distance(a, b, num_subsets=7, subset_size=20, seed=5)
  sampler = np.random.default_rng(5)
  estimates = []
  for _ in range(7):
    rows_a = sampler.choice(60, 20, replace=False)
    rows_b = sampler.choice(45, 20, replace=False)
    estimates.append(_matrix_mmd2(a[rows_a], b[rows_b]))
  assert isinstance(mean, float) and isinstance(std, float)
  np.testing.assert_allclose([mean, std],
                             [np.mean(estimates), np.std(estimates)],
                             rtol=1e-10)
  assert std > 0
  assert kernel_distance(a, b, num_subsets=7, subset_size=20, seed=6) != (
      mean, std)


def test_large_subset_uses_all_samples_once():
  rng = np.random.default_rng(4)
  a, b = rng.normal(size=(30, 6)), rng.normal(size=(25, 6))
  expected = _matrix_mmd2(a, b)
  for seed, subset_size in [(0, 25), (1, 1000)]:
    mean, std = kernel_distance(a, b, subset_size=subset_size, seed=seed)
    np.testing.assert_allclose(mean, expected, rtol=1e-12)
    assert std == 0.0


def test_rejects_bad_inputs():
  with pytest.raises(ValueError):
    polynomial_mmd2(np.ones((5, 3)), np.ones((5, 4)))
  with pytest.raises(ValueError):
    polynomial_mmd2(np.ones((1, 3)), np.ones((5, 3)))
  with pytest.raises(ValueError):
    kernel_distance(np.ones((5, 3)), np.ones((5, 3)), subset_size=1)


def test_gaussian_mmd_is_zero_for_one_distribution_and_matches_a_loop():
  rng = np.random.default_rng(0)
  a, b = rng.normal(size=(40, 3)), rng.normal(size=(30, 3)) + 1.0
  h = 1.3
  k = lambda x, y: np.exp(-np.sum((x - y) ** 2) / (2 * h * h))
  within = lambda s: np.mean([k(s[i], s[j]) for i in range(len(s))
                              for j in range(len(s)) if i != j])
  expected = within(a) + within(b) - 2 * np.mean(
      [k(x, y) for x in a for y in b])
  np.testing.assert_allclose(gaussian_mmd2(a, b, bandwidth=h),
                             expected, rtol=1e-9)
  same = gaussian_mmd2(rng.normal(size=(400, 3)),
                               rng.normal(size=(400, 3)))
  assert abs(same) < 0.01 < gaussian_mmd2(a, b)


def test_gaussian_mmd_of_collapsed_codes_is_defined():
  # 19 of 20 pooled samples on one point: the median distance is 0.
  collapsed = np.zeros((10, 2))
  almost = np.concatenate([np.zeros((9, 2)), np.ones((1, 2))])
  mmd = gaussian_mmd2(collapsed, almost)
  # h² = 2, the only non-zero squared distance: k = e^(-2 / 4) between the
  # two points, 1 elsewhere; unbiased MMD² = within a + within b - 2 across.
  k = np.exp(-0.5)
  expected = 1 + (72 + 18 * k) / 90 - 2 * (90 + 10 * k) / 100
  np.testing.assert_allclose(mmd, expected, rtol=1e-12)
  assert gaussian_mmd2(collapsed, collapsed) == 0.0
