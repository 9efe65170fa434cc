"""One measurement on a GPU machine: the preset's step, the whole recipe and the baseline.

Everything a measurement writes goes to `--out` (the device tool's $OUT):

    env.log        the machine: nvidia-smi, the Keras backend and its devices
    bench.log/json `python -m minibert bench --no-ladder`: the preset's
                   pretraining step, tokens/s, MFU, the input pipeline's rate
    train.log      `python -m minibert train --preset gpu`, as a user runs it
    metrics.json   the run's metrics (validation accuracy, each stage) and
    history.csv    its epochs, copied from the run folder (`--run-folder`,
                   outside OUT: the device tool brings back 8 files at most)
    baseline.log   TF-IDF + logistic regression on the same split, run on the
                   host's CPUs while the GPU trains
    summary.json   the figures the README quotes, and each step's seconds

It runs the steps one after another, each as its own `python -m minibert`
process, and goes on after a failing step so the others still report; the
exit status is 1 if any failed. On a CPU with `--preset tiny` and a small
table it runs the same steps in a minute: that is its dry run
(tests/test_gpu_script.py).

    python benchmarks/gpu/measure.py --dataset .gpu/data/imdb --group-column movie \\
        --minutes 6 --out "$OUT"
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True, help="a table file or folder (IMDb's parquet)")
    parser.add_argument("--group-column", help="hold out whole groups (IMDb: movie)")
    parser.add_argument("--preset", default="gpu")
    parser.add_argument("--minutes", type=float,
                        help="the recipe's budget (default: the preset's; the device tool's "
                        "10-minute command limit needs less than gpu's 15)")
    parser.add_argument("--bench-steps", type=int, default=30, help="timed steps of the bench")
    parser.add_argument("--peak-tflops", type=float,
                        help="the device's peak, for one minibert.utilization does not list")
    parser.add_argument("--out", required=True, help="the folder every result goes to")
    parser.add_argument("--run-folder", default=os.path.join(tempfile.gettempdir(), "minibert_gpu"),
                        help="where train writes its run (default: under the temporary folder)")
    return parser.parse_args(argv)


def run_step(name, arguments, out, summary, background=False):
    """Runs `python -m minibert ARGUMENTS` with its output in OUT/NAME.log; records its time.

    In the `background`, it returns at once, with a function that waits for the step.
    """
    log = open(os.path.join(out, f"{name}.log"), "w")
    command = [sys.executable, "-m", "minibert", *arguments]
    log.write("$ " + " ".join(command) + "\n")
    log.flush()
    start = time.monotonic()
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                               env=dict(os.environ, PYTHONUNBUFFERED="1"))

    def wait():
        status = process.wait()
        log.close()
        summary["steps"][name] = {"status": status, "seconds": round(time.monotonic() - start, 1)}
        print(f"{name}: status {status} after {summary['steps'][name]['seconds']:,.0f} s",
              flush=True)

    if not background:
        return wait()
    # A thread records when it ended, not when the steps before were done with it.
    waiter = threading.Thread(target=wait)
    waiter.start()
    return waiter.join


def environment(out) -> dict:
    """What the machine is, in env.log; the backend and devices, for the summary."""
    lines = []
    if shutil.which("nvidia-smi"):
        lines.append(subprocess.run(["nvidia-smi"], capture_output=True, text=True).stdout)
    probe = subprocess.run(
        [sys.executable, "-c", "import json, keras; from minibert.training.devices import "
         "describe_devices, find_accelerator; a = find_accelerator(); print(json.dumps("
         "{'keras': keras.__version__, 'devices': describe_devices(), "
         "'accelerator': a and a.name}))"],
        capture_output=True, text=True,
    )
    lines += [probe.stdout, probe.stderr]
    with open(os.path.join(out, "env.log"), "w") as file:
        file.write("\n".join(lines))
    try:
        return json.loads(probe.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"probe_failed": True}


def main(argv=None) -> int:
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    data = ["--dataset", args.dataset] + (
        ["--group-column", args.group_column] if args.group_column else [])
    summary = {"preset": args.preset, "dataset": args.dataset, "group_column": args.group_column,
               "steps": {}}
    summary["environment"] = environment(args.out)
    # The baseline needs no GPU: it runs on the host's CPUs beside the GPU steps.
    baseline = run_step("baseline", ["baseline", *data], args.out, summary, background=True)
    bench_json = os.path.join(args.out, "bench.json")
    peak = [] if args.peak_tflops is None else ["--peak-tflops", str(args.peak_tflops)]
    run_step("bench", ["bench", *data, "--preset", args.preset, "--no-ladder",
                       "--steps", str(args.bench_steps), *peak, "--output", bench_json],
             args.out, summary)
    run_folder = args.run_folder
    budget = [] if args.minutes is None else ["--minutes", str(args.minutes)]
    run_step("train", ["train", *data, "--preset", args.preset, *budget, "--output", run_folder,
                       "--overwrite"],
             args.out, summary)
    baseline()

    if os.path.exists(bench_json):
        with open(bench_json) as file:
            preset_row = json.load(file)["preset"]
        summary["pretraining_step"] = {key: preset_row[key] for key in (
            "device", "precision", "batch_size", "width", "seconds_per_step", "tokens_per_second",
            "achieved_tflops", "flops_per_step", "vocabulary_size", "peak_tflops", "peak_source",
            "mfu", "host_batches_per_second", "steps_per_second")}
    metrics_path = os.path.join(run_folder, "metrics.json")
    if os.path.exists(metrics_path):
        for name in ("metrics.json", "history.csv"):
            shutil.copy(os.path.join(run_folder, name), os.path.join(args.out, name))
        with open(metrics_path) as file:
            metrics = json.load(file)
        summary["recipe"] = {"seconds": summary["steps"]["train"]["seconds"],
                             "validation_accuracy": metrics["validation"]["accuracy"]}
    with open(os.path.join(args.out, "baseline.log")) as file:
        summary["baseline_line"] = file.read().strip().splitlines()[-1]
    with open(os.path.join(args.out, "summary.json"), "w") as file:
        json.dump(summary, file, indent=2)
    print(json.dumps(summary, indent=2))
    return int(any(step["status"] != 0 for step in summary["steps"].values()))


if __name__ == "__main__":
    sys.exit(main())
