"""Bad input, clear answers: each input either works (as documented) or stops in one line.

The odd-input table of docs/reliability.md, one test (or a few) per input. Inputs already
covered where they are handled are named here, not tested twice:
  - rows with empty, whitespace-only or missing text, or no label, are
    dropped and counted: tests/data/test_sources.py
    test_rows_without_text_or_label_are_dropped_and_counted;
  - missing columns: test_missing_column_error_names_the_columns_and_the_flag;
  - a single class, an empty data set: test_single_class_or_empty_data_is_an_error;
  - a sentence without [mask] to fill-mask: tests/test_cli.py
    test_fill_mask_without_a_mask_says_so_in_one_line.
"""

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from conftest import make_reviews
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minibert.config import ModelConfig, RunConfig, get_preset
from minibert.data.labels import align_labels
from minibert.data.sources import load_dataset
from minibert.data.tables import DataSourceError
from minibert.data.tokenizer import NUM_SPECIAL_TOKENS, build_vectorizer, vectorize
from minibert.models import Backbone
from minibert.tasks.classification.classifier import Classifier
from minibert.tasks.classification.end_to_end_classifier import EndToEndClassifier
from minibert.training import run

SEQUENCE_LENGTH = 16
# Any unicode, control characters, surrogates' neighbours and emoji included.
ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)


@pytest.fixture(scope="module")
def vectorizer():
    texts = make_reviews(60)["text"].tolist() + ["😀 映画 фильм مرحبا"]
    return build_vectorizer(texts, 60, SEQUENCE_LENGTH)


@pytest.fixture(scope="module")
def end_to_end(vectorizer):
    backbone = Backbone(
        vectorizer.vocabulary_size(), SEQUENCE_LENGTH, 16, num_layers=1, num_heads=2,
        intermediate_dim=16,
    )
    return EndToEndClassifier(vectorizer, Classifier(backbone, num_classes=2), ["neg", "pos"])


# === Text the models are given ===


def test_empty_and_whitespace_texts_get_the_same_unsaturated_answer(end_to_end):
    # No word at all: the head answers from its bias, not from padding.
    probabilities = end_to_end.predict(["", "   \n\t", "good film"], verbose=0)
    assert probabilities[0, 0] == pytest.approx(probabilities[1, 0])
    assert 0.05 < probabilities[0, 0] < 0.95


def test_missing_texts_are_refused_naming_the_row(end_to_end):
    for missing in (None, float("nan"), pd.NA):
        with pytest.raises(ValueError, match=r"^text 1 is missing .*dropna"):
            end_to_end.predict(["good film", missing], verbose=0)


def test_numbers_are_read_as_their_text_and_bytes_as_utf8(end_to_end):
    as_text = end_to_end.predict(["12345", "3.5", "caf\ufffd good"], verbose=0)
    # Invalid UTF-8 (b"\xff") decodes to the replacement character.
    as_values = end_to_end.predict([12345, 3.5, b"caf\xff good"], verbose=0)
    np.testing.assert_allclose(as_values, as_text, atol=1e-6)


def test_no_texts_give_no_rows(end_to_end):
    assert end_to_end.predict([], verbose=0).shape == (0, 1)


def test_a_one_megabyte_review_is_cut_to_the_sequence_length(end_to_end, vectorizer):
    review = "good film " * 100_000  # 1 MB
    ids = vectorize(vectorizer, [review])
    assert ids.shape == (1, SEQUENCE_LENGTH) and (ids > 0).all()
    probabilities = end_to_end.predict([review], verbose=0)
    assert probabilities.shape == (1, 1) and np.isfinite(probabilities).all()


def test_emoji_and_other_scripts_are_words_of_the_vocabulary(vectorizer):
    vocabulary = vectorizer.get_vocabulary()
    for word in ("😀", "映画", "фильм", "مرحبا"):
        assert word in vocabulary
    ids = vectorize(vectorizer, ["😀 фильм"])[0]
    assert [vocabulary[i] for i in ids[:2]] == ["😀", "фильм"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(ANY_TEXT, min_size=1, max_size=4))
def test_any_unicode_tokenizes_to_padded_ids_in_the_vocabulary(vectorizer, texts):
    ids = vectorize(vectorizer, texts)
    assert ids.shape == (len(texts), SEQUENCE_LENGTH)
    assert ((ids >= 0) & (ids < vectorizer.vocabulary_size())).all()
    # Padding (id 0) only after the last real token.
    for row in ids:
        real = np.flatnonzero(row)
        assert (row[: len(real)] > 0).all() if len(real) else True
    # Words the data never had are [UNK], never a special token of their own.
    assert not np.isin(ids, range(2, NUM_SPECIAL_TOKENS)).any()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(ANY_TEXT, min_size=1, max_size=4))
