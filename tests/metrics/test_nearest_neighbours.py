"""k-NN metrics: precision/recall, density/coverage, 1-NN accuracy."""

import contextlib
import io

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from gan_jax.metrics import density_coverage
from gan_jax.metrics import neighbour_metrics
from gan_jax.metrics import one_nn_accuracy
from gan_jax.metrics import precision_recall


def _radii(points, k):
  """Distance to the k-th nearest other point, from the full matrix."""
  distances = cdist(points, points)
  np.fill_diagonal(distances, np.inf)
  return np.sort(distances, axis=1)[:, k - 1]


def _brute_precision_recall(real, fake, k):
  real_radii, fake_radii = _radii(real, k), _radii(fake, k)
  fake_to_real = cdist(fake, real)
  precision = np.mean((fake_to_real < real_radii[None, :]).any(axis=1))
  recall = np.mean((fake_to_real.T < fake_radii[None, :]).any(axis=1))
  return {'precision': precision, 'recall': recall}


def _brute_density_coverage(real, fake, k):
  real_radii = _radii(real, k)
  inside = cdist(fake, real) < real_radii[None, :]  # [fake, real]
  return {'density': inside.sum() / (k * len(fake)),
          'coverage': np.mean(inside.any(axis=0))}


def _brute_one_nn(real, fake):
  pooled = np.concatenate([real, fake])
  labels = np.r_[np.ones(len(real)), np.zeros(len(fake))]
  distances = cdist(pooled, pooled)
  np.fill_diagonal(distances, np.inf)
  return np.mean(labels[distances.argmin(axis=1)] == labels)


def _two_sets(seed, n=150, m=120, dim=6):
  rng = np.random.default_rng(seed)
  return rng.normal(size=(n, dim)), rng.normal(size=(m, dim)) * 1.2 + 0.3


@pytest.mark.parametrize('batch_size', [7, 64, 4096])
def test_batched_metrics_equal_brute_force(batch_size):
  real, fake = _two_sets(0)
  for k in (1, 3, 5):
    assert precision_recall(real, fake, k, batch_size=batch_size) == (
        _brute_precision_recall(real, fake, k))
    assert density_coverage(real, fake, k, batch_size=batch_size) == (
        pytest.approx(_brute_density_coverage(real, fake, k), abs=1e-15))
  assert one_nn_accuracy(real, fake, batch_size=batch_size) == (
      _brute_one_nn(real, fake))


def _brute_all(real, fake, precision_recall_k, density_coverage_k):
  return {**_brute_precision_recall(real, fake, precision_recall_k),
          **_brute_density_coverage(real, fake, density_coverage_k),
          'one_nn_accuracy': _brute_one_nn(real, fake)}


@pytest.mark.parametrize('batch_size', [7, 4096])
@pytest.mark.parametrize('ks', [(3, 5), (2, 2), (5, 1)])
def test_all_at_once_equals_brute_force_and_the_single_metrics(batch_size,
                                                               ks):
  real, fake = _two_sets(5)
  together = neighbour_metrics(real, fake, *ks, batch_size=batch_size)
  assert together == pytest.approx(_brute_all(real, fake, *ks), abs=1e-15)
  assert together == {
      **precision_recall(real, fake, ks[0], batch_size=batch_size),
      **density_coverage(real, fake, ks[1], batch_size=batch_size),
      'one_nn_accuracy': one_nn_accuracy(real, fake, batch_size=batch_size)}


