"""Fine-tuning: a task's head on a backbone, trained with the backbone frozen, then unfrozen.

Every task (`minibert.tasks`) trains in the same two stages; the task
gives the head, the batches and the loss. A stage is sized in optimizer
steps (`plan_stages`): its epochs, or `min_steps` when the rows are too few
for that, validated every so often; the weights of the best validation of
both stages are kept, and a stage that stops improving ends early.
"""

import dataclasses
import math

import numpy as np

from minibert.config import RunConfig
from minibert.tasks.task import FinetuningTask
from minibert.training.callbacks import BestWeights
from minibert.training.optimization import learning_rate_schedule, make_optimizer
from minibert.training.stage import StageOutputs, fit_stage

# A stage that passes over its rows more often than this is validated this
# many times, not once per pass: 200 rows trained 300 steps would otherwise
# validate 43 times.
VALIDATIONS_PER_STAGE = 8


@dataclasses.dataclass(frozen=True)
class TaskExamples:
    """What a task fine-tunes on: the task, its data set, and both splits as the head reads them.

    `train` and `validation` are `task.make_examples`' `(inputs, targets)`;
    `data` sizes the head (its label or tag names) and scores it.
    """

    task: FinetuningTask
    data: object
    train: tuple
    validation: tuple

    @classmethod
    def of(cls, task: FinetuningTask, vectorizer, data, config: RunConfig) -> "TaskExamples":
        """The task's examples of `data`'s train and validation splits."""
        train, validation = (task.make_examples(vectorizer, frame, data, config)
                             for frame in (data.train, data.validation))
        return cls(task, data, train, validation)

    def with_train(self, train) -> "TaskExamples":
        """These examples with other training examples (self-training's pseudo-labels joined)."""
        return dataclasses.replace(self, train=train)

    def new_model(self, backbone, config: RunConfig):
        """The task's head on `backbone`, and its training and validation batches."""
        task = self.task
        model = task.build_model(backbone, self.train, self.data, config)
        return (model, task.make_batches(self.train, config, shuffle=True),
                task.make_batches(self.validation, config, shuffle=False))

    def evaluate(self, model, config: RunConfig) -> dict:
        """The task's validation report of `model`."""
        return self.task.evaluate(model, self.validation, self.data, config)


@dataclasses.dataclass(frozen=True)
class StagePlan:
    """One fine-tuning stage in optimizer steps.

    Keras' epochs become validations: the stage fits `validations` epochs of
    `validate_every` steps each, over the training batches repeated.
    """

    name: str
    backbone_trainable: bool
    learning_rate: float
    validate_every: int
    validations: int

    @property
    def steps(self) -> int:
        return self.validate_every * self.validations


def plan_stages(config: RunConfig, batches_per_epoch: int) -> list[StagePlan]:
    """The stages `config` asks for, each sized in optimizer steps for `batches_per_epoch`.

    A stage trains its epochs, or `min_steps` if that is more. It is
    validated once per pass over the rows, or `VALIDATIONS_PER_STAGE` times
    when it makes more passes than that (or every `validate_every` steps).

    Example:
    >>> from minibert.config import get_preset
    >>> [(plan.name, plan.validate_every, plan.validations)
    ...  for plan in plan_stages(get_preset("imdb"), batches_per_epoch=7)]
    [('frozen', 38, 8), ('unfrozen', 38, 8)]
    >>> [(plan.name, plan.validate_every, plan.validations)
    ...  for plan in plan_stages(get_preset("imdb"), batches_per_epoch=625)]
    [('frozen', 625, 1), ('unfrozen', 625, 1)]
    """
    finetune_config = config.finetune
    plans = []
    for name, backbone_trainable, epochs, learning_rate in stages(config):
        if epochs <= 0:
            continue
        steps = max(epochs * batches_per_epoch, finetune_config.min_steps)
        every = finetune_config.validate_every or max(
            batches_per_epoch, math.ceil(steps / VALIDATIONS_PER_STAGE)
        )
        every = min(every, steps)
        plans.append(StagePlan(name, backbone_trainable, learning_rate, every,
                               math.ceil(steps / every)))
    return plans


