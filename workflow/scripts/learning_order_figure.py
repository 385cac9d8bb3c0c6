"""Learn, then memorize at one noise level: the groups' train accuracy and G per epoch, one panel per model
group, the seeds drawn over each other."""

from job import inputs_by_role, start

from memdissect.io import read_parquet
from memdissect.report.claims_figures import plot_learning_order
from memdissect.report.figures import readable_name, save_figure
from memdissect.study.history import GROUP_COLUMNS
from memdissect.study.plan import maker_of

log, _ = start(snakemake)
spec = snakemake.params.spec
panels = {}
for model, path in inputs_by_role(snakemake, "histories").items():
    member, history = spec["members"][model], read_parquet(path, made_by=maker_of(path))
    if set(GROUP_COLUMNS) <= set(history.columns):  # else p > 0 rounds to no relabeled sample
        panels.setdefault(f"{member['name']}, {readable_name(member['condition'])}", []).append(
            (f"seed {member['seed']}", history)
        )
fig = plot_learning_order(list(panels.items()), f"Learn, then memorize at p = {spec['noise']:g}")
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
