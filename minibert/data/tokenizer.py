"""The word tokenizer: TextVectorization with the notebook's standardization.

Token ids are laid out with the special tokens first (`minibert.data.special_tokens`).
The one rule for cutting a text pair to fit (`kept_lengths`) lives here too:
packed pairs (`minibert.layers.PairPacker`) and next-sentence pairs
(`minibert.data.next_sentence`) both follow it.
"""

import re
import string

import keras
import numpy as np
import tensorflow as tf

from minibert.data.special_tokens import (  # noqa: F401  (the tokenizer's ids, imported from here too)
    CLS_ID,
    CLS_TOKEN,
    MASK_ID,
    MASK_TOKEN,
    NUM_SPECIAL_TOKENS,
    PADDING_ID,
    PADDING_TOKEN,
    SEP_ID,
    SEP_TOKEN,
    SPECIAL_TOKENS,
    UNKNOWN_ID,
    UNKNOWN_TOKEN,
)

# The notebook's punctuation set: string.punctuation less '"' and the square
# brackets, so that "[mask]" survives standardization as one token.
STRIPPED_PUNCTUATION = "".join(c for c in string.punctuation if c not in '"[]')


@keras.saving.register_keras_serializable(package="minibert")
def standardize_text(text, lowercase=True):
    """Lowercase (unless `lowercase` is False), turn `<br />` into a space, strip the
    notebook's punctuation.

    Example:
    >>> standardize_text(tf.constant("Great<br />film, really!")).numpy()
    b'great film really'
    >>> standardize_text(tf.constant("Great<br />film, really!"), lowercase=False).numpy()
    b'Great film really'
    """
    if lowercase:
        text = tf.strings.lower(text)
    text = tf.strings.regex_replace(text, "<br />", " ")
    return tf.strings.regex_replace(text, f"[{re.escape(STRIPPED_PUNCTUATION)}]", "")


def new_vectorizer(sequence_length: int, vocabulary=None, name="vectorizer"):
    """A TextVectorization layer with minibert's standardization."""
    if sequence_length < 2:
        raise ValueError(f"sequence_length must be at least 2, got {sequence_length}")
    return keras.layers.TextVectorization(
        standardize=standardize_text,
        output_mode="int",
        output_sequence_length=sequence_length,
        vocabulary=None if vocabulary is None else list(vocabulary),
        name=name,
    )


def build_vectorizer(texts, vocabulary_size: int, sequence_length: int, batch_size=1024):
    """Adapts a vectorizer on `texts` and puts the special tokens first.

    Args:
        texts: the pretraining text (never evaluation text: the vocabulary
            would leak which words the validation reviews use).
        vocabulary_size: total ids including the special tokens.
        sequence_length: every output is padded or cut to this many tokens.

    Example:
    >>> vectorizer = build_vectorizer(["a good film", "a bad film"], 10, 4)
    >>> [str(token) for token in vectorizer.get_vocabulary()[:6]]
    ['', '[UNK]', '[mask]', '[cls]', '[sep]', 'film']
    """
    if vocabulary_size <= NUM_SPECIAL_TOKENS:
        raise ValueError(
            f"vocabulary_size must exceed the {NUM_SPECIAL_TOKENS} special tokens "
            f"{list(SPECIAL_TOKENS)}, got {vocabulary_size}"
        )
    counter = new_vectorizer(sequence_length)
    counter.adapt(tf.data.Dataset.from_tensor_slices(list(texts)).batch(batch_size))
    # get_vocabulary() is ["", "[UNK]", most frequent words...].
    words = [w for w in counter.get_vocabulary()[2:] if w not in SPECIAL_TOKENS]
    vocabulary = list(SPECIAL_TOKENS) + words[: vocabulary_size - NUM_SPECIAL_TOKENS]
    return new_vectorizer(sequence_length, vocabulary)


def vocabulary_text(vectorizer) -> str:
    """One token per line, id = line number (line 0 is the empty padding token).

    A run folder writes it as vocabulary.txt, whole or not at all
    (`minibert.runs.RunFolder.write_vocabulary`); `load_vocabulary` reads it back.
    """
    return "\n".join(vectorizer.get_vocabulary()) + "\n"


def save_vocabulary(vectorizer, path) -> None:
    """`vocabulary_text` written to `path`, for a model built by hand (`load_vocabulary` reads it)."""
    with open(path, "w", encoding="utf-8") as file:
        file.write(vocabulary_text(vectorizer))


def load_vocabulary(path) -> list[str]:
    with open(path, encoding="utf-8") as file:
        return file.read().split("\n")[:-1]


def vectorized_batches(vectorizer, texts, batch_size=1024):
    """Yields the vectorizer's output for `texts`, `batch_size` texts at a time.

    Under TensorFlow the batches are vectorized in parallel inside tf.data.
    Under JAX or PyTorch, Keras hands a callable `standardize` NumPy arrays,
    which a tf.data graph cannot give it, so the batches are vectorized
    eagerly, one after the other.
    """
    dataset = tf.data.Dataset.from_tensor_slices(list(texts)).batch(batch_size)
    if keras.backend.backend() == "tensorflow":
        yield from dataset.map(vectorizer, num_parallel_calls=tf.data.AUTOTUNE)
    else:
        for batch in dataset:
            yield vectorizer(batch)


def vectorize(vectorizer, texts, batch_size=1024) -> np.ndarray:
    """Token ids for a list of texts, as an int32 array (texts, sequence_length)."""
    batches = [np.asarray(batch) for batch in vectorized_batches(vectorizer, texts, batch_size)]
    if not batches:
        return np.zeros((0, vectorizer.get_config()["output_sequence_length"]), "int32")
    return np.concatenate(batches).astype("int32")


def kept_lengths(length_a, length_b, budget):
    """How many tokens of each side fit in `budget`, the longer side cut first.

    Each side keeps up to half the room (the first side the odd token), and
    room one side does not need goes to the other. Ints, arrays or tensors.

    Example:
    >>> [int(kept) for kept in kept_lengths(20, 2, budget=9)]
    [7, 2]
    """
    kept_a = keras.ops.minimum(length_a, keras.ops.maximum(budget - length_b, (budget + 1) // 2))
    return kept_a, keras.ops.minimum(length_b, budget - kept_a)
