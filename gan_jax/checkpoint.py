"""Checkpoints of the train state with orbax-checkpoint's CheckpointManager."""

import orbax.checkpoint as ocp


class Checkpointer:
  """Saves the train state every so often and restores the latest one.

  Saves are asynchronous (orbax writes in a background thread while training
  goes on); :meth:`close` waits for the last one to be complete.

  Args:
    directory: where the numbered checkpoint directories live.
    keep: how many of the latest checkpoints to keep.
  """

  def __init__(self, directory: str, keep: int):
    self._manager = ocp.CheckpointManager(
        directory,
        options=ocp.CheckpointManagerOptions(max_to_keep=keep, create=True))

  def restore_latest(self, state):
    """The latest saved state, or ``state`` itself if there is none.

    ``state`` gives the structure, shapes and dtypes to restore into.
    """
    step = self._manager.latest_step()
    if step is None:
      return state
    return self._manager.restore(step, args=ocp.args.StandardRestore(state))

  def save(self, step: int, state) -> None:
    self._manager.save(step, args=ocp.args.StandardSave(state))

  def close(self) -> None:
    self._manager.wait_until_finished()
    self._manager.close()
