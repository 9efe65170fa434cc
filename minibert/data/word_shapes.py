"""A word's shape: the capitals and digits that the tokenizers' lowercasing takes away.

Both tokenizers lowercase (`minibert.data.vectorizers`), so "Paris" and
"paris" are one token, and a capital, the first clue to a name, is lost.
A tagger can read it back as each word's shape, an id beside its token ids
(`minibert.models.TokenClassifier`'s `num_shapes`). The shape is decided by
comparing the word with its upper- and lowercase forms, which TensorFlow's
`tf.strings.upper`/`lower` compute the same way in an exported model
(`minibert.tasks.token_classification.serving.serve_tagger`, by `word_shape_ids`).
"""

# Id 0 is the padding's; a word's shape is 1 + its index here.
WORD_SHAPES = ("lower", "title", "upper", "mixed", "digits", "other")
SHAPE_IDS = {name: index + 1 for index, name in enumerate(WORD_SHAPES)}


def word_shape(word: str) -> int:
    """The id of `word`'s shape (`WORD_SHAPES`, from 1).

    lower: cased letters, all lowercase ("paris", "iphone's"); title: the first
    character uppercase and the rest lowercase ("Paris", "I"); upper: all
    uppercase ("NASA", "U.S"); mixed: other cased words ("iPhone",
    "McDonald"); digits: no cased letter, a decimal digit ("2017", "3.5");
    other: punctuation, emoji, and letters without case.

    Example:
    >>> [WORD_SHAPES[word_shape(word) - 1] for word in ["jaws", "Jaws", "JAWS", "iPhone", "42", "!"]]
    ['lower', 'title', 'upper', 'mixed', 'digits', 'other']
    """
    upper, lower = word.upper(), word.lower()
    if upper == lower:  # no cased letter
        return SHAPE_IDS["digits" if any(character.isdecimal() for character in word) else "other"]
    if word == lower:
        return SHAPE_IDS["lower"]
    if word[:1] == word[:1].upper() and word[1:] == word[1:].lower():
        return SHAPE_IDS["title"]
    return SHAPE_IDS["upper" if word == upper else "mixed"]


def word_shape_ids(words):
    """`word_shape` of each word of a string tensor, in TensorFlow ops (an exported tagger's)."""
    import tensorflow as tf

    upper = tf.strings.upper(words, encoding="utf-8")
    lower = tf.strings.lower(words, encoding="utf-8")
    first = tf.strings.substr(words, 0, 1, unit="UTF8_CHAR")
    rest = tf.strings.regex_replace(words, r"^(?s:.)", "", replace_global=False)
    title = tf.logical_and(tf.equal(first, tf.strings.upper(first, encoding="utf-8")),
                           tf.equal(rest, tf.strings.lower(rest, encoding="utf-8")))
    digits = tf.strings.regex_full_match(words, r".*\p{Nd}.*")
    shape = SHAPE_IDS
    cased = tf.where(tf.equal(words, lower), shape["lower"], tf.where(
        title, shape["title"], tf.where(tf.equal(words, upper), shape["upper"], shape["mixed"])))
    return tf.where(tf.equal(upper, lower), tf.where(digits, shape["digits"], shape["other"]), cased)
