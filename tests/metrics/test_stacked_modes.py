"""Stacked MNIST mode count and reverse KL (Metz et al. / VEEGAN / PacGAN)."""

import numpy as np
import pytest

from gan_jax.metrics import stacked_modes


def test_hand_made_example():
  labels = np.array([[1, 2, 3], [1, 2, 3], [0, 0, 0], [9, 9, 9]])
  # Modes 123, 123, 0, 999: histogram (2, 1, 1) / 4 over 1,000 modes.
  q = np.array([0.5, 0.25, 0.25])
  assert stacked_modes(labels) == {
      'modes': 3.0,
      'reverse_kl': pytest.approx(np.sum(q * np.log(1000 * q)), rel=1e-12)}


def test_mode_index_is_red_hundreds_green_tens_blue_units():
  rng = np.random.default_rng(0)
  labels = rng.integers(0, 10, size=(300, 3))
  counts = np.zeros(1000)
  for r, g, b in labels:
    counts[100 * r + 10 * g + b] += 1
  q = counts[counts > 0] / 300
  result = stacked_modes(labels)
  assert result['modes'] == np.count_nonzero(counts)
  np.testing.assert_allclose(result['reverse_kl'],
                             np.sum(q * np.log(q / (1 / 1000))), rtol=1e-12)


def test_probabilities_take_the_argmax_per_channel():
  rng = np.random.default_rng(1)
  labels = rng.integers(0, 10, size=(50, 3))
  probs = rng.dirichlet(np.ones(10), size=(50, 3)) * 0.5
  probs[np.arange(50)[:, None], np.arange(3)[None, :], labels] += 0.5
  assert stacked_modes(probs) == stacked_modes(labels)


def test_all_modes_once_and_a_single_mode():
  every_mode = np.array([[i // 100, i // 10 % 10, i % 10] for i in range(1000)])
  assert stacked_modes(every_mode) == {'modes': 1000.0, 'reverse_kl': 0.0}
  collapsed = np.tile([[4, 0, 7]], (25, 1))
  assert stacked_modes(collapsed) == {
      'modes': 1.0, 'reverse_kl': pytest.approx(np.log(1000))}


def test_rejects_bad_inputs():
  for bad in [np.array([[1, 2, 10]]), np.array([[1, 2, -1]]),
              np.array([[1.5, 2, 3]]), np.zeros((4, 2)),
              np.zeros((4, 3, 9)), np.zeros((0, 3), int)]:
    with pytest.raises(ValueError):
      stacked_modes(bad)
