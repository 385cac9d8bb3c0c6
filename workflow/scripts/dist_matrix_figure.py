"""The full pairwise Dist matrix of one condition, models ordered by a clustering."""

from job import start

from memdissect.figures import plot_dist_matrix, save_figure
from memdissect.io import read_parquet
from memdissect.plan import maker_of
from memdissect.study import UNTRAINED

log, _ = start(snakemake)
summary = read_parquet(snakemake.input.summary, made_by=maker_of(snakemake.input.summary))
condition = snakemake.wildcards.condition
fig = plot_dist_matrix(summary[(summary["condition"] == condition) & (summary["f2"] != UNTRAINED)], condition)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
