"""One pretrained run, fine-tuned on two tasks, against random weights and TF-IDF.

First pretrain once (the long part), holding out the film-disjoint validation split:

    python -m minibert pretrain --dataset ../shared/data/imdb --group-column movie \
        --minutes 30 --output saved_models/imdb-pretrained

then this script fine-tunes `python -m minibert finetune --from` that run, and the same from
random weights of its shape (`--random-init`), on:
- sentiment: 2,000 of IMDb's training reviews (`--max-train-rows`);
- stars: the star rating of each review, from the `file` column's `<id>_<stars>.txt`, in four
  buckets (1-2, 3-4, 7-8, 9-10), on 5,000 training reviews: a task of other classes.
Both are scored on the film-disjoint validation split the pretrained run held out (the same
seed and `movie` column), which the script checks, beside TF-IDF + logistic regression
trained on the same rows:

    python benchmarks/transfer.py --dataset ../shared/data/imdb \
        --pretrained saved_models/imdb-pretrained --output saved_models/transfer
"""

import argparse
import json
import os
import subprocess
import sys

import pandas as pd

from minibert import runs
from minibert.data.sources import load_dataset
from minibert.runs import files
from minibert.tasks.classification.baseline import tfidf_baseline

STAR_BUCKETS = {1: "1-2", 2: "1-2", 3: "3-4", 4: "3-4", 7: "7-8", 8: "7-8", 9: "9-10", 10: "9-10"}


def write_stars_table(dataset, path) -> str:
    """IMDb's training reviews with their star bucket as the label, in train.parquet's row order."""
    train = pd.read_parquet(os.path.join(dataset, "train.parquet"))
    stars = train["file"].str.extract(r"_(\d+)\.txt$")[0].astype(int)
    pd.DataFrame({"text": train["text"], "stars": stars.map(STAR_BUCKETS),
                  "movie": train["movie"]}).to_parquet(path)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, help="the IMDb folder (train.parquet with file, movie)")
    parser.add_argument("--pretrained", required=True, help="the pretrained run folder")
    parser.add_argument("--output", required=True, help="a folder for the fine-tuned runs")
    parser.add_argument("--sentiment-rows", type=int, default=2000)
    parser.add_argument("--stars-rows", type=int, default=5000)
    args = parser.parse_args()
    os.makedirs(args.output, exist_ok=True)
    stars_path = write_stars_table(args.dataset, os.path.join(args.output, "stars.parquet"))
    seed = runs.RunFolder(args.pretrained).read_config().seed
    tasks = {
        "sentiment": (args.dataset, [], args.sentiment_rows),
        "stars": (stars_path, ["--label-column", "stars"], args.stars_rows),
    }
    # Pretraining read the training and unlabelled text of this split: the
    # validation reviews of both tasks must be outside it.
    pretrained_split = load_dataset(args.dataset, group_column="movie", seed=seed)
    pretraining_text = set(pretrained_split.pretraining_text())
    rows = []
    for task, (dataset, flags, train_rows) in tasks.items():
        data = load_dataset(dataset, label_column="stars" if task == "stars" else "label",
                            group_column="movie", seed=seed, max_train_rows=train_rows)
        seen = int(data.validation["text"].isin(pretraining_text).sum())
        baseline = tfidf_baseline(data)
        rows.append({"task": task, "backbone": "TF-IDF + LR", "classes": len(data.label_names),
                     "train": len(data.train), "validation": len(data.validation),
                     "validation_rows_pretrained_on": seen,
                     "frozen": None, "accuracy": baseline["validation_accuracy"],
                     "seconds": baseline["seconds"]})
        for init in ("pretrained", "random"):
            output = os.path.join(args.output, f"{task}-{init}")
            command = [sys.executable, "-m", "minibert", "finetune", "--from", args.pretrained,
                       "--dataset", dataset, "--group-column", "movie", "--seed", str(seed),
                       "--max-train-rows", str(train_rows), "--output", output, *flags]
            if init == "random":
                command.append("--random-init")
            print(" ".join(command), flush=True)
            subprocess.run(command, check=True)
            metrics = runs.RunFolder(output).read_metrics()
            rows.append({"task": task, "backbone": init, "classes": len(data.label_names),
                         "train": len(data.train), "validation": len(data.validation),
                         "validation_rows_pretrained_on": seen,
                         "frozen": metrics.frozen_validation_accuracy,
                         "accuracy": metrics.validation["accuracy"],
                         "seconds": metrics.total_seconds})
    print(pd.DataFrame(rows).to_string(index=False))
    files.write_json(os.path.join(args.output, "transfer.json"), rows)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
