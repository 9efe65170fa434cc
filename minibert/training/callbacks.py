"""Callbacks every training stage uses: each epoch's wall time, and a stage's time budget."""

import time

import keras


class EpochTimer(keras.callbacks.Callback):
    """Adds `seconds` (wall time of the epoch) to the logs, so history.csv has it."""

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["seconds"] = time.perf_counter() - self._start


class TimeBudget(keras.callbacks.Callback):
    """Stops training at the end of a batch so that it ends within `minutes` of wall time.

    The epoch it stops in still ends with its validation and the other
    callbacks' epoch-end work (checkpoints, fill-mask reports). Once an epoch
    has ended, the callback knows what that costs and stops that much earlier,
    so the budget holds the stopped epoch's end too.
    """

    def __init__(self, minutes, spent_seconds=0.0):
        super().__init__()
        self.seconds = minutes * 60
        # Time an interrupted run of the same stage already trained for.
        self.spent_seconds = spent_seconds
        self.epoch_end_seconds = 0.0
        self._last_batch_end = None

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter() - self.spent_seconds

    def on_epoch_begin(self, epoch, logs=None):
        if self._last_batch_end is not None:
            # From the previous epoch's last step to now: its validation and epoch-end callbacks.
            self.epoch_end_seconds = max(
                self.epoch_end_seconds, time.perf_counter() - self._last_batch_end
            )

    def on_train_batch_end(self, batch, logs=None):
        self._last_batch_end = time.perf_counter()
        if self._last_batch_end - self._start + self.epoch_end_seconds >= self.seconds:
            self.model.stop_training = True
