"""Drawing a run's pictures: training curves from history.csv, 2-D sentence vectors.

Figures are `matplotlib.figure.Figure` objects drawn on the Agg canvas, never
through `pyplot`: no window opens, nothing needs a display, and the caller's
own pyplot backend and open figures are left as they were. Every picture is
FIGURE_INCHES at DPI, so its PNG is PIXEL_SIZE (width, height) pixels.
"""

import os

import pandas as pd
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from minibert.runs import files
from minibert.runs.folder import STEPS_FILE

FIGURE_INCHES = (12, 8)
DPI = 100
PIXEL_SIZE = (FIGURE_INCHES[0] * DPI, FIGURE_INCHES[1] * DPI)  # (1200, 800)

STAGE_TITLES = {
    "mlm": "Masked-LM pretraining",
    "frozen": "Classifier, backbone frozen",
    "unfrozen": "Classifier, backbone unfrozen",
}


# The least a panel's y axis spans: matplotlib fits the axis to the data, so
# figures that differ by 0.0002 (one epoch, or a flat stage) would fill the
# panel as if they were a trend.
MINIMUM_SPAN = {"loss": 0.1, "accuracy": 0.05}


def _keep_a_minimum_span(axes, span):
    """Widens the y axis around its middle to at least `span`, so noise looks like noise."""
    low, high = axes.get_ylim()
    if high - low < span:
        middle = (low + high) / 2
        axes.set_ylim(middle - span / 2, middle + span / 2)


def _new_figure(columns=1) -> Figure:
    # Past three columns of panels (self-training's students), each gets its own width.
    width = max(FIGURE_INCHES[0], FIGURE_INCHES[0] / 3 * columns)
    figure = Figure(figsize=(width, FIGURE_INCHES[1]), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)  # attaches itself as figure.canvas
    return figure


def _draw_metric(axes, stage_rows, suffix):
    """Every column of `stage_rows` ending in `suffix`: train solid, validation dashed.

    The best validation score so far (`best_val_accuracy`) is left out: the
    dashed line shows it."""
    columns = [name for name in stage_rows.columns
               if name.endswith(suffix) and not name.startswith("best_")]
    # The stage's own figure first, then others (nsp_loss); each as train then
    # validation, so the default colours pair up the same way in every panel.
    columns.sort(key=lambda name: (
        name.removeprefix("val_") != suffix, name.removeprefix("val_"), name.startswith("val_")
    ))
    drawn = 0
    for name in columns:
        rows = stage_rows[["epoch", name]].dropna()
        if rows.empty:
            continue
        validation = name.startswith("val_")
        metric = name.removeprefix("val_")
        # "loss" and "accuracy" are the stage's own; anything else (nsp_loss) says its name.
        label = ("validation" if validation else "train") + (
            "" if metric == suffix else f" {metric}"
        )
        axes.plot(
            rows["epoch"], rows[name], linestyle="--" if validation else "-",
            marker="s" if validation else "o",
            label=f"{label} (last {rows[name].iloc[-1]:.3f})",
        )
        drawn += 1
    return drawn


def _draw_steps(axes, stage_steps, metric):
    """The stage's `metric` every few batches (steps.csv), a thin line under the epoch markers."""
    if stage_steps is None or metric not in stage_steps or stage_steps[metric].isna().all():
        return 0
    axes.plot(stage_steps["epoch"], stage_steps[metric], linewidth=1, alpha=0.6, color="grey",
              label="train, within epochs (running mean)")
    return 1


