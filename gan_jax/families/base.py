"""The family protocol: how a family of adversarial models wires its players.

Every family trains two players with the same machinery (train step,
tricks, sharding, checkpoints, sweeps): a *generator side* (one Flax
module, possibly with several networks and methods, e.g. a decoder and an
encoder) and a *critic*. A family says

* ``pair(generator, images, z, state) -> (Pair, state)``: the critic's two
  inputs, ``real`` (what the critic should accept) and ``fake`` (what the
  generator side makes), from a batch of data and the step's latents
  ``z ~ N(0, I)``, plus any non-adversarial loss terms of the generator
  side computed on the way (a reconstruction).
  ``generator(method, inputs, state) -> (outputs, state)`` runs the
  generator side (``method=None``: ``__call__``, i.e. sampling) and returns
  its updated model state (batch statistics, the noise of its next call),
  which the family passes to its next call and returns after its last;
  gradients flow through it in the generator update and are stopped in the
  critic update.
* ``generator_adversarial(loss, view, generator, pair, state) -> (scalar,
  state)``: the generator side's adversarial loss on a
  :class:`gan_jax.tricks.CriticView` of the pair (``generator`` and
  ``pair`` for objectives that need more than the critic's verdict, such as
  SeqGAN's rollouts), and the generator side's state after any calls.
* ``critic_terms(view, key) -> dict``: critic loss terms beside the
  adversarial one (a supervised term), before the tricks' own.
* ``init_generator(module, rngs, z, x, labels) -> variables``: creates
  every parameter of the generator side.
* ``critic_input_shape(sample_shape, latent_dim) -> shape`` of one critic
  input.
* ``evaluate(models, images, key) -> dict`` of extra final metrics (a
  reconstruction error, a test accuracy), ``metric_names`` naming them.

The plain GAN (:data:`GAN`) pairs data with samples, ``real = x`` and
``fake = G(z)``.
"""

from typing import Any, Callable, NamedTuple, Sequence

import jax
import numpy as np

from gan_jax.losses import GanLoss
from gan_jax.models.common import CriticOutput
from gan_jax.tricks.base import CriticView

Array = jax.Array
# ``(method, inputs, state) -> (outputs, state)``; the state is opaque to
# a family.
GeneratorFn = Callable[[str | None, Array, Any], tuple[Array, Any]]


class Pair(NamedTuple):
  """The critic's inputs for one batch.

  Attributes:
    real: ``[batch, ...]`` what the critic should accept.
    fake: ``[batch, ...]`` what the generator side makes.
    terms: the generator side's non-adversarial loss terms, by name.
    latents: the latents ``fake`` was made from.
  """
  real: Array
  fake: Array
  terms: dict[str, Array]
  latents: Array | None = None


class EvalModels(NamedTuple):
  """The trained players in evaluation mode, for :attr:`Family.evaluate`.

  Attributes:
    generator: ``(method, inputs) -> outputs`` of the generator side (with
      the parameters the tricks choose for evaluation).
    critic: ``inputs -> CriticOutput`` (after the ``critic_params`` hooks).
  """
  generator: Callable[[str | None, np.ndarray], np.ndarray]
  critic: Callable[[np.ndarray], CriticOutput]


class Family(NamedTuple):
  """How a family of adversarial models trains; see the module docstring."""
  pair: Callable[[GeneratorFn, Array, Array, Any], tuple[Pair, Any]]
  generator_adversarial: Callable[
      [GanLoss, CriticView, GeneratorFn, Pair, Any], tuple[Array, Any]]
  critic_terms: Callable[[CriticView, Array], dict[str, Array]]
  init_generator: Callable[..., Any]
  critic_input_shape: Callable[[Sequence[int], int], tuple[int, ...]]
  evaluate: Callable[[EvalModels, np.ndarray, Array], dict[str, float]]
  metric_names: tuple[str, ...] = ()


def _gan_pair(generator: GeneratorFn, images: Array, z: Array,
              state: Any) -> tuple[Pair, Any]:
  fake, state = generator(None, z, state)
  return Pair(real=images, fake=fake, terms={}), state


def fake_adversarial(loss: GanLoss, view: CriticView, generator: GeneratorFn,
                     pair: Pair, state: Any) -> tuple[Array, Any]:
  """The generator's loss on the critic's verdict on ``fake``."""
  del generator, pair
  return loss.generator(view.fake_out.logits), state


def no_critic_terms(view: CriticView, key: Array) -> dict[str, Array]:
  del view, key
  return {}


def init_sampler(module, rngs, z, x, labels=()):
  """Parameters of a generator whose ``__call__`` uses them all."""
  del x
  return module.init(rngs, z, *labels, train=False)


def sample_shape_input(sample_shape, latent_dim):
  del latent_dim
  return tuple(sample_shape)


def no_metrics(models: EvalModels, images: np.ndarray,
               key: Array) -> dict[str, float]:
  del models, images, key
  return {}


GAN = Family(
    pair=_gan_pair,
    generator_adversarial=fake_adversarial,
    critic_terms=no_critic_terms,
    init_generator=init_sampler,
    critic_input_shape=sample_shape_input,
    evaluate=no_metrics,
)
