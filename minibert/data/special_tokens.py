"""The special tokens every tokenizer puts first in its vocabulary, and their ids.

    0 padding ""   1 "[UNK]"   2 "[mask]"   3 "[cls]"   4 "[sep]"   5.. words

Keeping them first means "is this a real word?" is one comparison
(`token_id >= NUM_SPECIAL_TOKENS`), which the masking relies on. This module
imports nothing, so the configuration can check a vocabulary's size against
them without TensorFlow.
"""

PADDING_TOKEN = ""
UNKNOWN_TOKEN = "[UNK]"
MASK_TOKEN = "[mask]"
CLS_TOKEN = "[cls]"
SEP_TOKEN = "[sep]"
SPECIAL_TOKENS = (PADDING_TOKEN, UNKNOWN_TOKEN, MASK_TOKEN, CLS_TOKEN, SEP_TOKEN)
PADDING_ID, UNKNOWN_ID, MASK_ID, CLS_ID, SEP_ID = range(len(SPECIAL_TOKENS))
NUM_SPECIAL_TOKENS = len(SPECIAL_TOKENS)
