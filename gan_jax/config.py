"""The base experiment config and its validation.

Every config file in ``configs/`` starts from :func:`base` and changes what it
needs, so every key below exists in every config and can be overridden from
the command line (``--config.optim.d_lr=1e-4``). :func:`validate` checks a
config before any work and raises :class:`ConfigError` with one line naming
the bad value and what is allowed.
"""

import importlib.util
import json
import math
import os

import jax
import jax.numpy as jnp
import ml_collections

from gan_jax import (data, evaluation, families, losses, models, parallel,
                     tricks)
from gan_jax.xla_cpu import compiler_options

# Written to config.json next to the config, not part of it.
_RUNTIME_KEYS = ('process_count', 'device_count')


class ConfigError(ValueError):
  """A config value a user set is not allowed; the message says why."""


def base() -> ml_collections.ConfigDict:
  """Defaults shared by all experiments.

  The model and optimiser are those of the 2-D mixture experiments in the
  Unrolled GAN / VEEGAN / GDPP line of work (Metz et al. 2017; Srivastava et
  al. 2017; Elfeki et al. 2019): MLPs of 2 ReLU layers of 128 units, latent
  256, batch 512, Adam with b1 0.5 and learning rates 1e-3 (generator) and
  1e-4 (critic), 25k generator updates.
  """
  c = ml_collections.ConfigDict()
  c.seed = 0
  c.batch_size = 512  # Global batch, split over devices when sharded.
  c.num_train_steps = 25_000  # Generator updates.
  c.steps_per_call = 100  # Train steps fused into one jit call (lax.scan).
  # Steps per trip of that lax.scan loop (its unroll): the same results;
  # XLA overlaps work of neighbouring steps, at some compile time
  # (docs/performance.md, "Unrolled fused steps").
  c.scan_unroll = 4
  c.loss = 'non_saturating'  # A name in gan_jax.losses.LOSSES.
  # How the players meet (gan_jax.families): gan, bigan, aae, ssgan or seqgan;
  # family_args.<name>.<arg>: every family's arguments with their defaults.
  c.family = 'gan'
  c.family_args = ml_collections.ConfigDict(
      {name: families.default_args(name) for name in families.FAMILIES})
  c.tricks = ''  # Comma-separated names in chain order; '' for none.
  # trick_args.<name>.<arg>: every trick's arguments with their defaults.
  c.trick_args = ml_collections.ConfigDict(
      {name: tricks.default_args(name) for name in tricks.TRICKS})
  # Data parallelism (gan_jax.parallel): auto (shard_map on more than one
  # device, else none), none, shard_map or pmap.
  c.parallel = 'auto'
  # How XLA:CPU orders a step's operations (gan_jax.xla_cpu.compiler_options):
  # concurrency (XLA's default; fastest) or memory (about half the temporary
  # memory of an SN-GAN ResNet step, a little slower; docs/performance.md).
  c.cpu_scheduler = 'concurrency'
  # Which kernels XLA:CPU runs a step with (gan_jax.xla_cpu.compiler_options):
  # ynn_reductions (XLA's own, reductions by YNNPACK; fastest measured), xla
  # (XLA's own throughout) or ynn (YNNPACK fusions, jaxlib's default).
  c.cpu_kernels = 'ynn_reductions'

  c.optim = _optim()
  c.data = _data()
  c.model = _model()
  c.eval = _eval()

  c.log_every = 1_000
  c.sample_every = 5_000
  c.checkpoint_every = 5_000
  c.eval_every = 5_000
  c.keep_checkpoints = 3
  # Also keep the checkpoint with the best value of this evaluation metric
  # (a key of eval.json, e.g. 'fd' or 'modes') in checkpoints_best/; '' off.
  c.best_metric = ''
  c.best_mode = 'min'  # 'min' or 'max': which value of best_metric is best.

  # Failure handling. Non-finite losses or parameters stop a run ("diverged
  # at step N"); with skip_nonfinite_updates an update with non-finite
  # gradients is skipped instead (optax.apply_if_finite), at most
  # max_consecutive_skips times in a row.
  c.skip_nonfinite_updates = False
  c.max_consecutive_skips = 10
  # Resume a workdir whose run had a different config (see check_resume).
  c.allow_config_change = False
  return c


