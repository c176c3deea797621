"""scikit-learn's handwritten digits as TFDS datasets, prepared offline.

``digits``: the 1,797 real 8×8 grayscale digits of UCI's "Optical Recognition
of Handwritten Digits" set that ship inside the scikit-learn wheel
(``sklearn.datasets.load_digits``), pixel values 0..16 rescaled to uint8
0..255, with their labels.

``stacked_digits``: three digits drawn at random and stacked as the R, G and B
channels, the 1,000-mode benchmark of Metz et al. 2017 (Unrolled GAN) and
Srivastava et al. 2017 (VEEGAN) built from MNIST, here from the 8×8 digits;
the label is 100·r + 10·g + b, so a digit classifier counts modes.

Both are ordinary TFDS builders: the first use prepares them to array_record
files under ``data_dir`` (no download, no TensorFlow: Tensor features encode
without it) and they are then read through ``as_data_source``.
"""

import numpy as np
import tensorflow_datasets as tfds

_CITATION = """Alpaydin & Kaynak 1998, Optical Recognition of Handwritten
Digits, UCI Machine Learning Repository."""


def digit_images() -> tuple[np.ndarray, np.ndarray]:
  """``[1797, 8, 8, 1]`` uint8 images and ``[1797]`` labels."""
  # Imported here: scikit-learn takes 2 s to import, and only preparing the
  # dataset (once) needs it.
  from sklearn import datasets  # pylint: disable=g-import-not-at-top
  digits = datasets.load_digits()
  images = np.round(digits.images * (255 / 16)).astype(np.uint8)[..., None]
  return images, digits.target.astype(np.int64)


class _DigitsBuilder(tfds.core.GeneratorBasedBuilder):
  """What both builders share: uint8 images, a class label, no download.

  Abstract (no ``_generate_examples``), so TFDS does not register it.
  """

  IMAGE_SHAPE: tuple[int, int, int]
  NUM_CLASSES: int
  EXTRA_FEATURES: dict = {}

  def _info(self) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
        builder=self,
        features=tfds.features.FeaturesDict({
            'image': tfds.features.Tensor(shape=self.IMAGE_SHAPE,
                                          dtype=np.uint8),
            'label': tfds.features.ClassLabel(num_classes=self.NUM_CLASSES),
            **self.EXTRA_FEATURES,
        }),
        supervised_keys=('image', 'label'),
        citation=_CITATION)

  def _split_generators(self, dl_manager):
    del dl_manager  # Nothing to download.
    return {'train': self._generate_examples()}


class Digits(_DigitsBuilder):
  """The 1,797 8×8 handwritten digits shipped with scikit-learn."""

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {
      '1.0.0': 'From sklearn.datasets.load_digits, 0..16 -> 0..255.'}
  IMAGE_SHAPE = (8, 8, 1)
  NUM_CLASSES = 10

  def _generate_examples(self):
    images, labels = digit_images()
    for index, (image, label) in enumerate(zip(images, labels)):
      yield index, {'image': image, 'label': int(label)}


class StackedDigits(_DigitsBuilder):
  """Triples of digits stacked as RGB channels: 1,000 modes."""

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {'1.0.0': '60,000 triples drawn with numpy seed 0.'}
  NUM_EXAMPLES = 60_000
  IMAGE_SHAPE = (8, 8, 3)
  NUM_CLASSES = 1000
  EXTRA_FEATURES = {'digits': tfds.features.Tensor(shape=(3,), dtype=np.int64)}

  def _generate_examples(self):
    images, labels = digit_images()
    picks = np.random.default_rng(0).integers(0, len(images),
                                              (self.NUM_EXAMPLES, 3))
    for index, pick in enumerate(picks):
      digits = labels[pick]
      yield index, {'image': np.concatenate(images[pick], axis=-1),
                    'label': int(digits @ np.array([100, 10, 1])),
                    'digits': digits}
