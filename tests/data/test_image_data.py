"""Image data: TFDS builders offline without TensorFlow, the grain pipeline."""

import importlib.util
import os
import subprocess
import sys

import jax
import numpy as np
import pytest
from sklearn import datasets
import tensorflow_datasets as tfds

from gan_jax import config as config_lib
from gan_jax.data import pipeline
from gan_jax.data import tfds_sources

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


@pytest.fixture(scope='module')
def data_dir(tmp_path_factory):
  return str(tmp_path_factory.mktemp('tfds'))


def test_tensorflow_is_not_installed():
  assert importlib.util.find_spec('tensorflow') is None


def test_digits_builder_prepares_and_reads_offline(data_dir):
  source = tfds_sources.data_source('digits', data_dir)
  assert len(source) == 1797
  record = source[0]
  assert (record['image'].shape == (8, 8, 1)
          and record['image'].dtype == np.uint8)
  # TFDS shuffles records when preparing: compare as a labelled multiset.
  digits = datasets.load_digits()
  expected = sorted(zip(
      (np.round(im * 255 / 16).astype(np.uint8).tobytes()
       for im in digits.images),
      digits.target.tolist()))
  got = sorted((source[i]['image'][..., 0].tobytes(), int(source[i]['label']))
               for i in range(len(source)))
  assert got == expected


