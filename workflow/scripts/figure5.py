"""Figure 5: Dist(reference, f2) against the noise level, for the networks (the lookup table stands in the Dist
tables and the matrices)."""

from job import start

from memdissect.io import read_parquet
from memdissect.report.figures import plot_dist_vs_noise, save_figure
from memdissect.study.design import LOOKUP
from memdissect.study.plan import maker_of

log, _ = start(snakemake)
spec = snakemake.params.spec
summary = read_parquet(snakemake.input.summary, made_by=maker_of(snakemake.input.summary))
rows = summary[
    (summary["f1_network"] == spec["reference"])
    & summary["condition"].isin(list(spec["noise"]))
    & (summary["f2"] != LOOKUP)
].copy()
rows["noise"] = rows["condition"].map(spec["noise"])
fig = plot_dist_vs_noise(rows)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
