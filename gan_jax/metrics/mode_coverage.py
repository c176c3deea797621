"""Mode coverage on mixtures of Gaussians (modes, high-quality fraction,
reverse KL).

The protocol of VEEGAN (Srivastava et al. 2017, Sec. 5.1) and PacGAN (Lin et al.
2018, Sec. 5.1), applied there to 2,500 generated samples: each sample is
assigned to its nearest mixture centre; it is *high quality* when that centre
is within 3 standard deviations; a mode is *covered* when at least one
high-quality sample falls to it; ``reverse_kl`` is KL(q ‖ uniform), q being the
histogram of high-quality samples over the modes (0 when the high-quality
samples are spread evenly, log(modes) when they all sit in one mode).
"""

import numpy as np


def mode_coverage(samples, centers, std: float,
                  threshold_stds: float = 3.0) -> dict[str, float]:
  """Counts covered modes and the quality of ``samples``.

  Args:
    samples: ``[n, dim]`` generated points.
    centers: ``[modes, dim]`` mixture means.
    std: the components' standard deviation.
    threshold_stds: a sample within this many stds of a centre is high quality.

  Returns:
    ``modes`` (number of covered modes, as a float so it averages over seeds),
    ``high_quality`` (fraction of samples in [0, 1]) and ``reverse_kl``
    (nats; NaN when no sample is high quality, since q is then undefined).
  """
  samples = np.asarray(samples, np.float64)
  centers = np.asarray(centers, np.float64)
  if (samples.ndim != 2 or centers.ndim != 2
      or samples.shape[1] != centers.shape[1]):
    raise ValueError(f'samples {samples.shape} and centers {centers.shape} '
                     'must be [n, dim] and [modes, dim] with the same dim')
  sq_dist = ((samples[:, None, :] - centers[None, :, :]) ** 2).sum(-1)
  nearest = sq_dist.argmin(1)
  near_enough = np.sqrt(sq_dist.min(1)) <= threshold_stds * std
  counts = np.bincount(nearest[near_enough], minlength=len(centers))
  num_hq = counts.sum()
  if num_hq:
    q = counts[counts > 0] / num_hq
    reverse_kl = float(np.sum(q * np.log(q * len(centers))))
  else:
    reverse_kl = float('nan')
  return {
      'modes': float(np.count_nonzero(counts)),
      'high_quality': float(num_hq / len(samples)),
      'reverse_kl': reverse_kl,
  }
