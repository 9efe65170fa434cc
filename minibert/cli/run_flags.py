"""The flags that describe a run, in argument groups the commands share, and the RunConfig they give.

`train` takes every group; `pretrain` the model and pretraining ones; `finetune`
the fine-tuning ones, laid over the pretrained run's config (`config_from_args`).
"""

import argparse
import dataclasses

from minibert.config import (
    DISTRIBUTIONS, PAIR_ENCODINGS, PRECISIONS, SCHEDULES, RunConfig, get_preset,
)
from minibert.data.vectorizers import TOKENIZERS
from minibert.objectives import OBJECTIVES


def positive_int(text):
    """argparse's type for counts that may be 0 (epochs, layers)."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return value


def add_model_arguments(parser):
    """The backbone's shape and layers (default: the preset's)."""
    model = parser.add_argument_group("model (default: the preset's)")
    model.add_argument("--max-length", type=int, dest="sequence_length")
    model.add_argument(
        "--tokenizer", choices=TOKENIZERS,
        help="word: whole words (default); wordpiece: BERT's sub-word pieces, learnt from the "
        "pretraining text (unknown words split into known pieces instead of [UNK])",
    )
    model.add_argument("--vocabulary-size", type=int)
    model.add_argument("--hidden-dim", type=int)
    model.add_argument("--num-layers", type=int)
    model.add_argument("--num-heads", type=int)
    model.add_argument("--intermediate-dim", type=int)
    model.add_argument("--dropout", type=float)
    model.add_argument(
        "--normalize-first", action=argparse.BooleanOptionalAction, default=None,
        help="pre-LN encoder blocks (default: post-LN, as the notebook)",
    )
    model.add_argument(
        "--initializer-range", type=float,
        help="start every table and kernel from a truncated normal of this stddev (BERT: 0.02; "
        "default: Keras' glorot_uniform)",
    )
    model.add_argument(
        "--embedding-layer-norm", action=argparse.BooleanOptionalAction, default=None,
        help="BERT's LayerNormalization of the summed embeddings",
    )
    model.add_argument(
        "--gated-feedforward", action=argparse.BooleanOptionalAction, default=None,
        help="a gated linear unit in each block's feed-forward network (Cramming)",
    )
    model.add_argument(
        "--bias", action=argparse.BooleanOptionalAction, default=None, dest="use_bias",
        help="biases in the attention and feed-forward layers (--no-bias drops them, as Cramming)",
    )
    model.add_argument(
        "--tie-weights", action=argparse.BooleanOptionalAction, default=None,
        help="tie the masked-LM output projection to the token embedding",
    )


def add_pretraining_arguments(parser):
    """The pretraining stage's flags."""
    pretraining = parser.add_argument_group("pretraining")
    pretraining.add_argument("--mlm-epochs", type=positive_int)
    pretraining.add_argument(
        "--objective", choices=list(OBJECTIVES),
        help="; ".join(objective.help for objective in OBJECTIVES.values()),
    )
    pretraining.add_argument(
        "--generator-width", type=float,
        help="--objective electra: the generator's share of the backbone's width (default 0.25)",
    )
    pretraining.add_argument(
        "--mlm-minutes", type=float,
        help="stop pretraining after this many minutes (to compare at equal time)",
    )
    pretraining.add_argument(
        "--pretraining-corpus", dest="corpus",
        help="stream the masked LM's text from this parquet/CSV/JSONL file or folder of shards "
        "instead of the data set's own text (corpora larger than memory)",
    )
    pretraining.add_argument("--corpus-text-column", help="the corpus's text column (default: text)")
    pretraining.add_argument(
        "--vocabulary-sample", type=int,
        help="adapt the vocabulary on this many of the corpus's first texts (default 200,000)",
    )
    pretraining.add_argument("--mlm-learning-rate", type=float)
    pretraining.add_argument(
        "--mlm-dropout", type=float,
        help="dropout while pretraining (default: the model's --dropout); fine-tuning keeps the model's",
    )
    pretraining.add_argument(
        "--unigram-bias", action=argparse.BooleanOptionalAction, default=None,
        help="start the masked-LM output bias at the words' log frequencies in the pretraining text",
    )
    pretraining.add_argument(
        "--mlm-window", type=int, dest="window_length",
        help="pretrain on consecutive windows of this many tokens of each text (e.g. 128); "
        "fine-tuning reads --max-length",
    )
    pretraining.add_argument("--mask-rate", type=float)
    pretraining.add_argument(
        "--static-masking", action=argparse.BooleanOptionalAction, default=None,
        help="mask once, as the notebook did (default: the preset's)",
    )
    pretraining.add_argument(
        "--mlm-schedule", choices=SCHEDULES,
        help="constant, or cosine / linear: 10%% linear warmup, then a decay to 0; or wsd: the "
        "warmup, the rate held, then a linear decay over the last 20%%",
    )
    pretraining.add_argument(
        "--num-sampled", type=int,
        help="train the masked-LM head on a sampled softmax over this many words (0: all words)",
    )
    pretraining.add_argument(
        "--mlm-include-test", action="store_true", default=None,
        help="also pretrain on the validation/test text (the notebook did; it leaks)",
    )
    pretraining.add_argument(
        "--fill-mask-sentence", action="append", dest="fill_mask_sentences",
        help="a sentence with [mask] whose top-5 fill-ins print after every epoch (repeatable)",
    )


