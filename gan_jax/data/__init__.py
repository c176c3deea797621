"""Datasets by name.

``get(name)`` returns a dataset object. Synthetic mixtures are
:class:`GaussianMixture` objects sampled on device inside the train step
(``sample(key, n)``), so a training run never waits on the host for data.
"""

from typing import Callable

from gan_jax.data.mixtures import GaussianMixture, grid, ring

DATASETS: dict[str, Callable[[], GaussianMixture]] = {
    'ring8': ring,
    'grid25': grid,
}


def get(name: str) -> GaussianMixture:
  """The dataset called ``name``; ValueError naming the choices."""
  if name not in DATASETS:
    raise ValueError(f'unknown dataset {name!r}; allowed: '
                     f'{", ".join(sorted(DATASETS))}')
  return DATASETS[name]()


__all__ = ['DATASETS', 'GaussianMixture', 'get', 'grid', 'ring']
