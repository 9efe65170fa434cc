"""The recipe: pretrain a backbone, fine-tune a task on it, or both, each into a run folder.

Three entry points, one per command, on one skeleton:
- `run` (`python -m minibert train`): pretraining and fine-tuning in one
  folder; its time budget (`--minutes`) gives pretraining what fine-tuning,
  measured first, leaves.
- `pretrain_run` (`python -m minibert pretrain`): the vocabulary and pretraining alone.
- `finetune_run` (`python -m minibert finetune --from RUN`): the frozen and
  unfrozen stages of a task, from RUN's pretrained backbone and vocabulary.

Each reads top to bottom in the order it runs: `started_run` (the folder
locked, started or resumed; the devices and precision; the `RunContext`
every later step reads), the pretraining text and its vocabulary,
`pretraining_stage`, `finetuning_stage`, and `finish` (history.csv,
curves.png, the model card, metrics.json). The functions below follow in
that order. Every line goes through `minibert.reporting.report`.
"""

import contextlib
import dataclasses
import os
import shutil
import tempfile
import time

import keras
import numpy as np

from minibert import runs
from minibert.config import RunConfig
from minibert.data.corpus import corpus_files, sample_texts
from minibert.data.tokenizer import PADDING_ID, UNKNOWN_ID
from minibert.data.vectorizers import build_run_vectorizer, run_vectorizer
from minibert.inspection.model_card import model_card
from minibert.inspection.plots import plot_curves
from minibert.models import Backbone
from minibert.models.backbone import with_segment_embedding
from minibert.objectives import get_objective
from minibert.reporting import report
from minibert.runs import DataSummary, RunFolder, RunMetrics, StageSummary
from minibert.runs.records import row_counts
from minibert.tasks.classification.task import CLASSIFICATION
from minibert.tasks.task import FinetuningTask
from minibert.training.budget import (
    PretrainingShare,
    SpeedProbe,
    estimate_finetuning_seconds,
    pretraining_minutes,
)
from minibert.training.devices import (
    describe_devices,
    find_accelerator,
    resolve_precision,
)
from minibert.training.distribution import (
    coordinating_process_id,
    distribution_scope,
    is_multi_host,
)
from minibert.training.finetuning import TaskExamples, finetune
from minibert.training.pretraining import MLM_VALIDATION_TEXTS, pretrain
from minibert.training.self_training import SelfTraining, require_unlabeled_text
from minibert.training.stage import StageOutputs

# Above this share of [UNK] in the new data's tokens, `finetune` warns: a
# vocabulary built on the same kind of text leaves a few percent unknown.
UNKNOWN_WARNING_SHARE = 0.2


@dataclasses.dataclass
class RunContext:
    """One command's run, as every step after `started_run` reads it.

    Attributes:
        folder: the run folder it writes.
        config: its configuration as the run goes: sized to the vocabulary,
            then held to the time budget.
        task: the task it fine-tunes (None: pretraining alone).
        verbose: Keras' `fit` verbosity.
        start: when the command started (`time.perf_counter()`).
        histories: each stage's history, by stage name (history.csv).
        step_logs: each stage's loss every few batches (steps.csv).
    """

    folder: RunFolder
    config: RunConfig
    task: FinetuningTask | None
    verbose: str | int = "auto"
    start: float = dataclasses.field(default_factory=time.perf_counter)
    histories: dict = dataclasses.field(default_factory=dict)
    step_logs: dict = dataclasses.field(default_factory=dict)

    def outputs(self, **folders) -> StageOutputs:
        """What a stage of this run writes besides `folders` (its checkpoints and logs)."""
        return StageOutputs(step_logs=self.step_logs, verbose=self.verbose, **folders)


