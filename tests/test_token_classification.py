"""The token-classification task through the recipe: a tagger trained, saved, scored on entities."""

import dataclasses
import json
import random

import keras
import pandas as pd
import pytest
import tensorflow as tf
from test_cli import minibert
from test_resume import stopped_and_resumed

from minibert import runs
from minibert.config import get_preset
from minibert.data.tokenizer import build_vectorizer
from minibert.data.word_shapes import WORD_SHAPES
from minibert.export import export_saved_model
from minibert.models import Backbone
from minibert.reporting import reporting_to
from minibert.runs import DataSummary
from minibert.tasks.table import TASKS, get_task
from minibert.tasks.token_classification.end_to_end_tagger import EndToEndTagger
from minibert.tasks.token_classification.tag_spans import entities
from minibert.tasks.token_classification.tagged_words import TaggedWordsData
from minibert.tasks.token_classification.task import unknown_words
from minibert.tasks.token_classification.token_classifier import TokenClassifier
from minibert.training import finetune_run, pretrain_run, run

FIRST_NAMES = "ada grace alan linus barbara edsger".split()
LAST_NAMES = "lovelace hopper turing torvalds liskov dijkstra".split()
CITIES = "london paris berlin rome oslo lima".split()
FILLER = "the a met in and wrote code with from today later visited".split()


def make_tagged_sentences(num_rows=160, seed=0) -> pd.DataFrame:
    """Sentences of filler words with a person (B-PER I-PER) and a city (B-LOC), and punctuation."""
    rng = random.Random(seed)
    rows = []
    for _ in range(num_rows):
        words, tags = [], []
        for part in rng.sample(["person", "city", "filler", "filler"], 4):
            if part == "person":
                words += [rng.choice(FIRST_NAMES).title(), rng.choice(LAST_NAMES).title()]
                tags += ["B-PER", "I-PER"]
            elif part == "city":
                words.append(rng.choice(CITIES).title())
                tags.append("B-LOC")
            else:
                chosen = rng.choices(FILLER, k=2)
                words += chosen
                tags += ["O"] * len(chosen)
        words.append(rng.choice([".", "!", ","]))
        tags.append("O")
        rows.append((words, tags))
    return pd.DataFrame(rows, columns=["words", "tags"])


def tagged_data() -> TaggedWordsData:
    frame = make_tagged_sentences()
    return TaggedWordsData(
        name="generated-people", train=frame[:128].reset_index(drop=True),
        validation=frame[128:].reset_index(drop=True),
        unlabeled=pd.DataFrame({"text": []}), tag_names=("O", "B-LOC", "B-PER", "I-PER"),
        scheme="IOB2", validation_is_test=False,
    )


def tiny_config(mlm_epochs=1, tagger_epochs=1, tokenizer="word"):
    config = get_preset("tiny")
    return dataclasses.replace(
        config,
        tokenizer=tokenizer,
        pretrain=dataclasses.replace(config.pretrain, epochs=mlm_epochs, fill_mask_sentences=()),
        finetune=dataclasses.replace(
            config.finetune, frozen_epochs=1, unfrozen_epochs=tagger_epochs, learning_rate=1e-2,
            unfrozen_learning_rate=3e-3,
        ),
    )


def test_tagged_words_are_summarized_with_their_tags_and_scheme():
    summary = DataSummary.of(tagged_data())
    assert summary.label_names == ("O", "B-LOC", "B-PER", "I-PER")
    assert summary.scheme == "IOB2" and summary.pairs is False
    assert DataSummary.from_dict(summary.to_dict()) == summary
    # Labelled texts' records keep their older shape, without a scheme.
    assert "scheme" not in dataclasses.replace(summary, scheme=None).to_dict()