def curves_figure(history: pd.DataFrame, title="Training curves", steps=None) -> Figure:
    """Loss (top row) and accuracy (bottom row) per epoch, one column per stage.

    Args:
        history: a run's history.csv as a DataFrame: `stage` and `epoch`
            columns, then one column per logged figure (`loss`, `val_loss`,
            `accuracy`, `val_accuracy`, ...). Stages appear in the order of
            their rows; a stage the run skipped (`--mlm-epochs 0`) has no
            column.
        title: the figure's title.
        steps: optionally, a run's steps.csv as a DataFrame (`stage`, a
            fractional `epoch`, `loss`, `accuracy`): each stage's training
            figures every few batches, drawn under the epochs' (a one-epoch
            stage then shows a curve, not one dot).

    Example:
    >>> history = pd.DataFrame({"stage": ["frozen", "frozen"], "epoch": [1, 2],
    ...                         "loss": [0.7, 0.6], "val_loss": [0.69, 0.65]})
    >>> figure = curves_figure(history)
    >>> [axes.get_title() for axes in figure.axes]
    ['Classifier, backbone frozen', '']
    """
    missing = {"stage", "epoch"} - set(history.columns)
    if missing or history.empty:
        raise ValueError(
            f"a run history needs rows with 'stage' and 'epoch' columns; got columns "
            f"{list(history.columns)} and {len(history)} rows"
        )
    stages = list(history["stage"].unique())
    figure = _new_figure(len(stages))
    grid = figure.subplots(2, len(stages), squeeze=False)
    for column, stage in enumerate(stages):
        stage_rows = history[history["stage"] == stage]
        stage_steps = None if steps is None else steps[steps["stage"] == stage]
        if stage_steps is not None and stage_steps.empty:
            stage_steps = None
        loss_axes, accuracy_axes = grid[0, column], grid[1, column]
        loss_axes.set_title(STAGE_TITLES.get(stage, stage))
        for axes, suffix in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
            drawn = _draw_steps(axes, stage_steps, suffix)
            if _draw_metric(axes, stage_rows, suffix) + drawn:
                axes.legend(fontsize="small")
            else:
                # Under PyTorch the masked LM logs no accuracy: say so, not a blank box.
                axes.text(0.5, 0.5, f"no {suffix} logged", ha="center", va="center",
                          transform=axes.transAxes)
            axes.set_xlabel("epoch")
            # Whole epochs only, with room around them: a one-epoch stage
            # would otherwise get ticks like 0.95 ... 1.05.
            axes.set_xlim(0 if stage_steps is not None else 0.5, stage_rows["epoch"].max() + 0.5)
            axes.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
            _keep_a_minimum_span(axes, MINIMUM_SPAN[suffix])
            axes.grid(alpha=0.3)
        loss_axes.set_ylabel("cross-entropy loss")
        accuracy_axes.set_ylabel("masked-word accuracy" if stage == "mlm" else "accuracy")
    figure.suptitle(title, fontsize="x-large")
    return figure


def plot_curves(history_path, output_path) -> str:
    """Draws the history.csv at `history_path` into the PNG `output_path`; returns that path.

    Example:
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> pd.DataFrame({"stage": ["unfrozen"], "epoch": [1], "loss": [0.5], "accuracy": [0.8]}
    ...              ).to_csv(os.path.join(folder, "history.csv"), index=False)
    >>> os.path.basename(plot_curves(os.path.join(folder, "history.csv"),
    ...                              os.path.join(folder, "curves.png")))
    'curves.png'
    """
    if not os.path.isfile(history_path):
        raise FileNotFoundError(
            f"{history_path} not found; expected the history.csv of a run folder written by "
            "`python -m minibert train`"
        )
    folder = os.path.dirname(os.path.abspath(history_path))
    # The run's steps.csv, when it has one (runs before it have not).
    steps_path = os.path.join(folder, STEPS_FILE)
    steps = pd.read_csv(steps_path) if os.path.isfile(steps_path) else None
    figure = curves_figure(pd.read_csv(history_path),
                           f"{os.path.basename(folder)}: loss and accuracy per epoch", steps)
    files.save_figure(figure, output_path)
    return output_path


def plot_embeddings(table: pd.DataFrame, output_path, title, axis_labels=("x", "y")) -> str:
    """A scatter of `table`'s `x` and `y`, one colour per `label`, into the PNG `output_path`.

    Example:
    >>> import tempfile
    >>> table = pd.DataFrame({"x": [0.0, 1.0], "y": [1.0, 0.0], "label": ["neg", "pos"]})
    >>> path = os.path.join(tempfile.mkdtemp(), "embeddings.png")
    >>> plot_embeddings(table, path, "two points") == path
    True
    """
    figure = _new_figure()
    axes = figure.subplots()
    labels = sorted(pd.unique(table["label"]), key=str)
    # tab10's distinct colours up to 10 labels, tab20's up to 20, then they repeat.
    colour_map = colormaps["tab10" if len(labels) <= 10 else "tab20"]
    for index, label in enumerate(labels):
        rows = table[table["label"] == label]
        axes.scatter(rows["x"], rows["y"], s=18, alpha=0.7, color=colour_map(index % colour_map.N),
                     label=f"{label} ({len(rows)})", edgecolors="none")
    axes.set_xlabel(axis_labels[0])
    axes.set_ylabel(axis_labels[1])
    axes.set_title(title)
    axes.legend(title="label (rows)", markerscale=2)
    axes.grid(alpha=0.3)
    files.save_figure(figure, output_path)
    return output_path
