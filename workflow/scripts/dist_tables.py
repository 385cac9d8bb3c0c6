"""Describe every pair's rows of the evaluation table in the long Dist table and summarize it (parquet and
CSV), with the relabeled reference and bootstrap intervals over starts, each f1 against an untrained network
of its architecture (about log C when f1 is certain: a scale, not evidence), each f1 against the k-NN lookup
table of its condition where the study has one (f2 "knn"), and intervals over seeds."""

import pandas as pd
from job import start

from memdissect.dissection.statistics import bootstrap_over_seeds, dist_summary_with_intervals
from memdissect.io import read_parquet, write_csv, write_parquet
from memdissect.study.design import LOOKUP, UNTRAINED
from memdissect.study.plan import maker_of
from memdissect.study.settings import StatisticsSettings

log, _ = start(snakemake)
bootstrap = StatisticsSettings.from_dict(snakemake.params.statistics).bootstrap()
evaluations = read_parquet(
    snakemake.input.evaluations, made_by=maker_of(snakemake.input.evaluations)
)
if "lookup" in snakemake.input.keys():  # planned only where config lookup_table is enabled
    lookup = read_parquet(snakemake.input.lookup, made_by=maker_of(snakemake.input.lookup))
    evaluations = pd.concat([evaluations, lookup], ignore_index=True)
descriptions = pd.DataFrame(
    snakemake.params.pairs + snakemake.params.null + snakemake.params.lookup
)
long = descriptions.merge(evaluations, on=["f1", "f2"])
summary = descriptions.merge(dist_summary_with_intervals(long, **bootstrap), on=["f1", "f2"])
compared = summary[summary["f2"] != UNTRAINED]
over_seeds = bootstrap_over_seeds(
    compared, ["condition", "noise", "f1_name", "f2_name"], **bootstrap
)
log(
    f"{len(long)} rows, {len(compared)} pairs ({(compared['f2'] == LOOKUP).sum()} against a lookup table), "
    f"{len(summary) - len(compared)} against an untrained network"
)
write_parquet(long, snakemake.output.long)
write_parquet(summary, snakemake.output.summary_parquet)
write_csv(summary, snakemake.output.summary)
write_csv(over_seeds, snakemake.output.over_seeds)
