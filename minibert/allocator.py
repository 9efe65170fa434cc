"""The memory allocator a minibert process runs on: mimalloc, not glibc's malloc, on Linux.

Where oneDNN is off (TensorFlow's default on a CPU without AVX512_VNNI,
AVX512_BF16 or AMX, e.g. an AVX2-only AMD EPYC), TensorFlow's Eigen kernels
allocate each step's large tensors (attention scores: batch x heads x
tokens x tokens) through glibc's malloc. Allocations above its mmap
threshold (32 MiB at most) are new mappings every time, handed back at
free, and the kernel faults every page in again: half a run's CPU time
can go to the kernel. A pooling allocator keeps the pages it was given;
TensorFlow's own pooling of its tensors and glibc's `mallopt` thresholds
leave the scratch buffers' faults, so the allocator is swapped whole
(benchmarks/README.md, "The allocator", has the measurements).

An allocator can only be chosen before a process starts (the dynamic
loader's `LD_PRELOAD`), so the command line re-executes itself once with
it (`reexecute_with_allocator`). pip installs mimalloc with minibert on
Linux (the `cmeel-mimalloc` wheel); `MINIBERT_ALLOCATOR` picks another:

- unset or `mimalloc`: the one pip installed;
- a path: that library, e.g. `/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4`;
- `system`: none, the C library's malloc.

Nothing a run computes changes: only where its memory comes from. A library
user starts Python under it: `LD_PRELOAD=$(python -m minibert.allocator) jupyter lab`.

Example:
>>> allocator_name("/site-packages/cmeel.prefix/lib/libmimalloc.so.3")
'mimalloc'
"""

import os
import sys

VARIABLE = "MINIBERT_ALLOCATOR"
# Set in the re-executed process, so that it never re-executes again (even
# where the loader could not preload the library and said so on stderr).
REEXECUTED_VARIABLE = "MINIBERT_ALLOCATOR_PRELOADED"
KNOWN_ALLOCATORS = ("mimalloc", "tcmalloc", "jemalloc")
# mimalloc hands pages back 10 ms after they are freed by default; a training
# step frees and re-allocates the same tensors every few milliseconds, so
# every purge is a page fault later (system time 19% of CPU against 12%
# without purging, same machine). A run's memory peaks at every step anyway.
MIMALLOC_SETTINGS = {"MIMALLOC_PURGE_DELAY": "-1"}


def allocator_name(path: str) -> str:
    """The allocator a shared library's file name says it is, or the name itself."""
    file_name = os.path.basename(path)
    return next((name for name in KNOWN_ALLOCATORS if name in file_name), file_name)


def bundled_mimalloc() -> str | None:
    """The path of the mimalloc library pip installed with minibert, or None."""
    from importlib import metadata

    try:
        files = metadata.files("cmeel-mimalloc") or []
    except metadata.PackageNotFoundError:
        return None
    libraries = sorted(str(file.locate()) for file in files if file.name.startswith("libmimalloc.so"))
    # libmimalloc.so is a link to libmimalloc.so.N; either loads.
    found = [path for path in libraries if os.path.isfile(path)]
    return found[0] if found else None


def chosen_library(environment=os.environ) -> str | None:
    """The library `MINIBERT_ALLOCATOR` asks for (None: the C library's malloc).

    Raises ValueError where it names a file that is not there.
    """
    choice = environment.get(VARIABLE, "mimalloc").strip()
    if choice in ("system", "", "none"):
        return None
    if choice == "mimalloc":
        return bundled_mimalloc()
    if not os.path.isfile(choice):
        raise ValueError(
            f"{VARIABLE}={choice!r} is not a file; set it to a malloc library's path "
            "(e.g. /usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4), 'mimalloc' or 'system'"
        )
    return choice


def preloaded_allocator() -> str | None:
    """The name of the allocator library mapped into this process (Linux), or None."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:
            mapped = {line.split()[-1] for line in maps if "/" in line}
    except OSError:
        return None
    # A library MINIBERT_ALLOCATOR named by path counts whatever its name.
    chosen = os.path.realpath(os.environ.get(REEXECUTED_VARIABLE, "/nowhere"))
    return next((allocator_name(path) for path in sorted(mapped)
                 if os.path.realpath(path) == chosen
                 or any(name in os.path.basename(path) for name in KNOWN_ALLOCATORS)), None)


def allocator_in_use() -> str:
    """The allocator this process runs on, in words: a preloaded library's name, or the C library's."""
    name = preloaded_allocator()
    if name is not None:
        return name
    return "glibc malloc" if sys.platform.startswith("linux") else "the system's malloc"


def preload_environment(library: str, environment=os.environ) -> dict:
    """`environment` with `library` preloaded ahead of what `LD_PRELOAD` already holds."""
    preloaded = environment.get("LD_PRELOAD", "")
    updated = dict(environment)
    updated["LD_PRELOAD"] = f"{library} {preloaded}".strip() if library not in preloaded else preloaded
    updated[REEXECUTED_VARIABLE] = library
    if allocator_name(library) == "mimalloc":
        for name, value in MIMALLOC_SETTINGS.items():
            updated.setdefault(name, value)
    return updated


def reexecute_with_allocator(print_fn=lambda line: print(line, file=sys.stderr)) -> None:
    """Replaces this process by itself under the chosen allocator, once; returns if there is none.

    Only on Linux, only where no allocator is preloaded already (the user's
    own `LD_PRELOAD` wins). Where mimalloc is missing (minibert installed
    without its dependencies), one line says how to get it.
    """
    if (not sys.platform.startswith("linux") or os.environ.get(REEXECUTED_VARIABLE)
            or preloaded_allocator() is not None):
        return
    library = chosen_library()
    if library is None:
        if os.environ.get(VARIABLE, "mimalloc").strip() == "mimalloc":
            print_fn("hint: pip install cmeel-mimalloc (or set MINIBERT_ALLOCATOR=system): "
                     "without it, TensorFlow on a CPU can spend half its time in the kernel")
        return
    sys.stdout.flush()
    sys.stderr.flush()
    # sys.orig_argv keeps the interpreter's own flags (-X, -u) and how it was
    # started (`-m minibert` or the `minibert` script).
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], preload_environment(library))


if __name__ == "__main__":
    # `LD_PRELOAD=$(python -m minibert.allocator) python my_script.py`
    print(chosen_library() or "")
