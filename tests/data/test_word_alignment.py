"""Given words to token ids and back: no word lost, first tokens labelled, long sentences cut."""

import numpy as np
import pytest

from minibert.data.tokenizer import UNKNOWN_ID, new_vectorizer
from minibert.data.word_alignment import AlignedWords, align_words, word_tokens
from minibert.data.word_piece import WordPieceVectorizer

SPECIAL = ["", "[UNK]", "[mask]", "[cls]", "[sep]"]
WORDS = SPECIAL + ["us", "ada", "wrote", "café"]
PIECES = SPECIAL + ["ada", "wrote", "spiel", "##berg", "us", "film", "##ed"]


def test_punctuation_words_keep_a_token_to_be_tagged_at():
    vectorizer = new_vectorizer(8, WORDS)
    aligned = align_words(vectorizer, [["Ada", ",", "wrote", "—", "."]], 8)
    assert aligned.token_ids[0].tolist() == [6, UNKNOWN_ID, 7, UNKNOWN_ID, UNKNOWN_ID, 0, 0, 0]
    assert aligned.word_starts[0].tolist() == [0, 1, 2, 3, 4]


def test_abbreviations_accents_and_emoji_each_stay_one_word():
    vectorizer = new_vectorizer(8, WORDS)
    tokens = word_tokens(vectorizer, ["U.S.", "Café", "🎬"])
    assert tokens == {"U.S.": [5], "Café": [8], "🎬": [UNKNOWN_ID]}


def test_a_word_split_into_pieces_is_labelled_at_its_first_piece_only():
    vectorizer = WordPieceVectorizer(PIECES, sequence_length=8)
    aligned = align_words(vectorizer, [["Spielberg", "filmed", "Ada"]], 8)
    assert aligned.token_ids[0].tolist() == [7, 8, 10, 11, 5, 0, 0, 0]
    assert aligned.word_starts[0].tolist() == [0, 2, 4]
    labels, weights = aligned.first_token_targets([[1, 0, 1]])
    assert labels[0].tolist() == [1, 0, 0, 0, 1, 0, 0, 0]
    assert weights[0].tolist() == [1, 0, 1, 0, 1, 0, 0, 0]


def test_words_past_the_cut_are_predicted_outside():
    vectorizer = WordPieceVectorizer(PIECES, sequence_length=4)
    # Spielberg (2 pieces), filmed (2), then Ada and us past the cut.
    aligned = align_words(vectorizer, [["Spielberg", "filmed", "Ada", "us"]], 4)
    assert aligned.word_starts[0].tolist() == [0, 2]
    labels, weights = aligned.first_token_targets([[1, 0, 1, 1]])
    assert weights[0].tolist() == [1, 0, 1, 0]
    probabilities = np.zeros((1, 4, 2))
    probabilities[0, :, 1] = 0.9  # every token says "tag 1"
    tag_ids, confidences = aligned.word_predictions(probabilities, outside_id=0)[0]
    assert tag_ids.tolist() == [1, 1, 0, 0]
    assert confidences.tolist() == [np.float32(0.9), np.float32(0.9), 0.0, 0.0]


def test_predictions_are_read_from_batches_cut_narrower_than_the_sequence():
    vectorizer = new_vectorizer(8, WORDS)
    aligned = align_words(vectorizer, [["Ada", "wrote"], ["Ada"]], 8)
    probabilities = np.tile([[0.2, 0.8]], (2, 2, 1))  # (sentences, 2 tokens, 2 tags)
    assert [ids.tolist() for ids, _ in aligned.word_predictions(probabilities, 0)] == [[1, 1], [1]]


def test_weighing_outside_down_turns_unsure_words_into_entities_with_their_own_confidence():
    aligned = AlignedWords(np.array([[5, 6, 0]]), [np.array([0, 1])], np.array([2]),
                           np.array([[1, 1, 0]]))
    # Word 0: O at 0.6, B at 0.4; word 1: O at 0.95.
    probabilities = np.array([[[0.6, 0.4], [0.95, 0.05], [1.0, 0.0]]])
    (tags, confidences), = aligned.word_predictions(probabilities, outside_id=0)
    assert tags.tolist() == [0, 0]
    (tags, confidences), = aligned.word_predictions(probabilities, 0, outside_weight=0.5)
    assert tags.tolist() == [1, 0] and confidences.tolist() == pytest.approx([0.4, 0.95])
