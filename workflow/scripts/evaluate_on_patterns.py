"""Evaluate f2 on the patterns of every f1 it is compared with: KL, reverse KL, JS and the relabeled
reference (KL against f2 with its classes cyclically relabeled) per (class, start)."""

import pandas as pd
from job import inputs_by_role, start

from memdissect.distance import pattern_divergence_table
from memdissect.io import write_parquet
from memdissect.patterns import load_patterns, logits_on_patterns
from memdissect.settings import ClassifierSettings
from memdissect.train import load_classifier

log, device = start(snakemake, needs_device=True)
model, _, _ = load_classifier(snakemake.input.classifier, device, made_by="train_classifier",
                              expected_settings=ClassifierSettings.from_dict(snakemake.params.classifier))
f2 = snakemake.wildcards.f2
tables = []
for f1, path in inputs_by_role(snakemake, "patterns").items():
    patterns = load_patterns(path, made_by="synthesize_patterns")
    f2_logits = logits_on_patterns(model, patterns["x"], device, patterns["settings"]["chunk_size"])
    table = pattern_divergence_table(patterns["logits"], f2_logits)
    per_start = table.groupby("start")[["kl", "kl_relabeled"]].mean().mean()
    log(f"Dist({f1}, {f2}) = {per_start['kl']:.4f}, relabeled {per_start['kl_relabeled']:.4f}")
    tables.append(table.assign(f1=f1, f2=f2))
write_parquet(pd.concat(tables, ignore_index=True)[["f1", "f2", "class", "start", "kl", "reverse_kl", "js",
                                                    "kl_relabeled"]],
              snakemake.output.table)
