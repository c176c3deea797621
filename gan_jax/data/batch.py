"""The unit of real data the train step consumes."""

from typing import NamedTuple

import jax


class Batch(NamedTuple):
  """Real examples and their class labels, with the same leading axes.

  Attributes:
    images: ``[..., *sample_shape]`` float32 samples (images in [-1, 1], or
      points for 2-D mixtures).
    labels: ``[...]`` int32 class labels (digit classes, mixture components);
      class-conditional models are conditioned on them, others ignore them.
  """
  images: jax.Array
  labels: jax.Array
