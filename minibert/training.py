"""The recipes: pretrain a masked LM, fine-tune a classifier, or both in a run."""

import dataclasses
import functools
import os
import shutil
import time

import keras
import numpy as np

from minibert import run_folder
from minibert.checkpoints import StageCheckpoint
from minibert.config import RunConfig
from minibert.data.next_sentence import next_sentence_examples
from minibert.data.corpus import corpus_files, corpus_mlm_dataset, count_texts, sample_texts
from minibert.data.pipeline import classification_dataset, mlm_dataset, pad_batches
from minibert.data.tokenizer import (
    build_vectorizer,
    load_vocabulary,
    new_vectorizer,
    save_vocabulary,
    vectorize,
)
from minibert.devices import describe_devices
from minibert.distribution import batch_multiple, distribution_scope
from minibert.fill_mask import FillMaskCallback
from minibert.layers import PairPacker
from minibert.metrics import classification_report, format_report
from minibert.models import (
    Backbone,
    Classifier,
    EndToEndClassifier,
    MaskedLanguageModel,
    PairClassifier,
)
from minibert.models.end_to_end import classifier_token_ids
from minibert.optimization import learning_rate_schedule, make_optimizer
from minibert.plots import plot_curves
from minibert.tensorboard_logs import TensorBoardLogs


class EpochTimer(keras.callbacks.Callback):
    """Adds `seconds` (wall time of the epoch) to the logs, so history.csv has it."""

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["seconds"] = time.perf_counter() - self._start


class TimeBudget(keras.callbacks.Callback):
    """Stops training once `minutes` of wall time have passed, at the end of a batch.

    The epoch it stops in still ends with its validation.
    """

    def __init__(self, minutes, spent_seconds=0.0):
        super().__init__()
        self.seconds = minutes * 60
        # Time an interrupted run of the same stage already trained for.
        self.spent_seconds = spent_seconds

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter() - self.spent_seconds

    def on_train_batch_end(self, batch, logs=None):
        if time.perf_counter() - self._start >= self.seconds:
            self.model.stop_training = True


def compile_masked_lm(masked_lm, learning_rate, jit_compile="auto"):
    # No loss nor metrics: the model computes its loss (a mean over the chosen
    # slots only) and tracks its masked-word accuracy itself
    # (MaskedLanguageModel.compute_loss and compute_metrics).
    masked_lm.compile(jit_compile=jit_compile, optimizer=make_optimizer(learning_rate))


def compile_classifier(classifier, learning_rate, jit_compile="auto", weight_decay=0.0, clip_norm=None):
    classifier.compile(
        jit_compile=jit_compile,
        optimizer=make_optimizer(learning_rate, weight_decay, clip_norm),
        loss=classifier.loss_name(),
        metrics=["accuracy"],
    )


# Held-out reviews the masked LM is scored on after each epoch.
MLM_VALIDATION_TEXTS = 1000