def run(data, config: RunConfig, output, overwrite=False, verbose="auto",
        task: FinetuningTask = CLASSIFICATION) -> dict:
    """The whole recipe into the run folder `output`; returns its metrics.json values.

    Args:
        data: the task's data set (`task.load_data`'s): a
            `minibert.data.sources.TextClassificationData`, a
            `TaggedWordsData` for token classification or a
            `QuestionAnswerData` for question answering.
        config: the run configuration.
        output: the run folder (created). An unfinished run of the same
            config and data there is resumed from its checkpoints; any other
            non-empty folder needs `overwrite=True`, which starts afresh.
        task: the fine-tuning task (`minibert.tasks.table.TASKS`).

    Example:
    >>> from minibert.config import get_preset
    >>> run(data, get_preset("tiny"), "saved_models/tiny")  # doctest: +SKIP
    """
    summary = DataSummary.of(data)
    check_task(task, data, config)
    request = {"config": dataclasses.asdict(config), "data": summary.to_dict(), "task": task.name}
    with started_run(output, request, overwrite, config, task, verbose) as (context, resuming):
        texts = pretraining_texts(data, summary, config)
        vectorizer = run_vocabulary(context, texts, resuming, task.reads_segments(data, config))
        vectorizer_seconds = time.perf_counter() - context.start
        context.folder.write_config(context.config, summary, task=task.name)
        backbone = Backbone(**context.config.model.backbone_kwargs(), name="backbone")
        examples = TaskExamples.of(task, vectorizer, data, context.config)
        budget, planned = None, None
        if config.minutes is not None and config.pretrain.epochs > 0:
            budget, planned = plan_budget(context, backbone, examples)
        if context.config.pretrain.epochs > 0:
            pretraining_stage(context, backbone, vectorizer, texts, data,
                              replan=planned and planned.minutes)
            if planned is not None:
                # What the last re-plan gave pretraining, and the slowdown it saw.
                budget.update(replanned_pretraining_minutes=round(planned.last_minutes, 2),
                              slowdown=round(planned.last_slowdown, 3))
        validation, self_training = finetuning_stage(context, backbone, vectorizer, examples)
        return finish(
            context, validation=validation, self_training=self_training,
            vectorizer_seconds=vectorizer_seconds, budget=budget,
            rows=row_counts(summary, len(texts), config.pretrain.corpus),
            validation_is_test=summary.validation_is_test, validation_groups=summary.held_out(),
        )


def pretrain_run(data, config: RunConfig, output, overwrite=False, verbose="auto") -> dict:
    """The vocabulary and pretraining alone into the run folder `output`; returns its metrics.

    `finetune_run` (`python -m minibert finetune --from`) then fine-tunes
    tasks from it, on this data set or others.

    Args:
        data: a data set whose train and unlabelled text is pretrained on
            (its labels are not used; its validation text is held out and
            scored), or None when `config.pretrain.corpus` streams the text.
        config: the run configuration; its `minutes`, when set, caps the
            whole command, and its fine-tuning settings are what
            `finetune_run` uses by default.
        output, overwrite: as `run`'s.

    Example:
    >>> from minibert.config import get_preset
    >>> pretrain_run(data, get_preset("tiny"), "saved_models/pretrained")  # doctest: +SKIP
    """
    if data is None and config.pretrain.corpus is None:
        raise ValueError("pretraining needs text: a data set (--dataset) or --pretraining-corpus")
    summary = DataSummary.of(data)
    request = {"command": "pretrain", "config": dataclasses.asdict(config),
               "data": None if summary is None else summary.to_dict()}
    with started_run(output, request, overwrite, config, None, verbose) as (context, resuming):
        texts = pretraining_texts(data, summary, config)
        vectorizer = run_vocabulary(context, texts, resuming, False)
        vectorizer_seconds = time.perf_counter() - context.start
        context.folder.write_config(context.config, summary)
        budget = None
        if config.minutes is not None:
            # No fine-tuning to leave time for: the budget less what has passed and the saving.
            share = within_minutes(context, pretraining_minutes(
                config.minutes, time.perf_counter() - context.start, 0.0))
            budget = {"minutes": config.minutes, "pretraining_minutes": share}
        backbone = Backbone(**context.config.model.backbone_kwargs(), name="backbone")
        if context.config.pretrain.epochs > 0:
            pretraining_stage(context, backbone, vectorizer, texts, data)
        return finish(
            context, vectorizer_seconds=vectorizer_seconds, budget=budget,
            rows=row_counts(summary, len(texts), config.pretrain.corpus),
        )


