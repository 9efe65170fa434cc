"""Extractive question answering: the span of a context that answers a question (SQuAD).

`task.py` holds the task (`QUESTION_ANSWERING`); beside it, the reader of
questions (`questions.py`), the windows a context is read in
(`answer_windows.py`), the head (`QuestionAnswerer`), the end-to-end model
(`EndToEndAnswerer`) and its serving signature (`serving.py`), SQuAD's
metrics and the sliding-window baseline.
"""

NAME = "question-answering"
