"""The WordPiece tokenizer (`--tokenizer wordpiece`): sub-word pieces in place of whole words.

BERT's own tokenizer (Wu et al. 2016, Devlin et al. 2019): a word the
vocabulary lacks is split into known pieces (`unwatchable` -> `un`,
`##watch`, `##able`) instead of becoming `[UNK]`, so a smaller table covers
more of the text. `WordPieceVectorizer` is a drop-in for the word
tokenizer's `TextVectorization`: the same standardization, the same special
tokens at the same ids (`minibert.data.tokenizer`), token ids padded or cut
to `sequence_length`, `get_vocabulary()` and `vocabulary_size()`; it runs in
tf.data for training and inside `end_to_end.keras` for raw strings, where
its vocabulary is saved in the model's config.

Masking treats every piece as a token: a word of three pieces may have one
piece masked and the others shown (BERT's original masking, before
whole-word masking), so the model learns to complete words as well as to
choose them.
"""

import keras
import numpy as np
import tensorflow as tf

from minibert.data.tokenizer import (
    MASK_TOKEN,
    NUM_SPECIAL_TOKENS,
    PADDING_TOKEN,
    SPECIAL_TOKENS,
    UNKNOWN_TOKEN,
    standardize_text,
)

# keras_hub's tokenizer needs a non-empty token at the padding id; lowercased
# text can never produce it.
_PADDING_PIECE = "[PAD]"
SUFFIX_INDICATOR = "##"


@keras.saving.register_keras_serializable(package="minibert")
class WordPieceVectorizer(keras.layers.Layer):
    """Raw strings to WordPiece token ids, with minibert's standardization and special tokens.

    Args:
        vocabulary: the tokens, id = index; the first five are minibert's
            special tokens (`""` padding, `[UNK]`, `[mask]`, `[cls]`, `[sep]`),
            continuation pieces start with `##`.
        sequence_length: every output is padded (id 0) or cut to this many tokens.
        lowercase: whether the text is lowercased first (minibert's
            standardization); False keeps its case (`--tokenizer
            wordpiece-cased`), so that "Apple" and "apple" are two pieces.

    Call arguments:
        texts: string tensor (batch,).

    Returns:
        int32 tensor (batch, sequence_length).

    Example:
    >>> vocabulary = ["", "[UNK]", "[mask]", "[cls]", "[sep]", "a", "film", "un", "##watch", "##able"]
    >>> vectorizer = WordPieceVectorizer(vocabulary, sequence_length=6)
    >>> vectorizer(tf.constant(["An unwatchable [mask] film!"])).numpy().tolist()
    [[1, 7, 8, 9, 2, 6]]
    """

    def __init__(self, vocabulary, sequence_length, lowercase=True, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        import keras_hub

        if sequence_length < 2:
            raise ValueError(f"sequence_length must be at least 2, got {sequence_length}")
        vocabulary = [str(token) for token in vocabulary]
        if tuple(vocabulary[:NUM_SPECIAL_TOKENS]) != SPECIAL_TOKENS:
            raise ValueError(
                f"a WordPiece vocabulary starts with minibert's special tokens "
                f"{list(SPECIAL_TOKENS)}, got {vocabulary[:NUM_SPECIAL_TOKENS]}"
            )
        self.vocabulary = vocabulary
        self.sequence_length = sequence_length
        self.lowercase = lowercase
        self._pieces = keras_hub.tokenizers.WordPieceTokenizer(
            vocabulary=[_PADDING_PIECE] + vocabulary[1:],
            sequence_length=sequence_length,
            lowercase=False,  # standardize_text lowercases, or case is kept
            suffix_indicator=SUFFIX_INDICATOR,
            oov_token=UNKNOWN_TOKEN,
            # "[mask]" typed in a fill-mask sentence stays one token.
            special_tokens=[MASK_TOKEN],
            special_tokens_in_strings=True,
            dtype="int32",
        )

    def __call__(self, texts, **kwargs):
        # Python strings and lists too, as TextVectorization takes them.
        if isinstance(texts, (str, list, tuple, np.ndarray)):
            texts = tf.convert_to_tensor(texts, dtype=tf.string)
        return super().__call__(texts, **kwargs)

    def build(self, input_shape):
        self.built = True  # nothing to build: the vocabulary is fixed

    def call(self, texts):
        return tf.cast(self._pieces(standardize_text(texts, self.lowercase)), "int32")

    def get_vocabulary(self) -> list[str]:
        return list(self.vocabulary)

    def vocabulary_size(self) -> int:
        return len(self.vocabulary)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:1]) + (self.sequence_length,)

    def get_config(self):
        config = super().get_config()
        config.update({"vocabulary": self.vocabulary, "sequence_length": self.sequence_length,
                       "lowercase": self.lowercase})
        return config

    # The vocabulary travels in the config; the inner tokenizer's own asset
    # file would only repeat it.
    def save_assets(self, dir_path):
        pass

    def load_assets(self, dir_path):
        pass


def build_word_piece_vectorizer(texts, vocabulary_size: int, sequence_length: int, batch_size=1024,
                                lowercase=True):
    """Learns a WordPiece vocabulary of at most `vocabulary_size` tokens from `texts`.

    keras_hub's `compute_word_piece_vocabulary` (BERT's vocabulary learner),
    on the standardized texts (lowercased, unless `lowercase` is False), with
    minibert's special tokens reserved first.

    Example:
    >>> vectorizer = build_word_piece_vectorizer(["a watchable film", "an unwatchable film"] * 20,
    ...                                          vocabulary_size=60, sequence_length=8)
    >>> vectorizer.get_vocabulary()[:5] == ["", "[UNK]", "[mask]", "[cls]", "[sep]"]
    True
    """
    import keras_hub

    if vocabulary_size <= NUM_SPECIAL_TOKENS:
        raise ValueError(
            f"vocabulary_size must exceed the {NUM_SPECIAL_TOKENS} special tokens "
            f"{list(SPECIAL_TOKENS)}, got {vocabulary_size}"
        )
    standardized = tf.data.Dataset.from_tensor_slices(list(texts)).batch(batch_size).map(
        lambda batch: standardize_text(batch, lowercase))
    reserved = [_PADDING_PIECE] + list(SPECIAL_TOKENS[1:])
    vocabulary = keras_hub.tokenizers.compute_word_piece_vocabulary(
        standardized, vocabulary_size, lowercase=False, suffix_indicator=SUFFIX_INDICATOR,
        reserved_tokens=reserved,
    )
    # Never more than the size asked for, whatever the learner's search returns.
    vocabulary = [PADDING_TOKEN] + list(vocabulary[1:vocabulary_size])
    return WordPieceVectorizer(vocabulary, sequence_length, lowercase=lowercase)
