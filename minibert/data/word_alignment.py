"""Given words to the token ids minibert reads, and per-token predictions back to the words.

A tagged sentence comes as words (CoNLL's columns, a data set's `tokens`);
the backbone reads token ids. Each word is vectorized on its own, so that
its tokens are known: one or more under `--tokenizer word` (standardization
may leave several, or none), one or more pieces under `--tokenizer wordpiece`.
No word is lost: one that standardizes to nothing (a comma, a dash, an emoji
the word tokenizer strips) becomes one `[UNK]` token, so it is still tagged.

A word's tag is learned and read at its FIRST token only (BERT's choice for
CoNLL-2003, Devlin et al. 2019, section 5.3): the other tokens weigh 0 in the
loss, and a word's prediction is its first token's.

Each token also carries its word's shape (`minibert.data.word_shapes`: the
capitals the tokenizers' lowercasing drops) and, when asked for, its word's
characters (`minibert.data.word_characters`), for a tagger that reads them.

A sentence longer than `sequence_length` tokens is cut at a word's boundary:
words whose first token falls past the cut are not read, and are predicted
`O` (outside any entity).
"""

import dataclasses
import re

import numpy as np

from minibert.data.tokenizer import PADDING_ID, UNKNOWN_ID, vectorize
from minibert.data.word_characters import character_ids
from minibert.data.word_shapes import word_shape

# A word is a run of letters and digits, with inner dots and apostrophes kept
# ("U.S", "Martha's", "3.5"); any other non-space character is a word of its
# own (",", ".", "(", "—"), as CoNLL-2003's tokenization splits punctuation
# off. A trailing dot is split off ("Vineyard." -> "Vineyard", "."), so an
# abbreviation that ends a word ("U.S.") reads as "U.S" and ".".
WORD_PATTERN = re.compile(r"\w+(?:[.'’]\w+)*|[^\w\s]")


def split_words(text: str) -> list[tuple[str, int, int]]:
    """`(word, start, end)` for each word of `text` (`WORD_PATTERN`), with character offsets.

    Example:
    >>> split_words("Jaws, in Martha's Vineyard.")
    [('Jaws', 0, 4), (',', 4, 5), ('in', 6, 8), ("Martha's", 9, 17), ('Vineyard', 18, 26), ('.', 26, 27)]
    """
    return [(match.group(), match.start(), match.end()) for match in WORD_PATTERN.finditer(text)]


# `WORD_PATTERN` in RE2 (TensorFlow's regular expressions, for an exported model):
# RE2's \w is ASCII-only, Python's takes any letter or digit.
SERVED_WORD_PATTERN = r"[\p{L}\p{N}_]+(?:[.'’][\p{L}\p{N}_]+)*|[^\p{L}\p{N}_\s]"


def served_words(texts):
    """In TensorFlow ops, `split_words` of a string tensor (batch,), for an exported model: the
    words, ragged (batch, words), and their character starts and ends, (batch, words) padded to
    the longest text. Words are split by `SERVED_WORD_PATTERN`."""
    import tensorflow as tf
    import tensorflow_text

    pieces, byte_starts, byte_ends = tensorflow_text.regex_split_with_offsets(
        texts, SERVED_WORD_PATTERN, SERVED_WORD_PATTERN)
    # The split keeps the whitespace between words as pieces of its own.
    is_word = pieces.with_flat_values(
        tf.logical_not(tf.strings.regex_full_match(pieces.flat_values, r"\s+")))
    words = tf.ragged.boolean_mask(pieces, is_word)
    byte_starts = tf.ragged.boolean_mask(byte_starts, is_word)
    byte_ends = tf.ragged.boolean_mask(byte_ends, is_word)
    # Byte offsets to character offsets: how many characters start before each.
    _, char_bytes = tf.strings.unicode_decode_with_offsets(texts, "UTF-8")
    char_bytes = char_bytes.to_tensor(default_value=tf.int64.max)
    starts = tf.searchsorted(char_bytes, byte_starts.to_tensor(), side="left")
    ends = tf.searchsorted(char_bytes, byte_ends.to_tensor(), side="left")
    return words, starts, ends


