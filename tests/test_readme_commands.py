"""The README's commands still work, as far as seconds can tell.

The command lines are read from README.md itself (its ```bash blocks, with
continuation lines joined, ``#`` comments dropped and ``&&`` chains split),
so a command renamed in the README without the code following, or a flag
or config key the code no longer has, fails here. Each one runs up to the
point where it would start real work, in a child forked from a process
that has imported jax (the ``entry_point`` fixture of tests/conftest.py):

* ``pip install -e .`` / ``pip install -e '.[extra]'``: the extra is one
  of setup.cfg's ``extras_require``.
* ``pytest``: not run (it is this suite).
* ``python experiments/train.py ARGS``: run with ARGS, its workdir
  replaced by ``README.md``, a file. The flags parse, the config file
  loads, every override names a key of the right type, and
  ``gan_jax.config.validate`` accepts the config; the run then stops where
  it would take its workdir ("is a file", exit status 2), before any data,
  compilation or training. The commands themselves train for minutes to
  hours, so they are not run to the end here.
* ``python experiments/ablate.py ARGS``: run with its workdir under
  tmp_path and ``--seeds=1 --variants=<unknown>`` appended: every variant's
  run config is validated (for one seed: the seeds of a variant differ only
  in ``seed``) before the unknown variant stops it (exit status 2, the
  allowed variants listed, among which the README's own ``--variants``
  must be); nothing is written. The sweeps themselves take hours.
* ``python experiments/evaluate.py ARGS``: run with its workdir an empty
  directory: the flags parse, and it stops at "holds no run" (exit
  status 2); evaluating a trained run takes a trained run.

A ``` block that starts with ``$ COMMAND`` and shows its output (the
mistyped-key example) is run as shown and must print exactly that output
on stderr, exit with status 2 and create nothing. ``--helpshort``, which the
README offers for every entry point, lists every flag the README's commands
pass to it. The README's ```python blocks run (the worked trick example is
registered for the test only). A command of any other form fails the test:
a command added to the README is either checked here or consciously
listed. Links from README.md and docs/*.md to files and headings of the
repository must resolve, and the scripts and config files that docs/*.md's
```bash blocks name must exist (docs/performance_history.md, a dated log,
excepted). About 10 seconds, most of it the fork server's start-up.
"""

import configparser
import os
import re
import shlex

import jax
import jax.numpy as jnp
import optax
import pytest

import gan_jax
from gan_jax import config as config_lib
from gan_jax import models
from gan_jax import tricks as tricks_lib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(REPO, 'README.md')
ENTRY_POINTS = ('experiments/train.py', 'experiments/ablate.py',
                'experiments/evaluate.py')
_UNKNOWN_VARIANT = 'no_such_variant_readme_test'


def _read(path: str) -> str:
  with open(path, encoding='utf-8') as f:
    return f.read()


def _blocks(text: str, language: str) -> list[str]:
  """The bodies of the ```<language> blocks of ``text`` (``''``: plain)."""
  found, body, fence = [], [], None
  for line in text.splitlines():
    if fence is None and line.startswith('```'):
      fence, body = line[3:].strip(), []
    elif fence is not None and line.strip() == '```':
      if fence == language:
        found.append('\n'.join(body) + '\n')
      fence = None
    elif fence is not None:
      body.append(line)
  return found


def commands(text: str) -> list[list[str]]:
  """Every command of ``text``'s ```bash blocks, as argv lists."""
  found = []
  for block in _blocks(text, 'bash'):
    for line in block.replace('\\\n', ' ').splitlines():
      words = shlex.split(line, comments=True)
      while words:
        end = words.index('&&') if '&&' in words else len(words)
        found.append(words[:end])
        words = words[end + 1:]
  return found


def _flag(argv: list[str], name: str) -> str | None:
  values = [a.split('=', 1)[1] for a in argv if a.startswith(f'--{name}=')]
  return values[-1] if values else None


def _without(argv: list[str], name: str) -> list[str]:
  return [a for a in argv if not a.startswith(f'--{name}=')]


README_COMMANDS = commands(_read(README))


