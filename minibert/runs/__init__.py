"""A run on disk: the folder (`RunFolder`), its typed records, its lock and its atomic writes.

- `folder.py`: `RunFolder`, which creates, locks, resumes and reads a run,
  and the names of the files it holds.
- `records.py`: what a run records, typed: `DataSummary`, `StageSummary`, `RunMetrics`.
- `lock.py`: the one-writer lock on `RUN/.lock`.
- `files.py`: every file written whole or not at all, and refused writes as one line.
"""

from minibert.runs.folder import (
    CHECKPOINTS_DIR,
    CLASSIFIER_FILE,
    CLASSIFIER_FINETUNED_FILE,
    CLASSIFIER_FROZEN_FILE,
    CONFIG_FILE,
    CURVES_FILE,
    EMBEDDINGS_PLOT_FILE,
    END_TO_END_FILE,
    HISTORY_FILE,
    LOGS_DIR,
    METRICS_FILE,
    MLM_FILE,
    MODEL_CARD_FILE,
    MODEL_CLASSES,
    REQUEST_FILE,
    STEPS_FILE,
    VOCABULARY_FILE,
    RunFolder,
    load_model_file,
)
from minibert.runs.records import DataSummary, RunMetrics, StageSummary

__all__ = [
    "CHECKPOINTS_DIR", "CLASSIFIER_FILE", "CLASSIFIER_FINETUNED_FILE", "CLASSIFIER_FROZEN_FILE",
    "CONFIG_FILE", "CURVES_FILE", "DataSummary", "EMBEDDINGS_PLOT_FILE", "END_TO_END_FILE",
    "HISTORY_FILE", "LOGS_DIR", "METRICS_FILE", "MLM_FILE", "MODEL_CARD_FILE", "MODEL_CLASSES", "REQUEST_FILE", "RunFolder",
    "RunMetrics", "STEPS_FILE", "StageSummary", "VOCABULARY_FILE", "load_model_file",
]