def test_processes_started_together_prepare_the_dataset_once(tmp_path):
  # Without the lock TFDS's final rename fails in all but the first process.
  prepare = ('import sys; from gan_jax.data import tfds_sources; '
             'print(len(tfds_sources.data_source("digits", sys.argv[1])))')
  processes = [subprocess.Popen([sys.executable, '-c', prepare, str(tmp_path)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for _ in range(3)]
  for p in processes:
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    assert out.split()[-1] == '1797'


@pytest.mark.slow
def test_stacked_digits_stack_three_labelled_digits(data_dir):
  source = tfds_sources.data_source('stacked_digits', data_dir)
  digits = tfds_sources.data_source('digits', data_dir)
  assert len(source) == 60_000
  record = source[7]
  assert record['image'].shape == (8, 8, 3)
  r, g, b = record['digits']
  assert record['label'] == 100 * r + 10 * g + b
  # Each channel is one of the real digits, of the stated class.
  digit_images = np.stack([digits[i]['image'][..., 0] for i in range(1797)])
  digit_labels = np.array([digits[i]['label'] for i in range(1797)])
  for channel, label in zip(range(3), record['digits']):
    matches = np.all(digit_images == record['image'][..., channel], axis=(1, 2))
    assert label in digit_labels[matches]
  modes = {source[i]['label'] for i in range(0, 60_000, 7)}
  assert len(modes) > 990


def test_missing_official_dataset_is_one_clear_line(tmp_path):
  with pytest.raises(tfds_sources.DatasetUnavailableError) as info:
    tfds_sources.data_source('mnist', str(tmp_path))
  message = str(info.value)
  assert "dataset 'mnist' is not prepared in " + str(tmp_path) in message
  assert ('tfds build mnist --data_dir=' + str(tmp_path)
          + ' --file_format=array_record') in message
  assert '\n' not in message


@pytest.mark.parametrize('name', ['digits', 'stacked_digits', 'mnist'])
def test_a_data_dir_that_does_not_exist_is_an_error_and_created_nowhere(
    tmp_path, name):
  """A mistyped data_dir must not prepare the data somewhere new; nor may
  the caches kept under the data directory create it."""
  missing = tmp_path / 'typo' / 'tfds'
  with pytest.raises(tfds_sources.DatasetUnavailableError) as info:
    tfds_sources.data_source(name, str(missing))
  assert str(info.value) == (
      f"config.data.data_dir='{missing}' does not exist; allowed: an "
      'existing directory (the embedded datasets are prepared in it on first '
      "use), or '' for TFDS's usual directory ($TFDS_DATA_DIR or "
      '~/tensorflow_datasets, created on first use)')
  (tmp_path / 'a_file').write_text('')
  with pytest.raises(tfds_sources.DatasetUnavailableError,
                     match="data_dir='.*a_file' is a file; allowed: "):
    tfds_sources.data_source(name, str(tmp_path / 'a_file'))
  if name == 'digits':
    from gan_jax.metrics.features import digits_classifier  # pylint: disable=g-import-not-at-top
    with pytest.raises(tfds_sources.DatasetUnavailableError):
      digits_classifier.load_or_train(str(missing))
    config = config_lib.load(os.path.join(REPO, 'configs',
                                          'dcgan_digits.py'))
    config.data.data_dir = str(missing)
    with pytest.raises(config_lib.ConfigError,
                       match="^config.data.data_dir='.*' does not exist"):
      config_lib.validate(config)
  assert sorted(os.listdir(tmp_path)) == ['a_file']


def test_the_embedded_data_is_prepared_in_an_empty_data_dir_with_one_line(
    tmp_path, caplog):
  caplog.set_level('INFO')
  assert len(tfds_sources.data_source('digits', str(tmp_path))) == 1797
  assert len(tfds_sources.data_source('digits', str(tmp_path))) == 1797
  assert [r.getMessage() for r in caplog.records
          if r.filename == 'tfds_sources.py'] == [
              f'preparing the embedded digits dataset in {tmp_path}']


@pytest.mark.slow
def test_train_py_refuses_a_missing_data_dir_in_one_line(tmp_path):
  workdir, missing = tmp_path / 'run', tmp_path / 'typo'
  result = subprocess.run(
      [sys.executable, 'experiments/train.py',
       '--config=configs/dcgan_digits.py',
       f'--workdir={workdir}', f'--config.data.data_dir={missing}'],
      cwd=REPO, capture_output=True, text=True, timeout=300)
  assert result.returncode == 2, result.stderr
  assert result.stderr.strip().splitlines() == [
      f"error: config.data.data_dir='{missing}' does not exist; allowed: an "
      'existing directory (the embedded datasets are prepared in it on first '
      "use), or '' for TFDS's usual directory ($TFDS_DATA_DIR or "
      '~/tensorflow_datasets, created on first use)']
  assert os.listdir(tmp_path) == []


class TinyImages(tfds.core.GeneratorBasedBuilder):
  """A stand-in for an official dataset, prepared by the test itself."""
  VERSION = tfds.core.Version('1.0.0')

  def _info(self):
    return tfds.core.DatasetInfo(
        builder=self, features=tfds.features.FeaturesDict({
            'image': tfds.features.Tensor(shape=(4, 4, 3), dtype=np.uint8),
            'label': tfds.features.ClassLabel(num_classes=2)}))

  def _split_generators(self, dl_manager):
    return {'train': self._generate_examples()}

  def _generate_examples(self):
    for i in range(10):
      yield i, {'image': np.full((4, 4, 3), 20 * i, np.uint8), 'label': i % 2}


def test_prepared_tfds_dataset_is_read_by_name(tmp_path):
  TinyImages(data_dir=str(tmp_path),
             file_format='array_record').download_and_prepare()
  source = tfds_sources.data_source('tiny_images', str(tmp_path))
  assert len(source) == 10
  assert {int(source[i]['image'][0, 0, 0]) for i in range(10)} == set(
      range(0, 200, 20))


def _first_batches(iterator, n):
  return [next(iterator) for _ in range(n)]


def test_pipeline_is_deterministic_and_preprocesses(data_dir):
  source = tfds_sources.data_source('digits', data_dir)
  make = lambda seed: pipeline.image_batches(
      source, batch_size=32, seed=seed, image_shape=(16, 16, 3))
  a, b = _first_batches(make(0), 3), _first_batches(make(0), 3)
  c = _first_batches(make(1), 1)
  for x, y in zip(a, b):
    np.testing.assert_array_equal(x['image'], y['image'])
  assert not np.array_equal(a[0]['label'], c[0]['label'])
  image = a[0]['image']
  assert image.shape == (32, 16, 16, 3) and image.dtype == np.float32
  assert image.min() == -1.0 and image.max() == 1.0
  np.testing.assert_array_equal(image[..., 0], image[..., 2])  # Gray -> RGB.


def test_in_memory_source_gives_the_same_batches(data_dir):
  source = tfds_sources.data_source('digits', data_dir)
  memory = pipeline.InMemorySource(source, chunk=500)
  assert len(memory) == len(source) == 1797
  make = lambda s: pipeline.image_batches(s, batch_size=32, seed=3,
                                          image_shape=(16, 16, 1))
  for x, y in zip(_first_batches(make(source), 3),
                  _first_batches(make(memory), 3)):
    np.testing.assert_array_equal(x['image'], y['image'])
    np.testing.assert_array_equal(x['label'], y['label'])


def test_unlabelled_records_read_as_class_zero():
  # Datasets such as celeb_a have no 'label' feature.
  images = np.random.default_rng(0).integers(0, 256, (12, 8, 8, 3), np.uint8)
  source = [{'image': image} for image in images]
  memory = pipeline.InMemorySource(source, chunk=5)
  np.testing.assert_array_equal(memory.images, images)
  np.testing.assert_array_equal(memory.labels, 0)
  batch = next(pipeline.image_batches(source, batch_size=4, seed=0,
                                      image_shape=(8, 8, 3), prefetch=0))
  assert batch['image'].shape == (4, 8, 8, 3)
  np.testing.assert_array_equal(batch['label'], 0)
  examples, labels = pipeline.image_examples(source, image_shape=(8, 8, 3),
                                             limit=5)
  assert examples.shape == (5, 8, 8, 3)
  np.testing.assert_array_equal(labels, 0)


def test_processes_read_disjoint_shards(data_dir):
  source = tfds_sources.data_source('digits', data_dir)
  seen = []
  for index in range(2):
    it = pipeline.image_batches(source, batch_size=64, seed=0,
                                image_shape=(8, 8, 1), process_index=index,
                                process_count=2, prefetch=0)
    # One epoch of the shard: 898 or 899 records, here 14 batches of 32.
    images = np.concatenate([next(it)['image'] for _ in range(14)])
    seen.append({im.tobytes() for im in images})
  assert not seen[0] & seen[1]


def test_iterator_state_restores_the_next_batch(data_dir):
  source = tfds_sources.data_source('digits', data_dir)
  it = pipeline.image_batches(source, batch_size=16, seed=0,
                              image_shape=(8, 8, 1))
  _first_batches(it, 5)
  state = it.get_state()
  expected = _first_batches(it, 2)
  fresh = pipeline.image_batches(source, batch_size=16, seed=0,
                                 image_shape=(8, 8, 1))
  fresh.set_state(state)
  for x, y in zip(expected, _first_batches(fresh, 2)):
    np.testing.assert_array_equal(x['image'], y['image'])


def test_channel_adaptation():
  rgb = np.stack([np.full((1, 2, 2), v, np.uint8) for v in (0, 90, 255)], -1)
  gray = pipeline.to_float_images(rgb, (2, 2, 1))
  np.testing.assert_allclose(gray, 115 / 127.5 - 1)
  np.testing.assert_array_equal(
      pipeline.to_float_images(rgb[..., :1], (2, 2, 3)),
      np.full((1, 2, 2, 3), -1.0))
  with pytest.raises(ValueError, match='cannot adapt 3 channels to 2'):
    pipeline.to_float_images(rgb, (2, 2, 2))


@pytest.mark.parametrize('size', [(16, 12), (5, 8)])
def test_batched_resize_is_jax_image_resize(size):
  images = np.random.default_rng(0).integers(0, 256, (3, 8, 8, 2), np.uint8)
  expected = jax.image.resize(images.astype(np.float32), (3, *size, 2),
                              'linear') / 127.5 - 1
  np.testing.assert_allclose(
      pipeline.to_float_images(images, (*size, 2)), expected, atol=1e-5)
