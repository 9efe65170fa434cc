"""The time budget: a stage stops within its minutes, a schedule fits them, and a whole run's
budget measures fine-tuning first and gives pretraining the rest.

The callbacks' tests advance a fake clock (`TimeBudget(clock=...)`) instead of sleeping; the
whole-run tests are real runs on the real clock (marked slow).
"""

import dataclasses

import keras
import numpy as np
import pandas as pd
import pytest
from test_training import tiny_config, tiny_data

from minibert.reporting import reporting_to
from minibert.training import run


@pytest.mark.slow
def test_a_time_budget_stops_pretraining_early(tmp_path):
    config = tiny_config(mlm_epochs=50, frozen_epochs=0, unfrozen_epochs=0)
    config = dataclasses.replace(
        config, pretrain=dataclasses.replace(config.pretrain, max_minutes=0.001)
    )
    run(tiny_data(), config, str(tmp_path / "run"), verbose=0)
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    assert (history["stage"] == "mlm").sum() == 1  # stopped within the first epoch


class FakeClock:
    """Seconds that pass only when a test advances them: a budget spent without waiting for it."""

    def __init__(self):
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds

    def advance(self, seconds):
        self.seconds += seconds


def test_a_time_budget_keeps_the_stopped_epochs_validation_and_callbacks_inside_it():
    from minibert.training.callbacks import TimeBudget

    clock = FakeClock()

    class SlowSteps(keras.callbacks.Callback):
        # 10 steps of 0.05 s, then 1 s of epoch-end work (as validation, checkpoints).
        def on_train_batch_end(self, batch, logs=None):
            clock.advance(0.05)

        def on_epoch_end(self, epoch, logs=None):
            clock.advance(1.0)

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    budget = TimeBudget(minutes=4 / 60, clock=clock)
    history = model.fit(np.zeros((10, 2)), np.zeros((10, 1)), batch_size=1, epochs=20, verbose=0,
                        callbacks=[SlowSteps(), budget])
    # Epochs of 1.5 s: blind to the epoch's end, the budget would let epoch 3 finish at 4.5 s
    # and stop epoch 4 at its first step, ending at 5.55 s. Knowing it, epoch 3 stops at its
    # first step and ends at 4.05 s.
    assert budget.epoch_end_seconds == pytest.approx(1.0)
    assert len(history.history["loss"]) == 3
    assert clock() == pytest.approx(4.05)


def test_a_time_budget_reads_the_real_clock_unless_given_one():
    import time

    from minibert.training.callbacks import TimeBudget

    assert TimeBudget(minutes=1).clock is time.perf_counter


def test_a_budgeted_schedule_decays_to_zero_when_the_minutes_run_out_before_the_steps():
    from minibert.training.callbacks import BudgetedSchedule, TimeBudget
    from minibert.training.optimization import WarmupLinearDecay

    clock = FakeClock()
    rates = []

    class SlowSteps(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            rates.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))
            clock.advance(0.02)

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    budget = TimeBudget(minutes=3 / 60, clock=clock)
    # 10,000 steps would take minutes: by steps alone the rate would still be near its peak.
    schedule = BudgetedSchedule(WarmupLinearDecay(1e-2, 1000, 10_000), 10_000, budget)
    model.fit(np.zeros((10, 2)), np.zeros((10, 1)), batch_size=1, epochs=1000, verbose=0,
              callbacks=[SlowSteps(), budget, schedule])
    assert len(rates) == pytest.approx(150, abs=1)  # three seconds of 0.02 s steps
    peak = int(np.argmax(rates))
    assert max(rates) > 0.8e-2 and 0 < peak < len(rates) - 1  # warmed up over ~10% of the time
    assert rates[-1] < 0.1e-2  # and decayed to ~0 as the three seconds ran out


