"""`python -m minibert`'s flags: the parser of every command, and the run config they give."""

import argparse
import dataclasses
import os

from minibert.config import DISTRIBUTIONS, PAIR_ENCODINGS, PRESETS, SCHEDULES, RunConfig, get_preset
from minibert.data.vectorizers import TOKENIZERS
from minibert.objectives import OBJECTIVES


DESCRIPTION = "minibert: train, predict, evaluate, fill-mask, nsp, plot, embed, bench, baseline."


def _positive_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text}")
    return value


def _add_data_arguments(parser):
    data = parser.add_argument_group("data")
    data.add_argument(
        "--dataset", default="imdb",
        help="imdb (tensorflow-datasets), amazon-polarity (hub parquet), or a PATH: an "
        "aclImdb/ folder, a folder of train/test/unsup parquet|csv|jsonl files, or one "
        "csv/parquet/jsonl file (default: imdb)",
    )
    data.add_argument("--data-dir", help="local copy of imdb or amazon-polarity, for offline machines")
    data.add_argument("--text-column", default="text")
    data.add_argument("--label-column", default="label")
    data.add_argument(
        "--text-pair-column",
        help="the second text of each row, for a table of text pairs (similarity, paraphrase, "
        "entailment)",
    )
    data.add_argument(
        "--group-column",
        help="hold out whole groups of this column as validation (e.g. movie: no film of the "
        "validation split is trained on), for a figure that predicts unseen groups",
    )
    data.add_argument("--label-names", nargs="+", help="names of labels 0..K-1")
    data.add_argument(
        "--validation-size", type=float, default=0.2,
        help="held out of train when the data has no test split: a fraction (< 1) or a "
        "row count (default 0.2: 5,000 of IMDb's 25,000)",
    )
    data.add_argument("--max-train-rows", type=int, help="sample this many training rows")
    data.add_argument("--max-validation-rows", type=int, help="sample this many validation rows")
    data.add_argument("--cache-dir", help="where downloads are kept")


