"""The convolutions the models are built with, and where a backend's
tuning may plug in another way to compute them.

Models call :data:`Conv` (``flax.linen.Conv``, same parameters and names),
:func:`conv_general_dilated` and :func:`transposed_conv_4x4_stride2`. Each
computes what its ``lax`` counterpart computes; by default it *is* that
counterpart. :func:`install` and :func:`use` let a tuning
(:mod:`gan_jax.xla_cpu`, applied by the entry points on CPU) substitute an
equal function that a backend runs faster; models know nothing of
backends. The substitute is read when a function is traced, so a compiled
program keeps the computation it was traced with.
"""

import contextlib
import functools
from typing import Callable, Iterator

import flax.linen as nn
import jax
from jax import lax

_NHWC = ('NHWC', 'HWIO', 'NHWC')


def _lax_transposed_conv_4x4_stride2(x: jax.Array,
                                     kernel: jax.Array) -> jax.Array:
  return lax.conv_transpose(x, kernel.astype(x.dtype), (2, 2), 'SAME',
                            dimension_numbers=_NHWC)


_DEFAULTS = {'conv_general_dilated': lax.conv_general_dilated,
             'transposed_conv_4x4_stride2': _lax_transposed_conv_4x4_stride2}
_current = dict(_DEFAULTS)


def current() -> dict[str, Callable]:
  """The functions in use, by name (a copy)."""
  return dict(_current)


def install(**functions: Callable | None) -> None:
  """From now on the named functions compute the convolutions (None:
  lax's). Names: ``conv_general_dilated``, ``transposed_conv_4x4_stride2``."""
  unknown = set(functions) - set(_DEFAULTS)
  if unknown:
    raise ValueError(f'unknown convolution {sorted(unknown)}; allowed: '
                     f'{", ".join(_DEFAULTS)}')
  _current.update({name: function or _DEFAULTS[name]
                   for name, function in functions.items()})


@contextlib.contextmanager
def use(**functions: Callable | None) -> Iterator[None]:
  """:func:`install` within the block only."""
  previous = dict(_current)
  install(**functions)
  try:
    yield
  finally:
    _current.clear()
    _current.update(previous)


def conv_general_dilated(*args, **kwargs) -> jax.Array:
  """``lax.conv_general_dilated``, or the equal function in use."""
  return _current['conv_general_dilated'](*args, **kwargs)


def transposed_conv_4x4_stride2(x: jax.Array, kernel: jax.Array) -> jax.Array:
  """The 4×4 stride-2 'SAME' transposed convolution of ``x`` (NHWC) with
  ``kernel`` (``[4, 4, in, out]``): ``lax.conv_transpose``, or the equal
  function in use."""
  return _current['transposed_conv_4x4_stride2'](x, kernel)


# ``flax.linen.Conv`` computing with :func:`conv_general_dilated`.
Conv = functools.partial(nn.Conv, conv_general_dilated=conv_general_dilated)
