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
    """Stops training once `minutes` of wall time have passed, at the end of a batch.

    The epoch it stops in still ends with its validation.
    """

    def __init__(self, minutes, spent_seconds=0.0):
        super().__init__()
        self.seconds = minutes * 60
        # Time an interrupted run of the same stage already trained for.
        self.spent_seconds = spent_seconds

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter() - self.spent_seconds

    def on_train_batch_end(self, batch, logs=None):
        if time.perf_counter() - self._start >= self.seconds:
            self.model.stop_training = True
