"""Few labels: `--labels N`, stages sized in steps with the best weights kept, self-training."""

import json

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from conftest import make_reviews
from minibert import runs
from minibert.cli import main
from minibert.config import get_preset
from minibert.data.masking import masked_noise
from minibert.data.sources import DataSourceError, TextClassificationData, load_dataset, with_labels
from minibert.data.tokenizer import MASK_ID, NUM_SPECIAL_TOKENS, PADDING_ID
from minibert.training.callbacks import BestWeights
from minibert.training.finetuning import plan_stages
from minibert.training.self_training import confident_rows, pseudo_label_pool
from test_cli import minibert
from test_resume import sigterm_after_epoch


def labelled_data(labels, unlabeled=()):
    train = pd.DataFrame({"text": [f"review {i}" for i in range(len(labels))], "label": labels})
    validation = pd.DataFrame({"text": ["held out one", "held out two"], "label": [0, 1]})
    return TextClassificationData("toy", train, validation, pd.DataFrame({"text": list(unlabeled)}),
                                  ("negative", "positive"), validation_is_test=False)


def test_labels_keeps_n_rows_per_class_in_proportion_and_hides_the_rest_as_unlabeled_text():
    data = labelled_data([0] * 60 + [1] * 40, unlabeled=["extra"])
    few = with_labels(data, 10, seed=3)
    assert len(few.train) == 10 and sorted(few.train["label"].value_counts().tolist()) == [4, 6]
    # The hidden rows' text is unlabeled text now, none of it lost and none kept twice.
    assert len(few.unlabeled) == 1 + 90
    assert set(few.unlabeled["text"]) | set(few.train["text"]) == {*data.train["text"], "extra"}
    assert not set(few.unlabeled["text"]) & set(few.train["text"])
    assert few.labels == 10
    assert with_labels(data, 10, seed=3).train.equals(few.train)  # seeded
    assert not with_labels(data, 10, seed=4).train.equals(few.train)


@pytest.mark.parametrize("labels, message", [
    (101, "--labels 101 is more than the 100 labelled training rows of 'toy'; pass at most 100"),
    (0, "--labels must be a count of at least 1, got 0; pass the number of labelled rows to keep"),
    (3, "--labels 3 leaves class 'positive' of 'toy' without a row; pass at least 6"),
])
def test_labels_too_many_none_or_leaving_a_class_empty_are_refused_in_one_line(labels, message):
    data = labelled_data([0] * 90 + [1] * 10)
    with pytest.raises(DataSourceError) as error:
        with_labels(data, labels, seed=0)
    assert str(error.value) == message


def test_the_command_line_refuses_a_bad_labels_count_in_one_line(tmp_path, capsys):
    csv = tmp_path / "reviews.csv"
    make_reviews(40).to_csv(csv, index=False)
    assert main(["train", "--dataset", str(csv), "--preset", "tiny", "--labels", "5000",
                 "--output", str(tmp_path / "run")]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert error == ["error: --labels 5000 is more than the 32 labelled training rows of "
                     "'reviews.csv'; pass at most 32"]
    assert not (tmp_path / "run").exists()


def test_unlabeled_file_replaces_the_unlabeled_text(tmp_path):
    make_reviews(40).to_csv(tmp_path / "reviews.csv", index=False)
    more = pd.DataFrame({"text": ["one more", "", "and another"]})
    more.to_csv(tmp_path / "more.csv", index=False)
    data = load_dataset(str(tmp_path / "reviews.csv"), unlabeled_file=str(tmp_path / "more.csv"))
    assert data.unlabeled["text"].tolist() == ["one more", "and another"]


def test_pseudo_labels_are_never_drawn_from_validation_text():
    data = labelled_data([0, 1] * 5, unlabeled=["held out one", "new text", "held out two", "new text"])
    assert pseudo_label_pool(data, 10, seed=0) == ["new text"]
    texts = [f"text {i}" for i in range(50)]
    data = labelled_data([0, 1] * 5, unlabeled=texts + ["held out two"])
    pool = pseudo_label_pool(data, 20, seed=1)
    assert len(pool) == 20 and set(pool) <= set(texts)
    assert pool == pseudo_label_pool(data, 20, seed=1)


def test_pseudo_labels_are_confident_and_as_many_per_class():
    probabilities = np.array([[0.99, 0.01], [0.95, 0.05], [0.6, 0.4], [0.2, 0.8], [0.02, 0.98],
                              [0.97, 0.03]])
    rows, labels = confident_rows(probabilities, confidence=0.9, limit=100)
    # One positive passes 0.9, so one of each class: the most confident negative.
    assert rows.tolist() == [0, 4] and labels.tolist() == [0, 1]
    rows, labels = confident_rows(probabilities, confidence=0.5, limit=2)
    assert rows.tolist() == [0, 4] and labels.tolist() == [0, 1]
    rows, _ = confident_rows(probabilities, confidence=0.999, limit=100)
    assert len(rows) == 0


def test_stages_are_sized_in_steps_and_validated_as_often_as_the_rows_allow():
    config = get_preset("imdb")  # 1 + 1 epochs, min_steps 300
    few = plan_stages(config, batches_per_epoch=4)  # 100 rows
    assert [(plan.steps >= 300, plan.validations) for plan in few] == [(True, 8), (True, 8)]
    many = plan_stages(config, batches_per_epoch=625)  # 20,000 rows: as before, once per epoch
    assert [(plan.steps, plan.validations) for plan in many] == [(625, 1), (625, 1)]


def tiny_model():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return model


class Scores(keras.callbacks.Callback):
    """Writes a given validation score into each epoch's logs, before BestWeights reads it."""

    def __init__(self, scores):
        super().__init__()
        self.scores = list(scores)

    def on_epoch_end(self, epoch, logs=None):
        logs["val_score"] = self.scores[epoch]


def test_best_weights_are_restored_and_a_stage_ends_after_its_patience(tmp_path):
    model = tiny_model()
    weights_at = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: weights_at.append(model.get_weights()[0].copy())
    )
    best = BestWeights("val_score", "max", patience=2, folder=str(tmp_path))
    x = np.ones((8, 1))
    history = model.fit(x, 2 * x, epochs=10, verbose=0,
                        callbacks=[Scores([0.5, 0.9, 0.7, 0.6, 0.95]), record, best])
    assert len(history.history["loss"]) == 4  # the best at epoch 2, then two without
    np.testing.assert_allclose(model.get_weights()[0], weights_at[1])
    assert BestWeights.stopped_after(str(tmp_path)) == 4
    # Another stage keeps the first's weights unless it beats their score.
    start = best.best
    later = BestWeights("val_score", "max", start=start)
    model.fit(x, 2 * x, epochs=2, verbose=0, callbacks=[Scores([0.3, 0.4]), later])
    np.testing.assert_allclose(model.get_weights()[0], weights_at[1])


