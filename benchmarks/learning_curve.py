"""Accuracy against the number of labels, on unseen films, from one pretrained run.

For each count of labels N and each seed, N labelled reviews are drawn per class from the
training films (`--labels N`; the other training reviews join the unlabeled text), and four
models learn from them:
- TF-IDF (uni+bigrams) + logistic regression, its regularization chosen on dev;
- minibert from random weights of the pretrained run's shape and vocabulary (`--random-init`);
- minibert from the pretrained run (`finetune --from RUN`);
- the same, then `--self-training ROUNDS` on the unlabeled text (its fine-tuned model is the row
  above: `classifier_finetuned.keras`).

The pretrained run's validation films (held out of its pretraining) are cut, by whole films,
into dev (`--dev-size` reviews: what fine-tuning validates on, keeps its best weights by, and
stops early by; what picks TF-IDF's C and self-training's round) and test (the rest: the table's
figures, read by nothing else). So every figure predicts films no model saw, and no choice was
made on the rows it is measured on.

    python benchmarks/learning_curve.py --pretrained-run saved_models/imdb-pretrained \
        --dataset ../shared/data/imdb --output saved_models/curve \
        --labels 100 300 1000 3000 10000 --seeds 1 2 --two-seed-labels 300 1000

`finetune` warns that the data set was split with another --seed than the pretrained run's:
this script splits with the pretrained run's own seed and group column, whatever seed it
fine-tunes with, so no validation review was pretrained on.

Each finished (method, N, seed) is appended to OUTPUT/results.jsonl; a rerun skips those, so a
killed run goes on where it stopped. OUTPUT/curve.md (the table) and OUTPUT/curve.png (accuracy
against labels, log x axis) are written after each one.
"""

import argparse
import dataclasses
import json
import os
import time

import numpy as np
import pandas as pd

import minibert  # noqa: F401  (registers the saved models' classes)
from minibert import runs
from minibert.config import FinetuneConfig
from minibert.data.sources import grouped_positions, load_dataset, with_labels
from minibert.data.vectorizers import run_vectorizer
from minibert.models.batched_predict import length_batched_predict
from minibert.tasks.classification.end_to_end_classifier import (
    class_probabilities,
    classifier_token_ids,
)
from minibert.training import finetune_run

METHODS = ("tfidf", "random", "pretrained", "self-training")
NAMES = {"tfidf": "TF-IDF + logistic regression", "random": "minibert, random weights",
         "pretrained": "minibert, pretrained",
         "self-training": "minibert, pretrained + self-training"}
TFIDF_C = (0.5, 2.0, 8.0)


def dev_and_test(data, dataset, dev_size, seed):
    """`data`'s validation rows cut by whole films into dev and test frames, and dev's films."""
    table = pd.read_parquet(os.path.join(dataset, "train.parquet"), columns=["text", "movie"])
    movie_of = dict(zip(table["text"], table["movie"]))
    movies = pd.factorize(data.validation["text"].map(movie_of))[0]
    in_dev = np.zeros(len(movies), dtype=bool)
    in_dev[grouped_positions(movies, dev_size, seed)] = True
    validation = data.validation
    return (validation[in_dev].reset_index(drop=True),
            validation[~in_dev].reset_index(drop=True), len(np.unique(movies[in_dev])))