def finetune(examples: TaskExamples, backbone, config: RunConfig, outputs=StageOutputs()):
    """Stage 1 trains the task's head with the backbone frozen; stage 2 unfreezes it.

    Args:
        examples: the task and what it trains on (`TaskExamples`): for
            classification `(token_ids, labels)` arrays, or for text pairs
            read by a `PairClassifier` a dict of `token_ids_a` and
            `token_ids_b` arrays in place of `token_ids`.
        backbone: the (pretrained) backbone the head goes on.
        outputs: where each stage checkpoints (and resumes) and writes
            TensorBoard scalars, in a subfolder named after it, keeps its loss
            every few batches, and what is called at its end (`StageOutputs`).

    Returns:
        The trained model and `{"frozen": history, "unfrozen": history}`.

    Example:
    >>> model, histories = finetune(TaskExamples.of(CLASSIFICATION, vectorizer, data, config),
    ...                             backbone, config)  # doctest: +SKIP
    """
    task = examples.task
    model, train_batches, validation_batches = examples.new_model(backbone, config)
    histories = {}
    best = None
    score = None
    if task.monitor_from_report:
        def score(model):
            return examples.evaluate(model, config)[task.monitor[0].removeprefix("val_")]
    for plan in plan_stages(config, int(train_batches.cardinality())):
        stage_outputs = outputs.stage(plan.name)
        prepare_stage(task, model, plan, config)
        callbacks = []
        if task.monitor is not None:
            callbacks.append(BestWeights(
                *task.monitor, patience=config.finetune.patience, start=best,
                folder=stage_outputs.checkpoint_dir, restore=config.finetune.restore_best_weights,
                score=score,
            ))
        # A stage that ended early stays ended when the run resumes.
        validations = (BestWeights.stopped_after(stage_outputs.checkpoint_dir)
                       or plan.validations)
        result = fit_stage(
            model, train_batches.repeat(), epochs=validations, steps_per_epoch=plan.validate_every,
            validation=validation_batches, outputs=stage_outputs, callbacks=callbacks,
        )
        if callbacks and config.finetune.restore_best_weights:
            best = callbacks[0].best
        history = result.history
        histories[plan.name] = history
        outputs.record_steps(plan.name, result.steps)
        # What the stage trained, to compare freezing strategies by.
        trainable_parameters = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        history["trainable_parameters"] = [trainable_parameters] * len(history["loss"])
        if outputs.on_stage_end is not None:
            outputs.on_stage_end(plan.name, model)
    # The backbone keeps the last stage's trainable state, so a saved
    # model's optimizer state matches the variables it trains.
    return model, histories


def stages(config: RunConfig):
    """`(name, backbone trainable, epochs, learning rate)` of each fine-tuning stage."""
    finetune_config = config.finetune
    return [
        ("frozen", False, finetune_config.frozen_epochs, finetune_config.learning_rate),
        ("unfrozen", True, finetune_config.unfrozen_epochs, finetune_config.unfrozen_learning_rate),
    ]


def prepare_stage(task, model, plan: StagePlan, config: RunConfig):
    """Freezes or unfreezes the model's backbone for a stage, and compiles it as the task says."""
    finetune_config = config.finetune
    backbone = model.backbone
    if plan.backbone_trainable:
        backbone.set_trainable_layers(
            finetune_config.trainable_layers, embeddings=finetune_config.train_embeddings
        )
    else:
        backbone.trainable = False  # recursive: sets every sublayer
    # A change of trainable needs a recompile.
    schedule = learning_rate_schedule(
        plan.learning_rate, finetune_config.schedule, plan.steps, finetune_config.warmup_fraction
    )
    optimizer = make_optimizer(schedule, finetune_config.weight_decay, finetune_config.clip_norm)
    task.compile_model(model, optimizer, config.jit_compile)
