import inspect
import logging

import numpy as np
import pandas as pd
import pytest
import torch

from memdissect.report import figures
from memdissect.report.figures import average_linkage_order
from memdissect.study.design import UNTRAINED

EPOCHS = np.arange(1, 13)
CONDITIONS = {"true_labels": 0.0, "random_labels": 1.0}


def history(train_acc, grad_magnitude) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "epoch": EPOCHS,
            "train_acc": train_acc,
            "test_acc": np.asarray(train_acc) * 0.6,
            "grad_magnitude": grad_magnitude,
        }
    )


# true labels: accuracy from the first epoch, G spiking wherever accuracy dips (it spans > 20x);
# random labels: at chance while G falls, then fitting
TRUE_LABELS = history(
    [0.35, 0.55, 0.70, 0.82, 0.90, 0.95, 0.98, 0.90, 0.99, 1.0, 0.97, 1.0],
    [0.40, 0.30, 0.20, 0.12, 0.06, 0.03, 0.02, 0.25, 0.01, 0.008, 0.15, 0.006],
)
RANDOM_LABELS = history(
    [0.10, 0.10, 0.11, 0.10, 0.12, 0.20, 0.45, 0.80, 0.99, 1.0, 1.0, 1.0],
    [0.09, 0.05, 0.03, 0.022, 0.02, 0.028, 0.06, 0.09, 0.04, 0.01, 0.005, 0.004],
)
FLAT_G = history(TRUE_LABELS["train_acc"], np.linspace(2.0, 1.0, len(EPOCHS)))


def dist_summary() -> pd.DataFrame:
    rows = []
    for condition, noise in {**CONDITIONS, "half_random": 0.5}.items():
        for k, f2 in enumerate(["vgg11-s2", "vgg13-s1", UNTRAINED]):
            dist = 2.3 if f2 == UNTRAINED else 0.3 + 2 * noise + 0.1 * k
            rows.append(
                {
                    "f1": f"{condition}-vgg11-s1",
                    "f2": f"{condition}-{f2}",
                    "condition": condition,
                    "noise": noise,
                    "f1_network": "vgg11-s1",
                    "f2_network": f2,
                    "dist_mean": dist,
                    "dist_variance": 0.1,
                    "dist_ci_low": dist - 0.05,
                    "dist_ci_high": dist + 0.05,
                }
            )
    return pd.DataFrame(rows)


def crosscheck_table() -> pd.DataFrame:
    table = dist_summary()
    table = table[(table["f2_network"] != UNTRAINED) & table["condition"].isin(CONDITIONS)]
    return table.assign(
        output_kl=1.0, disagreement=0.4, cka=0.7, test_error_a=0.3, test_error_b=0.35
    )


def figure_1():
    return figures.plot_training_curves(
        [("true labels (p = 0)", TRUE_LABELS), ("random labels (p = 1)", RANDOM_LABELS)],
        "vgg11",
        fitting_starts=[None, 6],
    )


def figure_2():
    panels, styles = figures.dist_bar_panels(
        dist_summary(), "vgg11-s1", [list(CONDITIONS), ["random_labels", "half_random"]]
    )
    return figures.plot_dist_bars(panels, ["vgg11-s2", "vgg13-s1"], styles)


def crosscheck_figure():
    panels, styles = figures.dist_bar_panels(crosscheck_table(), "vgg11-s1", [list(CONDITIONS)])
    return figures.plot_crosscheck(panels[0][1], ["vgg11-s2", "vgg13-s1"], styles)


def dist_matrix_figure():
    summary = dist_summary()
    return figures.plot_dist_matrix(
        summary[(summary["condition"] == "true_labels") & (summary["f2"] != UNTRAINED)],
        "true_labels",
    )


def pattern_figure():
    images = torch.rand(3, 4, 3, 32, 32)  # classes x starts x 3 x 32 x 32
    return figures.plot_patterns(
        [("vgg11, true labels", images, images)], [0, 2], ["a", "b", "c"], columns=4
    )


def seed_figure():
    return figures.plot_seed_curves(
        [
            ("vgg11, true labels", [("seed 1", TRUE_LABELS), ("seed 2", FLAT_G)]),
            ("vgg11, random labels", [("seed 1", RANDOM_LABELS), ("seed 2", RANDOM_LABELS)]),
        ],
        fitting_starts=[[None, None], [6, 7]],
    )


def noise_figure():
    return figures.plot_dist_vs_noise(dist_summary())


BUILDERS = {
    "plot_training_curves": figure_1,
    "plot_dist_bars": figure_2,
    "plot_crosscheck": crosscheck_figure,
    "plot_dist_matrix": dist_matrix_figure,
    "plot_patterns": pattern_figure,
    "plot_seed_curves": seed_figure,
    "plot_dist_vs_noise": noise_figure,
}


def legends_of(fig) -> list:
    return [
        *fig.legends,
        *(axis.get_legend() for axis in fig.axes if axis.get_legend() is not None),
    ]


def test_every_figure_function_of_the_package_is_built_here():
    plotting = {
        name
        for name, _ in inspect.getmembers(figures, inspect.isfunction)
        if name.startswith("plot_")
    }
    assert plotting == set(BUILDERS)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_legends_show_readable_names_only(name):
    fig = BUILDERS[name]()
    for legend in legends_of(fig):
        texts = [text.get_text() for text in legend.get_texts()]
        assert texts, f"{name}: an empty legend"
        for text in texts:
            assert text.strip() and not text.startswith("_"), f"{name}: legend entry {text!r}"
            assert "_labels" not in text and text != UNTRAINED, (
                f"{name}: a raw id in the legend: {text!r}"
            )


