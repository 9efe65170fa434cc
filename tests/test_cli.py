"""`python -m minibert` end to end on a tiny generated corpus.

The commands call `main()` in this process, which is what the process runs,
without a TensorFlow start-up (~10 s) per command; they read the session's
`tiny_run` (tests/conftest.py). A reload goes through a real process (marked
slow); tests/test_command_line_start.py starts `python -m minibert` itself.
"""

import contextlib
import io
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import make_headline_pairs, make_reviews, make_topic_documents, png_size

from minibert.cli import main
from minibert.inspection.plots import PIXEL_SIZE

PREDICT_TEXTS = ["a great and wonderful film", "the worst and most boring plot"]


def minibert(*arguments, check=True):
    """Runs the CLI in this process; returns its exit status and what it printed, as a
    CompletedProcess."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            returncode = main(list(arguments))
        except SystemExit as exit:  # argparse's usage errors
            returncode = exit.code
    result = subprocess.CompletedProcess(arguments, returncode, stdout.getvalue(), stderr.getvalue())
    if check and result.returncode != 0:
        raise AssertionError(f"minibert {arguments} failed:\n{result.stdout}\n{result.stderr}")
    return result


def test_train_writes_a_complete_run_folder(tiny_run):
    names = set(os.listdir(tiny_run["run"]))
    assert {
        "config.json", "vocabulary.txt", "mlm.keras", "classifier_frozen.keras", "classifier.keras",
        "end_to_end.keras", "history.csv", "steps.csv", "curves.png", "metrics.json", "README.md",
    } <= names
    assert not [name for name in names if name.startswith(".tmp")]
    # Written through a private temporary file, but readable like any new file.
    umask = os.umask(0)
    os.umask(umask)
    for name in names:
        if (tiny_run["run"] / name).is_file():
            assert os.stat(tiny_run["run"] / name).st_mode & 0o777 == 0o666 & ~umask


def test_the_run_folder_has_a_model_card_with_its_data_figures_and_files(tiny_run):
    card = (tiny_run["run"] / "README.md").read_text()
    metrics = json.loads((tiny_run["run"] / "metrics.json").read_text())
    assert card.startswith("# run\n")
    assert f"- train: {metrics['rows']['train']:,}" in card
    assert f"Validation accuracy **{metrics['validation']['accuracy']:.4f}**" in card
    assert "| mlm | 2 |" in card and "| unfrozen | 1 |" in card
    for name in ("mlm.keras", "end_to_end.keras", "classifier.keras", "metrics.json"):
        assert f"| `{name}` |" in card
    assert 'keras.models.load_model("' in card


def test_train_reports_fill_ins_for_the_users_sentence_every_epoch(tiny_run):
    # Each report on a line of its own, not after the progress bar's figures.
    lines = tiny_run["stdout"].splitlines()
    assert sum(line.startswith("'the [mask] was great' [mask 1]:") for line in lines) == 2


def test_history_has_every_epoch_of_every_stage(tiny_run):
    history = pd.read_csv(tiny_run["run"] / "history.csv")
    assert history.groupby("stage").size().to_dict() == {"mlm": 2, "frozen": 1, "unfrozen": 1}
    assert history.loc[history.stage == "unfrozen", "val_accuracy"].between(0, 1).all()


def test_train_draws_its_training_curves(tiny_run):
    assert png_size(tiny_run["run"] / "curves.png") == PIXEL_SIZE


def test_train_with_tensorboard_writes_event_files_for_every_stage(tiny_run):
    logs = tiny_run["run"] / "logs"
    for stage in ("mlm", "frozen", "unfrozen"):
        for split in ("train", "validation"):
            assert list((logs / stage / split).glob("events.out.tfevents*")), f"{stage}/{split}"


def test_plot_redraws_a_runs_curves(copy_of_tiny_run, capsys):
    curves = copy_of_tiny_run["run"] / "curves.png"
    curves.unlink()
    assert main(["plot", str(copy_of_tiny_run["run"])]) == 0
    assert png_size(curves) == PIXEL_SIZE
    assert f"curves written to {curves}" in capsys.readouterr().out


def test_plot_on_a_folder_that_is_not_a_run_says_so_in_one_line(tmp_path, capsys):
    assert main(["plot", str(tmp_path)]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1
    assert error[0].startswith(f"error: {tmp_path / 'history.csv'} not found; expected the history.csv")


def test_embed_writes_every_rows_2d_vector_and_label_and_a_picture(copy_of_tiny_run, capsys):
    run = copy_of_tiny_run["run"]
    arguments = ["embed", str(run), "--dataset", str(copy_of_tiny_run["csv"]), "--split", "all",
                 "--plot"]
    assert main(arguments) == 0
    table = pd.read_csv(run / "embeddings.csv", dtype={"label": str})
    assert list(table.columns) == ["x", "y", "label", "text"] and len(table) == 240
    assert set(table["label"]) == {"0", "1"} and np.isfinite(table[["x", "y"]].to_numpy()).all()
    assert png_size(run / "embeddings.png") == PIXEL_SIZE
    stdout = capsys.readouterr().out
    assert f"coordinates in {run / 'embeddings.csv'}" in stdout
    assert f"picture in {run / 'embeddings.png'}" in stdout


def test_metrics_and_config_describe_the_run(tiny_run):
    metrics = json.loads((tiny_run["run"] / "metrics.json").read_text())
    assert set(metrics["stages"]) == {"mlm", "frozen", "unfrozen"}
    assert metrics["rows"]["train"] + metrics["rows"]["validation"] == 240
    assert metrics["stages"]["frozen"]["seconds"] > 0
    # The report scores the final classifier: the last epoch's validation accuracy.
    report = metrics["validation"]
    assert report["accuracy"] == pytest.approx(metrics["stages"]["unfrozen"]["val_accuracy"], abs=1e-6)
    assert sum(map(sum, report["confusion_matrix"])) == metrics["rows"]["validation"]
    assert {"precision", "recall", "f1"} <= set(report)
    assert metrics["stages"]["unfrozen"]["trainable_parameters"] > metrics["stages"]["frozen"]["trainable_parameters"]
    # What pretraining alone gives a classifier head: kept, and printed near the end.
    frozen = metrics["stages"]["frozen"]["val_accuracy"]
    assert metrics["frozen_validation_accuracy"] == pytest.approx(frozen)
    last_lines = tiny_run["stdout"].splitlines()[-8:]
    assert f"frozen backbone: validation accuracy {frozen:.4f} from the head alone" in last_lines
    config = json.loads((tiny_run["run"] / "config.json").read_text())
    assert config["model"]["num_layers"] == 2
    assert config["pretrain"]["fill_mask_sentences"] == ["the [mask] was great"]
    assert config["data"]["label_names"] == ["0", "1"]


def test_predict_prints_a_label_and_confidence_per_text(tiny_run):
    lines = minibert("predict", str(tiny_run["run"]), *PREDICT_TEXTS).stdout.splitlines()
    assert len(lines) == 2
    for line, text in zip(lines, PREDICT_TEXTS):
        label, confidence, echoed = line.split("\t")
        assert label in {"0", "1"} and 0.5 <= float(confidence) <= 1 and echoed == text


def test_evaluate_reports_accuracy_on_the_validation_split(tiny_run):
    stdout = minibert("evaluate", str(tiny_run["run"]), "--dataset", str(tiny_run["csv"])).stdout
    assert "validation (48 rows): loss" in stdout
    assert all(f" {name} " in stdout for name in ("accuracy", "precision", "recall", "f1"))
    # The confusion matrix: a header and one row per true label, counting all 48 rows.
    rows = [line.split() for line in stdout.splitlines() if line.split()[:1] in (["0"], ["1"])]
    assert len(rows) == 2 and sum(int(count) for row in rows for count in row[1:]) == 48


def test_fill_mask_prints_five_words_per_mask(tiny_run):
    stdout = minibert("fill-mask", str(tiny_run["run"]), "a [mask] film [mask]").stdout
    lines = stdout.strip().splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("'a [mask] film [mask]' [mask 2]:") and lines[1].count("(") == 5


def test_fill_mask_without_a_mask_says_so_in_one_line(tiny_run):
    result = minibert("fill-mask", str(tiny_run["run"]), "no mask here", check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: no [mask] in 'no mask here'")


@pytest.mark.slow
def test_end_to_end_model_reloads_in_a_fresh_process_without_custom_objects(tiny_run):
    script = (
        "import json, sys, keras, minibert\n"
        "model = keras.models.load_model(sys.argv[1])\n"
        "print(json.dumps(model.predict(json.loads(sys.argv[2]), verbose=0).tolist()))\n"
    )
    path = str(tiny_run["run"] / "end_to_end.keras")
    result = subprocess.run(
        [sys.executable, "-c", script, path, json.dumps(PREDICT_TEXTS)],
        capture_output=True, text=True, check=True,
    )
    fresh = np.array(json.loads(result.stdout.strip().splitlines()[-1]))

    # The same numbers from the separately saved classifier and vocabulary.
    import keras

    import minibert  # noqa: F401  (registers the classes)
    from minibert.data.tokenizer import load_vocabulary, new_vectorizer, vectorize

    classifier = keras.models.load_model(tiny_run["run"] / "classifier.keras")
    vectorizer = new_vectorizer(32, load_vocabulary(tiny_run["run"] / "vocabulary.txt"))
    expected = classifier.predict(vectorize(vectorizer, PREDICT_TEXTS), verbose=0)
    np.testing.assert_allclose(fresh, expected, rtol=1e-6, atol=1e-6)


def test_an_existing_run_folder_is_not_overwritten(tiny_run):
    result = minibert(
        "train", "--dataset", str(tiny_run["csv"]), "--preset", "tiny",
        "--output", str(tiny_run["run"]), check=False,
    )
    assert result.returncode == 2
    assert "already exists" in result.stderr and "--overwrite" in result.stderr


def test_a_missing_dataset_stops_with_one_line(tmp_path):
    # In this process: an error from a real process's start is test_command_line_start's.
    result = minibert("train", "--dataset", str(tmp_path / "nope.csv"), "--preset", "tiny",
                      check=False)
    assert result.returncode == 2
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and "nope.csv" in error_lines[0]


def test_predict_on_a_folder_that_is_not_a_run_says_so(tmp_path):
    result = minibert("predict", str(tmp_path), "text", check=False)
    assert result.returncode == 2
    assert "end_to_end.keras not found" in result.stderr


# === Text pairs ===


@pytest.fixture(scope="module")
def pair_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-pairs")
    csv = folder / "pairs.csv"
    make_headline_pairs(200).to_csv(csv, index=False)
    run = folder / "run"
    data_flags = ["--dataset", str(csv), "--text-column", "headline",
                  "--text-pair-column", "other_headline", "--label-column", "relation"]
    # Untrained (zero epochs of every stage): these tests read what a pair
    # model takes and prints, not what it learned.
    minibert("train", *data_flags, "--preset", "tiny", "--output", str(run), "--mlm-epochs", "0",
             "--frozen-epochs", "0", "--unfrozen-epochs", "0", "--pair-encoding", "packed")
    return {"run": run, "data_flags": data_flags}


def test_predict_takes_one_text_pair_per_text(pair_run):
    texts = ["the match of the team", "the market and the bank"]
    pairs = ["a goal in the season", "the election of the minister"]
    stdout = minibert(
        "predict", str(pair_run["run"]), *texts, "--text-pair", pairs[0], "--text-pair", pairs[1]
    ).stdout
    lines = stdout.splitlines()
    assert len(lines) == 2
    for line, text, pair in zip(lines, texts, pairs):
        label, confidence, echoed = line.split("\t")
        assert label in {"same", "different"} and 0.5 <= float(confidence) <= 1
        assert echoed == f"{text} ||| {pair}"


def test_predict_on_a_pair_model_without_text_pairs_says_so(pair_run):
    result = minibert("predict", str(pair_run["run"]), "a text", check=False)
    assert result.returncode == 2
    assert "one --text-pair per text: 1 texts, 0 --text-pair" in result.stderr


def test_embed_refuses_a_pair_model_in_one_line(pair_run, capsys):
    assert main(["embed", str(pair_run["run"]), *pair_run["data_flags"]]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and "classifies text pairs" in error[0]


def test_evaluate_a_pair_model_on_its_pair_table(pair_run):
    stdout = minibert("evaluate", str(pair_run["run"]), *pair_run["data_flags"]).stdout
    assert "validation (40 rows): loss" in stdout and " accuracy " in stdout
    without_pairs = [flag for flag in pair_run["data_flags"] if flag not in
                     ("--text-pair-column", "other_headline")]
    result = minibert("evaluate", str(pair_run["run"]), *without_pairs, check=False)
    assert result.returncode == 2 and "pass --text-pair-column" in result.stderr


# === Next-sentence prediction ===


@pytest.mark.slow
def test_nsp_prints_a_probability_per_pair_of_a_run_pretrained_with_it(tmp_path):
    csv = tmp_path / "documents.csv"
    make_topic_documents(120).to_csv(csv, index=False)
    run = tmp_path / "run"
    # Pretrained with next-sentence prediction; the classifier's stages are not what nsp reads.
    minibert("train", "--dataset", str(csv), "--preset", "tiny", "--output", str(run),
             "--objective", "mlm+nsp", "--frozen-epochs", "0", "--unfrozen-epochs", "0")
    pairs = ["The match of the team.", "A goal in the season.", "The bank.", "The planet."]
    lines = minibert("nsp", str(run), *pairs).stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("\tThe match of the team. ||| A goal in the season.")
    assert all(0 < float(line.split("\t")[0]) < 1 for line in lines)
    # fill-mask reads the same model's word predictions.
    assert "[mask 1]" in minibert("fill-mask", str(run), "the [mask] of the team").stdout
    odd = minibert("nsp", str(run), "one text", check=False)
    assert odd.returncode == 2 and "an odd count" in odd.stderr


def test_nsp_on_a_run_pretrained_without_it_says_how_to_get_one(tiny_run):
    result = minibert("nsp", str(tiny_run["run"]), "a first.", "a second.", check=False)
    assert result.returncode == 2 and "--objective mlm+nsp" in result.stderr


def test_evaluate_and_embed_carve_the_validation_split_with_the_runs_seed(tmp_path, reviews_csv):
    from minibert import runs
    from minibert.cli import build_parser
    from minibert.cli.commands import load_data
    from minibert.data.sources import load_dataset
    from minibert.runs import files

    files.write_json(tmp_path / runs.CONFIG_FILE, {"seed": 7})
    for command in ("evaluate", "embed"):
        args = build_parser().parse_args([command, str(tmp_path), "--dataset", reviews_csv])
        rows = load_data(args).validation["text"].tolist()
        assert rows == load_dataset(reviews_csv, seed=7).validation["text"].tolist()
        assert rows != load_dataset(reviews_csv, seed=42).validation["text"].tolist()


def test_evaluate_and_embed_hold_out_the_groups_the_run_held_out(tmp_path):
    from minibert import runs
    from minibert.cli import build_parser
    from minibert.cli.commands import load_data
    from minibert.data.sources import load_dataset
    from minibert.runs import files

    frame = make_reviews(240)
    frame["movie"] = [f"tt{index // 6}" for index in range(len(frame))]
    table = str(tmp_path / "reviews.csv")
    frame.to_csv(table, index=False)
    run = tmp_path / "run"
    run.mkdir()
    files.write_json(run / runs.CONFIG_FILE, {"seed": 3, "data": {"group_column": "movie"}})
    grouped = load_dataset(table, seed=3, group_column="movie").validation["text"].tolist()
    assert grouped != load_dataset(table, seed=3).validation["text"].tolist()
    for command in ("evaluate", "embed"):
        args = build_parser().parse_args([command, str(run), "--dataset", table])
        assert load_data(args).validation["text"].tolist() == grouped


def test_baseline_scores_tfidf_on_the_film_disjoint_split_train_would_carve(tmp_path, capsys):
    frame = make_reviews(240)
    frame["movie"] = [f"tt{index // 6}" for index in range(len(frame))]  # 40 films of 6
    frame.to_csv(tmp_path / "reviews.csv", index=False)
    arguments = ["--dataset", str(tmp_path / "reviews.csv"), "--group-column", "movie", "--seed", "3"]
    assert main(["baseline", *arguments]) == 0
    line = capsys.readouterr().out.strip()
    assert "validation accuracy" in line and "on 48 rows (8 whole movie groups)" in line
    accuracy = float(line.split("validation accuracy ")[1].split()[0])
    assert accuracy >= 0.9  # the sentiment words give the labels away
    assert main(["baseline", "--dataset", str(tmp_path / "reviews.csv"), "--group-column", "film"]) == 2
    assert "group column 'film' not found" in capsys.readouterr().err
