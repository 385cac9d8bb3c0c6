"""The figures of the paper's other claims: learn then memorize (per noise level) and paths in function space
(per model group). In the project's one style (memdissect.report.figures), saved without timestamps by
figures.save_figure.
"""

import itertools

import numpy as np

from memdissect.analyses.function_paths_summary import MEASURE_LABELS, PATH_MEASURES, SPLIT_LABELS
from memdissect.analyses.learning_order_summary import MEMORIZED
from memdissect.report.figures import (
    RANDOM_COLOR,
    TRUE_COLOR,
    legend_below,
    plt,
    scale_for_spread,
    use_style,
)

TRUE_CLASS_COLOR = "#2ca02c"
ACCURACY_CURVES = (
    ("clean_train_acc", "clean samples: their label", TRUE_COLOR, "-"),
    ("relabeled_train_acc", "relabeled samples: their assigned label", RANDOM_COLOR, "-"),
    ("relabeled_true_class", "relabeled samples: their true class", TRUE_CLASS_COLOR, "--"),
)
G_CURVES = (
    ("clean_grad_magnitude", "G of the clean samples", TRUE_COLOR, "-"),
    ("relabeled_grad_magnitude", "G of the relabeled samples", RANDOM_COLOR, "-"),
)
OTHER_CONDITION_COLORS = ("#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22")


def draw_seed_curves(axis, histories: list, curves) -> None:
    """Each curve (column, label, color, line style) of every seed's history, the label given once."""
    for index, (_, history) in enumerate(histories):
        for column, label, color, style in curves:
            axis.plot(
                history["epoch"],
                history[column],
                color=color,
                linestyle=style,
                linewidth=1,
                alpha=0.8,
                label=label if index == 0 else None,
            )


def plot_learning_order(panels: list[tuple[str, list]], title: str):
    """Per panel (a model group in one condition of the noise level): the groups' train accuracy (top) and G
    (bottom) per epoch, every seed drawn over the others.

    panels: (title, [(seed label, history), ...]) with the columns of memdissect.training.group_metrics.
    """
    use_style()
    fig, axes = plt.subplots(
        2,
        len(panels),
        figsize=(3.4 * len(panels), 4.8),
        squeeze=False,
        sharex="col",
        layout="constrained",
    )
    for column, (panel_title, histories) in enumerate(panels):
        accuracy, grad = axes[0, column], axes[1, column]
        draw_seed_curves(accuracy, histories, ACCURACY_CURVES)
        draw_seed_curves(grad, histories, G_CURVES)
        accuracy.axhline(
            MEMORIZED, color="0.5", linestyle=":", linewidth=1, label=f"{100 * MEMORIZED:g}%"
        )
        scale_for_spread(
            grad,
            [
                value
                for _, history in histories
                for column_name, *_ in G_CURVES
                for value in history[column_name]
            ],
        )
        accuracy.set_title(
            f"{panel_title} ({len(histories)} seed{'s' if len(histories) != 1 else ''})"
        )
        accuracy.set_ylim(0, 1.02)
        accuracy.set_ylabel("share of the group")
        grad.set_ylabel("gradient magnitude G")
        grad.set_xlabel("epoch")
    legend_below(fig, axes, columns=3)
    fig.suptitle(title)
    return fig


def condition_colors(conditions: list[str], noise_of: dict) -> dict:
    """X_T blue and the first X_R orange, as in Figure 2; every other condition the next colour."""
    palette, colors = itertools.cycle(OTHER_CONDITION_COLORS), {}
    for condition in conditions:
        noise = noise_of[condition]
        if noise == 0 and TRUE_COLOR not in colors.values():
            colors[condition] = TRUE_COLOR
        elif noise == 1 and RANDOM_COLOR not in colors.values():
            colors[condition] = RANDOM_COLOR
        else:
            colors[condition] = next(palette)
    return colors


def draw_condition_band(axis, rows, color: str, label: str) -> None:
    """The mean over seed pairs per epoch, and its interval as a band where there is one."""
    rows = rows.sort_values("epoch")
    axis.plot(rows["epoch"], rows["mean"], color=color, label=label)
    if rows["ci_low"].notna().any():
        axis.fill_between(
            rows["epoch"], rows["ci_low"], rows["ci_high"], color=color, alpha=0.2, linewidth=0
        )


def draw_path_panel(axis, rows, colors: dict, labels: dict, fit_epochs: dict) -> None:
    """One split and measure of plot_function_paths: a line and band per condition, its fit epoch dotted."""
    for condition, color in colors.items():
        draw_condition_band(axis, rows[rows["condition"] == condition], color, labels[condition])
        if np.isfinite(fit_epochs.get(condition, np.nan)):
            axis.axvline(
                fit_epochs[condition],
                color=color,
                linestyle=":",
                linewidth=1,
                label=f"{labels[condition]}: labels fitted (mean epoch)",
            )
    axis.set_ylim(bottom=0)


def plot_function_paths(
    by_epoch, title: str, labels: dict, noise_of: dict, fit_epochs: dict | None = None
):
    """For one model group: how far its seeds' paths lie apart per epoch, by probe split (rows) and measure
    (columns), one line per condition with its interval over seed pairs.

    by_epoch: function_paths_summary.path_divergence_by_epoch's rows of the group (condition, split,
    measure, epoch, mean, ci_low, ci_high); labels: condition to its legend label; fit_epochs: condition to
    the mean epoch at which its runs fit their labels, drawn as a dotted line.
    """
    use_style()
    colors = condition_colors(list(dict.fromkeys(by_epoch["condition"])), noise_of)
    fig, axes = plt.subplots(
        len(SPLIT_LABELS),
        len(PATH_MEASURES),
        figsize=(3.6 * len(PATH_MEASURES), 4.8),
        squeeze=False,
        sharex=True,
        layout="constrained",
    )
    for row, split in enumerate(SPLIT_LABELS):
        for column, measure in enumerate(PATH_MEASURES):
            rows = by_epoch[(by_epoch["split"] == split) & (by_epoch["measure"] == measure)]
            draw_path_panel(axes[row, column], rows, colors, labels, fit_epochs or {})
            axes[row, column].set_title(f"{SPLIT_LABELS[split]}: {MEASURE_LABELS[measure]}")
        axes[row, 0].set_ylabel("between seeds")
    for axis in axes[-1]:
        axis.set_xlabel("epoch")
    legend_below(fig, axes, columns=2)
    fig.suptitle(title)
    return fig
