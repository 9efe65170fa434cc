"""Behaviours of the token-classification models: TokenClassifier and EndToEndTagger."""

import subprocess
import sys

import keras
import numpy as np
import pytest

from minibert.data.tokenizer import build_vectorizer
from minibert.data.word_piece import build_word_piece_vectorizer
from minibert.models import Backbone
from minibert.tasks.token_classification.end_to_end_tagger import EndToEndTagger
from minibert.tasks.token_classification.token_classifier import TokenClassifier

TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
SENTENCES = ["Steven Spielberg filmed Jaws in Martha's Vineyard.",
             "Ada Lovelace wrote notes in London, U.S.A. and Paris!"]


# Long enough that no word of SENTENCES is cut, even in WordPiece's pieces.
SEQUENCE_LENGTH = 48


def _tagger(vocabulary_size, sequence_length=SEQUENCE_LENGTH):
    keras.utils.set_random_seed(0)
    backbone = Backbone(vocabulary_size, sequence_length, 16, num_layers=2, num_heads=2,
                        intermediate_dim=32)
    return TokenClassifier(backbone, num_tags=len(TAGS))


TOKENIZERS = ["word", "wordpiece"]


def _end_to_end(tokenizer):
    build = build_vectorizer if tokenizer == "word" else build_word_piece_vectorizer
    vectorizer = build(SENTENCES, 60, SEQUENCE_LENGTH)
    return EndToEndTagger(vectorizer, _tagger(vectorizer.vocabulary_size()), TAGS, "IOB2")


@pytest.fixture(scope="module", params=TOKENIZERS)
def end_to_end(request):
    return _end_to_end(request.param)


def test_token_classifier_gives_tag_probabilities_at_every_token():
    probabilities = _tagger(50)(np.array([[5, 6, 7, 0]], "int32"))
    assert tuple(probabilities.shape) == (1, 4, len(TAGS))
    np.testing.assert_allclose(np.sum(probabilities, axis=-1), 1.0, rtol=1e-5)


def test_one_tag_is_a_value_error_naming_num_tags():
    with pytest.raises(ValueError, match="num_tags=1"):
        TokenClassifier(_tagger(50).backbone, num_tags=1)


def test_tag_names_must_match_num_tags_and_hold_outside():
    vectorizer = build_vectorizer(SENTENCES, 60, SEQUENCE_LENGTH)
    with pytest.raises(ValueError, match="4 tag names for a 5-tag tagger"):
        EndToEndTagger(vectorizer, _tagger(60), TAGS[:4])
    with pytest.raises(ValueError, match="lack 'O'"):
        EndToEndTagger(vectorizer, _tagger(60), ["X", *TAGS[1:]])


def test_every_word_gets_a_tag_and_its_character_span(end_to_end):
    tagged = end_to_end.tag_words(SENTENCES)
    words = [word for word, *_ in tagged[0]]
    assert words == ["Steven", "Spielberg", "filmed", "Jaws", "in", "Martha's", "Vineyard", "."]
    for text, sentence in zip(SENTENCES, tagged):
        for word, start, end, tag, confidence in sentence:
            assert text[start:end] == word and tag in TAGS and 0 < confidence <= 1


def test_entity_spans_slice_the_sentence_back_to_their_words(end_to_end):
    # Untrained, the tagger predicts entities all over: each must still slice back.
    found = end_to_end.predict_entities(SENTENCES)
    assert len(found) == 2 and any(found)
    for text, entities in zip(SENTENCES, found):
        for entity in entities:
            assert entity.text == text[entity.start:entity.end]
            assert entity.type in ("PER", "LOC") and 0 < entity.confidence <= 1


def test_empty_and_wordless_texts_have_no_entities(end_to_end):
    assert end_to_end.predict_entities(["", "   "]) == [[], []]
    assert end_to_end.predict_entities([]) == []


def test_end_to_end_tagger_reloads_without_custom_objects_and_predicts_the_same(
        end_to_end, tmp_path):
    path = tmp_path / "end_to_end.keras"
    end_to_end.save(path)
    reloaded = keras.models.load_model(path)
    assert isinstance(reloaded, EndToEndTagger) and reloaded.scheme == "IOB2"
    assert reloaded.tag_words(SENTENCES) == end_to_end.tag_words(SENTENCES)
    tagger_path = tmp_path / "tagger.keras"
    end_to_end.tagger.save(tagger_path)
    ids = np.array([[5, 6, 7, 0]], "int32")
    np.testing.assert_allclose(keras.models.load_model(tagger_path).predict(ids, verbose=0),
                               end_to_end.tagger.predict(ids, verbose=0), rtol=1e-6)


@pytest.mark.slow
def test_a_fresh_process_reloads_the_taggers_with_import_minibert_alone(tmp_path):
    # Each tokenizer's tagger, reloaded in one fresh process: its start is most of the time.
    taggers = [_end_to_end(tokenizer) for tokenizer in TOKENIZERS]
    paths = [str(tmp_path / f"{tokenizer}.keras") for tokenizer in TOKENIZERS]
    for tagger, path in zip(taggers, paths):
        tagger.save(path)
    script = ("import sys, keras, minibert\n"
              "for path in sys.argv[1:]:\n"
              "    print(keras.models.load_model(path).tag_words(%r))\n" % SENTENCES[:1])
    result = subprocess.run([sys.executable, "-c", script, *paths], capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip().splitlines() == [
        str(tagger.tag_words(SENTENCES[:1])) for tagger in taggers]


def test_predict_prints_a_line_per_entity_and_one_for_a_text_without_any(end_to_end):
    from minibert.tasks.table import get_task

    task = get_task("token-classification")
    lines = task.predict(end_to_end, [SENTENCES[0], " "], None)
    assert lines[-1] == "-\t-\t-\t "
    for entity_type, span, confidence, text in (line.split("\t") for line in lines[:-1]):
        start, end = map(int, span.split("-"))
        assert SENTENCES[0][start:end] == text and entity_type in ("PER", "LOC")
    with pytest.raises(ValueError, match="drop --text-pair"):
        task.predict(end_to_end, [SENTENCES[0]], ["a pair"])
