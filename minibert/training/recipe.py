"""The recipe: pretrain a backbone, fine-tune a task on it, or both, each into a run folder.

Three entry points, one per command:
- `run` (`python -m minibert train`): pretraining and fine-tuning in one
  folder; its time budget (`--minutes`) gives pretraining what fine-tuning,
  measured first, leaves.
- `pretrain_run` (`python -m minibert pretrain`): the vocabulary and pretraining alone.
- `finetune_run` (`python -m minibert finetune --from RUN`): the frozen and
  unfrozen stages of a task, from RUN's pretrained backbone and vocabulary.

Each reads top to bottom in the order it runs: `opened_run` (the folder
locked, started or resumed; the devices and precision), the pretraining
text and its vocabulary, `pretraining_stage`, `finetuning_stage`, and
`finish` (history.csv, curves.png, the model card, metrics.json). The
functions below follow in that order.
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
from minibert.runs import DataSummary, RunFolder, RunMetrics, StageSummary
from minibert.runs.records import row_counts
from minibert.tasks import get_task
from minibert.training.budget import (
    PretrainingShare,
    SpeedProbe,
    estimate_finetuning_seconds,
    pretraining_minutes,
)
from minibert.training.devices import describe_devices, find_accelerator, resolve_precision
from minibert.training.distribution import (
    coordinating_process_id, distribution_scope, is_multi_host,
)
from minibert.training.finetuning import finetune
from minibert.training.pretraining import MLM_VALIDATION_TEXTS, pretrain
from minibert.training.self_training import require_unlabeled_text, self_train

# Above this share of [UNK] in the new data's tokens, `finetune` warns: a
# vocabulary built on the same kind of text leaves a few percent unknown.
UNKNOWN_WARNING_SHARE = 0.2


def run(data, config: RunConfig, output, overwrite=False, verbose="auto", print_fn=print,
        task="classification") -> dict:
    """The whole recipe into the run folder `output`; returns its metrics.json values.

    Args:
        data: a `minibert.data.sources.TextClassificationData`, or for
            `task="token-classification"` a `minibert.data.tagged_words.TaggedWordsData`.
        config: the run configuration.
        output: the run folder (created). An unfinished run of the same
            config and data there is resumed from its checkpoints; any other
            non-empty folder needs `overwrite=True`, which starts afresh.
        task: the fine-tuning task's name (`minibert.tasks.TASKS`).

    Example:
    >>> from minibert.config import get_preset
    >>> run(data, get_preset("tiny"), "saved_models/tiny")  # doctest: +SKIP
    """
    summary = DataSummary.of(data)
    require_unlabeled_text(data, config, task)
    require_one_device(config, task)
    request = {"config": dataclasses.asdict(config), "data": summary.to_dict(), "task": task}
    with opened_run(output, request, overwrite, config, print_fn) as (folder, resuming):
        start = time.perf_counter()
        texts = pretraining_texts(data, summary, config, print_fn)
        vectorizer, config = run_vocabulary(texts, config, folder, resuming,
                                            reads_segments(summary, config, task), print_fn)
        vectorizer_seconds = time.perf_counter() - start
        folder.write_config(config, summary, task=task)
        backbone = Backbone(**config.model.backbone_kwargs(), name="backbone")
        train, validation = task_examples(task, vectorizer, data, config)
        budget, planned = None, None
        if config.minutes is not None and config.pretrain.epochs > 0:
            # Fine-tuning's share is timed on this machine first; pretraining gets the rest,
            # re-planned every minute at the machine's speed then (budget.PretrainingShare).
            probe = SpeedProbe()
            finetuning_seconds = estimate_finetuning_seconds(
                backbone, train, validation, data, config, task, probe=probe
            )
            planned = PretrainingShare(config.minutes, time.perf_counter() - start,
                                       finetuning_seconds, probe, config.pretrain.max_minutes)
            share = planned.first_minutes()
            print_fn(f"budget {config.minutes:g} minutes: fine-tuning measured at "
                     f"~{finetuning_seconds / 60:.1f} minutes here, {share:.1f} minutes left for "
                     "pretraining (re-planned every minute at the machine's speed)")
            config, share = within_minutes(config, share)
            budget = {"minutes": config.minutes, "finetuning_estimate_seconds": finetuning_seconds,
                      "pretraining_minutes": share}
        histories, step_logs = {}, {}
        if config.pretrain.epochs > 0:
            histories["mlm"] = pretraining_stage(backbone, vectorizer, texts, data, config, folder,
                                                 verbose, print_fn, step_logs,
                                                 replan=planned and planned.minutes)
            if planned is not None:
                # What the last re-plan gave pretraining, and the slowdown it saw.
                budget.update(replanned_pretraining_minutes=round(planned.last_minutes, 2),
                              slowdown=round(planned.last_slowdown, 3))
        finetuned, report, self_training = finetuning_stage(
            task, backbone, vectorizer, data, train, validation, config, folder, verbose,
            print_fn, step_logs,
        )
        histories.update(finetuned)
        return finish(
            folder, start, histories, step_logs, print_fn, task=task,
            validation=report, self_training=self_training,
            vectorizer_seconds=vectorizer_seconds, budget=budget,
            rows=row_counts(summary, len(texts), config.pretrain.corpus),
            validation_is_test=summary.validation_is_test, validation_groups=summary.held_out(),
        )


def pretrain_run(data, config: RunConfig, output, overwrite=False, verbose="auto", print_fn=print):
    """The vocabulary and pretraining alone into the run folder `output`; returns its metrics.

    `finetune_run` (`python -m minibert finetune --from`) then fine-tunes
    tasks from it, on this data set or others.

    Args:
        data: a `TextClassificationData` whose train and unlabelled text is
            pretrained on (its labels are not used; its validation text is
            held out and scored), or None when `config.pretrain.corpus`
            streams the text.
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
    with opened_run(output, request, overwrite, config, print_fn) as (folder, resuming):
        start = time.perf_counter()
        texts = pretraining_texts(data, summary, config, print_fn)
        vectorizer, config = run_vocabulary(texts, config, folder, resuming, False, print_fn)
        vectorizer_seconds = time.perf_counter() - start
        folder.write_config(config, summary)
        budget = None
        if config.minutes is not None:
            # No fine-tuning to leave time for: the budget less what has passed and the saving.
            config, share = within_minutes(
                config, pretraining_minutes(config.minutes, time.perf_counter() - start, 0.0)
            )
            budget = {"minutes": config.minutes, "pretraining_minutes": share}
        backbone = Backbone(**config.model.backbone_kwargs(), name="backbone")
        histories, step_logs = {}, {}
        if config.pretrain.epochs > 0:
            histories["mlm"] = pretraining_stage(backbone, vectorizer, texts, data, config, folder,
                                                 verbose, print_fn, step_logs)
        return finish(
            folder, start, histories, step_logs, print_fn, vectorizer_seconds=vectorizer_seconds,
            rows=row_counts(summary, len(texts), config.pretrain.corpus), budget=budget,
        )


