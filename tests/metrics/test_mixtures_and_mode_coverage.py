"""2-D mixtures and the VEEGAN / PacGAN mode-coverage metric."""

import jax
import numpy as np
import pytest

from gan_jax import data
from gan_jax.metrics import mode_coverage


def test_ring8_has_eight_distinct_modes_on_the_unit_circle():
  ring = data.get('ring8')
  assert ring.centers.shape == (8, 2) and ring.std == 0.01
  np.testing.assert_allclose(np.linalg.norm(ring.centers, axis=1), 1, rtol=1e-6)
  gaps = np.linalg.norm(ring.centers[:, None] - ring.centers[None], axis=-1)
  min_gap = gaps[~np.eye(8, dtype=bool)].min()
  np.testing.assert_allclose(min_gap, 2 * np.sin(np.pi / 8), rtol=1e-5)


def test_grid25_centers():
  grid = data.get('grid25')
  assert grid.std == 0.05
  assert sorted(set(grid.centers[:, 0].tolist())) == [-4, -2, 0, 2, 4]
  assert len({tuple(c) for c in grid.centers.tolist()}) == 25


@pytest.mark.parametrize('name', ['ring8', 'grid25'])
def test_true_samples_cover_every_mode(name):
  mixture = data.get(name)
  samples = mixture.sample(jax.random.PRNGKey(0), 2_500)
  result = mode_coverage(samples, mixture.centers, mixture.std)
  assert result['modes'] == len(mixture.centers)
  # In 2-D, P(|x - μ| <= 3σ) = 1 - exp(-9/2) = 0.98889; binomial sd 0.002.
  assert abs(result['high_quality'] - (1 - np.exp(-4.5))) < 0.007
  assert 0 <= result['reverse_kl'] < 0.02


def test_collapsed_samples():
  ring = data.get('ring8')
  rng = np.random.default_rng(0)
  samples = ring.centers[3] + ring.std * rng.normal(size=(2_500, 2)) * 0.5
  result = mode_coverage(samples, ring.centers, ring.std)
  assert result['modes'] == 1
  assert result['high_quality'] == 1.0
  np.testing.assert_allclose(result['reverse_kl'], np.log(8))


def test_hand_counted_case():
  centers = np.array([[0.0, 0.0], [10.0, 0.0]])
  samples = np.array([[0.0, 0.02], [0.0, -0.29], [10.0, 0.0], [5.0, 5.0]])
  result = mode_coverage(samples, centers, std=0.1)
  # 0.29 <= 0.3 is high quality; (5, 5) is not. Histogram (2, 1) over 2 modes.
  q = np.array([2, 1]) / 3
  assert result == {'modes': 2.0, 'high_quality': 0.75,
                    'reverse_kl': pytest.approx(np.sum(q * np.log(2 * q)))}


def test_no_high_quality_sample_gives_nan_kl():
  result = mode_coverage(np.full((5, 2), 100.0), np.zeros((3, 2)), 0.1)
  assert result['modes'] == 0 and result['high_quality'] == 0
  assert np.isnan(result['reverse_kl'])


def test_shape_mismatch_is_one_clear_error():
  with pytest.raises(ValueError, match=r'samples \(4, 3\) and centers'):
    mode_coverage(np.zeros((4, 3)), np.zeros((2, 2)), 0.1)


def test_unknown_dataset_names_the_choices():
  with pytest.raises(ValueError, match="unknown dataset 'ring9'; allowed: "
                     'grid25, ring8, fasta, motifs, digits, stacked_digits '
                     'or the name'):
    data.get('ring9')
