"""minibert's layers, one public class per file."""

from minibert.layers.character_encoder import CharacterEncoder
from minibert.layers.masked_lm_head import MaskedLMHead
from minibert.layers.next_sentence_head import NextSentenceHead
from minibert.layers.pair_packer import PairPacker
from minibert.layers.sequence_pooling import SequencePooling
from minibert.layers.token_and_position_embedding import TokenAndPositionEmbedding
from minibert.layers.transformer_encoder import TransformerEncoder

__all__ = [
    "CharacterEncoder",
    "MaskedLMHead",
    "NextSentenceHead",
    "PairPacker",
    "SequencePooling",
    "TokenAndPositionEmbedding",
    "TransformerEncoder",
]
