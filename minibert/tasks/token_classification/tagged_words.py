"""Sentences with a tag per word (named entities, chunks, any per-word tags), for token
classification: read, checked and split into `TaggedWordsData`.

The sources `load_tagged_words` reads:

- a CoNLL-style text file (`.conll`, `.txt`, `.iob`, `.bio`, or any other file named
  explicitly): one word per line, the word first and its tag last, columns split by runs of
  spaces or tabs. A blank or whitespace-only line ends a sentence; `-DOCSTART-` lines are
  skipped. So CoNLL-2003's `word POS chunk NER` and two-column `word tag` files both read; other
  layouts name their columns by index (`word_column`, `tag_column`).
- a folder with a `train` file and a `test` file, or else a `validation`, `valid` or `dev` file,
  each in any of the formats here; the first of them found is the validation split.
- a `.parquet` or JSON lines (`.jsonl`, `.json`) file with a list of words and a list of tags
  per row (`words_column`, `tags_column`).
- `hf:NAME[:CONFIG]`: a Hugging Face data set with a sequence of words and a sequence of tags,
  e.g. conll2003's `tokens` and `ner_tags`, whose `ClassLabel` feature names the tags.

Without a split of its own to validate on, validation is carved out of train by whole sentences.
Tags are checked against the tag scheme (IOB1, IOB2 or IOBES), given or detected
(`detect_scheme`).
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from minibert.data import hugging_face
from minibert.data.tables import (
    DataSourceError,
    read_table,
    require_column,
    short_reason,
    validation_count,
    value_to_text,
)

SCHEMES = ("IOB1", "IOB2", "IOBES")
CONLL_SUFFIXES = (".conll", ".txt", ".iob", ".bio")
# The suffixes no other kind of data set carries (a .txt may hold any text): a source with one
# reads as tagged words without being told (`is_conll_source`).
TAGGED_ONLY_SUFFIXES = (".conll", ".iob", ".bio")
# Table files whose cells can hold lists: a CSV cell cannot without a convention of its own.
LIST_TABLE_SUFFIXES = (".parquet", ".jsonl", ".json")
# A folder's validation split: its test file first, as `sources.read_split_folder` does, so
# that a run's figures are the ones published for the data set.
VALIDATION_STEMS = ("test", "validation", "valid", "dev")
DOCUMENT_START = "-DOCSTART-"
OUTSIDE_TAG = "O"
# O, or a prefix and an entity type: B-PER, I-creative-work, S-LOC.
_TAG_PATTERN = re.compile(r"O|[BIES]-\S+")
_COLUMN_SEPARATOR = re.compile(r"[ \t]+")


@dataclasses.dataclass(frozen=True, eq=False)  # eq=False: DataFrames have no single truth value.
class TaggedWordsData:
    """Sentences and their per-word tags, checked and split, ready for the tokenizer.

    Rows keep the order of the source (sampled rows too); shuffling is the input pipeline's job.

    Example:
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"words": [["Ada", "wrote"]], "tags": [["B-PER", "O"]]})
    >>> data = TaggedWordsData(
    ...     name="tiny", train=frame, validation=frame.iloc[:0],
    ...     unlabeled=pd.DataFrame({"text": ["more text"]}), tag_names=("O", "B-PER"),
    ...     scheme="IOB2", validation_is_test=False)
    >>> data.pretraining_text()
    ['Ada wrote', 'more text']
    """

    name: str  # the file or folder name, or the Hugging Face data set's
    train: pd.DataFrame  # columns ["words", "tags"]: one sentence a row, each cell a list of str
    validation: pd.DataFrame  # same columns; the source's test (or dev) split, or carved from train
    unlabeled: pd.DataFrame  # column ["text"]: untagged sentences; 0 rows for every reader here
    tag_names: tuple[str, ...]  # the tags train holds, sorted, "O" first
    scheme: str  # "IOB1", "IOB2" or "IOBES"
    validation_is_test: bool  # True when validation is the source's own test split
    # The source's split validation is ("test", "dev", "validation"...), None when carved.
    validation_split: str | None = None
    dropped_rows: int = 0  # table rows without words, dropped in reading

    def pretraining_text(self, include_validation: bool = False) -> list[str]:
        """Train's sentences (words joined by spaces) + unlabeled text (+ validation's sentences
        only when asked: `--mlm-include-test`), as `TextClassificationData.pretraining_text`."""
        texts = [" ".join(words) for words in self.train["words"]]
        texts += self.unlabeled["text"].tolist()
        if include_validation:
            texts += [" ".join(words) for words in self.validation["words"]]
        return texts

    def held_out_texts(self, limit: int) -> list[str]:
        """Validation's first `limit` sentences, words joined by spaces as `pretraining_text`
        joins train's."""
        return [" ".join(words) for words in self.validation["words"][:limit]]

    def summary_fields(self) -> dict:
        """What `minibert.runs.DataSummary` records: the tags as its `label_names`, and their
        scheme."""
        return dict(
            name=self.name, label_names=tuple(self.tag_names), pairs=False,
            train=len(self.train), validation=len(self.validation),
            unlabeled=len(self.unlabeled), dropped=self.dropped_rows,
            validation_is_test=self.validation_is_test, scheme=self.scheme,
        )


