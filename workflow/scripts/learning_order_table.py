"""Learn, then memorize: per model trained on corrupted labels, the epochs at which its clean and its relabeled
samples reach each threshold of train accuracy, and the peak share of relabeled samples predicted as their true
class."""

from job import inputs_by_role, start

from memdissect.analyses.learning_order_summary import learning_order_table
from memdissect.io import read_parquet, write_csv, write_parquet
from memdissect.study.history import GROUP_COLUMNS
from memdissect.study.plan import maker_of

log, _ = start(snakemake)
histories = {}
for model, path in inputs_by_role(snakemake, "histories").items():
    history = read_parquet(path, made_by=maker_of(path))
    if set(GROUP_COLUMNS) <= set(history.columns):
        histories[model] = history
    else:  # p > 0 rounds to no relabeled sample
        log(f"{model}: its label set has no relabeled sample; left out")
table = learning_order_table(histories, snakemake.params.noise, snakemake.params.thresholds)
log(f"{len(table)} models")
write_parquet(table, snakemake.output.parquet)
write_csv(table, snakemake.output.csv)
