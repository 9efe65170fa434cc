"""Pretraining: a backbone learns an objective (`minibert.objectives`) from unlabelled text.

`pretraining_setup` builds what a pretraining stage fits (the objective's
model and its masked batches) for the recipe's `pretrain`, the bench and the
benchmark scripts alike; `pretrain` adds the time budget, fill-mask reports,
held-out scoring and the stage's checkpoints around it.
"""

import dataclasses

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
from minibert.training.stage import StageOutputs, fit_stage


def compile_masked_lm(masked_lm, learning_rate, jit_compile="auto"):
    # No loss nor metrics: the model computes its loss (a mean over the chosen
    # slots only) and tracks its masked-word accuracy itself
    # (MaskedLanguageModel.compute_loss and compute_metrics).
    masked_lm.compile(jit_compile=jit_compile, optimizer=make_optimizer(learning_rate))


# Held-out reviews the masked LM is scored on after each epoch.
MLM_VALIDATION_TEXTS = 1000


@dataclasses.dataclass
class PretrainingSetup:
    """A pretraining stage's model and batches, before its `fit`: what the recipe, the bench
    and the benchmark scripts train (`pretraining_setup`).

    Attributes:
        model: the objective's model on the backbone (`MaskedLanguageModel`,
            `ReplacedTokenDetector`), not yet compiled: `compile` does it.
        batches: the masked training batches, the texts' windows (a
            streamed corpus: its batches repeated).
        steps_per_epoch: batches per pass over the texts.
        streamed: whether `batches` is a stream that `fit` needs
            `steps_per_epoch` for.
        config: the run configuration it was set up from.
    """

    model: keras.Model
    batches: object
    steps_per_epoch: int
    streamed: bool
    config: RunConfig

    def learning_rate(self, total_steps=None):
        """The config's rate or schedule over `total_steps` (default: all its epochs)."""
        pretrain_config = self.config.pretrain
        total_steps = total_steps or self.steps_per_epoch * pretrain_config.epochs
        return learning_rate_schedule(pretrain_config.learning_rate, pretrain_config.schedule,
                                      total_steps)

    def compile(self, learning_rate=None) -> keras.Model:
        """Compiles the model at `learning_rate` (default: the config's schedule); returns it."""
        compile_masked_lm(self.model, self.learning_rate() if learning_rate is None
                          else learning_rate, self.config.jit_compile)
        return self.model

    def held_out_batches(self, texts, vectorizer, mask_rate=None):
        """Held-out `texts` masked once, the same masks every epoch (comparable scores), at
        `mask_rate` (default: the config's)."""
        backbone = self.model.backbone
        token_ids, row_labels = pretraining_examples(backbone, vectorizer, texts, self.config)
        return masked_batches(token_ids, self.config, backbone.vocabulary_size,
                              static_masking=True, row_labels=row_labels,
                              mask_rate=self.config.pretrain.mask_rate if mask_rate is None
                              else mask_rate)


