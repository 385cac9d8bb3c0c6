"""Figures 1-5 of the paper, in one matplotlib style, saved without timestamps.

Each plotting function takes tidy tables (or tensors for images) and returns a Figure. Legends
sit outside the data, below the panels (constrained layout makes room for them), and name
things as a reader knows them. G gets a log scale where it spans more than G_LOG_SCALE_SPREAD
(max / min), so that its spikes after fitting begins stay readable beside its early values.
"""

import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from memdissect.dissection.dist_table import UNTRAINED_LABEL  # noqa: E402
from memdissect.io import atomic_path  # noqa: E402
from memdissect.study.design import UNTRAINED  # noqa: E402

STYLE = Path(__file__).with_name("memdissect.mplstyle")
TRUE_COLOR, RANDOM_COLOR = "#1f77b4", "#ff7f0e"
G_LOG_SCALE_SPREAD = 20
FITTING_START_LABEL = "fitting starts"
LOOKUP_MATRIX_LABEL = "k-NN lookup table"  # the column of Dist(f1, its condition's lookup table)


def use_style() -> None:
    plt.style.use(str(STYLE))


def save_figure(fig, pdf_path, png_path) -> None:
    """PDF and PNG with no creation date or software stamp, so equal figures are equal bytes."""
    logging.getLogger("fontTools").setLevel(
        logging.WARNING
    )  # the PDF's font subsetting logs each step at INFO
    with atomic_path(pdf_path) as tmp:
        fig.savefig(
            tmp, format="pdf", metadata={"CreationDate": None, "Producer": None, "Creator": None}
        )
    with atomic_path(png_path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    plt.close(fig)


def readable_name(identifier: str) -> str:
    """A config id as a reader would write it: underscores as spaces."""
    return identifier.replace("_", " ")


def condition_label(condition: str, noise: float) -> str:
    return f"{readable_name(condition)} (p = {noise:g})"


def legend_below(fig, axes, columns: int = 4) -> None:
    """One legend for the whole figure, below its panels: every labelled artist of axes, once, without
    matplotlib's internal '_' names. The figure must use the constrained layout, which makes room for it."""
    entries = {}
    for axis in np.ravel(axes):
        for handle, label in zip(*axis.get_legend_handles_labels()):
            if label and not label.startswith("_"):
                entries.setdefault(label, handle)
    if entries:
        fig.legend(
            list(entries.values()),
            list(entries),
            loc="outside lower center",
            ncol=min(columns, len(entries)),
        )


def scale_for_spread(axis, values) -> None:
    """A log y scale where the positive values span more than G_LOG_SCALE_SPREAD (max / min)."""
    values = np.asarray(values, dtype=np.float64)
    positive = values[np.isfinite(values) & (values > 0)]
    if len(positive) and positive.max() / positive.min() > G_LOG_SCALE_SPREAD:
        axis.set_yscale("log")


def mark_fitting_start(axis, epoch) -> None:
    """A dotted vertical line where the fitting stage starts (after a hunting stage)."""
    if epoch is not None:
        axis.axvline(
            epoch, color="0.4", linestyle=":", linewidth=1, label=FITTING_START_LABEL, zorder=1
        )


def plot_training_curves(histories: list[tuple[str, "object"]], title: str, fitting_starts=None):
    """Figure 1: per panel, train and test accuracy (left axis) and G (right axis, its own scale) per epoch.

    fitting_starts: per panel, the epoch where the fitting stage starts (None: no hunting stage).
    """
    use_style()
    fig, axes = plt.subplots(
        1, len(histories), figsize=(3.4 * len(histories), 3.1), squeeze=False, layout="constrained"
    )
    fitting_starts = fitting_starts or [None] * len(histories)
    grad_axes = []
    for axis, (label, history), fitting_start in zip(axes[0], histories, fitting_starts):
        axis.plot(history["epoch"], history["train_acc"], label="train accuracy", color="#2ca02c")
        axis.plot(history["epoch"], history["test_acc"], label="test accuracy", color="#9467bd")
        mark_fitting_start(axis, fitting_start)
        if fitting_start is not None:
            label = f"{label}, fitting from epoch {fitting_start}"
        axis.set_ylim(0, 1.02)
        axis.set_xlabel("epoch")
        axis.set_ylabel("accuracy")
        axis.set_title(label)
        grad_axis = axis.twinx()
        grad_axis.plot(
            history["epoch"],
            history["grad_magnitude"],
            label="gradient magnitude G",
            color="#d62728",
            linestyle="--",
        )
        scale_for_spread(grad_axis, history["grad_magnitude"])
        grad_axis.set_ylabel("gradient magnitude G")
        grad_axis.grid(False)
        grad_axis.spines["right"].set_visible(True)
        grad_axes.append(grad_axis)
    legend_below(fig, [*axes[0], *grad_axes])
    fig.suptitle(title)
    return fig


def condition_bars(summary, f2_order: list[str]):
    """Per condition of a grouped bar chart, in order: (condition, its rows indexed by f2_order, x positions),
    and the width of one bar's slot."""
    conditions = list(dict.fromkeys(summary["condition"]))
    slot = 0.8 / max(len(conditions), 1)
    bars = [
        (
            condition,
            summary[summary["condition"] == condition].set_index("f2_network").reindex(f2_order),
            np.arange(len(f2_order)) + (k - (len(conditions) - 1) / 2) * slot,
        )
        for k, condition in enumerate(conditions)
    ]
    return bars, slot


def draw_measure_bars(
    axis, summary, f2_order: list[str], condition_styles: dict, value: str, error=None
):
    """Bars of `value` per f2, one bar per condition; error: a column of symmetric errors or a (low, high) pair."""
    bars, slot = condition_bars(summary, f2_order)
    for condition, rows, positions in bars:
        label, color, width = condition_styles[condition]
        if isinstance(error, tuple):
            yerr = np.vstack([rows[value] - rows[error[0]], rows[error[1]] - rows[value]])
        else:
            yerr = rows[error] if error else None
        axis.bar(
            positions,
            rows[value],
            width=slot * width,
            color=color,
            label=label,
            yerr=yerr,
            error_kw={"elinewidth": 1, "capsize": 2, "ecolor": "black"},
        )
    axis.set_xticks(np.arange(len(f2_order)), f2_order)


def plot_dist_bars(panels: list[tuple[str, "object"]], f2_order: list[str], condition_styles: dict):
    """Figure 2: Dist(f1, f2) per f2 as bars with the variance over starts, one bar per condition.

    panels: (title, summary) where summary has columns f2_network, condition, dist_mean, dist_variance.
    condition_styles: condition -> (label, color, bar width).
    """
    use_style()
    fig, axes = plt.subplots(
        1, len(panels), figsize=(3.6 * len(panels), 3.3), squeeze=False, layout="constrained"
    )
    for axis, (title, summary) in zip(axes[0], panels):
        draw_measure_bars(axis, summary, f2_order, condition_styles, "dist_mean", "dist_variance")
        axis.set_ylabel("Dist(f1, f2) [nats]")
        axis.set_title(title)
    legend_below(fig, axes, columns=3)
    return fig


CROSSCHECK_PANELS = [
    ("dist_mean", ("dist_ci_low", "dist_ci_high"), "Dist on f1's patterns [nats]"),
    ("output_kl", None, "KL of outputs on test images [nats]"),
    ("disagreement", None, "disagreement on test images"),
    ("cka", None, "linear CKA of penultimate features"),
]


def plot_crosscheck(table, f2_order: list[str], condition_styles: dict):
    """Dist beside the test-image cross-checks, per f2 and condition; black marks: the pair's mean test error."""
    use_style()
    fig, axes = plt.subplots(
        1, len(CROSSCHECK_PANELS), figsize=(12.5, 3.3), squeeze=False, layout="constrained"
    )
    for axis, (value, error, label) in zip(axes[0], CROSSCHECK_PANELS):
        draw_measure_bars(axis, table, f2_order, condition_styles, value, error)
        axis.set_title(label)
        if value == "disagreement":
            for k, (_, rows, positions) in enumerate(condition_bars(table, f2_order)[0]):
                axis.plot(
                    positions,
                    (rows["test_error_a"] + rows["test_error_b"]) / 2,
                    "k_",
                    markersize=12,
                    label="mean test error" if k == 0 else None,
                )
    legend_below(fig, axes, columns=5)
    return fig


def average_linkage_order(distance: np.ndarray) -> list[int]:
    """Leaf order of average-linkage agglomerative clustering of a symmetric distance matrix."""
    clusters = [[i] for i in range(len(distance))]
    while len(clusters) > 1:
        best = None
        for a in range(len(clusters)):
            for b in range(a + 1, len(clusters)):
                mean = distance[np.ix_(clusters[a], clusters[b])].mean()
                if best is None or mean < best[0]:
                    best = (mean, a, b)
        _, a, b = best
        clusters[a] = clusters[a] + clusters.pop(b)
    return clusters[0] if clusters else []


def plot_dist_matrix(summary, condition: str, lookup=None):
    """The N x N matrix of Dist(f1, f2) of one condition (rows f1, columns f2), ordered by clustering; where
    lookup rows are given (f1_network, dist_mean: Dist(f1, the condition's lookup table)), one more column
    after a gap, labelled as the lookup table, outside the clustering."""
    use_style()
    networks = sorted(set(summary["f1_network"]) | set(summary["f2_network"]))
    matrix = (
        summary.pivot_table(index="f1_network", columns="f2_network", values="dist_mean")
        .reindex(index=networks, columns=networks)
        .to_numpy(copy=True)
    )
    np.fill_diagonal(matrix, 0.0)
    symmetric = np.nan_to_num(
        (matrix + matrix.T) / 2, nan=np.nanmax(matrix) if np.isfinite(matrix).any() else 0
    )
    order = average_linkage_order(symmetric)
    matrix = matrix[np.ix_(order, order)]
    labels = [networks[i] for i in order]
    column_labels = list(labels)
    if lookup is not None and len(lookup):
        against_lookup = lookup.set_index("f1_network")["dist_mean"].reindex(labels).to_numpy()  # N
        matrix = np.column_stack(
            [matrix, np.full(len(labels), np.nan), against_lookup]
        )  # N x (N + 2): a gap
        column_labels += ["", LOOKUP_MATRIX_LABEL]
    size = 1.0 + 0.55 * len(labels)
    fig, axis = plt.subplots(figsize=(size + 1.2 + 0.55 * (len(column_labels) - len(labels)), size))
    image = axis.imshow(matrix, cmap="viridis")
    for (i, j), value in np.ndenumerate(matrix):
        if np.isfinite(value):
            axis.text(
                j,
                i,
                f"{value:.2f}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if value < np.nanmax(matrix) / 2 else "black",
            )
    columns = [index for index, label in enumerate(column_labels) if label]  # no tick at the gap
    axis.set_xticks(columns, [column_labels[index] for index in columns], rotation=45, ha="right")
    axis.set_yticks(range(len(labels)), labels)
    axis.set_xlabel("f2")
    axis.set_ylabel("f1 (patterns)")
    axis.grid(False)
    axis.set_title(f"Dist(f1, f2), {condition}")
    fig.colorbar(image, ax=axis, label="nats", shrink=0.8)
    fig.tight_layout()
    return fig


def pattern_panel(x0, x, class_indices: list[int], columns: int):
    """Rows: G(z0), then x* of each chosen class; the same starts in every column."""
    import torch
    from torchvision.utils import make_grid

    rows = [x0[0, :columns]] + [
        x[j, :columns] for j in class_indices
    ]  # each: columns x 3 x 32 x 32
    grid = make_grid(torch.cat(rows), nrow=columns, padding=2, pad_value=1.0)
    return grid.permute(1, 2, 0).clamp(0, 1).numpy()


def plot_patterns(
    panels: list[tuple[str, "object", "object"]],
    class_indices: list[int],
    class_names: list[str],
    columns: int,
):
    """Figure 3: G(z0) in the first row, then the patterns x* for chosen classes, per panel."""
    use_style()
    fig, axes = plt.subplots(
        1,
        len(panels),
        figsize=(0.42 * columns * len(panels) + 1.2, 0.45 * (len(class_indices) + 1) + 0.6),
        squeeze=False,
    )
    row_labels = ["G(z0)"] + [class_names[j] for j in class_indices]
    for axis, (title, x0, x) in zip(axes[0], panels):
        axis.imshow(pattern_panel(x0, x, class_indices, columns))
        axis.set_yticks(
            [18 + 34 * row for row in range(len(row_labels))], row_labels
        )  # 32 px + 2 px padding
        axis.set_xticks([])
        axis.grid(False)
        for spine in axis.spines.values():
            spine.set_visible(False)
        axis.set_title(title)
    fig.tight_layout()
    return fig


def plot_seed_curves(panels: list[tuple[str, list]], fitting_starts=None):
    """Figure 4: training accuracy (top) and G (bottom, log scale where it spans decades) of every seed,
    one column per condition.

    fitting_starts: per panel, one epoch (or None) per seed, marked on the G curves.
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
    for column, (title, histories) in enumerate(panels):
        colors = plt.cm.viridis(np.linspace(0, 0.9, max(len(histories), 1)))
        starts = (fitting_starts or [None] * len(panels))[column] or [None] * len(histories)
        for color, (seed_label, history), fitting_start in zip(colors, histories, starts):
            axes[0, column].plot(
                history["epoch"], history["train_acc"], color=color, label=seed_label
            )
            axes[1, column].plot(history["epoch"], history["grad_magnitude"], color=color)
            if fitting_start is not None:
                marked = history["epoch"] == fitting_start
                axes[1, column].plot(
                    history["epoch"][marked],
                    history["grad_magnitude"][marked],
                    "v",
                    color=color,
                    markeredgecolor="black",
                    label=FITTING_START_LABEL,
                )
        scale_for_spread(
            axes[1, column], [g for _, history in histories for g in history["grad_magnitude"]]
        )
        axes[0, column].set_title(title)
        axes[0, column].set_ylim(0, 1.02)
        axes[0, column].set_ylabel("train accuracy")
        axes[1, column].set_ylabel("gradient magnitude G")
        axes[1, column].set_xlabel("epoch")
    legend_below(fig, axes, columns=6)
    return fig


def plot_dist_vs_noise(summary):
    """Figure 5: Dist against the noise level, one line per f2, error bars the variance over starts; an
    untrained f2 is drawn as a grey dotted scale line.

    summary: columns noise, f2_network, dist_mean, dist_variance.
    """
    use_style()
    fig, axis = plt.subplots(figsize=(4.2, 3.4), layout="constrained")
    for f2, rows in summary.groupby("f2_network", sort=False):
        rows = rows.sort_values("noise")
        style = (
            {"color": "0.5", "linestyle": ":", "marker": None, "label": UNTRAINED_LABEL}
            if f2 == UNTRAINED
            else {"marker": "o", "label": f"f2 = {f2}"}
        )
        axis.errorbar(
            rows["noise"], rows["dist_mean"], yerr=rows["dist_variance"], capsize=2, **style
        )
    axis.set_xlabel("noise level p (fraction of random labels)")
    axis.set_ylabel("Dist(f1, f2) [nats]")
    legend_below(fig, [axis], columns=2)
    return fig


def dist_bar_panels(summary, reference: str, panels: list[list[str]]):
    """Figure 2's panels from the Dist summary, and a style per condition.

    X_T (p = 0) gets thin blue bars and the first X_R condition thick orange ones, as in the
    paper; any other condition gets the next colour of the cycle.
    """
    rows = summary[summary["f1_network"] == reference]
    noise_of = dict(zip(rows["condition"], rows["noise"]))
    palette = iter(["#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f"])
    styles, chosen = {}, []
    titles = ["(a) true against random labels", "(b) random labels: ablations"]
    for title, conditions in zip(titles, panels):
        present = [c for c in conditions if c in noise_of]
        if not present:
            continue
        for condition in present:
            if condition in styles:
                continue
            noise = noise_of[condition]
            if noise == 0:
                color = TRUE_COLOR
            elif noise == 1 and all(style[1] != RANDOM_COLOR for style in styles.values()):
                color = RANDOM_COLOR
            else:
                color = next(palette)
            styles[condition] = (
                condition_label(condition, noise),
                color,
                0.5 if noise == 0 else 1.0,
            )
        panel = rows[rows["condition"].isin(present)]
        chosen.append(
            (
                f"{title}, f1 = {reference}",
                panel.sort_values("condition", key=lambda c: c.map(present.index)),
            )
        )
    return chosen, styles


def class_indices(requested: list, classes: list[str]) -> list[int]:
    """Class names or indices as indices into `classes`."""
    indices = []
    for entry in requested:
        if isinstance(entry, int):
            if not 0 <= entry < len(classes):
                raise ValueError(
                    f"class index {entry} is out of range; the data set has {len(classes)} classes"
                )
            indices.append(entry)
        elif entry in classes:
            indices.append(classes.index(entry))
        else:
            raise ValueError(
                f"class {entry!r} is not a class of the data set; valid: {', '.join(classes)}"
            )
    return indices
