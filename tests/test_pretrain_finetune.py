"""`python -m minibert pretrain` once, then `finetune --from` it on several tasks."""

import json
import os
import random

import keras
import numpy as np
import pandas as pd
import pytest
from conftest import make_headline_pairs, make_news, make_reviews
from test_cli import minibert
from test_resume import sigterm_after_epoch

from minibert import runs

TINY = ("--preset", "tiny")


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pretrain")
    csv = folder / "reviews.csv"
    make_reviews(240).to_csv(csv, index=False)
    run = folder / "pretrained"
    result = minibert("pretrain", "--dataset", str(csv), *TINY, "--output", str(run),
                      "--mlm-epochs", "2", "--mlm-learning-rate", "1e-2")
    return {"run": run, "csv": csv, "folder": folder, "stdout": result.stdout}


def finetune(pretrained, name, *flags, check=True):
    output = pretrained["folder"] / name
    result = minibert("finetune", "--from", str(pretrained["run"]), "--output", str(output),
                      *flags, check=check)
    return output, result


def backbone_weights(model):
    return [np.asarray(weight) for weight in model.backbone.get_weights()]


@pytest.mark.slow
def test_pretrain_writes_the_pretrained_run_and_no_classifier(pretrained):
    names = set(os.listdir(pretrained["run"]))
    assert {runs.CONFIG_FILE, runs.VOCABULARY_FILE, runs.MLM_FILE,
            runs.HISTORY_FILE, runs.CURVES_FILE, runs.METRICS_FILE} <= names
    assert not names & {runs.CLASSIFIER_FILE, runs.END_TO_END_FILE,
                        runs.CHECKPOINTS_DIR}
    history = pd.read_csv(pretrained["run"] / runs.HISTORY_FILE)
    assert list(history["stage"]) == ["mlm", "mlm"]
    assert "stage classifier" not in pretrained["stdout"]
    metrics = json.loads((pretrained["run"] / runs.METRICS_FILE).read_text())
    assert set(metrics["stages"]) == {"mlm"}
    card = (pretrained["run"] / runs.MODEL_CARD_FILE).read_text()
    assert "| mlm | 2 |" in card and "| `mlm.keras` |" in card and "finetune --from" in card
    assert "end_to_end.keras" not in card and "Validation accuracy" not in card


@pytest.fixture(scope="module")
def frozen_only(pretrained):
    """`finetune --from` the pretrained run, the frozen stage alone (three epochs): stopped once
    it saved its first, then run again, which resumes it. Its folder, and what the rerun printed."""
    flags = ["--dataset", str(pretrained["csv"]), "--frozen-epochs", "3", "--unfrozen-epochs", "0"]
    output = pretrained["folder"] / "frozen_only"
    with pytest.MonkeyPatch.context() as patch:
        sigterm_after_epoch(patch, output / runs.CHECKPOINTS_DIR / "frozen")
        _, stopped = finetune(pretrained, "frozen_only", *flags, check=False)
    assert stopped.returncode == 143, stopped.stdout + stopped.stderr
    return finetune(pretrained, "frozen_only", *flags)


@pytest.mark.slow
def test_finetune_starts_from_the_pretrained_backbone_and_vocabulary(pretrained, frozen_only):
    # The frozen stage alone leaves the backbone as pretraining left it.
    output, result = frozen_only
    masked_lm = keras.models.load_model(pretrained["run"] / runs.MLM_FILE)
    classifier = keras.models.load_model(output / runs.CLASSIFIER_FILE)
    for pretrained_weight, weight in zip(backbone_weights(masked_lm), backbone_weights(classifier)):
        np.testing.assert_array_equal(pretrained_weight, weight)
    assert (output / runs.VOCABULARY_FILE).read_text() == (
        pretrained["run"] / runs.VOCABULARY_FILE).read_text()
    config = json.loads((output / runs.CONFIG_FILE).read_text())
    assert config["pretrained_run"]["path"] == os.path.normpath(pretrained["run"])
    assert config["pretrained_run"]["random_init"] is False
    assert config["model"] == json.loads(
        (pretrained["run"] / runs.CONFIG_FILE).read_text())["model"]
    assert "warning" not in result.stdout  # the same data, split the same way
    card = (output / runs.MODEL_CARD_FILE).read_text()
    assert f"- backbone: pretrained in `{os.path.normpath(pretrained['run'])}`" in card
    assert not (output / runs.MLM_FILE).exists()


@pytest.mark.slow
def test_finetune_with_random_init_starts_from_fresh_weights_of_the_same_shape(pretrained):
    output, result = finetune(pretrained, "random", "--dataset", str(pretrained["csv"]),
                              "--frozen-epochs", "0", "--unfrozen-epochs", "0", "--random-init")
    assert "random weights" in result.stdout
    masked_lm = keras.models.load_model(pretrained["run"] / runs.MLM_FILE)
    classifier = keras.models.load_model(output / runs.CLASSIFIER_FILE)
    pairs = list(zip(backbone_weights(masked_lm), backbone_weights(classifier)))
    assert all(a.shape == b.shape for a, b in pairs)
    assert not all(np.array_equal(a, b) for a, b in pairs)


