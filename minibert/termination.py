"""SIGTERM ends a run as Ctrl-C does: one line, the run folder left to resume.

`docker stop`, Kubernetes and Slurm stop a process with SIGTERM, whose default
is to end it at once with no word. Raised as an exception in the main thread
instead, it unwinds the command as Ctrl-C's KeyboardInterrupt does: the run
folder's lock is let go, the checkpoints stay, and `cli.main` says so in one line.

An exception raised by a signal handler lands wherever Python happens to be,
and inside a training step that can be the middle of a C extension's work
(TensorFlow answers with a `SystemError`, not the interruption). So while a
stage trains (`deferred`), the handler only notes the signal, and the stage
raises it at its next batch end (`raise_if_terminated`), a point where an
exception unwinds cleanly.

Example:
>>> with deferred():
...     pass  # a stage's fit: SIGTERM here waits for the batch's end
>>> raise_if_terminated()  # nothing arrived: nothing raised
"""

import contextlib
import signal
import threading

# A SIGTERM that arrived inside `deferred`, not yet raised.
_pending = False
# How many `deferred` blocks the main thread is in.
_deferring = 0


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived. A KeyboardInterrupt, so that every path that lets Ctrl-C end a run
    cleanly treats it the same."""


def _on_sigterm(signal_number, frame):
    global _pending
    if _deferring:
        _pending = True
        return
    raise Terminated()


def raise_if_terminated() -> None:
    """Raises `Terminated` if SIGTERM arrived while it was deferred."""
    global _pending
    if _pending:
        _pending = False
        raise Terminated()


@contextlib.contextmanager
def deferred():
    """Within the block, SIGTERM waits for `raise_if_terminated` (or the block's end)."""
    global _deferring
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
    raise_if_terminated()


@contextlib.contextmanager
def sigterm_raises_terminated():
    """Within the block, SIGTERM raises `Terminated` in the main thread.

    Python runs signal handlers in the main thread only, and may set them only
    there: called from another thread (a test's), the block changes nothing.
    """
    global _pending
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _pending = False
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