def finetune_run(data, from_run, output, config: RunConfig | None = None, random_init=False,
                 overwrite=False, verbose="auto", task: FinetuningTask = CLASSIFICATION) -> dict:
    """The frozen and unfrozen stages of `task` on `data`, from run `from_run`'s backbone.

    Args:
        data: the task's data set, as `run`'s: labelled texts (any number
            of classes, single texts or pairs), tagged words or questions.
        from_run: a run folder with `mlm.keras`, `vocabulary.txt` and
            `config.json` (`pretrain_run`'s or `run`'s).
        output: the new run folder, as `run`'s.
        config: the fine-tuning settings (its `finetune` section, seed,
            precision, jit_compile, distribute, tensorboard); the model,
            tokenizer and pretraining sections are always `from_run`'s.
            Default: `from_run`'s own config.
        random_init: fine-tune a fresh backbone of `from_run`'s shape and
            vocabulary instead of its pretrained one: what pretraining buys.
        task: the fine-tuning task (`minibert.tasks.table.TASKS`).

    Example:
    >>> finetune_run(data, "saved_models/pretrained", "saved_models/stars")  # doctest: +SKIP
    """
    pretrained_folder = pretrained_run(from_run)
    pretrained = pretrained_folder.read_config()
    config = dataclasses.replace(
        config or pretrained, model=pretrained.model, pretrain=pretrained.pretrain,
        tokenizer=pretrained.tokenizer, minutes=None,
    )
    summary = DataSummary.of(data)
    check_task(task, data, config)
    # Refused before the run folder is made, so the same folder takes the fixed command.
    grows_segments = task.reads_segments(data, config) and config.model.num_segments < 2
    if grows_segments:
        if not task.grows_segments:
            raise ValueError(
                f"{from_run}'s backbone has no segment embeddings, which packed pairs need; "
                "pass --pair-encoding siamese"
            )
        config = dataclasses.replace(config, model=dataclasses.replace(config.model,
                                                                       num_segments=2))
    request = {"command": "finetune", "from": os.path.normpath(from_run),
               "random_init": random_init, "config": dataclasses.asdict(config),
               "data": summary.to_dict(), "task": task.name}
    with started_run(output, request, overwrite, config, task, verbose) as (context, _):
        report(summary.describe())
        vectorizer = run_vectorizer(config.tokenizer, config.model.sequence_length,
                                    pretrained_folder.read_vocabulary())
        context.folder.write_vocabulary(vectorizer)
        pretrained_data = pretrained_folder.read_data()
        origin = {"path": os.path.normpath(from_run), "random_init": random_init,
                  "seed": pretrained.seed,
                  "data": None if pretrained_data is None else pretrained_data.to_dict()}
        context.folder.write_config(config, summary, task=task.name, pretrained_run=origin)
        _warn_of_leaks(summary, config, origin, pretrained_data)
        if random_init:
            report(f"backbone: random weights of {from_run}'s shape (not its pretrained ones)")
            backbone = Backbone(**config.model.backbone_kwargs(), name="backbone")
        else:
            report(f"backbone: pretrained, from {pretrained_folder.file(runs.MLM_FILE)}")
            backbone = pretrained_folder.load_model(runs.MLM_FILE).backbone
            if grows_segments:
                report(f"backbone: {from_run}'s has no segment embedding; question and context "
                       "get one, started at zero (the pretrained vectors unchanged)")
                backbone = with_segment_embedding(backbone, config.model.num_segments)
        examples = TaskExamples.of(task, vectorizer, data, config)
        unknown = unknown_share(task.token_ids(examples.train[0]))
        report(f"{from_run}'s vocabulary: {unknown:.1%} of the training text's tokens are [UNK]")
        if unknown > UNKNOWN_WARNING_SHARE:
            report(
                f"warning: {unknown:.0%} of the training text's tokens are unknown to {from_run}'s "
                "vocabulary; its backbone was pretrained on other text: pretrain on this data "
                "(python -m minibert pretrain, or --pretraining-corpus)"
            )
        validation, self_training = finetuning_stage(context, backbone, vectorizer, examples)
        return finish(
            context, validation=validation, self_training=self_training,
            pretrained_run=origin, unknown_token_share=unknown,
            rows=row_counts(summary, None, None), validation_is_test=summary.validation_is_test,
            validation_groups=summary.held_out(),
        )


def check_task(task: FinetuningTask, data, config: RunConfig) -> None:
    """Refuses, before any run folder is made, settings the task cannot train with."""
    task.check_config(data, config)
    require_unlabeled_text(data, config)


