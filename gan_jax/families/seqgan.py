"""SeqGAN: sequence generation by policy gradient (Yu, Zhang, Wang & Yu 2017).

The generator is a policy that writes a sequence token by token
(:class:`gan_jax.models.SequenceRNNGenerator`); the critic's probability that
a finished sequence is real, D(Y) = σ(logit), is the reward. Since only
finished sequences are scored, the value of the prefix y_1..t is estimated by
Monte Carlo search: ``num_rollouts`` completions of the prefix by the
current policy, scored and averaged,

  Q(y_1..t) = 1/N Σ_n D(Y_n),  Y_n ~ rollout(y_1..t)   (t < T),
  Q(y_1..T) = D(y_1..T),

and the generator ascends E[Σ_t Q(y_1..t) ∇ log π(y_t | y_<t)] (REINFORCE
with the rewards held fixed). The critic trains on the policy's exact
(hard) samples as in any GAN.

Rollouts cost num_rollouts × (T − 1) completions per generated sequence,
each scored by the critic: most of a step's time. The reward being a
probability, the family trains with the cross-entropy losses only
(``minimax``, ``non_saturating``), and refuses feature matching, whose
gradient cannot pass through sampled tokens. The paper uses 16 rollouts and
pre-trains the generator by maximum likelihood; here it is trained from
scratch adversarially (the pre-training is left out).

Reference:
  Yu, Zhang, Wang & Yu 2017, "SeqGAN: Sequence Generative Adversarial Nets
  with Policy Gradient", AAAI.
"""

import jax
import jax.numpy as jnp

from gan_jax.families import base


def rollout_rewards(generator, critic, tokens, z, num_rollouts: int, state):
  """``[batch, length]`` Q-values of every prefix of ``tokens`` (no
  gradient): the mean reward of ``num_rollouts`` completions for t < T, the
  reward of the sequence itself at T; and the generator side's state."""
  batch, length = tokens.shape[:2]
  prefixes = jnp.arange(1, length)
  # Rows ordered (example, rollout, prefix length).
  repeat = num_rollouts * (length - 1)
  completed, state = generator('rollout', (
      jnp.repeat(tokens, repeat, axis=0), jnp.repeat(z, repeat, axis=0),
      jnp.tile(prefixes, batch * num_rollouts)), state)
  reward = lambda x: jax.nn.sigmoid(critic(x).logits)
  partial = reward(completed).reshape(batch, num_rollouts, length - 1)
  q = jnp.concatenate([partial.mean(axis=1), reward(tokens)[:, None]], axis=1)
  return jax.lax.stop_gradient(q), state


def seqgan(num_rollouts: int = 4) -> base.Family:
  """SeqGAN's policy gradient; the generator must be ``sequence_rnn``.

  Args:
    num_rollouts: Monte Carlo completions per prefix (the paper: 16).
  """
  if num_rollouts < 1:
    raise ValueError(f'num_rollouts={num_rollouts} must be >= 1')

  def pair(generator, sequences, z, state):
    fake, state = generator('sample', z, state)
    return base.Pair(real=sequences, fake=fake, terms={}, latents=z), state

  def policy_gradient(loss, view, generator, pair, state):
    del loss  # The reward is the critic's probability, whatever its loss.
    tokens = pair.fake
    q, state = rollout_rewards(generator, view.apply, tokens, pair.latents,
                               num_rollouts, state)
    log_probs, state = generator('log_prob', (tokens, pair.latents), state)
    return -jnp.mean(jnp.sum(log_probs * q, axis=1)), state

  return base.Family(
      pair=pair,
      generator_adversarial=policy_gradient,
      critic_terms=base.no_critic_terms,
      init_generator=base.init_sampler,
      critic_input_shape=base.sample_shape_input,
      evaluate=base.no_metrics,
  )
