"""Runs the notebooks on real data and saves them with their outputs, for readers on GitHub.

The committed notebooks show what each cell gave on a real run. This script
makes those outputs: it executes 01, 02, 03 and 04 in order (or those named
by --notebooks), each in a fresh kernel that imports minibert from this
checkout, in this folder (as Jupyter runs them), with the parameters below
passed as MINIBERT_NOTEBOOK_* variables, and writes each notebook back in
place once all its cells ran. A failing cell leaves the committed file as it
was.

Progress bars are kept as a browser shows them (the last state of each
line), and this checkout's folder is written as the relative path a reader
has, so nothing names the machine the run was made on; TensorFlow's
C++ log lines, which depend on the machine, are silenced. Each notebook's
metadata records what made its outputs (`metadata.minibert`).

    python notebooks/regenerate.py --dataset ../shared/data/imdb --group-column movie

04 fine-tunes a tagger on WNUT-17 from a pretrained run (by default the one
01 trains); to run it alone, from a run pretrained on IMDb:

    python notebooks/regenerate.py --notebooks 04 --pretrained-run ../saved_models/imdb-pretrained

Install `ipywidgets` first (`pip install ipywidgets`), or every notebook's
`import minibert` keeps tqdm's harmless "IProgress not found" warning.
With the `imdb` preset on a 2-core CPU this takes about an hour and a half,
most of it notebook 01's training. It refuses to start over a finished run
in `--run-folder` or `--tagger-folder`, since 01 and 04 would reuse it
instead of training.
"""

import argparse
import dataclasses
import datetime
import os
import platform
import re
import sys
import time
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parent
ROOT = NOTEBOOKS.parent
NAMES = ["01_quickstart.ipynb", "02_build_your_own.ipynb", "03_reuse_saved_models.ipynb",
         "04_tag_entities.ipynb", "05_answer_questions.ipynb"]
# TensorFlow's C++ log lines ("I0000 00:00:17... port.cc:153] oneDNN ...") say what the
# machine has or lacks (CUDA drivers, AVX-512), not what the cell did. They ignore
# TF_CPP_MIN_LOG_LEVEL when printed before absl's logging starts, so they are dropped here.
MACHINE_LOG_LINE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called.*"
    r"|[IWEF]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] .*)\n?", re.MULTILINE
)


def as_displayed(text: str) -> str:
    """`text` as Jupyter renders a stream: `\\b` erases a character, `\\r` restarts the line."""
    while "\b" in text:
        index = text.index("\b")
        text = text[: max(index - 1, 0)] + text[index + 1 :]
    lines = []
    for line in text.split("\n"):
        parts = [part for part in line.split("\r") if part]
        lines.append(parts[-1] if parts else "")
    return "\n".join(lines)


def relative_paths(text: str, replacements: dict[str, str]) -> str:
    """`text` with each absolute folder replaced by the path a reader of the notebook has."""
    for absolute, relative in replacements.items():
        text = text.replace(absolute, relative)
    return text


def merged_streams(outputs: list) -> list:
    """`outputs` with consecutive writes to one stream joined, as Jupyter displays them.

    The kernel sends each progress-bar update as a message of its own; only
    joined do the `\\r`s of the updates overwrite each other.
    """
    merged = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (output.output_type == "stream" and previous is not None
                and previous.output_type == "stream" and previous.name == output.name):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


