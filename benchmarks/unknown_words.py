"""How much of a tagging or answering data set each tokenizer reads as `[UNK]`, per vocabulary.

For each tokenizer (`word`, `wordpiece`, `wordpiece-cased`) and each vocabulary source (the
task's own training text, IMDb's reviews), a vocabulary is learnt as `pretrain` learns it
(`minibert.data.vectorizers.build_run_vectorizer`, `--vocabulary-size`), and the held-out split
is read with it:

- tokens `[UNK]`: the share of the split's tokens that are `[UNK]`, each word vectorized alone
  as a tagger reads it (`minibert.data.word_alignment.word_tokens`); a word that standardizes to
  nothing (punctuation, to the word tokenizer) counts as one `[UNK]`, as the tagger reads it;
- entity words unknown: the share of the words inside entities (CoNLL: tag not `O`; SQuAD: the
  words of the first gold answer) of which any token is `[UNK]`, punctuation left out.

    python benchmarks/unknown_words.py --conll ../shared/data/conll2003 \
        --squad ../shared/data/squad/train-v1.1.json --imdb ../shared/data/imdb \
        --output saved_models/unknown-words.md

CoNLL-2003's held-out split is valid.txt; SQuAD's, the 44 articles `--validation-size 0.1
--seed 42` holds out (its training paragraphs learn the vocabulary). IMDb's vocabulary is learnt
on `--imdb-reviews` training reviews (a seeded sample).
"""

import argparse
import json
import os
import re

import numpy as np
import pandas as pd

from minibert.data.sources import load_dataset
from minibert.data.tokenizer import UNKNOWN_ID
from minibert.data.vectorizers import TOKENIZERS, build_run_vectorizer
from minibert.data.word_alignment import split_words, word_tokens
from minibert.tasks.question_answering.questions import load_questions
from minibert.tasks.token_classification.tagged_words import load_tagged_words

WORDLIKE = re.compile(r"\w")


def shares(vectorizer, sentences, entity_words) -> dict:
    """`[UNK]` share of the tokens of `sentences` (lists of words), and the share of
    `entity_words` (a list of words, punctuation left out) with an `[UNK]` token."""
    words = [word for sentence in sentences for word in sentence]
    tokens = word_tokens(vectorizer, words + entity_words)
    counts = [len(tokens[word]) for word in words]
    unknown = [sum(token == UNKNOWN_ID for token in tokens[word]) for word in words]
    entity_unknown = [UNKNOWN_ID in tokens[word] for word in entity_words if WORDLIKE.search(word)]
    return {"token_unknown": float(np.sum(unknown) / np.sum(counts)),
            "entity_word_unknown": float(np.mean(entity_unknown)),
            "tokens_per_word": float(np.mean(counts))}


def conll_split(folder):
    data = load_tagged_words(folder, validation_file="valid")
    held_out = data.validation
    entity_words = [word for words, tags in zip(held_out["words"], held_out["tags"])
                    for word, tag in zip(words, tags) if tag != "O"]
    return data.pretraining_text(), held_out["words"].tolist(), entity_words


def squad_split(path):
    data = load_questions(path, validation_size=0.1, seed=42)
    held_out = data.validation
    contexts = held_out["context"].drop_duplicates().tolist()
    sentences = [[word for word, _, _ in split_words(context)] for context in contexts]
    entity_words = [word for answers in held_out["answers"] if len(answers)
                    for word, _, _ in split_words(answers[0])]
    return data.pretraining_text(), sentences, entity_words


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conll", help="CoNLL-2003's folder (train.txt, valid.txt, test.txt)")
    parser.add_argument("--squad", help="SQuAD v1.1's train-v1.1.json")
    parser.add_argument("--imdb", help="IMDb's folder, for a vocabulary learnt on reviews")
    parser.add_argument("--imdb-reviews", type=int, default=25_000)
    parser.add_argument("--vocabulary-size", type=int, default=30_000)
    parser.add_argument("--output", required=True, help="the table (markdown); JSON beside it")
    args = parser.parse_args()

    splits = {}
    if args.conll:
        splits["CoNLL-2003 valid"] = conll_split(args.conll)
    if args.squad:
        splits["SQuAD v1.1, 44 held-out articles"] = squad_split(args.squad)
    reviews = None
    if args.imdb:
        train = load_dataset(args.imdb).train
        reviews = train["text"].sample(min(args.imdb_reviews, len(train)), random_state=0).tolist()
    rows, vectorizers = [], {}
    for name, (own_text, sentences, entity_words) in splits.items():
        sources = {"own training text": own_text, **({"IMDb reviews": reviews} if reviews else {})}
        for source, texts in sources.items():
            for tokenizer in TOKENIZERS:
                # IMDb's vocabularies serve every split: learnt once each.
                key = (name if source == "own training text" else source, tokenizer)
                if key not in vectorizers:
                    vectorizers[key] = build_run_vectorizer(tokenizer, texts,
                                                            args.vocabulary_size, 64)
                vectorizer = vectorizers[key]
                rows.append({"data": name, "vocabulary from": source, "tokenizer": tokenizer,
                             **shares(vectorizer, sentences, entity_words)})
                print(json.dumps(rows[-1]), flush=True)
    frame = pd.DataFrame(rows)
    lines = ["| held-out split | vocabulary from | tokenizer | tokens `[UNK]` | entity words "
             "unknown | tokens per word |", "|---|---|---|---|---|---|"]
    lines += [f"| {row['data']} | {row['vocabulary from']} | {row['tokenizer']} | "
              f"{row['token_unknown']:.1%} | {row['entity_word_unknown']:.1%} | "
              f"{row['tokens_per_word']:.2f} |" for row in rows]
    with open(args.output, "w") as file:
        file.write("\n".join(lines) + "\n")
    frame.to_json(os.path.splitext(args.output)[0] + ".json", orient="records", indent=1)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
