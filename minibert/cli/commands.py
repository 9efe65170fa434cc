"""What each `python -m minibert` command does, given its parsed flags.

Imported by `minibert.cli.main` once the flags parse: everything a command
needs is imported here, TensorFlow included.
"""

import datetime
import os
import sys

import pandas as pd

from minibert import runs, training
from minibert.bench import bench_preset, run_bench
from minibert.cli.run_flags import config_from_args
from minibert.config import get_preset
from minibert.data.labels import align_labels
from minibert.export import export_saved_model
from minibert.inspection.embeddings import embedding_table
from minibert.inspection.fill_mask import fill_mask, format_fill_mask
from minibert.inspection.next_sentence_prediction import next_sentence_probability
from minibert.inspection.plots import plot_curves, plot_embeddings
from minibert.runs import files
from minibert.scoring import score_file
from minibert.tasks.classification.task import CLASSIFICATION
from minibert.tasks.table import TASKS, get_task
from minibert.tasks.task import FinetuningTask
from minibert.training.recipe import pretrained_run


def data_task(args, task: FinetuningTask | None = None) -> FinetuningTask:
    """The task whose data the flags name, with a data flag of another task refused.

    `task` when given (the run's, for `evaluate`), else `--task` when the command has one, else
    classification; `pretrain` without `--task` reads a source that a task recognises (a
    CoNLL-style `.conll`, `.iob` or `.bio` file: tagged words; SQuAD's JSON: questions) as
    that task's data and anything else as classification data.
    """
    has_task_flag = "task" in vars(args)
    if task is None:
        name = getattr(args, "task", None)
        dataset = getattr(args, "dataset", None)
        if name is None and has_task_flag and dataset is not None:
            name = next((task.name for task in TASKS.values() if task.reads_source(dataset)),
                        None)
        task = _task(name or CLASSIFICATION.name)
    task.check_flags(args, has_task_flag)
    return task


def load_data(args, seed=None, task: FinetuningTask | None = None):
    """The data set the flags name, read by its task; for a command on a run, split as the
    run split it.

    A run carves its validation split with its seed (`seed`: the config's, which
    a preset or a pretrained run gives when --seed is left out) and its
    --group-column: `evaluate` and `embed` must carve the same rows, not the
    default seed's (training rows, mostly). A --group-column given here wins
    over the run's.

    Returns the task's data set (`FinetuningTask.load_data`; `data_task` says which
    task, `task` names the run's): a `TextClassificationData`, `TaggedWordsData` or
    `QuestionAnswerData`.
    """
    task = data_task(args, task)
    seed = seed if seed is not None else getattr(args, "seed", None)
    group_column = args.group_column
    run = getattr(args, "run", None)
    if run is not None and os.path.isfile(os.path.join(run, runs.CONFIG_FILE)):
        values = runs.RunFolder(run).read_json(runs.CONFIG_FILE)
        seed = values.get("seed", seed)
        recorded = runs.DataSummary.from_dict(values.get("data"))
        if group_column is None and recorded is not None:
            group_column = recorded.group_column
    return task.load_data(args, 42 if seed is None else seed, group_column)


def _split_rows(data, split):
    """The rows of `data` that `--split` names."""
    if split == "all":
        return pd.concat([data.train, data.validation], ignore_index=True)
    return {"validation": data.validation, "train": data.train}[split]


def _default_output(*name_parts) -> str:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return os.path.join("saved_models", "-".join([*name_parts, stamp]))


def command_train(args):
    config = config_from_args(args)
    task = data_task(args)  # a task the package lacks fails before the data set is read
    data = load_data(args, seed=config.seed, task=task)
    training.run(data, config, args.output or _default_output(data.name, args.preset),
                 overwrite=args.overwrite, task=task)


