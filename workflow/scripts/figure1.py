"""Figure 1: accuracy and G per epoch of one network, one panel per condition, the fitting stage marked."""

from job import inputs_by_role, start

from memdissect.analyses.stages import detect_stages
from memdissect.io import read_parquet
from memdissect.report.figures import condition_label, plot_training_curves, save_figure
from memdissect.study.plan import maker_of

log, _ = start(snakemake)
spec = snakemake.params.spec
histories = [
    (
        condition_label(condition, spec["noise"][condition]),
        read_parquet(path, made_by=maker_of(path)),
    )
    for condition, path in inputs_by_role(snakemake, "histories").items()
]
fitting_starts = [
    detect_stages(history, num_classes=spec["num_classes"]).fitting_start_epoch
    for _, history in histories
]
fig = plot_training_curves(histories, title=spec["network"], fitting_starts=fitting_starts)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
