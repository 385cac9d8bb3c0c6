"""Gather every pair's rows into the long Dist table and its summary (parquet and CSV), with the
relabeled reference and bootstrap intervals over starts, each f1 against an untrained network of its
architecture (about log C when f1 is certain: a scale, not evidence), and intervals over seeds."""

import pandas as pd
from job import inputs_by_role, start

from memdissect.distance import summarize_dist
from memdissect.io import read_parquet, write_csv, write_parquet
from memdissect.statistics import bootstrap_dist_over_starts, bootstrap_over_seeds
from memdissect.study import UNTRAINED

log, _ = start(snakemake)
bootstrap = {"n_resamples": snakemake.params.statistics["bootstrap_resamples"],
             "confidence": snakemake.params.statistics["confidence"], "seed": snakemake.params.statistics["seed"]}
pairs = [read_parquet(path, made_by="evaluate_on_patterns") for path in inputs_by_role(snakemake, "pairs").values()]
untrained = [read_parquet(path, made_by="null_baseline").assign(f1=f1, f2=UNTRAINED)
             for f1, path in inputs_by_role(snakemake, "null").items()]
descriptions = pd.DataFrame(snakemake.params.pairs + snakemake.params.null)
long = descriptions.merge(pd.concat(pairs + untrained, ignore_index=True), on=["f1", "f2"])
summary = descriptions.merge(summarize_dist(long), on=["f1", "f2"])
summary = summary.merge(bootstrap_dist_over_starts(long, **bootstrap), on=["f1", "f2"])
compared = summary[summary["f2"] != UNTRAINED]
over_seeds = bootstrap_over_seeds(compared, ["condition", "noise", "f1_name", "f2_name"], **bootstrap)
log(f"{len(long)} rows, {len(compared)} pairs, {len(summary) - len(compared)} against an untrained network")
write_parquet(long, snakemake.output.long)
write_parquet(summary, snakemake.output.summary_parquet)
write_csv(summary, snakemake.output.summary)
write_csv(over_seeds, snakemake.output.over_seeds)
