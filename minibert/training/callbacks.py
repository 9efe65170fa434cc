"""Callbacks every training stage uses: epoch wall time, points within epochs, a time budget,
and a schedule within it; the step timer that the budget and the bench measure with; and the
best weights on validation that fine-tuning keeps."""

import os
import time

import keras
import numpy as np

from minibert.runs import files

# BestWeights' state beside a stage's checkpoint: its score, its count of
# validations without improvement, and the weights it keeps.
BEST_STATE_FILE = "best.json"
BEST_WEIGHTS_FILE = "best_weights.npz"


class EpochTimer(keras.callbacks.Callback):
    """Adds `seconds` (wall time of the epoch) to the logs, so history.csv has it."""

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["seconds"] = time.perf_counter() - self._start


class StepLog(keras.callbacks.Callback):
    """The training loss (and accuracy) every few batches: the curve within epochs.

    history.csv has one row per epoch, one dot per panel for a one-epoch
    stage. This keeps about `points` points per stage, evenly spread over its
    steps, each at its fractional epoch (1.5: half-way through epoch 2).
    Keras' batch logs are running means over the epoch so far, so the points
    are smoothed within each epoch. With `path`, the points are saved at every
    epoch end; a resumed stage keeps those of the epochs its `checkpoint` (a
    `StageCheckpoint`, placed before this callback) restored.

    Example:
    >>> import numpy as np
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="adam", loss="mse")
    >>> log = StepLog(points=4)
    >>> _ = model.fit(np.zeros((20, 2)), np.zeros((20, 1)), batch_size=2, epochs=2,
    ...               callbacks=[log], verbose=0)
    >>> [point["epoch"] for point in log.points]
    [0.5, 1.0, 1.5, 2.0]
    """

    def __init__(self, points=200, path=None, checkpoint=None):
        super().__init__()
        self.wanted = points
        self.path = path
        self.checkpoint = checkpoint
        self.points = []

    def on_train_begin(self, logs=None):
        self._steps = self.params.get("steps") or 0
        total = self._steps * (self.params.get("epochs") or 1)
        # A data set of unknown length: a point every 50 batches.
        self._every = max(1, total // self.wanted) if total else 50
        resumed = self.checkpoint.resumed_epochs if self.checkpoint is not None else 0
        self.points = []
        if resumed and self.path and os.path.exists(self.path):
            self.points = [point for point in files.read_json(self.path) if point["epoch"] <= resumed]

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (batch + 1) % self._every or not logs:
            return
        fraction = (batch + 1) / self._steps if self._steps else 0.0
        point = {"epoch": round(self._epoch + fraction, 6)}
        point.update({name: float(logs[name]) for name in ("loss", "accuracy") if name in logs})
        self.points.append(point)

    def on_epoch_end(self, epoch, logs=None):
        if self.path is not None:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            files.write_json(self.path, self.points)


class TimeBudget(keras.callbacks.Callback):
    """Stops training at the end of a batch so that it ends within `minutes` of wall time.

    The epoch it stops in still ends with its validation and the other
    callbacks' epoch-end work (checkpoints, fill-mask reports). Once an epoch
    has ended, the callback knows what that costs and stops that much earlier,
    so the budget holds the stopped epoch's end too.

    Args:
        minutes: the wall time the stage may take.
        spent_seconds: time an interrupted run of the same stage already trained for.
        clock: seconds from any fixed start; tests pass a fake one to spend the
            budget without waiting for it.
        replan: a function of no arguments that returns the stage's minutes
            anew (`budget.PretrainingShare.minutes`: fine-tuning's share at
            the machine's speed now), called every `replan_seconds` of training.
        replan_seconds: how often `replan` is called.
    """

    def __init__(self, minutes, spent_seconds=0.0, clock=time.perf_counter, replan=None,
                 replan_seconds=60.0):
        super().__init__()
        self.seconds = minutes * 60
        self.spent_seconds = spent_seconds
        self.clock = clock
        self.replan = replan
        self.replan_seconds = replan_seconds
        self.epoch_end_seconds = 0.0
        self._last_batch_end = None

    def on_train_begin(self, logs=None):
        self._start = self.clock() - self.spent_seconds
        self._last_replan = self.clock()

    def on_epoch_begin(self, epoch, logs=None):
        if self._last_batch_end is not None:
            # From the previous epoch's last step to now: its validation and epoch-end callbacks.
            self.epoch_end_seconds = max(
                self.epoch_end_seconds, self.clock() - self._last_batch_end
            )

    def on_train_batch_end(self, batch, logs=None):
        self._last_batch_end = self.clock()
        if self.replan is not None and self._last_batch_end - self._last_replan >= self.replan_seconds:
            self.seconds = self.replan() * 60
            self._last_replan = self.clock()
        if self.spent_share() >= 1:
            self.model.stop_training = True

    def spent_share(self) -> float:
        """The share of the budget spent so far, the stopped epoch's end counted in."""
        if self.seconds <= 0:  # a re-plan that leaves nothing: stop at this batch
            return float("inf")
        return (self.clock() - self._start + self.epoch_end_seconds) / self.seconds


class BudgetedSchedule(keras.callbacks.Callback):
    """Ends a learning-rate schedule with its steps or with a time budget, whichever runs out first.

    A schedule sized to a stage's epochs barely decays when a time budget
    stops the stage after a few of them (the imdb preset fits 5 of its 8
    epochs in the hour). Before each batch this sets the optimizer's rate to
    `schedule(step)` at the step the schedule would have reached if the
    budget's spent share were its share of `total_steps`, or at the real
    step where that is further on: the warmup and the decay to 0 then fit
    the minutes the stage has, on a slow machine and a fast one alike.
    Cramming (Geiping & Goldstein 2023) ties its one-cycle schedule to the
    budget the same way. The model must be compiled with a plain float rate.

    Args:
        schedule: a `keras.optimizers.schedules.LearningRateSchedule`.
        total_steps: the steps the schedule spans (the stage's epochs).
        budget: the stage's `TimeBudget`.

    Example:
    >>> from minibert.training.optimization import WarmupLinearDecay
    >>> schedule = BudgetedSchedule(WarmupLinearDecay(1e-3, 10, 100), 100, TimeBudget(1))
    >>> schedule.schedule_step(real_step=5, spent_share=0.5)
    50.0
    """

    def __init__(self, schedule, total_steps, budget):
        super().__init__()
        self.schedule, self.total_steps, self.budget = schedule, total_steps, budget

    def schedule_step(self, real_step, spent_share) -> float:
        return max(float(real_step), spent_share * self.total_steps)

    def on_train_batch_begin(self, batch, logs=None):
        # Under JAX, `self.model` syncs the values fit carries between steps
        # into the variables (keras.callbacks.Callback.model), so the step
        # after this one reads the new rate: tests/test_backends.py checks it.
        optimizer = self.model.optimizer
        step = self.schedule_step(
            keras.ops.convert_to_numpy(optimizer.iterations), self.budget.spent_share()
        )
        optimizer.learning_rate = float(self.schedule(step))


class StepTimer(keras.callbacks.Callback):
    """Wall-clock time at the start of training and at the end of every training batch."""

    def on_train_begin(self, logs=None):
        self.times = [time.perf_counter()]

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter())


