"""Discrete sequences: the motif data, FASTA input, sequence metrics, the
Gumbel-softmax and autoregressive generators, SeqGAN's rollout rewards."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import config as config_lib
from gan_jax import metrics
from gan_jax import models
from gan_jax import train
from gan_jax.data import sequences
from gan_jax.families.seqgan import rollout_rewards
from gan_jax.metrics import sequences as sequence_metrics
from gan_jax.models.sequence import tokens_from_logits

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def test_every_motif_sequence_holds_its_planted_motif():
  dataset = sequences.planted_motifs(num_sequences=300, length=20,
                                     num_motifs=3, motif_length=5, seed=1)
  strings = dataset.strings()
  assert dataset.sample_shape == (20, 20) and len(dataset.motifs) == 3
  for string, label in zip(strings, dataset.motif_labels):
    assert dataset.motifs[label] in string
  assert sequences.planted_motifs(300, 20, 3, 5, 1).strings() == strings
  assert metrics.sequence_metrics(strings, strings, strings,
                                  dataset.motifs)['motif_recovery'] == 1.0
  batch = dataset.sample_batch(jax.random.PRNGKey(0), 8)
  assert batch.images.shape == (8, 20, 20)
  np.testing.assert_array_equal(batch.images.sum(-1), 1.0)
  for string, label in zip(dataset.decode(np.asarray(batch.images)),
                           np.asarray(batch.labels)):
    assert dataset.motifs[label] in string


def test_more_motifs_than_exist_is_an_error_not_a_hang():
  assert len(sequences.planted_motifs(50, 4, 20, 1).motifs) == 20
  with pytest.raises(ValueError, match='num_motifs=21 distinct motifs of 1 '
                     'residues do not exist; at most 20'):
    sequences.planted_motifs(50, 4, 21, 1)


def _write(tmp_path, text):
  path = tmp_path / 'seqs.fasta'
  path.write_text(text)
  return str(path)


def test_fasta_records_are_read_across_lines_and_padded(tmp_path):
  path = _write(tmp_path,
                '; comment\n>first protein\nMKV\nlaG\n\n>second\nAC\n')
  dataset = sequences.from_fasta(path, length=8)
  assert dataset.vocabulary == sequences.AMINO_ACIDS + '-'
  assert dataset.strings() == ['MKVLAG--', 'AC------']


@pytest.mark.parametrize('text, message', [
    ('MKV\n>a\nMKV\n', ':1: expected a ">" header line'),
    ('>a\n>b\nMKV\n', ":1: record 'a' has no residues"),
    ('>a\nMKV\n>b\n', ":3: record 'b' has no residues"),
    ('', 'no FASTA records'),
    ('>a\nMKXV\n', "record 'a' has 'X' at residue 3; allowed: ACDEF"),
    ('>a\n' + 'A' * 9 + '\n', "record 'a' has 9 residues, more than "
     'data.sequences.length=8'),
])
def test_malformed_fasta_is_one_clear_error(tmp_path, text, message):
  with pytest.raises(sequences.FastaError, match=message):
    sequences.from_fasta(_write(tmp_path, text), length=8)


def test_fasta_path_errors_reach_the_config_check(tmp_path):
  config = config_lib.load(os.path.join(REPO, 'configs', 'seqgan_motifs.py'))
  config.data.name = 'fasta'
  config.data.sequences.fasta_path = str(tmp_path / 'missing.fasta')
  with pytest.raises(config_lib.ConfigError, match='missing.fasta.*does not '
                     'exist'):
    config_lib.validate(config)


def test_sequence_metrics_on_hand_made_sets():
  assert sequence_metrics.motif_recovery(['xxABx', 'xxxxx'], ['AB']) == 0.5
  assert sequence_metrics.motif_coverage(['xABx', 'xABx'], ['AB', 'CD']) == 0.5
  assert sequence_metrics.kmer_distance(['AAAA'], ['AAAA'], k=2) == 0.0
  assert sequence_metrics.kmer_distance(['AAAA'], ['CCCC'], k=2) == 1.0
  # 'AAC': AA, AC; 'AAA': AA, AA -> spectra {AA: .5, AC: .5} vs {AA: 1}.
  assert sequence_metrics.kmer_distance(['AAC'], ['AAA'], k=2) == 0.5
  assert sequence_metrics.uniqueness(['A', 'A', 'B', 'C']) == 0.75
  assert sequence_metrics.novelty(['A', 'B', 'C', 'D'], ['A', 'C']) == 0.5


def test_gumbel_softmax_tokens_relaxed_hard_and_straight_through():
  logits = jax.random.normal(jax.random.PRNGKey(0), (4, 6, 5))
  key = jax.random.PRNGKey(1)
  hard = tokens_from_logits(logits, key, False, 1.0, False)
  soft = tokens_from_logits(logits, key, True, 0.5, False)
  straight = tokens_from_logits(logits, key, True, 0.5, True)
  np.testing.assert_array_equal(hard.sum(-1), 1.0)
  assert set(np.unique(hard)) == {0.0, 1.0}
  np.testing.assert_allclose(soft.sum(-1), 1.0, rtol=1e-6)
  np.testing.assert_array_equal(jnp.argmax(soft, -1), jnp.argmax(hard, -1))
  np.testing.assert_allclose(straight, hard, atol=1e-6)
  weights = jax.random.normal(jax.random.PRNGKey(2), logits.shape)
  gradient = lambda st: jax.grad(lambda x: jnp.sum(weights * tokens_from_logits(
      x, key, True, 0.5, st)))(logits)
  np.testing.assert_allclose(gradient(True), gradient(False), rtol=1e-5)
  # Gumbel-max is an exact categorical sample: frequencies follow softmax.
  probs = jax.nn.softmax(jnp.array([0.0, 1.0, 2.0]))
  draws = tokens_from_logits(jnp.zeros((20_000, 3)) + jnp.log(probs),
                             jax.random.PRNGKey(3), False, 1.0, False)
  np.testing.assert_allclose(draws.mean(0), probs, atol=0.01)


def _rnn(length=6, vocabulary=4):
  module = models.build_generator('sequence_rnn', dict(width=16, embedding=8),
                                  (length, vocabulary))
  variables = module.init({'params': jax.random.PRNGKey(0),
                           'sample': jax.random.PRNGKey(1)},
                          jnp.zeros((1, 3)), train=False)
  return module, variables


def test_rnn_log_prob_is_the_teacher_forced_likelihood_of_its_samples():
  module, variables = _rnn()
  z = jax.random.normal(jax.random.PRNGKey(2), (5, 3))
  rngs = {'sample': jax.random.PRNGKey(3)}
  tokens = module.apply(variables, z, method='sample', rngs=rngs)
  assert tokens.shape == (5, 6, 4)
  log_probs = module.apply(variables, (tokens, z), method='log_prob')
  assert log_probs.shape == (5, 6) and np.all(log_probs <= 0)
  # Over every sequence of a short vocabulary, the probabilities sum to 1.
  short, short_variables = _rnn(length=3, vocabulary=3)
  every = jax.nn.one_hot(np.array(np.meshgrid(*[range(3)] * 3)).reshape(
      3, -1).T, 3)
  total = jnp.exp(short.apply(short_variables, (every, jnp.ones((27, 3))),
                              method='log_prob').sum(-1)).sum()
  np.testing.assert_allclose(total, 1.0, rtol=1e-5)
  # A prefix of the full length is the sequence itself; of 0, a new sample.
  full = module.apply(variables, (tokens, z, jnp.full((5,), 6)),
                      method='rollout', rngs=rngs)
  np.testing.assert_array_equal(full, tokens)
  for prefix in (1, 3):
    rolled = module.apply(variables, (tokens, z, jnp.full((5,), prefix)),
                          method='rollout',
                          rngs={'sample': jax.random.PRNGKey(4)})
    np.testing.assert_array_equal(rolled[:, :prefix], tokens[:, :prefix])


def test_rollout_rewards_average_completions_and_score_the_full_sequence():
  module, variables = _rnn()
  z = jax.random.normal(jax.random.PRNGKey(2), (3, 3))
  tokens = module.apply(variables, z, method='sample',
                        rngs={'sample': jax.random.PRNGKey(3)})

  def generator(method, inputs, calls):
    return module.apply(variables, inputs, method=method,
                        rngs={'sample': jax.random.PRNGKey(5)}), calls + 1

  # A critic that reads only the first token: every prefix keeps it, so
  # every Q-value equals the reward of the sequence itself.
  first = lambda x: models.CriticOutput(x[:, 0] @ jnp.arange(4.0),
                                        x[:, 0])
  q, calls = rollout_rewards(generator, first, tokens, z, num_rollouts=2,
                             state=0)
  assert q.shape == (3, 6) and calls == 1
  expected = jax.nn.sigmoid(tokens[:, 0] @ jnp.arange(4.0))
  np.testing.assert_allclose(q, np.repeat(expected[:, None], 6, 1), rtol=1e-6)
  # A critic that reads only the last token: the last column is exact, the
  # others average random completions.
  last = lambda x: models.CriticOutput(x[:, -1] @ jnp.arange(4.0), x[:, -1])
  q, _ = rollout_rewards(generator, last, tokens, z, num_rollouts=2, state=0)
  np.testing.assert_allclose(
      q[:, -1], jax.nn.sigmoid(tokens[:, -1] @ jnp.arange(4.0)), rtol=1e-6)
  assert np.all((q > 0) & (q < 1))


def test_seqgan_needs_the_autoregressive_generator_and_sequences():
  config = config_lib.load(os.path.join(REPO, 'configs', 'seqgan_motifs.py'))
  config.family = 'seqgan'
  with pytest.raises(config_lib.ConfigError, match="family 'seqgan' needs "
                     "config.model.generator in sequence_rnn; got 'sequence'"):
    config_lib.validate(config)
  config.data.name = 'ring8'
  with pytest.raises(config_lib.ConfigError, match="family 'seqgan' trains on "
                     'sequences only, not points'):
    config_lib.validate(config)


def test_policy_gradient_variant_of_the_config_is_valid_and_others_rejected():
  config = config_lib.load(os.path.join(REPO, 'configs',
                                        'seqgan_motifs.py:policy_gradient'))
  assert (config.family, config.model.generator) == ('seqgan', 'sequence_rnn')
  config_lib.validate(config)
  with pytest.raises(config_lib.ConfigError, match='unknown objective'):
    config_lib.load(os.path.join(REPO, 'configs', 'seqgan_motifs.py:bogus'))


def tiny_sequence_config(family):
  config = config_lib.load(os.path.join(REPO, 'configs', 'seqgan_motifs.py'))
  config.data.sequences.update(length=8, num_sequences=200, motif_length=3)
  config.model.latent_dim = 4
  config.model.critic_args.update(width=8, depth=1)
  if family == 'seqgan':
    config.update(family='seqgan', loss='non_saturating', tricks='')
    config.model.generator = 'sequence_rnn'
    config.model.generator_args = dict(width=8, embedding=4)
    config.family_args.seqgan.num_rollouts = 2
  else:
    config.model.generator_args.update(width=8, depth=1)
  config.optim.n_critic = 2
  config.batch_size = 8
  config.update(num_train_steps=2, log_every=1, sample_every=2, eval_every=2,
                checkpoint_every=2)
  config.eval.update(num_samples=32, num_reference=50)
  return config


@pytest.mark.slow
@pytest.mark.parametrize('family', ['gan', 'seqgan'])
def test_sequence_gans_train_and_write_eval_and_fasta_samples(tmp_path,
                                                              family):
  config = tiny_sequence_config(family)
  config_lib.validate(config)
  workdir = str(tmp_path / family)
  results = train.train_and_evaluate(config, workdir)
  with open(os.path.join(workdir, 'eval.json')) as f:
    written = json.load(f)
  for metric in ('motif_recovery', 'motif_coverage', 'kmer_distance',
                 'uniqueness', 'novelty'):
    assert 0.0 <= written[metric] <= 1.0
    assert written[metric] == pytest.approx(results[metric])
  with open(os.path.join(workdir, 'samples', 'step_00000002.fasta')) as f:
    records = f.read().split('>')[1:]
  assert len(records) == 64
  assert all(len(r.split('\n')[1]) == 8 for r in records)
