"""Behaviours of minibert's models: Backbone, MaskedLanguageModel, Classifier, EndToEndClassifier."""

import os

import keras
import numpy as np
import pandas as pd
import pytest

from minibert.data.tokenizer import build_vectorizer
from minibert.models import Backbone, MaskedLanguageModel
from minibert.tasks.classification.classifier import Classifier
from minibert.tasks.classification.end_to_end_classifier import EndToEndClassifier

VOCABULARY, SEQUENCE_LENGTH, HIDDEN = 50, 8, 16
# Rows of real tokens (ids >= 5) followed by padding (id 0).
TOKEN_IDS = np.array([[3, 11, 12, 13, 4, 0], [3, 20, 4, 0, 0, 0]], "int32")
MASK_POSITIONS = np.array([[1, 3], [1, 1]], "int32")
SENTENCES = [
    "a good film, really good",
    "a bad film with a bad ending",
    "great acting and a great story",
    "awful, boring and far too long",
]


def _backbone(**kwargs):
    keras.utils.set_random_seed(0)
    config = {
        "vocabulary_size": VOCABULARY,
        "sequence_length": SEQUENCE_LENGTH,
        "hidden_dim": HIDDEN,
        "num_layers": 2,
        "num_heads": 2,
        "intermediate_dim": 32,
        "dropout": 0.0,
        **kwargs,
    }
    return Backbone(**config)


def _values(weights):
    return [np.array(weight) for weight in weights]


def _all_changed(before, after):
    return all(not np.array_equal(b, a) for b, a in zip(before, after))


def _none_changed(before, after):
    return all(np.array_equal(b, a) for b, a in zip(before, after))


def _fit_one_batch(model, x, y, loss):
    # Eager: tracing a graph costs seconds here, and the one step is what is tested.
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=loss, run_eagerly=True)
    model.fit(x, y, batch_size=len(y), epochs=1, verbose=0)


def _mlm_inputs():
    return {"token_ids": TOKEN_IDS, "mask_positions": MASK_POSITIONS}


def _mlm_labels():
    return np.array([[11, 13], [20, 20]], "int32")


def _train_mlm_one_step(mlm):
    _fit_one_batch(mlm, _mlm_inputs(), _mlm_labels(), loss=None)  # the model has its own loss


# === Backbone ===


def test_backbone_gives_one_hidden_vector_per_token():
    output = np.array(_backbone()(TOKEN_IDS))
    assert output.shape == (2, 6, HIDDEN)
    assert np.all(np.isfinite(output))


def test_appended_padding_does_not_change_real_token_outputs():
    backbone = _backbone()
    real = TOKEN_IDS != 0
    short = np.array(backbone(TOKEN_IDS))
    padded_ids = np.pad(TOKEN_IDS, ((0, 0), (0, SEQUENCE_LENGTH - TOKEN_IDS.shape[1])))
    padded = np.array(backbone(padded_ids))[:, : TOKEN_IDS.shape[1]]
    np.testing.assert_allclose(padded[real], short[real], atol=1e-5)


def test_backbone_config_round_trips_to_the_same_model():
    backbone = _backbone(num_layers=2, normalize_first=True, activation="gelu")
    config = backbone.get_config()
    revived = Backbone.from_config(config)
    assert revived.get_config() == config
    assert len(revived.weights) == len(backbone.weights)
    revived.set_weights(backbone.get_weights())
    np.testing.assert_allclose(np.array(revived(TOKEN_IDS)), np.array(backbone(TOKEN_IDS)), atol=1e-6)


def test_pre_ln_backbone_stacks_two_pre_ln_blocks_and_a_final_norm():
    backbone = _backbone(num_layers=2, normalize_first=True)
    assert len(backbone.encoder_layers) == 2
    assert all(encoder.normalize_first for encoder in backbone.encoder_layers)
    assert backbone.final_norm is not None
    # The final LayerNormalization (unit scale, zero offset at init) ends the stack.
    output = np.array(backbone(TOKEN_IDS))
    np.testing.assert_allclose(output.mean(axis=-1), 0.0, atol=1e-4)
    np.testing.assert_allclose(output.std(axis=-1), 1.0, atol=1e-2)
    assert _backbone(normalize_first=False).final_norm is None


