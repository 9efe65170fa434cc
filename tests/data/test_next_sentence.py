"""Behaviours of `minibert.data.next_sentence`: sentence splitting and NSP pairs."""

import numpy as np
import pytest

from minibert.data.next_sentence import next_sentence_examples, split_sentences
from minibert.data.tokenizer import CLS_ID, SEP_ID, SPECIAL_TOKENS, UNKNOWN_ID

# Every word is unique, so a token id says which document and sentence it came from.
WORDS = [f"w{document}x{sentence}x{word}" for document in range(40) for sentence in range(5)
         for word in range(4)]
VOCABULARY = list(SPECIAL_TOKENS) + WORDS


def _document(index, sentences=5):
    return " ".join(
        " ".join(f"w{index}x{sentence}x{word}" for word in range(4)) + "."
        for sentence in range(sentences)
    )


def _word(token_id):
    """(document, sentence, word) of a token id."""
    return tuple(int(part) for part in VOCABULARY[token_id][1:].split("x"))


def _segments(row):
    """The token ids of a and b in one packed row."""
    assert row[0] == CLS_ID
    separators = np.flatnonzero(row == SEP_ID)
    assert len(separators) == 2
    return row[1 : separators[0]], row[separators[0] + 1 : separators[1]]


def test_split_sentences_at_end_punctuation_and_line_breaks():
    assert split_sentences('He said "no." Then left!<br /><br />Why? Who knows') == [
        'He said "no."', "Then left!", "Why?", "Who knows",
    ]
    assert split_sentences("3.5 stars... or 4") == ["3.5 stars...", "or 4"]
    assert split_sentences("   ") == []


def test_real_pairs_continue_their_document_and_random_ones_come_from_another():
    texts = [_document(index) for index in range(40)]
    ids, labels = next_sentence_examples(texts, VOCABULARY, sequence_length=64, seed=0)
    assert ids.shape == (40, 64) and ids.dtype == np.int32
    assert 10 <= labels.sum() <= 30  # about half are real next sentences
    for document, (row, label) in enumerate(zip(ids, labels)):
        first, second = _segments(row)
        first_words, second_words = [_word(t) for t in first], [_word(t) for t in second]
        # a is the document's start, up to a sentence boundary.
        assert first_words[0] == (document, 0, 0) and first_words[-1][2] == 3
        assert {d for d, _, _ in first_words} == {document}
        if label:
            # b picks up at the very next sentence and runs to the end.
            assert second_words[0] == (document, first_words[-1][1] + 1, 0)
            assert second_words[-1] == (document, 4, 3)
        else:
            assert {d for d, _, _ in second_words} != {document}
            assert len({d for d, _, _ in second_words}) == 1 and second_words[0][2] == 0


def test_a_long_pair_keeps_the_words_on_either_side_of_the_cut():
    texts = [_document(index) for index in range(40)]
    ids, labels = next_sentence_examples(texts, VOCABULARY, sequence_length=9, seed=0)
    for row, label in zip(ids, labels):
        first, second = _segments(row)
        assert len(first) + len(second) <= 6
        if label:
            (document, sentence, word), after = _word(first[-1]), _word(second[0])
            assert word == 3 and after == (document, sentence + 1, 0)


def test_single_sentence_documents_give_no_pair_and_seeds_repeat():
    texts = [_document(index) for index in range(10)] + ["w10x0x0 w10x0x1 only one sentence"]
    ids, labels = next_sentence_examples(texts, VOCABULARY, sequence_length=32, seed=3)
    assert len(ids) == 10
    again, again_labels = next_sentence_examples(texts, VOCABULARY, sequence_length=32, seed=3)
    np.testing.assert_array_equal(ids, again)
    np.testing.assert_array_equal(labels, again_labels)
    other, _ = next_sentence_examples(texts, VOCABULARY, sequence_length=32, seed=4)
    assert not np.array_equal(ids, other)


def test_a_literal_separator_in_the_text_becomes_unknown():
    texts = ["w0x0x0 [sep] w0x0x1. w0x1x0 w0x1x1.", _document(1)]
    ids, _ = next_sentence_examples(texts, VOCABULARY, sequence_length=32, seed=0)
    assert (ids[0] == SEP_ID).sum() == 2 and UNKNOWN_ID in ids[0]


def test_too_short_a_sequence_is_refused():
    with pytest.raises(ValueError, match="sequence_length >= 3"):
        next_sentence_examples(["a. b."], VOCABULARY, sequence_length=2)