def steady_step_seconds(times, warmup_steps) -> tuple[float, int]:
    """The mean step time after warm-up, and how many steps were left out as compiles.

    `times` are a `StepTimer`'s. With dynamic padding a new batch width
    traces (or XLA-compiles) once: such a step takes many times the median
    and says nothing of the steady state. The mean of the others, not their
    median, since long batches cost more than the median one.

    Example:
    >>> steady_step_seconds([0.0, 5.0, 6.0, 7.0, 17.0, 18.0], warmup_steps=1)
    (1.0, 1)
    """
    steps = np.diff(times)[warmup_steps:]
    if not len(steps):
        return 0.0, 0
    kept = steps[steps <= 4 * np.median(steps)]
    return float(kept.mean()), int(len(steps) - len(kept))


class BestWeights(keras.callbacks.Callback):
    """Keeps the model's weights at its best validation score, and ends the stage when the
    score stops improving; at the stage's end the model holds the best weights seen.

    Keras' `EarlyStopping(restore_best_weights=True)` forgets across `fit`
    calls and across a killed run. This one starts from `start` (another
    stage's `best`, so a later stage keeps an earlier one's weights unless
    it beats them) and, with `folder`, saves the best weights and its count
    of validations without improvement there, so that a resumed stage keeps
    them and a stage that ended early stays ended (`stopped_after`).

    Args:
        monitor: the logs' key, e.g. `"val_accuracy"`.
        mode: `"max"` or `"min"`: which way is better.
        patience: validations without improvement before the stage ends
            (0: never early).
        start: `(score, weights)` to beat, or None.
        folder: where the state is kept (the stage's checkpoint folder), or None.
        restore: whether the model takes the best weights at the end.
        score: `function(model) -> float`, called at each epoch's end and
            logged under `monitor`, for a score the graph cannot count (a
            tagger's entity F1); None: `monitor` is one of the fit's own logs.

    Example:
    >>> import numpy as np
    >>> model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> best = BestWeights("val_loss", "min", patience=2)
    >>> x = np.ones((4, 1))
    >>> _ = model.fit(x, x, validation_data=(x, x), epochs=3, callbacks=[best], verbose=0)
    >>> best.best[0] == min(model.history.history["val_loss"])
    True
    >>> best = BestWeights("val_bias", "max", score=lambda model: float(model.weights[1][0]))
    >>> _ = model.fit(x, x, epochs=2, callbacks=[best], verbose=0)
    >>> best.best[0] == max(model.history.history["val_bias"])
    True
    """

    def __init__(self, monitor, mode="max", patience=0, start=None, folder=None, restore=True,
                 score=None):
        super().__init__()
        self.monitor = monitor
        self.score = score
        self.sign = 1.0 if mode == "max" else -1.0
        self.patience = patience
        self.best = start  # (score, weights) or None
        self.folder = folder
        self.restore = restore
        self.wait = 0
        self.best_epoch = None  # the epoch of this stage whose weights are kept, if any

    @staticmethod
    def stopped_after(folder) -> int | None:
        """The epochs a stage saved in `folder` ran before it ended early, or None."""
        if folder is None or not os.path.exists(os.path.join(folder, BEST_STATE_FILE)):
            return None
        return files.read_json(os.path.join(folder, BEST_STATE_FILE)).get("stopped_after")

    def on_train_begin(self, logs=None):
        state_path = self._path(BEST_STATE_FILE)
        if state_path and os.path.exists(state_path):
            state = files.read_json(state_path)
            self.wait = state["wait"]
            self.best_epoch = state.get("best_epoch")
            if self.best_epoch is not None:
                self.best = (state["score"], files.load_arrays(self._path(BEST_WEIGHTS_FILE)))

    def on_epoch_end(self, epoch, logs=None):
        if self.score is not None and logs is not None:
            logs[self.monitor] = float(self.score(self.model))
        score = (logs or {}).get(self.monitor)
        if score is None:
            return
        if self.best is None or self.sign * (score - self.best[0]) > 0:
            self.best = (float(score), self.model.get_weights())  # copies, as numpy arrays
            self.best_epoch = epoch + 1
            self.wait = 0
            if self.folder is not None:
                os.makedirs(self.folder, exist_ok=True)
                files.save_arrays(self._path(BEST_WEIGHTS_FILE), self.best[1])
        else:
            self.wait += 1
        stopped = bool(self.patience) and self.wait >= self.patience
        if stopped:
            self.model.stop_training = True
        if logs is not None:
            logs[f"best_{self.monitor}"] = self.best[0]
        if self.folder is not None:
            os.makedirs(self.folder, exist_ok=True)
            files.write_json(self._path(BEST_STATE_FILE), {
                "score": self.best[0], "best_epoch": self.best_epoch, "wait": self.wait,
                "stopped_after": epoch + 1 if stopped else None,
            })

    def on_train_end(self, logs=None):
        if self.restore and self.best is not None:
            self.model.set_weights(self.best[1])

    def _path(self, name):
        return None if self.folder is None else os.path.join(self.folder, name)
