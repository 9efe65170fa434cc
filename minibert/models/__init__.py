"""minibert's models: a backbone and the heads that receive it."""

from minibert.models.backbone import Backbone
from minibert.models.classifier import Classifier
from minibert.models.end_to_end import EndToEndClassifier
from minibert.models.end_to_end_answerer import EndToEndAnswerer
from minibert.models.end_to_end_tagger import EndToEndTagger
from minibert.models.masked_lm import MaskedLanguageModel
from minibert.models.pair_classifier import PairClassifier
from minibert.models.question_answerer import QuestionAnswerer
from minibert.models.replaced_token_detector import ReplacedTokenDetector
from minibert.models.token_classifier import TokenClassifier

__all__ = [
    "Backbone", "Classifier", "EndToEndAnswerer", "EndToEndClassifier", "EndToEndTagger",
    "MaskedLanguageModel", "PairClassifier", "QuestionAnswerer", "ReplacedTokenDetector",
    "TokenClassifier",
]