@dataclasses.dataclass(frozen=True)
class AlignedWords:
    """Sentences of words as token ids, and where each word's first token lies.

    Attributes:
        token_ids: int32 (sentences, sequence_length), padded with 0.
        word_starts: one int array per sentence: the position of each word's
            first token, for the words that fit (`len <= num_words`).
        num_words: int array (sentences,): each sentence's words, cut or not.
        shape_ids: int32 like `token_ids`: each token's word's shape id
            (`minibert.data.word_shapes.word_shape`), 0 at the padding.
        character_ids: int32 (sentences, sequence_length, characters per
            word): each token's word's characters
            (`minibert.data.word_characters`), 0 at the padding; None when
            `align_words` was asked for none.

    Example:
    >>> from minibert.data.tokenizer import new_vectorizer
    >>> vectorizer = new_vectorizer(4, ["", "[UNK]", "[mask]", "[cls]", "[sep]", "ada", "wrote"])
    >>> aligned = align_words(vectorizer, [["Ada", ",", "wrote", "it", "twice"]], 4)
    >>> aligned.token_ids.tolist(), aligned.word_starts[0].tolist(), aligned.num_words.tolist()
    ([[5, 1, 6, 1]], [0, 1, 2, 3], [5])
    >>> aligned.shape_ids.tolist()
    [[2, 6, 1, 1]]
    >>> align_words(vectorizer, [["Ada", "wrote"]], 4, characters_per_word=2).character_ids[0, :2].tolist()
    [[66, 98], [120, 102]]
    """

    token_ids: np.ndarray
    word_starts: list
    num_words: np.ndarray
    shape_ids: np.ndarray
    character_ids: np.ndarray | None = None

    def inputs(self, word_shapes: bool, characters: bool = False):
        """What a tagger reads: the token ids alone, or a dict of them and, with `word_shapes`,
        the shape ids, with `characters`, the character ids."""
        if not (word_shapes or characters):
            return self.token_ids
        inputs = {"token_ids": self.token_ids}
        if word_shapes:
            inputs["shape_ids"] = self.shape_ids
        if characters:
            if self.character_ids is None:
                raise ValueError("these words were aligned without characters; pass "
                                 "characters_per_word to align_words")
            inputs["character_ids"] = self.character_ids
        return inputs

    def first_token_targets(self, tag_ids):
        """`(labels, weights)`, both (sentences, sequence_length): each word's tag id at its
        first token with weight 1; 0 with weight 0 at every other token and the padding."""
        labels = np.zeros(self.token_ids.shape, "int32")
        weights = np.zeros(self.token_ids.shape, "float32")
        for row, (starts, tags) in enumerate(zip(self.word_starts, tag_ids)):
            labels[row, starts] = np.asarray(tags, "int32")[: len(starts)]
            weights[row, starts] = 1.0
        return labels, weights

    def word_predictions(self, probabilities, outside_id: int, outside_weight: float = 1.0,
                         decode=None):
        """Per sentence, each word's `(tag ids, confidences)` read at its first token.

        Args:
            probabilities: (sentences, tokens, tags), the model's output; `tokens`
                may be fewer than `sequence_length` (a batch cut to its width).
            outside_id: the id of `O`, given to the words past the cut (confidence 0).
            outside_weight: `O`'s probability is multiplied by it before the
                tags are chosen (below 1: more words tagged as entities); a
                confidence is the chosen tag's own probability.
            decode: `function(probabilities (words, tags)) -> tag ids (words,)`
                for one sentence's words read; None: each word's most probable tag
                (`minibert.tasks.token_classification.tag_decoding.tag_decoder`).
        """
        probabilities = np.asarray(probabilities)
        weights = np.ones(probabilities.shape[-1], probabilities.dtype)
        weights[outside_id] = outside_weight
        predictions = []
        for row, (starts, count) in enumerate(zip(self.word_starts, self.num_words)):
            tag_ids = np.full(count, outside_id, "int64")
            confidences = np.zeros(count, "float32")
            read = starts[starts < probabilities.shape[1]]
            weighed = probabilities[row, read] * weights
            chosen = weighed.argmax(axis=-1) if decode is None else decode(weighed)
            tag_ids[: len(read)] = chosen
            confidences[: len(read)] = probabilities[row, read][np.arange(len(read)), chosen]
            predictions.append((tag_ids, confidences))
        return predictions


def word_tokens(vectorizer, words) -> dict:
    """`{word: [token id, ...]}` for each distinct word, vectorized alone; never an empty list.

    A word that standardizes to nothing (punctuation under the word
    tokenizer) becomes `[UNK]`, so that it keeps a token to be tagged at.

    Example:
    >>> from minibert.data.tokenizer import new_vectorizer
    >>> vectorizer = new_vectorizer(4, ["", "[UNK]", "[mask]", "[cls]", "[sep]", "us"])
    >>> word_tokens(vectorizer, ["U.S.", "!", "U.S."])
    {'U.S.': [5], '!': [1]}
    """
    distinct = list(dict.fromkeys(str(word) for word in words))
    ids = vectorize(vectorizer, distinct) if distinct else np.zeros((0, 1), "int32")
    tokens = {}
    for word, row in zip(distinct, ids):
        kept = [int(token) for token in row if token != PADDING_ID]
        tokens[word] = kept or [UNKNOWN_ID]
    return tokens


def align_words(vectorizer, sentences, sequence_length: int,
                characters_per_word: int = 0) -> AlignedWords:
    """The token ids of `sentences` (lists of words) and each word's first-token position.

    Each sentence's words' tokens are laid end to end and cut to
    `sequence_length`; a word whose first token is cut off is left out of
    `word_starts` (and predicted `O` by `AlignedWords.word_predictions`). A
    word whose later pieces are cut keeps its first. With
    `characters_per_word`, every token also carries its word's character ids.
    """
    sentences = [[str(word) for word in sentence] for sentence in sentences]
    tokens = word_tokens(vectorizer, (word for sentence in sentences for word in sentence))
    shapes = {word: word_shape(word) for word in tokens}
    token_ids = np.zeros((len(sentences), sequence_length), "int32")
    shape_ids = np.zeros((len(sentences), sequence_length), "int32")
    characters = None
    if characters_per_word:
        spelt = {word: character_ids(word, characters_per_word) for word in tokens}
        characters = np.zeros((len(sentences), sequence_length, characters_per_word), "int32")
    word_starts = []
    for row, sentence in enumerate(sentences):
        ids, word_shapes, starts, words = [], [], [], []
        for word in sentence:
            if len(ids) >= sequence_length:
                break
            starts.append(len(ids))
            ids += tokens[word]
            word_shapes += [shapes[word]] * len(tokens[word])
            words += [word] * len(tokens[word])
        ids = ids[:sequence_length]
        token_ids[row, : len(ids)] = ids
        shape_ids[row, : len(ids)] = word_shapes[: len(ids)]
        if characters is not None and ids:
            characters[row, : len(ids)] = [spelt[word] for word in words[: len(ids)]]
        word_starts.append(np.asarray(starts, "int64"))
    return AlignedWords(token_ids, word_starts, np.asarray([len(s) for s in sentences], "int64"),
                        shape_ids, characters)
