"""Feature extractors for sample metrics."""

from gan_jax.metrics.features.digits_classifier import DigitsExtractor
from gan_jax.metrics.features.inception import convert_fid_inception_weights
from gan_jax.metrics.features.inception import FID_WEIGHTS_FILE
from gan_jax.metrics.features.inception import FID_WEIGHTS_URL
from gan_jax.metrics.features.inception import FIDInception
from gan_jax.metrics.features.inception import FIDInceptionV3
from gan_jax.metrics.features.inception import load_fid_inception_params
from gan_jax.metrics.features.inception import make_fid_inception
from gan_jax.metrics.features.inception import require_weights_path
from gan_jax.metrics.features.inception import save_fid_inception_params

__all__ = [
    'DigitsExtractor',
    'FIDInception',
    'FIDInceptionV3',
    'FID_WEIGHTS_FILE',
    'FID_WEIGHTS_URL',
    'convert_fid_inception_weights',
    'load_fid_inception_params',
    'make_fid_inception',
    'require_weights_path',
    'save_fid_inception_params',
]
