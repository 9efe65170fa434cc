"""Resuming a training stage where a killed run left it.

Each stage of `minibert.training.run` (mlm, frozen, unfrozen) trains with a
`StageCheckpoint`: Keras' `BackupAndRestore` saves the model's weights, the
optimizer's state and the epoch reached at every epoch end, and this
callback also keeps the stage's per-epoch logs beside them, so the resumed
stage's history still has every epoch, once.
"""

import os

import keras

from minibert.runs import files

HISTORY_FILE = "history.json"
# The stage's StepLog points, kept beside its checkpoint (minibert.training.callbacks).
STEPS_FILE = "steps.json"
# Where BackupAndRestore records the epoch reached.
METADATA_FILE = "training_metadata.json"


class StageCheckpoint(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` that also keeps the stage's per-epoch logs.

    Put it after callbacks that add to the epoch's logs (`EpochTimer`), so
    the kept logs have what they added.

    Args:
        backup_dir: the stage's checkpoint folder (created as needed).

    Example:
    >>> import numpy as np, tempfile
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="adam", loss="mse")
    >>> x, y = np.zeros((4, 2)), np.zeros((4, 1))
    >>> folder = tempfile.mkdtemp()
    >>> _ = model.fit(x, y, epochs=2, callbacks=[StageCheckpoint(folder)], verbose=0)
    >>> again = StageCheckpoint(folder)  # a rerun of the same stage
    >>> _ = model.fit(x, y, epochs=3, callbacks=[again], verbose=0)  # trains epoch 3 only
    >>> again.resumed_epochs, len(again.history["loss"])
    (2, 3)
    """

    def __init__(self, backup_dir):
        # The checkpoint outlives fit: the caller deletes it only once the
        # stage's model is saved, so no kill can lose a finished stage.
        # double_checkpoint keeps the previous epoch's files for a kill that
        # lands while the weights are being written.
        super().__init__(
            backup_dir, save_freq="epoch", delete_checkpoint=False, double_checkpoint=True
        )
        self.history_path = os.path.join(backup_dir, HISTORY_FILE)
        # Every epoch's logs, the restored ones first: {"loss": [...], ...}.
        self.history = {}
        self.resumed_epochs = 0

    def on_train_begin(self, logs=None):
        # BackupAndRestore sets the model's _initial_epoch when it restores, and
        # nothing clears it: the same model fitted again (the unfrozen stage
        # after a resumed frozen one) would skip that many epochs of its stage.
        self.model._initial_epoch = None
        super().on_train_begin(logs)  # restores weights, optimizer state and epoch
        self.resumed_epochs = self.model._initial_epoch or 0
        self.history = {}
        if self.resumed_epochs and os.path.exists(self.history_path):
            saved = files.read_json(self.history_path)
            # The logs are written before the weights: they may hold one
            # epoch more than the checkpoint, never one fewer.
            self.history = {key: values[: self.resumed_epochs] for key, values in saved.items()}

    def saved_progress(self) -> tuple[int, float]:
        """(epochs, seconds) a rerun would restore: (0, 0.0) with no checkpoint yet.

        Read before `fit`, e.g. to count a time budget across runs.
        """
        metadata_path = os.path.join(self.backup_dir, METADATA_FILE)
        if not (os.path.exists(metadata_path) and os.path.exists(self.history_path)):
            return 0, 0.0
        epochs = files.read_json(metadata_path)["epoch"]
        seconds = files.read_json(self.history_path).get("seconds", [])[:epochs]
        return epochs, float(sum(seconds))

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        os.makedirs(self.backup_dir, exist_ok=True)
        files.write_json(self.history_path, self.history)
        super().on_epoch_end(epoch, logs)
