"""What a model pretrained with `--objective mlm+nsp` thinks of a sentence pair."""

import numpy as np

from minibert.data.tokenizer import vectorize
from minibert.layers import PairPacker


def next_sentence_probability(masked_lm, vectorizer, pairs) -> np.ndarray:
    """P(second follows first) for each `(first, second)` pair of texts.

    Args:
        masked_lm: a `MaskedLanguageModel` with `next_sentence=True`.
        vectorizer: the run's vectorizer.
        pairs: `(first, second)` tuples of texts.

    Example:
    >>> next_sentence_probability(masked_lm, vectorizer,  # doctest: +SKIP
    ...                           [("I loved this film.", "The acting was superb.")])
    array([0.87], dtype=float32)
    """
    if not getattr(masked_lm, "next_sentence", False):
        raise ValueError(
            "this model was pretrained without next-sentence prediction; "
            "train with --objective mlm+nsp"
        )
    pairs = list(pairs)
    firsts = vectorize(vectorizer, [first for first, _ in pairs])
    seconds = vectorize(vectorizer, [second for _, second in pairs])
    token_ids = np.asarray(PairPacker(masked_lm.backbone.sequence_length)(firsts, seconds))
    outputs = masked_lm.predict(
        {"token_ids": token_ids, "mask_positions": np.zeros((len(pairs), 1), "int32")}, verbose=0
    )
    return 1 / (1 + np.exp(-outputs["nsp"][:, 0]))
