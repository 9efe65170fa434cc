import numpy as np
import pytest
import tensorflow as tf

from minibert.data.tokenizer import (
    MASK_ID,
    NUM_SPECIAL_TOKENS,
    SPECIAL_TOKENS,
    build_vectorizer,
    load_vocabulary,
    new_vectorizer,
    save_vocabulary,
    standardize_text,
    vectorize,
)


def standardized(text):
    return standardize_text(tf.constant(text)).numpy().decode()


def test_standardization_lowercases_and_turns_line_breaks_into_spaces():
    assert standardized("Great<br />FILM") == "great film"


def test_standardization_strips_the_notebooks_punctuation_but_keeps_mask_brackets():
    assert standardized("Wow!!! It's (really) good, [mask].") == "wow its really good [mask]"


def test_special_tokens_come_first_in_the_vocabulary():
    vectorizer = build_vectorizer(["a good film", "a bad film", "film"], 20, 6)
    vocabulary = vectorizer.get_vocabulary()
    assert tuple(vocabulary[:NUM_SPECIAL_TOKENS]) == SPECIAL_TOKENS
    assert vocabulary[NUM_SPECIAL_TOKENS] == "film"  # the most frequent word


def test_vocabulary_size_counts_the_special_tokens():
    texts = [" ".join(f"word{i}" for i in range(100))]
    vectorizer = build_vectorizer(texts, vocabulary_size=30, sequence_length=8)
    assert vectorizer.vocabulary_size() == 30


def test_mask_token_in_text_maps_to_the_mask_id():
    vectorizer = build_vectorizer(["a good film"], 20, 6)
    ids = vectorizer(["a [mask] film"]).numpy()[0]
    assert ids[1] == MASK_ID


def test_literal_special_tokens_in_training_text_are_not_duplicated():
    vectorizer = build_vectorizer(["[mask] [mask] [cls] film"], 20, 6)
    assert vectorizer.get_vocabulary().count("[mask]") == 1


def test_unknown_words_map_to_unk_and_short_texts_are_padded():
    vectorizer = build_vectorizer(["a good film"], 20, 6)
    ids = vectorize(vectorizer, ["zebra film"])
    assert ids.dtype == np.int32
    assert ids[0, 0] == 1 and ids[0, 2:].tolist() == [0, 0, 0, 0]


def test_vocabulary_smaller_than_special_tokens_is_refused():
    with pytest.raises(ValueError, match="special tokens"):
        build_vectorizer(["a film"], vocabulary_size=NUM_SPECIAL_TOKENS, sequence_length=8)


def test_sequence_length_below_two_is_refused():
    with pytest.raises(ValueError, match="sequence_length"):
        new_vectorizer(1)


def test_saved_vocabulary_rebuilds_the_same_vectorizer(tmp_path):
    vectorizer = build_vectorizer(["a good film", "a bad film"], 20, 6)
    save_vocabulary(vectorizer, tmp_path / "vocabulary.txt")
    rebuilt = new_vectorizer(6, load_vocabulary(tmp_path / "vocabulary.txt"))
    texts = ["a good [mask] film", "bad zebra"]
    assert (vectorize(rebuilt, texts) == vectorize(vectorizer, texts)).all()
