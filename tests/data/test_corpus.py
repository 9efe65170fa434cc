"""Pretraining text streamed from shards (minibert.data.corpus)."""

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from conftest import make_reviews
from minibert.config import get_preset
from minibert.data.corpus import (
    corpus_files,
    corpus_mlm_dataset,
    count_texts,
    iter_corpus_texts,
    sample_texts,
)
from minibert.data.tokenizer import build_vectorizer, vectorize


@pytest.fixture
def shards(tmp_path):
    """The same 90 reviews over a parquet, a CSV and a JSONL shard, with a missing and an empty text."""
    texts = make_reviews(90)["text"].tolist()
    pd.DataFrame({"text": texts[:30]}).to_parquet(tmp_path / "a.parquet")
    pd.DataFrame({"text": texts[30:60] + [None]}).to_csv(tmp_path / "b.csv", index=False)
    pd.DataFrame({"text": texts[60:] + [" "]}).to_json(tmp_path / "c.jsonl", orient="records", lines=True)
    (tmp_path / "notes.txt").write_text("not a shard")
    return tmp_path, texts


def test_every_shard_is_read_in_order_without_missing_or_empty_texts(shards):
    folder, texts = shards
    files = corpus_files(folder)
    assert [name.rsplit("/", 1)[-1] for name in files] == ["a.parquet", "b.csv", "c.jsonl"]
    assert list(iter_corpus_texts(files)) == texts
    assert sample_texts(files, 40) == texts[:40]
    assert count_texts(files) == 92  # counts rows, the missing and empty ones too


def test_a_corpus_without_shards_or_column_says_so(shards, tmp_path):
    folder, _ = shards
    with pytest.raises(ValueError, match="no 'review' column"):
        list(iter_corpus_texts(corpus_files(folder), text_column="review"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no .parquet"):
        corpus_files(empty)
    with pytest.raises(FileNotFoundError):
        corpus_files(tmp_path / "nowhere")


def test_one_pass_masks_every_text_once(shards):
    folder, texts = shards
    vectorizer = build_vectorizer(texts, 60, 24)
    dataset = corpus_mlm_dataset(corpus_files(folder), vectorizer, batch_size=8, vocabulary_size=60)
    restored = []
    for inputs, labels, weights in dataset:
        # Writing the labels back at their positions undoes the masking.
        batch = inputs["token_ids"].numpy().copy()
        assert batch.shape[1] == (batch != 0).sum(axis=1).max()  # cut to its longest
        positions, labels, weights = inputs["mask_positions"].numpy(), labels.numpy(), weights.numpy()
        for row, slot in zip(*np.nonzero(weights)):
            batch[row, positions[row, slot]] = labels[row, slot]
        restored += [tuple(row[row != 0]) for row in batch]
    expected = [tuple(row[row != 0]) for row in vectorize(vectorizer, texts)]
    assert sorted(restored) == sorted(expected)


@pytest.mark.slow
def test_a_run_pretrains_on_a_streamed_corpus(shards, tmp_path):
    from tests.test_training import tiny_data

    from minibert.training import run

    folder, _ = shards
    config = get_preset("tiny")
    config = dataclasses.replace(config, pretrain=dataclasses.replace(
        config.pretrain, corpus=str(folder), vocabulary_sample=50, fill_mask_sentences=(),
    ))
    lines = []
    metrics = run(tiny_data(), config, tmp_path / "run", verbose=0, print_fn=lines.append)
    assert any("3 shards streamed each epoch; vocabulary from its first 50 texts" in line for line in lines)
    assert np.isfinite(metrics["stages"]["mlm"]["loss"])
    with open(tmp_path / "run" / "config.json") as file:
        assert json.load(file)["pretrain"]["corpus"] == str(folder)


def test_streaming_under_another_backend_stops_naming_tensorflow(shards, monkeypatch):
    folder, texts = shards
    vectorizer = build_vectorizer(texts, 50, 16)
    # Streaming runs the vectorizer in tf.data: JAX and PyTorch processes cannot.
    monkeypatch.setattr("keras.backend.backend", lambda: "jax")
    with pytest.raises(ValueError, match="needs the TensorFlow backend .*this process runs jax"):
        corpus_mlm_dataset(corpus_files(str(folder)), vectorizer, batch_size=8, vocabulary_size=50)


def test_a_shard_of_bytes_is_read_as_the_data_sets_read_it(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = [b"a good film", b"caf\xff bad", None]
    pq.write_table(pa.table({"text": pa.array(texts, pa.binary())}), tmp_path / "a.parquet")
    pd.DataFrame({"text": [2024]}).to_json(tmp_path / "b.jsonl", orient="records", lines=True)
    assert list(iter_corpus_texts(corpus_files(str(tmp_path)))) == ["a good film", "caf\ufffd bad", "2024"]
