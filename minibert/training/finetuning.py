"""Fine-tuning: a classifier head on a backbone, trained frozen, then unfrozen."""

import os

import keras
import numpy as np

from minibert.config import RunConfig
from minibert.data.pipeline import classification_dataset
from minibert.inspection.metrics import classification_report
from minibert.layers import PairPacker
from minibert.models import Classifier, PairClassifier
from minibert.models.end_to_end import classifier_token_ids
from minibert.models.replicas import batch_multiple, on_this_process, process_rows
from minibert.training.callbacks import EpochTimer, StepLog
from minibert.training.checkpoints import STEPS_FILE, StageCheckpoint
from minibert.training.optimization import learning_rate_schedule, make_optimizer
from minibert.training.tensorboard_logs import TensorBoardLogs


# The mean over the rows that weigh: data-parallel batches are padded with
# rows of weight 0 (minibert.data.pipeline.pad_batches), which Keras'
# default mean would count, shrinking that batch's gradient.
_LOSSES = {"binary_crossentropy": keras.losses.BinaryCrossentropy,
           "sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy}


def compile_classifier(classifier, learning_rate, jit_compile="auto", weight_decay=0.0, clip_norm=None):
    classifier.compile(
        jit_compile=jit_compile,
        optimizer=make_optimizer(learning_rate, weight_decay, clip_norm),
        loss=_LOSSES[classifier.loss_name()](reduction="mean_with_sample_weight"),
        metrics=["accuracy"],
    )


def finetune(
    backbone, train, validation, num_classes, config: RunConfig, verbose="auto", on_stage_end=None,
    checkpoint_dir=None, log_dir=None, step_logs=None,
):
    """Stage 1 trains a classifier head with the backbone frozen; stage 2 unfreezes it.

    Args:
        train, validation: `(token_ids, labels)`: arrays, or for text pairs
            read by a `PairClassifier` a dict of `token_ids_a` and
            `token_ids_b` arrays in place of `token_ids` (`classifier_inputs`).
        on_stage_end: optional `function(stage_name, classifier)` called after
            each stage, e.g. to save it.
        checkpoint_dir: optional folder: each stage checkpoints every epoch
            in a subfolder named after it, and a rerun resumes there (a
            finished stage is restored, not trained again).
        log_dir: optional folder: each stage writes TensorBoard scalars in
            a subfolder named after it.
        step_logs: optional dict: each stage adds its loss and accuracy
            every few batches under its name (`callbacks.StepLog`).

    Returns:
        The classifier and `{"frozen": history, "unfrozen": history}`.
    """
    classifier = new_classifier(backbone, train, num_classes, config)
    train_dataset = classifier_batches(train, config, shuffle=True)
    validation_dataset = classifier_batches(validation, config, shuffle=False)
    histories = {}
    for stage, backbone_trainable, epochs, learning_rate in stages(config):
        if epochs <= 0:
            continue
        prepare_stage(
            classifier, backbone_trainable, learning_rate,
            int(train_dataset.cardinality()) * epochs, config,
        )
        callbacks = [EpochTimer()]
        if log_dir is not None:
            callbacks.append(TensorBoardLogs(os.path.join(log_dir, stage)))
        checkpoint = None
        if checkpoint_dir is not None:
            checkpoint = StageCheckpoint(os.path.join(checkpoint_dir, stage))
            callbacks.append(checkpoint)
        step_log = StepLog(
            path=None if checkpoint_dir is None else os.path.join(checkpoint_dir, stage, STEPS_FILE)
        )
        callbacks.append(step_log)  # after the checkpoint, which sets the epoch it resumes from
        history = classifier.fit(
            train_dataset,
            validation_data=validation_dataset,
            epochs=epochs,
            callbacks=callbacks,
            verbose=verbose,
            shuffle=False,  # the tf.data pipeline shuffles
        )
        histories[stage] = checkpoint.history if checkpoint is not None else history.history
        if step_logs is not None:
            step_logs[stage] = step_log.points
        # What the stage trained, to compare freezing strategies by.
        trainable_parameters = sum(int(np.prod(w.shape)) for w in classifier.trainable_weights)
        histories[stage]["trainable_parameters"] = [trainable_parameters] * epochs
        if on_stage_end is not None:
            on_stage_end(stage, classifier)
    # The backbone keeps the last stage's trainable state, so a saved
    # classifier's optimizer state matches the variables it trains.
    return classifier, histories


def new_classifier(backbone, train, num_classes, config: RunConfig):
    """The classifier `config` describes on `backbone`: a `PairClassifier` for siamese pairs."""
    finetune_config = config.finetune
    model_class = PairClassifier if isinstance(train[0], dict) else Classifier
    return model_class(
        backbone,
        num_classes=num_classes,
        pooling=finetune_config.pooling,
        hidden_units=finetune_config.hidden_units,
        dropout=finetune_config.dropout,
    )


def stages(config: RunConfig):
    """`(name, backbone trainable, epochs, learning rate)` of each fine-tuning stage."""
    finetune_config = config.finetune
    return [
        ("frozen", False, finetune_config.frozen_epochs, finetune_config.learning_rate),
        ("unfrozen", True, finetune_config.unfrozen_epochs, finetune_config.unfrozen_learning_rate),
    ]


def prepare_stage(classifier, backbone_trainable, learning_rate, total_steps, config: RunConfig):
    """Freezes or unfreezes the classifier's backbone for a stage, and compiles it."""
    finetune_config = config.finetune
    backbone = classifier.backbone
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
    compile_classifier(
        classifier, schedule, config.jit_compile, finetune_config.weight_decay,
        finetune_config.clip_norm,
    )


def classifier_inputs(vectorizer, frame, pair_encoding="siamese"):
    """The token ids a classifier takes for `frame`'s `text` (and `text_pair`) column.

    One text per row: an array (rows, tokens). Pairs, "siamese": a dict of
    both texts' ids, for a `PairClassifier`; "packed": one array of
    `[cls] text [sep] text_pair [sep]` (`minibert.layers.PairPacker`).
    """
    if "text_pair" not in frame:
        return classifier_token_ids(vectorizer, frame["text"])
    packer = None
    if pair_encoding == "packed":
        packer = PairPacker(vectorizer.get_config()["output_sequence_length"])
    return classifier_token_ids(vectorizer, frame, packer)


def classifier_batches(pair, config: RunConfig, shuffle: bool):
    """`(token_ids, labels)` batched as the fine-tuning config says."""
    return classification_dataset(
        *pair, batch_size=config.finetune.batch_size, shuffle=shuffle, seed=config.seed,
        dynamic_padding=config.finetune.dynamic_padding, rows_multiple=batch_multiple(),
        pad_to_multiple=config.pad_to_multiple, process_rows=process_rows(),
    )


def validation_report(classifier, validation, label_names, config: RunConfig) -> dict:
    """`minibert.inspection.metrics.classification_report` of `classifier` on `(token_ids, labels)`."""
    with on_this_process(classifier) as model:
        batches = classifier_batches(validation, config, shuffle=False)
        # Data-parallel batches end with padding rows: keep the real ones.
        probabilities = model.predict(batches, verbose=0)[: len(validation[1])]
    return classification_report(validation[1], probabilities, label_names)
