"""A run's workdir: held by one process at a time, and a metrics.jsonl that a
resume leaves with each step once, in order (issue 35, item 1)."""

import json
import os

import pytest

from gan_jax import config as config_lib
from gan_jax import metric_writer
from gan_jax import workdir_lock

_OTHER_PROCESS = """
import sys
from gan_jax import workdir_lock
try:
  with workdir_lock.hold(sys.argv[1]):
    print('held')
except workdir_lock.WorkdirBusy as e:
  print(e)
"""


def hold_in_another_process(entry_point, workdir):
  """What a process that tries to hold ``workdir`` says; it is forked from
  one that imported gan_jax (conftest.py)."""
  script = os.path.join(os.path.dirname(workdir), 'hold.py')
  with open(script, 'w') as f:
    f.write(_OTHER_PROCESS)
  return entry_point(script, workdir, timeout=120).stdout.strip()


def test_a_workdir_is_held_by_one_process_until_it_ends(entry_point,
                                                        tmp_path):
  workdir = str(tmp_path / 'run')
  with workdir_lock.hold(workdir):
    with workdir_lock.hold(workdir):  # Re-entrant within the process.
      pass
    refused = hold_in_another_process(entry_point, workdir)
    assert refused.startswith(f"workdir {workdir!r} is in use by another run "
                              f'(pid {os.getpid()} on ')
    assert refused.endswith('wait for it to end or use another workdir')
    assert issubclass(workdir_lock.WorkdirBusy, config_lib.ConfigError)
  assert hold_in_another_process(entry_point, workdir) == 'held'


def test_a_refused_run_leaves_no_workdir_behind(tmp_path):
  workdir = tmp_path / 'new'
  with pytest.raises(config_lib.ConfigError):
    with workdir_lock.hold(str(workdir), disposable=('train.log',)):
      (workdir / 'train.log').write_text('error: ...\n')
      raise config_lib.ConfigError('refused')
  assert not workdir.exists()
  existing = tmp_path / 'existing'
  existing.mkdir()
  with workdir_lock.hold(str(existing)):
    pass
  assert existing.exists()  # Only what the run created goes.


def test_resume_keeps_each_logged_step_once_in_order(tmp_path):
  # What two rival processes and a kill left: duplicates, disorder, a
  # line cut short, steps after the checkpoint resumed from.
  steps = [250, 500, 250, 750, 500, 1000, 1250, 1000, 1500]
  path = tmp_path / 'metrics.jsonl'
  path.write_text(''.join(json.dumps({'step': s, 'loss': s / 1000}) + '\n'
                          for s in steps) + '{"step": 17')
  writer = metric_writer.MetricWriter(str(tmp_path), resume_step=1250)
  writer.write(1500, {'loss': 1.5})
  writer.close()
  logged = [json.loads(line) for line in path.read_text().splitlines()]
  assert [r['step'] for r in logged] == [250, 500, 750, 1000, 1250, 1500]
  assert logged[-1]['loss'] == 1.5
