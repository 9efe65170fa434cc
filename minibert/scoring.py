"""Scoring a file of texts with a run's end-to-end model (`python -m minibert predict --input`).

The file is read and written in chunks of `CHUNK_ROWS` rows, so memory stays
flat however long it is. Within a chunk, texts of similar length are batched
together and each batch is cut to its longest text (rounded up to
`PAD_TO_MULTIPLE` tokens): a short review is not padded to the model's full
length, as `EndToEndClassifier.predict` pads every text.

Output: every input column, then the model's prediction columns: a
classifier's `predicted_label`, `predicted_probability` and one
`probability_<label>` column per class; a tagger's `entities`, a JSON list of
`{"type", "start", "end", "text", "confidence"}` per row. A row without text
keeps its columns, with empty predictions, and is reported by its row number.
"""

import contextlib
import itertools
import os
import sys
import time

import numpy as np
import pandas as pd

from minibert.data.tables import (
    SEPARATORS,
    TABLE_SUFFIXES,
    read_delimited,
    read_json_lines_in_chunks,
    require_column,
    value_to_text,
)
from minibert.runs import files

CHUNK_ROWS = 10_000
STDIN = "-"


def score_file(model, input_path, output_path, text_column="text", text_pair_column=None,
               batch_size=128, progress=sys.stderr) -> dict:
    """Scores every row of `input_path` into `output_path`; returns what it did.

    Args:
        model: an `EndToEndClassifier` (a run's `end_to_end.keras`).
        input_path: a .csv, .tsv, .parquet, .jsonl or .json (one object per
            line) file, or "-": one text per line on stdin.
        output_path: a .csv, .tsv, .parquet or .jsonl file, written whole at the
            end (never half-written), or "-": CSV on stdout.
        text_column, text_pair_column: the columns to read (a pair model
            needs `text_pair_column`).
        progress: where the progress line goes (None: nowhere).

    Returns:
        `{"rows": rows read and written, "missing_text_rows": their 1-based
        row numbers, "seconds": wall time, "rows_per_second": ...}`.
    """
    if model.pairs != (text_pair_column is not None):
        raise ValueError("a pair model needs --text-pair-column; a single-text model takes none"
                         if model.pairs else "this model classifies single texts; drop --text-pair-column")
    writer = ChunkWriter(output_path)
    start = time.perf_counter()
    rows, missing = 0, []
    total = count_rows(input_path)
    try:
        for chunk in read_chunks(input_path, text_column, text_pair_column):
            scored, chunk_missing = score_chunk(model, chunk, text_column, text_pair_column, batch_size)
            missing += [rows + 1 + index for index in chunk_missing]
            rows += len(chunk)
            writer.write(scored)
            if progress is not None:
                rate = rows / max(time.perf_counter() - start, 1e-9)
                of_total = f" of {total:,}" if total is not None else ""
                progress.write(f"\rscored {rows:,}{of_total} rows, {rate:,.0f} rows/s")
                progress.flush()
        if rows == 0:
            raise ValueError(f"{input_path} has no rows to score")
        writer.close()
    finally:
        writer.discard()
        if progress is not None and rows:
            progress.write("\n")
    seconds = time.perf_counter() - start
    return {"rows": rows, "missing_text_rows": missing, "seconds": seconds,
            "rows_per_second": rows / max(seconds, 1e-9)}


def score_chunk(model, chunk: pd.DataFrame, text_column, text_pair_column=None, batch_size=128):
    """`chunk` with the prediction columns added, and the positions of its rows without text.

    The columns are the model's `prediction_columns` of the rows with text;
    a row without text gets empty ones (NaN, or None in a column of names).
    """
    columns = [text_column] + ([text_pair_column] if text_pair_column else [])
    texts = {name: chunk[name].map(value_to_text) for name in columns}
    present = np.logical_and.reduce([values.notna().to_numpy() for values in texts.values()])
    if text_pair_column:
        inputs = {"text": texts[text_column][present].tolist(),
                  "text_pair": texts[text_pair_column][present].tolist()}
    else:
        inputs = texts[text_column][present].tolist()
    scored = chunk.copy()
    for name, values in model.prediction_columns(inputs, batch_size).items():
        values = np.asarray(values)
        column = (np.full(len(chunk), np.nan, values.dtype) if values.dtype.kind == "f"
                  else np.full(len(chunk), None, object))
        column[present] = values
        scored[name] = column
    return scored, np.flatnonzero(~present).tolist()




def count_rows(path) -> int | None:
    """The file's row count when it is cheap to know (parquet's metadata); None otherwise."""
    if path != STDIN and str(path).lower().endswith(".parquet"):
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    return None


