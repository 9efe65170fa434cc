"""`predict --input` scores files in chunks; `export` writes a SavedModel served without minibert."""

import io
import json
import os
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pandas as pd
import pytest
from conftest import make_headline_pairs, make_reviews
from test_cli import minibert

from minibert import runs, scoring
from minibert.runs import files
from minibert.tasks.classification.end_to_end_classifier import class_probabilities


@pytest.fixture(scope="module")
def run(tiny_run):
    return tiny_run["run"]


@pytest.fixture(scope="module")
def model(run):
    return keras.models.load_model(run / runs.END_TO_END_FILE)


def reviews_to_score(num_rows=50) -> pd.DataFrame:
    frame = make_reviews(num_rows, seed=3).rename(columns={"text": "review"})
    frame["id"] = range(num_rows)
    # Lengths from 1 word to ~45, so the batches are cut to several widths.
    frame.loc[::7, "review"] = "good"
    frame.loc[1::9, "review"] = frame["review"][1::9] + (" great film" * 15)
    return frame


def expected_probabilities(model, texts):
    return class_probabilities(model.predict(list(texts), verbose=0))


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_predict_input_scores_every_row_as_the_model_does(run, model, tmp_path, suffix):
    frame = reviews_to_score()
    source = tmp_path / f"in{suffix}"
    {".csv": lambda: frame.to_csv(source, index=False),
     ".parquet": lambda: frame.to_parquet(source),
     ".jsonl": lambda: frame.to_json(source, orient="records", lines=True)}[suffix]()
    output = tmp_path / f"out{suffix}"
    result = minibert("predict", str(run), "--input", str(source), "--output", str(output),
                      "--text-column", "review", "--batch-size", "8")
    scored = {".csv": pd.read_csv, ".parquet": pd.read_parquet,
              ".jsonl": lambda path: pd.read_json(path, lines=True)}[suffix](output)
    assert len(scored) == len(frame) and list(scored["id"]) == list(frame["id"])
    names = model.label_names
    columns = [f"probability_{name}" for name in names]
    assert list(scored.columns) == [*frame.columns, "predicted_label", "predicted_probability",
                                    *columns]
    # Length-sorted batches cut to their longest text give the padded model's answers, in order.
    expected = expected_probabilities(model, frame["review"])
    np.testing.assert_allclose(scored[columns].to_numpy(), expected, atol=1e-5)
    # (A CSV's labels "0" and "1" read back as numbers.)
    assert list(scored["predicted_label"].astype(str)) == [names[i] for i in expected.argmax(axis=1)]
    np.testing.assert_allclose(scored["predicted_probability"], expected.max(axis=1), atol=1e-5)
    assert f"{len(frame)} rows scored" in result.stderr


def test_predict_input_reads_and_writes_in_chunks(model, tmp_path, monkeypatch):
    frame = reviews_to_score(23)
    source = tmp_path / "in.csv"
    frame.to_csv(source, index=False)
    assert [len(c) for c in scoring.read_chunks(source, "review", chunk_rows=10)] == [10, 10, 3]
    monkeypatch.setattr(scoring, "CHUNK_ROWS", 10)
    progress = io.StringIO()
    summary = scoring.score_file(model, source, tmp_path / "out.parquet", "review",
                                 progress=progress)
    assert summary["rows"] == 23
    assert progress.getvalue().count("\rscored") == 3  # one progress line per chunk
    scored = pd.read_parquet(tmp_path / "out.parquet")
    np.testing.assert_allclose(scored[[f"probability_{n}" for n in model.label_names]].to_numpy(),
                               expected_probabilities(model, frame["review"]), atol=1e-5)


def test_a_tsv_is_read_and_written_as_a_csv_with_tabs(tmp_path):
    frame = reviews_to_score(23)
    frame.loc[0, "review"] = 'a "quoted", comma\ttabbed review'
    frame.to_csv(tmp_path / "in.tsv", sep="\t", index=False)
    chunks = list(scoring.read_chunks(tmp_path / "in.tsv", "review", chunk_rows=10))
    assert [len(chunk) for chunk in chunks] == [10, 10, 3]
    writer = scoring.ChunkWriter(tmp_path / "out.tsv")
    for chunk in chunks:
        writer.write(chunk)
    writer.close()
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "out.tsv", sep="\t"), frame)


def test_a_jsonl_line_that_is_not_json_is_named_by_file_and_line(tmp_path):
    source = tmp_path / "reviews.jsonl"
    lines = [json.dumps({"text": f"review {index}"}) for index in range(400)]
    lines[299] = '{"text": "review 299}'
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"^{source} line 300 is not valid JSON \(Unterminated"):
        list(scoring.read_chunks(source, chunk_rows=100))  # the bad line is in the third chunk


@pytest.mark.parametrize("output", ["/proc/nope/out.csv", "{tmp_path}/no/such/folder/out.csv",
                                    "{tmp_path}/a_file/out.csv"])
def test_an_output_that_cannot_be_written_is_one_line_with_the_way_out(tmp_path, output):
    (tmp_path / "a_file").write_text("")
    output = output.format(tmp_path=tmp_path)
    with pytest.raises(files.WriteError) as raised:
        scoring.ChunkWriter(output)
    assert str(raised.value) in (
        f"could not write {output}: No such file or directory; a folder on its path is missing "
        "or cannot be made; choose --output",
        f"could not write {output}: Not a directory; a path above it is a file; choose --output",
    )


