"""Nothing lost: saves are atomic, and damaged or foreign files fail in one line."""

import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from minibert import runs
from minibert.cli import main
from minibert.models import Backbone
from minibert.runs import files
from minibert.tasks.classification.classifier import Classifier
from minibert.tasks.table import TASKS

# Saves the same classifier over and over, each time with new weights, and
# says which version it is writing; the test kills it in the middle of one.
SAVE_FOREVER = """
import sys, numpy as np
from minibert import runs
from minibert.runs import files
from minibert.models import Backbone
from minibert.tasks.classification.classifier import Classifier
path = sys.argv[1]
# A 20,000-word embedding makes each save take long enough to be caught in.
model = Classifier(Backbone(20000, 8, 64, num_layers=1, num_heads=2, intermediate_dim=32))
for version in range(1, 1000):
    for weight in model.weights:
        weight.assign(np.full(weight.shape, version, weight.dtype))
    print("saving", version, flush=True)
    files.save_model(model, path)
    print("saved", version, flush=True)
"""


def _small_classifier():
    return Classifier(Backbone(30, 8, 8, num_layers=1, num_heads=2, intermediate_dim=8))


def _kill_in_the_middle_of_the_third_save(path) -> bool:
    """Runs SAVE_FOREVER, kills it half-way through writing version 3; False if too late."""
    child = subprocess.Popen(
        [sys.executable, "-c", SAVE_FOREVER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        lines = {}
        for line in child.stdout:
            lines[line.strip()] = time.monotonic()
            if line.startswith("saving 3"):
                break
        assert "saved 2" in lines, "the saving process ended early"
        # Half of the last save's duration into this one.
        time.sleep((lines["saved 2"] - lines["saving 2"]) / 2)
        child.send_signal(signal.SIGKILL)
        rest = child.stdout.read()
    finally:
        child.kill()
        child.wait()
    return "saved 3" not in rest


@pytest.mark.slow
def test_a_kill_during_a_save_leaves_the_previous_model_intact(tmp_path):
    path = tmp_path / "classifier.keras"
    if not any(_kill_in_the_middle_of_the_third_save(path) for _ in range(5)):
        pytest.fail("never caught the process in the middle of a save")

    model = runs.load_model_file(path)
    versions = {float(np.ravel(weight)[0]) for weight in model.get_weights()}
    # Every weight of the last complete save, version 2: not a mix, not a cut-off file.
    assert versions == {2.0}


@pytest.fixture
def run_with_model(tmp_path):
    """A folder holding a good classifier.keras, and that file's bytes."""
    path = tmp_path / runs.CLASSIFIER_FILE
    files.save_model(_small_classifier(), path)
    return tmp_path, path.read_bytes()


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda good: b"", "is not a Keras model file: it is empty, cut off or another format"),
        (lambda good: good[: len(good) // 2], "is not a Keras model file"),
        (lambda good: b"text,label\nnot a model,1\n", "is not a Keras model file"),
    ],
    ids=["empty", "cut-off", "foreign"],
)
def test_a_damaged_model_file_fails_in_one_line_naming_it(run_with_model, damage, expected):
    folder, good = run_with_model
    (folder / runs.CLASSIFIER_FILE).write_bytes(damage(good))
    with pytest.raises(ValueError, match=expected) as error:
        runs.RunFolder(folder).load_model(runs.CLASSIFIER_FILE)
    assert runs.CLASSIFIER_FILE in str(error.value) and "\n" not in str(error.value)


def test_another_kind_of_keras_model_is_named_as_such(run_with_model):
    folder, _ = run_with_model
    dense = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    dense.save(folder / runs.END_TO_END_FILE)
    with pytest.raises(ValueError, match=r"holds a Sequential, not a minibert EndToEndClassifier"):
        runs.RunFolder(folder).load_model(runs.END_TO_END_FILE,
                                          TASKS["classification"].end_to_end_classes)


def test_the_cli_reports_a_damaged_model_as_one_error_line(run_with_model, capsys):
    folder, good = run_with_model
    (folder / runs.END_TO_END_FILE).write_bytes(good[:100])
    assert main(["predict", str(folder), "a good film"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and error.count("\n") == 1
    assert "end_to_end.keras is not a Keras model file" in error


def test_a_damaged_json_file_is_named(tmp_path):
    path = tmp_path / runs.CONFIG_FILE
    path.write_text('{"model": {', encoding="utf-8")
    with pytest.raises(ValueError, match=r"config\.json is not valid JSON"):
        files.read_json(path)
