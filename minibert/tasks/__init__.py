"""The fine-tuning tasks, one folder each, and their names.

Each folder holds everything its task adds to the core: the data reader,
its examples and batches, the head and the end-to-end model, the metrics,
the baseline and the serving signature; `task.py` there gathers them into
one `FinetuningTask`. `minibert.tasks.table.TASKS` maps each name to its
task: the recipe, the command line, the run records, the model card and
export ask that object, and never test a name or a type.

This package and each folder's `__init__` import nothing heavy, so the
command line's parser reads the names (and a reader's flags) without
TensorFlow; the table imports the tasks themselves.
(docs/architecture.md, "How to add a fine-tuning task").
"""

from minibert.tasks import classification, question_answering, token_classification

# In the order `--task` lists them; classification, the default, first.
TASK_NAMES = tuple(folder.NAME for folder in (classification, token_classification,
                                               question_answering))

__all__ = ["TASK_NAMES"]
