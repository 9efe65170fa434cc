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
from minibert.data.pipeline import batch_width
from minibert.data.tokenizer import build_vectorizer, vectorize
from minibert.reporting import reporting_to


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


@pytest.mark.parametrize("pad_to_multiple", [1, 8])
def test_one_pass_masks_every_text_once(shards, pad_to_multiple):
    folder, texts = shards
    vectorizer = build_vectorizer(texts, 60, 24)
    dataset = corpus_mlm_dataset(corpus_files(folder), vectorizer, batch_size=8, vocabulary_size=60,
                                 pad_to_multiple=pad_to_multiple)
    restored = []
    for inputs, labels, weights in dataset:
        # Writing the labels back at their positions undoes the masking.
        batch = inputs["token_ids"].numpy().copy()
        # Cut to its longest text, rounded up to the multiple as every other batch is.
        assert batch.shape[1] == int(batch_width((batch != 0).sum(axis=1).max(), 24, pad_to_multiple))
        positions, labels, weights = inputs["mask_positions"].numpy(), labels.numpy(), weights.numpy()
        for row, slot in zip(*np.nonzero(weights)):
            batch[row, positions[row, slot]] = labels[row, slot]
        restored += [tuple(row[row != 0]) for row in batch]
    expected = [tuple(row[row != 0]) for row in vectorize(vectorizer, texts)]
    assert sorted(restored) == sorted(expected)


@pytest.mark.slow
def test_a_run_pretrains_on_a_streamed_corpus(shards, tmp_path):
    from minibert.training import run
    from tests.test_training import tiny_data

    folder, _ = shards
    config = get_preset("tiny")
    # Pretraining is the subject: no fine-tuning epochs.
    config = dataclasses.replace(config, pretrain=dataclasses.replace(
        config.pretrain, corpus=str(folder), vocabulary_sample=50, fill_mask_sentences=(),
    ), finetune=dataclasses.replace(config.finetune, frozen_epochs=0, unfrozen_epochs=0))
    lines = []
    with reporting_to(lines.append):
        metrics = run(tiny_data(), config, tmp_path / "run", verbose=0)
    assert any("3 shards streamed each epoch; vocabulary from its first 50 texts" in line for line in lines)
    assert np.isfinite(metrics["stages"]["mlm"]["loss"])
    with open(tmp_path / "run" / "config.json") as file:
        assert json.load(file)["pretrain"]["corpus"] == str(folder)


def test_a_streamed_corpus_pads_for_devices_and_feeds_one_process_its_share(shards):
    folder, texts = shards
    vectorizer = build_vectorizer(texts, 60, 24)
    files = corpus_files(folder)
    whole = corpus_mlm_dataset(files, vectorizer, batch_size=6, vocabulary_size=60, rows_multiple=4)
    rows = [int(inputs["token_ids"].shape[0]) for inputs, _, _ in whole]
    assert all(count % 4 == 0 for count in rows) and sum(rows) > len(texts)  # zero-weight rows added
    shares = [corpus_mlm_dataset(files, vectorizer, batch_size=6, vocabulary_size=60, rows_multiple=4,
                                 process_rows=(index, 2)) for index in range(2)]
    for (first, _, _), (second, _, _), count in zip(*shares, rows):
        assert first["token_ids"].shape[0] == second["token_ids"].shape[0] == count // 2


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


def test_a_tsv_shard_is_read_as_a_csv_with_tabs(tmp_path):
    pd.DataFrame({"text": ["a good, fine film", "a bad film"], "id": [1, 2]}).to_csv(
        tmp_path / "a.tsv", sep="\t", index=False
    )
    assert list(iter_corpus_texts(corpus_files(str(tmp_path)))) == ["a good, fine film", "a bad film"]


def test_a_jsonl_shard_line_that_is_not_json_is_named(tmp_path):
    shard = tmp_path / "a.jsonl"
    shard.write_text('{"text": "fine"}\n{"text": "broken\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"a\.jsonl line 2 is not valid JSON \(Unterminated string"):
        list(iter_corpus_texts(corpus_files(str(tmp_path))))
