"""Sample-quality and mode-collapse metrics (numpy or jax arrays in, floats out)."""

from gan_jax.metrics.mode_coverage import mode_coverage

__all__ = ['mode_coverage']
