"""The study's numbers as Markdown text, for the sections of summary.md: tables, and values with their
bootstrap intervals."""

import math

import pandas as pd


def markdown_table(frame: pd.DataFrame) -> str:
    """A GitHub-flavoured markdown table; floats with 4 significant digits."""

    def cell(value):
        if isinstance(value, float):
            return "" if math.isnan(value) else f"{value:.4g}"
        return str(value)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += [
        "| " + " | ".join(cell(value) for value in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return "\n".join(lines)


def interval(row, value: str = "dist_mean", prefix: str = "dist") -> str:
    return f"{row[value]:.4g} [{row[f'{prefix}_ci_low']:.4g}, {row[f'{prefix}_ci_high']:.4g}]"


def ratio_interval(row) -> str:
    return interval(row, "relabeled_ratio", "relabeled_ratio")
