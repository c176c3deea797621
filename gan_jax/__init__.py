"""gan_jax: GAN training in JAX for reproducing stability ablations across
tricks.

Modules: ``losses`` (GAN objectives), ``models`` (Flax generators and critics),
``tricks`` (stability tricks as composable transforms), ``data`` (datasets),
``metrics`` (sample-quality and mode metrics), ``train`` (the train step and
loop), ``config`` (the base config and its validation).

Importing gan_jax changes nothing outside it; the CPU tuning the entry
points apply is :mod:`gan_jax.xla_cpu`.
"""

__version__ = '0.1.0'
