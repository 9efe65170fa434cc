"""Trust at the edges: one writer per run folder, and a disk that refuses a write, in one line."""

import errno
import os
import shutil
import subprocess
import sys
import time

import pandas as pd
import pytest
from conftest import make_reviews
from test_cli import minibert

from minibert import runs
from minibert.reporting import reporting_to
from minibert.runs import files
from minibert.runs.lock import LOCK_FILE, RunFolderLocked, lock_holder, run_folder_lock

HOLD = """
import sys, time
from minibert.runs.lock import run_folder_lock
with run_folder_lock(sys.argv[1]):
    print("held", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def reviews(tmp_path):
    csv = tmp_path / "reviews.csv"
    make_reviews(160).to_csv(csv, index=False)
    return csv


def train(reviews, run, *flags, check=False):
    # Two pretraining epochs and no fine-tuning ones: what these runs meet happens by the end
    # of pretraining.
    return minibert("train", "--dataset", str(reviews), "--preset", "tiny", "--output", str(run),
                    "--mlm-epochs", "2", "--frozen-epochs", "0", "--unfrozen-epochs", "0", *flags,
                    check=check)


def wait_for(condition, timeout=120):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.mark.slow
def test_a_second_train_into_a_folder_in_use_is_refused_and_the_first_finishes(reviews, tmp_path):
    run = tmp_path / "run"
    # A pretraining epoch keeps the folder in use for seconds after the lock is taken.
    first = subprocess.Popen(
        [sys.executable, "-m", "minibert", "train", "--dataset", str(reviews), "--preset", "tiny",
         "--output", str(run), "--frozen-epochs", "0", "--unfrozen-epochs", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        wait_for(lambda: lock_holder(run) is not None or first.poll() is not None)
        second = train(reviews, run)
        assert second.returncode == 2
        assert second.stderr.count("\n") == 1 and second.stderr.startswith(
            f"error: run folder {run} is in use by process {first.pid} on ")
        assert f"kill {first.pid}" in second.stderr and "choose another --output" in second.stderr
        output, _ = first.communicate(timeout=300)
    finally:
        first.kill()
    assert first.returncode == 0, output
    assert "saved to" in output and not (run / LOCK_FILE).exists()
    predicted = minibert("predict", str(run), "a wonderful film")
    assert predicted.returncode == 0


@pytest.mark.slow
def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        assert lock_holder(tmp_path)["pid"] == holder.pid
        with pytest.raises(RunFolderLocked, match=f"process {holder.pid}"):
            with run_folder_lock(tmp_path):
                pass
    finally:
        holder.kill()  # SIGKILL: no clean-up runs, the file stays
        holder.wait()
    assert (tmp_path / LOCK_FILE).exists() and lock_holder(tmp_path) is None
    lines = []
    with reporting_to(lines.append), run_folder_lock(tmp_path):
        assert lock_holder(tmp_path)["pid"] == os.getpid()
    assert lines == [lines[0]] and f"lock of process {holder.pid}" in lines[0]
    assert "no longer running" in lines[0]


def disk_full_at(name, monkeypatch):
    """Every write of a file called `name` fails as on a full disk, after writing nothing."""
    move = files.move_into_place

    def full(temporary, path):
        if os.path.basename(path) == name:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        move(temporary, path)

    monkeypatch.setattr(files, "move_into_place", full)


@pytest.mark.slow
def test_a_full_disk_ends_in_one_line_and_the_rerun_finishes_every_epoch_once(
        reviews, tmp_path, monkeypatch):
    run = tmp_path / "run"
    disk_full_at(runs.MLM_FILE, monkeypatch)
    failed = train(reviews, run)
    assert failed.returncode == 2
    assert failed.stderr == (f"error: could not write {run}/mlm.keras: No space left on device; "
                             "free space or choose --output\n")
    # What was written before stays whole, and no half-written file is left.
    assert files.read_json(run / runs.CONFIG_FILE)["model"]["sequence_length"] == 32
    assert not [name for name in os.listdir(run) if name.startswith(".tmp-")]
    # A reader is told the run stopped, not that a file is missing.
    predicted = minibert("predict", str(run), "a wonderful film", check=False)
    assert predicted.returncode == 2 and "unfinished run that was stopped" in predicted.stderr

    monkeypatch.undo()  # space freed
    resumed = train(reviews, run)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "resuming the unfinished run" in resumed.stdout
    history = pd.read_csv(run / runs.HISTORY_FILE)
    assert list(zip(history["stage"], history["epoch"])) == [("mlm", 1), ("mlm", 2)]


def test_a_write_inside_keras_that_the_disk_refuses_is_one_line_too(reviews, tmp_path, monkeypatch):
    import keras

    def full(self, filepath, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(filepath))

    monkeypatch.setattr(keras.Model, "save_weights", full)  # the epoch checkpoints
    failed = train(reviews, tmp_path / "run")
    assert failed.returncode == 2 and failed.stderr.count("\n") == 1
    assert failed.stderr.startswith(f"error: could not write {tmp_path / 'run'}/checkpoints/mlm/")
    assert failed.stderr.endswith("No space left on device; free space or choose --output\n")


def test_too_little_free_space_is_found_before_pretraining(reviews, tmp_path, monkeypatch):
    full = shutil._ntuple_diskusage(2**30, 2**30, 0)
    monkeypatch.setattr(runs.folder.shutil, "disk_usage", lambda path: full)
    failed = train(reviews, tmp_path / "run")
    assert failed.returncode == 2 and failed.stderr.count("\n") == 1
    assert "0.0 MiB free on its disk" in failed.stderr and "free space or choose --output" in failed.stderr
    assert "stage mlm" not in failed.stdout


@pytest.mark.parametrize("code, fix", [
    (errno.EROFS, "the disk is read-only; choose --output"),
    (errno.EACCES, "make the folder writable or choose --output"),
    (errno.EDQUOT, "free space (the disk quota is reached) or choose --output"),
])
def test_each_refused_write_names_its_way_out(tmp_path, monkeypatch, code, fix):
    def refuse(temporary, path):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(files, "move_into_place", refuse)
    (tmp_path / "metrics.json").write_text("{}")
    with pytest.raises(files.WriteError) as error:
        files.write_json(tmp_path / "metrics.json", {"accuracy": 1})
    assert str(error.value) == f"could not write {tmp_path}/metrics.json: {os.strerror(code)}; {fix}"
    assert (tmp_path / "metrics.json").read_text() == "{}"  # the earlier file is intact


def test_an_output_that_is_a_file_is_refused_in_one_line(reviews, tmp_path):
    (tmp_path / "run").write_text("not a folder")
    failed = train(reviews, tmp_path / "run")
    assert failed.returncode == 2
    assert failed.stderr == (f"error: could not write {tmp_path / 'run'}: File exists; "
                             "a file is in the way; move it or choose --output\n")


def test_an_output_where_no_folder_can_be_made_is_refused_in_one_line(reviews):
    failed = train(reviews, "/proc/nope/run")
    assert failed.returncode == 2
    assert failed.stderr == ("error: could not write /proc/nope/run: No such file or directory; "
                             "a folder on its path is missing or cannot be made; choose --output\n")


def test_a_reader_of_a_run_still_training_says_so(tmp_path):
    (tmp_path / runs.CHECKPOINTS_DIR).mkdir()
    with run_folder_lock(tmp_path):
        results = [minibert("fill-mask", str(tmp_path), "the [mask] was great", check=False),
                   minibert("plot", str(tmp_path), check=False)]
    for result in results:
        assert result.returncode == 2 and result.stderr.count("\n") == 1
        assert f"{tmp_path} is still training (process {os.getpid()} on " in result.stderr
