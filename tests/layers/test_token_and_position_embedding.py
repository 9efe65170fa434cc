"""Behaviours of `minibert.layers.TokenAndPositionEmbedding`."""

import keras
import numpy as np
import pytest

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


# === Segments ===

SEP = 4  # minibert.data.tokenizer.SEP_ID


def _segment_embedding():
    keras.utils.set_random_seed(0)
    return TokenAndPositionEmbedding(
        vocabulary_size=VOCABULARY, sequence_length=SEQUENCE_LENGTH, hidden_dim=HIDDEN,
        num_segments=2, separator_id=SEP,
    )


def test_segment_embedding_keeps_the_layer_contract():
    token_ids = np.array([[3, 7, 4, 8, 9, 4, 0, 0], [3, 9, 9, 9, 4, 7, 4, 0]], "int32")
    run_layer_test(
        TokenAndPositionEmbedding,
        {"vocabulary_size": VOCABULARY, "sequence_length": SEQUENCE_LENGTH, "hidden_dim": HIDDEN,
         "num_segments": 2, "separator_id": SEP},
        token_ids,
        expected_output_shape=(2, SEQUENCE_LENGTH, HIDDEN),
    )


def test_segments_start_after_the_first_separator():
    token_ids = np.array([[3, 7, 4, 8, 9, 4, 0, 0], [3, 7, 8, 9, 0, 0, 0, 0]], "int32")
    segments = TokenAndPositionEmbedding.segment_ids(token_ids, separator_id=SEP, num_segments=2)
    assert np.array(segments).tolist() == [[0, 0, 0, 1, 1, 1, 1, 1], [0] * 8]


def test_the_second_segment_moves_only_its_own_tokens():
    # The same ids with and without a segment table: segment 0 tokens differ
    # by one constant vector, segment 1 tokens by another.
    with_segments = _segment_embedding()
    token_ids = np.array([[3, 7, 4, 8, 9, 4, 0, 0]], "int32")
    vectors = np.array(with_segments(token_ids))[0]
    without = TokenAndPositionEmbedding(VOCABULARY, SEQUENCE_LENGTH, HIDDEN)
    without(token_ids)
    without.set_weights(with_segments.get_weights()[:2])  # token and position tables
    difference = vectors - np.array(without(token_ids))[0]
    table = np.array(with_segments.segment_embedding.embeddings)
    np.testing.assert_allclose(difference[:3], np.tile(table[0], (3, 1)), atol=1e-6)
    np.testing.assert_allclose(difference[3:], np.tile(table[1], (5, 1)), atol=1e-6)


def test_segments_without_a_separator_id_are_refused():
    with pytest.raises(ValueError, match="separator_id"):
        TokenAndPositionEmbedding(VOCABULARY, SEQUENCE_LENGTH, HIDDEN, num_segments=2)
