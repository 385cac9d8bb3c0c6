"""The null baseline of Dist: f1's patterns through an untrained network of f1's architecture, width and
classes (about log C when f1 is certain: a scale for Dist, not evidence)."""

from job import start

from memdissect.distance import pattern_divergence_table
from memdissect.io import write_parquet
from memdissect.patterns import load_patterns, logits_on_patterns
from memdissect.settings import ClassifierSettings
from memdissect.train import build_untrained_twin

log, device = start(snakemake, needs_device=True)
settings = ClassifierSettings.from_dict(snakemake.params.classifier)
patterns = load_patterns(snakemake.input.patterns, made_by="synthesize_patterns")
untrained = build_untrained_twin(settings, device)
chunk_size = snakemake.config["patterns"]["chunk_size"]  # changes how, not what: from the config, never the params
table = pattern_divergence_table(patterns["logits"], logits_on_patterns(untrained, patterns["x"], device, chunk_size))
log(f"Dist against an untrained {settings.arch}: {table.groupby('start')['kl'].mean().mean():.4f}")
write_parquet(table, snakemake.output.null)
