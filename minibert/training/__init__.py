"""The recipes: pretrain a backbone, fine-tune a classifier on it, or both in one run.

- `pretraining.py`: `pretrain`, one objective (`minibert.objectives`) on text.
- `finetuning.py`: `finetune`, a classifier trained frozen, then unfrozen.
- `recipe.py`: `run`, vocabulary, pretraining and fine-tuning into a run folder.

Beside them, what only training uses: callbacks, optimizers and schedules,
per-stage checkpoints, data-parallel scopes, TensorBoard logs, the device line.
"""

from minibert.training.finetuning import finetune
from minibert.training.pretraining import pretrain
from minibert.training.recipe import run

__all__ = ["finetune", "pretrain", "run"]
