"""The XLA:CPU compiler options of a run: operation order and kernels.

Two config keys, ``cpu_scheduler`` and ``cpu_kernels`` (recorded in each
run's ``config.json``), name entries of the tables below; a train step and
the autotuner's timings (:mod:`gan_jax.xla_cpu.autotune`) are compiled with
them. On other backends they are no options at all. What each choice costs
and saves: docs/performance.md, "What the CPU tuning does".
"""

import jax

# How XLA:CPU orders a compiled step's operations. ``concurrency`` is XLA's
# default: independent operations run side by side on the cores, which
# keeps more intermediate buffers live at once. ``memory`` is XLA's
# memory-optimised order, for runs that would not fit in memory otherwise:
# about half the temporary buffers of an SN-GAN ResNet step, a little
# slower.
CPU_SCHEDULERS = {
    'concurrency': {},
    'memory': {'xla_cpu_scheduler_type':
               'CPU_SCHEDULER_TYPE_MEMORY_OPTIMIZED'},
}

# Which kernels XLA:CPU computes products, convolutions, reductions and the
# elementwise work around them with. ``xla``: its own emitters (Eigen for
# products and convolutions), YNNPACK's fusions off; ``ynn``: jaxlib's
# default, YNNPACK fusions; ``ynn_reductions`` (the default): XLA's own
# kernels except for reductions, which YNNPACK computes in one pass where
# XLA's own split batch reductions (batch-norm statistics and their
# gradients) into slower reduce-windows.
CPU_KERNELS = {
    'ynn_reductions': {'xla_cpu_experimental_ynn_fusion_type':
                       'LIBRARY_FUSION_TYPE_REDUCE'},
    'xla': {'xla_cpu_experimental_ynn_fusion_type': ''},
    'ynn': {},
}


def check(cpu_scheduler: str, cpu_kernels: str) -> None:
  """ValueError naming the bad value and the allowed ones."""
  if cpu_scheduler not in CPU_SCHEDULERS:
    raise ValueError(f'unknown cpu_scheduler {cpu_scheduler!r}; allowed: '
                     f'{", ".join(CPU_SCHEDULERS)}')
  if cpu_kernels not in CPU_KERNELS:
    raise ValueError(f'unknown cpu_kernels {cpu_kernels!r}; allowed: '
                     f'{", ".join(CPU_KERNELS)}')


def compiler_options(cpu_scheduler: str = 'concurrency',
                     cpu_kernels: str = 'ynn_reductions') -> dict[str, str]:
  """The compiler options of ``cpu_scheduler`` and ``cpu_kernels`` on this
  process's default backend (none off CPU)."""
  if jax.default_backend() != 'cpu':
    return {}
  return {**CPU_SCHEDULERS[cpu_scheduler], **CPU_KERNELS[cpu_kernels]}