def load_tagged_words(
    source: str,
    *,
    word_column: int | None = None,
    tag_column: int | None = None,
    words_column: str = "words",
    tags_column: str = "tags",
    scheme: str = "auto",
    validation_size: float = 0.2,
    seed: int = 42,
    max_train_rows: int | None = None,
    cache_dir: str | None = None,
    validation_file: str | None = None,
) -> TaggedWordsData:
    """Load `source` as checked, split `TaggedWordsData`.

    Args:
        source: a CoNLL-style text file, a folder of `train` and `test`/`dev` files, a
            `.parquet` or `.jsonl` file, or `hf:NAME[:CONFIG]`.
        word_column: text files: the index of the word's column (negative counts from the
            end). Default 0.
        tag_column: text files: the index of the tag's column. Default -1, the last.
        words_column: tables and Hugging Face: the column of each sentence's list of words.
        tags_column: tables and Hugging Face: the column of each sentence's list of tags.
        scheme: `"auto"` (`detect_scheme` over every split), `"IOB1"`, `"IOB2"` or `"IOBES"`.
            A scheme given is taken at its word: only its prefixes are checked (IOB1 and IOB2
            have no `E-`/`S-`), not where entities begin, as data sets stray from their own.
        validation_size: when the source has no test or dev split, the share of train's
            sentences (< 1) or their number (>= 1) carved off, seeded, as validation. A sentence
            is left in train when it holds the last training occurrence of a tag.
        seed: seeds the validation split and the sampling.
        max_train_rows: sample this many training sentences (after splitting); `tag_names`
            stays every tag of train before sampling.
        cache_dir: where `datasets` keeps `hf:` downloads.
        validation_file: a folder's file to validate on, by its stem (`"dev"`: validate on
            dev and keep test out, to choose settings without the test split); default the
            first of `VALIDATION_STEMS` found.

    Raises:
        DataSourceError: one line naming the file (and line or row) and the fix.

    Example:
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "tiny.conll"
    >>> _ = path.write_text("Ada B-PER\\nwrote O\\n\\nGrace B-PER\\nHopper I-PER\\n\\n"
    ...                     "Ada B-PER\\nran O\\n")
    >>> data = load_tagged_words(str(path), validation_size=1)
    >>> data.tag_names, data.scheme, len(data.train), len(data.validation)
    (('O', 'B-PER', 'I-PER'), 'IOB2', 2, 1)
    """
    if scheme != "auto" and scheme not in SCHEMES:
        raise DataSourceError(
            f"unknown tag scheme {scheme!r} for {source}; pass --tag-scheme auto, "
            f"{', '.join(SCHEMES[:-1])} or {SCHEMES[-1]} (BIO is IOB2)"
        )
    columns = _Columns(word_column, tag_column, words_column, tags_column)
    if hugging_face.is_hugging_face_name(source):
        columns.require_no_text_columns(source)
        name, train, validation = _read_hugging_face(source, columns, cache_dir)
    else:
        path = Path(source)
        if path.is_dir():
            name = path.resolve().name
            train, validation = _read_folder(path, columns, validation_file)
        elif path.is_file():
            name = path.name
            train, validation = _read_file(path, columns), None
        else:
            raise DataSourceError(
                f"no such file or folder: {source}; pass a CoNLL file "
                f"({'/'.join(CONLL_SUFFIXES)}), a folder of train and test/dev files, a "
                f"{'/'.join(LIST_TABLE_SUFFIXES)} file or hf:NAME"
            )

    splits = [train] + ([validation] if validation is not None else [])
    for split in splits:
        _require_tags_of_scheme(split, scheme)
    if scheme == "auto":
        scheme = detect_scheme(tags for split in splits for tags in split.tags)
    seen = {tag for tags in train.tags for tag in tags}
    tag_names = tuple(sorted(seen, key=lambda tag: (tag != OUTSIDE_TAG, tag)))

    train_frame = train.frame()
    if validation is not None:
        _require_tags_seen_in_train(validation, seen, train.origin)
        validation_frame = validation.frame()
    else:
        count = validation_count(validation_size, len(train_frame), "sentences")
        in_validation = _carve_validation(train.tags, count, seed)
        validation_frame = train_frame[in_validation].reset_index(drop=True)
        train_frame = train_frame[~in_validation].reset_index(drop=True)
    return TaggedWordsData(
        name=name,
        train=_sample(train_frame, max_train_rows, seed),
        validation=validation_frame,
        unlabeled=pd.DataFrame({"text": pd.Series([], dtype="str")}),
        tag_names=tag_names,
        scheme=scheme,
        validation_is_test=validation is not None and validation.split == "test",
        validation_split=None if validation is None else validation.split,
        dropped_rows=sum(split.dropped_rows for split in splits),
    )


