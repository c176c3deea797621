"""Pictures: a run's samples (``samples/``) and a sweep's results."""

import warnings

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


def save_fasta(path: str, sequences: list[str], title: str) -> None:
  """Writes generated sequences as FASTA records ``>title i``."""
  with open(path, 'w') as f:
    for index, sequence in enumerate(sequences):
      f.write(f'>{title} {index}\n{sequence}\n')


def save_metric_intervals(path: str, summaries: list[dict],
                          metrics: list[str], rows: list[dict]) -> None:
  """One panel per metric: each variant's mean with its 95 % interval
  (black) over its finished seeds (grey dots)."""
  names = [s['name'] for s in summaries]
  fig, axes = plt.subplots(len(metrics), 1, squeeze=False, dpi=100,
                           figsize=(max(6, 0.5 * len(names) + 2),
                                    2.6 * len(metrics)))
  for ax, metric in zip(axes[:, 0], metrics):
    for x, name in enumerate(names):
      seeds = [row[metric] for row in rows if row['name'] == name
               and row['status'] == 'finished' and metric in row]
      ax.scatter([x] * len(seeds), seeds, s=10, c='0.6', zorder=1)
    means = [s['metrics'][metric][0] for s in summaries]
    half = [np.nan_to_num(s['metrics'][metric][1]) for s in summaries]
    ax.errorbar(range(len(names)), means, yerr=half, fmt='o', c='k',
                capsize=3, zorder=2)
    ax.set_ylabel(metric)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names if ax is axes[-1, 0] else [''] * len(names),
                       rotation=60, ha='right', fontsize=8)
    ax.grid(axis='y', alpha=0.3)
  fig.tight_layout()
  fig.savefig(path)
  plt.close(fig)


# Curves of at most this many logged steps mark each one.
_MARKED_STEPS = 30


def save_training_curves(path: str, curves: dict[str, dict[str, dict]]
                         ) -> None:
  """One panel per logged quantity: each variant's mean over its seeds
  against the step, with the band from the lowest to the highest seed.

  Curves of few logged steps mark each step (a run shorter than
  ``log_every`` / ``eval_every`` logs its final step only: one point, its
  seeds' range as an error bar); a panel says so when every variant has
  one step, and when the quantity is undefined at every step."""
  quantities = sorted({q for per_variant in curves.values()
                       for q in per_variant})
  if not quantities:
    return
  fig, axes = plt.subplots(len(quantities), 1, squeeze=False, dpi=100,
                           figsize=(8, 2.6 * len(quantities)))
  colours = plt.get_cmap('tab20')
  for ax, quantity in zip(axes[:, 0], quantities):
    most_steps, defined = 0, False
    for index, (variant, per_variant) in enumerate(curves.items()):
      if quantity not in per_variant:
        continue
      steps = sorted(per_variant[quantity])
      values = [np.asarray(per_variant[quantity][s], np.float64)
                for s in steps]
      most_steps = max(most_steps, len(steps))
      defined |= any(np.isfinite(v).any() for v in values)
      colour = colours(index % 20)
      with warnings.catch_warnings():  # Steps where no seed is defined.
        warnings.simplefilter('ignore', RuntimeWarning)
        means = np.array([np.nanmean(v) for v in values])
        lows = np.array([np.nanmin(v) for v in values])
        highs = np.array([np.nanmax(v) for v in values])
      ax.plot(steps, means, c=colour, lw=1, label=variant,
              marker='o' if len(steps) <= _MARKED_STEPS else None, ms=4)
      if len(steps) == 1:
        ax.errorbar(steps, means, yerr=[means - lows, highs - means],
                    c=colour, capsize=3, lw=1)
      else:
        ax.fill_between(steps, lows, highs, color=colour, alpha=0.15, lw=0)
    note = ('undefined (NaN) at every logged step' if not defined
            else 'logged at one step only'
            if most_steps == 1 else '')
    if note:
      ax.text(0.99, 0.95, note, transform=ax.transAxes, ha='right',
              va='top', fontsize=8, c='0.4')
    ax.set_ylabel(quantity.removeprefix('eval/'), fontsize=8)
    ax.grid(alpha=0.3)
  axes[-1, 0].set_xlabel('step')
  axes[0, 0].legend(fontsize=6, ncol=3, loc='upper left',
                    bbox_to_anchor=(0, 1.6))
  fig.tight_layout()
  fig.savefig(path)
  plt.close(fig)
