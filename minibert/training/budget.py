"""A whole-run time budget (`--minutes`): fine-tuning's share, measured here, and the rest to pretraining.

Machines differ, and one machine's speed moves by up to 3x from day to day:
a fixed pretraining time makes a slow day miss the hour and wastes a fast
day. So the run times a few steps of each fine-tuning stage on its own data
before pretraining, extrapolates them to the stages' full length, and gives
pretraining whatever the budget has left after that share and a margin.
Pretraining then stops at its share (`callbacks.TimeBudget`), whatever its
epochs.
"""

import time

import keras
import numpy as np

from minibert.training.finetuning import (
    classifier_batches,
    new_classifier,
    prepare_stage,
    stages,
)

# Timed steps of each stage, after the warm-up ones (which trace the step).
TIMED_STEPS = 12
WARMUP_STEPS = 3
# Kept back beyond the estimate: saving, the final report, and estimation error.
MARGIN = 1.1
SAVING_SECONDS = 30.0
# A validation batch runs forward only: about a third of a training step's work.
FORWARD_SHARE = 1 / 3


def estimate_finetuning_seconds(backbone, train, validation, num_classes, config) -> float:
    """Seconds the frozen and unfrozen stages will take on this machine, from timed steps.

    The backbone's weights and trainable state are restored afterwards, so
    nothing the calibration trained reaches the run.
    """
    weights = backbone.get_weights()
    classifier = new_classifier(backbone, train, num_classes, config)
    train_batches = classifier_batches(train, config, shuffle=True)
    steps_per_epoch = int(train_batches.cardinality())
    validation_steps = int(classifier_batches(validation, config, shuffle=False).cardinality())
    total = 0.0
    try:
        for _, backbone_trainable, epochs, learning_rate in stages(config):
            if epochs <= 0:
                continue
            prepare_stage(classifier, backbone_trainable, learning_rate, steps_per_epoch, config)
            step = _step_seconds(classifier, train_batches)
            total += epochs * step * (steps_per_epoch + FORWARD_SHARE * validation_steps)
    finally:
        backbone.trainable = True
        backbone.set_weights(weights)
    return total


def pretraining_minutes(budget_minutes, elapsed_seconds, finetuning_seconds) -> float:
    """What `budget_minutes` leaves pretraining after `elapsed_seconds` and fine-tuning's share.

    Example:
    >>> pretraining_minutes(60, elapsed_seconds=60, finetuning_seconds=600)
    47.5
    """
    reserved = MARGIN * finetuning_seconds + SAVING_SECONDS
    return max(0.0, (budget_minutes * 60 - elapsed_seconds - reserved) / 60)


def _step_seconds(classifier, batches) -> float:
    times = []

    def record(batch, logs=None):
        times.append(time.perf_counter())

    timer = keras.callbacks.LambdaCallback(on_train_batch_end=record)
    start = time.perf_counter()
    classifier.fit(batches.take(WARMUP_STEPS + TIMED_STEPS), epochs=1, verbose=0,
                   callbacks=[timer], shuffle=False)
    steps = np.diff([start] + times)[WARMUP_STEPS:]
    if not len(steps):
        return 0.0
    # A step that traced a new batch width says nothing of the rest; the mean of
    # the others, as long batches cost more than the median one.
    return float(steps[steps <= 4 * np.median(steps)].mean())
