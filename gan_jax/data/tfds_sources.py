"""Random-access TFDS data sources, read without TensorFlow.

The embedded datasets (``digits``, ``stacked_digits``) are prepared on first
use. Official TFDS datasets (mnist, cifar10, celeb_a, …) cannot be downloaded
here: they must already be prepared in array_record format under
``data_dir``, and a missing one is reported in one line before any work.

Directories are created only under TFDS's usual directory (``data_dir``
``''``), where the embedded datasets are prepared on first use. A
``data_dir`` given that does not exist is an error (:func:`check_data_dir`):
a mistyped path must not prepare the data, the digits classifier and the
reference features somewhere new.
"""

import contextlib
import fcntl
import os

from absl import logging
import tensorflow_datasets as tfds

from gan_jax.data import digits

EMBEDDED: dict[str, type[tfds.core.GeneratorBasedBuilder]] = {
    'digits': digits.Digits,
    'stacked_digits': digits.StackedDigits,
}


class DatasetUnavailableError(ValueError):
  """A dataset is not prepared where it was looked for; the message says how."""


class UnknownDatasetError(DatasetUnavailableError):
  """The name is neither an embedded nor a TFDS dataset."""


def resolve_data_dir(data_dir: str) -> str:
  """``''`` means TFDS's usual directory (``$TFDS_DATA_DIR`` or
  ~/tensorflow_datasets)."""
  return data_dir or os.environ.get('TFDS_DATA_DIR',
                                    os.path.expanduser('~/tensorflow_datasets'))


def check_data_dir(data_dir: str) -> str:
  """:func:`resolve_data_dir` of ``data_dir``, which, if given (not
  ``''``), must be an existing directory.

  Raises:
    DatasetUnavailableError: ``data_dir`` is given and is not a directory.
  """
  if data_dir and not os.path.isdir(data_dir):
    problem = ('is a file' if os.path.exists(data_dir)
               else 'does not exist')
    raise DatasetUnavailableError(
        f'config.data.data_dir={data_dir!r} {problem}; allowed: an existing '
        'directory (the embedded datasets are prepared in it on first use), '
        "or '' for TFDS's usual directory ($TFDS_DATA_DIR or "
        '~/tensorflow_datasets, created on first use)')
  return resolve_data_dir(data_dir)


def builder(name: str, data_dir: str) -> tfds.core.DatasetBuilder:
  """The prepared builder of ``name``; prepares the embedded datasets.

  Raises:
    DatasetUnavailableError: ``data_dir`` is given and is not a directory
      (:func:`check_data_dir`); ``name`` is an official dataset that is not
      prepared in array_record format under ``data_dir``.
  """
  data_dir = check_data_dir(data_dir)
  if name in EMBEDDED:
    b = EMBEDDED[name](data_dir=data_dir, file_format='array_record')
    if not b.is_prepared():
      with _exclusive(os.path.join(data_dir, f'.{name}.lock')):
        # Another process may have prepared it while this one waited.
        b = EMBEDDED[name](data_dir=data_dir, file_format='array_record')
        if not b.is_prepared():
          logging.info('preparing the embedded %s dataset in %s', name,
                       data_dir)
          b.download_and_prepare()
    return b
  how = (f'prepare it on a machine with internet access with `tfds build '
         f'{name} --data_dir={data_dir} --file_format=array_record` and copy '
         'the directory here')
  try:
    b = tfds.builder(name, data_dir=data_dir)
  except tfds.core.registered.DatasetNotFoundError as e:
    raise UnknownDatasetError(
        f'unknown dataset {name!r}: not embedded ({", ".join(EMBEDDED)}) and '
        'not a TFDS dataset') from e
  if not b.is_prepared():
    raise DatasetUnavailableError(
        f'dataset {name!r} is not prepared in {data_dir}; {how}')
  if b.info.file_format != tfds.core.FileFormat.ARRAY_RECORD:
    raise DatasetUnavailableError(
        f'dataset {name!r} in {data_dir} is in {b.info.file_format.value} '
        f'format, which has no random access; {how}')
  return b


@contextlib.contextmanager
def _exclusive(lock_path: str):
  """Holds an exclusive lock on ``lock_path`` (created if missing).

  Runs started together on a fresh machine (seeds of a sweep, test workers)
  would otherwise prepare the same dataset at once, and TFDS's final rename
  fails for all but the first. ``fcntl.flock`` (standard library) is enough:
  the lock is released when the holder exits, even if it is killed.
  """
  os.makedirs(os.path.dirname(lock_path), exist_ok=True)
  with open(lock_path, 'a') as f:
    fcntl.flock(f, fcntl.LOCK_EX)
    try:
      yield
    finally:
      fcntl.flock(f, fcntl.LOCK_UN)


def data_source(name: str, data_dir: str, split: str = 'train'):
  """A random-access source of ``name``'s ``split`` (dicts of numpy arrays)."""
  return builder(name, data_dir).as_data_source(split=split)


def example_ranges(name: str, data_dir: str,
                   split: str) -> list[tuple[str, int, int]]:
  """The examples ``split`` of ``name`` reads, TFDS's slicing resolved:
  ``(split name, first index, end index)`` ranges."""
  splits = builder(name, data_dir).info.splits
  instruction = tfds.core.ReadInstruction.from_spec(split)
  return [(part.splitname, part.from_ or 0,
           splits[part.splitname].num_examples if part.to is None
           else part.to)
          for part in instruction.to_absolute(splits)]


def shared_examples(name: str, data_dir: str, split: str,
                    other_split: str) -> int:
  """How many examples the splits ``split`` and ``other_split`` of ``name``
  both read (0 for disjoint slices, e.g. ``train[:1297]`` and
  ``train[1297:]``)."""
  return sum(max(0, min(end, other_end) - max(first, other_first))
             for part, first, end in example_ranges(name, data_dir, split)
             for other, other_first, other_end in example_ranges(
                 name, data_dir, other_split)
             if part == other)