def pretrained_run(path) -> RunFolder:
    """The run folder `path`, refused in one line unless it holds a finished pretrained run."""
    folder = RunFolder(path)
    folder.require(runs.CONFIG_FILE, runs.VOCABULARY_FILE, runs.MLM_FILE,
                   way_out="pretrain one with `python -m minibert pretrain` (or `train`)")
    return folder


@contextlib.contextmanager
def started_run(output, request, overwrite, config: RunConfig, task, verbose):
    """The run folder held for this command, on the config's devices: yields
    `(RunContext, resuming)`.

    `output` is locked for the whole block (`RunFolder.writing`). In a
    multi-host job only the coordinator (process 0) writes it; every other
    process trains the same steps into a temporary folder, removed at the
    end, and keeps nothing.
    """
    process_id = coordinating_process_id(config.distribute)
    if process_id == 0:
        folder = RunFolder(output)
        with folder.writing(request, overwrite) as resuming:
            if resuming and is_multi_host(config.distribute):
                # The other processes keep no checkpoints to resume from.
                raise ValueError(f"{output} holds an unfinished multi-host run, which cannot "
                                 "resume; pass --overwrite on every host to start afresh")
            with on_devices(config):
                if resuming:
                    report(f"resuming the unfinished run in {output} from its last saved epoch")
                yield RunContext(folder, config, task, verbose), resuming
        return
    temporary = tempfile.mkdtemp(prefix=f"minibert-process-{process_id}-")
    report(f"process {process_id} of a multi-host job: process 0 writes {output}, "
           "this one keeps nothing")
    try:
        with on_devices(config):
            yield RunContext(RunFolder(temporary), config, task, verbose), False
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


@contextlib.contextmanager
def on_devices(config: RunConfig):
    """The block under the config's distribution and precision, seeded; the precision restored after."""
    previous_policy = keras.mixed_precision.global_policy()
    try:
        # The distribution first: a multi-host JAX job must join before any
        # device is listed, and the precision asks which device this is.
        with distribution_scope(config.distribute) as num_devices:
            keras.mixed_precision.set_global_policy(
                resolve_precision(config.precision, find_accelerator())
            )
            if num_devices > 1:
                report(f"distribute {config.distribute}: each batch split across {num_devices} devices")
            keras.utils.set_random_seed(config.seed)
            report(describe_devices())
            yield
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)


def pretraining_texts(data, summary: DataSummary | None, config: RunConfig) -> list[str]:
    """The texts pretraining reads, or with a streamed corpus the sample its vocabulary comes from."""
    corpus = config.pretrain.corpus
    texts = None
    if data is not None:
        texts = data.pretraining_text(include_validation=config.pretrain.include_validation_text)
        report(summary.describe(None if corpus is not None else len(texts)))
    if corpus is not None:
        shards = corpus_files(corpus)
        # The stream replaces the data set's text; the vocabulary needs a sample of it.
        texts = sample_texts(shards, config.pretrain.vocabulary_sample,
                             config.pretrain.corpus_text_column)
        report(
            f"pretraining corpus {corpus}: {len(shards)} shards streamed each epoch; "
            f"vocabulary from its first {len(texts)} texts"
        )
    return texts


def run_vocabulary(context: RunContext, texts, resuming, reads_segments):
    """The run's vectorizer (its saved vocabulary when resuming); the context's config sized to it.

    `reads_segments`: whether the task reads `[cls] a [sep] b [sep]` rows,
    whose segments need an embedding of their own.
    """
    start = time.perf_counter()
    config, folder = context.config, context.folder
    if resuming and os.path.exists(folder.file(runs.VOCABULARY_FILE)):
        # What the checkpoints were trained on.
        vectorizer = run_vectorizer(
            config.tokenizer, config.model.sequence_length, folder.read_vocabulary()
        )
    else:
        vectorizer = build_run_vectorizer(
            config.tokenizer, texts, config.model.vocabulary_size, config.model.sequence_length
        )
    # A small corpus can have fewer words than asked for: size the model to
    # the vocabulary it really has, and record that in config.json.
    # [cls] a [sep] b [sep] tells its segments apart by embedding: packed
    # pairs need two, and so may the objective.
    num_segments = max(config.model.num_segments, 2 if reads_segments else 0,
                       get_objective(config.pretrain.objective).num_segments)
    model_config = dataclasses.replace(
        config.model, vocabulary_size=vectorizer.vocabulary_size(), num_segments=num_segments
    )
    folder.write_vocabulary(vectorizer)
    report(f"vocabulary: {model_config.vocabulary_size} tokens ({time.perf_counter() - start:.0f} s)")
    context.config = dataclasses.replace(config, model=model_config)
    return vectorizer


