"""Each word's characters as ids, for a tagger that reads how a name is spelt.

The word tokenizer lowercases and reads a word it has not seen as `[UNK]`:
exactly the names a tagger must find. A word's characters keep both its
case and its spelling ("-ville", "Mc", "-ski"), which a small convolution
over them reads (`minibert.layers.CharacterEncoder`; Lample et al. 2016,
Ma and Hovy 2016). No vocabulary is learnt or saved: a character's id is
its Unicode code point plus 1, code points from `CHARACTER_IDS - 2` on
sharing the last id (rare scripts and symbols), 0 the padding.

A word longer than `characters_per_word` keeps its first half and its last
half of that many characters: prefixes and suffixes both tell names apart.
The same ids are made in Python (`character_ids`) and in TensorFlow ops for
an exported model (`served_character_ids`).
"""

import numpy as np

# Latin-1 and Latin Extended-A/B keep ids of their own; the rest share one.
CHARACTER_IDS = 512


def kept_characters(word: str, characters_per_word: int) -> str:
    """`word`, or its first and last halves of `characters_per_word` characters when longer.

    Example:
    >>> kept_characters("Ada", 4), kept_characters("Lovelace", 4)
    ('Ada', 'Loce')
    """
    if len(word) <= characters_per_word:
        return word
    head = characters_per_word // 2
    return word[:head] + word[len(word) - (characters_per_word - head):]


def character_ids(word: str, characters_per_word: int) -> np.ndarray:
    """int32 (characters_per_word,): the ids of `word`'s kept characters, padded with 0.

    Example:
    >>> character_ids("Ada", 4).tolist()
    [66, 101, 98, 0]
    """
    ids = np.zeros(characters_per_word, "int32")
    kept = kept_characters(word, characters_per_word)
    ids[: len(kept)] = [min(ord(character), CHARACTER_IDS - 2) + 1 for character in kept]
    return ids


def served_character_ids(words, characters_per_word: int):
    """`character_ids` in TensorFlow ops: a string tensor (words,) to int32 (words,
    characters_per_word), for an exported model."""
    import tensorflow as tf

    points = tf.strings.unicode_decode(words, "UTF-8")  # ragged (words, characters)
    lengths = tf.cast(points.row_lengths(), tf.int32)[:, tf.newaxis]
    # Padded past the longest word by characters_per_word, so that every position read is there.
    dense = tf.pad(points.to_tensor(default_value=0), [[0, 0], [0, characters_per_word]])
    position = tf.range(characters_per_word)[tf.newaxis, :]
    head = characters_per_word // 2
    # A long word's second half is read from its end: position j of the kept
    # characters is the word's character length - (characters_per_word - j).
    source = tf.where((lengths > characters_per_word) & (position >= head),
                      lengths - (characters_per_word - position), position)
    ids = tf.minimum(tf.gather(dense, source, batch_dims=1), CHARACTER_IDS - 2) + 1
    return tf.where(position < lengths, ids, 0)
