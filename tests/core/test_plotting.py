"""Tests for dl_roadmap.core.plotting: each figure builder on tiny inputs, headless."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from dl_roadmap.core import plotting

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def history(epochs: int = 3, with_metric: bool = True) -> pd.DataFrame:
    frame = pd.DataFrame({
        "epoch": range(epochs),
        "train_loss": np.linspace(1.0, 0.5, epochs),
        "val_loss": np.linspace(1.1, 0.6, epochs),
        "lr": 0.1,  # not a train_/val_ column: must not be drawn
        "epoch_seconds": 1.0,
    })
    if with_metric:
        frame["val_acc"] = np.linspace(0.5, 0.9, epochs)
    return frame


def test_training_curves_loss_panel_above_metric_panel_per_model():
    """Two histories -> a column each: losses on top, other metrics below, 1-based epochs."""
    figure = plotting.training_curves({"ae": history(), "clf": history(4)})
    assert isinstance(figure, Figure)
    assert len(figure.axes) == 4  # 2 rows x 2 models
    top = [ax for ax in figure.axes if ax.get_title()]
    assert [ax.get_title() for ax in top] == ["ae", "clf"]
    for panel, epochs in zip(top, (3, 4)):
        assert sorted(line.get_label() for line in panel.get_lines()) == ["train_loss", "val_loss"]
        assert list(panel.get_lines()[0].get_xdata()) == list(range(1, epochs + 1))
    bottom = [ax for ax in figure.axes if not ax.get_title()]
    assert all([line.get_label() for line in ax.get_lines()] == ["val_acc"] for ax in bottom)


def test_training_curves_with_losses_only_leaves_the_metric_panel_empty():
    """A history with losses only draws nothing (and no legend) in the metric panel."""
    figure = plotting.training_curves({"ae": history(with_metric=False)})
    loss_panel, metric_panel = figure.axes
    assert len(loss_panel.get_lines()) == 2 and metric_panel.get_lines() == []
    assert metric_panel.get_legend() is None


def test_confusion_matrix_colours_rows_by_rate_and_writes_nonzero_counts():
    """Colours are row-normalised rates; every non-zero count is written in its cell."""
    matrix = np.array([[8, 2, 0], [0, 5, 0], [1, 0, 0]])
    figure = plotting.confusion_matrix_figure(matrix, ["a", "b", "c"], title="cm")
    assert isinstance(figure, Figure)
    ax, colorbar = figure.axes
    assert ax.get_title() == "cm"
    rates = np.asarray(ax.get_images()[0].get_array())
    np.testing.assert_allclose(rates, [[0.8, 0.2, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    assert sorted(text.get_text() for text in ax.texts) == ["1", "2", "5", "8"]
    assert [label.get_text() for label in ax.get_xticklabels()] == ["a", "b", "c"]


def test_image_grid_one_row_per_entry_with_captions_under_the_last_row():
    """Rows of different lengths share a grid; only existing images are drawn."""
    rows = {"input": np.random.rand(3, 1, 8, 8), "recon": np.random.rand(2, 8, 8)}
    figure = plotting.image_grid(rows, title="grid", captions=["x", "y", "z"])
    assert isinstance(figure, Figure)
    assert len(figure.axes) == 2 * 3
    assert sum(len(ax.get_images()) for ax in figure.axes) == 5
    assert [ax.get_ylabel() for ax in figure.axes[::3]] == ["input", "recon"]
    assert [ax.get_xlabel() for ax in figure.axes[3:]] == ["x", "y", "z"]
    assert figure.get_suptitle() == "grid"


def test_scatter_2d_draws_every_point_and_a_legend_entry_per_class():
    """All points are drawn, coloured by label, with one legend entry per class."""
    rng = np.random.default_rng(0)
    points, labels = rng.normal(size=(30, 2)), np.repeat([0, 1, 2], 10)
    figure = plotting.scatter_2d(points, labels, title="map")
    assert isinstance(figure, Figure)
    (ax,) = figure.axes
    (dots,) = ax.collections
    assert len(dots.get_offsets()) == 30
    assert len(ax.get_legend().get_texts()) == 3


@pytest.mark.parametrize("logx", [False, True])
def test_line_plot_one_line_per_hue_value_sorted_by_x(logx):
    """One line per hue value, its points in x order; ``logx`` switches the x scale."""
    frame = pd.DataFrame({
        "labels": [100, 10, 1000, 10, 100, 1000],
        "accuracy": [0.8, 0.6, 0.9, 0.5, 0.7, 0.95],
        "method": ["a", "a", "a", "b", "b", "b"],
    })
    figure = plotting.line_plot(frame, "labels", "accuracy", "method", title="t", logx=logx)
    assert isinstance(figure, Figure)
    (ax,) = figure.axes
    assert [line.get_label() for line in ax.get_lines()] == ["a", "b"]
    assert list(ax.get_lines()[0].get_xdata()) == [10, 100, 1000]
    assert list(ax.get_lines()[0].get_ydata()) == [0.6, 0.8, 0.9]
    assert ax.get_xscale() == ("log" if logx else "linear")


def test_figures_save_as_png_without_pyplot(tmp_path):
    """A figure built without pyplot saves to a real PNG file."""
    figure = plotting.training_curves({"clf": history()})
    path = tmp_path / "curves.png"
    figure.savefig(path)
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert path.stat().st_size > 1000