def test_ties_and_duplicates_on_an_integer_grid_equal_brute_force():
  # Small integer coordinates: squared distances are exact in float64 and many
  # points lie exactly on another point's radius, or coincide.
  rng = np.random.default_rng(1)
  real = rng.integers(0, 4, size=(60, 2)).astype(float)
  fake = rng.integers(0, 5, size=(50, 2)).astype(float)
  for k in (1, 2, 4):
    assert precision_recall(real, fake, k, batch_size=9) == (
        _brute_precision_recall(real, fake, k))
    assert density_coverage(real, fake, k, batch_size=9) == (
        pytest.approx(_brute_density_coverage(real, fake, k), abs=1e-15))
    assert neighbour_metrics(real, fake, k, k + 1, batch_size=9) == (
        pytest.approx(_brute_all(real, fake, k, k + 1), abs=1e-15))
  assert one_nn_accuracy(real, fake, batch_size=9) == _brute_one_nn(real, fake)


def _prdc(real, fake, k, exact_ties=False):
  """Naeem et al.'s own package, ``prdc`` (its four values as floats).

  ``exact_ties``: feed it scipy's ``cdist`` distances, which sum
  (x_d − y_d)² pair by pair and so tie a copy of a point with that point
  exactly; prdc's own distances (scikit-learn's ‖x‖² + ‖y‖² − 2 xᵀy) round
  such ties either way depending on the BLAS kernel.
  """
  prdc = pytest.importorskip('prdc')
  with contextlib.ExitStack() as stack:
    stack.enter_context(contextlib.redirect_stdout(io.StringIO()))  # Prints.
    if exact_ties:
      stack.enter_context(pytest.MonkeyPatch.context()).setattr(
          prdc.prdc, 'compute_pairwise_distance',
          lambda x, y=None: cdist(x, x if y is None else y))
    return {name: float(value)
            for name, value in prdc.compute_prdc(real, fake, k).items()}


@pytest.mark.parametrize('k', [1, 3, 5])
def test_agrees_with_the_prdc_package(k):
  real, fake = _two_sets(6, n=130, m=100, dim=24)
  ours = neighbour_metrics(real, fake, k, k, batch_size=32)
  del ours['one_nn_accuracy']
  assert ours == pytest.approx(_prdc(real, fake, k), abs=1e-12)


@pytest.mark.parametrize('batch_size', [16, 4096])
def test_generated_copies_of_real_points_agree_with_prdc(batch_size):
  # Memorised training points: a copy of a real point lies exactly on the
  # sphere of every real ball whose k-th neighbour that point is, so it must
  # count as outside it (generic floats, where the expansion rounds).
  rng = np.random.default_rng(7)
  real = rng.normal(size=(150, 40))
  fake = np.concatenate([real[rng.choice(150, 70, replace=False)],
                         rng.normal(size=(30, 40))])[rng.permutation(100)]
  for k in (1, 3, 5):
    ours = neighbour_metrics(real, fake, k, k, batch_size=batch_size)
    assert ours == pytest.approx(_brute_all(real, fake, k, k), abs=1e-12)
    assert ours == pytest.approx(
        {**_prdc(real, fake, k, exact_ties=True),
         'one_nn_accuracy': _brute_one_nn(real, fake)}, abs=1e-12)


def test_copies_of_every_real_point_give_known_values():
  # fake = the real points, shuffled (generic floats, no two distances
  # equal). The copy of point l lies inside its own ball (distance 0) and
  # inside ball i exactly when l is one of i's k - 1 nearest others (the
  # k-th lies on the sphere): n + n (k - 1) = n k memberships, density 1.
  rng = np.random.default_rng(8)
  real = rng.normal(size=(200, 64)) * 3.0 + 1.0
  fake = real[rng.permutation(200)]
  for k in (2, 3, 5):
    assert neighbour_metrics(real, fake, k, k, batch_size=64) == {
        'precision': 1.0, 'recall': 1.0, 'density': 1.0, 'coverage': 1.0,
        'one_nn_accuracy': 0.0}


