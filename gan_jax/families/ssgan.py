"""The semi-supervised GAN (Salimans et al. 2016, Sec. 5).

The critic is a K-class classifier with an implicit (K+1)-th "generated"
class (:class:`gan_jax.models.SemiSupervisedCritic`, whose real-vs-generated
logit is logsumexp of the class logits). Its loss is the supervised
cross-entropy on a few labelled examples plus the unsupervised GAN loss on
all the data: with ``config.loss = 'non_saturating'`` (or ``minimax``) the
latter is exactly the paper's -E log D(x) - E log(1 - D(G(z))) with
D = Z / (Z + 1). The generator is trained by feature matching
(``config.tricks = 'feature_matching'`` with ``replace=True``), the
combination that gave the paper's semi-supervised results.

The labelled set is ``labels_per_class`` examples of each class drawn from
the training split with ``label_seed``; the GAN loss sees the whole split
without labels, as in the paper. Each critic update adds the
cross-entropy of a batch of ``labelled_batch_size`` labelled examples,
drawn with replacement.

Evaluation adds ``test_accuracy`` of the critic's classes on
``test_split`` (refused if it shares an example with ``config.data.split``)
and, next to
it, ``supervised_only_test_accuracy``: the same critic architecture trained
from scratch on the labelled examples alone (cross-entropy, the critic's
Adam settings, ``baseline_steps`` updates of the same batch size), computed
once per run.

Reference:
  Salimans, Goodfellow, Zaremba, Cheung, Radford & Chen 2016, "Improved
  Techniques for Training GANs", NeurIPS.
"""

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from gan_jax import data
from gan_jax import models
from gan_jax.data import tfds_sources
from gan_jax.families import base
from gan_jax.families.batches import in_chunks


class Context(NamedTuple):
  """What the semi-supervised family needs of the experiment."""
  dataset: Any  # data.ImageDataset
  critic: Any  # nn.Module
  learning_rate: float
  b1: float
  b2: float


def labelled_subset(images: np.ndarray, labels: np.ndarray,
                    per_class: int) -> tuple[np.ndarray, np.ndarray]:
  """The first ``per_class`` examples of each class, in the given order.

  Raises:
    ValueError: a class has fewer than ``per_class`` examples.
  """
  chosen = []
  for label in np.unique(labels):
    where = np.flatnonzero(labels == label)
    if len(where) < per_class:
      raise ValueError(f'class {label} has {len(where)} examples, fewer '
                       f'than labels_per_class={per_class}')
    chosen.append(where[:per_class])
  chosen = np.sort(np.concatenate(chosen))
  return images[chosen], labels[chosen]


def _cross_entropy(class_logits, labels):
  return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(
      class_logits, labels))


def train_supervised_only(critic, images: np.ndarray, labels: np.ndarray,
                          steps: int, batch_size: int,
                          optimizer: optax.GradientTransformation,
                          key: jax.Array):
  """The critic architecture trained as a plain classifier on ``images``.

  Returns:
    ``x -> class logits`` with the trained parameters (evaluation mode).
  """
  init_key, train_key = jax.random.split(key)
  params, model_state = models.split_variables(
      critic.init(init_key, jnp.asarray(images[:1]), train=False))
  opt_state = optimizer.init(params)
  images, labels = jnp.asarray(images), jnp.asarray(labels)

  @jax.jit
  def step(params, model_state, opt_state, key):
    batch_key, dropout_key = jax.random.split(key)
    index = jax.random.randint(batch_key, (batch_size,), 0, len(labels))

    def loss_fn(params):
      out, new_state = models.apply(critic, params, model_state,
                                    images[index], train=True,
                                    rngs={'dropout': dropout_key})
      return _cross_entropy(out.class_logits, labels[index]), new_state

    grads, model_state = jax.grad(loss_fn, has_aux=True)(params)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), model_state, opt_state

  for index in range(steps):
    params, model_state, opt_state = step(
        params, model_state, opt_state, jax.random.fold_in(train_key, index))
  classify = jax.jit(lambda x: models.apply(critic, params, model_state, x,
                                            train=False)[0].class_logits)
  return classify


def accuracy(class_logits: np.ndarray, labels: np.ndarray) -> float:
  return float(np.mean(np.argmax(class_logits, axis=-1) == labels))


