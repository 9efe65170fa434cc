"""The recipes through the Python API: they learn, and the run folder is reusable."""

import dataclasses

import keras
import numpy as np
import pandas as pd
import pytest

from minibert.config import get_preset
from minibert.data.sources import TextClassificationData
from minibert.data.tokenizer import load_vocabulary, new_vectorizer, vectorize
from minibert.training import run

from conftest import make_reviews


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


def test_recipe_learns_an_easy_sentiment_task_and_saves_each_stage(tmp_path):
    data = tiny_data()
    metrics = run(
        data,
        tiny_config(mlm_epochs=3, frozen_epochs=2, unfrozen_epochs=6, learning_rate=3e-3),
        str(tmp_path / "run"),
        verbose=0,
    )
    assert np.isfinite(metrics["stages"]["mlm"]["loss"])
    assert metrics["stages"]["unfrozen"]["val_accuracy"] >= 0.9

    vocabulary = load_vocabulary(tmp_path / "run" / "vocabulary.txt")
    validation_ids = vectorize(new_vectorizer(32, vocabulary), data.validation["text"])
    for file_name, stage in [("classifier_frozen.keras", "frozen"), ("classifier.keras", "unfrozen")]:
        classifier = keras.models.load_model(tmp_path / "run" / file_name)
        results = classifier.evaluate(
            validation_ids, data.validation["label"].to_numpy(), return_dict=True, verbose=0
        )
        assert results["accuracy"] == pytest.approx(metrics["stages"][stage]["val_accuracy"])


def test_pretraining_lowers_the_masked_lm_loss(tmp_path):
    run(tiny_data(), tiny_config(mlm_epochs=4, frozen_epochs=0, unfrozen_epochs=0),
        str(tmp_path / "run"), verbose=0)
    history = pd.read_csv(tmp_path / "run" / "history.csv")
    mlm_loss = history.loc[history.stage == "mlm", "loss"].to_numpy()
    assert mlm_loss[-1] < mlm_loss[0] - 0.3


def test_mlm_pretraining_never_reads_validation_text_unless_asked(tmp_path):
    data = tiny_data()
    data = dataclasses.replace(
        data, validation=data.validation.assign(text=data.validation.text + " secretword")
    )
    run(data, tiny_config(frozen_epochs=0, unfrozen_epochs=0), str(tmp_path / "a"), verbose=0)
    vocabulary = (tmp_path / "a" / "vocabulary.txt").read_text().split("\n")
    assert "secretword" not in vocabulary

    config = tiny_config(frozen_epochs=0, unfrozen_epochs=0)
    config = dataclasses.replace(
        config, pretrain=dataclasses.replace(config.pretrain, include_validation_text=True)
    )
    run(data, config, str(tmp_path / "b"), verbose=0)
    assert "secretword" in (tmp_path / "b" / "vocabulary.txt").read_text().split("\n")


def test_the_frozen_stage_leaves_the_pretrained_backbone_untouched(tmp_path):
    run(tiny_data(), tiny_config(mlm_epochs=1, frozen_epochs=2, unfrozen_epochs=0),
        str(tmp_path / "run"), verbose=0)
    masked_lm = keras.models.load_model(tmp_path / "run" / "mlm.keras")
    classifier = keras.models.load_model(tmp_path / "run" / "classifier.keras")
    for pretrained, fine_tuned in zip(masked_lm.backbone.weights, classifier.backbone.weights):
        np.testing.assert_array_equal(pretrained.numpy(), fine_tuned.numpy())


def test_the_unfrozen_stage_moves_the_backbone(tmp_path):
    run(tiny_data(), tiny_config(mlm_epochs=1, frozen_epochs=0, unfrozen_epochs=1),
        str(tmp_path / "run"), verbose=0)
    masked_lm = keras.models.load_model(tmp_path / "run" / "mlm.keras")
    classifier = keras.models.load_model(tmp_path / "run" / "classifier.keras")
    embedding = lambda model: model.backbone.token_embedding.embeddings.numpy()  # noqa: E731
    assert not np.array_equal(embedding(masked_lm), embedding(classifier))


def test_more_classes_than_two_train_a_softmax_classifier(tmp_path):
    data = tiny_data()
    three = lambda frame: frame.assign(label=np.arange(len(frame)) % 3)  # noqa: E731
    data = dataclasses.replace(
        data, train=three(data.train), validation=three(data.validation),
        label_names=("a", "b", "c"),
    )
    run(data, tiny_config(mlm_epochs=0), str(tmp_path / "run"), verbose=0)
    model = keras.models.load_model(tmp_path / "run" / "end_to_end.keras")
    probabilities = model.predict(["a film"], verbose=0)
    assert probabilities.shape == (1, 3)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-5)
