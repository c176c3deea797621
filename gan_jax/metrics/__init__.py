"""Sample-quality and mode-collapse metrics (numpy or jax arrays in, floats
out)."""

from gan_jax.metrics.frechet import FeatureStatistics
from gan_jax.metrics.frechet import frechet_distance
from gan_jax.metrics.frechet import frechet_distance_from_statistics
from gan_jax.metrics.inception_score import inception_score
from gan_jax.metrics.inception_score import mode_score
from gan_jax.metrics.kernel import gaussian_mmd2
from gan_jax.metrics.kernel import kernel_distance
from gan_jax.metrics.kernel import polynomial_mmd2
from gan_jax.metrics.mode_coverage import mode_coverage
from gan_jax.metrics.nearest_neighbours import density_coverage
from gan_jax.metrics.nearest_neighbours import neighbour_metrics
from gan_jax.metrics.nearest_neighbours import one_nn_accuracy
from gan_jax.metrics.nearest_neighbours import precision_recall
from gan_jax.metrics.sequences import sequence_metrics
from gan_jax.metrics.sliced_wasserstein import sliced_wasserstein
from gan_jax.metrics.stacked_modes import stacked_modes

__all__ = [
    'FeatureStatistics',
    'density_coverage',
    'frechet_distance',
    'frechet_distance_from_statistics',
    'inception_score',
    'gaussian_mmd2',
    'kernel_distance',
    'mode_coverage',
    'mode_score',
    'neighbour_metrics',
    'one_nn_accuracy',
    'polynomial_mmd2',
    'precision_recall',
    'sequence_metrics',
    'sliced_wasserstein',
    'stacked_modes',
]
