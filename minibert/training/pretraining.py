"""Pretraining: a backbone learns an objective (`minibert.objectives`) from unlabelled text."""

import functools

import keras
import numpy as np

from minibert.config import RunConfig
from minibert.data.corpus import corpus_files, corpus_mlm_dataset, count_texts
from minibert.data.pipeline import mlm_dataset
from minibert.data.tokenizer import NUM_SPECIAL_TOKENS, PADDING_ID
from minibert.inspection.fill_mask import FillMaskCallback
from minibert.models.replicas import batch_multiple, process_rows
from minibert.objectives import get_objective
from minibert.training.callbacks import BudgetedSchedule, TimeBudget
from minibert.training.checkpoints import StageCheckpoint
from minibert.training.optimization import learning_rate_schedule, make_optimizer
from minibert.training.stage import fit_stage


def compile_masked_lm(masked_lm, learning_rate, jit_compile="auto"):
    # No loss nor metrics: the model computes its loss (a mean over the chosen
    # slots only) and tracks its masked-word accuracy itself
    # (MaskedLanguageModel.compute_loss and compute_metrics).
    masked_lm.compile(jit_compile=jit_compile, optimizer=make_optimizer(learning_rate))


# Held-out reviews the masked LM is scored on after each epoch.
MLM_VALIDATION_TEXTS = 1000