def _optim() -> ml_collections.ConfigDict:
  """The optimiser: Adam per player, its learning-rate schedule, n_critic."""
  c = ml_collections.ConfigDict()
  c.g_lr = 1e-3
  c.d_lr = 1e-4
  c.b1 = 0.5
  c.b2 = 0.999
  c.n_critic = 1  # Critic updates per generator update.
  # How the learning rates change over the run (LR_SCHEDULES below):
  # constant, or linear_decay from g_lr / d_lr down to 0 at num_train_steps
  # (Chainer's LinearShift in Miyato et al.'s SN-GAN code; the critic keeps
  # one rate for the n_critic updates of a step). With linear_decay,
  # num_train_steps sets the slope, so resuming with another one changes it.
  c.lr_schedule = 'constant'
  return c


def _data() -> ml_collections.ConfigDict:
  """The dataset and how it is read."""
  c = ml_collections.ConfigDict()
  c.name = 'ring8'
  c.data_dir = ''  # TFDS data_dir for image datasets; '' = TFDS default.
  c.image_size = 0  # Images are resized to this (0: as stored).
  c.channels = 0  # ... and adapted to this many channels (0: as stored).
  # The TFDS split trained on, with TFDS's slicing (train[:1297]); 2-D
  # mixtures have none.
  c.split = 'train'
  # Discrete sequences (data.name motifs or fasta; gan_jax.data.sequences).
  c.sequences = ml_collections.ConfigDict()
  c.sequences.length = 32  # Residues per sequence (shorter: padded).
  c.sequences.alphabet = 'ACDEFGHIKLMNPQRSTVWY'  # The 20 amino acids.
  c.sequences.fasta_path = ''  # data.name=fasta: the FASTA file.
  # data.name=motifs: the synthetic set's size, motifs and seed.
  c.sequences.num_sequences = 10_000
  c.sequences.num_motifs = 4
  c.sequences.motif_length = 6
  c.sequences.seed = 0
  return c


def _model() -> ml_collections.ConfigDict:
  """The generator and critic and their constructor arguments."""
  c = ml_collections.ConfigDict()
  c.generator = 'mlp'
  c.critic = 'mlp'
  c.latent_dim = 256
  # Class-conditional G and D (conditional batch norm, projection critic;
  # Miyato & Koyama 2018), on the dataset's labels. dcgan and sngan_* only.
  c.conditional = False
  # Constructor arguments, with every option of the model and its default.
  c.generator_args = ml_collections.ConfigDict(
      models.default_args('generator', 'mlp'))
  c.critic_args = ml_collections.ConfigDict(
      models.default_args('critic', 'mlp'))
  return c


def _eval() -> ml_collections.ConfigDict:
  """What an evaluation scores, and against what."""
  c = ml_collections.ConfigDict()
  c.num_samples = 2_500  # The VEEGAN / PacGAN protocol.
  # Images: distinct real training examples the samples are compared with.
  c.num_reference = 10_000
  # auto: the project's digits classifier on digits datasets, Inception
  # when inception_weights is set, else none (pixel-space metrics only).
  c.feature_extractor = 'auto'
  # Local path of pytorch-fid's pt_inception-2015-12-05 weights (.pth or a
  # converted .npz), for FID; it cannot be downloaded at run time.
  c.inception_weights = ''
  return c


def load(path: str, relative_to: str = '') -> ml_collections.ConfigDict:
  """The config of the config file ``path`` (its ``get_config()``).

  A relative ``path`` is taken relative to the directory of the file
  ``relative_to`` if given, so one config file can build on another:
  ``config_lib.load('dcgan_digits.py', relative_to=__file__)``. As with
  ``--config``, ``file.py:arg`` passes ``arg`` to ``get_config``.
  """
  path, _, arg = path.partition(':')
  if relative_to and not os.path.isabs(path):
    path = os.path.join(os.path.dirname(os.path.abspath(relative_to)), path)
  module = load_module(path)
  return module.get_config(arg) if arg else module.get_config()


