"""Pattern diagnostics per reference model: hit rate, confidence, movement of z, diversity, D's score."""

import pandas as pd
from job import inputs_by_role, start

from memdissect.dissection.diagnostics_table import summarize_diagnostics
from memdissect.io import read_parquet, write_csv
from memdissect.study.plan import maker_of

log, _ = start(snakemake)
tables = [
    read_parquet(path, made_by=maker_of(path)).assign(f1=model)
    for model, path in inputs_by_role(snakemake, "diagnostics").items()
]
summary = summarize_diagnostics(pd.concat(tables, ignore_index=True))
log(summary.to_string())
write_csv(summary, snakemake.output.summary)
