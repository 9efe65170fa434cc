"""minibert's core models: the backbone and the pretraining objectives' models.

A fine-tuning task's heads and end-to-end model live in its folder under
`minibert.tasks`.
"""

from minibert.models.backbone import Backbone
from minibert.models.masked_lm import MaskedLanguageModel
from minibert.models.replaced_token_detector import ReplacedTokenDetector

__all__ = ["Backbone", "MaskedLanguageModel", "ReplacedTokenDetector"]
