"""`--tokenizer wordpiece`: sub-word pieces that train, save with the run and reload like words."""

import dataclasses

import keras
import numpy as np
import pandas as pd
import pytest
from conftest import make_reviews
from test_cli import minibert
from test_training import tiny_config, tiny_data

from minibert import runs
from minibert.data.tokenizer import (
    MASK_ID,
    SPECIAL_TOKENS,
    UNKNOWN_ID,
    build_vectorizer,
    vectorize,
)
from minibert.data.word_piece import WordPieceVectorizer, build_word_piece_vectorizer
from minibert.runs import files
from minibert.training import run


@pytest.fixture(scope="module")
def review_texts():
    return make_reviews(200)["text"].tolist()


def test_a_word_the_vocabulary_lacks_becomes_known_pieces_instead_of_unk(review_texts):
    pieces = build_word_piece_vectorizer(review_texts, 200, 16)
    words = build_vectorizer(review_texts, 200, 16)
    # "superbness" never occurs in the reviews; "superb" does.
    unseen = ["superbness"]
    assert vectorize(words, unseen)[0, 0] == UNKNOWN_ID
    ids = vectorize(pieces, unseen)[0]
    ids = ids[ids != 0]
    assert len(ids) >= 2 and UNKNOWN_ID not in ids
    vocabulary = pieces.get_vocabulary()
    assert vocabulary[ids[0]] == "superb" and all(vocabulary[i].startswith("##") for i in ids[1:])


def test_a_cased_vocabulary_keeps_a_names_capitals_and_reloads_cased(tmp_path):
    texts = ["Apple sold an apple in Paris", "apple pie from Apple"] * 20
    cased = build_word_piece_vectorizer(texts, 60, 8, lowercase=False)
    vocabulary = cased.get_vocabulary()
    assert {"Apple", "apple", "Paris"} <= set(vocabulary) and "paris" not in vocabulary
    ids = vectorize(cased, ["Apple apple", "APPLE"])
    assert ids[0, 0] != ids[0, 1] and UNKNOWN_ID not in ids[0, :2]
    lowercased = build_word_piece_vectorizer(texts, 60, 8)
    assert vectorize(lowercased, ["Apple apple"])[0, 0] == vectorize(lowercased, ["apple"])[0, 0]
    # The case setting travels with a saved model.
    model = keras.Sequential([keras.Input((), dtype="string"), cased])
    model.save(tmp_path / "cased.keras")
    reloaded = keras.models.load_model(tmp_path / "cased.keras").layers[-1]
    assert reloaded.lowercase is False
    assert (vectorize(reloaded, ["Apple apple"]) == ids[:1]).all()


def test_special_tokens_keep_their_ids_and_a_typed_mask_stays_one_token(review_texts):
    pieces = build_word_piece_vectorizer(review_texts, 200, 16)
    assert tuple(pieces.get_vocabulary()[: len(SPECIAL_TOKENS)]) == SPECIAL_TOKENS
    ids = vectorize(pieces, ["The movie was [mask]!", ""])
    assert ids.shape == (2, 16) and ids.dtype == np.int32
    assert ids[0, 3] == MASK_ID and (ids[0, 4:] == 0).all() and (ids[1] == 0).all()


def test_a_wordpiece_vectorizer_refuses_a_vocabulary_without_the_special_tokens_first():
    with pytest.raises(ValueError, match="starts with minibert's special tokens"):
        WordPieceVectorizer(["[UNK]", "a", "b", "c", "d", "e"], sequence_length=8)


@pytest.mark.slow
def test_a_wordpiece_run_learns_saves_and_reloads_without_custom_objects(tmp_path):
    config = dataclasses.replace(
        tiny_config(mlm_epochs=3, frozen_epochs=0, unfrozen_epochs=2, learning_rate=3e-3),
        tokenizer="wordpiece",
    )
    output = tmp_path / "run"
    metrics = run(tiny_data(), config, str(output), verbose=0)
    assert files.read_json(output / runs.CONFIG_FILE)["tokenizer"] == "wordpiece"
    vocabulary = (output / runs.VOCABULARY_FILE).read_text().split("\n")
    assert any(token.startswith("##") for token in vocabulary)
    history = pd.read_csv(output / runs.HISTORY_FILE)
    mlm_loss = history[history["stage"] == "mlm"]["loss"].to_numpy()
    assert mlm_loss[-1] < mlm_loss[0]
    assert metrics["stages"]["unfrozen"]["val_accuracy"] >= 0.8  # three words give the label away

    texts = ["a superb and wonderful film", "a dull boring plot, the worst", "superbness"]
    model = keras.models.load_model(output / runs.END_TO_END_FILE)
    assert isinstance(model.vectorizer, WordPieceVectorizer)
    probabilities = model.predict(np.array(texts), verbose=0)
    assert probabilities[0, 0] > 0.5 > probabilities[1, 0]  # one sigmoid column: P(positive)
    model.save(tmp_path / "again.keras")
    again = keras.models.load_model(tmp_path / "again.keras")
    np.testing.assert_allclose(again.predict(np.array(texts), verbose=0), probabilities, atol=1e-6)

    # fill-mask reads the run's pieces back from vocabulary.txt.
    assert "[mask 1]" in minibert("fill-mask", str(output), "the [mask] was superb").stdout


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--tokenizer", "bpe"], "invalid choice: 'bpe'"),
        (["--tokenizer", "wordpiece", "--objective", "mlm+nsp"], "an objective of single texts"),
    ],
)
def test_bad_tokenizer_values_are_refused_in_one_line(tmp_path, flags, message):
    csv = tmp_path / "reviews.csv"
    make_reviews(40).to_csv(csv, index=False)
    result = minibert("train", "--dataset", str(csv), "--preset", "tiny", "--output",
                      str(tmp_path / "run"), *flags, check=False)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and message in errors[0]
