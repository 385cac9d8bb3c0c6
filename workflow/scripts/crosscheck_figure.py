"""Dist on the patterns beside the cross-checks on test images, X_T against X_R (design.reference_conditions)."""

from job import start

from memdissect.io import read_parquet
from memdissect.report.figures import dist_bar_panels, plot_crosscheck, save_figure
from memdissect.study.plan import maker_of

log, _ = start(snakemake)
spec = snakemake.params.spec
summary = read_parquet(snakemake.input.summary, made_by=maker_of(snakemake.input.summary))
crosscheck = read_parquet(snakemake.input.crosscheck, made_by=maker_of(snakemake.input.crosscheck))
table = crosscheck.merge(
    summary[["f1", "f2", "dist_mean", "dist_ci_low", "dist_ci_high"]], on=["f1", "f2"]
)
panels, styles = dist_bar_panels(
    table, spec["reference"], [[spec["true_labels"], spec["random_labels"]]]
)
f2_order = [f2 for f2 in spec["compare"] if f2 in set(table["f2_network"])]
fig = plot_crosscheck(panels[0][1] if panels else table.iloc[:0], f2_order, styles)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
