"""Files written whole or not at all: a run killed mid-write never leaves half a file.

Every file minibert writes (models, JSON, CSV, vocabularies, pictures) goes
through `_atomic_write`: written to a temporary file in the same folder, then
renamed over the old one, which POSIX makes atomic.

Example:
>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "values.json")
>>> write_json(path, {"accuracy": 0.9})
>>> read_json(path)
{'accuracy': 0.9}
"""

import errno
import json
import os
import re
import tempfile

import numpy as np

# A write that fails for one of these is the disk's or the folder's doing,
# not minibert's: it ends in one line naming the file and the way out.
_FIXES = {
    errno.ENOSPC: "free space or choose --output",
    errno.EDQUOT: "free space (the disk quota is reached) or choose --output",
    errno.EACCES: "make the folder writable or choose --output",
    errno.EPERM: "make the folder writable or choose --output",
    errno.EROFS: "the disk is read-only; choose --output",
    errno.ENOTDIR: "a path above it is a file; choose --output",
    errno.EISDIR: "a folder is in the way; move it or choose --output",
    errno.EEXIST: "a file is in the way; move it or choose --output",
    errno.ENOENT: "a folder on its path is missing or cannot be made; choose --output",
}


class WriteError(ValueError):
    """A file of a run could not be written: the disk is full, the folder read-only, ..."""


def write_failure_errno(error: OSError) -> int | None:
    """The errno of a failed write, also when a library (h5py) left it only in the message."""
    if error.errno is not None:
        return error.errno
    found = re.search(r"errno = (\d+)", str(error))
    return int(found.group(1)) if found else None


def is_write_failure(error: OSError) -> bool:
    """Whether `error` says the disk or the folder refused a write."""
    return write_failure_errno(error) in _FIXES


def write_failure_message(path, error: OSError) -> str:
    """'could not write PATH: REASON; THE WAY OUT', in one line.

    >>> write_failure_message("run/mlm.keras", OSError(errno.ENOSPC, "No space left on device"))
    'could not write run/mlm.keras: No space left on device; free space or choose --output'
    """
    code = write_failure_errno(error)
    reason = error.strerror or (os.strerror(code) if code else str(error).splitlines()[0])
    return f"could not write {path}: {reason}; {_FIXES.get(code, 'choose --output')}"


def _atomic_write(path, write):
    """Writes through a temporary file in the same folder, then renames it.

    A crash mid-write leaves the previous file (or none), never a truncated
    one; a write the disk refuses (full, read-only, ...) is a `WriteError`
    naming the file, and the previous file stays as it was.
    """
    try:
        temporary = temporary_path(path)
    except OSError as error:
        raise WriteError(write_failure_message(path, error)) from error
    try:
        write(temporary)
        move_into_place(temporary, path)
    except OSError as error:
        if not is_write_failure(error):
            raise
        raise WriteError(write_failure_message(path, error)) from error
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def temporary_path(path) -> str:
    """A new empty file beside `path`, to write in steps and then `move_into_place`."""
    folder = os.path.dirname(os.path.abspath(path))
    suffix = os.path.splitext(path)[1]  # Keras checks the .keras extension
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=suffix)
    os.close(handle)
    return temporary


def move_into_place(temporary, path) -> None:
    """Renames the finished `temporary` over `path`, with the permissions a new file gets."""
    # mkstemp makes the file private (0600); give it the permissions any
    # new file would have.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)
    os.replace(temporary, path)


def save_model(model, path) -> None:
    _atomic_write(path, model.save)


def save_arrays(path, arrays) -> None:
    """Writes a list of numpy arrays as one `.npz` file, atomically (`load_arrays` reads it)."""
    def write(temporary):
        with open(temporary, "wb") as file:  # a file object: savez adds no suffix
            np.savez(file, *arrays)

    _atomic_write(path, write)


def load_arrays(path) -> list:
    with np.load(path) as saved:
        return [saved[f"arr_{index}"] for index in range(len(saved.files))]


def save_figure(figure, path) -> None:
    """Writes a `matplotlib.figure.Figure` as PNG at its own size and dpi, atomically."""
    _atomic_write(path, lambda temporary: figure.savefig(temporary, format="png"))


def write_text(path, text) -> None:
    def write(temporary):
        with open(temporary, "w", encoding="utf-8") as file:
            file.write(text)

    _atomic_write(path, write)


def write_json(path, values) -> None:
    write_text(path, json.dumps(values, indent=2) + "\n")


def read_json(path) -> dict:
    with open(path, encoding="utf-8") as file:
        try:
            return json.load(file)
        except ValueError as error:  # JSONDecodeError, UnicodeDecodeError
            raise ValueError(f"{path} is not valid JSON ({error}); restore it or rerun") from error
