"""Run configuration: frozen dataclasses at the edges (CLI, presets, run folders).

Layers take plain keyword arguments; these dataclasses only gather them so a
run can be described by one JSON file (`config.json` in the run folder) and
rebuilt from it. A setting the command line takes declares its flag and help
on its field (`option`); `minibert.cli.run_flags` builds the parser and the
config from them. This module imports neither TensorFlow nor Keras, so that
`python -m minibert --help` answers at once.
"""

import dataclasses

from minibert.data.special_tokens import SPECIAL_TOKENS
from minibert.data.vectorizers import TOKENIZERS
from minibert.objectives import OBJECTIVES, get_objective

# Data-parallel training engines (minibert.training.distribution).
DISTRIBUTIONS = ("none", "mirrored", "data-parallel")
# Learning-rate schedules (minibert.training.optimization.learning_rate_schedule).
SCHEDULES = ("constant", "cosine", "linear", "wsd")
# How a classifier reads a text pair: "siamese", each text through the shared
# backbone ([h1, h2, cos, |h1 - h2|], minibert.models.PairClassifier); or
# "packed", one `[cls] a [sep] b [sep]` sequence with segment embeddings.
PAIR_ENCODINGS = ("siamese", "packed")
# Keras dtype policies a run takes; "auto" picks one for the device the run
# finds (minibert.training.devices).
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16", "auto")
# minibert.layers.SequencePooling's modes (its POOLING_MODES), named here
# without importing Keras.
POOLINGS = ("max", "mean", "first")
DEFAULT_FILL_MASK_SENTENCES = ("I have watched this [mask] and it was awesome",)


def option(default, flag: str, help: str | None = None, **parsing):
    """A setting's field, with the command-line flag that sets it and the flag's help.

    The flag's type comes from the field's annotation (`bool`: `--x/--no-x`,
    `tuple[str, ...]`: repeatable). `parsing` says what the annotation does not:
    `choices`; `count=True`, an integer >= 0; `group`, the `--help` section
    when it is not the field's own (`minibert.cli.run_flags.GROUPS`);
    `store_true=True`, a switch with no `--no-` form; `zero_is_none=True`,
    0 turns the setting off (None).

    Example:
    >>> field = dataclasses.fields(ModelConfig)[1]
    >>> field.name, field.metadata["flag"]
    ('sequence_length', '--max-length')
    """
    return dataclasses.field(default=default, metadata={"flag": flag, "help": help, **parsing})


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """The backbone and masked-LM head shape."""

    vocabulary_size: int = option(30_000, "--vocabulary-size", "words kept, special tokens included")
    sequence_length: int = option(256, "--max-length", "tokens per text; longer texts are cut")
    hidden_dim: int = option(128, "--hidden-dim", "width of the embeddings and encoder blocks")
    num_layers: int = option(1, "--num-layers", "encoder blocks")
    num_heads: int = option(8, "--num-heads", "attention heads per block")
    intermediate_dim: int = option(128, "--intermediate-dim", "width of the feed-forward networks")
    dropout: float = option(0.1, "--dropout", "the encoder's dropout rate")
    activation: str = "relu"
    normalize_first: bool = option(False, "--normalize-first", "pre-LN encoder blocks "
                                   "(default: post-LN, as the notebook)")
    layer_norm_epsilon: float = 1e-6
    # BERT ties them (the notebook did not): 3.8M fewer parameters at 30k words x 128.
    tie_weights: bool = option(True, "--tie-weights", "tie the masked-LM output projection to "
                               "the token embedding")
    # 2 adds BERT's segment embedding, for `[cls] a [sep] b [sep]` inputs;
    # a run sets it when it feeds packed pairs.
    num_segments: int = 0
    # None keeps Keras' glorot_uniform.
    initializer_range: float | None = option(
        None, "--initializer-range", "start every table and kernel from a truncated normal of "
        "this stddev (BERT: 0.02; default: Keras' glorot_uniform)")
    embedding_layer_norm: bool = option(False, "--embedding-layer-norm", "BERT's "
                                        "LayerNormalization of the summed embeddings")
    # Cramming's feed-forward: a gated linear unit, and no biases in the
    # attention and feed-forward layers (TransformerEncoder).
    gated_feedforward: bool = option(False, "--gated-feedforward", "a gated linear unit in each "
                                     "block's feed-forward network (Cramming)")
    use_bias: bool = option(True, "--bias", "biases in the attention and feed-forward layers "
                            "(--no-bias drops them, as Cramming)")

    def backbone_kwargs(self) -> dict:
        """Keyword arguments for `minibert.models.Backbone`."""
        kwargs = dataclasses.asdict(self)
        kwargs.pop("tie_weights")
        return kwargs