def test_examples_weigh_each_words_first_token_only():
    data = tagged_data()
    vectorizer = keras.layers.TextVectorization(
        vocabulary=["[UNK]", "[mask]", "[cls]", "[sep]"], output_sequence_length=32)
    inputs, targets = get_task("token-classification").make_examples(
        vectorizer, data.validation, data, tiny_config())
    assert inputs["token_ids"].shape == inputs["shape_ids"].shape == (32, 32)
    assert targets.labels.shape == targets.weights.shape == (32, 32)
    words = [len(sentence) for sentence in data.validation["words"]]
    assert targets.weights.sum(axis=1).tolist() == words
    config = tiny_config()
    config = dataclasses.replace(config, pad_to_multiple=8, finetune=dataclasses.replace(
        config.finetune, dynamic_padding=True))
    batches = get_task("token-classification").make_batches((inputs, targets), config,
                                                            shuffle=True)
    for batch_inputs, labels, weights in batches:
        ids, shapes = batch_inputs["token_ids"], batch_inputs["shape_ids"]
        # Cut together: the shapes, labels and weights stay at their tokens.
        assert ids.shape == shapes.shape == labels.shape == weights.shape
        assert ids.shape[1] % 8 == 0 and ids.shape[1] < 32 and float(weights.numpy().sum()) > 0
        assert ((ids.numpy() != 0) == (shapes.numpy() != 0)).all()


def test_a_tag_the_data_does_not_name_is_refused_in_one_line():
    data = tagged_data()
    data = dataclasses.replace(data, tag_names=("O", "B-PER", "I-PER"))
    vectorizer = keras.layers.TextVectorization(output_sequence_length=8)
    with pytest.raises(ValueError, match=r"tags \['B-LOC'\] are not among"):
        get_task("token-classification").make_examples(vectorizer, data.train, data, tiny_config())


# The tagging runs the tests read, one per tokenizer: the word tokenizer's trains long enough
# to learn (from the labelled sentences alone); WordPiece's, one epoch a stage, is read for what
# a run writes (WordPiece's pretraining: test_word_piece, test_resume).
TAGGING_RUNS = {"word": dict(mlm_epochs=0, tagger_epochs=12),
                "wordpiece": dict(mlm_epochs=0, tagger_epochs=1)}


@pytest.fixture(scope="module")
def tagging_run(tmp_path_factory):
    """The tagging run of a tokenizer, trained the first time a test asks for it.

    The word tokenizer's is stopped once its unfrozen stage saved an epoch,
    then run again: it resumes, and ends as a run trained straight through.
    """
    trained = {}

    def tagging_run_of(tokenizer) -> dict:
        if tokenizer not in trained:
            output = tmp_path_factory.mktemp(f"tagging-{tokenizer}") / "run"

            def tagging():
                return run(tagged_data(),
                           tiny_config(tokenizer=tokenizer, **TAGGING_RUNS[tokenizer]),
                           str(output), verbose=0,
                           task=TASKS["token-classification"])

            if tokenizer == "word":
                metrics, lines = stopped_and_resumed(tagging, output)
            else:
                lines = []
                with reporting_to(lines.append):
                    metrics = tagging()
            trained[tokenizer] = {"output": output, "metrics": metrics, "lines": lines}
        return trained[tokenizer]

    return tagging_run_of


@pytest.mark.slow
@pytest.mark.parametrize("tokenizer", sorted(TAGGING_RUNS))
def test_a_tagging_run_writes_its_tagger_entity_scores_and_task(tagging_run, tokenizer):
    trained = tagging_run(tokenizer)
    output, metrics, lines = trained["output"], trained["metrics"], trained["lines"]
    report = metrics["validation"]
    assert {"f1", "precision", "recall", "token_accuracy", "per_type"} <= set(report)
    assert report["scheme"] == "IOB2" and report["sentences"] == 32
    assert json.loads((output / runs.METRICS_FILE).read_text())["validation"]["f1"] == report["f1"]
    config = json.loads((output / runs.CONFIG_FILE).read_text())
    assert config["task"] == "token-classification" and config["data"]["scheme"] == "IOB2"
    assert any(line.startswith("validation (32 rows): entity F1") for line in lines)
    card = (output / runs.MODEL_CARD_FILE).read_text()
    assert "Validation entity F1 **" in card and "tags (IOB2): O, B-LOC, B-PER, I-PER" in card
    assert "| entity type | F1 | precision | recall | entities |" in card and "| PER | " in card
    for name in (runs.CLASSIFIER_FROZEN_FILE, runs.CLASSIFIER_FILE):
        assert (output / name).exists()
    end_to_end = keras.models.load_model(output / runs.END_TO_END_FILE)
    sentence = "Yesterday Grace Hopper met Alan Turing in Paris, then wrote code."
    for entity in end_to_end.predict_entities([sentence])[0]:
        assert entity.text == sentence[entity.start:entity.end]
    printed = minibert("predict", str(output), sentence).stdout.splitlines()
    assert printed and all(len(line.split("\t")) == 4 for line in printed)
    for entity_type, span, confidence, text in (line.split("\t") for line in printed):
        if entity_type != "-":
            start, end = map(int, span.split("-"))
            assert sentence[start:end] == text and 0 < float(confidence) <= 1


