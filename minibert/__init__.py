"""minibert: a small BERT trained from scratch with Keras 3.

Importing the package registers every serializable class, so saved models
load with plain `keras.models.load_model(path)`. The public names below are
imported on first use (PEP 562's module `__getattr__`), the package's one
lazy import: the command line starts without TensorFlow, so that `--help`
answers at once, and registers the classes once a command's flags parse
(`register_every_class`).

Example:
>>> import keras, minibert  # doctest: +SKIP
>>> model = keras.models.load_model("saved_models/<run>/end_to_end.keras")  # doctest: +SKIP
>>> model.predict_labels(["A wonderful film."])  # doctest: +SKIP
[('positive', 0.93)]
"""

import importlib
import os
import sys


def _command_line_is_starting() -> bool:
    """Whether `python -m minibert` (or the `minibert` script) is importing the package.

    Python imports a package before it runs the package's `__main__`, with
    `sys.argv[0]` set to "-m" meanwhile. The command line then leaves the
    classes unregistered, which starts TensorFlow (5 to 10 s), so that `--help`
    and a mistyped flag answer at once; `minibert.cli.main` registers them
    once its flags parse.
    """
    arguments = sys.orig_argv
    as_module = (
        sys.argv[:1] == ["-m"] and "-m" in arguments
        and arguments[arguments.index("-m") + 1:][:1] == ["minibert"]
    )
    return as_module or os.path.basename(sys.argv[0]) == "minibert"


# Each public name and the module it lives in.
_PUBLIC = {
    "Backbone": "minibert.models",
    "CharacterEncoder": "minibert.layers",
    "Classifier": "minibert.tasks.classification.classifier",
    "EndToEndAnswerer": "minibert.tasks.question_answering.end_to_end_answerer",
    "EndToEndClassifier": "minibert.tasks.classification.end_to_end_classifier",
    "EndToEndTagger": "minibert.tasks.token_classification.end_to_end_tagger",
    "FillMaskCallback": "minibert.inspection.fill_mask",
    "FinetuneConfig": "minibert.config",
    "FinetuningTask": "minibert.tasks.task",
    "MaskedLMHead": "minibert.layers",
    "MaskedLanguageModel": "minibert.models",
    "ModelConfig": "minibert.config",
    "PairClassifier": "minibert.tasks.classification.pair_classifier",
    "PairPacker": "minibert.layers",
    "PretrainConfig": "minibert.config",
    "QuestionAnswerData": "minibert.tasks.question_answering.questions",
    "QuestionAnswerer": "minibert.tasks.question_answering.question_answerer",
    "ReplacedTokenDetector": "minibert.models",
    "RunConfig": "minibert.config",
    "RunFolder": "minibert.runs",
    "SequencePooling": "minibert.layers",
    "TASKS": "minibert.tasks.table",
    "TaggedWordsData": "minibert.tasks.token_classification.tagged_words",
    "TokenAndPositionEmbedding": "minibert.layers",
    "TokenClassifier": "minibert.tasks.token_classification.token_classifier",
    "TransformerEncoder": "minibert.layers",
    "WarmupLinearDecay": "minibert.training.optimization",
    "answer_report": "minibert.tasks.question_answering.metrics",
    "build_vectorizer": "minibert.data.tokenizer",
    "classification_report": "minibert.tasks.classification.metrics",
    "export_saved_model": "minibert.export",
    "fill_mask": "minibert.inspection.fill_mask",
    "finetune": "minibert.training",
    "finetune_run": "minibert.training",
    "get_preset": "minibert.config",
    "get_task": "minibert.tasks.table",
    "learning_rate_schedule": "minibert.training.optimization",
    "load_dataset": "minibert.data.sources",
    "load_questions": "minibert.tasks.question_answering.questions",
    "load_tagged_words": "minibert.tasks.token_classification.tagged_words",
    "make_optimizer": "minibert.training.optimization",
    "mask_tokens": "minibert.data.masking",
    "plot_curves": "minibert.inspection.plots",
    "pretrain": "minibert.training",
    "pretrain_run": "minibert.training",
    "pretraining_setup": "minibert.training.pretraining",
    "reporting_to": "minibert.reporting",
    "run": "minibert.training",
    "score_file": "minibert.scoring",
    "sentence_vectors": "minibert.inspection.embeddings",
    "standardize_text": "minibert.data.tokenizer",
    "tagging_report": "minibert.tasks.token_classification.metrics",
    "vectorize": "minibert.data.tokenizer",
}

# The modules whose import registers every class a saved model is rebuilt
# from: the models and the layers they hold (the tasks' through their
# table), the WordPiece vectorizer and a saved optimizer's schedule.
_REGISTERING = ("minibert.models", "minibert.tasks.table", "minibert.data.word_piece",
                "minibert.training.optimization")


def register_every_class() -> None:
    """Registers with Keras every class a saved minibert model is rebuilt from.

    `keras.models.load_model` finds a saved model's classes by the names
    their modules register when imported.
    """
    for module in _REGISTERING:
        importlib.import_module(module)


def __getattr__(name):
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name]), name)
    globals()[name] = value  # the next lookup finds it without this function
    return value


def __dir__():
    return sorted([*globals(), *_PUBLIC])


if not _command_line_is_starting():
    register_every_class()

__version__ = "0.1.0"

__all__ = sorted([*_PUBLIC, "register_every_class"])
