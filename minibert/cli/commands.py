"""What each `python -m minibert` command does, given its parsed flags."""

import datetime
import os

from minibert.cli.run_flags import config_from_args, destination
from minibert.config import get_preset


# Classification's data flags, with the value each has when not given.
CLASSIFICATION_FLAGS = {
    "--text-column": "text", "--label-column": "label", "--text-pair-column": None,
    "--group-column": None, "--label-names": None, "--max-validation-rows": None,
    "--data-dir": None,
}


def data_task(args, task=None) -> str:
    """The task whose data the flags name, with a data flag of the other task refused.

    `task` when given (the run's, for `evaluate`), else `--task` when the command has one, else
    classification; `pretrain` without `--task` reads a CoNLL-style source (`.conll`, `.iob`,
    `.bio`) as tagged words and anything else as classification data.
    """
    from minibert.cli.arguments import TAGGED_WORDS_FLAGS
    from minibert.data.question_answering import is_squad_file
    from minibert.data.tagged_words import is_conll_source

    dataset = getattr(args, "dataset", None)
    conll = dataset is not None and is_conll_source(dataset)
    takes_task = hasattr(args, "task")
    task = task or getattr(args, "task", "classification")
    if task is None:
        task = ("token-classification" if conll else
                "question-answering" if dataset is not None and is_squad_file(dataset) else
                "classification")
    if task == "question-answering":
        given = [flag for flag in (*TAGGED_WORDS_FLAGS, *CLASSIFICATION_FLAGS)
                 if getattr(args, destination(flag), CLASSIFICATION_FLAGS.get(flag))
                 != CLASSIFICATION_FLAGS.get(flag)]
        if given:
            raise ValueError(f"{given[0]} is not read by --task question-answering, whose data "
                             "has question, context and answers (SQuAD's layout); drop it")
        return task
    if task == "classification":
        given = [flag for flag in TAGGED_WORDS_FLAGS
                 if getattr(args, destination(flag), None) is not None]
        if given:
            raise ValueError(f"{given[0]} reads sentences of tagged words; pass --task "
                             "token-classification, or drop it for a table of texts and labels")
        if conll:
            way_out = ("pass --task token-classification to tag its words" if takes_task else
                       f"{getattr(args, 'command', 'this command')} reads texts and labels")
            raise ValueError(f"{dataset} holds tagged words (CoNLL-style); {way_out}")
        return task
    if conll and (args.words_column is not None or args.tags_column is not None):
        # The reader refuses index flags on a table; names on a text file it could only ignore.
        raise ValueError(f"--words-column/--tags-column name a table's columns, not those of "
                         f"the CoNLL-style {dataset}; pass --word-column/--tag-column (indices)")
    given = [flag for flag, default in CLASSIFICATION_FLAGS.items()
             if getattr(args, destination(flag), default) != default]
    if given:
        raise ValueError(
            f"{given[0]} is for classification data, not --task {task}; sentences of tagged "
            "words name their columns with --word-column/--tag-column (CoNLL-style files) or "
            "--words-column/--tags-column (tables, hf:NAME)"
        )
    return task


def load_data(args, seed=None, task=None):
    """The data set the flags name, read for its task; for a command on a run, split as the
    run split it.

    A run carves its validation split with its seed (`seed`: the config's, which
    a preset or a pretrained run gives when --seed is left out) and its
    --group-column: `evaluate` and `embed` must carve the same rows, not the
    default seed's (training rows, mostly). A --group-column given here wins
    over the run's.

    Returns a `TextClassificationData`, or for token classification (`data_task`; `task`
    names the run's) a `TaggedWordsData`.
    """
    task = data_task(args, task)
    seed = seed if seed is not None else getattr(args, "seed", None)
    group_column = args.group_column
    run = getattr(args, "run", None)
    if run is not None:
        from minibert import runs  # imports TensorFlow: only for a command on a run

        if os.path.isfile(os.path.join(run, runs.CONFIG_FILE)):
            values = runs.RunFolder(run).read_json(runs.CONFIG_FILE)
            seed = values.get("seed", seed)
            recorded = runs.DataSummary.from_dict(values.get("data"))
            if group_column is None and recorded is not None:
                group_column = recorded.group_column
    seed = 42 if seed is None else seed
    for flag in ("labels", "unlabeled"):
        if task != "classification" and getattr(args, flag, None) is not None:
            raise ValueError(f"--{flag} is for --task classification; drop it")
    if task == "question-answering":
        from minibert.data.question_answering import load_questions

        return load_questions(args.dataset, validation_size=args.validation_size, seed=seed,
                              max_train_rows=args.max_train_rows, cache_dir=args.cache_dir)
    if task == "token-classification":
        from minibert.data.tagged_words import load_tagged_words

        # The flags given; load_tagged_words holds the defaults of those left out.
        given = {"word_column": args.word_column, "tag_column": args.tag_column,
                 "words_column": args.words_column, "tags_column": args.tags_column,
                 "scheme": args.tag_scheme}
        return load_tagged_words(
            args.dataset, **{name: value for name, value in given.items() if value is not None},
            validation_size=args.validation_size, seed=seed, max_train_rows=args.max_train_rows,
            cache_dir=args.cache_dir,
        )
    from minibert.data.sources import load_dataset

    return load_dataset(
        args.dataset,
        data_dir=args.data_dir,
        text_column=args.text_column,
        label_column=args.label_column,
        text_pair_column=args.text_pair_column,
        group_column=group_column,
        label_names=args.label_names,
        validation_size=args.validation_size,
        max_train_rows=args.max_train_rows,
        max_validation_rows=args.max_validation_rows,
        labels=getattr(args, "labels", None),
        unlabeled_file=getattr(args, "unlabeled", None),
        seed=seed,
        cache_dir=args.cache_dir,
    )