def plan_budget(context: RunContext, backbone, examples: TaskExamples):
    """`--minutes`: fine-tuning's share timed on this machine first; pretraining gets the rest,
    re-planned every minute at the machine's speed then (`budget.PretrainingShare`).

    Returns metrics.json's `budget` and the plan the pretraining stage re-plans with.
    """
    config = context.config
    probe = SpeedProbe()
    finetuning_seconds = estimate_finetuning_seconds(examples, backbone, config, probe=probe)
    planned = PretrainingShare(config.minutes, time.perf_counter() - context.start,
                               finetuning_seconds, probe, config.pretrain.max_minutes)
    share = planned.first_minutes()
    report(f"budget {config.minutes:g} minutes: fine-tuning measured at "
           f"~{finetuning_seconds / 60:.1f} minutes here, {share:.1f} minutes left for "
           "pretraining (re-planned every minute at the machine's speed)")
    share = within_minutes(context, share)
    budget = {"minutes": config.minutes, "finetuning_estimate_seconds": finetuning_seconds,
              "pretraining_minutes": share}
    return budget, planned


def within_minutes(context: RunContext, share) -> float:
    """Holds the context's pretraining to `share` minutes (and its own max_minutes); returns
    that share."""
    config = context.config
    if config.pretrain.max_minutes is not None:
        share = min(share, config.pretrain.max_minutes)
    share = round(share, 1)
    # Nothing left: no pretraining at all, rather than a few steps.
    pretrain_config = dataclasses.replace(
        config.pretrain, max_minutes=share if share > 0 else None,
        epochs=config.pretrain.epochs if share > 0 else 0,
    )
    context.config = dataclasses.replace(config, pretrain=pretrain_config)
    return share


def pretraining_stage(context: RunContext, backbone, vectorizer, texts, data, replan=None):
    """Pretrains `backbone`, saves `mlm.keras`; the stage's history joins the context's.

    `replan`, with a budget: a function that gives the stage's minutes anew (`TimeBudget`).
    """
    config, folder = context.config, context.folder
    folder.check_free_space(backbone.count_params())
    minutes = config.pretrain.max_minutes
    report(
        f"stage mlm: {config.pretrain.epochs} epochs of "
        f"{get_objective(config.pretrain.objective).description} pretraining"
        + (f", at most {minutes:g} minutes" if minutes is not None else "")
    )
    # Pretraining never reads the validation text, unless asked to: it scores on it.
    validation_texts = None
    if data is not None and not config.pretrain.include_validation_text:
        validation_texts = data.held_out_texts(MLM_VALIDATION_TEXTS)
    outputs = context.outputs(
        checkpoint_dir=folder.checkpoint_dir("mlm"),
        log_dir=folder.logs_dir("mlm") if config.tensorboard else None,
    )
    masked_lm, context.histories["mlm"] = pretrain(
        backbone, vectorizer, texts, config, validation_texts, outputs, replan=replan,
    )
    folder.save_model(masked_lm, runs.MLM_FILE)