def _trainable_paths(model):
    return {variable.path.split("/")[0] for variable in model.trainable_weights}


def test_set_trainable_layers_unfreezes_the_top_blocks_only():
    backbone = _backbone(num_layers=3, normalize_first=True)
    backbone.set_trainable_layers(2)
    assert _trainable_paths(backbone) == {"encoder_1", "encoder_2", "final_norm"}
    backbone.set_trainable_layers(0)
    assert backbone.trainable_weights == []
    backbone.set_trainable_layers(None, embeddings=False)
    assert _trainable_paths(backbone) == {"encoder_0", "encoder_1", "encoder_2", "final_norm"}
    backbone.set_trainable_layers(None)
    assert len(backbone.trainable_weights) == len(backbone.weights)
    with pytest.raises(ValueError, match="between 0 and the backbone's 3 encoder layers"):
        backbone.set_trainable_layers(4)


# === MaskedLanguageModel ===


def test_tied_masked_lm_trains_the_backbone_token_embedding_it_projects_with():
    backbone = _backbone()
    mlm = MaskedLanguageModel(backbone, tie_weights=True)
    table = backbone.token_embedding.embeddings
    assert mlm.head.token_embedding is backbone.token_embedding
    assert sum(weight is table for weight in mlm.trainable_weights) == 1
    assert not [w.path for w in mlm.weights if "output_kernel" in w.path]

    before = np.array(table)
    _train_mlm_one_step(mlm)
    after = np.array(backbone.token_embedding.embeddings)
    assert not np.array_equal(before, after)

    # The logits are the backbone's vectors times the *trained* table.
    sequence = np.array(backbone(TOKEN_IDS))
    gathered = np.take_along_axis(sequence, MASK_POSITIONS[..., None], axis=1)
    expected = gathered @ after.T + np.array(mlm.head.output_bias)
    np.testing.assert_allclose(np.array(mlm(_mlm_inputs())), expected, atol=1e-4)


@pytest.mark.parametrize("tie_weights", [False, True], ids=["untied", "tied"])
def test_masked_lm_reloads_from_keras_file_with_identical_logits(tmp_path, tie_weights):
    mlm = MaskedLanguageModel(_backbone(), tie_weights=tie_weights, transform=True, num_sampled=10, seed=1)
    _train_mlm_one_step(mlm)  # so the reloaded weights are not the initial ones by chance
    path = os.fspath(tmp_path / "mlm.keras")
    mlm.save(path)
    reloaded = keras.models.load_model(path)

    assert isinstance(reloaded, MaskedLanguageModel)
    assert isinstance(reloaded.backbone, Backbone)
    assert reloaded.tie_weights == tie_weights
    assert (reloaded.num_sampled, reloaded.seed) == (10, 1)
    if tie_weights:
        assert reloaded.head.token_embedding is reloaded.backbone.token_embedding
    np.testing.assert_allclose(
        np.array(reloaded(_mlm_inputs())), np.array(mlm(_mlm_inputs())), atol=1e-6
    )


def test_sampled_masked_lm_trains_on_sampled_words_and_validates_on_all_of_them():
    from minibert.training.pretraining import compile_masked_lm

    backbone = _backbone()
    mlm = MaskedLanguageModel(backbone, tie_weights=True, num_sampled=10, seed=0)
    # Training hands the loss the gathered features, never the vocabulary's logits.
    features = mlm(_mlm_inputs(), training=True)["features"]
    assert tuple(features.shape) == (2, 2, HIDDEN)
    assert tuple(mlm(_mlm_inputs()).shape) == (2, 2, VOCABULARY)

    compile_masked_lm(mlm, 1e-2)
    weights = np.ones((2, 2), "float32")
    inputs, labels = _mlm_inputs(), _mlm_labels()
    full_loss_before = mlm.evaluate(inputs, labels, sample_weight=weights, verbose=0, return_dict=True)["loss"]
    history = mlm.fit(
        inputs, labels, sample_weight=weights, validation_data=(inputs, labels, weights), epochs=20,
        verbose=0,
    ).history
    assert "accuracy" not in history  # the full softmax is not computed in training
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_loss"][-1] < full_loss_before  # the full-softmax loss falls too
    assert history["val_accuracy"][-1] > 0


