"""A whole-run time budget (`--minutes`): fine-tuning's share, measured here, and the rest to pretraining.

Machines differ, and one machine's speed moves by up to 3x from day to day:
a fixed pretraining time makes a slow day miss the hour and wastes a fast
day. So the run times a few steps of each fine-tuning stage on its own data
before pretraining, extrapolates them to the stages' full length, and gives
pretraining whatever the budget has left after that share and a margin.
Pretraining then stops at its share (`callbacks.TimeBudget`), whatever its
epochs.
"""

from minibert.tasks import get_task
from minibert.training.callbacks import StepTimer, steady_step_seconds
from minibert.training.finetuning import plan_stages, prepare_stage

# Timed steps of each stage, after the warm-up ones (which trace the step).
TIMED_STEPS = 12
WARMUP_STEPS = 3
# Kept back beyond the estimate: saving, the final report, and estimation error.
MARGIN = 1.1
SAVING_SECONDS = 30.0
# A validation batch runs forward only: about a third of a training step's work.
FORWARD_SHARE = 1 / 3


def estimate_finetuning_seconds(backbone, train, validation, data, config,
                                task="classification") -> float:
    """Seconds the frozen and unfrozen stages will take on this machine, from timed steps.

    `train` and `validation` are the task's examples (`finetune`'s). The
    backbone's weights and trainable state are restored afterwards, so
    nothing the calibration trained reaches the run.
    """
    task = get_task(task)
    weights = backbone.get_weights()
    model = task.build_model(backbone, train, data, config)
    train_batches = task.make_batches(train, config, shuffle=True)
    validation_steps = int(task.make_batches(validation, config, shuffle=False).cardinality())
    total = 0.0
    try:
        for plan in plan_stages(config, int(train_batches.cardinality())):
            prepare_stage(task, model, plan.backbone_trainable, plan.learning_rate, plan.steps,
                          config)
            step = _step_seconds(model, train_batches)
            # Early stopping may end a stage sooner: the estimate is the most it takes.
            total += step * (plan.steps + FORWARD_SHARE * validation_steps * plan.validations)
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


def _step_seconds(model, batches) -> float:
    """A steady training step of `model` on `batches`, after the warm-up steps that trace it."""
    timer = StepTimer()
    model.fit(batches.take(WARMUP_STEPS + TIMED_STEPS), epochs=1, verbose=0,
              callbacks=[timer], shuffle=False)
    return steady_step_seconds(timer.times, WARMUP_STEPS)[0]
