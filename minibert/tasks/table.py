"""The table of fine-tuning tasks: a task's name to its `FinetuningTask`.

Example:
>>> TASKS["token-classification"].stage_name
'tagger'
"""

from minibert.tasks import TASK_NAMES
from minibert.tasks.classification.task import CLASSIFICATION
from minibert.tasks.question_answering.task import QUESTION_ANSWERING
from minibert.tasks.task import FinetuningTask
from minibert.tasks.token_classification.task import TOKEN_CLASSIFICATION

TASKS = {task.name: task
         for task in (CLASSIFICATION, TOKEN_CLASSIFICATION, QUESTION_ANSWERING)}
# Each folder's NAME is the name its task object carries.
assert tuple(TASKS) == TASK_NAMES, (tuple(TASKS), TASK_NAMES)


def get_task(name: str) -> FinetuningTask:
    """The task named `name`; a clear error lists the known names."""
    if name not in TASKS:
        raise ValueError(f"task {name!r} is not one of {tuple(TASKS)}; pass --task with one of them")
    return TASKS[name]


__all__ = ["FinetuningTask", "TASKS", "get_task"]
