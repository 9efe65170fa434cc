"""A run's pictures, drawn from hand-written histories and tables."""

import os
import sys

import pandas as pd
import pytest
from conftest import png_size

from minibert.inspection.plots import (
    PIXEL_SIZE,
    curves_figure,
    plot_curves,
    plot_embeddings,
)


def write_history(folder, stages) -> str:
    """A history.csv of 2 epochs for each of `stages`, as a run writes it."""
    rows = [
        {"stage": stage, "epoch": epoch, "loss": 1.0 / epoch, "accuracy": 0.5 + 0.1 * epoch,
         "val_loss": 1.1 / epoch, "val_accuracy": 0.4 + 0.1 * epoch, "seconds": 1.0}
        for stage in stages for epoch in (1, 2)
    ]
    path = os.path.join(folder, "history.csv")
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_curves_of_a_run_without_pretraining_have_one_column_per_stage_it_ran(tmp_path):
    history_path = write_history(tmp_path, ["frozen", "unfrozen"])
    output = plot_curves(history_path, tmp_path / "curves.png")
    assert png_size(output) == PIXEL_SIZE == (1200, 800)
    figure = curves_figure(pd.read_csv(history_path))
    titles = [axes.get_title() for axes in figure.axes]
    assert titles == ["Classifier, backbone frozen", "Classifier, backbone unfrozen", "", ""]
    # Train and validation in every panel, each named in its legend.
    for axes in figure.axes:
        assert [text.get_text().split(" (")[0] for text in axes.get_legend().get_texts()] == [
            "train", "validation"
        ]


def test_a_stage_without_accuracy_says_so_instead_of_an_empty_panel():
    history = pd.DataFrame({"stage": ["mlm", "mlm"], "epoch": [1, 2], "loss": [5.0, 4.0]})
    loss_axes, accuracy_axes = curves_figure(history).axes
    assert len(loss_axes.lines) == 1 and not accuracy_axes.lines
    assert [text.get_text() for text in accuracy_axes.texts] == ["no accuracy logged"]


def test_drawing_opens_no_pyplot_figure(tmp_path):
    history_path = write_history(tmp_path, ["mlm"])
    plot_curves(history_path, tmp_path / "curves.png")
    table = pd.DataFrame({"x": [0.0, 1.0, 2.0], "y": [0.0, 1.0, 0.5], "label": ["a", "b", "a"]})
    assert png_size(plot_embeddings(table, tmp_path / "embeddings.png", "three")) == PIXEL_SIZE
    pyplot = sys.modules.get("matplotlib.pyplot")  # imported by the user, never by minibert
    assert pyplot is None or not pyplot.get_fignums()
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".tmp")]


def test_a_folder_without_history_is_refused_in_one_line(tmp_path):
    with pytest.raises(FileNotFoundError, match="history.csv not found; expected the history.csv"):
        plot_curves(tmp_path / "history.csv", tmp_path / "curves.png")


def test_a_one_epoch_stage_gets_whole_epoch_ticks():
    history = pd.DataFrame({"stage": ["frozen"], "epoch": [1], "loss": [0.6], "val_loss": [0.5]})
    figure = curves_figure(history)
    figure.canvas.draw()
    for axes in figure.axes:
        low, high = axes.get_xlim()
        assert [tick for tick in axes.get_xticks() if low <= tick <= high] == [1.0]


def test_figures_that_barely_move_are_not_magnified_into_a_trend():
    # Two epochs 0.0002 apart: the panel spans at least 0.05 of accuracy (0.1 of loss).
    history = pd.DataFrame({"stage": ["frozen"] * 2, "epoch": [1, 2], "loss": [0.6931, 0.6929],
                            "accuracy": [0.5001, 0.5003]})
    loss_axes, accuracy_axes = curves_figure(history).axes
    assert loss_axes.get_ylim()[1] - loss_axes.get_ylim()[0] >= 0.1 - 1e-9
    assert accuracy_axes.get_ylim()[1] - accuracy_axes.get_ylim()[0] >= 0.05 - 1e-9
    low, high = accuracy_axes.get_ylim()
    assert low < 0.5001 and 0.5003 < high
    # A real trend keeps matplotlib's own fit.
    moving = curves_figure(pd.DataFrame({"stage": ["frozen"] * 2, "epoch": [1, 2],
                                         "loss": [0.9, 0.3], "accuracy": [0.5, 0.9]}))
    assert moving.axes[1].get_ylim()[1] - moving.axes[1].get_ylim()[0] < 0.6


def test_steps_within_epochs_draw_a_curve_for_a_one_epoch_stage():
    history = pd.DataFrame({"stage": ["unfrozen"], "epoch": [1], "loss": [0.4], "accuracy": [0.8]})
    steps = pd.DataFrame({"stage": ["unfrozen"] * 4, "epoch": [0.25, 0.5, 0.75, 1.0],
                          "loss": [0.7, 0.6, 0.5, 0.4], "accuracy": [0.5, 0.6, 0.7, 0.8]})
    loss_axes, accuracy_axes = curves_figure(history, steps=steps).axes
    for axes, column in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
        lines = {line.get_label(): line for line in axes.get_lines()}
        within = lines["train, within epochs (running mean)"]
        assert list(within.get_xdata()) == [0.25, 0.5, 0.75, 1.0]
        assert list(within.get_ydata()) == list(steps[column])
        assert axes.get_xlim()[0] == 0
