"""What a pretraining objective is: the model that learns it and the examples it learns from."""

import dataclasses
from collections.abc import Callable


@dataclasses.dataclass(frozen=True)
class Objective:
    """One way to pretrain a backbone, as `--objective NAME` chooses it.

    The recipe (`minibert.training.pretraining.pretrain`) asks the objective
    for its model and its examples, then masks the examples' token ids into
    batches (`minibert.data.pipeline.mlm_dataset`): every objective here
    learns from masked text, and carries any targets of its own as row labels.

    Attributes:
        name: the `--objective` value and the key of `minibert.objectives.OBJECTIVES`.
        description: what the run prints, "... epochs of <description> pretraining".
        help: one clause for `--objective`'s help.
        build_model: `function(backbone, config) -> keras.Model`, the model
            trained, given the backbone it trains and the `RunConfig`.
        make_examples: `function(vectorizer, texts, sequence_length, seed)`
            returning `(token_ids, row_labels)`: int32 ids (rows, tokens), and
            None or a dict mapping an output name of the model to one label per
            row (the labels and weights of each batch are then dicts too).
        num_segments: the segment embeddings its backbone needs (2 for
            `[cls] a [sep] b [sep]` pairs; 0 for single texts).
        single_texts: whether its examples are single texts with no targets
            of their own, so it can stream a `--pretraining-corpus` (the
            corpus's texts, one per row) and train on windows of each text.

    Example:
    >>> from minibert.objectives import get_objective
    >>> get_objective("mlm").description
    'masked-LM'
    """

    name: str
    description: str
    help: str
    build_model: Callable
    make_examples: Callable
    num_segments: int = 0
    single_texts: bool = True