def command_pretrain(args):
    config = config_from_args(args)
    if args.dataset is None and config.pretrain.corpus is None:
        args.dataset = "imdb"  # train's default; a corpus alone needs no data set
    data = load_data(args, seed=config.seed) if args.dataset is not None else None
    # A tagged corpus pretrains on its own sentences (words joined), its validation split
    # held out and scored as a table's is (`held_out_texts`).
    name = data.name if data is not None else os.path.splitext(
        os.path.basename(os.path.normpath(config.pretrain.corpus)))[0]
    output = args.output or _default_output(name, "pretrain", args.preset)
    training.pretrain_run(data, config, output, overwrite=args.overwrite)


def command_finetune(args):
    # RUN and the task first: either missing fails before the data set is read.
    config = config_from_args(args, base=pretrained_run(args.from_run).read_config())
    task = data_task(args)
    data = load_data(args, seed=config.seed, task=task)
    output = args.output or _default_output(data.name, "finetune")
    training.finetune_run(data, args.from_run, output, config=config,
                          random_init=args.random_init, overwrite=args.overwrite, task=task)


def _task(name: str) -> FinetuningTask:
    """The task named `name` (the command line's one lookup in the table); a name the table
    lacks fails in one line."""
    return get_task(name)


def _run_task(folder: runs.RunFolder) -> FinetuningTask:
    """The task the run folder's config.json records (runs from before tasks: classification)."""
    return _task(folder.read_task())


def _end_to_end(folder: runs.RunFolder, task: FinetuningTask):
    """The run's end_to_end.keras, refused in one line unless it holds the task's model."""
    return folder.load_model(runs.END_TO_END_FILE, task.end_to_end_classes)


def command_predict(args):
    questions, contexts = args.questions or [], args.contexts or []
    if len(questions) != len(contexts):
        raise ValueError(f"{len(questions)} --question and {len(contexts)} --context; give a "
                         "--context with each --question")
    texts, text_pairs = (questions, contexts) if questions else (args.texts, args.text_pairs)
    if bool(texts) == (args.input is not None):
        raise ValueError("predict takes texts on the command line (a question-answering run: "
                         "--question and --context) or --input FILE, one of the two")
    folder = runs.RunFolder(args.run)
    task = _run_task(folder)
    pair_column = task.input_columns[1]
    if questions and pair_column is None:
        raise ValueError(f"--question is for question-answering runs, and {args.run} is a "
                         f"{task.name} run; pass its texts as arguments")
    model = _end_to_end(folder, task)
    if args.input is not None:
        if pair_column is not None and args.text_pair_column is None:
            # A table of the task's own column names, unless the flags name others.
            text_column = task.input_columns[0]
            args.text_column = text_column if args.text_column == "text" else args.text_column
            args.text_pair_column = pair_column
        _predict_file(model, args)
        return
    for line in task.predict(model, texts, text_pairs):
        print(line)


def _predict_file(model, args):
    if args.batch_size < 1:
        raise ValueError(f"--batch-size must be at least 1, got {args.batch_size}")
    summary = score_file(model, args.input, args.output, args.text_column, args.text_pair_column,
                         args.batch_size)
    missing = summary["missing_text_rows"]
    where = "stdout" if args.output == "-" else args.output
    # The summary goes to stderr: stdout may be the scored rows.
    print(f"{summary['rows']:,} rows scored into {where} in {summary['seconds']:.0f} s "
          f"({summary['rows_per_second']:,.0f} rows/s)", file=sys.stderr)
    if missing:
        shown = ", ".join(str(row) for row in missing[:20]) + (", ..." if len(missing) > 20 else "")
        print(f"{len(missing)} rows without text, left unscored: rows {shown}", file=sys.stderr)


def command_export(args):
    folder = runs.RunFolder(args.run)
    model = _end_to_end(folder, _run_task(folder))
    directory = export_saved_model(model, args.output)
    print(f"SavedModel written to {directory}: serve({model.served_inputs}) -> "
          f"{model.served_outputs}")


