"""`python -m minibert` starts light: `--help` without TensorFlow, commands without its start-up lines.

Each test starts real `python -m minibert` processes: what is imported, and
what TensorFlow prints, depends on how the process started. The processes
that need nothing from one another start together (`side_by_side`).
"""

import os
import subprocess
import sys

import pytest

from conftest import make_reviews

# absl's and TensorFlow's C++ log lines start with their level and the date: I0000, W0000, E0000.
START_UP_PREFIXES = ("I0000", "W0000", "E0000", "WARNING: All log messages before absl")

REGISTERED = (
    "from keras.src.saving.object_registration import GLOBAL_CUSTOM_OBJECTS\n"
    "print(sorted(name for name in GLOBAL_CUSTOM_OBJECTS if name.startswith('minibert>')))\n"
)
# The interpreter as `python -m minibert` leaves it while importing the package.
AS_COMMAND_LINE = (
    "import sys\n"
    "sys.argv[0], sys.orig_argv[:] = '-m', [sys.executable, '-m', 'minibert']\n"
    "import minibert\n"
    "assert 'tensorflow' not in sys.modules and 'Backbone' not in vars(minibert)\n"
    "from minibert.cli import _import_commands\n"
    "_import_commands()\n"
)


def _minibert(*arguments, env=None):
    return subprocess.run([sys.executable, "-m", "minibert", *arguments], capture_output=True,
                          text=True, env=env)


def _environment_without_log_level():
    # conftest quiets TensorFlow for the suite; a user's shell has no such setting.
    return {name: value for name, value in os.environ.items() if name != "TF_CPP_MIN_LOG_LEVEL"}


def _start(command, folder, name, env=None):
    """Starts `command`, its output going to files; returns what waits for it and reads them."""
    stdout_path, stderr_path = folder / f"{name}.out", folder / f"{name}.err"
    with open(stdout_path, "w") as stdout, open(stderr_path, "w") as stderr:
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, text=True, env=env)

    def finished() -> subprocess.CompletedProcess:
        process.wait()
        return subprocess.CompletedProcess(command, process.returncode, stdout_path.read_text(),
                                           stderr_path.read_text())

    finished.process = process
    return finished


@pytest.fixture(scope="module")
def side_by_side(tmp_path_factory):
    """The module's processes that need nothing from one another, started together: a tiny
    run trained by `python -m minibert train` as a user's shell would start it, a command that
    fails, and the two registries compared. Most of each is a single-threaded start, so on
    two cores they overlap."""
    folder = tmp_path_factory.mktemp("quiet")
    make_reviews(160).to_csv(folder / "reviews.csv", index=False)
    user = _environment_without_log_level()
    started = {
        "train": _start([sys.executable, "-m", "minibert", "train", "--preset", "tiny", "--dataset",
                         str(folder / "reviews.csv"), "--output", str(folder / "run")], folder,
                        "train", user),
        "error": _start([sys.executable, "-m", "minibert", "predict", str(folder / "missing"),
                         "a film"], folder, "error", user),
        "registered by the command line": _start(
            [sys.executable, "-c", AS_COMMAND_LINE + REGISTERED], folder, "command_line"),
        "registered by import minibert": _start(
            [sys.executable, "-c", "import minibert\n" + REGISTERED], folder, "import"),
    }
    yield {"folder": folder, **started}
    for finished in started.values():  # one no test waited for, after a failure
        finished.process.kill()
        finished.process.wait()


@pytest.fixture(scope="module")
def quiet_run(side_by_side):
    """A tiny run trained by `python -m minibert train` as a user's shell would start it."""
    result = side_by_side["train"]()
    assert result.returncode == 0, result.stderr
    return {"run": side_by_side["folder"] / "run", "stderr": result.stderr}


@pytest.mark.slow
@pytest.mark.parametrize("arguments", [["--help"], ["train", "--help"]])
def test_help_imports_neither_tensorflow_nor_keras(arguments):
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "minibert", *arguments],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "usage: python -m minibert" in result.stdout
    imported = [line.split("|")[-1].strip() for line in result.stderr.splitlines()]
    heavy = [name for name in imported if name.split(".")[0] in ("tensorflow", "keras")]
    assert not heavy, heavy[:5]


@pytest.mark.slow
def test_the_command_line_registers_every_class_import_minibert_does(side_by_side):
    results = [side_by_side[name]() for name in ("registered by the command line",
                                                 "registered by import minibert")]
    assert [result.returncode for result in results] == [0, 0], [r.stderr for r in results]
    names = [result.stdout.strip().splitlines()[-1] for result in results]
    assert names[0] == names[1]
    assert "minibert>WordPieceVectorizer" in names[0] and "minibert>WarmupLinearDecay" in names[0]


@pytest.mark.slow
def test_a_run_prints_none_of_tensorflows_start_up_lines(quiet_run):
    noise = [line for line in quiet_run["stderr"].splitlines() if line.startswith(START_UP_PREFIXES)]
    assert not noise, noise


@pytest.mark.slow
def test_predict_loads_a_run_in_a_fresh_command_line_process(quiet_run):
    result = _minibert("predict", str(quiet_run["run"]), "a great film", "a boring plot",
                       env=_environment_without_log_level())
    assert result.returncode == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.strip().splitlines()]
    assert [text for _, _, text in rows] == ["a great film", "a boring plot"]
    assert all(label in ("0", "1") and 0.5 <= float(confidence) <= 1 for label, confidence, _ in rows)
    assert not [line for line in result.stderr.splitlines() if line.startswith(START_UP_PREFIXES)]


@pytest.mark.slow
def test_a_command_line_error_still_shows_in_one_line(side_by_side):
    result = side_by_side["error"]()  # predict, on a run folder that does not exist
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        line for line in result.stderr.strip().splitlines() if line.startswith("error: ")
    ]