def detect_scheme(tag_sequences: Iterable[Sequence[str]]) -> str:
    """The tag scheme that a data set's tag sequences are written in.

    - IOBES when any tag is `S-X` (a one-word entity) or `E-X` (an entity's last word).
    - IOB1 when some entity begins with `I-X`: the first tag of a sentence, or one that
      follows `O` or a tag of another type. IOB1 writes `B-X` only where an entity follows
      another of the same type.
    - IOB2 otherwise: every entity begins with `B-X`. A data set without entities reads as IOB2.

    Example:
    >>> detect_scheme([["B-PER", "I-PER", "O", "B-LOC"], ["B-LOC", "B-LOC"]])
    'IOB2'
    >>> detect_scheme([["I-PER", "I-PER", "O", "I-LOC", "B-LOC"]])
    'IOB1'
    >>> detect_scheme([["S-PER", "O", "B-LOC", "E-LOC"]])
    'IOBES'
    """
    begins_with_inside = False
    for tags in tag_sequences:
        previous = OUTSIDE_TAG
        for tag in tags:
            if tag.startswith(("S-", "E-")):
                return "IOBES"
            if tag.startswith("I-") and not (
                previous.startswith(("B-", "I-")) and previous[2:] == tag[2:]
            ):
                begins_with_inside = True
            previous = tag
    return "IOB1" if begins_with_inside else "IOB2"


def is_conll_source(source: str) -> bool:
    """Whether `source` is a CoNLL-style file, or a folder whose train file is one, by its
    suffix alone (`TAGGED_ONLY_SUFFIXES`).

    Example:
    >>> is_conll_source("wnut17/train.conll"), is_conll_source("reviews.csv")
    (True, False)
    """
    path = Path(source)
    if path.is_dir():
        path = _find_split_file(path, "train") or path
    return path.suffix.lower() in TAGGED_ONLY_SUFFIXES


# Reading: every reader returns one `_Sentences` per split.


@dataclasses.dataclass
class _Sentences:
    """One split as read: its sentences, and where each starts, for errors that name it."""

    origin: str  # "data/train.conll", "hf:wnut_17 test split"
    words: list[list[str]]
    tags: list[list[str]]
    # Each sentence's first line (text files: word i is on line start + i) or its row, from 1.
    starts: list[int]
    by_line: bool
    split: str = "train"  # the source's name for the split: "test", "dev"...
    dropped_rows: int = 0

    def where(self, sentence: int, word: int = 0) -> str:
        if self.by_line:
            return f"{self.origin} line {self.starts[sentence] + word}"
        return f"{self.origin} row {self.starts[sentence]}"

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"words": self.words, "tags": self.tags})


@dataclasses.dataclass(frozen=True)
class _Columns:
    """Where the words and tags are: by index in text files, by name in tables."""

    word_column: int | None
    tag_column: int | None
    words_column: str
    tags_column: str

    def require_no_text_columns(self, origin) -> None:
        if self.word_column is not None or self.tag_column is not None:
            raise DataSourceError(
                f"--word-column / --tag-column are for CoNLL text files, not {origin}; "
                "pass --words-column / --tags-column to name its columns"
            )


