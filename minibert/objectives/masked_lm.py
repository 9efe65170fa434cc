"""`--objective mlm`: predict the masked words (BERT's masked LM, as RoBERTa trains it alone)."""

from minibert.objectives.objective import Objective


def build_masked_lm(backbone, config, next_sentence=False):
    """The `MaskedLanguageModel` over `backbone` that `config` describes."""
    from minibert.models import MaskedLanguageModel

    return MaskedLanguageModel(
        backbone, tie_weights=config.model.tie_weights, num_sampled=config.pretrain.num_sampled,
        seed=config.seed, next_sentence=next_sentence,
    )


def masked_lm_examples(vectorizer, texts, sequence_length, seed):
    """Each text's token ids; no targets but the masked words themselves."""
    from minibert.data.tokenizer import vectorize

    return vectorize(vectorizer, texts), None


MASKED_LM = Objective(
    name="mlm",
    description="masked-LM",
    help="mlm, predict masked words (default)",
    build_model=build_masked_lm,
    make_examples=masked_lm_examples,
)
