"""What a bare GPU machine needs for one measurement, cut into parts the device tool can carry.

The lent GPU machine has JAX with CUDA, pandas, pyarrow and matplotlib, but
no TensorFlow, Keras or network, and each call of the device tool carries at
most 64 MiB. Here, before asking for the machine:

    python benchmarks/gpu/carry.py pack --data ../shared/data/imdb

downloads the missing wheels (for the device's Python 3.12, at the versions
installed here, so it runs what the suite tested), copies the data, cuts
every file into pieces and packs the pieces into `.gpu/part-1`, `part-2`, ...
of at most `--part-mib` each, with `.gpu/manifest.json` (ignored by git). Each
part travels in one call (`carry: [".gpu/part-N"]`), the calls back to back
while the machine stays warm; the last call carries the last part and the
manifest and runs `benchmarks/gpu/measure.sh`, which first runs, there:

    python3 benchmarks/gpu/carry.py join

to put every file back together under `.gpu/files/` and check its SHA-256.
Only the standard library is used: the device's python3 runs `join` before
anything is installed.
"""

import argparse
import hashlib
import importlib.metadata
import json
import shutil
import subprocess
import sys
from pathlib import Path

MANIFEST = "manifest.json"
DEVICE_PYTHON = "3.12"
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64"]
# The wheels the device lacks, each at the version installed here (the name
# here, if it differs). TensorFlow comes as its CPU build: under JAX it only
# runs the tf.data pipelines and the vectorizer. The rest are what Keras,
# TensorFlow and KerasHub import that the device's image does not have
# (benchmarks/gpu/README.md lists that image). Left behind: libclang, which
# TensorFlow declares for its C++ tooling only, and tensorflow-text (60 MB, a
# part of its own), which only `--tokenizer wordpiece` needs.
WHEELS = {
    "tensorflow-cpu": "tensorflow", "keras": None, "keras-hub": None, "optree": None,
    "namex": None, "gast": None, "astunparse": None, "google-pasta": None, "termcolor": None,
    "kagglehub": None,
}
DATA_FILES = ("train.parquet", "unsup.parquet", "README.md")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pack(files: Path, carry: Path, part_bytes: int) -> dict:
    """Cuts every file under `files` into pieces of at most `part_bytes` and fills the parts.

    Pieces go into `carry/part-1`, `part-2`, ... in order, a part closing when
    the next piece would take it past `part_bytes`. Returns the manifest:
    each file's path under `files`, size, SHA-256 and pieces (part, name).
    """
    manifest, part, part_size = {"files": {}}, 1, 0
    for path in sorted(p for p in files.rglob("*") if p.is_file()):
        relative = path.relative_to(files).as_posix()
        pieces = []
        with open(path, "rb") as file:
            for index, block in enumerate(iter(lambda: file.read(part_bytes), b"")):
                if part_size and part_size + len(block) > part_bytes:
                    part, part_size = part + 1, 0
                name = f"{relative.replace('/', '__')}.{index:03d}"
                folder = carry / f"part-{part}"
                folder.mkdir(parents=True, exist_ok=True)
                (folder / name).write_bytes(block)
                part_size += len(block)
                pieces.append([part, name])
        manifest["files"][relative] = {
            "bytes": path.stat().st_size, "sha256": sha256(path), "pieces": pieces,
        }
    manifest["parts"] = part
    (carry / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return manifest


def join(carry: Path) -> Path:
    """Puts every file of the manifest back together under `carry/files`; checks each one."""
    manifest = json.loads((carry / MANIFEST).read_text())
    files = carry / "files"
    missing = sorted({f"part-{part}" for entry in manifest["files"].values()
                      for part, name in entry["pieces"]
                      if not (carry / f"part-{part}" / name).exists()})
    if missing:
        raise SystemExit(f"error: {', '.join(missing)} did not arrive; carry each part in its "
                         "own call while the machine stays warm (benchmarks/gpu/README.md)")
    for relative, entry in manifest["files"].items():
        target = files / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as out:
            for part, name in entry["pieces"]:
                with open(carry / f"part-{part}" / name, "rb") as piece:
                    shutil.copyfileobj(piece, out)
        if sha256(target) != entry["sha256"]:
            raise SystemExit(f"error: {relative} does not match its SHA-256; carry its parts again")
    return files


def download_wheels(folder: Path) -> None:
    """The device's missing wheels, for its Python, at the versions installed here."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, installed_as in WHEELS.items():
        version = importlib.metadata.version(installed_as or name)
        platforms = [argument for platform in PLATFORMS for argument in ("--platform", platform)]
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--only-binary=:all:", "--python-version", DEVICE_PYTHON, "--implementation", "cp",
             *platforms, "--dest", str(folder), f"{name}=={version}"],
            check=True,
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["pack", "join"])
    parser.add_argument("--carry", default=".gpu", help="the folder of parts (default: .gpu)")
    parser.add_argument("--data", help="pack: the IMDb folder to bring (../shared/data/imdb)")
    parser.add_argument("--part-mib", type=float, default=60,
                        help="pack: the most one part holds (the tool carries 64 MiB a call)")
    parser.add_argument("--no-wheels", action="store_true", help="pack: bring the data alone")
    args = parser.parse_args(argv)
    carry = Path(args.carry)
    if args.action == "join":
        print(f"files put back together under {join(carry)}")
        return 0
    if carry.exists():
        shutil.rmtree(carry)
    staging = carry / "staging"
    if not args.no_wheels:
        download_wheels(staging / "wheels")
    if args.data:
        (staging / "data" / "imdb").mkdir(parents=True)
        for name in DATA_FILES:
            if (Path(args.data) / name).exists():
                shutil.copy(Path(args.data) / name, staging / "data" / "imdb" / name)
    manifest = pack(staging, carry, int(args.part_mib * 2**20))
    shutil.rmtree(staging)
    total = sum(entry["bytes"] for entry in manifest["files"].values())
    print(f"{len(manifest['files'])} files, {total / 2**20:,.0f} MiB, in {manifest['parts']} parts "
          f"under {carry}: carry {carry}/part-1 ... part-{manifest['parts']} one per call, "
          f"then run benchmarks/gpu/measure.sh (benchmarks/gpu/README.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