def finetune_run(
    data, from_run, output, config: RunConfig | None = None, random_init=False, overwrite=False,
    verbose="auto", print_fn=print, task="classification",
) -> dict:
    """The frozen and unfrozen stages of `task` on `data`, from run `from_run`'s backbone.

    Args:
        data: the labelled `TextClassificationData`: any number of classes,
            single texts or pairs; or the `TaggedWordsData` of a
            `token-classification` task.
        from_run: a run folder with `mlm.keras`, `vocabulary.txt` and
            `config.json` (`pretrain_run`'s or `run`'s).
        output: the new run folder, as `run`'s.
        config: the fine-tuning settings (its `finetune` section, seed,
            precision, jit_compile, distribute, tensorboard); the model,
            tokenizer and pretraining sections are always `from_run`'s.
            Default: `from_run`'s own config.
        random_init: fine-tune a fresh backbone of `from_run`'s shape and
            vocabulary instead of its pretrained one: what pretraining buys.
        task: the fine-tuning task's name (`minibert.tasks.TASKS`).

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
    require_unlabeled_text(data, config, task)
    require_one_device(config, task)
    # Refused before the run folder is made, so the same folder takes the fixed command.
    grows_segments = False
    if reads_segments(summary, config, task) and config.model.num_segments < 2:
        if task != "question-answering":
            raise ValueError(
                f"{from_run}'s backbone has no segment embeddings, which packed pairs need; "
                "pass --pair-encoding siamese"
            )
        # A question and its context: the backbone gets a segment table, started at zero.
        grows_segments = True
        config = dataclasses.replace(config, model=dataclasses.replace(config.model,
                                                                       num_segments=2))
    request = {"command": "finetune", "from": os.path.normpath(from_run),
               "random_init": random_init, "config": dataclasses.asdict(config),
               "data": summary.to_dict(), "task": task}
    with opened_run(output, request, overwrite, config, print_fn) as (folder, _):
        start = time.perf_counter()
        print_fn(summary.describe())
        vectorizer = run_vectorizer(config.tokenizer, config.model.sequence_length,
                                    pretrained_folder.read_vocabulary())
        folder.write_vocabulary(vectorizer)
        pretrained_data = pretrained_folder.read_data()
        origin = {"path": os.path.normpath(from_run), "random_init": random_init,
                  "seed": pretrained.seed,
                  "data": None if pretrained_data is None else pretrained_data.to_dict()}
        folder.write_config(config, summary, task=task, pretrained_run=origin)
        _warn_of_leaks(summary, config, origin, pretrained_data, print_fn)
        if random_init:
            print_fn(f"backbone: random weights of {from_run}'s shape (not its pretrained ones)")
            backbone = Backbone(**config.model.backbone_kwargs(), name="backbone")
        else:
            print_fn(f"backbone: pretrained, from {pretrained_folder.file(runs.MLM_FILE)}")
            backbone = pretrained_folder.load_model(runs.MLM_FILE).backbone
            if grows_segments:
                print_fn(f"backbone: {from_run}'s has no segment embedding; question and context "
                         "get one, started at zero (the pretrained vectors unchanged)")
                backbone = with_segment_embedding(backbone, config.model.num_segments)
        train, validation = task_examples(task, vectorizer, data, config)
        unknown = unknown_share(train[0])
        print_fn(f"{from_run}'s vocabulary: {unknown:.1%} of the training text's tokens are [UNK]")
        if unknown > UNKNOWN_WARNING_SHARE:
            print_fn(
                f"warning: {unknown:.0%} of the training text's tokens are unknown to {from_run}'s "
                "vocabulary; its backbone was pretrained on other text: pretrain on this data "
                "(python -m minibert pretrain, or --pretraining-corpus)"
            )
        step_logs = {}
        histories, report, self_training = finetuning_stage(
            task, backbone, vectorizer, data, train, validation, config, folder, verbose,
            print_fn, step_logs,
        )
        return finish(
            folder, start, histories, step_logs, print_fn, task=task, validation=report,
            self_training=self_training,
            pretrained_run=origin, unknown_token_share=unknown,
            rows=row_counts(summary, None, None), validation_is_test=summary.validation_is_test,
            validation_groups=summary.held_out(),
        )


def require_one_device(config: RunConfig, task) -> None:
    """Refuses, before any run folder is made, a question-answering run across devices: its
    batches are not padded to a multiple of the devices, which a weighted loss would need."""
    if task == "question-answering" and config.distribute != "none":
        raise ValueError("question answering fine-tunes on one device; drop --distribute")


def pretrained_run(path) -> RunFolder:
    """The run folder `path`, refused in one line unless it holds a finished pretrained run."""
    folder = RunFolder(path)
    folder.require(runs.CONFIG_FILE, runs.VOCABULARY_FILE, runs.MLM_FILE,
                   way_out="pretrain one with `python -m minibert pretrain` (or `train`)")
    return folder


@contextlib.contextmanager
def opened_run(output, request, overwrite, config: RunConfig, print_fn):
    """The run folder held for this command, on the config's devices: yields `(folder, resuming)`.

    `output` is locked for the whole block (`RunFolder.writing`). In a
    multi-host job only the coordinator (process 0) writes it; every other
    process trains the same steps into a temporary folder, removed at the
    end, and keeps nothing.
    """
    process_id = coordinating_process_id(config.distribute)
    if process_id == 0:
        folder = RunFolder(output)
        with folder.writing(request, overwrite, print_fn) as resuming:
            if resuming and is_multi_host(config.distribute):
                # The other processes keep no checkpoints to resume from.
                raise ValueError(f"{output} holds an unfinished multi-host run, which cannot "
                                 "resume; pass --overwrite on every host to start afresh")
            with on_devices(config, print_fn):
                if resuming:
                    print_fn(f"resuming the unfinished run in {output} from its last saved epoch")
                yield folder, resuming
        return
    temporary = tempfile.mkdtemp(prefix=f"minibert-process-{process_id}-")
    print_fn(f"process {process_id} of a multi-host job: process 0 writes {output}, "
             "this one keeps nothing")
    try:
        with on_devices(config, print_fn):
            yield RunFolder(temporary), False
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


@contextlib.contextmanager
def on_devices(config: RunConfig, print_fn):
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
                print_fn(f"distribute {config.distribute}: each batch split across {num_devices} devices")
            keras.utils.set_random_seed(config.seed)
            print_fn(describe_devices())
            yield
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)


def pretraining_texts(data, summary: DataSummary | None, config: RunConfig, print_fn) -> list[str]:
    """The texts pretraining reads, or with a streamed corpus the sample its vocabulary comes from."""
    corpus = config.pretrain.corpus
    texts = None
    if data is not None:
        texts = data.pretraining_text(include_validation=config.pretrain.include_validation_text)
        print_fn(summary.describe(None if corpus is not None else len(texts)))
    if corpus is not None:
        shards = corpus_files(corpus)
        # The stream replaces the data set's text; the vocabulary needs a sample of it.
        texts = sample_texts(shards, config.pretrain.vocabulary_sample,
                             config.pretrain.corpus_text_column)
        print_fn(
            f"pretraining corpus {corpus}: {len(shards)} shards streamed each epoch; "
            f"vocabulary from its first {len(texts)} texts"
        )
    return texts


def reads_segments(summary: DataSummary, config: RunConfig, task) -> bool:
    """Whether the task reads two texts as one `[cls] a [sep] b [sep]` row, which segment
    embeddings tell apart: packed pairs, and a question with its context."""
    return task == "question-answering" or (
        summary.pairs and config.finetune.pair_encoding == "packed")


def run_vocabulary(texts, config: RunConfig, folder: RunFolder, resuming, packed_pairs, print_fn):
    """The run's vectorizer (its saved vocabulary when resuming), and the config sized to it."""
    start = time.perf_counter()
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
    num_segments = max(config.model.num_segments, 2 if packed_pairs else 0,
                       get_objective(config.pretrain.objective).num_segments)
    model_config = dataclasses.replace(
        config.model, vocabulary_size=vectorizer.vocabulary_size(), num_segments=num_segments
    )
    folder.write_vocabulary(vectorizer)
    print_fn(f"vocabulary: {model_config.vocabulary_size} tokens ({time.perf_counter() - start:.0f} s)")
    return vectorizer, dataclasses.replace(config, model=model_config)


