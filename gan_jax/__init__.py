"""gan_jax: GAN training in JAX for reproducing stability ablations across tricks.

Modules: ``losses`` (GAN objectives), ``models`` (Flax generators and critics),
``tricks`` (stability tricks as composable transforms), ``data`` (datasets),
``metrics`` (sample-quality and mode metrics), ``train`` (the train step and
loop), ``config`` (the base config and its validation).

Importing gan_jax gives JAX's CPU backend the unrolled Threefry lowering
(:mod:`gan_jax.threefry_cpu`: the same random bits, faster draws).
"""

from gan_jax import threefry_cpu

threefry_cpu.register()

__version__ = '0.1.0'