@pytest.mark.slow
def test_a_tagger_learns_to_find_people_and_places_and_is_scored_again_from_its_files(
        tagging_run, tmp_path):
    data = tagged_data()
    trained = tagging_run("word")
    output, metrics = trained["output"], trained["metrics"]
    assert metrics["validation"]["f1"] > 0.5
    # The weights kept are those of the best entity F1 of any validation, in either stage.
    history = pd.read_csv(output / runs.HISTORY_FILE)
    assert metrics["validation"]["f1"] == pytest.approx(history["val_f1"].max(), abs=1e-6)
    # evaluate reads a CoNLL file's words as given and scores them as fine-tuning did.
    folder = tmp_path / "conll"
    folder.mkdir()
    for split, frame in (("train", data.train), ("test", data.validation)):
        (folder / f"{split}.conll").write_text("\n\n".join(
            "\n".join(f"{word}\t{tag}" for word, tag in zip(words, tags))
            for words, tags in zip(frame["words"], frame["tags"])) + "\n")
    printed = minibert("evaluate", str(output), "--dataset", str(folder)).stdout.splitlines()
    assert printed[0].startswith(f"conll validation (32 sentences): entity F1 "
                                 f"{metrics['validation']['f1']:.4f} ")
    assert [line.split(":")[0] for line in printed[1:]] == ["  LOC", "  PER"]
    # predict --input: every row's entities as JSON, each slicing its text back.
    texts = ["Grace Hopper visited Oslo today.", None, "the code"]
    source, scored_path = tmp_path / "texts.csv", tmp_path / "scored.jsonl"
    pd.DataFrame({"text": texts}).to_csv(source, index=False)
    minibert("predict", str(output), "--input", str(source), "--output", str(scored_path))
    scored = pd.read_json(scored_path, lines=True)
    assert list(scored.columns) == ["text", "entities"] and scored["entities"].isna().tolist() == [
        False, True, False]
    found = json.loads(scored["entities"][0])
    assert {entity["type"] for entity in found} == {"PER", "LOC"}
    for entity in found:
        assert texts[0][entity["start"]:entity["end"]] == entity["text"]
    # export serves raw strings: the words and tags predict found.
    exported = tmp_path / "exported"
    printed = minibert("export", str(output), "--output", str(exported)).stdout
    assert "serve(texts) -> words, starts, ends, tags (IOB2: O, B-LOC, B-PER, I-PER)" in printed
    loaded = tf.saved_model.load(str(exported))
    served = loaded.serve(tf.constant([texts[0]]))
    tags = [tag.decode() for tag in served["tags"].numpy()[0]]
    starts, ends = served["starts"].numpy()[0], served["ends"].numpy()[0]
    assert {(entity_type, texts[0][starts[first]:ends[last - 1]])
            for entity_type, first, last in entities(tags)} == {
        (entity["type"], entity["text"]) for entity in found}
    assert (exported / "tag_names.txt").read_text() == "O\nB-LOC\nB-PER\nI-PER\n# IOB2\n"


@pytest.mark.parametrize("num_shapes, characters_per_word, outside_weight, decoding", [
    (0, 0, 1.0, "argmax"), (len(WORD_SHAPES), 0, 0.3, "argmax"),
    (len(WORD_SHAPES), 4, 0.3, "viterbi")])