def task_examples(task, vectorizer, data, config: RunConfig):
    """The task's examples of the train and validation splits."""
    make_examples = get_task(task).make_examples
    return tuple(make_examples(vectorizer, frame, data, config)
                 for frame in (data.train, data.validation))


def within_minutes(config: RunConfig, share):
    """`config` with pretraining held to `share` minutes (and its own max_minutes), and that share."""
    if config.pretrain.max_minutes is not None:
        share = min(share, config.pretrain.max_minutes)
    share = round(share, 1)
    # Nothing left: no pretraining at all, rather than a few steps.
    pretrain_config = dataclasses.replace(
        config.pretrain, max_minutes=share if share > 0 else None,
        epochs=config.pretrain.epochs if share > 0 else 0,
    )
    return dataclasses.replace(config, pretrain=pretrain_config), share


def pretraining_stage(backbone, vectorizer, texts, data, config: RunConfig, folder: RunFolder,
                      verbose, print_fn, step_logs, replan=None) -> dict:
    """Pretrains `backbone`, saves `mlm.keras`; returns the stage's history.

    `replan`, with a budget: a function that gives the stage's minutes anew (`TimeBudget`).
    """
    folder.check_free_space(backbone.count_params())
    minutes = config.pretrain.max_minutes
    print_fn(
        f"stage mlm: {config.pretrain.epochs} epochs of "
        f"{get_objective(config.pretrain.objective).description} pretraining"
        + (f", at most {minutes:g} minutes" if minutes is not None else "")
    )
    # Pretraining never reads the validation reviews, unless asked to: it scores on them.
    validation_texts = None
    if data is not None and not config.pretrain.include_validation_text:
        validation_texts = held_out_texts(data.validation[:MLM_VALIDATION_TEXTS])
    masked_lm, history = pretrain(
        backbone, vectorizer, texts, config, verbose, validation_texts,
        checkpoint_dir=folder.checkpoint_dir("mlm"),
        log_dir=folder.logs_dir("mlm") if config.tensorboard else None, step_logs=step_logs,
        replan=replan,
    )
    folder.save_model(masked_lm, runs.MLM_FILE)
    return history


