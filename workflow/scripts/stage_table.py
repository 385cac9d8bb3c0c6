"""The hunting stage of every model: whether it has one, where it starts, and the epoch where fitting starts."""

from job import inputs_by_role, start

from memdissect.analyses.stages import stage_table
from memdissect.io import read_parquet, write_csv, write_parquet
from memdissect.study.plan import maker_of

log, _ = start(snakemake)
histories = {
    model: read_parquet(path, made_by=maker_of(path))
    for model, path in inputs_by_role(snakemake, "histories").items()
}
table = stage_table(histories, num_classes=snakemake.params.num_classes)
log(f"{int(table['hunting'].sum())} of {len(table)} models have a hunting stage")
write_parquet(table, snakemake.output.parquet)
write_csv(table, snakemake.output.csv)
