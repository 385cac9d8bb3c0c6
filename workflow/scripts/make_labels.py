"""One label set: the true training labels with a fraction p replaced by random ones."""

from job import start

from memdissect.data.labels import corrupt_labels
from memdissect.io import read_parquet, write_parquet
from memdissect.study.plan import maker_of

log, _ = start(snakemake)
spec = snakemake.params.label_set
true_labels = read_parquet(
    snakemake.input.true_labels, made_by=maker_of(snakemake.input.true_labels)
)["label"]
table = corrupt_labels(true_labels, spec["noise"], spec["num_classes"], spec["seed"])
log(
    f"noise {spec['noise']}, seed {spec['seed']}: {int(table['corrupted'].sum())} of {len(table)} labels corrupted, "
    f"{int((table['label'] != table['true_label']).sum())} changed"
)
write_parquet(table, snakemake.output.labels)
