"""Per f1, the summary of the diagnostics tables that `diagnostics.pattern_diagnostics` and
`diagnostics.diversity_table` write.

Pandas only, so the job that summarizes them starts without torch.
"""

import pandas as pd

DIAGNOSTIC_COLUMNS = ("hit", "confidence", "z_moved", "z0_norm", "z_norm", "discriminator_score")
DIVERSITY_COLUMNS = ("diversity", "start_diversity")


def summarize_diagnostics(table: pd.DataFrame, keys=("f1",)) -> pd.DataFrame:
    """Per group of keys (a pattern file's f1 by default): hit_rate and the mean of every other diagnostic.

    Takes the table of `pattern_diagnostics` or of `diversity_table`, with the keys added.
    """
    present = [
        column for column in (*DIAGNOSTIC_COLUMNS, *DIVERSITY_COLUMNS) if column in table.columns
    ]
    summary = table.groupby(list(keys), sort=False)[present].mean().reset_index()
    return summary.rename(
        columns={"hit": "hit_rate", **{c: f"{c}_mean" for c in present if c != "hit"}}
    )
