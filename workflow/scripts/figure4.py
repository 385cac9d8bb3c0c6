"""Figure 4: training accuracy and G of every seed of one model, one column per condition, fitting starts marked."""

from job import inputs_by_role, start

from memdissect.analyses.stages import detect_stages
from memdissect.io import read_parquet
from memdissect.report.figures import plot_seed_curves, readable_name, save_figure
from memdissect.study.plan import maker_of

log, _ = start(snakemake)
spec = snakemake.params.spec
panels = {}
for model, path in inputs_by_role(snakemake, "histories").items():
    member = spec["members"][model]
    panels.setdefault(member["condition"], []).append(
        (f"seed {member['seed']}", read_parquet(path, made_by=maker_of(path)))
    )
fitting_starts = [
    [
        detect_stages(history, num_classes=spec["num_classes"]).fitting_start_epoch
        for _, history in histories
    ]
    for histories in panels.values()
]
fig = plot_seed_curves(
    [
        (f"{spec['name']}, {readable_name(condition)}", histories)
        for condition, histories in panels.items()
    ],
    fitting_starts,
)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