def held_out_texts(frame) -> list[str]:
    """The texts of a validation frame: its `text` column, its questions' distinct contexts, or
    its tagged sentences' words joined by spaces (as `TaggedWordsData.pretraining_text` joins
    train's)."""
    if "text" in frame:
        return frame["text"].tolist()
    if "context" in frame:
        return list(dict.fromkeys(frame["context"]))
    return [" ".join(words) for words in frame["words"]]


def finetuning_stage(task, backbone, vectorizer, data, train, validation, config: RunConfig,
                     folder: RunFolder, verbose, print_fn, step_logs):
    """The task's frozen and unfrozen stages; saves its models and `end_to_end.keras`.

    With `--self-training`, students follow (`minibert.training.self_training`)
    and the model kept is the one that scores best on validation.

    Returns the stages' histories, the task's validation report, and the
    self-training record (None without it).
    """
    task = get_task(task)
    print_fn(task.describe(data, config))

    def save_frozen_stage(stage, model):
        if stage == "frozen":
            folder.save_model(model, runs.CLASSIFIER_FROZEN_FILE)

    pretrained_weights = backbone.get_weights()  # what self-training's students start from
    model, histories = finetune(
        backbone, train, validation, data, config, verbose, save_frozen_stage,
        checkpoint_dir=folder.file(runs.CHECKPOINTS_DIR),
        log_dir=folder.file(runs.LOGS_DIR) if config.tensorboard else None, step_logs=step_logs,
        task=task.name,
    )
    report = task.evaluate(model, validation, data, config)
    self_training = None
    if config.finetune.self_training:
        print_fn(f"fine-tuned: validation {task.format_report(report)}")
        folder.save_model(model, runs.CLASSIFIER_FINETUNED_FILE)
        model, student_histories, self_training = self_train(
            model, pretrained_weights, vectorizer, data, train, validation, report["accuracy"],
            config, folder.file(runs.CHECKPOINTS_DIR), verbose, print_fn, step_logs, task.name,
        )
        histories.update(student_histories)
        kept = self_training["kept_round"]
        print_fn(f"self-training keeps round {kept}'s model" + (
            " (fine-tuning's own: no student beat it on validation)" if kept == 0 else ""))
        if kept:
            report = task.evaluate(model, validation, data, config)
    folder.save_model(model, runs.CLASSIFIER_FILE)
    folder.save_model(task.build_end_to_end(vectorizer, model, data, config, report),
                      runs.END_TO_END_FILE)
    return histories, report, self_training


