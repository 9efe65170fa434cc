"""Next-sentence-prediction examples: documents split into sentences, packed in pairs.

BERT's second pretraining task (Devlin et al. 2019, section 3.1): given
`[cls] a [sep] b [sep]`, is b the text that follows a in its document
(label 1), or text from another document (label 0)? Each document with at
least two sentences gives one example: it is cut between two sentences at a
random point; half the time b is what follows the cut, half the time it
starts at a random sentence of another document. Like BERT's
`create_pretraining_data.py`, the pairs are drawn once per run; the masks
laid over them are drawn afresh every epoch by the masked-LM pipeline.

When a pair is longer than the sequence, a keeps its end and b its start, so
the words on either side of the cut stay next to each other.
"""

import re

import keras
import numpy as np

from minibert.data.tokenizer import (
    CLS_ID,
    SEP_ID,
    UNKNOWN_ID,
    kept_lengths,
    standardize_text,
    vectorized_batches,
)

# A sentence ends at . ! or ? (or one of them and a closing quote or bracket)
# followed by space; the space is what the split removes.
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+")


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, split after `.`, `!` or `?`; `<br />` counts as a space.

    Example:
    >>> split_sentences("A fine film. Too long!<br />Still, I liked it.")
    ['A fine film.', 'Too long!', 'Still, I liked it.']
    """
    text = text.replace("<br />", " ")
    return [sentence.strip() for sentence in _SENTENCE_END.split(text) if sentence.strip()]


def _sentence_ids(vocabulary, sentences, batch_size=4096):
    """Token ids of each sentence, unpadded: a flat array and each sentence's length."""
    # Padded to each batch's longest sentence (ragged output is TensorFlow-only);
    # no word has id 0, so the non-zero ids are the sentence's tokens.
    vectorizer = keras.layers.TextVectorization(
        standardize=standardize_text, vocabulary=list(vocabulary)
    )
    flat, lengths = [np.zeros(0, "int32")], [np.zeros(0, "int64")]
    for batch in vectorized_batches(vectorizer, sentences, batch_size):
        ids = np.asarray(batch)
        flat.append(ids[ids != 0].astype("int32"))
        lengths.append(np.count_nonzero(ids, axis=1))
    return np.concatenate(flat), np.concatenate(lengths)


def next_sentence_examples(texts, vocabulary, sequence_length: int, seed: int = 42):
    """One packed `[cls] a [sep] b [sep]` example per document of two or more sentences.

    Args:
        texts: the documents.
        vocabulary: the run's vocabulary (`vectorizer.get_vocabulary()`).
        sequence_length: length of each packed example, at least 3.
        seed: the cuts, the choice of real or random b, and the random b.

    Returns:
        `(token_ids, labels)`: int32 (examples, sequence_length) 0-padded,
        and int32 (examples,) with 1 where b follows a.

    Example:
    >>> vocabulary = ["", "[UNK]", "[mask]", "[cls]", "[sep]", "good", "film", "bad", "plot"]
    >>> ids, labels = next_sentence_examples(["Good film. Bad plot.", "Bad film. Good plot."],
    ...                                      vocabulary, sequence_length=8)
    >>> ids.shape, labels.shape
    ((2, 8), (2,))
    """
    if sequence_length < 3:
        raise ValueError(f"next-sentence examples need sequence_length >= 3, got {sequence_length}")
    per_document = [split_sentences(str(text)) for text in texts]
    counts = np.array([len(sentences) for sentences in per_document])
    flat, lengths = _sentence_ids(
        vocabulary, [sentence for sentences in per_document for sentence in sentences]
    )
    flat = np.where(flat == SEP_ID, UNKNOWN_ID, flat)  # a literal [sep] would shift the segments
    sentence_starts = np.concatenate([[0], np.cumsum(lengths)])  # token offset of each sentence
    first_sentence = np.concatenate([[0], np.cumsum(counts)])  # sentence offset of each document

    def tokens(first, last):
        """The tokens of sentences first..last-1, as one array."""
        return flat[sentence_starts[first] : sentence_starts[last]]

    documents = np.flatnonzero(counts >= 2)
    rng = np.random.default_rng(seed)
    labels = (rng.random(len(documents)) < 0.5).astype("int32")
    pairs = []
    for row, document in enumerate(documents):
        start, end = first_sentence[document], first_sentence[document + 1]
        cut = start + rng.integers(1, counts[document])  # a: sentences before the cut
        if labels[row] or len(documents) < 2:
            second = tokens(cut, end)
            labels[row] = 1
        else:
            other = rng.integers(len(documents) - 1)
            other = documents[other + (other >= row)]  # any document but this one
            other_start = first_sentence[other] + rng.integers(counts[other])
            second = tokens(other_start, first_sentence[other + 1])
        pairs.append((tokens(start, cut), second))
    # The same longest-first rule as PairPacker; here a keeps its end.
    kept_first, kept_second = (
        np.asarray(kept)
        for kept in kept_lengths(
            np.array([len(first) for first, _ in pairs], "int32"),
            np.array([len(second) for _, second in pairs], "int32"),
            sequence_length - 3,
        )
    )
    token_ids = np.zeros((len(documents), sequence_length), "int32")
    for row, (first, second) in enumerate(pairs):
        packed = np.concatenate([
            [CLS_ID], first[len(first) - kept_first[row] :], [SEP_ID],
            second[: kept_second[row]], [SEP_ID],
        ])
        token_ids[row, : len(packed)] = packed
    return token_ids, labels
