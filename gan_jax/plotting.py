"""Pictures written to a run's ``samples/`` directory."""

import matplotlib

matplotlib.use('Agg')  # Files only: no display on servers.
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np


def save_scatter(path: str, real: np.ndarray, fake: np.ndarray,
                 title: str = '') -> None:
  """Writes a PNG scatter of 2-D real (grey) and generated (red) points."""
  fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
  ax.scatter(real[:, 0], real[:, 1], s=4, c='0.6', alpha=0.5, label='real')
  ax.scatter(fake[:, 0], fake[:, 1], s=4, c='tab:red', alpha=0.5,
             label='generated')
  # Frame the data, and generated points unless a few outliers run far off.
  limit = 1.15 * max(float(np.abs(real).max()),
                     float(np.percentile(np.abs(fake), 99)))
  ax.set_xlim(-limit, limit)
  ax.set_ylim(-limit, limit)
  ax.set_aspect('equal')
  ax.legend(loc='upper right', markerscale=3)
  ax.set_title(title)
  fig.tight_layout()
  fig.savefig(path)
  plt.close(fig)
