"""The recipes through the Python API: they learn, and the run folder is reusable."""

import dataclasses
import json

import keras
import numpy as np
import pandas as pd
import pytest

from minibert.config import get_preset
from minibert.data.sources import TextClassificationData, load_dataset
from minibert.data.tokenizer import load_vocabulary, new_vectorizer, vectorize
from minibert.training import run

from conftest import make_headline_pairs, make_news, make_reviews, make_topic_documents


def tiny_data(num_rows=240) -> TextClassificationData:
    reviews = make_reviews(num_rows)
    validation = reviews.sample(frac=0.2, random_state=0)
    train = reviews.drop(validation.index)
    return TextClassificationData(
        name="generated",
        train=train.reset_index(drop=True),
        validation=validation.reset_index(drop=True),
        unlabeled=make_reviews(100, seed=1)[["text"]],
        label_names=("negative", "positive"),
        validation_is_test=False,
    )


def tiny_config(mlm_epochs=1, frozen_epochs=1, unfrozen_epochs=1, learning_rate=1e-3):
    config = get_preset("tiny")
    return dataclasses.replace(
        config,
        pretrain=dataclasses.replace(config.pretrain, epochs=mlm_epochs, fill_mask_sentences=()),
        finetune=dataclasses.replace(
            config.finetune,
            frozen_epochs=frozen_epochs,
            unfrozen_epochs=unfrozen_epochs,
            learning_rate=learning_rate,
            unfrozen_learning_rate=learning_rate,
        ),
    )


@pytest.fixture(scope="module")
def learned_run(tmp_path_factory):
    """One run of every stage, long enough to learn, that several tests read.

    Four pretraining epochs, then the frozen and unfrozen stages: the tests
    of what each stage does to the backbone read its saved models, where each
    used to train a run of its own (issue 25).
    """
    data = tiny_data()
    folder = tmp_path_factory.mktemp("learned") / "run"
    metrics = run(
        data,
        tiny_config(mlm_epochs=4, frozen_epochs=2, unfrozen_epochs=6, learning_rate=3e-3),
        str(folder),
        verbose=0,
    )
    return {"data": data, "run": folder, "metrics": metrics}


def backbone_weights(path):
    return [weight.numpy() for weight in keras.models.load_model(path).backbone.weights]


@pytest.mark.slow
def test_recipe_learns_an_easy_sentiment_task_and_saves_each_stage(learned_run):
    data, folder, metrics = learned_run["data"], learned_run["run"], learned_run["metrics"]
    assert np.isfinite(metrics["stages"]["mlm"]["loss"])
    assert metrics["stages"]["unfrozen"]["val_accuracy"] >= 0.9

    vocabulary = load_vocabulary(folder / "vocabulary.txt")
    validation_ids = vectorize(new_vectorizer(32, vocabulary), data.validation["text"])
    for file_name, stage in [("classifier_frozen.keras", "frozen"), ("classifier.keras", "unfrozen")]:
        classifier = keras.models.load_model(folder / file_name)
        results = classifier.evaluate(
            validation_ids, data.validation["label"].to_numpy(), return_dict=True, verbose=0
        )
        assert results["accuracy"] == pytest.approx(metrics["stages"][stage]["val_accuracy"])


@pytest.mark.slow
def test_pretraining_lowers_the_masked_lm_loss(learned_run):
    history = pd.read_csv(learned_run["run"] / "history.csv")
    mlm_loss = history.loc[history.stage == "mlm", "loss"].to_numpy()
    assert len(mlm_loss) == 4 and mlm_loss[-1] < mlm_loss[0] - 0.3


@pytest.mark.slow
def test_the_frozen_stage_leaves_the_pretrained_backbone_untouched(learned_run):
    # classifier_frozen.keras: the classifier as the frozen stage left it.
    pretrained = backbone_weights(learned_run["run"] / "mlm.keras")
    after_frozen = backbone_weights(learned_run["run"] / "classifier_frozen.keras")
    assert len(pretrained) == len(after_frozen)
    for before, after in zip(pretrained, after_frozen):
        np.testing.assert_array_equal(before, after)


@pytest.mark.slow
def test_the_unfrozen_stage_moves_the_backbone(learned_run):
    embedding = lambda path: keras.models.load_model(path).backbone.token_embedding.embeddings.numpy()  # noqa: E731
    assert not np.array_equal(embedding(learned_run["run"] / "mlm.keras"),
                              embedding(learned_run["run"] / "classifier.keras"))