def finish(folder: RunFolder, start, histories, step_logs, print_fn, task=None, **fields) -> dict:
    """Writes history.csv, steps.csv, curves.png, the model card and metrics.json, removes the
    checkpoints, prints the figures; returns metrics.json's values.

    `fields` are the `RunMetrics` the command measured besides its stages.
    """
    if step_logs:
        folder.write_steps(step_logs)
    if histories:
        folder.write_history(histories)
        plot_curves(folder.file(runs.HISTORY_FILE), folder.file(runs.CURVES_FILE))
    frozen = histories.get("frozen", {}).get("val_accuracy")
    if fields.get("validation") is not None:
        fields["frozen_validation_accuracy"] = float(frozen[-1]) if frozen else None
    metrics = RunMetrics(
        stages={stage: StageSummary.of_history(history) for stage, history in histories.items()},
        total_seconds=time.perf_counter() - start, **fields,
    )
    folder.write_text(runs.MODEL_CARD_FILE, model_card(folder, metrics))
    folder.write_metrics(metrics)  # last: it marks the run finished
    folder.remove_checkpoints()
    for stage, summary in metrics.stages.items():
        figures = ", ".join(
            f"{key} {value:,.0f}" if key == "trainable_parameters" else f"{key} {value:.4f}"
            for key, value in summary.figures.items()
        )
        print_fn(f"{stage}: {figures}; {summary.seconds:.0f} s")
    if frozen:
        print_fn(f"frozen backbone: validation accuracy {frozen[-1]:.4f} from the head alone")
    if metrics.validation is not None:
        print_fn(f"validation ({metrics.rows['validation']} rows): "
                 f"{get_task(task).format_report(metrics.validation)}")
    print_fn(f"saved to {folder.path}")
    return metrics.to_dict()