@pytest.mark.parametrize('k', [1, 3, 5])
def test_duplicated_real_points_and_their_copies_give_known_values(k):
  # Every real point twice, the fake set one copy of each (b generic
  # points). A real ball holds the twin at 0, then the next points come in
  # twin pairs, so for odd k its radius reaches the (k - 1)/2-th nearest
  # other point and its sphere passes through that point and its twin. A
  # copy of p is inside the two balls of p and p' and the two balls of each
  # point having p among its (k - 3)/2 nearest others: b (2 + (k - 3)) of
  # k b, density (k - 1)/k; k = 1: radius 0, the balls hold nothing. Fake
  # radii are > 0, so each real point is inside its copy's ball. 1-NN: each
  # real point's nearest real and nearest fake are both at 0, a tie, which
  # goes to the real point; each fake point's nearest is a real one: 2/3.
  rng = np.random.default_rng(9)
  base = rng.normal(size=(80, 48))
  real = np.concatenate([base, base])[rng.permutation(160)]
  fake = base[rng.permutation(80)]
  inside = k > 1
  assert neighbour_metrics(real, fake, k, k, batch_size=24) == (
      pytest.approx({'precision': float(inside), 'recall': 1.0,
                     'density': (k - 1) / k, 'coverage': float(inside),
                     'one_nn_accuracy': 2 / 3}, abs=1e-15))


def test_point_exactly_on_the_radius_is_outside():
  real = np.array([[0.0], [1.0]])  # k = 1: both real radii are 1.
  # 2 and -1 lie exactly on a real sphere; 0.5 is inside both real balls.
  fake = np.array([[0.5], [2.0], [-1.0]])  # Fake radii 1.5, 1.5, 1.5.
  assert precision_recall(real, fake, k=1) == {'precision': 1 / 3,
                                               'recall': 1.0}
  assert density_coverage(real, fake, k=1) == {'density': 2 / 3,
                                               'coverage': 1.0}
  on_sphere_only = np.array([[2.0], [-1.0]])  # Fake radii 3, 3.
  assert density_coverage(real, on_sphere_only, k=1) == {'density': 0.0,
                                                         'coverage': 0.0}
  assert precision_recall(real, on_sphere_only, k=1)['precision'] == 0.0


def test_identical_distributions_score_high_and_disjoint_ones_zero():
  rng = np.random.default_rng(2)
  real, fake = rng.normal(size=(400, 4)), rng.normal(size=(400, 4))
  pr = precision_recall(real, fake)
  dc = density_coverage(real, fake)
  assert pr['precision'] > 0.8 and pr['recall'] > 0.8
  assert 0.8 < dc['density'] < 1.2 and dc['coverage'] > 0.8
  far = fake + 100.0
  assert precision_recall(real, far) == {'precision': 0.0, 'recall': 0.0}
  assert density_coverage(real, far) == {'density': 0.0, 'coverage': 0.0}


def test_one_nn_accuracy_known_values():
  rng = np.random.default_rng(3)
  real, fake = rng.normal(size=(1000, 5)), rng.normal(size=(1000, 5))
  accuracy = one_nn_accuracy(real, fake, batch_size=256)
  assert type(accuracy) is float  # pylint: disable=unidiomatic-typecheck
  # Mutual nearest neighbours correlate the predictions: over seeds the sd
  # is ≈ 0.021 at 500 + 500 points, ≈ 0.015 here; 0.06 is 4 sd.
  assert abs(accuracy - 0.5) < 0.06
  assert one_nn_accuracy(real, fake + 50.0) == 1.0
  # Fakes copying the real points: each point's nearest other point is its
  # copy from the other set, so every point is misclassified.
  assert one_nn_accuracy(real, real.copy()) == 0.0


def test_rejects_bad_inputs():
  real, fake = _two_sets(4, n=5, m=5)
  with pytest.raises(ValueError):
    precision_recall(real, fake, k=5)  # Needs k < n.
  with pytest.raises(ValueError):
    density_coverage(real, fake[:, :3])
  with pytest.raises(ValueError):
    one_nn_accuracy(real, fake, batch_size=0)
  with pytest.raises(ValueError):
    neighbour_metrics(real, fake, density_coverage_k=5)  # Needs k < n.
