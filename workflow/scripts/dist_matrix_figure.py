"""The full pairwise Dist matrix of one condition, models ordered by a clustering, and Dist of each f1 against the
condition's lookup table in a column of its own where the study has one."""

from job import start

from memdissect.io import read_parquet
from memdissect.report.figures import plot_dist_matrix, save_figure
from memdissect.study.design import LOOKUP, UNTRAINED
from memdissect.study.plan import maker_of

log, _ = start(snakemake)
summary = read_parquet(snakemake.input.summary, made_by=maker_of(snakemake.input.summary))
condition = snakemake.wildcards.condition
rows = summary[summary["condition"] == condition]
fig = plot_dist_matrix(
    rows[~rows["f2"].isin([UNTRAINED, LOOKUP])], condition, rows[rows["f2"] == LOOKUP]
)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