def test_an_exported_tagger_splits_vectorizes_and_reads_words_as_the_python_tagger_does(
        tmp_path, num_shapes, characters_per_word, outside_weight, decoding):
    vectorizer = build_vectorizer(["Ada wrote code in Paris with Alan", "the café"], 30, 6)
    backbone = Backbone(30, 6, 16, num_layers=1, num_heads=2, intermediate_dim=32)
    tagger = TokenClassifier(backbone, 3, num_shapes=num_shapes,
                             characters_per_word=characters_per_word)
    model = EndToEndTagger(vectorizer, tagger, ["O", "B-PER", "I-PER"],
                           outside_weight=outside_weight, decoding=decoding)
    # Punctuation, an empty text, accents (one character, and a letter and a combining
    # mark), an emoji, inner dots and apostrophes, runs of spaces, words of every shape,
    # and words past the cut.
    texts = ["Ada wrote code, in Paris!", "", "Café 😀 U.S. Martha's   3.5 e\u0301 and "
             "words beyond the cut", "Alan NASA iPhone 2017 I é É", "Alan"]
    export_saved_model(model, str(tmp_path / "exported"))
    loaded = tf.saved_model.load(str(tmp_path / "exported"))
    served = {name: value.numpy() for name, value in loaded.serve(tf.constant(texts)).items()}
    for row, tagged in enumerate(model.tag_words(texts)):
        count = served["num_words"][row]
        assert count == len(tagged)
        assert [(word.decode(), int(start), int(end), tag.decode()) for word, start, end, tag in zip(
            served["words"][row][:count], served["starts"][row][:count], served["ends"][row][:count],
            served["tags"][row][:count])] == [(word, start, end, tag) for word, start, end, tag, _ in tagged]
        assert served["confidences"][row][:count] == pytest.approx(
            [confidence for *_, confidence in tagged], abs=1e-5)
    assert served["tags"][2][-3:].tolist() == [b"O"] * 3 and served["confidences"][2][-1] == 0
    # Batched by length, in batches of other widths, the words' tags are the same.
    assert [[tag for *_, tag, _ in words] for words in model.tag_words(texts, batch_size=1)] == [
        [tag for *_, tag, _ in words] for words in model.tag_words(texts)]


def sentences_with_unseen_names(names, num_rows, seed):
    """Filler words with punctuation anywhere, and a capitalized name (B-PER) among them."""
    rng = random.Random(seed)
    rows = []
    for _ in range(num_rows):
        words = rng.choices(FILLER + [",", ";", "-"], k=5)
        position = rng.randrange(len(words) + 1)
        words.insert(position, rng.choice(names).title())
        rows.append((words, ["B-PER" if index == position else "O"
                             for index in range(len(words))]))
    return pd.DataFrame(rows, columns=["words", "tags"])


def test_a_tagger_finds_names_its_vocabulary_lacks_by_their_characters():
    # The vocabulary holds the filler alone: every name, and every punctuation mark, is [UNK].
    vectorizer = build_vectorizer([" ".join(FILLER)], 30, 12)
    train = sentences_with_unseen_names(FIRST_NAMES, 160, seed=0)
    validation = sentences_with_unseen_names(CITIES, 40, seed=1)  # names never trained on
    data = TaggedWordsData(name="names", train=train, validation=validation,
                           unlabeled=pd.DataFrame({"text": []}), tag_names=("O", "B-PER"),
                           scheme="IOB2", validation_is_test=False)
    task = get_task("token-classification")
    scores = {}
    for characters in (8, 0):
        config = tiny_config()
        config = dataclasses.replace(config, model=dataclasses.replace(
            config.model, sequence_length=12), finetune=dataclasses.replace(
            config.finetune, word_shapes=False, word_characters=characters,
            unknown_word_rate=0.0))
        train_examples, validation_examples = (
            task.make_examples(vectorizer, frame, data, config) for frame in (train, validation))
        keras.utils.set_random_seed(0)
        backbone = Backbone(30, 12, 16, num_layers=1, num_heads=2, intermediate_dim=32)
        tagger = task.build_model(backbone, train_examples, data, config)
        task.compile_model(tagger, keras.optimizers.Adam(1e-2))
        tagger.fit(task.make_batches(train_examples, config, shuffle=True), epochs=10, verbose=0)
        scores[characters] = task.evaluate(tagger, validation_examples, data, config)["f1"]
    # Measured: 0.87 with characters, 0.66 without (the [UNK] is a name or a punctuation mark).
    assert scores[8] > 0.8 and scores[8] > scores[0] + 0.1, scores


