"""A word's shape, in Python and in TensorFlow ops (the exported tagger's), and beside its tokens."""

import tensorflow as tf

from minibert.data.tokenizer import new_vectorizer
from minibert.data.word_alignment import align_words
from minibert.data.word_shapes import SHAPE_IDS, WORD_SHAPES, word_shape, word_shape_ids

WORDS = {
    "lower": ["jaws", "iphone's", "é", "1st"],
    "title": ["Jaws", "I", "Émile", "Martha's"],
    "upper": ["NASA", "U.S", "ÉTÉ"],
    "mixed": ["iPhone", "McDonald", "'Paris"],
    "digits": ["2017", "3.5", "٣"],
    "other": ["!", "😀", "—", "東京", ""],
}


def test_each_word_has_the_shape_its_capitals_and_digits_give_it():
    assert {name: [WORD_SHAPES[word_shape(word) - 1] for word in words]
            for name, words in WORDS.items()} == {name: [name] * len(words)
                                                   for name, words in WORDS.items()}


def test_tensorflow_ops_give_every_word_the_shape_python_gives_it():
    words = [word for group in WORDS.values() for word in group]
    assert word_shape_ids(tf.constant(words)).numpy().tolist() == [word_shape(w) for w in words]


def test_every_token_carries_its_words_shape_and_the_padding_none():
    vectorizer = new_vectorizer(6, ["", "[UNK]", "[mask]", "[cls]", "[sep]", "paris"])
    aligned = align_words(vectorizer, [["PARIS", "Paris", "!"], ["2017"]], 6)
    assert aligned.shape_ids.tolist() == [
        [SHAPE_IDS["upper"], SHAPE_IDS["title"], SHAPE_IDS["other"], 0, 0, 0],
        [SHAPE_IDS["digits"], 0, 0, 0, 0, 0]]
    assert set(aligned.inputs(True)) == {"token_ids", "shape_ids"}
    assert aligned.inputs(False) is aligned.token_ids
