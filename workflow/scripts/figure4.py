"""Figure 4: training accuracy and G of every seed of one model, one column per condition."""

from job import start

from memdissect.figures import plot_seed_curves, save_figure
from memdissect.io import read_parquet

log, _ = start(snakemake)
spec = snakemake.params.spec
panels = {}
for (condition, seed), path in zip(spec["members"], snakemake.input.histories):
    panels.setdefault(condition, []).append((f"seed {seed}", read_parquet(path, made_by="train_classifier")))
fig = plot_seed_curves([(f"{spec['name']}, {condition}", histories) for condition, histories in panels.items()])
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