def tidy_outputs(notebook, replacements: dict[str, str]) -> None:
    """Progress bars as displayed and relative paths, in every text output of `notebook`."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            if output.output_type == "stream" and output.name == "stderr":
                output.text = MACHINE_LOG_LINE.sub("", output.text)
        cell.outputs = merged_streams(
            [output for output in cell.outputs if output.output_type != "stream" or output.text]
        )
        for output in cell.outputs:
            if output.output_type == "stream":
                output.text = relative_paths(as_displayed(output.text), replacements)
            elif output.output_type in ("execute_result", "display_data"):
                for kind in ("text/plain", "text/html"):
                    if kind in output.data:
                        output.data[kind] = relative_paths(output.data[kind], replacements)


def notebook_name(text: str) -> str:
    """A notebook's file name from its name or its number ("04")."""
    for name in NAMES:
        if text in (name, name.split("_")[0]):
            return name
    raise argparse.ArgumentTypeError(
        f"no notebook {text!r}; choose from {', '.join(NAMES)} (or their numbers)"
    )


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="imdb",
                        help="as the notebooks' DATASET: imdb, or a table file or folder")
    parser.add_argument("--group-column", help="as GROUP_COLUMN: e.g. movie, for unseen films")
    parser.add_argument("--preset", default="imdb", help="01's PRESET (02 keeps its own)")
    parser.add_argument("--run-folder", default="../saved_models/quickstart",
                        help="RUN_FOLDER of 01 and 03, relative to notebooks/")
    parser.add_argument("--notebooks", nargs="+", type=notebook_name, default=NAMES,
                        help="which to run, by name or number (04), in order (03 reads the run "
                        "01 wrote, and 04 by default too)")
    tagging = parser.add_argument_group("04, the tagger")
    tagging.add_argument("--ner-dataset", default="../shared/data/ner",
                         help="04's DATASET: a folder of CoNLL files (train, dev and test)")
    tagging.add_argument("--pretrained-run",
                         help="04's PRETRAINED_RUN, relative to notebooks/; default --run-folder")
    tagging.add_argument("--tagger-folder", default="../saved_models/tag_entities",
                         help="04's OUTPUT_FOLDER, relative to notebooks/")
    tagging.add_argument("--frozen-epochs", type=int, help="04's FROZEN_EPOCHS (else its own)")
    tagging.add_argument("--unfrozen-epochs", type=int, help="04's UNFROZEN_EPOCHS (else its own)")
    tagging.add_argument("--unfrozen-learning-rate", type=float,
                         help="04's UNFROZEN_LEARNING_RATE (else its own)")
    tagging.add_argument("--unknown-word-rate", type=float,
                         help="04's UNKNOWN_WORD_RATE (else its own)")
    answering = parser.add_argument_group("05, the answerer")
    answering.add_argument("--squad-dataset", default="../shared/data/squad/train-v1.1.json",
                           help="05's DATASET: SQuAD JSON")
    answering.add_argument("--squad-pretrained-run", default="../saved_models/squad-pretrained",
                           help="05's PRETRAINED_RUN, relative to notebooks/")
    answering.add_argument("--answerer-folder", default="../saved_models/answer_questions",
                           help="05's OUTPUT_FOLDER, relative to notebooks/")
    answering.add_argument("--reuse-answerer", action="store_true",
                           help="let 05 reuse a finished run in --answerer-folder (its outputs "
                           "then show that run's training, not a new one; the record says so)")
    args = parser.parse_args(argv)
    args.pretrained_run = args.pretrained_run or args.run_folder
    return args


def resolved(path: str) -> str:
    """`path` made absolute when it exists here: the kernel runs in notebooks/, not where
    this was started."""
    return str(Path(path).resolve()) if os.path.exists(path) else path


def parameters(args: argparse.Namespace, name: str) -> dict[str, str]:
    """The MINIBERT_NOTEBOOK_* values notebook `name` reads."""
    if name.startswith("05"):
        values = {"DATASET": resolved(args.squad_dataset),
                  "PRETRAINED_RUN": args.squad_pretrained_run, "OUTPUT": args.answerer_folder}
        return {f"MINIBERT_NOTEBOOK_{key}": value for key, value in values.items()}
    if name.startswith("04"):
        values = {"DATASET": resolved(args.ner_dataset), "PRETRAINED_RUN": args.pretrained_run,
                  "OUTPUT": args.tagger_folder}
        for key in ("frozen_epochs", "unfrozen_epochs", "unfrozen_learning_rate",
                    "unknown_word_rate"):
            if getattr(args, key) is not None:  # else the notebook's own
                values[key.upper()] = str(getattr(args, key))
        return {f"MINIBERT_NOTEBOOK_{key}": value for key, value in values.items()}
    values = {"DATASET": resolved(args.dataset), "RUN": args.run_folder,
              "GROUP_COLUMN": args.group_column or ""}
    if name.startswith("01"):
        values["PRESET"] = args.preset
    return {f"MINIBERT_NOTEBOOK_{key}": value for key, value in values.items()}