@dataclasses.dataclass(frozen=True)
class PretrainConfig:
    """Masked-language-model pretraining."""

    epochs: int = option(5, "--mlm-epochs", "pretraining epochs", count=True)
    batch_size: int = option(32, "--batch-size", "texts per batch, of pretraining (train: of "
                             "fine-tuning too; --distribute: the global batch)")
    learning_rate: float = option(1e-3, "--mlm-learning-rate", "pretraining's peak learning rate")
    mask_rate: float = option(0.15, "--mask-rate", "share of the words masked (BERT: 0.15)")
    # The default draws fresh masks every epoch (RoBERTa's dynamic masking),
    # which gives the model new prediction targets each pass over the same text.
    static_masking: bool = option(False, "--static-masking",
                                  "mask once, as the notebook did (default: the preset's)")
    include_validation_text: bool = option(
        False, "--mlm-include-test", "also pretrain on the validation/test text (the notebook "
        "did; it leaks)", store_true=True)
    # Most reviews are shorter than the maximum: cutting a batch to its
    # longest one saves their padding (needs dynamic masking).
    dynamic_padding: bool = option(True, "--dynamic-padding", "batch reviews of similar length "
                                   "and cut batches to their longest one", group="speed")
    # minibert.layers.sampled_softmax
    num_sampled: int = option(2048, "--num-sampled", "train the masked-LM head on a sampled "
                              "softmax over this many words (0: all words)")
    # With a time budget, the schedule's steps are those the budget's minutes
    # allow (minibert.training.callbacks.BudgetedSchedule).
    schedule: str = option(
        "constant", "--mlm-schedule", "constant, or cosine / linear: 10%% linear warmup, then a "
        "decay to 0; or wsd: the warmup, the rate held, then a linear decay over the last 20%%",
        choices=SCHEDULES)
    objective: str = option(
        "mlm", "--objective", "; ".join(objective.help for objective in OBJECTIVES.values()),
        choices=tuple(OBJECTIVES))
    # Compares objectives or models at equal time (None: every epoch runs).
    max_minutes: float | None = option(None, "--mlm-minutes", "stop pretraining after this many "
                                       "minutes (to compare at equal time)")
    # Streamed by minibert.data.corpus; the vocabulary is adapted on its first
    # `vocabulary_sample` texts.
    corpus: str | None = option(
        None, "--pretraining-corpus", "stream the masked LM's text from this parquet/CSV/TSV/JSONL "
        "file or folder of shards instead of the data set's own text (corpora larger than memory)")
    corpus_text_column: str = option("text", "--corpus-text-column",
                                     "the corpus's text column (default: text)")
    vocabulary_sample: int = option(200_000, "--vocabulary-sample", "adapt the vocabulary on "
                                    "this many of the corpus's first texts (default 200,000)")
    fill_mask_sentences: tuple[str, ...] = option(
        DEFAULT_FILL_MASK_SENTENCES, "--fill-mask-sentence", "a sentence with [mask] whose "
        "top-5 fill-ins print after every epoch (repeatable)")
    generator_width: float = option(0.25, "--generator-width", "--objective electra: the "
                                    "generator's share of the backbone's width (default 0.25)")
    # None: the model's own. Cramming pretrains without dropout.
    dropout: float | None = option(None, "--mlm-dropout", "dropout while pretraining (default: "
                                   "the model's --dropout); fine-tuning keeps the model's")
    # The first steps then need not learn word frequencies.
    unigram_bias: bool = option(False, "--unigram-bias", "start the masked-LM output bias at the "
                                "words' log frequencies in the pretraining text")
    # Cramming's 128; None: whole texts.
    window_length: int | None = option(
        None, "--mlm-window", "pretrain on consecutive windows of this many tokens of each text "
        "(e.g. 128); fine-tuning reads --max-length")


