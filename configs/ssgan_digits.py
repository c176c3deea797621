r"""Semi-supervised GAN on the 8×8 digits at 16×16, 10 labels per class.

Salimans et al. 2016 (gan_jax/families/ssgan.py): the critic is a 10-class
classifier (``semi_supervised`` over a DCGAN-critic trunk without batch
norm) whose real-vs-generated logit is logsumexp of the class logits; it is
trained on 100 labelled digits (10 per class, ``label_seed`` 0) and the
1,297 digits of ``train[:1297]`` without labels; the generator (DCGAN) by
feature matching alone. Accuracy is measured on the 500 held-out digits of
``train[1297:]``, next to the same critic architecture trained on the 100
labelled digits alone (``supervised_only_test_accuracy``).

Command:
  python experiments/train.py --config=configs/ssgan_digits.py \
      --workdir=/tmp/ssgan_digits

Expected (2-core CPU): see docs/families.md for the measured
steps/s and eval.json.
"""

from gan_jax import config as config_lib


def get_config():
  config = config_lib.load('dcgan_digits.py', relative_to=__file__)
  config.family = 'ssgan'
  config.data.split = 'train[:1297]'
  config.model.critic = 'semi_supervised'
  config.model.critic_args = dict(
      trunk='dcgan', trunk_args=dict(width=32, normalization='none'),
      label_classes=10)
  config.tricks = 'feature_matching'
  config.trick_args.feature_matching.replace = True
  config.family_args.ssgan.test_split = 'train[1297:]'
  config.num_train_steps = 3_000
  return config