def test_the_readme_has_the_two_commands_at_the_top():
  assert README_COMMANDS[:4] == [
      ['pip', 'install', '-e', '.'],
      ['python', 'experiments/train.py', '--workdir=/tmp/gan_jax/dcgan_digits'],
      ['pip', 'install', '-e', '.[test]'],
      ['pytest']]


def test_every_readme_command_is_one_this_test_checks():
  for argv in README_COMMANDS:
    assert (argv[:3] == ['pip', 'install', '-e'] or argv == ['pytest']
            or (argv[0] == 'python' and argv[1] in ENTRY_POINTS)), (
                f'README command {shlex.join(argv)!r}: add a check for it to '
                'tests/test_readme_commands.py')


def test_pip_extras_exist():
  parser = configparser.ConfigParser()
  parser.read(os.path.join(REPO, 'setup.cfg'))
  extras = set(parser['options.extras_require'])
  for argv in README_COMMANDS:
    if argv[:3] == ['pip', 'install', '-e']:
      target = argv[3]
      assert target == '.' or re.fullmatch(r'\.\[\w+\]', target), target
      if target != '.':
        assert target[2:-1] in extras, f'{target}: no such extra in setup.cfg'


@pytest.mark.parametrize(
    'argv', [a for a in README_COMMANDS if a[1:2] == ['experiments/train.py']],
    ids=shlex.join)
def test_train_commands_pass_validation(entry_point, argv):
  assert _flag(argv, 'workdir'), 'a train command needs --workdir'
  result = entry_point(argv[1], *_without(argv[2:], 'workdir'),
                       '--workdir=README.md')
  assert (result.returncode, result.stderr) == (
      2, "error: workdir 'README.md' is a file, not a directory\n"), result


@pytest.mark.parametrize(
    'argv', [a for a in README_COMMANDS if a[1:2] == ['experiments/ablate.py']],
    ids=shlex.join)
def test_ablate_commands_validate_every_variant(entry_point, tmp_path, argv):
  workdir = tmp_path / 'sweep'
  result = entry_point(argv[1], *_without(argv[2:], 'workdir'),
                       f'--workdir={workdir}', '--seeds=1',
                       f'--variants={_UNKNOWN_VARIANT}')
  prefix = f'error: --variants: unknown {_UNKNOWN_VARIANT}; allowed: '
  assert result.returncode == 2 and result.stderr.startswith(prefix), result
  allowed = result.stderr[len(prefix):].strip().split(', ')
  for variant in (_flag(argv, 'variants') or '').split(','):
    assert not variant or variant in allowed, (variant, allowed)
  seeds = _flag(argv, 'seeds')
  assert seeds is None or int(seeds) > 0
  assert not workdir.exists()


@pytest.mark.parametrize(
    'argv',
    [a for a in README_COMMANDS if a[1:2] == ['experiments/evaluate.py']],
    ids=shlex.join)
def test_evaluate_commands_parse(entry_point, tmp_path, argv):
  result = entry_point(argv[1], *_without(argv[2:], 'workdir'),
                       f'--workdir={tmp_path}')
  assert (result.returncode, result.stderr) == (
      2, f"error: '{tmp_path}' holds no run (no config.json)\n"), result
  assert not os.listdir(tmp_path)


def test_the_mistyped_key_example_prints_what_the_readme_shows(
    entry_point, tmp_path):
  transcripts = [b for b in _blocks(_read(README), '') if b.startswith('$ ')]
  assert transcripts, 'README.md shows no "$ command" with its output'
  for transcript in transcripts:
    command, *output = transcript.splitlines()
    argv = shlex.split(command[2:])
    assert argv[0] == 'python' and argv[1] in ENTRY_POINTS, command
    workdir = _flag(argv, 'workdir')
    ours = str(tmp_path / 'x')
    result = entry_point(argv[1], *_without(argv[2:], 'workdir'),
                         f'--workdir={ours}')
    expected = '\n'.join(output).replace(workdir, ours) + '\n'
    assert (result.returncode, result.stderr) == (2, expected), result
    assert not os.path.exists(ours)