def _split_rows(data, split):
    """The rows of `data` that `--split` names."""
    import pandas as pd

    if split == "all":
        return pd.concat([data.train, data.validation], ignore_index=True)
    return {"validation": data.validation, "train": data.train}[split]


def _default_output(*name_parts) -> str:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return os.path.join("saved_models", "-".join([*name_parts, stamp]))


def command_train(args):
    from minibert.tasks import get_task
    from minibert.training import run

    config = config_from_args(args)
    get_task(args.task)  # a task the package lacks fails before the data set is read
    data = load_data(args, seed=config.seed)
    run(data, config, args.output or _default_output(data.name, args.preset),
        overwrite=args.overwrite, task=args.task)


def command_pretrain(args):
    from minibert.training import pretrain_run

    config = config_from_args(args)
    if args.dataset is None and config.pretrain.corpus is None:
        args.dataset = "imdb"  # train's default; a corpus alone needs no data set
    data = load_data(args, seed=config.seed) if args.dataset is not None else None
    # A tagged corpus pretrains on its own sentences (words joined), its validation split
    # held out and scored as a table's is (`training.recipe.held_out_texts`).
    name = data.name if data is not None else os.path.splitext(
        os.path.basename(os.path.normpath(config.pretrain.corpus)))[0]
    output = args.output or _default_output(name, "pretrain", args.preset)
    pretrain_run(data, config, output, overwrite=args.overwrite)


def command_finetune(args):
    from minibert.tasks import get_task
    from minibert.training import finetune_run
    from minibert.training.recipe import pretrained_run

    # RUN and the task first: either missing fails before the data set is read.
    config = config_from_args(args, base=pretrained_run(args.from_run).read_config())
    get_task(args.task)
    data = load_data(args, seed=config.seed)
    output = args.output or _default_output(data.name, "finetune")
    finetune_run(data, args.from_run, output, config=config, random_init=args.random_init,
                 overwrite=args.overwrite, task=args.task)


def command_predict(args):
    from minibert import runs
    from minibert.tasks import get_task

    questions, contexts = args.questions or [], args.contexts or []
    if len(questions) != len(contexts):
        raise ValueError(f"{len(questions)} --question and {len(contexts)} --context; give a "
                         "--context with each --question")
    texts, text_pairs = (questions, contexts) if questions else (args.texts, args.text_pairs)
    if bool(texts) == (args.input is not None):
        raise ValueError("predict takes texts on the command line (a question-answering run: "
                         "--question and --context) or --input FILE, one of the two")
    folder = runs.RunFolder(args.run)
    task = get_task(folder.read_task())
    if questions and task.name != "question-answering":
        raise ValueError(f"--question is for question-answering runs, and {args.run} is a "
                         f"{task.name} run; pass its texts as arguments")
    model = folder.load_model(runs.END_TO_END_FILE, task.model_classes[1])
    if args.input is not None:
        if task.name == "question-answering" and args.text_pair_column is None:
            # A question table's own column names, unless the flags name others.
            args.text_column = "question" if args.text_column == "text" else args.text_column
            args.text_pair_column = "context"
        _predict_file(model, args)
        return
    for line in task.predict(model, texts, text_pairs):
        print(line)


def _predict_file(model, args):
    import sys

    from minibert.scoring import score_file

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
    from minibert import runs
    from minibert.export import export_saved_model, served_inputs, served_outputs
    from minibert.tasks import get_task

    folder = runs.RunFolder(args.run)
    model = folder.load_model(runs.END_TO_END_FILE, get_task(folder.read_task()).model_classes[1])
    directory = export_saved_model(model, args.output)
    print(f"SavedModel written to {directory}: serve({served_inputs(model)}) -> "
          f"{served_outputs(model)}")


def command_evaluate(args):
    from minibert import runs
    from minibert.tasks import get_task

    folder = runs.RunFolder(args.run)
    task = get_task(folder.read_task())
    model = folder.load_model(runs.END_TO_END_FILE, task.model_classes[1])
    data = load_data(args, task=task.name)
    for line in task.evaluate_saved(model, _split_rows(data, args.split), data, args.split):
        print(line)


