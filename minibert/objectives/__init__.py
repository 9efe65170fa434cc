"""Pretraining objectives, one file each, chosen by name from one table.

`OBJECTIVES` is the table the recipe (`minibert.training.pretraining`), the
configuration (`minibert.config`) and the CLI's `--objective` read. A new
objective is a file here defining an `Objective` (its model and the function
that makes its examples) and one entry below. Those functions import the
models and the data pipeline when called, so that reading the table (the
configuration, `--help`) needs no TensorFlow.
"""

from minibert.objectives.masked_lm import MASKED_LM
from minibert.objectives.next_sentence import MASKED_LM_AND_NEXT_SENTENCE
from minibert.objectives.objective import Objective
from minibert.objectives.replaced_token_detection import REPLACED_TOKEN_DETECTION

OBJECTIVES = {
    objective.name: objective
    for objective in (MASKED_LM, MASKED_LM_AND_NEXT_SENTENCE, REPLACED_TOKEN_DETECTION)
}


def get_objective(name: str) -> Objective:
    """The objective named `name`; a clear error lists the known names."""
    if name not in OBJECTIVES:
        raise ValueError(f"objective {name!r} is not one of {tuple(OBJECTIVES)}")
    return OBJECTIVES[name]


__all__ = ["OBJECTIVES", "Objective", "get_objective"]
