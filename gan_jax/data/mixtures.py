"""2-D Gaussian mixtures, sampled on device from a PRNG key.

The ring of Metz et al. 2017 (Unrolled GAN) and the grid VEEGAN (Srivastava
et al. 2017) added, at the sizes of the PacGAN (Lin et al. 2018) and GDPP
(Elfeki et al. 2019) code, whose tables docs/reproductions.md compares
with (Metz et al.'s own ring is larger): equally weighted isotropic
Gaussians,

* ``ring8``: 8 modes on the unit circle at angles 2πk/8, k = 0..7, std 0.01.
  (Two reference implementations build the angles with ``linspace`` including
  the endpoint, so their first and last modes coincide and the ring has only 7
  distinct modes; here every angle is distinct.)
* ``grid25``: 25 modes at {-4, -2, 0, 2, 4}², std 0.05.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.data.batch import Batch


@dataclasses.dataclass(frozen=True)
class GaussianMixture:
  """An equally weighted mixture of isotropic Gaussians.

  Attributes:
    name: the dataset name used in configs.
    centers: ``[modes, dim]`` float array of the mixture means.
    std: the standard deviation of every component.
  """
  name: str
  centers: np.ndarray
  std: float

  @property
  def sample_shape(self) -> tuple[int, ...]:
    return (self.centers.shape[1],)

  @property
  def num_classes(self) -> int:
    """The number of components; a sample's label is its component."""
    return len(self.centers)

  def sample_batch(self, key: jax.Array, num_samples: int) -> Batch:
    """``[num_samples, dim]`` float32 points with their component indices."""
    mode_key, noise_key = jax.random.split(key)
    modes = jax.random.randint(mode_key, (num_samples,), 0, len(self.centers))
    noise = jax.random.normal(noise_key, (num_samples, self.centers.shape[1]))
    points = jnp.asarray(self.centers, jnp.float32)[modes] + self.std * noise
    return Batch(points, modes.astype(jnp.int32))

  def sample(self, key: jax.Array, num_samples: int) -> jax.Array:
    """Draws ``[num_samples, dim]`` float32 points; jit- and vmap-friendly."""
    return self.sample_batch(key, num_samples).images


def ring(num_modes: int = 8, radius: float = 1.0,
         std: float = 0.01) -> GaussianMixture:
  """``num_modes`` Gaussians evenly spaced on a circle (no repeated angle)."""
  angles = 2 * np.pi * np.arange(num_modes) / num_modes
  centers = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
  return GaussianMixture(f'ring{num_modes}', centers.astype(np.float32), std)


def grid(side: int = 5, spacing: float = 2.0,
         std: float = 0.05) -> GaussianMixture:
  """``side``² Gaussians on a square grid centred at the origin."""
  ticks = spacing * (np.arange(side) - (side - 1) / 2)
  centers = np.stack(np.meshgrid(ticks, ticks, indexing='ij'),
                     -1).reshape(-1, 2)
  return GaussianMixture(f'grid{side * side}', centers.astype(np.float32), std)