def unknown_share(token_ids) -> float:
    """The share of `[UNK]` among the non-padding tokens of `token_ids` (an array, or a dict of them).

    Example:
    >>> unknown_share(np.array([[5, 1, 6, 0]]))
    0.3333333333333333
    """
    if isinstance(token_ids, dict) and "token_ids" in token_ids:
        token_ids = token_ids["token_ids"]  # a tagger's inputs: the shape ids are not tokens
    arrays = token_ids.values() if isinstance(token_ids, dict) else [token_ids]
    tokens = np.concatenate([np.asarray(ids).ravel() for ids in arrays])
    tokens = tokens[tokens != PADDING_ID]
    return float(np.mean(tokens == UNKNOWN_ID)) if len(tokens) else 0.0


def _warn_of_leaks(data: DataSummary, config: RunConfig, origin: dict,
                   pretrained_data: DataSummary | None, print_fn) -> None:
    """A warning when `data` is the data set the pretrained run read, split another way.

    Pretraining held out that run's validation rows only: another split's
    validation rows may have been pretrained on (their text, not their labels).
    """
    if pretrained_data is None or pretrained_data.name != data.name:
        return
    group_column = pretrained_data.group_column
    if origin["seed"] != config.seed or group_column != data.group_column:
        print_fn(
            f"warning: {origin['path']} pretrained on {data.name} split with --seed "
            f"{origin['seed']} and --group-column {group_column}; this split's "
            "validation rows may be among its pretraining text: pass the same for a held-out figure"
        )