def three_classes(num_rows=240, seed=1) -> pd.DataFrame:
    """The reviews' words, three classes: positive, negative, and filler alone ("neutral")."""
    reviews = make_reviews(num_rows, seed)
    names = np.array(["negative", "positive"])[reviews["label"]]
    rng = random.Random(seed)
    neutral = [" ".join(rng.choices("the movie film was plot actor story".split(), k=15))
               for _ in range(num_rows // 2)]
    return pd.concat([
        pd.DataFrame({"review": reviews["text"], "sentiment": names}),
        pd.DataFrame({"review": neutral, "sentiment": "neutral"}),
    ], ignore_index=True)


@pytest.mark.slow
def test_one_pretrained_run_serves_a_second_task_with_other_classes(pretrained):
    csv = pretrained["folder"] / "three.csv"
    three_classes().to_csv(csv, index=False)
    output, result = finetune(
        pretrained, "three", "--dataset", str(csv), "--text-column", "review",
        "--label-column", "sentiment", "--frozen-epochs", "2", "--unfrozen-epochs", "2",
        "--unfrozen-learning-rate", "1e-2",
    )
    metrics = json.loads((output / runs.METRICS_FILE).read_text())
    assert metrics["validation"]["accuracy"] > 0.5  # three classes: chance is 1/3
    model = keras.models.load_model(output / runs.END_TO_END_FILE)
    assert sorted(model.label_names) == ["negative", "neutral", "positive"]
    assert model.predict(["the movie was good and great"], verbose=0).shape == (1, 3)
    assert set(pd.read_csv(output / runs.HISTORY_FILE)["stage"]) == {"frozen", "unfrozen"}


@pytest.mark.slow
def test_finetune_warns_when_the_new_text_is_mostly_unknown_to_the_vocabulary(pretrained):
    csv = pretrained["folder"] / "news.csv"
    make_news(160).to_csv(csv, index=False)
    _, result = finetune(pretrained, "news", "--dataset", str(csv), "--text-column", "headline",
                         "--label-column", "topic", "--frozen-epochs", "0",
                         "--unfrozen-epochs", "0")
    warning = [line for line in result.stdout.splitlines() if line.startswith("warning")]
    assert len(warning) == 1 and "unknown to" in warning[0], result.stdout


@pytest.mark.slow
def test_finetune_warns_when_its_split_may_have_been_pretrained_on(pretrained):
    _, result = finetune(pretrained, "other_split", "--dataset", str(pretrained["csv"]),
                         "--seed", "7", "--frozen-epochs", "0", "--unfrozen-epochs", "0")
    assert "may be among its pretraining text" in result.stdout


@pytest.mark.parametrize("case", ["missing", "no_mlm", "unfinished", "unknown_column", "packed"])
def test_finetune_refuses_bad_input_in_one_line(tiny_run, tmp_path, case):
    # A `train` run has what `finetune --from` reads (mlm.keras, its vocabulary, no segment
    # embeddings): the session's serves, and nothing trains before the refusal.
    source = tiny_run["run"]
    dataset = str(tiny_run["csv"])
    flags = []
    if case == "missing":
        source = tmp_path / "nowhere"
    elif case in ("no_mlm", "unfinished"):
        source = tmp_path / "run"
        source.mkdir()
        for name in (runs.CONFIG_FILE, runs.VOCABULARY_FILE):
            (source / name).write_bytes((tiny_run["run"] / name).read_bytes())
        if case == "unfinished":
            (source / runs.CHECKPOINTS_DIR).mkdir()
    elif case == "packed":  # the backbone has no segment embeddings
        dataset = str(tmp_path / "pairs.csv")
        make_headline_pairs(40).to_csv(dataset, index=False)
        flags = ["--text-column", "headline", "--text-pair-column", "other_headline",
                 "--label-column", "relation", "--pair-encoding", "packed"]
    else:
        flags = ["--text-column", "nope"]
    result = minibert("finetune", "--from", str(source), "--dataset", dataset,
                      "--output", str(tmp_path / "out"), *flags, check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    expected = {"missing": "not found", "no_mlm": "has no mlm.keras",
                "unfinished": "has not finished", "unknown_column": "nope",
                "packed": "no segment embeddings"}[case]
    assert expected in lines[0]
    assert not (tmp_path / "out").exists()  # refused before the run folder is made


def test_pretrain_needs_text_and_refuses_an_empty_table(tmp_path):
    csv = tmp_path / "empty.csv"
    csv.write_text("text,label\n")
    result = minibert("pretrain", "--dataset", str(csv), *TINY, "--output",
                      str(tmp_path / "run"), check=False)
    assert result.returncode == 2 and result.stderr.startswith("error: "), result.stderr


@pytest.mark.slow
def test_a_stopped_finetune_resumes_after_its_last_saved_epoch(frozen_only):
    output, resumed = frozen_only  # stopped after its first frozen epoch
    assert "resuming the unfinished run" in resumed.stdout
    history = pd.read_csv(output / runs.HISTORY_FILE)
    assert list(history[history["stage"] == "frozen"]["epoch"]) == [1, 2, 3]
    assert not (output / runs.CHECKPOINTS_DIR).exists()


@pytest.mark.slow
def test_pretrain_on_a_streamed_corpus_alone_needs_no_data_set(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    make_reviews(120)[["text"]].to_parquet(corpus / "shard-0.parquet")
    run = tmp_path / "run"
    result = minibert("pretrain", "--pretraining-corpus", str(corpus), *TINY, "--output", str(run))
    lines = result.stdout.splitlines()
    assert any(line.startswith("pretraining corpus") for line in lines)
    assert not any(line.startswith("data ") for line in lines)
    assert (run / runs.MLM_FILE).exists()
    config = json.loads((run / runs.CONFIG_FILE).read_text())
    assert config["data"] is None and config["pretrain"]["corpus"] == str(corpus)
    # No data set: no validation reviews to score the masked LM on.
    assert "val_loss" not in pd.read_csv(run / runs.HISTORY_FILE).columns