def read_chunks(path, text_column="text", text_pair_column=None, chunk_rows=None):
    """DataFrames of at most `chunk_rows` (default `CHUNK_ROWS`) rows of `path`, or of stdin's lines.

    Stdin's lines become the `text_column` column; an empty line, a row without text.
    """
    chunk_rows = chunk_rows or CHUNK_ROWS
    if path == STDIN:
        yield from _stdin_chunks(text_column, chunk_rows)
        return
    suffix = os.path.splitext(str(path))[1].lower()
    if not os.path.isfile(path):
        raise FileNotFoundError(f"input file {path} not found")
    if suffix not in TABLE_SUFFIXES:
        raise ValueError(f"cannot read {path}: pass a {'/'.join(TABLE_SUFFIXES)} file, or - for stdin")
    if os.path.getsize(path) == 0:
        raise ValueError(f"{path} is empty: no rows to score")
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        chunks = (batch.to_pandas() for batch in pq.ParquetFile(path).iter_batches(chunk_rows))
    elif suffix in SEPARATORS:
        chunks = read_delimited(path, chunksize=chunk_rows)
    else:
        chunks = read_json_lines_in_chunks(path, chunk_rows)
    for chunk in chunks:
        for column, role, flag in ((text_column, "text", "--text-column"),
                                   (text_pair_column, "text pair", "--text-pair-column")):
            if column is not None:
                require_column(chunk, column, role, os.path.basename(path), f"pass {flag}")
        yield chunk.reset_index(drop=True)


def _stdin_chunks(text_column, chunk_rows):
    lines = (line.rstrip("\r\n") for line in sys.stdin)
    while True:
        chunk = list(itertools.islice(lines, chunk_rows))
        if not chunk:
            return
        # An empty line is a row without text, reported like a missing cell.
        yield pd.DataFrame({text_column: [line if line.strip() else None for line in chunk]})


class ChunkWriter:
    """Appends DataFrames to a .csv, .tsv, .parquet or .jsonl file, or CSV to stdout ("-").

    A file is written under a temporary name and renamed into place by
    `close()`, so an interrupted run leaves no half-written output.
    """

    SUFFIXES = (".csv", ".tsv", ".parquet", ".jsonl")

    def __init__(self, path):
        self.path = path
        self.suffix = ".csv" if path == STDIN else os.path.splitext(str(path))[1].lower()
        if self.suffix not in self.SUFFIXES:
            raise ValueError(f"cannot write {path}: pass a {'/'.join(self.SUFFIXES)} file, or - for stdout")
        self.parquet = None
        self.started = False
        self.temporary = None
        if path != STDIN:
            with self._refused_writes_named():
                self.temporary = files.temporary_path(path)

    @contextlib.contextmanager
    def _refused_writes_named(self):
        """A write the disk or the folder refuses, as the one line every refused write is."""
        try:
            yield
        except OSError as error:
            if not files.is_write_failure(error):
                raise
            raise files.WriteError(files.write_failure_message(self.path, error)) from error

    def write(self, frame: pd.DataFrame) -> None:
        with self._refused_writes_named():
            self._write(frame)
        self.started = True

    def _write(self, frame: pd.DataFrame) -> None:
        if self.path == STDIN:
            frame.to_csv(sys.stdout, index=False, header=not self.started)
        elif self.suffix in SEPARATORS:
            frame.to_csv(self.temporary, sep=SEPARATORS[self.suffix], index=False,
                         header=not self.started, mode="a" if self.started else "w")
        elif self.suffix == ".jsonl":
            with open(self.temporary, "a" if self.started else "w", encoding="utf-8") as file:
                frame.to_json(file, orient="records", lines=True, force_ascii=False)
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            if self.parquet is None:
                table = pa.Table.from_pandas(frame, preserve_index=False)
                self.parquet = pq.ParquetWriter(self.temporary, table.schema)
            else:  # a later chunk's all-empty column must not change the file's types
                table = pa.Table.from_pandas(frame, schema=self.parquet.schema, preserve_index=False)
            self.parquet.write_table(table)

    def close(self) -> None:
        """Moves the finished file into place."""
        with self._refused_writes_named():
            if self.parquet is not None:
                self.parquet.close()
            if self.temporary is not None and self.started:
                files.move_into_place(self.temporary, self.path)
                self.temporary = None

    def discard(self) -> None:
        """Removes an unfinished temporary file (after `close`, nothing is left to remove)."""
        if self.parquet is not None and self.temporary is not None:
            self.parquet.close()
        if self.temporary is not None and os.path.exists(self.temporary):
            os.remove(self.temporary)