def test_any_unicode_gets_a_probability_from_the_end_to_end_model(end_to_end, texts):
    probabilities = end_to_end.predict(texts, verbose=0)
    assert probabilities.shape == (len(texts), 1)
    assert np.isfinite(probabilities).all()
    assert ((probabilities >= 0) & (probabilities <= 1)).all()


# === Data sets ===


def test_bytes_and_invalid_utf8_in_a_parquet_text_column_are_decoded(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    reviews = make_reviews(40)
    texts = [text.encode() for text in reviews["text"]]
    texts[0] = b"caf\xff good film"
    path = tmp_path / "bytes.parquet"
    pq.write_table(pa.table({"text": pa.array(texts, pa.binary()), "label": reviews["label"]}), path)

    data = load_dataset(str(path), validation_size=4)

    every_text = set(data.train["text"]) | set(data.validation["text"])
    assert "caf\ufffd good film" in every_text and len(every_text) == 40


def test_a_csv_that_is_not_utf8_stops_naming_the_encoding_fix(tmp_path):
    path = tmp_path / "latin1.csv"
    make_reviews(20).assign(text=lambda frame: frame["text"] + " café").to_csv(
        path, index=False, encoding="latin-1"
    )
    with pytest.raises(DataSourceError, match=r"latin1\.csv is not UTF-8 text .*save it as UTF-8"):
        load_dataset(str(path))


def test_test_labels_the_train_split_lacks_are_refused(tmp_path):
    make_reviews(20).to_csv(tmp_path / "train.csv", index=False)
    test = make_reviews(6)
    test.loc[0, "label"] = 7
    test.to_csv(tmp_path / "test.csv", index=False)
    with pytest.raises(DataSourceError, match=r"labels \['7'\] that the train split lacks"):
        load_dataset(str(tmp_path))


def test_evaluation_labels_map_to_the_models_classes_by_name_or_id():
    # By name, whatever order the data sorted them in.
    assert align_labels(np.array([0, 1, 1]), ("pos", "neg"), ["neg", "pos"]).tolist() == [1, 0, 0]
    # A CSV of 0/1 against a model with named classes: ids as they are.
    assert align_labels(np.array([0, 1]), ("0", "1"), ["neg", "pos"]).tolist() == [0, 1]
    with pytest.raises(DataSourceError, match=r"labels \['2'\] are not among the model's 2 classes"):
        align_labels(np.array([0, 1, 2]), ("0", "1", "2"), ["neg", "pos"])
    with pytest.raises(DataSourceError, match=r"labels \['meh'\] are not among .*--label-names"):
        align_labels(np.array([0, 1]), ("meh", "pos"), ["neg", "pos"])


@pytest.mark.slow
def test_a_three_row_data_set_trains(tmp_path):
    # Documented to work: 2 rows train, 1 validates; nothing to learn, nothing breaks.
    path = tmp_path / "three.csv"
    make_reviews(3).to_csv(path, index=False)
    data = load_dataset(str(path))
    assert (len(data.train), len(data.validation)) == (2, 1)
    config = get_preset("tiny")
    config = dataclasses.replace(
        config,
        pretrain=dataclasses.replace(config.pretrain, epochs=1, batch_size=2, fill_mask_sentences=()),
        finetune=dataclasses.replace(config.finetune, frozen_epochs=1, unfrozen_epochs=1, batch_size=2),
    )
    metrics = run(data, config, str(tmp_path / "run"), verbose=0)
    assert math.isfinite(metrics["stages"]["unfrozen"]["loss"])


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (ModelConfig(sequence_length=1), r"sequence_length \(--max-length\) must be at least 2, got 1"),
        (ModelConfig(vocabulary_size=5), r"vocabulary_size \(--vocabulary-size\) must exceed the 5 special"),
        (ModelConfig(hidden_dim=10, num_heads=4), r"hidden_dim \(--hidden-dim\) 10 must be a multiple"),
    ],
)
def test_sizes_no_model_can_take_stop_at_configuration(model, expected):
    with pytest.raises(ValueError, match=expected):
        RunConfig(model=model)