@pytest.mark.slow
def test_sampled_pretraining_lowers_the_full_softmax_loss_on_held_out_reviews(tmp_path):
    config = tiny_config(mlm_epochs=4, frozen_epochs=0, unfrozen_epochs=0)
    config = dataclasses.replace(config, pretrain=dataclasses.replace(config.pretrain, num_sampled=8))
    run(tiny_data(), config, str(tmp_path / "run"), verbose=0)
    mlm = pd.read_csv(tmp_path / "run" / "history.csv").query("stage == 'mlm'")
    # Sampled training computes no full-softmax accuracy; validation does.
    assert "accuracy" not in mlm.columns
    assert mlm["val_loss"].iloc[-1] < mlm["val_loss"].iloc[0] - 0.1
    assert mlm["val_accuracy"].iloc[-1] > 0


def test_mlm_pretraining_never_reads_validation_text_unless_asked(tmp_path):
    data = tiny_data()
    data = dataclasses.replace(
        data, validation=data.validation.assign(text=data.validation.text + " secretword")
    )
    # The vocabulary is drawn from the pretraining text before any epoch: runs of
    # zero epochs write it.
    run(data, tiny_config(0, 0, 0), str(tmp_path / "a"), verbose=0)
    vocabulary = (tmp_path / "a" / "vocabulary.txt").read_text().split("\n")
    assert "secretword" not in vocabulary

    config = tiny_config(0, 0, 0)
    config = dataclasses.replace(
        config, pretrain=dataclasses.replace(config.pretrain, include_validation_text=True)
    )
    run(data, config, str(tmp_path / "b"), verbose=0)
    assert "secretword" in (tmp_path / "b" / "vocabulary.txt").read_text().split("\n")


@pytest.mark.slow
def test_unfrozen_stage_can_leave_the_embeddings_as_pretrained(tmp_path):
    config = tiny_config(mlm_epochs=1, frozen_epochs=0, unfrozen_epochs=1)
    config = dataclasses.replace(
        config, finetune=dataclasses.replace(config.finetune, train_embeddings=False)
    )
    run(tiny_data(), config, str(tmp_path / "run"), verbose=0)
    masked_lm = keras.models.load_model(tmp_path / "run" / "mlm.keras")
    classifier = keras.models.load_model(tmp_path / "run" / "classifier.keras")
    for pretrained, fine_tuned in zip(masked_lm.backbone.weights, classifier.backbone.weights):
        same = np.array_equal(pretrained.numpy(), fine_tuned.numpy())
        assert same == ("embedding" in pretrained.path), pretrained.path


@pytest.mark.slow
def test_trainable_layers_fine_tunes_only_the_top_encoder_layers(tmp_path):
    config = tiny_config(mlm_epochs=1, frozen_epochs=1, unfrozen_epochs=1)
    config = dataclasses.replace(
        config, finetune=dataclasses.replace(config.finetune, trainable_layers=1)
    )
    run(tiny_data(), config, str(tmp_path / "run"), verbose=0)
    masked_lm = keras.models.load_model(tmp_path / "run" / "mlm.keras")
    classifier = keras.models.load_model(tmp_path / "run" / "classifier.keras")
    for pretrained, fine_tuned in zip(masked_lm.backbone.weights, classifier.backbone.weights):
        same = np.array_equal(pretrained.numpy(), fine_tuned.numpy())
        top = "encoder_1" in pretrained.path  # the tiny preset's top of 2 post-LN layers
        assert same != top, pretrained.path
    history = pd.read_csv(tmp_path / "run" / "history.csv").set_index("stage")
    added = history.loc["unfrozen", "trainable_parameters"] - history.loc["frozen", "trainable_parameters"]
    assert added == classifier.backbone.encoder_layers[1].count_params()


