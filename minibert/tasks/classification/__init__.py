"""Sentence classification: a label per text or text pair (sentiment, topic, entailment).

`task.py` holds the task (`CLASSIFICATION`); beside it, the heads
(`Classifier`, `PairClassifier`), the end-to-end model of raw strings
(`EndToEndClassifier`, which also owns its serving signature), the metrics
and the TF-IDF baseline. Its data is `minibert.data.sources`' labelled text,
which pretraining reads too.
"""

NAME = "classification"
# The data flags classification reads, with the value each has when not given.
DATA_FLAGS = {
    "--text-column": "text", "--label-column": "label", "--text-pair-column": None,
    "--group-column": None, "--label-names": None, "--max-validation-rows": None,
    "--data-dir": None,
}
