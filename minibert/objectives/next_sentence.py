"""`--objective mlm+nsp`: the masked LM and BERT's next-sentence prediction, trained jointly.

Examples are `[cls] a [sep] b [sep]` pairs cut from the documents' sentences,
half of them with `b` from another document (`minibert.data.next_sentence`);
the model adds a next-sentence head on the first token
(`MaskedLanguageModel(next_sentence=True)`), and its loss is the sum of both.
"""

import functools

from minibert.objectives.masked_lm import build_masked_lm
from minibert.objectives.objective import Objective


def masked_lm_and_next_sentence_examples(vectorizer, texts, sequence_length, seed):
    """Packed sentence pairs, and for each whether its second sentence follows the first."""
    from minibert.data.next_sentence import next_sentence_examples

    token_ids, is_next = next_sentence_examples(
        texts, vectorizer.get_vocabulary(), sequence_length, seed
    )
    return token_ids, {"nsp": is_next}


MASKED_LM_AND_NEXT_SENTENCE = Objective(
    name="mlm+nsp",
    description="masked-LM + next-sentence",
    help="mlm+nsp, BERT's next-sentence prediction as well, on pairs cut from the documents' "
    "sentences",
    build_model=functools.partial(build_masked_lm, next_sentence=True),
    make_examples=masked_lm_and_next_sentence_examples,
    num_segments=2,
    # Pairs are cut across a document's sentences and other documents: a
    # stream read one text at a time, or a window of one text, has neither.
    single_texts=False,
)
