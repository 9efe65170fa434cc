"""Questions on contexts, each answered by spans of its context (SQuAD), checked and split.

Three layouts read to the same rows:
- SQuAD's own JSON (v1.1 and v2.0): `{"data": [{"title", "paragraphs":
  [{"context", "qas": [{"id", "question", "answers": [{"text",
  "answer_start"}], "is_impossible"}]}]}]}`;
- a `.parquet` or `.jsonl` table with `question`, `context` and `answers`
  columns, an answer cell being `{"text": [...], "answer_start": [...]}`
  (Hugging Face's layout) or a list of `{"text", "answer_start"}`;
- `hf:squad`, `hf:squad_v2` and data sets with their features.

A question with no answers is unanswerable (SQuAD 2.0). Every answer's text
must stand at its `answer_start` in its context: a misplaced offset would
teach the model the wrong span, so it is refused, with the row named.

Without a validation split of its own, validation is carved from train by
whole articles (the `title`, or the context when there is none): no context
is both trained on and validated, as the field's dev sets are other
articles.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd

from minibert.data.tables import (
    DataSourceError,
    read_table,
    require_column,
    validation_count,
)

COLUMNS = ("id", "title", "context", "question", "answers", "answer_starts")
# The splits a Hugging Face data set's validation may come from, in order of preference.
VALIDATION_SPLITS = ("validation", "dev", "test")


@dataclasses.dataclass(frozen=True, eq=False)
class QuestionAnswerData:
    """Questions on contexts with their answers, checked and split.

    Each frame has `COLUMNS`: `answers` a list of answer texts (empty: no
    answer, SQuAD 2.0), `answer_starts` their character offsets in `context`.

    Example:
    >>> frame = pd.DataFrame({"id": ["q1"], "title": ["Jaws"], "context": ["Jaws is a film."],
    ...                       "question": ["What is Jaws?"], "answers": [["a film"]],
    ...                       "answer_starts": [[8]]})
    >>> data = QuestionAnswerData(name="tiny", train=frame, validation=frame.iloc[:0],
    ...                           validation_is_test=False)
    >>> data.pretraining_text()
    ['Jaws is a film.']
    """

    name: str
    train: pd.DataFrame
    validation: pd.DataFrame
    validation_is_test: bool  # True when validation is the source's own split
    # What whole groups validation was carved by ("title" or "context"), and how many; None
    # when the source gave its own validation split.
    group_column: str | None = None
    validation_groups: int = 0
    dropped_rows: int = 0

    @property
    def unlabeled(self) -> pd.DataFrame:
        return pd.DataFrame({"text": []})

    @property
    def unanswerable(self) -> bool:
        """Whether any question has no answer (SQuAD 2.0): the model then learns to abstain."""
        return any(len(answers) == 0 for frame in (self.train, self.validation)
                   for answers in frame["answers"])

    def pretraining_text(self, include_validation: bool = False) -> list[str]:
        """Train's distinct contexts (+ validation's only when asked: `--mlm-include-test`)."""
        frames = [self.train, self.validation] if include_validation else [self.train]
        return distinct_contexts(pd.concat(frames))

    def held_out_texts(self, limit: int) -> list[str]:
        """The distinct contexts of validation's first `limit` questions."""
        return distinct_contexts(self.validation[:limit])

    def summary_fields(self) -> dict:
        """What `minibert.runs.DataSummary` records: questions have no labels."""
        return dict(
            name=self.name, train=len(self.train), validation=len(self.validation),
            unlabeled=0, dropped=self.dropped_rows, validation_is_test=self.validation_is_test,
            group_column=self.group_column, validation_groups=self.validation_groups,
        )


def distinct_contexts(frame: pd.DataFrame) -> list[str]:
    """The contexts of `frame`'s questions, each once, in order."""
    return list(dict.fromkeys(frame["context"]))


def is_squad_file(source: str) -> bool:
    """Whether `source` is a JSON file in SQuAD's own layout (one object with `data`)."""
    path = Path(source)
    if path.suffix.lower() != ".json" or not path.is_file():
        return False
    with open(path, encoding="utf-8", errors="replace") as file:
        start = file.read(4096).lstrip()
    return start.startswith("{") and '"data"' in start and '"paragraphs"' in start


