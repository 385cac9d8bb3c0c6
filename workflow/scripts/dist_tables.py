"""Gather every pair's table into the long Dist table and its summary (parquet and CSV)."""

import pandas as pd
from job import start

from memdissect.distance import summarize_dist
from memdissect.io import read_parquet, write_csv, write_parquet

log, _ = start(snakemake)
descriptions = pd.DataFrame(snakemake.params.pairs)
tables = [read_parquet(path, made_by="evaluate_on_patterns") for path in snakemake.input]
long = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=["f1", "f2", "class", "start"])
long = descriptions.merge(long, on=["f1", "f2"], how="right")
summary = descriptions.merge(summarize_dist(long), on=["f1", "f2"], how="right")
log(f"{len(long)} rows, {len(summary)} pairs")
write_parquet(long, snakemake.output.long)
write_parquet(summary, snakemake.output.summary_parquet)
write_csv(summary, snakemake.output.summary)