def pretrain(
    backbone, vectorizer, texts, config: RunConfig, verbose="auto", validation_texts=None,
    checkpoint_dir=None, log_dir=None,
):
    """Trains a MaskedLanguageModel over `backbone` on `texts`.

    `validation_texts`, when given, are masked once and scored after every
    epoch with the full softmax (`val_loss`, `val_accuracy`): the masked-word
    accuracy on text the model never trained on, whatever the training loss.
    The "mlm+nsp" objective trains on next-sentence pairs of the texts
    (`minibert.data.next_sentence`) and also logs `nsp_loss` and `nsp_accuracy`;
    its backbone needs `num_segments=2`. With `checkpoint_dir`, every epoch
    is checkpointed there and a rerun resumes after the last one saved
    (`minibert.checkpoints.StageCheckpoint`). With `log_dir`, every epoch is
    written there as TensorBoard scalars (`minibert.tensorboard_logs`).

    Returns the model and its `History.history`.
    """
    pretrain_config = config.pretrain
    next_sentence = pretrain_config.objective == "mlm+nsp"
    if next_sentence and backbone.num_segments < 2:
        raise ValueError("the mlm+nsp objective needs a backbone with num_segments=2")
    masked_lm = MaskedLanguageModel(
        backbone, tie_weights=config.model.tie_weights, num_sampled=pretrain_config.num_sampled,
        seed=config.seed, next_sentence=next_sentence,
    )
    # Training and validation batches differ only in their masking and padding.
    masked_batches = functools.partial(
        mlm_dataset, batch_size=pretrain_config.batch_size,
        vocabulary_size=backbone.vocabulary_size, mask_rate=pretrain_config.mask_rate,
        seed=config.seed, rows_multiple=batch_multiple(),
    )
    if pretrain_config.corpus is not None:
        files = corpus_files(pretrain_config.corpus)
        dataset = pad_batches(corpus_mlm_dataset(
            files, vectorizer, batch_size=pretrain_config.batch_size,
            vocabulary_size=backbone.vocabulary_size, mask_rate=pretrain_config.mask_rate,
            seed=config.seed, text_column=pretrain_config.corpus_text_column,
        ), batch_multiple())
        # A stream has no length: an epoch is one batch per batch_size texts,
        # read from the stream repeated (so no epoch ends short).
        steps_per_epoch = -(-count_texts(files, pretrain_config.corpus_text_column)
                            // pretrain_config.batch_size)
        dataset = dataset.repeat()
    else:
        token_ids, next_labels = _pretraining_examples(
            vectorizer, texts, backbone, next_sentence, config.seed
        )
        dataset = masked_batches(
            token_ids, static_masking=pretrain_config.static_masking,
            dynamic_padding=pretrain_config.dynamic_padding, next_sentence_labels=next_labels,
        )
        steps_per_epoch = int(dataset.cardinality())
    learning_rate = learning_rate_schedule(
        pretrain_config.learning_rate, pretrain_config.schedule,
        steps_per_epoch * pretrain_config.epochs,
    )
    compile_masked_lm(masked_lm, learning_rate, config.jit_compile)
    callbacks = [EpochTimer()]
    if log_dir is not None:
        callbacks.append(TensorBoardLogs(log_dir))
    epochs = pretrain_config.epochs
    checkpoint = None
    if checkpoint_dir is not None:
        checkpoint = StageCheckpoint(checkpoint_dir)
        callbacks.append(checkpoint)
    if pretrain_config.max_minutes is not None:
        saved_epochs, spent_seconds = checkpoint.saved_progress() if checkpoint else (0, 0.0)
        if spent_seconds >= pretrain_config.max_minutes * 60:
            epochs = saved_epochs  # the budget ran out before the run was killed: done
        callbacks.append(TimeBudget(pretrain_config.max_minutes, spent_seconds))
    if pretrain_config.fill_mask_sentences:
        callbacks.append(FillMaskCallback(vectorizer, pretrain_config.fill_mask_sentences))
    validation = None
    if validation_texts is not None and len(validation_texts):
        validation_ids, validation_next_labels = _pretraining_examples(
            vectorizer, validation_texts, backbone, next_sentence, config.seed
        )
        validation = masked_batches(
            validation_ids,
            static_masking=True,  # the same masks every epoch: comparable scores
            next_sentence_labels=validation_next_labels,
        )
    history = masked_lm.fit(
        dataset, validation_data=validation, epochs=epochs, callbacks=callbacks,
        steps_per_epoch=steps_per_epoch if pretrain_config.corpus is not None else None,
        verbose=verbose, shuffle=False,  # the tf.data pipeline shuffles
    )
    return masked_lm, checkpoint.history if checkpoint else history.history


def _pretraining_examples(vectorizer, texts, backbone, next_sentence, seed):
    """`(token_ids, next-sentence labels or None)` the masked LM trains on."""
    if not next_sentence:
        return vectorize(vectorizer, texts), None
    return next_sentence_examples(
        texts, vectorizer.get_vocabulary(), backbone.sequence_length, seed
    )


def finetune(
    backbone, train, validation, num_classes, config: RunConfig, verbose="auto", on_stage_end=None,
    checkpoint_dir=None, log_dir=None,
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

    Returns:
        The classifier and `{"frozen": history, "unfrozen": history}`.
    """
    finetune_config = config.finetune
    model_class = PairClassifier if isinstance(train[0], dict) else Classifier
    classifier = model_class(
        backbone,
        num_classes=num_classes,
        pooling=finetune_config.pooling,
        hidden_units=finetune_config.hidden_units,
        dropout=finetune_config.dropout,
    )
    train_dataset = _classifier_batches(train, config, shuffle=True)
    validation_dataset = _classifier_batches(validation, config, shuffle=False)
    histories = {}
    stages = [
        ("frozen", False, finetune_config.frozen_epochs, finetune_config.learning_rate),
        ("unfrozen", True, finetune_config.unfrozen_epochs, finetune_config.unfrozen_learning_rate),
    ]
    for stage, backbone_trainable, epochs, learning_rate in stages:
        if epochs <= 0:
            continue
        if backbone_trainable:
            backbone.set_trainable_layers(
                finetune_config.trainable_layers, embeddings=finetune_config.train_embeddings
            )
        else:
            backbone.trainable = False  # recursive: sets every sublayer
        # A change of trainable needs a recompile.
        learning_rate = learning_rate_schedule(
            learning_rate, finetune_config.schedule, int(train_dataset.cardinality()) * epochs,
            finetune_config.warmup_fraction,
        )
        compile_classifier(
            classifier, learning_rate, config.jit_compile,
            finetune_config.weight_decay, finetune_config.clip_norm,
        )
        callbacks = [EpochTimer()]
        if log_dir is not None:
            callbacks.append(TensorBoardLogs(os.path.join(log_dir, stage)))
        checkpoint = None
        if checkpoint_dir is not None:
            checkpoint = StageCheckpoint(os.path.join(checkpoint_dir, stage))
            callbacks.append(checkpoint)
        history = classifier.fit(
            train_dataset,
            validation_data=validation_dataset,
            epochs=epochs,
            callbacks=callbacks,
            verbose=verbose,
            shuffle=False,  # the tf.data pipeline shuffles
        )
        histories[stage] = checkpoint.history if checkpoint is not None else history.history
        # What the stage trained, to compare freezing strategies by.
        trainable_parameters = sum(int(np.prod(w.shape)) for w in classifier.trainable_weights)
        histories[stage]["trainable_parameters"] = [trainable_parameters] * epochs
        if on_stage_end is not None:
            on_stage_end(stage, classifier)
    # The backbone keeps the last stage's trainable state, so a saved
    # classifier's optimizer state matches the variables it trains.
    return classifier, histories


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


def _classifier_batches(pair, config: RunConfig, shuffle: bool):
    """`(token_ids, labels)` batched as the fine-tuning config says."""
    return classification_dataset(
        *pair, batch_size=config.finetune.batch_size, shuffle=shuffle, seed=config.seed,
        dynamic_padding=config.finetune.dynamic_padding, rows_multiple=batch_multiple(),
    )


def validation_report(classifier, validation, label_names, config: RunConfig) -> dict:
    """`minibert.metrics.classification_report` of `classifier` on `(token_ids, labels)`."""
    batches = _classifier_batches(validation, config, shuffle=False)
    # Data-parallel batches end with padding rows: keep the real ones.
    probabilities = classifier.predict(batches, verbose=0)[: len(validation[1])]
    return classification_report(validation[1], probabilities, label_names)


def _stage_summary(history) -> dict:
    summary = {key: float(values[-1]) for key, values in history.items() if key != "seconds"}
    summary["seconds"] = float(np.sum(history["seconds"]))
    summary["seconds_per_epoch"] = float(np.mean(history["seconds"]))
    return summary


def run(data, config: RunConfig, output, overwrite=False, verbose="auto", print_fn=print) -> dict:
    """The whole recipe into the run folder `output`; returns its metrics.

    Args:
        data: a `minibert.data.sources.TextClassificationData`.
        config: the run configuration.
        output: the run folder (created). An unfinished run of the same
            config and data there is resumed from its checkpoints; any other
            non-empty folder needs `overwrite=True`, which starts afresh.
    """
    request = {
        "config": dataclasses.asdict(config),
        "data": {"name": data.name, "train": len(data.train), "validation": len(data.validation),
                 "unlabeled": len(data.unlabeled)},
    }
    resuming = run_folder.prepare_run_folder(output, request, overwrite=overwrite)
    previous_policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(config.precision)
    try:
        with distribution_scope(config.distribute) as num_devices:
            if num_devices > 1:
                print_fn(f"distribute {config.distribute}: each batch split across {num_devices} devices")
            return _run(data, config, output, verbose, print_fn, resuming)
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)


def _run(data, config: RunConfig, output, verbose, print_fn, resuming=False) -> dict:
    keras.utils.set_random_seed(config.seed)
    print_fn(describe_devices())
    checkpoints = os.path.join(output, run_folder.CHECKPOINTS_DIR)
    logs = os.path.join(output, run_folder.LOGS_DIR) if config.tensorboard else None
    if resuming:
        print_fn(f"resuming the unfinished run in {output} from its last saved epoch")
    texts = data.pretraining_text(include_validation=config.pretrain.include_validation_text)
    print_fn(
        f"data {data.name}: {len(data.train)} train, {len(data.validation)} validation"
        f"{' (the test split)' if data.validation_is_test else ''}, "
        f"{len(data.unlabeled)} unlabeled"
        + (f"; {len(texts)} texts for pretraining" if config.pretrain.corpus is None else "")
        + (f"; {data.dropped_rows} rows dropped in cleaning" if data.dropped_rows else "")
    )
    start = time.perf_counter()
    vocabulary_path = os.path.join(output, run_folder.VOCABULARY_FILE)
    corpus = config.pretrain.corpus
    if corpus is not None:
        files = corpus_files(corpus)
        # The stream replaces the data set's text; the vocabulary needs a sample of it.
        texts = sample_texts(files, config.pretrain.vocabulary_sample, config.pretrain.corpus_text_column)
        print_fn(
            f"pretraining corpus {corpus}: {len(files)} shards streamed each epoch; "
            f"vocabulary from its first {len(texts)} texts"
        )
    if resuming and os.path.exists(vocabulary_path):
        vectorizer = new_vectorizer(config.model.sequence_length, load_vocabulary(vocabulary_path))
    else:
        vectorizer = build_vectorizer(
            texts, config.model.vocabulary_size, config.model.sequence_length
        )
    # A small corpus can have fewer words than asked for: size the model to
    # the vocabulary it really has, and record that in config.json.
    model_config = dataclasses.replace(
        config.model, vocabulary_size=vectorizer.vocabulary_size()
    )
    packed_pairs = data.has_pairs and config.finetune.pair_encoding == "packed"
    if packed_pairs or config.pretrain.objective == "mlm+nsp":
        # [cls] a [sep] b [sep] tells its segments apart by embedding.
        model_config = dataclasses.replace(model_config, num_segments=max(model_config.num_segments, 2))
    config = dataclasses.replace(config, model=model_config)
    save_vocabulary(vectorizer, vocabulary_path)
    config_values = dataclasses.asdict(config)
    config_values["data"] = {
        "name": data.name, "label_names": list(data.label_names), "pairs": data.has_pairs,
    }
    run_folder.write_json(os.path.join(output, run_folder.CONFIG_FILE), config_values)
    vectorizer_seconds = time.perf_counter() - start
    print_fn(f"vocabulary: {model_config.vocabulary_size} tokens ({vectorizer_seconds:.0f} s)")

    backbone = Backbone(**model_config.backbone_kwargs(), name="backbone")
    histories = {}
    if config.pretrain.epochs > 0:
        objective = "masked-LM" + (" + next-sentence" if config.pretrain.objective == "mlm+nsp" else "")
        budget = config.pretrain.max_minutes
        print_fn(
            f"stage mlm: {config.pretrain.epochs} epochs of {objective} pretraining"
            + (f", at most {budget:g} minutes" if budget is not None else "")
        )
        # Text pretraining never reads: the validation reviews, unless asked to.
        validation_texts = None
        if not config.pretrain.include_validation_text:
            validation_texts = data.validation["text"][:MLM_VALIDATION_TEXTS].tolist()
        masked_lm, histories["mlm"] = pretrain(
            backbone, vectorizer, texts, config, verbose, validation_texts,
            checkpoint_dir=os.path.join(checkpoints, "mlm"),
            log_dir=None if logs is None else os.path.join(logs, "mlm"),
        )
        run_folder.save_model(masked_lm, os.path.join(output, run_folder.MLM_FILE))

    pair_encoding = config.finetune.pair_encoding
    train = (classifier_inputs(vectorizer, data.train, pair_encoding), data.train["label"].to_numpy())
    validation = (
        classifier_inputs(vectorizer, data.validation, pair_encoding),
        data.validation["label"].to_numpy(),
    )
    print_fn(
        "stage classifier: backbone frozen, then unfrozen"
        + (f"; text pairs, {pair_encoding}" if data.has_pairs else "")
    )

    def save_frozen_stage(stage, classifier):
        if stage == "frozen":
            path = os.path.join(output, run_folder.CLASSIFIER_FROZEN_FILE)
            run_folder.save_model(classifier, path)

    classifier, classifier_histories = finetune(
        backbone, train, validation, len(data.label_names), config, verbose, save_frozen_stage,
        checkpoint_dir=checkpoints, log_dir=logs,
    )
    histories.update(classifier_histories)
    run_folder.save_model(classifier, os.path.join(output, run_folder.CLASSIFIER_FILE))

    end_to_end = EndToEndClassifier(
        vectorizer, classifier, data.label_names,
        pair_packer=PairPacker(model_config.sequence_length) if packed_pairs else None,
        name="end_to_end",
    )
    run_folder.save_model(end_to_end, os.path.join(output, run_folder.END_TO_END_FILE))

    history_path = os.path.join(output, run_folder.HISTORY_FILE)
    run_folder.write_history(history_path, histories)
    plot_curves(history_path, os.path.join(output, run_folder.CURVES_FILE))
    report = validation_report(classifier, validation, data.label_names, config)
    metrics = {
        "stages": {stage: _stage_summary(history) for stage, history in histories.items()},
        "validation": report,
        "vectorizer_seconds": vectorizer_seconds,
        "total_seconds": time.perf_counter() - start,
        "rows": {
            "train": len(data.train),
            "validation": len(data.validation),
            "unlabeled": len(data.unlabeled),
            "pretraining_texts": len(texts) if corpus is None else None,  # a stream: uncounted
            "pretraining_corpus": corpus,
            "dropped": data.dropped_rows,
        },
        "validation_is_test": data.validation_is_test,
    }
    run_folder.write_json(os.path.join(output, run_folder.METRICS_FILE), metrics)
    # Finished: nothing left to resume.
    shutil.rmtree(checkpoints, ignore_errors=True)
    for stage, summary in metrics["stages"].items():
        figures = ", ".join(
            f"{k} {v:,.0f}" if k == "trainable_parameters" else f"{k} {v:.4f}"
            for k, v in summary.items() if "seconds" not in k
        )
        print_fn(f"{stage}: {figures}; {summary['seconds']:.0f} s")
    print_fn(f"validation ({len(validation[1])} rows): {format_report(report)}")
    print_fn(f"saved to {output}")
    return metrics
