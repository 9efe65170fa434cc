"""The recipes: pretrain a backbone, fine-tune a classifier on it, or both in one run.

- `pretraining.py`: `pretrain`, one objective (`minibert.objectives`) on text.
- `finetuning.py`: `finetune`, a classifier trained frozen, then unfrozen.
- `recipe.py`: run folders: `pretrain_run` (vocabulary and pretraining),
  `finetune_run` (classifiers from a pretrained run), `run` (both in one).

Beside them, what only training uses: callbacks, optimizers and schedules,
per-stage checkpoints, data-parallel scopes, TensorBoard logs, the device line.
"""

from minibert.training.finetuning import finetune
from minibert.training.pretraining import pretrain
from minibert.training.recipe import finetune_run, pretrain_run, run

__all__ = ["finetune", "finetune_run", "pretrain", "pretrain_run", "run"]
