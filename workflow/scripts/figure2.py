"""Figure 2: Dist(reference, f2) per f2, X_T against X_R; panel (b) the X_R ablations."""

from job import start

from memdissect.io import read_parquet
from memdissect.report.figures import dist_bar_panels, plot_dist_bars, save_figure
from memdissect.study.plan import maker_of

log, _ = start(snakemake)
spec = snakemake.params.spec
summary = read_parquet(snakemake.input.summary, made_by=maker_of(snakemake.input.summary))
panels, styles = dist_bar_panels(summary, spec["reference"], spec["panels"])
fig = plot_dist_bars(
    panels, [f2 for f2 in spec["compare"] if f2 in set(summary["f2_network"])], styles
)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
