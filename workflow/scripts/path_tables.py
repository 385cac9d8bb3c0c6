"""Paths in function space: per model group with two seeds or more, how far its seeds' predictions on the
probe set lie apart, epoch by epoch and along the run (intervals over seed pairs), and the spread of the
epoch at which its runs fit their labels."""

from job import inputs_by_role, start

from memdissect.analyses.function_paths import group_pair_table
from memdissect.analyses.function_paths_summary import (
    fit_epoch_table,
    path_divergence_by_epoch,
    path_divergence_overall,
)
from memdissect.io import read_parquet, write_csv, write_parquet
from memdissect.study.plan import maker_of
from memdissect.training.probe_path import load_probe_path

log, _ = start(snakemake)
statistics = snakemake.params.statistics
bootstrap = {
    "n_resamples": statistics["bootstrap_resamples"],
    "confidence": statistics["confidence"],
    "seed": statistics["seed"],
}
probes, histories = inputs_by_role(snakemake, "probes"), inputs_by_role(snakemake, "histories")
groups = {(group["condition"], group["name"]): group["models"] for group in snakemake.params.groups}
pairs = group_pair_table(
    {
        key: {
            model: load_probe_path(probes[model], made_by=maker_of(probes[model]))
            for model in models
        }
        for key, models in groups.items()
    }
)
fit_epochs = fit_epoch_table(
    {
        key: {
            model: read_parquet(histories[model], made_by=maker_of(histories[model]))
            for model in models
        }
        for key, models in groups.items()
    }
)
by_epoch, overall = (
    path_divergence_by_epoch(pairs, **bootstrap),
    path_divergence_overall(pairs, **bootstrap),
)
log(f"{len(groups)} model groups, {len(pairs.groupby(['run_a', 'run_b']))} seed pairs")
for name, table in {"by_epoch": by_epoch, "overall": overall, "fit_epochs": fit_epochs}.items():
    write_parquet(table, snakemake.output[name])
    write_csv(table, snakemake.output[f"{name}_csv"])
