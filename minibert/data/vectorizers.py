"""The run's tokenizer by name (`--tokenizer`): whole words or WordPiece pieces.

Both kinds are Keras layers from raw strings to padded token ids with the
same special tokens (`minibert.data.tokenizer`), so the rest of the package
takes either as "the vectorizer". Each function imports its tokenizer when
called: the configuration reads `TOKENIZERS` without TensorFlow.
"""

# "word": TextVectorization over whole words, the notebook's; "wordpiece":
# BERT's sub-word pieces (minibert.data.word_piece); "wordpiece-cased": the
# same pieces with the text's case kept (BERT's cased models), for names.
TOKENIZERS = ("word", "wordpiece", "wordpiece-cased")


def build_run_vectorizer(tokenizer: str, texts, vocabulary_size: int, sequence_length: int):
    """A vectorizer of kind `tokenizer` whose vocabulary is learnt from `texts`.

    Example:
    >>> build_run_vectorizer("word", ["a good film"], 10, 4).vocabulary_size()
    8
    """
    from minibert.data.tokenizer import build_vectorizer
    from minibert.data.word_piece import build_word_piece_vectorizer

    _check(tokenizer)
    if tokenizer == "word":
        return build_vectorizer(texts, vocabulary_size, sequence_length)
    return build_word_piece_vectorizer(texts, vocabulary_size, sequence_length,
                                       lowercase=tokenizer == "wordpiece")


def run_vectorizer(tokenizer: str, sequence_length: int, vocabulary):
    """A vectorizer of kind `tokenizer` over a saved vocabulary (a run's vocabulary.txt)."""
    from minibert.data.tokenizer import new_vectorizer
    from minibert.data.word_piece import WordPieceVectorizer

    _check(tokenizer)
    if tokenizer == "word":
        return new_vectorizer(sequence_length, vocabulary)
    return WordPieceVectorizer(vocabulary, sequence_length, lowercase=tokenizer == "wordpiece")


def _check(tokenizer):
    if tokenizer not in TOKENIZERS:
        raise ValueError(f"unknown tokenizer {tokenizer!r}; choose one of {list(TOKENIZERS)}")