@pytest.mark.slow
def test_weight_decay_and_clipping_reach_the_fine_tuning_optimizer(tmp_path):
    config = tiny_config(mlm_epochs=0, frozen_epochs=0, unfrozen_epochs=1)
    config = dataclasses.replace(
        config,
        finetune=dataclasses.replace(
            config.finetune, weight_decay=0.01, clip_norm=1.0, schedule="linear"
        ),
    )
    run(tiny_data(), config, str(tmp_path / "run"), verbose=0)
    classifier = keras.models.load_model(tmp_path / "run" / "classifier.keras")
    optimizer = classifier.optimizer
    assert isinstance(optimizer, keras.optimizers.AdamW)
    assert optimizer.weight_decay == pytest.approx(0.01) and optimizer.clipnorm == 1.0
    assert float(optimizer.learning_rate) == pytest.approx(0.0, abs=1e-9)  # decayed to 0


@pytest.mark.slow
def test_a_four_class_news_table_with_string_labels_trains_and_predicts_names(tmp_path):
    path = tmp_path / "news.csv"
    make_news().to_csv(path, index=False)
    data = load_dataset(str(path), text_column="headline", label_column="topic")
    assert data.label_names == ("business", "science", "sports", "world")
    metrics = run(
        data, tiny_config(mlm_epochs=1, frozen_epochs=2, unfrozen_epochs=4, learning_rate=3e-3),
        str(tmp_path / "run"), verbose=0,
    )
    report = metrics["validation"]
    assert set(report["per_class"]) == set(data.label_names)
    assert report["accuracy"] >= 0.9 and report["macro_f1"] >= 0.9
    model = keras.models.load_model(tmp_path / "run" / "end_to_end.keras")
    (name, confidence), = model.predict_labels(["the match after a season of the coach"])
    assert name == "sports" and 0.25 < confidence <= 1


def test_more_classes_than_two_get_a_softmax_classifier(tmp_path):
    data = tiny_data()
    three = lambda frame: frame.assign(label=np.arange(len(frame)) % 3)  # noqa: E731
    data = dataclasses.replace(
        data, train=three(data.train), validation=three(data.validation),
        label_names=("a", "b", "c"),
    )
    # Untrained (zero epochs): the head's shape is the subject; training more than
    # two classes is the four-class news table's test.
    run(data, tiny_config(0, 0, 0), str(tmp_path / "run"), verbose=0)
    model = keras.models.load_model(tmp_path / "run" / "end_to_end.keras")
    probabilities = model.predict(["a film"], verbose=0)
    assert probabilities.shape == (1, 3)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-5)


def _pair_data(tmp_path, rows):
    path = tmp_path / "pairs.csv"
    make_headline_pairs(rows).to_csv(path, index=False)
    return load_dataset(
        str(path), text_column="headline", text_pair_column="other_headline",
        label_column="relation",
    )


# Same topic or not: the siamese head compares two pooled vectors and learns
# it fast; the packed cross-encoder must learn it through attention, which
# takes this tiny model more epochs (measured on 800 rows: siamese 1.0 after
# 10 unfrozen epochs at 3e-3, packed 0.84 after 15 at 1e-3; with max
# pooling both stayed at chance).
PAIR_SETTINGS = {
    "siamese": dict(unfrozen_epochs=10, learning_rate=3e-3, accuracy=0.9),
    "packed": dict(unfrozen_epochs=15, learning_rate=1e-3, accuracy=0.75),
}


@pytest.mark.slow
@pytest.mark.parametrize("pair_encoding", sorted(PAIR_SETTINGS))
def test_a_text_pair_table_trains_a_pair_classifier(pair_encoding, tmp_path):
    settings = PAIR_SETTINGS[pair_encoding]
    data = _pair_data(tmp_path, rows=800)
    config = tiny_config(
        mlm_epochs=1, frozen_epochs=1, unfrozen_epochs=settings["unfrozen_epochs"],
        learning_rate=settings["learning_rate"],
    )
    config = dataclasses.replace(
        config,
        finetune=dataclasses.replace(config.finetune, pair_encoding=pair_encoding, pooling="mean"),
    )
    metrics = run(data, config, str(tmp_path / "run"), verbose=0)
    assert metrics["validation"]["accuracy"] >= settings["accuracy"]

    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["data"]["pairs"] is True
    assert saved["model"]["num_segments"] == (2 if pair_encoding == "packed" else 0)
    model = keras.models.load_model(tmp_path / "run" / "end_to_end.keras")
    same = ("the match of the team", "a goal after the season")
    different = ("the match of the team", "the election and the minister")
    probabilities = model.predict([same, different], verbose=0)[:, 0]  # P("same")
    assert probabilities[0] > probabilities[1]


