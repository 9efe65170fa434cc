"""Run configuration: frozen dataclasses at the edges (CLI, presets, run folders).

Layers take plain keyword arguments; these dataclasses only gather them so a
run can be described by one JSON file (`config.json` in the run folder) and
rebuilt from it.
"""

import dataclasses

from minibert.data.tokenizer import SPECIAL_TOKENS
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
# finds (minibert.training.accelerators.resolve_precision).
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16", "auto")
DEFAULT_FILL_MASK_SENTENCES = ("I have watched this [mask] and it was awesome",)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """The backbone and masked-LM head shape."""

    vocabulary_size: int = 30_000
    sequence_length: int = 256
    hidden_dim: int = 128
    num_layers: int = 1
    num_heads: int = 8
    intermediate_dim: int = 128
    dropout: float = 0.1
    activation: str = "relu"
    normalize_first: bool = False
    layer_norm_epsilon: float = 1e-6
    # Tie the MLM output projection to the token embedding (BERT does; the
    # notebook did not): 3.8M fewer parameters at 30k words x 128.
    tie_weights: bool = True
    # 2 adds BERT's segment embedding, for `[cls] a [sep] b [sep]` inputs;
    # a run sets it when it feeds packed pairs.
    num_segments: int = 0
    # BERT's initialization, a truncated normal of this stddev (0.02) for every
    # table and kernel; None keeps Keras' glorot_uniform.
    initializer_range: float | None = None
    # BERT's LayerNormalization of the summed embeddings.
    embedding_layer_norm: bool = False
    # Cramming's feed-forward: a gated linear unit, and no biases in the
    # attention and feed-forward layers (TransformerEncoder).
    gated_feedforward: bool = False
    use_bias: bool = True

    def backbone_kwargs(self) -> dict:
        """Keyword arguments for `minibert.models.Backbone`."""
        kwargs = dataclasses.asdict(self)
        kwargs.pop("tie_weights")
        return kwargs


@dataclasses.dataclass(frozen=True)
class PretrainConfig:
    """Masked-language-model pretraining."""

    epochs: int = 5
    batch_size: int = 32
    learning_rate: float = 1e-3
    mask_rate: float = 0.15
    # Masks drawn once for the whole run, as the notebook did. The default
    # draws fresh masks every epoch (RoBERTa's dynamic masking), which gives
    # the model new prediction targets each pass over the same text.
    static_masking: bool = False
    include_validation_text: bool = False
    # Group reviews of similar length and cut each batch to its longest one
    # (needs dynamic masking): most reviews are shorter than the maximum.
    dynamic_padding: bool = True
    # Train the masked-LM head on a sampled softmax over this many words
    # (minibert.layers.sampled_softmax); 0 trains on the full vocabulary.
    num_sampled: int = 2048
    # "constant", or "cosine" / "linear": a linear warmup over the first 10%
    # of steps, then a cosine or linear decay to 0; or "wsd": the warmup, the
    # peak held, then a linear decay over the last 20%
    # (minibert.training.optimization.learning_rate_schedule). With a time
    # budget, the steps are those the budget's minutes allow
    # (minibert.training.callbacks.BudgetedSchedule).
    schedule: str = "constant"
    # A name in minibert.objectives.OBJECTIVES: "mlm", masked-LM alone
    # (RoBERTa); "mlm+nsp", with BERT's next-sentence prediction.
    objective: str = "mlm"
    # Stop pretraining after this many minutes, wherever the epoch is (None:
    # run every epoch): compares objectives or models at equal time.
    max_minutes: float | None = None
    # A parquet/CSV/JSONL file or folder of shards to stream the masked LM's
    # text from (minibert.data.corpus), in place of the data set's own text;
    # the vocabulary is adapted on its first `vocabulary_sample` texts.
    corpus: str | None = None
    corpus_text_column: str = "text"
    vocabulary_sample: int = 200_000
    fill_mask_sentences: tuple[str, ...] = DEFAULT_FILL_MASK_SENTENCES
    # --objective electra: the generator's share of the backbone's widths.
    generator_width: float = 0.25
    # Dropout while pretraining (None: the model's own); fine-tuning gets the
    # model's rate back. Cramming pretrains without it.
    dropout: float | None = None
    # Start the masked-LM output bias at the log unigram frequencies of the
    # pretraining text, so the first steps need not learn word frequencies.
    unigram_bias: bool = False
    # Pretrain on consecutive windows of this many tokens of each text
    # (Cramming's 128), fine-tune on the full sequence_length; None: whole texts.
    window_length: int | None = None