def test_rows_without_text_are_reported_by_number_not_fatal(run, tmp_path):
    source = tmp_path / "in.csv"
    pd.DataFrame({"text": ["a good film", None, "awful", "bad plot"]}).to_csv(source, index=False)
    output = tmp_path / "out.csv"
    result = minibert("predict", str(run), "--input", str(source), "--output", str(output))
    scored = pd.read_csv(output)
    assert len(scored) == 4
    assert scored["predicted_label"].isna().tolist() == [False, True, False, False]
    assert "1 rows without text, left unscored: rows 2" in result.stderr


def test_predict_reads_one_text_per_line_from_stdin(run, model, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("a great film\n\nthe worst plot\n"))
    result = minibert("predict", str(run), "--input", "-")
    scored = pd.read_csv(io.StringIO(result.stdout))
    assert list(scored["text"].fillna("")) == ["a great film", "", "the worst plot"]
    assert scored["predicted_label"].isna().tolist() == [False, True, False]
    assert "rows 2" in result.stderr


@pytest.mark.parametrize("case", ["empty_file", "header_only", "unknown_column", "both", "neither",
                                  "bad_suffix"])
def test_predict_input_refuses_bad_input_in_one_line(run, tmp_path, case):
    source = tmp_path / "in.csv"
    source.write_text({"empty_file": "", "header_only": "text\n"}.get(case, "text\ngood\n"))
    flags = {"unknown_column": ["--input", str(source), "--text-column", "review"],
             "both": ["a text", "--input", str(source)],
             "neither": [],
             "bad_suffix": ["--input", str(source), "--output", str(tmp_path / "out.xlsx")],
             }.get(case, ["--input", str(source), "--output", str(tmp_path / "out.csv")])
    result = minibert("predict", str(run), *flags, check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert not (tmp_path / "out.csv").exists()
    assert [name for name in os.listdir(tmp_path) if name.startswith(".tmp-")] == []


def test_end_to_end_model_is_saved_without_optimizer_state(run):
    import h5py

    with zipfile.ZipFile(run / runs.END_TO_END_FILE) as archive:
        with archive.open("model.weights.h5") as weights, h5py.File(io.BytesIO(weights.read())) as h5:
            names = []
            h5.visit(names.append)
    assert names and not [name for name in names if "optimizer" in name]


SERVE_SCRIPT = """
import json, sys


class NoMinibert:  # as if minibert were not installed
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "minibert":
            raise ImportError("minibert is not installed here")


sys.meta_path.insert(0, NoMinibert())
import tensorflow as tf
served = tf.saved_model.load(sys.argv[1])
inputs = json.loads(sys.argv[2])
outputs = served.serve(*[tf.constant(values) for values in inputs])
default = served.signatures["serving_default"](**{
    name: tf.constant(values) for name, values in zip(sys.argv[3].split(","), inputs)})
assert "minibert" not in sys.modules
print(json.dumps({"serve": outputs["probabilities"].numpy().tolist(),
                  "default": default["probabilities"].numpy().tolist()}))
"""


def served_probabilities(directory, inputs, names):
    # A fresh process, outside the repository, where minibert cannot be imported.
    result = subprocess.run(
        [sys.executable, "-c", SERVE_SCRIPT, str(directory), json.dumps(inputs), ",".join(names)],
        capture_output=True, text=True, cwd=directory,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    values = json.loads(result.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(values["serve"], values["default"], atol=1e-6)
    return np.asarray(values["serve"])


@pytest.mark.slow
def test_exported_saved_model_serves_the_models_probabilities_without_minibert(run, model, tmp_path):
    directory = tmp_path / "exported" / "1"
    result = minibert("export", str(run), "--output", str(directory))
    assert "SavedModel written" in result.stdout
    texts = list(reviews_to_score(20)["review"])
    served = served_probabilities(directory, [texts], ["texts"])
    np.testing.assert_allclose(served, expected_probabilities(model, texts), atol=1e-5)
    assert (directory / "label_names.txt").read_text().split() == model.label_names
    again = minibert("export", str(run), "--output", str(directory), check=False)
    assert again.returncode == 2 and "not empty" in again.stderr


@pytest.mark.slow
def test_a_pair_model_exports_with_two_string_inputs(tmp_path):
    csv = tmp_path / "pairs.csv"
    make_headline_pairs(160).to_csv(csv, index=False)
    output = tmp_path / "run"
    # Untrained (zero epochs of every stage): what is exported and served is the subject, and
    # an untrained model's probabilities differ by text as a trained one's do.
    minibert("train", "--dataset", str(csv), "--preset", "tiny", "--output", str(output),
             "--text-column", "headline", "--text-pair-column", "other_headline",
             "--label-column", "relation", "--mlm-epochs", "0", "--frozen-epochs", "0",
             "--unfrozen-epochs", "0")
    model = keras.models.load_model(output / runs.END_TO_END_FILE)
    directory = tmp_path / "exported"
    minibert("export", str(output), "--output", str(directory))
    firsts, seconds = ["market shares profit", "space research"], ["bank trade", "goal season team"]
    served = served_probabilities(directory, [firsts, seconds], ["text", "text_pair"])
    expected = class_probabilities(model.predict(list(zip(firsts, seconds)), verbose=0))
    np.testing.assert_allclose(served, expected, atol=1e-5)
