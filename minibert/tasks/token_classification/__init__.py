"""Token classification: a tag per word (named entities, chunks), scored on entities.

`task.py` holds the task (`TOKEN_CLASSIFICATION`); beside it, the reader of
tagged words (`tagged_words.py`), conlleval's entity rules (`tag_spans.py`),
the head (`TokenClassifier`), the end-to-end model (`EndToEndTagger`) and its
serving signature (`serving.py`), the metrics and the most-frequent-tag
baseline.
"""

NAME = "token-classification"
# The data flags token classification reads (where the words and tags are, and their
# scheme), each None when not given.
DATA_FLAGS = dict.fromkeys(("--word-column", "--tag-column", "--words-column", "--tags-column",
                            "--tag-scheme"))
