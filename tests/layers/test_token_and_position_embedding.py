"""Behaviours of `minibert.layers.TokenAndPositionEmbedding`."""

import keras
import numpy as np

from minibert.layers import TokenAndPositionEmbedding
from tests.layer_testing import run_layer_test

VOCABULARY, SEQUENCE_LENGTH, HIDDEN = 50, 8, 16


def _embedding():
    keras.utils.set_random_seed(0)
    return TokenAndPositionEmbedding(
        vocabulary_size=VOCABULARY, sequence_length=SEQUENCE_LENGTH, hidden_dim=HIDDEN
    )


def test_embedding_keeps_the_layer_contract():
    token_ids = np.random.default_rng(0).integers(0, VOCABULARY, size=(2, SEQUENCE_LENGTH))
    run_layer_test(
        TokenAndPositionEmbedding,
        {
            "vocabulary_size": VOCABULARY,
            "sequence_length": SEQUENCE_LENGTH,
            "hidden_dim": HIDDEN,
            "embeddings_initializer": "he_normal",
        },
        token_ids.astype("int32"),
        expected_output_shape=(2, SEQUENCE_LENGTH, HIDDEN),
    )


def test_same_token_at_different_positions_gets_different_vectors():
    layer = _embedding()
    vectors = np.array(layer(np.full((1, SEQUENCE_LENGTH), 7, "int32")))[0]  # (tokens, hidden)
    for first in range(SEQUENCE_LENGTH):
        for second in range(first + 1, SEQUENCE_LENGTH):
            assert np.abs(vectors[first] - vectors[second]).max() > 1e-4, (first, second)


def test_same_token_at_the_same_position_gets_the_same_vector():
    layer = _embedding()
    vectors = np.array(layer(np.array([[7, 9, 7], [7, 9, 9]], "int32")))
    np.testing.assert_array_equal(vectors[0, 0], vectors[1, 0])
    np.testing.assert_array_equal(vectors[0, 1], vectors[1, 1])


def test_input_shorter_than_sequence_length_uses_the_first_positions():
    layer = _embedding()
    full = np.random.default_rng(0).integers(5, VOCABULARY, size=(2, SEQUENCE_LENGTH)).astype("int32")
    short = full[:, :5]
    short_vectors = np.array(layer(short))
    assert short_vectors.shape == (2, 5, HIDDEN)
    np.testing.assert_allclose(short_vectors, np.array(layer(full))[:, :5], atol=1e-6)
