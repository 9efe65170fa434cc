"""A multi-host JAX job run for real: two processes on localhost train as one process does.

Each process is a `python -m minibert train --distribute data-parallel` with
one CPU device, joined by `keras.distribution.initialize` (the coordinator on
127.0.0.1). Their result must equal one process's (`--distribute none`),
loss and weights, within the 2-device test's tolerance (test_distribution),
and only process 0 may write the run folder.
"""

import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pandas as pd
import pytest
from conftest import make_reviews

pytestmark = pytest.mark.slow  # the whole module: one job of two processes, and its reference

TIMEOUT = 300  # seconds per run: a hung job is killed, not waited for


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def train_command(csv, output, distribute):
    # No dropout: its masks are drawn per device, and would differ by layout.
    return [sys.executable, "-m", "minibert", "train", "--dataset", str(csv), "--preset", "tiny",
            "--dropout", "0", "--distribute", distribute, "--output", str(output)]


def weights(run, name):
    """The weights of a model the JAX runs saved, loaded here (under TensorFlow)."""
    return keras.models.load_model(run / name).get_weights()


def test_two_processes_on_localhost_train_as_one(tmp_path):
    csv = tmp_path / "reviews.csv"
    # 64 rows to train, 16 to validate: every batch whole (8 rows), no padding. Few
    # steps (8 a stage), as in the 2-device test: Adam moves a weight whose
    # gradient is ~0 by about the learning rate whichever way the rounding of
    # the two processes' sum tips it, so differences grow with the steps.
    make_reviews(80).to_csv(csv, index=False)
    job = dict(os.environ, KERAS_BACKEND="jax",
               KERAS_DISTRIBUTION_JOB_ADDRESSES=f"127.0.0.1:{free_port()}",
               KERAS_DISTRIBUTION_NUM_PROCESSES="2")
    job.pop("XLA_FLAGS", None)  # one CPU device per process
    outputs = [tmp_path / "process0", tmp_path / "process1"]
    single = tmp_path / "single"
    # The job's two processes and the one-process run, side by side: most of
    # each is starting up and compiling, which overlaps well on two cores.
    commands = [(train_command(csv, output, "data-parallel"),
                 dict(job, KERAS_DISTRIBUTION_PROCESS_ID=str(index)))
                for index, output in enumerate(outputs)]
    commands.append((train_command(csv, single, "none"), dict(os.environ, KERAS_BACKEND="jax")))
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, env=env) for command, env in commands]
    try:
        logs = [process.communicate(timeout=TIMEOUT)[0] for process in processes]
    finally:
        for process in processes:
            process.kill()
    assert [process.returncode for process in processes] == [0, 0, 0], "\n".join(logs)
    assert "each batch split across 2 devices" in logs[0]
    assert "process 1 of a multi-host job" in logs[1]
    assert not outputs[1].exists()  # only the coordinator writes

    job_history = pd.read_csv(outputs[0] / "history.csv")
    single_history = pd.read_csv(single / "history.csv")
    assert list(job_history["stage"]) == ["mlm", "frozen", "unfrozen"]
    for column in ("loss", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(job_history[column], single_history[column], rtol=1e-4)
    for name in ("mlm.keras", "classifier.keras"):
        for job_weights, single_weights in zip(weights(outputs[0], name), weights(single, name)):
            np.testing.assert_allclose(job_weights, single_weights, atol=1e-5)
