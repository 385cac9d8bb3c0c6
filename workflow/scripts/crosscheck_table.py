"""Cross-check every Dist pair on the test images: output KL, disagreement, linear CKA, test errors."""

import pandas as pd
from job import inputs_by_role, start

from memdissect.analyses.crosscheck import crosscheck_table
from memdissect.io import load_torch, write_csv, write_parquet
from memdissect.study.plan import maker_of

log, _ = start(snakemake)
pairs = snakemake.params.pairs
stored = {
    model: load_torch(path, made_by=maker_of(path, snakemake.config))
    for model, path in inputs_by_role(snakemake, "test_outputs").items()
}
outputs = {model: (item["logits"], item["features"].float()) for model, item in stored.items()}
labels = next(iter(stored.values()))["labels"] if stored else None
table = crosscheck_table(outputs, [(pair["f1"], pair["f2"]) for pair in pairs], labels)
table = pd.DataFrame(pairs).merge(table, on=["f1", "f2"]) if pairs else table
log(f"{len(table)} pairs")
write_parquet(table, snakemake.output.parquet)
write_csv(table, snakemake.output.csv)
