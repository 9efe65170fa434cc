"""Fine-tuning tasks, one file each, chosen by name from one table.

`TASKS` is the table the recipe (`minibert.training.finetuning`), the run
folder's readers and the CLI's `predict` read. A new task is a file here
defining a `FinetuningTask` (its head, batches, metrics and raw-text model)
and one entry below (docs/architecture.md, "How to add a fine-tuning task").
"""

from minibert.tasks.classification import CLASSIFICATION
from minibert.tasks.question_answering import QUESTION_ANSWERING
from minibert.tasks.task import FinetuningTask
from minibert.tasks.token_classification import TOKEN_CLASSIFICATION

TASKS = {task.name: task
         for task in (CLASSIFICATION, TOKEN_CLASSIFICATION, QUESTION_ANSWERING)}


def get_task(name: str) -> FinetuningTask:
    """The task named `name`; a clear error lists the known names."""
    if name not in TASKS:
        raise ValueError(f"task {name!r} is not one of {tuple(TASKS)}; pass --task with one of them")
    return TASKS[name]


__all__ = ["FinetuningTask", "TASKS", "get_task"]
