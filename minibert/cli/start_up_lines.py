"""TensorFlow's C++ start-up lines, kept off the command line's stderr.

Starting TensorFlow prints lines such as `I0000 ... oneDNN custom operations
are on` and, on a machine without CUDA, `E0000 ... failed call to cuInit:
INTERNAL: CUDA error`: they read as failures and are none. TF_CPP_MIN_LOG_LEVEL
quiets what TensorFlow logs once running, but absl prints its first lines
before anything reads it ("All log messages before absl::InitializeLog() is
called are written to STDERR"), so those are filtered out of stderr while
TensorFlow is imported. Library users (`import minibert`) keep TensorFlow's
own behaviour; a user who sets TF_CPP_MIN_LOG_LEVEL keeps every line.
"""

import contextlib
import ctypes.util
import os
import re
import sys
import tempfile

# absl's informational and warning lines (`I0000 00:00:1796285203.213708   13741 port.cc:153] ...`),
# its banner, and the second line of TensorFlow's CPU-instructions notice.
START_UP_NOISE = re.compile(
    r"[IW]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\]"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|To enable the following instructions: "
)


def has_cuda_driver() -> bool:
    """Whether this machine has NVIDIA's driver, without which TensorFlow's CUDA errors are noise."""
    return os.path.exists("/proc/driver/nvidia") or ctypes.util.find_library("cuda") is not None


@contextlib.contextmanager
def quiet_tensorflow_start():
    """Imports inside this block start TensorFlow without its start-up lines on stderr.

    Other lines written meanwhile (a warning, a traceback) still reach stderr
    when the block ends. Once TensorFlow runs, it logs errors and worse on a
    machine with CUDA, where they may be real, and only fatal ones elsewhere.
    """
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ or "tensorflow" in sys.modules:
        yield
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2" if has_cuda_driver() else "3"
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [
                line for line in captured.read().decode("utf-8", "replace").splitlines(keepends=True)
                if not START_UP_NOISE.match(line)
            ]
            sys.stderr.write("".join(kept))
            sys.stderr.flush()
