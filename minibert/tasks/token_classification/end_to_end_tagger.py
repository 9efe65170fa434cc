"""Raw sentences in, entities with their character spans out: the tagger with its vectorizer."""

import json
from typing import NamedTuple

import keras
import numpy as np

from minibert.data.word_alignment import align_words, split_words
from minibert.models.batched_predict import length_batched_predict
from minibert.models.serialization import FunctionalModel, with_deserialized
from minibert.models.text_inputs import as_text_array, sequence_length
from minibert.tasks.token_classification.serving import serve_tagger
from minibert.tasks.token_classification.tag_decoding import tag_decoder
from minibert.tasks.token_classification.tag_spans import entities
from minibert.tasks.token_classification.token_classifier import tagger_inputs

# Beside an exported tagger's saved_model.pb: tag i's name on line i + 1, then `# SCHEME`.
TAG_NAMES_FILE = "tag_names.txt"


class Entity(NamedTuple):
    """One entity found in a sentence: `text == sentence[start:end]`."""

    type: str
    start: int  # character offset of its first character
    end: int  # character offset after its last character
    text: str
    confidence: float  # the mean of its words' tag probabilities


@keras.saving.register_keras_serializable(package="minibert")
class EndToEndTagger(FunctionalModel):
    """A token classifier that takes raw sentences and returns their entities.

    Saved as `end_to_end.keras`, it reloads with plain
    `keras.models.load_model(path)` once `minibert` is imported: the
    vectorizer's vocabulary, the tag names and the scheme travel inside it.

    `predict_entities` splits each sentence into words (`split_words`),
    vectorizes each word (`minibert.data.word_alignment`), tags every word at
    its first token and decodes the tags into entities by conlleval's rules
    (`minibert.tasks.token_classification.tag_spans`). Words past `sequence_length` tokens are
    read as `O`. The word splitting runs in Python, so the Keras graph itself
    takes the tagger's inputs (token ids, and shape ids and character ids for
    a tagger that reads them): `predict` on them gives the per-token
    probabilities.
    `minibert.export` serves raw strings, splitting words in the graph.

    Args:
        vectorizer: the run's vectorizer (`TextVectorization` or `WordPieceVectorizer`).
        tagger: a `minibert.models.TokenClassifier`.
        tag_names: names of tags 0..K-1 (`"O"` among them).
        scheme: `"IOB1"`, `"IOB2"` or `"IOBES"`: how the tags form entities.
        outside_weight: `O`'s probability is multiplied by it before the
            tags are decoded (fine-tuning chooses it on the validation split;
            1: the plain probabilities).
        decoding: `"argmax"`, each word's most probable tag, or `"viterbi"`,
            the most probable sequence of tags the scheme allows
            (`minibert.tasks.token_classification.tag_decoding`); fine-tuning
            chooses it on the validation split.

    Call arguments:
        inputs: the tagger's: int tensor (batch, tokens) of token ids, or a
            dict of them and `shape_ids`.

    Example:
    >>> from minibert.data.tokenizer import build_vectorizer
    >>> from minibert.models import Backbone
    >>> from minibert.tasks.token_classification.token_classifier import TokenClassifier
    >>> vectorizer = build_vectorizer(["Ada wrote code"], 10, 8)
    >>> backbone = Backbone(10, 8, 16, num_layers=1, num_heads=2, intermediate_dim=32)
    >>> model = EndToEndTagger(vectorizer, TokenClassifier(backbone, 3), ["O", "B-PER", "I-PER"])
    >>> entities = model.predict_entities(["Ada wrote code."])[0]
    >>> all(entity.text == "Ada wrote code."[entity.start:entity.end] for entity in entities)
    True
    """

    # It tags single sentences; `predict --input` asks every end-to-end model.
    pairs = False

    def __init__(self, vectorizer, tagger, tag_names, scheme="IOB2", outside_weight=1.0,
                 decoding="argmax", **kwargs):
        # === Layers ===
        self.vectorizer = vectorizer
        self.tagger = tagger

        # === Functional model ===
        inputs = tagger_inputs(tagger.num_shapes, tagger.characters_per_word)
        super().__init__(inputs=inputs, outputs=tagger(inputs), **kwargs)

        # === Config ===
        self.tag_names = [str(tag) for tag in tag_names]
        self.scheme = scheme
        self.outside_weight = float(outside_weight)
        self.decoding = decoding
        if len(self.tag_names) != tagger.num_tags:
            raise ValueError(f"{len(self.tag_names)} tag names for a {tagger.num_tags}-tag tagger")
        if "O" not in self.tag_names:
            raise ValueError(
                f"tag_names {self.tag_names} lack 'O', the tag of words outside entities"
            )
        tag_decoder(decoding, self.tag_names, scheme)  # refuses an unknown decoding

    def tag_word_lists(self, sentences, batch_size=256) -> list[tuple[list[str], np.ndarray]]:
        """Per sentence of given words (a list of strings), its `(tags, confidences)` per word.

        What `tag_words` does after splitting, for words split already (a
        CoNLL file's); words past `sequence_length` tokens are `O`, confidence 0.
        """
        sentences = [[str(word) for word in sentence] for sentence in sentences]
        tagger = self.tagger
        aligned = align_words(self.vectorizer, sentences, sequence_length(self.vectorizer),
                              characters_per_word=tagger.characters_per_word)
        if not aligned.num_words.any():
            return [([], np.zeros(0, "float32")) for _ in sentences]
        probabilities = length_batched_predict(
            tagger, aligned.inputs(bool(tagger.num_shapes), bool(tagger.characters_per_word)),
            batch_size, per_token=True)
        predictions = aligned.word_predictions(
            probabilities, self.tag_names.index("O"), self.outside_weight,
            tag_decoder(self.decoding, self.tag_names, self.scheme))
        return [([self.tag_names[tag_id] for tag_id in tag_ids], confidences)
                for tag_ids, confidences in predictions]

    def tag_words(self, texts, batch_size=256) -> list[list[tuple[str, int, int, str, float]]]:
        """Per text, `(word, start, end, tag, confidence)` for each word (`split_words`)."""
        words = [split_words(text) for text in as_text_array(texts)]
        tagged = self.tag_word_lists([[word for word, _, _ in sentence] for sentence in words],
                                     batch_size)
        return [
            [(word, start, end, tag, float(confidence))
             for (word, start, end), tag, confidence in zip(sentence, tags, confidences)]
            for sentence, (tags, confidences) in zip(words, tagged)
        ]

    def predict_entities(self, texts, batch_size=256) -> list[list[Entity]]:
        """Per text (a string, or a list, array or Series of them), its entities in order."""
        texts = as_text_array(texts)
        found = []
        for text, tagged in zip(texts, self.tag_words(texts, batch_size)):
            spans = entities([tag for _, _, _, tag, _ in tagged], self.scheme)
            found.append([
                Entity(entity_type, tagged[first][1], tagged[last - 1][2],
                       text[tagged[first][1]:tagged[last - 1][2]],
                       float(np.mean([confidence for *_, confidence in tagged[first:last]])))
                for entity_type, first, last in spans
            ])
        return found

    def prediction_columns(self, texts, batch_size=128) -> dict:
        """The column `predict --input` adds for `texts`: `entities`, per text a JSON list of
        `{"type", "start", "end", "text", "confidence"}` (`predict_entities`)."""
        return {"entities": [
            json.dumps([entity._asdict() for entity in found], ensure_ascii=False)
            for found in self.predict_entities(texts, batch_size)
        ]}

    # Serving (`minibert.export.export_saved_model`).

    served_inputs = "texts"

    @property
    def served_outputs(self) -> str:
        return (f"words, starts, ends, tags ({self.scheme}: {', '.join(self.tag_names)}), "
                "confidences, num_words")

    def serving_endpoint(self):
        """`(function, input_signature)` of the SavedModel's `serve`: texts (batch,) in, each
        word with its offsets, tag and confidence out (`serving.serve_tagger`)."""
        import tensorflow as tf

        return serve_tagger(self), [tf.TensorSpec([None], tf.string, name="texts")]

    def serving_files(self) -> dict:
        """tag_names.txt beside saved_model.pb: tag i's name on line i + 1, then `# SCHEME`."""
        return {TAG_NAMES_FILE: "".join(f"{name}\n" for name in self.tag_names)
                + f"# {self.scheme}\n"}

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "vectorizer": keras.saving.serialize_keras_object(self.vectorizer),
            "tagger": keras.saving.serialize_keras_object(self.tagger),
            "tag_names": self.tag_names,
            "scheme": self.scheme,
            "outside_weight": self.outside_weight,
            "decoding": self.decoding,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**with_deserialized(config, "vectorizer", "tagger"))
