"""Model FLOPs of a JAX function, counted from its jaxpr, and peak rates.

Model FLOPs utilisation (MFU; Chowdhery et al. 2022, "PaLM", appendix B)
divides the FLOPs a model needs per step by the step time and the device's
peak. "Needs" is the model's arithmetic, not what an implementation happens
to execute, so it is counted from the traced program (jaxpr), not the
compiled one, and traced with lax's convolutions: gan_jax's CPU tuning
computes some layers differently (transposed convolutions as four output
phases with a border row and column more, kernel gradients as per-tap
products of zero-filled copies; :mod:`gan_jax.xla_cpu.transposed_conv`,
:mod:`gan_jax.xla_cpu.kernel_gradient`), and the plain ``lax`` formulation
accelerators run is the model's own arithmetic. The count is then the same
whichever backend runs the step. Loops count as many times as they run
(XLA's ``cost_analysis`` counts a while loop's body once). Work whose
result nothing uses is removed before counting, as XLA removes it before
running (e.g. the critic's pass over the real batch that the generator
update traces but does not need: 5.6 % of a ring8 step).

Counted: 2 FLOPs per multiply-add of every ``dot_general`` and
``conv_general_dilated``, forward and backward, ``scan`` bodies times their
length. A convolution's multiply-adds are those of a real input pixel, not
of a zero the convolution inserts (padding, or the holes of a dilated input
as in a transposed convolution or the input gradient of a strided one): a
4×4 stride-2 transposed convolution is 4 multiply-adds per output pixel and
input channel away from the border, not 16, and a layer's input and kernel
gradients each count what its forward does. Element-wise work, reductions
and random numbers are not counted (not model FLOPs, and small against the
products).
"""

import math
import statistics
import time
from typing import Any

import jax
from jax import extend as jex
# Dead-code elimination of jaxprs (nested jit, scan, cond and remat bodies
# included) is not public API; JAX's own is used rather than a re-written
# one. tests/test_flop_count.py fails if it moves.
from jax._src.interpreters import partial_eval
import numpy as np

from gan_jax.models import conv


class UncountableLoop(ValueError):
  """A while loop whose trip count the jaxpr does not say."""


def count(fn, *args, **kwargs) -> float:
  """The model FLOPs of one call ``fn(*args, **kwargs)`` (traced, not run),
  in the formulation accelerators run (module docstring)."""
  # The models' convolutions as lax computes them, whatever CPU tuning this
  # process applied (gan_jax.models.conv).
  with conv.use(conv_general_dilated=None, transposed_conv_4x4_stride2=None):
    jaxpr = jax.make_jaxpr(fn)(*args, **kwargs).jaxpr
  used, _ = partial_eval.dce_jaxpr(jaxpr, [True] * len(jaxpr.outvars))
  return jaxpr_flops(used)


def jaxpr_flops(jaxpr: jex.core.Jaxpr) -> float:
  """The model FLOPs of ``jaxpr``'s equations, nested jaxprs included."""
  total = 0.0
  for eqn in jaxpr.eqns:
    name = eqn.primitive.name
    if name == 'dot_general':
      total += _dot_flops(eqn)
    elif name == 'conv_general_dilated':
      total += _conv_flops(eqn)
    elif name == 'while':
      raise UncountableLoop('a while loop (lax.while_loop, or fori_loop with '
                            'traced bounds) has no known trip count')
    elif name == 'cond':
      # One branch runs; count the most expensive.
      total += max(jaxpr_flops(b.jaxpr) for b in eqn.params['branches'])
    else:
      inner = sum(jaxpr_flops(j) for j in _sub_jaxprs(eqn.params))
      total += inner * (eqn.params['length'] if name == 'scan' else 1)
  return total