@dataclasses.dataclass(frozen=True)
class FinetuneConfig:
    """Classifier training: stage 1 backbone frozen, stage 2 unfrozen."""

    frozen_epochs: int = option(5, "--frozen-epochs", "epochs, backbone frozen", count=True)
    unfrozen_epochs: int = option(5, "--unfrozen-epochs", "epochs, backbone unfrozen", count=True)
    batch_size: int = option(32, "--batch-size", "texts per fine-tuning batch (--distribute: "
                             "the global batch)")
    learning_rate: float = option(1e-3, "--learning-rate", "classifier, backbone frozen")
    # The unfrozen stage moves pretrained weights: a lower rate keeps it from
    # erasing what pretraining learned.
    unfrozen_learning_rate: float = option(1e-4, "--unfrozen-learning-rate",
                                           "classifier, backbone unfrozen")
    pooling: str = option("max", "--pooling", "how the classifier reads the encoder's tokens",
                          choices=POOLINGS)
    hidden_units: int = 64
    dropout: float = option(0.0, "--classifier-dropout",
                            "dropout before the classifier's output layer")
    # The token and position embeddings are 3.8M of the notebook model's 4.0M
    # weights: keeping them as pretrained is a regularizer to try when the
    # unfrozen stage overfits.
    train_embeddings: bool = option(True, "--train-embeddings", "the unfrozen stage also trains "
                                    "the token and position embeddings")
    # None: all of the backbone; N: the top N encoder blocks (embeddings and
    # lower blocks stay as pretrained); 0: none (the head alone).
    trainable_layers: int | None = option(
        None, "--trainable-layers", "the unfrozen stage trains only the top N encoder layers "
        "(0: the head alone); default: the whole backbone", count=True)
    schedule: str = option("constant", "--schedule", "of each fine-tuning stage",
                           choices=SCHEDULES)
    warmup_fraction: float = option(0.1, "--warmup-fraction",
                                    "share of a stage's steps spent warming up (default 0.1)")
    # Biases and LayerNormalization weights are never decayed.
    weight_decay: float = option(0.0, "--weight-decay",
                                 "AdamW's decoupled weight decay (default 0: Adam)")
    clip_norm: float | None = option(None, "--clip-norm", "clip each gradient to this norm")
    # Few rows make short epochs: a stage of 1 epoch on 200 rows would be 7
    # steps. Each stage trains at least this many optimizer steps, and the
    # best weights on validation are kept, so many passes cannot overfit.
    min_steps: int = option(300, "--min-steps", "each fine-tuning stage trains at least this "
                            "many optimizer steps, however few the rows (default 300)", count=True)
    validate_every: int | None = option(
        None, "--validate-every", "optimizer steps between validations; default: once per pass "
        "over the training rows, or 8 times a stage that makes more passes", zero_is_none=True)
    # Across both stages: the unfrozen stage keeps the frozen stage's weights
    # unless one of its validations beats them.
    restore_best_weights: bool = option(True, "--restore-best-weights", "keep the weights of "
                                        "the best validation score of the stages")
    patience: int = option(3, "--patience", "end a stage after this many validations without "
                           "a better score (0: never early)", count=True)
    # Self-training (Xie et al. 2020's noisy student): the fine-tuned model
    # labels unlabeled text; a student from the same pretrained weights learns
    # the labelled rows and the confident pseudo-labels, with noise.
    self_training: int = option(0, "--self-training", "rounds of self-training after "
                                "fine-tuning: the model labels unlabeled text and a new model, "
                                "from the same pretrained weights, trains on the labelled rows and "
                                "the confident pseudo-labels (default 0: none)", count=True)
    # The settings of the learning curve on IMDb (benchmarks/README.md): on 2
    # cores the teacher labels 10,000 reviews in a few minutes.
    pseudo_label_pool: int = option(10_000, "--pseudo-label-pool", "self-training: unlabeled "
                                    "texts labelled each round, a seeded sample (default "
                                    "10,000)", count=True)
    pseudo_labels: int = option(5_000, "--pseudo-labels", "self-training: at most this many "
                                "pseudo-labelled texts per round, the same number of each class, "
                                "the most confident first (default 5,000)", count=True)
    pseudo_label_confidence: float = option(0.9, "--pseudo-label-confidence", "self-training: "
                                            "the least probability a pseudo-label is kept at")
    mask_rate: float = option(0.0, "--finetune-mask-rate", "classification: the share of each "
                              "training text's words masked 80/10/10 while fine-tuning, as noise "
                              "(default 0; self-training's students: --student-mask-rate)")
    # Noise makes the student more than a copy of its teacher: BERT's own
    # 80/10/10 masking of its input tokens.
    student_mask_rate: float = option(0.1, "--student-mask-rate", "self-training: the share of "
                                      "a student's training tokens masked 80/10/10, as noise")
    dynamic_padding: bool = option(True, "--dynamic-padding", group="speed")
    # A tagger that meets [UNK] in training learns to tag a word from its context
    # and characters rather than recall it (Lample et al. 2016's unknown-word
    # training). With characters read, 0.3 was worth 6 points of entity F1 on
    # CoNLL-2003 and cost half a point with IMDb's vocabulary on WNUT-17
    # (benchmarks/README.md).
    unknown_word_rate: float = option(
        0.3, "--unknown-word-rate", "token classification: the share of training words read as "
        "[UNK], drawn afresh each epoch (default 0.3; 0: none)")
    # The word tokenizer and wordpiece lowercase: a tagger would not see a name's capitals.
    word_shapes: bool = option(True, "--word-shapes", "token classification: the tagger also "
                               "reads each word's shape (lowercase, Capitalized, UPPER, mIxed, "
                               "digits, other), which the lowercasing tokenizers drop")
    # The names a tagger must find are the words a vocabulary lacks; their
    # spelling and capitals are still there to read (Lample et al. 2016).
    word_characters: int = option(
        16, "--word-characters", "token classification: the tagger also reads each word's "
        "characters, its first and last N/2 (a small convolution over them); 0: none "
        "(default 16)", count=True)
    pair_encoding: str = option(
        "siamese", "--pair-encoding", "text pairs: siamese, each text through the shared "
        "encoder, classified on [h1, h2, cos, |h1-h2|] (default); packed, one "
        "[cls] a [sep] b [sep] sequence", choices=PAIR_ENCODINGS)
    # BERT's doc_stride on SQuAD: windows of 384 tokens started 128 apart.
    window_stride: int = option(128, "--window-stride", "question answering: context tokens "
                                "between the starts of two windows of a context longer than "
                                "the model's length (BERT's doc_stride; default 128)", count=True)
    max_answer_tokens: int = option(30, "--max-answer-tokens", "question answering: the longest "
                                    "answer predicted, in tokens (default 30)", count=True)
    unanswered_window_share: float = option(
        0.1, "--unanswered-window-share", "question answering: the share of a long context's "
        "windows without the answer kept in training, taught to point at [cls] (no answer "
        "here; default 0.1); an unanswerable question's windows are all kept")


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything `python -m minibert train` needs besides the data."""

    model: ModelConfig = ModelConfig()
    pretrain: PretrainConfig = PretrainConfig()
    finetune: FinetuneConfig = FinetuneConfig()
    seed: int = option(42, "--seed", "seeds the weights, the masks and the validation split "
                       "(default: the preset's, or finetune's RUN's)", group="run")
    # Losses and logits stay float32 under every policy.
    precision: str = option(
        "float32", "--precision", "Keras dtype policy; auto: mixed_bfloat16 on a GPU that has "
        "bfloat16, mixed_float16 on an older GPU, float32 on a CPU (default: the preset's)",
        choices=PRECISIONS, group="speed")
    # "auto" is Keras' default: on under JAX and on GPUs; off for TensorFlow
    # on a CPU, where XLA made the step slower here (benchmarks/README.md).
    jit_compile: bool | str = option("auto", "--jit", "XLA-compile the training steps "
                                     "(default: Keras' auto)", group="speed")
    distribute: str = option(
        "none", "--distribute", "data-parallel training: mirrored (TensorFlow, one host's GPUs) "
        "or data-parallel (JAX, one or several hosts); --batch-size is the global batch "
        "(default: none)", choices=DISTRIBUTIONS, group="speed")
    tensorboard: bool = option(
        False, "--tensorboard", "write each stage's epochs as TensorBoard logs under "
        "RUN/logs/<stage> (view with: tensorboard --logdir RUN/logs)", store_true=True,
        group="run")
    # Fine-tuning's share is measured on this machine first, pretraining gets
    # the rest (minibert.training.budget), within pretrain.max_minutes if set.
    minutes: float | None = option(
        None, "--minutes", "the whole command's time budget: train measures fine-tuning's "
        "share on this machine first and pretraining gets the rest; pretrain stops when it runs "
        "out (default: the preset's; imdb: 60; 0: no budget)", zero_is_none=True, group="budget")
    tokenizer: str = option(
        "word", "--tokenizer", "word: whole words (default); wordpiece: BERT's sub-word pieces, "
        "learnt from the pretraining text (unknown words split into known pieces instead of "
        "[UNK]); wordpiece-cased: the same, the text's case kept (names)", choices=TOKENIZERS,
        group="model")
    # At most sequence_length / pad_to_multiple batch widths, each compiled
    # once. 32 wastes little on a CPU; on a GPU, where each XLA compile takes
    # seconds and padding costs little, fewer, wider steps pay.
    pad_to_multiple: int = option(
        32, "--pad-to-multiple", "with dynamic padding, batch widths are multiples of this many "
        "tokens: fewer widths, fewer XLA compiles (default: the preset's; 32, gpu: 128)",
        count=True, group="speed")

    def __post_init__(self):
        # Caught here, before the vocabulary and pretraining, not an hour in.
        _check_sizes(self)
        objective = get_objective(self.pretrain.objective)
        if self.minutes is not None and self.minutes <= 0:
            raise ValueError(f"minutes (--minutes) must be positive, got {self.minutes}")
        if self.pretrain.max_minutes is not None and self.pretrain.max_minutes <= 0:
            raise ValueError(f"max_minutes must be positive, got {self.pretrain.max_minutes}")
        if self.pretrain.corpus is not None and (
            not objective.single_texts or self.pretrain.static_masking or self.pretrain.unigram_bias
        ):
            streamed = [name for name, known in OBJECTIVES.items() if known.single_texts]
            raise ValueError(
                f"a streamed pretraining corpus takes the {' or '.join(streamed)} objective with "
                "dynamic masking and no --unigram-bias"
            )
        window = self.pretrain.window_length
        if window is not None and not (
            objective.single_texts and 2 <= window <= self.model.sequence_length
        ):
            raise ValueError(
                f"window_length (--mlm-window) {window} needs an objective of single texts and "
                f"2 to sequence_length ({self.model.sequence_length}) tokens"
            )
        if self.tokenizer not in TOKENIZERS:
            raise ValueError(
                f"tokenizer (--tokenizer) {self.tokenizer!r} is not one of {list(TOKENIZERS)}"
            )
        if self.tokenizer != "word" and not objective.single_texts:
            # Next-sentence pairs are cut and packed with the word tokenizer.
            raise ValueError(f"--tokenizer {self.tokenizer} takes an objective of single texts, "
                             f"not {objective.name}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision (--precision) {self.precision!r} is not one of {PRECISIONS}")
        if self.distribute not in DISTRIBUTIONS:
            raise ValueError(f"distribute {self.distribute!r} is not one of {DISTRIBUTIONS}")
        if self.finetune.pair_encoding not in PAIR_ENCODINGS:
            raise ValueError(
                f"pair_encoding {self.finetune.pair_encoding!r} is not one of {PAIR_ENCODINGS}"
            )
        trainable_layers = self.finetune.trainable_layers
        if trainable_layers is not None and not 0 <= trainable_layers <= self.model.num_layers:
            raise ValueError(
                f"trainable_layers={trainable_layers}, but the model has "
                f"{self.model.num_layers} encoder layers; pass 0 to {self.model.num_layers}"
            )

    @classmethod
    def from_dict(cls, values: dict) -> "RunConfig":
        """Rebuilds a config from `dataclasses.asdict` output, e.g. a run's config.json."""
        pretrain = dict(values["pretrain"])
        pretrain["fill_mask_sentences"] = tuple(pretrain["fill_mask_sentences"])
        return cls(
            model=ModelConfig(**values["model"]),
            pretrain=PretrainConfig(**pretrain),
            finetune=FinetuneConfig(**values["finetune"]),
            seed=values["seed"],
            precision=values["precision"],
            jit_compile=values["jit_compile"],
            distribute=values.get("distribute", "none"),  # older runs have none
            tensorboard=values.get("tensorboard", False),
            minutes=values.get("minutes"),
            tokenizer=values.get("tokenizer", "word"),  # older runs: whole words
            pad_to_multiple=values.get("pad_to_multiple", 32),  # older runs: 32
        )


