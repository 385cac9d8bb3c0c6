"""The figures of learn-then-memorize and of paths in function space: what they draw, their legends, their bytes."""

import inspect

import numpy as np
import pandas as pd
import pytest

from memdissect.analyses.function_paths_summary import path_divergence_by_epoch
from memdissect.report import claims_figures
from memdissect.report.figures import RANDOM_COLOR, TRUE_COLOR, save_figure

EPOCHS = np.arange(1, 11)


def group_history(shift: int) -> pd.DataFrame:
    """Clean samples fitted from epoch 2, relabeled ones `shift` epochs later; G of the relabeled ones spiking."""
    clean = np.clip((EPOCHS - 1) / 3, 0, 1)
    relabeled = np.clip((EPOCHS - 1 - shift) / 4, 0, 1)
    return pd.DataFrame(
        {
            "epoch": EPOCHS,
            "clean_train_acc": clean,
            "relabeled_train_acc": relabeled,
            "relabeled_true_class": 0.6 * (1 - relabeled) * (EPOCHS > 1),
            "clean_grad_magnitude": np.linspace(1.0, 0.01, len(EPOCHS)),
            "relabeled_grad_magnitude": np.linspace(2.0, 0.5, len(EPOCHS)),
        }
    )


def learning_order_figure():
    return claims_figures.plot_learning_order(
        [
            (
                "true labels half random, vgg11",
                [("seed 1", group_history(3)), ("seed 2", group_history(4))],
            ),
            ("vgg13", [("seed 1", group_history(2))]),
        ],
        "p = 0.5",
    )


def path_pairs() -> pd.DataFrame:
    rows = []
    for condition, scale in (("true_labels", 0.1), ("random_labels", 0.6)):
        for k, (run_a, run_b) in enumerate([("s1", "s2"), ("s1", "s3"), ("s2", "s3")]):
            for split in ("train", "test"):
                value = scale * (1 + 0.1 * k) * np.exp(-EPOCHS / 8)
                rows.append(
                    pd.DataFrame(
                        {
                            "condition": condition,
                            "name": "vgg11",
                            "run_a": run_a,
                            "run_b": run_b,
                            "split": split,
                            "epoch": EPOCHS,
                            "disagreement": value,
                            "sym_kl": 3 * value,
                        }
                    )
                )
    return pd.concat(rows, ignore_index=True)


def function_path_figure():
    by_epoch = path_divergence_by_epoch(path_pairs(), n_resamples=200, seed=0)
    return claims_figures.plot_function_paths(
        by_epoch,
        "vgg11",
        {"true_labels": "true labels (p = 0)", "random_labels": "random labels (p = 1)"},
        {"true_labels": 0.0, "random_labels": 1.0},
        fit_epochs={"true_labels": 4.0, "random_labels": float("nan")},
    )


BUILDERS = {
    "plot_learning_order": learning_order_figure,
    "plot_function_paths": function_path_figure,
}


def legend_texts(fig) -> list[str]:
    return [text.get_text() for legend in fig.legends for text in legend.get_texts()]


def test_every_figure_function_of_the_module_is_built_here():
    plotting = {
        name
        for name, _ in inspect.getmembers(claims_figures, inspect.isfunction)
        if name.startswith("plot_") and inspect.getmodule(_) is claims_figures
    }
    assert plotting == set(BUILDERS)


def test_the_learning_order_figure_draws_every_seeds_groups_and_names_each_curve_once():
    fig = learning_order_figure()
    assert legend_texts(fig) == [
        "clean samples: their label",
        "relabeled samples: their assigned label",
        "relabeled samples: their true class",
        "99%",
        "G of the clean samples",
        "G of the relabeled samples",
    ]
    accuracy_axes = [axis for axis in fig.axes if axis.get_ylabel() == "share of the group"]
    assert [len(axis.get_lines()) for axis in accuracy_axes] == [
        2 * 3 + 1,
        3 + 1,
    ]  # seeds x curves, the 99% line
    assert accuracy_axes[0].get_title() == "true labels half random, vgg11 (2 seeds)"
    grad_axes = [axis for axis in fig.axes if axis.get_ylabel() == "gradient magnitude G"]
    assert [axis.get_yscale() for axis in grad_axes] == [
        "log",
        "log",
    ]  # 2.0 / 0.01 spans more than 20x


def test_the_path_figure_colours_x_t_and_x_r_as_figure_2_and_marks_the_fit_epoch_where_there_is_one():
    fig = function_path_figure()
    assert len(fig.axes) == 4
    assert [axis.get_title() for axis in fig.axes] == [
        "training probe: disagreement (share of probes)",
        "training probe: symmetric KL [nats]",
        "test probe: disagreement (share of probes)",
        "test probe: symmetric KL [nats]",
    ]
    lines = {line.get_label(): line.get_color() for line in fig.axes[0].get_lines()}
    assert (
        lines["true labels (p = 0)"] == TRUE_COLOR
        and lines["random labels (p = 1)"] == RANDOM_COLOR
    )
    assert "true labels (p = 0): labels fitted (mean epoch)" in legend_texts(fig)
    assert not any("random labels (p = 1): labels" in text for text in legend_texts(fig))
    assert all(axis.collections for axis in fig.axes)  # the bands over seed pairs


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_legends_overlap_no_panel_and_saved_figures_are_the_same_bytes_twice(name, tmp_path):
    fig = BUILDERS[name]()
    fig.canvas.draw()
    for legend in fig.legends:
        for axis in fig.axes:
            assert not legend.get_window_extent().overlaps(axis.get_window_extent())
    for attempt in ("a", "b"):
        save_figure(BUILDERS[name](), tmp_path / f"{attempt}.pdf", tmp_path / f"{attempt}.png")
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