def _read_file(path: Path, columns: _Columns, split: str = "train") -> _Sentences:
    """A table file by its suffix; any other file as CoNLL-style text."""
    if path.suffix.lower() in LIST_TABLE_SUFFIXES:
        columns.require_no_text_columns(path)
        sentences = _read_list_table(path, columns.words_column, columns.tags_column)
    else:
        sentences = _read_conll(
            path,
            0 if columns.word_column is None else columns.word_column,
            -1 if columns.tag_column is None else columns.tag_column,
        )
    sentences.split = split
    return sentences


def _read_folder(folder: Path, columns: _Columns,
                 validation_file: str | None = None) -> tuple[_Sentences, _Sentences | None]:
    """`train.*` (required) and the first of `test.*`, `validation.*`, `valid.*`, `dev.*`
    (or `<validation_file>.*`, required when named)."""
    train_path = _find_split_file(folder, "train")
    if train_path is None:
        raise DataSourceError(
            f"no train file in {folder}; pass a folder holding "
            f"train{'/'.join(CONLL_SUFFIXES + LIST_TABLE_SUFFIXES)} (and test or dev), or the "
            "file itself"
        )
    for stem in (validation_file,) if validation_file else VALIDATION_STEMS:
        validation_path = _find_split_file(folder, stem)
        if validation_path is not None:
            return _read_file(train_path, columns), _read_file(validation_path, columns, stem)
    if validation_file:
        raise DataSourceError(f"no {validation_file} file in {folder} to validate on; pass "
                              "another validation_file, or none for the first of "
                              f"{'/'.join(VALIDATION_STEMS)}")
    return _read_file(train_path, columns), None


def _find_split_file(folder: Path, stem: str) -> Path | None:
    """The first `<stem><suffix>` file in `folder`, text files before tables."""
    for suffix in CONLL_SUFFIXES + LIST_TABLE_SUFFIXES:
        if (folder / f"{stem}{suffix}").is_file():
            return folder / f"{stem}{suffix}"
    return None


def _read_conll(path: Path, word_column: int, tag_column: int) -> _Sentences:
    """One word per line, its columns split by spaces or tabs; a blank line ends a sentence."""
    # Both columns must exist, and differ: a one-column line has its word and "tag" in one.
    needed = max(word_column + 1 if word_column >= 0 else -word_column,
                 tag_column + 1 if tag_column >= 0 else -tag_column, 2)
    sentences = _Sentences(str(path), [], [], [], by_line=True)
    words, tags = [], []

    def end_sentence(number):
        if words:
            sentences.words.append(words.copy())
            sentences.tags.append(tags.copy())
            sentences.starts.append(number - len(words))
            words.clear()
            tags.clear()

    number = 0
    try:
        # utf-8-sig: a byte order mark, as some editors save, is not part of the first word.
        with open(path, encoding="utf-8-sig") as file:
            for number, line in enumerate(file, start=1):
                # Whitespace-only lines end sentences too: WNUT-17's train file has lines of
                # a single tab between its sentences.
                if not line.strip() or line.startswith(DOCUMENT_START):
                    end_sentence(number)
                    continue
                cells = _COLUMN_SEPARATOR.split(line.strip(" \t\r\n"))
                if len(cells) < needed or word_column % len(cells) == tag_column % len(cells):
                    shortfall = (f"need {needed}" if len(cells) < needed
                                 else "are the same column there")
                    raise DataSourceError(
                        f"{path} line {number} has {len(cells)} column"
                        f"{'s' if len(cells) != 1 else ''} ({_shorten(line.strip())!r}); the "
                        f"word (column {word_column}) and the tag (column {tag_column}) "
                        f"{shortfall}: separate a word and its tag by spaces or tabs, or pass "
                        "--word-column / --tag-column"
                    )
                words.append(cells[word_column])
                tags.append(cells[tag_column])
            end_sentence(number + 1)
    except UnicodeDecodeError as error:
        # The file decodes in blocks, ahead of the line read: find the line on this path only.
        lines = enumerate(path.read_bytes().split(b"\n"), start=1)
        number = next(number for number, line in lines if not _decodes(line))
        raise DataSourceError(
            f"{path} line {number} is not UTF-8 text (it holds the byte "
            f"{error.object[error.start:error.start + 1]!r}); save the file as UTF-8, e.g. with "
            "iconv -f latin1 -t utf-8"
        ) from error
    except OSError as error:
        raise DataSourceError(f"could not read {path}: {short_reason(error)}") from error
    if not sentences.words:
        raise DataSourceError(
            f"{path} holds no sentences (every line is blank or {DOCUMENT_START}); pass a file "
            "of one word and its tag per line, sentences separated by blank lines"
        )
    return sentences


