"""Evaluate f2 on the patterns of f1: KL, reverse KL and JS per (class, start)."""

from job import start

from memdissect.distance import pattern_divergence_table
from memdissect.io import write_parquet
from memdissect.patterns import load_patterns, logits_on_patterns
from memdissect.train import load_classifier

log, device = start(snakemake, needs_device=True)
patterns = load_patterns(snakemake.input.patterns)
model, _, _ = load_classifier(snakemake.input.classifier, device)
f2_logits = logits_on_patterns(model, patterns["x"], device, patterns["settings"]["chunk_size"])
table = pattern_divergence_table(patterns["logits"], f2_logits)
table.insert(0, "f2", snakemake.wildcards.f2)
table.insert(0, "f1", snakemake.wildcards.f1)
log(f"Dist({snakemake.wildcards.f1}, {snakemake.wildcards.f2}) = {table.groupby('start')['kl'].mean().mean():.4f}")
write_parquet(table, snakemake.output[0])
