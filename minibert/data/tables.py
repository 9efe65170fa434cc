"""What every data source shares: reading table files, its error, and its raw splits.

`sources.py` dispatches a data set's name or path to a reader; the readers
(`imdb.py`, `amazon.py` and `sources.read_split_folder`) all read files with
`read_table`, name a missing column with `require_column`, and return
`RawSplits`. They import this module; it imports none of them.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

TABLE_SUFFIXES = (".parquet", ".csv", ".tsv", ".jsonl", ".json")
# The separator of each delimited text format: a .tsv is a .csv with tabs, quoted the same way.
SEPARATORS = {".csv": ",", ".tsv": "\t"}


class DataSourceError(ValueError):
    """A data set could not be loaded; the message is one line naming the source and the fix."""


@dataclasses.dataclass(frozen=True, eq=False)
class RawSplits:
    """A source as read, before cleaning: labels are still the source's own values."""

    name: str
    train: pd.DataFrame  # columns ["text", "label"]
    test: pd.DataFrame | None = None  # columns ["text", "label"]
    unlabeled: pd.DataFrame | None = None  # column ["text"]
    label_names: tuple[str, ...] | None = None  # names the source gives integer labels 0..K-1
    default_max_train_rows: int | None = None  # caps for sources too large to use whole
    default_max_validation_rows: int | None = None


def find_table(folder: Path, stems: Sequence[str]) -> Path | None:
    """The first `<stem><suffix>` file in `folder`, parquet before csv/tsv before json lines."""
    for stem in stems:
        for suffix in TABLE_SUFFIXES:
            if (folder / f"{stem}{suffix}").is_file():
                return folder / f"{stem}{suffix}"
    return None


def read_text_table(
    path: Path, text_column: str, label_column: str | None = None, text_pair_column=None,
    group_column=None,
) -> pd.DataFrame:
    """Read `path` as columns `["text", ("text_pair",) "label" (, "group")]`; no label column:
    `["text"]`. `group_column` names what rows are grouped by (a film, an author) when the
    validation split must hold out whole groups."""
    table = read_table(path)
    require_column(table, text_column, "text", path.name, "pass --text-column")
    if label_column is None:
        return pd.DataFrame({"text": table[text_column]})
    columns = {"text": table[text_column]}
    if text_pair_column is not None:
        require_column(table, text_pair_column, "text pair", path.name, "pass --text-pair-column")
        columns["text_pair"] = table[text_pair_column]
    require_column(table, label_column, "label", path.name, "pass --label-column")
    columns["label"] = table[label_column]
    if group_column is not None:
        require_column(table, group_column, "group", path.name, "pass --group-column")
        columns["group"] = table[group_column]
    return pd.DataFrame(columns)


def read_table(path: Path) -> pd.DataFrame:
    """Read a `.parquet`, `.csv`, `.tsv`, `.jsonl` or `.json` (one object per line) file."""
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise DataSourceError(
            f"cannot read {path.name}: unsupported file type {suffix!r}; "
            f"pass a {'/'.join(TABLE_SUFFIXES)} file"
        )
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path, engine="pyarrow")
        if suffix in SEPARATORS:
            return read_delimited(path)
        # dtype=False keeps JSON's own types (a review "007" stays text) and parses no dates.
        return pd.read_json(path, lines=True, dtype=False)
    except UnicodeDecodeError as error:
        raise DataSourceError(
            f"{path} is not UTF-8 text (it holds the byte "
            f"{error.object[error.start:error.start + 1]!r}); save it as UTF-8, e.g. with "
            "iconv -f latin1 -t utf-8"
        ) from error
    except (OSError, ValueError) as error:  # parser, arrow and empty-file errors: ValueErrors
        if isinstance(error, ValueError) and suffix in (".jsonl", ".json"):
            raise_bad_json_line(path, error)
        raise DataSourceError(
            f"could not read {path}: {short_reason(error)}; "
            "check the file (.json and .jsonl files are read as one JSON object per line)"
        ) from error


def read_delimited(path, **read_csv_arguments):
    """`pandas.read_csv` of a `.csv` or `.tsv` file, with the separator its suffix names."""
    return pd.read_csv(path, sep=SEPARATORS[Path(path).suffix.lower()], **read_csv_arguments)


def read_json_lines_in_chunks(path, chunk_rows: int):
    """DataFrames of at most `chunk_rows` lines of a JSON lines file; a bad line is named."""
    try:
        # dtype=False keeps JSON's own types (a review "007" stays text) and parses no dates.
        with pd.read_json(path, lines=True, dtype=False, chunksize=chunk_rows) as reader:
            yield from reader
    except ValueError as error:
        raise_bad_json_line(path, error)
        raise


def raise_bad_json_line(path, error: ValueError) -> None:
    """Raise a DataSourceError naming the line of `path` that is not JSON, when one is not.

    pandas names only the byte position of a bad value in a JSON lines file; the line is what
    a reader can open the file at. Read again line by line, on this error path only.
    """
    with open(path, encoding="utf-8", errors="replace") as file:
        for number, line in enumerate(file, start=1):
            if not line.strip():  # pandas skips blank lines too
                continue
            try:
                json.loads(line.rstrip("\r\n"))
            except json.JSONDecodeError as line_error:  # its own "line 1" would mislead
                raise DataSourceError(
                    f"{path} line {number} is not valid JSON ({line_error.msg}: column "
                    f"{line_error.colno}); fix or remove that line (.json and .jsonl files are "
                    "read as one JSON object per line)"
                ) from error


def require_column(table: pd.DataFrame, column: str, role: str, origin: str, fix: str) -> None:
    """Raise a DataSourceError naming the missing column, the columns there are, and the fix."""
    if column not in table.columns:
        raise DataSourceError(
            f"{role} column {column!r} not found in {origin}; "
            f"columns are {[str(name) for name in table.columns]}; {fix}"
        )


def short_reason(error: BaseException) -> str:
    """The first line of an exception's message, short enough for a one-line error."""
    lines = str(error).strip().splitlines()
    reason = lines[0] if lines else type(error).__name__
    return reason if len(reason) <= 200 else reason[:197] + "..."


def value_to_text(value) -> str | None:
    """One text cell as str: bytes decoded as UTF-8 (invalid bytes replaced), numbers as
    their text; None for a missing value (None, NaN, pd.NA)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    return str(value)


def validation_count(validation_size: float, train_rows: int, unit: str = "rows") -> int:
    """How many of `train_rows` to hold out: `validation_size` < 1 is a share, >= 1 a count.

    `unit` names what is counted in the one-line errors ("rows", "sentences").

    Example:
    >>> validation_count(0.2, 25_000), validation_count(500, 25_000)
    (5000, 500)
    """
    if validation_size <= 0 or (validation_size >= 1 and validation_size != int(validation_size)):
        raise DataSourceError(
            f"validation_size {validation_size!r} must be a share in (0, 1) or a whole number of "
            f"{unit}; pass e.g. --validation-size 0.2"
        )
    count = max(1, round(train_rows * validation_size)) if validation_size < 1 else int(validation_size)
    if count >= train_rows:
        raise DataSourceError(
            f"validation_size {validation_size!r} leaves none of the {train_rows} {unit} to train "
            "on; pass a smaller --validation-size, or a test split"
        )
    return count
