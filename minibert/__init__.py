"""minibert: a small BERT trained from scratch with Keras 3.

Importing the package registers every serializable class, so saved models
load with plain `keras.models.load_model(path)`.

Example:
>>> import keras, minibert  # doctest: +SKIP
>>> model = keras.models.load_model("saved_models/<run>/end_to_end.keras")  # doctest: +SKIP
>>> model.predict_labels(["A wonderful film."])  # doctest: +SKIP
[('positive', 0.93)]
"""

from minibert.config import FinetuneConfig, ModelConfig, PretrainConfig, RunConfig, get_preset
from minibert.data.masking import mask_tokens
from minibert.data.sources import load_dataset
from minibert.data.tokenizer import build_vectorizer, standardize_text, vectorize
from minibert.inspection.embeddings import sentence_vectors
from minibert.inspection.fill_mask import FillMaskCallback, fill_mask
from minibert.inspection.metrics import classification_report
from minibert.inspection.plots import plot_curves
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
    EndToEndClassifier,
    MaskedLanguageModel,
    PairClassifier,
    ReplacedTokenDetector,
)
from minibert.export import export_saved_model
from minibert.scoring import score_file
from minibert.training import finetune, finetune_run, pretrain, pretrain_run, run
from minibert.training.optimization import WarmupLinearDecay, learning_rate_schedule, make_optimizer

__version__ = "0.1.0"

__all__ = [
    "Backbone",
    "Classifier",
    "EndToEndClassifier",
    "FillMaskCallback",
    "FinetuneConfig",
    "MaskedLMHead",
    "MaskedLanguageModel",
    "ModelConfig",
    "PairClassifier",
    "PairPacker",
    "PretrainConfig",
    "ReplacedTokenDetector",
    "RunConfig",
    "SequencePooling",
    "TokenAndPositionEmbedding",
    "TransformerEncoder",
    "WarmupLinearDecay",
    "build_vectorizer",
    "classification_report",
    "export_saved_model",
    "fill_mask",
    "finetune",
    "finetune_run",
    "get_preset",
    "learning_rate_schedule",
    "load_dataset",
    "make_optimizer",
    "mask_tokens",
    "plot_curves",
    "pretrain",
    "pretrain_run",
    "run",
    "score_file",
    "sentence_vectors",
    "standardize_text",
    "vectorize",
]
