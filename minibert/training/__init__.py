"""The recipes: pretrain a backbone, fine-tune a task on it, or both in one run.

- `recipe.py`: run folders, top to bottom: `run` (pretraining and
  fine-tuning in one), `pretrain_run` (vocabulary and pretraining),
  `finetune_run` (a task fine-tuned from a pretrained run).
- `pretraining.py`: `pretrain`, one objective (`minibert.objectives`) on text.
- `finetuning.py`: `finetune`, a task's head (`minibert.tasks`) trained with
  the backbone frozen, then unfrozen.
- `stage.py`: `fit_stage`, what every stage has around its `fit`: epoch
  times, checkpoints and resume, TensorBoard, the loss every few batches.

Beside them, what only training uses: callbacks, optimizers and schedules,
per-stage checkpoints, the time budget, data-parallel scopes, TensorBoard
logs, the device line.
"""

from minibert.training.finetuning import finetune
from minibert.training.pretraining import pretrain
from minibert.training.recipe import finetune_run, pretrain_run, run

__all__ = ["finetune", "finetune_run", "pretrain", "pretrain_run", "run"]
