"""`python -m minibert` starts light: `--help` without TensorFlow, commands without its start-up lines.

Each test starts real `python -m minibert` processes: what is imported, and
what TensorFlow prints, depends on how the process started.
"""

import os
import subprocess
import sys

import pytest

from conftest import make_reviews

# absl's and TensorFlow's C++ log lines start with their level and the date: I0000, W0000, E0000.
START_UP_PREFIXES = ("I0000", "W0000", "E0000", "WARNING: All log messages before absl")


def _minibert(*arguments, env=None):
    return subprocess.run([sys.executable, "-m", "minibert", *arguments], capture_output=True,
                          text=True, env=env)


def _environment_without_log_level():
    # conftest quiets TensorFlow for the suite; a user's shell has no such setting.
    return {name: value for name, value in os.environ.items() if name != "TF_CPP_MIN_LOG_LEVEL"}


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
def test_the_command_line_registers_every_class_import_minibert_does():
    registered = (
        "from keras.src.saving.object_registration import GLOBAL_CUSTOM_OBJECTS\n"
        "print(sorted(name for name in GLOBAL_CUSTOM_OBJECTS if name.startswith('minibert>')))\n"
    )
    # The interpreter as `python -m minibert` leaves it while importing the package.
    as_command_line = (
        "import sys\n"
        "sys.argv[0], sys.orig_argv[:] = '-m', [sys.executable, '-m', 'minibert']\n"
        "import minibert\n"
        "assert 'tensorflow' not in sys.modules and not hasattr(minibert, 'Backbone')\n"
        "from minibert.cli import _import_commands\n"
        "_import_commands()\n"
    )
    # The two processes side by side: each is mostly a single-threaded start.
    processes = [
        subprocess.Popen([sys.executable, "-c", script + registered], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for script in (as_command_line, "import minibert\n")
    ]
    outputs = [process.communicate() for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    names = [stdout.strip().splitlines()[-1] for stdout, _ in outputs]
    assert names[0] == names[1]
    assert "minibert>WordPieceVectorizer" in names[0] and "minibert>WarmupLinearDecay" in names[0]


@pytest.fixture(scope="module")
def quiet_run(tmp_path_factory):
    """A tiny run trained by `python -m minibert train` as a user's shell would start it."""
    folder = tmp_path_factory.mktemp("quiet")
    make_reviews(160).to_csv(folder / "reviews.csv", index=False)
    result = _minibert("train", "--preset", "tiny", "--dataset", str(folder / "reviews.csv"),
                       "--output", str(folder / "run"), env=_environment_without_log_level())
    assert result.returncode == 0, result.stderr
    return {"run": folder / "run", "stderr": result.stderr}


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
def test_a_command_line_error_still_shows_in_one_line(quiet_run):
    result = _minibert("predict", str(quiet_run["run"] / "missing"), "a film",
                       env=_environment_without_log_level())
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        line for line in result.stderr.strip().splitlines() if line.startswith("error: ")
    ]
