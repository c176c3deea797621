"""Mode count and reverse KL on Stacked MNIST-style three-digit images.

The Stacked MNIST protocol (Metz et al. 2017, "Unrolled Generative Adversarial
Networks"; Srivastava et al. 2017, VEEGAN; Lin et al. 2018, PacGAN) stacks
three digit images as the colour channels of one image, giving
10³ = 1,000 modes. A pretrained digit classifier labels each channel of each
generated sample; the mode of a sample is 100·r + 10·g + b. Reported are the
number of distinct modes hit and the KL divergence KL(q ‖ uniform) of the
histogram q of samples over the 1,000 modes to the uniform distribution.

That KL is the *reverse* direction (model distribution first), as in the
VEEGAN and PacGAN tables ("KL to uniform", nats): it is 0 when samples are
spread evenly over all modes and log(1000) ≈ 6.91 when they all fall in one;
it stays finite when modes are missed, unlike KL(uniform ‖ q).
"""

import numpy as np

NUM_DIGITS = 10
NUM_CHANNELS = 3
NUM_MODES = NUM_DIGITS ** NUM_CHANNELS


def stacked_modes(labels_or_probs) -> dict[str, float]:
  """Modes hit and KL(q ‖ uniform over 1,000) for stacked-digit samples.

  Args:
    labels_or_probs: ``[n, 3]`` integer digit labels per channel (r, g, b),
      or ``[n, 3, 10]`` per-channel class probabilities or logits (argmax is
      taken).

  Returns:
    ``modes`` (distinct modes among 1,000, as a float so it averages over
    seeds) and ``reverse_kl`` (nats, in [0, log 1000]).
  """
  values = np.asarray(labels_or_probs)
  if values.ndim == 3 and values.shape[1:] == (NUM_CHANNELS, NUM_DIGITS):
    labels = values.argmax(axis=-1)
  elif values.ndim == 2 and values.shape[1] == NUM_CHANNELS:
    labels = values.astype(np.int64)
    if not np.array_equal(labels, values):
      raise ValueError('[n, 3] input must hold integer digit labels')
  else:
    raise ValueError(f'expected [n, 3] labels or [n, 3, 10] probabilities, '
                     f'got {values.shape}')
  if labels.shape[0] == 0:
    raise ValueError('no samples')
  if labels.min() < 0 or labels.max() >= NUM_DIGITS:
    raise ValueError(f'digit labels must be in [0, {NUM_DIGITS - 1}]')
  modes = labels @ (NUM_DIGITS ** np.arange(NUM_CHANNELS - 1, -1, -1))
  counts = np.bincount(modes, minlength=NUM_MODES)
  q = counts[counts > 0] / labels.shape[0]
  return {
      'modes': float(np.count_nonzero(counts)),
      'reverse_kl': float(np.sum(q * np.log(q * NUM_MODES))),
  }
