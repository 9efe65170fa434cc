"""What every end-to-end model does to its raw inputs: texts as an array of str, and its length.

Shared by the classifier, the tagger and the answerer, which otherwise know
nothing of each other.
"""

import numpy as np

from minibert.data.tables import value_to_text


def as_text_array(texts) -> np.ndarray:
    """A 1-D object array of str from a list, Series, array or single string.

    Bytes (as tensorflow-datasets yields) are decoded as UTF-8, invalid bytes
    replaced, not passed to `str()`, which would turn b"good" into the text
    "b'good'". Numbers become their text, as in training. A missing text
    (None, NaN) is an error: predicting on the word "nan" would be wrong.
    """
    if isinstance(texts, (str, bytes)):
        texts = [texts]
    return np.asarray([_as_text(text, index) for index, text in enumerate(texts)], dtype=object)


def _as_text(text, index) -> str:
    value = value_to_text(text)  # as the data sets read their text columns
    if value is None:
        raise ValueError(
            f"text {index} is missing ({text!r}); drop or fill missing texts first, "
            "e.g. frame.dropna(subset=['text'])"
        )
    return value


def sequence_length(vectorizer) -> int:
    """The vectorizer's output length, under either tokenizer's config name."""
    config = vectorizer.get_config()
    return int(config.get("output_sequence_length") or config["sequence_length"])