def run_notebook(name: str, env_values: dict[str, str], replacements: dict[str, str],
                 record: dict) -> float:
    """Executes notebook `name` in place; the seconds it took."""
    import nbformat
    from nbclient import NotebookClient

    path = NOTEBOOKS / name
    notebook = nbformat.read(path, as_version=4)
    code_cells = sum(cell.cell_type == "code" for cell in notebook.cells)
    start = time.monotonic()
    done = []

    def cell_done(cell, **_):
        if cell.cell_type == "code":
            done.append(cell)
            print(f"{name}: cell {len(done)}/{code_cells} done, "
                  f"{time.monotonic() - start:,.0f} s so far", file=sys.stderr, flush=True)

    # The kernel imports minibert from this checkout, whatever is installed.
    python_path = [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(python_path), **env_values)
    client = NotebookClient(
        notebook, timeout=None, kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}}, on_cell_executed=cell_done,
    )
    client.execute(env=env)
    seconds = time.monotonic() - start
    tidy_outputs(notebook, replacements)
    notebook.metadata["minibert"] = dict(record, seconds=round(seconds))
    nbformat.write(notebook, path)
    return seconds


def finetuning_record(args: argparse.Namespace, record: dict, name: str) -> dict:
    """04's and 05's `metadata.minibert`: the data set and the pretrained run it started from
    (05's: and whether it reused a finished answerer)."""
    import minibert

    answering = name.startswith("05")
    run = args.squad_pretrained_run if answering else args.pretrained_run
    folder = minibert.RunFolder(NOTEBOOKS / run)
    data = folder.read_data()
    pretrained = {"path": run, "data": data.name if data else None,
                  "model": dataclasses.asdict(folder.read_config().model)}
    shared = {key: value for key, value in record.items()
              if key not in ("dataset", "group_column", "preset_of_01")}
    if answering:
        return dict(shared, dataset=args.squad_dataset, pretrained_run=pretrained,
                    answerer_reused=args.reuse_answerer)
    return dict(shared, dataset=args.ner_dataset, pretrained_run=pretrained)


def main(argv=None) -> int:
    args = parse_args(argv)
    checked = [(NAMES[0], args.run_folder, "--run-folder"),
               (NAMES[3], args.tagger_folder, "--tagger-folder")]
    if not args.reuse_answerer:
        checked.append((NAMES[4], args.answerer_folder, "--answerer-folder"))
    for name, folder, flag in checked:
        path = (NOTEBOOKS / folder).resolve()
        if name in args.notebooks and (path / "metrics.json").exists():
            print(f"error: {path} holds a finished run, which {name[:2]} would reuse instead of "
                  f"training; move it away or pass another {flag}", file=sys.stderr)
            return 2
    import keras

    record = {
        "outputs_from": "notebooks/regenerate.py",
        "dataset": args.dataset,
        "group_column": args.group_column,
        "preset_of_01": args.preset,
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
    }
    replacements = {str(ROOT): ".."}
    for name in args.notebooks:
        env_values = parameters(args, name)
        given = {"04": args.ner_dataset, "05": args.squad_dataset}.get(name[:2], args.dataset)
        dataset = env_values["MINIBERT_NOTEBOOK_DATASET"]
        if dataset != given:  # a resolved path: show it as it was given
            replacements = {dataset: given, **replacements}
        notebook_record = (finetuning_record(args, record, name) if name[:2] in ("04", "05")
                           else record)
        seconds = run_notebook(name, env_values, replacements, notebook_record)
        print(f"{name}: all cells ran in {seconds:,.0f} s; saved with its outputs",
              file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