def _document_data():
    documents = make_topic_documents(800)
    names = sorted(set(documents["label"]))
    documents["label"] = documents["label"].map(names.index).astype("int64")
    validation = documents.sample(frac=0.2, random_state=0)
    return TextClassificationData(
        name="documents",
        train=documents.drop(validation.index).reset_index(drop=True),
        validation=validation.reset_index(drop=True),
        unlabeled=make_topic_documents(200, seed=1)[["text"]],
        label_names=tuple(names),
        validation_is_test=False,
    )


@pytest.mark.slow
def test_mlm_plus_nsp_pretraining_learns_which_sentence_comes_next(tmp_path):
    config = tiny_config(mlm_epochs=20, frozen_epochs=1, unfrozen_epochs=0)
    config = dataclasses.replace(
        config,
        pretrain=dataclasses.replace(config.pretrain, objective="mlm+nsp", learning_rate=3e-3),
    )
    metrics = run(_document_data(), config, str(tmp_path / "run"), verbose=0)
    mlm = metrics["stages"]["mlm"]
    # Real next sentences share their document's topic; random ones do 1 time
    # in 4, so 0.875 is the best to expect (measured 0.87; chance is 0.5).
    assert mlm["val_nsp_accuracy"] >= 0.75
    assert np.isfinite(mlm["val_loss"]) and mlm["val_loss"] > mlm["val_nsp_loss"]
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["model"]["num_segments"] == 2 and saved["pretrain"]["objective"] == "mlm+nsp"
    masked_lm = keras.models.load_model(tmp_path / "run" / "mlm.keras")
    assert masked_lm.next_sentence


@pytest.mark.slow
def test_a_time_budget_stops_pretraining_early(tmp_path):
    config = tiny_config(mlm_epochs=50, frozen_epochs=0, unfrozen_epochs=1)
    config = dataclasses.replace(
        config, pretrain=dataclasses.replace(config.pretrain, max_minutes=0.001)
    )
    run(tiny_data(), config, str(tmp_path / "run"), verbose=0)
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    assert (history["stage"] == "mlm").sum() == 1  # stopped within the first epoch


class FakeClock:
    """Seconds that pass only when a test advances them: a budget spent without waiting for it."""

    def __init__(self):
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds

    def advance(self, seconds):
        self.seconds += seconds


def test_a_time_budget_keeps_the_stopped_epochs_validation_and_callbacks_inside_it():
    from minibert.training.callbacks import TimeBudget

    clock = FakeClock()

    class SlowSteps(keras.callbacks.Callback):
        # 10 steps of 0.05 s, then 1 s of epoch-end work (as validation, checkpoints).
        def on_train_batch_end(self, batch, logs=None):
            clock.advance(0.05)

        def on_epoch_end(self, epoch, logs=None):
            clock.advance(1.0)

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    budget = TimeBudget(minutes=4 / 60, clock=clock)
    history = model.fit(np.zeros((10, 2)), np.zeros((10, 1)), batch_size=1, epochs=20, verbose=0,
                        callbacks=[SlowSteps(), budget])
    # Epochs of 1.5 s: blind to the epoch's end, the budget would let epoch 3 finish at 4.5 s
    # and stop epoch 4 at its first step, ending at 5.55 s. Knowing it, epoch 3 stops at its
    # first step and ends at 4.05 s.
    assert budget.epoch_end_seconds == pytest.approx(1.0)
    assert len(history.history["loss"]) == 3
    assert clock() == pytest.approx(4.05)


def test_a_time_budget_reads_the_real_clock_unless_given_one():
    import time

    from minibert.training.callbacks import TimeBudget

    assert TimeBudget(minutes=1).clock is time.perf_counter


def test_a_budgeted_schedule_decays_to_zero_when_the_minutes_run_out_before_the_steps():
    from minibert.training.callbacks import BudgetedSchedule, TimeBudget
    from minibert.training.optimization import WarmupLinearDecay

    clock = FakeClock()
    rates = []

    class SlowSteps(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            rates.append(float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)))
            clock.advance(0.02)

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    budget = TimeBudget(minutes=3 / 60, clock=clock)
    # 10,000 steps would take minutes: by steps alone the rate would still be near its peak.
    schedule = BudgetedSchedule(WarmupLinearDecay(1e-2, 1000, 10_000), 10_000, budget)
    model.fit(np.zeros((10, 2)), np.zeros((10, 1)), batch_size=1, epochs=1000, verbose=0,
              callbacks=[SlowSteps(), budget, schedule])
    assert len(rates) == pytest.approx(150, abs=1)  # three seconds of 0.02 s steps
    peak = int(np.argmax(rates))
    assert max(rates) > 0.8e-2 and 0 < peak < len(rates) - 1  # warmed up over ~10% of the time
    assert rates[-1] < 0.1e-2  # and decayed to ~0 as the three seconds ran out


