"""Runs saved before the package's layout changed still load, predict the same and read.

Two tiny runs, each made by the last commit before a change of layout:
`tests/fixtures/run_before_layout/` by 4ed0201, before `minibert/training/`,
`minibert/inspection/` and the objectives table; `tests/fixtures/run_before_runs/`
by afe8846, before `minibert/runs/` and the fine-tuning task table (with its
metrics.json and history.csv, which `RunFolder` reads typed). Each has its
`end_to_end.keras` and `mlm.keras`, and in `expected.json` what they predicted
then. Keras finds minibert's classes by their registered names (`minibert>...`),
so moving a module must not change what a saved file rebuilds.
"""

import json
import os

import keras
import numpy as np
import pytest
from conftest import make_reviews

import minibert  # noqa: F401  (registers the classes the files name)
from minibert import cli, runs

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
RUNS = ["run_before_layout", "run_before_runs"]


@pytest.fixture(params=RUNS)
def old_run(request):
    return os.path.join(FIXTURES, request.param)


def _expected(run):
    with open(os.path.join(run, "expected.json")) as file:
        return json.load(file)


def test_old_end_to_end_model_predicts_as_it_did(old_run):
    expected = _expected(old_run)
    model = keras.models.load_model(os.path.join(old_run, runs.END_TO_END_FILE))
    probabilities = model.predict(expected["texts"], verbose=0)
    np.testing.assert_allclose(probabilities, expected["probabilities"], atol=1e-5)
    labels = [[label, confidence] for label, confidence in model.predict_labels(expected["texts"])]
    assert [label for label, _ in labels] == [label for label, _ in expected["labels"]]


def test_old_masked_lm_predicts_as_it_did(old_run):
    expected = _expected(old_run)
    masked_lm = runs.RunFolder(old_run).load_model(runs.MLM_FILE)
    logits = masked_lm.predict(
        {
            "token_ids": np.array(expected["mlm_token_ids"], "int32"),
            "mask_positions": np.array(expected["mlm_mask_positions"], "int32"),
        },
        verbose=0,
    )
    np.testing.assert_allclose(logits, expected["mlm_logits"], atol=1e-4)


def test_commands_read_the_old_run_folder(old_run, capsys):
    assert cli.main(["predict", old_run, "the movie was good"]) == 0
    assert cli.main(["fill-mask", old_run, "the [mask] was good", "--top-k", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    label, confidence, text = lines[0].split("\t")
    assert label in ("0", "1") and 0.5 <= float(confidence) <= 1 and text == "the movie was good"
    assert len(lines) == 2 and lines[1].startswith("'the [mask] was good' [mask 1]: ")
    assert lines[1].count("(") == 3  # three words, each with its probability


def test_the_run_folder_reads_an_old_runs_records_typed():
    folder = runs.RunFolder(os.path.join(FIXTURES, "run_before_runs"))
    data = folder.read_data()
    assert (data.name, data.label_names, data.pairs) == ("reviews.csv", ("0", "1"), False)
    assert data.train is None  # older runs recorded no row counts with the data
    assert folder.read_task() == "classification"
    assert folder.read_config().seed == 7
    metrics = folder.read_metrics()
    assert set(metrics.stages) == {"mlm", "frozen", "unfrozen"}
    assert metrics.stages["unfrozen"].epochs == 1 and metrics.stages["unfrozen"].seconds > 0
    assert metrics.validation["accuracy"] == pytest.approx(metrics.stages["unfrozen"].figures["val_accuracy"])
    assert metrics.rows["train"] + metrics.rows["validation"] == 200
    assert [str(word) for word in folder.vectorizer().get_vocabulary()] == folder.read_vocabulary()


def test_evaluate_reads_an_old_runs_split(tmp_path, capsys):
    # The old run's data: conftest's 200 reviews, split with its recorded seed (7).
    make_reviews(200).to_csv(tmp_path / "reviews.csv", index=False)
    run = os.path.join(FIXTURES, "run_before_runs")
    assert cli.main(["evaluate", run, "--dataset", str(tmp_path / "reviews.csv")]) == 0
    line = capsys.readouterr().out.strip()
    accuracy = runs.RunFolder(run).read_metrics().validation["accuracy"]
    assert line.startswith("reviews.csv validation (40 rows): loss ")
    assert f"accuracy {accuracy:.4f}" in line  # the same rows as the run validated on