@dataclasses.dataclass(frozen=True)
class FinetuneConfig:
    """Classifier training: stage 1 backbone frozen, stage 2 unfrozen."""

    frozen_epochs: int = 5
    unfrozen_epochs: int = 5
    batch_size: int = 32
    learning_rate: float = 1e-3
    # The unfrozen stage moves pretrained weights: a lower rate keeps it from
    # erasing what pretraining learned.
    unfrozen_learning_rate: float = 1e-4
    pooling: str = "max"
    hidden_units: int = 64
    # Dropout before the classifier's output layer.
    dropout: float = 0.0
    # Whether the unfrozen stage also trains the token and position
    # embeddings, 3.8M of the notebook model's 4.0M weights. Keeping them
    # as pretrained is a regularizer to try when that stage overfits.
    train_embeddings: bool = True
    # How much of the backbone the unfrozen stage trains: None, all of it;
    # N, only the top N encoder blocks (embeddings and lower blocks stay as
    # pretrained); 0, none (the head alone, as in the frozen stage).
    trainable_layers: int | None = None
    # Each stage's schedule, as PretrainConfig.schedule, and its warmup share.
    schedule: str = "constant"
    warmup_fraction: float = 0.1
    # AdamW's decoupled weight decay (0: plain Adam); biases and
    # LayerNormalization weights are never decayed.
    weight_decay: float = 0.0
    # Clip each gradient to this norm (None: no clipping).
    clip_norm: float | None = None
    # Cut each batch to its longest review (see PretrainConfig.dynamic_padding).
    dynamic_padding: bool = True
    # Text pairs only: one of PAIR_ENCODINGS.
    pair_encoding: str = "siamese"


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything `python -m minibert train` needs besides the data."""

    model: ModelConfig = ModelConfig()
    pretrain: PretrainConfig = PretrainConfig()
    finetune: FinetuneConfig = FinetuneConfig()
    seed: int = 42
    # A Keras dtype policy: "float32", "mixed_bfloat16" (CPUs with AVX512-BF16
    # or AMX, TPUs, NVIDIA GPUs from Ampere on) or "mixed_float16" (older
    # NVIDIA GPUs); or "auto": mixed_bfloat16 on a GPU that has it,
    # mixed_float16 on an older one, float32 on a CPU. Losses and logits stay float32.
    precision: str = "float32"
    # XLA-compile the training steps: True, False, or "auto", Keras' default
    # (on under JAX and on GPUs; off for TensorFlow on a CPU, where XLA made
    # the step slower here, benchmarks/README.md).
    jit_compile: bool | str = "auto"
    # One of minibert.distribution.DISTRIBUTIONS: "none", "mirrored" (TF,
    # one host's GPUs) or "data-parallel" (JAX, one or many hosts).
    distribute: str = "none"
    # Write each stage's epochs as TensorBoard event files under RUN/logs/<stage>
    # (minibert.training.tensorboard_logs).
    tensorboard: bool = False
    # The whole run's wall-clock budget in minutes (None: none): fine-tuning's
    # share is measured on this machine first, pretraining gets the rest
    # (minibert.training.budget), within pretrain.max_minutes if that is set.
    minutes: float | None = None
    # One of minibert.data.vectorizers.TOKENIZERS: "word" or "wordpiece".
    tokenizer: str = "word"
    # Dynamic padding cuts each batch to a multiple of this many tokens: at
    # most sequence_length / pad_to_multiple batch widths, each one compiled
    # once. 32 wastes little on a CPU; on a GPU, where each XLA compile takes
    # seconds and padding costs little, fewer, wider steps pay.
    pad_to_multiple: int = 32

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
        (config.pad_to_multiple >= 1,
         f"pad_to_multiple (--pad-to-multiple) must be at least 1, got {config.pad_to_multiple}"),
    ]
    for holds, message in checks:
        if not holds:
            raise ValueError(message)


PRESETS = {
    # The keras.io notebook this project grew from, as it was: 1 post-LN layer,
    # 128 dim, 8 heads, FF 128, 256 tokens, 30k words, static masking, Adam 1e-3
    # in every stage, 5 + 5 + 5 epochs.
    "notebook": RunConfig(
        model=ModelConfig(tie_weights=False),
        pretrain=PretrainConfig(static_masking=True, dynamic_padding=False, num_sampled=0),
        finetune=FinetuneConfig(unfrozen_learning_rate=1e-3, dynamic_padding=False),
    ),
    # The accuracy recipe, found by measurement on IMDb (benchmarks/README.md):
    # 512 tokens, 2 pre-LN layers of 4 heads, the fast path, masked-LM
    # pretraining at a constant 1e-3 (a decaying rate slowed the MLM), then
    # mean pooling, 1 frozen epoch at Adam 1e-3 and 1 unfrozen epoch at 2e-3,
    # each with warmup and cosine decay (a second unfrozen epoch overfits;
    # 1e-3 and 5e-4 scored lower). Issue 15's levers: BERT's initialization
    # and embedding LayerNorm, no dropout while pretraining, and the output
    # bias at the log word frequencies (they shortened the plateau and lifted
    # the frozen stage). The whole run has 60 minutes: fine-tuning's share is
    # measured first and pretraining gets the rest, up to 8 epochs, at a
    # constant 1e-3: Cramming's one-cycle, a warmup to 2e-3 or 4e-3 then a
    # linear decay ending with the budget, did no better over the hour
    # (benchmarks/README.md).
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
    # One modern NVIDIA GPU busy for 15 minutes, the whole command included
    # (benchmarks/gpu/README.md). Not yet measured on a GPU: the sizes follow
    # BERT-mini/small (4 layers of 256, 4 heads, feed-forward 4x), the batch
    # what keeps a GPU's matrix units fed at 512 tokens, and every CPU-proven
    # lever of "imdb" is kept. A GPU's own levers: "auto" precision (bf16 from
    # Ampere on, float16 before: also what lets Keras' attention take the
    # fused flash kernel), XLA, and batches cut to multiples of 128 tokens so
    # XLA compiles 4 widths rather than 16. Pretraining gets what the
    # 15 minutes leave after fine-tuning's measured share, up to 40 epochs,
    # under the wsd schedule (a warmup, the peak held, a decay over the last
    # 20% of the budget's steps), which ends wherever the budget does.
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
        model=ModelConfig(
            vocabulary_size=200,
            sequence_length=32,
            hidden_dim=16,
            num_layers=2,
            num_heads=2,
            intermediate_dim=32,
        ),
        pretrain=PretrainConfig(epochs=1, batch_size=8),
        finetune=FinetuneConfig(frozen_epochs=1, unfrozen_epochs=1, batch_size=8),
    ),
}


def get_preset(name: str) -> RunConfig:
    """The named preset; a clear error lists the known names."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[name]