def pretraining_setup(backbone, vectorizer, texts, config: RunConfig,
                      examples=None) -> PretrainingSetup:
    """The objective's model over `backbone` and its masked batches of `texts`, as `config` says.

    `texts` are vectorized into the objective's examples, cut into windows of
    `window_length` (`pretraining_examples`); `examples`, when given, are
    those already made (`(token_ids, row_labels)`, as the bench sends them to
    its child processes). With `config.pretrain.corpus`, the corpus is
    streamed instead and `texts` are not read.

    Example:
    >>> from minibert.config import get_preset
    >>> from minibert.data.tokenizer import build_vectorizer
    >>> from minibert.models import Backbone
    >>> config = get_preset("tiny")
    >>> texts = ["a fine film", "a dull plot"] * 8
    >>> vectorizer = build_vectorizer(texts, 50, config.model.sequence_length)
    >>> backbone = Backbone(**dataclasses.replace(
    ...     config.model, vocabulary_size=vectorizer.vocabulary_size()).backbone_kwargs())
    >>> setup = pretraining_setup(backbone, vectorizer, texts, config)
    >>> history = setup.compile().fit(setup.batches, epochs=1, verbose=0, shuffle=False)
    """
    pretrain_config = config.pretrain
    objective = get_objective(pretrain_config.objective)
    if backbone.num_segments < objective.num_segments:
        raise ValueError(
            f"the {objective.name} objective needs a backbone with "
            f"num_segments={objective.num_segments}"
        )
    model = objective.build_model(backbone, config)
    if pretrain_config.corpus is not None:
        files = corpus_files(pretrain_config.corpus)
        batches = corpus_mlm_dataset(
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
        return PretrainingSetup(model, batches.repeat(), steps_per_epoch, True, config)
    token_ids, row_labels = examples or pretraining_examples(backbone, vectorizer, texts, config)
    if pretrain_config.unigram_bias:
        start_at_unigram_frequencies(model.head, token_ids)
    batches = masked_batches(
        token_ids, config, backbone.vocabulary_size, static_masking=pretrain_config.static_masking,
        dynamic_padding=pretrain_config.dynamic_padding, row_labels=row_labels,
    )
    return PretrainingSetup(model, batches, int(batches.cardinality()), False, config)


def pretraining_examples(backbone, vectorizer, texts, config: RunConfig):
    """The objective's `(token_ids, row_labels)` of `texts`, each row cut into windows of the
    config's `window_length`."""
    token_ids, row_labels = get_objective(config.pretrain.objective).make_examples(
        vectorizer, texts, backbone.sequence_length, config.seed
    )
    return windows(token_ids, config.pretrain.window_length), row_labels


def masked_batches(token_ids, config: RunConfig, vocabulary_size: int, **options):
    """`mlm_dataset` batches of `token_ids` at the config's batch size, mask rate and seed,
    padded for the devices; `options` are `mlm_dataset`'s others (`dynamic_padding`, ...)."""
    pretrain_config = config.pretrain
    options.setdefault("mask_rate", pretrain_config.mask_rate)
    return mlm_dataset(
        token_ids, batch_size=pretrain_config.batch_size,
        vocabulary_size=vocabulary_size, seed=config.seed,
        rows_multiple=batch_multiple(), pad_to_multiple=config.pad_to_multiple,
        process_rows=process_rows(), **options,
    )


def pretrain(backbone, vectorizer, texts, config: RunConfig, validation_texts=None,
             outputs=StageOutputs(), replan=None):
    """Trains the objective's model (a `MaskedLanguageModel`) over `backbone` on `texts`.

    `validation_texts`, when given, are masked once and scored after every
    epoch with the full softmax (`val_loss`, `val_accuracy`): the masked-word
    accuracy on text the model never trained on, whatever the training loss.
    `config.pretrain.objective` names the model and its examples
    (`minibert.objectives`): "mlm+nsp" trains on next-sentence pairs of the
    texts and also logs `nsp_loss` and `nsp_accuracy`; its backbone needs
    `num_segments=2`. `outputs` are the stage's resume and TensorBoard
    folders and its step log, kept as "mlm" (`StageOutputs`). `replan` moves
    the budget's end as the stage goes (`TimeBudget`).

    Returns the model and its `History.history`.
    """
    pretrain_config = config.pretrain
    setup = pretraining_setup(backbone, vectorizer, texts, config)
    total_steps = setup.steps_per_epoch * pretrain_config.epochs
    learning_rate = setup.learning_rate(total_steps)
    epochs, callbacks = pretrain_config.epochs, []
    if pretrain_config.max_minutes is not None:
        checkpoint_dir = outputs.checkpoint_dir
        saved_epochs, spent_seconds = (
            StageCheckpoint(checkpoint_dir).saved_progress() if checkpoint_dir else (0, 0.0)
        )
        if spent_seconds >= pretrain_config.max_minutes * 60:
            epochs = saved_epochs  # the budget ran out before the run was killed: done
        budget = TimeBudget(pretrain_config.max_minutes, spent_seconds, replan=replan)
        learning_rate, callbacks = within_budget(learning_rate, total_steps, budget)
    masked_lm = setup.compile(learning_rate)
    if pretrain_config.fill_mask_sentences:
        callbacks.append(FillMaskCallback(vectorizer, pretrain_config.fill_mask_sentences))
    validation = None
    if validation_texts is not None and len(validation_texts):
        validation = setup.held_out_batches(validation_texts, vectorizer)
    if pretrain_config.dropout is not None:
        backbone.set_dropout(pretrain_config.dropout)
    try:
        result = fit_stage(
            masked_lm, setup.batches, epochs=epochs, validation=validation, outputs=outputs,
            callbacks=callbacks, steps_per_epoch=setup.steps_per_epoch if setup.streamed else None,
        )
    finally:
        backbone.set_dropout(None)  # fine-tuning trains with the model's own rate
    outputs.record_steps("mlm", result.steps)
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


def windows(token_ids, window_length):
    """Each row cut into consecutive windows of `window_length` tokens, empty ones dropped.

    Example:
    >>> windows(np.array([[5, 6, 7, 0], [8, 0, 0, 0]]), 2).tolist()
    [[5, 6], [7, 0], [8, 0]]
    """
    if window_length is None or window_length >= token_ids.shape[1]:
        return token_ids
    extra = -token_ids.shape[1] % window_length
    windows = np.pad(token_ids, ((0, 0), (0, extra))).reshape(-1, window_length)
    return windows[(windows != PADDING_ID).any(axis=1)]


def start_at_unigram_frequencies(head, token_ids):
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
