"""`python -m minibert`'s parser: every command and its flags (a run's own flags: `run_flags.py`).

It imports neither TensorFlow nor Keras: `--help` and a mistyped flag answer at once.
"""

import argparse
import os

from minibert.cli.run_flags import add_run_flags, positive_int
from minibert.config import PRESETS
from minibert.tasks import TASK_NAMES
from minibert.tasks.token_classification.tagged_words import SCHEMES

DESCRIPTION = (
    "minibert: train, pretrain, finetune, predict, export, evaluate, fill-mask, nsp, plot, embed, "
    "bench, baseline."
)


def _add_data_arguments(parser, dataset_default="imdb", tagged_words=False):
    """The data group; with `tagged_words`, also the flags that read sentences of tagged words."""
    data = parser.add_argument_group("data")
    data.add_argument(
        "--dataset", default=dataset_default,
        help="imdb (tensorflow-datasets), amazon-polarity (hub parquet), hf:NAME[:CONFIG] "
        "(Hugging Face datasets, the hf extra), or a PATH: an aclImdb/ folder, a folder of "
        "train/test/unsup parquet|csv|tsv|jsonl files, or one csv/tsv/parquet/jsonl file (default: "
        + ("imdb" if dataset_default else "imdb, unless --pretraining-corpus is given alone")
        + ")",
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
    data.add_argument(
        "--labels", type=int, metavar="N",
        help="keep N labelled training rows, drawn per class (seeded by --seed); the other "
        "rows' text joins the unlabeled text, as in a few-label experiment",
    )
    data.add_argument(
        "--unlabeled", metavar="FILE",
        help="a table file (--text-column) whose texts replace the data set's unlabeled text, "
        "for pretraining and --self-training",
    )
    data.add_argument("--cache-dir", help="where downloads are kept")
    if tagged_words:
        _add_tagged_words_arguments(data)


# Each of these is None unless given, so that one given with the classification task is refused
# (`commands.data_task`) rather than ignored.
def _add_tagged_words_arguments(data):
    """--task token-classification's data flags: where the words and tags are, and their scheme."""
    data.add_argument(
        "--word-column", type=int,
        help="token classification, CoNLL-style text files (one word per line, a blank line "
        "between sentences): the word's column, from 0 (default 0)",
    )
    data.add_argument("--tag-column", type=int,
                      help="the same files: the tag's column (default -1, the last)")
    data.add_argument(
        "--words-column",
        help="token classification, parquet/JSONL/hf:NAME: the column of each sentence's list "
        "of words (default words; hf:conll2003: tokens)",
    )
    data.add_argument("--tags-column", help="the same: the column of each sentence's list of "
                      "tags (default tags; hf:conll2003: ner_tags)")
    data.add_argument(
        "--tag-scheme", choices=("auto", *SCHEMES),
        help="the tags' scheme; auto (default) detects it: IOBES with S-/E- tags, IOB1 when an "
        "entity starts with I-, else IOB2 (BIO)",
    )


def _add_task_argument(parser):
    parser.add_argument(
        "--task", default="classification", choices=TASK_NAMES,
        help="classification: a label per text (default); token-classification: a tag per "
        "word, read from sentences of tagged words (a CoNLL-style file or folder, a "
        "parquet/JSONL table of word and tag lists, hf:NAME); question-answering: the span of "
        "a context that answers a question (SQuAD JSON, a parquet/JSONL table of question, "
        "context and answers, hf:squad)",
    )


def _add_split_argument(parser):
    parser.add_argument(
        "--split", choices=["validation", "train", "all"], default="validation",
        help="which part of the data set (default: validation, the test split when it has one)",
    )


def _add_preset_argument(parser):
    parser.add_argument(
        "--preset", default="imdb", choices=sorted(PRESETS),
        help="imdb: the accuracy recipe (default); notebook: the keras.io notebook's; tiny: a smoke test",
    )


def _add_run_arguments(parser, default_name):
    """The run folder (the run's own flags, --seed among them, come from `add_run_flags`)."""
    parser.add_argument("--output", help=f"run folder (default: saved_models/{default_name})")
    parser.add_argument(
        "--overwrite", action="store_true",
        help="start afresh in a non-empty run folder (by default the same command "
        "resumes an unfinished run there from its last saved epoch)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m minibert", description=DESCRIPTION)
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser(
        "train", help="pretrain a masked LM, then fine-tune a task on it (frozen, unfrozen): a "
        "classifier, a tagger or an answerer"
    )
    _add_task_argument(train)
    _add_data_arguments(train, tagged_words=True)
    _add_preset_argument(train)
    _add_run_arguments(train, "<dataset>-<preset>-<time>")
    add_run_flags(train, "train")

    pretrain = commands.add_parser(
        "pretrain",
        help="the vocabulary and pretraining alone, into a run folder that `finetune --from` reads",
    )
    # Pretraining has no task to choose, only the data's reading: a CoNLL-style source is
    # recognised by its suffix, other tagged sources need the flag.
    pretrain.add_argument(
        "--task", choices=TASK_NAMES,
        help="how to read --dataset: token-classification pretrains on the sentences of "
        "tagged words, question-answering on the distinct contexts of questions (default: "
        "token-classification for a .conll/.iob/.bio file or a folder of such files, "
        "question-answering for a SQuAD JSON file, else classification)",
    )
    _add_data_arguments(pretrain, dataset_default=None, tagged_words=True)
    _add_preset_argument(pretrain)
    _add_run_arguments(pretrain, "<dataset>-pretrain-<preset>-<time>")
    add_run_flags(pretrain, "pretrain")

    finetune = commands.add_parser(
        "finetune",
        help="the frozen and unfrozen stages on a labelled data set, from a pretrained run's "
        "backbone and vocabulary",
    )
    finetune.add_argument(
        "--from", dest="from_run", required=True, metavar="RUN",
        help="a run folder with mlm.keras (written by pretrain or train); its fine-tuning "
        "settings are the defaults here",
    )
    finetune.add_argument(
        "--random-init", action="store_true",
        help="a fresh backbone of RUN's shape and vocabulary instead of its pretrained one "
        "(what pretraining buys)",
    )
    _add_task_argument(finetune)
    _add_data_arguments(finetune, tagged_words=True)
    _add_run_arguments(finetune, "<dataset>-finetune-<time>")
    add_run_flags(finetune, "finetune")

    predict = commands.add_parser(
        "predict", help="label and confidence for each text, or for every row of a file (--input)"
    )
    predict.add_argument("run", help="a run folder")
    predict.add_argument("texts", nargs="*", help="texts to label (or --input)")
    predict.add_argument(
        "--text-pair", action="append", dest="text_pairs",
        help="a pair model's second text, once per text, in the same order",
    )
    predict.add_argument(
        "--question", action="append", dest="questions",
        help="a question-answering run: a question, answered from the --context given with it "
        "(repeat both for more): the top 5 spans, their character offsets and scores",
    )
    predict.add_argument("--context", action="append", dest="contexts",
                         help="the text the --question given with it is answered from")
    scoring = predict.add_argument_group("scoring a file")
    scoring.add_argument(
        "--input", help="a csv/tsv/parquet/jsonl file to score row by row, or - for one text per "
        "line on stdin; streamed in chunks, so any size fits in memory",
    )
    scoring.add_argument(
        "--output", default="-",
        help="where the scored rows go: a csv/tsv/parquet/jsonl file, or - for CSV on stdout "
        "(default): every input column, predicted_label, predicted_probability and one "
        "probability_<label> column per class",
    )
    scoring.add_argument("--text-column", default="text")
    scoring.add_argument("--text-pair-column", help="a pair model's second text")
    scoring.add_argument("--batch-size", type=int, default=128)

    export = commands.add_parser(
        "export",
        help="a run's end-to-end model as a TensorFlow SavedModel, served without minibert "
        "(TF Serving, tf.saved_model.load): raw strings in; class probabilities, each word's tag, "
        "or each question's answer out",
    )
    export.add_argument("run", help="a run folder with end_to_end.keras")
    export.add_argument(
        "--output", required=True,
        help="a new folder for the SavedModel (TF Serving reads MODEL/<version>/, e.g. models/imdb/1)",
    )

    evaluate = commands.add_parser(
        "evaluate", help="a run's metrics on a data set: loss and accuracy, for a tagger "
        "entity F1 overall and per type, for an answerer SQuAD's exact match and F1")
    evaluate.add_argument("run", help="a run folder")
    _add_data_arguments(evaluate, tagged_words=True)
    _add_split_argument(evaluate)

    bench = commands.add_parser(
        "bench", help="time the notebook's training step against the fast path, side by side, "
        "then the preset's own step: tokens/s, model FLOPs utilization, input pipeline"
    )
    _add_data_arguments(bench)
    bench.add_argument("--preset", default="notebook", choices=sorted(PRESETS),
                       help="the model size to time, and the preset whose own step is timed "
                       "last (default: the notebook's)")
    bench.add_argument("--batch-size", type=int, default=32,
                       help="the batch of the side-by-side rows (the preset's step takes its own)")
    bench.add_argument("--steps", type=int, default=20, help="timed steps per configuration")
    bench.add_argument("--ladder", action=argparse.BooleanOptionalAction, default=True,
                       help="the side-by-side rows of the notebook's step and each lever; "
                       "--no-ladder times the preset's own step alone")
    bench.add_argument("--peak-tflops", type=float,
                       help="the device's peak TFLOPS for the preset's precision, for a device "
                       "minibert.utilization does not list")
    bench.add_argument("--output", default=os.path.join("saved_models", "bench.json"),
                       help="where the JSON results go (default: saved_models/bench.json)")

    baseline = commands.add_parser(
        "baseline",
        help="TF-IDF (uni+bigrams) + logistic regression on the validation split train would "
        "carve with the same flags (needs scikit-learn); --task token-classification: each "
        "word's most frequent training tag, scored by entity; --task question-answering: the "
        "sliding-window word-overlap answer, scored by exact match and F1",
    )
    _add_task_argument(baseline)
    _add_data_arguments(baseline, tagged_words=True)
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
    embed.add_argument("--max-rows", type=positive_int, default=2000,
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