def _classification_run(run, command):
    """The run folder `run`, refused in one line unless it holds a classifier (config.json's task)."""
    from minibert import runs

    folder = runs.RunFolder(run)
    task = folder.read_task()
    if task != "classification":
        raise ValueError(f"{command} reads classification runs, and {run} is a {task} run; its "
                         f"validation figures are in {folder.file(runs.METRICS_FILE)}")
    return folder


def _masked_lm_and_vectorizer(run):
    """A run's masked language model and a vectorizer of its vocabulary."""
    from minibert import runs

    folder = runs.RunFolder(run)
    return folder.load_model(runs.MLM_FILE), folder.vectorizer()


def command_fill_mask(args):
    from minibert.inspection.fill_mask import fill_mask, format_fill_mask

    masked_lm, vectorizer = _masked_lm_and_vectorizer(args.run)
    for text, predictions in zip(args.texts, fill_mask(masked_lm, vectorizer, args.texts, args.top_k)):
        print(format_fill_mask(text, predictions))


def command_nsp(args):
    from minibert.inspection.next_sentence_prediction import next_sentence_probability

    if len(args.texts) % 2:
        raise ValueError(f"nsp takes FIRST SECOND pairs; got {len(args.texts)} texts, an odd count")
    pairs = list(zip(args.texts[0::2], args.texts[1::2]))
    masked_lm, vectorizer = _masked_lm_and_vectorizer(args.run)
    for (first, second), probability in zip(
        pairs, next_sentence_probability(masked_lm, vectorizer, pairs)
    ):
        print(f"{probability:.4f}\t{first} ||| {second}")


def command_plot(args):
    from minibert import runs
    from minibert.inspection.plots import plot_curves

    output = args.output or os.path.join(args.run, runs.CURVES_FILE)
    history = os.path.join(args.run, runs.HISTORY_FILE)
    reason = None if os.path.isfile(history) else runs.RunFolder(args.run).unfinished_reason()
    if reason:
        raise FileNotFoundError(reason)
    print(f"curves written to {plot_curves(history, output)}")


def command_embed(args):
    from minibert import runs
    from minibert.data.labels import align_labels
    from minibert.inspection.embeddings import embedding_table
    from minibert.inspection.plots import plot_embeddings
    from minibert.runs import files

    model = _classification_run(args.run, "embed").load_model(runs.END_TO_END_FILE)
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
    from minibert.bench import bench_preset, run_bench
    from minibert.runs import files

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
    from minibert.inspection.baseline import tfidf_baseline

    data = load_data(args)
    if args.task == "token-classification":
        _tagging_baseline(data)
        return
    if args.task == "question-answering":
        _answering_baseline(data)
        return
    if data.has_pairs:
        raise ValueError("the TF-IDF baseline reads one text per row; drop --text-pair-column")
    try:
        result = tfidf_baseline(data)
    except ImportError as error:
        raise ValueError(f"the baseline needs scikit-learn ({error}); pip install scikit-learn") from error
    split = (f"{data.validation_groups} whole {data.group_column} groups" if data.group_column
             else "the test split" if data.validation_is_test else "a stratified random split")
    print(
        f"TF-IDF (uni+bigrams) + logistic regression on {data.name}: validation accuracy "
        f"{result['validation_accuracy']:.4f} on {len(data.validation)} rows ({split}), "
        f"trained on {len(data.train)} in {result['seconds']:.0f} s"
    )


def _tagging_baseline(data):
    """Each word's most frequent training tag, scored by entity on the validation split."""
    import time

    from minibert.inspection.baseline import most_frequent_tag_baseline
    from minibert.inspection.tagging_metrics import (
        format_per_type,
        format_tagging_report,
        tagging_report,
    )

    start = time.perf_counter()
    predicted = most_frequent_tag_baseline(
        data.train["words"].tolist(), data.train["tags"].tolist(), data.validation["words"].tolist()
    )
    report = tagging_report(data.validation["tags"].tolist(), predicted, scheme=data.scheme)
    split = (f"the {data.validation_split} split" if data.validation_split
             else "a seeded random split of whole sentences")
    print(
        f"most frequent tag per word on {data.name}: {format_tagging_report(report)} on "
        f"{len(data.validation)} sentences ({split}), trained on {len(data.train)} in "
        f"{time.perf_counter() - start:.0f} s"
    )
    for line in format_per_type(report):
        print(line)


def _answering_baseline(data):
    """The sliding-window word-overlap answer to each validation question, scored as SQuAD's."""
    import time

    from minibert.inspection.answer_metrics import answer_report, format_answer_report
    from minibert.inspection.baseline import sliding_window_answers

    start = time.perf_counter()
    frame = data.validation
    report = answer_report(sliding_window_answers(frame["question"], frame["context"]),
                           frame["answers"].tolist())
    split = (f"{data.validation_groups} whole {data.group_column} groups" if data.group_column
             else "its own validation split")
    print(f"sliding-window word overlap on {data.name}: {format_answer_report(report)} "
          f"({split}), in {time.perf_counter() - start:.0f} s")


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