@pytest.mark.parametrize('script', ENTRY_POINTS)
def test_helpshort_lists_the_flags_the_readme_uses(entry_point, script):
  result = entry_point(script, '--helpshort')
  assert result.returncode in (0, 1), result  # absl's help exits with 1.
  for argv in README_COMMANDS:
    if argv[1:2] == [script]:
      for arg in argv[2:]:
        name = arg[2:].split('=', 1)[0].split('.', 1)[0]
        assert f'--{name}:' in result.stdout, (script, name)


def test_python_blocks_run(monkeypatch):
  namespaces = []
  for block in _blocks(_read(README), 'python'):
    namespace = {'gan_jax': gan_jax, 'optax': optax}
    exec(compile(block, 'README.md', 'exec'), namespace)
    namespaces.append(namespace)
  example = [n for n in namespaces if 'drift_penalty' in n]
  assert example, 'the worked trick example (drift_penalty) is gone'
  factory = example[0]['drift_penalty']
  # Registered as the README says; the config's trick_args follow.
  monkeypatch.setitem(tricks_lib.TRICKS, 'drift_penalty', factory)
  config = config_lib.base()
  assert config.trick_args.drift_penalty.to_dict() == {'weight': 0.001}
  config.tricks = 'drift_penalty'
  config.trick_args.drift_penalty.weight = 0.01
  config_lib.validate(config)
  config.trick_args.drift_penalty.weight = -1.0
  with pytest.raises(config_lib.ConfigError, match='weight=-1.0 must be'):
    config_lib.validate(config)
  trick = tricks_lib.chain(factory(weight=0.5))
  logits = jnp.array([2.0, -2.0])
  view = tricks_lib.CriticView(
      apply=None, real=None, fake=None, params=None,
      real_out=models.CriticOutput(logits, logits[:, None], None),
      fake_out=models.CriticOutput(-logits, -logits[:, None], None))
  info = tricks_lib.StepInfo(step=jnp.int32(0), key=jax.random.PRNGKey(0))
  terms = trick.critic_loss({'adversarial': jnp.float32(1.0)}, view,
                            trick.init(None, info.key), info)
  assert float(terms['drift_penalty']) == pytest.approx(2.0)


def _docs() -> list[str]:
  return sorted(os.path.join('docs', f) for f in os.listdir(
      os.path.join(REPO, 'docs')) if f.endswith('.md'))


def _anchor(heading: str) -> str:
  """GitHub's anchor of a markdown heading."""
  text = re.sub(r'[^\w\- ]', '', heading.strip().lower())
  return text.replace(' ', '-')


@pytest.mark.parametrize('document', ['README.md'] + _docs())
def test_links_resolve(document):
  text = _read(os.path.join(REPO, document))
  for target in re.findall(r'\]\(([^)\s]+)\)', text):
    if re.match(r'[a-z]+://', target):
      continue
    path, _, anchor = target.partition('#')
    path = os.path.normpath(os.path.join(
        os.path.dirname(os.path.join(REPO, document)), path)) if path else (
            os.path.join(REPO, document))
    assert os.path.exists(path), f'{document}: {target} does not exist'
    if anchor:
      headings = re.findall(r'^#+ (.*)$', _read(path), re.M)
      assert anchor in {_anchor(h) for h in headings}, (
          f'{document}: {target}: no such heading')


@pytest.mark.parametrize(
    'document', [d for d in _docs() if not d.endswith('_history.md')])
def test_docs_commands_name_files_that_exist(document):
  for argv in commands(_read(os.path.join(REPO, document))):
    paths = [a for a in argv[1:2] if argv[0] == 'python']
    paths += [v.split(':')[0] for v in (_flag(argv, 'config'),
                                        _flag(argv, 'sweep')) if v]
    for path in paths:
      if re.search(r'X\.py|\.\.\.|[A-Z]{3}', path):
        continue  # A placeholder: configs/X.py, --config=...
      assert os.path.exists(os.path.join(REPO, path)), (
          f'{document}: {shlex.join(argv)}: {path} does not exist')
