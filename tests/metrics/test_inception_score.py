"""Inception Score (Salimans et al. 2016) and MODE score (Che et al. 2017)."""

import numpy as np
import pytest

from gan_jax.metrics import inception_score
from gan_jax.metrics import mode_score


def _kl(p, q):
  """KL(p ‖ q) summed over the p > 0 entries (0 · log 0 = 0)."""
  total = 0.0
  for p_c, q_c in zip(p, q):
    if p_c > 0:
      total += p_c * np.log(p_c / q_c)
  return total


def _loop_inception_score(probs, splits):
  scores = []
  for part in np.array_split(probs, splits):
    marginal = part.mean(0)
    scores.append(np.exp(np.mean([_kl(row, marginal) for row in part])))
  return np.mean(scores), np.std(scores)


def _loop_mode_score(probs, reference_probs):
  """Xu et al. 2018: exp(E KL(p(y|x) ‖ p(y)) − KL(p(y) ‖ p*(y)))."""
  marginal = probs.mean(0)
  expected_kl = np.mean([_kl(row, marginal) for row in probs])
  return np.exp(expected_kl - _kl(marginal, reference_probs.mean(0)))


def _dirichlet(rng, n, classes, concentration):
  return rng.dirichlet(np.full(classes, concentration), size=n)


def test_inception_score_matches_explicit_formula():
  probs = _dirichlet(np.random.default_rng(0), 203, 7, 0.3)
  mean, std = inception_score(probs, splits=4)
  assert isinstance(mean, float) and isinstance(std, float)
  np.testing.assert_allclose([mean, std], _loop_inception_score(probs, 4),
                             rtol=1e-10)


def test_confident_uniform_classes_score_the_number_of_classes():
  probs = np.eye(10)[np.arange(500) % 10]  # Every split has 5 of each class.
  mean, std = inception_score(probs, splits=10)
  np.testing.assert_allclose(mean, 10.0, rtol=1e-12)
  assert std < 1e-12
  np.testing.assert_allclose(mode_score(probs, np.full((3, 10), 0.1)), 10.0,
                             rtol=1e-12)


def test_collapsed_or_uncertain_predictions_score_one():
  assert inception_score(np.eye(10)[np.zeros(100, int)], splits=5)[0] == (
      pytest.approx(1.0))
  assert inception_score(np.full((100, 10), 0.1), splits=5)[0] == (
      pytest.approx(1.0))


def test_mode_score_matches_explicit_formula():
  rng = np.random.default_rng(1)
  probs = _dirichlet(rng, 150, 6, 0.5)
  reference = _dirichlet(rng, 90, 6, 2.0)
  value = mode_score(probs, reference)
  assert isinstance(value, float)
  np.testing.assert_allclose(value, _loop_mode_score(probs, reference),
                             rtol=1e-10)


def test_mode_score_penalises_a_mismatched_marginal():
  # Confident samples spread evenly over 5 of 10 classes: the Inception Score
  # is 5; against a uniform reference, KL(p(y) ‖ p*) = log 2 halves it.
  probs = np.eye(10)[np.arange(100) % 5]
  np.testing.assert_allclose(inception_score(probs, splits=1)[0], 5.0)
  uniform = np.eye(10)[np.arange(100) % 10]
  np.testing.assert_allclose(mode_score(probs, uniform), 2.5, rtol=1e-12)
  # Against real data with the same 5 classes there is no penalty.
  np.testing.assert_allclose(mode_score(probs, np.full((7, 5), 0.2) @ np.eye(
      5, 10)), 5.0, rtol=1e-12)


def test_mode_score_is_inception_score_times_marginal_penalty():
  rng = np.random.default_rng(3)
  probs = _dirichlet(rng, 80, 5, 0.4)
  reference = _dirichlet(rng, 50, 5, 1.0)
  marginal, ref_marginal = probs.mean(0), reference.mean(0)
  penalty = np.exp(-np.sum(marginal * np.log(marginal / ref_marginal)))
  np.testing.assert_allclose(
      mode_score(probs, reference),
      inception_score(probs, splits=1)[0] * penalty, rtol=1e-10)


def test_zero_probabilities_stay_finite():
  probs = np.eye(4)[[0, 1, 1, 2]]  # Class 3 never predicted.
  reference = np.eye(4)[[0, 1, 2, 2]]  # Reference misses class 3 too.
  assert np.isfinite(inception_score(probs, splits=2)).all()
  assert np.isfinite(mode_score(probs, reference))


def test_rejects_logits_and_bad_splits():
  logits = np.random.default_rng(2).normal(size=(20, 5))
  with pytest.raises(ValueError):
    inception_score(logits)
  with pytest.raises(ValueError):
    inception_score(np.full((4, 2), 0.5), splits=5)
  with pytest.raises(ValueError):
    mode_score(np.full((4, 2), 0.5), np.full((4, 3), 1 / 3))