def tfidf(few, test):
    """TF-IDF + LR with the C of best dev accuracy: `(dev accuracy, test accuracy, extra)`."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    best = None
    for c in TFIDF_C:
        model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                              LogisticRegression(C=c, max_iter=1000))
        model.fit(few.train["text"], few.train["label"])
        dev = float((model.predict(few.validation["text"]) == few.validation["label"]).mean())
        if best is None or dev > best[0]:
            best = (dev, model, c)
    dev, model, c = best
    return dev, float((model.predict(test["text"]) == test["label"]).mean()), {"C": c}


def accuracy_of(folder, model_file, test, vectorizer):
    classifier = folder.load_model(model_file)
    probabilities = class_probabilities(
        length_batched_predict(classifier, classifier_token_ids(vectorizer, test["text"]))
    )
    return float((probabilities.argmax(axis=1) == test["label"].to_numpy()).mean())


def minibert_runs(method, few, test, args, labels, seed):
    """Fine-tunes (and self-trains) into OUTPUT/runs; the result rows of what it trained."""
    pretrained = runs.RunFolder(args.pretrained_run).read_config()
    finetune_config = dataclasses.replace(
        pretrained.finetune, self_training=args.rounds if method == "self-training" else 0,
        pseudo_label_pool=args.pseudo_label_pool, pseudo_labels=args.pseudo_labels,
    )
    config = dataclasses.replace(pretrained, seed=seed, finetune=finetune_config)
    output = os.path.join(args.output, "runs", f"{method}-{labels}-{seed}")
    start = time.perf_counter()
    metrics = finetune_run(few, args.pretrained_run, output, config=config,
                           random_init=method == "random", overwrite=True, verbose=2)
    minutes = (time.perf_counter() - start) / 60
    folder = runs.RunFolder(output)
    vectorizer = run_vectorizer(pretrained.tokenizer, pretrained.model.sequence_length,
                                folder.read_vocabulary())
    row = {"method": method, "labels": labels, "seed": seed, "minutes": minutes,
           "dev_accuracy": metrics["validation"]["accuracy"],
           "test_accuracy": accuracy_of(folder, runs.CLASSIFIER_FILE, test, vectorizer)}
    if method != "self-training":
        return [row]
    record = metrics["self_training"]
    row["extra"] = {"kept_round": record["kept_round"], "rounds": record["rounds"]}
    # The fine-tuned model the pseudo-labels came from is the pretrained row.
    teacher_minutes = sum(metrics["stages"][stage]["seconds"]
                          for stage in ("frozen", "unfrozen")) / 60
    teacher = {"method": "pretrained", "labels": labels, "seed": seed, "minutes": teacher_minutes,
               "dev_accuracy": record["finetuned_validation_accuracy"],
               "test_accuracy": accuracy_of(folder, runs.CLASSIFIER_FINETUNED_FILE, test,
                                            vectorizer)}
    return [teacher, row]


def write_table(results, output):
    """OUTPUT/curve.md and OUTPUT/curve.png from the results so far."""
    frame = pd.DataFrame(results)
    lines = ["| labels | " + " | ".join(NAMES[m] for m in METHODS) + " |",
             "|---|" + "---|" * len(METHODS)]
    for labels in sorted(frame["labels"].unique()):
        cells = []
        for method in METHODS:
            rows = frame[(frame["labels"] == labels) & (frame["method"] == method)]
            values = sorted(zip(rows["seed"], rows["test_accuracy"]))
            cells.append(" / ".join(f"{accuracy:.4f}" for _, accuracy in values) or "-")
        lines.append(f"| {labels:,} | " + " | ".join(cells) + " |")
    minutes = frame.groupby("method")["minutes"].mean()
    lines += ["", "Test accuracy (seeds in order, separated by /); mean minutes per run: "
              + ", ".join(f"{method} {minutes[method]:.1f}" for method in METHODS
                          if method in minutes)]
    with open(os.path.join(output, "curve.md"), "w", encoding="utf-8") as file:
        file.write("\n".join(lines) + "\n")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
    for method in METHODS:
        rows = frame[frame["method"] == method]
        if rows.empty:
            continue
        grouped = rows.groupby("labels")["test_accuracy"]
        mean, low, high = grouped.mean(), grouped.min(), grouped.max()
        axes.errorbar(mean.index, mean.values, yerr=[mean - low, high - mean], marker="o",
                      capsize=3, label=NAMES[method])
    axes.set_xscale("log")
    axes.set_xlabel("labelled reviews")
    axes.set_ylabel("test accuracy (unseen films)")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.savefig(os.path.join(output, "curve.png"), dpi=120)
    plt.close(figure)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pretrained-run", required=True)
    parser.add_argument("--dataset", required=True, help="the IMDb folder (with its movie column)")
    parser.add_argument("--output", required=True)
    parser.add_argument("--labels", type=int, nargs="+", default=[100, 300, 1000, 3000, 10000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--two-seed-labels", type=int, nargs="*", default=[300, 1000],
                        help="the counts every seed runs at; the others run the first seed only")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--dev-size", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--pseudo-label-pool", type=int, default=FinetuneConfig.pseudo_label_pool)
    parser.add_argument("--pseudo-labels", type=int, default=FinetuneConfig.pseudo_labels)
    args = parser.parse_args()
    os.makedirs(args.output, exist_ok=True)
    results_path = os.path.join(args.output, "results.jsonl")
    results = []
    if os.path.exists(results_path):
        with open(results_path, encoding="utf-8") as file:
            results = [json.loads(line) for line in file if line.strip()]
    done = {(row["method"], row["labels"], row["seed"]) for row in results}

    # The pretrained run's own split: its validation films were never pretrained on.
    pretrained = runs.RunFolder(args.pretrained_run)
    split = pretrained.read_data()
    data = load_dataset(args.dataset, group_column=split.group_column,
                        validation_size=split.validation, seed=pretrained.read_config().seed)
    dev, test, dev_films = dev_and_test(data, args.dataset, args.dev_size, seed=0)
    print(f"dev {len(dev)} reviews of {dev_films} films, test {len(test)} reviews of the "
          f"other {data.validation_groups - dev_films}", flush=True)
    # The counts every seed runs at first, then the others at the first seed.
    plan = ([(labels, seed) for labels in args.labels if labels in args.two_seed_labels
             for seed in args.seeds]
            + [(labels, args.seeds[0]) for labels in args.labels
               if labels not in args.two_seed_labels])
    # The self-training run also gives the pretrained row: run it first.
    order = sorted(args.methods, key=lambda method: method != "self-training")
    for labels, seed in plan:
        few = with_labels(dataclasses.replace(data, validation=dev, validation_groups=dev_films),
                          labels, seed)
        for method in order:
            if (method, labels, seed) in done:
                continue
            print(f"--- {method}, {labels} labels, seed {seed}", flush=True)
            if method == "tfidf":
                start = time.perf_counter()
                dev_accuracy, test_accuracy, extra = tfidf(few, test)
                new = [{"method": method, "labels": labels, "seed": seed,
                        "minutes": (time.perf_counter() - start) / 60,
                        "dev_accuracy": dev_accuracy, "test_accuracy": test_accuracy,
                        "extra": extra}]
            else:
                new = minibert_runs(method, few, test, args, labels, seed)
            for row in new:
                if (row["method"], labels, seed) in done:
                    continue
                print(json.dumps(row), flush=True)
                results.append(row)
                done.add((row["method"], labels, seed))
                with open(results_path, "a", encoding="utf-8") as file:
                    file.write(json.dumps(row) + "\n")
            write_table(results, args.output)


if __name__ == "__main__":
    main()
