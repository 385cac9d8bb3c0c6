"""Synthesize the patterns of one classifier f1 through the DCGAN: z0, z*, x* and f1's outputs."""

from job import start

from memdissect.gan import load_gan
from memdissect.patterns import PatternSettings, save_patterns, synthesize_patterns
from memdissect.train import load_classifier

log, device = start(snakemake, needs_device=True)
settings = PatternSettings.from_dict(snakemake.params.settings)
classifier, classifier_settings, classes = load_classifier(snakemake.input.classifier, device)
generator, _, _ = load_gan(snakemake.input.gan, device)
patterns = synthesize_patterns(classifier, generator, classifier_settings.num_classes, settings, device, log=log)
patterns["classes"] = classes
save_patterns(patterns, snakemake.output[0])
