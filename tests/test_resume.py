"""Killing `python -m minibert train` and running the same command again resumes the run.

The kill is a real process's: SIGKILL leaves the run folder's lock behind, and SIGTERM ends the
process with its own status; those processes run side by side (`stopped_runs`). The reruns that
resume run in this process (`main(argv)`), where nothing about the process is under test.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from conftest import make_reviews, train_in_process
from minibert import runs
from minibert.reporting import reporting_to
from minibert.runs import files
from minibert.runs.lock import LOCK_FILE
from minibert.termination import Terminated, sigterm_raises_terminated


def saved_epochs(run, stage="mlm") -> int:
    """The epochs the stage's checkpoint in `run` has recorded: 0 before its first."""
    try:
        with open(run / runs.CHECKPOINTS_DIR / stage / "training_metadata.json") as file:
            return json.load(file)["epoch"]
    except (FileNotFoundError, json.JSONDecodeError):
        return 0


def sigterm_after_epoch(monkeypatch, checkpoint_dir, epoch=1):
    """A SIGTERM to this process right after the stage checkpointing into `checkpoint_dir` saved
    `epoch`: under `sigterm_raises_terminated` (as `main` runs a command), the stage ends there,
    at the epoch's end, and the run raises `Terminated` with the checkpoint written.

    The run stops at that epoch every time, where a process killed from outside stops a
    fraction of a second after the test sees the checkpoint, and short epochs run on meanwhile.
    """
    from minibert.training.checkpoints import StageCheckpoint

    save = StageCheckpoint.on_epoch_end
    stage_folder = os.path.abspath(checkpoint_dir)

    def save_then_terminate(self, index, logs=None):
        save(self, index, logs)
        if os.path.abspath(self.backup_dir) == stage_folder and index + 1 == epoch:
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(StageCheckpoint, "on_epoch_end", save_then_terminate)


def stopped_and_resumed(start, output, stage="unfrozen"):
    """Runs `start()` in this process, stopped by SIGTERM once `stage` saved its first epoch,
    then again; what the rerun returned, and the lines it reported.

    The stopped run must have left no metrics.json; the rerun must say it resumed.
    """
    with pytest.MonkeyPatch.context() as patch:
        sigterm_after_epoch(patch, output / runs.CHECKPOINTS_DIR / stage)
        with sigterm_raises_terminated(), pytest.raises(Terminated), reporting_to(
                lambda line: None):
            start()
    assert not (output / runs.METRICS_FILE).exists()
    lines = []
    with reporting_to(lines.append):
        resumed = start()
    assert any(line.startswith("resuming the unfinished run") for line in lines), lines
    return resumed, lines


# The runs stopped from outside, each once its first pretraining epoch is saved: `pretrain`
# with the masked LM, and `train` (pretraining, then both fine-tuning stages) with ELECTRA and
# WordPiece, each of which restores state of its own (the generator and discriminator; the
# WordPiece vocabulary), both killed (SIGKILL): three settings in two runs, for the suite's
# time; and a `train` that SIGTERM stops, while pretraining, so with no fine-tuning epochs.
STOPPED_RUNS = {
    "train": (["train", "--objective", "electra", "--tokenizer", "wordpiece"], signal.SIGKILL),
    "pretrain": (["pretrain"], signal.SIGKILL),
    "sigterm": (["train", "--frozen-epochs", "0", "--unfrozen-epochs", "0"], signal.SIGTERM),
}


@pytest.fixture(scope="module")
def stopped_runs(tmp_path_factory) -> dict:
    """The STOPPED_RUNS, each `python -m minibert` process signalled once its first epoch is
    saved; their processes start together, since most of each is a single-threaded start and
    on two cores they overlap. Each run's arguments, folder, exit status and output."""
    folder = tmp_path_factory.mktemp("stopped")
    csv = folder / "reviews.csv"
    make_reviews(240).to_csv(csv, index=False)
    started = {}
    for name, (arguments, _) in STOPPED_RUNS.items():
        arguments = [*arguments, "--dataset", str(csv), "--preset", "tiny",
                     "--output", str(folder / name), "--mlm-epochs", "3"]
        if name != "sigterm":
            arguments += ["--mlm-learning-rate", "1e-2"]
        # Files, not pipes: a process whose pipe is not read yet would stop when it fills.
        with open(folder / f"{name}.out", "w") as stdout, \
                open(folder / f"{name}.err", "w") as stderr:
            process = subprocess.Popen([sys.executable, "-m", "minibert", *arguments],
                                       stdout=stdout, stderr=stderr, text=True)
        started[name] = (arguments, process)
    try:
        waiting, deadline = set(started), time.monotonic() + 600
        while waiting:
            assert time.monotonic() < deadline, f"no first epoch saved within 600 s: {waiting}"
            for name in sorted(waiting):
                process = started[name][1]
                if process.poll() is not None:
                    raise AssertionError(f"the {name} run ended before its first epoch was saved:\n"
                                         f"{(folder / f'{name}.err').read_text()}")
                if saved_epochs(folder / name) >= 1:
                    process.send_signal(STOPPED_RUNS[name][1])
                    waiting.discard(name)
            time.sleep(0.2)
        for _, process in started.values():
            process.wait(timeout=120)
    finally:
        for _, process in started.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    return {name: {"arguments": arguments, "run": folder / name, "returncode": process.returncode,
                   "stdout": (folder / f"{name}.out").read_text(),
                   "stderr": (folder / f"{name}.err").read_text()}
            for name, (arguments, process) in started.items()}