def _sub_jaxprs(params: dict[str, Any]) -> list[jex.core.Jaxpr]:
  """The jaxprs a higher-order primitive calls (pjit, remat, custom rules'
  primal functions, shard_map, scan), each once."""
  found = []
  for value in params.values():
    for item in value if isinstance(value, (tuple, list)) else (value,):
      if isinstance(item, jex.core.ClosedJaxpr):
        found.append(item.jaxpr)
      elif isinstance(item, jex.core.Jaxpr):
        found.append(item)
  return found


def _dot_flops(eqn) -> float:
  (contracting, _), _ = eqn.params['dimension_numbers']
  lhs = eqn.invars[0].aval.shape
  out = eqn.outvars[0].aval.shape
  return 2.0 * math.prod(out) * math.prod(lhs[d] for d in contracting)


def _conv_flops(eqn) -> float:
  params = eqn.params
  lhs, rhs = (v.aval.shape for v in eqn.invars)
  out = eqn.outvars[0].aval.shape
  lhs_spec, rhs_spec, out_spec = params['dimension_numbers']
  spatial = len(lhs_spec) - 2
  ones = (1,) * spatial
  taps = 1
  for d in range(spatial):
    taps *= _valid_taps_1d(
        lhs[lhs_spec[2 + d]], rhs[rhs_spec[2 + d]], out[out_spec[2 + d]],
        params['window_strides'][d], params['padding'][d],
        (params['lhs_dilation'] or ones)[d],
        (params['rhs_dilation'] or ones)[d])
  # Every (output position, tap) pair that meets a real input pixel is one
  # multiply-add per output element's batch and feature and per input
  # feature of the kernel (already divided by the groups).
  per_position = out[out_spec[0]] * out[out_spec[1]] * rhs[rhs_spec[1]]
  return 2.0 * per_position * taps


def _valid_taps_1d(size: int, kernel: int, out: int, stride: int,
                   padding: tuple[int, int], lhs_dilation: int,
                   rhs_dilation: int) -> int:
  """Σ over output positions of the kernel taps that land on an input pixel
  (not padding, not a hole of the dilated input), along one dimension."""
  position = (np.arange(out)[:, None] * stride
              + np.arange(kernel)[None, :] * rhs_dilation - padding[0])
  dilated_size = (size - 1) * lhs_dilation + 1
  hits = ((position >= 0) & (position < dilated_size)
          & (position % lhs_dilation == 0))
  return int(hits.sum())


# Dense (not structured-sparse) TF32 tensor-core peaks from NVIDIA's data
# sheets, in FLOP/s: XLA computes float32 products and convolutions in TF32
# on these GPUs at JAX's default precision. Keyed by a substring of
# ``jax.Device.device_kind``; the first match wins.
DATASHEET_FLOPS_PER_SEC = (
    ('H100 PCIe', 378e12),
    ('H100 NVL', 417.5e12),
    ('H100', 494.7e12),   # SXM5 (device kind "NVIDIA H100 80GB HBM3").
    ('H200 NVL', 417.5e12),
    ('H200', 494.7e12),   # SXM.
    ('A100', 156e12),
)


def datasheet_flops_per_sec(device_kind: str) -> float | None:
  """The device's float32-input peak (None where this table lacks it)."""
  for key, peak in DATASHEET_FLOPS_PER_SEC:
    if key in device_kind:
      return peak
  return None


def measured_matmul_flops_per_sec(size: int, calls: int = 5) -> float:
  """The rate of a ``[size, size] @ [size, size]`` float32 product at JAX's
  default precision on the default device (median of ``calls`` timed calls
  after a warm-up): what this device's matrix units reach in practice, the
  peak a step is compared with where no data-sheet figure is known (CPUs)."""
  a = jax.random.normal(jax.random.key(0), (size, size), np.float32)
  product = jax.jit(lambda a: a @ a)
  product(a).block_until_ready()
  seconds = []
  for _ in range(calls):
    start = time.perf_counter()
    product(a).block_until_ready()
    seconds.append(time.perf_counter() - start)
  return 2.0 * size**3 / statistics.median(seconds)
