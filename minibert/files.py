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

import json
import os
import tempfile


def _atomic_write(path, write):
    """Writes through a temporary file in the same folder, then renames it.

    A crash mid-write leaves the previous file (or none), never a truncated one.
    """
    temporary = temporary_path(path)
    try:
        write(temporary)
        move_into_place(temporary, path)
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