def test_masked_noise_changes_words_only_and_keeps_the_labels():
    ids = tf.constant([[2, 10, 11, 12, 13, 14, 15, 16, 17, 18, 3, 0, 0]] * 4, tf.int32)
    noisy, labels = masked_noise(0.3, vocabulary_size=40, seed=0)(ids, tf.constant([0, 1, 0, 1]))
    changed = (noisy.numpy() != ids.numpy())
    assert changed.any() and labels.numpy().tolist() == [0, 1, 0, 1]
    assert not changed[:, [0, 10, 11, 12]].any()  # special tokens and padding stay
    assert (noisy.numpy()[ids.numpy() == PADDING_ID] == PADDING_ID).all()
    # A changed word became [mask] or another real word of the vocabulary.
    replaced = noisy.numpy()[changed]
    assert ((replaced == MASK_ID) | ((replaced >= NUM_SPECIAL_TOKENS) & (replaced < 40))).all()


SELF_TRAINING_FLAGS = ["--preset", "tiny", "--labels", "40", "--self-training", "2", "--min-steps", "40",
                       "--pseudo-label-confidence", "0.5", "--unfrozen-epochs", "3"]


@pytest.fixture(scope="module")
def self_trained(tmp_path_factory):
    """One self-training run, stopped once round 2's student saved an epoch of its unfrozen
    stage, then resumed by the same command: the run both self-training tests read.

    Both tests trained these flags on these reviews, one straight through and one stopped and
    resumed; a resumed run must end with every record a straight one has.
    """
    folder = tmp_path_factory.mktemp("self_training")
    csv = folder / "reviews.csv"
    make_reviews(240).to_csv(csv, index=False)
    run = folder / "run"
    arguments = ["train", "--dataset", str(csv), "--output", str(run), *SELF_TRAINING_FLAGS]
    with pytest.MonkeyPatch.context() as patch:
        sigterm_after_epoch(patch, run / runs.CHECKPOINTS_DIR / "round-2" / "unfrozen")
        stopped = minibert(*arguments, check=False)
    assert stopped.returncode == 143, stopped.stdout + stopped.stderr
    assert not (run / runs.METRICS_FILE).exists()
    return {"run": run, "stdout": minibert(*arguments).stdout}


@pytest.mark.slow
def test_self_training_records_its_rounds_and_keeps_the_best_on_validation(self_trained):
    run, stdout = self_trained["run"], self_trained["stdout"]
    metrics = json.loads((run / runs.METRICS_FILE).read_text())
    record = metrics["self_training"]
    assert [r["round"] for r in record["rounds"]] == [1, 2]
    scores = [record["finetuned_validation_accuracy"]] + [r["validation_accuracy"]
                                                          for r in record["rounds"]]
    assert metrics["validation"]["accuracy"] == pytest.approx(max(scores))
    assert scores[record["kept_round"]] == max(scores)
    # 240 reviews: 48 validation, 40 labelled, the other 152 the pool, none of them validation.
    assert record["rounds"][0]["pool"] == 152
    assert (run / runs.CLASSIFIER_FINETUNED_FILE).exists()
    history = pd.read_csv(run / runs.HISTORY_FILE)
    assert {"student-1-frozen", "student-2-unfrozen"} <= set(history["stage"])
    assert "labels: 40 of the training rows" in (run / runs.MODEL_CARD_FILE).read_text()
    assert "self-training round 2" in stdout


@pytest.mark.slow
def test_a_run_stopped_mid_round_resumes_in_that_round(self_trained):
    run, stdout = self_trained["run"], self_trained["stdout"]
    assert "resuming the unfinished run" in stdout
    # Pretraining, fine-tuning and round 1 are restored, not trained; round 2
    # labels the same pool again, restores its student's frozen stage and goes
    # on with its unfrozen one after the saved epoch.
    assert "self-training round 1: restored from its saved student" in stdout
    before_round_2, round_2 = stdout.split("self-training round 2: ", 1)
    assert "Epoch " not in before_round_2
    round_2 = round_2.split("self-training round 2: validation accuracy")[0]
    assert "Epoch 1/" not in round_2 and "Epoch 2/" in round_2, stdout
    history = pd.read_csv(run / runs.HISTORY_FILE)
    for stage in ("student-1-unfrozen", "student-2-unfrozen"):
        epochs = list(history[history["stage"] == stage]["epoch"])
        assert epochs == list(range(1, len(epochs) + 1)) and len(epochs) >= 2  # each once
    metrics = json.loads((run / runs.METRICS_FILE).read_text())
    assert len(metrics["self_training"]["rounds"]) == 2