@pytest.mark.slow
def test_pretraining_with_a_decaying_schedule_ends_it_at_the_time_budget(tmp_path):
    config = tiny_config(mlm_epochs=200, frozen_epochs=0, unfrozen_epochs=1)
    config = dataclasses.replace(config, pretrain=dataclasses.replace(
        # 12 s: enough batches that the last one starts near the budget's end on a busy machine.
        config.pretrain, max_minutes=0.2, schedule="linear", learning_rate=1e-2,
    ))
    run(tiny_data(), config, str(tmp_path / "run"), verbose=0)
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    assert (history["stage"] == "mlm").sum() < 200
    masked_lm = keras.models.load_model(tmp_path / "run" / "mlm.keras")
    # By steps, the 200 epochs' schedule would be near its peak (warmed up over 20 epochs).
    assert float(keras.ops.convert_to_numpy(masked_lm.optimizer.learning_rate)) < 1e-3


@pytest.mark.slow
def test_a_whole_run_budget_measures_fine_tuning_first_and_pretrains_in_what_is_left(tmp_path):
    data = tiny_data()
    config = dataclasses.replace(tiny_config(mlm_epochs=200), minutes=1.0)
    lines = []
    metrics = run(data, config, str(tmp_path / "run"), verbose=0, print_fn=lines.append)
    budget = metrics["budget"]
    assert budget["finetuning_estimate_seconds"] > 0
    assert 0 < budget["pretraining_minutes"] < 1.0
    assert any(line.startswith("budget 1 minutes: fine-tuning measured at") for line in lines)
    # 200 epochs would take far longer: the budget stopped pretraining at its share.
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    assert 0 < (history["stage"] == "mlm").sum() < 200
    assert metrics["stages"]["mlm"]["seconds"] <= budget["pretraining_minutes"] * 60 + 20
    assert metrics["total_seconds"] <= 60 + 30


def test_estimating_fine_tuning_leaves_the_backbone_as_it_was():
    from minibert.models import Backbone
    from minibert.training.budget import estimate_finetuning_seconds
    from minibert.training.finetuning import classifier_inputs
    from minibert.data.tokenizer import build_vectorizer

    data = tiny_data()
    vectorizer = build_vectorizer(data.train["text"], 200, 32)
    backbone = Backbone(vectorizer.vocabulary_size(), 32, 16, 2, 2, 32)
    before = [weight.copy() for weight in backbone.get_weights()]
    train = (classifier_inputs(vectorizer, data.train), data.train["label"].to_numpy())
    validation = (classifier_inputs(vectorizer, data.validation), data.validation["label"].to_numpy())
    seconds = estimate_finetuning_seconds(backbone, train, validation, 2, tiny_config())
    assert seconds > 0 and backbone.trainable
    for old, new in zip(before, backbone.get_weights()):
        np.testing.assert_array_equal(old, new)


@pytest.mark.slow
def test_a_budget_too_short_for_fine_tuning_skips_pretraining(tmp_path):
    lines = []
    config = dataclasses.replace(tiny_config(mlm_epochs=3), minutes=0.3)  # 18 s: under the reserve
    metrics = run(tiny_data(), config, str(tmp_path / "run"), verbose=0, print_fn=lines.append)
    assert metrics["budget"]["pretraining_minutes"] == 0
    assert "mlm" not in metrics["stages"] and set(metrics["stages"]) == {"frozen", "unfrozen"}
    assert any("0.0 minutes left for pretraining" in line for line in lines)


def test_config_records_the_group_column_that_carved_validation(tmp_path):
    # `evaluate` and `embed` read it back to hold out the same groups.
    data = dataclasses.replace(tiny_data(), group_column="movie", validation_groups=40)
    run(data, tiny_config(0, 0, 0), str(tmp_path / "run"), verbose=0)  # written before training
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["data"]["group_column"] == "movie"