def add_finetuning_arguments(parser):
    """The frozen and unfrozen stages' flags."""
    finetuning = parser.add_argument_group("fine-tuning")
    finetuning.add_argument("--frozen-epochs", type=positive_int)
    finetuning.add_argument("--unfrozen-epochs", type=positive_int)
    finetuning.add_argument("--learning-rate", type=float, help="classifier, backbone frozen")
    finetuning.add_argument("--unfrozen-learning-rate", type=float, help="classifier, backbone unfrozen")
    finetuning.add_argument("--pooling", choices=["max", "mean", "first"])
    finetuning.add_argument("--schedule", choices=SCHEDULES, help="of each fine-tuning stage")
    finetuning.add_argument(
        "--warmup-fraction", type=float, help="share of a stage's steps spent warming up (default 0.1)"
    )
    finetuning.add_argument(
        "--train-embeddings", action=argparse.BooleanOptionalAction, default=None,
        help="the unfrozen stage also trains the token and position embeddings",
    )
    finetuning.add_argument(
        "--trainable-layers", type=positive_int,
        help="the unfrozen stage trains only the top N encoder layers (0: the head alone); "
        "default: the whole backbone",
    )
    finetuning.add_argument(
        "--weight-decay", type=float, help="AdamW's decoupled weight decay (default 0: Adam)"
    )
    finetuning.add_argument("--clip-norm", type=float, help="clip each gradient to this norm")
    finetuning.add_argument(
        "--classifier-dropout", type=float, help="dropout before the classifier's output layer"
    )
    finetuning.add_argument(
        "--pair-encoding", choices=PAIR_ENCODINGS,
        help="text pairs: siamese, each text through the shared encoder, classified on "
        "[h1, h2, cos, |h1-h2|] (default); packed, one [cls] a [sep] b [sep] sequence",
    )


def add_speed_arguments(parser):
    """Precision, devices and batching."""
    speed = parser.add_argument_group("speed")
    speed.add_argument(
        "--precision", choices=PRECISIONS,
        help="Keras dtype policy; auto: mixed_bfloat16 on a GPU that has bfloat16, "
        "mixed_float16 on an older GPU, float32 on a CPU (default: the preset's)",
    )
    speed.add_argument(
        "--distribute", choices=DISTRIBUTIONS,
        help="data-parallel training: mirrored (TensorFlow, one host's GPUs) or data-parallel "
        "(JAX, one or several hosts); --batch-size is the global batch (default: none)",
    )
    speed.add_argument("--jit", action=argparse.BooleanOptionalAction, default=None,
                       dest="jit_compile",
                       help="XLA-compile the training steps (default: Keras' auto)")
    speed.add_argument(
        "--dynamic-padding", action=argparse.BooleanOptionalAction, default=None,
        help="batch reviews of similar length and cut batches to their longest one",
    )
    speed.add_argument(
        "--pad-to-multiple", type=positive_int,
        help="with dynamic padding, batch widths are multiples of this many tokens: fewer "
        "widths, fewer XLA compiles (default: the preset's; 32, gpu: 128)",
    )


def _override(section, values: dict):
    """`section` with the values the user gave (flags left out are None)."""
    return dataclasses.replace(section, **{k: v for k, v in values.items() if v is not None})


def config_from_args(args, base: RunConfig | None = None) -> RunConfig:
    """`base` (default: the preset), with every flag the user gave laid over it.

    A command without some flag (`finetune` has no model flags) leaves those settings as `base` has them.
    """
    preset = base if base is not None else get_preset(args.preset)

    def flag(name):
        return getattr(args, name, None)

    model_fields = [field.name for field in dataclasses.fields(preset.model)]
    model = _override(preset.model, {name: flag(name) for name in model_fields
                                     if name not in ("activation", "layer_norm_epsilon",
                                                     "num_segments")})
    pretrain = _override(preset.pretrain, {
        "epochs": flag("mlm_epochs"),
        "batch_size": flag("batch_size"),
        "learning_rate": flag("mlm_learning_rate"),
        "mask_rate": flag("mask_rate"),
        "static_masking": flag("static_masking"),
        "include_validation_text": flag("mlm_include_test"),
        "fill_mask_sentences": tuple(flag("fill_mask_sentences") or ()) or None,
        "dynamic_padding": flag("dynamic_padding"),
        "num_sampled": flag("num_sampled"),
        "schedule": flag("mlm_schedule"),
        "objective": flag("objective"),
        "max_minutes": flag("mlm_minutes"),
        "corpus": flag("corpus"),
        "corpus_text_column": flag("corpus_text_column"),
        "vocabulary_sample": flag("vocabulary_sample"),
        "dropout": flag("mlm_dropout"),
        "unigram_bias": flag("unigram_bias"),
        "window_length": flag("window_length"),
        "generator_width": flag("generator_width"),
    })
    finetune = _override(preset.finetune, {
        "frozen_epochs": flag("frozen_epochs"),
        "unfrozen_epochs": flag("unfrozen_epochs"),
        "batch_size": flag("batch_size"),
        "learning_rate": flag("learning_rate"),
        "unfrozen_learning_rate": flag("unfrozen_learning_rate"),
        "pooling": flag("pooling"),
        "schedule": flag("schedule"),
        "dynamic_padding": flag("dynamic_padding"),
        "train_embeddings": flag("train_embeddings"),
        "trainable_layers": flag("trainable_layers"),
        "warmup_fraction": flag("warmup_fraction"),
        "weight_decay": flag("weight_decay"),
        "clip_norm": flag("clip_norm"),
        "dropout": flag("classifier_dropout"),
        "pair_encoding": flag("pair_encoding"),
    })
    config = _override(
        dataclasses.replace(preset, model=model, pretrain=pretrain, finetune=finetune),
        {name: flag(name) for name in
         ("seed", "precision", "jit_compile", "distribute", "tensorboard", "tokenizer",
          "pad_to_multiple")},
    )
    if flag("minutes") is not None:  # 0 turns the preset's budget off
        config = dataclasses.replace(config, minutes=flag("minutes") or None)
    return config
