"""A word's shape: the capitals and digits that the tokenizers' lowercasing takes away.

Both tokenizers lowercase (`minibert.data.vectorizers`), so "Paris" and
"paris" are one token, and a capital, the first clue to a name, is lost.
A tagger can read it back as each word's shape, an id beside its token ids
(`minibert.models.TokenClassifier`'s `num_shapes`). The shape is decided by
comparing the word with its upper- and lowercase forms, which TensorFlow's
`tf.strings.upper`/`lower` compute the same way in an exported model
(`minibert.export.serve_tagger`).
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