def load_questions(
    source: str,
    *,
    validation_size: float = 0.1,
    seed: int = 42,
    max_train_rows: int | None = None,
    cache_dir: str | None = None,
) -> QuestionAnswerData:
    """Load `source` as checked, split `QuestionAnswerData`.

    Args:
        source: a SQuAD JSON file, a `.parquet`/`.jsonl` table, or `hf:NAME[:CONFIG]`.
        validation_size: the share of whole articles carved out as validation
            when the source has no validation split.
        seed: the seed of that carving and of `max_train_rows`' sample.
        max_train_rows: keep at most this many training questions, whole
            contexts drawn seeded.
        cache_dir: Hugging Face's cache.

    Example:
    >>> load_questions("train-v1.1.json").train.columns.tolist()  # doctest: +SKIP
    ['id', 'title', 'context', 'question', 'answers', 'answer_starts']
    """
    validation = None
    if source.startswith("hf:"):
        from minibert.data.hugging_face import data_set_name

        train, validation = _read_hugging_face(source, cache_dir)
        name = data_set_name(source)
    else:
        path = Path(source)
        if not path.exists():
            raise DataSourceError(f"{source} does not exist; pass a SQuAD JSON file, a .parquet "
                                  "or .jsonl table of questions, or hf:squad")
        train = _read_squad_json(path) if is_squad_file(source) else _read_question_table(path)
        name = path.stem
    _require_answers_in_place(train, name)
    group_column = None
    groups = 0
    if validation is not None:
        _require_answers_in_place(validation, f"{name} validation")
    else:
        group_column = "title" if train["title"].astype(bool).all() else "context"
        in_validation, groups = carve_groups(train[group_column], validation_size, seed,
                                             "articles" if group_column == "title" else "contexts")
        validation = train[in_validation].reset_index(drop=True)
        train = train[~in_validation].reset_index(drop=True)
    train = _sample_contexts(train, max_train_rows, seed)
    return QuestionAnswerData(
        name=name, train=train, validation=validation,
        validation_is_test=group_column is None, group_column=group_column,
        validation_groups=groups,
    )


def carve_groups(groups: pd.Series, validation_size: float, seed: int, unit: str = "groups"):
    """Which rows go to validation: a seeded `validation_size` share of the distinct groups,
    whole; and how many groups that is. `unit` names the groups in errors ("articles")."""
    distinct = list(dict.fromkeys(groups))
    count = validation_count(validation_size, len(distinct), unit)
    chosen = set(np.asarray(distinct, dtype=object)[
        np.random.default_rng(seed).permutation(len(distinct))[:count]])
    return groups.isin(chosen).to_numpy(), count


def _read_squad_json(path: Path) -> pd.DataFrame:
    """SQuAD's layout, one row per question."""
    try:
        with open(path, encoding="utf-8") as file:
            articles = json.load(file)["data"]
    except (ValueError, KeyError) as error:
        raise DataSourceError(f"could not read {path} as SQuAD JSON ({error}); it needs "
                              '{"data": [{"title", "paragraphs": [...]}]}') from error
    rows = []
    for article_index, article in enumerate(articles):
        title = str(article.get("title") or "")
        for paragraph in article.get("paragraphs", []):
            context = paragraph.get("context")
            for question_index, question in enumerate(paragraph.get("qas", [])):
                answers = [] if question.get("is_impossible") else question.get("answers", [])
                rows.append({
                    "id": str(question.get("id", f"{article_index}-{question_index}")),
                    "title": title, "context": context, "question": question.get("question"),
                    "answers": [answer["text"] for answer in answers],
                    "answer_starts": [int(answer["answer_start"]) for answer in answers],
                })
    return _checked(pd.DataFrame(rows, columns=list(COLUMNS)), path.name)


def _read_question_table(path: Path) -> pd.DataFrame:
    """A table of `question`, `context` and `answers` (and optional `id` and `title`) columns."""
    table = read_table(path)
    fix = "name them question, context and answers (text and answer_start)"
    for column in ("question", "context", "answers"):
        require_column(table, column, column, path.name, fix)
    return _checked(_rows_of_columns(table, path.name), path.name)


