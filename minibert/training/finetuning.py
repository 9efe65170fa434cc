"""Fine-tuning: a task's head on a backbone, trained with the backbone frozen, then unfrozen.

Every task (`minibert.tasks`) trains in the same two stages; the task
gives the head, the batches and the loss.
"""

import os

import numpy as np

from minibert.config import RunConfig
from minibert.tasks import get_task
from minibert.training.optimization import learning_rate_schedule, make_optimizer
from minibert.training.stage import fit_stage


def finetune(
    backbone, train, validation, data, config: RunConfig, verbose="auto", on_stage_end=None,
    checkpoint_dir=None, log_dir=None, step_logs=None, task="classification",
):
    """Stage 1 trains the task's head with the backbone frozen; stage 2 unfreezes it.

    Args:
        train, validation: the task's examples of each split
            (`task.make_examples`): for classification `(token_ids, labels)`,
            arrays, or for text pairs read by a `PairClassifier` a dict of
            `token_ids_a` and `token_ids_b` arrays in place of `token_ids`.
        data: what the task's head is sized from: the data set, or anything
            with its `label_names` (and `has_pairs`).
        on_stage_end: optional `function(stage_name, model)` called after
            each stage, e.g. to save it.
        checkpoint_dir, log_dir: optional folders: each stage checkpoints
            (and resumes) and writes TensorBoard scalars in a subfolder named
            after it (`minibert.training.stage.fit_stage`).
        step_logs: optional dict: each stage adds its loss and accuracy
            every few batches under its name.
        task: the name of a `minibert.tasks` entry.

    Returns:
        The trained model and `{"frozen": history, "unfrozen": history}`.
    """
    task = get_task(task)
    model = task.build_model(backbone, train, data, config)
    train_batches = task.make_batches(train, config, shuffle=True)
    validation_batches = task.make_batches(validation, config, shuffle=False)
    histories = {}
    for stage, backbone_trainable, epochs, learning_rate in stages(config):
        if epochs <= 0:
            continue
        prepare_stage(task, model, backbone_trainable, learning_rate,
                      int(train_batches.cardinality()) * epochs, config)
        result = fit_stage(
            model, train_batches, epochs=epochs, validation=validation_batches,
            checkpoint_dir=None if checkpoint_dir is None else os.path.join(checkpoint_dir, stage),
            log_dir=None if log_dir is None else os.path.join(log_dir, stage), verbose=verbose,
        )
        histories[stage] = result.history
        if step_logs is not None:
            step_logs[stage] = result.steps
        # What the stage trained, to compare freezing strategies by.
        trainable_parameters = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        histories[stage]["trainable_parameters"] = [trainable_parameters] * epochs
        if on_stage_end is not None:
            on_stage_end(stage, model)
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


def prepare_stage(task, model, backbone_trainable, learning_rate, total_steps, config: RunConfig):
    """Freezes or unfreezes the model's backbone for a stage, and compiles it as the task says."""
    finetune_config = config.finetune
    backbone = model.backbone
    if backbone_trainable:
        backbone.set_trainable_layers(
            finetune_config.trainable_layers, embeddings=finetune_config.train_embeddings
        )
    else:
        backbone.trainable = False  # recursive: sets every sublayer
    # A change of trainable needs a recompile.
    schedule = learning_rate_schedule(
        learning_rate, finetune_config.schedule, total_steps, finetune_config.warmup_fraction
    )
    optimizer = make_optimizer(schedule, finetune_config.weight_decay, finetune_config.clip_norm)
    task.compile_model(model, optimizer, config.jit_compile)