def test_figure_1_has_one_legend_naming_what_is_drawn():
    legends = legends_of(figure_1())
    assert len(legends) == 1
    assert [text.get_text() for text in legends[0].get_texts()] == [
        "train accuracy",
        "test accuracy",
        "fitting starts",
        "gradient magnitude G",
    ]


@pytest.mark.parametrize(
    "name",
    [
        "plot_training_curves",
        "plot_dist_bars",
        "plot_crosscheck",
        "plot_seed_curves",
        "plot_dist_vs_noise",
    ],
)
def test_legends_overlap_no_panel(name):
    fig = BUILDERS[name]()
    fig.canvas.draw()
    assert legends_of(fig)
    for legend in legends_of(fig):
        for axis in fig.axes:
            assert not legend.get_window_extent().overlaps(axis.get_window_extent()), (
                f"{name}: the legend covers the panel {axis.get_title()!r}"
            )


def grad_axes(fig) -> list:
    return [axis for axis in fig.axes if axis.get_ylabel() == "gradient magnitude G"]


def test_g_gets_a_log_scale_where_it_spans_decades_and_stays_linear_otherwise():
    fig = figures.plot_training_curves([("spiky", TRUE_LABELS), ("flat", FLAT_G)], "vgg11")
    assert [axis.get_yscale() for axis in grad_axes(fig)] == [
        "log",
        "linear",
    ]  # 0.4 / 0.006 = 67; 2 / 1 = 2
    assert [axis.get_yscale() for axis in grad_axes(seed_figure())] == ["log", "log"]
    assert [
        axis.get_yscale()
        for axis in grad_axes(figures.plot_seed_curves([("flat", [("seed 1", FLAT_G)])]))
    ] == ["linear"]


def test_g_has_its_own_axis_in_figure_1():
    fig = figure_1()
    for axis in grad_axes(fig):
        assert axis.get_ylim() != (0, 1.02) and [line.get_label() for line in axis.get_lines()] == [
            "gradient magnitude G"
        ]


def test_the_untrained_network_is_named_for_what_it_is_in_figure_5():
    texts = [
        text.get_text() for legend in legends_of(noise_figure()) for text in legend.get_texts()
    ]
    assert "untrained network (≈ log C when f1 is certain)" in texts and "f2 = vgg11-s2" in texts


def test_clustering_order_puts_close_models_together():
    distance = torch.tensor(
        [[0, 9, 1, 9], [9, 0, 9, 1], [1, 9, 0, 9], [9, 1, 9, 0]], dtype=torch.float64
    ).numpy()
    order = average_linkage_order(distance)
    assert sorted(order) == [0, 1, 2, 3]
    assert abs(order.index(0) - order.index(2)) == 1 and abs(order.index(1) - order.index(3)) == 1


def test_saving_a_figure_logs_nothing_at_info_level(tmp_path, caplog):
    caplog.set_level(logging.INFO)  # the level of a job's log
    figures.save_figure(figure_1(), tmp_path / "figure.pdf", tmp_path / "figure.png")
    assert (tmp_path / "figure.pdf").stat().st_size and (tmp_path / "figure.png").stat().st_size
    assert [record.name for record in caplog.records] == []


def matrix_summary() -> pd.DataFrame:
    """Dist of three networks of one condition: a and c close, b far from both."""
    dist = {
        ("a", "b"): 3.0,
        ("b", "a"): 3.2,
        ("a", "c"): 0.5,
        ("c", "a"): 0.7,
        ("b", "c"): 2.8,
        ("c", "b"): 3.1,
    }
    return pd.DataFrame(
        [
            {"f1_network": f1, "f2_network": f2, "dist_mean": value}
            for (f1, f2), value in dist.items()
        ]
    )


def test_the_lookup_table_is_a_labelled_column_of_the_matrix_outside_its_clustering():
    lookup = pd.DataFrame({"f1_network": ["c", "a", "b"], "dist_mean": [6.0, 5.0, 1.0]})
    alone = figures.plot_dist_matrix(matrix_summary(), "x").axes[0]
    beside = figures.plot_dist_matrix(matrix_summary(), "x", lookup).axes[0]
    rows = [label.get_text() for label in alone.get_yticklabels()]
    assert rows == [label.get_text() for label in beside.get_yticklabels()]  # the same clustering
    assert [label.get_text() for label in beside.get_xticklabels()] == [*rows, "k-NN lookup table"]
    assert list(beside.get_xticks()) == [0, 1, 2, 4]  # none at the gap
    networks, with_lookup = (
        alone.images[0].get_array().filled(np.nan),
        beside.images[0].get_array().filled(np.nan),
    )
    assert with_lookup.shape == (3, 5)
    np.testing.assert_array_equal(with_lookup[:, :3], networks)
    assert np.isnan(with_lookup[:, 3]).all()  # the gap between the networks and the lookup table
    assert with_lookup[:, 4].tolist() == [{"a": 5.0, "b": 1.0, "c": 6.0}[row] for row in rows]
    without_rows = figures.plot_dist_matrix(matrix_summary(), "x", lookup.iloc[:0]).axes[0]
    assert without_rows.images[0].get_array().shape == (3, 3)
    figures.plt.close("all")
