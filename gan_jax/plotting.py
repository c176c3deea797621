"""Pictures written to a run's ``samples/`` directory."""

import matplotlib

matplotlib.use('Agg')  # Files only: no display on servers.
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
import numpy as np
from PIL import Image


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


def image_grid(images: np.ndarray, columns: int = 8) -> np.ndarray:
  """``[n, h, w, c]`` images in [-1, 1] -> one uint8 ``[H, W, 3]`` grid."""
  images = np.clip((np.asarray(images) + 1) * 127.5, 0, 255).astype(np.uint8)
  if images.shape[-1] == 1:
    images = np.repeat(images, 3, axis=-1)
  n, h, w, c = images.shape
  rows = -(-n // columns)
  grid = np.zeros((rows * (h + 1) + 1, columns * (w + 1) + 1, c), np.uint8)
  for index, image in enumerate(images):
    r, col = divmod(index, columns)
    grid[1 + r * (h + 1):1 + r * (h + 1) + h,
         1 + col * (w + 1):1 + col * (w + 1) + w] = image
  return grid


def save_image(path: str, image: np.ndarray, min_size: int = 256) -> None:
  """Writes a uint8 ``[H, W, 3]`` image as PNG, enlarged (nearest) to at
  least ``min_size`` pixels on its short side so small digits stay visible."""
  scale = max(1, -(-min_size // min(image.shape[:2])))
  Image.fromarray(image).resize(
      (image.shape[1] * scale, image.shape[0] * scale),
      Image.Resampling.NEAREST).save(path)
