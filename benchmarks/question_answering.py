"""Question answering on SQuAD v1.1: minibert's answerers beside the sliding-window baseline.

Reads finished question-answering runs (`train`/`finetune --task question-answering`, all on the
same split: the same --dataset, --validation-size and --seed carve the same whole articles) and
writes one table: exact match and F1 on the validation articles, each run's fine-tuning and
pretraining minutes, and the sliding-window word-overlap baseline on the same questions. Then it
checks, for `--check-questions` validation questions of each run, that the answer `predict`
prints is the context's own characters at the offsets it prints beside it.

    python benchmarks/question_answering.py --dataset ../shared/data/squad/train-v1.1.json \
        --validation-size 0.1 --seed 42 \
        --run "random weights=saved_models/qa-random" --run "IMDb-pretrained=saved_models/qa-imdb" \
        --run "SQuAD-contexts-pretrained=saved_models/qa-squad" --output saved_models/qa-table.md

The figures are the runs' own (metrics.json's `validation`, scored when each run finished);
`--rescore` scores the saved end-to-end models again instead (slower, the same numbers).
"""

import argparse
import json
import os
import time

import keras

import minibert  # noqa: F401  (registers the saved models' classes)
from minibert import runs
from minibert.tasks.question_answering.baseline import sliding_window_answers
from minibert.tasks.question_answering.end_to_end_answerer import best_texts
from minibert.tasks.question_answering.metrics import answer_report
from minibert.tasks.question_answering.questions import load_questions
from minibert.tasks.question_answering.task import predict_lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--validation-size", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--run", action="append", default=[], metavar="NAME=FOLDER")
    parser.add_argument("--check-questions", type=int, default=1000)
    parser.add_argument("--rescore", action="store_true")
    parser.add_argument("--output", required=True, help="the table (markdown); JSON beside it")
    args = parser.parse_args()

    data = load_questions(args.dataset, validation_size=args.validation_size, seed=args.seed)
    frame = data.validation
    split = (f"{len(frame):,} questions of {data.validation_groups} whole articles "
             f"({data.group_column}) no run trained on")
    start = time.perf_counter()
    baseline = answer_report(sliding_window_answers(frame["question"], frame["context"]),
                             frame["answers"].tolist())
    rows = [{"model": "sliding-window word overlap (baseline)", **baseline,
             "finetuning_minutes": 0.0, "pretraining_minutes": 0.0,
             "seconds": time.perf_counter() - start}]
    for name, folder in (entry.split("=", 1) for entry in args.run):
        rows.append(run_row(name, folder, data, args))
        print(json.dumps(rows[-1]), flush=True)
    table = [f"Validation: {split}.", "",
             "| model | exact match | F1 | fine-tuning minutes | pretraining minutes |"
             " printed answers = context[start:end] |", "|---|---|---|---|---|---|"]
    for row in rows:
        check = (f"{row['spans_checked'] - row['spans_wrong']:,} of {row['spans_checked']:,}"
                 if "spans_checked" in row else "-")
        table.append(f"| {row['model']} | {row['exact_match']:.2f} | {row['f1']:.2f} | "
                     f"{row['finetuning_minutes']:.1f} | {row['pretraining_minutes']:.1f} | "
                     f"{check} |")
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as file:
        file.write("\n".join(table) + "\n")
    with open(os.path.splitext(args.output)[0] + ".json", "w", encoding="utf-8") as file:
        json.dump(rows, file, indent=2)
    print("\n".join(table))


def run_row(name, folder, data, args) -> dict:
    """One run's figures, its minutes and its printed answers checked against the contexts."""
    run = runs.RunFolder(folder)
    metrics = run.read_metrics().to_dict()
    model = keras.models.load_model(run.file(runs.END_TO_END_FILE))
    frame = data.validation
    report = metrics["validation"]
    if args.rescore:
        report = answer_report(best_texts(model.answer(
            frame["question"].tolist(), frame["context"].tolist(), top_k=1)),
            frame["answers"].tolist())
    stages = metrics["stages"]
    finetuning = sum(stage["seconds"] for key, stage in stages.items() if key != "mlm")
    pretraining = stages.get("mlm", {}).get("seconds", 0.0)
    origin = run.read_json(runs.CONFIG_FILE).get("pretrained_run")
    if origin and not origin.get("random_init"):
        pretrained = runs.RunFolder(origin["path"]).read_metrics().to_dict()
        pretraining = pretrained["stages"].get("mlm", {}).get("seconds", 0.0)
    checked = frame.head(args.check_questions)
    wrong = printed_answers_not_in_context(model, checked)
    return {"model": name, "run": folder, "exact_match": report["exact_match"],
            "f1": report["f1"], "finetuning_minutes": finetuning / 60,
            "pretraining_minutes": pretraining / 60, "spans_checked": len(checked),
            "spans_wrong": wrong}


def printed_answers_not_in_context(model, frame) -> int:
    """How many of `predict`'s printed top answers are not `context[start:end]` as printed."""
    lines = predict_lines(model, frame["question"].tolist(), frame["context"].tolist())
    wrong, question = 0, -1
    for line in lines:
        if line.startswith("# "):
            question += 1
            rank_one = True
            continue
        if not rank_one:
            continue
        rank_one = False
        _, span, _, text = line.split("\t", 3)
        start, end = map(int, span.split("-"))
        wrong += frame["context"].iloc[question][start:end] != text
    return wrong


if __name__ == "__main__":
    main()
