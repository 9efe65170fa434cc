"""benchmarks/gpu: the parts a bare GPU machine is sent, and the measurement's dry run on a CPU."""

import dataclasses
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_reviews

from minibert.config import get_preset
from minibert.utilization import pretraining_step_flops

GPU_SCRIPTS = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu"


def load(name):
    spec = importlib.util.spec_from_file_location(name, GPU_SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


carry = load("carry")


@pytest.fixture
def files(tmp_path) -> Path:
    folder = tmp_path / "files"
    (folder / "wheels").mkdir(parents=True)
    (folder / "wheels" / "big.whl").write_bytes(bytes(range(256)) * 1000)  # 256,000 bytes
    (folder / "README.md").write_text("data")
    return folder


def test_files_are_cut_into_parts_no_larger_than_asked_and_put_back_together(files, tmp_path):
    manifest = carry.pack(files, tmp_path / "carry", part_bytes=100_000)
    sizes = [sum(piece.stat().st_size for piece in part.iterdir())
             for part in sorted((tmp_path / "carry").glob("part-*"))]
    assert len(sizes) == manifest["parts"] == 4 and max(sizes) <= 100_000
    assert [len(entry["pieces"]) for entry in manifest["files"].values()] == [1, 3]
    joined = carry.join(tmp_path / "carry")
    assert (joined / "wheels" / "big.whl").read_bytes() == (files / "wheels" / "big.whl").read_bytes()
    assert (joined / "README.md").read_text() == "data"


def test_a_part_that_did_not_arrive_or_arrived_changed_is_named(files, tmp_path):
    carry.pack(files, tmp_path / "carry", part_bytes=100_000)
    piece = next((tmp_path / "carry" / "part-2").iterdir())
    piece.write_bytes(b"x" + piece.read_bytes()[1:])
    with pytest.raises(SystemExit, match="big.whl does not match its SHA-256"):
        carry.join(tmp_path / "carry")
    piece.unlink()
    with pytest.raises(SystemExit, match="part-2 did not arrive"):
        carry.join(tmp_path / "carry")


@pytest.mark.slow
def test_the_measurement_dry_runs_on_a_cpu(tmp_path):
    """Every step of measure.py, as the GPU runs it, on the tiny preset and a small table."""
    table = tmp_path / "reviews.csv"
    make_reviews(200).to_csv(table, index=False)
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, str(GPU_SCRIPTS / "measure.py"), "--dataset", str(table),
         "--preset", "tiny", "--bench-steps", "2", "--peak-tflops", "0.5", "--out", str(out),
         "--run-folder", str(tmp_path / "run")],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # At most 8 files: what the device tool brings back.
    assert {path.name for path in out.iterdir()} == {
        "env.log", "bench.log", "bench.json", "train.log", "baseline.log", "metrics.json",
        "history.csv", "summary.json",
    }
    summary = json.loads((out / "summary.json").read_text())
    assert {name: step["status"] for name, step in summary["steps"].items()} == {
        "bench": 0, "train": 0, "baseline": 0}
    # The preset's own step, as bench_preset measures it: auto precision on a CPU, the
    # FLOPs of the formula, tokens/s and MFU against the peak given.
    step = summary["pretraining_step"]
    assert step["device"] == "CPU" and step["precision"] == "float32"
    tiny, words = get_preset("tiny"), step["vocabulary_size"]
    assert 0 < words <= tiny.model.vocabulary_size and step["flops_per_step"] == pretraining_step_flops(
        dataclasses.replace(tiny.model, vocabulary_size=words), tiny.pretrain.batch_size,
        tiny.model.sequence_length, tiny.pretrain.mask_rate, tiny.pretrain.num_sampled, words)
    assert step["tokens_per_second"] == pytest.approx(
        tiny.pretrain.batch_size * tiny.model.sequence_length / step["seconds_per_step"])
    assert step["mfu"] == pytest.approx(step["achieved_tflops"] / 0.5)
    assert step["peak_source"] == "--peak-tflops" and step["host_batches_per_second"] > 0
    assert 0 <= summary["recipe"]["validation_accuracy"] <= 1
    assert summary["recipe"]["seconds"] == summary["steps"]["train"]["seconds"]
    assert "TF-IDF" in summary["baseline_line"]
