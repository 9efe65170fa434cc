"""The most-frequent-tag baseline on WNUT-17: the entity F1 a tagger must beat.

Trains `most_frequent_tag_baseline` on train.conll and scores dev.conll and test.conll with
`tagging_report` (conlleval's figures), per entity type and micro-averaged:

    python benchmarks/tagging_baseline.py --data ../shared/data/ner

The files are read by the few lines below (one `word<TAB>tag` per line, blank or
whitespace-only lines between sentences), so that the figure does not move with the
package's data readers. Pure Python: a few seconds.
"""

import argparse
import json
import os

from minibert.tasks.token_classification.baseline import most_frequent_tag_baseline
from minibert.tasks.token_classification.metrics import (
    format_tagging_report,
    tagging_report,
)


def read_conll(path) -> tuple:
    """`(words, tags)`, one list per sentence, from a two-column CoNLL file."""
    words, tags, sentence_words, sentence_tags = [], [], [], []
    with open(path, encoding="utf-8") as lines:
        for line in [*lines, ""]:  # the trailing "" closes the last sentence
            if not line.strip():
                if sentence_words:
                    words.append(sentence_words)
                    tags.append(sentence_tags)
                sentence_words, sentence_tags = [], []
                continue
            word, tag = line.rstrip("\n").split("\t")
            sentence_words.append(word)
            sentence_tags.append(tag)
    return words, tags


def format_table(report) -> str:
    """Per-type and micro figures, one row each, as a Markdown table."""
    rows = ["| type | precision | recall | F1 | true | predicted | correct |", "|---" * 7 + "|"]
    named_rows = [*report["per_type"].items(), ("micro (overall)", report)]
    for name, figures in named_rows:
        rows.append(
            f"| {name} | {figures['precision']:.3f} | {figures['recall']:.3f} | "
            f"{figures['f1']:.3f} | {figures['support']:,} | {figures['predicted']:,} | "
            f"{figures['correct']:,} |"
        )
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data/ner",
                        help="the folder of WNUT-17's train.conll, dev.conll and test.conll")
    parser.add_argument("--json", help="also write the reports to this JSON file")
    args = parser.parse_args()
    train_words, train_tags = read_conll(os.path.join(args.data, "train.conll"))
    reports = {}
    for split in ("dev", "test"):
        words, tags = read_conll(os.path.join(args.data, f"{split}.conll"))
        predicted = most_frequent_tag_baseline(train_words, train_tags, words)
        reports[split] = tagging_report(tags, predicted, scheme="IOB2")
        print(f"{split}: {format_tagging_report(reports[split])}")
        print(format_table(reports[split]), end="\n\n")
    if args.json:
        with open(args.json, "w") as file:
            json.dump(reports, file, indent=2)


if __name__ == "__main__":
    main()
