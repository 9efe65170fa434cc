"""Models saved before the package's layout changed (issue 14) still load and predict the same.

`tests/fixtures/run_before_layout/` is a tiny run made by commit 4ed0201, the last one
before `minibert/training/`, `minibert/inspection/` and the objectives table: its
`end_to_end.keras` and `mlm.keras`, and in `expected.json` what they predicted then.
Keras finds minibert's classes by their registered names (`minibert>...`), so
moving a module must not change what a saved file rebuilds.
"""

import json
import os

import keras
import numpy as np

import minibert  # noqa: F401  (registers the classes the files name)
from minibert import cli, run_folder

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "run_before_layout")


def _expected():
    with open(os.path.join(FIXTURE, "expected.json")) as file:
        return json.load(file)


def test_old_end_to_end_model_predicts_as_it_did():
    expected = _expected()
    model = keras.models.load_model(os.path.join(FIXTURE, run_folder.END_TO_END_FILE))
    probabilities = model.predict(expected["texts"], verbose=0)
    np.testing.assert_allclose(probabilities, expected["probabilities"], atol=1e-5)
    labels = [[label, confidence] for label, confidence in model.predict_labels(expected["texts"])]
    assert [label for label, _ in labels] == [label for label, _ in expected["labels"]]


def test_old_masked_lm_predicts_as_it_did():
    expected = _expected()
    masked_lm = run_folder.load_run_model(FIXTURE, run_folder.MLM_FILE)
    logits = masked_lm.predict(
        {
            "token_ids": np.array(expected["mlm_token_ids"], "int32"),
            "mask_positions": np.array(expected["mlm_mask_positions"], "int32"),
        },
        verbose=0,
    )
    np.testing.assert_allclose(logits, expected["mlm_logits"], atol=1e-4)


def test_commands_read_the_old_run_folder(capsys):
    assert cli.main(["predict", FIXTURE, "the movie was good"]) == 0
    assert cli.main(["fill-mask", FIXTURE, "the [mask] was good", "--top-k", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    label, confidence, text = lines[0].split("\t")
    assert label in ("0", "1") and 0.5 <= float(confidence) <= 1 and text == "the movie was good"
    assert len(lines) == 2 and lines[1].startswith("'the [mask] was good' [mask 1]: ")
    assert lines[1].count("(") == 3  # three words, each with its probability
