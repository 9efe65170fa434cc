"""Pretraining text streamed from parquet, CSV, TSV or JSONL shards, never held in memory.

For corpora larger than memory (Amazon polarity has 3.6 million reviews): the
masked LM reads its text shard by shard through tf.data, the vocabulary is
adapted on a bounded sample of it, and memory stays flat as the corpus grows
(figures in the README).

Example:
>>> import os, tempfile, pandas as pd
>>> folder = tempfile.mkdtemp()
>>> pd.DataFrame({"text": ["a good film", "a bad film"]}).to_csv(os.path.join(folder, "a.csv"))
>>> pd.DataFrame({"text": ["fine"]}).to_json(os.path.join(folder, "b.jsonl"), orient="records", lines=True)
>>> list(iter_corpus_texts(corpus_files(folder)))
['a good film', 'a bad film', 'fine']
"""

import itertools
import os

import keras
import pyarrow.parquet as pq
import tensorflow as tf

from minibert.data.pipeline import (
    PAD_TO_MULTIPLE,
    mask_batch,
    pad_batches,
    process_share,
    to_batch_width,
)
from minibert.data.tables import (
    SEPARATORS,
    TABLE_SUFFIXES,
    read_delimited,
    read_json_lines_in_chunks,
    value_to_text,
)

CORPUS_SUFFIXES = TABLE_SUFFIXES
# Rows read from a shard at a time.
_CHUNK_ROWS = 10_000
# Texts vectorized together, and the shuffle buffer (texts, about 15 MB of reviews).
_VECTORIZE_BATCH = 1024
SHUFFLE_BUFFER = 10_000


def corpus_files(path) -> list[str]:
    """The shards of a corpus: `path` itself, or the parquet/CSV/TSV/JSONL files in that folder."""
    if os.path.isfile(path):
        files = [path]
    elif os.path.isdir(path):
        files = sorted(os.path.join(path, name) for name in os.listdir(path))
    else:
        raise FileNotFoundError(f"pretraining corpus {path} not found")
    files = [file for file in files if file.endswith(CORPUS_SUFFIXES)]
    if not files:
        raise ValueError(f"no {'/'.join(CORPUS_SUFFIXES)} files in the pretraining corpus {path}")
    return files


def _chunks(file, text_column):
    """The shard's `text_column`, `_CHUNK_ROWS` values at a time."""
    if file.endswith(".parquet"):
        shard = pq.ParquetFile(file)
        if text_column not in shard.schema_arrow.names:
            raise ValueError(f"no {text_column!r} column in {file}; columns are {shard.schema_arrow.names}")
        for batch in shard.iter_batches(batch_size=_CHUNK_ROWS, columns=[text_column]):
            yield batch.column(0).to_pylist()
        return
    if os.path.splitext(file)[1] in SEPARATORS:
        with read_delimited(file, chunksize=_CHUNK_ROWS, usecols=[text_column]) as reader:
            yield from (frame[text_column].tolist() for frame in reader)
        return
    for frame in read_json_lines_in_chunks(file, _CHUNK_ROWS):
        if text_column not in frame:
            raise ValueError(f"no {text_column!r} column in {file}; columns are {list(frame)}")
        yield frame[text_column].tolist()


def iter_corpus_texts(files, text_column="text"):
    """Every non-empty text of the shards, in order; missing values are skipped.

    Cells are read as the data sets read them (`value_to_text`): bytes
    decoded, numbers as their text.
    """
    for file in files:
        for chunk in _chunks(file, text_column):
            for value in chunk:
                text = value_to_text(value)
                if text is not None and text.strip():
                    yield text


def sample_texts(files, limit: int, text_column="text") -> list[str]:
    """The first `limit` texts: what the vocabulary is adapted on."""
    return list(itertools.islice(iter_corpus_texts(files, text_column), limit))


def count_texts(files, text_column="text") -> int:
    """How many texts one pass reads (parquet: from its metadata, an upper bound)."""
    total = 0
    for file in files:
        if file.endswith(".parquet"):
            total += pq.ParquetFile(file).metadata.num_rows
        else:
            total += sum(len(chunk) for chunk in _chunks(file, text_column))
    return total


def corpus_mlm_dataset(
    files, vectorizer, *, batch_size: int, vocabulary_size: int, mask_rate: float = 0.15,
    seed: int = 42, text_column="text", rows_multiple: int = 1,
    pad_to_multiple: int = PAD_TO_MULTIPLE, process_rows: tuple[int, int] = (0, 1),
) -> tf.data.Dataset:
    """Masked-LM batches streamed from the shards, as `minibert.data.pipeline.mlm_dataset` makes them.

    Each pass reads the shards again: texts are shuffled within a buffer of
    `SHUFFLE_BUFFER`, vectorized, grouped by length into buckets
    `pad_to_multiple` tokens wide, batched (each batch cut to its
    `minibert.data.pipeline.batch_width`) and masked afresh. `rows_multiple`
    and `process_rows` are `mlm_dataset`'s: data-parallel padding rows, and
    one process's share of each batch in a multi-host job. Needs the
    TensorFlow backend, where the vectorizer runs inside tf.data.
    """
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            "--pretraining-corpus needs the TensorFlow backend (the vectorizer runs inside "
            f"tf.data); this process runs {keras.backend.backend()}"
        )
    texts = tf.data.Dataset.from_generator(
        lambda: iter_corpus_texts(files, text_column), output_signature=tf.TensorSpec((), tf.string)
    )
    sequence_length = vectorizer.get_config()["output_sequence_length"]
    token_ids = (
        texts.shuffle(SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True)
        .batch(_VECTORIZE_BATCH)
        .map(vectorizer, num_parallel_calls=tf.data.AUTOTUNE)
        .unbatch()
        .map(lambda ids: ids[: tf.reduce_sum(tf.cast(ids != 0, tf.int32))])
        .filter(lambda ids: tf.size(ids) > 0)  # nothing to predict in a text of no known word
    )
    boundaries = list(range(pad_to_multiple, sequence_length, pad_to_multiple))
    batches = token_ids.bucket_by_sequence_length(
        lambda ids: tf.shape(ids)[0],
        bucket_boundaries=[boundary + 1 for boundary in boundaries],
        bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
    ).map(lambda ids: to_batch_width(ids, sequence_length, pad_to_multiple))
    random_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    dataset = tf.data.Dataset.zip(batches, random_seeds).map(
        lambda ids, random_seed: mask_batch(ids, random_seed, seed, vocabulary_size, mask_rate),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return process_share(pad_batches(dataset, rows_multiple), process_rows).prefetch(tf.data.AUTOTUNE)
