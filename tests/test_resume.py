"""Killing `python -m minibert train` and running the same command again resumes the run."""

import json
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
from conftest import make_reviews

from minibert import runs
from minibert.runs import files
from minibert.runs.lock import LOCK_FILE


def wait_for_epoch(process, metadata_path, epoch, timeout=600):
    """Waits until the stage's checkpoint has recorded `epoch` epochs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the run ended before epoch {epoch}:\n{process.stdout.read()}")
        try:
            with open(metadata_path) as file:
                if json.load(file)["epoch"] >= epoch:
                    return
        except (FileNotFoundError, json.JSONDecodeError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"no checkpoint of epoch {epoch} within {timeout} s")


def kill_after_epoch(command, metadata_path, epoch=1):
    """Starts `command` and kills it (SIGKILL) once the stage at `metadata_path` saved `epoch`."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_epoch(process, metadata_path, epoch)
    finally:
        process.kill()
        process.wait()


def killed_and_resumed(command, output, stage="unfrozen"):
    """Kills `command` once `stage` saved its first epoch, runs it again; the run's history.

    The rerun must exit 0 and say it resumed; the killed run must have left no metrics.json.
    """
    kill_after_epoch(command, output / runs.CHECKPOINTS_DIR / stage / "training_metadata.json")
    assert not (output / runs.METRICS_FILE).exists()
    resumed = subprocess.run(command, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resuming the unfinished run" in resumed.stdout
    return pd.read_csv(output / runs.HISTORY_FILE)


@pytest.mark.parametrize(
    "command_name, flags",
    # `pretrain` with the masked LM, and `train` (pretraining, then both
    # fine-tuning stages) with ELECTRA and WordPiece, each of which restores
    # state of its own (the generator and discriminator; the WordPiece
    # vocabulary): three settings in two runs, for the suite's time.
    [("train", ["--objective", "electra", "--tokenizer", "wordpiece"]), ("pretrain", [])],
)
@pytest.mark.slow
def test_a_killed_run_resumes_after_its_last_saved_epoch(tmp_path, command_name, flags):
    # Killed once its first pretraining epoch is saved: the rerun must train epochs 2-3 only.
    csv = tmp_path / "reviews.csv"
    make_reviews(240).to_csv(csv, index=False)
    run = tmp_path / "run"
    command = [
        sys.executable, "-m", "minibert", command_name, "--dataset", str(csv), "--preset", "tiny",
        "--output", str(run), "--mlm-epochs", "3", "--mlm-learning-rate", "1e-2",
        *flags,
    ]
    kill_after_epoch(command, run / "checkpoints" / "mlm" / "training_metadata.json")
    assert not (run / runs.METRICS_FILE).exists()

    resumed = subprocess.run(command, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resuming the unfinished run" in resumed.stdout
    # The killed run's lock was left behind, and taken over with no manual step.
    assert "taking over the lock of process" in resumed.stdout and "no longer running" in resumed.stdout
    assert "Epoch 1/3" not in resumed.stdout and "Epoch 3/3" in resumed.stdout

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
def test_sigterm_ends_a_run_in_one_line_and_the_same_command_resumes(tmp_path):
    # What `docker stop`, Kubernetes and Slurm send: treated as Ctrl-C, with SIGTERM's status.
    csv = tmp_path / "reviews.csv"
    make_reviews(240).to_csv(csv, index=False)
    run = tmp_path / "run"
    command = [
        sys.executable, "-m", "minibert", "train", "--dataset", str(csv), "--preset", "tiny",
        "--output", str(run), "--mlm-epochs", "3",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_epoch(process, run / "checkpoints" / "mlm" / "training_metadata.json", 1)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 143, stdout + stderr
    assert stderr.strip().splitlines()[-1] == (
        "terminated (SIGTERM): run the same command again to resume"
    )
    assert "Traceback" not in stderr
    assert not (run / runs.METRICS_FILE).exists()
    assert not (run / LOCK_FILE).exists()  # let go of on the way out, not left to take over

    resumed = subprocess.run(command, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resuming the unfinished run" in resumed.stdout
    assert "taking over the lock" not in resumed.stdout
    assert "Epoch 1/3" not in resumed.stdout and "Epoch 3/3" in resumed.stdout
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