def _rows_of_columns(table, origin: str) -> pd.DataFrame:
    """`COLUMNS` from a table or a Hugging Face split with SQuAD's features."""
    texts, starts = zip(*(_answer_cell(cell, origin, row)
                          for row, cell in enumerate(table["answers"]))) if len(table) else ((), ())
    return pd.DataFrame({
        "id": [str(value) for value in table["id"]] if "id" in table else
        [str(row) for row in range(len(table))],
        "title": [str(value or "") for value in table["title"]] if "title" in table else "",
        "context": list(table["context"]), "question": list(table["question"]),
        "answers": list(texts), "answer_starts": list(starts),
    }, columns=list(COLUMNS))


def _answer_cell(cell, origin: str, row: int):
    """An answers cell as (texts, starts): `{"text": [...], "answer_start": [...]}` or a list of
    `{"text", "answer_start"}`."""
    try:
        if isinstance(cell, dict):
            texts, starts = list(cell["text"]), list(cell["answer_start"])
        else:
            cell = [] if cell is None else list(cell)
            texts = [answer["text"] for answer in cell]
            starts = [answer["answer_start"] for answer in cell]
        return [str(text) for text in texts], [int(start) for start in starts]
    except (KeyError, TypeError, ValueError) as error:
        raise DataSourceError(
            f"row {row} of {origin}: answers must be {{'text': [...], 'answer_start': [...]}} or "
            f"a list of {{'text', 'answer_start'}}, got {str(cell)[:80]!r}") from error


def _checked(frame: pd.DataFrame, origin: str) -> pd.DataFrame:
    """`frame`, refused in one line where a question or context is empty."""
    for column in ("context", "question"):
        empty = [row for row, value in enumerate(frame[column])
                 if not isinstance(value, str) or not value.strip()]
        if empty:
            question_id = frame["id"].iloc[empty[0]]
            raise DataSourceError(f"row {empty[0]} (id {question_id}) of {origin} has an empty "
                                  f"{column}; fill it in or drop the row")
    return frame


def _require_answers_in_place(frame: pd.DataFrame, origin: str) -> None:
    """Refuse, naming the row, an answer whose text is not at its offset in its context."""
    for row, (context, texts, starts) in enumerate(
            zip(frame["context"], frame["answers"], frame["answer_starts"])):
        for text, start in zip(texts, starts):
            if context[start:start + len(text)] != text:
                found = context[max(start, 0):max(start, 0) + len(text)]
                raise DataSourceError(
                    f"row {row} (id {frame['id'].iloc[row]}) of {origin}: the answer {text!r} is "
                    f"not at character {start} of its context (found {found!r}); fix its "
                    "answer_start")


def _read_hugging_face(source: str, cache_dir):
    from minibert.data.hugging_face import load_splits

    splits = load_splits(source, cache_dir)
    features = splits["train"].features
    for column in ("question", "context", "answers"):
        if column not in features:
            raise DataSourceError(f"{source} has no {column!r} feature (its features are "
                                  f"{list(features)}); question answering reads SQuAD's")
    validation = next((splits[split] for split in VALIDATION_SPLITS if split in splits), None)
    frames = [_checked(_rows_of_columns(split.to_pandas(), f"{source} {name}"), source)
              for name, split in (("train", splits["train"]), ("validation", validation))
              if split is not None]
    return frames[0], (frames[1] if len(frames) > 1 else None)


def _sample_contexts(frame: pd.DataFrame, max_rows: int | None, seed: int) -> pd.DataFrame:
    """At most about `max_rows` questions, whole contexts drawn seeded, in the source's order."""
    if max_rows is not None and max_rows < 1:
        raise DataSourceError(f"max_train_rows must be at least 1, got {max_rows!r}")
    if max_rows is None or max_rows >= len(frame):
        return frame.reset_index(drop=True)
    contexts = distinct_contexts(frame)
    sizes = frame.groupby("context", sort=False).size()
    kept, total = set(), 0
    for index in np.random.default_rng(seed).permutation(len(contexts)):
        if total >= max_rows:
            break
        kept.add(contexts[index])
        total += int(sizes[contexts[index]])
    return frame[frame["context"].isin(kept)].reset_index(drop=True)
