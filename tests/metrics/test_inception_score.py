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
  n = len(probs)
  for i in range(splits):  # The slicing of Salimans et al.'s code.
    part = probs[i * n // splits:(i + 1) * n // splits]
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


def test_two_mirrored_confidences_give_the_closed_form():
  # Half the samples p(y|x) = (3/4, 1/4), half (1/4, 3/4): p(y) = (1/2, 1/2)
  # and every KL(p(y|x) ‖ p(y)) = log 2 − H(3/4, 1/4), so
  # IS = 2 (3/4)^(3/4) (1/4)^(1/4) = 2 · 3^(3/4) / 4 = 3^(3/4) / 2.
  probs = np.array([[0.75, 0.25], [0.25, 0.75]] * 20)
  mean, std = inception_score(probs, splits=4)  # Each part 5 + 5.
  assert mean == pytest.approx(3 ** 0.75 / 2, rel=1e-12)
  assert std < 1e-12


def test_splits_are_sliced_like_the_paper_code():
  # Salimans et al.'s inception_score/model.py (openai/improved-gan) and
  # torch-fidelity take part i as rows [i n // splits, (i + 1) n // splits):
  # for n = 1,003 in 10 parts the boundaries below, the three 101-row parts
  # 4th, 7th and 10th (numpy.array_split would make them the first three).
  boundaries = [0, 100, 200, 300, 401, 501, 601, 702, 802, 902, 1003]
  # All samples confidently class 0 except rows 100 and 101, class 1: both
  # fall in part 2 = rows [100, 200), 2 of 100. For one-hot predictions
  # E_x KL(p(y|x) ‖ p(y)) = H(p(y)), so part 2 scores
  # x = exp(H(0.02, 0.98)) and the other nine score exp(0) = 1: mean
  # (9 + x) / 10, std 0.3 (x − 1).
  probs = np.eye(2)[np.isin(np.arange(1003), [100, 101]).astype(int)]
  x = np.exp(-0.02 * np.log(0.02) - 0.98 * np.log(0.98))
  mean, std = inception_score(probs, splits=10)
  assert mean == pytest.approx((9 + x) / 10, rel=1e-12)
  assert std == pytest.approx(0.3 * (x - 1), rel=1e-10)
  # Generic predictions: the score of each of those parts on its own.
  probs = _dirichlet(np.random.default_rng(4), 1003, 10, 0.2)
  parts = [inception_score(probs[start:stop], splits=1)[0]
           for start, stop in zip(boundaries, boundaries[1:])]
  assert inception_score(probs, splits=10) == pytest.approx(
      (np.mean(parts), np.std(parts)), rel=1e-12)


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
