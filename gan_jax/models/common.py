"""What every generator and critic shares: the critic's output type and
activations."""

import functools
from typing import Callable, NamedTuple

import jax

Array = jax.Array


class CriticOutput(NamedTuple):
  """A critic's answer for a batch.

  Attributes:
    logits: ``[batch]`` raw scores, fed to the losses in ``gan_jax.losses``.
    features: ``[batch, ...]`` last hidden activations (used by feature
      matching, Salimans et al. 2016, and by diagnostics).
    class_logits: ``[batch, classes]`` scores of the real classes, from a
      critic that is also a classifier (the semi-supervised GAN); None
      otherwise.
  """
  logits: Array
  features: Array
  class_logits: Array | None = None


ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    'relu': jax.nn.relu,
    # 0.2 is DCGAN's slope (Radford et al. 2016) and the usual GAN choice.
    'leaky_relu': functools.partial(jax.nn.leaky_relu, negative_slope=0.2),
    'elu': jax.nn.elu,
    'gelu': jax.nn.gelu,
    'silu': jax.nn.silu,
    'tanh': jax.numpy.tanh,
}


def activation(name: str) -> Callable[[Array], Array]:
  """Returns the activation called ``name``; ValueError naming the choices."""
  if name not in ACTIVATIONS:
    raise ValueError(f'unknown activation {name!r}; allowed: '
                     f'{", ".join(sorted(ACTIVATIONS))}')
  return ACTIVATIONS[name]