def _add_split_argument(parser):
    parser.add_argument(
        "--split", choices=["validation", "train", "all"], default="validation",
        help="which part of the data set (default: validation, the test split when it has one)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m minibert", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser(
        "train", help="pretrain a masked LM, then fine-tune a classifier (frozen, unfrozen)"
    )
    _add_data_arguments(train)
    train.add_argument(
        "--preset", default="imdb", choices=sorted(PRESETS),
        help="imdb: the accuracy recipe (default); notebook: the keras.io notebook's; tiny: a smoke test",
    )
    train.add_argument("--output", help="run folder (default: saved_models/<dataset>-<preset>-<time>)")
    train.add_argument(
        "--overwrite", action="store_true",
        help="start afresh in a non-empty run folder (by default the same command "
        "resumes an unfinished run there from its last saved epoch)",
    )
    train.add_argument("--seed", type=int, default=42)
    train.add_argument(
        "--minutes", type=float,
        help="the whole run's time budget: fine-tuning's share is measured on this machine "
        "first and pretraining gets the rest (default: the preset's; imdb: 60; 0: no budget)",
    )
    train.add_argument(
        "--tensorboard", action="store_true", default=None,
        help="write each stage's epochs as TensorBoard logs under RUN/logs/<stage> "
        "(view with: tensorboard --logdir RUN/logs)",
    )
    model = train.add_argument_group("model (default: the preset's)")
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
    pretraining = train.add_argument_group("pretraining")
    pretraining.add_argument("--mlm-epochs", type=_positive_int)
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
    finetuning = train.add_argument_group("fine-tuning")
    finetuning.add_argument("--frozen-epochs", type=_positive_int)
    finetuning.add_argument("--unfrozen-epochs", type=_positive_int)
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
        "--trainable-layers", type=_positive_int,
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
    train.add_argument("--batch-size", type=int, help="both pretraining and fine-tuning")
    speed = train.add_argument_group("speed")
    speed.add_argument(
        "--precision", choices=["float32", "mixed_bfloat16", "mixed_float16"],
        help="Keras dtype policy (default: the preset's)",
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

    predict = commands.add_parser("predict", help="label and confidence for each text")
    predict.add_argument("run", help="a run folder")
    predict.add_argument("texts", nargs="+")
    predict.add_argument(
        "--text-pair", action="append", dest="text_pairs",
        help="a pair model's second text, once per text, in the same order",
    )

    evaluate = commands.add_parser("evaluate", help="loss and accuracy of a run on a data set")
    evaluate.add_argument("run", help="a run folder")
    _add_data_arguments(evaluate)
    _add_split_argument(evaluate)

    bench = commands.add_parser(
        "bench", help="time the notebook's training step against the fast path, side by side"
    )
    _add_data_arguments(bench)
    bench.add_argument("--preset", default="notebook", choices=sorted(PRESETS),
                       help="the model size to time (default: the notebook's)")
    bench.add_argument("--batch-size", type=int, default=32)
    bench.add_argument("--steps", type=int, default=20, help="timed steps per configuration")
    bench.add_argument("--output", default=os.path.join("saved_models", "bench.json"),
                       help="where the JSON results go (default: saved_models/bench.json)")

    baseline = commands.add_parser(
        "baseline",
        help="TF-IDF (uni+bigrams) + logistic regression on the validation split train would "
        "carve with the same flags (needs scikit-learn)",
    )
    _add_data_arguments(baseline)
    baseline.add_argument("--seed", type=int, default=42, help="as train's: the same split")

    fill = commands.add_parser("fill-mask", help="top-k words for each [mask]")
    fill.add_argument("run", help="a run folder")
    fill.add_argument("texts", nargs="+", help='sentences with [mask], e.g. "this [mask] was great"')
    fill.add_argument("--top-k", type=int, default=5)

    plot = commands.add_parser("plot", help="redraw a run's training curves from its history.csv")
    plot.add_argument("run", help="a run folder")
    plot.add_argument("--output", help="where the PNG goes (default: RUN/curves.png)")

    embed = commands.add_parser(
        "embed", help="a run's sentence vectors in 2-D, by label: a CSV, and with --plot a picture"
    )
    embed.add_argument("run", help="a run folder (of single texts; text-pair runs are refused)")
    _add_data_arguments(embed)
    _add_split_argument(embed)
    embed.add_argument("--max-rows", type=_positive_int, default=2000,
                       help="sample this many rows of the split (default 2000)")
    embed.add_argument("--method", choices=["pca", "tsne"], default="pca",
                       help="pca (default), or tsne (needs scikit-learn)")
    embed.add_argument("--plot", action="store_true", help="also draw the points, coloured by label")
    embed.add_argument(
        "--output",
        help="the picture's path (default: RUN/embeddings.png); the CSV goes beside it, "
        "the same name ending in .csv",
    )

    nsp = commands.add_parser(
        "nsp", help="P(second follows first) for sentence pairs (a run pretrained with mlm+nsp)"
    )
    nsp.add_argument("run", help="a run folder")
    nsp.add_argument("texts", nargs="+", help="FIRST SECOND [FIRST SECOND ...]")
    return parser


def _override(section, values: dict):
    """`section` with the values the user gave (flags left out are None)."""
    return dataclasses.replace(section, **{k: v for k, v in values.items() if v is not None})


def config_from_args(args) -> RunConfig:
    """The preset, with every flag the user gave laid over it."""
    preset = get_preset(args.preset)
    model_fields = [field.name for field in dataclasses.fields(preset.model)]
    model = _override(preset.model, {name: getattr(args, name) for name in model_fields
                                     if name not in ("activation", "layer_norm_epsilon",
                                                     "num_segments")})
    pretrain = _override(preset.pretrain, {
        "epochs": args.mlm_epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.mlm_learning_rate,
        "mask_rate": args.mask_rate,
        "static_masking": args.static_masking,
        "include_validation_text": args.mlm_include_test,
        "fill_mask_sentences": tuple(args.fill_mask_sentences or ()) or None,
        "dynamic_padding": args.dynamic_padding,
        "num_sampled": args.num_sampled,
        "schedule": args.mlm_schedule,
        "objective": args.objective,
        "max_minutes": args.mlm_minutes,
        "corpus": args.corpus,
        "corpus_text_column": args.corpus_text_column,
        "vocabulary_sample": args.vocabulary_sample,
        "dropout": args.mlm_dropout,
        "unigram_bias": args.unigram_bias,
        "window_length": args.window_length,
        "generator_width": args.generator_width,
    })
    finetune = _override(preset.finetune, {
        "frozen_epochs": args.frozen_epochs,
        "unfrozen_epochs": args.unfrozen_epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "unfrozen_learning_rate": args.unfrozen_learning_rate,
        "pooling": args.pooling,
        "schedule": args.schedule,
        "dynamic_padding": args.dynamic_padding,
        "train_embeddings": args.train_embeddings,
        "trainable_layers": args.trainable_layers,
        "warmup_fraction": args.warmup_fraction,
        "weight_decay": args.weight_decay,
        "clip_norm": args.clip_norm,
        "dropout": args.classifier_dropout,
        "pair_encoding": args.pair_encoding,
    })
    config = _override(
        dataclasses.replace(preset, model=model, pretrain=pretrain, finetune=finetune),
        {"seed": args.seed, "precision": args.precision, "jit_compile": args.jit_compile,
         "distribute": args.distribute, "tensorboard": args.tensorboard,
         "tokenizer": args.tokenizer},
    )
    if args.minutes is not None:  # 0 turns the preset's budget off
        config = dataclasses.replace(config, minutes=args.minutes or None)
    return config