def finetuning_stage(context: RunContext, backbone, vectorizer, examples: TaskExamples):
    """The task's frozen and unfrozen stages; saves its models and `end_to_end.keras`.

    With `--self-training`, students follow (`minibert.training.self_training`)
    and the model kept is the one that scores best on validation.

    Returns the task's validation report and the self-training record (None
    without it); the stages' histories join the context's.
    """
    config, folder, task = context.config, context.folder, examples.task
    report(task.describe(examples.data, config))

    def save_frozen_stage(stage, model):
        if stage == "frozen":
            folder.save_model(model, runs.CLASSIFIER_FROZEN_FILE)

    pretrained_weights = backbone.get_weights()  # what self-training's students start from
    outputs = context.outputs(
        checkpoint_dir=folder.file(runs.CHECKPOINTS_DIR),
        log_dir=folder.file(runs.LOGS_DIR) if config.tensorboard else None,
        on_stage_end=save_frozen_stage,
    )
    model, histories = finetune(examples, backbone, config, outputs)
    context.histories.update(histories)
    validation = examples.evaluate(model, config)
    self_training = None
    if config.finetune.self_training:
        report(f"fine-tuned: validation {task.format_report(validation)}")
        folder.save_model(model, runs.CLASSIFIER_FINETUNED_FILE)
        rounds = SelfTraining(examples, vectorizer, pretrained_weights, config,
                              context.outputs(checkpoint_dir=folder.file(runs.CHECKPOINTS_DIR)))
        model, student_histories, self_training = rounds.rounds(model, validation["accuracy"])
        context.histories.update(student_histories)
        kept = self_training["kept_round"]
        report(f"self-training keeps round {kept}'s model" + (
            " (fine-tuning's own: no student beat it on validation)" if kept == 0 else ""))
        if kept:
            validation = examples.evaluate(model, config)
    folder.save_model(model, runs.CLASSIFIER_FILE)
    folder.save_model(task.build_end_to_end(vectorizer, model, examples.data, config, validation),
                      runs.END_TO_END_FILE)
    return validation, self_training


def finish(context: RunContext, **fields) -> dict:
    """Writes history.csv, steps.csv, curves.png, the model card and metrics.json, removes the
    checkpoints, reports the figures; returns metrics.json's values.

    `fields` are the `RunMetrics` the command measured besides its stages.
    """
    folder, histories = context.folder, context.histories
    if context.step_logs:
        folder.write_steps(context.step_logs)
    if histories:
        folder.write_history(histories)
        plot_curves(folder.file(runs.HISTORY_FILE), folder.file(runs.CURVES_FILE))
    frozen = histories.get("frozen", {}).get("val_accuracy")
    if fields.get("validation") is not None:
        fields["frozen_validation_accuracy"] = float(frozen[-1]) if frozen else None
    metrics = RunMetrics(
        stages={stage: StageSummary.of_history(history) for stage, history in histories.items()},
        total_seconds=time.perf_counter() - context.start, **fields,
    )
    folder.write_text(runs.MODEL_CARD_FILE, model_card(folder, metrics, context.task))
    folder.write_metrics(metrics)  # last: it marks the run finished
    folder.remove_checkpoints()
    for stage, summary in metrics.stages.items():
        figures = ", ".join(
            f"{key} {value:,.0f}" if key == "trainable_parameters" else f"{key} {value:.4f}"
            for key, value in summary.figures.items()
        )
        report(f"{stage}: {figures}; {summary.seconds:.0f} s")
    if frozen:
        report(f"frozen backbone: validation accuracy {frozen[-1]:.4f} from the head alone")
    if metrics.validation is not None:
        report(f"validation ({metrics.rows['validation']} rows): "
               f"{context.task.format_report(metrics.validation)}")
    report(f"saved to {folder.path}")
    return metrics.to_dict()


def unknown_share(token_ids: list) -> float:
    """The share of `[UNK]` among the non-padding tokens of `token_ids`, a list of arrays
    (`FinetuningTask.token_ids`).

    Example:
    >>> unknown_share([np.array([[5, 1, 6, 0]])])
    0.3333333333333333
    """
    tokens = np.concatenate([np.asarray(ids).ravel() for ids in token_ids])
    tokens = tokens[tokens != PADDING_ID]
    return float(np.mean(tokens == UNKNOWN_ID)) if len(tokens) else 0.0


def _warn_of_leaks(data: DataSummary, config: RunConfig, origin: dict,
                   pretrained_data: DataSummary | None) -> None:
    """A warning when `data` is the data set the pretrained run read, split another way.

    Pretraining held out that run's validation rows only: another split's
    validation rows may have been pretrained on (their text, not their labels).
    """
    if pretrained_data is None or pretrained_data.name != data.name:
        return
    group_column = pretrained_data.group_column
    if origin["seed"] != config.seed or group_column != data.group_column:
        report(
            f"warning: {origin['path']} pretrained on {data.name} split with --seed "
            f"{origin['seed']} and --group-column {group_column}; this split's "
            "validation rows may be among its pretraining text: pass the same for a held-out figure"
        )