def pretrain(
    backbone, vectorizer, texts, config: RunConfig, verbose="auto", validation_texts=None,
    checkpoint_dir=None, log_dir=None, step_logs=None, replan=None,
):
    """Trains a MaskedLanguageModel over `backbone` on `texts`.

    `validation_texts`, when given, are masked once and scored after every
    epoch with the full softmax (`val_loss`, `val_accuracy`): the masked-word
    accuracy on text the model never trained on, whatever the training loss.
    `config.pretrain.objective` names the model and its examples
    (`minibert.objectives`): "mlm+nsp" trains on next-sentence pairs of the
    texts and also logs `nsp_loss` and `nsp_accuracy`; its backbone needs
    `num_segments=2`. `checkpoint_dir` and `log_dir` are the stage's resume
    and TensorBoard folders (`minibert.training.stage.fit_stage`). With
    `step_logs`, a dict, `step_logs["mlm"]` becomes the loss every few
    batches. `replan` moves the budget's end as the stage goes (`TimeBudget`).

    Returns the model and its `History.history`.
    """
    pretrain_config = config.pretrain
    objective = get_objective(pretrain_config.objective)
    if backbone.num_segments < objective.num_segments:
        raise ValueError(
            f"the {objective.name} objective needs a backbone with "
            f"num_segments={objective.num_segments}"
        )
    masked_lm = objective.build_model(backbone, config)
    # Training and validation batches differ only in their masking and padding.
    masked_batches = functools.partial(
        mlm_dataset, batch_size=pretrain_config.batch_size,
        vocabulary_size=backbone.vocabulary_size, mask_rate=pretrain_config.mask_rate,
        seed=config.seed, rows_multiple=batch_multiple(), pad_to_multiple=config.pad_to_multiple,
        process_rows=process_rows(),
    )
    if pretrain_config.corpus is not None:
        files = corpus_files(pretrain_config.corpus)
        dataset = corpus_mlm_dataset(
            files, vectorizer, batch_size=pretrain_config.batch_size,
            vocabulary_size=backbone.vocabulary_size, mask_rate=pretrain_config.mask_rate,
            seed=config.seed, text_column=pretrain_config.corpus_text_column,
            rows_multiple=batch_multiple(), pad_to_multiple=config.pad_to_multiple,
            process_rows=process_rows(),
        )
        # A stream has no length: an epoch is one batch per batch_size texts,
        # read from the stream repeated (so no epoch ends short).
        steps_per_epoch = -(-count_texts(files, pretrain_config.corpus_text_column)
                            // pretrain_config.batch_size)
        dataset = dataset.repeat()
    else:
        token_ids, row_labels = objective.make_examples(
            vectorizer, texts, backbone.sequence_length, config.seed
        )
        token_ids = _windows(token_ids, pretrain_config.window_length)
        if pretrain_config.unigram_bias:
            _start_at_unigram_frequencies(masked_lm.head, token_ids)
        dataset = masked_batches(
            token_ids, static_masking=pretrain_config.static_masking,
            dynamic_padding=pretrain_config.dynamic_padding, row_labels=row_labels,
        )
        steps_per_epoch = int(dataset.cardinality())
    total_steps = steps_per_epoch * pretrain_config.epochs
    learning_rate = learning_rate_schedule(
        pretrain_config.learning_rate, pretrain_config.schedule, total_steps
    )
    epochs, callbacks = pretrain_config.epochs, []
    if pretrain_config.max_minutes is not None:
        saved_epochs, spent_seconds = (
            StageCheckpoint(checkpoint_dir).saved_progress() if checkpoint_dir else (0, 0.0)
        )
        if spent_seconds >= pretrain_config.max_minutes * 60:
            epochs = saved_epochs  # the budget ran out before the run was killed: done
        budget = TimeBudget(pretrain_config.max_minutes, spent_seconds, replan=replan)
        learning_rate, callbacks = within_budget(learning_rate, total_steps, budget)
    compile_masked_lm(masked_lm, learning_rate, config.jit_compile)
    if pretrain_config.fill_mask_sentences:
        callbacks.append(FillMaskCallback(vectorizer, pretrain_config.fill_mask_sentences))
    validation = None
    if validation_texts is not None and len(validation_texts):
        validation_ids, validation_row_labels = objective.make_examples(
            vectorizer, validation_texts, backbone.sequence_length, config.seed
        )
        validation = masked_batches(
            _windows(validation_ids, pretrain_config.window_length),
            static_masking=True,  # the same masks every epoch: comparable scores
            row_labels=validation_row_labels,
        )
    if pretrain_config.dropout is not None:
        backbone.set_dropout(pretrain_config.dropout)
    try:
        result = fit_stage(
            masked_lm, dataset, epochs=epochs, validation=validation,
            checkpoint_dir=checkpoint_dir, log_dir=log_dir, callbacks=callbacks,
            steps_per_epoch=steps_per_epoch if pretrain_config.corpus is not None else None,
            verbose=verbose,
        )
    finally:
        backbone.set_dropout(None)  # fine-tuning trains with the model's own rate
    if step_logs is not None:
        step_logs["mlm"] = result.steps
    return masked_lm, result.history


def within_budget(learning_rate, total_steps, budget):
    """The rate to compile with, and the callbacks that hold a stage to `budget` (a TimeBudget).

    A decaying schedule becomes a `BudgetedSchedule`, so that its decay ends
    with the minutes when they run out before `total_steps`; a constant rate
    stays as it is.
    """
    if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        return learning_rate, [budget]
    return float(learning_rate(0)), [budget, BudgetedSchedule(learning_rate, total_steps, budget)]


def _windows(token_ids, window_length):
    """Each row cut into consecutive windows of `window_length` tokens, empty ones dropped.

    Example:
    >>> _windows(np.array([[5, 6, 7, 0], [8, 0, 0, 0]]), 2).tolist()
    [[5, 6], [7, 0], [8, 0]]
    """
    if window_length is None or window_length >= token_ids.shape[1]:
        return token_ids
    extra = -token_ids.shape[1] % window_length
    windows = np.pad(token_ids, ((0, 0), (0, extra))).reshape(-1, window_length)
    return windows[(windows != PADDING_ID).any(axis=1)]


def _start_at_unigram_frequencies(head, token_ids):
    """Sets the masked-LM head's output bias to the log frequency of each word in `token_ids`.

    An untrained head predicts every word alike, and the first steps of
    pretraining only learn how common each word is (the unigram plateau);
    started at the log frequencies, the head predicts them from step one.
    Add-one smoothing keeps unseen words finite; special tokens, never a
    target, get the smallest bias.
    """
    counts = np.bincount(token_ids.ravel(), minlength=head.vocabulary_size).astype("float64")
    counts[:NUM_SPECIAL_TOKENS] = 0
    log_frequencies = np.log((counts + 1) / (counts + 1).sum())
    head.output_bias.assign(log_frequencies.astype(head.output_bias.dtype))
