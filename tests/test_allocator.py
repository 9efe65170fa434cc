"""The command line runs under mimalloc on Linux, and `MINIBERT_ALLOCATOR` chooses otherwise.

Each test starts a real process: an allocator is chosen when a process starts.
"""

import os
import subprocess
import sys

import pytest

from minibert import allocator

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="LD_PRELOAD is Linux's")

# What `python -m minibert` does first, then what the process runs on. Imported as the
# `minibert` command imports the package, without TensorFlow (minibert/__init__.py): each
# start, and the re-executed one, takes a fraction of a second instead of seconds.
REEXECUTES = (
    "import sys\n"
    "sys.argv[0] = 'minibert'\n"
    "from minibert.allocator import allocator_in_use, reexecute_with_allocator\n"
    "reexecute_with_allocator()\n"
    "print(allocator_in_use())\n"
)


def _environment(**variables):
    # As a user's shell starts it, whatever allocator this test process runs on.
    environment = {name: value for name, value in os.environ.items()
                   if name not in ("LD_PRELOAD", allocator.VARIABLE, allocator.REEXECUTED_VARIABLE)}
    return {**environment, **variables}


def _run(script, **variables):
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=_environment(**variables))


def test_pip_installs_mimalloc_with_minibert():
    library = allocator.bundled_mimalloc()
    assert library is not None and os.path.isfile(library)
    assert allocator.allocator_name(library) == "mimalloc"


def test_the_command_line_re_executes_itself_under_mimalloc_once():
    result = _run(REEXECUTES + "import os; print(os.environ['MIMALLOC_PURGE_DELAY'])\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["mimalloc", "-1"]


def test_minibert_allocator_system_keeps_the_c_librarys_malloc():
    result = _run(REEXECUTES, MINIBERT_ALLOCATOR="system")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "glibc malloc"
    assert "hint" not in result.stderr


def test_a_user_preloaded_allocator_is_kept():
    library = allocator.bundled_mimalloc()
    result = _run(REEXECUTES + "import os; print(os.environ.get('MINIBERT_ALLOCATOR_PRELOADED'))\n",
                  LD_PRELOAD=library)
    # Already under an allocator: no second start, so the marker was never set.
    assert result.stdout.split() == ["mimalloc", "None"]


def test_an_allocator_path_that_is_not_a_file_is_refused_in_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "minibert", "plot", str(tmp_path)], capture_output=True, text=True,
        env=_environment(**{allocator.VARIABLE: str(tmp_path / "libnothing.so")}),
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: MINIBERT_ALLOCATOR='{tmp_path / 'libnothing.so'}' is not a file; set it to a "
        "malloc library's path (e.g. /usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4), "
        "'mimalloc' or 'system'"
    ]


def test_python_m_minibert_allocator_prints_the_library_to_preload():
    result = subprocess.run([sys.executable, "-m", "minibert.allocator"], capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == allocator.bundled_mimalloc()


def test_preloading_keeps_what_ld_preload_held():
    environment = allocator.preload_environment("/lib/libmimalloc.so.3", {"LD_PRELOAD": "/lib/libx.so"})
    assert environment["LD_PRELOAD"] == "/lib/libmimalloc.so.3 /lib/libx.so"
    assert environment[allocator.REEXECUTED_VARIABLE] == "/lib/libmimalloc.so.3"


def test_without_mimalloc_the_command_line_says_how_to_get_it_and_goes_on(monkeypatch):
    monkeypatch.setattr(allocator, "bundled_mimalloc", lambda: None)
    monkeypatch.setattr(allocator, "preloaded_allocator", lambda: None)
    monkeypatch.delenv(allocator.VARIABLE, raising=False)
    monkeypatch.delenv(allocator.REEXECUTED_VARIABLE, raising=False)
    lines = []
    allocator.reexecute_with_allocator(print_fn=lines.append)  # returns: no library to run under
    assert len(lines) == 1 and lines[0].startswith("hint: pip install cmeel-mimalloc")
