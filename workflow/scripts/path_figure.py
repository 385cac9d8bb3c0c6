"""Paths in function space of one model name: disagreement and symmetric KL between its seeds per epoch, on the
training and the test probe, one line per condition with its interval over seed pairs."""

from job import start

from memdissect.io import read_parquet
from memdissect.report.claims_figures import plot_function_paths
from memdissect.report.figures import condition_label, save_figure
from memdissect.study.plan import maker_of

log, _ = start(snakemake)
spec = snakemake.params.spec
by_epoch = read_parquet(snakemake.input.by_epoch, made_by=maker_of(snakemake.input.by_epoch))
fit_epochs = read_parquet(snakemake.input.fit_epochs, made_by=maker_of(snakemake.input.fit_epochs))
rows, fits = (
    by_epoch[by_epoch["name"] == spec["name"]],
    fit_epochs[fit_epochs["name"] == spec["name"]],
)
labels = {
    condition: condition_label(condition, noise) for condition, noise in spec["noise"].items()
}
fig = plot_function_paths(
    rows,
    f"Paths in function space: {spec['name']}",
    labels,
    spec["noise"],
    dict(zip(fits["condition"], fits["fit_epoch_mean"])),
)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
