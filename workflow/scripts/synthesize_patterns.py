"""Synthesize the patterns of one classifier f1 through the DCGAN: z0, z*, x* and f1's outputs, and
their diagnostics."""

from job import start

from memdissect.dissection.diagnostics import diversity_table, pattern_diagnostics
from memdissect.dissection.patterns import synthesize_patterns, write_pattern_file
from memdissect.io import write_parquet
from memdissect.study.plan import maker_of
from memdissect.study.settings import ClassifierSettings, PatternSettings
from memdissect.training.gan import load_gan
from memdissect.training.train import read_classifier_checkpoint

log, device = start(snakemake, needs_device=True)
# chunk_size changes how, not what: it comes from the config, never from the params
settings = PatternSettings.from_dict(
    {**snakemake.params.settings, "chunk_size": snakemake.config["patterns"]["chunk_size"]}
)
classifier, classifier_settings, classes = read_classifier_checkpoint(
    snakemake.input.classifier,
    device,
    expected_settings=ClassifierSettings.from_dict(snakemake.params.classifier),
    made_by=maker_of(snakemake.input.classifier, snakemake.config),
)
generator, discriminator, _ = load_gan(
    snakemake.input.gan, device, made_by=maker_of(snakemake.input.gan)
)
patterns = synthesize_patterns(
    classifier,
    generator,
    classifier_settings.num_classes,
    settings,
    device,
    log=log,
    cuda_graphs=snakemake.config["cuda_graphs"],
    classes=classes,
)
write_pattern_file(patterns, snakemake.output.patterns)

diagnostics = pattern_diagnostics(patterns, discriminator, device, settings.chunk_size)
diagnostics = diagnostics.merge(diversity_table(patterns), on="class")
log(
    f"hit rate {diagnostics['hit'].mean():.3f}, discriminator score {diagnostics['discriminator_score'].mean():.3f}"
)
write_parquet(diagnostics, snakemake.output.diagnostics)
