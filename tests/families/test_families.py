"""The other GAN families: ALI/BiGAN, the adversarial autoencoder and the
semi-supervised GAN — their pairs, losses and shapes, and a tiny run each."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import config as config_lib
from gan_jax import families
from gan_jax import losses
from gan_jax import models
from gan_jax import train
from gan_jax.families.ssgan import labelled_subset
from gan_jax.models import joint
from gan_jax.tricks import CriticView

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SHAPE = (8, 8, 1)
LATENT = 4


@pytest.fixture(scope='module')
def data_dir(tmp_path_factory):
  return str(tmp_path_factory.mktemp('tfds'))


def _autoencoder():
  module = models.build_generator(
      'autoencoder', dict(decoder_args=dict(width=8), encoder_args=dict(
          width=8, normalization='none')), SHAPE, latent_dim=LATENT)
  variables = families.bigan().init_generator(
      module, {'params': jax.random.PRNGKey(0)}, jnp.zeros((1, LATENT)),
      jnp.zeros((1, *SHAPE)))
  return module, variables


def _runner(module, variables):
  """The generator side as a family calls it; its state counts the calls
  (a family passes each call's state to the next and returns the last)."""
  def run(method, inputs, calls):
    return (module.apply(variables, inputs, train=False, method=method),
            calls + 1)
  return run


def _once(run, method, inputs):
  return run(method, inputs, 0)[0]


def _view(real_logits, fake_logits) -> CriticView:
  out = lambda logits: models.CriticOutput(jnp.asarray(logits),
                                           jnp.zeros((len(logits), 1)))
  return CriticView(None, None, None, out(real_logits), out(fake_logits),
                    None)


def test_autoencoder_decodes_with_call_and_encodes_with_encode():
  module, variables = _autoencoder()
  assert set(variables['params']) == {'decoder_net', 'encoder_net', 'to_code'}
  x = jax.random.normal(jax.random.PRNGKey(1), (3, *SHAPE))
  codes = module.apply(variables, x, train=False, method='encode')
  assert codes.shape == (3, LATENT)
  assert module.apply(variables, codes, train=False).shape == (3, *SHAPE)


def test_stochastic_encoder_samples_in_training_and_uses_the_mean_in_eval():
  module = models.build_generator(
      'autoencoder', dict(decoder_args=dict(width=8), encoder_args=dict(
          width=8, normalization='none'), stochastic=True), SHAPE,
      latent_dim=LATENT)
  variables = families.bigan().init_generator(
      module, {'params': jax.random.PRNGKey(0)}, jnp.zeros((1, LATENT)),
      jnp.zeros((1, *SHAPE)))
  assert variables['params']['to_code']['kernel'].shape[-1] == 2 * LATENT
  x = jnp.ones((2, *SHAPE))
  mean = module.apply(variables, x, train=False, method='encode')
  draws = [module.apply(variables, x, train=True, method='encode',
                        rngs={'sample': jax.random.PRNGKey(k)})
           for k in range(2)]
  assert mean.shape == draws[0].shape == (2, LATENT)
  assert not np.allclose(draws[0], draws[1])
  assert not np.allclose(draws[0], mean)


def test_bigan_pairs_data_with_codes_and_samples_with_latents():
  module, variables = _autoencoder()
  run = _runner(module, variables)
  x = jax.random.normal(jax.random.PRNGKey(1), (3, *SHAPE))
  z = jax.random.normal(jax.random.PRNGKey(2), (3, LATENT))
  pair, calls = families.bigan().pair(run, x, z, 0)
  assert calls == 2
  assert pair.real.shape == pair.fake.shape == (3, 64 + LATENT)
  np.testing.assert_allclose(pair.real,
                             joint.join(x, _once(run, 'encode', x)))
  np.testing.assert_allclose(pair.fake[:, 64:], z)
  np.testing.assert_allclose(pair.fake[:, :64],
                             _once(run, None, z).reshape(3, 64))
  assert pair.terms == {}


def test_bigan_generator_side_loss_is_the_critic_loss_with_swapped_labels():
  real, fake = jnp.array([0.3, -1.2, 2.0]), jnp.array([-0.5, 0.7, 0.1])
  view = _view(real, fake)
  family = families.bigan()
  # Non-saturating: -log D(G(z), z) - log(1 - D(x, E(x))).
  expected = np.mean(np.log1p(np.exp(-fake))) + np.mean(np.log1p(np.exp(real)))
  value, state = family.generator_adversarial(
      losses.get('non_saturating'), view, None, None, 'state')
  assert state == 'state'  # It calls no generator: the state as it came.
  np.testing.assert_allclose(value, expected, rtol=1e-6)
  # Wasserstein, and hinge without its margins (BigBiGAN): E f(x, E(x)) -
  # E f(G(z), z), so scores past ±1 still give gradients.
  for loss in ('wasserstein', 'hinge'):
    np.testing.assert_allclose(
        family.generator_adversarial(losses.get(loss), view, None, None,
                                     None)[0],
        np.mean(real) - np.mean(fake), rtol=1e-6)


def test_joint_critic_splits_its_flat_input_into_image_and_code():
  critic = models.build_critic('joint', dict(
      trunk_args=dict(width=8, normalization='none'), width=16, dropout=0.0),
                               sample_shape=SHAPE, latent_dim=LATENT)
  inputs = jax.random.normal(jax.random.PRNGKey(0), (5, 64 + LATENT))
  variables = critic.init(jax.random.PRNGKey(1), inputs, train=False)
  out = critic.apply(variables, inputs, train=False)
  assert out.logits.shape == (5,) and out.features.shape == (5, 16)
  changed = inputs.at[:, -1].add(1.0)  # Only the code changes.
  assert not np.allclose(critic.apply(variables, changed, train=False).logits,
                         out.logits)
  with pytest.raises(ValueError, match='expected 64 \\(image\\) \\+ 4'):
    critic.apply(variables, inputs[:, 1:], train=False)


def test_aae_critic_tells_prior_samples_from_codes_and_adds_reconstruction():
  module, variables = _autoencoder()
  run = _runner(module, variables)
  x = jax.random.normal(jax.random.PRNGKey(1), (3, *SHAPE))
  z = jax.random.normal(jax.random.PRNGKey(2), (3, LATENT))
  pair, calls = families.aae(reconstruction_weight=2.0).pair(run, x, z, 0)
  assert calls == 2
  np.testing.assert_allclose(pair.real, z)
  np.testing.assert_allclose(pair.fake, _once(run, 'encode', x))
  error = np.mean(np.square(_once(run, None, _once(run, 'encode', x)) - x))
  np.testing.assert_allclose(pair.terms['reconstruction'], 2.0 * error,
                             rtol=1e-5)


def test_semi_supervised_critic_logit_is_log_of_z_over_one():
  critic = models.build_critic('semi_supervised', dict(
      trunk_args=dict(width=8, normalization='none'), label_classes=10))
  x = jax.random.normal(jax.random.PRNGKey(0), (4, *SHAPE))
  variables = critic.init(jax.random.PRNGKey(1), x, train=False)
  out = critic.apply(variables, x, train=False)
  assert out.class_logits.shape == (4, 10)
  # D(x) = Z / (Z + 1), Z = sum_k exp(l_k)  <=>  sigmoid(logit) = D.
  z = np.exp(np.asarray(out.class_logits, np.float64)).sum(-1)
  np.testing.assert_allclose(jax.nn.sigmoid(out.logits), z / (z + 1),
                             rtol=1e-5)


def test_labelled_subset_takes_the_first_examples_of_each_class():
  labels = np.array([2, 0, 1, 0, 2, 1, 0, 2])
  images = np.arange(8)[:, None]
  chosen_images, chosen = labelled_subset(images, labels, 2)
  np.testing.assert_array_equal(chosen_images[:, 0], [0, 1, 2, 3, 4, 5])
  np.testing.assert_array_equal(np.bincount(chosen), [2, 2, 2])
  with pytest.raises(ValueError, match='class 1 has 2 examples'):
    labelled_subset(images, labels, 3)


@pytest.mark.parametrize('overrides, message', [
    (dict(family='vae'), "unknown family 'vae'"),
    (dict(family='bigan'), "family 'bigan' trains on images only, not points"),
    (dict(family='aae', **{'data.name': 'digits'}),
     "family 'aae' needs config.model.generator in autoencoder; got 'mlp'"),
    (dict(family='ssgan', **{'data.name': 'digits',
                             'model.critic': 'semi_supervised',
                             'model.critic_args': {},
                             'family_args.ssgan.weight': 1.0}),
     "unknown argument 'weight' for family 'ssgan'"),
    # The default test split, train[1297:], inside the whole training split.
    (dict(family='ssgan', **{'data.name': 'digits',
                             'model.critic': 'semi_supervised',
                             'model.critic_args': {}}),
     r"test_split='train\[1297:\]' shares 500 examples with the training "
     r"split config.data.split='train'; give disjoint"),
    (dict(family='ssgan', **{'data.name': 'digits',
                             'data.split': 'train[:1300]',
                             'model.critic': 'semi_supervised',
                             'model.critic_args': {}}),
     r"test_split='train\[1297:\]' shares 3 examples"),
])
def test_bad_family_settings_are_one_clear_error(data_dir, overrides,
                                                   message):
  config = config_lib.base()
  config.data.data_dir = data_dir
  for key, value in overrides.items():
    *parents, leaf = key.split('.')
    node = config
    for part in parents:
      node = node[part]
    node[leaf] = value
  with pytest.raises(config_lib.ConfigError, match=message):
    config_lib.validate(config)


def tiny_family_config(name, data_dir, num_train_steps=2):
  """The shipped config of family ``name``, shrunk to 8×8 and width 8."""
  config = config_lib.load(os.path.join(REPO, 'configs',
                                        f'{name}_digits.py'))
  config.eval.feature_extractor = 'none'
  config.best_metric = ''  # bigan's is fd, which needs the extractor.
  config.data.update(data_dir=data_dir, image_size=8)
  config.model.latent_dim = LATENT
  args = config.model.generator_args
  for key in ('decoder_args', 'encoder_args'):
    if key in args:
      args[key].width = 8
  if 'width' in args:
    args.width = 8
  critic_args = config.model.critic_args
  if 'trunk_args' in critic_args:
    critic_args.trunk_args.width = 8
  if 'width' in critic_args:
    critic_args.width = 16
  config.batch_size = 16
  config.update(num_train_steps=num_train_steps, log_every=1, sample_every=2,
                eval_every=2, checkpoint_every=2)
  config.eval.num_samples = 16
  config.eval.num_reference = 64
  if name == 'ssgan':
    config.family_args.ssgan.update(labels_per_class=2, labelled_batch_size=8,
                                    baseline_steps=3)
  return config


@pytest.mark.slow
@pytest.mark.parametrize('name, family_metrics', [
    ('bigan', {'reconstruction_mse', 'latent_reconstruction_mse'}),
    ('aae', {'reconstruction_mse', 'code_mmd'}),
    ('ssgan', {'test_accuracy', 'supervised_only_test_accuracy'}),
])
def test_each_family_trains_evaluates_and_resumes(data_dir, tmp_path, name,
                                                  family_metrics):
  config = tiny_family_config(name, data_dir)
  config_lib.validate(config)
  workdir = str(tmp_path / name)
  results = train.train_and_evaluate(config, workdir)
  with open(os.path.join(workdir, 'eval.json')) as f:
    written = json.load(f)
  assert family_metrics <= set(written)
  for metric in family_metrics:
    assert np.isfinite(written[metric]), (metric, written[metric])
    assert written[metric] == pytest.approx(results[metric])
  with open(os.path.join(workdir, 'metrics.jsonl')) as f:
    record = json.loads(f.readline())
  assert np.isfinite(record['critic_input_grad_norm'])
  if name == 'aae':
    assert 'generator/reconstruction' in record
  if name == 'ssgan':
    assert 'critic/supervised' in record
  # Resuming the finished run trains nothing and evaluates the same state.
  again = train.train_and_evaluate(tiny_family_config(name, data_dir),
                                   workdir)
  for metric in family_metrics:
    assert again[metric] == pytest.approx(results[metric], rel=1e-5)


@pytest.mark.parametrize('key, value, message', [
    ('loss', 'wasserstein', "family 'seqgan' needs config.loss in minimax, "
     "non_saturating; got 'wasserstein'"),
    ('tricks', 'spectral_norm,feature_matching',
     "family 'seqgan' cannot train with trick 'feature_matching'"),
])
def test_seqgan_refuses_losses_and_tricks_it_cannot_train_with(key, value,
                                                               message):
  config = config_lib.load(os.path.join(REPO, 'configs', 'seqgan_motifs.py')
                           + ':policy_gradient')
  config_lib.validate(config)
  config[key] = value
  with pytest.raises(config_lib.ConfigError, match=message):
    config_lib.validate(config)