def _check_sizes(config: RunConfig) -> None:
    """One line naming the setting, its flag and what would do, for sizes no model can take."""
    model, pretrain, finetune = config.model, config.pretrain, config.finetune
    checks = [
        (model.sequence_length >= 2, f"sequence_length (--max-length) must be at least 2, got "
         f"{model.sequence_length}: a masked word needs another word to be read from"),
        (model.vocabulary_size > len(SPECIAL_TOKENS), "vocabulary_size (--vocabulary-size) "
         f"must exceed the {len(SPECIAL_TOKENS)} special tokens {list(SPECIAL_TOKENS)}, got "
         f"{model.vocabulary_size}"),
        (min(model.hidden_dim, model.num_heads, model.num_layers, model.intermediate_dim) >= 1,
         "hidden_dim, num_heads, num_layers and intermediate_dim must be at least 1"),
        (model.hidden_dim % max(model.num_heads, 1) == 0, f"hidden_dim (--hidden-dim) "
         f"{model.hidden_dim} must be a multiple of num_heads (--num-heads) {model.num_heads}"),
        (0 <= model.dropout < 1 and 0 <= finetune.dropout < 1
         and (pretrain.dropout is None or 0 <= pretrain.dropout < 1),
         "dropout (--dropout, --classifier-dropout, --mlm-dropout) must be in [0, 1)"),
        (0 < pretrain.generator_width <= 1,
         f"generator_width (--generator-width) must be in (0, 1], got {pretrain.generator_width}"),
        (model.initializer_range is None or model.initializer_range > 0,
         "initializer_range (--initializer-range) must be positive"),
        (0 < pretrain.mask_rate < 1, f"mask_rate (--mask-rate) must be in (0, 1), got "
         f"{pretrain.mask_rate}; BERT's is 0.15"),
        (min(pretrain.batch_size, finetune.batch_size) >= 1,
         "batch_size (--batch-size) must be at least 1"),
        (min(pretrain.learning_rate, finetune.learning_rate, finetune.unfrozen_learning_rate) > 0,
         "learning rates (--mlm-learning-rate, --learning-rate, --unfrozen-learning-rate) "
         "must be positive"),
        (0 <= finetune.warmup_fraction < 1, "warmup_fraction (--warmup-fraction) must be in [0, 1)"),
        (0 <= finetune.unanswered_window_share <= 1,
         "unanswered_window_share (--unanswered-window-share) must be in [0, 1], got "
         f"{finetune.unanswered_window_share}"),
        (0 <= finetune.unknown_word_rate < 1,
         f"unknown_word_rate (--unknown-word-rate) must be in [0, 1), got {finetune.unknown_word_rate}"),
        (config.pad_to_multiple >= 1,
         f"pad_to_multiple (--pad-to-multiple) must be at least 1, got {config.pad_to_multiple}"),
    ]
    for holds, message in checks:
        if not holds:
            raise ValueError(message)