def load_module(path: str):
  """The Python module of the config (or sweep) file ``path``."""
  if not os.path.isfile(path):
    raise ConfigError(f'config file {path!r} does not exist')
  name = 'gan_jax_config_' + os.path.splitext(os.path.basename(path))[0]
  spec = importlib.util.spec_from_file_location(name, path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def _merge(into: ml_collections.ConfigDict, values: dict) -> None:
  for key, value in values.items():
    if (isinstance(value, dict) and key in into
        and isinstance(into[key], ml_collections.ConfigDict)
        and not key.endswith('_args')):
      _merge(into[key], value)
    else:
      into[key] = value


def from_run(workdir: str) -> ml_collections.ConfigDict:
  """The config a run in ``workdir`` was trained with (its config.json).

  Keys the run's config lacks (it was written by an older version) take
  today's defaults from :func:`base`; the models' argument dicts are taken
  as saved.

  Raises:
    ConfigError: ``workdir`` holds no config.json.
  """
  path = os.path.join(workdir, 'config.json')
  if not os.path.isfile(path):
    raise ConfigError(f'{workdir!r} holds no run (no config.json)')
  with open(path) as f:
    saved = json.load(f)
  for key in _RUNTIME_KEYS:
    saved.pop(key, None)
  config = base()
  _merge(config, saved)
  return config


# Keys that say how long a run goes and how it is observed, run and
# recovered, not what it trains: they may differ when a workdir is resumed.
RESUMABLE_CHANGES = ('num_train_steps', 'steps_per_call', 'scan_unroll',
                     'parallel',
                     'cpu_scheduler', 'cpu_kernels',
                     'log_every', 'sample_every', 'checkpoint_every',
                     'eval_every', 'keep_checkpoints', 'eval',
                     'data.data_dir', 'skip_nonfinite_updates',
                     'max_consecutive_skips', 'allow_config_change')


def _flatten(tree: dict, prefix: str = '') -> dict:
  flat = {}
  for key, value in tree.items():
    if isinstance(value, dict) and value:
      flat.update(_flatten(value, f'{prefix}{key}.'))
    else:
      flat[f'{prefix}{key}'] = value
  return flat


def differences(old: ml_collections.ConfigDict,
                new: ml_collections.ConfigDict,
                ignore: tuple[str, ...] = ()) -> list[str]:
  """``'key: old -> new'`` for each dotted key whose value differs, keys
  in ``ignore`` and below them aside."""
  old = _flatten(json.loads(old.to_json_best_effort()))
  new = _flatten(json.loads(new.to_json_best_effort()))
  changes = []
  for key in sorted(set(old) | set(new)):
    if any(key == k or key.startswith(k + '.') for k in ignore):
      continue
    if old.get(key, '<unset>') != new.get(key, '<unset>'):
      changes.append(f'{key}: {old.get(key, "<unset>")!r} -> '
                     f'{new.get(key, "<unset>")!r}')
  return changes


def config_changes(config: ml_collections.ConfigDict,
                   workdir: str) -> list[str]:
  """What ``config`` changes in the run of ``workdir``, beyond
  :data:`RESUMABLE_CHANGES`: ``'key: old -> new'`` lines, [] if nothing
  (or no run there)."""
  if not os.path.isfile(os.path.join(workdir, 'config.json')):
    return []
  return differences(from_run(workdir), config, RESUMABLE_CHANGES)


def check_writable_dir(workdir: str) -> None:
  """Raises ConfigError unless ``workdir`` is, or can be made, a writable
  directory."""
  if os.path.exists(workdir) and not os.path.isdir(workdir):
    raise ConfigError(f'workdir {workdir!r} is a file, not a directory')
  existing = os.path.abspath(workdir)
  while not os.path.exists(existing):
    existing = os.path.dirname(existing)
  if not os.access(existing, os.W_OK):
    raise ConfigError(f'workdir {workdir!r} cannot be written ({existing!r} '
                      'is not writable)')


def check_resume(config: ml_collections.ConfigDict, workdir: str) -> None:
  """Refuses to resume a workdir whose run had a different experiment.

  Keys in :data:`RESUMABLE_CHANGES` (run length, logging, evaluation,
  parallelism, failure handling) may change; any other difference (model,
  loss, tricks, data, optimiser, seed, batch) is a different experiment,
  allowed only with ``config.allow_config_change=True``.

  Raises:
    ConfigError: naming the first differences and the way out; or
      ``workdir`` is a file or cannot be written.
  """
  check_writable_dir(workdir)
  changes = config_changes(config, workdir)
  if changes and not config.allow_config_change:
    shown = '; '.join(changes[:3]) + (f'; and {len(changes) - 3} more'
                                      if len(changes) > 3 else '')
    raise ConfigError(
        f'workdir {workdir!r} holds a run of a different config ({shown}); '
        'use a new workdir, or --config.allow_config_change=True to resume '
        'it with this config')


def runtime_info() -> dict[str, int]:
  """What config.json records about where a run ran, beside its config."""
  return {'process_count': jax.process_count(),
          'device_count': jax.device_count()}


def conditioning_classes(config: ml_collections.ConfigDict,
                         dataset: data.Dataset) -> int:
  """The classes a conditional experiment conditions on; 0 if unconditional.

  Raises:
    ValueError: ``config.model.conditional`` on a dataset without labels.
  """
  if not config.model.conditional:
    return 0
  if not dataset.num_classes:
    raise ValueError('config.model.conditional=True needs class labels; '
                     f'dataset {config.data.name!r} has none')
  return dataset.num_classes


def build_models(config: ml_collections.ConfigDict, dataset: data.Dataset,
                 classes: int):
  """The experiment's generator side and critic (Flax modules).

  Raises:
    ValueError: a model or argument the registries reject, or models that
      do not suit ``config.family`` (or a family on data it cannot train on).
  """
  families.check_models(config.family, config.model.generator,
                        config.model.critic,
                        data_kind=data.kind(dataset),
                        conditional=bool(classes))
  families.check_objective(config.family, config.loss,
                           tricks.parse_names(config.tricks))
  generator = models.build_generator(
      config.model.generator, config.model.generator_args,
      dataset.sample_shape, classes, latent_dim=config.model.latent_dim)
  critic = models.build_critic(
      config.model.critic, config.model.critic_args, classes,
      sample_shape=dataset.sample_shape, latent_dim=config.model.latent_dim)
  return generator, critic


_POSITIVE_INTS = ('batch_size', 'num_train_steps', 'steps_per_call',
                  'scan_unroll',
                  'optim.n_critic', 'model.latent_dim', 'eval.num_samples',
                  'eval.num_reference',
                  'log_every', 'sample_every', 'checkpoint_every',
                  'eval_every', 'keep_checkpoints', 'max_consecutive_skips')
_BOOLS = ('skip_nonfinite_updates', 'allow_config_change',
          'model.conditional')
_POSITIVE_FLOATS = ('optim.g_lr', 'optim.d_lr')
LR_SCHEDULES = ('constant', 'linear_decay')  # optim.lr_schedule.
_UNIT_INTERVAL = ('optim.b1', 'optim.b2')


def _get(config, dotted: str):
  for part in dotted.split('.'):
    config = config[part]
  return config


def validate(config: ml_collections.ConfigDict) -> None:
  """Raises ConfigError on the first value that cannot work.

  Checks names against the registries, numeric ranges, the models'
  constructor arguments and the batch split over the devices (so call it
  after ``parallel.initialize_distributed``), without touching the workdir.
  """
  _check_values(config)
  _check_experiment(config)


def _check_values(config: ml_collections.ConfigDict) -> None:
  """Types, ranges and names of single values."""
  for key in _POSITIVE_INTS:
    value = _get(config, key)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
      raise ConfigError(f'config.{key}={value!r} must be a positive integer')
  for key in _BOOLS:
    if not isinstance(_get(config, key), bool):
      raise ConfigError(f'config.{key}={_get(config, key)!r} must be True or '
                        'False')
  if config.best_mode not in ('min', 'max'):
    raise ConfigError(f'config.best_mode={config.best_mode!r}; allowed: min, '
                      'max')
  # PRNGKey keeps a seed's low 32 bits: 2**32 + 5 would train seed 5 again.
  # (ConfigDict's typed fields already refuse a non-integer seed, a string
  # learning rate.)
  if not 0 <= config.seed < 2**32:
    raise ConfigError(f'config.seed={config.seed!r} must be an integer in '
                      '[0, 2**32)')
  for key in _POSITIVE_FLOATS:
    if not (math.isfinite(_get(config, key)) and _get(config, key) > 0):
      raise ConfigError(f'config.{key}={_get(config, key)!r} must be a '
                        'finite number > 0')
  for key in _UNIT_INTERVAL:
    if not 0 <= _get(config, key) < 1:
      raise ConfigError(f'config.{key}={_get(config, key)!r} must be in [0, 1)')
  if config.optim.lr_schedule not in LR_SCHEDULES:
    raise ConfigError(f'config.optim.lr_schedule={config.optim.lr_schedule!r}'
                      f'; allowed: {", ".join(LR_SCHEDULES)}')
  if config.cpu_scheduler not in compiler_options.CPU_SCHEDULERS:
    raise ConfigError(f'config.cpu_scheduler={config.cpu_scheduler!r}; '
                      f'allowed: {", ".join(compiler_options.CPU_SCHEDULERS)}')
  if config.cpu_kernels not in compiler_options.CPU_KERNELS:
    raise ConfigError(f'config.cpu_kernels={config.cpu_kernels!r}; '
                      f'allowed: {", ".join(compiler_options.CPU_KERNELS)}')
  problem = parallel.check_config(config.parallel, config.batch_size)
  if problem:
    raise ConfigError(problem)


def _check_experiment(config: ml_collections.ConfigDict) -> None:
  """The experiment's parts build and fit together (models initialised
  abstractly: bad activations and shapes show, nothing is computed)."""
  try:
    tricks.from_config(config.tricks, config.trick_args, config.loss,
                       losses.get(config.loss))
    dataset = data.from_config(config.data)
    evaluation.extractor_name(config.eval, config.data.name)
    classes = conditioning_classes(config, dataset)
    generator, critic = build_models(config, dataset, classes)
    tricks.check_per_sample_critic(config.tricks,
                                   models.batch_coupling(critic))
    family = families.from_config(
        config.family, config.family_args,
        families.Context(dataset, critic, config.optim.d_lr, config.optim.b1,
                         config.optim.b2))
    key = jax.ShapeDtypeStruct((2,), jnp.uint32)
    z = jax.ShapeDtypeStruct((2, config.model.latent_dim), jnp.float32)
    x = jax.ShapeDtypeStruct((2, *dataset.sample_shape), jnp.float32)
    critic_input = jax.ShapeDtypeStruct(
        (2, *family.critic_input_shape(dataset.sample_shape,
                                       config.model.latent_dim)), jnp.float32)
    labels = (jax.ShapeDtypeStruct((2,), jnp.int32),) if classes else ()
    jax.eval_shape(lambda k, z, x, *labels: family.init_generator(
        generator, {'params': k, 'dropout': k, 'sample': k}, z, x, labels),
                   key, z, x, *labels)
    jax.eval_shape(critic.init, key, critic_input, *labels)
  except (ValueError, TypeError, OSError) as e:
    raise ConfigError(str(e)) from e
