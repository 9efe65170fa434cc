"""A whole-run time budget (`--minutes`): fine-tuning's share, measured here, and the rest to pretraining.

Machines differ, and one machine's speed moves by up to 3x from day to day:
a fixed pretraining time makes a slow day miss the hour and wastes a fast
day. So the run times a few steps of each fine-tuning stage on its own data
before pretraining, extrapolates them to the stages' full length, and gives
pretraining whatever the budget has left after that share and a margin.
Pretraining then stops at its share (`callbacks.TimeBudget`), whatever its
epochs.

A busy minute while fine-tuning is timed would decide the whole hour (a
calibration run beside `pip install` reserved 46 minutes for fine-tuning that
took 15). So a `SpeedProbe` times a fixed piece of host work beside the
calibration and again every minute of pretraining, and `PretrainingShare`
scales fine-tuning's estimate by how much slower or faster the machine runs
now: pretraining's end moves with the machine, not with its first minute.
"""

import dataclasses
import statistics
import time

import numpy as np

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


# Pretraining starts with at least this share of the budget, even where the
# calibration left it less: a busy calibration must not skip pretraining before
# the first re-plan can see that the machine is quiet again. At worst (a machine
# that stays that slow) the run overruns by this share.
FIRST_STRETCH_SHARE = 0.05
# The probe's slowdown is held within these: a probe that missed the load
# (or caught a moment's stall) must not move the plan without bound.
SLOWDOWN_RANGE = (0.1, 10.0)


def elementwise_work(size=262_144, repeats=240):
    """The probe's work: ~30 ms of one thread's arithmetic on a quiet core.

    One thread and long enough to span many scheduler slices, so that its
    time says what share of a core a process gets: a short multi-threaded
    matrix product instead read 2 to 200 times its quiet time right after a
    training step, while TensorFlow's own threads spun down, and nothing
    under two competing processes.
    """
    values = np.linspace(0, 1, size, dtype=np.float32)
    for _ in range(repeats):
        values = np.tanh(values * 1.01 + 0.1)


class SpeedProbe:
    """How slowly the machine runs now against its speed while fine-tuning was timed.

    `calibrate()` is called beside each timed fine-tuning stage; `slowdown()`
    times the work again and returns it over the calibration's median: 2.0
    where another process now takes half the machine, 0.2 where the
    calibration ran on a machine five times busier than now. Each timing
    is the median of `repeats`, each after `settle_seconds` of sleep that
    lets the training step's threads go idle.

    Args:
        work: the function timed; `elementwise_work` unless a test gives its own.
        clock: seconds from any fixed start (a fake one in tests).
        repeats: timings of the work per reading.
        settle_seconds: the sleep before each timing.

    Example:
    >>> probe = SpeedProbe()
    >>> probe.calibrate()
    >>> 0.1 <= probe.slowdown() <= 10.0
    True
    """

    def __init__(self, work=elementwise_work, clock=time.perf_counter, repeats=3,
                 settle_seconds=0.02):
        self.work = work
        self.clock = clock
        self.repeats = repeats
        self.settle_seconds = settle_seconds
        self.reference = []

    def time_work(self) -> float:
        timings = []
        for _ in range(self.repeats):
            time.sleep(self.settle_seconds)
            start = self.clock()
            self.work()
            timings.append(self.clock() - start)
        return statistics.median(timings)

    def calibrate(self):
        self.reference.append(self.time_work())

    def slowdown(self) -> float:
        now = self.time_work()
        if not self.reference:
            return 1.0
        ratio = now / max(statistics.median(self.reference), 1e-9)
        return float(np.clip(ratio, *SLOWDOWN_RANGE))


@dataclasses.dataclass
class PretrainingShare:
    """Pretraining's minutes within a whole-run budget, re-planned at the machine's speed now.

    `minutes()` is what `callbacks.TimeBudget(replan=...)` calls as
    pretraining goes: the budget less the time spent before pretraining,
    less fine-tuning's estimate scaled by the probe's slowdown (and capped
    at `cap_minutes`, the run's own `max_minutes`).

    Example:
    >>> share = PretrainingShare(60, elapsed_seconds=60, finetuning_seconds=600, probe=None)
    >>> share.minutes(slowdown=1.0), share.minutes(slowdown=0.5), share.minutes(slowdown=10)
    (47.5, 53.0, 0.0)
    >>> busy = PretrainingShare(60, elapsed_seconds=60, finetuning_seconds=4000, probe=None)
    >>> busy.minutes(slowdown=1.0), busy.first_minutes()  # a first stretch, then re-planned
    (0.0, 3.0)
    """

    budget_minutes: float
    elapsed_seconds: float
    finetuning_seconds: float
    probe: SpeedProbe | None
    cap_minutes: float | None = None
    last_slowdown: float = 1.0
    last_minutes: float | None = None

    def first_minutes(self) -> float:
        """The share planned from the calibration, but at least a first stretch to re-plan after.

        A budget of a minute or two rounds that stretch away (`within_minutes`).
        """
        return self._capped(max(self.minutes(slowdown=1.0),
                                FIRST_STRETCH_SHARE * self.budget_minutes))

    def minutes(self, slowdown=None) -> float:
        if slowdown is None:
            slowdown = self.probe.slowdown() if self.probe is not None else 1.0
        self.last_slowdown = slowdown
        return self._capped(pretraining_minutes(self.budget_minutes, self.elapsed_seconds,
                                                self.finetuning_seconds * slowdown))

    def _capped(self, share) -> float:
        self.last_minutes = share if self.cap_minutes is None else min(share, self.cap_minutes)
        return self.last_minutes


def estimate_finetuning_seconds(examples, backbone, config, probe=None) -> float:
    """Seconds the frozen and unfrozen stages will take on this machine, from timed steps.

    `examples` are the task's (`minibert.training.finetuning.TaskExamples`,
    `finetune`'s). The backbone's weights and trainable state are restored
    afterwards, so nothing the calibration trained reaches the run. A
    `SpeedProbe` is calibrated before and after each stage's timed steps.
    """
    weights = backbone.get_weights()
    model, train_batches, validation_batches = examples.new_model(backbone, config)
    validation_steps = int(validation_batches.cardinality())
    total = 0.0
    try:
        for plan in plan_stages(config, int(train_batches.cardinality())):
            prepare_stage(examples.task, model, plan, config)
            if probe is not None:
                probe.calibrate()
            step = _step_seconds(model, train_batches)
            if probe is not None:
                probe.calibrate()
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
