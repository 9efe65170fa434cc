"""Where a run's lines go: one reporter for the whole package, instead of a `print_fn` per function.

Every line a command prints as it works (the data, the vocabulary, each
stage, a warning) goes through `report`. By default that is `print`; a
caller that wants the lines elsewhere (a test, a notebook, a log file)
sends them there for a block with `reporting_to`. The reporter is a context
variable, so threads and nested blocks each see their own.

Example:
>>> lines = []
>>> with reporting_to(lines.append):
...     report("vocabulary: 120 tokens")
>>> lines
['vocabulary: 120 tokens']
"""

import contextlib
import contextvars
from collections.abc import Callable

_REPORTER: contextvars.ContextVar = contextvars.ContextVar("minibert_reporter", default=print)


def report(line: str) -> None:
    """Sends one line to the current reporter (`print` unless `reporting_to` chose another)."""
    _REPORTER.get()(line)


@contextlib.contextmanager
def reporting_to(reporter: Callable[[str], object]):
    """Sends every `report`ed line of the block to `reporter`, a function of one string."""
    token = _REPORTER.set(reporter)
    try:
        yield
    finally:
        _REPORTER.reset(token)