def _check(context: Context, labels_per_class: int, supervised_weight: float,
           labelled_batch_size: int, test_split: str,
           baseline_steps: int) -> None:
  """ValueError for an argument of :func:`ssgan` that cannot work: the
  numbers, a dataset without labels, a critic without class logits, a
  test split that overlaps the training split."""
  dataset = context.dataset
  for name, value in (('labels_per_class', labels_per_class),
                      ('labelled_batch_size', labelled_batch_size)):
    if value < 1:
      raise ValueError(f'{name}={value} must be >= 1')
  if supervised_weight < 0 or baseline_steps < 0:
    raise ValueError(f'supervised_weight={supervised_weight} and '
                     f'baseline_steps={baseline_steps} must be >= 0')
  if not getattr(dataset, 'num_classes', 0):
    raise ValueError(f'the semi-supervised GAN needs class labels; dataset '
                     f'{getattr(dataset, "name", dataset)!r} has none')
  classes = getattr(context.critic, 'label_classes', None)
  if classes != dataset.num_classes:
    raise ValueError(f'the critic must be semi_supervised with label_classes='
                     f'{dataset.num_classes} (the dataset\'s classes), got '
                     f'{type(context.critic).__name__} with {classes}')
  shared = tfds_sources.shared_examples(dataset.name, dataset.data_dir,
                                        dataset.split, test_split)
  if shared:
    raise ValueError(
        f'test_split={test_split!r} shares {shared} examples with the '
        f'training split config.data.split={dataset.split!r}; give disjoint '
        "slices, e.g. data.split='train[:1297]', test_split='train[1297:]'")


def ssgan(context: Context, labels_per_class: int = 10, label_seed: int = 0,
          supervised_weight: float = 1.0, labelled_batch_size: int = 100,
          test_split: str = 'train[1297:]',
          baseline_steps: int = 2_000) -> base.Family:
  """The semi-supervised GAN; the critic is ``semi_supervised``.

  Args:
    context: the dataset (its training split), the critic and its Adam
      settings; filled in by the library.
    labels_per_class: labelled training examples per class.
    label_seed: the seed choosing them.
    supervised_weight: multiplier of the cross-entropy term.
    labelled_batch_size: labelled examples per critic update.
    test_split: the held-out split the accuracies are measured on.
    baseline_steps: updates of the supervised-only classifier (0: skip it).
  """
  _check(context, labels_per_class, supervised_weight, labelled_batch_size,
         test_split, baseline_steps)
  dataset = context.dataset
  images, labels = dataset.examples(10 ** 9, seed=label_seed)
  labelled_images, labelled_labels = labelled_subset(images, labels,
                                                     labels_per_class)
  test = data.image_dataset(dataset.name, dataset.data_dir,
                            dataset.sample_shape[0], dataset.sample_shape[2],
                            test_split)
  test_images, test_labels = test.examples(10 ** 9)
  supervised_only = {}  # Filled at the first evaluation.

  def critic_terms(view, key):
    index = jax.random.randint(key, (labelled_batch_size,), 0,
                               len(labelled_labels))
    out = view.apply(jnp.asarray(labelled_images)[index])
    return {'supervised': supervised_weight * _cross_entropy(
        out.class_logits, jnp.asarray(labelled_labels)[index])}

  def evaluate(models_: base.EvalModels, images, key):
    del images, key
    results = {'test_accuracy': accuracy(
        in_chunks(lambda x: models_.critic(x).class_logits, test_images),
        test_labels)}
    if baseline_steps:
      if not supervised_only:
        classify = train_supervised_only(
            context.critic, labelled_images, labelled_labels, baseline_steps,
            labelled_batch_size,
            optax.adam(context.learning_rate, context.b1, context.b2),
            jax.random.PRNGKey(label_seed))
        supervised_only['accuracy'] = accuracy(
            in_chunks(classify, test_images), test_labels)
      results['supervised_only_test_accuracy'] = supervised_only['accuracy']
    return results

  return base.Family(
      pair=base.GAN.pair,
      generator_adversarial=base.fake_adversarial,
      critic_terms=critic_terms,
      init_generator=base.init_sampler,
      critic_input_shape=base.sample_shape_input,
      evaluate=evaluate,
      metric_names=(('supervised_only_test_accuracy',) if baseline_steps
                    else ()) + ('test_accuracy',),
  )
