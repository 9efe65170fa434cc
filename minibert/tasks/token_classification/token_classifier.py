"""A per-token tagger on top of a (pretrained) backbone."""

import keras

from minibert.data.tokenizer import PADDING_ID
from minibert.data.word_characters import CHARACTER_IDS
from minibert.layers import CharacterEncoder, TransformerEncoder
from minibert.models.serialization import FunctionalModel, with_deserialized


def tagger_inputs(num_shapes: int, characters_per_word: int):
    """Fresh `keras.Input`s of what a tagger reads: token ids (batch, tokens) alone, or a dict
    of them and `shape_ids` (batch, tokens) and/or `character_ids` (batch, tokens, characters)."""
    token_ids = keras.Input(shape=(None,), dtype="int32", name="token_ids")
    if not (num_shapes or characters_per_word):
        return token_ids
    inputs = {"token_ids": token_ids}
    if num_shapes:
        inputs["shape_ids"] = keras.Input(shape=(None,), dtype="int32", name="shape_ids")
    if characters_per_word:
        inputs["character_ids"] = keras.Input(shape=(None, characters_per_word), dtype="int32",
                                              name="character_ids")
    return inputs


@keras.saving.register_keras_serializable(package="minibert")
class TokenClassifier(FunctionalModel):
    """backbone -> dropout -> Dense(num_tags, softmax) at every token: tag probabilities.

    With `num_shapes`, each token's vector is joined with an embedding of its
    word's shape (`minibert.data.word_shapes`: lowercase, Capitalized, UPPER,
    ...), which the lowercasing tokenizers cannot see; with
    `characters_per_word`, with a vector of its word's characters
    (`minibert.layers.CharacterEncoder`): the case and spelling of a name
    the vocabulary reads as `[UNK]`. What is joined is projected back to
    `hidden_dim` and read by one more Transformer block before the output: a
    word's features are read beside its neighbours' (two capitalized words
    in a row, a capital after a full stop), which a per-token layer could not.

    No pooling: each token's vector is classified alone (BERT's token
    classification, Devlin et al. 2019, section 4.3). Which tokens carry a
    word's tag is the data's business (`minibert.data.word_alignment`: the
    first token of each word, the others weighted 0 in the loss). Freeze the
    backbone with `tagger.backbone.trainable = False`, unfreeze it for the
    second stage; recompile after either.

    Args:
        backbone: a `minibert.models.Backbone`.
        num_tags: the number of tags, `O` included, at least 2.
        dropout: dropout on the token vectors before the output layer.
        num_shapes: 0 (the default) reads the tokens alone; N reads each
            token's shape id too (1..N, 0 at the padding).
        shape_dim: the width of the shape embedding.
        characters_per_word: 0 (the default) reads no characters; N reads
            each token's word's first and last characters, N in all
            (`minibert.data.word_characters`).
        character_dim, character_filters: the character embedding's width
            and the character convolution's filters (the width of a word's
            character vector).

    Call arguments:
        token_ids: int tensor (batch, tokens); with `num_shapes` or
            `characters_per_word`, a dict of it and `shape_ids`, int tensor
            (batch, tokens), and/or `character_ids`, int tensor (batch,
            tokens, characters_per_word).

    Returns:
        probabilities (batch, tokens, num_tags).

    Example:
    >>> from minibert.models import Backbone
    >>> backbone = Backbone(50, 8, 16, num_layers=1, num_heads=2, intermediate_dim=32)
    >>> tuple(TokenClassifier(backbone, num_tags=5)(keras.ops.ones((3, 8), "int32")).shape)
    (3, 8, 5)
    >>> ids = keras.ops.ones((3, 8), "int32")
    >>> tagger = TokenClassifier(backbone, num_tags=5, num_shapes=6)
    >>> tuple(tagger({"token_ids": ids, "shape_ids": ids}).shape)
    (3, 8, 5)
    >>> tagger = TokenClassifier(backbone, num_tags=5, characters_per_word=4)
    >>> characters = keras.ops.ones((3, 8, 4), "int32")
    >>> tuple(tagger({"token_ids": ids, "character_ids": characters}).shape)
    (3, 8, 5)
    """

    def __init__(self, backbone, num_tags=2, dropout=0.0, num_shapes=0, shape_dim=16,
                 characters_per_word=0, character_dim=32, character_filters=64, **kwargs):
        if num_tags < 2:
            raise ValueError(
                f"a tagger needs at least 2 tags (O and one more), got num_tags={num_tags}"
            )
        # === Layers ===
        self.backbone = backbone
        self.output_dropout = keras.layers.Dropout(dropout, name="output_dropout")
        self.output_dense = keras.layers.Dense(
            num_tags, activation="softmax",
            dtype="float32",  # probabilities in float32 under mixed precision
            name="probabilities",
        )

        if num_shapes:
            self.shape_embedding = keras.layers.Embedding(num_shapes + 1, shape_dim,
                                                          name="shape_embedding")
        if characters_per_word:
            self.character_encoder = CharacterEncoder(
                CHARACTER_IDS, character_dim, character_filters, name="character_encoder")
        if num_shapes or characters_per_word:
            # The names of a shapes-only tagger's layers, so that one saved before loads.
            self.shape_projection = keras.layers.Dense(backbone.hidden_dim,
                                                       name="shape_projection")
            self.shape_encoder = TransformerEncoder(
                num_heads=backbone.num_heads, intermediate_dim=backbone.intermediate_dim,
                dropout=dropout, activation="gelu", normalize_first=True, name="shape_encoder")

        # === Functional model ===
        inputs = tagger_inputs(num_shapes, characters_per_word)
        token_ids = inputs["token_ids"] if isinstance(inputs, dict) else inputs
        sequence = self.backbone(token_ids)  # (batch, tokens, hidden)
        if num_shapes or characters_per_word:
            features = [sequence]
            if num_shapes:
                features.append(self.shape_embedding(inputs["shape_ids"]))
            if characters_per_word:
                features.append(self.character_encoder(inputs["character_ids"]))
            joined = keras.layers.Concatenate()(
                [keras.ops.cast(feature, sequence.dtype) for feature in features])
            sequence = self.shape_encoder(self.shape_projection(joined),
                                          padding_mask=keras.ops.not_equal(token_ids, PADDING_ID))
        probabilities = self.output_dense(self.output_dropout(sequence))  # (batch, tokens, tags)
        super().__init__(inputs=inputs, outputs=probabilities, **kwargs)

        # === Config ===
        self.num_tags = num_tags
        self.dropout = dropout
        self.num_shapes = num_shapes
        self.shape_dim = shape_dim
        self.characters_per_word = characters_per_word
        self.character_dim = character_dim
        self.character_filters = character_filters

    def loss_name(self) -> str:
        """The loss matching the output layer, applied per token with the tokens' weights."""
        return "sparse_categorical_crossentropy"

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "num_tags": self.num_tags,
            "dropout": self.dropout,
            "num_shapes": self.num_shapes,
            "shape_dim": self.shape_dim,
            "characters_per_word": self.characters_per_word,
            "character_dim": self.character_dim,
            "character_filters": self.character_filters,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**with_deserialized(config, "backbone"))
