"""One writer per run folder: a lock that a second run is refused by, and a dead run's is not.

Every command that writes a run (`train`, `pretrain`, `finetune`) holds
`RUN/.lock` while it runs: an exclusive `flock` on the file, which records
who holds it (process id, host, command, start time). A second writer fails
at once in one line naming that process. The kernel drops a `flock` when its
process ends, however it ends (kill -9 included), and a reboot drops them
all: a lock file left behind is then only a record, and the next writer
takes it over and says so, so a killed run resumes with no manual step.

Readers (`predict`, `evaluate`, ...) take no lock; `lock_holder` tells them
whether a live process is still writing the run.

Example:
>>> import tempfile
>>> folder = tempfile.mkdtemp()
>>> with run_folder_lock(folder):
...     lock_holder(folder)["pid"] == os.getpid()
True
>>> lock_holder(folder) is None
True
"""

import contextlib
import datetime
import fcntl
import json
import os
import socket
import sys

from minibert.reporting import report
from minibert.runs.files import WriteError, is_write_failure, write_failure_message

LOCK_FILE = ".lock"


class RunFolderLocked(FileExistsError):
    """Another live process is writing the run folder."""


def _record() -> dict:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": " ".join(os.path.basename(part) if index == 0 else part
                            for index, part in enumerate(sys.argv)),
        "started": datetime.datetime.now().isoformat(timespec="seconds"),
    }


def _read(descriptor) -> dict | None:
    """The record in an open lock file, or None when it holds none (or not one we wrote)."""
    size = os.fstat(descriptor).st_size
    try:
        record = json.loads(os.pread(descriptor, size, 0).decode()) if size else None
    except ValueError:
        return None
    return record if isinstance(record, dict) and "pid" in record else None


def describe_holder(record: dict | None) -> str:
    """'process 123 on host (python -m minibert train ..., started ...)', as far as it is known."""
    if not record:
        return "another process"
    return (f"process {record['pid']} on {record.get('host', '?')} "
            f"({record.get('command', '?')}, started {record.get('started', '?')})")


def _open_locked(path) -> tuple[int, dict | None]:
    """Opens and locks RUN/.lock; its descriptor and the record a dead holder left, if any."""
    lock_path = os.path.join(path, LOCK_FILE)
    while True:
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(descriptor)
            os.close(descriptor)
            raise RunFolderLocked(
                f"run folder {path} is in use by {describe_holder(holder)}; wait for it to finish "
                + (f"or stop it (kill {holder['pid']}), " if holder else "or stop it, ")
                + "or choose another --output"
            ) from None
        # Its last holder removes the file as it lets go: a lock taken on the
        # file it removed guards nothing, so open the new one and lock again.
        try:
            current = os.fstat(descriptor).st_ino == os.stat(lock_path).st_ino
        except FileNotFoundError:
            current = False
        if current:
            return descriptor, _read(descriptor)
        os.close(descriptor)


@contextlib.contextmanager
def run_folder_lock(path):
    """Holds the run folder `path` (created if need be) for the block's writes.

    Raises `RunFolderLocked` when a live process holds it, and
    `minibert.runs.files.WriteError` when the folder cannot be made or written.
    A lock file whose process has ended is taken over, with a line saying
    whose it was.
    """
    try:
        os.makedirs(path, exist_ok=True)
        descriptor, left_behind = _open_locked(path)
    except RunFolderLocked:
        raise
    except OSError as error:  # a file in the way, a read-only disk, no permission
        if not is_write_failure(error):
            raise
        raise WriteError(write_failure_message(path, error)) from error
    try:
        if left_behind is not None:
            report(f"taking over the lock of {describe_holder(left_behind)}, "
                   "which is no longer running")
        record = json.dumps(_record()).encode()
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, record, 0)
        yield
    finally:
        # Removed while still locked: a writer that opened it meanwhile finds
        # it gone once it holds the lock (`_open_locked`) and starts over.
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(path, LOCK_FILE))
        os.close(descriptor)


def lock_holder(path) -> dict | None:
    """The record of the live process that holds the run folder `path`, or None."""
    try:
        descriptor = os.open(os.path.join(path, LOCK_FILE), os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _read(descriptor) or {}  # held, by a writer that has not said who yet
    else:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        return None
    finally:
        os.close(descriptor)
