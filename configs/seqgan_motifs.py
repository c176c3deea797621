r"""A GAN of protein sequences on synthetic data with planted motifs.

Data (``data.name='motifs'``, gan_jax/data/sequences.py): 10,000 sequences of
32 residues drawn from the Swiss-Prot amino-acid composition, each with one
of 4 motifs of 6 residues planted at a random position (seed 0). Real
sequences come from a FASTA file instead with ``--config.data.name=fasta
--config.data.sequences.fasta_path=FILE`` (records shorter than
``data.sequences.length`` are padded with '-').

Default objective: the Gumbel-softmax relaxation (the plain ``gan`` family):
a convolutional residual generator emits relaxed one-hot tokens
(temperature 0.75; ``--config.model.generator_args.straight_through=True``
for the straight-through estimator), against a convolutional residual
critic, with WGAN-GP (Gulrajani et al. 2017; FBGAN and ProteinGAN train
sequence GANs with it): wasserstein loss + gradient_penalty, 5 critic
updates per generator update, Adam(5e-4, b1 0.5, b2 0.9), batch 64 (1e-4,
the WGAN-GP paper's rate, wrote no motif in 1,000 steps here; 5e-4 wrote all
four by 1,500).

SeqGAN (Yu et al. 2017) instead: ``--config=configs/seqgan_motifs.py:
policy_gradient``, the ``seqgan`` family with the autoregressive
``sequence_rnn`` generator (GRU, 128 units), the non_saturating loss whose
critic probability is the reward, 4 Monte Carlo rollouts per prefix, one
critic update per generator update, Adam(1e-3, b1 0.5), 300 steps
(gan_jax/families/seqgan.py).

Commands:
  python experiments/train.py --config=configs/seqgan_motifs.py \
      --workdir=/tmp/seqgan_motifs
  python experiments/train.py \
      --config=configs/seqgan_motifs.py:policy_gradient \
      --workdir=/tmp/seqgan_pg

Expected (2-core CPU): see docs/families.md for the measured
steps/s and eval.json: motif_recovery (fraction of samples containing a
motif; 1.0 for the data), motif_coverage (fraction of the 4 motifs
written), kmer_distance (total variation between 3-mer spectra, against
2,000 training sequences), uniqueness and novelty; samples/*.fasta.
"""

from gan_jax import config as config_lib


OBJECTIVES = ('gumbel_softmax', 'policy_gradient')


def get_config(objective: str = 'gumbel_softmax'):
  """The config for ``objective``: gumbel_softmax or policy_gradient."""
  if objective not in OBJECTIVES:
    raise config_lib.ConfigError(
        f'configs/seqgan_motifs.py:{objective}: unknown objective; allowed: '
        f'{", ".join(OBJECTIVES)}')
  config = config_lib.base()
  config.data.name = 'motifs'
  config.model.generator = 'sequence'
  config.model.critic = 'sequence'
  config.model.latent_dim = 128
  config.model.generator_args = dict(width=64, depth=2, kernel_size=5,
                                     temperature=0.75, straight_through=False)
  config.model.critic_args = dict(width=64, depth=2, kernel_size=5)
  config.loss = 'wasserstein'
  config.tricks = 'gradient_penalty'
  config.batch_size = 64
  config.optim.n_critic = 5
  config.optim.g_lr = 5e-4
  config.optim.d_lr = 5e-4
  config.optim.b2 = 0.9
  config.num_train_steps = 2_000
  config.steps_per_call = 1  # Convolutions: see configs/dcgan_digits.py.
  config.log_every = 250
  config.sample_every = 1_000
  config.eval_every = 1_000
  config.checkpoint_every = 1_000
  config.eval.num_samples = 2_000
  config.eval.num_reference = 2_000
  if objective == 'policy_gradient':
    config.family = 'seqgan'
    config.model.generator = 'sequence_rnn'
    config.model.generator_args = dict(width=128, embedding=32,
                                       temperature=0.75,
                                       straight_through=False)
    config.loss = 'non_saturating'
    config.tricks = ''
    config.optim.n_critic = 1
    config.optim.g_lr = config.optim.d_lr = 1e-3
    config.optim.b2 = 0.999
    config.num_train_steps = 300
    config.log_every = 50
    config.sample_every = config.eval_every = config.checkpoint_every = 100
  return config