def test_a_tagger_with_characters_and_constrained_decoding_reloads_without_custom_objects(
        tmp_path):
    vectorizer = build_vectorizer(["Ada wrote code in Paris"], 30, 8)
    backbone = Backbone(30, 8, 16, num_layers=1, num_heads=2, intermediate_dim=32)
    model = EndToEndTagger(vectorizer, TokenClassifier(backbone, 3, characters_per_word=6),
                           ["O", "B-PER", "I-PER"], decoding="viterbi")
    model.save(tmp_path / "tagger.keras")
    loaded = keras.models.load_model(tmp_path / "tagger.keras")
    assert loaded.decoding == "viterbi" and loaded.tagger.characters_per_word == 6
    texts = ["Ada wrote code in Paris", "Zoë visited Lovelace-Byron"]
    assert loaded.tag_words(texts) == model.tag_words(texts)
    # A tagger saved before characters and decodings were read loads as it was.
    config = model.get_config()
    del config["decoding"]
    for name in ("characters_per_word", "character_dim", "character_filters"):
        del config["tagger"]["config"][name]
    older = EndToEndTagger.from_config(config)
    assert older.decoding == "argmax" and older.tagger.characters_per_word == 0


@pytest.mark.slow
def test_finetune_run_tags_from_a_pretrained_backbone(tmp_path):
    data = tagged_data()
    # The pretrained run's config carries to fine-tuning: the frozen stage alone tags.
    pretrain_run(data, tiny_config(tagger_epochs=0), str(tmp_path / "pretrained"), verbose=0)
    lines = []
    with reporting_to(lines.append):
        metrics = finetune_run(data, str(tmp_path / "pretrained"), str(tmp_path / "tagger"),
                               verbose=0, task=TASKS["token-classification"])
    assert "f1" in metrics["validation"] and metrics["unknown_token_share"] is not None
    assert (tmp_path / "tagger" / runs.END_TO_END_FILE).exists()


@pytest.mark.slow
def test_a_stopped_tagging_run_resumes_after_its_last_saved_epoch(tagging_run):
    output = tagging_run("word")["output"]  # stopped after its first unfrozen epoch
    history = pd.read_csv(output / runs.HISTORY_FILE)
    # Every epoch once, the stopped run's first among them (the stage may end early: its best
    # validation score kept).
    epochs = list(history[history["stage"] == "unfrozen"]["epoch"])
    assert epochs == list(range(1, len(epochs) + 1)) and len(epochs) >= 2
    assert "f1" in json.loads((output / runs.METRICS_FILE).read_text())["validation"]


def test_unknown_word_training_reads_whole_words_as_unk_and_leaves_the_targets():
    ids = tf.constant([[5, 6, 7, 8, 9, 0], [5, 6, 0, 0, 0, 0]])
    # Words: [5 6] [7] [8 9] in the first row; [5] [6] in the second.
    weights = tf.constant([[1, 0, 1, 1, 0, 0], [1, 1, 0, 0, 0, 0]], "float32")
    labels = tf.zeros_like(ids)
    replace = unknown_words(0.5, seed=3)
    counts = []
    for _ in range(20):
        inputs, same_labels, same_weights = replace({"token_ids": ids, "shape_ids": ids},
                                                    labels, weights)
        replaced = inputs["token_ids"].numpy()
        assert (inputs["shape_ids"].numpy() == ids.numpy()).all()
        assert (same_weights.numpy() == weights.numpy()).all()
        assert ((replaced == ids.numpy()) | (replaced == 1)).all() and replaced[0, 5] == 0
        # A word is replaced whole or not at all; the padding never.
        assert (replaced[0, 0] == 1) == (replaced[0, 1] == 1)
        assert (replaced[0, 3] == 1) == (replaced[0, 4] == 1)
        assert (replaced[1, 2:] == 0).all()
        counts.append(int((replaced == 1).sum()))
    assert len(set(counts)) > 1  # drawn afresh each batch
    assert unknown_words(0.5, seed=3)(ids, labels, weights)[0].shape == ids.shape
