"""Synthesize the patterns of one classifier f1 through the DCGAN: z0, z*, x* and f1's outputs,
their diagnostics, and Dist of f1 against an untrained network of its architecture (about log C
when f1 is certain: a scale for Dist, not evidence)."""

from job import start

from memdissect.diagnostics import diversity_table, pattern_diagnostics
from memdissect.distance import pattern_divergence_table
from memdissect.gan import load_gan
from memdissect.io import write_parquet
from memdissect.patterns import PatternSettings, logits_on_patterns, save_patterns, synthesize_patterns
from memdissect.train import ClassifierSettings, build_untrained_twin, load_classifier

log, device = start(snakemake, needs_device=True)
# chunk_size changes how, not what: it comes from the config, never from the params
settings = PatternSettings.from_dict({**snakemake.params.settings, "chunk_size": snakemake.config["patterns"]["chunk_size"]})
classifier, classifier_settings, classes = load_classifier(
    snakemake.input.classifier, device, expected_settings=ClassifierSettings.from_dict(snakemake.params.classifier))
generator, discriminator, _ = load_gan(snakemake.input.gan, device)
patterns = synthesize_patterns(classifier, generator, classifier_settings.num_classes, settings, device, log=log)
patterns["classes"] = classes
save_patterns(patterns, snakemake.output.patterns)

diagnostics = pattern_diagnostics(patterns, discriminator, device, settings.chunk_size)
diagnostics = diagnostics.merge(diversity_table(patterns), on="class")
log(f"hit rate {diagnostics['hit'].mean():.3f}, discriminator score {diagnostics['discriminator_score'].mean():.3f}")
write_parquet(diagnostics, snakemake.output.diagnostics)

untrained = build_untrained_twin(classifier_settings, device)
untrained_table = pattern_divergence_table(patterns["logits"], logits_on_patterns(untrained, patterns["x"], device, settings.chunk_size))
log(f"Dist against an untrained {classifier_settings.arch}: "
    f"{untrained_table.groupby('start')['kl'].mean().mean():.4f}")
write_parquet(untrained_table, snakemake.output.null)