@pytest.mark.parametrize("command_name", ["train", "pretrain"])
@pytest.mark.slow
def test_a_killed_run_resumes_after_its_last_saved_epoch(stopped_runs, command_name):
    # Killed once its first pretraining epoch is saved: the rerun must train epochs 2-3 only.
    killed = stopped_runs[command_name]
    run = killed["run"]
    assert not (run / runs.METRICS_FILE).exists()

    # The same command again, in this process: the kill is what needed one of its own.
    resumed = train_in_process(*killed["arguments"])
    assert "resuming the unfinished run" in resumed
    # The killed run's lock was left behind, and taken over with no manual step.
    assert "taking over the lock of process" in resumed and "no longer running" in resumed
    assert "Epoch 1/3" not in resumed and "Epoch 3/3" in resumed

    history = pd.read_csv(run / runs.HISTORY_FILE)
    mlm = history[history["stage"] == "mlm"]
    assert list(mlm["epoch"]) == [1, 2, 3]  # every epoch once, the killed run's first
    # Weights and optimizer state were restored: the resumed epochs' loss
    # stays well below the first epoch's (it plateaus, so no strict fall),
    # where a fresh start would average about the first epoch's again.
    assert mlm["loss"].iloc[1:].max() < 0.95 * mlm["loss"].iloc[0]
    stages = ["mlm", "frozen", "unfrozen"] if command_name == "train" else ["mlm"]
    assert list(history["stage"].unique()) == stages
    # The points within epochs too: the killed run's first epoch once, then the rerun's.
    steps = pd.read_csv(run / runs.STEPS_FILE)
    mlm_steps = steps[steps["stage"] == "mlm"]["epoch"]
    assert mlm_steps.is_monotonic_increasing and mlm_steps.is_unique and mlm_steps.max() == 3
    assert (run / runs.METRICS_FILE).exists()
    assert not (run / runs.CHECKPOINTS_DIR).exists()
    assert not (run / LOCK_FILE).exists()  # let go of when the run ended


def _prepare(run, request, overwrite=False) -> bool:
    """Whether a command of `request` would resume the run in `run`."""
    with runs.RunFolder(run).writing(request, overwrite) as resuming:
        return resuming


@pytest.mark.slow
def test_sigterm_ends_a_run_in_one_line_and_the_same_command_resumes(stopped_runs):
    # What `docker stop`, Kubernetes and Slurm send: treated as Ctrl-C, with SIGTERM's status.
    stopped = stopped_runs["sigterm"]
    run, stderr = stopped["run"], stopped["stderr"]
    assert stopped["returncode"] == 143, stopped["stdout"] + stderr
    assert stderr.strip().splitlines()[-1] == (
        "terminated (SIGTERM): run the same command again to resume"
    )
    assert "Traceback" not in stderr
    assert not (run / runs.METRICS_FILE).exists()
    assert not (run / LOCK_FILE).exists()  # let go of on the way out, not left to take over

    resumed = train_in_process(*stopped["arguments"])  # the same command, in this process
    assert "resuming the unfinished run" in resumed
    assert "taking over the lock" not in resumed
    assert "Epoch 1/3" not in resumed and "Epoch 3/3" in resumed
    assert (run / runs.METRICS_FILE).exists()


def test_an_unfinished_run_with_other_settings_is_not_resumed(tmp_path):
    run = tmp_path / "run"
    assert _prepare(run, {"epochs": 4}) is False
    assert _prepare(run, {"epochs": 4}) is True
    with pytest.raises(FileExistsError, match="unfinished run with other settings"):
        _prepare(run, {"epochs": 5})
    assert _prepare(run, {"epochs": 5}, overwrite=True) is False


def test_a_finished_run_is_neither_resumed_nor_overwritten(tmp_path):
    run = tmp_path / "run"
    _prepare(run, {"epochs": 4})
    files.write_json(run / runs.METRICS_FILE, {})
    with pytest.raises(FileExistsError, match="already exists"):
        _prepare(run, {"epochs": 4})
    # Overwritten, it is an unfinished run again: a kill now leaves it resumable.
    assert _prepare(run, {"epochs": 4}, overwrite=True) is False
    assert not (run / runs.METRICS_FILE).exists()
    assert _prepare(run, {"epochs": 4}) is True


def test_a_model_fitted_again_after_a_restored_stage_trains_every_epoch_of_the_next(tmp_path):
    # The frozen stage resumes from its checkpoint; the unfrozen stage that
    # follows on the same model must still train all its epochs, not skip as
    # many as the frozen stage restored.
    import keras
    import numpy as np

    from minibert.training.checkpoints import StageCheckpoint

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x, y = np.zeros((4, 2)), np.zeros((4, 1))
    model.fit(x, y, epochs=2, callbacks=[StageCheckpoint(tmp_path / "first")], verbose=0)
    first = StageCheckpoint(tmp_path / "first")
    model.fit(x, y, epochs=3, callbacks=[first], verbose=0)
    assert first.resumed_epochs == 2
    second = StageCheckpoint(tmp_path / "second")
    history = model.fit(x, y, epochs=2, callbacks=[second], verbose=0)
    assert second.resumed_epochs == 0 and len(history.history["loss"]) == 2