def command_evaluate(args):
    folder = runs.RunFolder(args.run)
    task = _run_task(folder)
    model = _end_to_end(folder, task)
    data = load_data(args, task=task)
    for line in task.evaluate_saved(model, _split_rows(data, args.split), data, args.split):
        print(line)


def _classification_run(run, command):
    """The run folder `run`, refused in one line unless it holds a classifier (config.json's task)."""
    folder = runs.RunFolder(run)
    task = _run_task(folder)
    if task is not CLASSIFICATION:
        raise ValueError(f"{command} reads classification runs, and {run} is a {task.name} run; "
                         f"its validation figures are in {folder.file(runs.METRICS_FILE)}")
    return folder


def _masked_lm_and_vectorizer(run):
    """A run's masked language model and a vectorizer of its vocabulary."""
    folder = runs.RunFolder(run)
    return folder.load_model(runs.MLM_FILE), folder.vectorizer()


def command_fill_mask(args):
    masked_lm, vectorizer = _masked_lm_and_vectorizer(args.run)
    for text, predictions in zip(args.texts, fill_mask(masked_lm, vectorizer, args.texts, args.top_k)):
        print(format_fill_mask(text, predictions))


def command_nsp(args):
    if len(args.texts) % 2:
        raise ValueError(f"nsp takes FIRST SECOND pairs; got {len(args.texts)} texts, an odd count")
    pairs = list(zip(args.texts[0::2], args.texts[1::2]))
    masked_lm, vectorizer = _masked_lm_and_vectorizer(args.run)
    for (first, second), probability in zip(
        pairs, next_sentence_probability(masked_lm, vectorizer, pairs)
    ):
        print(f"{probability:.4f}\t{first} ||| {second}")


def command_plot(args):
    output = args.output or os.path.join(args.run, runs.CURVES_FILE)
    history = os.path.join(args.run, runs.HISTORY_FILE)
    reason = None if os.path.isfile(history) else runs.RunFolder(args.run).unfinished_reason()
    if reason:
        raise FileNotFoundError(reason)
    print(f"curves written to {plot_curves(history, output)}")


def command_embed(args):
    model = _end_to_end(_classification_run(args.run, "embed"), CLASSIFICATION)
    data = load_data(args)
    rows = _split_rows(data, args.split)
    # Colour by the model's label names, matched as `evaluate` matches them.
    rows = rows.assign(label=align_labels(rows["label"].to_numpy(), data.label_names, model.label_names))
    table, axis_names = embedding_table(model, rows, args.method, args.max_rows)
    picture = args.output or os.path.join(args.run, runs.EMBEDDINGS_PLOT_FILE)
    table_path = os.path.splitext(picture)[0] + ".csv"
    files.write_text(table_path, table.to_csv(index=False))
    print(f"{len(table)} {args.split} rows of {data.name}, {args.method}: coordinates in {table_path}")
    if args.plot:
        title = (
            f"{os.path.basename(os.path.normpath(args.run))}: sentence vectors of {len(table)} "
            f"{data.name} {args.split} rows, {args.method}"
        )
        print(f"picture in {plot_embeddings(table, picture, title, axis_names)}")


def command_bench(args):
    data, config = load_data(args), get_preset(args.preset)
    results = {}
    if args.ladder:
        results = run_bench(data, config.model, batch_size=args.batch_size, steps=args.steps)
    results["preset"] = bench_preset(data, config, args.preset, steps=args.steps,
                                     peak=args.peak_tflops)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    files.write_json(args.output, results)
    print(f"results written to {args.output}")


def command_baseline(args):
    task = data_task(args)
    for line in task.baseline(load_data(args, task=task)):
        print(line)


COMMANDS = {
    "baseline": command_baseline,
    "bench": command_bench,
    "train": command_train,
    "pretrain": command_pretrain,
    "finetune": command_finetune,
    "predict": command_predict,
    "export": command_export,
    "evaluate": command_evaluate,
    "fill-mask": command_fill_mask,
    "nsp": command_nsp,
    "plot": command_plot,
    "embed": command_embed,
}