# === Classifier ===


def test_binary_classifier_gives_one_sigmoid_probability():
    probabilities = np.array(Classifier(_backbone(), num_classes=2, hidden_units=8)(TOKEN_IDS))
    assert probabilities.shape == (2, 1)
    assert np.all((probabilities >= 0) & (probabilities <= 1))


def test_four_class_classifier_gives_rows_that_sum_to_one():
    probabilities = np.array(Classifier(_backbone(), num_classes=4, hidden_units=8)(TOKEN_IDS))
    assert probabilities.shape == (2, 4)
    assert np.all(probabilities >= 0)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, atol=1e-6)


def test_one_class_is_a_value_error_naming_num_classes():
    with pytest.raises(ValueError, match="num_classes=1"):
        Classifier(_backbone(), num_classes=1)


def _head_weights(classifier):
    return classifier.hidden.weights + classifier.output_dense.weights


def test_frozen_backbone_stays_fixed_while_the_head_trains():
    classifier = Classifier(_backbone(), num_classes=2, hidden_units=8)
    classifier.backbone.trainable = False
    backbone_before = _values(classifier.backbone.weights)
    head_before = _values(_head_weights(classifier))
    _fit_one_batch(classifier, TOKEN_IDS, np.array([1, 0]), classifier.loss_name())
    assert _none_changed(backbone_before, _values(classifier.backbone.weights))
    assert _all_changed(head_before, _values(_head_weights(classifier)))


def test_unfrozen_backbone_trains_with_the_head():
    classifier = Classifier(_backbone(), num_classes=2, hidden_units=8)
    classifier.backbone.trainable = False
    classifier.backbone.trainable = True  # stage 2 after stage 1
    embedding_before = np.array(classifier.backbone.token_embedding.embeddings)
    backbone_before = _values(classifier.backbone.trainable_weights)
    _fit_one_batch(classifier, TOKEN_IDS, np.array([1, 0]), classifier.loss_name())
    changed = [
        not np.array_equal(b, a)
        for b, a in zip(backbone_before, _values(classifier.backbone.trainable_weights))
    ]
    assert sum(changed) > len(changed) // 2
    assert not np.array_equal(
        embedding_before, np.array(classifier.backbone.token_embedding.embeddings)
    )


def test_classifier_on_a_pretrained_backbone_sees_the_trained_weights():
    backbone = _backbone()
    mlm = MaskedLanguageModel(backbone)
    initial = np.array(backbone.token_embedding.embeddings)
    _train_mlm_one_step(mlm)
    pretrained = _values(mlm.backbone.weights)

    classifier = Classifier(mlm.backbone, num_classes=2, hidden_units=8)
    assert classifier.backbone is mlm.backbone
    for seen, trained in zip(_values(classifier.backbone.weights), pretrained):
        np.testing.assert_array_equal(seen, trained)
    assert not np.array_equal(np.array(classifier.backbone.token_embedding.embeddings), initial)


# === EndToEndClassifier ===


@pytest.fixture(scope="module")
def end_to_end():
    vectorizer = build_vectorizer(SENTENCES, VOCABULARY, SEQUENCE_LENGTH)
    classifier = Classifier(_backbone(), num_classes=2, hidden_units=8)
    model = EndToEndClassifier(vectorizer, classifier, ["negative", "positive"])
    model.compile(loss=model.loss_name(), metrics=["accuracy"], jit_compile=False)
    return model