def _read_list_table(path: Path, words_column: str, tags_column: str) -> _Sentences:
    """A parquet or JSON lines file: a list of words and a list of tags in each row."""
    table = read_table(path)
    require_column(table, words_column, "words", str(path), "pass --words-column")
    require_column(table, tags_column, "tags", str(path), "pass --tags-column")
    return _sentences_of_rows(
        str(path), table[words_column], table[tags_column], words_column, tags_column
    )


def _sentences_of_rows(origin: str, words_cells, tags_cells, words_column, tags_column):
    """Rows of a list of words and a list of tags each, checked: a `_Sentences`."""
    sentences = _Sentences(origin, [], [], [], by_line=False)
    for row, (words, tags) in enumerate(zip(words_cells, tags_cells), start=1):
        words = _as_texts(words, origin, row, words_column)
        tags = _as_texts(tags, origin, row, tags_column)
        # A row without words has nothing to tag; conll2003 on the hub keeps each -DOCSTART-
        # line as a row of its own.
        if not words or words == [DOCUMENT_START]:
            sentences.dropped_rows += 1
            continue
        if tags is None or len(words) != len(tags):
            raise DataSourceError(
                f"{origin} row {row} has {len(words)} words but "
                f"{0 if tags is None else len(tags)} tags; give every word one tag, or pass the "
                "--words-column and --tags-column that belong together"
            )
        sentences.words.append(words)
        sentences.tags.append(tags)
        sentences.starts.append(row)
    if not sentences.words:
        raise DataSourceError(
            f"{origin} holds no sentences ({sentences.dropped_rows} rows, none with words); pass "
            f"a list of words in {words_column!r} and their tags in {tags_column!r} per row"
        )
    return sentences


def _as_texts(value, origin: str, row: int, column: str) -> list[str] | None:
    """A cell holding a list (parquet gives arrays) as a list of str; None when missing."""
    if isinstance(value, (list, tuple, np.ndarray)):
        texts = [value_to_text(item) for item in value]
        if None in texts:
            raise DataSourceError(
                f"{origin} row {row}: column {column!r} has a missing value at position "
                f"{texts.index(None)}; give every word and tag a value"
            )
        return texts
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    raise DataSourceError(
        f"{origin} row {row}: column {column!r} holds a {type(value).__name__}, not a list; "
        "each cell must be a list of words or of tags, one per word"
    )


def _read_hugging_face(dataset: str, columns: _Columns, cache_dir):
    """`hf:NAME[:CONFIG]`: its train split and its test (else validation) split, as
    `hugging_face.read_hugging_face` chooses them."""
    splits = hugging_face.load_splits(dataset, cache_dir)
    features = splits["train"].features
    for role, column in (("words", columns.words_column), ("tags", columns.tags_column)):
        if column not in features:
            raise DataSourceError(
                f"{role} column {column!r} not found in {dataset}; columns are "
                f"{list(features)}; pass --{role}-column (conll2003: tokens, ner_tags)"
            )
    # A sequence of ClassLabel stores tag ids; the feature holds their names.
    tag_names = getattr(getattr(features[columns.tags_column], "feature", None), "names", None)

    def read(split: str) -> _Sentences:
        tags = splits[split][columns.tags_column]
        if tag_names is not None:  # -1, "no tag", becomes a missing value, named as one
            tags = [[tag_names[tag] if tag >= 0 else None for tag in sentence] for sentence in tags]
        sentences = _sentences_of_rows(
            f"{dataset} {split} split", splits[split][columns.words_column], tags,
            columns.words_column, columns.tags_column,
        )
        sentences.split = split
        return sentences

    # Hub test splits may hide their tags as -1; validation then scores instead.
    validation = next(
        (split for split in hugging_face.TEST_SPLITS if split in splits and not (
            tag_names is not None
            and any(-1 in sentence for sentence in splits[split][columns.tags_column])
        )),
        None,
    )
    return (hugging_face.data_set_name(dataset), read("train"),
            None if validation is None else read(validation))


