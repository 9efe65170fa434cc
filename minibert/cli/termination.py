"""SIGTERM ends a run as Ctrl-C does: one line, the run folder left to resume.

`docker stop`, Kubernetes and Slurm stop a process with SIGTERM, whose default
is to end it at once with no word. Raised as an exception in the main thread
instead, it unwinds the command as Ctrl-C's KeyboardInterrupt does: the run
folder's lock is let go, the checkpoints stay, and `cli.main` says so in one line.
"""

import contextlib
import signal
import threading


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived. A KeyboardInterrupt, so that every path that lets Ctrl-C end a run
    cleanly treats it the same."""


def _raise_terminated(signal_number, frame):
    raise Terminated()


@contextlib.contextmanager
def sigterm_raises_terminated():
    """Within the block, SIGTERM raises `Terminated` in the main thread.

    Python runs signal handlers in the main thread only, and may set them only
    there: called from another thread (a test's), the block changes nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
