"""Text pairs: PairClassifier, segment embeddings in the Backbone, end-to-end pair models."""

import os

import keras
import numpy as np
import pandas as pd
import pytest

from minibert.data.tokenizer import build_vectorizer
from minibert.layers import PairPacker
from minibert.models import Backbone
from minibert.tasks.classification.classifier import Classifier
from minibert.tasks.classification.end_to_end_classifier import EndToEndClassifier
from minibert.tasks.classification.pair_classifier import (
    PairClassifier,
    cosine_similarity,
)

VOCABULARY, SEQUENCE_LENGTH, HIDDEN = 50, 12, 16
FIRST = np.array([[11, 12, 13, 0], [20, 21, 0, 0]], "int32")
SECOND = np.array([[14, 15, 0, 0], [22, 23, 24, 25]], "int32")
PAIRS = [
    ("a good film", "a great film"),
    ("a bad film", "a good story"),
    ("great acting", "awful acting"),
]


def _backbone(**kwargs):
    keras.utils.set_random_seed(0)
    return Backbone(
        VOCABULARY, SEQUENCE_LENGTH, HIDDEN, num_layers=1, num_heads=2, intermediate_dim=32,
        dropout=0.0, **kwargs,
    )


def _pair_inputs(first=FIRST, second=SECOND):
    return {"token_ids_a": first, "token_ids_b": second}


def test_cosine_similarity_of_parallel_orthogonal_and_zero_vectors():
    first = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0]], "float32")
    second = np.array([[2.0, 0.0], [0.0, 3.0], [1.0, 1.0]], "float32")
    np.testing.assert_allclose(np.array(cosine_similarity(first, second)), [[1.0], [0.0], [0.0]])


def test_pair_classifier_sees_both_texts():
    model = PairClassifier(_backbone(), num_classes=3, hidden_units=8, pooling="mean")
    probabilities = np.array(model(_pair_inputs()))
    assert probabilities.shape == (2, 3)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, atol=1e-6)
    # Changing only the second text changes the prediction.
    other = np.array(model(_pair_inputs(second=SECOND[::-1])))
    assert not np.allclose(probabilities, other)


def test_pair_classifier_features_are_h1_h2_cosine_and_distance():
    model = PairClassifier(_backbone(), num_classes=2, hidden_units=8, pooling="mean")
    # The hidden layer reads 3 * hidden + 1 features: [h1, h2, cos, |h1 - h2|].
    assert model.hidden.kernel.shape == (3 * HIDDEN + 1, 8)


def test_pair_classifier_trains_and_reloads(tmp_path):
    model = PairClassifier(_backbone(), num_classes=2, hidden_units=8)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=model.loss_name(), run_eagerly=True)
    before = np.array(model(_pair_inputs()))
    model.fit(_pair_inputs(), np.array([1, 0]), batch_size=2, epochs=1, verbose=0)
    after = np.array(model(_pair_inputs()))
    assert not np.allclose(before, after)
    path = os.fspath(tmp_path / "pair.keras")
    model.save(path)
    reloaded = keras.models.load_model(path)
    assert isinstance(reloaded, PairClassifier)
    np.testing.assert_allclose(np.array(reloaded(_pair_inputs())), after, atol=1e-6)


def test_backbone_segment_embedding_tells_the_two_segments_apart():
    packed = np.array(PairPacker(SEQUENCE_LENGTH)(FIRST, SECOND))
    plain, segmented = _backbone(), _backbone(num_segments=2)
    assert len(segmented.weights) == len(plain.weights) + 1
    # Zero segment 1's row: the output changes only if segments reach the encoder.
    table = segmented.embedding.segment_embedding.embeddings
    with_segments = np.array(segmented(packed))
    table.assign(np.concatenate([np.array(table)[:1], np.zeros((1, HIDDEN))]).astype("float32"))
    assert not np.allclose(with_segments, np.array(segmented(packed)), atol=1e-5)
    assert Backbone.from_config(segmented.get_config()).num_segments == 2


# === End-to-end pair models ===


def _end_to_end(packed):
    vectorizer = build_vectorizer([text for pair in PAIRS for text in pair], VOCABULARY, 6)
    if packed:
        classifier = Classifier(_backbone(num_segments=2), num_classes=2, hidden_units=8)
        return EndToEndClassifier(
            vectorizer, classifier, ["different", "same"], pair_packer=PairPacker(SEQUENCE_LENGTH)
        )
    classifier = PairClassifier(_backbone(), num_classes=2, hidden_units=8)
    return EndToEndClassifier(vectorizer, classifier, ["different", "same"])


# evaluate() compiles the model without fitting it, so its saved optimizer is
# unbuilt; Keras warns when the reloaded model cannot load its variables.
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
@pytest.mark.parametrize("packed", [False, True], ids=["siamese", "packed"])
def test_end_to_end_pair_model_takes_tuples_dicts_and_frames(packed, tmp_path):
    model = _end_to_end(packed)
    assert model.pairs
    from_tuples = model.predict(PAIRS, verbose=0)
    assert from_tuples.shape == (3, 1)
    firsts, seconds = [a for a, _ in PAIRS], [b for _, b in PAIRS]
    from_dict = model.predict({"text": firsts, "text_pair": seconds}, verbose=0)
    frame = pd.DataFrame({"text": firsts, "text_pair": seconds, "label": [1, 0, 0]})
    np.testing.assert_allclose(from_dict, from_tuples, atol=1e-6)
    np.testing.assert_allclose(model.predict(frame, verbose=0), from_tuples, atol=1e-6)
    swapped = model.predict([(b, a) for a, b in PAIRS], verbose=0)
    assert not np.allclose(swapped, from_tuples)  # both texts, in order, reach the model
    loss, accuracy = model.evaluate(frame, verbose=0)
    assert np.isfinite(loss) and 0 <= accuracy <= 1

    path = os.fspath(tmp_path / "end_to_end.keras")
    model.save(path)
    reloaded = keras.models.load_model(path)
    assert reloaded.pairs and (reloaded.pair_packer is not None) == packed
    np.testing.assert_allclose(reloaded.predict(PAIRS, verbose=0), from_tuples, atol=1e-6)
    assert [name for name, _ in reloaded.predict_labels(PAIRS)] == [
        name for name, _ in model.predict_labels(PAIRS)
    ]


def test_end_to_end_pair_model_refuses_single_texts_with_the_expected_shape():
    model = _end_to_end(packed=False)
    with pytest.raises(ValueError, match="text_pair"):
        model.predict(["a good film", "a bad film"], verbose=0)
    with pytest.raises(ValueError, match=r"\['text_pair'\] missing"):
        model.predict({"text": ["a good film"]}, verbose=0)
