"""Taggers fine-tuned from several backbones, against the most-frequent-tag baseline, on a test split.

Each `--backbone LABEL=RUN` is fine-tuned with `python -m minibert finetune --from RUN --task
token-classification` (`LABEL=RUN:random`: from random weights of RUN's shape and vocabulary,
`--random-init`), on the data's train file, validated on its dev file: the test file is
read only for this table, never to choose a setting. Then each saved tagger
(`end_to_end.keras`) tags the test file's words and is scored by entity as conlleval scores,
beside each word's most frequent training tag (`minibert.tasks.token_classification.baseline`).

    python benchmarks/tagging_table.py --data ../shared/data/ner --output saved_models/wnut \
        --backbone random=saved_models/wnut-self:random \
        --backbone imdb=saved_models/imdb-pretrained \
        --backbone self=saved_models/wnut-self \
        -- --frozen-epochs 2 --unfrozen-epochs 12

Flags after `--` go to every `finetune`. Writes OUTPUT/table.json and OUTPUT/table.md
(entity F1, precision, recall and each type's F1 on the test split, and each fine-tuning's
minutes); table.json also keeps what each tagger scored and chose on dev.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import keras
import pandas as pd

import minibert  # noqa: F401  (registers the saved models' classes)
from minibert import runs
from minibert.tasks.token_classification.baseline import most_frequent_tag_baseline
from minibert.tasks.token_classification.metrics import tagging_report
from minibert.tasks.token_classification.tagged_words import (
    VALIDATION_STEMS,
    load_tagged_words,
)

# The stems a development split goes by (WNUT-17: dev.conll; CoNLL-2003: valid.txt): the
# loader's validation stems, less the test split the table keeps out.
DEV_STEMS = tuple(stem for stem in VALIDATION_STEMS if stem != "test")


def train_and_dev_folder(data, output) -> str:
    """A folder of links to `data`'s train and dev files, so that dev validates and test stays out."""
    folder = os.path.join(output, "train-dev")
    os.makedirs(folder, exist_ok=True)
    names = os.listdir(data)
    for split, stems in (("train", ("train",)), ("dev", DEV_STEMS)):
        found = [name for name in names if name.split(".")[0] in stems]
        if not found:
            raise ValueError(f"{data} has no {split}.* file; the table needs train, dev and test")
        link = os.path.join(folder, found[0])
        if not os.path.exists(link):
            os.symlink(os.path.abspath(os.path.join(data, found[0])), link)
    return folder


def finetune(label, backbone, train_dev, output, extra) -> float:
    """Fine-tunes one tagger into OUTPUT/LABEL (resuming one left unfinished); returns its minutes."""
    run, _, random = backbone.partition(":")
    folder = os.path.join(output, label)
    if os.path.exists(os.path.join(folder, runs.METRICS_FILE)):
        return json.load(open(os.path.join(output, "minutes.json"))).get(label, float("nan"))
    command = [sys.executable, "-m", "minibert", "finetune", "--from", run,
               "--task", "token-classification", "--dataset", train_dev, "--output", folder,
               *(["--random-init"] if random == "random" else []), *extra]
    print(" ".join(command), flush=True)
    start = time.perf_counter()
    subprocess.run(command, check=True)
    minutes = (time.perf_counter() - start) / 60
    record = os.path.join(output, "minutes.json")
    done = json.load(open(record)) if os.path.exists(record) else {}
    json.dump({**done, label: minutes}, open(record, "w"))
    return minutes


def dev_scores(folder) -> dict:
    """What fine-tuning chose on dev: its F1, the decoding and `O` weight, and the levers' F1."""
    validation = json.load(open(os.path.join(folder, runs.METRICS_FILE)))["validation"]
    history = pd.read_csv(os.path.join(folder, runs.HISTORY_FILE))
    return {"dev_f1": validation["f1"], "dev_argmax_f1": validation.get("argmax_f1"),
            "dev_decoding_f1": validation.get("decoding_f1"),
            "decoding": validation.get("decoding", "argmax"),
            "outside_weight": validation.get("outside_weight", 1.0),
            # The last validation's F1: what keeping the last epoch would have kept.
            "dev_last_f1": float(history["val_f1"].iloc[-1]) if "val_f1" in history else None}


def scores(report) -> dict:
    return {"f1": report["f1"], "precision": report["precision"], "recall": report["recall"],
            "token_accuracy": report["token_accuracy"],
            "per_type": {name: figures["f1"] for name, figures in report["per_type"].items()}}


def markdown(rows, types) -> str:
    lines = ["| model | entity F1 | precision | recall | " + " | ".join(types)
             + " | fine-tuning minutes |",
             "|---" * (5 + len(types)) + "|"]
    for label, row in rows.items():
        minutes = row.get("minutes")
        lines.append(
            f"| {label} | {row['f1']:.4f} | {row['precision']:.4f} | {row['recall']:.4f} | "
            + " | ".join(f"{row['per_type'].get(name, 0.0):.3f}" for name in types)
            + f" | {'-' if minutes is None else f'{minutes:.1f}'} |"
        )
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a folder with train, dev and test files")
    parser.add_argument("--output", required=True, help="a folder for the taggers and the table")
    parser.add_argument("--backbone", action="append", default=[], metavar="LABEL=RUN[:random]")
    parser.add_argument("finetune_flags", nargs="*", help="after --: flags for every finetune")
    args = parser.parse_args()
    os.makedirs(args.output, exist_ok=True)
    train_dev = train_and_dev_folder(args.data, args.output)
    test = load_tagged_words(args.data)  # validates on the test split
    if test.validation_split != "test":
        raise ValueError(f"{args.data} has no test split")
    words, tags = test.validation["words"].tolist(), test.validation["tags"].tolist()
    baseline = most_frequent_tag_baseline(test.train["words"].tolist(),
                                          test.train["tags"].tolist(), words)
    rows = {"most frequent tag per word": scores(tagging_report(tags, baseline, test.scheme))}
    for entry in args.backbone:
        label, _, backbone = entry.partition("=")
        minutes = finetune(label, backbone, train_dev, args.output, args.finetune_flags)
        model = keras.models.load_model(os.path.join(args.output, label, runs.END_TO_END_FILE))
        predicted = [found for found, _ in model.tag_word_lists(words)]
        rows[label] = {**scores(tagging_report(tags, predicted, model.scheme)), "minutes": minutes,
                       **dev_scores(os.path.join(args.output, label))}
        print(f"{label}: test entity F1 {rows[label]['f1']:.4f}", flush=True)
    types = sorted({name for row in rows.values() for name in row["per_type"]})
    json.dump(rows, open(os.path.join(args.output, "table.json"), "w"), indent=1)
    table = markdown(rows, types)
    open(os.path.join(args.output, "table.md"), "w").write(table)
    print(f"{test.name} test split, {len(words)} sentences:\n{table}")


if __name__ == "__main__":
    main()
