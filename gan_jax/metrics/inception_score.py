"""Inception Score and MODE score from a classifier's predicted probabilities.

Inception Score (Salimans et al. 2016, "Improved Techniques for Training
GANs", Sec. 4): exp(E_x KL(p(y|x) ‖ p(y))), p(y) the marginal of p(y|x) over
the generated samples. High when each sample is classified confidently
(low-entropy p(y|x)) and the classes are spread evenly (high-entropy p(y)); at
most the number of classes. As in the paper's code (openai/improved-gan,
inception_score/model.py), the samples are cut into ``splits`` consecutive
parts, part i being rows [i·n // splits, (i + 1)·n // splits), the score is
computed on each and the mean and std (ddof 0) over parts are reported.
torch-fidelity slices the same way.

MODE score (Che et al. 2017, "Mode Regularized Generative Adversarial
Networks"), in the form defined and implemented by Xu et al. 2018 ("An
Empirical Study on Evaluation Metrics of Generative Adversarial Networks"):

  exp(E_x KL(p(y|x) ‖ p(y)) − KL(p(y) ‖ p*(y))),

p*(y) being the class marginal on real data: the Inception Score (one split)
divided by exp KL(p(y) ‖ p*(y)), so a generated class marginal that differs
from the real one is penalised. Che et al. print the first term as
E_x KL(p(y|x) ‖ p*(y)); written that way the p* terms cancel,

  E_x KL(p(y|x) ‖ p*) − KL(p(y) ‖ p*) = H(p(y)) − E_x H(p(y|x))
                                      = E_x KL(p(y|x) ‖ p(y)),

and the score would equal the Inception Score whatever p* is, so the form
that makes p* matter is used.

Logarithms use ``max(p, EPSILON)`` with EPSILON = 1e-12 so zero probabilities
give 0 · log(0) = 0 (the limit) instead of NaN. Where p(y|x) > 0 the
generated marginal p(y) is positive too, so the guard changes no term except
those of probabilities below 1e-12, whose contribution is below ~3e-11. It
only matters when the reference marginal p*(y) is 0 for a class the
generator produces: KL(p(y) ‖ p*(y)) is then infinite (true MODE score 0);
with the guard that class adds p(y) · log(p(y) / 1e-12) ≤ 28 p(y) nats
instead, so the score drops sharply but stays finite and positive.
"""

import numpy as np

EPSILON = 1e-12


def _as_probs(probs, name: str) -> np.ndarray:
  """Checks ``[n, classes]`` rows are distributions (catches passed logits)."""
  probs = np.asarray(probs, np.float64)
  if probs.ndim != 2 or probs.shape[0] < 1:
    raise ValueError(f'{name} must be [n, classes], got {probs.shape}')
  if np.any(probs < 0) or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-3):
    raise ValueError(f'{name} rows must be probability distributions '
                     '(non-negative, summing to 1); softmax logits first')
  return probs


def _log(p: np.ndarray) -> np.ndarray:
  return np.log(np.maximum(p, EPSILON))


def _mean_kl_to(probs: np.ndarray, marginal: np.ndarray) -> float:
  """E_x KL(p(y|x) ‖ marginal) in nats."""
  return float(np.mean(np.sum(probs * (_log(probs) - _log(marginal)), axis=1)))


def inception_score(probs, splits: int = 10) -> tuple[float, float]:
  """Inception Score: mean and std over ``splits`` parts (Salimans et al. 2016).

  Args:
    probs: ``[n, classes]`` classifier probabilities p(y|x) of generated
      samples (softmax outputs, e.g. Inception's 1,008 or a digit classifier's
      10 classes).
    splits: number of parts; part i holds rows
      [i·n // splits, (i + 1)·n // splits), the paper code's slicing, so when
      n is not divisible the longer parts are spread out (n = 1,003 in 10:
      parts 4, 7 and 10 get 101 rows) and no sample is dropped.

  Returns:
    ``(mean, std)`` of exp(E_x KL(p(y|x) ‖ p(y))) over the parts, p(y) being
    each part's own marginal; std is ``numpy.std`` (ddof 0) as in the paper's
    code.
  """
  probs = _as_probs(probs, 'probs')
  if not 1 <= splits <= probs.shape[0]:
    raise ValueError(f'splits must be in [1, n={probs.shape[0]}], got {splits}')
  n = probs.shape[0]
  parts = (probs[i * n // splits:(i + 1) * n // splits] for i in range(splits))
  scores = [np.exp(_mean_kl_to(part, part.mean(axis=0))) for part in parts]
  return float(np.mean(scores)), float(np.std(scores))


def mode_score(probs, reference_probs) -> float:
  """MODE score (Che et al. 2017, as in Xu et al. 2018) against real data.

  exp(E_x KL(p(y|x) ‖ p(y)) − KL(p(y) ‖ p*(y))), with p(y) the mean of
  ``probs`` and p*(y) the mean of ``reference_probs`` (see the module
  docstring for why the first KL is to p(y)). For confident, evenly spread
  predictions and a uniform reference it equals the number of classes, like
  the Inception Score; a generated marginal that drifts from the reference
  lowers it by the factor exp KL(p(y) ‖ p*(y)).

  Args:
    probs: ``[n, classes]`` classifier probabilities of generated samples.
    reference_probs: ``[n_ref, classes]`` probabilities the same classifier
      gives real (training or test) data.

  Returns:
    The MODE score as a float (computed over all samples, no splits).
  """
  probs = _as_probs(probs, 'probs')
  reference_probs = _as_probs(reference_probs, 'reference_probs')
  if probs.shape[1] != reference_probs.shape[1]:
    raise ValueError(f'class counts differ: {probs.shape} vs '
                     f'{reference_probs.shape}')
  marginal = probs.mean(axis=0)
  reference = reference_probs.mean(axis=0)
  marginal_kl = float(np.sum(marginal * (_log(marginal) - _log(reference))))
  return float(np.exp(_mean_kl_to(probs, marginal) - marginal_kl))
