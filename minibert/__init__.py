"""minibert: a small BERT trained from scratch with Keras 3.

Importing the package registers every serializable class, so saved models
load with plain `keras.models.load_model(path)`. (The command line alone
starts without them, and imports them once a command's flags parse.)

Example:
>>> import keras, minibert  # doctest: +SKIP
>>> model = keras.models.load_model("saved_models/<run>/end_to_end.keras")  # doctest: +SKIP
>>> model.predict_labels(["A wonderful film."])  # doctest: +SKIP
[('positive', 0.93)]
"""

import os
import sys


def _command_line_is_starting() -> bool:
    """Whether `python -m minibert` (or the `minibert` script) is importing the package.

    Python imports a package before it runs the package's `__main__`, with
    `sys.argv[0]` set to "-m" meanwhile. The command line then skips the
    imports below, which start TensorFlow (5 to 10 s), so that `--help` and a
    mistyped flag answer at once; `minibert.cli.main` imports what a command
    needs once its flags parse.
    """
    arguments = sys.orig_argv
    as_module = (
        sys.argv[:1] == ["-m"] and "-m" in arguments
        and arguments[arguments.index("-m") + 1:][:1] == ["minibert"]
    )
    return as_module or os.path.basename(sys.argv[0]) == "minibert"


if not _command_line_is_starting():
    from minibert.config import FinetuneConfig, ModelConfig, PretrainConfig, RunConfig, get_preset
    from minibert.data.masking import mask_tokens
    from minibert.data.question_answering import QuestionAnswerData, load_questions
    from minibert.data.sources import load_dataset
    from minibert.data.tokenizer import build_vectorizer, standardize_text, vectorize
    from minibert.inspection.embeddings import sentence_vectors
    from minibert.inspection.answer_metrics import answer_report
    from minibert.inspection.fill_mask import FillMaskCallback, fill_mask
    from minibert.inspection.metrics import classification_report
    from minibert.inspection.plots import plot_curves
    from minibert.inspection.tagging_metrics import tagging_report
    from minibert.layers import (
        MaskedLMHead,
        PairPacker,
        SequencePooling,
        TokenAndPositionEmbedding,
        TransformerEncoder,
    )
    from minibert.models import (
        Backbone,
        Classifier,
        EndToEndAnswerer,
        EndToEndClassifier,
        EndToEndTagger,
        MaskedLanguageModel,
        PairClassifier,
        QuestionAnswerer,
        ReplacedTokenDetector,
        TokenClassifier,
    )
    from minibert.export import export_saved_model
    from minibert.runs import RunFolder
    from minibert.scoring import score_file
    from minibert.tasks import TASKS, get_task
    from minibert.training import finetune, finetune_run, pretrain, pretrain_run, run
    from minibert.training.optimization import WarmupLinearDecay, learning_rate_schedule, make_optimizer
    # Registers WordPieceVectorizer, which none of the names above imports.
    from minibert.data import word_piece as _word_piece  # noqa: F401

__version__ = "0.1.0"

__all__ = [
    "Backbone",
    "Classifier",
    "EndToEndAnswerer",
    "EndToEndClassifier",
    "EndToEndTagger",
    "FillMaskCallback",
    "FinetuneConfig",
    "MaskedLMHead",
    "MaskedLanguageModel",
    "ModelConfig",
    "PairClassifier",
    "PairPacker",
    "PretrainConfig",
    "QuestionAnswerData",
    "QuestionAnswerer",
    "ReplacedTokenDetector",
    "RunConfig",
    "RunFolder",
    "SequencePooling",
    "TASKS",
    "TokenAndPositionEmbedding",
    "TokenClassifier",
    "TransformerEncoder",
    "WarmupLinearDecay",
    "answer_report",
    "build_vectorizer",
    "classification_report",
    "export_saved_model",
    "fill_mask",
    "finetune",
    "finetune_run",
    "get_preset",
    "get_task",
    "learning_rate_schedule",
    "load_dataset",
    "load_questions",
    "make_optimizer",
    "mask_tokens",
    "plot_curves",
    "pretrain",
    "pretrain_run",
    "run",
    "score_file",
    "sentence_vectors",
    "standardize_text",
    "tagging_report",
    "vectorize",
]