def test_a_calibration_five_times_slow_for_its_first_minute_still_leaves_pretraining_its_share():
    from minibert.training.budget import (
        PretrainingShare,
        SpeedProbe,
        pretraining_minutes,
    )
    from minibert.training.callbacks import TimeBudget

    clock = FakeClock()

    def slowness():  # the machine runs 5x slow for its first minute, then quiet
        return 5.0 if clock() < 60 else 1.0

    probe = SpeedProbe(work=lambda: clock.advance(0.03 * slowness()), clock=clock, settle_seconds=0)
    # The calibration: two fine-tuning stages timed, the probe beside each, all in the slow minute.
    for _ in range(2):
        probe.calibrate()
        clock.advance(5 * slowness())
        probe.calibrate()
    assert clock() < 60
    quiet_finetuning_seconds = 15 * 60
    share = PretrainingShare(60, clock(), 5 * quiet_finetuning_seconds, probe)
    # A quiet machine calibrates in a fifth of the time and measures fine-tuning as it is.
    quiet_share = pretraining_minutes(60, clock() / 5, quiet_finetuning_seconds)
    # Planned on the busy minute alone, pretraining would be skipped: 5 x 15 minutes > the hour.
    assert share.minutes(slowdown=1.0) == 0
    planned = share.first_minutes()  # a first stretch instead, to re-plan after
    assert planned == pytest.approx(3.0)

    # Steps of 6 s: the budget's ~43 minutes in ~430 steps (each a real Keras step's callbacks).
    step_seconds = 6.0

    class QuietSteps(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            clock.advance(step_seconds * slowness())

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    start = clock()
    budget = TimeBudget(planned, clock=clock, replan=share.minutes)
    model.fit(np.zeros((10, 2)), np.zeros((10, 1)), batch_size=1, epochs=1000, verbose=0,
              callbacks=[QuietSteps(), budget])
    pretrained_seconds = clock() - start
    assert pretrained_seconds >= 0.8 * quiet_share * 60
    assert share.last_slowdown == pytest.approx(0.2)
    # And the whole run still fits: fine-tuning as it really runs, with the budget's margin.
    # (Within one step: the budget stops at the end of the step that reaches it.)
    assert clock() + 1.1 * quiet_finetuning_seconds + 30 <= 60 * 60 + step_seconds


def test_a_machine_that_slows_down_during_pretraining_gives_fine_tuning_more_time():
    from minibert.training.budget import PretrainingShare, SpeedProbe

    clock = FakeClock()
    timings = iter([1, 1, 1,  # the calibration
                    1, 1, 1,  # pretraining, quiet
                    1, 9, 1,  # one slow moment: the median of three readings moves nothing
                    2, 2, 9])  # a slow stretch does
    probe = SpeedProbe(work=lambda: clock.advance(0.03 * next(timings)), clock=clock,
                       settle_seconds=0)
    probe.calibrate()
    share = PretrainingShare(60, 0.0, 10 * 60, probe)
    quiet = share.minutes()
    assert share.minutes() == pytest.approx(quiet)
    assert share.minutes() == pytest.approx(quiet - 1.1 * 10)
    assert share.last_slowdown == pytest.approx(2.0)


def test_a_re_plan_that_leaves_nothing_stops_the_stage_at_once():
    from minibert.training.callbacks import TimeBudget

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    clock = FakeClock()

    class Steps(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            clock.advance(30.0)

    budget = TimeBudget(10, clock=clock, replan=lambda: 0.0)
    history = model.fit(np.zeros((10, 2)), np.zeros((10, 1)), batch_size=1, epochs=5, verbose=0,
                        callbacks=[Steps(), budget])
    assert len(history.history["loss"]) == 1 and clock() == pytest.approx(60.0)


@pytest.mark.slow
def test_pretraining_with_a_decaying_schedule_ends_it_at_the_time_budget(tmp_path):
    config = tiny_config(mlm_epochs=200, frozen_epochs=0, unfrozen_epochs=0)
    config = dataclasses.replace(config, pretrain=dataclasses.replace(
        # 12 s: enough batches that the last one starts near the budget's end on a busy machine.
        config.pretrain, max_minutes=0.2, schedule="linear", learning_rate=1e-2,
    ))
    run(tiny_data(), config, str(tmp_path / "run"), verbose=0)
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    assert (history["stage"] == "mlm").sum() < 200
    masked_lm = keras.models.load_model(tmp_path / "run" / "mlm.keras")
    # By steps, the 200 epochs' schedule would be near its peak (warmed up over 20 epochs).
    assert float(keras.ops.convert_to_numpy(masked_lm.optimizer.learning_rate)) < 1e-3


@pytest.mark.slow
def test_a_whole_run_budget_measures_fine_tuning_first_and_pretrains_in_what_is_left(tmp_path):
    data = tiny_data()
    config = dataclasses.replace(tiny_config(mlm_epochs=200), minutes=1.0)
    lines = []
    with reporting_to(lines.append):
        metrics = run(data, config, str(tmp_path / "run"), verbose=0)
    budget = metrics["budget"]
    assert budget["finetuning_estimate_seconds"] > 0
    assert 0 < budget["pretraining_minutes"] < 1.0
    assert any(line.startswith("budget 1 minutes: fine-tuning measured at") for line in lines)
    # 200 epochs would take far longer: the budget stopped pretraining at its share.
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    assert 0 < (history["stage"] == "mlm").sum() < 200
    share = max(budget["pretraining_minutes"], budget["replanned_pretraining_minutes"])
    assert metrics["stages"]["mlm"]["seconds"] <= share * 60 + 20
    assert metrics["total_seconds"] <= 60 + 30


def test_estimating_fine_tuning_leaves_the_backbone_as_it_was(monkeypatch):
    from minibert.data.tokenizer import build_vectorizer
    from minibert.models import Backbone
    from minibert.tasks.classification.task import CLASSIFICATION
    from minibert.training import budget
    from minibert.training.budget import estimate_finetuning_seconds
    from minibert.training.finetuning import TaskExamples

    data = tiny_data()
    vectorizer = build_vectorizer(data.train["text"], 200, 32)
    backbone = Backbone(vectorizer.vocabulary_size(), 32, 16, 2, 2, 32)
    before = [weight.copy() for weight in backbone.get_weights()]
    # Fewer timed steps than a run takes: what is checked is what the timing leaves behind.
    monkeypatch.setattr(budget, "TIMED_STEPS", 3)
    monkeypatch.setattr(budget, "WARMUP_STEPS", 1)
    examples = TaskExamples.of(CLASSIFICATION, vectorizer, data, tiny_config())
    seconds = estimate_finetuning_seconds(examples, backbone, tiny_config())
    assert seconds > 0 and backbone.trainable
    for old, new in zip(before, backbone.get_weights()):
        np.testing.assert_array_equal(old, new)


@pytest.mark.slow
def test_a_budget_too_short_for_fine_tuning_skips_pretraining(tmp_path):
    lines = []
    config = dataclasses.replace(tiny_config(mlm_epochs=3), minutes=0.3)  # 18 s: under the reserve
    with reporting_to(lines.append):
        metrics = run(tiny_data(), config, str(tmp_path / "run"), verbose=0)
    assert metrics["budget"]["pretraining_minutes"] == 0
    assert "mlm" not in metrics["stages"] and set(metrics["stages"]) == {"frozen", "unfrozen"}
    assert any("0.0 minutes left for pretraining" in line for line in lines)
