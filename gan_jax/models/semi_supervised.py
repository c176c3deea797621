"""A K-class classifier used as the critic: the semi-supervised GAN.

Salimans et al. 2016 (Sec. 5) turn a K-class classifier with logits
l_1..l_K into a GAN discriminator by adding a "generated" class K+1 whose
logit is fixed at 0: then D(x) = Z(x) / (Z(x) + 1) with Z = Σ_k exp(l_k),
i.e. the discriminator's logit is logsumexp_k l_k. The GAN losses apply to
that logit unchanged, and a cross-entropy on the class logits of labelled
examples trains the classifier (``gan_jax.families.ssgan``).
"""

from typing import Any, Mapping

import flax
import flax.linen as nn
import jax

from gan_jax.models import common


class SemiSupervisedCritic(nn.Module):
  """Images -> class logits and the real-vs-generated logit logsumexp(l).

  Attributes:
    trunk: name of the critic whose last hidden features feed the class
      layer (its own output layer is unused).
    trunk_args: its constructor arguments.
    label_classes: K, the number of real classes.
    batch_axis: the mesh axis of a sharded step; set by the library.
  """
  trunk: str = 'dcgan'
  trunk_args: Mapping[str, Any] = flax.core.FrozenDict()
  label_classes: int = 10
  batch_axis: str | None = None

  @nn.compact
  def __call__(self, x, train: bool = True) -> common.CriticOutput:
    from gan_jax import models  # pylint: disable=g-import-not-at-top
    trunk = models.build_critic(self.trunk, self.trunk_args,
                                batch_axis=self.batch_axis)
    features = trunk(x, train=train).features
    features = features.reshape(features.shape[0], -1)
    class_logits = nn.Dense(self.label_classes)(features)
    return common.CriticOutput(
        logits=jax.nn.logsumexp(class_logits, axis=-1), features=features,
        class_logits=class_logits)