# Checking tags.


def _require_tags_of_scheme(sentences: _Sentences, scheme: str) -> None:
    """Raise naming the first tag that is not O / B-X / I-X / E-X / S-X, or that `scheme`
    (IOB1, IOB2) does not write."""
    allowed = ("B-", "I-") if scheme in ("IOB1", "IOB2") else ("B-", "I-", "E-", "S-")
    # Check each distinct tag once; look for where a bad one is only on this error path.
    distinct = {tag for tags in sentences.tags for tag in tags}
    bad = sorted(
        tag for tag in distinct
        if not _TAG_PATTERN.fullmatch(tag) or (tag != OUTSIDE_TAG and not tag.startswith(allowed))
    )
    if not bad:
        return
    tag = bad[0]
    if _TAG_PATTERN.fullmatch(tag):
        raise DataSourceError(
            f"{_first_place(sentences, tag)}: tag {tag!r} is IOBES's, not {scheme}'s; pass "
            "--tag-scheme IOBES or auto"
        )
    if tag[:2] in ("U-", "L-"):
        fix = "BILOU's U-/L- are IOBES's S-/E-: rename them"
    elif tag.lstrip("-").isdigit():
        fix = "tags must be names, not numbers: give the names (a Sequence(ClassLabel) on the hub)"
    else:
        fix = "fix the tag, or pass --tag-column if it is not the tag's column"
    raise DataSourceError(
        f"{_first_place(sentences, tag)}: tag {tag!r} is not O, B-X, I-X, E-X or S-X; {fix}"
    )


def _require_tags_seen_in_train(validation: _Sentences, seen: set, train_origin: str) -> None:
    """Raise naming a tag of the validation split that train never holds: no model learns it."""
    unseen = sorted({tag for tags in validation.tags for tag in tags} - seen)
    if unseen:
        raise DataSourceError(
            f"{_first_place(validation, unseen[0])}: tag {unseen[0]!r} in the {validation.split} "
            f"split never appears in train ({train_origin}); fix the tag, or move sentences "
            f"with it into train ({len(unseen)} such tag{'s' if len(unseen) > 1 else ''}: "
            f"{', '.join(unseen[:5])}{'...' if len(unseen) > 5 else ''})"
        )


def _first_place(sentences: _Sentences, tag: str) -> str:
    """Where `tag` first occurs: the file and line (or row)."""
    for sentence, tags in enumerate(sentences.tags):
        if tag in tags:
            return sentences.where(sentence, tags.index(tag))
    return sentences.origin


# Splitting and sampling.


def _carve_validation(tag_sequences: list[list[str]], count: int, seed: int) -> np.ndarray:
    """Which sentences go to validation: `count` of them, drawn seeded, whole.

    A sentence holding the last training occurrence of a tag stays in train: a tag that only
    validation holds is one no model could learn, and the split would fail the check that the
    source's own test split must pass. So validation may hold fewer than `count` when few
    sentences can go.
    """
    sentences_with = Counter(tag for tags in tag_sequences for tag in set(tags))
    in_validation = np.zeros(len(tag_sequences), dtype=bool)
    taken = 0
    for index in np.random.default_rng(seed).permutation(len(tag_sequences)):
        tags = set(tag_sequences[index])
        if all(sentences_with[tag] > 1 for tag in tags):
            in_validation[index] = True
            sentences_with.subtract(tags)
            taken += 1
            if taken == count:
                break
    return in_validation


def _sample(frame: pd.DataFrame, max_rows: int | None, seed: int) -> pd.DataFrame:
    """At most `max_rows` sentences of `frame`, seeded, in the source's order."""
    if max_rows is not None and max_rows < 1:
        raise DataSourceError(f"max_train_rows must be at least 1, got {max_rows!r}")
    if max_rows is None or max_rows >= len(frame):
        return frame.reset_index(drop=True)
    positions = np.sort(np.random.default_rng(seed).choice(len(frame), max_rows, replace=False))
    return frame.iloc[positions].reset_index(drop=True)


def _decodes(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
