r"""Evaluation cost, and what real data scores against real data.

  python benchmarks/eval_speed.py --config=configs/dcgan_digits.py \
      --num_samples=10000

1. Real vs real: the dataset's examples (up to 2 × ``eval.num_reference``)
   split into two disjoint halves by a seeded permutation, scored against
   each other with the config's extractor: the values a perfect generator
   would get at this sample size (FD and KID are biased upwards at small n).
2. Speed: the seconds to generate ``--num_samples`` samples with a freshly
   initialised generator of the config (compiled first) and to score them
   (feature extraction and every metric; the reference features cached).

Prints one JSON object; ``--out`` also writes it to a file.
"""

import functools
import json
import time

from absl import app
from absl import flags
import jax
from ml_collections import config_flags
import numpy as np

from gan_jax import evaluation
from gan_jax import train
from gan_jax import xla_cpu

_CONFIG = config_flags.DEFINE_config_file('config', 'configs/dcgan_digits.py',
                                          'Experiment config.')
_NUM_SAMPLES = flags.DEFINE_integer('num_samples', 10_000,
                                    'Samples to generate and score.')
_OUT = flags.DEFINE_string('out', None, 'Optional JSON output file.')


def main(argv):
  del argv
  xla_cpu.apply()  # As the entry points do (gan_jax.xla_cpu).
  config = _CONFIG.value
  config.eval.num_samples = _NUM_SAMPLES.value
  gan = train.build(config)
  evaluator = evaluation.Evaluator(config, gan.dataset)
  images, _ = gan.dataset.examples(2 * config.eval.num_reference, seed=1)
  order = np.random.default_rng(0).permutation(len(images))
  half_a, half_b = np.array_split(images[order], 2)
  real_vs_real = evaluation.image_metrics(
      half_a, half_b, evaluator.extract(half_a), evaluator.extract(half_b))

  state = jax.jit(functools.partial(train.init_state, gan))(
      jax.random.PRNGKey(0))
  generate = train.make_generate(gan)
  key = jax.random.PRNGKey(1)
  sample = lambda: train.generate_samples(gan, generate, state, key,
                                          _NUM_SAMPLES.value, raw=False)
  sample()  # Compiles.
  start = time.perf_counter()
  samples = sample()
  generate_seconds = time.perf_counter() - start
  start = time.perf_counter()
  evaluator(samples)
  score_seconds = time.perf_counter() - start
  result = {
      'dataset': config.data.name, 'image_shape': gan.dataset.sample_shape,
      'extractor': evaluator.extractor, 'device': jax.devices()[0].device_kind,
      'real_vs_real': {'num_each': [len(half_a), len(half_b)],
                       **real_vs_real},
      'num_samples': _NUM_SAMPLES.value,
      'num_reference': len(evaluator.real_images),
      'generate_seconds': generate_seconds, 'score_seconds': score_seconds}
  print(json.dumps(result, indent=2))
  if _OUT.value:
    with open(_OUT.value, 'w') as f:
      json.dump(result, f, indent=2)


if __name__ == '__main__':
  app.run(main)