PRESETS = {
    # The keras.io notebook this project grew from, as it was (benchmarks/README.md).
    "notebook": RunConfig(
        model=ModelConfig(tie_weights=False),
        pretrain=PretrainConfig(static_masking=True, dynamic_padding=False, num_sampled=0),
        finetune=FinetuneConfig(unfrozen_learning_rate=1e-3, dynamic_padding=False),
    ),
    # The accuracy recipe on IMDb within an hour on a CPU, found by
    # measurement: see benchmarks/README.md.
    "imdb": RunConfig(
        model=ModelConfig(
            sequence_length=512, num_layers=2, num_heads=4, intermediate_dim=256,
            normalize_first=True, initializer_range=0.02, embedding_layer_norm=True,
        ),
        pretrain=PretrainConfig(epochs=8, dropout=0.0, unigram_bias=True),
        finetune=FinetuneConfig(
            frozen_epochs=1, unfrozen_epochs=1, unfrozen_learning_rate=2e-3, pooling="mean",
            schedule="cosine",
        ),
        minutes=60,
    ),
    # One modern NVIDIA GPU busy for 15 minutes, the whole command included:
    # see benchmarks/gpu/README.md and benchmarks/README.md.
    "gpu": RunConfig(
        model=ModelConfig(
            sequence_length=512, hidden_dim=256, num_layers=4, num_heads=4,
            intermediate_dim=1024, normalize_first=True, initializer_range=0.02,
            embedding_layer_norm=True,
        ),
        pretrain=PretrainConfig(
            epochs=40, batch_size=256, learning_rate=1e-3, schedule="wsd", dropout=0.0,
            unigram_bias=True,
        ),
        finetune=FinetuneConfig(
            frozen_epochs=1, unfrozen_epochs=2, batch_size=64, unfrozen_learning_rate=5e-4,
            pooling="mean", schedule="cosine",
        ),
        precision="auto",
        jit_compile=True,
        pad_to_multiple=128,
        minutes=15,
    ),
    # Seconds on a CPU: for smoke tests and trying the CLI.
    "tiny": RunConfig(
        model=ModelConfig(vocabulary_size=200, sequence_length=32, hidden_dim=16, num_layers=2,
                          num_heads=2, intermediate_dim=32),
        pretrain=PretrainConfig(epochs=1, batch_size=8),
        finetune=FinetuneConfig(frozen_epochs=1, unfrozen_epochs=1, batch_size=8, min_steps=0),
    ),
}


def get_preset(name: str) -> RunConfig:
    """The named preset; a clear error lists the known names."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[name]