def test_end_to_end_predicts_from_a_list_a_series_and_one_string(end_to_end):
    texts = ["a good film", "an awful film, too long"]
    from_list = end_to_end.predict(texts, verbose=0)
    assert from_list.shape == (2, 1)
    assert np.all((from_list >= 0) & (from_list <= 1))
    assert not np.allclose(from_list[0], from_list[1])  # the text reaches the model

    series = pd.Series(texts, index=[10, 20])
    np.testing.assert_allclose(end_to_end.predict(series, verbose=0), from_list, atol=1e-6)
    one = end_to_end.predict(texts[0], verbose=0)
    assert one.shape == (1, 1)
    np.testing.assert_allclose(one, from_list[:1], atol=1e-6)


def test_end_to_end_predicts_bytes_like_the_same_text(end_to_end):
    # tensorflow-datasets yields review text as bytes (tfds.as_numpy).
    texts = ["good film", "bad ending"]
    as_bytes = np.array([text.encode("utf-8") for text in texts], dtype=object)
    np.testing.assert_allclose(
        end_to_end.predict(as_bytes, verbose=0), end_to_end.predict(texts, verbose=0), atol=1e-6
    )


def test_end_to_end_evaluates_a_frame_like_lists(end_to_end):
    frame = pd.DataFrame({"text": SENTENCES, "label": [1, 0, 1, 0]})
    from_frame = end_to_end.evaluate(frame, verbose=0)
    from_lists = end_to_end.evaluate(SENTENCES, [1, 0, 1, 0], verbose=0)
    np.testing.assert_allclose(from_frame, from_lists, rtol=1e-6)
    flipped = end_to_end.evaluate(SENTENCES, [0, 1, 0, 1], verbose=0)
    assert not np.isclose(flipped[0], from_lists[0])  # the labels reach the loss


def test_end_to_end_frame_without_the_label_column_names_the_columns(end_to_end):
    frame = pd.DataFrame({"text": SENTENCES, "sentiment": [1, 0, 1, 0]})
    with pytest.raises(ValueError, match=r"'label'.*\['text', 'sentiment'\]"):
        end_to_end.evaluate(frame, verbose=0)


def test_predict_labels_gives_the_likelier_name_and_its_confidence(end_to_end):
    texts = ["a good film", "an awful film, too long", "great story"]
    probabilities = end_to_end.predict(texts, verbose=0)[:, 0]  # P(positive)
    labels = end_to_end.predict_labels(texts)
    assert len(labels) == len(texts)
    for (name, confidence), positive in zip(labels, probabilities):
        assert isinstance(confidence, float)
        assert 0.5 <= confidence <= 1.0
        assert name == ("positive" if positive > 0.5 else "negative")
        assert confidence == pytest.approx(max(positive, 1 - positive), abs=1e-6)


# The fixture is compiled but never fit, so its saved optimizer is unbuilt; Keras
# warns when the reloaded model's built optimizer cannot take those variables.
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_end_to_end_reloads_in_process_with_identical_predictions(end_to_end, tmp_path):
    path = os.fspath(tmp_path / "end_to_end.keras")
    end_to_end.save(path)
    reloaded = keras.models.load_model(path)
    assert isinstance(reloaded, EndToEndClassifier)
    assert reloaded.label_names == ["negative", "positive"]
    np.testing.assert_allclose(
        reloaded.predict(SENTENCES, verbose=0), end_to_end.predict(SENTENCES, verbose=0), atol=1e-6
    )


def test_label_names_must_match_num_classes():
    vectorizer = build_vectorizer(SENTENCES, VOCABULARY, SEQUENCE_LENGTH)
    classifier = Classifier(_backbone(), num_classes=2, hidden_units=8)
    with pytest.raises(ValueError, match="3 label names for a 2-class classifier"):
        EndToEndClassifier(vectorizer, classifier, ["negative", "neutral", "positive"])
